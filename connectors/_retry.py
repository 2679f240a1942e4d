"""One retry policy for every provider connector.

Connectors map a provider's answer into `connectors.errors` first, then hand the call to
`RetryPolicy.call`. Only `Throttled` and `Unavailable` are retried, and only for a call the
caller declares idempotent (a create carrying Graph's ``transactionId`` or a Google client id, a
Drive upload to a pre-generated id, any read). A delete, or a write guarded by If-Match, is
repeated through `RetryPolicy.call_resolving`: its repeat can meet its own lost success.

Waits honour the provider's Retry-After; without one they back off exponentially with full
jitter. Attempts and total time are both bounded, so a 429 storm ends in `Throttled` rather than
a hung request.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception

from connectors.errors import ConnectorError, Throttled, Unavailable

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may cure."""
    return isinstance(exc, Throttled | Unavailable)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a provider call that failed transiently.

    `attempts` counts the first try. `total` bounds the seconds spent waiting and trying: a wait
    that would pass it is not taken and the last error is raised. `sleep` and `now` are injectable
    so tests can record the waits instead of taking them.
    """

    attempts: int = 5
    total: float = 60.0
    base: float = 0.5
    cap: float = 16.0
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def wait_for(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if isinstance(error, Throttled) and error.retry_after is not None:
            return max(0.0, float(error.retry_after))
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling)

    def call(self, fn: Callable[[], T], *, idempotent: bool) -> T:
        """Run `fn`, retrying transient connector errors when the call is safe to repeat.

        The first try runs on its own; tenacity takes over only after a transient failure (its
        machinery cost 15-20 µs on every call that needed none of it).
        """
        if not idempotent or self.attempts <= 1:
            return fn()
        started = self.now()
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            first = exc
        pause = self.wait_for(1, first)
        if self.now() - started + pause > self.total:
            raise first
        self.sleep(pause)

        # tenacity counts from 1 again: its attempt n is our attempt n + 1.
        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.wait_for(state.attempt_number + 1, error)

        def stop(state: RetryCallState) -> bool:
            # tenacity draws the wait first, so the jittered wait checked here is the one taken.
            if state.attempt_number + 1 >= self.attempts:
                return True
            return self.now() - started + state.upcoming_sleep > self.total

        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop,
            wait=wait,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(fn)

    def call_resolving(
        self,
        fn: Callable[[], T],
        *,
        ambiguous: type[ConnectorError],
        resolve: Callable[[ConnectorError], T],
    ) -> T:
        """Run a write that is safe to repeat except for one answer a repeat can get.

        A retry after an attempt whose answer was lost can fail with `ambiguous` because that
        attempt did the work: a DELETE then finds nothing (NotFound), a write guarded by If-Match
        finds its own new version (Conflict). On a repeat, `resolve(error)` decides: it returns
        the result (after checking the work is really there) or raises. The first attempt's
        `ambiguous` error is the caller's, as it is.
        """
        attempts = 0

        def attempt() -> T:
            nonlocal attempts
            attempts += 1
            try:
                return fn()
            except ambiguous as exc:
                if attempts == 1:
                    raise
                return resolve(exc)

        return self.call(attempt, idempotent=True)


def slowest(errors: Iterable[ConnectorError]) -> ConnectorError:
    """Of transient errors, the one asking for the longest wait: one retry then suits them all."""
    return max(errors, key=lambda e: getattr(e, "retry_after", None) or 0.0)


NO_RETRY = RetryPolicy(attempts=1)
"""For tests and tools that want to see the first error."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
