"""google-api-python-client reaches the served emulator when built from a patched document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from google_checks import document, validate
from googleapiclient.discovery import build, build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload, build_http

from emulators.google import GoogleEmulator
from emulators.serve import Server, serving

ADA = "ada@example.org"
BOB = "bob@example.org"
AMS = "Europe/Amsterdam"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GoogleEmulator, Server]]:
    """One emulator served on 127.0.0.1 for this module."""
    emulator = GoogleEmulator()
    emulator.add_user(BOB, "Bob")
    with serving(emulator) as server:
        yield emulator, server


def client(api: str, served: tuple[GoogleEmulator, Server], email: str = ADA) -> Any:
    """A client built from the shipped document with rootUrl pointed at the emulator."""
    emulator, server = served
    doc = {**document(api), "rootUrl": server.url + "/"}
    # build_http(), as the library's own build() uses: httplib2 must not follow 308 (resumable).
    http = AuthorizedHttp(Credentials(emulator.token(email)), http=build_http())
    return build_from_document(doc, http=http)


def body(summary: str, hour: int) -> dict[str, Any]:
    """An event at `hour` on 1 Feb 2027 in Amsterdam with Bob."""
    return {
        "summary": summary,
        "start": {"dateTime": f"2027-02-01T{hour:02d}:00:00", "timeZone": AMS},
        "end": {"dateTime": f"2027-02-01T{hour + 1:02d}:00:00", "timeZone": AMS},
        "attendees": [{"email": BOB}],
    }


def test_plain_call_reaches_the_emulator(served: tuple[GoogleEmulator, Server]) -> None:
    """events.insert and events.get go to the emulator and answer valid Event resources."""
    calendar = client("calendar", served)
    created = calendar.events().insert(calendarId="primary", body=body("Plain", 9)).execute()
    got = calendar.events().get(calendarId="primary", eventId=created["id"]).execute()
    assert got == created
    validate("calendar", "Event", got)


def test_media_upload_reaches_the_emulator(served: tuple[GoogleEmulator, Server]) -> None:
    """A MediaInMemoryUpload create (multipart) and update (media) land as revisions."""
    drive = client("drive", served)
    blob = bytes(range(256))
    media = MediaInMemoryUpload(blob, mimetype="application/octet-stream")
    made = drive.files().create(body={"name": "blob.bin"}, media_body=media, fields="*").execute()
    assert made["size"] == "256"
    validate("drive", "File", made)
    again = MediaInMemoryUpload(b"new", mimetype="text/plain")
    updated = drive.files().update(fileId=made["id"], media_body=again, fields="*").execute()
    assert updated["headRevisionId"] != made["headRevisionId"]
    assert drive.files().get_media(fileId=made["id"]).execute() == b"new"
    revisions = drive.revisions().list(fileId=made["id"]).execute()["revisions"]
    old = drive.revisions().get_media(fileId=made["id"], revisionId=revisions[0]["id"]).execute()
    assert old == blob


def test_resumable_upload_in_chunks(served: tuple[GoogleEmulator, Server]) -> None:
    """A resumable upload in 256 KiB chunks (308 until the last) creates, then updates, a file."""
    drive = client("drive", served)
    blob = bytes(range(256)) * 2500
    media = MediaInMemoryUpload(
        blob, mimetype="application/pdf", chunksize=256 * 1024, resumable=True
    )
    request = drive.files().create(body={"name": "big.pdf"}, media_body=media, fields="*")
    made = None
    for _ in range(10):
        _, made = request.next_chunk()
        if made is not None:
            break
    assert made is not None and made["size"] == str(len(blob))
    assert drive.files().get_media(fileId=made["id"]).execute() == blob
    again = MediaInMemoryUpload(b"kort", mimetype="text/plain", resumable=True)
    updated = drive.files().update(fileId=made["id"], media_body=again, fields="*").execute()
    assert (updated["size"], updated["mimeType"]) == ("4", "text/plain")


def test_gmail_upload_path(served: tuple[GoogleEmulator, Server]) -> None:
    """messages.send with a media body uses the upload path and is recorded as sent."""
    emulator, _ = served
    gmail = client("gmail", served)
    message = b"To: bob@example.org\r\nSubject: Hoi\r\n\r\nTekst\r\n"
    media = MediaInMemoryUpload(message, mimetype="message/rfc822")
    sent = gmail.users().messages().send(userId="me", body={}, media_body=media).execute()
    assert sent["id"] in [m["id"] for m in emulator.sent()]


def test_batch_reaches_the_emulator_with_errors_per_part(
    served: tuple[GoogleEmulator, Server],
) -> None:
    """A new_batch_http_request batch runs each part; a failing part fails alone."""
    calendar = client("calendar", served)
    results: dict[str, Any] = {}

    def done(request_id: str, response: Any, exception: Exception | None) -> None:
        results[request_id] = exception or response

    batch = calendar.new_batch_http_request(callback=done)
    batch.add(calendar.events().insert(calendarId="primary", body=body("Een", 10)), request_id="a")
    batch.add(calendar.events().get(calendarId="primary", eventId="nosuchevent"), request_id="b")
    batch.add(calendar.events().insert(calendarId="primary", body=body("Twee", 12)), request_id="c")
    batch.execute()
    assert results["a"]["summary"] == "Een" and results["c"]["summary"] == "Twee"
    assert isinstance(results["b"], HttpError) and results["b"].resp.status == 404
    assert json.loads(results["b"].content)["error"]["errors"][0]["reason"] == "notFound"
    validate("calendar", "Event", results["a"])


def test_client_built_with_api_endpoint_sends_batch_and_media_elsewhere(
    served: tuple[GoogleEmulator, Server],
) -> None:
    """Built with client_options api_endpoint, batch and media URLs miss the emulator."""
    emulator, server = served
    credentials = Credentials(emulator.token(ADA))
    endpoint = server.url + "/drive/v3/"
    drive = build(
        "drive",
        "v3",
        credentials=credentials,
        client_options={"api_endpoint": endpoint},
        static_discovery=True,
    )
    plain = drive.files().list()
    assert plain.uri.startswith(server.url)
    batch = drive.new_batch_http_request()
    assert batch._batch_uri == "https://www.googleapis.com/batch/drive/v3"
    media = MediaInMemoryUpload(b"x", mimetype="text/plain")
    upload = drive.files().create(body={"name": "x"}, media_body=media)
    # The media URL keeps Google's https scheme on the emulator's host: a plain-HTTP
    # emulator (or any endpoint on another scheme) is not what it reaches.
    assert not upload.uri.startswith(server.url)
    assert upload.uri.startswith("https://")
