"""The Graph emulator's calendar: events, series, exceptions, attendee copies, free/busy.

Every JSON answer goes through `CheckedClient`, which parses it into msgraph-sdk's models and
fails on any field the SDK does not know.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from cadence.recurrence import NthWeekday, Rule, Weekday
from emulators._graph_check import CheckedClient, unknown_fields
from emulators.graph import GraphEmulator

ADA = "ada@example.org"
BOB = "bob@example.org"
CY = "cy@example.org"
PROP = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name series"
YEAR = "startDateTime=2027-01-01T00:00:00Z&endDateTime=2028-01-01T00:00:00Z"
QUARTERLY = Rule.build(
    datetime(2027, 1, 12, 10), "Europe/Amsterdam", NthWeekday(Weekday.TU, 2), count=4
)


@pytest.fixture
def graph() -> GraphEmulator:
    """A fresh emulator with Ada, Bob and Cy."""
    emulator = GraphEmulator()
    emulator.add_user(ADA, "Ada Lovelace")
    emulator.add_user(BOB, "Bob")
    emulator.add_user(CY, "Cy")
    return emulator


@pytest.fixture
def ada(graph: GraphEmulator) -> CheckedClient:
    """Ada's client."""
    return CheckedClient(graph, ADA)


@pytest.fixture
def bob(graph: GraphEmulator) -> CheckedClient:
    """Bob's client."""
    return CheckedClient(graph, BOB)


def event(
    subject: str = "Overleg",
    start: str = "2027-02-01T14:00:00",
    end: str = "2027-02-01T15:00:00",
    zone: str = "Europe/Amsterdam",
    **extra: Any,
) -> dict[str, Any]:
    """An event body as a client sends it."""
    return {
        "subject": subject,
        "body": {"contentType": "HTML", "content": "<p>Agenda volgt</p>"},
        "start": {"dateTime": start, "timeZone": zone},
        "end": {"dateTime": end, "timeZone": zone},
        "location": {"displayName": "Kamer 4"},
        "attendees": [{"emailAddress": {"address": BOB, "name": "Bob"}, "type": "required"}],
        **extra,
    }


def series(client: CheckedClient, **extra: Any) -> dict[str, Any]:
    """Create the quarterly series (second Tuesday, 10:00 Amsterdam, four times)."""
    body = event(
        "Goed gesprek",
        "2027-01-12T10:00:00",
        "2027-01-12T11:00:00",
        recurrence=QUARTERLY.to_graph(),
        **extra,
    )
    response = client.call("POST", "/me/events", "event", json=body)
    assert response.status_code == 201
    return dict(response.get_json())


def instances(client: CheckedClient, master_id: str, query: str = YEAR) -> list[dict[str, Any]]:
    """The instances of a series in 2027, as Amsterdam wall-clock times."""
    response = client.call(
        "GET",
        f"/me/events/{master_id}/instances?{query}",
        "events",
        headers={"Prefer": 'outlook.timezone="Europe/Amsterdam"'},
    )
    assert response.status_code == 200
    return list(response.get_json()["value"])


def calendar_view(client: CheckedClient, query: str = YEAR) -> list[dict[str, Any]]:
    """Every event in a window, following nextLinks."""
    found: list[dict[str, Any]] = []
    url: str | None = f"/me/calendarView?{query}"
    for _ in range(50):
        if url is None:
            break
        response = client.call("GET", url, "events")
        assert response.status_code == 200
        found.extend(response.get_json()["value"])
        next_link = response.get_json().get("@odata.nextLink")
        url = next_link.split("/v1.0", 1)[1] if next_link else None
    return found


def test_checker_catches_an_unknown_field() -> None:
    """The SDK check reports a field the model does not have, nested or not."""
    body = {"id": "x", "uid": "u", "start": {"dateTime": "2027-01-01T00:00:00", "bogus": 1}}
    assert unknown_fields("event", body) == ["event.uid", "event.start.bogus"]


