"""Pure Graph JSON mapping, against event, schedule, driveItem and message JSON shaped as the
Microsoft Graph v1.0 reference pages show them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors._graph_map import (
    EVENT_PROPERTIES,
    MAIL_KEY,
    MAIL_PARTS,
    expand_properties,
    file_etag,
    from_date_time_zone,
    from_drive_item,
    from_drive_version,
    from_graph_attachment,
    from_graph_event,
    from_graph_message,
    from_schedule,
    in_window,
    mail_key_filter,
    parse_stamp,
    patch_shows,
    series_ical_uid,
    sorted_versions,
    to_date_time_zone,
    to_get_schedule,
    to_graph_attachment,
    to_graph_event,
    to_graph_message,
    to_graph_patch,
    transaction_id,
    utc_iso,
)
from connectors.errors import InvalidRequest
from connectors.models import Attendee, EventPatch, Mail, NewEvent

AMS = "Europe/Amsterdam"
WEST = "W. Europe Standard Time"
QUARTERLY = Rule.build(datetime(2027, 1, 12, 10, 0), AMS, NthWeekday(Weekday.TU, 2), count=4)


def new_event(**changes: object) -> NewEvent:
    """A one-hour meeting in Amsterdam with Bob."""
    fields: dict[str, object] = {
        "subject": "Goed gesprek",
        "start": datetime(2027, 1, 12, 10, tzinfo=ZoneInfo(AMS)),
        "end": datetime(2027, 1, 12, 11, tzinfo=ZoneInfo(AMS)),
        "tz": AMS,
        "organizer": "ada@example.org",
        "attendees": (Attendee("bob@example.org", "Bob", response="declined"),),
        "body_html": "<p>Agenda</p>",
        "location": "Kamer 4",
        "properties": {"series": "s-1"},
    }
    fields.update(changes)
    return NewEvent(**fields)  # type: ignore[arg-type]


def graph_event(**changes: object) -> dict[str, object]:
    """A series master as ``GET /me/events/{id}`` answers it with ``outlook.timezone="UTC"``."""
    data: dict[str, object] = {
        "@odata.etag": 'W/"DwAAABYAAAA="',
        "id": "AAMkAGI2TG93AAA=",
        "changeKey": "DwAAABYAAAA=",
        "iCalUId": "040000008200E00074C5B7101A82E00800000000",
        "subject": "Goed gesprek",
        "body": {"contentType": "html", "content": "<html><body><p>Agenda</p></body></html>"},
        "start": {"dateTime": "2027-01-12T09:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2027-01-12T10:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": AMS,
        "originalEndTimeZone": AMS,
        "location": {"displayName": "Kamer 4", "locationType": "default"},
        "attendees": [
            {
                "type": "required",
                "status": {"response": "tentativelyAccepted", "time": "2027-01-02T10:00:00Z"},
                "emailAddress": {"name": "Bob", "address": "bob@example.org"},
            }
        ],
        "organizer": {"emailAddress": {"name": "Ada", "address": "ada@example.org"}},
        "isOnlineMeeting": False,
        "isCancelled": False,
        "type": "seriesMaster",
        "seriesMasterId": None,
        "recurrence": QUARTERLY.to_graph(),
        "singleValueExtendedProperties": [
            {"id": EVENT_PROPERTIES, "value": '{"series":"s-1"}'},
        ],
    }
    data.update(changes)
    return data


def test_new_event_json_has_zone_transaction_and_properties() -> None:
    """A new event goes out in its IANA zone with a derived transactionId and our property."""
    body = to_graph_event(new_event(recurrence=QUARTERLY), "key-1")
    assert body["start"] == {"dateTime": "2027-01-12T10:00:00", "timeZone": AMS}
    assert body["end"] == {"dateTime": "2027-01-12T11:00:00", "timeZone": AMS}
    assert body["transactionId"] == transaction_id("key-1")
    assert body["recurrence"] == QUARTERLY.to_graph()
    assert body["singleValueExtendedProperties"] == [
        {"id": EVENT_PROPERTIES, "value": '{"series":"s-1"}'}
    ]
    assert body["attendees"] == [
        {"type": "required", "emailAddress": {"address": "bob@example.org", "name": "Bob"}}
    ]


def test_series_in_the_spring_gap_goes_out_at_its_nominal_time() -> None:
    """A master whose first start is in the DST gap is sent at the rule's 02:00, ending at 04:00."""
    rule = Rule.build(datetime(2027, 3, 1, 2, 0), AMS, NthWeekday(Weekday.SU, 4), count=3)
    first = rule.first_n(1)[0]
    body = to_graph_event(
        new_event(start=first, end=first + timedelta(hours=1), recurrence=rule), "gap"
    )
    assert body["start"] == {"dateTime": "2027-03-28T02:00:00", "timeZone": AMS}
    assert body["end"] == {"dateTime": "2027-03-28T04:00:00", "timeZone": AMS}


