"""The Outlook task pane in headless Chromium, on the demo's stub Office host, in Dutch and English.

Every flow of a conversation: plan the series -> agenda (the employee adds, the manager proposes,
share, both agree) -> the meeting ends (demo clock) -> record -> both accept -> the next agenda
shows what was carried over. Also: compose mode writes the agreed agenda into the event without
touching the user's own text; a save that races the other partner's shows both versions; HTML
typed into any field is shown as text. axe-core checks each state; each state and language gets a
screenshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

DemoServer = Any  # conftest.DemoServer (conftest modules are not imported by name)

pytestmark = pytest.mark.browser

LANGS = ("nl", "en")
ADA, GRACE = "ada@example.org", "grace@example.org"
XSS = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script> & co"
WORDS = {
    "nl": {
        "plan": "Plan het goede gesprek",
        "record": "Verslag van het gesprek op",
        "final": "Het verslag is definitief",
        "carried": "Meegenomen",
        "private": "Dit gesprek is vertrouwelijk",
        "conflict": "Intussen gewijzigd",
        "save_first": "Sla de afspraak eerst op",
    },
    "en": {
        "plan": "Plan the good conversation",
        "record": "Record of the conversation on",
        "final": "The record is final",
        "carried": "Carried over",
        "private": "This conversation is private",
        "conflict": "Changed meanwhile",
        "save_first": "Save the appointment first",
    },
}


class Pane:
    """One person's task pane in a page, driven by the stable `data-key`s of its controls."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def settle(self) -> None:
        """Wait until the pane is not busy (an API call in flight)."""
        self.page.wait_for_selector("main[aria-busy=false]")

    def key(self, key: str) -> Any:
        return self.page.locator(f'[data-key="{key}"]')

    def click(self, key: str) -> None:
        self.key(key).first.click()
        self.settle()

    def fill(self, key: str, text: str) -> None:
        self.key(key).fill(text)

    def state(self) -> str:
        return str(self.page.evaluate("window.goedGesprekPane.state"))

    def info(self, name: str) -> str:
        return str(self.page.evaluate(f"window.goedGesprekPane.{name}"))

    def h1(self) -> str:
        return str(self.page.locator("h1").first.inner_text())

    def alert(self) -> str:
        return str(self.page.locator("#alert").inner_text())

    def text(self) -> str:
        return str(self.page.locator("main").inner_text())

    def reload(self) -> None:
        self.page.reload()
        self.ready()

    def ready(self) -> None:
        self.page.wait_for_selector("body[data-ready]")
        self.settle()
        assert not self.alert(), self.alert()

    def add_item(self, theme: str, title: str, notes: str = "") -> None:
        self.key("new-item:theme").select_option(theme)
        self.fill("new-item:title", title)
        if notes:
            self.fill("new-item:notes", notes)
        self.click("new-item:submit")
        assert not self.alert(), self.alert()


def open_pane(
    new_page: Callable[..., Any],
    server: DemoServer,
    event: str,
    who: str,
    lang: str,
    *,
    mode: str = "read",
) -> Pane:
    """The demo pane for `event` as `who`, in a fresh page with a matching browser locale."""
    page = new_page(locale="nl-NL" if lang == "nl" else "en-GB")
    page.goto(server.pane_url(event, who=who, lang=lang, mode=mode))
    pane = Pane(page)
    pane.ready()
    return pane


