"""The connectors' one asyncio loop, run by whichever caller waits on it.

Calls from many threads run concurrently on it; a short call never waits for a long one; a
timeout cancels; a thread inside a running loop of its own still gets its answer; the loop
itself may not call in.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors import _loop


async def _sleep_then(seconds: float, value: str) -> str:
    await asyncio.sleep(seconds)
    return value


def test_many_threads_share_one_loop() -> None:
    """Coroutines from 16 threads all run on the one loop and return their results."""

    async def where(n: int) -> tuple[int, bool]:
        await asyncio.sleep(0.01)
        return n, asyncio.get_running_loop() is _loop.loop()

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: _loop.run(where(n), timeout=5), range(64)))
    assert results == [(n, True) for n in range(64)]


def test_calls_from_many_threads_run_concurrently() -> None:
    began = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: _loop.run(_sleep_then(0.3, str(i)), 5), range(8)))
    assert answers == [str(i) for i in range(8)]
    assert time.monotonic() - began < 0.3 * 4  # one after another would take 2.4 s


def test_a_short_call_does_not_wait_for_a_long_one_running_the_loop() -> None:
    long = threading.Thread(target=_loop.run, args=(_sleep_then(1.5, "long"), 5))
    long.start()
    time.sleep(0.1)  # the long call's thread is running the loop now
    began = time.monotonic()
    assert _loop.run(_sleep_then(0.05, "short"), 5) == "short"
    assert time.monotonic() - began < 1.0
    long.join(5)


def test_a_waiting_call_takes_over_when_the_running_one_ends() -> None:
    first = threading.Thread(target=_loop.run, args=(_sleep_then(0.1, "first"), 5))
    first.start()
    time.sleep(0.02)
    assert _loop.run(_sleep_then(0.4, "second"), 5) == "second"
    first.join(5)


def test_a_timeout_cancels_the_call() -> None:
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"within 0\.1 s"):
        _loop.run(slow(), 0.1)
    assert cancelled.is_set()


def test_an_error_reaches_the_caller() -> None:
    async def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _loop.run(fail(), 5)


def test_a_thread_inside_its_own_running_loop_gets_its_answer() -> None:
    """A sync driver built on asyncio (a browser test's) keeps a loop running in its thread."""

    async def inside() -> str:
        return _loop.run(_sleep_then(0.01, "answered"), 5)

    with ThreadPoolExecutor(1) as fresh:  # this thread may have such a driver's loop already
        assert fresh.submit(asyncio.run, inside()).result(10) == "answered"


def test_the_loop_itself_may_not_call_in() -> None:
    async def nested() -> None:
        _loop.run(_sleep_then(0, "never"), 5)

    with pytest.raises(RuntimeError, match="await instead"):
        _loop.run(nested(), 5)


def test_a_forked_child_runs_a_loop_of_its_own() -> None:
    """A server worker forked while the parent was running the loop still gets answers."""
    parent = _loop.loop()
    read, write = os.pipe()
    holding = threading.Thread(target=_loop.run, args=(_sleep_then(1.0, "parent"), 5))
    holding.start()
    time.sleep(0.1)  # the parent's loop is running in that thread at the fork
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, then leave at once
        try:
            ok = _loop.run(_sleep_then(0.01, "child"), 5) == "child"
            ok = ok and _loop.loop() is not parent
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    try:
        answered, _, _ = select.select([read], [], [], 10)
        if not answered:
            os.kill(pid, signal.SIGKILL)
        assert answered and os.read(read, 1) == b"1", "the child got no answer"
    finally:
        os.close(read)
        os.waitpid(pid, 0)
        holding.join(5)
