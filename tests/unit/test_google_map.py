"""The pure Google mapping against JSON shaped as Google's reference pages show it."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cadence.recurrence import DayOfMonth, NthWeekday, Rule, Weekday
from connectors._google_map import (
    VERSION_PROPERTY,
    busy_from_google,
    drive_quote,
    error_from_status,
    event_id_for,
    file_info_from_drive,
    from_google_event,
    mail_from_rfc822,
    message_id_for,
    revision_infos,
    rule_from_google,
    sent_mail_from_gmail,
    to_gmail_raw,
    to_google_event,
    to_google_patch,
    to_rfc822,
)
from connectors._retry import retry_after_seconds
from connectors.errors import (
    AuthExpired,
    Conflict,
    InvalidRequest,
    NotFound,
    Throttled,
    Unavailable,
)
from connectors.models import Attendee, EventPatch, Mail, NewEvent

AMS = "Europe/Amsterdam"
QUARTERLY = Rule.build(datetime(2027, 1, 12, 10, 0), AMS, NthWeekday(Weekday.TU, 2), count=4)

MASTER = {
    "kind": "calendar#event",
    "etag": '"3181161784712000"',
    "id": "abc123def456",
    "status": "confirmed",
    "htmlLink": "https://www.google.com/calendar/event?eid=YWJj",
    "created": "2026-11-02T09:00:00.000Z",
    "updated": "2026-11-02T09:00:00.000Z",
    "summary": "Goed gesprek",
    "description": "<p>Agenda volgt</p>",
    "location": "Kamer 4",
    "creator": {"email": "ada@example.org", "self": True},
    "organizer": {"email": "ada@example.org", "self": True},
    "start": {"dateTime": "2027-01-12T10:00:00+01:00", "timeZone": AMS},
    "end": {"dateTime": "2027-01-12T11:00:00+01:00", "timeZone": AMS},
    "recurrence": ["RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4"],
    "iCalUID": "abc123def456@google.com",
    "sequence": 0,
    "attendees": [
        {"email": "ada@example.org", "organizer": True, "self": True, "responseStatus": "accepted"},
        {"email": "bob@example.org", "displayName": "Bob", "responseStatus": "needsAction"},
        {"email": "cy@example.org", "responseStatus": "declined"},
    ],
    "extendedProperties": {"private": {"series": "s-1"}, "shared": {"pair": "p-9"}},
    "attachments": [
        {
            "fileUrl": "https://drive.google.com/file/d/f1/view?usp=drive_web",
            "title": "agenda.pdf",
            "mimeType": "application/pdf",
            "iconLink": "https://drive-thirdparty.googleusercontent.com/16/type/application/pdf",
            "fileId": "f1",
        }
    ],
    "reminders": {"useDefault": True},
    "eventType": "default",
}

INSTANCE = {
    **{k: v for k, v in MASTER.items() if k not in ("recurrence", "attachments")},
    "id": "abc123def456_20270413T080000Z",
    "start": {"dateTime": "2027-04-15T14:00:00+02:00", "timeZone": AMS},
    "end": {"dateTime": "2027-04-15T15:00:00+02:00", "timeZone": AMS},
    "recurringEventId": "abc123def456",
    "originalStartTime": {"dateTime": "2027-04-13T10:00:00+02:00", "timeZone": AMS},
}


def test_event_id_is_base32hex_stable_and_per_owner_and_key() -> None:
    """A derived event id uses only Google's allowed characters and depends on owner and key."""
    one = event_id_for("Ada@Example.org", "series-1")
    assert re.fullmatch(r"[0-9a-v]{5,1024}", one)
    assert one == event_id_for("ada@example.org", "series-1")
    assert one != event_id_for("bob@example.org", "series-1")
    assert one != event_id_for("ada@example.org", "series-2")


