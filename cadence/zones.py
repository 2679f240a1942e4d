"""IANA zones by name, with one clear error for a name that is not one."""

from __future__ import annotations

import os
import zoneinfo
from datetime import datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cadence.errors import CadenceError, UnknownTimeZone

_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})
"""Files in the zone database that are no place's time: the server's own, a placeholder."""

_NOT_PLACES = ("posix/", "right/")
"""Copies of the database (leap-second and POSIX variants), not names a person has."""


@cache
def zone(name: str) -> ZoneInfo:
    """The `ZoneInfo` for an IANA name such as ``Europe/Amsterdam``.

    Raises `UnknownTimeZone` naming the zone; a path-like or empty name is refused too.
    """
    if not name or name.startswith(("/", ".", *_NOT_PLACES)) or ".." in name or name in _NOT_ZONES:
        raise UnknownTimeZone(_message(name), code="unknown_zone", name=repr(name[:64]))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Europe" is a directory
        raise UnknownTimeZone(_message(name), code="unknown_zone", name=repr(name[:64])) from exc


@lru_cache(maxsize=512)
def canonical_zone(name: str) -> str:
    """The IANA name `name` spelled as the zone database spells it: ``utc`` -> ``UTC``.

    People type zone names in any case; calendars want them exact. An exact name is returned as
    it is (``Etc/UTC`` stays ``Etc/UTC``); raises `UnknownTimeZone` when no spelling matches.
    Answers are kept per name (every event read asks for its zone's spelling).
    """
    if _spelled_as_a_file(name):
        zone(name)
        return name
    found = _by_folded_name().get(name.strip().casefold(), name)
    zone(found)
    return found


def _spelled_as_a_file(name: str) -> bool:
    """True when a zone file is named exactly `name` in the system's zone database: a few
    directory listings, where the full listing (`_by_folded_name`) opens every file once."""
    parts = name.split("/")
    if not name or any(p in ("", ".", "..") for p in parts):
        return False
    for root in zoneinfo.TZPATH:
        path = root
        for part in parts:
            if part not in _listing(path):
                break
            path = os.path.join(path, part)
        else:
            if os.path.isfile(path):
                return True
    return False


@cache
def _listing(directory: str) -> frozenset[str]:
    try:
        return frozenset(os.listdir(directory))
    except OSError:
        return frozenset()


@cache
def _by_folded_name() -> dict[str, str]:
    # Read once: the listing walks the zone database. A case-insensitive file system would load
    # "utc" as it is, so the listing, not a load, decides the spelling.
    return {name.casefold(): name for name in available_timezones()}


def _message(name: str) -> str:
    return f"unknown time zone {name!r}: use an IANA name such as Europe/Amsterdam"


def require_aware(value: datetime, name: str) -> None:
    """Refuse a naive datetime where an instant is needed; `name` says which argument it was."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CadenceError(f"{name} must be an aware datetime (with a time zone), got {value!r}")
