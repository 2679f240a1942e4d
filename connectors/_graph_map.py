"""Pure translation between the neutral models and Microsoft Graph v1.0 JSON.

Every function here takes and gives plain JSON values (dicts as Graph sends and accepts them);
`connectors.graph` sends and reads them through the SDK's request adapter. Shapes follow the Graph
reference pages: event, dateTimeTimeZone, patternedRecurrence, attendee, fileAttachment,
singleValueLegacyExtendedProperty, scheduleInformation, driveItem, driveItemVersion, message.
"""

from __future__ import annotations

import base64
import html
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cadence.errors import CadenceError
from cadence.recurrence import Rule, iana_zone, localize
from cadence.zones import zone
from connectors.errors import InvalidRequest
from connectors.models import (
    AttachmentInfo,
    Attendee,
    Busy,
    Event,
    EventPatch,
    FileInfo,
    Mail,
    NewEvent,
    SentMail,
    https_link,
)

Json = dict[str, Any]

NAMESPACE = uuid.UUID("6f0c8c1e-5a7d-4d8e-9a43-2f1b7c0e9d51")
"""Our one GUID namespace for extended properties and derived transaction ids."""


def property_id(name: str) -> str:
    """The id of a string single-value extended property of ours (MAPI named property)."""
    return f"String {{{NAMESPACE}}} Name {name}"


EVENT_PROPERTIES = property_id("properties")
"""Holds an event's `properties` as one JSON object, so one `$expand` filter reads them all."""
MAIL_KEY = property_id("mailKey")
"""Holds a message's key: with Mail.Send alone nothing reads it back, but it marks the mail as
the product's (`mail_key_filter` finds it, for whoever may read Sent Items)."""
MAIL_PARTS = property_id("mailParts")
"""Holds the text and HTML parts as sent: Exchange rewrites a JSON message's HTML body."""
AUTO_KEY_PREFIX = "auto-"
"""A key we made up for a mail sent without one; read back as no key."""

_RESPONSES = {
    "accepted": "accepted",
    "tentativelyAccepted": "tentative",
    "declined": "declined",
}


def transaction_id(key: str) -> str:
    """Graph's ``transactionId`` for an idempotency key: stable, 36 characters, any key length."""
    return str(uuid.uuid5(NAMESPACE, key))


def expand_properties(prop: str = EVENT_PROPERTIES) -> str:
    """The ``$expand`` value that returns our extended property with an item."""
    return f"singleValueExtendedProperties($filter=id eq '{prop}')"


def mail_key_filter(key: str) -> str:
    """The ``$filter`` finding messages that carry our key (Sent Items lookup)."""
    quoted = key.replace("'", "''")
    return (
        f"singleValueExtendedProperties/Any(ep: ep/id eq '{MAIL_KEY}' and ep/value eq '{quoted}')"
    )


# -- times ------------------------------------------------------------------------------------


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequest(f"{what} must be an aware datetime, got naive {value.isoformat()}")
    return value


def utc_iso(value: datetime, what: str) -> str:
    """An aware instant as the UTC ISO stamp Graph's query windows take (``...Z``)."""
    return _aware(value, what).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_date_time_zone(value: datetime, tz: str) -> Json:
    """A Graph ``dateTimeTimeZone``: wall-clock time in `tz` (IANA, which Graph accepts)."""
    try:
        place = zone(tz)
    except CadenceError as exc:
        raise InvalidRequest(str(exc)) from exc
    local = _aware(value, "time").astimezone(place)
    return {"dateTime": local.replace(tzinfo=None).isoformat(timespec="seconds"), "timeZone": tz}


def utc_date_time_zone(value: datetime) -> Json:
    """A Graph ``dateTimeTimeZone`` in UTC (windows for calendarView, getSchedule)."""
    return to_date_time_zone(value, "UTC")


