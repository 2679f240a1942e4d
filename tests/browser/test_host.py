"""The demo's host preview in Chromium: the week view, the real pane framed as Ada and as Grace,
the demo clock, and the Google cards view with working buttons. Screenshots for the README."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify, request, url_for

from addin.demo import FIRST_MEETING
from addin.demo import host as demo
from addin.workspace import cards as c

pytestmark = pytest.mark.browser

WIDE = {"width": 1400, "height": 1000}
CARDS_NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # the same Tuesday as the shared demo


def _host(new_page: Callable[..., Any], locale: str = "nl-NL") -> Any:
    return new_page(locale=locale, **WIDE)


def _first_meeting_id(server: Any) -> str:
    now = server.now()
    events = server.store.calendar("ada@example.org").events(now, now + timedelta(days=7))
    return str(next(e.id for e in events if e.subject == FIRST_MEETING))


def _frame(page: Any) -> Any:
    """The pane's frame, once its script has read the appointment and drawn a state."""
    handle = page.wait_for_selector("iframe.pane-frame")
    frame = handle.content_frame()
    frame.wait_for_selector("body[data-ready='1']")
    return frame


def test_week_view_and_navigation(
    demo_server: Any, new_page: Callable[..., Any], shot: Any, axe: Any
) -> None:
    """Both calendars this week; next and previous weeks; back to this week."""
    page = _host(new_page)
    page.goto(f"{demo_server.url}/?lang=nl")
    heading = page.locator("#cal-h")
    assert "23 november 2026" in heading.inner_text()
    assert page.locator("table.week tbody tr").count() == 2
    assert page.locator("a.event", has_text=FIRST_MEETING).count() == 2
    axe(page)
    shot(page, "host-week-nl")
    page.get_by_role("link", name="Volgende week →").click()
    page.wait_for_url(re.compile(r"week=1"))
    assert "30 november 2026" in heading.inner_text()
    page.get_by_role("link", name="← Vorige week").click()
    page.get_by_role("link", name="← Vorige week").click()
    page.wait_for_url(re.compile(r"week=-1"))
    assert "16 november 2026" in heading.inner_text()
    page.get_by_role("link", name="Deze week").click()
    page.wait_for_url(re.compile(r"week=0"))
    assert "23 november 2026" in heading.inner_text()


def test_open_the_first_meeting_as_ada_then_as_grace(
    demo_server: Any, new_page: Callable[..., Any], shot: Any, axe: Any
) -> None:
    """The start link opens the real pane in a frame as Ada; "view as Grace" reopens it as her."""
    page = _host(new_page, "en-GB")
    page.goto(f"{demo_server.url}/?lang=en")
    page.get_by_role("link", name=re.compile("Start here")).click()
    frame = _frame(page)
    src = page.locator("iframe.pane-frame").get_attribute("src") or ""
    assert "as=ada" in src and "lang=en" in src and "mode=read" in src
    box = page.locator("iframe.pane-frame").bounding_box()
    assert box is not None and 330 <= box["width"] <= 370
    assert frame.locator("#view h1").count() == 1
    selected = page.locator("a.event[aria-current='true']")
    assert selected.count() == 2 and FIRST_MEETING in selected.first.inner_text()
    axe(page)
    shot(page, "host-pane-ada-en")

    page.get_by_role("link", name=re.compile("^Grace")).click()
    page.wait_for_url(re.compile(r"as=grace"))
    frame = _frame(page)
    src = page.locator("iframe.pane-frame").get_attribute("src") or ""
    assert "as=grace" in src
    assert frame.locator("#view h1").count() == 1
    page.get_by_role("link", name="Compose").click()
    page.wait_for_url(re.compile(r"mode=compose"))
    _frame(page)
    assert "mode=compose" in (page.locator("iframe.pane-frame").get_attribute("src") or "")
    axe(page)
    shot(page, "host-pane-grace-compose-en")


def test_grace_cannot_open_adas_own_meetings(
    demo_server: Any, new_page: Callable[..., Any]
) -> None:
    """As Grace, Ada's sprint review is shown as busy, not as a link."""
    page = _host(new_page)
    page.goto(f"{demo_server.url}/?as=grace&lang=nl&week=0")
    busy = page.locator("div.event.busy", has_text="Sprint review")
    assert busy.count() >= 1
    assert page.locator("a.event", has_text="Sprint review").count() == 0


