"""The emulator server keeps connections alive when asked, as Graph and Google do.

A kept connection must never carry one request's leftovers into the next, and must end with the
server; a client that closes its account must close its connections.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest

from connectors.graph import GraphAccount, StaticToken
from emulators.graph import GraphEmulator
from emulators.serve import Server, behind_network

ADA = "ada@example.org"


def _ports(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Answers with the client's port; ignores any request body."""
    body = str(environ.get("REMOTE_PORT")).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def kept() -> Iterator[Server]:
    with Server(_ports, keep_alive=True) as server:
        yield server


def _open(server: Server, wanted: int) -> int:
    """The server's open connections once they are `wanted`, or after two seconds."""
    opened: set[Any] = server._server.opened  # type: ignore[attr-defined]
    deadline = time.monotonic() + 2
    while len(opened) != wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(opened)


def test_requests_share_one_connection_even_when_a_body_is_left_unread(kept: Server) -> None:
    """Three requests, one with a body the app never reads, come over one connection."""
    with httpx.Client(base_url=kept.url) as client:
        first = client.get("/")
        posted = client.post("/", content=b"x" * 70_000)
        last = client.get("/")
    assert first.text == posted.text == last.text
    assert "close" not in first.headers.get("connection", "")


def test_a_chunked_body_is_answered_and_the_connection_closed(kept: Server) -> None:
    """A body of unknown length cannot be read ahead: the answer closes the connection."""

    def chunks() -> Iterator[bytes]:
        yield b"a" * 10
        yield b"b" * 10

    with httpx.Client(base_url=kept.url) as client:
        answer = client.post("/", content=chunks())
        again = client.get("/")
    assert answer.status_code == again.status_code == 200
    assert answer.headers["connection"] == "close"
    assert answer.text != again.text


def test_without_keep_alive_every_answer_closes_its_connection() -> None:
    """The default serves one request per connection, as werkzeug does."""
    with Server(_ports) as server, httpx.Client(base_url=server.url) as client:
        first, second = client.get("/"), client.get("/")
    assert first.headers["connection"] == second.headers["connection"] == "close"
    assert first.text != second.text


def _nodelay(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    sock = environ["werkzeug.socket"]
    body = str(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_answers_leave_without_waiting_for_an_ack() -> None:
    """TCP_NODELAY: on a kept connection, an answer's headers and body written apart would
    otherwise wait for the client's delayed ACK (about 40 ms a request)."""
    with Server(_nodelay, keep_alive=True) as server:
        assert httpx.get(server.url).text == "1"


def test_closing_the_server_ends_its_kept_connections() -> None:
    """A service that goes away takes its connections along: the next request fails."""
    server = Server(_ports, keep_alive=True)
    with httpx.Client(base_url=server.url) as client:
        client.get("/")
        assert _open(server, 1) == 1
        server.close()
        with pytest.raises(httpx.TransportError):
            client.get("/")


def test_closing_a_graph_account_closes_its_connections() -> None:
    """msgraph-core's transport closes nothing itself; the session closes what it wraps."""
    emulator = GraphEmulator()
    emulator.add_user(ADA, "Ada", "Europe/Amsterdam")
    with Server(behind_network(emulator), keep_alive=True) as server:
        account = GraphAccount(
            lambda _email: StaticToken(emulator.token(ADA)), base_url=f"{server.url}/v1.0"
        )
        account.drive(ADA).folders()
        assert _open(server, 1) == 1
        account.close()
        assert _open(server, 0) == 0


def _busy(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Spends about 20 ms of CPU before answering."""
    until = time.thread_time() + 0.02
    while time.thread_time() < until:
        pass
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def test_the_server_counts_the_cpu_its_threads_spend_serving() -> None:
    with Server(_busy, keep_alive=True) as server, httpx.Client(base_url=server.url) as client:
        assert server.cpu_seconds == 0
        for _ in range(3):
            assert client.get("/").text == "ok"
        # A request is counted once its handler returns, just after the answer went out.
        deadline = time.monotonic() + 2
        while server.cpu_seconds < 0.06 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.cpu_seconds >= 0.06
        before = server.cpu_seconds
        time.sleep(0.05)  # an idle kept connection spends nothing
        assert server.cpu_seconds == before
