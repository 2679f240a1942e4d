"""An httpcore network backend on plain asyncio streams, for the Graph connector's one loop.

httpcore reaches asyncio through anyio by default: every read and write passes anyio's stream
and cancel-scope layers, and each connect runs a task group for happy eyeballs. The connector
runs on one asyncio loop (`connectors._loop`), so it talks to asyncio's streams directly,
through httpcore's documented `AsyncNetworkBackend` interface; timeouts and errors map to
httpcore's own exceptions exactly as its anyio backend maps them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
from httpcore import (
    AsyncNetworkBackend,
    AsyncNetworkStream,
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)

_STREAM_LIMIT = 2**20
"""asyncio's reader buffer; httpcore asks for at most 64 KiB a read."""


@contextlib.contextmanager
def _mapped(timeout_as: type[Exception], error_as: type[Exception]) -> Iterator[None]:
    try:
        yield
    except TimeoutError as exc:
        raise timeout_as(str(exc) or "timed out") from exc
    except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
        raise error_as(str(exc) or type(exc).__name__) from exc


def _deadline(timeout: float | None) -> contextlib.AbstractAsyncContextManager[Any]:
    return asyncio.timeout(timeout) if timeout is not None else contextlib.nullcontext()


class AsyncioStream(AsyncNetworkStream):
    """One connection: an asyncio `StreamReader` and `StreamWriter`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped(ReadTimeout, ReadError):
            async with _deadline(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _mapped(WriteTimeout, WriteError):
            async with _deadline(timeout):
                self._writer.write(buffer)
                await self._writer.drain()

    async def aclose(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await self._writer.wait_closed()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        try:
            with _mapped(ConnectTimeout, ConnectError):
                async with _deadline(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except BaseException:
            await self.aclose()
            raise
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            # What httpcore asks before reusing a kept connection: readable while idle means
            # the server closed it (or sent something unasked), so it is not reused.
            if self._reader.at_eof() or self._writer.is_closing():
                return True
            if self._reader._buffer:  # type: ignore[attr-defined]
                return True
            sock = self._writer.get_extra_info("socket")
            return sock is None or httpcore._utils.is_socket_readable(sock)
        return None


class AsyncioBackend(AsyncNetworkBackend):
    """Connects with `asyncio.open_connection`; the loop sets TCP_NODELAY itself."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        with _mapped(ConnectTimeout, ConnectError):
            async with _deadline(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                    limit=_STREAM_LIMIT,
                )
        sock: socket.socket | None = writer.get_extra_info("socket")
        if sock is not None:
            for option in socket_options or ():
                sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> AsyncNetworkStream:
        with _mapped(ConnectTimeout, ConnectError):
            async with _deadline(timeout):
                reader, writer = await asyncio.open_unix_connection(path, limit=_STREAM_LIMIT)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
