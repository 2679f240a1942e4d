"""The mailboxes' calendars: meetings, each mailbox's copy, series, exceptions, free/busy.

A *meeting* holds what the organizer decides (subject, times, attendees, rule, exceptions,
attachments). Each mailbox that sees it holds an *item*: its own id, its own response, its own
single-value extended properties. The organizer's item and the attendees' copies share the meeting,
so the organizer's updates, cancellations and deletes reach every copy, as Exchange's meeting
messages do. Occurrence ids encode the item and the original start, so they are stable, opaque and
different in each mailbox.

Choices where the docs are silent, taken from what a real tenant shows:
- An attendee's fresh copy answers ``responseStatus.response = notResponded`` and shows as
  ``tentative`` (Exchange puts unanswered requests on the calendar tentatively); the organizer's
  ``attendees[].status`` says ``none`` until the attendee answers.
- A declined copy leaves the attendee's calendar (Outlook moves it to Deleted Items): it is gone
  from calendarView, instances and getSchedule, but its id still reads.
- When the organizer deletes the meeting, each copy stays as a cancelled meeting (``isCancelled``,
  subject prefixed "Canceled: ") until its owner deletes it; a cancelled occurrence is gone from
  every calendar.
- A new rule on the master keeps exceptions and cancellations on dates the new rule still has
  when only the range's end changed (Outlook keeps them when a series is shortened or extended);
  a new pattern or a moved series drops them all ("exceptions will be lost").

Attendees who are not users of this emulator are reached by mail: after each write the organizer
makes, `Calendars.outbox` (when a relay links another emulator) gets the meeting as an iMIP
REQUEST or CANCEL; `Calendars.receive` takes one in as a meeting with an external organizer,
whose copies this emulator's users hold like any attendee's copy (see `emulators.relay`).
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from cadence.recurrence import localize
from emulators import _graph_recurrence as rr
from emulators import relay
from emulators._graph_common import (
    NO_TIME,
    GraphError,
    bad_request,
    change_key,
    date_time_zone,
    ical_uid,
    new_id,
    not_found,
    occurrence_ical_uid,
    parse_local,
    resolve_zone,
    short_stamp,
    utc_stamp,
    zone_info,
)

ATTACHMENT_LIMIT = 3 * 1024 * 1024
"""Graph takes a file attachment in one POST up to 3 MB; larger needs an upload session."""

_CONTENT_FIELDS = (
    "subject",
    "body",
    "location",
    "locations",
    "attendees",
    "showAs",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "importance",
    "sensitivity",
    "isAllDay",
    "categories",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "responseRequested",
    "allowNewTimeProposals",
    "hideAttendees",
)
_ATTENDEE_FIELDS = ("showAs", "categories", "isReminderOn", "reminderMinutesBeforeStart")
_ENUMS = {
    "showAs": ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown"),
    "importance": ("low", "normal", "high"),
    "sensitivity": ("normal", "personal", "private", "confidential"),
    "onlineMeetingProvider": (
        "unknown",
        "teamsForBusiness",
        "skypeForBusiness",
        "skypeForConsumer",
    ),
}
_RANK = {"free": 0, "workingElsewhere": 1, "tentative": 2, "busy": 3, "oof": 4}
_VIEW_CHAR = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
_RESPONSES = {
    "accept": "accepted",
    "tentativelyaccept": "tentativelyAccepted",
    "decline": "declined",
}


@dataclass
class Attachment:
    """A file attachment on an event."""

    id: str
    name: str
    content_type: str
    content: bytes
    modified: datetime
    is_inline: bool = False
    content_id: str | None = None

    def to_json(self, *, with_bytes: bool = True) -> dict[str, Any]:
        """The fileAttachment as Graph returns it."""
        data: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "@odata.mediaContentType": self.content_type,
            "id": self.id,
            "lastModifiedDateTime": short_stamp(self.modified),
            "name": self.name,
            "contentType": self.content_type,
            "size": len(self.content) + 200 + len(self.name.encode()),
            "isInline": self.is_inline,
            "contentId": self.content_id,
            "contentLocation": None,
        }
        if with_bytes:
            data["contentBytes"] = base64.b64encode(self.content).decode()
        return data


@dataclass
class Override:
    """An exception: the fields changed on one occurrence (None start = the rule's)."""

    fields: dict[str, Any] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    start_zone: str | None = None
    end_zone: str | None = None
    attachments: list[Attachment] | None = None
    version: int = 0


@dataclass
class Meeting:
    """What the organizer decides; shared by every mailbox's copy.

    `wall` is the start's wall-clock time as the organizer gave it: a series expands from it,
    so a first start inside a DST gap (02:00 on a spring-forward day) resolves forward for that
    occurrence alone and the later ones keep 02:00.
    """

    uid: str
    organizer: str
    organizer_name: str
    fields: dict[str, Any]
    start: datetime
    end: datetime
    start_zone: str
    end_zone: str
    created: datetime
    modified: datetime
    wall: time
    recurrence: rr.Recurrence | None = None
    overrides: dict[datetime, Override] = field(default_factory=dict)
    cancelled: set[datetime] = field(default_factory=set)
    attachments: list[Attachment] = field(default_factory=list)
    version: int = 0
    deleted: bool = False
    mailed: set[str] = field(default_factory=set)
    """The addresses outside the emulator the last REQUEST went to."""
    sequence: int = 0
    """The SEQUENCE of the last invitation received (a meeting with an external organizer)."""

    def attendee_emails(self, original: datetime | None = None) -> set[str]:
        """Addresses invited to the meeting, or to one occurrence of it."""
        fields = self.fields
        if original is not None and original in self.overrides:
            fields = {**fields, **self.overrides[original].fields}
        return {_address(a) for a in fields.get("attendees", [])}

    def everyone(self) -> set[str]:
        """Addresses invited to the meeting or to any occurrence."""
        found = self.attendee_emails()
        for original in self.overrides:
            found |= self.attendee_emails(original)
        return found

    def touch(self, now: datetime) -> None:
        """Record a change the organizer made."""
        self.version += 1
        self.modified = now


@dataclass
class Item:
    """One mailbox's copy of a meeting."""

    id: str
    owner: str
    meeting: Meeting
    organizer: bool
    created: datetime
    response: str = "organizer"
    response_time: datetime | None = None
    transaction_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    occurrence_properties: dict[datetime, dict[str, str]] = field(default_factory=dict)
    occurrence_responses: dict[datetime, tuple[str, datetime]] = field(default_factory=dict)
    local: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    cancelled: bool = False


@dataclass
class Mailbox:
    """One user's calendar items and transaction ids."""

    items: dict[str, Item] = field(default_factory=dict)
    transactions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class View:
    """An event as one mailbox sees it: an item, or one occurrence of it."""

    item: Item
    original: datetime | None = None

    @property
    def meeting(self) -> Meeting:
        """The shared meeting."""
        return self.item.meeting

    @property
    def override(self) -> Override | None:
        """The exception for this occurrence, if it was changed alone."""
        if self.original is None:
            return None
        return self.meeting.overrides.get(self.original)

    @property
    def id(self) -> str:
        """The id in this mailbox."""
        if self.original is None:
            return self.item.id
        return occurrence_id(self.item.id, self.original)

    @property
    def kind(self) -> str:
        """singleInstance, seriesMaster, occurrence or exception."""
        if self.original is not None:
            return "exception" if self.override else "occurrence"
        return "seriesMaster" if self.meeting.recurrence else "singleInstance"

    def fields(self) -> dict[str, Any]:
        """The content fields: master's, then the exception's, then the owner's local ones."""
        merged = dict(self.meeting.fields)
        if self.override:
            merged.update(self.override.fields)
        merged.update(self.item.local)
        return merged

    def times(self) -> tuple[datetime, datetime, str, str]:
        """Start, end and their zone names."""
        meeting = self.meeting
        if self.original is None:
            return meeting.start, meeting.end, meeting.start_zone, meeting.end_zone
        override = self.override
        if override and override.start is not None and override.end is not None:
            return (
                override.start,
                override.end,
                override.start_zone or meeting.start_zone,
                override.end_zone or meeting.end_zone,
            )
        return (
            self.original,
            self.original + (meeting.end - meeting.start),
            meeting.start_zone,
            meeting.end_zone,
        )

    def attachments(self) -> list[Attachment]:
        """The occurrence's own attachments if it has any, else the master's."""
        override = self.override
        if override and override.attachments is not None:
            return override.attachments
        return self.meeting.attachments

    def properties(self) -> dict[str, str]:
        """Single-value extended properties of this copy (occurrences inherit the master's)."""
        found = dict(self.item.properties)
        if self.original is not None:
            found.update(self.item.occurrence_properties.get(self.original, {}))
        return found

    def response(self) -> tuple[str, datetime | None]:
        """This mailbox's response to the meeting or occurrence."""
        if self.original is not None and self.original in self.item.occurrence_responses:
            return self.item.occurrence_responses[self.original]
        return self.item.response, self.item.response_time

    def ical_uid(self) -> str:
        """The meeting's iCalUId; an occurrence's carries its original date (see Graph's docs)."""
        if self.original is None:
            return self.meeting.uid
        return occurrence_ical_uid(self.meeting.uid, self.original)

    def change_key(self) -> str:
        """Changes whenever anything this mailbox sees of the event changes."""
        override = self.override
        return change_key(
            self.id,
            self.meeting.version,
            self.item.version,
            override.version if override else -1,
            self.item.cancelled,
        )

    def etag(self) -> str:
        """The weak ETag Graph puts in @odata.etag."""
        return f'W/"{self.change_key()}"'

    def show_as(self) -> str:
        """The free/busy status this mailbox shows for the event."""
        fields = self.fields()
        response = self.response()[0]
        if response == "declined" or self.cancelled():
            return "free"
        if response == "tentativelyAccepted" or (
            response == "notResponded" and "showAs" not in self.item.local
        ):
            return "tentative"
        return str(fields.get("showAs", "busy"))

    def cancelled(self) -> bool:
        """True when the organizer cancelled the meeting this copy belongs to."""
        return self.item.cancelled


def _address(attendee: Mapping[str, Any]) -> str:
    return str(attendee.get("emailAddress", {}).get("address", "")).lower()


def occurrence_id(item_id: str, original: datetime) -> str:
    """An occurrence's id: opaque, stable, derived from its item and original start."""
    raw = base64.urlsafe_b64decode(item_id.removeprefix("AAMkAD"))[1:]
    stamp = int(original.timestamp()).to_bytes(8, "big", signed=True)
    return "AAMkAD" + base64.urlsafe_b64encode(b"\x01" + raw + stamp).decode()


def split_id(event_id: str) -> tuple[str, datetime | None]:
    """The item id and original start an event id stands for; 400 for a malformed id."""
    try:
        raw = base64.urlsafe_b64decode(event_id.removeprefix("AAMkAD").encode())
    except (ValueError, TypeError) as exc:
        raise bad_request("Id is malformed.", "ErrorInvalidIdMalformed") from exc
    if not event_id.startswith("AAMkAD") or len(raw) not in (17, 25):
        raise bad_request("Id is malformed.", "ErrorInvalidIdMalformed")
    item_id = "AAMkAD" + base64.urlsafe_b64encode(b"\x00" + raw[1:17]).decode()
    if raw[0] == 0 and len(raw) == 17:
        return item_id, None
    if raw[0] == 1 and len(raw) == 25:
        seconds = int.from_bytes(raw[17:], "big", signed=True)
        return item_id, datetime.fromtimestamp(seconds, UTC)
    raise bad_request("Id is malformed.", "ErrorInvalidIdMalformed")


# -- input --------------------------------------------------------------------------------------


def _enum(name: str, value: Any) -> str:
    for choice in _ENUMS[name]:
        if str(value).lower() == choice.lower():
            return choice
    raise bad_request(f"Invalid value '{value}' for property '{name}'.")


def _location(value: Any) -> dict[str, Any]:
    if value is None:
        return {"displayName": "", "locationType": "default", "uniqueIdType": "unknown"}
    if not isinstance(value, Mapping):
        raise bad_request("location must be an object.")
    name = str(value.get("displayName") or "")
    location = {
        "displayName": name,
        "locationType": str(value.get("locationType") or "default")[:1].lower()
        + str(value.get("locationType") or "default")[1:],
        "uniqueId": name,
        "uniqueIdType": "private",
    }
    if not name:
        location.pop("uniqueId")
        location["uniqueIdType"] = "unknown"
    if value.get("locationEmailAddress"):
        location["locationEmailAddress"] = str(value["locationEmailAddress"])
    return location


def _attendees(value: Any, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attendees as Graph stores them.

    ``status`` sent on create or update is ignored: it is each attendee's own answer, which only
    their accept/tentativelyAccept/decline sets (Graph returns ``none`` for every new attendee).
    """
    if not isinstance(value, list):
        raise bad_request("attendees must be a collection.")
    known = {_address(a): a.get("status") for a in previous}
    found: list[dict[str, Any]] = []
    for entry in value:
        email = entry.get("emailAddress") if isinstance(entry, Mapping) else None
        if not isinstance(email, Mapping) or not email.get("address"):
            raise bad_request("An attendee needs an emailAddress with an address.")
        address = str(email["address"])
        kind = str(entry.get("type") or "required").lower()
        if kind not in ("required", "optional", "resource"):
            raise bad_request(f"Invalid value '{entry.get('type')}' for attendee type.")
        status = known.get(address.lower()) or {"response": "none", "time": NO_TIME}
        found.append(
            {
                "type": kind,
                "status": status,
                "emailAddress": {"name": str(email.get("name") or address), "address": address},
            }
        )
    return found


def _body(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise bad_request("body must be an itemBody object.")
    kind = str(value.get("contentType") or "text").lower()
    if kind not in ("text", "html"):
        raise bad_request(f"Invalid value '{value.get('contentType')}' for body contentType.")
    content = str(value.get("content") or "")
    if kind == "html" and not content.lstrip().lower().startswith("<html"):
        # Exchange stores HTML bodies as a whole document.
        content = (
            '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; '
            f'charset=utf-8">\r\n</head>\r\n<body>\r\n{content}\r\n</body>\r\n</html>\r\n'
        )
    return {"contentType": kind, "content": content}


def content_fields(body: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """The content fields present in a request body, normalized as Graph stores them."""
    found: dict[str, Any] = {}
    for name in _CONTENT_FIELDS:
        if name not in body:
            continue
        value = body[name]
        if name == "subject":
            found[name] = "" if value is None else str(value)
        elif name == "body":
            found[name] = _body(value)
        elif name == "location":
            found["location"] = _location(value)
            found["locations"] = (
                []
                if not found["location"]["displayName"]
                else [
                    {
                        "displayName": found["location"]["displayName"],
                        "locationType": "default",
                        "uniqueIdType": "unknown",
                    }
                ]
            )
        elif name == "locations":
            if "location" not in body and isinstance(value, list):
                found["locations"] = [_location(v) for v in value]
        elif name == "attendees":
            found[name] = _attendees(value, list(previous.get("attendees", [])))
        elif name in _ENUMS:
            found[name] = _enum(name, value)
        elif name == "categories":
            found[name] = [str(v) for v in value or []]
        elif name == "reminderMinutesBeforeStart":
            found[name] = int(value)
        else:
            found[name] = bool(value)
    if found.get("isOnlineMeeting") and "onlineMeetingProvider" not in found:
        found["onlineMeetingProvider"] = "teamsForBusiness"
    return found


def _defaults() -> dict[str, Any]:
    return {
        "subject": "",
        "body": {"contentType": "text", "content": ""},
        "location": _location(None),
        "locations": [],
        "attendees": [],
        "showAs": "busy",
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": False,
        "categories": [],
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 15,
        "responseRequested": True,
        "allowNewTimeProposals": True,
        "hideAttendees": False,
    }


def _when(body: Mapping[str, Any], key: str) -> tuple[datetime, str]:
    instant, zone_name, _ = _wall_when(body, key)
    return instant, zone_name


def _wall_when(body: Mapping[str, Any], key: str) -> tuple[datetime, str, datetime]:
    """The instant, the zone name and the naive wall-clock time of a dateTimeTimeZone."""
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise bad_request(f"The '{key}' property is required.", "ErrorInvalidRequest")
    zone_name = str(value.get("timeZone") or "UTC")
    resolve_zone(zone_name)
    local = parse_local(value.get("dateTime"), key)
    return localize(local, resolve_zone(zone_name)).astimezone(UTC), zone_name, local


def _check_order(start: datetime, end: datetime) -> None:
    if end < start:
        raise bad_request(
            "The end time must be later than or equal to the start time.",
            "ErrorCalendarEndDateIsEarlierThanStartDate",
        )


def parse_properties(value: Any) -> dict[str, str]:
    """singleValueExtendedProperties from a request body, keyed by id."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise bad_request("singleValueExtendedProperties must be a collection.")
    found: dict[str, str] = {}
    for entry in value:
        if not isinstance(entry, Mapping) or not entry.get("id"):
            raise bad_request("A singleValueExtendedProperty needs an id.")
        prop_id = str(entry["id"])
        if not re.match(r"^\w+ \{[0-9a-fA-F-]{36}\} (Name|Id) \S", prop_id):
            raise bad_request(
                f"The extended property id '{prop_id}' is not valid.", "ErrorInvalidProperty"
            )
        found[prop_id] = "" if entry.get("value") is None else str(entry["value"])
    return found


def _recurrence(value: Any, zone_name: str) -> rr.Recurrence | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise bad_request("recurrence must be a patternedRecurrence object.")
    try:
        return rr.parse(value, zone_name)
    except rr.RecurrenceError as exc:
        raise bad_request(str(exc)) from exc


# -- the store ----------------------------------------------------------------------------------


class Calendars:
    """Every mailbox's calendar. Not locked: the emulator holds one lock around each request."""

    def __init__(self, is_user: Callable[[str], bool], name_of: Callable[[str], str]) -> None:
        self._is_user = is_user
        self._name_of = name_of
        self.mailboxes: dict[str, Mailbox] = {}
        self.outbox: relay.Outbox | None = None
        """Where invitations to attendees outside the emulator go (None: nowhere)."""
        self.received: dict[str, Meeting] = {}
        """Meetings organised outside the emulator, by iCalUId."""

    def mailbox(self, owner: str) -> Mailbox:
        """The mailbox of `owner` (made on first use)."""
        return self.mailboxes.setdefault(owner.lower(), Mailbox())

    # -- reading -------------------------------------------------------------------------------

    def view(self, owner: str, event_id: str) -> View:
        """The event with this id in `owner`'s mailbox; 404 when it is not there."""
        item_id, original = split_id(event_id)
        item = self.mailbox(owner).items.get(item_id)
        if item is None:
            raise not_found()
        if original is None:
            return View(item)
        meeting = item.meeting
        if meeting.recurrence is None or meeting.deleted or original in meeting.cancelled:
            raise not_found()
        if original not in meeting.overrides and not self._on_rule(meeting, original):
            raise not_found()
        view = View(item, original)
        if not item.organizer and owner.lower() not in meeting.attendee_emails(original):
            raise not_found()
        return view

    def _on_rule(self, meeting: Meeting, original: datetime) -> bool:
        rec = meeting.recurrence
        if rec is None:
            return False
        iana = resolve_zone(meeting.start_zone)
        window = (original, original + timedelta(seconds=1))
        return any(True for _ in rr.occurrences(rec, meeting.wall, iana, window))

    def _rule_starts(self, meeting: Meeting, lo: datetime, hi: datetime) -> Iterator[datetime]:
        rec = meeting.recurrence
        if rec is None:
            return
        iana = resolve_zone(meeting.start_zone)
        for start in rr.occurrences(rec, meeting.wall, iana, (lo, hi)):
            yield start.astimezone(UTC)

    def occurrences(self, item: Item, lo: datetime, hi: datetime) -> list[View]:
        """Occurrences and exceptions of a series overlapping [lo, hi), by start."""
        meeting = item.meeting
        duration = meeting.end - meeting.start
        found: list[View] = []
        for original in self._rule_starts(meeting, lo - duration, hi):
            if original in meeting.cancelled or original in meeting.overrides:
                continue
            if original + duration > lo or (duration == timedelta(0) and original >= lo):
                found.append(View(item, original))
        for original in meeting.overrides:
            if original in meeting.cancelled:
                continue
            view = View(item, original)
            start, end, _, _ = view.times()
            if start < hi and (end > lo or (start == end and start >= lo)):
                found.append(view)
        return sorted(found, key=lambda v: v.times()[0])

    def visible(self, owner: str, view: View) -> bool:
        """True when `owner`'s calendar shows this event (not declined, still invited)."""
        item = view.item
        if view.response()[0] == "declined":
            return False
        if view.original is None:
            return True
        return item.organizer or owner.lower() in item.meeting.attendee_emails(view.original)

    def calendar_view(self, owner: str, lo: datetime, hi: datetime) -> list[View]:
        """Every event of `owner` overlapping [lo, hi), series expanded, by start."""
        found: list[View] = []
        for item in self.mailbox(owner).items.values():
            meeting = item.meeting
            if meeting.recurrence is None:
                view = View(item)
                start, end, _, _ = view.times()
                overlaps = start < hi and (end > lo or (start == end and start >= lo))
                if overlaps and self.visible(owner, view):
                    found.append(view)
                continue
            found.extend(v for v in self.occurrences(item, lo, hi) if self.visible(owner, v))
        return sorted(found, key=lambda v: (v.times()[0], v.id))

    def events(self, owner: str) -> list[View]:
        """Single events and series masters of `owner` (the /events collection)."""
        items = self.mailbox(owner).items.values()
        return [View(i) for i in sorted(items, key=lambda i: i.created)]

    # -- writing -------------------------------------------------------------------------------

    def create(self, owner: str, body: Mapping[str, Any], now: datetime) -> tuple[View, bool]:
        """Create an event; returns it and whether it is new (False: transactionId repeat)."""
        mailbox = self.mailbox(owner)
        transaction = body.get("transactionId")
        if transaction is not None:
            known = mailbox.transactions.get(str(transaction))
            if known in mailbox.items:
                return View(mailbox.items[known]), False
        for forbidden in ("id", "type", "seriesMasterId", "iCalUId"):
            if body.get(forbidden) is not None:
                raise bad_request(f"The property '{forbidden}' is read-only.")
        start, start_zone, wall = _wall_when(body, "start")
        end, end_zone = _when(body, "end")
        _check_order(start, end)
        fields = _defaults()
        fields.update(content_fields(body, fields))
        properties = parse_properties(body.get("singleValueExtendedProperties"))
        recurrence = _recurrence(body.get("recurrence"), start_zone)
        name = self._name_of(owner) or owner
        meeting = Meeting(
            uid=ical_uid(now),
            organizer=owner.lower(),
            organizer_name=name,
            fields=fields,
            start=start,
            end=end,
            start_zone=start_zone,
            end_zone=end_zone,
            created=now,
            modified=now,
            wall=wall.time(),
            recurrence=recurrence,
        )
        if recurrence is not None:
            self._snap_to_first(meeting)
        item = Item(
            id=new_id(),
            owner=owner.lower(),
            meeting=meeting,
            organizer=True,
            created=now,
            transaction_id=None if transaction is None else str(transaction),
            properties=properties,
        )
        mailbox.items[item.id] = item
        if item.transaction_id is not None:
            mailbox.transactions[item.transaction_id] = item.id
        self._sync_copies(meeting, now)
        self._post(meeting)
        return View(item), True

    def _snap_to_first(self, meeting: Meeting) -> None:
        """Exchange moves a master's start to its first occurrence, keeping the duration."""
        rec = meeting.recurrence
        assert rec is not None
        iana = resolve_zone(meeting.start_zone)
        first = rr.first_occurrence(rec, meeting.wall, iana)
        if first is None:
            raise bad_request("The recurrence pattern has no occurrence in its range.")
        duration = meeting.end - meeting.start
        meeting.start = first.astimezone(UTC)
        meeting.end = meeting.start + duration

    def _sync_copies(self, meeting: Meeting, now: datetime) -> None:
        """Give every invited user of this emulator a copy; cancel the copies of those dropped."""
        invited = {e for e in meeting.everyone() if e != meeting.organizer and self._is_user(e)}
        for email in invited:
            mailbox = self.mailbox(email)
            copy = next((i for i in mailbox.items.values() if i.meeting is meeting), None)
            if copy is None:
                copy = Item(
                    id=new_id(),
                    owner=email,
                    meeting=meeting,
                    organizer=False,
                    created=now,
                    response="notResponded",
                )
                mailbox.items[copy.id] = copy
            copy.cancelled = False
            copy.local = {}
        for owner, mailbox in self.mailboxes.items():
            if owner in invited or owner == meeting.organizer:
                continue
            for copy in mailbox.items.values():
                if copy.meeting is meeting and not copy.cancelled:
                    copy.cancelled = True

    def welcome(self, email: str, now: datetime) -> None:
        """A user just made known gets copies of the live meetings that invite them.

        The emulator's tenant is taken to have held the mailbox all along, so the order in which
        a test makes users known does not change what their calendars hold.
        """
        key = email.lower()
        meetings = {
            id(i.meeting): i.meeting
            for mailbox in self.mailboxes.values()
            for i in mailbox.items.values()
            if i.organizer
        }
        meetings.update((id(m), m) for m in self.received.values())
        for meeting in meetings.values():
            if meeting.deleted or key == meeting.organizer or key not in meeting.everyone():
                continue
            mailbox = self.mailbox(key)
            if not any(i.meeting is meeting for i in mailbox.items.values()):
                copy = Item(new_id(), key, meeting, False, now, response="notResponded")
                mailbox.items[copy.id] = copy

    # -- mail to and from other emulators -------------------------------------------------------

    def _post(self, meeting: Meeting) -> None:
        """Mail the organizer's meeting to its attendees outside the emulator: a REQUEST to
        those invited, a CANCEL to those no longer (all of them once it is deleted)."""
        if self.outbox is None:
            return
        outside = (
            set()
            if meeting.deleted
            else {
                e
                for e in meeting.attendee_emails()
                if e and e != meeting.organizer and not self._is_user(e)
            }
        )
        dropped = meeting.mailed - outside
        meeting.mailed = outside
        if outside:
            self.outbox(self._invitation(meeting, "REQUEST", outside))
        if dropped:
            self.outbox(self._invitation(meeting, "CANCEL", dropped))

    def _invitation(self, meeting: Meeting, method: str, to: set[str]) -> relay.Invitation:
        fields = meeting.fields
        zone = resolve_zone(meeting.start_zone)
        duration = meeting.end - meeting.start
        instances = []
        for original, override in sorted(meeting.overrides.items()):
            if original in meeting.cancelled:
                continue
            changed = override.fields
            instances.append(
                relay.Instance(
                    original=original,
                    start=override.start or original,
                    end=override.end or (override.start or original) + duration,
                    summary=changed.get("subject"),
                    description=_inner_html(changed["body"]) if "body" in changed else None,
                    location=changed["location"]["displayName"] if "location" in changed else None,
                )
            )
        return relay.Invitation(
            method=method,
            uid=relay.ical_uid(meeting.uid),
            sequence=meeting.version,
            organizer=meeting.organizer,
            organizer_name=self._name_of(meeting.organizer) or meeting.organizer_name,
            recipients=tuple(sorted(to)),
            start=meeting.start,
            end=meeting.end,
            zone=zone,
            end_zone=resolve_zone(meeting.end_zone),
            attendees=tuple(
                relay.Person(
                    _address(a),
                    str(a["emailAddress"].get("name") or ""),
                    a.get("type") == "optional",
                    _PARTSTAT.get(str(a.get("status", {}).get("response")), "NEEDS-ACTION"),
                )
                for a in fields.get("attendees", [])
            ),
            status="CANCELLED" if meeting.deleted else "CONFIRMED",
            summary=str(fields.get("subject", "")),
            description=_inner_html(fields["body"]),
            location=str(fields["location"].get("displayName", "")),
            rrule=relay.rrule_from_graph(meeting.recurrence.to_json(), zone)
            if meeting.recurrence
            else None,
            exdates=tuple(sorted(meeting.cancelled)),
            instances=tuple(instances),
        )

    def receive(self, invitation: relay.Invitation, now: datetime) -> None:
        """Take in an iMIP message from outside: the invited users get (or lose) their copies.

        Raises `relay.Unrelayable` for a rule Graph cannot hold (the message is then refused).
        """
        uid = relay.exchange_uid(invitation.uid)
        meeting = self.received.get(uid)
        if invitation.method == "CANCEL":
            if meeting is None:
                return
            if invitation.status == "CANCELLED":
                meeting.deleted = True
                self._cancel_copies(meeting)
            else:
                gone = {r.lower() for r in invitation.recipients}
                attendees = meeting.fields.get("attendees", [])
                meeting.fields["attendees"] = [a for a in attendees if _address(a) not in gone]
                self._sync_copies(meeting, now)
            meeting.touch(now)
            return
        if meeting is not None and invitation.sequence < meeting.sequence:
            return  # an older REQUEST arriving late changes nothing
        zone = invitation.zone
        wall = invitation.start.astimezone(zone_info(zone)).replace(tzinfo=None)
        rule = None
        if invitation.rrule:
            pattern = relay.graph_from_rrule(invitation.rrule, wall.date(), zone)
            rule = rr.parse(pattern, zone)
        fields = _defaults()
        fields.update(content_fields(_incoming(invitation), fields))
        for attendee, person in zip(fields["attendees"], invitation.attendees, strict=True):
            response = _RESPONSE_OF.get(person.partstat, "none")
            attendee["status"] = {"response": response, "time": NO_TIME}
        if meeting is None:
            meeting = Meeting(
                uid=uid,
                organizer=invitation.organizer.lower(),
                organizer_name=invitation.organizer_name or invitation.organizer,
                fields=fields,
                start=invitation.start.astimezone(UTC),
                end=invitation.end.astimezone(UTC),
                start_zone=zone,
                end_zone=invitation.end_zone,
                created=now,
                modified=now,
                wall=wall.time(),
            )
            self.received[uid] = meeting
        meeting.fields = fields
        meeting.organizer_name = invitation.organizer_name or invitation.organizer
        meeting.start = invitation.start.astimezone(UTC)
        meeting.end = invitation.end.astimezone(UTC)
        meeting.start_zone, meeting.end_zone = zone, invitation.end_zone
        meeting.wall = wall.time()
        meeting.recurrence = rule
        meeting.deleted = False
        meeting.sequence = invitation.sequence
        meeting.touch(now)
        if rule is not None:
            self._snap_to_first(meeting)
        meeting.cancelled = {x.astimezone(UTC) for x in invitation.exdates} if rule else set()
        meeting.overrides = {}
        for instance in invitation.instances if rule else ():
            changed = _incoming(instance)
            meeting.overrides[instance.original.astimezone(UTC)] = Override(
                fields=content_fields(changed, fields),
                start=instance.start.astimezone(UTC),
                end=instance.end.astimezone(UTC),
                start_zone=zone,
                end_zone=invitation.end_zone,
                version=meeting.version,
            )
        self._sync_copies(meeting, now)

    @staticmethod
    def check_etag(view: View, if_match: str | None) -> None:
        """412 when If-Match names another version than the current one."""
        if if_match is None or if_match.strip() == "*":
            return
        wanted = set(re.findall(r'(?:W/)?"[^"]*"', if_match)) | {if_match.strip()}
        current = view.change_key()
        if not wanted & {current, f'W/"{current}"', f'"{current}"'}:
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key "
                "passed in the request does not match the current change key for the item.",
            )

    def patch(
        self,
        owner: str,
        event_id: str,
        body: Mapping[str, Any],
        if_match: str | None,
        now: datetime,
    ) -> View:
        """Update an event, a series (master id) or one occurrence (makes an exception)."""
        view = self.view(owner, event_id)
        self.check_etag(view, if_match)
        item = view.item
        for forbidden in ("id", "type", "seriesMasterId", "iCalUId", "transactionId"):
            if forbidden in body:
                raise bad_request(f"The property '{forbidden}' can't be updated.")
        properties = (
            parse_properties(body["singleValueExtendedProperties"])
            if "singleValueExtendedProperties" in body
            else None
        )
        if not item.organizer:
            return self._patch_copy(view, body, properties)
        if item.meeting.deleted or item.cancelled:
            raise bad_request("The meeting was cancelled and can't be changed.")
        if view.original is None:
            self._patch_master(view, body)
            if properties is not None:
                item.properties.update(properties)
        else:
            self._patch_occurrence(view, body)
            if properties is not None:
                item.occurrence_properties.setdefault(view.original, {}).update(properties)
        item.meeting.touch(now)
        self._sync_copies(item.meeting, now)
        self._post(item.meeting)
        return view

    def _patch_copy(
        self,
        view: View,
        body: Mapping[str, Any],
        properties: dict[str, str] | None,
    ) -> View:
        """An attendee changes only their own copy's personal fields (never the meeting)."""
        unknown = set(body) - {*_ATTENDEE_FIELDS, "singleValueExtendedProperties"}
        if unknown:
            raise GraphError(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. Only the organizer can change "
                f"{', '.join(sorted(unknown))} of a meeting.",
            )
        view.item.local.update(content_fields(body, view.fields()))
        if properties is not None:
            if view.original is None:
                view.item.properties.update(properties)
            else:
                view.item.occurrence_properties.setdefault(view.original, {}).update(properties)
        view.item.version += 1
        return view

    def _patch_master(self, view: View, body: Mapping[str, Any]) -> None:
        meeting = view.meeting
        fields = content_fields(body, meeting.fields)
        start, start_zone, wall = (
            _wall_when(body, "start") if "start" in body else (None, None, None)
        )
        end, end_zone = _when(body, "end") if "end" in body else (None, None)
        new_start = start or meeting.start
        new_end = end or (
            meeting.end if start is None else new_start + (meeting.end - meeting.start)
        )
        _check_order(new_start, new_end)
        zone_name = start_zone or meeting.start_zone
        old_rule = meeting.recurrence
        moved = wall is not None and (new_start != meeting.start or wall.time() != meeting.wall)
        if "recurrence" in body:
            new_rule = _recurrence(body["recurrence"], zone_name)
        elif moved and wall is not None and old_rule is not None:
            new_rule = rr.Recurrence(**{**_rule_dict(old_rule), "start_date": wall.date()})
        else:
            new_rule = old_rule
        meeting.fields.update(fields)
        meeting.start, meeting.end = new_start, new_end
        if wall is not None:
            meeting.wall = wall.time()
        if start_zone:
            meeting.start_zone = start_zone
        if end_zone:
            meeting.end_zone = end_zone
        meeting.recurrence = new_rule
        if new_rule is None:
            meeting.overrides.clear()
            meeting.cancelled.clear()
            return
        self._snap_to_first(meeting)
        keep = old_rule is not None and not moved and new_rule.same_pattern(old_rule)
        if not keep:
            meeting.overrides.clear()
            meeting.cancelled.clear()
            return
        for original in list(meeting.overrides):
            if not self._on_rule(meeting, original):
                del meeting.overrides[original]
        meeting.cancelled = {o for o in meeting.cancelled if self._on_rule(meeting, o)}

    def _patch_occurrence(self, view: View, body: Mapping[str, Any]) -> None:
        if "recurrence" in body and body["recurrence"] is not None:
            raise bad_request("An occurrence of a series can't have its own recurrence.")
        assert view.original is not None
        meeting = view.meeting
        override = meeting.overrides.setdefault(view.original, Override())
        old_start, old_end, _, _ = view.times()
        override.fields.update(content_fields(body, view.fields()))
        if "start" in body or "end" in body:
            start, start_zone = _when(body, "start") if "start" in body else (old_start, None)
            end, end_zone = (
                _when(body, "end") if "end" in body else (start + (old_end - old_start), None)
            )
            _check_order(start, end)
            override.start, override.end = start, end
            override.start_zone = start_zone or override.start_zone
            override.end_zone = end_zone or override.end_zone
        override.version += 1

    def delete(self, owner: str, event_id: str, if_match: str | None, now: datetime) -> None:
        """Delete an event or series, or cancel one occurrence (organizer) / drop a copy."""
        view = self.view(owner, event_id)
        self.check_etag(view, if_match)
        item = view.item
        meeting = item.meeting
        mailbox = self.mailbox(owner)
        if view.original is not None:
            if item.organizer:
                meeting.cancelled.add(view.original)
                meeting.overrides.pop(view.original, None)
                meeting.touch(now)
                self._post(meeting)
            else:
                # An attendee removing one occurrence declines it for themselves.
                item.occurrence_responses[view.original] = ("declined", now)
                item.version += 1
            return
        del mailbox.items[item.id]
        if not item.organizer:
            return
        meeting.deleted = True
        meeting.touch(now)
        self._cancel_copies(meeting)
        self._post(meeting)

    def _cancel_copies(self, meeting: Meeting) -> None:
        for other in self.mailboxes.values():
            for copy in other.items.values():
                if copy.meeting is meeting:
                    copy.cancelled = True

    def respond(self, owner: str, event_id: str, action: str, now: datetime) -> None:
        """accept / tentativelyAccept / decline by an attendee."""
        view = self.view(owner, event_id)
        item = view.item
        if item.organizer:
            raise bad_request(
                "Your request can't be completed. You can't respond to a meeting you organized."
            )
        if item.cancelled:
            raise bad_request("Your request can't be completed. The meeting was cancelled.")
        response = _RESPONSES[action.lower()]
        if view.original is None:
            item.response, item.response_time = response, now
            item.occurrence_responses.clear()
        else:
            item.occurrence_responses[view.original] = (response, now)
        item.version += 1
        meeting = item.meeting
        lists = [meeting.fields.get("attendees", [])]
        if view.original is not None and view.original in meeting.overrides:
            lists.append(meeting.overrides[view.original].fields.get("attendees", []))
        for attendees in lists:
            for attendee in attendees:
                if _address(attendee) == owner.lower():
                    attendee["status"] = {"response": response, "time": utc_stamp(now)}
        meeting.version += 1

    # -- attachments ---------------------------------------------------------------------------

    def add_attachment(
        self, owner: str, event_id: str, body: Mapping[str, Any], now: datetime
    ) -> Attachment:
        """Add a file attachment (an occurrence gets its own list, becoming an exception)."""
        view = self.view(owner, event_id)
        if not view.item.organizer:
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        kind = str(body.get("@odata.type", ""))
        if kind.lstrip("#") != "microsoft.graph.fileAttachment":
            raise bad_request("Only #microsoft.graph.fileAttachment is supported here.")
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise bad_request("The attachment name is required.")
        try:
            content = base64.b64decode(str(body.get("contentBytes") or ""), validate=True)
        except ValueError as exc:
            raise bad_request("contentBytes must be base64.") from exc
        if len(content) > ATTACHMENT_LIMIT:
            raise GraphError(
                413,
                "ErrorRequestEntityTooLarge",
                "The request is larger than 3 MB: use an upload session for larger attachments.",
            )
        attachment = Attachment(
            id=new_id(b"\x02"),
            name=name,
            content_type=str(body.get("contentType") or "application/octet-stream"),
            content=content,
            modified=now,
            is_inline=bool(body.get("isInline", False)),
            content_id=body.get("contentId"),
        )
        meeting = view.meeting
        if view.original is None:
            meeting.attachments.append(attachment)
        else:
            override = meeting.overrides.setdefault(view.original, Override())
            if override.attachments is None:
                override.attachments = list(meeting.attachments)
            override.attachments.append(attachment)
            override.version += 1
        meeting.touch(now)
        return attachment

    def attachment(self, owner: str, event_id: str, attachment_id: str) -> Attachment:
        """One attachment of an event; 404 when it has none with that id."""
        view = self.view(owner, event_id)
        for attachment in view.attachments():
            if attachment.id == attachment_id:
                return attachment
        raise not_found()

    def delete_attachment(
        self, owner: str, event_id: str, attachment_id: str, now: datetime
    ) -> None:
        """Remove an attachment from an event or occurrence."""
        view = self.view(owner, event_id)
        if not view.item.organizer:
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        meeting = view.meeting
        target = meeting.attachments
        if view.original is not None:
            override = meeting.overrides.setdefault(view.original, Override())
            if override.attachments is None:
                override.attachments = list(meeting.attachments)
            override.version += 1
            target = override.attachments
        for index, attachment in enumerate(target):
            if attachment.id == attachment_id:
                del target[index]
                meeting.touch(now)
                return
        raise not_found()

    # -- free/busy -----------------------------------------------------------------------------

    def busy(self, owner: str, lo: datetime, hi: datetime) -> list[tuple[View, str]]:
        """The events that make `owner` anything but free in [lo, hi), with their status."""
        found: list[tuple[View, str]] = []
        for view in self.calendar_view(owner, lo, hi):
            if view.cancelled():
                continue
            status = view.show_as()
            if status != "free":
                found.append((view, status))
        return found


_PARTSTAT = {
    "accepted": "ACCEPTED",
    "tentativelyAccepted": "TENTATIVE",
    "declined": "DECLINED",
    "organizer": "ACCEPTED",
}
_RESPONSE_OF = {"ACCEPTED": "accepted", "TENTATIVE": "tentativelyAccepted", "DECLINED": "declined"}


def _inner_html(body: Mapping[str, Any]) -> str:
    """A body as mail carries it: the content of Exchange's HTML document, or the text."""
    content = str(body.get("content", ""))
    match = re.search(r"(?is)<body[^>]*>\r?\n?(.*?)\r?\n?</body>", content)
    return match[1] if match and body.get("contentType") == "html" else content


def _incoming(part: relay.Invitation | relay.Instance) -> dict[str, Any]:
    """The content fields an invitation (or one changed occurrence of it) sets, as a Graph
    request body names them; None leaves a field to the series."""
    body: dict[str, Any] = {}
    if part.summary is not None:
        body["subject"] = part.summary
    if part.description is not None:
        body["body"] = {"contentType": "html", "content": part.description}
    if part.location is not None:
        body["location"] = {"displayName": part.location}
    if isinstance(part, relay.Invitation):
        body["attendees"] = [
            {
                "emailAddress": {"address": p.address, "name": p.name or p.address},
                "type": "optional" if p.optional else "required",
            }
            for p in part.attendees
        ]
    return body


def _rule_dict(rule: rr.Recurrence) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in rule.__dataclass_fields__}