def test_clock_buttons(demo_server: Any, new_page: Callable[..., Any], shot: Any, axe: Any) -> None:
    """To the end of the open conversation, a week on, a quarter on, and back to today."""
    page = _host(new_page)
    meeting = _first_meeting_id(demo_server)
    page.goto(f"{demo_server.url}/?lang=nl&as=ada&event={meeting}")
    _frame(page)
    now = page.locator("#demo-now")
    assert now.inner_text() == "dinsdag 24 november 2026, 09:00"
    page.get_by_role("button", name="Naar het einde van dit gesprek").click()
    page.wait_for_url(re.compile(r"event="))
    assert now.inner_text() == "dinsdag 24 november 2026, 13:55"
    assert "verzet" in page.locator(".clock .moved").inner_text()
    _frame(page)
    axe(page)
    shot(page, "host-clock-after-the-meeting-nl")
    page.get_by_role("button", name="+1 week").click()
    page.wait_for_load_state()
    assert now.inner_text() == "dinsdag 1 december 2026, 13:55"
    page.get_by_role("button", name="+3 maanden").click()
    page.wait_for_load_state()
    assert now.inner_text() == "maandag 1 maart 2027, 13:55"
    page.get_by_role("button", name="Terug naar vandaag").click()
    page.wait_for_load_state()
    assert now.inner_text() == "dinsdag 24 november 2026, 09:00"
    assert page.locator(".clock .moved").count() == 0


# -- the Google cards view -----------------------------------------------------------------------


class _Addon:
    """Card endpoints in the add-on's shape: verified, answering with cards the renderer draws."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.bodies: list[dict[str, Any]] = []
        bp = Blueprint("host_fake_addon", __name__, url_prefix="/workspace/fake")
        bp.add_url_rule("/homepage", "homepage", self.home, methods=["POST"])
        bp.add_url_rule("/event-open", "open", self.home, methods=["POST"])
        bp.add_url_rule("/event-update", "update", self.home, methods=["POST"])
        bp.add_url_rule("/action/<name>", "act", self.act, methods=["POST"])
        app.register_blueprint(bp)

    def _refuse(self) -> Any:
        from addin.workspace.verify import Unauthorized

        try:
            self.app.extensions["goedgesprek.verifier"].verify(
                request.headers.get("Authorization"), request.url
            )
        except Unauthorized as exc:
            return jsonify(error="unauthorized", message=exc.reason), 401
        return None

    def home(self) -> Any:
        refused = self._refuse()
        if refused:
            return refused
        self.bodies.append(request.get_json())
        save = c.action(url_for("host_fake_addon.act", name="save", _external=True), {"n": "1"})
        card = c.card(
            "Agenda",
            [
                c.section(
                    "Punten",
                    [
                        c.decorated_text("Werkdruk", top_label="Ada", icon="PERSON"),
                        c.text_input("title", "Nieuw agendapunt", hint="Kort en concreet"),
                        c.selection_input(
                            "theme",
                            "Thema",
                            [("personal", "Persoonlijk"), ("role", "Huidige rol")],
                            selected=["role"],
                        ),
                        c.selection_input(
                            "who",
                            "Wie",
                            [("employee", "Ada"), ("manager", "Grace")],
                            kind="RADIO_BUTTON",
                            selected=["employee"],
                        ),
                        c.selection_input(
                            "rhythm",
                            "Ritme",
                            [("3", "Elk kwartaal"), ("2", "Elke twee maanden")],
                            selected=["3"],
                            on_change=c.action(
                                url_for("host_fake_addon.act", name="rhythm", _external=True)
                            ),
                        ),
                        c.button_list([c.button("Toevoegen", save)]),
                    ],
                )
            ],
            name="root",
        )
        return jsonify(c.push_card(card))

    def act(self, name: str) -> Any:
        refused = self._refuse()
        if refused:
            return refused
        body = request.get_json()
        self.bodies.append(body)
        inputs = body["commonEventObject"].get("formInputs", {})
        if name == "rhythm":
            rhythm = inputs["rhythm"]["stringInputs"]["value"][0]
            return jsonify(c.render_actions(notification=f"Ritme: {rhythm}"))
        title = inputs.get("title", {}).get("stringInputs", {}).get("value", ["?"])[0]
        done = c.card("Toegevoegd", [c.section(None, [c.text(title)])], name="done")
        return jsonify(c.render_actions(push=done, notification=f"Toegevoegd: {title}"))


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, _Addon]]:
    """A demo app of its own (its own data), with fake card endpoints beside the real ones."""
    from werkzeug.serving import make_server

    from addin.demo import create_demo_app, seed
    from addin.demo.clock import DemoClock

    data_dir = tmp_path_factory.mktemp("cards-demo")
    app = create_demo_app(
        {"DATA_DIR": str(data_dir)}, clock=DemoClock(data_dir, base=lambda: CARDS_NOW)
    )
    seed(app.extensions["goedgesprek.store"], CARDS_NOW)
    addon = _Addon(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", addon
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def fake_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the cards view's triggers at the fake add-on."""
    monkeypatch.setattr(
        demo,
        "ENDPOINTS",
        {
            "homepage": "/workspace/fake/homepage",
            "open": "/workspace/fake/event-open",
            "update": "/workspace/fake/event-update",
        },
    )


