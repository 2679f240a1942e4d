"""The host preview: the seeded pair, the week view, the pane frame, the clock, the server."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html

from addin.app import create_app
from addin.conversations import SERIES_PROPERTY
from addin.demo import ADA, FIRST_MEETING, GRACE, PAIR, create_demo_app, first_meeting_start, seed
from addin.demo.clock import DemoClock
from addin.demo.host import AFTER_THE_END
from connectors.memory import MemoryStore
from connectors.models import Attendee, Event, NewEvent

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Amsterdam
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def store() -> MemoryStore:
    """A memory store seeded like the demo."""
    s = MemoryStore(clock=lambda: NOW)
    seed(s, NOW)
    return s


@pytest.fixture
def clock(tmp_path: Path) -> DemoClock:
    """The demo clock on a fixed base time."""
    return DemoClock(tmp_path, base=lambda: NOW)


@pytest.fixture
def app(tmp_path: Path, store: MemoryStore, clock: DemoClock) -> Flask:
    """The app on the seeded memory store with the movable demo clock."""
    return create_demo_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


def _first_meeting(store: MemoryStore) -> Event:
    events = store.calendar(ADA.email).events(NOW - timedelta(days=7), NOW + timedelta(days=14))
    found = [e for e in events if e.subject == FIRST_MEETING]
    assert len(found) == 1
    return found[0]


def _page(client: FlaskClient, url: str) -> tuple[str, lxml_html.HtmlElement]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    return text, lxml_html.fromstring(text)


def _csrf(client: FlaskClient) -> str:
    _, doc = _page(client, "/?lang=en")
    return str(doc.xpath("//form[contains(@class,'clock-buttons')]//input[@name='csrf']/@value")[0])


# -- seed --------------------------------------------------------------------------------------


def test_seed_is_idempotent(store: MemoryStore) -> None:
    """Seeding twice leaves the calendars as seeding once did."""
    window = (NOW - timedelta(days=7), NOW + timedelta(days=28))
    before = {e.id for e in store.calendar(GRACE.email).events(*window)}
    assert seed(store, NOW) == seed(store, NOW)
    assert {e.id for e in store.calendar(GRACE.email).events(*window)} == before
    assert before


def test_seed_has_the_first_meeting_once_even_a_month_later(store: MemoryStore) -> None:
    """Ada organises the first meeting with Grace in the first week; reseeding later adds none."""
    meeting = _first_meeting(store)
    assert meeting.organizer == ADA.email
    assert [a.email for a in meeting.attendees] == [GRACE.email]
    assert meeting.start - NOW < timedelta(days=7)
    assert meeting.recurrence is None and not meeting.series_id
    seed(store, NOW + timedelta(days=30))
    assert _first_meeting(store).id == meeting.id


def test_first_meeting_fits_both_calendars(store: MemoryStore) -> None:
    """Nothing else in either calendar overlaps the first meeting."""
    meeting = _first_meeting(store)
    busy = store.calendar(ADA.email).free_busy([ADA.email, GRACE.email], meeting.start, meeting.end)
    for person in (ADA, GRACE):
        spans = busy.get(person.email, [])
        assert [(b.start, b.end) for b in spans] == [(meeting.start, meeting.end)]


@pytest.mark.parametrize(
    ("local_now", "expected"),
    [
        (datetime(2026, 11, 24, 9, 0), date(2026, 11, 24)),  # Tuesday morning: today
        (datetime(2026, 11, 24, 12, 30), date(2026, 11, 25)),  # Tuesday afternoon: tomorrow
        (datetime(2026, 11, 27, 15, 0), date(2026, 11, 30)),  # Friday afternoon: Monday
        (datetime(2026, 11, 28, 10, 0), date(2026, 11, 30)),  # Saturday: Monday
    ],
)
def test_first_meeting_start(local_now: datetime, expected: date) -> None:
    """13:00 on the first working day that still has it ahead."""
    start = first_meeting_start(local_now.replace(tzinfo=AMS))
    assert start.astimezone(AMS).date() == expected
    assert (start.astimezone(AMS).hour, start.astimezone(AMS).minute) == (13, 0)


# -- the host page -----------------------------------------------------------------------------


def test_home_shows_both_calendars_for_this_week(client: FlaskClient) -> None:
    """Both partners, their events this week, the demo's now and a start link."""
    text, doc = _page(client, "/?lang=nl")
    rows = doc.xpath("//table[contains(@class,'week')]/tbody/tr/th")
    assert [(r.text or "").strip() for r in rows] == ["Ada", "Grace"]
    headers = [h.text_content() for h in doc.xpath("//table[contains(@class,'week')]/thead//th")]
    assert len(headers) == 7 and headers[0].startswith("ma") and "23" in headers[0]
    assert "MT-overleg" in text and "Teamoverleg" in text
    assert "dinsdag 24 november 2026, 09:00" in text
    start = doc.xpath("//p[@class='start']/a")[0]
    assert FIRST_MEETING in start.text_content()
    assert "event=" in start.get("href")
    assert not doc.xpath("//iframe")


