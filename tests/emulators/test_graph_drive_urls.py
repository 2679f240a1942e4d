"""The Graph emulator's download URLs and item reads: lifetime, what a URL serves, $select."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulators._graph_check import CheckedClient
from emulators._graph_drive import DOWNLOAD_URL_LIFETIME, quick_xor_hash
from emulators.graph import GraphEmulator

ADA = "ada@example.org"
ROOT = "/me/drive/special/approot"
URL = "@microsoft.graph.downloadUrl"


class Clock:
    """A settable clock for the emulator."""

    def __init__(self) -> None:
        """Start at a fixed instant."""
        self.now = datetime(2027, 3, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        """The current instant."""
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves."""
    return Clock()


@pytest.fixture
def ada(clock: Clock) -> CheckedClient:
    """Ada's client on a fresh emulator running on `clock`."""
    return CheckedClient(GraphEmulator(clock=clock), ADA)


def put(client: CheckedClient, data: bytes) -> Any:
    """Upload bytes to dossier/r.json in the app folder; the driveItem answered."""
    answer = client.call("PUT", f"{ROOT}:/dossier/r.json:/content", "drive_item", data=data)
    assert answer.status_code in (200, 201)
    return answer.get_json()


def fetch(client: CheckedClient, url: str) -> Any:
    """GET a pre-authenticated URL with no token, as a browser or download client would."""
    return client.client.get(url.removeprefix("http://localhost"))


def test_an_items_url_serves_its_content_when_fetched(ada: CheckedClient) -> None:
    """A URL handed out before a write serves the written bytes, with the item's new eTag."""
    first = put(ada, b"one")
    second = put(ada, b"two!")
    served = fetch(ada, first[URL])
    assert served.status_code == 200 and served.get_data() == b"two!"
    assert served.headers["ETag"] == second["eTag"] != first["eTag"]


def test_a_versions_url_serves_that_version(ada: CheckedClient) -> None:
    """The 302 of a kept version's content points at bytes that stay that version's."""
    item = put(ada, b"one")
    put(ada, b"two")
    moved = ada.call("GET", f"/me/drive/items/{item['id']}/versions/1.0/content")
    put(ada, b"three")
    assert fetch(ada, moved.headers["Location"]).get_data() == b"one"


def test_a_url_expires_after_an_hour_with_401(ada: CheckedClient, clock: Clock) -> None:
    """Within the documented hour the URL serves; after it, 401 and no bytes."""
    item = put(ada, b"one")
    clock.now += DOWNLOAD_URL_LIFETIME - timedelta(seconds=1)
    assert fetch(ada, item[URL]).status_code == 200
    clock.now += timedelta(seconds=1)
    expired = fetch(ada, item[URL])
    assert expired.status_code == 401 and b"one" not in expired.get_data()


def test_a_deleted_items_url_answers_404(ada: CheckedClient) -> None:
    """Once the item is gone its URL serves nothing."""
    item = put(ada, b"one")
    assert ada.call("DELETE", f"/me/drive/items/{item['id']}").status_code == 204
    assert fetch(ada, item[URL]).status_code == 404


def test_select_gives_only_the_named_properties(ada: CheckedClient) -> None:
    """$select on an item read answers those properties; the URL only when selected."""
    put(ada, b"one")
    path = f"{ROOT}:/dossier/r.json:"
    plain = ada.call("GET", f"{path}?$select=id,name,eTag", "drive_item").get_json()
    assert set(plain) == {"@odata.context", "id", "name", "eTag"}
    fields = f"id,file,{URL}"
    chosen = ada.call("GET", f"{path}?$select={fields}", "drive_item").get_json()
    assert set(chosen) == {"@odata.context", "id", "file", URL}
    assert fetch(ada, chosen[URL]).get_data() == b"one"


def test_hashes_are_onedrive_for_business_ones(ada: CheckedClient) -> None:
    """Business gives quickXorHash and none of sha1Hash, crc32Hash, sha256Hash."""
    item = put(ada, b"one")
    assert item["file"]["hashes"] == {"quickXorHash": quick_xor_hash(b"one")}
    assert item["parentReference"]["driveType"] == "business"


def test_quick_xor_hash_matches_the_published_vector() -> None:
    """QuickXorHash of "hello world" is the value the reference implementation gives."""
    assert quick_xor_hash(b"hello world") == "aCgDG9jwBhDc4Q1yawMZAAAAAAA="