def parse_stamp(value: str) -> datetime:
    """A Graph ISO timestamp (up to 7 fractional digits, ``Z`` or an offset), naive if no zone."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, sep, rest = text.partition(".")
    if sep:
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone_part = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone_part}" if digits else head + zone_part
    return datetime.fromisoformat(text)


def from_date_time_zone(value: Mapping[str, Any], prefer: str | None = None) -> datetime:
    """An aware instant from a Graph ``dateTimeTimeZone`` (Windows or IANA zone name)."""
    stamp = parse_stamp(str(value["dateTime"]))
    if stamp.tzinfo is not None:
        return stamp.astimezone(UTC)
    zone_name = str(value.get("timeZone") or "UTC")
    return stamp.replace(tzinfo=zone(iana_zone(zone_name, prefer=prefer))).astimezone(UTC)


# -- events -----------------------------------------------------------------------------------


def _attendees(attendees: Sequence[Attendee]) -> list[Json]:
    # Graph ignores a status sent on create or update: it is each attendee's own answer.
    return [
        {"type": "required", "emailAddress": {"address": a.email, "name": a.name or a.email}}
        for a in attendees
    ]


def _properties(properties: Mapping[str, str]) -> list[Json]:
    value = json.dumps(dict(sorted(properties.items())), separators=(",", ":"))
    return [{"id": EVENT_PROPERTIES, "value": value}]


def _series_times(rule: Rule | None, start: datetime, end: datetime, tz: str) -> Json:
    """The ``start`` and ``end`` of an event, or of a series master starting with `rule`.

    A series master's start is the rule's nominal wall-clock time (`Rule.first`), which
    dateTimeTimeZone carries as given: Exchange expands the series from it, so a first start
    inside a DST gap moves forward for that occurrence alone and the later ones keep the rule's
    time. The end is the real end instant in the zone, so the duration stays exact.
    """
    if rule is None:
        return {"start": to_date_time_zone(start, tz), "end": to_date_time_zone(end, tz)}
    first = localize(rule.first, rule.tz)
    return {
        "start": {"dateTime": rule.first.isoformat(timespec="seconds"), "timeZone": rule.tz},
        "end": to_date_time_zone(first + (end - start), rule.tz),
    }


def to_graph_event(event: NewEvent, idempotency_key: str) -> Json:
    """The body of ``POST /me/events`` for a new event or series."""
    start = _aware(event.start, "start")
    end = _aware(event.end, "end")
    if end < start:
        raise InvalidRequest(
            f"event {event.subject!r} ends ({end.isoformat()}) before it starts "
            f"({start.isoformat()})"
        )
    body: Json = {
        "subject": event.subject,
        "body": {"contentType": "html", "content": event.body_html},
        **_series_times(event.recurrence, start, end, event.tz),
        "location": {"displayName": event.location},
        "attendees": _attendees(event.attendees),
        "isOnlineMeeting": event.online,
        "transactionId": transaction_id(idempotency_key),
        "singleValueExtendedProperties": _properties(event.properties),
    }
    if event.online:
        body["onlineMeetingProvider"] = "teamsForBusiness"
    if event.recurrence is not None:
        body["recurrence"] = event.recurrence.to_graph()
    return body


def to_graph_patch(patch: EventPatch, current: Event | None = None) -> Json:
    """The body of ``PATCH /me/events/{id}``: only the fields the patch sets.

    Times are sent in the event's own zone so a series keeps its wall-clock time across DST; a
    new start without a new end keeps the event's duration. A patch of the times needs the
    `current` event for both.
    """
    body: Json = {}
    if patch.subject is not None:
        body["subject"] = patch.subject
    if patch.start is not None or patch.end is not None:
        if current is None:
            raise ValueError("a patch of the start or end needs the current event")
        start = _aware(patch.start, "start") if patch.start is not None else current.start
        end = (
            _aware(patch.end, "end")
            if patch.end is not None
            else start + (current.end - current.start)
        )
        if end < start:
            raise InvalidRequest(
                f"event {current.id!r} would end ({end.isoformat()}) before it starts "
                f"({start.isoformat()})"
            )
        body.update(_series_times(patch.recurrence, start, end, current.tz))
    if patch.body_html is not None:
        body["body"] = {"contentType": "html", "content": patch.body_html}
    if patch.location is not None:
        body["location"] = {"displayName": patch.location}
    if patch.online is not None:
        body["isOnlineMeeting"] = patch.online
    if patch.attendees is not None:
        body["attendees"] = _attendees(patch.attendees)
    if patch.properties is not None:
        body["singleValueExtendedProperties"] = _properties(patch.properties)
    if patch.recurrence is not None:
        body["recurrence"] = patch.recurrence.to_graph()
    return body


def _text(markup: str) -> str:
    """The words of an HTML body: Exchange rewraps the HTML it stores, not the text."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", markup)).split())


