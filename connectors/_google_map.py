"""Pure translation between the neutral models and Google's JSON (Calendar v3, Drive v3, Gmail v1).

No I/O: every function here takes and returns plain data, so the mapping is tested against JSON
written from Google's reference pages without a server. `connectors.google` does the calls.
"""

from __future__ import annotations

import base64
import email.header
import email.utils
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.policy import compat32
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from cadence.errors import CadenceError
from cadence.recurrence import Rule
from cadence.zones import require_aware, zone
from connectors._retry import retry_after_seconds
from connectors.errors import (
    AuthExpired,
    Conflict,
    ConnectorError,
    InvalidRequest,
    NotFound,
    Throttled,
    Unavailable,
)
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

JSON = dict[str, Any]

FOLDER_MIME = "application/vnd.google-apps.folder"
"""Drive's mime type for a folder."""

VERSION_PROPERTY = "goedgesprekVersion"
"""The Drive `appProperties` key counting a file's writes (1, 2, ...): Drive's own `version`
also moves on metadata changes and by more than one, so it cannot be the port's version."""

KEY_HEADER = "X-Goedgesprek-Key"
"""The mail header carrying `Mail.key`, so a sent message maps back to the `Mail` that made it."""

# Google's attendee responseStatus <-> the port's response words.
_RESPONSES = {"needsAction": "none", "accepted": "accepted", "tentative": "tentative"}
_RESPONSES["declined"] = "declined"
_TO_RESPONSES = {v: k for k, v in _RESPONSES.items()}

_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"


# -- ids ---------------------------------------------------------------------------------------


def event_id_for(owner: str, key: str) -> str:
    """A stable client-supplied event id for `owner`'s create under idempotency `key`.

    Google accepts ids of 5-1024 characters from base32hex (``0-9a-v``); a SHA-256 of owner and
    key gives 52 such characters, the same for every retry and distinct across users and keys.
    """
    digest = hashlib.sha256(f"{owner.strip().lower()}\x00{key}".encode()).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def message_id_for(owner: str, key: str) -> str:
    """The RFC 5322 Message-ID for a keyed mail, so a repeat finds the first by `rfc822msgid:`."""
    digest = hashlib.sha256(f"{owner.strip().lower()}\x00{key}".encode()).hexdigest()[:40]
    domain = owner.rpartition("@")[2] or "goedgesprek.invalid"
    return f"<{digest}@{domain}>"


# -- times -------------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    """`cadence.zones.zone`, its refusal as the connectors' `InvalidRequest`."""
    try:
        return zone(name)
    except CadenceError as exc:
        raise InvalidRequest(str(exc)) from exc


def _aware(moment: datetime, what: str) -> datetime:
    """`moment`, once `cadence.zones.require_aware` accepts it (else `InvalidRequest`)."""
    try:
        require_aware(moment, what)
    except CadenceError as exc:
        raise InvalidRequest(str(exc)) from exc
    return moment


def rfc3339(moment: datetime, what: str = "time") -> str:
    """An aware instant as RFC 3339 in UTC (``2027-02-01T13:00:00Z``) for query parameters."""
    utc = _aware(moment, what).astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_google_time(moment: datetime, tz: str, what: str = "time") -> JSON:
    """An EventDateTime: the wall-clock time in `tz` with its offset, and the zone's IANA name."""
    local = _aware(moment, what).astimezone(_zone(tz))
    return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": tz}


def parse_instant(value: str) -> datetime:
    """An RFC 3339 date-time from Google as an aware datetime (``Z`` or an offset)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"Google sent a time without offset: {value!r}")
    return parsed


def from_google_time(data: Mapping[str, Any], fallback_tz: str = "UTC") -> tuple[datetime, str]:
    """An EventDateTime as (aware instant, IANA zone); an all-day date starts at midnight there."""
    tz = str(data.get("timeZone") or fallback_tz)
    if "dateTime" in data:
        return parse_instant(str(data["dateTime"])), tz
    day = date.fromisoformat(str(data["date"]))
    return datetime.combine(day, time(), tzinfo=_zone(tz)), tz


# -- calendar ----------------------------------------------------------------------------------


def to_google_recurrence(rule: Rule) -> list[str]:
    """The event's `recurrence` lines: the RRULE only (Google takes DTSTART from `start`)."""
    return [line for line in rule.to_rfc5545() if not line.startswith("DTSTART")]