class Api:
    """The JSON API as one person, through the app's test client (quick set-up for a test)."""

    def __init__(self, server: DemoServer, email: str, lang: str = "nl") -> None:
        identity = server.app.extensions["goedgesprek.identity"]
        self.client = server.app.test_client()
        self.headers = {"Authorization": f"Bearer {identity.issue(email)}"}
        self.lang = lang

    def context(self, event: str) -> Any:
        response = self.client.get(
            "/api/context", query_string={"event": event, "lang": self.lang}, headers=self.headers
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def plan(self, event: str) -> Any:
        body = {
            "event": event,
            "partner": GRACE,
            "role": "employee",
            "request_id": uuid4().hex,
            "preferences": {
                "weekdays": ["TU", "WE", "TH"],
                "earliest": "09:30",
                "latest": "12:00",
                "duration": 60,
                "place": "Koffiebar",
                "online": False,
                "every": 3,
            },
        }
        response = self.client.post(
            "/api/series", query_string={"lang": self.lang}, json=body, headers=self.headers
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["context"]

    def ops(self, context: Any, *ops: dict[str, Any]) -> Any:
        series, occ = context["series"]["id"], context["occurrence"]["key"]
        headers = dict(self.headers)
        if context["etag"]:
            headers["If-Match"] = context["etag"]
        response = self.client.post(
            f"/api/series/{series}/occurrences/{occ}",
            query_string={"lang": self.lang},
            json={"event": context["event"]["id"], "ops": list(ops)},
            headers=headers,
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def item_key(pane: Pane, text: str, tool: str) -> str:
    """The key prefix (item:<id>) of the agenda item or agreement showing `text`."""
    row = pane.page.locator("li", has=pane.page.get_by_text(text, exact=True))
    key = str(row.locator(f'[data-key$=":{tool}"]').first.get_attribute("data-key"))
    return key.rsplit(":", 1)[0]


def occurrence_end(server: DemoServer, event_id: str) -> datetime:
    """When the occurrence with this id ends (as Ada's calendar holds it)."""
    end: datetime = server.store.calendar(ADA).get_event(event_id).end
    return end


def next_occurrence(server: DemoServer, event_id: str) -> str:
    """The id of the occurrence after `event_id` in its series."""
    calendar = server.store.calendar(ADA)
    event = calendar.get_event(event_id)
    assert event.series_id, "not an occurrence of a series"
    later = calendar.instances(event.series_id, event.end, event.end + timedelta(days=200))
    return str(later[0].id)


def agreed_series(server: DemoServer, lang: str, body_html: str = "") -> tuple[str, Any]:
    """A planned series whose first agenda both partners agreed to; (occurrence id, context)."""
    meeting = server.new_meeting(body_html=body_html)
    ada, grace = Api(server, ADA, lang), Api(server, GRACE, lang)
    context = ada.plan(meeting)
    context = ada.ops(
        context,
        {"op": "agenda.add_item", "theme": "personal", "title": "Energie & werkplezier"},
        {"op": "agenda.add_item", "theme": "growth", "title": XSS, "notes": SCRIPT},
        {"op": "agenda.share"},
        {"op": "agenda.agree"},
    )
    context = grace.ops(context, {"op": "agenda.agree"})
    assert context["agenda"]["state"] == "agreed"
    return str(context["event"]["id"]), context


def assert_no_script_ran(pane: Pane) -> None:
    assert pane.page.evaluate("window.__xss") is None, "user text ran as script"


# -- the whole conversation ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_flow_plan_agenda_record_accept_carry_over(
    lang: str,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    shot: Callable[[Any, str], Any],
    axe: Callable[..., Any],
) -> None:
    """Plan, agenda by both, the meeting ends, record, both accept, the next agenda carries over."""
    server = demo_server
    ada = open_pane(new_page, server, server.new_meeting(subject=f"1:1 {lang}"), "ada", lang)

    # Plan the series: preview first, then confirm.
    assert ada.state() == "not_series"
    assert ada.h1() == WORDS[lang]["plan"]
    assert ada.key("plan:partner").input_value() == GRACE
    axe(ada.page)
    shot(ada.page, f"pane-{lang}-1-plan")
    ada.fill("plan:place", "Koffiebar <b>3e</b>")
    ada.click("plan:preview-button")
    ada.key("plan:confirm").wait_for()
    assert ada.page.locator('[data-key="plan:preview"] li').count() >= 2
    axe(ada.page)
    shot(ada.page, f"pane-{lang}-2-preview")
    ada.click("plan:confirm")
    assert ada.state() == "upcoming", ada.alert()
    first = ada.info("eventId")

    # The employee writes the agenda (with text that looks like HTML) and shares it.
    ada.add_item("personal", "Energie en werkdruk", "Sinds de reorganisatie <i>druk</i> 😅")
    ada.add_item("growth", XSS, SCRIPT)
    ada.add_item("growth", "Opleiding")
    assert ada.page.get_by_text(XSS, exact=True).is_visible()
    assert ada.page.get_by_text(SCRIPT, exact=True).is_visible()
    ada.add_item("role", "Weg ermee")
    edit = item_key(ada, "Opleiding", "edit")
    ada.click(f"{edit}:edit")
    ada.fill(f"{edit}:title", "Opleiding <u>2027</u>")
    ada.click(f"{edit}:save")
    assert ada.page.get_by_text("Opleiding <u>2027</u>", exact=True).is_visible()
    ada.click(f"{item_key(ada, 'Weg ermee', 'remove')}:remove")
    assert not ada.page.get_by_text("Weg ermee", exact=True).count()
    # A click, not check(): the saved choice renders the form anew, its radios keyed by it.
    ada.click("series:event_copy:full:titles")
    assert Api(server, ADA, lang).context(first)["series"]["event_copy"] == "titles"
    assert ada.key("series:event_copy:titles:titles").is_checked()
    ada.click("agenda:share")
    assert not ada.alert()
    axe(ada.page)
    shot(ada.page, f"pane-{lang}-3-agenda-employee")

    # The manager proposes an item and agrees.
    grace = open_pane(new_page, server, first, "grace", lang)
    assert grace.state() == "upcoming"
    assert grace.page.get_by_text(XSS, exact=True).is_visible()
    grace.add_item("role", "Feedback op het project")
    grace.click("agenda:agree")
    assert not grace.key("agenda:agree").count()
    axe(grace.page)
    shot(grace.page, f"pane-{lang}-4-agenda-manager")

    # The employee opens the occurrence, sees the proposal, moves an item and agrees.
    ada = open_pane(new_page, server, first, "ada", lang)
    assert ada.page.get_by_text("Feedback op het project", exact=True).is_visible()
    ada.key("agenda").locator('[data-key$=":down"]').first.click()
    ada.settle()
    assert not ada.alert(), ada.alert()
    ada.click("agenda:agree")
    assert not ada.key("agenda:agree").count()
    shot(ada.page, f"pane-{lang}-5-agenda-agreed")

    # The meeting ends.
    server.clock.set(occurrence_end(server, first) + timedelta(minutes=30))
    ada.reload()
    assert ada.state() == "ended"
    assert ada.h1().startswith(WORDS[lang]["record"])

    # The record: a summary per item (one not finished), an agreement, an action.
    summaries = ada.page.locator('textarea[data-key^="summary:"]')
    for n in range(summaries.count()):
        summaries.nth(n).fill(f"Besproken punt {n + 1}: <b>niet vet</b>")
    finished = ada.page.locator('input[type=checkbox][data-key^="summary:"]')
    for n in range(1, finished.count()):
        finished.nth(n).check()
    ada.click("summary:save")
    assert not ada.alert(), ada.alert()
    for text in ("We plannen een cursus <em>in Q1</em>", "Tweede afspraak"):
        ada.fill("new-agreement:text", text)
        ada.click("new-agreement:submit")
    ada.fill("new-action:description", "Cursus zoeken " + XSS)
    ada.key("new-action:owner").select_option("manager")
    ada.fill("new-action:due", "2026-12-20")
    ada.click("new-action:submit")
    assert not ada.alert(), ada.alert()
    assert ada.page.get_by_text("Cursus zoeken " + XSS, exact=True).is_visible()
    ada.click("agreements:propose-all")
    axe(ada.page)
    shot(ada.page, f"pane-{lang}-6-record")

    # Acceptance: the employee accepts both; the manager accepts one and declines the other.
    ada.click("accept:all")
    assert not ada.alert(), ada.alert()
    grace.reload()
    assert grace.state() == "ended"
    axe(grace.page)
    shot(grace.page, f"pane-{lang}-7-acceptance")
    keys = grace.key("acceptance").locator('[data-key^="accept:"]')
    accept = [str(keys.nth(n).get_attribute("data-key")) for n in range(keys.count())]
    accept.remove("accept:all")
    assert len(accept) == 2
    grace.click(accept[0])
    second = accept[1].split(":", 1)[1]
    grace.click(f"decline:{second}:open")
    grace.fill(f"decline:{second}", "Liever <b>in Q2</b>")
    grace.click(f"decline:{second}:submit")
    assert not grace.alert(), grace.alert()
    assert not grace.key("final").count()

    # The employee sees who declined, and why; rewrites it and proposes it again; both accept it.
    ada.reload()
    assert ada.page.get_by_text("Liever <b>in Q2</b>", exact=False).first.is_visible()
    shot(ada.page, f"pane-{lang}-7-declined")
    ada.click(f"agreement:{second}:edit")
    ada.fill(f"agreement:{second}:text", "Tweede afspraak, herschreven")
    ada.click(f"agreement:{second}:save")
    ada.click(f"agreement:{second}:propose")
    ada.click(f"accept:{second}")
    assert not ada.alert(), ada.alert()
    grace.reload()
    grace.click(f"accept:{second}")
    assert grace.key("final").is_visible(), grace.alert()
    assert WORDS[lang]["final"] in grace.text()
    axe(grace.page)
    shot(grace.page, f"pane-{lang}-8-final")
    with grace.page.expect_download() as download:
        grace.key("export:md").click()
    assert download.value.suggested_filename.endswith(".md")
    grace.settle()

    # The next agenda shows what was carried over.
    upcoming = open_pane(new_page, server, next_occurrence(server, first), "ada", lang)
    assert upcoming.state() == "upcoming"
    assert WORDS[lang]["carried"] in upcoming.text()
    # The open action came along as an action: owner and date kept, marked done here.
    assert upcoming.page.get_by_text("Cursus zoeken " + XSS, exact=True).is_visible()
    upcoming.click("carried:ca1:done")
    assert not upcoming.alert(), upcoming.alert()
    assert not upcoming.key("carried:ca1:done").count()
    axe(upcoming.page)
    shot(upcoming.page, f"pane-{lang}-9-next-agenda")
    for pane in (ada, grace, upcoming):
        assert_no_script_ran(pane)


# -- compose mode: the agreed agenda in the event ------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_compose_writes_the_agenda_and_keeps_the_users_text(
    lang: str,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    shot: Callable[[Any, str], Any],
    axe: Callable[..., Any],
) -> None:
    """The copy goes between the markers, the user's text stays, the attachment is not doubled."""
    server = demo_server
    occurrence, _context = agreed_series(server, lang)
    calendar = server.store.calendar(ADA)
    own = "<p>Mijn eigen tekst: Tom &amp; Jerry &lt;b&gt;</p>"
    pane = open_pane(new_page, server, occurrence, "ada", lang, mode="compose")
    # The user's own text arrives after the pane opened (typed in the form, or saved elsewhere).
    from connectors.models import EventPatch

    event = calendar.get_event(occurrence)
    calendar.update_event(occurrence, EventPatch(body_html=own + event.body_html))
    axe(pane.page)
    for _round in range(2):
        pane.click("event-copy")
        assert not pane.alert(), pane.alert()
    shot(pane.page, f"pane-{lang}-compose")
    saved = calendar.get_event(occurrence)
    body = saved.body_html
    assert body.startswith(own)
    assert body.count("[Goed Gesprek: agenda]") == 1
    assert body.count("[/Goed Gesprek]") == 1
    assert "&lt;img src=x" in body and "<img" not in body
    names = [a.name for a in saved.attachments]
    assert len(names) == len(set(names)) == 1, names
    content = calendar.get_attachment(occurrence, saved.attachments[0].id)
    assert b"<img src" not in content


# -- races, bad input and errors ----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_save_that_races_the_other_partner_keeps_both(
    lang: str,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    shot: Callable[[Any, str], Any],
    axe: Callable[..., Any],
) -> None:
    """409: the pane shows the current state and the user's unsaved change, and can reapply it."""
    server = demo_server
    meeting = server.new_meeting()
    context = Api(server, ADA, lang).plan(meeting)
    occurrence = context["event"]["id"]
    ada = open_pane(new_page, server, occurrence, "ada", lang)
    grace = open_pane(new_page, server, occurrence, "grace", lang)
    grace.add_item("role", "Grace was eerst")

    ada.key("new-item:theme").select_option("personal")
    ada.fill("new-item:title", "Ada typte dit <b>intussen</b>")
    ada.click("new-item:submit")
    assert ada.key("conflict").is_visible(), (ada.alert(), ada.text()[:300])
    assert WORDS[lang]["conflict"] in ada.text()
    assert ada.alert()
    # Both versions: Grace's saved item above, Ada's change listed, her typed text still there.
    assert ada.page.get_by_text("Grace was eerst", exact=True).is_visible()
    assert "Ada typte dit <b>intussen</b>" in ada.key("conflict").inner_text()
    assert ada.key("new-item:title").input_value() == "Ada typte dit <b>intussen</b>"
    axe(ada.page)
    shot(ada.page, f"pane-{lang}-conflict")
    ada.click("conflict:apply")
    assert not ada.key("conflict").count()
    items = [i["title"] for i in Api(server, ADA, lang).context(occurrence)["agenda"]["items"]]
    assert "Grace was eerst" in items and "Ada typte dit <b>intussen</b>" in items
    assert ada.key("new-item:title").input_value() == ""


