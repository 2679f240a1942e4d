"""The contract suite on the in-memory backend."""

from __future__ import annotations

import pytest
from contract import CalendarContract, DriveContract, EmbeddedContract, KeyedMailerContract

from connectors.memory import MemoryStore
from connectors.testing import ManualClock


@pytest.fixture
def backend(clock: ManualClock) -> MemoryStore:
    """An empty memory store on the test's clock."""
    return MemoryStore(clock=clock)


class TestMemoryCalendar(CalendarContract):
    """Calendar contract on `MemoryStore`."""


class TestMemoryDrive(DriveContract):
    """Drive contract on `MemoryStore`."""


class TestMemoryMailer(KeyedMailerContract):
    """Mailer contract on `MemoryStore`."""


class TestMemoryEmbedded(EmbeddedContract):
    """Embedded-backend promises on `MemoryStore`."""