def test_message_id_is_stable_per_key() -> None:
    """A keyed mail's Message-ID is the same on every retry and sits in the sender's domain."""
    first = message_id_for("ada@example.org", "k1")
    assert first == message_id_for("ada@example.org", "k1")
    assert first != message_id_for("ada@example.org", "k2")
    assert re.fullmatch(r"<[0-9a-f]{40}@example\.org>", first)


def test_series_insert_body_has_rrule_zone_and_shared_properties() -> None:
    """A series is sent with its RRULE, its zone on both ends and our ids shared with every copy."""
    start = datetime(2027, 1, 12, 10, tzinfo=ZoneInfo(AMS))
    event = NewEvent(
        subject="Goed gesprek",
        start=start,
        end=start + timedelta(hours=1),
        tz=AMS,
        organizer="ada@example.org",
        attendees=(Attendee("bob@example.org", "Bob"),),
        body_html="<p>Agenda volgt</p>",
        location="Kamer 4",
        recurrence=QUARTERLY,
        properties={"series": "s-1"},
    )
    body = to_google_event(event, event_id="abc123")
    assert body == {
        "id": "abc123",
        "summary": "Goed gesprek",
        "start": {"dateTime": "2027-01-12T10:00:00", "timeZone": AMS},
        "end": {"dateTime": "2027-01-12T11:00:00", "timeZone": AMS},
        "description": "<p>Agenda volgt</p>",
        "location": "Kamer 4",
        "attendees": [
            {"email": "bob@example.org", "responseStatus": "needsAction", "displayName": "Bob"}
        ],
        "recurrence": ["RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4"],
        "extendedProperties": {"shared": {"series": "s-1"}},
    }


def test_naive_times_are_refused_before_sending() -> None:
    """An event in naive time is refused rather than guessed."""
    naive = NewEvent("x", datetime(2027, 2, 1, 14), datetime(2027, 2, 1, 15), AMS, "a@b.org")
    with pytest.raises(InvalidRequest, match="aware"):
        to_google_event(naive, event_id="abcde")


def test_master_reads_back_with_rule_attendees_properties_and_attachments() -> None:
    """A master maps to an Event with its rule, the guests (not the organizer) and our ids."""
    event = from_google_event(MASTER)
    assert event.recurrence == QUARTERLY
    assert event.start == datetime(2027, 1, 12, 9, tzinfo=UTC)
    assert (event.tz, event.organizer, event.etag) == (AMS, "ada@example.org", MASTER["etag"])
    assert [(a.email, a.name, a.response) for a in event.attendees] == [
        ("bob@example.org", "Bob", "none"),
        ("cy@example.org", "", "declined"),
    ]
    assert dict(event.properties) == {"series": "s-1", "pair": "p-9"}
    assert [(a.id, a.name, a.content_type) for a in event.attachments] == [
        ("f1", "agenda.pdf", "application/pdf")
    ]
    assert event.series_id is None and not event.cancelled


def test_moved_instance_keeps_series_and_original_start() -> None:
    """An exception maps to its series id and the start the rule gave it."""
    event = from_google_event(INSTANCE)
    assert event.series_id == "abc123def456"
    assert event.original_start == datetime(2027, 4, 13, 8, tzinfo=UTC)
    assert event.start == datetime(2027, 4, 15, 12, tzinfo=UTC)
    assert not event.is_series_master


def test_cancelled_instance_is_marked() -> None:
    """A cancelled occurrence (Google keeps a stub) maps with cancelled set."""
    stub = {**INSTANCE, "status": "cancelled"}
    assert from_google_event(stub).cancelled


def test_rules_the_model_cannot_hold_read_as_plain_events() -> None:
    """A weekly series made in Google's UI reads without a rule instead of failing."""
    start = datetime(2027, 1, 12, 9, tzinfo=UTC)
    assert rule_from_google(["RRULE:FREQ=WEEKLY;BYDAY=TU"], start, AMS) is None
    assert rule_from_google(["RRULE:FREQ=MONTHLY;BYMONTHDAY=12", "RDATE:20270301"], start, AMS) is (
        None
    )
    monthly = rule_from_google(["RRULE:FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=12"], start, AMS)
    assert monthly == Rule.build(datetime(2027, 1, 12, 10), AMS, DayOfMonth(12))


