"""The Google emulator's Calendar v3: events, recurrence, exceptions, free/busy, attachments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google_checks import GoogleApi, error_reason
from werkzeug.test import Client

from emulators.google import GoogleEmulator

ADA = "ada@example.org"
BOB = "bob@example.org"
CY = "cy@example.org"
AMS = "Europe/Amsterdam"
QUARTERLY = "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=4"
YEAR = {"timeMin": "2027-01-01T00:00:00Z", "timeMax": "2028-01-01T00:00:00Z"}


@pytest.fixture
def google() -> GoogleEmulator:
    """A fresh emulator with Ada, Bob and Cy."""
    emulator = GoogleEmulator()
    emulator.add_user(ADA, "Ada")
    emulator.add_user(BOB, "Bob")
    emulator.add_user(CY, "Cy")
    return emulator


@pytest.fixture
def as_user(google: GoogleEmulator) -> Callable[[str], GoogleApi]:
    """A validating caller for a user."""
    client = Client(google)
    return lambda email: GoogleApi(client, google.token(email))


@pytest.fixture
def ada(as_user: Callable[[str], GoogleApi]) -> GoogleApi:
    """Ada's caller."""
    return as_user(ADA)


@pytest.fixture
def bob(as_user: Callable[[str], GoogleApi]) -> GoogleApi:
    """Bob's caller."""
    return as_user(BOB)


def event(
    summary: str = "Goed gesprek",
    start: str = "2027-02-01T14:00:00",
    end: str = "2027-02-01T15:00:00",
    **extra: Any,
) -> dict[str, Any]:
    """An event body in Amsterdam time with Bob invited."""
    return {
        "summary": summary,
        "start": {"dateTime": start, "timeZone": AMS},
        "end": {"dateTime": end, "timeZone": AMS},
        "attendees": [{"email": BOB}],
        **extra,
    }


def series(api: GoogleApi, **extra: Any) -> dict[str, Any]:
    """The quarterly series (second Tuesday, 10:00 Amsterdam, four times) from January 2027."""
    body = event(
        start="2027-01-12T10:00:00", end="2027-01-12T11:00:00", recurrence=[QUARTERLY], **extra
    )
    return dict(api("calendar", "events.insert", calendarId="primary", body=body))


def instances(api: GoogleApi, master_id: str, **params: Any) -> list[dict[str, Any]]:
    """Every instance of a series in 2027."""
    answer = api(
        "calendar", "events.instances", calendarId="primary", eventId=master_id, **YEAR, **params
    )
    return list(answer["items"])


def patch(api: GoogleApi, event_id: str, body: dict[str, Any], **params: Any) -> Any:
    """events.patch of one event in the primary calendar."""
    return api(
        "calendar", "events.patch", calendarId="primary", eventId=event_id, body=body, **params
    )


def test_insert_then_get_round_trips(ada: GoogleApi) -> None:
    """An inserted event reads back whole, with a minted base32hex id, etag and iCalUID."""
    created = ada("calendar", "events.insert", calendarId="primary", body=event(location="K4"))
    assert len(created["id"]) >= 5 and set(created["id"]) <= set("0123456789abcdefghijklmnopqrstuv")
    assert created["etag"].startswith('"')
    assert created["iCalUID"] == f"{created['id']}@google.com"
    assert created["organizer"] == {"email": ADA, "displayName": "Ada", "self": True}
    assert created["start"] == {"dateTime": "2027-02-01T14:00:00+01:00", "timeZone": AMS}
    assert created["attendees"][0]["responseStatus"] == "needsAction"
    got = ada("calendar", "events.get", calendarId="primary", eventId=created["id"])
    assert got == created
    assert ada("calendar", "events.get", calendarId=ADA, eventId=created["id"]) == created


def test_client_id_taken_is_409_duplicate(ada: GoogleApi) -> None:
    """A client-supplied id that exists answers 409 duplicate and changes nothing."""
    first = ada("calendar", "events.insert", calendarId="primary", body=event(id="abcdef0123"))
    again = ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event("Tweede", id="abcdef0123"),
        expect=409,
    )
    assert error_reason(again) == "duplicate"
    got = ada("calendar", "events.get", calendarId="primary", eventId="abcdef0123")
    assert got["summary"] == first["summary"]


