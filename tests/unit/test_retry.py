"""The one retry policy: which errors it retries, how long it waits, and where it stops."""

from __future__ import annotations

import random

import pytest

from connectors._retry import RetryPolicy
from connectors.errors import Conflict, NotFound, Throttled, Unavailable


class Flaky:
    """Fails with the given errors in turn, then returns 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def policy(waits: list[float], **kwargs: float) -> RetryPolicy:
    """A policy that records its waits instead of sleeping, on a clock the waits advance."""
    clock = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    return RetryPolicy(sleep=sleep, now=lambda: clock[0], rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


def test_retry_after_is_honoured_exactly() -> None:
    """Three 429s with Retry-After then success: one success, the three waits as asked."""
    waits: list[float] = []
    call = Flaky(Throttled("slow", 2), Throttled("slow", 1), Throttled("slow", 3))
    assert policy(waits).call(call, idempotent=True) == "ok"
    assert (call.calls, waits) == (4, [2, 1, 3])


def test_backoff_without_retry_after_grows_with_jitter_under_the_cap() -> None:
    """5xx without Retry-After waits a random time under base * 2**n, never above the cap."""
    waits: list[float] = []
    errors = [Unavailable("502")] * 5
    with pytest.raises(Unavailable):
        policy(waits, attempts=6, base=1, cap=4).call(
            Flaky(*errors, Unavailable("x")), idempotent=True
        )
    assert len(waits) == 5
    for n, wait in enumerate(waits):
        assert 0 <= wait <= min(4, 2**n)


def test_non_idempotent_call_is_tried_once() -> None:
    """A call that is not safe to repeat raises the first transient error as it is."""
    waits: list[float] = []
    call = Flaky(Throttled("slow", 1))
    with pytest.raises(Throttled):
        policy(waits).call(call, idempotent=False)
    assert (call.calls, waits) == (1, [])


@pytest.mark.parametrize("error", [NotFound("gone"), Conflict("stale")])
def test_permanent_errors_are_not_retried(error: Exception) -> None:
    """NotFound and Conflict go straight to the caller."""
    waits: list[float] = []
    call = Flaky(error)
    with pytest.raises(type(error)):
        policy(waits).call(call, idempotent=True)
    assert call.calls == 1


def test_attempts_bound_a_storm() -> None:
    """An endless 429 storm ends after the set number of attempts with Throttled."""
    waits: list[float] = []
    call = Flaky(*[Throttled("slow", 1)] * 50)
    with pytest.raises(Throttled):
        policy(waits, attempts=4).call(call, idempotent=True)
    assert (call.calls, waits) == (4, [1, 1, 1])


def test_total_time_bounds_a_long_retry_after() -> None:
    """A Retry-After that would pass the time budget is not waited for."""
    waits: list[float] = []
    call = Flaky(Throttled("slow", 5), Throttled("slow", 120))
    with pytest.raises(Throttled) as caught:
        policy(waits, total=60).call(call, idempotent=True)
    assert caught.value.retry_after == 120
    assert (call.calls, waits) == (2, [5])


def test_a_repeat_meeting_its_own_lost_success_is_resolved() -> None:
    """A delete retried after a lost answer finds nothing: resolve says it is done."""
    waits: list[float] = []
    call = Flaky(Unavailable("answer lost"), NotFound("gone"))
    resolved = policy(waits).call_resolving(call, ambiguous=NotFound, resolve=lambda e: "done")
    assert (resolved, call.calls) == ("done", 2)


def test_the_first_attempts_ambiguous_error_is_the_callers() -> None:
    """Without an earlier attempt, NotFound means the thing was never there."""
    waits: list[float] = []
    with pytest.raises(NotFound):
        policy(waits).call_resolving(
            Flaky(NotFound("gone")), ambiguous=NotFound, resolve=lambda e: "done"
        )


def test_slowest_asks_for_the_longest_wait() -> None:
    """Of several throttles, the one with the longest Retry-After."""
    from connectors._retry import slowest

    errors = [Throttled("a", 1), Unavailable("b"), Throttled("c", 5)]
    assert slowest(errors) is errors[2]
