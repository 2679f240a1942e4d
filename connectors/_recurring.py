"""Calendar semantics shared by the embedded backends: series, exceptions, free/busy.

`StoredCalendar` implements the `Calendar` port once over an `EventRepo`, a small storage
interface that `connectors.memory` keeps in dictionaries and `connectors.local` in SQLite.

Storage model: a single event or a series master is one record. Occurrences are not stored; they
are expanded from the master's rule. An occurrence changed or deleted through its own id becomes an
*exception* record with that id, `series_id` and `original_start` set (`cancelled` for a deleted
one). Occurrence ids are ``{master_id}_{YYYYMMDDTHHMMSSZ}`` of the original start in UTC, as
Google's are, so any occurrence can be addressed without storing it.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Protocol

from cadence.errors import CadenceError
from cadence.recurrence import Rule
from cadence.zones import zone
from connectors.errors import Conflict, InvalidRequest, NotFound
from connectors.models import AttachmentInfo, Attendee, Busy, Event, EventPatch, NewEvent

_STAMP = "%Y%m%dT%H%M%SZ"


def new_id() -> str:
    """A fresh opaque id (hex, no underscore, so an occurrence id splits unambiguously)."""
    return uuid.uuid4().hex


def occurrence_id(series_id: str, original_start: datetime) -> str:
    """The id of the occurrence of `series_id` the rule placed at `original_start`."""
    return f"{series_id}_{original_start.astimezone(UTC).strftime(_STAMP)}"


def parse_occurrence_id(event_id: str) -> tuple[str, datetime] | None:
    """The master id and original start (UTC) in an occurrence id, or None if it is not one."""
    series_id, sep, stamp = event_id.rpartition("_")
    if not sep or not series_id:
        return None
    try:
        return series_id, datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def frozen_properties(properties: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy of `properties`, so a stored event cannot change behind the store."""
    return MappingProxyType(dict(properties))


class EventRepo(Protocol):
    """Where `StoredCalendar` keeps its records; every method runs inside `transaction()`.

    Records are `Event`s saved with no attachments; attachments are kept per event id.
    """

    def transaction(self) -> AbstractContextManager[None]:
        """Make the writes inside all-or-nothing and the reads consistent; may nest."""
        ...

    def load(self, event_id: str) -> Event | None:
        """The record with this id (event, master or exception), or None."""
        ...

    def save(self, event: Event) -> None:
        """Insert or replace a record by its id."""
        ...

    def remove(self, event_id: str) -> None:
        """Delete a record, its exceptions and the attachments of all of them."""
        ...

    def exceptions(self, series_id: str) -> builtins.list[Event]:
        """The exception records (cancelled ones too) of a series."""
        ...

    def with_ical_uid(self, ical_uid: str) -> Event | None:
        """The single event or series master with this iCalUId (no exception), or None."""
        ...

    def candidates(self, email: str, start: datetime, end: datetime) -> builtins.list[Event]:
        """Singles that `email` organizes or attends overlapping [start, end), and the masters of
        series where `email` is in the master or in an exception, starting before `end`.

        Through an exception too: one occurrence may be moved before the series' first start,
        or have an attendee the master does not have.
        """
        ...

    def key_lookup(self, owner: str, key: str) -> str | None:
        """The event id first created by `owner` with an idempotency key, or None."""
        ...

    def key_store(self, owner: str, key: str, event_id: str) -> None:
        """Remember which event `owner` created with a key."""
        ...

    def attachments(self, event_id: str) -> builtins.list[AttachmentInfo]:
        """The attachments of a record, by name."""
        ...

    def attachment(self, event_id: str, attachment_id: str) -> bytes | None:
        """The bytes of one attachment of a record, or None."""
        ...

    def put_attachment(self, event_id: str, info: AttachmentInfo, content: bytes) -> None:
        """Attach to a record, replacing an attachment with the same name."""
        ...

    def drop_attachments(self, event_id: str) -> None:
        """Delete every attachment of a record."""
        ...


def _norm(email: str) -> str:
    return email.strip().lower()


