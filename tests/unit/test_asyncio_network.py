"""The Graph connector's httpcore backend on plain asyncio: what httpcore's anyio one does.

Requests reuse a kept connection, a connection the server closed while idle is not reused,
TLS works, and timeouts and refused connections raise httpcore's own exceptions (which httpx
and the connector's error mapping already know).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx
import pytest

from connectors import _loop
from connectors._asyncio_net import AsyncioBackend
from connectors.graph import _network
from emulators.serve import Server
from emulators.tls import LocalCA


def _ports(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/slow":
        time.sleep(0.5)
    body = str(environ["REMOTE_PORT"]).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def _get(client: httpx.AsyncClient, url: str, **options: Any) -> httpx.Response:
    async def get() -> httpx.Response:
        return await client.get(url, **options)

    return _loop.run(get(), 10)


@pytest.fixture
def client() -> Iterator[httpx.AsyncClient]:
    made = httpx.AsyncClient(transport=_network())
    yield made
    _loop.run(made.aclose(), 5)


def test_the_connectors_transport_runs_on_the_asyncio_backend() -> None:
    network = _network()
    assert isinstance(network._pool._network_backend, AsyncioBackend)


def test_requests_reuse_a_kept_connection(client: httpx.AsyncClient) -> None:
    with Server(_ports, keep_alive=True) as server:
        ports = {_get(client, server.url).text for _ in range(3)}
    assert len(ports) == 1


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    client: httpx.AsyncClient,
) -> None:
    with Server(_ports) as server:  # closes each connection after its answer
        first, second = _get(client, server.url), _get(client, server.url)
    assert first.status_code == second.status_code == 200
    assert first.text != second.text


def test_tls_is_negotiated_with_the_given_context() -> None:
    ca = LocalCA()
    with Server(_ports, tls=ca, keep_alive=True) as server:
        transport = httpx.AsyncHTTPTransport(verify=ca.client_context())
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=ca.client_context(), network_backend=AsyncioBackend()
        )
        client = httpx.AsyncClient(transport=transport)
        try:
            ports = {_get(client, server.url).text for _ in range(2)}
        finally:
            _loop.run(client.aclose(), 5)
    assert server.url.startswith("https://") and len(ports) == 1


def test_a_certificate_from_an_unknown_authority_is_refused(client: httpx.AsyncClient) -> None:
    with (
        Server(_ports, tls=LocalCA(), keep_alive=True) as server,
        pytest.raises(httpx.ConnectError),
    ):
        _get(client, server.url)


def test_a_slow_answer_is_a_read_timeout(client: httpx.AsyncClient) -> None:
    with Server(_ports, keep_alive=True) as server, pytest.raises(httpx.ReadTimeout):
        _get(client, f"{server.url}/slow", timeout=0.1)


def test_a_refused_connection_is_a_connect_error(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(httpx.ConnectError):
            _get(client, f"http://127.0.0.1:{port}/")


def test_sleep_waits_on_the_loop() -> None:
    began = time.monotonic()
    _loop.run(AsyncioBackend().sleep(0.05), 5)
    assert time.monotonic() - began >= 0.04