@pytest.mark.usefixtures("fake_endpoints")
def test_cards_view_with_a_working_button(
    own_server: tuple[str, _Addon], new_page: Callable[..., Any], axe: Any
) -> None:
    """The card is drawn with labelled inputs; the button posts them as Google would."""
    url, addon = own_server
    page = _host(new_page)
    page.goto(f"{url}/demo/cards?as=ada&lang=nl")
    assert page.locator("h2.c-title").inner_text() == "Agenda"
    assert page.get_by_label("Nieuw agendapunt").count() == 1
    assert page.get_by_label("Thema").count() == 1
    assert page.get_by_label("Grace").count() == 1
    axe(page)
    typed = "<b>Loopbaan</b> & groei"
    page.get_by_label("Nieuw agendapunt").fill(typed)
    page.get_by_label("Grace").check()
    page.get_by_role("button", name="Toevoegen").click()
    page.wait_for_selector("h2.c-title:has-text('Toegevoegd')")
    common = addon.bodies[-1]["commonEventObject"]
    assert common["formInputs"]["title"] == {"stringInputs": {"value": [typed]}}
    assert common["formInputs"]["theme"] == {"stringInputs": {"value": ["role"]}}
    assert common["formInputs"]["who"] == {"stringInputs": {"value": ["manager"]}}
    assert common["parameters"] == {"n": "1"}
    assert page.locator("p.toast").inner_text() == f"Toegevoegd: {typed}"
    assert page.locator(".addon-body p.w-text").inner_text() == typed  # shown as typed
    axe(page)
    page.get_by_role("button", name="Terug", exact=True).click()
    page.wait_for_selector("h2.c-title:has-text('Agenda')")


@pytest.mark.usefixtures("fake_endpoints")
def test_a_change_action_runs_when_the_field_changes(
    own_server: tuple[str, _Addon], new_page: Callable[..., Any]
) -> None:
    """As in Google's panel, choosing another option runs the field's action at once."""
    url, addon = own_server
    page = _host(new_page)
    page.goto(f"{url}/demo/cards?as=ada&lang=nl&reset=1")
    apply = page.locator("button[data-on-change]")
    assert apply.count() == 1 and not apply.is_visible()  # the script acts for it
    page.get_by_label("Nieuw agendapunt").fill("Nog niet klaar")
    page.get_by_label("Ritme").select_option("2")
    page.wait_for_selector("p.toast")
    assert page.locator("p.toast").inner_text() == "Ritme: 2"
    # The card stayed on top: what the user typed and chose stays too.
    assert page.get_by_label("Ritme").input_value() == "2"
    assert page.get_by_label("Nieuw agendapunt").input_value() == "Nog niet klaar"
    assert addon.bodies[-1]["commonEventObject"]["formInputs"]["rhythm"] == {
        "stringInputs": {"value": ["2"]}
    }


@pytest.mark.usefixtures("fake_endpoints")
def test_cards_view_for_an_event_in_english(
    own_server: tuple[str, _Addon], new_page: Callable[..., Any], axe: Any
) -> None:
    """An event opened as Grace: the trigger gets the event, the page speaks English."""
    url, addon = own_server
    page = _host(new_page, "en-GB")
    page.goto(f"{url}/?as=grace&lang=en")
    page.get_by_role("link", name=re.compile("Start here")).click()
    page.get_by_role("link", name=re.compile("Google Calendar")).click()
    page.wait_for_selector("h2.c-title")
    calendar = addon.bodies[-1]["calendar"]
    assert calendar["calendarId"] == "grace@example.org"
    assert page.locator("#event-h").inner_text() == FIRST_MEETING
    assert page.get_by_role("button", name="Simulate: the event was changed").count() == 1
    axe(page)