def test_occurrence_ical_uid_reads_as_its_series() -> None:
    """An occurrence's own iCalUId (its date in bytes 16-19) reads as the master's; others stay."""
    master = "040000008200E00074C5B7101A82E00800000000" + "5025D461E473C801" + "0" * 16 + "AB" * 20
    occurrence = master[:32] + "07EB040D" + master[40:]
    data = graph_event(type="occurrence", recurrence=None, iCalUId=occurrence)
    assert from_graph_event(data).ical_uid == master
    assert series_ical_uid(master) == master
    assert series_ical_uid("abc@example.org") == "abc@example.org"


def test_transaction_id_is_stable_and_short() -> None:
    """The same key always gives the same transactionId; any key fits in 36 characters."""
    assert transaction_id("k") == transaction_id("k")
    assert transaction_id("k") != transaction_id("l")
    assert len(transaction_id("x" * 10_000)) == 36


def test_new_event_refuses_naive_and_reversed_times() -> None:
    """Naive times and an end before the start are refused before anything is sent."""
    with pytest.raises(InvalidRequest):
        to_graph_event(new_event(start=datetime(2027, 1, 12, 10)), "k")
    with pytest.raises(InvalidRequest, match="before it starts"):
        to_graph_event(new_event(end=datetime(2027, 1, 12, 9, tzinfo=ZoneInfo(AMS))), "k")


def test_series_master_reads_back_with_rule_zone_and_properties() -> None:
    """A master's JSON gives the rule, the IANA zone, UTC instants, attendee answer and ids."""
    event = from_graph_event(graph_event())
    assert event.recurrence == QUARTERLY
    assert event.tz == AMS
    assert (event.start, event.end) == (
        datetime(2027, 1, 12, 9, tzinfo=UTC),
        datetime(2027, 1, 12, 10, tzinfo=UTC),
    )
    assert event.etag == 'W/"DwAAABYAAAA="'
    assert event.attendees == (Attendee("bob@example.org", "Bob", "tentative"),)
    assert dict(event.properties) == {"series": "s-1"}
    assert event.organizer == "ada@example.org"
    assert event.series_id is None and event.original_start is None


def test_occurrence_reads_series_and_original_start() -> None:
    """An occurrence names its master and keeps its original start; it carries no rule."""
    event = from_graph_event(
        graph_event(
            type="exception",
            seriesMasterId="AAMkMaster=",
            originalStart="2027-04-13T08:00:00Z",
            start={"dateTime": "2027-04-15T12:00:00.0000000", "timeZone": "UTC"},
            end={"dateTime": "2027-04-15T13:00:00.0000000", "timeZone": "UTC"},
            recurrence=None,
        )
    )
    assert event.series_id == "AAMkMaster="
    assert event.original_start == datetime(2027, 4, 13, 8, tzinfo=UTC)
    assert event.recurrence is None


def test_windows_zone_names_are_read() -> None:
    """A Windows zone name in the answer is read as its IANA zone."""
    event = from_graph_event(
        graph_event(
            type="singleInstance",
            recurrence=None,
            originalStartTimeZone=WEST,
            start={
                "dateTime": "2027-01-12T10:00:00.0000000",
                "timeZone": "W. Europe Standard Time",
            },
            end={"dateTime": "2027-01-12T11:00:00", "timeZone": "W. Europe Standard Time"},
        )
    )
    assert event.tz == "Europe/Berlin"
    assert event.start == datetime(2027, 1, 12, 9, tzinfo=UTC)


def test_patch_sends_only_set_fields_in_the_event_zone() -> None:
    """A patch sends what it sets; a new start keeps the zone and the duration."""
    current = from_graph_event(graph_event(type="singleInstance", recurrence=None))
    body = to_graph_patch(
        EventPatch(start=datetime(2027, 7, 1, 12, tzinfo=UTC), location="Online"), current
    )
    assert body == {
        "start": {"dateTime": "2027-07-01T14:00:00", "timeZone": AMS},
        "end": {"dateTime": "2027-07-01T15:00:00", "timeZone": AMS},
        "location": {"displayName": "Online"},
    }
    assert to_graph_patch(EventPatch(subject="x")) == {"subject": "x"}
    ended = QUARTERLY.ending_before(date(2027, 7, 1))
    assert to_graph_patch(EventPatch(recurrence=ended))["recurrence"] == ended.to_graph()


