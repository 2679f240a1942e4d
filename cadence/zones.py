"""IANA zones by name, with one clear error for a name that is not one."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cadence.errors import CadenceError, UnknownTimeZone


@cache
def zone(name: str) -> ZoneInfo:
    """The `ZoneInfo` for an IANA name such as ``Europe/Amsterdam``.

    Raises `UnknownTimeZone` naming the zone; a path-like or empty name is refused too.
    """
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise UnknownTimeZone(_message(name))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(_message(name)) from exc


def _message(name: str) -> str:
    return f"unknown time zone {name!r}: use an IANA name such as Europe/Amsterdam"


def require_aware(value: datetime, name: str) -> None:
    """Refuse a naive datetime where an instant is needed; `name` says which argument it was."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CadenceError(f"{name} must be an aware datetime (with a time zone), got {value!r}")
