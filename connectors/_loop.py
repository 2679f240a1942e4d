"""One asyncio event loop for the process, run by whichever thread is waiting on it.

The ports are synchronous and the app calls them from a thread pool; msgraph-sdk is async only.
Each client of an async SDK is bound to the loop it was first used on (its connection pool
lives there), so every coroutine of the process runs on this one loop.

No thread owns the loop. A caller schedules its coroutine, then runs the loop itself until its
own result is in, unless another caller is running it already: then it waits, and takes over
when that caller stops. A call from one thread costs no hand-over between threads (a waking
loop thread and a waking caller: about 0.2 ms a call on two cores); calls from many threads
still run concurrently on the one loop. A thread already inside a running loop (a sync driver
built on asyncio, say) cannot run another, so its call is run from a short-lived thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_running = threading.Lock()
"""Held by the thread running the loop."""
_turn = threading.Condition()
"""Notified when a call's result is in or the running thread stops."""


def _forked() -> None:
    """A forked child (a server worker) starts afresh: the parent's loop shares its epoll and
    wake-up descriptors, and a lock held at the fork would be held for good."""
    global _lock, _loop, _running, _turn
    _lock, _loop = threading.Lock(), None
    _running, _turn = threading.Lock(), threading.Condition()


os.register_at_fork(after_in_child=_forked)


def loop() -> asyncio.AbstractEventLoop:
    """The shared loop (made on first use; it runs only while someone waits on it)."""
    global _loop  # noqa: PLW0603
    with _lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
        return _loop


async def _bounded(coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
    if timeout is None:
        return await coro
    try:
        # A deadline on this task, not `wait_for`'s task of its own: fewer turns of the loop.
        async with asyncio.timeout(timeout):
            return await coro
    except TimeoutError as exc:
        raise TimeoutError(f"the call did not finish within {timeout} s") from exc


def _wake(_: object) -> None:
    with _turn:
        _turn.notify_all()


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the shared loop and wait for its result; safe from any thread.

    A timeout cancels the coroutine and raises `TimeoutError`.
    """
    target = loop()
    try:
        inside = asyncio.get_running_loop()
    except RuntimeError:
        inside = None
    if inside is target:
        coro.close()
        raise RuntimeError("run() was called from the connectors loop itself: await instead")
    if inside is not None:
        return _from_another_thread(coro, timeout)
    if _running.acquire(blocking=False):
        try:
            return target.run_until_complete(_bounded(coro, timeout))
        finally:
            _running.release()
            _wake(None)
    future = asyncio.run_coroutine_threadsafe(_bounded(coro, timeout), target)
    future.add_done_callback(_wake)
    while not future.done():
        if _running.acquire(blocking=False):
            try:
                if not future.done():
                    target.run_until_complete(asyncio.wrap_future(future, loop=target))
            finally:
                _running.release()
                _wake(None)
        else:
            with _turn:
                if not future.done() and _running.locked():
                    _turn.wait(timeout=1.0)
    return future.result()


def _from_another_thread(coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
    done: Future[T] = Future()

    def call() -> None:
        try:
            done.set_result(run(coro, timeout))
        except BaseException as exc:  # handed to the caller
            done.set_exception(exc)

    threading.Thread(target=call, name="connectors-call", daemon=True).start()
    return done.result()