def test_events_open_only_for_the_person_who_has_them(client: FlaskClient) -> None:
    """As Ada, Grace's own meetings are shown but not openable; as Grace, the other way round."""
    _, doc = _page(client, "/?lang=en&as=ada")
    openable = {" ".join(a.xpath(".//span[@class='subject']/text()")) for a in doc.xpath("//a")}
    busy = {" ".join(d.xpath(".//span[@class='subject']/text()")) for d in doc.xpath("//div")}
    assert {FIRST_MEETING, "Teamoverleg", "Sprint review"} <= openable
    assert "MT-overleg" in busy and "MT-overleg" not in openable
    _, doc = _page(client, "/?lang=en&as=grace")
    openable = {" ".join(a.xpath(".//span[@class='subject']/text()")) for a in doc.xpath("//a")}
    assert {FIRST_MEETING, "Teamoverleg", "MT-overleg"} <= openable
    assert "Sprint review" not in openable


def test_opening_an_event_frames_the_real_pane(client: FlaskClient, store: MemoryStore) -> None:
    """The chosen event opens the task pane in a titled frame, with who, mode and language."""
    meeting = _first_meeting(store)
    for who in ("ada", "grace"):
        _, doc = _page(client, f"/?event={meeting.id}&as={who}&mode=compose&lang=en")
        frame = doc.xpath("//iframe")[0]
        src = frame.get("src")
        assert src.startswith("/demo/pane?")
        for part in (f"event={meeting.id}", f"as={who}", "mode=compose", "lang=en"):
            assert part in src
        assert FIRST_MEETING in frame.get("title")
        selected = doc.xpath("//a[@aria-current='true' and contains(@class,'event')]")
        assert len(selected) == 2  # the meeting is in both rows
        assert client.get(src).status_code == 200


def test_an_event_the_viewer_does_not_have_opens_nothing(
    client: FlaskClient, store: MemoryStore
) -> None:
    """Grace's management meeting, asked for as Ada, leaves the pane closed."""
    events = store.calendar(GRACE.email).events(NOW, NOW + timedelta(days=7))
    mt = next(e for e in events if e.subject == "MT-overleg")
    _, doc = _page(client, f"/?event={mt.id}&as=ada")
    assert not doc.xpath("//iframe")


def test_week_navigation(client: FlaskClient) -> None:
    """Next and previous weeks move the grid by seven days; this week comes back."""
    _, doc = _page(client, "/?lang=en&week=1")
    first_day = doc.xpath("//table[contains(@class,'week')]/thead//th")[0].text_content()
    assert "30" in first_day and "Nov" in first_day
    nav = {a.text_content().strip(): a.get("href") for a in doc.xpath("//nav[@class='weeknav']/a")}
    assert "week=0" in nav["← Previous week"] and "week=2" in nav["Next week →"]
    _, doc = _page(client, "/?lang=en&week=-1")
    assert "16" in doc.xpath("//table[contains(@class,'week')]/thead//th")[0].text_content()
    _, doc = _page(client, "/?lang=en&week=nonsense")
    assert "23" in doc.xpath("//table[contains(@class,'week')]/thead//th")[0].text_content()


