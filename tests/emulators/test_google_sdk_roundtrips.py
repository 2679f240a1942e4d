"""Round trips on the side panel's path: what the Google ports send, and what waits on what.

The served emulator sits behind `Clocked`, which adds a fixed latency to every request and counts
how many were in flight at once, so "one round trip on the critical path" is checked by
structure (requests sent together) as well as by time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.oauth2.credentials import Credentials

from connectors.errors import NotFound
from connectors.google import GoogleAccount
from connectors.models import Attendee, NewEvent
from emulators._wsgi import StartResponse, WSGIApp
from emulators.google import GoogleEmulator
from emulators.serve import Server

ADA = "ada@example.org"
AMS = "Europe/Amsterdam"
LATENCY = 0.2


class Clocked:
    """Adds `latency` seconds to each request; records paths and the most in flight at once."""

    def __init__(self, app: WSGIApp) -> None:
        """Wrap `app` with no latency yet."""
        self.app = app
        self.latency = 0.0
        self.paths: list[str] = []
        self.in_flight = 0
        self.most = 0
        self._lock = threading.Lock()

    def start(self, latency: float) -> None:
        """Forget what was seen and add `latency` from now on."""
        with self._lock:
            self.latency, self.paths, self.most = latency, [], 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Wait, then answer as the wrapped app does."""
        with self._lock:
            self.paths.append(environ["PATH_INFO"])
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            latency = self.latency
        try:
            time.sleep(latency)
            return list(self.app(environ, start_response))
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GoogleEmulator, Clocked, Server]]:
    """The emulator behind the clock, served on 127.0.0.1."""
    emulator = GoogleEmulator()
    clocked = Clocked(emulator)
    with Server(clocked) as server:
        yield emulator, clocked, server


@pytest.fixture
def account(served: tuple[GoogleEmulator, Clocked, Server]) -> GoogleAccount:
    """A fresh account on an emptied emulator, with no latency yet."""
    emulator, clocked, server = served
    emulator.reset()
    clocked.start(0.0)
    return GoogleAccount(
        lambda email: Credentials(token=emulator.token(email)), root_url=server.url + "/"
    )


def meeting() -> NewEvent:
    """A one-hour meeting Ada organizes with Bob."""
    start = datetime(2027, 2, 1, 14, tzinfo=ZoneInfo(AMS))
    return NewEvent(
        subject="Goed gesprek",
        start=start,
        end=start + timedelta(hours=1),
        tz=AMS,
        organizer=ADA,
        attendees=(Attendee("bob@example.org", "Bob"),),
    )


def test_known_file_is_read_in_one_round_trip(
    account: GoogleAccount, served: tuple[GoogleEmulator, Clocked, Server]
) -> None:
    """A file the drive wrote before is read with metadata and bytes sent together."""
    _, clocked, _ = served
    drive = account.drive(ADA)
    written = drive.put("dossier", "occ.json", b'{"agenda": []}', content_type="application/json")
    clocked.start(LATENCY)
    began = time.perf_counter()
    got = drive.get("dossier", "occ.json")
    elapsed = time.perf_counter() - began
    assert got.info == written and got.content == b'{"agenda": []}'
    assert len(clocked.paths) == 2 and clocked.most == 2
    assert elapsed < 1.75 * LATENCY


def test_file_changed_elsewhere_reads_the_new_version(
    account: GoogleAccount, served: tuple[GoogleEmulator, Clocked, Server]
) -> None:
    """A file rewritten by another writer reads back new, never old bytes under new metadata."""
    emulator, _, server = served
    drive = account.drive(ADA)
    drive.put("dossier", "occ.json", b"one")
    other = GoogleAccount(
        lambda email: Credentials(token=emulator.token(email)), root_url=server.url + "/"
    ).drive(ADA)
    newer = other.put("dossier", "occ.json", b"two")
    got = drive.get("dossier", "occ.json")
    assert (got.content, got.info) == (b"two", newer)


def test_side_panel_context_costs_one_round_trip(
    account: GoogleAccount, served: tuple[GoogleEmulator, Clocked, Server]
) -> None:
    """The event and two known documents, read in parallel as the app does, take one latency."""
    _, clocked, _ = served
    calendar, drive = account.calendar(ADA), account.drive(ADA)
    event = calendar.create_event(meeting(), idempotency_key="k")
    drive.put("dossier", "occ-1.json", b"{}")
    drive.put("dossier", "occ-2.json", b"{}")
    clocked.start(LATENCY)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=3) as pool:
        calls = [
            pool.submit(calendar.get_event, event.id),
            pool.submit(drive.get, "dossier", "occ-1.json"),
            pool.submit(drive.get, "dossier", "occ-2.json"),
        ]
        results = [call.result() for call in calls]
    elapsed = time.perf_counter() - began
    assert results[0] == event
    assert len(clocked.paths) == 5
    assert elapsed < 1.75 * LATENCY


def test_several_events_in_one_batch(
    account: GoogleAccount, served: tuple[GoogleEmulator, Clocked, Server]
) -> None:
    """get_events reads a master and an unknown id in one batch request."""
    _, clocked, _ = served
    calendar = account.calendar(ADA)
    event = calendar.create_event(meeting(), idempotency_key="k")
    clocked.start(0.0)
    found = calendar.get_events([event.id, "nosuchevent"])
    assert found[event.id] == event
    assert isinstance(found["nosuchevent"], NotFound)
    assert clocked.paths == ["/batch/calendar/v3"]
