"""The app's "now": aware UTC real time (the demo brings its own movable clock)."""

from __future__ import annotations

from datetime import UTC, datetime


def real_now() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)