def test_language_from_the_browser_or_the_link(client: FlaskClient) -> None:
    """No lang: the browser's language; ?lang= wins; every control has its English words."""
    text, doc = _page(client, "/")
    assert doc.get("lang") == "nl" and "Demoklok" in text
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    text = response.get_data(as_text=True)
    assert '<html lang="en">' in text
    for words in ("Demo clock", "View as", "+3 months", "Back to today", "Next week", "Side panel"):
        assert words in text


def test_user_text_is_escaped(client: FlaskClient, store: MemoryStore) -> None:
    """A subject with markup shows as text in the grid, the pane heading and the frame title."""
    start = datetime(2026, 11, 26, 15, 0, tzinfo=AMS)
    event = store.calendar(ADA.email).create_event(
        NewEvent(
            subject='<script>alert(1)</script>"x',
            start=start,
            end=start + timedelta(minutes=30),
            tz=ADA.tz,
            organizer=ADA.email,
            attendees=(Attendee(GRACE.email, GRACE.name),),
        ),
        idempotency_key="test:markup",
    )
    text, doc = _page(client, f"/?event={event.id}&as=grace")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not doc.xpath("//script[not(@src)]")
    assert "<script>" in doc.xpath("//iframe/@title")[0]


def test_pages_have_a_strict_csp(client: FlaskClient, store: MemoryStore) -> None:
    """The host page allows no inline script or style, and loads only its own files."""
    response = client.get(f"/?event={_first_meeting(store).id}")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    doc = lxml_html.fromstring(response.get_data(as_text=True))
    assert not doc.xpath("//*[@style]") and not doc.xpath("//style")
    assert all(s.get("src", "").startswith("/demo/static/") for s in doc.xpath("//script"))


def test_series_are_listed_with_their_next_dates(client: FlaskClient, store: MemoryStore) -> None:
    """A series in Ada's calendar is listed with its rule and the next four dates."""
    from cadence.recurrence import NthWeekday, Rule, Weekday

    rule = Rule.build(datetime(2026, 12, 1, 9, 30), PAIR.tz, NthWeekday(Weekday.TU, 1))
    start = datetime(2026, 12, 1, 9, 30, tzinfo=AMS)
    store.calendar(ADA.email).create_event(
        NewEvent(
            subject="Goed gesprek: Ada & Grace",
            start=start,
            end=start + timedelta(hours=1),
            tz=PAIR.tz,
            organizer=ADA.email,
            attendees=(Attendee(GRACE.email, GRACE.name),),
            recurrence=rule,
            properties={SERIES_PROPERTY: "abc"},
        ),
        idempotency_key="test:series",
    )
    _, doc = _page(client, "/?lang=en")
    items = doc.xpath("//ul[@class='series']/li")
    assert len(items) == 1
    assert "Goed gesprek: Ada & Grace" in items[0].text_content()
    assert len(items[0].xpath(".//li")) == 4
    # Planned: no "start here" for either partner any more.
    for who in ("ada", "grace"):
        _, page = _page(client, f"/?lang=en&as={who}")
        assert not page.xpath("//p[@class='start']")


# -- the demo clock ----------------------------------------------------------------------------


def _move(client: FlaskClient, action: str, **extra: str) -> tuple[int, str]:
    data = {"csrf": _csrf(client), "action": action, "as": "ada", "lang": "en", **extra}
    response = client.post("/demo/clock", data=data)
    return response.status_code, response.headers.get("Location", "")


def test_clock_to_the_end_of_the_conversation(
    client: FlaskClient, store: MemoryStore, clock: DemoClock
) -> None:
    """The button sets the clock to 10 minutes after the open event, and reopens it this week."""
    meeting = _first_meeting(store)
    status, location = _move(client, "end", event=meeting.id, mode="compose")
    assert status == 303
    assert clock() == meeting.end + AFTER_THE_END
    for part in (f"event={meeting.id}", "week=0", "as=ada", "mode=compose", "lang=en"):
        assert part in location
    _, doc = _page(client, location)
    assert doc.xpath("//iframe") and "(the clock has been moved)" in doc.text_content()