def patch_shows(patch: EventPatch, event: Event) -> bool:
    """Whether `event`, read after `patch` was sent, holds every field the patch sets.

    A write guarded by If-Match that is repeated after its answer was lost meets its own new
    version (412); this tells that success from another writer's change.
    """

    def emails(attendees: Sequence[Attendee]) -> list[str]:
        return sorted(a.email.lower() for a in attendees)

    return all(
        (
            patch.subject is None or event.subject == patch.subject,
            patch.start is None or event.start == patch.start,
            patch.end is None or event.end == patch.end,
            patch.body_html is None or _text(event.body_html) == _text(patch.body_html),
            patch.location is None or event.location == patch.location,
            patch.online is None or event.online == patch.online,
            patch.attendees is None or emails(event.attendees) == emails(patch.attendees),
            patch.properties is None or dict(event.properties) == dict(patch.properties),
            patch.recurrence is None or event.recurrence == patch.recurrence,
        )
    )


def _email(recipient: Any) -> tuple[str, str]:
    if not isinstance(recipient, Mapping):
        return "", ""
    address = recipient.get("emailAddress") or {}
    return str(address.get("address") or ""), str(address.get("name") or "")


def _event_zone(data: Mapping[str, Any]) -> str:
    recurrence = data.get("recurrence") or {}
    named = (
        (recurrence.get("range") or {}).get("recurrenceTimeZone")
        or data.get("originalStartTimeZone")
        or (data.get("start") or {}).get("timeZone")
        or "UTC"
    )
    try:
        return iana_zone(str(named))
    except CadenceError:
        # Outlook's "tzone://Microsoft/Custom" and other zones we cannot name: keep instants.
        return "UTC"


def _read_properties(data: Mapping[str, Any], prop: str = EVENT_PROPERTIES) -> dict[str, str]:
    for item in data.get("singleValueExtendedProperties") or []:
        if isinstance(item, Mapping) and str(item.get("id", "")).lower() == prop.lower():
            parsed = json.loads(str(item.get("value") or "{}"))
            if not isinstance(parsed, dict):
                raise ValueError(f"extended property {prop} does not hold a JSON object")
            return {str(k): str(v) for k, v in parsed.items()}
    return {}


def read_property(data: Mapping[str, Any], prop: str) -> str | None:
    """The value of a single-value extended property on an item, None when absent."""
    for item in data.get("singleValueExtendedProperties") or []:
        if isinstance(item, Mapping) and str(item.get("id", "")).lower() == prop.lower():
            value = item.get("value")
            return None if value is None else str(value)
    return None


_GOID_CLASS = "040000008200E00074C5B7101A82E008"
_HEX = frozenset("0123456789abcdefABCDEF")


def series_ical_uid(value: str) -> str:
    """The iCalUId an event shares with its series: an occurrence's with its date zeroed.

    Graph gives each occurrence of a series an iCalUId of its own: its Exchange Global Object
    ID, which holds the occurrence's original date in bytes 16-19. With those zeroed it is the
    clean Global Object ID, the series master's iCalUId, which every partner's copy of every
    occurrence shares ([MS-OXOCAL] 2.2.1.27-28). Any other form is kept as it is.
    """
    goid = len(value) >= 40 and value[:32].upper() == _GOID_CLASS and set(value) <= _HEX
    return f"{value[:32]}00000000{value[40:]}" if goid else value


_VCAL_UID = "7643616C2D55696401000000"
""""vCal-Uid" and its version, where Exchange wraps an iCalendar UID it did not make."""


def plain_ical_uid(value: str) -> str:
    """The iCalendar UID behind a Graph ``iCalUId``: a meeting that came by mail from another
    system (a Google organizer, say) carries its UID wrapped in a Global Object ID
    ([MS-OXCICAL] 2.1.3.1.1.20.26); Exchange's own ids are kept as they are."""
    upper = value.upper()
    if len(upper) > 104 and upper[:32] == _GOID_CLASS and upper[80:104] == _VCAL_UID:
        try:
            return bytes.fromhex(upper[104:]).rstrip(b"\x00").decode()
        except ValueError:
            return value
    return value


def graph_ical_uid(uid: str) -> str:
    """The ``iCalUId`` Graph shows for an iCalendar UID (`plain_ical_uid`'s inverse)."""
    if len(uid) >= 40 and uid[:32].upper() == _GOID_CLASS and set(uid) <= _HEX:
        return uid
    data = uid.encode()
    size = (12 + len(data) + 1).to_bytes(4, "little").hex().upper()
    return f"{_GOID_CLASS}{'0' * 40}{size}{_VCAL_UID}{data.hex().upper()}00"


def event_etag(data: Mapping[str, Any]) -> str:
    """The version tag Graph checks If-Match against (``@odata.etag``, else the changeKey)."""
    return str(data.get("@odata.etag") or data.get("changeKey") or "")