def test_stamps_with_seven_digits_and_offsets_parse() -> None:
    """Graph's 7-digit fractions, Z and offsets all parse to the same instant."""
    want = datetime(2027, 1, 12, 9, 0, 0, 123456, tzinfo=UTC)
    assert parse_stamp("2027-01-12T09:00:00.1234567Z") == want
    assert parse_stamp("2027-01-12T10:00:00.1234567+01:00") == want
    assert from_date_time_zone({"dateTime": "2027-01-12T09:00:00.1234567", "timeZone": "UTC"}) == (
        want
    )
    assert to_date_time_zone(want, "UTC")["dateTime"] == "2027-01-12T09:00:00"


def test_attachments_map_both_ways() -> None:
    """A file attachment goes out base64 and its metadata reads back."""
    body = to_graph_attachment("agenda.pdf", b"%PDF", "application/pdf")
    assert body["@odata.type"] == "#microsoft.graph.fileAttachment"
    assert body["contentBytes"] == "JVBERg=="
    info = from_graph_attachment(
        {"id": "AAMkATT=", "name": "agenda.pdf", "contentType": "application/pdf", "size": 4}
    )
    assert (info.id, info.name, info.content_type, info.size) == (
        "AAMkATT=",
        "agenda.pdf",
        "application/pdf",
        4,
    )
    event = from_graph_event(graph_event(), [{"id": "a", "name": "x.txt", "size": 1}])
    assert [a.name for a in event.attachments] == ["x.txt"]


def test_window_overlap_excludes_touching_edges() -> None:
    """An event ending exactly at the window's start is outside it."""
    event = from_graph_event(graph_event(type="singleInstance", recurrence=None))
    assert in_window(event, event.start, event.end)
    assert not in_window(event, event.end, event.end + timedelta(hours=1))
    assert not in_window(event, event.start - timedelta(hours=1), event.start)


def test_schedule_maps_busy_and_unknown_addresses() -> None:
    """scheduleItems become busy intervals; free items and errored addresses are left out."""
    body = to_get_schedule(
        ["ada@example.org"], datetime(2027, 4, 13, tzinfo=UTC), datetime(2027, 4, 14, tzinfo=UTC)
    )
    assert body["Schedules"] == ["ada@example.org"]
    assert body["StartTime"] == {"dateTime": "2027-04-13T00:00:00", "timeZone": "UTC"}
    values = [
        {
            "scheduleId": "Ada@example.org",
            "availabilityView": "0200",
            "scheduleItems": [
                {
                    "isPrivate": False,
                    "status": "Busy",
                    "subject": "Goed gesprek",
                    "start": {"dateTime": "2027-04-13T08:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2027-04-13T09:00:00.0000000", "timeZone": "UTC"},
                },
                {
                    "status": "Free",
                    "start": {"dateTime": "2027-04-13T10:00:00.0000000", "timeZone": "UTC"},
                    "end": {"dateTime": "2027-04-13T11:00:00.0000000", "timeZone": "UTC"},
                },
            ],
        },
        {
            "scheduleId": "nobody@example.org",
            "availabilityView": "",
            "error": {
                "message": "The user does not exist",
                "responseCode": "ErrorMailRecipientNotFound",
            },
        },
    ]
    busy = from_schedule(values, ["ada@example.org", "nobody@example.org", "cy@example.org"])
    assert [(b.start.hour, b.end.hour, b.status) for b in busy["ada@example.org"]] == [
        (8, 9, "busy")
    ]
    assert busy["nobody@example.org"] == []
    assert busy["cy@example.org"] == []


def test_drive_item_and_versions() -> None:
    """A driveItem's etag names its newest version; versions order oldest first by id."""
    item = {
        "id": "01BYE5RZ",
        "name": "record.json",
        "eTag": '"{1B3F},3"',
        "size": 2,
        "file": {"mimeType": "application/json"},
        "lastModifiedDateTime": "2027-03-01T12:00:00Z",
    }
    versions = [
        {"id": "2.0", "lastModifiedDateTime": "2027-03-01T12:00:00Z", "size": 2},
        {"id": "1.0", "lastModifiedDateTime": "2027-03-01T11:00:00Z", "size": 1},
    ]
    assert [v["id"] for v in sorted_versions(versions)] == ["1.0", "2.0"]
    info = from_drive_item(item, "dossier", versions)
    assert (info.version, info.etag, info.content_type) == (
        2,
        file_etag("01BYE5RZ", "2.0"),
        "application/json",
    )
    old = from_drive_version(item, "dossier", sorted_versions(versions)[0], 1)
    assert (old.version, old.size, old.etag) == (1, 1, file_etag("01BYE5RZ", "1.0"))
    assert old.modified == datetime(2027, 3, 1, 11, tzinfo=UTC)


