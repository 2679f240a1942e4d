"""IANA zones by name, with one clear error for a name that is not one."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cadence.errors import UnknownTimeZone


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
