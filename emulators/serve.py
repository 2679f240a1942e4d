"""Serve a WSGI emulator on 127.0.0.1 in a background thread, for real HTTP from the real SDKs."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from emulators._wsgi import WSGIApp
from emulators.google import GoogleEmulator
from emulators.graph import GraphEmulator
from emulators.network import Network
from emulators.tls import LocalCA

PROVIDERS = ("graph", "google")
IDLE_SECONDS = 30
"""How long a kept-alive connection may sit idle before the server closes it."""
API_ROOT = {"graph": "/v1.0", "google": "/"}
"""Where each provider's SDK is pointed: Graph's base URL ends in its version, Google's
``rootUrl`` is the server root (the discovery document adds ``calendar/v3/`` and the like)."""


def emulator_for(provider: str) -> Any:
    """A fresh emulator of `provider` (``graph`` or ``google``)."""
    if provider == "graph":
        return GraphEmulator()
    if provider == "google":
        return GoogleEmulator()
    raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")


def behind_network(emulator: Any, **options: Any) -> Network:
    """`emulator` behind the network middleware (latency, limits, faults as `options` say)."""
    network = Network(emulator, user_of=emulator.user_of, error_body=emulator.error_body, **options)
    if hasattr(emulator, "batch_target"):
        emulator.batch_target = network  # Graph throttles and fails each $batch item on its own
    return network


class _Handler(WSGIRequestHandler):
    """Speaks HTTP/1.1, with keep-alive when the server asks; sends without Nagle's delay; logs
    nothing.

    Graph and Google keep a client's connection open between requests, so clients that pool
    connections pay the connect once, as they would against the real service (the benchmarks
    and ``goedgesprek emulate`` serve so; tests keep werkzeug's one request per connection,
    so a client that never closes its pool leaves nothing open behind it). werkzeug's own
    handler closes every connection: it cannot tell where a request's body ends, so it drains
    the socket after each answer. Here a body of known length is read up front instead and the
    connection stays open; a chunked body, ``Expect: 100-continue`` or a dropped or failed
    answer closes it as before.
    """

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    _keep = False

    def setup(self) -> None:
        """Answers go out at once (TCP_NODELAY), as real servers send them."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        opened = getattr(self.server, "opened", None)
        if opened is not None:
            opened.add(self.connection)

    def finish(self) -> None:
        opened = getattr(self.server, "opened", None)
        if opened is not None:
            opened.discard(self.connection)
        super().finish()

    def handle_one_request(self) -> None:
        """One request, its CPU time added to the server's `cpu_seconds` (see `Server`)."""
        started = time.thread_time()
        try:
            super().handle_one_request()
        finally:
            count = getattr(self.server, "count_cpu", None)
            if count is not None:
                count(time.thread_time() - started)

    def run_wsgi(self) -> None:
        """Serve one request; keep the connection when its body was read whole beforehand."""
        socket_file = self.rfile
        self._keep = False
        wanted = getattr(self.server, "keep_alive", False)
        if wanted and not self.close_connection and self._body_read_ahead():
            self._keep = True
        try:
            super().run_wsgi()
        finally:
            self.rfile = socket_file
            if not self._keep:
                self.close_connection = True

    def _body_read_ahead(self) -> bool:
        if "Transfer-Encoding" in self.headers or "Expect" in self.headers:
            return False
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return False
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) != max(length, 0):
            return False
        self.rfile = io.BytesIO(body)
        return True

    def send_header(self, keyword: str, value: str) -> None:
        """werkzeug's ``Connection: close`` is dropped while the connection is kept."""
        if self._keep and keyword.lower() == "connection" and value.lower() == "close":
            return
        super().send_header(keyword, value)

    def connection_dropped(
        self, error: BaseException, environ: dict[str, Any] | None = None
    ) -> None:
        """A dropped or faulted connection is not served again."""
        self._keep = False
        self.close_connection = True

    def log(self, type: str, message: str, *args: object) -> None:
        """Requests are not logged: tests and benchmarks make thousands."""


class Server:
    """A running emulator: `url` is its base (``http://127.0.0.1:PORT``, ``https://`` with `tls`);
    `close` stops it."""

    def __init__(
        self,
        app: WSGIApp,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        tls: LocalCA | None = None,
        keep_alive: bool = False,
    ) -> None:
        """Serve `app`; with `keep_alive` a client's connection stays open between requests."""
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=_Handler,
            ssl_context=tls.server_context() if tls else None,
        )
        self._server.opened = set()  # type: ignore[attr-defined]
        self._server.count_cpu = self._count_cpu  # type: ignore[attr-defined]
        self._cpu = 0.0
        self._cpu_lock = threading.Lock()
        self._server.keep_alive = keep_alive  # type: ignore[attr-defined]
        self.port: int = self._server.server_port
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _count_cpu(self, seconds: float) -> None:
        with self._cpu_lock:
            self._cpu += seconds

    @property
    def cpu_seconds(self) -> float:
        """CPU time the server's threads spent reading, answering and sending requests so far:
        with the emulator in the client's process, the benchmarks take it out of the client's."""
        with self._cpu_lock:
            return self._cpu

    def close(self) -> None:
        """Stop accepting requests and wait (bounded) for the serving thread to end."""
        self._server.shutdown()
        self._server.server_close()
        # Kept-alive connections end with the server, as they would when a service goes away.
        for connection in list(self._server.opened):  # type: ignore[attr-defined]
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def serving(
    app: WSGIApp, port: int = 0, *, tls: LocalCA | None = None, keep_alive: bool = False
) -> Iterator[Server]:
    """Serve `app` on 127.0.0.1 (a free port when 0) for the length of the block."""
    server = Server(app, port, tls=tls, keep_alive=keep_alive)
    try:
        yield server
    finally:
        server.close()