def test_rule_round_trips_through_google_lines_with_until() -> None:
    """A rule ending at a date survives to_google and back."""
    rule = QUARTERLY.ending_before(date(2027, 7, 1))
    start = datetime(2027, 1, 12, 10, tzinfo=ZoneInfo(AMS))
    event = NewEvent("x", start, start + timedelta(hours=1), AMS, "a@b.org", recurrence=rule)
    body = to_google_event(event, event_id="abcde")
    assert rule_from_google(body["recurrence"], start, AMS) == rule


def test_patch_carries_zone_and_replaces_arrays() -> None:
    """A patch sends only what changes; times carry the event's zone."""
    start = datetime(2027, 2, 2, 8, tzinfo=UTC)
    body = to_google_patch(
        EventPatch(subject="Nieuw", attendees=(Attendee("bob@example.org"),)),
        tz=AMS,
        start=start,
        end=start + timedelta(hours=1),
    )
    assert body == {
        "summary": "Nieuw",
        "start": {"dateTime": "2027-02-02T09:00:00+01:00", "timeZone": AMS},
        "end": {"dateTime": "2027-02-02T10:00:00+01:00", "timeZone": AMS},
        "attendees": [{"email": "bob@example.org", "responseStatus": "needsAction"}],
    }


def test_free_busy_unknown_calendar_is_free() -> None:
    """freebusy.query's per-calendar errors map to an empty list; busy spans are sorted."""
    answer = {
        "kind": "calendar#freeBusy",
        "timeMin": "2027-04-13T00:00:00.000Z",
        "timeMax": "2027-04-14T00:00:00.000Z",
        "calendars": {
            "bob@example.org": {
                "busy": [
                    {"start": "2027-04-13T13:00:00Z", "end": "2027-04-13T14:00:00Z"},
                    {"start": "2027-04-13T08:00:00Z", "end": "2027-04-13T09:00:00Z"},
                ]
            },
            "nobody@example.org": {"errors": [{"domain": "global", "reason": "notFound"}]},
        },
    }
    busy = busy_from_google(answer, ["Bob@example.org", "nobody@example.org"])
    assert [(b.start.hour, b.end.hour) for b in busy["Bob@example.org"]] == [(8, 9), (13, 14)]
    assert busy["nobody@example.org"] == []


def test_drive_query_literals_are_escaped() -> None:
    """Quotes and backslashes in names cannot break out of a Drive query literal."""
    assert drive_quote("it's") == "'it\\'s'"
    assert drive_quote("a\\b") == "'a\\\\b'"


def test_drive_file_and_revisions_map_to_versions() -> None:
    """A Drive file's head revision is its etag and our counter its version; revisions count up."""
    data = {
        "kind": "drive#file",
        "id": "f1",
        "name": "record.json",
        "mimeType": "application/json",
        "size": "2",
        "modifiedTime": "2027-03-01T12:00:00.000Z",
        "headRevisionId": "r2",
        "appProperties": {VERSION_PROPERTY: "2"},
    }
    info = file_info_from_drive(data, "dossier")
    assert (info.id, info.etag, info.version, info.size) == ("f1", "r2", 2, 2)
    assert info.modified == datetime(2027, 3, 1, 12, tzinfo=UTC)
    revisions = [
        {
            "id": "r1",
            "mimeType": "application/json",
            "size": "1",
            "modifiedTime": "2027-03-01T11:00:00Z",
        },
        {
            "id": "r2",
            "mimeType": "application/json",
            "size": "2",
            "modifiedTime": "2027-03-01T12:00:00Z",
        },
    ]
    listed = revision_infos(revisions, file_id="f1", folder="dossier", name="record.json")
    assert [(v.version, v.etag, v.size) for v in listed] == [(1, "r1", 1), (2, "r2", 2)]


