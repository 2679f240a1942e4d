"""Calendar v3 as the emulator serves it: events, recurring events and their instances, freeBusy.

Each stored event belongs to its organizer. An attendee who is a user of the emulator sees the same
event, under the same id, in their own calendar (Google gives every copy of an invitation the
organizer's event id and iCalUID). A recurring event keeps its rule and a map of exceptions, keyed
by the original start: a patched instance stores only the fields it changed, so a later change of
the series still reaches the fields the instance left alone; a deleted instance is an exception
with status ``cancelled``.

Guests who are not users are reached by mail when the organizer asks for it (``sendUpdates=all``
or ``externalOnly``; Google's default sends nothing): `CalendarApi.outbox`, set by a relay to
another emulator, gets each such write as an iMIP REQUEST or CANCEL. `CalendarApi.receive` stores
an invitation from outside as an event of its external organizer, seen by the invited users as
they see any event they are invited to (see `emulators.relay`).
"""

from __future__ import annotations

import base64
import copy
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulators import _google_recurrence as recurrence
from emulators import relay
from emulators._google_http import (
    ApiError,
    Call,
    Reply,
    bad_request,
    local_stamp,
    not_found,
    page,
    parse_instant,
    stamp,
)

EVENT_FIELDS = frozenset(
    [
        "anyoneCanAddSelf",
        "attachments",
        "attendees",
        "attendeesOmitted",
        "birthdayProperties",
        "colorId",
        "conferenceData",
        "created",
        "creator",
        "description",
        "end",
        "endTimeUnspecified",
        "etag",
        "eventLabelId",
        "eventType",
        "extendedProperties",
        "focusTimeProperties",
        "gadget",
        "guestsCanInviteOthers",
        "guestsCanModify",
        "guestsCanSeeOtherGuests",
        "hangoutLink",
        "htmlLink",
        "iCalUID",
        "id",
        "kind",
        "location",
        "locked",
        "organizer",
        "originalStartTime",
        "outOfOfficeProperties",
        "privateCopy",
        "recurrence",
        "recurringEventId",
        "reminders",
        "sequence",
        "source",
        "start",
        "status",
        "summary",
        "transparency",
        "updated",
        "visibility",
        "workingLocationProperties",
    ]
)
"""Every property of the discovery document's Event schema."""

OUTPUT_ONLY = frozenset(
    [
        "kind",
        "etag",
        "htmlLink",
        "created",
        "updated",
        "creator",
        "organizer",
        "hangoutLink",
        "recurringEventId",
        "originalStartTime",
        "iCalUID",
        "id",
        "sequence",
        "locked",
        "privateCopy",
        "endTimeUnspecified",
    ]
)
"""Fields a client may send back (read, change, write) that the server sets itself."""

ENUMS: dict[str, tuple[str, ...]] = {
    "status": ("confirmed", "tentative", "cancelled"),
    "transparency": ("opaque", "transparent"),
    "visibility": ("default", "public", "private", "confidential"),
    "eventType": (
        "default",
        "birthday",
        "focusTime",
        "fromGmail",
        "outOfOffice",
        "workingLocation",
    ),
}
RESPONSES = ("needsAction", "declined", "tentative", "accepted")
MAX_ATTACHMENTS = 25
FREEBUSY_SPAN = timedelta(days=90)
"""freebusy.query's longest span (Google answers 400 timeRangeTooLong beyond, about three
months)."""
ID_PATTERN = re.compile(r"[a-v0-9]{5,1024}")
"""Client-supplied event ids: base32hex (RFC 2938 3.1.2), 5 to 1024 characters."""
DRIVE_LINK = re.compile(r"https://drive\.google\.com/(?:file/d/([^/?#]+)|open\?id=([^&#]+))")
ETAG_BASE = 3_400_000_000_000_000


class Directory(Protocol):
    """What the calendar needs to know about the emulator's users and drives."""

    def known(self, email: str) -> bool:
        """Whether `email` is a user of the emulator."""
        ...

    def tz_of(self, email: str) -> str:
        """The user's calendar time zone."""
        ...

    def name_of(self, email: str) -> str:
        """The user's display name ('' when none)."""
        ...

    def drive_file(self, file_id: str) -> dict[str, str] | None:
        """Title, mimeType and iconLink of a Drive file, or None."""
        ...


@dataclass
class Exception_:
    """One changed or cancelled instance of a recurring event."""

    fields: dict[str, Any]
    etag: str
    updated: datetime


@dataclass
class Stored:
    """One event as stored under its organizer, with its exceptions when it recurs."""

    id: str
    organizer: str
    body: dict[str, Any]
    created: datetime
    updated: datetime
    etag: str
    ical_uid: str
    sequence: int = 0
    deleted: bool = False
    exceptions: dict[str, Exception_] = field(default_factory=dict)
    organizer_name: str = ""
    """The display name an invitation from outside gave its organizer."""
    external: bool = False
    """True for an invitation received from outside: its organizer is no user here."""
    mailed: set[str] = field(default_factory=set)
    """The addresses outside the emulator the last REQUEST went to."""

    @property
    def recurring(self) -> bool:
        """Whether the event has recurrence lines."""
        return bool(self.body.get("recurrence"))


@dataclass
class When:
    """A start or end: an aware instant with its zone name, or an all-day date."""

    instant: datetime | None
    day: date | None
    zone: str | None

    def key(self) -> datetime:
        """An aware instant to order and compare by (an all-day date is its UTC midnight)."""
        if self.instant is not None:
            return self.instant
        assert self.day is not None
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)


