"""Neutral models shared by every connector: no provider's field names leak past the adapters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from cadence.recurrence import Rule

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Attendee:
    """Someone invited to an event; `response` is none, accepted, tentative or declined."""

    email: str
    name: str = ""
    response: str = "none"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to create. `start`/`end` are aware; `tz` is the IANA zone it is planned in.

    `recurrence` makes it a series master; `properties` are our own ids, stored by the provider
    (Graph single-value extended properties, Google `extendedProperties`) so an opened event maps
    back to its series.
    """

    subject: str
    start: datetime
    end: datetime
    tz: str
    organizer: str
    attendees: tuple[Attendee, ...] = ()
    body_html: str = ""
    location: str = ""
    online: bool = False
    recurrence: Rule | None = None
    properties: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class EventPatch:
    """Fields to change on an event or one occurrence; None leaves a field as it is.

    `recurrence` on a series master replaces its rule (to end a series, pass
    `Rule.ending_before`); occurrences are expanded anew and exceptions on dates the new rule no
    longer has are dropped.
    """

    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    body_html: str | None = None
    location: str | None = None
    online: bool | None = None
    attendees: tuple[Attendee, ...] | None = None
    properties: Mapping[str, str] | None = None
    recurrence: Rule | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """An event as the provider holds it.

    For an occurrence of a series, `series_id` is the master's id and `original_start` the start the
    rule gave it (kept when the occurrence is moved). `etag` changes on every write.
    """

    id: str
    subject: str
    start: datetime
    end: datetime
    tz: str
    organizer: str
    etag: str
    ical_uid: str
    attendees: tuple[Attendee, ...] = ()
    body_html: str = ""
    location: str = ""
    online: bool = False
    recurrence: Rule | None = None
    series_id: str | None = None
    original_start: datetime | None = None
    cancelled: bool = False
    properties: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    attachments: tuple[AttachmentInfo, ...] = ()
    web_link: str = ""
    """Where the event opens in the provider's web calendar for the calendar's owner (Graph's
    ``webLink``, Google's ``htmlLink``); empty when the provider gave none."""

    @property
    def is_series_master(self) -> bool:
        """True for the event that carries the recurrence."""
        return self.recurrence is not None


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """A file attached to an event (Graph file attachment, Google Drive attachment)."""

    id: str
    name: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Busy:
    """One busy interval from free/busy; aware instants, end exclusive."""

    start: datetime
    end: datetime
    status: str = "busy"


def windows(start: datetime, end: datetime, most: timedelta) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive spans of at most `most` (the providers' free/busy
    answers a limited span at once)."""
    spans: list[tuple[datetime, datetime]] = []
    low = start
    while low < end and len(spans) < 1000:
        high = min(low + most, end)
        spans.append((low, high))
        low = high
    return spans or [(start, end)]


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A file in the app's folder of a drive; `etag` changes on every write, `version` counts."""

    id: str
    folder: str
    name: str
    etag: str
    version: int
    size: int
    content_type: str
    modified: datetime


@dataclass(frozen=True, slots=True)
class File:
    """A file's metadata and its bytes."""

    info: FileInfo
    content: bytes


@dataclass(frozen=True, slots=True)
class Mail:
    """A message to send. `key` makes sending idempotent where the backend supports it."""

    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str = ""
    key: str = ""


@dataclass(frozen=True, slots=True)
class SentMail:
    """A message as the outbox recorded it."""

    id: str
    mail: Mail
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class KnownPerson:
    """A person a directory knows: the name and IANA time zone of an address (lower case)."""

    email: str
    name: str
    tz: str


def https_link(value: object) -> str:
    """A provider's web link when it is an https URL without controls or spaces, else ""."""
    if not isinstance(value, str) or len(value) > 2048 or not value.startswith("https://"):
        return ""
    if any(ch.isspace() or ord(ch) < 0x20 or ch in '"<>\\' for ch in value):
        return ""
    return value
