"""Public test helpers for code that uses the connectors: a clock that moves only when told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
"""Where a `ManualClock` starts unless told otherwise: a Monday morning."""


class ManualClock:
    """A clock for `MemoryStore` and `LocalStore` that stands still until moved.

    Call it to read the time (aware, UTC), like the real clock.
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        """A clock showing `start` (aware; kept in UTC)."""
        self._now = _utc(start)

    def __call__(self) -> datetime:
        """The current instant, aware, in UTC."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by `delta` (not backwards) and return the new instant."""
        if delta < timedelta(0):
            raise ValueError(f"a clock only moves forward, got {delta}: use set() to go back")
        self._now += delta
        return self._now

    def set(self, instant: datetime) -> datetime:
        """Show `instant` from now on (aware, any zone; kept in UTC) and return it."""
        self._now = _utc(instant)
        return self._now


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"the clock needs an aware datetime, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)