def participants(event: Event) -> set[str]:
    """The organizer and attendees of an event, lower-cased."""
    return {_norm(event.organizer)} | {_norm(a.email) for a in event.attendees}


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidRequest(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def _check_span(start: datetime, end: datetime) -> None:
    if _utc(end, "end") <= _utc(start, "start"):
        raise InvalidRequest(
            f"end {end.isoformat()} must be after start {start.isoformat()}: move the end later"
        )


def _check_tz(name: str) -> None:
    try:
        zone(name)
    except CadenceError as exc:
        raise InvalidRequest(str(exc)) from exc


def _plus(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta` in elapsed time (aware arithmetic in Python is wall-clock arithmetic)."""
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


def _first_start(rule: Rule, fallback: datetime) -> datetime:
    first = rule.first_n(1)
    return first[0] if first else fallback


def is_occurrence(rule: Rule, moment: datetime) -> bool:
    """True if the rule places an occurrence exactly at `moment`."""
    return any(o == moment for o in rule.occurrences(moment, moment + timedelta(seconds=1)))


def merge_busy(spans: Iterable[tuple[datetime, datetime]]) -> builtins.list[Busy]:
    """Busy intervals from (start, end) pairs, sorted, overlapping or touching ones merged."""
    merged: builtins.list[list[datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Busy(start=s, end=e) for s, e in merged]


class StoredCalendar:
    """One user's view of a shared event store: the `Calendar` port over an `EventRepo`.

    An event is in the calendar of its organizer and of each attendee, with the same id in
    each. Only the organizer changes or deletes an event; attendees read it.
    """

    def __init__(self, owner: str, repo: EventRepo) -> None:
        """The calendar of `owner` (an email address) over `repo`."""
        self._owner = owner
        self._repo = repo

    @property
    def owner(self) -> str:
        """The email address of the calendar's user."""
        return self._owner

    def create_event(self, event: NewEvent, *, idempotency_key: str) -> Event:
        """Create an event or series; the same key again returns the first event, unchanged."""
        if not idempotency_key:
            raise InvalidRequest("idempotency_key must not be empty: pass a key unique per create")
        organizer = event.organizer or self._owner
        if _norm(organizer) != _norm(self._owner):
            raise InvalidRequest(
                f"organizer {organizer!r} must be the calendar's owner {self._owner!r}: "
                f"create the event in the organizer's calendar"
            )
        _check_span(event.start, event.end)
        _check_tz(event.tz)
        with self._repo.transaction():
            first_id = self._repo.key_lookup(_norm(self._owner), idempotency_key)
            if first_id is not None:
                stored = self._repo.load(first_id)
                if stored is None:
                    raise Conflict(
                        f"the event created with key {idempotency_key!r} was deleted since: "
                        f"use a new key to create it again"
                    )
                return self._dress(stored, stored.id)
            start, end = event.start, event.end
            if event.recurrence is not None:
                start = _first_start(event.recurrence, event.start)
                end = _plus(start, _utc(event.end, "end") - _utc(event.start, "start"))
            record = Event(
                id=new_id(),
                subject=event.subject,
                start=start,
                end=end,
                tz=event.tz,
                organizer=organizer,
                etag=new_id(),
                ical_uid=f"{new_id()}@goedgesprek",
                attendees=tuple(event.attendees),
                body_html=event.body_html,
                location=event.location,
                online=event.online,
                recurrence=event.recurrence,
                properties=frozen_properties(event.properties),
            )
            self._repo.save(record)
            self._repo.key_store(_norm(self._owner), idempotency_key, record.id)
            return self._dress(record, record.id)

    def get_event(self, event_id: str) -> Event:
        """The event or occurrence with this id; `NotFound` if it is gone."""
        with self._repo.transaction():
            event, source = self._resolve(event_id)
            return self._dress(event, source)

    def find_event(self, ical_uid: str) -> Event | None:
        """The owner's copy of a meeting by iCalUId: here every copy is the one record."""
        with self._repo.transaction():
            found = self._repo.with_ical_uid(ical_uid) if ical_uid else None
            if found is None or found.cancelled or not self._sees(found):
                return None
            return self._dress(found, found.id)

    def update_event(
        self, event_id: str, patch: EventPatch, *, if_match: str | None = None
    ) -> Event:
        """Change an event, a whole series (master id) or one occurrence (an exception)."""
        with self._repo.transaction():
            event, source = self._resolve(event_id)
            self._check_write(event, if_match)
            if event.series_id is not None:
                if patch.recurrence is not None:
                    raise InvalidRequest(
                        f"{event_id} is one occurrence: change the recurrence on its series "
                        f"{event.series_id}"
                    )
                changed = self._patched(event, patch)
                self._materialize(event, source)
            elif event.recurrence is not None or patch.recurrence is not None:
                changed = self._patched_master(event, patch)
            else:
                changed = self._patched(event, patch)
            self._repo.save(changed)
            return self._dress(changed, changed.id)

    def delete_event(self, event_id: str, *, if_match: str | None = None) -> None:
        """Delete an event or series (master id), or cancel one occurrence."""
        with self._repo.transaction():
            event, _ = self._resolve(event_id)
            self._check_write(event, if_match)
            if event.series_id is None:
                self._repo.remove(event.id)
                return
            self._repo.drop_attachments(event.id)
            self._repo.save(replace(event, cancelled=True, etag=new_id(), attachments=()))

    def instances(self, series_id: str, start: datetime, end: datetime) -> list[Event]:
        """Occurrences of a series starting in [start, end), exceptions applied, no cancelled."""
        start, end = _utc(start, "start"), _utc(end, "end")
        with self._repo.transaction():
            master = self._repo.load(series_id)
            if master is None or master.recurrence is None or not self._sees(master):
                raise NotFound(f"no series {series_id} in the calendar of {self._owner}")
            return [
                e
                for e in self._expand(master, start, end)
                if start <= e.start < end and self._sees(e)
            ]

    def events(self, start: datetime, end: datetime) -> list[Event]:
        """Every event in the calendar overlapping [start, end), series expanded, by start."""
        start, end = _utc(start, "start"), _utc(end, "end")
        with self._repo.transaction():
            found = self._window(self._owner, start, end)
            return [e for e in found if self._sees(e)]

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Busy]]:
        """Busy intervals of each address in [start, end); an unknown address gets an empty list."""
        start, end = _utc(start, "start"), _utc(end, "end")
        result: dict[str, list[Busy]] = {}
        with self._repo.transaction():
            for email in emails:
                who = _norm(email)
                spans = [
                    (max(e.start.astimezone(UTC), start), min(e.end.astimezone(UTC), end))
                    for e in self._window(who, start, end)
                    if who in participants(e) and not _declined(e, who)
                ]
                result[email] = merge_busy(spans)
        return result

    def add_attachment(
        self, event_id: str, name: str, content: bytes, content_type: str
    ) -> AttachmentInfo:
        """Attach a file to an event; an attachment with the same name is replaced."""
        if not name or "\x00" in name:
            raise InvalidRequest("attachment name must be non-empty and free of NUL characters")
        with self._repo.transaction():
            event, source = self._resolve(event_id)
            self._check_write(event, None)
            self._materialize(event, source)
            info = AttachmentInfo(
                id=new_id(), name=name, content_type=content_type, size=len(content)
            )
            self._repo.put_attachment(event.id, info, bytes(content))
            # Adding an attachment is a write: the etag moves, as on both providers.
            self._repo.save(replace(event, etag=new_id(), attachments=()))
            return info

    def get_attachment(self, event_id: str, attachment_id: str) -> bytes:
        """The bytes of an attachment."""
        with self._repo.transaction():
            _, source = self._resolve(event_id)
            content = self._repo.attachment(source, attachment_id)
            if content is None:
                raise NotFound(f"event {event_id} has no attachment {attachment_id}")
            return content

    def _resolve(self, event_id: str) -> tuple[Event, str]:
        """The event with this id as the owner sees it, and the record holding its attachments."""
        stored = self._repo.load(event_id)
        if stored is not None:
            if stored.cancelled or not self._sees(stored):
                raise NotFound(f"event {event_id} is not in the calendar of {self._owner}")
            return stored, stored.id
        parsed = parse_occurrence_id(event_id)
        if parsed is not None:
            master = self._repo.load(parsed[0])
            if (
                master is not None
                and master.recurrence is not None
                and self._sees(master)
                and is_occurrence(master.recurrence, parsed[1])
            ):
                return self._occurrence(master, parsed[1]), master.id
        raise NotFound(f"event {event_id} is not in the calendar of {self._owner}")

    def _sees(self, event: Event) -> bool:
        return _norm(self._owner) in participants(event)

    def _check_write(self, event: Event, if_match: str | None) -> None:
        if _norm(event.organizer) != _norm(self._owner):
            raise InvalidRequest(
                f"only the organizer {event.organizer} can change event {event.id}; "
                f"{self._owner} is an attendee"
            )
        if if_match is not None and if_match != event.etag:
            raise Conflict(f"event {event.id} changed meanwhile (etag is stale): read it again")

    def _dress(self, event: Event, source: str) -> Event:
        return replace(event, attachments=tuple(self._repo.attachments(source)))

    def _materialize(self, occurrence: Event, source: str) -> None:
        """Before an occurrence first becomes an exception, give it copies of the series' files."""
        if source == occurrence.id:
            return
        for info in self._repo.attachments(source):
            content = self._repo.attachment(source, info.id)
            if content is not None:
                self._repo.put_attachment(occurrence.id, replace(info, id=new_id()), content)

    @staticmethod
    def _occurrence(master: Event, original: datetime) -> Event:
        duration = master.end.astimezone(UTC) - master.start.astimezone(UTC)
        start = original.astimezone(zone(master.recurrence.tz if master.recurrence else master.tz))
        return replace(
            master,
            id=occurrence_id(master.id, original),
            start=start,
            end=_plus(start, duration),
            # The master's etag is part of each occurrence's, so a series change moves them all.
            etag=f"{master.etag}.{original.astimezone(UTC).strftime(_STAMP)}",
            recurrence=None,
            series_id=master.id,
            original_start=start,
            cancelled=False,
            attachments=(),
        )

    def _expand(self, master: Event, start: datetime, end: datetime) -> list[Event]:
        """Occurrences overlapping [start, end), exceptions applied, cancelled left out."""
        assert master.recurrence is not None
        duration = master.end.astimezone(UTC) - master.start.astimezone(UTC)
        exceptions = {
            occurrence_id(master.id, e.original_start): e
            for e in self._repo.exceptions(master.id)
            if e.original_start is not None
        }
        found = [
            e
            for e in exceptions.values()
            if not e.cancelled and e.start.astimezone(UTC) < end and e.end.astimezone(UTC) > start
        ]
        for moment in master.recurrence.occurrences(start - duration, end):
            if occurrence_id(master.id, moment) in exceptions:
                continue
            occurrence = self._occurrence(master, moment)
            if occurrence.end.astimezone(UTC) > start:
                found.append(self._dress(occurrence, master.id))
        found = [self._dress(e, e.id) if e.id in exceptions else e for e in found]
        found.sort(key=_order)
        return found

    def _window(self, email: str, start: datetime, end: datetime) -> list[Event]:
        found: list[Event] = []
        for record in self._repo.candidates(_norm(email), start, end):
            if record.recurrence is not None:
                found.extend(self._expand(record, start, end))
            elif (
                not record.cancelled
                and record.start.astimezone(UTC) < end
                and record.end.astimezone(UTC) > start
            ):
                found.append(self._dress(record, record.id))
        found.sort(key=_order)
        return found

    def _patched(self, event: Event, patch: EventPatch) -> Event:
        start = event.start if patch.start is None else patch.start
        end = event.end if patch.end is None else patch.end
        _check_span(start, end)
        return replace(
            event,
            subject=event.subject if patch.subject is None else patch.subject,
            start=start,
            end=end,
            body_html=event.body_html if patch.body_html is None else patch.body_html,
            location=event.location if patch.location is None else patch.location,
            online=event.online if patch.online is None else patch.online,
            attendees=event.attendees if patch.attendees is None else tuple(patch.attendees),
            properties=(
                event.properties
                if patch.properties is None
                else frozen_properties(patch.properties)
            ),
            etag=new_id(),
            attachments=(),
        )

    def _patched_master(self, master: Event, patch: EventPatch) -> Event:
        """A series change: a new rule or time re-expands; exceptions off the new rule go."""
        old = _utc(master.end, "end") - _utc(master.start, "start")
        if patch.start is not None and patch.end is not None:
            duration = _utc(patch.end, "end") - _utc(patch.start, "start")
        elif patch.end is not None:
            duration = _utc(patch.end, "end") - _utc(master.start, "start")
        else:
            duration = old
        start = master.start if patch.start is None else patch.start
        changed = self._patched(master, replace(patch, start=start, end=_plus(start, duration)))
        rule = patch.recurrence or master.recurrence
        assert rule is not None
        if patch.recurrence is None and patch.start is not None:
            # A new start moves the whole series: same anchor and end, new first date and time.
            local = patch.start.astimezone(zone(rule.tz)).replace(tzinfo=None)
            try:
                rule = Rule.build(
                    local,
                    rule.tz,
                    rule.anchor,
                    interval=rule.interval,
                    count=rule.count,
                    until=rule.until,
                )
            except CadenceError as exc:
                raise InvalidRequest(str(exc)) from exc
        first = _first_start(rule, changed.start)
        changed = replace(changed, recurrence=rule, start=first, end=_plus(first, duration))
        for exception in self._repo.exceptions(master.id):
            original = exception.original_start
            if original is None or not is_occurrence(rule, original):
                # As on Graph: an exception whose date the new rule no longer has is dropped.
                self._repo.drop_attachments(exception.id)
                self._repo.remove(exception.id)
        return changed


def _order(event: Event) -> tuple[datetime, datetime, str]:
    return (event.start.astimezone(UTC), event.end.astimezone(UTC), event.id)


def _declined(event: Event, email: str) -> bool:
    return any(_norm(a.email) == email and a.response == "declined" for a in event.attendees)


def attendees_from(rows: Iterable[Mapping[str, str]]) -> tuple[Attendee, ...]:
    """Attendees from plain mappings with email, name and response (as stored as JSON)."""
    return tuple(
        Attendee(email=r["email"], name=r.get("name", ""), response=r.get("response", "none"))
        for r in rows
    )