def rule_from_google(recurrence: Sequence[str], start: datetime, tz: str) -> Rule | None:
    """The series rule from a master's `recurrence` lines and start, or None if we cannot model it.

    A series made in Google's own UI may be weekly or carry EXDATE/RDATE lines: the product
    never builds those, so such an event reads as a plain event rather than failing the read.
    """
    rrules = [line for line in recurrence if line.upper().startswith("RRULE:")]
    others = [line for line in recurrence if not line.upper().startswith(("RRULE:", "EXDATE"))]
    if len(rrules) != 1 or others:
        return None
    local = start.astimezone(_zone(tz)).replace(tzinfo=None)
    try:
        return Rule.from_rfc5545([f"DTSTART;TZID={tz}:{local:%Y%m%dT%H%M%S}", rrules[0]])
    except CadenceError:
        return None


def to_google_attendees(attendees: Iterable[Attendee]) -> list[JSON]:
    """Event attendees as Google's list; `responseStatus` is writable on insert."""
    out: list[JSON] = []
    for person in attendees:
        entry: JSON = {"email": person.email, "responseStatus": _TO_RESPONSES[person.response]}
        if person.name:
            entry["displayName"] = person.name
        out.append(entry)
    return out


def _attendees_from(data: Mapping[str, Any], organizer: str) -> tuple[Attendee, ...]:
    found: list[Attendee] = []
    for entry in data.get("attendees") or ():
        address = str(entry.get("email", ""))
        # Google lists the organizer among the attendees once there are guests; the port does not.
        if entry.get("organizer") or entry.get("resource") or address.lower() == organizer.lower():
            continue
        status = _RESPONSES.get(str(entry.get("responseStatus", "needsAction")), "none")
        found.append(Attendee(address, str(entry.get("displayName", "")), status))
    return tuple(found)


def to_google_event(event: NewEvent, *, event_id: str, request_id: str = "") -> JSON:
    """The insert body for `event` under the client-supplied `event_id`.

    A series starts at its rule's first occurrence (Google's DTSTART is the event start), with
    the event's duration. `online` asks for a Meet link (needs ``conferenceDataVersion=1``).
    """
    start = _aware(event.start, "start")
    end = _aware(event.end, "end")
    _zone(event.tz)
    times = {
        "start": to_google_time(start, event.tz, "start"),
        "end": to_google_time(end, event.tz, "end"),
    }
    if event.recurrence is not None:
        # DTSTART is the rule's wall-clock time, zone-less: a first start inside a DST gap then
        # moves forward for that occurrence only, and the rest keep the rule's time (RFC 5545).
        first = event.recurrence.first
        times = {
            "start": {"dateTime": first.isoformat(timespec="seconds"), "timeZone": event.tz},
            "end": {
                "dateTime": (first + (end - start)).isoformat(timespec="seconds"),
                "timeZone": event.tz,
            },
        }
    body: JSON = {"id": event_id, "summary": event.subject, **times}
    if event.body_html:
        body["description"] = event.body_html
    if event.location:
        body["location"] = event.location
    if event.attendees:
        body["attendees"] = to_google_attendees(event.attendees)
    if event.recurrence is not None:
        body["recurrence"] = to_google_recurrence(event.recurrence)
    if event.properties:  # shared: the attendee's copy maps back to the series too
        body["extendedProperties"] = {"shared": dict(event.properties)}
    if event.online:
        body["conferenceData"] = _meet_request(request_id or event_id)
    return body


def _meet_request(request_id: str) -> JSON:
    return {
        "createRequest": {
            "requestId": request_id,
            "conferenceSolutionKey": {"type": "hangoutsMeet"},
        }
    }


def to_google_patch(
    patch: EventPatch,
    *,
    tz: str,
    start: datetime | None = None,
    end: datetime | None = None,
    request_id: str = "",
) -> JSON:
    """The patch body for `patch`; `start`/`end` are the (possibly completed) new times.

    Google replaces arrays (attendees, recurrence, attachments) wholesale, which is the port's
    meaning too. Times go with the event's zone so a moved series keeps its wall clock.
    """
    body: JSON = {}
    if patch.subject is not None:
        body["summary"] = patch.subject
    if patch.body_html is not None:
        body["description"] = patch.body_html
    if patch.location is not None:
        body["location"] = patch.location
    if start is not None:
        body["start"] = to_google_time(start, tz, "start")
    if end is not None:
        body["end"] = to_google_time(end, tz, "end")
    if patch.attendees is not None:
        body["attendees"] = to_google_attendees(patch.attendees)
    if patch.properties is not None:
        body["extendedProperties"] = {"shared": dict(patch.properties)}
    if patch.recurrence is not None:
        body["recurrence"] = to_google_recurrence(patch.recurrence)
    if patch.online is not None:
        body["conferenceData"] = _meet_request(request_id) if patch.online else None
    return body