@pytest.mark.parametrize("lang", LANGS)
def test_an_error_shows_the_message_and_keeps_the_typed_text(
    lang: str, demo_server: DemoServer, new_page: Callable[..., Any]
) -> None:
    """A refused request shows the API's message in the alert region; nothing typed is lost."""
    server = demo_server
    pane = open_pane(new_page, server, server.new_meeting(), "ada", lang)
    pane.fill("plan:partner", "niet-een-adres")
    pane.fill("plan:place", "Mijn plek <script>")
    pane.click("plan:preview-button")
    assert pane.alert()
    assert pane.page.locator("#alert[role=alert]").count() == 1
    assert pane.key("plan:partner").input_value() == "niet-een-adres"
    assert pane.key("plan:place").input_value() == "Mijn plek <script>"
    pane.reload()  # Outlook reloads the pane when the user comes back to the item
    assert pane.key("plan:partner").input_value() == "niet-een-adres"
    assert pane.key("plan:place").input_value() == "Mijn plek <script>"


@pytest.mark.parametrize("lang", LANGS)
def test_a_new_appointment_is_saved_first(
    lang: str,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    shot: Callable[[Any, str], Any],
    axe: Callable[..., Any],
) -> None:
    """Compose mode on an unsaved appointment offers to save it, then plans from it."""
    page = new_page(locale="nl-NL" if lang == "nl" else "en-GB")
    extra = {"subject": "Nieuw", "with": GRACE}
    page.goto(demo_server.pane_url(who="ada", mode="compose", lang=lang, **extra))
    pane = Pane(page)
    pane.ready()
    assert pane.h1() == WORDS[lang]["save_first"]
    axe(page)
    shot(page, f"pane-{lang}-save-first")
    pane.click("save-item")
    assert pane.state() == "not_series", pane.alert()