@pytest.mark.parametrize("html", ["", "<p>Zie <b>bijlage</b></p>"])
def test_mail_round_trips_through_rfc822(html: str) -> None:
    """Sender, recipients, a non-ASCII subject, exact text, html and key survive RFC 822."""
    mail = Mail(
        sender="ada@example.org",
        to=("bob@example.org", "cy@example.org"),
        subject="Verslag één",
        text="Zie bijlage",
        html=html,
        key="reminder:s-1:2027-04-13",
    )
    assert mail_from_rfc822(to_rfc822(mail, "<x@example.org>")) == mail


def test_sent_message_maps_id_time_and_mail() -> None:
    """A Gmail message read as raw maps to SentMail with internalDate as an aware instant."""
    mail = Mail(sender="ada@example.org", to=("bob@example.org",), subject="Hoi", text="x")
    message = {
        "id": "18c0ffee",
        "threadId": "18c0ffee",
        "labelIds": ["SENT"],
        "internalDate": "1801483200000",
        "raw": to_gmail_raw(mail, "<m@example.org>").rstrip("="),
    }
    sent = sent_mail_from_gmail(message)
    assert (sent.id, sent.mail) == ("18c0ffee", mail)
    assert sent.sent_at == datetime(2027, 2, 1, 12, tzinfo=UTC)
    assert base64.urlsafe_b64decode(to_gmail_raw(mail, "<m@x>")).startswith(b"Content-Type")


def _body(reason: str, status: str = "") -> bytes:
    return (
        b'{"error": {"code": 0, "message": "m", "errors": [{"domain": "usageLimits", '
        + f'"reason": "{reason}", "message": "m"}}], "status": "{status}"}}}}'.encode()
    )


@pytest.mark.parametrize(
    ("status", "headers", "content", "expected"),
    [
        (401, {}, _body("authError", "UNAUTHENTICATED"), AuthExpired),
        (403, {"Retry-After": "7"}, _body("rateLimitExceeded"), Throttled),
        (403, {}, _body("userRateLimitExceeded"), Throttled),
        (403, {}, _body("insufficientPermissions"), AuthExpired),
        (403, {}, _body("forbiddenForNonOrganizer"), InvalidRequest),
        (404, {}, _body("notFound"), NotFound),
        (410, {}, _body("deleted"), NotFound),
        (409, {}, _body("duplicate"), Conflict),
        (412, {}, _body("conditionNotMet"), Conflict),
        (429, {}, _body("rateLimitExceeded"), Throttled),
        (500, {}, b"<html>oops</html>", Unavailable),
        (503, {}, b"", Unavailable),
        (503, {"Retry-After": "7"}, _body("backendError"), Throttled),
        (408, {}, _body("requestTimeout"), Unavailable),
        (400, {}, _body("timeRangeEmpty"), InvalidRequest),
    ],
)
def test_http_errors_map_once(
    status: int, headers: dict[str, str], content: bytes, expected: type[Exception]
) -> None:
    """Each status (and 403 reason) maps to one connector error naming what failed."""
    error = error_from_status(status, headers, content, "reading event 'e1'")
    assert type(error) is expected
    assert "reading event 'e1'" in str(error)
    assert str(status) in str(error)


def test_retry_after_seconds_and_http_date() -> None:
    """Retry-After is read as seconds or as an HTTP-date; garbage is ignored."""
    now = datetime(2027, 1, 1, 12, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Fri, 01 Jan 2027 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    error = error_from_status(429, {"retry-after": "3"}, b"", "x")
    assert isinstance(error, Throttled) and error.retry_after == 3.0
    busy = error_from_status(503, {"Retry-After": "7"}, b"", "x")
    assert isinstance(busy, Throttled) and busy.retry_after == 7.0