def test_mail_round_trips_through_a_sent_item() -> None:
    """A message goes out with our key and parts and reads back as the same mail."""
    mail = Mail("ada@example.org", ("bob@example.org",), "Agenda", "tekst", "<p>x</p>", "k1")
    message = to_graph_message(mail, "k1")
    assert message["body"] == {"contentType": "html", "content": "<p>x</p>"}
    sent_item = {
        "id": "AAMkMSG=",
        "sentDateTime": "2027-03-01T12:00:00Z",
        "subject": message["subject"],
        "body": {"contentType": "html", "content": "<html><body><p>x</p></body></html>"},
        "from": {"emailAddress": {"address": "ada@example.org", "name": "Ada"}},
        "toRecipients": message["toRecipients"],
        "singleValueExtendedProperties": message["singleValueExtendedProperties"],
    }
    sent = from_graph_message(sent_item)
    assert sent.mail == mail
    assert sent.sent_at == datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert {p["id"] for p in message["singleValueExtendedProperties"]} == {MAIL_KEY, MAIL_PARTS}


def test_mail_without_our_parts_reads_its_body() -> None:
    """A message without our parts property reads its text body and an auto key as no key."""
    sent = from_graph_message(
        {
            "id": "m",
            "sentDateTime": "2027-03-01T12:00:00Z",
            "subject": "Hoi",
            "body": {"contentType": "text", "content": "x"},
            "from": {"emailAddress": {"address": "ada@example.org"}},
            "toRecipients": [{"emailAddress": {"address": "bob@example.org"}}],
        },
        key="auto-123",
    )
    assert (sent.mail.text, sent.mail.html, sent.mail.key) == ("x", "", "")


def test_filters_quote_and_name_our_properties() -> None:
    """Our $filter and $expand strings name our property ids and quote a key's apostrophe."""
    assert "ep/value eq 'it''s'" in mail_key_filter("it's")
    assert expand_properties() == (
        f"singleValueExtendedProperties($filter=id eq '{EVENT_PROPERTIES}')"
    )


def test_an_unknown_zone_is_a_refused_request() -> None:
    """A zone name that is not an IANA zone is InvalidRequest naming it, not a KeyError."""
    with pytest.raises(InvalidRequest, match="Mars/Olympus"):
        to_date_time_zone(datetime(2027, 1, 1, tzinfo=UTC), "Mars/Olympus")


def test_utc_iso_takes_aware_instants_only() -> None:
    """A query window is sent in UTC; a naive bound is refused, naming which one."""
    assert utc_iso(datetime(2027, 1, 1, 12, tzinfo=ZoneInfo("Europe/Amsterdam")), "start") == (
        "2027-01-01T11:00:00Z"
    )
    with pytest.raises(InvalidRequest, match="start"):
        utc_iso(datetime(2027, 1, 1, 12), "start")


def test_patch_shows_tells_our_write_from_another() -> None:
    """An event shows a patch when every field it sets is there, HTML body by its words."""
    event = from_graph_event(
        {
            "id": "e1",
            "subject": "Nieuw",
            "start": {"dateTime": "2027-02-01T13:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-02-01T14:00:00", "timeZone": "UTC"},
            "body": {"contentType": "html", "content": "<html><body><p>Agenda</p></body></html>"},
            "location": {"displayName": "Kamer 2"},
        }
    )
    assert patch_shows(EventPatch(subject="Nieuw", body_html="<p>Agenda</p>"), event)
    assert patch_shows(EventPatch(location="Kamer 2"), event)
    assert not patch_shows(EventPatch(subject="Nieuw", location="Kantine"), event)


def test_a_uid_another_system_made_is_unwrapped_and_wrapped_again() -> None:
    """Exchange wraps a foreign iCalendar UID in a "vCal-Uid" Global Object ID; the connector
    shows the UID itself and asks Graph in its wrapped form. Exchange's own ids pass as they are."""
    from connectors._graph_map import graph_ical_uid, plain_ical_uid

    google = "e2uth7p0o106n0gbbj53bses0g@google.com"
    wrapped = graph_ical_uid(google)
    assert wrapped.startswith("040000008200E00074C5B7101A82E008") and google not in wrapped
    assert plain_ical_uid(wrapped) == google
    assert plain_ical_uid(wrapped.lower()) == google
    own = "040000008200E00074C5B7101A82E00800000000" + "5025D461E473C801" + "0" * 16 + "AB" * 20
    assert graph_ical_uid(own) == own and plain_ical_uid(own) == own
    assert plain_ical_uid("not-a-goid") == "not-a-goid"
