"""The Graph emulator's OneDrive app folder: uploads, 302 downloads, versions, conditions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from emulators._graph_check import CheckedClient
from emulators._graph_drive import quick_xor_hash
from emulators.graph import GraphEmulator

ADA = "ada@example.org"
ROOT = "/me/drive/special/approot"


@pytest.fixture
def ada() -> CheckedClient:
    """Ada's client on a fresh emulator."""
    return CheckedClient(GraphEmulator(), ADA)


def put(client: CheckedClient, path: str, data: bytes, **headers: str) -> Any:
    """Upload bytes to a path under the app folder."""
    return client.call("PUT", f"{ROOT}:/{path}:/content", "drive_item", data=data, headers=headers)


def download(client: CheckedClient, url: str) -> bytes:
    """Follow a 302 answer to the pre-authenticated URL and read the bytes."""
    response = client.call("GET", url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("http://localhost/_download/")
    served = client.client.get(location.removeprefix("http://localhost"))
    assert served.status_code == 200
    return bytes(served.get_data())


def test_approot_is_made_on_first_use(ada: CheckedClient) -> None:
    """The app folder exists at first read, as a special folder under /Apps."""
    root = ada.call("GET", ROOT, "drive_item").get_json()
    assert root["specialFolder"] == {"name": "approot"}
    assert root["folder"]["childCount"] == 0
    assert root["parentReference"]["path"] == "/drive/root:/Apps"
    assert ada.call("GET", f"{ROOT}/children", "drive_items").get_json()["value"] == []


def test_upload_creates_folders_and_downloads_by_302(ada: CheckedClient) -> None:
    """PUT makes missing folders (201); content GETs answer 302 to a URL that serves the bytes."""
    response = put(ada, "dossier/record.json", b'{"a": 1}')
    assert response.status_code == 201
    item = response.get_json()
    assert (item["name"], item["size"]) == ("record.json", 8)
    assert item["file"]["mimeType"] == "application/json"
    assert item["file"]["hashes"]["quickXorHash"] == quick_xor_hash(b'{"a": 1}')
    assert item["parentReference"]["path"] == "/drive/root:/Apps/Goed Gesprek/dossier"
    assert item["eTag"] != item["cTag"]
    assert download(ada, f"{ROOT}:/dossier/record.json:/content") == b'{"a": 1}'
    assert download(ada, f"/me/drive/items/{item['id']}/content") == b'{"a": 1}'
    served = ada.client.get(item["@microsoft.graph.downloadUrl"].removeprefix("http://localhost"))
    assert served.get_data() == b'{"a": 1}'
    folders = ada.call("GET", f"{ROOT}/children", "drive_items").get_json()["value"]
    assert [(f["name"], f["folder"]["childCount"]) for f in folders] == [("dossier", 1)]
    listed = ada.call("GET", f"{ROOT}:/dossier:/children", "drive_items").get_json()["value"]
    assert [f["id"] for f in listed] == [item["id"]]
    assert (
        ada.call("GET", f"/me/drive/items/{item['id']}", "drive_item").get_json()["id"]
        == item["id"]
    )


def test_overwrite_keeps_versions(ada: CheckedClient) -> None:
    """Each write makes a version (200 on replace); old versions read back by 302."""
    first = put(ada, "dossier/a.txt", b"one").get_json()
    again = put(ada, "dossier/a.txt", b"two")
    assert again.status_code == 200
    second = again.get_json()
    assert second["id"] == first["id"]
    assert second["eTag"] != first["eTag"]
    versions = ada.call(
        "GET", f"/me/drive/items/{first['id']}/versions", "drive_item_versions"
    ).get_json()["value"]
    assert [(v["id"], v["size"]) for v in versions] == [("2.0", 3), ("1.0", 3)]
    assert download(ada, f"/me/drive/items/{first['id']}/versions/1.0/content") == b"one"
    assert ada.call("GET", f"/me/drive/items/{first['id']}/versions/3.0").status_code == 404
    selected = ada.call(
        "GET", f"/me/drive/items/{first['id']}/versions?$select=id", "drive_item_versions"
    ).get_json()["value"]
    assert selected == [{"id": "2.0"}, {"id": "1.0"}]


def test_if_match_and_conflict_behavior(ada: CheckedClient) -> None:
    """A stale eTag/cTag answers 412; conflictBehavior=fail answers 409 nameAlreadyExists."""
    first = put(ada, "dossier/r.json", b"1").get_json()
    assert put(ada, "dossier/r.json", b"2", **{"If-Match": first["cTag"]}).status_code == 200
    stale = put(ada, "dossier/r.json", b"3", **{"If-Match": first["eTag"]})
    assert stale.status_code == 412
    assert stale.get_json()["error"]["code"] == "resourceModified"
    missing = put(ada, "dossier/new.json", b"1", **{"If-Match": first["eTag"]})
    assert missing.status_code == 412
    fail = ada.call(
        "PUT",
        f"{ROOT}:/dossier/r.json:/content?@microsoft.graph.conflictBehavior=fail",
        data=b"4",
    )
    assert (fail.status_code, fail.get_json()["error"]["code"]) == (409, "nameAlreadyExists")
    assert put(ada, "dossier/k.bin", b"x", **{"If-None-Match": "*"}).status_code == 201
    assert put(ada, "dossier/k.bin", b"y", **{"If-None-Match": "*"}).status_code == 412
    assert download(ada, f"{ROOT}:/dossier/r.json:/content") == b"2"


def test_delete_with_if_match(ada: CheckedClient) -> None:
    """DELETE with a stale eTag answers 412; then a plain DELETE removes item and versions."""
    first = put(ada, "dossier/a.txt", b"1").get_json()
    put(ada, "dossier/a.txt", b"2")
    url = f"/me/drive/items/{first['id']}"
    assert ada.call("DELETE", url, headers={"If-Match": first["eTag"]}).status_code == 412
    assert ada.call("DELETE", url).status_code == 204
    gone = ada.call("GET", url)
    assert (gone.status_code, gone.get_json()["error"]["code"]) == (404, "itemNotFound")
    assert ada.call("GET", f"{ROOT}:/dossier/a.txt:").status_code == 404
    assert put(ada, "dossier/a.txt", b"3").status_code == 201


@pytest.mark.parametrize(
    "name",
    ["a:b", "a*b", "a?b", "a<b", 'a"b', "a|b", "a\\b", "..", "CON", " lead", "trail.", "a\x01b"],
)
def test_names_onedrive_refuses(ada: CheckedClient, name: str) -> None:
    """Characters and names OneDrive refuses answer 400 invalidRequest and write nothing."""
    response = ada.call("PUT", f"{ROOT}:/dossier/{quote(name)}:/content", data=b"x")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalidRequest"
    assert ada.call("GET", f"{ROOT}/children", "drive_items").get_json()["value"] == []


def test_drives_are_per_user(ada: CheckedClient) -> None:
    """Bob's app folder does not hold Ada's files."""
    put(ada, "dossier/a.txt", b"ada")
    bob = CheckedClient(ada.app, "bob@example.org")
    assert bob.call("GET", f"{ROOT}:/dossier/a.txt:").status_code == 404


def test_quick_xor_hash_of_empty_and_known_bytes() -> None:
    """QuickXorHash of nothing is 20 zero bytes; the length is folded into the last 8 bytes."""
    assert quick_xor_hash(b"") == "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    assert quick_xor_hash(b"\x01") == "AQAAAAAAAAAAAAAAAQAAAAAAAAA="


def test_patch_moves_and_renames_an_item(ada: CheckedClient) -> None:
    """PATCH with parentReference moves an item, with name renames it; the eTag changes, the
    cTag (content) does not, and a name taken in the target answers 409."""
    item = put(ada, "dossier/a.txt", b"x").get_json()
    other = put(ada, "archief/b.txt", b"y").get_json()
    url = f"/me/drive/items/{item['id']}"
    moved = ada.call(
        "PATCH", url, "drive_item", json={"parentReference": {"id": other["parentReference"]["id"]}}
    )
    assert moved.status_code == 200
    data = moved.get_json()
    assert data["parentReference"]["path"] == "/drive/root:/Apps/Goed Gesprek/archief"
    assert (data["eTag"] != item["eTag"], data["cTag"]) == (True, item["cTag"])
    assert ada.call("GET", f"{ROOT}:/dossier/a.txt").status_code == 404
    clash = ada.call("PATCH", url, json={"name": "b.txt"})
    assert (clash.status_code, clash.get_json()["error"]["code"]) == (409, "nameAlreadyExists")
    path = {"path": "/drive/root:/Apps/Goed Gesprek/dossier"}
    back = ada.call("PATCH", url, json={"name": "c.txt", "parentReference": path})
    assert back.status_code == 200
    assert download(ada, f"{ROOT}:/dossier/c.txt:/content") == b"x"
    stale = ada.call("PATCH", url, headers={"If-Match": item["eTag"]}, json={"name": "d.txt"})
    assert stale.status_code == 412