@pytest.mark.parametrize("lang", LANGS)
def test_someone_else_sees_a_polite_message(
    lang: str,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    shot: Callable[[Any, str], Any],
    axe: Callable[..., Any],
) -> None:
    """A third person invited to an occurrence sees neither agenda nor record."""
    from connectors.models import Attendee, EventPatch

    server = demo_server
    occurrence, _context = agreed_series(server, lang)
    server.store.add_person("linus@example.org", "Linus", "Europe/Amsterdam")
    calendar = server.store.calendar(ADA)
    event = calendar.get_event(occurrence)
    attendees = (*event.attendees, Attendee("linus@example.org", "Linus"))
    calendar.update_event(occurrence, EventPatch(attendees=attendees))
    pane = open_pane(new_page, server, occurrence, "linus", lang)
    assert pane.state() == "not_partner"
    assert pane.h1() == WORDS[lang]["private"]
    assert "Energie" not in pane.text()
    axe(pane.page)
    shot(pane.page, f"pane-{lang}-not-partner")


def test_every_text_is_translated_in_dutch(
    demo_server: DemoServer, new_page: Callable[..., Any]
) -> None:
    """The Dutch pane shows no English msgid from the catalog (spot check on the plan form)."""
    pane = open_pane(new_page, demo_server, demo_server.new_meeting(), "ada", "nl")
    text = pane.text()
    for english in ("Preferences", "Conversation partner", "How often", "Preview"):
        assert not re.search(rf"\b{english}\b", text), english