def test_clock_a_week_a_quarter_and_back(client: FlaskClient, clock: DemoClock) -> None:
    """+1 week, +3 months (by the calendar, in Amsterdam), then back to real time."""
    assert _move(client, "week")[0] == 303
    assert clock() == NOW + timedelta(weeks=1)
    assert _move(client, "quarter")[0] == 303
    assert clock().astimezone(AMS) == datetime(2027, 3, 1, 9, 0, tzinfo=AMS)
    _, doc = _page(client, "/?lang=en")
    assert "Monday 1 March 2027, 09:00" in doc.text_content()
    assert _move(client, "today")[0] == 303
    assert clock() == NOW


def test_clock_takes_json_with_the_token_in_a_header(client: FlaskClient, clock: DemoClock) -> None:
    """JSON callers send the page's token in X-CSRF-Token and get the new now back."""
    token = _csrf(client)
    response = client.post("/demo/clock", json={"action": "week"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert datetime.fromisoformat(response.get_json()["now"]) == NOW + timedelta(weeks=1)
    response = client.post("/demo/clock", json={"action": "week"})
    assert response.status_code == 400 and clock() == NOW + timedelta(weeks=1)


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"csrf": "forged", "action": "week"}, 400, "expired"),
        ({"action": "sideways"}, 400, "end, week, quarter or today"),
        ({"action": "end"}, 400, "Open a conversation first"),
        ({"action": "end", "event": "no-such-event"}, 400, "Open a conversation first"),
    ],
)
def test_clock_refuses_bad_requests(
    client: FlaskClient, clock: DemoClock, fields: dict[str, str], status: int, words: str
) -> None:
    """A forged token, an unknown move or no event: a JSON error and the clock stays."""
    data = {"csrf": _csrf(client), "lang": "en", **fields}
    response = client.post("/demo/clock", data=data)
    assert response.status_code == status
    assert words in response.get_json()["message"]
    assert clock() == NOW


@pytest.mark.parametrize("path", ["/demo/clock", "/demo/item"])
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[" * 50_000 + "]" * 50_000, "levels deep"),
        ('{"as": "ada", "new": {"subject": "\\ud800"}}', "lone UTF-16 surrogate"),
        ("{", "not valid JSON"),
    ],
)
def test_the_demos_json_routes_refuse_unusable_json_with_a_sentence(
    client: FlaskClient, path: str, body: str, words: str
) -> None:
    """JSON nested too deep, a lone surrogate or no JSON at all: a 400 saying so, not a 500."""
    response = client.post(
        f"{path}?lang=en",
        data=body,
        content_type="application/json",
        headers={"X-CSRF-Token": _csrf(client)},
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert words in response.get_json()["message"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nl", "De afspraak is intussen gewijzigd"), ("en", "The event changed meanwhile")],
)
def test_the_stub_office_hosts_refusals_speak_the_browsers_language(
    client: FlaskClient, store: MemoryStore, lang: str, words: str
) -> None:
    """The stub passes its sentence on as Office's own error, which the pane shows: in the
    user's language, as Outlook's are."""
    meeting = _first_meeting(store).id
    body = {"as": "ada", "event": meeting, "body_html": "<p>1</p>"}
    response = client.post(
        "/demo/item", json=body, headers={"If-Match": "stale", "Accept-Language": lang}
    )
    assert response.status_code == 409
    assert words in response.get_json()["message"]
    response = client.get("/demo/item?as=ada", headers={"Accept-Language": lang})
    assert response.status_code == 400
    assert "?event=" in response.get_json()["message"]
    if lang == "nl":
        assert "Say which event" not in response.get_json()["message"]


def test_clock_stops_three_years_out(client: FlaskClient, clock: DemoClock) -> None:
    """Past the clock's limit the move is refused with a sentence, in Dutch too."""
    clock.advance(timedelta(days=3 * 366 - 30))
    data = {"csrf": _csrf(client), "action": "quarter", "lang": "nl"}
    response = client.post("/demo/clock", data=data)
    assert response.status_code == 400
    assert "drie jaar" in response.get_json()["message"]


def test_without_a_movable_clock_the_buttons_are_gone(tmp_path: Path, store: MemoryStore) -> None:
    """A fixed clock (not the demo's) shows the time and refuses to move."""
    app = create_demo_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=lambda: NOW
    )
    client = app.test_client()
    _, doc = _page(client, "/?lang=en")
    assert not doc.xpath("//form[contains(@class,'clock-buttons')]")
    client.get("/")
    with client.session_transaction() as session:
        token = session["csrf"]
    response = client.post("/demo/clock", data={"csrf": token, "action": "week"})
    assert response.status_code == 503


