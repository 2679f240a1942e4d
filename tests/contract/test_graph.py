"""The contract suite on the Microsoft Graph connectors, through msgraph-sdk over real HTTP to
the Graph emulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from contract import (
    _KEYS,
    ADA,
    AMS,
    BOB,
    CY,
    QUARTERLY_UTC,
    YEAR,
    CalendarContract,
    DriveContract,
    MailerContract,
    ams,
    meeting,
    utc,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors._graph_map import MAIL_KEY, MAIL_PARTS, expand_properties, from_graph_message
from connectors._retry import RetryPolicy
from connectors.errors import NotFound
from connectors.graph import GraphAccount, GraphCalendar, GraphDrive, GraphMailer, StaticToken
from connectors.models import Attendee, Event, EventPatch, SentMail
from emulators.graph import GraphEmulator
from emulators.serve import Server

UTC = ZoneInfo("UTC")


def series_uid(calendar: GraphCalendar, event: Event) -> str | None:
    """The iCalUId of the series an event belongs to, read in that user's own calendar.

    Graph gives every attendee a copy with ids of its own: an occurrence's ``seriesMasterId``
    names the master in the same mailbox, and that master's iCalUId is the one the organizer's
    master has. This is how a partner's copy maps back to the series.
    """
    if event.series_id is None:
        return None
    return calendar.get_event(event.series_id).ical_uid


class GraphBackend:
    """A `contract.Backend` over the Graph emulator: each user signs in with their own token."""

    def __init__(self, emulator: GraphEmulator, url: str) -> None:
        """Ports for every user of `emulator`, served at `url`."""
        self.emulator = emulator
        self.url = url
        self.account = GraphAccount(
            lambda email: StaticToken(emulator.token(email)),
            base_url=f"{url}/v1.0",
            retry=RetryPolicy(attempts=2, total=5.0),
        )

    def calendar(self, email: str) -> GraphCalendar:
        """The calendar of `email`."""
        return self.account.calendar(email)

    def drive(self, email: str) -> GraphDrive:
        """The app folder in the drive of `email`."""
        return self.account.drive(email)

    def mailer(self, email: str) -> GraphMailer:
        """A mailer sending as `email`."""
        return self.account.mailer(email)

    def outbox(self) -> list[SentMail]:
        """Every mail the emulator recorded as sent, oldest first, with our properties."""
        return [from_graph_message(self._with_properties(m)) for m in self.emulator.sent()]

    def _with_properties(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message with our extended properties, read from Sent Items when not included.

        Graph returns extended properties only when expanded, one filter per property.
        """
        if message.get("singleValueExtendedProperties"):
            return message
        sender = message["from"]["emailAddress"]["address"]
        headers = {"Authorization": f"Bearer {self.emulator.token(sender)}"}
        found: list[dict[str, Any]] = []
        with httpx.Client(base_url=f"{self.url}/v1.0", headers=headers) as client:
            for prop in (MAIL_KEY, MAIL_PARTS):
                answer = client.get(
                    f"/me/messages/{quote(message['id'], safe='')}",
                    params={"$expand": expand_properties(prop)},
                ).raise_for_status()
                found.extend(answer.json().get("singleValueExtendedProperties") or [])
        return {**message, "singleValueExtendedProperties": found}

    def add_person(self, email: str, name: str, tz: str) -> None:
        """A user of the emulated tenant."""
        self.emulator.add_user(email, name, tz)

    def respond(self, email: str, ical_uid: str, action: str) -> None:
        """`email` answers their copy of the event with `ical_uid` as themself (decline, ...)."""
        headers = {"Authorization": f"Bearer {self.emulator.token(email)}"}
        with httpx.Client(base_url=f"{self.url}/v1.0", headers=headers) as client:
            found = client.get(
                "/me/events", params={"$filter": f"iCalUId eq '{ical_uid}'"}
            ).raise_for_status()
            copy = found.json()["value"][0]["id"]
            client.post(
                f"/me/events/{quote(copy, safe='')}/{action}",
                json={"sendResponse": True, "comment": ""},
            ).raise_for_status()

    def close(self) -> None:
        """Close the clients."""
        self.account.close()


@pytest.fixture(scope="session")
def graph_server() -> Iterator[tuple[GraphEmulator, Server]]:
    """One Graph emulator served on 127.0.0.1 for the whole session."""
    emulator = GraphEmulator()
    server = Server(emulator)
    try:
        yield emulator, server
    finally:
        server.close()


@pytest.fixture
def backend(graph_server: tuple[GraphEmulator, Server]) -> Iterator[GraphBackend]:
    """The emulator forgotten afresh, with a new account on it."""
    emulator, server = graph_server
    emulator.reset()
    backend = GraphBackend(emulator, server.url)
    try:
        yield backend
    finally:
        backend.close()


