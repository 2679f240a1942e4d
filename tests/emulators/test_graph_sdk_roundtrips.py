"""Round trips on the side panel's critical path: an event with its attachments in one GET,
a known drive file read by id with its metadata, versions and bytes (from the download URL
its last read brought) fetched at once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.graph import GraphAccount, StaticToken
from connectors.models import NewEvent
from emulators.graph import GraphEmulator
from emulators.serve import Server

ADA = "ada@example.org"


class Counter:
    """Wraps the emulator and records each request's method and path."""

    def __init__(self, app: GraphEmulator) -> None:
        """Count in front of `app`."""
        self.app = app
        self.seen: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Record and pass on."""
        self.seen.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        return self.app(environ, start_response)


@pytest.fixture
def counted() -> Iterator[tuple[Counter, GraphAccount]]:
    """An account on a fresh emulator behind a request counter."""
    emulator = GraphEmulator()
    counter = Counter(emulator)
    with Server(counter) as server:
        account = GraphAccount(StaticToken(emulator.token(ADA)), base_url=f"{server.url}/v1.0")
        try:
            yield counter, account
        finally:
            account.close()


def test_event_with_attachments_is_one_request(counted: tuple[Counter, GraphAccount]) -> None:
    """get_event reads the event, our properties and its attachment list in one plain GET."""
    counter, account = counted
    cal = account.calendar(ADA)
    start = datetime(2027, 2, 1, 13, tzinfo=UTC)
    created = cal.create_event(
        NewEvent("Overleg", start, start + timedelta(hours=1), "Europe/Amsterdam", ADA),
        idempotency_key="k",
    )
    cal.add_attachment(created.id, "agenda.txt", b"x", "text/plain")
    counter.seen.clear()
    got = cal.get_event(created.id)
    assert [a.name for a in got.attachments] == ["agenda.txt"]
    assert counter.seen == [("GET", f"/v1.0/me/events/{created.id}")]


def test_known_file_is_read_by_id_without_a_path_lookup(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """A file this client wrote is read by its id: metadata and versions in one ``$batch``
    beside the bytes from the download URL the write answered with, not through ``/content``."""
    counter, account = counted
    drive = account.drive(ADA)
    drive.put("dossier", "occ.json", b"{}")
    counter.seen.clear()
    got = drive.get("dossier", "occ.json")
    assert got.content == b"{}" and got.info.version == 1
    api = [path for _, path in counter.seen if path.startswith("/v1.0/")]
    assert api == ["/v1.0/$batch"]
    assert [p for _, p in counter.seen if p.startswith("/_download/")] != []


def test_a_file_replaced_elsewhere_is_found_again(counted: tuple[Counter, GraphAccount]) -> None:
    """When the known id is gone (deleted and written anew), the read falls back to the path."""
    counter, account = counted
    drive = account.drive(ADA)
    drive.put("dossier", "occ.json", b"old")
    drive.get("dossier", "occ.json")
    token = StaticToken(counter.app.token(ADA))
    elsewhere = GraphAccount(token, base_url=account.base_url)
    try:
        elsewhere.drive(ADA).delete("dossier", "occ.json")
        elsewhere.drive(ADA).put("dossier", "occ.json", b"new!")
    finally:
        elsewhere.close()
    got = drive.get("dossier", "occ.json")
    assert (got.content, got.info.version) == (b"new!", 1)
