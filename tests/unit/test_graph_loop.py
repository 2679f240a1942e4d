"""The one event loop the Graph connectors share, called from many threads."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors import _loop


def test_many_threads_share_one_loop() -> None:
    """Coroutines from 16 threads all run, on the same loop thread, and return their results."""

    async def where(n: int) -> tuple[int, str]:
        await asyncio.sleep(0.01)
        return n, threading.current_thread().name

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: _loop.run(where(n), timeout=5), range(64)))
    assert [n for n, _ in results] == list(range(64))
    assert {name for _, name in results} == {"connectors-loop"}


def test_timeout_cancels_the_coroutine() -> None:
    """A coroutine past its timeout raises TimeoutError and is cancelled."""
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        _loop.run(slow(), timeout=0.05)
    assert cancelled.wait(2)


def test_errors_pass_through() -> None:
    """An exception inside the coroutine reaches the caller unchanged."""

    async def fail() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        _loop.run(fail(), timeout=5)