@pytest.mark.parametrize("bad", ["abcd", "ABCDEF", "abcdwxyz", "abc-def", "a" * 1025])
def test_client_id_must_be_base32hex(ada: GoogleApi, bad: str) -> None:
    """Ids outside base32hex or 5-1024 characters are refused with 400."""
    answer = ada("calendar", "events.insert", calendarId="primary", body=event(id=bad), expect=400)
    assert error_reason(answer) == "invalid"


def test_deleted_id_stays_taken(ada: GoogleApi) -> None:
    """A deleted event reads back cancelled, and inserting its id again is 409."""
    ada("calendar", "events.insert", calendarId="primary", body=event(id="abcdef0123"))
    ada("calendar", "events.delete", calendarId="primary", eventId="abcdef0123", expect=204)
    got = ada("calendar", "events.get", calendarId="primary", eventId="abcdef0123")
    assert got["status"] == "cancelled"
    ada("calendar", "events.insert", calendarId="primary", body=event(id="abcdef0123"), expect=409)
    ada("calendar", "events.delete", calendarId="primary", eventId="abcdef0123", expect=410)


def test_stale_etag_is_412_on_patch_update_and_delete(ada: GoogleApi) -> None:
    """If-Match with an etag from before a write answers 412 conditionNotMet."""
    created = ada("calendar", "events.insert", calendarId="primary", body=event())
    eid = created["id"]
    patched = patch(ada, eid, body={"summary": "Eerste"}, headers={"If-Match": created["etag"]})
    assert patched["etag"] != created["etag"]
    stale = {"If-Match": created["etag"]}
    for dotted, expect_body in (("events.patch", {"summary": "x"}), ("events.update", event())):
        answer = ada(
            "calendar",
            dotted,
            calendarId="primary",
            eventId=eid,
            body=expect_body,
            headers=stale,
            expect=412,
        )
        assert error_reason(answer) == "conditionNotMet"
    ada("calendar", "events.delete", calendarId="primary", eventId=eid, headers=stale, expect=412)
    assert ada("calendar", "events.get", calendarId="primary", eventId=eid)["summary"] == "Eerste"
    ada("calendar", "events.delete", calendarId="primary", eventId=eid, headers={"If-Match": "*"})


def test_update_replaces_and_patch_merges(ada: GoogleApi) -> None:
    """PUT clears what it leaves out; PATCH keeps it and merges extended properties."""
    created = ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event(location="K4", extendedProperties={"private": {"a": "1"}}),
    )
    eid = created["id"]
    patched = patch(ada, eid, body={"extendedProperties": {"private": {"b": "2"}}})
    assert patched["location"] == "K4"
    assert patched["extendedProperties"] == {"private": {"a": "1", "b": "2"}}
    updated = ada("calendar", "events.update", calendarId="primary", eventId=eid, body=event("Nu"))
    assert "location" not in updated and "extendedProperties" not in updated
    assert updated["summary"] == "Nu"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"end": {"dateTime": "2027-02-01T13:00:00", "timeZone": AMS}}, "timeRangeEmpty"),
        ({"start": {"dateTime": "2027-02-01T14:00:00"}}, "required"),
        ({"start": {"dateTime": "2027-02-01T14:00:00", "timeZone": "Mars/Base"}}, "invalid"),
        ({"status": "maybe"}, "invalid"),
        ({"transparency": "glass"}, "invalid"),
        ({"attendees": [{"email": BOB, "responseStatus": "perhaps"}]}, "invalid"),
        ({"attendees": [{"displayName": "Nobody"}]}, "required"),
        ({"colour": "red"}, "invalid"),
        ({"recurrence": ["DTSTART:20270201T140000Z", QUARTERLY]}, "invalid"),
        ({"recurrence": ["RRULE:FREQ=SOMETIMES"]}, "invalid"),
    ],
)
def test_bad_input_is_400(ada: GoogleApi, change: dict[str, Any], reason: str) -> None:
    """End before start, a missing zone, unknown values or fields and bad rules answer 400."""
    answer = ada(
        "calendar", "events.insert", calendarId="primary", body={**event(), **change}, expect=400
    )
    assert error_reason(answer) == reason
    listed = ada("calendar", "events.list", calendarId="primary")
    assert listed["items"] == []


def test_recurring_event_needs_a_time_zone(ada: GoogleApi) -> None:
    """A recurring event whose start has only an offset is refused, as Google does."""
    body = {
        "summary": "x",
        "start": {"dateTime": "2027-01-12T10:00:00+01:00"},
        "end": {"dateTime": "2027-01-12T11:00:00+01:00"},
        "recurrence": [QUARTERLY],
    }
    answer = ada("calendar", "events.insert", calendarId="primary", body=body, expect=400)
    assert error_reason(answer) == "required"


