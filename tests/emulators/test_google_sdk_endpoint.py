"""The Google client's endpoint defect, and proof that the connectors code around it.

A client built with ``client_options={"api_endpoint": ...}`` keeps the discovery document's
rootUrl for batches (rootUrl + batchPath) and swaps only the host of media-upload URLs, keeping
their https scheme: pointed at a local endpoint, batches go to googleapis.com and uploads to an
https port that speaks plain HTTP. A client built from the document with rootUrl replaced (what
`connectors.google` does) sends everything to the endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build, build_from_document
from googleapiclient.http import MediaInMemoryUpload

from connectors.google import GoogleAccount, discovery_document
from emulators._wsgi import StartResponse, WSGIApp
from emulators.google import GoogleEmulator
from emulators.serve import Server

ADA = "ada@example.org"


class Recorder:
    """A WSGI wrapper that notes the method and path of every request, then passes it on."""

    def __init__(self, app: WSGIApp) -> None:
        """Wrap `app`."""
        self.app = app
        self.seen: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Record, then answer as the wrapped app does."""
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GoogleEmulator, Recorder, Server]]:
    """The emulator behind a recorder, served on 127.0.0.1."""
    emulator = GoogleEmulator()
    recorder = Recorder(emulator)
    with Server(recorder) as server:
        yield emulator, recorder, server


@pytest.mark.parametrize(
    ("api", "version", "batch_host"),
    [
        ("calendar", "v3", "https://www.googleapis.com/"),
        ("drive", "v3", "https://www.googleapis.com/"),
        ("gmail", "v1", "https://gmail.googleapis.com/"),
    ],
)
def test_api_endpoint_client_sends_batches_to_google(
    api: str, version: str, batch_host: str
) -> None:
    """With api_endpoint set, the client's batch URI still points at googleapis.com."""
    endpoint = "http://127.0.0.1:9/"
    service = build(
        api,
        version,
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
        http=httplib2.Http(),
    )
    batch_uri = service.new_batch_http_request()._batch_uri
    assert batch_uri.startswith(batch_host)
    assert not batch_uri.startswith(endpoint)


def test_api_endpoint_client_sends_uploads_over_https() -> None:
    """With api_endpoint set, a media upload keeps https while the endpoint speaks http."""
    endpoint = "http://127.0.0.1:9/drive/v3/"
    service = build(
        "drive",
        "v3",
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
        http=httplib2.Http(),
    )
    request = service.files().create(
        body={"name": "a.txt"}, media_body=MediaInMemoryUpload(b"x", mimetype="text/plain")
    )
    assert request.uri.startswith("https://127.0.0.1:9/upload/drive/v3/files")
    assert not request.uri.startswith("http://127.0.0.1:9/")


@pytest.mark.parametrize("api", ["calendar", "drive", "gmail"])
def test_patched_document_roots_batch_and_upload_at_the_endpoint(api: str) -> None:
    """A client built from the patched document has its batch URI and API base at the endpoint."""
    endpoint = "http://127.0.0.1:9/"
    service = build_from_document(discovery_document(api, endpoint), http=httplib2.Http())
    assert service.new_batch_http_request()._batch_uri.startswith(endpoint)
    assert service._baseUrl.startswith(endpoint)


def test_connectors_send_plain_media_and_batch_requests_to_the_emulator(
    served: tuple[GoogleEmulator, Recorder, Server],
) -> None:
    """Through the ports, a calendar call, a Drive upload and a batch all reach the emulator."""
    emulator, recorder, server = served
    emulator.reset()
    recorder.seen.clear()
    account = GoogleAccount(
        lambda email: Credentials(token=emulator.token(email)), root_url=server.url + "/"
    )
    drive = account.drive(ADA)
    info = drive.put("dossier", "agenda.txt", b"thema's", content_type="text/plain")
    assert drive.get("dossier", "agenda.txt").content == b"thema's"
    assert info.version == 1
    calendar = account.calendar(ADA)
    found = calendar.get_events(["no-such-event"])
    assert set(found) == {"no-such-event"}
    paths = [path for _, path in recorder.seen]
    assert "/upload/drive/v3/files" in paths
    assert "/batch/calendar/v3" in paths
    assert any(path.startswith("/drive/v3/files") for path in paths)
