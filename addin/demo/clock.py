"""The demo's clock: real time plus an offset the host preview can move, kept across restarts.

"The meeting ends" in the demo is a button that moves this clock; everything that asks the app for
"now" (the side panel's state, the planner) follows it. The product uses real time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from addin.clock import real_now
from connectors._files import write_atomically

CLOCK_FILE = "demo-clock.json"
MAX_OFFSET = timedelta(days=3 * 366)


class DemoClock:
    """Callable clock: ``base() + offset``; the offset lives in ``<data_dir>/demo-clock.json``."""

    def __init__(self, data_dir: Path, *, base: Callable[[], datetime] = real_now) -> None:
        self._path = Path(data_dir) / CLOCK_FILE
        self._base = base
        self._lock = threading.Lock()
        self._offset = self._load()

    def __call__(self) -> datetime:
        return self._base() + self._offset

    @property
    def offset(self) -> timedelta:
        """How far the demo runs ahead of real time."""
        return self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward (or back) by `delta`; returns the new now."""
        return self._store(self._offset + delta)

    def set(self, instant: datetime) -> datetime:
        """Move the clock to `instant` (aware)."""
        if instant.tzinfo is None:
            raise ValueError("the demo clock needs an aware instant")
        return self._store(instant - self._base())

    def reset(self) -> datetime:
        """Back to real time."""
        return self._store(timedelta(0))

    def _store(self, offset: timedelta) -> datetime:
        if abs(offset) > MAX_OFFSET:
            raise ValueError("the demo clock moves at most three years from today")
        with self._lock:
            self._offset = offset
            data = json.dumps({"offset_seconds": offset.total_seconds()}).encode()
            write_atomically(self._path, data, mode=0o600)
        return self()

    def _load(self) -> timedelta:
        try:
            seconds = float(json.loads(self._path.read_text())["offset_seconds"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return timedelta(0)
        offset = timedelta(seconds=seconds)
        return offset if abs(offset) <= MAX_OFFSET else timedelta(0)