def test_create_returns_the_full_event(ada: CheckedClient) -> None:
    """A created event comes back 201 with Graph's fields, times in UTC by default."""
    response = ada.call("POST", "/me/events", "event", json=event())
    assert response.status_code == 201
    assert response.headers["request-id"] and response.headers["client-request-id"]
    data = response.get_json()
    assert data["@odata.etag"] == f'W/"{data["changeKey"]}"'
    assert data["start"] == {"dateTime": "2027-02-01T13:00:00.0000000", "timeZone": "UTC"}
    assert (data["type"], data["isOrganizer"], data["seriesMasterId"]) == (
        "singleInstance",
        True,
        None,
    )
    assert data["organizer"]["emailAddress"] == {"name": "Ada Lovelace", "address": ADA}
    assert data["attendees"][0]["status"] == {"response": "none", "time": "0001-01-01T00:00:00Z"}
    assert data["responseStatus"]["response"] == "organizer"
    assert data["body"]["contentType"] == "html"
    assert "Agenda volgt" in data["body"]["content"]
    assert data["bodyPreview"] == "Agenda volgt"
    assert data["location"]["displayName"] == "Kamer 4"
    assert data["iCalUId"] and "transactionId" not in data
    assert "singleValueExtendedProperties" not in data
    again = ada.call("GET", f"/me/events/{data['id']}", "event").get_json()
    assert again["changeKey"] == data["changeKey"]


def test_prefer_timezone_windows_and_iana(ada: CheckedClient) -> None:
    """Windows and IANA names work on input; Prefer: outlook.timezone sets the answer's zone."""
    created = ada.call(
        "POST",
        "/me/events",
        "event",
        json=event(
            start="2027-07-01T09:00:00", end="2027-07-01T10:00:00", zone="W. Europe Standard Time"
        ),
    ).get_json()
    assert created["start"]["dateTime"].startswith("2027-07-01T07:00:00")
    assert created["originalStartTimeZone"] == "W. Europe Standard Time"
    for zone, hour in [("Pacific Standard Time", "00"), ("America/New_York", "03")]:
        got = ada.call(
            "GET",
            f"/me/events/{created['id']}",
            "event",
            headers={"Prefer": f'outlook.timezone="{zone}"'},
        )
        assert got.get_json()["start"] == {
            "dateTime": f"2027-07-01T{hour}:00:00.0000000",
            "timeZone": zone,
        }
        assert zone in got.headers["Preference-Applied"]


def test_unknown_zone_is_400(ada: CheckedClient) -> None:
    """An unknown time zone name answers Graph's TimeZoneNotSupportedException."""
    response = ada.call("POST", "/me/events", json=event(zone="Mars/Olympus"))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "TimeZoneNotSupportedException"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {"end": {"dateTime": "2027-02-01T12:00:00", "timeZone": "UTC"}},
            "ErrorCalendarEndDateIsEarlierThanStartDate",
        ),
        ({"start": None}, "ErrorInvalidRequest"),
        ({"recurrence": {"pattern": {"type": "monthly"}, "range": {}}}, "ErrorInvalidRequest"),
        (
            {
                "recurrence": {
                    "pattern": {"type": "weekly", "interval": 1},
                    "range": {"type": "noEnd", "startDate": "2027-02-01"},
                }
            },
            "ErrorInvalidRequest",
        ),
    ],
)
def test_invalid_events_are_refused(ada: CheckedClient, change: dict[str, Any], code: str) -> None:
    """End before start, a missing start and bad recurrences answer 400 and create nothing."""
    body = {k: v for k, v in {**event(), **change}.items() if v is not None}
    response = ada.call("POST", "/me/events", json=body)
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, code)
    assert calendar_view(ada) == []


def test_subject_is_optional(ada: CheckedClient) -> None:
    """Graph accepts an event without a subject and answers an empty one."""
    body = {k: v for k, v in event().items() if k != "subject"}
    response = ada.call("POST", "/me/events", "event", json=body)
    assert (response.status_code, response.get_json()["subject"]) == (201, "")


