"""The first open of a conversation reads the event and its documents in one round trip.

"First open": a partner opens an occurrence whose id the server has never seen. The series is
found without asking the provider (the series master's id, remembered for both partners when the
series was created, from the hint the host sends or the id itself), and the occurrence from the
id or the start the host shows; the event read and the document reads then go out together.

Hints only choose what to read ahead. Attacks, each answered as without hints:
- a hinted series the caller is no partner of (the event decides: not a series of theirs);
- a hint naming another series of the caller's than the event's own;
- a malformed start, an oversized series id (400 with a sentence).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_api import ADA, GRACE, NOW, PREFS, Api

from addin.app import create_app
from addin.demo.seed import seed
from connectors.local import LocalStore
from connectors.testing import ManualClock
from emulators.google import GoogleEmulator
from emulators.graph import GraphEmulator
from emulators.serve import Server, behind_network

# Providers and hosts, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

EVE = "eve@example.org"
HOLD = 5.0
"""At most this long an event read waits for the document reads to begin (bounded)."""


class Calls:
    """Every port call, and whether a document read began while an event read was waiting."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str]] = []
        self.drive_began = threading.Event()
        self.overlapped: list[bool] = []
        self.invitation_late = False
        """While True, `find_event` finds nothing: the invitation has not arrived yet."""

    def reset(self) -> None:
        self.log.clear()
        self.overlapped.clear()
        self.drive_began.clear()


class Watched:
    """A port whose calls are noted in `calls`; `seen(name, args)` adds a kind's own step."""

    PASS = object()

    def __init__(self, inner: Any, calls: Calls) -> None:
        self._inner = inner
        self._calls = calls

    def seen(self, name: str, args: tuple[Any, ...]) -> Any:
        """Note the call; a value other than `Watched.PASS` is answered instead of the port's."""
        return Watched.PASS

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def called(*args: Any, **kwargs: Any) -> Any:
            answer = self.seen(name, args)
            return attribute(*args, **kwargs) if answer is Watched.PASS else answer

        return called


class WatchedCalendar(Watched):
    """A calendar whose `get_event` waits (bounded) to see whether documents are read meanwhile."""

    def seen(self, name: str, args: tuple[Any, ...]) -> Any:
        self._calls.log.append(("calendar", name, str(args[0]) if args else ""))
        if name == "get_event":
            self._calls.overlapped.append(self._calls.drive_began.wait(HOLD))
        if name == "find_event" and self._calls.invitation_late:
            return None
        return Watched.PASS


class WatchedDrive(Watched):
    """A drive that says when a read begins."""

    def seen(self, name: str, args: tuple[Any, ...]) -> Any:
        self._calls.log.append(("drive", name, str(args[1]) if len(args) > 1 else ""))
        if name == "get":
            self._calls.drive_began.set()
        return Watched.PASS


@pytest.fixture
def watched(tmp_path: Path) -> tuple[Api, Calls, LocalStore]:
    """The API on a seeded local store whose ports are watched."""
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    calls = Calls()
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path)},
        store=store,
        clock=clock,
        calendar=lambda who: WatchedCalendar(store.calendar(who), calls),  # type: ignore[arg-type]
        drive=lambda who: WatchedDrive(store.drive(who), calls),  # type: ignore[arg-type]
    )
    seed(store, NOW)
    return Api(app, clock), calls, store


def _plan(api: Api) -> dict[str, Any]:
    body = {
        "partner": GRACE,
        "role": "employee",
        "preferences": PREFS,
        "request_id": "first-open-1",
    }
    response = api.call("POST", "/api/series", ADA, body=body)
    assert response.status_code == 201, response.get_json()
    planned: dict[str, Any] = response.get_json()
    return planned


def _second_occurrence(store: LocalStore, who: str, master: str) -> Any:
    found = store.calendar(who).instances(master, NOW, NOW + timedelta(days=400))
    return found[1]


def _master_id(store: LocalStore, planned: dict[str, Any]) -> str:
    first = store.calendar(ADA).get_event(planned["first_event"])
    assert first.series_id is not None
    return first.series_id


