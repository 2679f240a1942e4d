"""The contract suite on the Microsoft Graph connectors, through msgraph-sdk over real HTTP to
the Graph emulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from contract import (
    ADA,
    AMS,
    BOB,
    CalendarContract,
    DriveContract,
    SendOnlyMailerContract,
    ams,
    meeting,
    utc,
)

from connectors._graph_map import MAIL_KEY, MAIL_PARTS, expand_properties, from_graph_message
from connectors._retry import RetryPolicy
from connectors.graph import GraphAccount, GraphCalendar, GraphDrive, GraphMailer, StaticToken
from connectors.models import Attendee, SentMail
from emulators.graph import GraphEmulator
from emulators.serve import Server


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


class TestGraphDrive(DriveContract):
    """Drive contract on `GraphDrive`."""


class TestGraphMailer(SendOnlyMailerContract):
    """Mailer contract on `GraphMailer`."""