def test_keyboard_only_with_visible_focus(
    demo_server: DemoServer, new_page: Callable[..., Any]
) -> None:
    """Tab reaches the agenda form, Enter adds the item, focus stays visible and in place."""
    server = demo_server
    context = Api(server, ADA, "en").plan(server.new_meeting())
    pane = open_pane(new_page, server, context["event"]["id"], "ada", "en")
    page = pane.page
    for _press in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.key") == "new-item:title":
            break
    else:
        pytest.fail("Tab never reached the new item's title")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.type("Met het toetsenbord")
    page.keyboard.press("Enter")
    pane.settle()
    assert page.get_by_text("Met het toetsenbord", exact=True).is_visible()
    assert page.evaluate("document.activeElement.dataset.key") == "new-item:title"


# -- the plan form: weekdays and zones ---------------------------------------------------------

NO_WEEKDAY = {
    "nl": "Kies minstens één dag van de week voor de gesprekken.",
    "en": "Choose at least one weekday for the conversations.",
}


@pytest.mark.parametrize("lang", LANGS)
def test_no_weekday_ticked_is_said_before_anything_is_sent(
    lang: str, demo_server: DemoServer, new_page: Callable[..., Any]
) -> None:
    """With every weekday unticked the pane asks for one; nothing is previewed or planned."""
    pane = open_pane(new_page, demo_server, demo_server.new_meeting(), "ada", lang)
    for day in ("TU", "WE", "TH"):
        pane.key(f"plan:day:{day}").uncheck()
    pane.click("plan:preview-button")
    assert pane.alert() == NO_WEEKDAY[lang]
    assert pane.key("plan:preview").count() == 0
    assert pane.state() == "not_series"