def test_without_token_or_after_revoke_is_401(google: GoogleEmulator) -> None:
    """No token, an unknown one, or a revoked user's token answers 401 UNAUTHENTICATED."""
    client = Client(google)
    token = google.token(ADA)
    assert token.startswith("ya29.")  # shaped like Google's OAuth access tokens
    GoogleApi(client, token)("calendar", "events.list", calendarId="primary")
    for bad in ("", "ya29.unknown"):
        answer = GoogleApi(client, bad)("calendar", "events.list", calendarId="primary", expect=401)
        assert answer["error"]["status"] == "UNAUTHENTICATED"
    google.revoke(ADA)
    answer = GoogleApi(client, token)("calendar", "events.list", calendarId="primary", expect=401)
    assert error_reason(answer) == "authError"
    response = client.get("/calendar/v3/calendars/primary/events")
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    GoogleApi(client, google.token(ADA))("calendar", "events.list", calendarId="primary")


def test_unknown_event_and_other_calendar_are_404(ada: GoogleApi) -> None:
    """An unknown id, a malformed instance id and someone else's calendar answer 404."""
    for eid in ("nosuchevent", "nosuchevent_20270112T090000Z"):
        answer = ada("calendar", "events.get", calendarId="primary", eventId=eid, expect=404)
        assert error_reason(answer) == "notFound"
    ada("calendar", "events.list", calendarId=BOB, expect=404)
    ada("calendar", "events.list", calendarId="nobody@example.org", expect=404)


def test_attendee_sees_same_event_and_organizer_changes(ada: GoogleApi, bob: GoogleApi) -> None:
    """Bob's calendar holds Ada's event under the same id; her changes show there."""
    created = ada("calendar", "events.insert", calendarId="primary", body=event())
    listed = bob("calendar", "events.list", calendarId="primary", singleEvents=True)
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    seen = bob("calendar", "events.get", calendarId="primary", eventId=created["id"])
    assert seen["iCalUID"] == created["iCalUID"]
    assert seen["attendees"][0]["self"] is True and "self" not in seen["organizer"]
    patch(ada, created["id"], body={"summary": "Nieuw"})
    seen = bob("calendar", "events.get", calendarId="primary", eventId=created["id"])
    assert seen["summary"] == "Nieuw"
    answer = patch(bob, created["id"], body={"summary": "Gekaapt"}, expect=403)
    assert error_reason(answer) == "forbiddenForNonOrganizer"


def test_instances_keep_wall_clock_and_google_ids(ada: GoogleApi) -> None:
    """Instances are at 10:00 Amsterdam across DST with ids <master>_<UTC basic start>."""
    master = series(ada)
    found = instances(ada, master["id"])
    assert [e["id"] for e in found] == [
        f"{master['id']}_20270112T090000Z",
        f"{master['id']}_20270413T080000Z",
        f"{master['id']}_20270713T080000Z",
        f"{master['id']}_20271012T080000Z",
    ]
    assert [e["start"]["dateTime"][11:19] for e in found] == ["10:00:00"] * 4
    assert all(e["recurringEventId"] == master["id"] for e in found)
    assert all("recurrence" not in e for e in found)
    assert found[1]["originalStartTime"] == {
        "dateTime": "2027-04-13T10:00:00+02:00",
        "timeZone": AMS,
    }
    assert {e["iCalUID"] for e in found} == {master["iCalUID"]}
    off_rule = f"{master['id']}_20270414T080000Z"
    ada("calendar", "events.get", calendarId="primary", eventId=off_rule, expect=404)


