"""Ports that speak the contract's example addresses to a tenant whose users have other ones.

The contract suite plans meetings between ada@, bob@ and cy@example.org. A real tenant has its own
test users, so the live suite wraps each port: addresses are renamed on the way in and back on the
way out, and every event and file a test makes is remembered so the tenant is left as it was.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from connectors.errors import NotFound
from connectors.models import (
    AttachmentInfo,
    Attendee,
    Busy,
    Event,
    EventPatch,
    File,
    FileInfo,
    Mail,
    NewEvent,
    SentMail,
)
from connectors.ports import Calendar, Drive, Mailer


class Names:
    """A two-way map between the contract's addresses and the tenant's."""

    def __init__(self, to_tenant: Mapping[str, str]) -> None:
        self._in = {k.lower(): v for k, v in to_tenant.items()}
        self._out = {v.lower(): k for k, v in to_tenant.items()}

    def inward(self, email: str) -> str:
        """The tenant's address for a contract address (others pass unchanged)."""
        return self._in.get(email.lower(), email)

    def outward(self, email: str) -> str:
        """The contract's address for a tenant address (others pass unchanged)."""
        return self._out.get(email.lower(), email)

    def sent(self, sent: SentMail) -> SentMail:
        """A sent mail with contract addresses."""
        mail = sent.mail
        outward = replace(
            mail, sender=self.outward(mail.sender), to=tuple(self.outward(t) for t in mail.to)
        )
        return replace(sent, mail=outward)

    def attendees(
        self, people: Sequence[Attendee], way: Callable[[str], str]
    ) -> tuple[Attendee, ...]:
        """Attendees with each address mapped one way."""
        return tuple(replace(a, email=way(a.email)) for a in people)


class RenamedCalendar:
    """A `Calendar` whose addresses are renamed; remembers what it created."""

    def __init__(self, inner: Calendar, names: Names, created: list[tuple[Calendar, str]]) -> None:
        self._inner = inner
        self._names = names
        self._created = created

    @property
    def owner(self) -> str:
        """The contract address of the calendar's user."""
        return self._names.outward(self._inner.owner)

    def _out(self, event: Event) -> Event:
        n = self._names
        return replace(
            event,
            organizer=n.outward(event.organizer),
            attendees=n.attendees(event.attendees, n.outward),
        )

    def create_event(self, event: NewEvent, *, idempotency_key: str) -> Event:
        """Create with tenant addresses, answer with contract ones."""
        n = self._names
        inner = replace(
            event,
            organizer=n.inward(event.organizer),
            attendees=n.attendees(event.attendees, n.inward),
        )
        created = self._inner.create_event(inner, idempotency_key=idempotency_key)
        self._created.append((self._inner, created.id))
        return self._out(created)

    def get_event(self, event_id: str) -> Event:
        """As the inner port."""
        return self._out(self._inner.get_event(event_id))

    def update_event(
        self, event_id: str, patch: EventPatch, *, if_match: str | None = None
    ) -> Event:
        """As the inner port, attendees renamed."""
        if patch.attendees is not None:
            patch = replace(
                patch, attendees=self._names.attendees(patch.attendees, self._names.inward)
            )
        return self._out(self._inner.update_event(event_id, patch, if_match=if_match))

    def delete_event(self, event_id: str, *, if_match: str | None = None) -> None:
        """As the inner port."""
        self._inner.delete_event(event_id, if_match=if_match)

    def find_event(self, ical_uid: str) -> Event | None:
        """As the inner port."""
        found = self._inner.find_event(ical_uid)
        return self._out(found) if found is not None else None

    def instances(self, series_id: str, start: datetime, end: datetime) -> list[Event]:
        """As the inner port."""
        return [self._out(e) for e in self._inner.instances(series_id, start, end)]

    def events(self, start: datetime, end: datetime) -> list[Event]:
        """As the inner port."""
        return [self._out(e) for e in self._inner.events(start, end)]

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Busy]]:
        """Asked with tenant addresses, keyed by the contract's."""
        n = self._names
        found = self._inner.free_busy([n.inward(e) for e in emails], start, end)
        return {n.outward(k): v for k, v in found.items()}

    def add_attachment(
        self, event_id: str, name: str, content: bytes, content_type: str
    ) -> AttachmentInfo:
        """As the inner port."""
        return self._inner.add_attachment(event_id, name, content, content_type)

    def get_attachment(self, event_id: str, attachment_id: str) -> bytes:
        """As the inner port."""
        return self._inner.get_attachment(event_id, attachment_id)


class TrackedDrive:
    """A `Drive` that remembers every file written, so a test can remove them afterwards."""

    def __init__(self, inner: Drive, written: set[tuple[Drive, str, str]]) -> None:
        self._inner = inner
        self._written = written

    def put(self, folder: str, name: str, content: bytes, **kwargs: Any) -> FileInfo:
        """As the inner port; remembered."""
        info = self._inner.put(folder, name, content, **kwargs)
        self._written.add((self._inner, folder, name))
        return info

    def get(self, folder: str, name: str) -> File:
        """As the inner port."""
        return self._inner.get(folder, name)

    def stat(self, folder: str, name: str) -> FileInfo:
        """As the inner port."""
        return self._inner.stat(folder, name)

    def list(self, folder: str) -> list[FileInfo]:
        """As the inner port."""
        return self._inner.list(folder)

    def folders(self) -> builtins.list[str]:
        """As the inner port."""
        return self._inner.folders()

    def versions(self, folder: str, name: str) -> builtins.list[FileInfo]:
        """As the inner port."""
        return self._inner.versions(folder, name)

    def get_version(self, folder: str, name: str, version: int) -> File:
        """As the inner port."""
        return self._inner.get_version(folder, name, version)

    def delete(self, folder: str, name: str, *, if_match: str | None = None) -> None:
        """As the inner port."""
        self._inner.delete(folder, name, if_match=if_match)


class RenamedMailer:
    """A `Mailer` whose addresses are renamed."""

    def __init__(self, inner: Mailer, names: Names) -> None:
        self._inner = inner
        self._names = names

    def send(self, mail: Mail) -> SentMail:
        """Send with tenant addresses; the answer carries the contract's."""
        n = self._names
        inner = replace(mail, sender=n.inward(mail.sender), to=tuple(n.inward(t) for t in mail.to))
        return self._names.sent(self._inner.send(inner))


def clean_up(created: list[tuple[Calendar, str]], written: set[tuple[Drive, str, str]]) -> None:
    """Delete what a test made; what is already gone is fine."""
    for calendar, event_id in reversed(created):
        with contextlib.suppress(NotFound):
            calendar.delete_event(event_id)
    for drive, folder, name in written:
        with contextlib.suppress(NotFound):
            drive.delete(folder, name)