@pytest.mark.parametrize("who", [ADA, GRACE])
def test_a_first_open_asks_the_calendar_once_while_the_documents_are_read(
    watched: tuple[Api, Calls, LocalStore], who: str
) -> None:
    """Employee and manager: one event read, the document reads begun before it answered."""
    api, calls, store = watched
    planned = _plan(api)
    occurrence = _second_occurrence(store, who, _master_id(store, planned))
    calls.reset()
    response = api.call("GET", f"/api/context?event={occurrence.id}", who)
    assert response.status_code == 200, response.get_json()
    first = response.get_json()
    assert [c for c in calls.log if c[0] == "calendar"] == [
        ("calendar", "get_event", occurrence.id)
    ]
    assert calls.overlapped == [True]
    assert first["series"]["id"] == planned["series"]["id"]
    assert first["occurrence"]["number"] == 2
    again = api.call("GET", f"/api/context?event={occurrence.id}", who).get_json()
    assert again == first


def test_a_late_invitation_is_mapped_when_the_employee_next_opens_the_series(
    watched: tuple[Api, Calls, LocalStore],
) -> None:
    """Not found when planned, the manager's copy is looked for off the employee's next open."""
    api, calls, store = watched
    calls.invitation_late = True
    planned = _plan(api)
    service = api.app.extensions["goedgesprek.service"]
    registry = service.registry
    series = planned["series"]["id"]
    assert not registry.is_mapped(GRACE, series)
    calls.invitation_late = False
    # Looked for when planned: not again within `look_again` (ten minutes by default).
    calls.reset()
    assert api.call("GET", f"/api/context?event={planned['first_event']}", ADA).status_code == 200
    assert not [c for c in calls.log if c[1] == "find_event"]
    service.look_again = 0.0
    opened = api.call("GET", f"/api/context?event={planned['first_event']}", ADA)
    assert opened.status_code == 200
    for _ in range(100):  # the look-up runs in the background: bounded wait
        if registry.is_mapped(GRACE, series):
            break
        threading.Event().wait(0.05)
    assert registry.is_mapped(GRACE, series)
    occurrence = _second_occurrence(store, GRACE, _master_id(store, planned))
    calls.reset()
    assert api.call("GET", f"/api/context?event={occurrence.id}", GRACE).status_code == 200
    assert calls.overlapped == [True]


def test_the_start_the_host_shows_finds_a_moved_occurrence_ahead(
    watched: tuple[Api, Calls, LocalStore],
) -> None:
    """Outlook's hints (series master id, shown start) find the occurrence before the read."""
    api, calls, store = watched
    planned = _plan(api)
    master = _master_id(store, planned)
    occurrence = _second_occurrence(store, ADA, master)
    calls.reset()
    start = occurrence.start.astimezone(UTC).isoformat().replace("+00:00", "Z")
    hinted = api.call(
        "GET", f"/api/context?event={occurrence.id}&series={master}&start={start}", ADA
    )
    assert hinted.status_code == 200
    assert calls.overlapped == [True]
    assert hinted.get_json()["occurrence"]["number"] == 2


def test_hints_never_decide_what_is_shown(watched: tuple[Api, Calls, LocalStore]) -> None:
    """A hint naming another series, or one the caller has no part in, changes nothing."""
    api, calls, store = watched
    planned = _plan(api)
    master = _master_id(store, planned)
    single = api.kennismaking()
    plain = api.call("GET", f"/api/context?event={single}", ADA).get_json()
    # A hint naming Ada's series for an event that is not in it: the event decides.
    misled = api.call("GET", f"/api/context?event={single}&series={master}", ADA).get_json()
    assert misled["state"] == plain["state"] == "not_series"
    assert misled.get("series") is None
    # Eve names the series' master: she is no partner, so she sees only her own calendar.
    occurrence = _second_occurrence(store, ADA, master)
    eve = api.call("GET", f"/api/context?event={occurrence.id}&series={master}", EVE)
    assert eve.status_code == 404
    assert not [c for c in calls.log if c[0] == "drive" and c[1] == "get" and EVE in c[2]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=yesterday", "start"),
        ("start=2027-03-02T09:30:00", "start"),
        ("series=" + "x" * 1025, "series"),
    ],
)
def test_malformed_hints_are_a_clear_400(
    watched: tuple[Api, Calls, LocalStore], query: str, field: str
) -> None:
    """A start without an offset or not a date, an oversized series id: 400 naming it."""
    api, _calls, _store = watched
    event = api.kennismaking()
    response = api.call("GET", f"/api/context?event={event}&{query}", ADA, lang="en")
    assert response.status_code == 400
    assert field in response.get_json()["message"].lower()