def test_exception_and_cancellation(ada: GoogleApi) -> None:
    """A patched instance keeps its original start; a deleted one is cancelled and hidden."""
    master = series(ada)
    first, second, third, _ = instances(ada, master["id"])
    moved = ada(
        "calendar",
        "events.patch",
        calendarId="primary",
        eventId=second["id"],
        body={
            "summary": "Verzet",
            "start": {"dateTime": "2027-04-15T14:00:00", "timeZone": AMS},
            "end": {"dateTime": "2027-04-15T15:00:00", "timeZone": AMS},
        },
        headers={"If-Match": second["etag"]},
    )
    assert moved["id"] == second["id"]
    assert moved["originalStartTime"] == second["originalStartTime"]
    assert moved["start"]["dateTime"] == "2027-04-15T14:00:00+02:00"
    ada("calendar", "events.delete", calendarId="primary", eventId=third["id"], expect=204)
    shown = instances(ada, master["id"])
    assert [e["id"] for e in shown] == [first["id"], second["id"], shown[2]["id"]]
    assert [e["summary"] for e in shown] == ["Goed gesprek", "Verzet", "Goed gesprek"]
    with_deleted = instances(ada, master["id"], showDeleted=True)
    cancelled = [e for e in with_deleted if e["status"] == "cancelled"]
    assert [e["id"] for e in cancelled] == [third["id"]]
    got = ada("calendar", "events.get", calendarId="primary", eventId=third["id"])
    assert got["status"] == "cancelled"
    ada("calendar", "events.delete", calendarId="primary", eventId=third["id"], expect=410)
    patch(
        ada, second["id"], body={"location": "x"}, headers={"If-Match": second["etag"]}, expect=412
    )


def test_series_change_reaches_instances_not_exception_fields(ada: GoogleApi) -> None:
    """A new title on the master shows on every instance but one that set its own."""
    master = series(ada)
    found = instances(ada, master["id"])
    patch(ada, found[0]["id"], body={"summary": "Eigen titel"})
    patch(ada, found[1]["id"], body={"location": "Kantine"})
    patch(ada, master["id"], body={"summary": "Nieuw"})
    found = instances(ada, master["id"])
    assert [e["summary"] for e in found] == ["Eigen titel", "Nieuw", "Nieuw", "Nieuw"]
    assert found[1]["location"] == "Kantine"


def test_new_rule_reexpands_and_drops_lost_exceptions(ada: GoogleApi) -> None:
    """An UNTIL on the master ends the series; exceptions after it are gone, earlier ones stay."""
    master = series(ada)
    found = instances(ada, master["id"])
    patch(ada, found[1]["id"], body={"location": "Kantine"})
    patch(ada, found[3]["id"], body={"location": "Buiten"})
    patch(
        ada,
        master["id"],
        body={"recurrence": ["RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;UNTIL=20270630T215959Z"]},
    )
    again = instances(ada, master["id"])
    assert [e["id"] for e in again] == [found[0]["id"], found[1]["id"]]
    assert again[1]["location"] == "Kantine"
    ada("calendar", "events.get", calendarId="primary", eventId=found[3]["id"], expect=404)


def test_moving_the_series_drops_exceptions(ada: GoogleApi) -> None:
    """A new start time for the master moves every instance; old exceptions no longer match."""
    master = series(ada)
    found = instances(ada, master["id"])
    patch(ada, found[1]["id"], body={"location": "Kantine"})
    ada(
        "calendar",
        "events.patch",
        calendarId="primary",
        eventId=master["id"],
        body={
            "start": {"dateTime": "2027-01-12T14:00:00", "timeZone": AMS},
            "end": {"dateTime": "2027-01-12T15:00:00", "timeZone": AMS},
        },
    )
    moved = instances(ada, master["id"])
    assert [e["start"]["dateTime"][11:16] for e in moved] == ["14:00"] * 4
    assert all("location" not in e for e in moved)
    ada("calendar", "events.get", calendarId="primary", eventId=found[1]["id"], expect=404)


def test_deleting_master_deletes_series(ada: GoogleApi, bob: GoogleApi) -> None:
    """Deleting the master removes every instance for both partners."""
    master = series(ada)
    ada("calendar", "events.delete", calendarId="primary", eventId=master["id"], expect=204)
    for api in (ada, bob):
        assert (
            api("calendar", "events.list", calendarId="primary", singleEvents=True, **YEAR)["items"]
            == []
        )
    ada("calendar", "events.instances", calendarId="primary", eventId=master["id"], expect=410)
    assert (
        ada("calendar", "events.get", calendarId="primary", eventId=master["id"])["status"]
        == "cancelled"
    )


def test_attendee_of_one_instance_sees_only_it(
    ada: GoogleApi, as_user: Callable[[str], GoogleApi]
) -> None:
    """Cy, invited to one instance only, has that instance and nothing else."""
    master = series(ada)
    second = instances(ada, master["id"])[1]
    patch(ada, second["id"], body={"attendees": [{"email": BOB}, {"email": CY}]})
    cy = as_user(CY)
    listed = cy("calendar", "events.list", calendarId="primary", singleEvents=True, **YEAR)
    assert [e["id"] for e in listed["items"]] == [second["id"]]
    cy("calendar", "events.get", calendarId="primary", eventId=master["id"], expect=404)


