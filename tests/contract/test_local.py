"""The contract suite on the local backend (SQLite file and drive folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from contract import CalendarContract, DriveContract, EmbeddedContract, KeyedMailerContract

from connectors.local import LocalStore
from connectors.testing import ManualClock


@pytest.fixture
def backend(tmp_path: Path, clock: ManualClock) -> Iterator[LocalStore]:
    """An empty local store in a fresh data directory on the test's clock."""
    with LocalStore(tmp_path / "data", clock=clock) as store:
        yield store


class TestLocalCalendar(CalendarContract):
    """Calendar contract on `LocalStore`."""


class TestLocalDrive(DriveContract):
    """Drive contract on `LocalStore`."""


class TestLocalMailer(KeyedMailerContract):
    """Mailer contract on `LocalStore`."""


class TestLocalEmbedded(EmbeddedContract):
    """Embedded-backend promises on `LocalStore`."""
