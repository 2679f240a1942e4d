"""What each Google port call costs: requests sent, and library work redone on every call.

The connector shares googleapiclient ``Resource`` objects between calls and threads; each call
must build none, and threads sharing them must each get their own answers. Calls are observed
with cProfile (nothing is patched), and requests are counted at a served emulator.
"""

from __future__ import annotations

import cProfile
import pstats
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httplib2
import pytest
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document

from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors.errors import AuthExpired, Conflict, NotFound
from connectors.google import GoogleAccount, discovery_document
from connectors.models import Attendee, EventPatch, Mail, NewEvent
from emulators._wsgi import StartResponse, WSGIApp
from emulators.google import GoogleEmulator
from emulators.serve import Server

ADA, BOB = "ada@example.org", "bob@example.org"
AMS = "Europe/Amsterdam"


class Counted:
    """Notes ``METHOD path`` of every request it passes on, after `latency` seconds each, the
    most requests in flight at once, and the round trips: a request arriving while none is in
    flight begins a new one (with a latency, requests sent together overlap)."""

    def __init__(self, app: WSGIApp) -> None:
        """Wrap `app`, with no latency."""
        self.app = app
        self.seen: list[str] = []
        self.latency = 0.0
        self.in_flight = 0
        self.most = 0
        self.waves = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Note the request, wait, then answer as the wrapped app does."""
        with self._lock:
            self.seen.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
            if self.in_flight == 0:
                self.waves += 1
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            latency = self.latency
        try:
            time.sleep(latency)
            return list(self.app(environ, start_response))
        finally:
            with self._lock:
                self.in_flight -= 1

    def during(self, call: Callable[[], object], latency: float = 0.0) -> list[str]:
        """The requests `call` sent, each delayed by `latency` seconds."""
        with self._lock:
            self.seen, self.most, self.waves, self.latency = [], 0, 0, latency
        try:
            call()
        finally:
            self.latency = 0.0
        with self._lock:
            return list(self.seen)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GoogleEmulator, Counted, Server]]:
    """The emulator behind the counter, served on 127.0.0.1."""
    emulator = GoogleEmulator()
    counted = Counted(emulator)
    with Server(counted) as server:
        yield emulator, counted, server


@pytest.fixture
def account(served: tuple[GoogleEmulator, Counted, Server]) -> GoogleAccount:
    """A fresh account on an emptied emulator."""
    emulator, counted, server = served
    emulator.reset()
    counted.latency = 0.0
    return GoogleAccount(
        lambda email: Credentials(token=emulator.token(email)), root_url=server.url + "/"
    )


def meeting(hour: int = 14, subject: str = "Goed gesprek") -> NewEvent:
    """A one-hour meeting Ada organizes with Bob on 1 February 2027."""
    start = datetime(2027, 2, 1, hour, tzinfo=ZoneInfo(AMS))
    return NewEvent(
        subject=subject,
        start=start,
        end=start + timedelta(hours=1),
        tz=AMS,
        organizer=ADA,
        attendees=(Attendee(BOB, "Bob"),),
    )


def library_calls(call: Callable[[], object], *names: str) -> dict[str, int]:
    """How often `call` ran each googleapiclient function of `names` (cProfile's count)."""
    profile = cProfile.Profile()
    profile.runcall(call)
    counts = dict.fromkeys(names, 0)
    for (filename, _, function), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        if "googleapiclient" in filename and function in counts:
            counts[function] += row[1]
    return counts


def test_calls_after_the_first_build_no_resource(account: GoogleAccount) -> None:
    """Every port call after a warm-up reuses the library's resources and their methods."""
    calendar, drive, mailer = account.calendar(ADA), account.drive(ADA), account.mailer(ADA)
    event = calendar.create_event(meeting(), idempotency_key="k")
    rule = Rule.build(datetime(2027, 1, 4, 10), AMS, NthWeekday(Weekday.MO, 1))
    series = calendar.create_event(
        replace(
            meeting(10),
            start=datetime(2027, 1, 4, 10, tzinfo=ZoneInfo(AMS)),
            end=datetime(2027, 1, 4, 11, tzinfo=ZoneInfo(AMS)),
            recurrence=rule,
        ),
        idempotency_key="s",
    )
    drive.put("dossier", "occ.json", b"{}")
    window = (
        datetime(2027, 1, 1, tzinfo=ZoneInfo(AMS)),
        datetime(2027, 3, 1, tzinfo=ZoneInfo(AMS)),
    )
    mail = Mail(sender=ADA, to=(BOB,), subject="Agenda", text="Agenda")

    def every_call() -> None:
        calendar.get_event(event.id)
        calendar.events(*window)
        calendar.instances(series.id, *window)
        calendar.update_event(event.id, EventPatch(subject="Goed gesprek, verzet"))
        calendar.free_busy([ADA, BOB], *window)
        drive.put("dossier", "occ.json", b'{"agenda": []}')
        drive.get("dossier", "occ.json")
        drive.versions("dossier", "occ.json")
        mailer.send(mail)

    every_call()  # the first call of each kind builds what it needs
    counts = library_calls(every_call, "createMethod", "createResource", "build_from_document")
    assert counts == {"createMethod": 0, "createResource": 0, "build_from_document": 0}


def test_threads_sharing_resources_each_get_their_own_answer(account: GoogleAccount) -> None:
    """Four threads reading and writing through one calendar's shared resources never mix up
    answers (each thread has its own connection)."""
    calendar = account.calendar(ADA)
    made = [
        calendar.create_event(meeting(8 + i, f"Gesprek {i}"), idempotency_key=f"k{i}")
        for i in range(8)
    ]

    def work(i: int) -> list[tuple[str, str]]:
        seen = []
        for round_ in range(10):
            event = made[(i + round_) % len(made)]
            got = calendar.get_event(event.id)
            seen.append((got.id, got.subject))
            changed = calendar.update_event(event.id, EventPatch(location=f"kamer {i}.{round_}"))
            seen.append((changed.id, changed.subject))
        return seen

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(work, range(4)))
    subjects = {e.id: e.subject for e in made}
    for seen in answers:
        assert len(seen) == 20
        assert all(subjects[event_id] == subject for event_id, subject in seen)