CLOCK_AT_END = r"\d\d:\d\d( [AP]M)?$"
VIEWER_TIME = {"nl": r"voor jou (\d\d:\d\d) in ", "en": r"(\d\d:\d\d) for you in "}


@pytest.mark.parametrize("lang", LANGS)
def test_times_show_in_the_viewers_zone_and_name_it_when_it_is_not_the_pairs(
    lang: str, demo_server: DemoServer, new_page: Callable[..., Any]
) -> None:
    """From New York the preview's sentence and dates agree on New York time and say so."""
    server = demo_server
    meeting = server.new_meeting()
    locale = "nl-NL" if lang == "nl" else "en-GB"
    firsts = {}
    for zone in ("Europe/Amsterdam", "America/New_York"):
        page = new_page(locale=locale, zone=zone)
        page.goto(server.pane_url(meeting, who="ada", lang=lang))
        pane = Pane(page)
        pane.ready()
        pane.click("plan:preview-button")
        pane.key("plan:confirm").wait_for()
        preview = pane.key("plan:preview")
        sentence = preview.locator("p").first.inner_text()
        firsts[zone] = first = preview.locator("li").first.inner_text()
        if zone == "Europe/Amsterdam":
            assert "America/New_York" not in sentence and "Europe/Amsterdam" not in sentence
            assert re.search(CLOCK_AT_END, first), first  # the pair's zone: not named
        else:
            assert "Europe/Amsterdam" in sentence and "America/New_York" in sentence
            found = re.search(VIEWER_TIME[lang], sentence)
            assert found, sentence
            assert found.group(1) in first
            assert not re.search(CLOCK_AT_END, first), first  # another zone: named after the time
    assert firsts["Europe/Amsterdam"] != firsts["America/New_York"]


def test_an_appointment_with_a_partner_names_the_viewers_zone_when_not_the_pairs(
    demo_server: DemoServer, new_page: Callable[..., Any]
) -> None:
    """Grace in New York opens another meeting with Ada: its time says it is New York time."""
    server = demo_server
    meeting = server.new_meeting()
    Api(server, ADA, "en").plan(meeting)
    lines = {}
    for zone in ("Europe/Amsterdam", "America/New_York"):
        page = new_page(locale="en-GB", zone=zone)
        page.goto(server.pane_url(meeting, who="grace", lang="en"))
        pane = Pane(page)
        pane.ready()
        pane.key("existing").wait_for()
        lines[zone] = page.locator("#event-line").inner_text()
    assert re.search(CLOCK_AT_END, lines["Europe/Amsterdam"]), lines
    assert not re.search(CLOCK_AT_END, lines["America/New_York"]), lines


def test_a_save_whose_answer_is_lost_is_applied_once_when_sent_again(
    demo_server: DemoServer, new_page: Callable[..., Any]
) -> None:
    """The save reaches the server but its answer is lost; pressing again adds the item once."""
    server = demo_server
    context = Api(server, ADA, "en").plan(server.new_meeting())
    pane = open_pane(new_page, server, context["event"]["id"], "ada", "en")
    pane.add_item("personal", "Eerst")
    sent: list[Any] = []

    def lose_the_answer(route: Any) -> None:
        sent.append(route.request.post_data_json)
        route.fetch()  # the server applies the change...
        route.fulfill(status=503, json={"error": "provider_unavailable", "message": "Later."})

    pattern = re.compile(r".*/api/series/[^/]+/occurrences/[^/?]+\?.*")
    pane.page.route(pattern, lose_the_answer)
    pane.key("new-item:theme").select_option("role")
    pane.fill("new-item:title", "Eenmaal")
    pane.click("new-item:submit")
    assert pane.alert() == "Later."
    pane.page.unroute(pattern)
    with pane.page.expect_request(pattern) as again:
        pane.click("new-item:submit")  # the text is still typed: the same change again
    assert not pane.alert(), pane.alert()
    assert again.value.post_data_json["change_id"] == sent[0]["change_id"]
    titles = [
        i["title"] for i in Api(server, ADA).context(context["event"]["id"])["agenda"]["items"]
    ]
    assert titles == ["Eerst", "Eenmaal"]


