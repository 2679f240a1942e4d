"""One asyncio event loop in a daemon thread, so synchronous ports can drive async SDKs.

The ports are synchronous and the app calls them from a thread pool; msgraph-sdk is async only.
Each client of an async SDK is bound to the loop it was first used on (its connection pool
lives there), so every coroutine of the process runs on this one loop, started on first use.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started in a daemon thread on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed() or _thread is None or not _thread.is_alive():
            new_loop = asyncio.new_event_loop()
            ready = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(new_loop)
                new_loop.call_soon(ready.set)
                new_loop.run_forever()

            thread = threading.Thread(target=serve, name="connectors-loop", daemon=True)
            thread.start()
            ready.wait(timeout=5)
            _loop, _thread = new_loop, thread
        return _loop


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the shared loop and wait for its result; safe from any thread but the loop's.

    A timeout cancels the coroutine and raises `TimeoutError`.
    """
    target = loop()
    if _thread is threading.current_thread():
        coro.close()
        raise RuntimeError("run() was called from the connectors loop itself: await instead")
    future = asyncio.run_coroutine_threadsafe(coro, target)
    try:
        return future.result(timeout)
    except FutureTimeout as exc:
        future.cancel()
        raise TimeoutError(f"the call did not finish within {timeout} s") from exc