def test_a_write_whose_answer_carries_the_event_reads_nothing_after(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """Create, read and change-without-moving each take one request: the answer is the event."""
    _, counted, _ = served
    calendar = account.calendar(ADA)
    created: list[Any] = []
    assert counted.during(
        lambda: created.append(calendar.create_event(meeting(), idempotency_key="k"))
    ) == ["POST /calendar/v3/calendars/primary/events"]
    path = f"/calendar/v3/calendars/primary/events/{created[0].id}"
    assert counted.during(lambda: calendar.get_event(created[0].id)) == [f"GET {path}"]
    patch = EventPatch(subject="Verzet", location="Kamer 2", properties={"gg": "1"})
    assert counted.during(lambda: calendar.update_event(created[0].id, patch)) == [f"PATCH {path}"]
    after = calendar.get_event(created[0].id)
    assert (after.subject, after.location, after.properties.get("gg")) == ("Verzet", "Kamer 2", "1")


def seed(emulator: GoogleEmulator, server: Server, count: int) -> None:
    """`count` half-hour events in Ada's calendar, one a day from 2027, inserted 50 a batch."""
    client = build_from_document(
        discovery_document("calendar", server.url + "/"),
        http=AuthorizedHttp(Credentials(token=emulator.token(ADA)), http=httplib2.Http()),
    )
    events = client.events()
    first = datetime(2027, 1, 1, 9, tzinfo=ZoneInfo(AMS))
    for chunk in range(0, count, 50):
        batch = client.new_batch_http_request()
        for day in range(chunk, min(chunk + 50, count)):
            start = first + timedelta(days=day)
            body = {
                "summary": f"Dag {day}",
                "start": {"dateTime": start.isoformat(), "timeZone": AMS},
                "end": {"dateTime": (start + timedelta(minutes=30)).isoformat(), "timeZone": AMS},
            }
            batch.add(events.insert(calendarId="primary", body=body))
        batch.execute()


def test_a_listing_past_one_page_reads_every_page_in_order(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """2600 events come back whole and by start in two requests of Google's largest page."""
    emulator, counted, server = served
    seed(emulator, server, 2600)
    calendar = account.calendar(ADA)
    window = (
        datetime(2027, 1, 1, tzinfo=ZoneInfo(AMS)),
        datetime(2035, 1, 1, tzinfo=ZoneInfo(AMS)),
    )
    found: list[Any] = []
    sent = counted.during(lambda: found.extend(calendar.events(*window)))
    assert sent == ["GET /calendar/v3/calendars/primary/events"] * 2
    assert [e.subject for e in found] == [f"Dag {day}" for day in range(2600)]


LATENCY = 0.2


def test_a_fresh_drive_reads_a_file_in_two_round_trips(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """With no folder id known yet, the app's folder, the folder and the file are asked for by
    name at once, then the bytes: two latencies, not four, and only the right file is read."""
    emulator, counted, server = served
    writer = account.drive(ADA)
    writer.put("dossier", "occ.json", b"mine")
    writer.put("elders", "occ.json", b"not this one")  # the same name in another folder
    fresh = GoogleAccount(
        lambda email: Credentials(token=emulator.token(email)), root_url=server.url + "/"
    ).drive(ADA)
    got: list[Any] = []
    sent = counted.during(lambda: got.append(fresh.get("dossier", "occ.json")), LATENCY)
    waves = counted.waves
    assert got[0].content == b"mine" and got[0].info == writer.stat("dossier", "occ.json")
    assert len(sent) == 4 and counted.most == 3
    assert waves == 2, sent


def test_a_fresh_drive_finds_nothing_where_the_folder_is_missing(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """A file by that name in another folder is not taken for one in a missing folder."""
    emulator, _, server = served
    account.drive(ADA).put("elders", "occ.json", b"not this one")
    other = GoogleAccount(
        lambda email: Credentials(token=emulator.token(email)), root_url=server.url + "/"
    ).drive(ADA)
    with pytest.raises(NotFound):
        other.get("dossier", "occ.json")
    assert other.get("elders", "occ.json").content == b"not this one"


def test_a_lent_client_builds_no_resource(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """An add-on request lends the person's own token for its block: its calls reuse what the
    account built before, and go out with the lent token."""
    emulator, _, _ = served
    calendar = account.calendar(ADA)
    event = calendar.create_event(meeting(), idempotency_key="k")
    account.drive(ADA).put("dossier", "occ.json", b"{}")

    token = emulator.token(ADA)

    def card(lent: str) -> None:
        with account.lend(ADA, Credentials(token=lent)):
            assert account.calendar(ADA).get_event(event.id) == event
            assert account.calendar(ADA).get_events([event.id])[event.id] == event
            assert account.drive(ADA).get("dossier", "occ.json").content == b"{}"

    card(token)
    counts = library_calls(
        lambda: card(token), "createMethod", "createResource", "build_from_document"
    )
    assert counts == {"createMethod": 0, "createResource": 0, "build_from_document": 0}
    with pytest.raises(AuthExpired):
        card("not-a-token")  # the lent token is the one sent, not the account's
    assert calendar.get_event(event.id) == event


def test_users_sharing_resources_each_act_as_themselves(account: GoogleAccount) -> None:
    """Ada and Bob, one thread each, create and read through the same resources (batches too)
    and each finds only their own events in their own calendar."""

    def work(person: str) -> tuple[set[str], set[str]]:
        calendar = account.calendar(person)
        made = set()
        for i in range(6):
            event = replace(meeting(8 + i, f"{person} {i}"), organizer=person, attendees=())
            made.add(calendar.create_event(event, idempotency_key=f"{person}{i}").id)
            assert calendar.get_event(sorted(made)[0]).organizer == person
        found = calendar.get_events(sorted(made))
        assert all(not isinstance(e, Exception) and e.organizer == person for e in found.values())
        window = (
            datetime(2027, 2, 1, tzinfo=ZoneInfo(AMS)),
            datetime(2027, 2, 2, tzinfo=ZoneInfo(AMS)),
        )
        return made, {e.id for e in calendar.events(*window)}

    with ThreadPoolExecutor(max_workers=2) as pool:
        (ada_made, ada_sees), (bob_made, bob_sees) = pool.map(work, (ADA, BOB))
    assert ada_sees == ada_made and bob_sees == bob_made


def test_a_lent_client_starts_from_the_ids_found_before(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """A second add-on request reads a file the first one found by its id, with no folder or
    name lookup: the person's Drive ids outlive the lent client."""
    emulator, counted, _ = served
    written = account.drive(ADA).put("dossier", "occ.json", b"{}")
    token = emulator.token(ADA)

    def card() -> None:
        with account.lend(ADA, Credentials(token=token)):
            assert account.drive(ADA).get("dossier", "occ.json").content == b"{}"

    card()
    assert sorted(counted.during(card)) == [f"GET /drive/v3/files/{written.id}"] * 2


def test_attaching_uploads_while_it_reads_the_event(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """The upload and the read of the event go out together: upload and read, patch, share
    with the guest take three latencies, not four."""
    emulator, counted, _ = served
    emulator.add_user(BOB, "Bob")
    calendar = account.calendar(ADA)
    event = calendar.create_event(meeting(), idempotency_key="k")
    account.drive(ADA).put("dossier", "occ.json", b"{}")  # the app's folder and ids exist
    sent = counted.during(
        lambda: calendar.add_attachment(event.id, "agenda.html", b"<p>Agenda</p>", "text/html"),
        LATENCY,
    )
    assert len(sent) == 4 and counted.most == 2
    assert counted.waves == 3, sent
    attached = calendar.get_event(event.id).attachments
    assert [a.name for a in attached] == ["agenda.html"]
    assert account.drive(ADA).download(attached[0].id) == b"<p>Agenda</p>"


def test_moving_a_version_already_read_sends_only_the_patch(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """A move under If-Match of the version the ports last read needs no second read: the
    event's zone and other end come from that version."""
    _, counted, _ = served
    calendar = account.calendar(ADA)
    event = calendar.create_event(meeting(), idempotency_key="k")
    read = calendar.get_event(event.id)
    longer = EventPatch(end=read.end + timedelta(minutes=30))
    moved: list[Any] = []
    sent = counted.during(
        lambda: moved.append(calendar.update_event(event.id, longer, if_match=read.etag))
    )
    assert sent == [f"PATCH /calendar/v3/calendars/primary/events/{event.id}"]
    assert (moved[0].start, moved[0].end, moved[0].tz) == (
        read.start,
        read.end + timedelta(minutes=30),
        AMS,
    )
    assert calendar.get_event(event.id) == moved[0]
    # Without If-Match the event is read first: the version seen may be old.
    later = EventPatch(start=read.start + timedelta(hours=1))
    sent = counted.during(lambda: calendar.update_event(event.id, later))
    assert sent == [
        f"GET /calendar/v3/calendars/primary/events/{event.id}",
        f"PATCH /calendar/v3/calendars/primary/events/{event.id}",
    ]
    assert calendar.get_event(event.id).end == read.end + timedelta(hours=1, minutes=30)


def test_moving_a_version_changed_elsewhere_is_refused(
    account: GoogleAccount, served: tuple[GoogleEmulator, Counted, Server]
) -> None:
    """A version the ports read and someone else changed since is not moved from memory: the
    patch names that version and Google refuses it (412), leaving the other change."""
    emulator, _, server = served
    calendar = account.calendar(ADA)
    event = calendar.create_event(meeting(), idempotency_key="k")
    read = calendar.get_event(event.id)
    elsewhere = GoogleAccount(
        lambda email: Credentials(token=emulator.token(email)), root_url=server.url + "/"
    ).calendar(ADA)
    changed = elsewhere.update_event(event.id, EventPatch(start=read.start + timedelta(hours=2)))
    with pytest.raises(Conflict):
        calendar.update_event(
            event.id, EventPatch(end=read.end + timedelta(minutes=30)), if_match=read.etag
        )
    assert calendar.get_event(event.id) == changed