@pytest.mark.parametrize("lang", LANGS)
def test_own_working_hours_are_set_beside_the_plan_form(
    lang: str, demo_server: DemoServer, new_page: Callable[..., Any]
) -> None:
    """Ada sees Monday-Friday 09:00-17:00, works Thursdays only from now on, and it is kept."""
    people = demo_server.app.extensions["goedgesprek.service"].people
    try:
        pane = open_pane(new_page, demo_server, demo_server.new_meeting(), "ada", lang)
        pane.page.wait_for_selector('[data-key="hours"]')
        assert pane.key("hours:day:MO").is_checked() and not pane.key("hours:day:SA").is_checked()
        for day in ("MO", "TU", "WE", "FR"):
            pane.key(f"hours:day:{day}").uncheck()
        pane.fill("hours:start", "10:00")
        pane.fill("hours:end", "14:30")
        pane.click("hours:save")
        assert not pane.alert(), pane.alert()
        kept = people.hours("ada@example.org")
        assert kept is not None and kept.hours.days == ("TH",)
        assert f"{kept.hours.start:%H:%M}-{kept.hours.end:%H:%M}" == "10:00-14:30"
        pane.fill("hours:tz", "Mars/Olympus")
        pane.click("hours:save")
        assert pane.alert()  # said as a sentence, nothing kept
        assert people.hours("ada@example.org") == kept
    finally:
        people.forget("ada@example.org")


ENDED = {"nl": "De reeks is beëindigd", "en": "The series has ended"}


@pytest.mark.parametrize("lang", LANGS)
def test_either_partner_ends_the_series_after_being_asked(
    lang: str, demo_server: DemoServer, new_page: Callable[..., Any], axe: Callable[..., Any]
) -> None:
    """Grace clicks End, is asked, keeps it once, then ends it: the pane says so and the pair
    is free to plan anew."""
    occurrence, context = agreed_series(demo_server, lang)
    pane = open_pane(new_page, demo_server, occurrence, "grace", lang)
    pane.click("series:end")
    pane.click("series:end-keep")
    assert pane.key("series:end").count() == 1
    pane.click("series:end")
    axe(pane.page)
    pane.click("series:end-confirm")
    assert not pane.alert(), pane.alert()
    assert pane.h1() == ENDED[lang]
    registry = demo_server.app.extensions["goedgesprek.service"].registry
    assert not registry.is_active(context["series"]["id"])
    assert Api(demo_server, ADA, lang).plan(demo_server.new_meeting())["series"]["id"]


REMINDERS = {
    "nl": ("Herinneringen per mail", "Je herinneringen zijn bewaard."),
    "en": ("Reminders by mail", "Your reminders are saved."),
}


@pytest.mark.parametrize("lang", LANGS)
def test_each_partner_turns_reminders_off_and_picks_quiet_days(
    lang: str,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    """In the conversation's pane: open "Reminders by mail", untick one kind, tick a quiet day,
    save; the settings are kept for that person only."""
    occurrence, _context = agreed_series(demo_server, lang)
    pane = open_pane(new_page, demo_server, occurrence, "grace", lang)
    title, saved = REMINDERS[lang]
    pane.page.get_by_text(title, exact=True).click()
    pane.key("reminders:kind:agenda").uncheck()
    pane.key("reminders:quiet:WE").check()
    axe(pane.page)
    shot(pane.page, f"pane-reminders-{lang}")
    pane.click("reminders:save")
    assert not pane.alert(), pane.alert()
    assert saved in pane.page.locator("#status").inner_text() or saved in pane.text()
    grace = Api(demo_server, GRACE, lang)
    kept = grace.client.get("/api/me/reminders", headers=grace.headers).get_json()
    assert kept["off"] == ["agenda"] and kept["quiet_days"] == ["WE"]
    ada = Api(demo_server, ADA, lang)
    theirs = ada.client.get("/api/me/reminders", headers=ada.headers).get_json()
    assert theirs["off"] == [] and theirs["quiet_days"] == []
    grace.client.put("/api/me/reminders", json={}, headers=grace.headers)