# -- on the providers: round trips counted at the emulator ----------------------------------------


class Waves:
    """WSGI middleware holding each request a moment and counting waves: a request that starts
    while none of the call's other requests is in flight begins a new round trip."""

    def __init__(self, app: Callable[..., Iterable[bytes]], hold: float = 0.25) -> None:
        self.app = app
        self.hold = hold
        self._lock = threading.Lock()
        self._in_flight = 0
        self.waves = 0
        self.paths: list[str] = []

    def reset(self) -> None:
        with self._lock:
            self.waves, self.paths = 0, []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            if self._in_flight == 0:
                self.waves += 1
            self._in_flight += 1
            self.paths.append(environ.get("PATH_INFO", ""))
        try:
            threading.Event().wait(self.hold)
            return list(self.app(environ, start_response))
        finally:
            with self._lock:
                self._in_flight -= 1


@pytest.fixture(params=["graph", "google"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Waves, Any]]:
    """The app on a provider emulator served behind `Waves`."""
    import json

    emulator: Any = GraphEmulator() if request.param == "graph" else GoogleEmulator()
    for email, name in ((ADA, "Ada"), (GRACE, "Grace"), ("hr@example.org", "HR")):
        emulator.add_user(email, name)
    emulator.set_manager(ADA, GRACE)
    if request.param == "google":
        emulator.add_admin("hr@example.org")
    waves = Waves(behind_network(emulator))
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({e: emulator.token(e) for e in (ADA, GRACE, "hr@example.org")}))
    with Server(waves) as server:
        base = {"TESTING": True, "DATA_DIR": str(tmp_path), "BACKEND": request.param}
        if request.param == "graph":
            extra = {"GRAPH_URL": f"{server.url}/v1.0", "GRAPH_TOKENS": str(tokens)}
        else:
            extra = {
                "GOOGLE_ROOT_URL": f"{server.url}/",
                "GOOGLE_TOKENS": str(tokens),
                "GOOGLE_DIRECTORY_ADMIN": "hr@example.org",
            }
        app = create_app({**base, **extra}, clock=lambda: NOW)
        yield app, waves, request.param


def _bearer(app: Any, who: str) -> dict[str, str]:
    token = app.extensions["goedgesprek.identity"].issue(who, who.split("@", maxsplit=1)[0].title())
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("who", [ADA, GRACE])
def test_a_first_open_is_one_round_trip_on_each_provider(
    served: tuple[Any, Waves, str], who: str
) -> None:
    """Each partner's own copy of a later occurrence, opened as the host opens it: one wave."""
    app, waves, name = served
    client = app.test_client()
    body = {
        "partner": GRACE,
        "role": "employee",
        "preferences": PREFS,
        "request_id": "first-open-p1",
    }
    planned = client.post("/api/series", json=body, headers=_bearer(app, ADA))
    assert planned.status_code == 201, planned.get_json()
    calendar = app.extensions["goedgesprek.ports"]["calendar"](who)
    copies = sorted(
        (e for e in calendar.events(NOW, NOW + timedelta(days=400)) if e.series_id),
        key=lambda e: e.start,
    )
    occurrence = copies[1]
    # As the hosts send it: Outlook adds item.seriesId and the start it shows; Google's
    # card sends the instance id, which carries both.
    query = f"event={occurrence.id}"
    if name == "graph":
        start = occurrence.start.astimezone(UTC).isoformat()
        query += f"&series={occurrence.series_id}&start={start.replace('+00:00', 'Z')}"
    waves.reset()
    response = client.get(f"/api/context?{query}", headers=_bearer(app, who))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["occurrence"]["number"] == 2
    assert waves.waves == 1, waves.paths
    assert datetime.fromisoformat(response.get_json()["occurrence"]["start"]) == occurrence.start