def availability_view(
    busy: list[tuple[datetime, datetime, str]], lo: datetime, hi: datetime, minutes: int
) -> str:
    """One digit per interval: the busiest status overlapping it (0 free ... 4 elsewhere).

    Each busy span marks only the intervals it overlaps: a year's view of a full calendar is
    made in time with its spans, not with their product.
    """
    step = timedelta(minutes=minutes)
    count = min(10_000, math.ceil((hi - lo) / step)) if hi > lo else 0
    best = ["free"] * count
    for start, end, status in busy:
        rank = _RANK.get(status, 3)
        shown = status if status in _RANK else "busy"
        first = max(0, math.floor((start - lo) / step))
        last = min(count, math.ceil((end - lo) / step))
        for i in range(first, last):
            if rank > _RANK[best[i]]:
                best[i] = shown
    return "".join(_VIEW_CHAR[b] for b in best)


# -- output -------------------------------------------------------------------------------------


def _preview(body: Mapping[str, Any]) -> str:
    content = str(body.get("content", ""))
    if body.get("contentType") == "html":
        content = re.sub(r"(?is)<(head|style|script)\b.*?</\1>", " ", content)
        content = html.unescape(re.sub(r"<[^>]+>", " ", content))
    return " ".join(content.split())[:255]


def render(
    view: View,
    zone_name: str,
    *,
    organizer_name: str,
    select: set[str] | None = None,
    expand: Callable[[dict[str, str]], list[dict[str, str]]] | None = None,
    attachments: bool = False,
    attachment_select: set[str] | None = None,
) -> dict[str, Any]:
    """The event as Graph returns it, with times in `zone_name` (Windows or IANA); with
    `attachments` (``$expand=attachments``) its attachments, cut to `attachment_select`."""
    meeting = view.meeting
    fields = view.fields()
    start, end, start_zone, end_zone = view.times()
    cancelled = view.cancelled() and not view.item.organizer
    response, response_time = view.response()
    subject = str(fields.get("subject", ""))
    if cancelled:
        subject = f"Canceled: {subject}"
    online = bool(fields.get("isOnlineMeeting"))
    data: dict[str, Any] = {
        "@odata.etag": view.etag(),
        "id": view.id,
        "createdDateTime": utc_stamp(view.item.created),
        "lastModifiedDateTime": utc_stamp(meeting.modified),
        "changeKey": view.change_key(),
        "categories": list(fields.get("categories", [])),
        "transactionId": view.item.transaction_id,
        "originalStartTimeZone": start_zone,
        "originalEndTimeZone": end_zone,
        "iCalUId": view.ical_uid(),
        "reminderMinutesBeforeStart": fields.get("reminderMinutesBeforeStart", 15),
        "isReminderOn": fields.get("isReminderOn", True),
        "hasAttachments": bool(view.attachments()),
        "subject": subject,
        "bodyPreview": _preview(fields["body"]),
        "importance": fields.get("importance", "normal"),
        "sensitivity": fields.get("sensitivity", "normal"),
        "isAllDay": fields.get("isAllDay", False),
        "isCancelled": cancelled,
        "isOrganizer": view.item.organizer,
        "responseRequested": fields.get("responseRequested", True),
        "seriesMasterId": view.item.id if view.original is not None else None,
        "showAs": view.show_as(),
        "type": view.kind,
        "webLink": "https://outlook.office365.com/owa/?itemid="
        + quote(view.id, safe="")
        + "&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": online,
        "onlineMeetingProvider": fields.get("onlineMeetingProvider", "unknown"),
        "allowNewTimeProposals": fields.get("allowNewTimeProposals", True),
        "isDraft": False,
        "hideAttendees": fields.get("hideAttendees", False),
        "responseStatus": {
            "response": response,
            "time": utc_stamp(response_time) if response_time else NO_TIME,
        },
        "body": dict(fields["body"]),
        "start": date_time_zone(start, zone_name),
        "end": date_time_zone(end, zone_name),
        "location": dict(fields["location"]),
        "locations": [dict(x) for x in fields.get("locations", [])],
        "recurrence": meeting.recurrence.to_json()
        if meeting.recurrence and view.original is None
        else None,
        "attendees": [dict(a) for a in fields.get("attendees", [])],
        "organizer": {"emailAddress": {"name": organizer_name, "address": meeting.organizer}},
        "onlineMeeting": {
            "joinUrl": "https://teams.microsoft.com/l/meetup-join/" + meeting.uid[-32:]
        }
        if online
        else None,
    }
    if view.original is not None:
        data["originalStart"] = short_stamp(view.original)
    if data["transactionId"] is None:
        # Graph returns transactionId only when the app set one.
        del data["transactionId"]
    if select is not None:
        keep = {"@odata.etag", "id"} | select
        data = {k: v for k, v in data.items() if k in keep}
    if expand is not None:
        data["singleValueExtendedProperties"] = expand(view.properties())
    if attachments:
        data["attachments"] = [
            selected_attachment(a, attachment_select) for a in view.attachments()
        ]
    return data


def selected_attachment(attachment: Attachment, select: set[str] | None) -> dict[str, Any]:
    """An attachment as listed or expanded: all of it, or its type, id and what `$select`
    names (Graph leaves out the rest, the bytes too)."""
    with_bytes = select is None or "contentBytes" in select
    data = attachment.to_json(with_bytes=with_bytes)
    if select is None:
        return data
    keep = {"@odata.type", "id"} | select
    return {k: v for k, v in data.items() if k in keep}
