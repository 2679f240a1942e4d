"""The ports: what the product needs from a calendar, a drive and a mail service.

Vocabulary, for every backend:

- A *calendar* is one user's calendar (as Graph's ``/me`` or Google's ``primary``). Events whose
  attendees include that user appear there too.
- An *event id* is opaque. An occurrence of a series has its own id; `Event.series_id` names the
  master. Changing or deleting one occurrence makes an exception; the rest of the series stays.
- An *etag* is an opaque version tag; every write changes it. Passing ``if_match`` makes a write
  fail with `Conflict` when the thing changed meanwhile.
- An *idempotency key* (Graph ``transactionId``, Google client-supplied id) makes a repeated create
  return the first result instead of a duplicate.
- A drive *folder* is a name under the app's own folder (OneDrive app folder, a Drive folder the
  app created); *name* is a file name inside it. A write to an existing name makes a new version.

Errors are always from `connectors.errors`: `NotFound`, `Conflict`, `AuthExpired`, `Throttled`,
`Unavailable`, `InvalidRequest`, all `ConnectorError`.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol, runtime_checkable

from connectors.models import (
    AttachmentInfo,
    Busy,
    Event,
    EventPatch,
    File,
    FileInfo,
    Mail,
    NewEvent,
    SentMail,
)


@runtime_checkable
class Calendar(Protocol):
    """One user's calendar."""

    @property
    def owner(self) -> str:
        """The email address of the calendar's user."""
        ...

    def create_event(self, event: NewEvent, *, idempotency_key: str) -> Event:
        """Create an event or series; the same key again returns the first event, unchanged."""
        ...

    def get_event(self, event_id: str) -> Event:
        """The event or occurrence with this id; `NotFound` if it is gone."""
        ...

    def update_event(
        self, event_id: str, patch: EventPatch, *, if_match: str | None = None
    ) -> Event:
        """Change an event, a whole series (master id) or one occurrence (an exception)."""
        ...

    def delete_event(self, event_id: str, *, if_match: str | None = None) -> None:
        """Delete an event or series (master id), or cancel one occurrence."""
        ...

    def find_event(self, ical_uid: str) -> Event | None:
        """This calendar's copy of a meeting (single event or series master) by its iCalUId.

        Every copy of a meeting (the organizer's, each attendee's) shares the iCalUId while its
        id may differ. None when there is no copy (yet: an invitation may still be on its way),
        or when it was deleted.
        """
        ...

    def instances(self, series_id: str, start: datetime, end: datetime) -> list[Event]:
        """Occurrences of a series starting in [start, end), exceptions applied, no cancelled."""
        ...

    def events(self, start: datetime, end: datetime) -> list[Event]:
        """Every event in the calendar overlapping [start, end), series expanded, by start."""
        ...

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Busy]]:
        """Busy intervals of each address in [start, end); an unknown address gets an empty list."""
        ...

    def add_attachment(
        self, event_id: str, name: str, content: bytes, content_type: str
    ) -> AttachmentInfo:
        """Attach a file to an event; an attachment with the same name is replaced."""
        ...

    def get_attachment(self, event_id: str, attachment_id: str) -> bytes:
        """The bytes of an attachment."""
        ...


@runtime_checkable
class Drive(Protocol):
    """The app's own folder in one user's drive."""

    def put(
        self,
        folder: str,
        name: str,
        content: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> FileInfo:
        """Write a file (creating the folder as needed).

        ``if_match`` writes only over that etag; ``if_none_match`` only if the name is new.
        Either failing raises `Conflict` and writes nothing.
        """
        ...

    def get(self, folder: str, name: str) -> File:
        """The newest version of a file; `NotFound` if there is none."""
        ...

    def stat(self, folder: str, name: str) -> FileInfo:
        """A file's metadata without its bytes."""
        ...

    def list(self, folder: str) -> list[FileInfo]:
        """The files in a folder, by name; an unknown folder is empty."""
        ...

    def folders(self) -> builtins.list[str]:
        """The folder names in the app's folder, sorted."""
        ...

    def versions(self, folder: str, name: str) -> builtins.list[FileInfo]:
        """Every kept version of a file, oldest first."""
        ...

    def get_version(self, folder: str, name: str, version: int) -> File:
        """One earlier version of a file."""
        ...

    def delete(self, folder: str, name: str, *, if_match: str | None = None) -> None:
        """Delete a file and its versions."""
        ...


@runtime_checkable
class Mailer(Protocol):
    """Sends mail as one user."""

    def send(self, mail: Mail) -> SentMail:
        """Send a message, at most once: a send that may have gone out raises `SendUncertain`
        and is not repeated. The providers read no mailbox, so a `Mail.key` sent again goes
        again; the local and memory stores answer it from their outbox."""
        ...


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
"""Working days as RFC 5545 weekday codes, Monday first."""


@dataclass(frozen=True, slots=True)
class DirectoryHours:
    """When someone works: `days` (RFC 5545 codes, Monday first) from `start` to `end` (local)."""

    days: tuple[str, ...]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class DirectoryPerson:
    """A person as the directory knows them: address (lower case), name, IANA zone, hours,
    and the day they joined the organisation.

    `tz` is empty, `hours` and `joined` None when the directory does not say.
    """

    email: str
    name: str = ""
    tz: str = ""
    hours: DirectoryHours | None = None
    joined: date | None = None


@runtime_checkable
class Directory(Protocol):
    """The organisation's directory: who someone is, their manager, the groups they are in.

    Addresses are matched in any case. A person the directory does not know, or a directory that
    does not say, gives None; a directory that cannot be reached raises `ConnectorError`.
    """

    def manager_of(self, email: str) -> str | None:
        """The address (lower case) of the person's manager, or None."""
        ...

    def person(self, email: str) -> DirectoryPerson | None:
        """The person's name, zone and working hours, or None when unknown."""
        ...

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """Every (employee, manager) the directory knows, lower case, by employee; read as
        `reader` where the directory is read with a person's own access (empty: its own)."""
        ...

    def is_member(self, email: str, group: str) -> bool:
        """Whether the person is in `group` (its address, or an id where the provider has
        them); an unknown person or group is False, an unreachable directory raises."""
        ...