def test_transaction_id_returns_the_first_event(ada: CheckedClient) -> None:
    """A repeated POST with the same transactionId returns the first event and adds nothing."""
    first = ada.call("POST", "/me/events", "event", json=event(transactionId="tx-1"))
    again = ada.call("POST", "/me/events", "event", json=event("Ander", transactionId="tx-1"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["subject"] == "Overleg"
    assert again.get_json()["transactionId"] == "tx-1"
    assert len(calendar_view(ada)) == 1


def test_patch_and_stale_if_match(ada: CheckedClient) -> None:
    """PATCH changes fields and the etag; a stale If-Match answers 412 and changes nothing."""
    created = ada.call("POST", "/me/events", "event", json=event()).get_json()
    patched = ada.call(
        "PATCH",
        f"/me/events/{created['id']}",
        "event",
        json={"subject": "Eerste"},
        headers={"If-Match": created["@odata.etag"]},
    )
    assert patched.status_code == 200
    assert patched.get_json()["changeKey"] != created["changeKey"]
    stale = ada.call(
        "PATCH",
        f"/me/events/{created['id']}",
        json={"subject": "Tweede"},
        headers={"If-Match": created["@odata.etag"]},
    )
    assert stale.status_code == 412
    assert stale.get_json()["error"]["code"] == "ErrorIrresolvableConflict"
    deleted = ada.call(
        "DELETE", f"/me/events/{created['id']}", headers={"If-Match": created["@odata.etag"]}
    )
    assert deleted.status_code == 412
    assert ada.call("GET", f"/me/events/{created['id']}", "event").get_json()["subject"] == "Eerste"


def test_delete_and_not_found(ada: CheckedClient) -> None:
    """A deleted event answers 404 ErrorItemNotFound; a malformed id answers 400."""
    created = ada.call("POST", "/me/events", "event", json=event()).get_json()
    assert ada.call("DELETE", f"/me/events/{created['id']}").status_code == 204
    gone = ada.call("GET", f"/me/events/{created['id']}")
    assert (gone.status_code, gone.get_json()["error"]["code"]) == (404, "ErrorItemNotFound")
    bad = ada.call("GET", "/me/events/not-an-id")
    assert bad.status_code == 400
    assert ada.call("PUT", f"/me/events/{created['id']}", json={}).status_code == 405


def test_users_path_and_other_mailboxes(graph: GraphEmulator, ada: CheckedClient) -> None:
    """/users/{upn} and /users/{id} reach the caller's mailbox; another user's answers 403."""
    created = ada.call("POST", f"/users/{ADA}/calendar/events", "event", json=event()).get_json()
    assert (
        ada.call("GET", f"/users/{ADA.upper()}/events/{created['id']}", "event").status_code == 200
    )
    assert ada.call("GET", f"/users/{BOB}/events").status_code == 403
    assert ada.call("GET", "/users/nobody@example.org/events").status_code == 404


def test_revoked_token_is_401(graph: GraphEmulator, ada: CheckedClient) -> None:
    """After revoke, the user's token answers 401 InvalidAuthenticationToken; a new token works,
    and reset forgets every token."""
    assert ada.call("GET", "/me/events", "events").status_code == 200
    graph.revoke(ADA)
    response = ada.call("GET", "/me/events")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "WWW-Authenticate" in response.headers
    assert graph.user_of({"HTTP_AUTHORIZATION": f"Bearer {ada.token}"}) is None
    fresh = CheckedClient(graph, ADA)
    assert graph.user_of({"HTTP_AUTHORIZATION": f"Bearer {fresh.token}"}) == ADA
    assert fresh.token.startswith("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.")
    graph.reset()
    assert graph.user_of({"HTTP_AUTHORIZATION": f"Bearer {fresh.token}"}) is None


def test_error_body_shape(graph: GraphEmulator) -> None:
    """error_body gives the OData error shape the SDK parses."""
    body = graph.error_body(429, "Too many requests")
    assert unknown_fields("error", body) == []
    assert b'"TooManyRequests"' in body


def test_extended_properties_expand_and_filter(ada: CheckedClient) -> None:
    """Extended properties come back only when expanded, and $filter finds events by them."""
    props = [{"id": PROP, "value": "s-1"}]
    created = ada.call(
        "POST", "/me/events", "event", json=event(singleValueExtendedProperties=props)
    ).get_json()
    ada.call("POST", "/me/events", "event", json=event("Ander"))
    assert "singleValueExtendedProperties" not in created
    expand = f"$expand=singleValueExtendedProperties($filter=id eq '{PROP}')"
    got = ada.call("GET", f"/me/events/{created['id']}?{expand}", "event").get_json()
    assert got["singleValueExtendedProperties"] == props
    query = (
        f"$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{PROP}' and ep/value eq 's-1')"
    )
    found = ada.call("GET", f"/me/events?{query}&{expand}", "events").get_json()["value"]
    assert [e["id"] for e in found] == [created["id"]]
    by_uid = ada.call(
        "GET", f"/me/events?$filter=iCalUId eq '{created['iCalUId']}'", "events"
    ).get_json()["value"]
    assert [e["id"] for e in by_uid] == [created["id"]]
    ada.call("PATCH", f"/me/events/{created['id']}", "event", json={"subject": "Nieuw"})
    got = ada.call("GET", f"/me/events/{created['id']}?{expand}", "event").get_json()
    assert got["singleValueExtendedProperties"] == props
    assert ada.call("GET", "/me/events?$filter=startswith(subject,'x')").status_code == 400


def test_select_keeps_id_and_etag(ada: CheckedClient) -> None:
    """$select returns the chosen fields plus id and @odata.etag."""
    created = ada.call("POST", "/me/events", "event", json=event()).get_json()
    got = ada.call("GET", f"/me/events/{created['id']}?$select=subject,start", "event").get_json()
    assert set(got) == {"@odata.context", "@odata.etag", "id", "subject", "start"}


def test_calendar_view_pages(ada: CheckedClient) -> None:
    """calendarView pages by Prefer: odata.maxpagesize and $top, with nextLink to the rest."""
    for day in range(1, 6):
        ada.call(
            "POST",
            "/me/events",
            "event",
            json=event(f"E{day}", f"2027-02-0{day}T09:00:00", f"2027-02-0{day}T10:00:00"),
        )
    first = ada.call(
        "GET", f"/me/calendarView?{YEAR}", "events", headers={"Prefer": "odata.maxpagesize=2"}
    )
    assert [e["subject"] for e in first.get_json()["value"]] == ["E1", "E2"]
    assert "$skip=2" in first.get_json()["@odata.nextLink"]
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=2"
    assert [e["subject"] for e in calendar_view(ada, YEAR + "&$top=3")] == [
        "E1",
        "E2",
        "E3",
        "E4",
        "E5",
    ]


def test_calendar_view_overlap(ada: CheckedClient) -> None:
    """calendarView lists what overlaps the window; an event ending at its start is outside."""
    ada.call(
        "POST",
        "/me/events",
        "event",
        json=event("Voor", "2027-02-01T07:00:00", "2027-02-01T08:00:00"),
    )
    ada.call(
        "POST",
        "/me/events",
        "event",
        json=event("Rand", "2027-02-01T07:00:00", "2027-02-01T09:00:00"),
    )
    query = "startDateTime=2027-02-01T07:00:00Z&endDateTime=2027-02-01T08:00:00Z"
    assert [e["subject"] for e in calendar_view(ada, query)] == ["Rand"]


# -- series --------------------------------------------------------------------------------------


def test_series_master_and_instances(ada: CheckedClient) -> None:
    """A series keeps 10:00 Amsterdam across DST; occurrences carry master id and originalStart."""
    master = series(ada)
    assert master["type"] == "seriesMaster"
    assert master["recurrence"]["pattern"]["index"] == "second"
    assert master["recurrence"]["range"]["numberOfOccurrences"] == 4
    found = instances(ada, master["id"])
    assert [e["start"]["dateTime"][:16] for e in found] == [
        "2027-01-12T10:00",
        "2027-04-13T10:00",
        "2027-07-13T10:00",
        "2027-10-12T10:00",
    ]
    assert [e["originalStart"] for e in found] == [
        "2027-01-12T09:00:00Z",
        "2027-04-13T08:00:00Z",
        "2027-07-13T08:00:00Z",
        "2027-10-12T08:00:00Z",
    ]
    assert {e["seriesMasterId"] for e in found} == {master["id"]}
    assert {e["type"] for e in found} == {"occurrence"}
    # Graph: "This ID is different for each occurrence in a recurring series"; it is the
    # master's Global Object ID with the original date (year, month, day) in bytes 16-19.
    assert [e["iCalUId"][32:40] for e in found] == ["07EB010C", "07EB040D", "07EB070D", "07EB0A0C"]
    assert {e["iCalUId"][:32] + e["iCalUId"][40:] for e in found} == {
        master["iCalUId"][:32] + master["iCalUId"][40:]
    }
    assert master["iCalUId"][32:40] == "00000000"
    assert [e["id"] for e in instances(ada, master["id"])] == [e["id"] for e in found]
    one = ada.call("GET", f"/me/events/{found[2]['id']}", "event").get_json()
    assert one["start"]["dateTime"].startswith("2027-07-13T08:00")


def test_master_start_snaps_to_first_occurrence(ada: CheckedClient) -> None:
    """A series whose start is off the pattern starts at the first matching date."""
    rule = {
        "pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15},
        "range": {"type": "numbered", "startDate": "2027-02-01", "numberOfOccurrences": 2},
    }
    master = ada.call("POST", "/me/events", "event", json=event(recurrence=rule)).get_json()
    assert master["start"]["dateTime"].startswith("2027-02-15T13:00")


def test_exception_and_cancellation(ada: CheckedClient, bob: CheckedClient) -> None:
    """A patched occurrence becomes an exception; a deleted one is gone for both partners."""
    master = series(ada)
    found = instances(ada, master["id"])
    moved = ada.call(
        "PATCH",
        f"/me/events/{found[1]['id']}",
        "event",
        json={
            "subject": "Verzet",
            "start": {"dateTime": "2027-04-15T14:00:00", "timeZone": "Europe/Amsterdam"},
            "end": {"dateTime": "2027-04-15T15:00:00", "timeZone": "Europe/Amsterdam"},
        },
    ).get_json()
    assert (moved["type"], moved["id"]) == ("exception", found[1]["id"])
    assert moved["originalStart"] == "2027-04-13T08:00:00Z"
    assert ada.call("DELETE", f"/me/events/{found[2]['id']}").status_code == 204
    after = instances(ada, master["id"])
    assert [(e["subject"], e["start"]["dateTime"][:16], e["type"]) for e in after] == [
        ("Goed gesprek", "2027-01-12T10:00", "occurrence"),
        ("Verzet", "2027-04-15T14:00", "exception"),
        ("Goed gesprek", "2027-10-12T10:00", "occurrence"),
    ]
    assert ada.call("GET", f"/me/events/{found[2]['id']}").status_code == 404
    assert [e["subject"] for e in calendar_view(bob)] == ["Goed gesprek", "Verzet", "Goed gesprek"]


def test_master_subject_reaches_unchanged_occurrences(ada: CheckedClient) -> None:
    """A new subject on the master shows on occurrences, not on an exception's own subject."""
    master = series(ada)
    found = instances(ada, master["id"])
    ada.call("PATCH", f"/me/events/{found[0]['id']}", "event", json={"subject": "Eigen"})
    ada.call("PATCH", f"/me/events/{master['id']}", "event", json={"subject": "Nieuw"})
    assert [e["subject"] for e in instances(ada, master["id"])] == ["Eigen"] + ["Nieuw"] * 3


def test_shortened_rule_keeps_exceptions_it_still_has(ada: CheckedClient) -> None:
    """Ending a series early drops later occurrences and exceptions, keeps earlier ones."""
    master = series(ada)
    found = instances(ada, master["id"])
    ada.call(
        "PATCH",
        f"/me/events/{found[1]['id']}",
        "event",
        json={"location": {"displayName": "Kantine"}},
    )
    ada.call(
        "PATCH",
        f"/me/events/{found[3]['id']}",
        "event",
        json={"location": {"displayName": "Buiten"}},
    )
    shorter = QUARTERLY.ending_before(datetime(2027, 7, 1).date()).to_graph()
    ada.call("PATCH", f"/me/events/{master['id']}", "event", json={"recurrence": shorter})
    after = instances(ada, master["id"])
    assert [e["location"]["displayName"] for e in after] == ["Kamer 4", "Kantine"]
    assert ada.call("GET", f"/me/events/{found[3]['id']}").status_code == 404


def test_new_pattern_drops_exceptions(ada: CheckedClient) -> None:
    """A different pattern re-expands the series and loses every exception."""
    master = series(ada)
    found = instances(ada, master["id"])
    ada.call("PATCH", f"/me/events/{found[0]['id']}", "event", json={"subject": "Eigen"})
    rule = Rule.build(
        datetime(2027, 1, 12, 10), "Europe/Amsterdam", NthWeekday(Weekday.TU, -1), count=2
    )
    ada.call("PATCH", f"/me/events/{master['id']}", "event", json={"recurrence": rule.to_graph()})
    after = instances(ada, master["id"])
    assert [(e["subject"], e["start"]["dateTime"][:10]) for e in after] == [
        ("Goed gesprek", "2027-01-26"),
        ("Goed gesprek", "2027-04-27"),
    ]


def test_deleting_master_deletes_series(ada: CheckedClient) -> None:
    """Deleting the master removes every occurrence and its ids."""
    master = series(ada)
    found = instances(ada, master["id"])
    assert ada.call("DELETE", f"/me/events/{master['id']}").status_code == 204
    assert calendar_view(ada) == []
    for gone in (master["id"], found[0]["id"]):
        assert ada.call("GET", f"/me/events/{gone}").status_code == 404


# -- attendees -----------------------------------------------------------------------------------


def test_attendee_copy(ada: CheckedClient, bob: CheckedClient, graph: GraphEmulator) -> None:
    """An invited user gets a copy: own id, same iCalUId, not organizer, not yet answered."""
    created = ada.call("POST", "/me/events", "event", json=event()).get_json()
    copies = calendar_view(bob)
    assert len(copies) == 1
    copy = copies[0]
    assert copy["id"] != created["id"]
    assert copy["iCalUId"] == created["iCalUId"]
    assert (copy["isOrganizer"], copy["responseStatus"]["response"]) == (False, "notResponded")
    assert copy["organizer"]["emailAddress"]["address"] == ADA
    assert calendar_view(CheckedClient(graph, CY)) == []
    ada.call("PATCH", f"/me/events/{created['id']}", "event", json={"subject": "Verplaatst"})
    assert calendar_view(bob)[0]["subject"] == "Verplaatst"
    refused = bob.call("PATCH", f"/me/events/{copy['id']}", json={"subject": "Gekaapt"})
    assert refused.status_code == 400


def test_organizer_delete_cancels_copies(ada: CheckedClient, bob: CheckedClient) -> None:
    """When the organizer deletes, the attendee's copy stays as a cancelled meeting."""
    created = ada.call("POST", "/me/events", "event", json=event()).get_json()
    copy_id = calendar_view(bob)[0]["id"]
    ada.call("DELETE", f"/me/events/{created['id']}")
    copy = bob.call("GET", f"/me/events/{copy_id}", "event").get_json()
    assert copy["isCancelled"] is True
    assert copy["subject"] == "Canceled: Overleg"
    assert bob.call("DELETE", f"/me/events/{copy_id}").status_code == 204
    assert calendar_view(bob) == []


def test_accept_and_decline(ada: CheckedClient, bob: CheckedClient) -> None:
    """Answers reach the organizer's attendee list; a declined copy leaves the calendar."""
    created = ada.call("POST", "/me/events", "event", json=event()).get_json()
    copy_id = calendar_view(bob)[0]["id"]
    assert (
        bob.call("POST", f"/me/events/{copy_id}/accept", json={"sendResponse": True}).status_code
        == 202
    )
    organizer_view = ada.call("GET", f"/me/events/{created['id']}", "event").get_json()
    assert organizer_view["attendees"][0]["status"]["response"] == "accepted"
    assert bob.call("GET", f"/me/events/{copy_id}", "event").get_json()["showAs"] == "busy"
    bob.call("POST", f"/me/events/{copy_id}/decline", json={})
    assert calendar_view(bob) == []
    assert (
        bob.call("GET", f"/me/events/{copy_id}", "event").get_json()["responseStatus"]["response"]
        == "declined"
    )
    assert ada.call("POST", f"/me/events/{created['id']}/accept", json={}).status_code == 400


def test_status_on_create_is_ignored(ada: CheckedClient) -> None:
    """An attendee status sent on create is not taken: only the attendee answers for themself."""
    body = event()
    body["attendees"][0]["status"] = {"response": "declined"}
    created = ada.call("POST", "/me/events", "event", json=body).get_json()
    assert created["attendees"][0]["status"]["response"] == "none"


def test_attendee_of_one_occurrence(ada: CheckedClient, graph: GraphEmulator) -> None:
    """Someone added to one occurrence sees only that occurrence."""
    master = series(ada)
    second = instances(ada, master["id"])[1]
    attendees = second["attendees"] + [{"emailAddress": {"address": CY}, "type": "required"}]
    ada.call("PATCH", f"/me/events/{second['id']}", "event", json={"attendees": attendees})
    cy_view = calendar_view(CheckedClient(graph, CY))
    assert [(e["originalStart"], e["type"]) for e in cy_view] == [
        ("2027-04-13T08:00:00Z", "exception")
    ]


# -- attachments ---------------------------------------------------------------------------------


def test_attachments(ada: CheckedClient) -> None:
    """File attachments round-trip, set hasAttachments, and can be deleted."""
    created = ada.call("POST", "/me/events", "event", json=event()).get_json()
    body = {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": "agenda.pdf",
        "contentType": "application/pdf",
        "contentBytes": base64.b64encode(b"%PDF-1.7 agenda").decode(),
    }
    added = ada.call("POST", f"/me/events/{created['id']}/attachments", "attachment", json=body)
    assert added.status_code == 201
    attachment = added.get_json()
    base = f"/me/events/{created['id']}/attachments"
    assert ada.call("GET", f"/me/events/{created['id']}", "event").get_json()["hasAttachments"]
    listed = ada.call("GET", base, "attachments").get_json()["value"]
    assert [a["name"] for a in listed] == ["agenda.pdf"]
    one = ada.call("GET", f"{base}/{attachment['id']}", "attachment").get_json()
    assert base64.b64decode(one["contentBytes"]) == b"%PDF-1.7 agenda"
    raw = ada.call("GET", f"{base}/{attachment['id']}/$value")
    assert raw.get_data() == b"%PDF-1.7 agenda"
    assert ada.call("DELETE", f"{base}/{attachment['id']}").status_code == 204
    assert not ada.call("GET", f"/me/events/{created['id']}", "event").get_json()["hasAttachments"]
    assert ada.call("GET", f"{base}/{attachment['id']}").status_code == 404


def test_attachment_over_3_mb_is_refused(ada: CheckedClient) -> None:
    """A file attachment over 3 MB answers 413 and is not added."""
    created = ada.call("POST", "/me/events", "event", json=event()).get_json()
    body = {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": "big.bin",
        "contentBytes": base64.b64encode(b"x" * (3 * 1024 * 1024 + 1)).decode(),
    }
    response = ada.call("POST", f"/me/events/{created['id']}/attachments", json=body)
    assert response.status_code == 413
    listed = ada.call("GET", f"/me/events/{created['id']}/attachments", "attachments")
    assert listed.get_json()["value"] == []


# -- getSchedule ---------------------------------------------------------------------------------


def schedule(client: CheckedClient, *emails: str, day: str = "2027-04-13") -> list[dict[str, Any]]:
    """getSchedule for one Amsterdam day, hourly."""
    body = {
        "schedules": list(emails),
        "startTime": {"dateTime": f"{day}T00:00:00", "timeZone": "Europe/Amsterdam"},
        "endTime": {"dateTime": f"{day}T23:59:59", "timeZone": "Europe/Amsterdam"},
        "availabilityViewInterval": 60,
    }
    response = client.call("POST", "/me/calendar/getSchedule", "schedule", json=body)
    assert response.status_code == 200
    return list(response.get_json()["value"])


def test_get_schedule(ada: CheckedClient, bob: CheckedClient) -> None:
    """Busy items per address in the request's zone; unknown addresses get an error."""
    series(ada)
    bob.call(
        "POST",
        "/me/events",
        "event",
        json={**event("Tandarts", "2027-04-13T15:00:00", "2027-04-13T16:00:00"), "attendees": []},
    )
    found = schedule(ada, ADA, BOB, "nobody@example.org")
    ada_items = [(i["status"], i["start"]["dateTime"][:16]) for i in found[0]["scheduleItems"]]
    assert ada_items == [("busy", "2027-04-13T10:00")]
    assert found[0]["availabilityView"] == "0" * 10 + "2" + "0" * 13
    bob_items = [(i["status"], i["start"]["dateTime"][:16]) for i in found[1]["scheduleItems"]]
    assert bob_items == [("tentative", "2027-04-13T10:00"), ("busy", "2027-04-13T15:00")]
    assert "subject" not in found[1]["scheduleItems"][0]
    assert found[1]["workingHours"]["timeZone"]["name"] == "W. Europe Standard Time"
    assert found[2]["error"]["responseCode"] == "ErrorInvalidUser"


def test_schedule_refuses_more_than_62_days_as_exchange_does(ada: CheckedClient) -> None:
    """62 days are answered; 63 are 400 ErrorTimeIntervalTooBig with Exchange's sentence."""

    def ask(end: str) -> Any:
        body = {
            "schedules": [ADA],
            "startTime": {"dateTime": "2027-01-01T00:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": end, "timeZone": "UTC"},
        }
        return ada.call("POST", "/me/calendar/getSchedule", "schedule", json=body)

    assert ask("2027-03-04T00:00:00").status_code == 200
    refused = ask("2027-03-05T00:00:00")
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "ErrorTimeIntervalTooBig"
    assert "The allowed limit = 62 days; the actual limit = 63 days." in error["message"]


def test_schedule_leaves_out_cancelled_and_declined(ada: CheckedClient, bob: CheckedClient) -> None:
    """A cancelled occurrence frees both; a declined invitation frees the decliner."""
    master = series(ada)
    ada.call("DELETE", f"/me/events/{instances(ada, master['id'])[1]['id']}")
    borrel = ada.call(
        "POST",
        "/me/events",
        "event",
        json=event("Borrel", "2027-04-13T16:00:00", "2027-04-13T17:00:00"),
    ).get_json()
    copy = next(e for e in calendar_view(bob) if e["iCalUId"] == borrel["iCalUId"])
    bob.call("POST", f"/me/events/{copy['id']}/decline", json={})
    found = schedule(ada, ADA, BOB)
    assert [i["start"]["dateTime"][:16] for i in found[0]["scheduleItems"]] == ["2027-04-13T16:00"]
    assert found[1]["scheduleItems"] == []


def test_times_are_stamped_from_the_clock() -> None:
    """createdDateTime comes from the emulator's clock."""
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    emulator = GraphEmulator(clock=lambda: now)
    client = CheckedClient(emulator, ADA)
    created = client.call("POST", "/me/events", "event", json=event()).get_json()
    assert created["createdDateTime"].startswith("2027-03-01T12:00:00")
