"""Serve a WSGI emulator on 127.0.0.1 in a background thread, for real HTTP from the real SDKs."""

from __future__ import annotations

import threading
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


class _QuietHandler(WSGIRequestHandler):
    """Speaks HTTP/1.1 and logs nothing.

    werkzeug closes the connection after every response (no keep-alive), so each request pays a
    loopback connect; the benchmarks give raw clients the same handicap.
    """

    protocol_version = "HTTP/1.1"

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
    ) -> None:
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=tls.server_context() if tls else None,
        )
        self.port: int = self._server.server_port
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting requests and wait (bounded) for the serving thread to end."""
        self._server.shutdown()
        self._server.server_close()
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
def serving(app: WSGIApp, port: int = 0, *, tls: LocalCA | None = None) -> Iterator[Server]:
    """Serve `app` on 127.0.0.1 (a free port when 0) for the length of the block."""
    server = Server(app, port, tls=tls)
    try:
        yield server
    finally:
        server.close()
