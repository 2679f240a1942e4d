"""The live suite's address renaming, proven by running the contract through it on memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from contract import (
    ADA,
    BOB,
    CY,
    YEAR,
    CalendarContract,
    DriveContract,
    KeyedMailerContract,
    ams,
    meeting,
)
from renamed import Names, RenamedCalendar, RenamedMailer, TrackedDrive, clean_up

from connectors.memory import MemoryStore
from connectors.models import SentMail
from connectors.testing import ManualClock

TENANT = {ADA: "a.lovelace@tenant.test", BOB: "b.builder@tenant.test", CY: "c.young@tenant.test"}


class RenamedBackend:
    """A memory store seen through the live suite's wrappers."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.names = Names(TENANT)
        self.created: list[Any] = []
        self.written: set[Any] = set()

    def calendar(self, email: str) -> RenamedCalendar:
        """The renamed calendar of `email`."""
        inner = self.store.calendar(self.names.inward(email))
        return RenamedCalendar(inner, self.names, self.created)

    def drive(self, email: str) -> TrackedDrive:
        """The tracked drive of `email`."""
        return TrackedDrive(self.store.drive(self.names.inward(email)), self.written)

    def mailer(self, email: str) -> RenamedMailer:
        """The renamed mailer of `email`."""
        return RenamedMailer(self.store.mailer(self.names.inward(email)), self.names)

    def outbox(self) -> list[SentMail]:
        """The store's outbox with contract addresses."""
        return [self.names.sent(s) for s in self.store.outbox()]

    def add_person(self, email: str, name: str, tz: str) -> None:
        """Known to the store under the tenant address."""
        self.store.add_person(self.names.inward(email), name, tz)


@pytest.fixture
def backend(clock: ManualClock) -> Iterator[RenamedBackend]:
    """A renamed memory backend; what the test made is removed afterwards, as live does."""
    renamed = RenamedBackend(MemoryStore(clock=clock))
    yield renamed
    clean_up(renamed.created, renamed.written)


class TestRenamedCalendar(CalendarContract):
    """Calendar contract through the renaming wrapper."""


class TestRenamedDrive(DriveContract):
    """Drive contract through the tracking wrapper."""


class TestRenamedMailer(KeyedMailerContract):
    """Mailer contract through the renaming wrapper."""


def test_names_map_both_ways() -> None:
    """Contract addresses go in as tenant ones and come back, case-insensitively."""
    names = Names(TENANT)
    assert names.inward("ADA@example.org") == TENANT[ADA]
    assert names.outward(TENANT[BOB].upper()) == BOB
    assert names.inward("someone@else.test") == "someone@else.test"


def test_clean_up_removes_what_a_test_made(clock: ManualClock) -> None:
    """Events and files made through the wrappers are gone after clean_up."""
    renamed = RenamedBackend(MemoryStore(clock=clock))
    renamed.calendar(ADA).create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
    renamed.drive(ADA).put("dossier", "a.txt", b"x")
    clean_up(renamed.created, renamed.written)
    assert renamed.store.calendar(TENANT[ADA]).events(*YEAR) == []
    assert renamed.store.drive(TENANT[ADA]).list("dossier") == []