def test_the_demo_is_not_served_outside_the_demo(tmp_path: Path, store: MemoryStore) -> None:
    """An app that is neither the demo nor under test has no host preview."""
    from connectors.keyring import Keyring, default_keyring_path

    Keyring.init(default_keyring_path(tmp_path))
    app = create_app({"DATA_DIR": str(tmp_path)}, store=store)
    client = app.test_client()
    assert client.get("/").status_code == 404
    assert client.get("/demo/cards").status_code == 404


# -- the real server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_demo(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`goedgesprek demo` as a user starts it, on a free port; returns once it answers."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "addin.cli",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"demo exited early: {out}")
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    proc.wait(timeout=10)
    pytest.fail("demo did not answer within 60 s")


def _stop(proc: subprocess.Popen[bytes]) -> int:
    """Terminate the demo as a service manager would; its exit code."""
    proc.terminate()
    try:
        return proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    """`goedgesprek demo` on a free port and a fresh data directory."""
    proc, url = _start_demo(tmp_path)
    try:
        yield url
    finally:
        _stop(proc)


def test_demo_command_serves_the_host_preview(demo_server: str, tmp_path: Path) -> None:
    """The demo command serves the page, the pane frame and the cards view over real HTTP."""
    with urllib.request.urlopen(demo_server + "?lang=en", timeout=30) as response:
        page = response.read().decode()
    assert response.status == 200
    assert "Demo clock" in page and "Grace" in page and FIRST_MEETING.replace("&", "&amp;") in page
    event = re.search(r'href="/\?[^"]*event=([0-9a-f_TZ]+)', page)
    assert event is not None
    with urllib.request.urlopen(f"{demo_server}?event={event[1]}&as=ada", timeout=30) as response:
        assert "/demo/pane?" in response.read().decode()
    with urllib.request.urlopen(f"{demo_server}demo/cards?lang=en", timeout=30) as response:
        assert response.status == 200
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_demo_closes_what_it_opened_when_terminated(tmp_path: Path) -> None:
    """SIGTERM (what a service manager sends) ends the demo cleanly: exit 0, databases closed."""
    proc, _url = _start_demo(tmp_path)
    assert _stop(proc) == 0
    # SQLite removes a database's write-ahead log when its last connection closes cleanly.
    assert not list(tmp_path.glob("*.sqlite3-wal"))


def test_broken_organisation_template_stops_the_demo(tmp_path: Path) -> None:
    """A template that breaks its schema stops start-up with a message naming the file."""
    from click.testing import CliRunner

    from addin.cli import cli

    folder = tmp_path / "org-templates"
    folder.mkdir()
    (folder / "ours.yaml").write_text("kind: agenda\nkey: ours\n")
    result = CliRunner().invoke(
        cli,
        ["demo", "--data-dir", str(tmp_path / "data"), "--port", str(_free_port())],
        env={"GOEDGESPREK_TEMPLATE_DIRS": str(folder)},
    )
    assert result.exit_code == 1
    assert "ours.yaml" in result.output and "missing" in result.output
    assert "Traceback" not in result.output


def test_the_demo_now_is_shown_in_utc_free_local_time(client: FlaskClient) -> None:
    """The clock line shows Amsterdam time, not UTC."""
    _, doc = _page(client, "/?lang=en")
    now = doc.xpath("//strong[@id='demo-now']")[0].text_content()
    assert now == "Tuesday 24 November 2026, 09:00"
    assert NOW.astimezone(UTC).hour == 8