def test_list_window_order_and_paging(ada: GoogleApi) -> None:
    """list overlaps the window, orders by start and pages with nextPageToken."""
    for hour in (15, 9, 7, 11):
        ada(
            "calendar",
            "events.insert",
            calendarId="primary",
            body=event(
                f"{hour}", f"2027-02-01T{hour:02d}:00:00", f"2027-02-01T{hour + 1:02d}:30:00"
            ),
        )
    window = {"timeMin": "2027-02-01T07:00:00Z", "timeMax": "2027-02-01T14:00:00Z"}
    seen: list[str] = []
    token = None
    for _ in range(5):
        extra = {"pageToken": token} if token else {}
        page = ada(
            "calendar",
            "events.list",
            calendarId="primary",
            singleEvents=True,
            orderBy="startTime",
            maxResults=2,
            **window,
            **extra,
        )
        seen += [e["summary"] for e in page["items"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == ["7", "9", "11"]
    answer = ada("calendar", "events.list", calendarId="primary", orderBy="startTime", expect=400)
    assert error_reason(answer) == "invalid"


def test_list_single_events_false_gives_master_and_exceptions(ada: GoogleApi) -> None:
    """Without singleEvents a series is its master plus its changed instances."""
    master = series(ada)
    second = instances(ada, master["id"])[1]
    patch(ada, second["id"], body={"location": "x"})
    listed = ada("calendar", "events.list", calendarId="primary", **YEAR)["items"]
    assert [e["id"] for e in listed] == [master["id"], second["id"]]
    assert listed[0]["recurrence"] == [QUARTERLY]
    expanded = ada("calendar", "events.list", calendarId="primary", singleEvents=True, **YEAR)
    assert len(expanded["items"]) == 4


def test_extended_property_and_ical_uid_filters(ada: GoogleApi) -> None:
    """privateExtendedProperty/sharedExtendedProperty (all must match) and iCalUID filter list."""
    one = ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event(extendedProperties={"private": {"series": "s1"}, "shared": {"pair": "p1"}}),
    )
    ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event(extendedProperties={"private": {"series": "s2"}, "shared": {"pair": "p1"}}),
    )

    def ids(**params: Any) -> list[str]:
        items = ada("calendar", "events.list", calendarId="primary", **params)["items"]
        return [e["id"] for e in items]

    assert ids(privateExtendedProperty="series=s1") == [one["id"]]
    assert len(ids(sharedExtendedProperty="pair=p1")) == 2
    assert ids(sharedExtendedProperty="series=s1") == []
    assert ids(privateExtendedProperty=["series=s1"], sharedExtendedProperty=["pair=p1"]) == [
        one["id"]
    ]
    assert ids(iCalUID=one["iCalUID"]) == [one["id"]]


def test_instances_inherit_properties_for_filters(ada: GoogleApi, bob: GoogleApi) -> None:
    """Instances carry the master's shared properties, so both partners find the series."""
    master = series(ada, extendedProperties={"shared": {"series": "s9"}})
    for api in (ada, bob):
        found = api(
            "calendar",
            "events.list",
            calendarId="primary",
            singleEvents=True,
            sharedExtendedProperty="series=s9",
            **YEAR,
        )["items"]
        assert {e["recurringEventId"] for e in found} == {master["id"]}
        assert len(found) == 4


def test_attachments_need_supports_attachments(ada: GoogleApi) -> None:
    """Attachments are stored only with supportsAttachments=true, and at most 25."""
    link = {"fileUrl": "https://example.org/agenda.pdf", "title": "agenda.pdf"}
    plain = ada("calendar", "events.insert", calendarId="primary", body=event(attachments=[link]))
    assert "attachments" not in plain
    kept = ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event(attachments=[link]),
        supportsAttachments=True,
    )
    assert kept["attachments"] == [link]
    patched = patch(ada, kept["id"], body={"attachments": []})
    assert patched["attachments"] == [link]
    too_many = [{"fileUrl": f"https://example.org/{i}"} for i in range(26)]
    patch(ada, kept["id"], body={"attachments": too_many}, supportsAttachments=True, expect=400)
    cleared = patch(ada, kept["id"], body={"attachments": []}, supportsAttachments=True)
    assert "attachments" not in cleared


