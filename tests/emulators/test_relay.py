"""Meetings mailed between the Graph and Google emulators (`emulators.relay`), over real HTTP.

Both directions (a Google organizer inviting an Outlook user, and the reverse): the organizer
writes through the provider's REST API, the attendee reads through the product's connectors.
Checked: a weekly series of four reaches the invited user with the same UID, its fields and
instances, busy in their free/busy, with no organizer's private properties and not editable by
them; a new body, a shortened rule, a cancelled or moved occurrence reach the copy; deleting the
master cancels it; an attendee taken off loses it; nobody uninvited gets one; `unlink` stops it,
a reset keeps it. And two provider facts the product has to live with: Google mails outside its
domain only with ``sendUpdates``, and Exchange shows a foreign UID wrapped in its own id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
import pytest
from google.oauth2.credentials import Credentials

from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors.google import GoogleAccount
from connectors.graph import GraphAccount, StaticToken
from connectors.models import Attendee, NewEvent
from connectors.ports import Calendar
from emulators import relay
from emulators.google import GoogleEmulator
from emulators.graph import GraphEmulator
from emulators.serve import Server

EVA = "eva@workspace.example"  # on Google
GUS = "gus@workspace.example"  # on Google, never invited
MAX = "max@m365.example"  # on Microsoft 365
MIA = "mia@m365.example"  # on Microsoft 365, never invited
AMS = "Europe/Amsterdam"
PROP = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name series"
WINDOW = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))
FIRST = datetime(2027, 1, 12, 9, tzinfo=UTC)  # Tuesday 10:00 in Amsterdam
WEEK = timedelta(days=7)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GraphEmulator, GoogleEmulator, str, str]]:
    """Both emulators on 127.0.0.1 for the module."""
    graph, google = GraphEmulator(), GoogleEmulator()
    with Server(graph) as graph_server, Server(google) as google_server:
        yield graph, google, graph_server.url, google_server.url


class Side(Protocol):
    """One provider as a test drives it: the organizer's REST calls, the attendee's port."""

    users: tuple[str, str]

    def create(self, organizer: str, guests: list[str], **extra: Any) -> dict[str, Any]: ...
    def patch(self, organizer: str, event_id: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def attendees(self, emails: list[str]) -> dict[str, Any]: ...
    def end_after(self, event: dict[str, Any], count: int) -> dict[str, Any]: ...
    def cancel(self, organizer: str, event_id: str, original: datetime) -> None: ...
    def move(self, organizer: str, event_id: str, original: datetime, by: timedelta) -> None: ...
    def delete(self, organizer: str, event_id: str) -> None: ...
    def uid(self, event: dict[str, Any]) -> str: ...
    def calendar(self, email: str) -> Calendar: ...
    def copy(self, email: str, uid: str) -> dict[str, Any] | None: ...
    def write_copy(self, email: str, copy: dict[str, Any]) -> int: ...


class GoogleSide:
    """Calendar v3 on the Google emulator."""

    users = (EVA, GUS)

    def __init__(self, emulator: GoogleEmulator, url: str) -> None:
        self.emulator = emulator
        self.url = url
        self.account = GoogleAccount(
            lambda email: Credentials(emulator.token(email)),  # type: ignore[no-untyped-call]
            root_url=url + "/",
        )

    def call(self, method: str, who: str, path: str = "", **kwargs: Any) -> httpx.Response:
        params = {"sendUpdates": "all", **kwargs.pop("params", {})}
        response = httpx.request(
            method,
            f"{self.url}/calendar/v3/calendars/primary/events{path}",
            headers={"Authorization": f"Bearer {self.emulator.token(who)}"},
            params={k: v for k, v in params.items() if v is not None},
            **kwargs,
        )
        return response

    def create(self, organizer: str, guests: list[str], **extra: Any) -> dict[str, Any]:
        body = {
            "summary": "Goed gesprek",
            "description": "<p>Agenda volgt</p>",
            "location": "Koffiebar",
            "start": {"dateTime": "2027-01-12T10:00:00", "timeZone": AMS},
            "end": {"dateTime": "2027-01-12T11:00:00", "timeZone": AMS},
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4"],
            "attendees": [{"email": g} for g in guests],
            "extendedProperties": {"private": {"series": "s-1"}, "shared": {"kind": "gg"}},
            **extra,
        }
        params = {"sendUpdates": extra.pop("sendUpdates", "all")}
        body.pop("sendUpdates", None)
        response = self.call("POST", organizer, json=body, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def patch(self, organizer: str, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.call("PATCH", organizer, f"/{event_id}", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def attendees(self, emails: list[str]) -> dict[str, Any]:
        return {"attendees": [{"email": e} for e in emails]}

    def end_after(self, event: dict[str, Any], count: int) -> dict[str, Any]:
        return {"recurrence": [f"RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT={count}"]}

    def cancel(self, organizer: str, event_id: str, original: datetime) -> None:
        response = self.call("DELETE", organizer, f"/{event_id}_{original:%Y%m%dT%H%M%SZ}")
        assert response.status_code == 204, response.text

    def move(self, organizer: str, event_id: str, original: datetime, by: timedelta) -> None:
        start, end = original + by, original + by + timedelta(hours=1)
        body = {
            "start": {"dateTime": start.isoformat(), "timeZone": AMS},
            "end": {"dateTime": end.isoformat(), "timeZone": AMS},
        }
        self.patch(organizer, f"{event_id}_{original:%Y%m%dT%H%M%SZ}", body)

    def delete(self, organizer: str, event_id: str) -> None:
        assert self.call("DELETE", organizer, f"/{event_id}").status_code == 204

    def uid(self, event: dict[str, Any]) -> str:
        return str(event["iCalUID"])

    def calendar(self, email: str) -> Calendar:
        return self.account.calendar(email)

    def copy(self, email: str, uid: str) -> dict[str, Any] | None:
        response = self.call("GET", email, params={"iCalUID": uid})
        found = [e for e in response.json()["items"] if e.get("status") != "cancelled"]
        return found[0] if found else None

    def write_copy(self, email: str, copy: dict[str, Any]) -> int:
        return self.call("PATCH", email, f"/{copy['id']}", json={"summary": "Mine"}).status_code


class GraphSide:
    """Microsoft Graph v1.0 on the Graph emulator."""

    users = (MAX, MIA)

    def __init__(self, emulator: GraphEmulator, url: str) -> None:
        self.emulator = emulator
        self.url = url
        self.account = GraphAccount(
            lambda email: StaticToken(emulator.token(email)), base_url=f"{url}/v1.0"
        )

    def call(self, method: str, who: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self.emulator.token(who)}",
            "Prefer": 'outlook.timezone="UTC"',
        }
        return httpx.request(method, f"{self.url}/v1.0/me{path}", headers=headers, **kwargs)

    def create(self, organizer: str, guests: list[str], **extra: Any) -> dict[str, Any]:
        body = {
            "subject": "Goed gesprek",
            "body": {"contentType": "html", "content": "<p>Agenda volgt</p>"},
            "location": {"displayName": "Koffiebar"},
            "start": {"dateTime": "2027-01-12T10:00:00", "timeZone": AMS},
            "end": {"dateTime": "2027-01-12T11:00:00", "timeZone": AMS},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"]},
                "range": {"type": "numbered", "startDate": "2027-01-12", "numberOfOccurrences": 4},
            },
            "attendees": [{"emailAddress": {"address": g}, "type": "required"} for g in guests],
            "singleValueExtendedProperties": [{"id": PROP, "value": "s-1"}],
            **extra,
        }
        response = self.call("POST", organizer, "/events", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def patch(self, organizer: str, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.call("PATCH", organizer, f"/events/{event_id}", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def attendees(self, emails: list[str]) -> dict[str, Any]:
        return {"attendees": [{"emailAddress": {"address": e}} for e in emails]}

    def end_after(self, event: dict[str, Any], count: int) -> dict[str, Any]:
        recurrence = dict(event["recurrence"])
        recurrence["range"] = {**recurrence["range"], "numberOfOccurrences": count}
        return {"recurrence": recurrence}

    def _occurrence(self, organizer: str, event_id: str, original: datetime) -> str:
        lo, hi = original.isoformat(), (original + timedelta(minutes=1)).isoformat()
        response = self.call(
            "GET",
            organizer,
            f"/events/{event_id}/instances",
            params={"startDateTime": lo, "endDateTime": hi},
        )
        return str(response.json()["value"][0]["id"])

    def cancel(self, organizer: str, event_id: str, original: datetime) -> None:
        occurrence = self._occurrence(organizer, event_id, original)
        assert self.call("DELETE", organizer, f"/events/{occurrence}").status_code == 204

    def move(self, organizer: str, event_id: str, original: datetime, by: timedelta) -> None:
        occurrence = self._occurrence(organizer, event_id, original)
        start, end = original + by, original + by + timedelta(hours=1)
        body = {
            "start": {"dateTime": f"{start:%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
            "end": {"dateTime": f"{end:%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
        }
        self.patch(organizer, occurrence, body)

    def delete(self, organizer: str, event_id: str) -> None:
        assert self.call("DELETE", organizer, f"/events/{event_id}").status_code == 204

    def uid(self, event: dict[str, Any]) -> str:
        return str(event["iCalUId"])

    def calendar(self, email: str) -> Calendar:
        return self.account.calendar(email)

    def copy(self, email: str, uid: str) -> dict[str, Any] | None:
        """The copy of a meeting found by ``$filter=iCalUId eq`` (the connector's `find_event`
        reads no weekly master: the product's rules are monthly)."""
        wanted = relay.exchange_uid(uid)
        response = self.call(
            "GET",
            email,
            "/events",
            params={
                "$filter": f"iCalUId eq '{wanted}'",
                "$expand": f"singleValueExtendedProperties($filter=id eq '{PROP}')",
            },
        )
        found = [e for e in response.json()["value"] if not e["isCancelled"]]
        return found[0] if found else None

    def write_copy(self, email: str, copy: dict[str, Any]) -> int:
        return self.call(
            "PATCH", email, f"/events/{copy['id']}", json={"subject": "Mine"}
        ).status_code


@dataclass
class World:
    """The two sides, linked; `organizer` is the side the meeting is made in."""

    link: relay.Link
    organizer: Side
    attendee: Side

    @property
    def boss(self) -> str:
        """Who organises (the employee)."""
        return self.organizer.users[0]

    @property
    def guest(self) -> str:
        """The invited user of the other emulator (the manager)."""
        return self.attendee.users[0]

    @property
    def stranger(self) -> str:
        """A user of the other emulator nobody invites."""
        return self.attendee.users[1]


@pytest.fixture(params=["google-organizer", "graph-organizer"])
def world(
    request: pytest.FixtureRequest, served: tuple[GraphEmulator, GoogleEmulator, str, str]
) -> Iterator[World]:
    """Both emulators reset and linked; the organizer's side per the parameter."""
    graph, google, graph_url, google_url = served
    link = relay.link(graph, google)
    graph.reset()  # the link outlives a reset
    google.reset()
    for email, name in ((MAX, "Max"), (MIA, "Mia")):
        graph.add_user(email, name)
    for email, name in ((EVA, "Eva"), (GUS, "Gus")):
        google.add_user(email, name)
    sides: tuple[Side, Side] = (GoogleSide(google, google_url), GraphSide(graph, graph_url))
    if request.param == "graph-organizer":
        sides = (sides[1], sides[0])
    yield World(link, *sides)
    link.unlink()
    assert not link.undelivered


def starts(events: list[Any]) -> list[tuple[datetime, datetime]]:
    """Each event's start and end, in UTC."""
    return [(e.start.astimezone(UTC), e.end.astimezone(UTC)) for e in events]


def test_a_weekly_series_reaches_the_invited_user_of_the_other_provider(world: World) -> None:
    master = world.organizer.create(world.boss, [world.guest])
    uid = world.organizer.uid(master)
    copy = world.attendee.copy(world.guest, uid)
    assert copy is not None
    mine = world.organizer.calendar(world.boss).instances(master["id"], *WINDOW)
    theirs = world.attendee.calendar(world.guest).instances(copy["id"], *WINDOW)
    assert (
        starts(theirs)
        == starts(mine)
        == [(FIRST + k * WEEK, FIRST + k * WEEK + timedelta(hours=1)) for k in range(4)]
    )
    first = theirs[0]
    assert first.subject == "Goed gesprek"
    assert "<p>Agenda volgt</p>" in first.body_html
    assert first.location == "Koffiebar"
    assert first.organizer == world.boss
    assert [a.email for a in first.attendees] == [world.guest]
    # The organizer's own properties never travel by mail.
    assert not first.properties
    assert "extendedProperties" not in copy
    assert "singleValueExtendedProperties" not in copy or not copy["singleValueExtendedProperties"]
    busy = world.attendee.calendar(world.guest).free_busy([world.guest], *WINDOW)[world.guest]
    assert [(b.start, b.end) for b in busy] == starts(theirs)
    # An attendee's copy: not theirs to change.
    assert world.attendee.write_copy(world.guest, copy) in (400, 403)
    # Nobody uninvited got anything.
    assert world.attendee.calendar(world.stranger).events(*WINDOW) == []
    assert world.attendee.copy(world.stranger, uid) is None


def test_the_organizers_changes_reach_the_copy(world: World) -> None:
    master = world.organizer.create(world.boss, [world.guest])
    uid = world.organizer.uid(master)
    body_change: dict[str, Any] = (
        {"description": "<p>Afspraken: 1. ...</p>"}
        if isinstance(world.organizer, GoogleSide)
        else {"body": {"contentType": "html", "content": "<p>Afspraken: 1. ...</p>"}}
    )
    master = world.organizer.patch(world.boss, master["id"], body_change)
    master = world.organizer.patch(world.boss, master["id"], world.organizer.end_after(master, 3))
    world.organizer.cancel(world.boss, master["id"], FIRST + WEEK)
    world.organizer.move(world.boss, master["id"], FIRST + 2 * WEEK, timedelta(hours=2))
    copy = world.attendee.copy(world.guest, uid)
    assert copy is not None
    theirs = world.attendee.calendar(world.guest).instances(copy["id"], *WINDOW)
    mine = world.organizer.calendar(world.boss).instances(master["id"], *WINDOW)
    hour = timedelta(hours=1)
    moved = FIRST + 2 * WEEK + 2 * hour
    assert starts(theirs) == starts(mine) == [(FIRST, FIRST + hour), (moved, moved + hour)]
    assert all("Afspraken" in e.body_html for e in theirs)
    busy = world.attendee.calendar(world.guest).free_busy([world.guest], *WINDOW)[world.guest]
    assert [(b.start, b.end) for b in busy] == starts(theirs)


def test_deleting_the_master_cancels_the_copy(world: World) -> None:
    master = world.organizer.create(world.boss, [world.guest])
    uid = world.organizer.uid(master)
    copy = world.attendee.copy(world.guest, uid)
    assert copy is not None
    world.organizer.delete(world.boss, master["id"])
    assert world.attendee.copy(world.guest, uid) is None
    assert world.attendee.calendar(world.guest).events(*WINDOW) == []
    assert world.attendee.calendar(world.guest).free_busy([world.guest], *WINDOW)[world.guest] == []
    if isinstance(world.attendee, GraphSide):
        # Outlook keeps the cancelled meeting until its owner deletes it.
        kept = world.attendee.call("GET", world.guest, f"/events/{copy['id']}").json()
        assert kept["isCancelled"] and kept["subject"] == "Canceled: Goed gesprek"


def test_an_attendee_taken_off_loses_the_copy(world: World) -> None:
    master = world.organizer.create(world.boss, [world.guest, world.stranger])
    uid = world.organizer.uid(master)
    assert world.attendee.copy(world.stranger, uid) is not None
    world.organizer.patch(world.boss, master["id"], world.organizer.attendees([world.guest]))
    assert world.attendee.copy(world.stranger, uid) is None
    assert world.attendee.calendar(world.stranger).events(*WINDOW) == []
    assert len(world.attendee.calendar(world.guest).events(*WINDOW)) == 4
    # Taking off the last outside guest cancels for them too (no REQUEST goes out any more).
    world.organizer.patch(world.boss, master["id"], world.organizer.attendees([]))
    assert world.attendee.copy(world.guest, uid) is None


def test_unlink_stops_delivery(world: World) -> None:
    world.link.unlink()
    master = world.organizer.create(world.boss, [world.guest])
    assert world.attendee.copy(world.guest, world.organizer.uid(master)) is None
    assert world.attendee.calendar(world.guest).events(*WINDOW) == []


def test_google_mails_outside_guests_only_when_asked(
    served: tuple[GraphEmulator, GoogleEmulator, str, str],
) -> None:
    """Google's ``sendUpdates`` defaults to none: an Outlook guest then gets nothing."""
    graph, google, graph_url, google_url = served
    graph.reset()
    google.reset()
    link = relay.link(graph, google)
    try:
        master = GoogleSide(google, google_url).create(EVA, [MAX], sendUpdates=None)
        assert GraphSide(graph, graph_url).copy(MAX, str(master["iCalUID"])) is None
    finally:
        link.unlink()


QUARTERLY = Rule.build(datetime(2027, 1, 12, 10), AMS, NthWeekday(Weekday.TU, 2), count=4)


def test_a_product_series_reads_back_through_the_connectors(
    served: tuple[GraphEmulator, GoogleEmulator, str, str],
) -> None:
    """The product's own quarterly rule survives both ways; on Graph the copy of Google's
    meeting carries Exchange's wrapped UID, which the connector unwraps: the product finds it
    under Google's own UID."""
    graph, google, graph_url, google_url = served
    graph.reset()
    google.reset()
    link = relay.link(graph, google)
    try:
        graph_side, google_side = GraphSide(graph, graph_url), GoogleSide(google, google_url)
        start = datetime(2027, 1, 12, 9, tzinfo=UTC)
        new = NewEvent(
            "Goed gesprek",
            start,
            start + timedelta(hours=1),
            AMS,
            MAX,
            attendees=(Attendee(EVA, "Eva"),),
            body_html="<p>Agenda</p>",
            recurrence=QUARTERLY,
            properties={"series": "s-9"},
        )
        made = graph_side.calendar(MAX).create_event(new, idempotency_key="k-1")
        found = google_side.calendar(EVA).find_event(made.ical_uid)
        assert found is not None and found.recurrence == QUARTERLY
        assert found.organizer == MAX and not found.properties

        body = {
            "summary": "Goed gesprek",
            "start": {"dateTime": "2027-01-12T10:00:00", "timeZone": AMS},
            "end": {"dateTime": "2027-01-12T11:00:00", "timeZone": AMS},
            "recurrence": [line for line in QUARTERLY.to_rfc5545() if line.startswith("RRULE")],
            "attendees": [{"email": MAX}],
        }
        response = google_side.call("POST", EVA, json=body)
        uid = str(response.json()["iCalUID"])
        outlook = graph_side.calendar(MAX)
        copy = outlook.find_event(uid)
        assert copy is not None and copy.recurrence == QUARTERLY and copy.organizer == EVA
        assert copy.ical_uid == uid
        assert relay.ical_uid(relay.exchange_uid(uid)) == uid
    finally:
        link.unlink()
    assert not link.undelivered


@pytest.mark.parametrize(
    ("pattern", "rrule"),
    [
        ({"type": "weekly", "daysOfWeek": ["tuesday", "thursday"]}, "FREQ=WEEKLY;BYDAY=TU,TH"),
        (
            {"type": "relativeMonthly", "daysOfWeek": ["tuesday"], "index": "second"},
            "FREQ=MONTHLY;BYDAY=2TU",
        ),
        (
            {"type": "relativeMonthly", "daysOfWeek": ["friday"], "index": "last"},
            "FREQ=MONTHLY;BYDAY=-1FR",
        ),
        (
            {"type": "absoluteMonthly", "dayOfMonth": 12, "interval": 3},
            "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=12",
        ),
        (
            {"type": "absoluteMonthly", "dayOfMonth": 30},
            "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1",
        ),
        ({"type": "absoluteMonthly", "dayOfMonth": 31}, "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ],
)
def test_rules_map_both_ways(pattern: dict[str, Any], rrule: str) -> None:
    """Graph's patterns and their RRULE, there and back (a count ends each)."""
    recurrence = {
        "pattern": {"interval": 1, **pattern},
        "range": {"type": "numbered", "startDate": "2027-01-12", "numberOfOccurrences": 4},
    }
    line = relay.rrule_from_graph(recurrence, AMS)
    assert line == f"RRULE:{rrule};COUNT=4"
    back = relay.graph_from_rrule(line, datetime(2027, 1, 12).date(), AMS)
    assert back["range"]["numberOfOccurrences"] == 4
    for key, value in pattern.items():
        assert back["pattern"][key] == value
