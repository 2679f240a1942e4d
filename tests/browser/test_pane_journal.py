"""The pair's journal in the pane: goals agreed by both, the employee's check-in and its trend,
colleagues' feedback (the link, the answer the manager reads only once shared), the reflection,
what is worth raising before the conversation, time-outs and guests. Both languages; axe checks
each view and each gets a screenshot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from test_pane import ADA, GRACE, LANGS, Api, Pane, occurrence_end, open_pane

DemoServer = Any

pytestmark = pytest.mark.browser

EVE = "eve@example.org"
WORDS = {
    "nl": {
        "proposed": "Voorgesteld",
        "agreed": "Akkoord",
        "saved": "Je check-in is opgeslagen",
        "next": "Kies nu je werkplezier",
        "copied": "De link is gekopieerd",
        "not_yet": "leest het antwoord eerst",
        "worth": "Goed om te bespreken",
        "overview": "Overzicht",
        "energy_title": "Energie",
        "timeout_title": "Het verzoek om een time-out",
        "hr": "HR hoort alleen dat er een verzoek is gedaan, nooit waarom.",
        "no_reflection": "heeft geen reflectie gedeeld",
        "answer": "Je legt ingewikkelde dingen rustig uit.",
    },
    "en": {
        "proposed": "Proposed",
        "agreed": "Agreed",
        "saved": "Your check-in is saved",
        "next": "Now choose your work happiness",
        "copied": "The link is copied",
        "not_yet": "reads the answer first",
        "worth": "Worth raising",
        "overview": "Overview",
        "energy_title": "Energy",
        "timeout_title": "The request for a time-out",
        "hr": "HR is told only that a request was made, never why.",
        "no_reflection": "has not shared a reflection",
        "answer": "You explain hard things calmly.",
    },
}


class JournalApi(Api):
    """The journal's API as one person, through the app's test client (quick set-up)."""

    def journal(self, context: Any, *ops: dict[str, Any]) -> Any:
        series, occ = context["series"]["id"], context["occurrence"]["key"]
        headers = dict(self.headers)
        if context["journal"]["etag"]:
            headers["If-Match"] = context["journal"]["etag"]
        response = self.client.post(
            f"/api/series/{series}/occurrences/{occ}/journal",
            query_string={"lang": self.lang},
            json={"event": context["event"]["id"], "ops": list(ops), "change_id": uuid4().hex},
            headers=headers,
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def planned(server: DemoServer, lang: str) -> tuple[str, Any]:
    """A planned series; (the first occurrence's event id, Ada's context of it)."""
    context = JournalApi(server, ADA, lang).plan(server.new_meeting(subject=f"Journaal {lang}"))
    return str(context["event"]["id"]), context


def card(pane: Pane, name: str) -> Any:
    """The journal card `name`, opened when it was closed."""
    found = pane.key(f"journal:{name}")
    found.wait_for()
    if found.get_attribute("open") is None:
        pane.key(f"journal:{name}:summary").click()
    assert found.get_attribute("open") is not None
    # A card's body is made when it opens.
    found.locator(".journal-body > *").first.wait_for()
    return found


def focused(pane: Pane) -> str:
    """The data-key of the element that has the focus."""
    return str(pane.page.evaluate("document.activeElement.dataset.key"))


def status(pane: Pane) -> str:
    return str(pane.page.locator("#status").inner_text())


def announced(pane: Pane, text: str) -> None:
    """Wait until the pane announces `text` (a step that needs no server call says it at once)."""
    pane.page.locator("#status", has_text=text).wait_for()


def answer_request(server: DemoServer, link: str, answers: list[str]) -> None:
    """The colleague answers through the link's grant, as the feedback page would."""
    journals = server.app.extensions["goedgesprek.service"].journals
    grant = journals.grant(link.split("/f/", 1)[1], today=server.now().date())
    journals.answer(grant, answers)