def test_drive_attachment_gets_file_id_title_and_type(ada: GoogleApi) -> None:
    """A Drive link as fileUrl fills fileId, title, mimeType and iconLink from the file."""
    made = ada(
        "drive",
        "files.create",
        body={"name": "agenda.pdf"},
        media=(b"%PDF", "application/pdf"),
        upload="multipart",
        fields="id,webViewLink",
    )
    created = ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event(attachments=[{"fileUrl": made["webViewLink"]}]),
        supportsAttachments=True,
    )
    (attachment,) = created["attachments"]
    assert attachment["fileId"] == made["id"]
    assert (attachment["title"], attachment["mimeType"]) == ("agenda.pdf", "application/pdf")
    assert attachment["iconLink"].startswith("https://")


def test_free_busy(ada: GoogleApi, bob: GoogleApi) -> None:
    """Busy blocks per calendar; cancelled, declined and transparent are free; strangers err."""
    master = series(ada)
    cancelled = instances(ada, master["id"])[1]
    ada("calendar", "events.delete", calendarId="primary", eventId=cancelled["id"])
    ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event(
            "Borrel",
            "2027-07-13T16:00:00",
            "2027-07-13T17:00:00",
            attendees=[{"email": BOB, "responseStatus": "declined"}],
        ),
    )
    bob(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event(
            "Vrij", "2027-07-13T12:00:00", "2027-07-13T13:00:00", transparency="transparent"
        ),
    )
    answer = ada(
        "calendar",
        "freebusy.query",
        body={
            # Within the 90 days Google answers at once: July, with the declined and free blocks.
            "timeMin": "2027-04-15T00:00:00Z",
            "timeMax": "2027-07-14T00:00:00Z",
            "items": [{"id": ADA}, {"id": BOB}, {"id": "nobody@example.org"}],
        },
    )
    calendars = answer["calendars"]
    assert calendars[ADA]["busy"] == [
        {"start": "2027-07-13T08:00:00Z", "end": "2027-07-13T09:00:00Z"},
        {"start": "2027-07-13T14:00:00Z", "end": "2027-07-13T15:00:00Z"},
    ]
    assert calendars[BOB]["busy"] == [
        {"start": "2027-07-13T08:00:00Z", "end": "2027-07-13T09:00:00Z"}
    ]
    assert calendars["nobody@example.org"]["errors"] == [{"domain": "global", "reason": "notFound"}]
    ada("calendar", "freebusy.query", body={"timeMin": "2027-04-13T00:00:00Z"}, expect=400)
    # Google answers at most about three months at once.
    too_long = ada(
        "calendar",
        "freebusy.query",
        body={"timeMin": "2027-01-01T00:00:00Z", "timeMax": "2027-04-02T00:00:01Z", "items": []},
        expect=400,
    )
    assert too_long["error"]["errors"][0]["reason"] == "timeRangeTooLong"


def test_free_busy_merges_overlaps_and_clips(ada: GoogleApi) -> None:
    """Overlapping events make one busy block, clipped to the asked window."""
    ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event("a", "2027-02-01T09:00:00", "2027-02-01T11:00:00"),
    )
    ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body=event("b", "2027-02-01T10:00:00", "2027-02-01T12:00:00"),
    )
    answer = ada(
        "calendar",
        "freebusy.query",
        body={
            "timeMin": "2027-02-01T09:30:00Z",
            "timeMax": "2027-02-02T00:00:00Z",
            "items": [{"id": "primary"}],
        },
    )
    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2027-02-01T09:30:00Z", "end": "2027-02-01T11:00:00Z"}
    ]


def test_all_day_recurring_event(ada: GoogleApi) -> None:
    """An all-day series expands by date, with ids <master>_<yyyymmdd>."""
    master = ada(
        "calendar",
        "events.insert",
        calendarId="primary",
        body={
            "summary": "Dag",
            "start": {"date": "2027-01-29"},
            "end": {"date": "2027-01-30"},
            "recurrence": ["RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3"],
        },
    )
    found = instances(ada, master["id"])
    assert [e["id"][-8:] for e in found] == ["20270131", "20270228", "20270331"]
    assert found[1]["start"] == {"date": "2027-02-28"} and found[1]["end"] == {"date": "2027-03-01"}
