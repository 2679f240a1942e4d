"""Closing a Google account ends every thread's connections and the parallel-read pool.

Connections left open by the client are seen against a small keep-alive server that counts the
connections open.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from google.oauth2.credentials import Credentials

from connectors._retry import NO_RETRY
from connectors.google import GoogleAccount
from emulators.google import GoogleEmulator
from emulators.serve import Server

ADA = "ada@example.org"
EVENT = {
    "id": "e1",
    "etag": '"1"',
    "summary": "Overleg",
    "start": {"dateTime": "2027-02-01T14:00:00+01:00", "timeZone": "Europe/Amsterdam"},
    "end": {"dateTime": "2027-02-01T15:00:00+01:00", "timeZone": "Europe/Amsterdam"},
}


class KeepAlive(ThreadingHTTPServer):
    """Answers every GET with one event over HTTP/1.1 and keeps the connection; counts them."""

    daemon_threads = True

    def __init__(self) -> None:
        """Listen on a free loopback port."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.open = 0
        self.lock = threading.Lock()

    def count(self, change: int) -> None:
        """Note a connection opened (+1) or closed (-1)."""
        with self.lock:
            self.open += change

    def settle(self, wanted: int) -> int:
        """The open count once it is `wanted`, or after two seconds."""
        deadline = time.monotonic() + 2
        while self.open != wanted and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepAlive

    def setup(self) -> None:
        super().setup()
        self.server.count(+1)

    def finish(self) -> None:
        super().finish()
        self.server.count(-1)

    def do_GET(self) -> None:
        body = json.dumps(EVENT).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def keep_alive() -> Iterator[KeepAlive]:
    """The keep-alive server, serving in a background thread."""
    server = KeepAlive()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_close_ends_every_threads_connection(keep_alive: KeepAlive) -> None:
    """Two threads' kept connections are both closed by `close`, and the port still works."""
    host, port = keep_alive.server_address[:2]
    account = GoogleAccount(
        Credentials(token="ya29.t"), root_url=f"http://{host!s}:{port}/", retry=NO_RETRY
    )
    calendar = account.calendar(ADA)
    with ThreadPoolExecutor(max_workers=1) as other:
        other.submit(calendar.get_event, "e1").result()
        calendar.get_event("e1")
        assert keep_alive.settle(2) == 2
        account.close()
        assert keep_alive.settle(0) == 0
    assert calendar.get_event("e1").subject == "Overleg"
    account.close()


def test_close_ends_the_parallel_read_pool() -> None:
    """The pool that reads a known file's metadata beside its bytes ends; the next read works."""
    emulator = GoogleEmulator()
    with Server(emulator) as server:
        account = GoogleAccount(
            lambda email: Credentials(token=emulator.token(email)), root_url=server.url + "/"
        )
        drive = account.drive(ADA)
        drive.put("dossier", "occ.json", b"eerste")
        drive.get("dossier", "occ.json")  # seen: the next read goes by id, two requests at once
        drive.get("dossier", "occ.json")
        assert any(t.name.startswith("google-parallel") for t in threading.enumerate())
        account.close()
        assert not any(t.name.startswith("google-parallel") for t in threading.enumerate())
        assert drive.get("dossier", "occ.json").content == b"eerste"
        account.close()
