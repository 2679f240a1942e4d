"""The Google emulator's Drive v3: uploads, generateIds, folders, list queries, revisions."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from google_checks import GoogleApi, error_reason
from werkzeug.test import Client

from emulators.google import GoogleEmulator

ADA = "ada@example.org"
BOB = "bob@example.org"
FOLDER = "application/vnd.google-apps.folder"
BLOB = bytes(range(256)) * 4


@pytest.fixture
def google() -> GoogleEmulator:
    """A fresh emulator."""
    return GoogleEmulator()


@pytest.fixture
def ada(google: GoogleEmulator) -> GoogleApi:
    """Ada's validating caller."""
    return GoogleApi(Client(google), google.token(ADA))


@pytest.fixture
def bob(google: GoogleEmulator) -> GoogleApi:
    """Bob's validating caller."""
    return GoogleApi(Client(google), google.token(BOB))


def folder(api: GoogleApi, name: str = "dossier") -> str:
    """Create a folder; its id."""
    made = api("drive", "files.create", body={"name": name, "mimeType": FOLDER})
    assert made["mimeType"] == FOLDER
    return str(made["id"])


def upload(api: GoogleApi, name: str, content: bytes, parent: str, **extra: Any) -> dict[str, Any]:
    """A multipart upload into `parent`, answered with every field."""
    answer = api(
        "drive",
        "files.create",
        body={"name": name, "parents": [parent], **extra},
        media=(content, "application/octet-stream"),
        upload="multipart",
        fields="*",
    )
    return dict(answer)


def test_multipart_create_and_download(ada: GoogleApi) -> None:
    """A multipart upload stores metadata and every byte; alt=media gives them back."""
    parent = folder(ada)
    made = upload(ada, "blob.bin", BLOB, parent)
    assert (made["name"], made["parents"], made["size"]) == ("blob.bin", [parent], "1024")
    assert made["md5Checksum"] == hashlib.md5(BLOB, usedforsecurity=False).hexdigest()
    assert made["version"] and made["headRevisionId"]
    content = ada("drive", "files.get", fileId=made["id"], alt="media")
    assert content == BLOB


def test_default_fields_are_the_short_set(ada: GoogleApi) -> None:
    """Without fields, create/get/list answer kind, id, name and mimeType only."""
    made = ada(
        "drive",
        "files.create",
        body={"name": "a.txt"},
        media=(b"a", "text/plain"),
        upload="multipart",
    )
    assert set(made) == {"kind", "id", "name", "mimeType"}
    assert made["mimeType"] == "text/plain"
    got = ada("drive", "files.get", fileId=made["id"])
    assert got == made
    listed = ada("drive", "files.list")
    assert listed["files"] == [made]
    picked = ada("drive", "files.get", fileId=made["id"], fields="id,size")
    assert picked == {"id": made["id"], "size": "1"}


def test_media_upload_then_metadata(ada: GoogleApi) -> None:
    """uploadType=media takes the body as content; a PATCH then names the file."""
    made = ada("drive", "files.create", media=(b"hello", "text/plain"), fields="*")
    assert (made["name"], made["size"], made["mimeType"]) == ("Untitled", "5", "text/plain")
    named = ada("drive", "files.update", fileId=made["id"], body={"name": "hello.txt"}, fields="*")
    assert named["name"] == "hello.txt"
    assert int(named["version"]) > int(made["version"])
    assert named["headRevisionId"] == made["headRevisionId"]


def test_content_updates_make_revisions(ada: GoogleApi) -> None:
    """Every content update is a new head revision; each revision's bytes stay readable."""
    parent = folder(ada)
    first = upload(ada, "agenda.txt", b"one", parent)
    second = ada(
        "drive",
        "files.update",
        fileId=first["id"],
        media=(b"two!", "text/plain"),
        fields="*",
    )
    assert second["headRevisionId"] != first["headRevisionId"]
    assert int(second["version"]) > int(first["version"])
    assert (second["size"], second["mimeType"]) == ("4", "text/plain")
    revisions = ada("drive", "revisions.list", fileId=first["id"])["revisions"]
    assert [r["id"] for r in revisions] == [first["headRevisionId"], second["headRevisionId"]]
    old = ada(
        "drive", "revisions.get", fileId=first["id"], revisionId=revisions[0]["id"], alt="media"
    )
    assert old == b"one"
    meta = ada(
        "drive", "revisions.get", fileId=first["id"], revisionId=revisions[1]["id"], fields="*"
    )
    assert (meta["size"], meta["md5Checksum"]) == (
        "4",
        hashlib.md5(b"two!", usedforsecurity=False).hexdigest(),
    )
    ada("drive", "revisions.get", fileId=first["id"], revisionId="nope", expect=404)


def test_generated_ids_are_the_only_client_ids(ada: GoogleApi, bob: GoogleApi) -> None:
    """An id from generateIds creates once (then 409); made-up or others' ids are refused."""
    ids = ada("drive", "files.generateIds", count=3)["ids"]
    assert len(ids) == 3 and len(set(ids)) == 3
    made = ada(
        "drive",
        "files.create",
        body={"id": ids[0], "name": "k.bin"},
        media=(b"k", "application/octet-stream"),
        upload="multipart",
    )
    assert made["id"] == ids[0]
    again = ada("drive", "files.create", body={"id": ids[0], "name": "k.bin"}, expect=409)
    assert error_reason(again) == "fileIdInUse"
    made_up = ada("drive", "files.create", body={"id": "1madeupid", "name": "x"}, expect=400)
    assert error_reason(made_up) == "fileIdNotUsable"
    bob("drive", "files.create", body={"id": ids[1], "name": "x"}, expect=400)
    assert [f["id"] for f in ada("drive", "files.list")["files"]] == [ids[0]]