# -- goals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_employee_adds_and_proposes_a_goal_and_the_manager_accepts_it(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    """A draft goal is the employee's alone; proposed, the manager accepts it and it is agreed."""
    event, _context = planned(demo_server, lang)
    ada = open_pane(new_page, demo_server, event, "ada", lang)
    goals = card(ada, "goals")
    ada.key("journal:goal-new:open").click()
    ada.key("journal:goal-new:kind").select_option("development")
    ada.fill("journal:goal-new:title", "Presenteren voor de <b>directie</b>")
    ada.fill("journal:goal-new:why", "Zodat ik mijn eigen projecten verkoop")
    ada.fill("journal:goal-new:horizon", "2027-06-30")
    ada.click("journal:goal-new:submit")
    assert not ada.alert(), ada.alert()
    assert focused(ada) == "journal:goal:g1:title"
    assert goals.get_by_text("Presenteren voor de <b>directie</b>", exact=True).is_visible()
    # The manager does not see a draft.
    grace = open_pane(new_page, demo_server, event, "grace", lang)
    card(grace, "goals")
    assert "directie" not in grace.text()

    ada.click("journal:goal:g1:propose")
    assert not ada.alert(), ada.alert()
    row = ada.key("journal:goal:g1")
    assert WORDS[lang]["proposed"] in row.inner_text()
    assert ada.key("journal:goal:g1:propose").count() == 0
    axe(ada.page)
    goals.scroll_into_view_if_needed()
    shot(ada.page, f"pane-journal-goals-{lang}")

    # The manager declines with a reason: the goal goes back to the employee's draft.
    grace.reload()
    card(grace, "goals")
    assert grace.key("journal:goal:g1:edit").count() == 0
    grace.click("journal:goal:g1:decline")
    grace.fill("journal:goal:g1:reason", "Maak het concreter")
    grace.click("journal:goal:g1:reason:submit")
    assert not grace.alert(), grace.alert()
    assert grace.key("journal:goal:g1").count() == 0
    ada.reload()
    card(ada, "goals")
    assert ada.key("journal:goal:g1:propose").is_visible()
    # The employee reads why it came back.
    assert "Maak het concreter" in ada.key("journal:goal:g1").inner_text()
    ada.click("journal:goal:g1:propose")

    grace.reload()
    card(grace, "goals")
    grace.click("journal:goal:g1:accept")
    assert not grace.alert(), grace.alert()
    assert WORDS[lang]["agreed"] in grace.key("journal:goal:g1").inner_text()
    # Agreed: either partner notes progress.
    grace.click("journal:goal:g1:progress-open")
    grace.fill("journal:goal:g1:note", "Eerste presentatie gegeven")
    grace.click("journal:goal:g1:note:submit")
    assert "Eerste presentatie gegeven" in grace.key("journal:goal:g1").inner_text()
    ada.reload()
    card(ada, "goals")
    assert WORDS[lang]["agreed"] in ada.key("journal:goal:g1").inner_text()
    assert ada.key("journal:goal:g1:achieved").is_visible()


# -- check-in -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_employee_checks_in_and_both_see_the_trend(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    """One tap on each row saves; the trend shows every check-in, as lines and as a table."""
    event, context = planned(demo_server, lang)
    api = JournalApi(demo_server, ADA, lang)
    # Two earlier check-ins between conversations, weeks apart.
    demo_server.clock.set(demo_server.now() - timedelta(days=60))
    context = api.journal(context, {"op": "checkin", "energy": 4, "happiness": 5, "between": True})
    demo_server.clock.set(demo_server.now() + timedelta(days=30))
    context = api.journal(context, {"op": "checkin", "energy": 3, "happiness": 4, "between": True})
    demo_server.clock.reset()

    ada = open_pane(new_page, demo_server, event, "ada", lang)
    checkin = card(ada, "checkin")
    ada.key("journal:checkin:energy:2").click()
    announced(ada, WORDS[lang]["next"])
    assert ada.key("journal:checkin:energy:2").get_attribute("aria-pressed") == "true"
    assert len(JournalApi(demo_server, ADA, lang).context(event)["journal"]["trend"]) == 2
    ada.click("journal:checkin:happiness:3")
    assert WORDS[lang]["saved"] in status(ada), ada.alert()
    assert focused(ada) == "journal:checkin:happiness:3"
    assert ada.key("journal:checkin:happiness:3").get_attribute("aria-pressed") == "true"
    saved = JournalApi(demo_server, ADA, lang).context(event)["journal"]
    assert (saved["checkin"]["energy"], saved["checkin"]["happiness"]) == (2, 3)
    # The other value stays chosen: one tap changes one of them.
    ada.click("journal:checkin:energy:3")
    saved = JournalApi(demo_server, ADA, lang).context(event)["journal"]
    assert (saved["checkin"]["energy"], saved["checkin"]["happiness"]) == (3, 3)
    assert len(saved["trend"]) == 3

    chart = ada.key("journal:trend")
    assert chart.locator("svg path.trend-energy").get_attribute("d").count("L") == 2
    assert chart.locator("svg rect.trend-happiness").count() == 3
    cells = chart.locator("table tbody tr").all_inner_texts()
    assert [c.split("\t")[1:] for c in cells] == [["4", "5"], ["3", "4"], ["3", "3"]]
    axe(ada.page)
    checkin.scroll_into_view_if_needed()
    shot(ada.page, f"pane-journal-checkin-{lang}")

    grace = open_pane(new_page, demo_server, event, "grace", lang)
    card(grace, "checkin")
    assert grace.key("journal:checkin:energy:3").count() == 0
    assert grace.key("journal:trend").locator("svg circle.trend-energy").count() == 3


