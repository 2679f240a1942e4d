"""Pieces every part of the Graph emulator shares: errors, ids, time formats, zones."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Response

from cadence.errors import UnknownTimeZone
from cadence.recurrence import WINDOWS_ZONES, iana_zone
from cadence.zones import zone


@dataclass
class GraphError(Exception):
    """An error answer: status, OData code and message, and extra headers (Retry-After...)."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def not_found(what: str = "event") -> GraphError:
    """Exchange's 404 for a mailbox item that is not there."""
    return (
        GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if what != "drive"
        else GraphError(404, "itemNotFound", "The resource could not be found.")
    )


def bad_request(message: str, code: str = "ErrorInvalidRequest") -> GraphError:
    """A 400 with Exchange's generic code unless a more precise one is given."""
    return GraphError(400, code, message)


def new_id(kind: bytes = b"\x00") -> str:
    """An opaque Exchange-looking id (base64 with padding; URL-safe so it fits a path)."""
    return "AAMkAD" + base64.urlsafe_b64encode(kind + secrets.token_bytes(16)).decode()


def change_key(*parts: object) -> str:
    """A changeKey derived from what makes this version distinct."""
    digest = hashlib.sha256(repr(parts).encode()).digest()[:16]
    return base64.b64encode(digest).decode()


GOID_CLASS = "040000008200E00074C5B7101A82E008"
"""The 16 bytes that open every Exchange Global Object ID ([MS-OXOCAL] 2.2.1.27), in hex."""
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def ical_uid(now: datetime | None = None) -> str:
    """A new meeting's iCalUId: its Global Object ID in hex, as Graph shows it.

    The class id, a zero instance date (a series or single meeting), the creation time as a
    FILETIME, eight reserved zero bytes, and a 16-byte random id with its size.
    """
    created = (now or datetime.now(UTC)).astimezone(UTC)
    ticks = int((created - _FILETIME_EPOCH).total_seconds() * 10_000_000)
    return (
        GOID_CLASS
        + "00000000"
        + ticks.to_bytes(8, "little").hex()
        + "00" * 8
        + (16).to_bytes(4, "little").hex()
        + secrets.token_hex(16)
    ).upper()


def occurrence_ical_uid(uid: str, original: datetime) -> str:
    """An occurrence's iCalUId: the series' with the occurrence's original date in it.

    Graph documents the iCalUId as different for each occurrence of a series: it is the
    occurrence's Global Object ID, whose year (2 bytes, big-endian), month and day are those of
    the original start in UTC (PidLidExceptionReplaceTime); the master's are zero
    ([MS-OXOCAL] 2.2.1.27, 2.2.1.28).
    """
    day = original.astimezone(UTC)
    return f"{uid[:32]}{day.year:04X}{day.month:02X}{day.day:02X}{uid[40:]}"


def utc_stamp(instant: datetime) -> str:
    """A DateTimeOffset as Graph writes it: UTC with 7 fraction digits and Z."""
    value = instant.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"


def short_stamp(instant: datetime) -> str:
    """A UTC DateTimeOffset without fraction (as originalStart and drive dates come)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


NO_TIME = "0001-01-01T00:00:00Z"
"""Graph's placeholder for a response time that never happened."""


def resolve_zone(name: str) -> str:
    """The IANA zone for a Windows or IANA name; unknown -> Graph's 400."""
    try:
        return iana_zone(name)
    except UnknownTimeZone as exc:
        raise GraphError(
            400,
            "TimeZoneNotSupportedException",
            "A valid TimeZone value must be specified. The following TimeZone value is not "
            f"supported: '{name}'.",
        ) from exc


def zone_info(name: str) -> ZoneInfo:
    """The ZoneInfo for a Windows or IANA name (which must already be valid)."""
    return zone(resolve_zone(name))


def is_zone(name: str) -> bool:
    """True for a Windows or IANA zone name this emulator knows."""
    if name in WINDOWS_ZONES:
        return True
    try:
        zone(name)
    except UnknownTimeZone:
        return False
    return True


def parse_local(value: Any, what: str) -> datetime:
    """A naive local datetime from a dateTimeTimeZone's dateTime (fraction digits allowed)."""
    if not isinstance(value, str) or not value:
        raise bad_request(f"{what}.dateTime is required.")
    text = value.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{(frac + '000000')[:6]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise bad_request(f"{what}.dateTime is not a valid date and time: {value!r}") from exc
    return parsed.replace(tzinfo=None)


def date_time_zone(instant: datetime, zone_name: str) -> dict[str, str]:
    """A dateTimeTimeZone in the zone the caller asked for, as Graph writes it."""
    local = instant.astimezone(zone_info(zone_name))
    return {
        "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0",
        "timeZone": zone_name,
    }


def parse_instant(value: Any, what: str) -> datetime:
    """An aware instant from an ISO 8601 query value (a bare one is UTC, as Graph takes it)."""
    if not isinstance(value, str) or not value:
        raise bad_request(f"The parameter '{what}' is required.", "ErrorInvalidParameter")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise bad_request(
            f"The parameter '{what}' has an invalid value: {value}", "ErrorInvalidParameter"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer with Graph's content type."""
    body = json.dumps(data, ensure_ascii=False).encode()
    return Response(body, status=status, headers=dict(headers or {}), content_type=_JSON)


def param(body: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """An action parameter, matched case-insensitively as Graph does.

    msgraph-sdk writes action parameters in PascalCase (``Message``, ``Schedules``).
    """
    for key, value in body.items():
        if key.lower() == name.lower():
            return value
    return default