def to_google_attachment(file_id: str, name: str, content_type: str) -> JSON:
    """An event attachment pointing at a Drive file (the file's view link is its fileUrl)."""
    return {
        "fileId": file_id,
        "fileUrl": f"https://drive.google.com/file/d/{file_id}/view?usp=drive_web",
        "title": name,
        "mimeType": content_type,
    }


def attachment_from_google(data: Mapping[str, Any], size: int = 0) -> AttachmentInfo:
    """An event attachment; Google's carries no size, so it is `size` (0: not known)."""
    file_id = str(data.get("fileId") or data.get("fileUrl", ""))
    return AttachmentInfo(
        id=file_id,
        name=str(data.get("title", "")),
        content_type=str(data.get("mimeType", "application/octet-stream")),
        size=size,
    )


def from_google_event(data: Mapping[str, Any]) -> Event:
    """An Event resource as the port's `Event` (series master, occurrence or single event).

    A cancelled occurrence comes as a stub (id, status, recurringEventId, originalStartTime):
    it maps with its original start as start and end, and `cancelled` set.
    """
    when = data.get("start") or data.get("originalStartTime") or {}
    start, tz = from_google_time(when)
    end, _ = from_google_time(data.get("end") or when, tz)
    organizer = str((data.get("organizer") or {}).get("email", ""))
    recurrence = data.get("recurrence")
    rule = rule_from_google(recurrence, start, tz) if recurrence else None
    original = data.get("originalStartTime")
    extended = data.get("extendedProperties") or {}
    properties = {**(extended.get("shared") or {}), **(extended.get("private") or {})}
    return Event(
        id=str(data["id"]),
        subject=str(data.get("summary", "")),
        start=start,
        end=end,
        tz=tz,
        organizer=organizer,
        etag=str(data.get("etag", "")),
        ical_uid=str(data.get("iCalUID", "")),
        attendees=_attendees_from(data, organizer),
        body_html=str(data.get("description", "")),
        location=str(data.get("location", "")),
        online=bool(data.get("conferenceData") or data.get("hangoutLink")),
        recurrence=rule,
        series_id=str(data["recurringEventId"]) if data.get("recurringEventId") else None,
        original_start=from_google_time(original, tz)[0] if original else None,
        cancelled=data.get("status") == "cancelled",
        properties=MappingProxyType({str(k): str(v) for k, v in properties.items()}),
        attachments=tuple(attachment_from_google(a) for a in data.get("attachments") or ()),
        web_link=https_link(data.get("htmlLink")),
    )


def busy_from_google(response: Mapping[str, Any], emails: Sequence[str]) -> dict[str, list[Busy]]:
    """A freebusy.query answer per asked address; one Google could not see is free ([])."""
    calendars = response.get("calendars") or {}
    lowered = {str(k).lower(): v for k, v in calendars.items()}
    out: dict[str, list[Busy]] = {}
    for address in emails:
        entry = calendars.get(address) or lowered.get(address.lower()) or {}
        if entry.get("errors"):
            out[address] = []
            continue
        spans = [
            Busy(parse_instant(str(b["start"])), parse_instant(str(b["end"])))
            for b in entry.get("busy") or ()
        ]
        out[address] = sorted(spans, key=lambda b: (b.start, b.end))
    return out


# -- drive -------------------------------------------------------------------------------------


def drive_quote(value: str) -> str:
    """A string literal for a Drive `q` query: single quotes, with ``\\`` and ``'`` escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


FILE_FIELDS = "id,name,mimeType,size,modifiedTime,headRevisionId,appProperties,parents"
"""The Drive file fields a `FileInfo` needs."""


def file_info_from_drive(data: Mapping[str, Any], folder: str) -> FileInfo:
    """A Drive file as `FileInfo`: etag is the head revision (new on every content write)."""
    props = data.get("appProperties") or {}
    return FileInfo(
        id=str(data["id"]),
        folder=folder,
        name=str(data["name"]),
        etag=str(data.get("headRevisionId", "")),
        version=int(props.get(VERSION_PROPERTY, 1)),
        size=int(data.get("size", 0)),
        content_type=str(data.get("mimeType", "application/octet-stream")),
        modified=parse_instant(str(data["modifiedTime"])),
    )


def revision_infos(
    revisions: Sequence[Mapping[str, Any]], *, file_id: str, folder: str, name: str
) -> list[FileInfo]:
    """Drive revisions (oldest first) as the file's versions 1..n; etag is the revision id."""
    return [
        FileInfo(
            id=file_id,
            folder=folder,
            name=name,
            etag=str(rev["id"]),
            version=index,
            size=int(rev.get("size", 0)),
            content_type=str(rev.get("mimeType", "application/octet-stream")),
            modified=parse_instant(str(rev["modifiedTime"])),
        )
        for index, rev in enumerate(revisions, start=1)
    ]