# -- feedback -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_colleagues_answer_is_the_employees_until_shared(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    """The employee asks a colleague and copies the link; the answer reaches the manager only
    once the employee shares it."""
    event, _context = planned(demo_server, lang)
    ada = open_pane(new_page, demo_server, event, "ada", lang)
    ada.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    card(ada, "feedback")
    ada.key("journal:feedback-new:open").click()
    ada.fill("journal:feedback-new:email", EVE)
    ada.fill("journal:feedback-new:name", "Eve")
    ada.key("journal:feedback-new:q:colleague_strength").check()
    ada.key("journal:feedback-new:q:colleague_next").check()
    ada.click("journal:feedback-new:submit")
    assert not ada.alert(), ada.alert()
    request = JournalApi(demo_server, ADA, lang).context(event)["journal"]["feedback"][0]
    assert request["state"] == "open"
    ada.click("journal:feedback:f1:copy")
    announced(ada, WORDS[lang]["copied"])
    assert ada.page.evaluate("navigator.clipboard.readText()") == request["link"]
    # Without a clipboard the link shows in a field to copy by hand.
    ada.page.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined })")
    ada.click("journal:feedback:f1:copy")
    ada.key("journal:feedback:f1:link").wait_for()
    assert ada.key("journal:feedback:f1:link").input_value() == request["link"]

    answer_request(demo_server, request["link"], [WORDS[lang]["answer"], ""])
    ada.reload()
    feedback = card(ada, "feedback")
    assert WORDS[lang]["answer"] in feedback.inner_text()
    grace = open_pane(new_page, demo_server, event, "grace", lang)
    grace_feedback = card(grace, "feedback")
    assert WORDS[lang]["answer"] not in grace.text()
    assert WORDS[lang]["not_yet"] in grace_feedback.inner_text()
    assert grace.key("journal:feedback:f1:discussed").count() == 0

    ada.click("journal:feedback:f1:share")
    assert not ada.alert(), ada.alert()
    assert ada.key("journal:feedback:f1:unshare").is_visible()
    grace.reload()
    assert WORDS[lang]["answer"] in card(grace, "feedback").inner_text()
    grace.click("journal:feedback:f1:discussed")
    assert grace.key("journal:feedback:f1:discussed").count() == 0

    # The manager asks a second colleague: it goes out once the employee agrees.
    api = JournalApi(demo_server, GRACE, lang)
    api.journal(
        api.context(event),
        {
            "op": "feedback.ask",
            "email": "frank@example.org",
            "name": "Frank",
            "questions": ["colleague_one_tip"],
        },
    )
    ada.reload()
    feedback = ada.key("journal:feedback")
    assert feedback.get_attribute("open") is not None  # something waits for the employee
    assert ada.key("journal:feedback:f2:copy").count() == 0
    ada.click("journal:feedback:f2:consent")
    assert not ada.alert(), ada.alert()
    assert ada.key("journal:feedback:f2:copy").is_visible()
    assert ada.key("journal:feedback:f1:copy").count() == 0
    axe(ada.page)
    feedback.scroll_into_view_if_needed()
    shot(ada.page, f"pane-journal-feedback-{lang}")


# -- reflection, suggestions and the manager's view ------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_reflection_is_shared_and_suggestions_show_before_the_conversation(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    """The employee writes and shares the reflection; what is worth raising shows each
    suggestion's title and reason; the manager reads only what is shared."""
    event, context = planned(demo_server, lang)
    ada_api = JournalApi(demo_server, ADA, lang)
    context = ada_api.journal(
        context,
        {"op": "goal.add", "title": "Leren delegeren", "why": "Minder zelf doen", "horizon": None},
        {"op": "goal.propose", "goal": "g1"},
        {"op": "checkin", "energy": 2, "happiness": 4},
        {"op": "timeout.ask", "kind": "time_out", "reason": "Even op adem komen"},
        {"op": "feedback.ask", "email": EVE, "name": "Eve", "questions": ["colleague_strength"]},
    )
    answer_request(demo_server, context["journal"]["feedback"][0]["link"], [WORDS[lang]["answer"]])
    context = ada_api.journal(
        ada_api.context(event), {"op": "feedback.share", "request": "f1", "shared": True}
    )
    context = JournalApi(demo_server, GRACE, lang).journal(
        JournalApi(demo_server, GRACE, lang).context(event), {"op": "goal.accept", "goal": "g1"}
    )

    ada = open_pane(new_page, demo_server, event, "ada", lang)
    worth = ada.key("journal:suggestions")
    worth.wait_for()
    text = worth.inner_text()
    assert WORDS[lang]["worth"] in text
    assert WORDS[lang]["energy_title"] in text and "2" in text
    assert WORDS[lang]["timeout_title"] in text
    assert worth.locator(".reason").count() == worth.locator("li").count() >= 2
    overview = card(ada, "overview")
    assert WORDS[lang]["overview"] in overview.inner_text()
    assert "Leren delegeren" in overview.inner_text()
    assert overview.locator("svg.trend-chart").count() == 1
    axe(ada.page)
    shot(ada.page, f"pane-journal-suggestions-{lang}")

    reflection = card(ada, "reflection")
    assert ada.key("journal:reflection:share").is_disabled()
    prompts = reflection.locator(".prompt-list li")
    assert prompts.count() >= 3
    ada.fill("journal:reflection:text", "Trots op de release.\nDe werkdruk was hoog.")
    ada.click("journal:reflection:save")
    assert not ada.alert(), ada.alert()
    grace = open_pane(new_page, demo_server, event, "grace", lang)
    assert WORDS[lang]["no_reflection"] in card(grace, "reflection").inner_text()
    assert "Trots op de release" not in grace.text()

    ada.key("journal:reflection:share").check()
    ada.settle()
    assert not ada.alert(), ada.alert()
    assert ada.key("journal:reflection:share").is_checked()
    assert JournalApi(demo_server, ADA, lang).context(event)["journal"]["reflection"]["shared"]
    axe(ada.page)
    reflection.scroll_into_view_if_needed()
    shot(ada.page, f"pane-journal-reflection-{lang}")

    grace.reload()
    shared = card(grace, "reflection")
    assert "Trots op de release." in shared.inner_text()
    assert grace.key("journal:reflection:text").evaluate("el => el.tagName") == "P"
    for name in ("goals", "checkin", "feedback", "timeout"):
        card(grace, name)
    assert WORDS[lang]["answer"] in grace.key("journal:feedback:f1").inner_text()
    assert grace.key("journal:goal:g1:edit").count() == 0
    assert grace.key("journal:checkin:energy:1").count() == 0
    assert grace.key("journal:guest-new:open").count() == 0
    axe(grace.page)
    shot(grace.page, f"pane-journal-manager-{lang}")