def test_list_query_subset(ada: GoogleApi) -> None:
    """name, parents, mimeType and trashed terms joined by and select the right files."""
    dossier, other = folder(ada, "dossier"), folder(ada, "other")
    a = upload(ada, "a.txt", b"a", dossier)
    upload(ada, "b.txt", b"b", dossier)
    upload(ada, "a.txt", b"c", other)
    gone = upload(ada, "c.txt", b"c", dossier)
    ada("drive", "files.update", fileId=gone["id"], body={"trashed": True})

    def names(q: str, **extra: Any) -> list[str]:
        return [f["name"] for f in ada("drive", "files.list", q=q, **extra)["files"]]

    assert names(f"'{dossier}' in parents and trashed = false") == ["a.txt", "b.txt"]
    assert names(f"name = 'a.txt' and '{dossier}' in parents") == ["a.txt"]
    assert names(f"mimeType = '{FOLDER}' and trashed = false") == ["dossier", "other"]
    assert names(f"mimeType != '{FOLDER}' and name = 'a.txt'") == ["a.txt", "a.txt"]
    assert names("'root' in parents", orderBy="name desc") == ["other", "dossier"]
    assert names("name = 'it\\'s'") == []
    found = ada(
        "drive",
        "files.list",
        q=f"name = 'a.txt' and '{dossier}' in parents",
        fields="files(id,size)",
    )
    assert found == {"files": [{"id": a["id"], "size": "1"}]}
    answer = ada("drive", "files.list", q="fullText contains 'x'", expect=400)
    assert error_reason(answer) == "invalid"


def test_list_pages(ada: GoogleApi) -> None:
    """pageSize and pageToken walk the list once, in order."""
    parent = folder(ada)
    for index in range(5):
        upload(ada, f"{index}.txt", b"x", parent)
    seen: list[str] = []
    token = None
    for _ in range(5):
        extra = {"pageToken": token} if token else {}
        answer = ada("drive", "files.list", q=f"'{parent}' in parents", pageSize=2, **extra)
        seen += [f["name"] for f in answer["files"]]
        token = answer.get("nextPageToken")
        if not token:
            break
    assert seen == [f"{i}.txt" for i in range(5)]


def test_drives_are_per_user_and_delete_is_final(ada: GoogleApi, bob: GoogleApi) -> None:
    """Bob cannot see Ada's file; after delete it is 404 for Ada too, folder contents included."""
    parent = folder(ada)
    made = upload(ada, "a.txt", b"a", parent)
    answer = bob("drive", "files.get", fileId=made["id"], expect=404)
    assert error_reason(answer) == "notFound"
    assert bob("drive", "files.list")["files"] == []
    ada("drive", "files.delete", fileId=parent, expect=204)
    ada("drive", "files.get", fileId=made["id"], expect=404)
    ada("drive", "files.delete", fileId=made["id"], expect=404)


def test_if_match_is_ignored_as_drive_v3_documents_no_etags(ada: GoogleApi) -> None:
    """Drive v3 files carry no etag; an If-Match header does not stop an update."""
    made = upload(ada, "a.txt", b"a", folder(ada))
    updated = ada(
        "drive",
        "files.update",
        fileId=made["id"],
        media=(b"b", "text/plain"),
        headers={"If-Match": '"stale"'},
        fields="*",
    )
    assert "etag" not in updated
    assert updated["headRevisionId"] != made["headRevisionId"]


@pytest.mark.parametrize("field", ["size", "md5Checksum", "version", "kind"])
def test_read_only_fields_are_refused(ada: GoogleApi, field: str) -> None:
    """A body setting an output-only field answers 403 fieldNotWritable."""
    answer = ada("drive", "files.create", body={"name": "x", field: "1"}, expect=403)
    assert error_reason(answer) == "fieldNotWritable"


def test_parents_move_only_with_add_and_remove(ada: GoogleApi) -> None:
    """parents cannot be patched directly; addParents/removeParents move a file."""
    one, two = folder(ada, "one"), folder(ada, "two")
    made = upload(ada, "a.txt", b"a", one)
    ada("drive", "files.update", fileId=made["id"], body={"parents": [two]}, expect=403)
    moved = ada(
        "drive",
        "files.update",
        fileId=made["id"],
        addParents=two,
        removeParents=one,
        fields="parents",
    )
    assert moved == {"parents": [two]}
    ada("drive", "files.update", fileId=made["id"], addParents=one, expect=403)


def test_app_data_folder_space(ada: GoogleApi) -> None:
    """Files in appDataFolder are listed only with spaces=appDataFolder."""
    ada(
        "drive",
        "files.create",
        body={"name": "secret", "parents": ["appDataFolder"]},
        media=(b"k", "application/octet-stream"),
        upload="multipart",
    )
    assert ada("drive", "files.list")["files"] == []
    listed = ada("drive", "files.list", spaces="appDataFolder")["files"]
    assert [f["name"] for f in listed] == ["secret"]


def test_folder_has_no_content(ada: GoogleApi) -> None:
    """Downloading a folder is refused; folders have no size or checksum."""
    parent = folder(ada)
    meta = ada("drive", "files.get", fileId=parent, fields="*")
    assert "size" not in meta and "md5Checksum" not in meta
    answer = ada("drive", "files.get", fileId=parent, alt="media", expect=403)
    assert error_reason(answer) == "fileNotDownloadable"