# -- mail --------------------------------------------------------------------------------------


def to_rfc822(mail: Mail, message_id: str) -> bytes:
    """The message as RFC 822 bytes: text, or text and html as multipart/alternative.

    Parts are UTF-8 in base64, so the text reads back byte for byte (no added newline).
    """
    text = MIMEText(mail.text, "plain", "utf-8")
    message: Message
    if mail.html:
        message = MIMEMultipart("alternative")
        message.attach(text)
        message.attach(MIMEText(mail.html, "html", "utf-8"))
    else:
        message = text
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Message-ID"] = message_id
    if mail.key:
        message[KEY_HEADER] = mail.key
    return message.as_bytes()


def to_gmail_raw(mail: Mail, message_id: str) -> str:
    """The `raw` field of a Gmail send: the RFC 822 bytes, base64url."""
    return base64.urlsafe_b64encode(to_rfc822(mail, message_id)).decode("ascii")


def _decoded(value: str | None) -> str:
    if not value:
        return ""
    return str(email.header.make_header(email.header.decode_header(value)))


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return payload.decode(part.get_content_charset() or "utf-8", errors="replace")


def mail_from_rfc822(raw: bytes) -> Mail:
    """The `Mail` an RFC 822 message was built from (the first text and html parts)."""
    message = BytesParser(policy=compat32).parsebytes(raw)
    text = html = ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/plain" and not text:
            text = _part_text(part)
        elif kind == "text/html" and not html:
            html = _part_text(part)
    sender = email.utils.parseaddr(_decoded(message.get("From")))[1]
    to = tuple(addr for _, addr in email.utils.getaddresses([_decoded(message.get("To"))]) if addr)
    return Mail(
        sender=sender,
        to=to,
        subject=_decoded(message.get("Subject")),
        text=text,
        html=html,
        key=_decoded(message.get(KEY_HEADER)),
    )


def sent_mail_from_gmail(message: Mapping[str, Any]) -> SentMail:
    """A Gmail message resource read with ``format=raw`` as `SentMail`."""
    raw = base64.urlsafe_b64decode(_padded(str(message["raw"])))
    sent_at = datetime.fromtimestamp(int(message["internalDate"]) / 1000, tz=UTC)
    return SentMail(id=str(message["id"]), mail=mail_from_rfc822(raw), sent_at=sent_at)


def _padded(value: str) -> str:
    return value + "=" * (-len(value) % 4)


# -- errors ------------------------------------------------------------------------------------

_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
_SCOPE_REASONS = {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "authError"}


def error_reason(content: bytes) -> tuple[str, str]:
    """Google's error body as (first reason, message); empty strings when it does not parse."""
    try:
        error = json.loads(content.decode("utf-8")).get("error") or {}
    except (ValueError, AttributeError, UnicodeDecodeError):
        return "", ""
    if not isinstance(error, dict):
        return "", ""
    reasons = [str(e.get("reason", "")) for e in error.get("errors") or () if isinstance(e, dict)]
    details = error.get("details") or ()
    reasons += [str(d.get("reason", "")) for d in details if isinstance(d, dict)]
    reason = next((r for r in reasons if r), str(error.get("status", "")))
    return reason, str(error.get("message", ""))


def error_from_status(
    status: int, headers: Mapping[str, str], content: bytes, what: str
) -> ConnectorError:
    """The connector error for Google's HTTP answer `status` to the operation `what`."""
    reason, message = error_reason(content)
    detail = f"{what}: Google answered {status}" + (f" {reason}" if reason else "")
    if message:
        detail += f" ({message})"
    lowered = {k.lower(): v for k, v in headers.items()}
    retry_after = retry_after_seconds(lowered.get("retry-after"))
    if status == 401:
        return AuthExpired(f"{detail}: sign in to Google again")
    if status == 429 or (status == 403 and reason in _RATE_REASONS):
        return Throttled(f"{detail}: slow down", retry_after)
    if status == 503 and retry_after is not None:
        # As for Graph: a 503 that says when to come back is a request to slow down.
        return Throttled(f"{detail}: Google is busy, try again later", retry_after)
    if status == 403 and reason in _SCOPE_REASONS:
        return AuthExpired(f"{detail}: grant the add-on the access it asks for")
    if status in (404, 410):
        return NotFound(f"{detail}: it does not exist (or was deleted)")
    if status in (409, 412):
        return Conflict(f"{detail}: it changed meanwhile or already exists")
    if status >= 500 or status == 408:
        # 408: the request did not reach Google whole in time; it was not run.
        return Unavailable(f"{detail}: Google failed, try again later")
    return InvalidRequest(f"{detail}: Google refused the request")