# -- time-out and guests --------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_time_out_is_asked_and_closed_and_a_guest_invited(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    """Either partner asks for a time-out and closes it; the employee invites a guest and sets
    what the guest may read; the manager sees the guest, read-only."""
    event, _context = planned(demo_server, lang)
    grace = open_pane(new_page, demo_server, event, "grace", lang)
    timeout = card(grace, "timeout")
    assert WORDS[lang]["hr"] in timeout.inner_text()
    grace.key("journal:timeout-new:open").click()
    grace.key("journal:timeout-new:kind:other_partner").check()
    grace.fill("journal:timeout-new:reason", "Ik ben te nauw betrokken")
    grace.click("journal:timeout-new:submit")
    assert not grace.alert(), grace.alert()

    ada = open_pane(new_page, demo_server, event, "ada", lang)
    timeout = card(ada, "timeout")
    assert "Ik ben te nauw betrokken" in timeout.inner_text()
    ada.key("journal:timeout-new:open").click()
    ada.key("journal:timeout-new:kind:time_out").check()
    ada.click("journal:timeout-new:submit")
    assert timeout.locator("li").count() == 2
    guests = card(ada, "guests")
    ada.key("journal:guest-new:open").click()
    ada.fill("journal:guest-new:email", "hr@example.org")
    ada.fill("journal:guest-new:name", "Henk van HR")
    ada.key("journal:guest-new:record").check()
    ada.click("journal:guest-new:submit")
    assert not ada.alert(), ada.alert()
    record = ada.key("journal:guest:hr@example.org:record")
    assert record.is_checked()
    axe(ada.page)
    timeout.scroll_into_view_if_needed()
    shot(ada.page, f"pane-journal-timeout-guest-{lang}")

    record.uncheck()
    ada.settle()
    assert not ada.key("journal:guest:hr@example.org:record").is_checked()
    journal = JournalApi(demo_server, ADA, lang).context(event)["journal"]
    assert journal["guests"][0]["record"] is False

    grace.reload()
    assert "Henk van HR" in card(grace, "guests").inner_text()
    assert grace.key("journal:guest:hr@example.org:record").count() == 0
    first = journal["timeouts"][0]["id"]
    card(grace, "timeout")
    grace.click(f"journal:timeout:{first}:close")
    assert not grace.alert(), grace.alert()
    left = JournalApi(demo_server, GRACE, lang).context(event)["journal"]["timeouts"]
    assert [t["open"] for t in left] == [False, True]
    assert guests.count() == 1


# -- after the conversation, and a journal saved meanwhile ----------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_after_the_conversation_an_action_is_linked_to_an_agreed_goal(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
) -> None:
    """The journal goes on in the record's view: an action of the record serves a goal."""
    event, context = planned(demo_server, lang)
    ada_api, grace_api = JournalApi(demo_server, ADA, lang), JournalApi(demo_server, GRACE, lang)
    context = ada_api.journal(
        context,
        {"op": "goal.add", "title": "Beter plannen", "why": "", "horizon": "2027-03-01"},
        {"op": "goal.propose", "goal": "g1"},
    )
    grace_api.journal(grace_api.context(event), {"op": "goal.accept", "goal": "g1"})
    demo_server.clock.set(occurrence_end(demo_server, event) + timedelta(minutes=30))
    context = ada_api.context(event)
    assert context["state"] == "ended"
    ada_api.ops(
        context,
        {"op": "record.add_action", "description": "Weekplanning maken", "owner": "employee"},
    )

    ada = open_pane(new_page, demo_server, event, "ada", lang)
    card(ada, "goals")
    ada.click("journal:goal:g1:link")
    ada.key("journal:goal:g1:link:action").select_option(label="Weekplanning maken")
    ada.click("journal:goal:g1:link:submit")
    assert not ada.alert(), ada.alert()
    row = ada.key("journal:goal:g1")
    assert "Weekplanning maken" in row.inner_text()
    links = ada_api.context(event)["journal"]["goals"][0]["actions"]
    assert links == [{"occurrence": context["occurrence"]["key"], "id": links[0]["id"]}]
    assert ada.key(
        f"journal:goal:g1:unlink:{context['occurrence']['key']}:{links[0]['id']}"
    ).count()
    axe(ada.page)


