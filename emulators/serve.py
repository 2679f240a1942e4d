"""Serve a WSGI emulator on 127.0.0.1 in a background thread, for real HTTP from the real SDKs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from emulators._wsgi import WSGIApp


class _QuietHandler(WSGIRequestHandler):
    """Speaks HTTP/1.1 and logs nothing.

    werkzeug closes the connection after every response (no keep-alive), so each request pays a
    loopback connect; the benchmarks give raw clients the same handicap.
    """

    protocol_version = "HTTP/1.1"

    def log(self, type: str, message: str, *args: object) -> None:
        """Requests are not logged: tests and benchmarks make thousands."""


class Server:
    """A running emulator: `url` is its base (``http://127.0.0.1:PORT``); `close` stops it."""

    def __init__(self, app: WSGIApp, port: int = 0, *, host: str = "127.0.0.1") -> None:
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self.port: int = self._server.server_port
        self.url = f"http://{host}:{self.port}"
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
def serving(app: WSGIApp, port: int = 0) -> Iterator[Server]:
    """Serve `app` on 127.0.0.1 (a free port when 0) for the length of the block."""
    server = Server(app, port)
    try:
        yield server
    finally:
        server.close()