def from_graph_event(
    data: Mapping[str, Any], attachments: Sequence[Mapping[str, Any]] = ()
) -> Event:
    """An `Event` from a Graph event (read with ``Prefer: outlook.timezone="UTC"`` or any zone).

    `attachments` are the items of the event's attachments collection when read alongside.
    Raises `KeyError`, `ValueError` or `TypeError` for an answer that is not a Graph event.
    """
    tz = _event_zone(data)
    start = from_date_time_zone(data["start"], prefer=tz)
    end = from_date_time_zone(data["end"], prefer=tz)
    kind = str(data.get("type") or "singleInstance")
    recurrence = None
    if kind == "seriesMaster" and data.get("recurrence"):
        local_start = start.astimezone(zone(tz)).replace(tzinfo=None)
        recurrence = Rule.from_graph(data["recurrence"], local_start.time(), tz=tz)
    original = data.get("originalStart")
    original_start = None
    if kind in ("occurrence", "exception"):
        original_start = parse_stamp(str(original)).astimezone(UTC) if original else start
    organizer, _ = _email(data.get("organizer"))
    return Event(
        id=str(data["id"]),
        subject=str(data.get("subject") or ""),
        start=start,
        end=end,
        tz=tz,
        organizer=organizer,
        etag=event_etag(data),
        ical_uid=plain_ical_uid(series_ical_uid(str(data.get("iCalUId") or ""))),
        attendees=tuple(_attendee(a) for a in data.get("attendees") or []),
        body_html=str((data.get("body") or {}).get("content") or ""),
        location=str((data.get("location") or {}).get("displayName") or ""),
        online=bool(data.get("isOnlineMeeting")),
        recurrence=recurrence,
        series_id=str(data["seriesMasterId"]) if data.get("seriesMasterId") else None,
        original_start=original_start,
        cancelled=bool(data.get("isCancelled")),
        properties=_read_properties(data),
        attachments=tuple(from_graph_attachment(a) for a in attachments),
        web_link=https_link(data.get("webLink")),
    )


def _attendee(data: Mapping[str, Any]) -> Attendee:
    email, name = _email(data)
    response = str((data.get("status") or {}).get("response") or "none")
    return Attendee(email=email, name=name, response=_RESPONSES.get(response, "none"))


def from_graph_attachment(data: Mapping[str, Any]) -> AttachmentInfo:
    """An `AttachmentInfo` from a Graph attachment (file attachment metadata).

    Graph's ``size`` is the stored attachment's, somewhat more than the file's own bytes.
    """
    return AttachmentInfo(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        content_type=str(data.get("contentType") or "application/octet-stream"),
        size=int(data.get("size") or 0),
    )


def to_graph_attachment(name: str, content: bytes, content_type: str) -> Json:
    """The body of ``POST /me/events/{id}/attachments`` for a file."""
    return {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": name,
        "contentType": content_type,
        "contentBytes": base64.b64encode(content).decode("ascii"),
    }


def in_window(event: Event, start: datetime, end: datetime) -> bool:
    """True when the event overlaps [start, end); an event touching an edge is outside."""
    return event.start < end and event.end > start


# -- free/busy --------------------------------------------------------------------------------


def to_get_schedule(emails: Sequence[str], start: datetime, end: datetime) -> Json:
    """The body of ``POST /me/calendar/getSchedule``."""
    # The parameter names as the reference page's example and the SDK write them.
    return {
        "Schedules": list(emails),
        "StartTime": utc_date_time_zone(_aware(start, "start")),
        "EndTime": utc_date_time_zone(_aware(end, "end")),
        "AvailabilityViewInterval": 30,
    }


def from_schedule(
    values: Sequence[Mapping[str, Any]], emails: Sequence[str]
) -> dict[str, list[Busy]]:
    """Busy intervals per asked address from ``scheduleInformation`` items.

    An address Graph answers with an ``error`` (unknown, no access) is free: an empty list.
    """
    found: dict[str, list[Busy]] = {}
    for info in values:
        address = str(info.get("scheduleId") or "").lower()
        items = [] if info.get("error") else info.get("scheduleItems") or []
        busy = [
            Busy(
                start=from_date_time_zone(item["start"]),
                end=from_date_time_zone(item["end"]),
                status=str(item.get("status") or "busy").lower(),
            )
            for item in items
            if str(item.get("status") or "busy").lower() != "free"
        ]
        # One address may come once per window asked (`windows`): its spans are joined.
        found[address] = sorted(
            {*found.get(address, []), *busy}, key=lambda b: (b.start, b.end, b.status)
        )
    return {email: found.get(email.lower(), []) for email in emails}