@pytest.mark.parametrize("lang", LANGS)
def test_a_journal_change_the_partner_beat_is_shown_and_applied_again(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
) -> None:
    """The manager saved the journal meanwhile: the employee's goal is not lost but listed
    under "changed meanwhile", and applying it again saves it once."""
    event, context = planned(demo_server, lang)
    ada_api, grace_api = JournalApi(demo_server, ADA, lang), JournalApi(demo_server, GRACE, lang)
    ada_api.journal(context, {"op": "checkin", "energy": 3, "happiness": 3})
    ada = open_pane(new_page, demo_server, event, "ada", lang)
    grace_api.journal(grace_api.context(event), {"op": "timeout.ask", "kind": "time_out"})

    card(ada, "goals")
    ada.key("journal:goal-new:open").click()
    ada.fill("journal:goal-new:title", "Meer uitbesteden")
    ada.click("journal:goal-new:submit")
    panel = ada.key("journal:conflict")
    panel.wait_for()
    assert "Meer uitbesteden" in panel.inner_text()
    assert ada.alert()
    # The current journal shows the manager's change; the draft is still typed in.
    assert card(ada, "timeout").locator("li").count() == 1
    assert ada.key("journal:goal-new:title").input_value() == "Meer uitbesteden"
    axe(ada.page)
    ada.click("journal:conflict:apply")
    assert not ada.alert(), ada.alert()
    assert ada.key("journal:conflict").count() == 0
    goals = ada_api.context(event)["journal"]["goals"]
    assert [g["title"] for g in goals] == ["Meer uitbesteden"]