def test_cards_view_with_the_real_add_on(
    demo_server: Any, new_page: Callable[..., Any], shot: Any, axe: Any
) -> None:
    """The add-on's own endpoints, drawn by the preview: the home page, then an event's card."""
    adapter = demo_server.app.url_map.bind("localhost")
    if not adapter.test(demo.ENDPOINTS["homepage"], method="POST"):
        pytest.skip("the add-on's card endpoints are not in this app yet")
    page = _host(new_page)
    page.goto(f"{demo_server.url}/demo/cards?as=ada&lang=nl")
    page.wait_for_selector(".addon-body form.c-card")
    assert page.locator(".addon [role='alert']").count() == 0
    axe(page)
    shot(page, "cards-real-homepage-nl")
    meeting = _first_meeting_id(demo_server)
    page.goto(f"{demo_server.url}/demo/cards?as=ada&event={meeting}&lang=nl")
    page.wait_for_selector(".addon-body form.c-card")
    assert page.locator(".addon [role='alert']").count() == 0
    axe(page)
    shot(page, "cards-real-event-open-nl")
    page.locator(".addon-body form.c-card button[name='_action']").last.click()
    page.wait_for_load_state()
    page.wait_for_selector(".addon-body form.c-card")
    assert page.locator(".addon [role='alert']").count() == 0
    assert page.locator("button.back").count() == 1  # a card was pushed: Google's back arrow
    axe(page)
    shot(page, "cards-real-after-a-button-nl")


def _wait_for_state(frame: Any, state: str, seconds: float = 10) -> None:
    """Poll the pane's state (the page's CSP forbids Playwright's eval-based waiting)."""
    deadline = time.monotonic() + seconds
    while frame.evaluate("window.goedGesprekPane.state") != state:
        assert time.monotonic() < deadline, f"the pane never reached {state!r}"
        time.sleep(0.1)


def _pane_ready(frame: Any) -> None:
    frame.wait_for_selector("body[data-ready='1']")
    frame.wait_for_selector("main[aria-busy='false']")


def test_the_demo_flow_through_the_host(
    own_server: tuple[str, _Addon], new_page: Callable[..., Any], shot: Any, axe: Any
) -> None:
    """Plan the series in the framed pane, find its first conversation in the calendar, move
    the clock past it: the pane asks for the record."""
    url, _addon = own_server
    page = _host(new_page)
    page.goto(f"{url}/?lang=nl&as=ada")
    page.get_by_role("link", name=re.compile("Begin hier")).click()
    frame = _frame(page)
    _pane_ready(frame)
    assert frame.evaluate("window.goedGesprekPane.state") == "not_series"
    frame.locator('[data-key="plan:preview-button"]').click()
    frame.locator('[data-key="plan:confirm"]').wait_for()
    _pane_ready(frame)
    frame.locator('[data-key="plan:confirm"]').click()
    _wait_for_state(frame, "upcoming")
    first = frame.evaluate("window.goedGesprekPane.eventId")

    # The series is in the calendar now: the list below, and its first conversation in a week.
    page.get_by_role("link", name="Deze week").click()
    page.wait_for_load_state()
    assert page.locator("ul.series > li").count() == 1
    assert page.locator("ul.series > li li").count() == 4
    for _ in range(8):
        if page.locator("a.event.ours").count():
            break
        page.get_by_role("link", name="Volgende week →").click()
        page.wait_for_load_state()
    page.locator("a.event.ours").first.click()
    frame = _frame(page)
    _pane_ready(frame)
    assert frame.evaluate("window.goedGesprekPane.eventId") == first
    assert frame.evaluate("window.goedGesprekPane.state") == "upcoming"
    shot(page, "host-series-planned-nl")

    page.get_by_role("button", name="Naar het einde van dit gesprek").click()
    page.wait_for_load_state()
    frame = _frame(page)
    _pane_ready(frame)
    assert frame.evaluate("window.goedGesprekPane.state") == "ended"
    axe(page)
    shot(page, "host-after-the-conversation-record-nl")
    page.get_by_role("button", name="Terug naar vandaag").click()
    page.wait_for_load_state()
    frame = _frame(page)
    _pane_ready(frame)
    assert frame.evaluate("window.goedGesprekPane.state") == "upcoming"