class TestGraphCalendar(CalendarContract):
    """Calendar contract on `GraphCalendar`."""

    def test_free_busy_leaves_out_cancelled_and_declined(self, backend: GraphBackend) -> None:  # type: ignore[override]
        """A cancelled occurrence frees both partners; a declined invitation frees the decliner.

        Graph ignores an attendee's status sent by the organizer (it is each attendee's own
        answer), so Bob declines his copy himself, as in Outlook, instead of being created
        declined.
        """
        backend.add_person(ADA, "Ada", AMS)
        backend.add_person(BOB, "Bob", AMS)
        master = self.series(backend)
        cal = backend.calendar(ADA)
        cal.delete_event(cal.instances(master.id, utc(2027, 1, 1), utc(2028, 1, 1))[1].id)
        borrel = cal.create_event(
            meeting("Borrel", ams(2027, 4, 13, 16), attendees=(Attendee(BOB, "Bob"),)),
            idempotency_key="borrel",
        )
        backend.respond(BOB, borrel.ical_uid, "decline")
        busy = cal.free_busy([ADA, BOB], utc(2027, 4, 13), utc(2027, 4, 14))
        assert [(b.start, b.end) for b in busy[ADA]] == [
            (utc(2027, 4, 13, 14), utc(2027, 4, 13, 15))
        ]
        assert busy[BOB] == []

    def test_attendee_added_to_one_occurrence_sees_only_that_one(  # type: ignore[override]
        self, backend: GraphBackend
    ) -> None:
        """Someone invited to one occurrence has it in their calendar and is busy then only.

        Graph gives Cy's copy ids of Cy's own mailbox, so its ``series_id`` cannot be Ada's
        master id: it maps back to the series through the iCalUId of Cy's series master.
        """
        backend.add_person(CY, "Cy", AMS)
        master = self.series(backend)
        cal = backend.calendar(ADA)
        second = cal.instances(master.id, *YEAR)[1]
        cal.update_event(second.id, EventPatch(attendees=(Attendee(BOB, "Bob"), Attendee(CY))))
        cy = backend.calendar(CY)
        found = cy.events(*YEAR)
        assert [(e.start, series_uid(cy, e)) for e in found] == [
            (QUARTERLY_UTC[1], master.ical_uid)
        ]
        busy = cal.free_busy([CY], *YEAR)
        assert [(b.start, b.end) for b in busy[CY]] == [(utc(2027, 4, 13, 8), utc(2027, 4, 13, 9))]
        assert len(backend.calendar(BOB).events(*YEAR)) == 4

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        week=st.sampled_from([1, 2, 3, 4, -1]),
        weekday=st.sampled_from(list(Weekday)),
        interval=st.sampled_from([1, 2, 3, 4, 6]),
        minute_of_day=st.integers(0, 24 * 60 - 1).map(lambda m: m - m % 30),
        edits=st.lists(
            st.tuples(
                st.integers(0, 5),
                st.sampled_from(["move", "cancel", "retitle"]),
                st.integers(-72, 72),
            ),
            max_size=8,
        ),
    )
    def test_random_edits_match_a_model(  # type: ignore[override]
        self,
        backend: GraphBackend,
        *,
        week: int,
        weekday: Weekday,
        interval: int,
        minute_of_day: int,
        edits: list[tuple[int, str, int]],
    ) -> None:
        """After any moves, cancellations and renames, instances and events agree with a model.

        As the contract's test, except that Bob's copies are matched to the series through
        his own series master's iCalUId: Graph gives his copies ids of his own mailbox.
        """
        rule = Rule.build(
            datetime(2027, 3, 1, minute_of_day // 60, minute_of_day % 60),
            AMS,
            NthWeekday(weekday, week),
            interval=interval,
            count=6,
        )
        original = rule.first_n(6)
        cal = backend.calendar(ADA)
        master = cal.create_event(
            meeting("Reeks", original[0], recurrence=rule), idempotency_key=f"p{next(_KEYS)}"
        )
        window = (original[0] - timedelta(days=4), original[-1] + timedelta(days=4))
        ids = [e.id for e in cal.instances(master.id, *window)]
        model: dict[str, tuple[datetime, str] | None] = {
            i: (o.astimezone(UTC), "Reeks") for i, o in zip(ids, original, strict=True)
        }
        for index, action, hours in edits:
            target = ids[index]
            current = model[target]
            if current is None:
                with pytest.raises(NotFound):
                    cal.get_event(target)
            elif action == "cancel":
                cal.delete_event(target)
                model[target] = None
            elif action == "move":
                start = current[0] + timedelta(hours=hours)
                cal.update_event(target, EventPatch(start=start, end=start + timedelta(hours=1)))
                model[target] = (start, current[1])
            else:
                cal.update_event(target, EventPatch(subject=f"Gesprek {hours}"))
                model[target] = (current[0], f"Gesprek {hours}")
        expected = {
            (i, v[0], v[1])
            for i, v in model.items()
            if v is not None and window[0] <= v[0] < window[1]
        }
        found = cal.instances(master.id, *window)
        assert {(e.id, e.start, e.subject) for e in found} == expected
        assert [e.start for e in found] == sorted(e.start for e in found)
        assert all(e.series_id == master.id and not e.cancelled for e in found)
        bob = backend.calendar(BOB)
        listed = [e for e in bob.events(*window) if series_uid(bob, e) == master.ical_uid]
        assert sorted((e.start, e.subject) for e in listed) == sorted(
            (start, subject) for _, start, subject in expected
        )
        cal.delete_event(master.id)


class TestGraphDrive(DriveContract):
    """Drive contract on `GraphDrive`."""


class TestGraphMailer(MailerContract):
    """Mailer contract on `GraphMailer`."""