@dataclass
class Occurrence:
    """One instance (or a single event) as a viewer sees it, before rendering."""

    stored: Stored
    body: dict[str, Any]
    original: datetime | None
    etag: str
    updated: datetime

    @property
    def start(self) -> datetime:
        """The effective start, for windows and order."""
        return _when(self.body["start"], "start").key()

    @property
    def end(self) -> datetime:
        """The effective end."""
        return _when(self.body["end"], "end").key()

    @property
    def cancelled(self) -> bool:
        """Whether the instance (or event) is cancelled."""
        return bool(self.body.get("status") == "cancelled")

    @property
    def id(self) -> str:
        """The event id, or ``<master>_<original start>`` for an instance."""
        if self.original is None:
            return self.stored.id
        return f"{self.stored.id}_{recurrence.instance_key(self.original)}"


def _zone(name: str, what: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad_request(f"Invalid time zone definition for {what} time.") from exc


def _when(value: Any, what: str, *, required_zone: bool = False) -> When:
    """Parse an EventDateTime; a zone-less dateTime takes its ``timeZone``."""
    if not isinstance(value, dict):
        raise bad_request(f"Missing {what} time.", "required")
    zone_name = value.get("timeZone")
    if zone_name is not None:
        _zone(zone_name, what)
    if value.get("date") and value.get("dateTime"):
        raise bad_request(f"Invalid {what} time: give date or dateTime, not both.")
    if value.get("date"):
        try:
            return When(None, date.fromisoformat(value["date"]), zone_name)
        except (ValueError, TypeError) as exc:
            raise bad_request(f"Invalid {what} time.") from exc
    raw = value.get("dateTime")
    if not isinstance(raw, str):
        raise bad_request(f"Missing {what} time.", "required")
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError as exc:
        raise bad_request(f"Invalid {what} time.") from exc
    if moment.tzinfo is None:
        if zone_name is None:
            raise bad_request(f"Missing time zone definition for {what} time.", "required")
        moment = moment.replace(tzinfo=_zone(zone_name, what))
    if required_zone and zone_name is None:
        raise bad_request(f"Missing time zone definition for {what} time.", "required")
    return When(moment.astimezone(UTC), None, zone_name)


def _wall(value: dict[str, Any], zone: ZoneInfo) -> datetime | None:
    """A zone-less dateTime as the wall-clock time it names in `zone`, unnormalised.

    Expansion starts from it, so a DTSTART inside a DST gap shifts only its own instance.
    """
    moment = datetime.fromisoformat(str(value["dateTime"]).replace("z", "Z"))
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else None


def _zoned(instant: datetime, zone: ZoneInfo) -> str:
    """An instant in `zone`, UTC written with ``Z`` as Google writes free/busy blocks."""
    if zone.key == "UTC":
        return f"{instant.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"
    return local_stamp(instant.astimezone(zone))


def _etag(counter: Iterator[int]) -> str:
    return f'"{ETAG_BASE + next(counter)}"'


def _matches(if_match: str | None, etag: str) -> bool:
    """RFC 7232 If-Match: ``*`` or the same tag (quotes and a weak prefix aside)."""
    if if_match is None or if_match.strip() == "*":
        return True
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    return etag.strip('"') in wanted


def _emails(attendees: Any) -> set[str]:
    if not isinstance(attendees, list):
        return set()
    return {str(a.get("email", "")).lower() for a in attendees if isinstance(a, dict)}


_PARTSTAT = {"accepted": "ACCEPTED", "tentative": "TENTATIVE", "declined": "DECLINED"}
_RESPONSE_OF = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}


def _event_time(instant: datetime, zone: ZoneInfo) -> dict[str, str]:
    return {"dateTime": local_stamp(instant.astimezone(zone)), "timeZone": zone.key}