# -- drive ------------------------------------------------------------------------------------


def file_etag(item_id: str, version_id: str) -> str:
    """Our etag of one version of a file: its item and version ids.

    Graph's driveItemVersion has no eTag, so a version's tag is built from what both the item's
    version list and a fresh upload give; writes still send the item's eTag as If-Match.
    """
    return f"{item_id}/{version_id}"


def from_drive_item(
    item: Mapping[str, Any], folder: str, versions: Sequence[Mapping[str, Any]]
) -> FileInfo:
    """A `FileInfo` for a driveItem at its newest version; `versions` as Graph lists them."""
    ordered = sorted_versions(versions)
    newest = str(ordered[-1]["id"]) if ordered else "1.0"
    return FileInfo(
        id=str(item["id"]),
        folder=folder,
        name=str(item["name"]),
        etag=file_etag(str(item["id"]), newest),
        version=max(len(ordered), 1),
        size=int(item.get("size") or 0),
        content_type=str((item.get("file") or {}).get("mimeType") or "application/octet-stream"),
        modified=parse_stamp(str(item["lastModifiedDateTime"])).astimezone(UTC),
    )


def from_drive_version(
    item: Mapping[str, Any], folder: str, version: Mapping[str, Any], number: int
) -> FileInfo:
    """A `FileInfo` for one kept version (`number` counts from 1, oldest first)."""
    return FileInfo(
        id=str(item["id"]),
        folder=folder,
        name=str(item["name"]),
        etag=file_etag(str(item["id"]), str(version["id"])),
        version=number,
        size=int(version.get("size") or 0),
        content_type=str((item.get("file") or {}).get("mimeType") or "application/octet-stream"),
        modified=parse_stamp(str(version["lastModifiedDateTime"])).astimezone(UTC),
    )


def _version_number(version: Mapping[str, Any]) -> float | None:
    try:
        return float(str(version.get("id")))
    except ValueError:
        return None


def sorted_versions(versions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Versions oldest first.

    Graph lists the newest first; OneDrive's version ids are ``1.0``, ``2.0``, ... so they order
    them when they are all numbers, else the listing's own order (reversed) does.
    """
    numbers = [_version_number(v) for v in versions]
    if all(n is not None for n in numbers):
        pairs = sorted(zip(numbers, range(len(versions)), strict=True))
        return [versions[i] for _, i in pairs]
    return list(reversed(versions))


# -- mail -------------------------------------------------------------------------------------


def to_graph_message(mail: Mail, key: str) -> Json:
    """The ``message`` of ``POST /me/sendMail``: HTML body when there is one, else text."""
    parts = json.dumps({"text": mail.text, "html": mail.html}, separators=(",", ":"))
    content_type, content = ("html", mail.html) if mail.html else ("text", mail.text)
    return {
        "subject": mail.subject,
        "body": {"contentType": content_type, "content": content},
        "toRecipients": [{"emailAddress": {"address": to}} for to in mail.to],
        "singleValueExtendedProperties": [
            {"id": MAIL_KEY, "value": key},
            {"id": MAIL_PARTS, "value": parts},
        ],
    }


def from_graph_message(data: Mapping[str, Any], key: str | None = None) -> SentMail:
    """A `SentMail` from a message in Sent Items (read with our properties expanded).

    `key` is the mail key when the message was found by it (its property need not be expanded).
    """
    sender, _ = _email(data.get("from") or data.get("sender"))
    if key is None:
        key = read_property(data, MAIL_KEY) or ""
    parts_value = read_property(data, MAIL_PARTS)
    body = data.get("body") or {}
    if parts_value is not None:
        parts = json.loads(parts_value)
        text, html = str(parts.get("text") or ""), str(parts.get("html") or "")
    elif str(body.get("contentType") or "").lower() == "html":
        text, html = "", str(body.get("content") or "")
    else:
        text, html = str(body.get("content") or ""), ""
    stamp = data.get("sentDateTime") or data.get("createdDateTime")
    return SentMail(
        id=str(data["id"]),
        mail=Mail(
            sender=sender,
            to=tuple(_email(r)[0] for r in data.get("toRecipients") or []),
            subject=str(data.get("subject") or ""),
            text=text,
            html=html,
            key="" if key.startswith(AUTO_KEY_PREFIX) else key,
        ),
        sent_at=parse_stamp(str(stamp)).astimezone(UTC),
    )