def _guest(person: relay.Person) -> dict[str, Any]:
    guest: dict[str, Any] = {"email": person.address}
    if person.name and person.name != person.address:
        guest["displayName"] = person.name
    if person.optional:
        guest["optional"] = True
    guest["responseStatus"] = _RESPONSE_OF.get(person.partstat, "needsAction")
    return guest


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Patch semantics: objects merge field by field, arrays and values replace, null clears."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class CalendarApi:
    """The Calendar v3 handlers over one shared, lock-guarded store."""

    def __init__(
        self,
        directory: Directory,
        now: Callable[[], datetime],
        counter: Iterator[int],
    ) -> None:
        self.directory = directory
        self.now = now
        self.counter = counter
        self.events: dict[str, Stored] = {}
        self.outbox: relay.Outbox | None = None
        """Where invitations to guests outside the emulator go (None: nowhere)."""

    def reset(self) -> None:
        """Forget every event."""
        self.events.clear()

    # -- access -------------------------------------------------------------------------------

    def _calendar(self, call: Call, *, own: bool = True) -> str:
        """The calendar a path names: ``primary`` or a user's email (only one's own here)."""
        calendar_id = call.args["calendarId"]
        email = call.user if calendar_id == "primary" else calendar_id.lower()
        if not self.directory.known(email) or (own and email != call.user):
            raise not_found()
        return email

    def _visible(self, occurrence: Occurrence, viewer: str) -> bool:
        stored = occurrence.stored
        return stored.organizer == viewer or viewer in _emails(occurrence.body.get("attendees"))

    def _find(self, event_id: str, viewer: str) -> tuple[Stored, datetime | None]:
        """The stored event (and an instance's original start) `event_id` names for `viewer`."""
        stored = self.events.get(event_id)
        original: datetime | None = None
        if stored is None and "_" in event_id:
            master_id, key = event_id.rsplit("_", 1)
            stored = self.events.get(master_id)
            original = recurrence.parse_instance_key(key)
            if stored is None or original is None or not stored.recurring:
                raise not_found()
            if stored.deleted:
                raise not_found()
            if not self._rule(stored).contains(original):
                raise not_found()
        if stored is None:
            raise not_found()
        occurrence = self._occurrence(stored, original) if original else self._single(stored)
        if not self._visible(occurrence, viewer):
            raise not_found()
        return stored, original

    def _sees_any(self, stored: Stored, viewer: str) -> bool:
        """Whether `viewer` is invited to the event or to any exception of it."""
        if stored.organizer == viewer or viewer in _emails(stored.body.get("attendees")):
            return True
        return any(viewer in _emails(e.fields.get("attendees")) for e in stored.exceptions.values())

    # -- expansion ----------------------------------------------------------------------------

    def _rule(self, stored: Stored) -> recurrence.Recurrence:
        start = _when(stored.body["start"], "start")
        if start.instant is not None:
            zone = _zone(start.zone or "UTC", "start")
            return recurrence.parse(
                stored.body["recurrence"], _wall(stored.body["start"], zone) or start.instant, zone
            )
        assert start.day is not None
        return recurrence.parse(stored.body["recurrence"], start.day, None)

    def _single(self, stored: Stored) -> Occurrence:
        body = copy.deepcopy(stored.body)
        if stored.deleted:
            body["status"] = "cancelled"
        return Occurrence(stored, body, None, stored.etag, stored.updated)

    def _occurrence(self, stored: Stored, original: datetime) -> Occurrence:
        """One instance: the master's fields at the original time, the exception's on top."""
        body = {k: copy.deepcopy(v) for k, v in stored.body.items() if k != "recurrence"}
        start = _when(stored.body["start"], "start")
        end = _when(stored.body["end"], "end")
        if start.instant is not None:
            zone_name = start.zone or "UTC"
            local = original.astimezone(ZoneInfo(zone_name))
            length = end.key() - start.key()
            body["start"] = {"dateTime": local_stamp(local), "timeZone": zone_name}
            body["end"] = {
                "dateTime": local_stamp(
                    (local + length).astimezone(ZoneInfo(end.zone or zone_name))
                ),
                "timeZone": end.zone or zone_name,
            }
        else:
            assert start.day is not None and end.day is not None
            days = end.day - start.day
            body["start"] = {"date": original.date().isoformat()}
            body["end"] = {"date": (original.date() + days).isoformat()}
        exception = stored.exceptions.get(recurrence.instance_key(original))
        etag, updated = stored.etag, stored.updated
        if exception is not None:
            _merge(body, exception.fields)
            etag, updated = exception.etag, exception.updated
        return Occurrence(stored, body, original, etag, updated)

    def _instances(
        self, stored: Stored, lo: datetime | None, hi: datetime | None, limit: int
    ) -> list[Occurrence]:
        """Instances whose effective time overlaps [lo, hi), exceptions applied, by start."""
        rule = self._rule(stored)
        length = _when(stored.body["end"], "end").key() - _when(stored.body["start"], "start").key()
        originals: dict[str, datetime] = {}
        if lo is None and hi is None:
            candidates = rule.first(limit)
        else:
            low = (lo - length - timedelta(days=1)) if lo else datetime(1970, 1, 1, tzinfo=UTC)
            high = hi if hi else low + timedelta(days=3660)
            candidates = rule.between(low, high + timedelta(days=1))
        for original in candidates:
            originals[recurrence.instance_key(original)] = original
        for key in stored.exceptions:
            parsed = recurrence.parse_instance_key(key)
            if parsed is not None and key not in originals:
                originals[key] = parsed
        found = []
        for original in originals.values():
            occurrence = self._occurrence(stored, original)
            if (hi is None or occurrence.start < hi) and (lo is None or occurrence.end > lo):
                found.append(occurrence)
        found.sort(key=lambda o: (o.start, o.id))
        return found[:limit]

    def _drop_lost_exceptions(self, stored: Stored) -> None:
        """Exceptions whose original start the (new) rule no longer has are gone."""
        rule = self._rule(stored)
        for key in list(stored.exceptions):
            original = recurrence.parse_instance_key(key)
            if original is None or not rule.contains(original):
                del stored.exceptions[key]

    # -- rendering ----------------------------------------------------------------------------

    def render(
        self, occurrence: Occurrence, viewer: str, zone: str | None = None
    ) -> dict[str, Any]:
        """The Event resource `viewer` sees, times in `zone` (the viewer's calendar zone)."""
        stored, body = occurrence.stored, occurrence.body
        out_zone = ZoneInfo(zone or self.directory.tz_of(viewer))
        event: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": occurrence.etag,
            "id": occurrence.id,
            "status": body.get("status", "confirmed"),
            "htmlLink": "https://www.google.com/calendar/event?eid="
            + base64.urlsafe_b64encode(f"{occurrence.id} {viewer}".encode()).decode().rstrip("="),
            "created": stamp(stored.created),
            "updated": stamp(occurrence.updated),
        }
        if occurrence.cancelled and occurrence.original is not None:
            # A cancelled instance carries only what identifies it, as Google sends it.
            event["recurringEventId"] = stored.id
            event["originalStartTime"] = self._original(stored, occurrence.original, out_zone)
            return event
        for key in ("summary", "description", "location", "colorId"):
            if key in body:
                event[key] = body[key]
        event["creator"] = self._person(stored.organizer, viewer, stored.organizer_name)
        event["organizer"] = self._person(stored.organizer, viewer, stored.organizer_name)
        event["start"] = self._time(body["start"], out_zone)
        event["end"] = self._time(body["end"], out_zone)
        if occurrence.original is None and body.get("recurrence"):
            event["recurrence"] = list(body["recurrence"])
        if occurrence.original is not None:
            event["recurringEventId"] = stored.id
            event["originalStartTime"] = self._original(stored, occurrence.original, out_zone)
        for key in ("transparency", "visibility"):
            if key in body:
                event[key] = body[key]
        event["iCalUID"] = stored.ical_uid
        event["sequence"] = stored.sequence
        if body.get("attendees"):
            event["attendees"] = [self._attendee(a, stored, viewer) for a in body["attendees"]]
        for key in (
            "extendedProperties",
            "attachments",
            "conferenceData",
            "source",
            "guestsCanInviteOthers",
            "guestsCanModify",
            "guestsCanSeeOtherGuests",
            "anyoneCanAddSelf",
            "focusTimeProperties",
            "outOfOfficeProperties",
            "workingLocationProperties",
        ):
            if key in body and body[key] != []:
                event[key] = copy.deepcopy(body[key])
        event["reminders"] = copy.deepcopy(body.get("reminders", {"useDefault": True}))
        event["eventType"] = body.get("eventType", "default")
        return event

    def _original(self, stored: Stored, original: datetime, zone: ZoneInfo) -> dict[str, str]:
        if original.tzinfo is None:
            return {"date": original.date().isoformat()}
        zone_name = stored.body["start"].get("timeZone") or "UTC"
        return {"dateTime": local_stamp(original.astimezone(zone)), "timeZone": zone_name}

    def _time(self, value: dict[str, Any], zone: ZoneInfo) -> dict[str, str]:
        if value.get("date"):
            return {"date": value["date"]}
        when = _when(value, "start")
        assert when.instant is not None
        out = {"dateTime": local_stamp(when.instant.astimezone(zone))}
        if when.zone:
            out["timeZone"] = when.zone
        return out

    def _person(self, email: str, viewer: str, known_name: str = "") -> dict[str, Any]:
        person: dict[str, Any] = {"email": email}
        name = self.directory.name_of(email) or known_name
        if name:
            person["displayName"] = name
        if email == viewer:
            person["self"] = True
        return person

    def _attendee(self, attendee: dict[str, Any], stored: Stored, viewer: str) -> dict[str, Any]:
        out = dict(attendee)
        email = str(attendee.get("email", "")).lower()
        if email == stored.organizer:
            out["organizer"] = True
        if email == viewer:
            out["self"] = True
        if "displayName" not in out and self.directory.name_of(email):
            out["displayName"] = self.directory.name_of(email)
        out.setdefault("responseStatus", "needsAction")
        return out

    # -- validation ---------------------------------------------------------------------------

    def _clean(self, call: Call, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """The writable fields of a request body, validated; output-only fields dropped."""
        unknown = sorted(set(body) - EVENT_FIELDS)
        if unknown:
            raise bad_request(
                f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.',
                "invalid",
            )
        clean = {k: copy.deepcopy(v) for k, v in body.items() if k not in OUTPUT_ONLY}
        for key, allowed in ENUMS.items():
            if key in clean and clean[key] is not None and clean[key] not in allowed:
                raise bad_request(f"Invalid value for: {key}")
        if not creating:
            clean.pop("eventType", None)
        if call.integer("conferenceDataVersion", 0, 0, 1) == 0:
            clean.pop("conferenceData", None)
        if "attendees" in clean and clean["attendees"] is not None:
            clean["attendees"] = self._clean_attendees(clean["attendees"])
        if "extendedProperties" in clean and clean["extendedProperties"] is not None:
            self._check_properties(clean["extendedProperties"])
        if clean.get("recurrence") is not None and not isinstance(clean["recurrence"], list):
            raise bad_request("Invalid recurrence rule.")
        if "attachments" in clean:
            if call.flag("supportsAttachments"):
                clean["attachments"] = self._clean_attachments(clean["attachments"] or [])
            else:
                # Without supportsAttachments the field cannot be modified: it is left as it was.
                del clean["attachments"]
        return clean

    def _clean_attendees(self, attendees: Any) -> list[dict[str, Any]]:
        if not isinstance(attendees, list):
            raise bad_request("Invalid attendees.")
        clean = []
        seen: set[str] = set()
        for attendee in attendees:
            if not isinstance(attendee, dict) or not attendee.get("email"):
                raise bad_request("Missing attendee email.", "required")
            email = str(attendee["email"]).strip()
            if "@" not in email:
                raise bad_request("Invalid attendee email.")
            status = attendee.get("responseStatus", "needsAction")
            if status not in RESPONSES:
                raise bad_request("Invalid value for: responseStatus")
            if email.lower() in seen:
                continue
            seen.add(email.lower())
            kept = {
                k: attendee[k]
                for k in ("email", "displayName", "optional", "comment", "additionalGuests")
                if k in attendee
            }
            kept["email"] = email
            kept["responseStatus"] = status
            clean.append(kept)
        return clean

    def _check_properties(self, properties: Any) -> None:
        if not isinstance(properties, dict) or set(properties) - {"private", "shared"}:
            raise bad_request("Invalid extendedProperties.")
        for scope in properties.values():
            if scope is None:
                continue
            if not isinstance(scope, dict) or not all(
                isinstance(v, str | None) for v in scope.values()
            ):
                raise bad_request("Invalid extendedProperties: values must be strings.")

    def _clean_attachments(self, attachments: Any) -> list[dict[str, Any]]:
        if not isinstance(attachments, list):
            raise bad_request("Invalid attachments.")
        if len(attachments) > MAX_ATTACHMENTS:
            raise bad_request(f"An event can have at most {MAX_ATTACHMENTS} attachments.")
        clean = []
        for attachment in attachments:
            if not isinstance(attachment, dict) or not attachment.get("fileUrl"):
                raise bad_request("Missing attachment fileUrl.", "required")
            kept = {
                k: attachment[k]
                for k in ("fileUrl", "title", "mimeType", "iconLink")
                if k in attachment
            }
            link = DRIVE_LINK.match(attachment["fileUrl"])
            if link:
                file_id = link.group(1) or link.group(2)
                known = self.directory.drive_file(file_id)
                if known is not None:
                    kept["fileId"] = file_id
                    kept.setdefault("title", known["title"])
                    kept["mimeType"] = known["mimeType"]
                    kept["iconLink"] = known["iconLink"]
            clean.append(kept)
        return clean

    def _check_times(self, body: dict[str, Any]) -> None:
        recurring = bool(body.get("recurrence"))
        start = _when(body.get("start"), "start", required_zone=recurring)
        end = _when(body.get("end"), "end")
        if (start.day is None) != (end.day is None):
            raise bad_request("Start and end times must either both be date or both be dateTime.")
        if end.key() < start.key() or (start.day is not None and end.key() == start.key()):
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        if recurring:
            self._rule_of(body)

    def _rule_of(self, body: dict[str, Any]) -> recurrence.Recurrence:
        probe = Stored("probe", "", body, self.now(), self.now(), "", "")
        return self._rule(probe)

    # -- handlers -----------------------------------------------------------------------------

    def insert(self, call: Call) -> Reply:
        """events.insert."""
        organizer = self._calendar(call)
        call.choice("sendUpdates", ("all", "externalOnly", "none"))
        body = call.json()
        event_id = body.get("id")
        if event_id is not None and (
            not isinstance(event_id, str) or not ID_PATTERN.fullmatch(event_id)
        ):
            raise bad_request("Invalid resource id value.")
        clean = self._clean(call, body, creating=True)
        self._check_times(clean)
        if event_id is None:
            event_id = base64.b32hexencode(uuid.uuid4().bytes).decode().lower().rstrip("=")
        elif event_id in self.events:
            raise ApiError(409, "The requested identifier already exists.", "duplicate")
        now = self.now()
        ical_uid = body.get("iCalUID") or f"{event_id}@google.com"
        clean.setdefault("eventType", "default")
        stored = Stored(event_id, organizer, clean, now, now, _etag(self.counter), ical_uid)
        self.events[event_id] = stored
        self._post(stored, call)
        return Reply(200, self.render(self._single(stored), organizer))

    def get(self, call: Call) -> Reply:
        """events.get: a cancelled event or instance is returned with status cancelled."""
        viewer = self._calendar(call)
        stored, original = self._find(call.args["eventId"], viewer)
        occurrence = self._occurrence(stored, original) if original else self._single(stored)
        return Reply(200, self.render(occurrence, viewer, call.query.get("timeZone")))

    def patch(self, call: Call) -> Reply:
        """events.patch."""
        return self._write(call, replace=False)

    def update(self, call: Call) -> Reply:
        """events.update: the body replaces every writable field."""
        return self._write(call, replace=True)

    def _writable(self, call: Call, viewer: str) -> tuple[Stored, datetime | None, Occurrence]:
        """The event a patch, update or delete names, once it may be written: not deleted,
        the If-Match current, and the viewer its organizer."""
        stored, original = self._find(call.args["eventId"], viewer)
        current = self._occurrence(stored, original) if original else self._single(stored)
        if stored.deleted or current.cancelled:
            raise ApiError(410, "Resource has been deleted", "deleted")
        if not _matches(call.header("If-Match"), current.etag):
            raise ApiError(412, "Precondition Failed", "conditionNotMet")
        if stored.organizer != viewer:
            # An attendee's copy takes no changes to the shared event here (Google keeps
            # attendee-side edits on the attendee's copy only).
            raise ApiError(
                403,
                "The operation can only be performed by the organizer of the event.",
                "forbiddenForNonOrganizer",
                domain="calendar",
            )
        return stored, original, current

    def _write(self, call: Call, *, replace: bool) -> Reply:
        viewer = self._calendar(call)
        call.choice("sendUpdates", ("all", "externalOnly", "none"))
        stored, original, current = self._writable(call, viewer)
        clean = self._clean(call, call.json(), creating=False)
        if original is not None:
            clean.pop("recurrence", None)
            return self._write_instance(call, stored, original, current, clean, replace=replace)
        body = copy.deepcopy(stored.body)
        if replace:
            kept = {"eventType": body.get("eventType", "default")}
            if "attachments" in body and "attachments" not in clean:
                kept["attachments"] = body["attachments"]
            body = {**kept, **clean}
        else:
            _merge(body, clean)
        self._check_times(body)
        timing = ("start", "end", "recurrence")
        if any(body.get(k) != stored.body.get(k) for k in timing):
            stored.sequence += 1
        stored.body = body
        stored.updated = self.now()
        stored.etag = _etag(self.counter)
        if stored.recurring:
            self._drop_lost_exceptions(stored)
        else:
            stored.exceptions.clear()
        self._post(stored, call)
        return Reply(200, self.render(self._single(stored), viewer))

    def _write_instance(
        self,
        call: Call,
        stored: Stored,
        original: datetime,
        current: Occurrence,
        clean: dict[str, Any],
        *,
        replace: bool,
    ) -> Reply:
        """Make or change an exception; only the fields that differ from the series are kept."""
        body = copy.deepcopy(current.body)
        if replace:
            body = {"start": body["start"], "end": body["end"], **clean}
        else:
            _merge(body, clean)
        self._check_times({k: v for k, v in body.items() if k != "recurrence"})
        series = self._occurrence(Stored(**{**stored.__dict__, "exceptions": {}}), original).body
        changed = {k: v for k, v in body.items() if series.get(k) != v}
        for key in series:
            if key not in body:
                changed[key] = None
        key = recurrence.instance_key(original)
        now = self.now()
        stored.exceptions[key] = Exception_(
            {k: v for k, v in changed.items() if v is not None or k in series},
            _etag(self.counter),
            now,
        )
        self._post(stored, call)
        return Reply(200, self.render(self._occurrence(stored, original), call.user))

    def delete(self, call: Call) -> Reply:
        """events.delete: a series goes with its instances; an instance becomes cancelled."""
        viewer = self._calendar(call)
        call.choice("sendUpdates", ("all", "externalOnly", "none"))
        stored, original, _current = self._writable(call, viewer)
        now = self.now()
        if original is None:
            # The id stays taken: inserting it again answers 409, as on Google.
            stored.deleted = True
            stored.exceptions.clear()
            stored.updated = now
            stored.etag = _etag(self.counter)
        else:
            stored.exceptions[recurrence.instance_key(original)] = Exception_(
                {"status": "cancelled"}, _etag(self.counter), now
            )
        self._post(stored, call)
        return Reply(204)

    # -- mail to and from other emulators ------------------------------------------------------

    def _post(self, stored: Stored, call: Call) -> None:
        """Mail the organizer's event to its guests outside the emulator, when the request
        asked for notifications: a REQUEST to those invited, a CANCEL to those no longer."""
        if self.outbox is None or stored.external:
            return
        if call.query.get("sendUpdates") not in ("all", "externalOnly"):
            return
        start = _when(stored.body["start"], "start")
        if start.instant is None:
            return  # all-day events are not relayed
        outside = (
            set()
            if stored.deleted
            else {
                e
                for e in _emails(stored.body.get("attendees"))
                if e and e != stored.organizer and not self.directory.known(e)
            }
        )
        dropped = stored.mailed - outside
        stored.mailed = outside
        if outside:
            self.outbox(self._invitation(stored, "REQUEST", outside))
        if dropped:
            self.outbox(self._invitation(stored, "CANCEL", dropped))

    def _invitation(self, stored: Stored, method: str, to: set[str]) -> relay.Invitation:
        body = stored.body
        start = _when(body["start"], "start")
        end = _when(body["end"], "end")
        assert start.instant is not None and end.instant is not None
        zone = start.zone or self.directory.tz_of(stored.organizer)
        lines = [str(line) for line in body.get("recurrence") or []]
        rrules = [line for line in lines if line.upper().startswith("RRULE:")]
        exdates: list[datetime] = []
        instances: list[relay.Instance] = []
        if rrules:
            exdates = self._exdates(lines, ZoneInfo(zone))
            for key, exception in sorted(stored.exceptions.items()):
                original = recurrence.parse_instance_key(key)
                if original is None:
                    continue
                if exception.fields.get("status") == "cancelled":
                    exdates.append(original)
                    continue
                shown = self._occurrence(stored, original)
                instances.append(
                    relay.Instance(
                        original=original,
                        start=shown.start,
                        end=shown.end,
                        summary=shown.body.get("summary"),
                        description=shown.body.get("description"),
                        location=shown.body.get("location"),
                    )
                )
        return relay.Invitation(
            method=method,
            uid=stored.ical_uid,
            sequence=stored.sequence,
            organizer=stored.organizer,
            organizer_name=self.directory.name_of(stored.organizer),
            recipients=tuple(sorted(to)),
            start=start.instant,
            end=end.instant,
            zone=zone,
            end_zone=end.zone or zone,
            attendees=tuple(
                relay.Person(
                    str(a.get("email", "")).lower(),
                    str(a.get("displayName", "")),
                    bool(a.get("optional")),
                    _PARTSTAT.get(str(a.get("responseStatus")), "NEEDS-ACTION"),
                )
                for a in body.get("attendees") or []
            ),
            status="CANCELLED" if stored.deleted else "CONFIRMED",
            summary=str(body.get("summary", "")),
            description=str(body.get("description", "")),
            location=str(body.get("location", "")),
            rrule=rrules[0] if rrules else None,
            exdates=tuple(sorted(exdates)),
            instances=tuple(instances),
        )

    @staticmethod
    def _exdates(lines: list[str], zone: ZoneInfo) -> list[datetime]:
        found = []
        for line in lines:
            head, _, value = line.partition(":")
            name, *params = head.split(";")
            if name.strip().upper() == "EXDATE":
                found += [recurrence._moment(v.strip(), params, zone) for v in value.split(",")]
        return found

    def receive(self, invitation: relay.Invitation) -> None:
        """Take in an iMIP message from outside: an event of its external organizer that the
        invited users see (a CANCEL cancels it, or takes its recipients off the guest list)."""
        stored = next(
            (s for s in self.events.values() if s.external and s.ical_uid == invitation.uid),
            None,
        )
        now = self.now()
        if invitation.method == "CANCEL":
            if stored is None:
                return
            if invitation.status == "CANCELLED":
                stored.deleted = True
            else:
                gone = {r.lower() for r in invitation.recipients}
                stored.body["attendees"] = [
                    a
                    for a in stored.body.get("attendees") or []
                    if str(a.get("email", "")).lower() not in gone
                ]
            stored.updated, stored.etag = now, _etag(self.counter)
            return
        if stored is not None and invitation.sequence < stored.sequence:
            return  # an older REQUEST arriving late changes nothing
        zone = ZoneInfo(invitation.zone)
        body: dict[str, Any] = {
            "summary": invitation.summary,
            "start": _event_time(invitation.start, zone),
            "end": _event_time(invitation.end, ZoneInfo(invitation.end_zone)),
            "attendees": [_guest(p) for p in invitation.attendees],
            "eventType": "default",
        }
        if invitation.description:
            body["description"] = invitation.description
        if invitation.location:
            body["location"] = invitation.location
        if invitation.rrule:
            body["recurrence"] = [invitation.rrule]
        if stored is None:
            event_id = base64.b32hexencode(uuid.uuid4().bytes).decode().lower().rstrip("=")
            stored = Stored(event_id, invitation.organizer.lower(), body, now, now, "", "")
            stored.ical_uid, stored.external = invitation.uid, True
            self.events[event_id] = stored
        stored.body = body
        stored.organizer_name = invitation.organizer_name
        stored.sequence = invitation.sequence
        stored.deleted = False
        stored.updated, stored.etag = now, _etag(self.counter)
        stored.exceptions = {}
        if not invitation.rrule:
            return
        for original in invitation.exdates:
            stored.exceptions[recurrence.instance_key(original)] = Exception_(
                {"status": "cancelled"}, stored.etag, now
            )
        for instance in invitation.instances:
            fields: dict[str, Any] = {
                "start": _event_time(instance.start, zone),
                "end": _event_time(instance.end, ZoneInfo(invitation.end_zone)),
            }
            for key, value in (
                ("summary", instance.summary),
                ("description", instance.description),
                ("location", instance.location),
            ):
                if value is not None:
                    fields[key] = value
            stored.exceptions[recurrence.instance_key(instance.original)] = Exception_(
                fields, stored.etag, now
            )

    def instances(self, call: Call) -> Reply:
        """events.instances: timeMin/timeMax bound the instances' end and start."""
        viewer = self._calendar(call)
        stored, original = self._find(call.args["eventId"], viewer)
        if original is not None or not stored.recurring:
            raise bad_request("The event is not a recurring event.", "notRecurringEvent")
        if stored.deleted:
            raise ApiError(410, "Resource has been deleted", "deleted")
        lo, hi = self._window(call)
        size = call.integer("maxResults", 250, 1, 2500, clamp=True)
        found = self._instances(stored, lo, hi, 2500)
        show_deleted = call.flag("showDeleted")
        wanted = call.query.get("originalStart")
        items = [
            o
            for o in found
            if (show_deleted or not o.cancelled)
            and (self._visible(o, viewer))
            and (wanted is None or self._same_original(o, wanted))
        ]
        chunk, token = page(items, call.query.get("pageToken"), size)
        zone = call.query.get("timeZone")
        return Reply(
            200, self._listing(viewer, [self.render(o, viewer, zone) for o in chunk], token)
        )

    def _same_original(self, occurrence: Occurrence, wanted: str) -> bool:
        assert occurrence.original is not None
        if occurrence.original.tzinfo is None:
            return occurrence.original.date().isoformat() == wanted
        return occurrence.original == parse_instant(wanted, "originalStart")

    def list_events(self, call: Call) -> Reply:
        """events.list with the filters and paging the connectors use."""
        viewer = self._calendar(call)
        lo, hi = self._window(call)
        single = call.flag("singleEvents")
        order = call.choice("orderBy", ("startTime", "updated"))
        if order == "startTime" and not single:
            raise bad_request("The requested ordering is not available for the particular query.")
        show_deleted = call.flag("showDeleted")
        size = call.integer("maxResults", 250, 1, 2500, clamp=True)
        # Only the events with this iCalUID are looked at (their instances are not made for
        # the others): one lookup, as Google's index does it.
        uid = call.query.get("iCalUID")
        items = [
            o
            for o in self._view(viewer, lo, hi, single=single, ical_uid=uid)
            if (show_deleted or not o.cancelled or (not single and o.original is not None))
            and self._filters(call, o)
        ]
        if order == "updated":
            items.sort(key=lambda o: (o.updated, o.id))
        else:
            items.sort(key=lambda o: (o.start, o.id))
        chunk, token = page(items, call.query.get("pageToken"), size)
        zone = call.query.get("timeZone")
        return Reply(
            200, self._listing(viewer, [self.render(o, viewer, zone) for o in chunk], token)
        )

    def _view(
        self,
        viewer: str,
        lo: datetime | None,
        hi: datetime | None,
        *,
        single: bool,
        ical_uid: str | None = None,
    ) -> list[Occurrence]:
        """Every event and instance in `viewer`'s calendar overlapping [lo, hi) (of the events
        with `ical_uid` only, when given)."""
        found: list[Occurrence] = []
        for stored in self.events.values():
            if ical_uid is not None and stored.ical_uid != ical_uid:
                continue
            if not self._sees_any(stored, viewer):
                continue
            if not stored.recurring:
                occurrence = self._single(stored)
                if self._overlaps(occurrence, lo, hi) and self._visible(occurrence, viewer):
                    found.append(occurrence)
                continue
            if stored.deleted:
                if not single:
                    found.append(self._single(stored))
                continue
            if single:
                found.extend(
                    o for o in self._instances(stored, lo, hi, 2500) if self._visible(o, viewer)
                )
                continue
            # The master and its exceptions: the instances are looked at only to know whether
            # the viewer sees any in the window (the first ones tell; an unbounded window would
            # otherwise make thousands).
            master = self._single(stored)
            if self._visible(master, viewer) and any(
                self._visible(o, viewer) for o in self._instances(stored, lo, hi, 64)
            ):
                found.append(master)
            for key in stored.exceptions:
                original = recurrence.parse_instance_key(key)
                if original is None:
                    continue
                exception = self._occurrence(stored, original)
                if self._overlaps(exception, lo, hi) and self._visible(exception, viewer):
                    found.append(exception)
        return found

    def _overlaps(self, occurrence: Occurrence, lo: datetime | None, hi: datetime | None) -> bool:
        return (hi is None or occurrence.start < hi) and (lo is None or occurrence.end > lo)

    def _filters(self, call: Call, occurrence: Occurrence) -> bool:
        body = occurrence.body
        wanted_uid = call.query.get("iCalUID")
        if wanted_uid is not None and occurrence.stored.ical_uid != wanted_uid:
            return False
        properties = body.get("extendedProperties") or {}
        for scope, name in (
            ("private", "privateExtendedProperty"),
            ("shared", "sharedExtendedProperty"),
        ):
            have = properties.get(scope) or {}
            for constraint in call.query.getlist(name):
                key, sep, value = constraint.partition("=")
                if not sep:
                    raise bad_request(f"Invalid value for {name}: {constraint}", location=name)
                if have.get(key) != value:
                    return False
        text = call.query.get("q")
        if text:
            haystack = " ".join(
                str(body.get(k, "")) for k in ("summary", "description", "location")
            ).lower()
            if not all(word in haystack for word in text.lower().split()):
                return False
        return True

    def _window(self, call: Call) -> tuple[datetime | None, datetime | None]:
        lo_raw, hi_raw = call.query.get("timeMin"), call.query.get("timeMax")
        lo = parse_instant(lo_raw, "timeMin") if lo_raw else None
        hi = parse_instant(hi_raw, "timeMax") if hi_raw else None
        if lo is not None and hi is not None and hi <= lo:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        return lo, hi

    def _listing(
        self, viewer: str, items: list[dict[str, Any]], token: str | None
    ) -> dict[str, Any]:
        listing: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p{ETAG_BASE + len(self.events)}"',
            "summary": viewer,
            "description": "",
            "updated": stamp(self.now()),
            "timeZone": self.directory.tz_of(viewer),
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "items": items,
        }
        if token:
            listing["nextPageToken"] = token
        return listing

    def freebusy(self, call: Call) -> Reply:
        """freebusy.query: busy blocks per calendar; cancelled, declined, transparent are free."""
        body = call.json()
        if "timeMin" not in body:
            raise bad_request("Missing timeMin parameter.", "required")
        if "timeMax" not in body:
            raise bad_request("Missing timeMax parameter.", "required")
        lo = parse_instant(str(body["timeMin"]), "timeMin")
        hi = parse_instant(str(body["timeMax"]), "timeMax")
        if hi <= lo:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        if hi - lo > FREEBUSY_SPAN:
            raise bad_request("The requested time range is too long.", "timeRangeTooLong")
        items = body.get("items") or []
        if not isinstance(items, list) or len(items) > 50:
            raise bad_request(
                "Too many calendars requested (at most 50).", "tooManyCalendarsRequested"
            )
        zone = ZoneInfo(body.get("timeZone") or "UTC")
        calendars: dict[str, Any] = {}
        for item in items:
            calendar_id = str(item.get("id", "")) if isinstance(item, dict) else ""
            email = call.user if calendar_id == "primary" else calendar_id.lower()
            if not self.directory.known(email):
                calendars[calendar_id] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
                continue
            calendars[calendar_id] = {"busy": self._busy(email, lo, hi, zone)}
        return Reply(
            200,
            {
                "kind": "calendar#freeBusy",
                "timeMin": stamp(lo),
                "timeMax": stamp(hi),
                "calendars": calendars,
            },
        )

    def _busy(self, email: str, lo: datetime, hi: datetime, zone: ZoneInfo) -> list[dict[str, str]]:
        blocks: list[tuple[datetime, datetime]] = []
        for occurrence in self._view(email, lo, hi, single=True):
            body = occurrence.body
            if occurrence.cancelled or body.get("transparency") == "transparent":
                continue
            mine = [
                a for a in body.get("attendees") or [] if str(a.get("email", "")).lower() == email
            ]
            if mine and mine[0].get("responseStatus") == "declined":
                continue
            # Busy blocks are clipped to the asked window.
            blocks.append((max(occurrence.start, lo), min(occurrence.end, hi)))
        blocks.sort()
        merged: list[list[datetime]] = []
        for start, end in blocks:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return [{"start": _zoned(s, zone), "end": _zoned(e, zone)} for s, e in merged]
