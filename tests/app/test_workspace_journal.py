"""The pair's journal on the Google Calendar add-on's cards, through the card endpoints.

Ada (employee) and Grace (manager) each play Google's panel (`Panel`): every answer is checked
against Google's card schema on the way, the card stack is kept as Google keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from test_workspace_endpoints import (
    ADA,
    BASE,
    EVE,
    GRACE,
    NOW,
    Panel,
    buttons,
    current_inputs,
    plan,
    seeded_app,
    texts,
)

from addin.conversations import Caller
from addin.conversations.errors import Missing
from addin.conversations.journals import Journals
from addin.i18n import gettext
from addin.suggestion_text import suggestion_text
from addin.workspace import journal_cards
from addin.workspace.flows import Form, Ui
from addin.workspace.schema import validate_card
from connectors.testing import ManualClock

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

ANSWER = "Ada legt ingewikkelde dingen heel helder uit."


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock, moved by the tests."""
    return ManualClock(NOW)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Flask:
    """The app on the seeded local store."""
    return seeded_app(tmp_path, clock)


def _journals(app: Flask) -> Journals:
    journals = app.extensions["goedgesprek.service"].journals
    assert journals is not None
    return journals


def _context(app: Flask, who: str, event: str, lang: str = "en") -> dict[str, Any]:
    context: dict[str, Any] = app.extensions["goedgesprek.service"].context(
        Caller(who, who.split("@", maxsplit=1)[0].title(), lang), event
    )
    return context


def _both(app: Flask, lang: str) -> tuple[Panel, Panel, str]:
    """Ada plans the series; Grace opens its first conversation too."""
    ada, first = plan(app, lang)
    grace = Panel(app, GRACE, lang)
    grace.open(first)
    return ada, grace, first


def _back(panel: Panel) -> None:
    """Google's back arrow: the card underneath."""
    panel.stack.pop()


def _labels(panel: Panel) -> list[str]:
    return [b["text"] for b in buttons(panel.top)]


def _next_event(app: Flask, first: str) -> str:
    """The event id of the conversation after `first`."""
    following = _context(app, ADA, first)["next_dates"][0]
    stamp = datetime.fromisoformat(following).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{first.split('_', maxsplit=1)[0]}_{stamp}"


def _answer(app: Flask, link: str, *answers: str) -> None:
    """The colleague answers through the link the card showed."""
    journals = _journals(app)
    grant = journals.grant(link.rsplit("/f/", 1)[1], today=NOW.date())
    journals.answer(grant, list(answers))


def _link_in(card: dict[str, Any]) -> str:
    """The colleague's link the card shows (in a field, to copy)."""
    for name, value in current_inputs(card).items():
        if name.startswith("link_"):
            return str(value)
    raise AssertionError("the card shows no link")


# -- goals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_goal_is_added_proposed_and_accepted_through_the_cards(app: Flask, lang: str) -> None:
    """Ada adds a draft goal (Grace does not see it), proposes it, Grace accepts and notes
    progress; the main card under the goals card is read anew after each save."""
    ada, grace, first = _both(app, lang)
    ada.click(ada.t("Goals"))
    assert ada.top["name"] == "journal_goals" and len(ada.stack) == 2
    ada.click(ada.t("Add a goal"))
    assert ada.top["name"] == "journal_goal_new"
    assert current_inputs(ada.top)["goal_kind"] == ["development"]
    # No title: nothing is saved, the form stays with a sentence.
    ada.click(ada.t("Save the goal"))
    assert ada.top["name"] == "journal_goal_new"
    assert ada.notification == ada.t("Write the goal first.")
    ada.click(
        ada.t("Save the goal"),
        goal_title="Leren presenteren",
        goal_why="Voor het team",
        goal_horizon=date(2027, 6, 30),
        goal_kind=["development"],
    )
    assert [card["name"] for card in ada.stack] == ["agenda", "journal_goals"]
    assert ada.notification == ada.t(
        "The goal is saved as your draft: propose it when it is ready."
    )
    shown = texts(ada.top)
    assert "Leren presenteren" in shown and ada.t("Draft: only you see it") in shown
    assert ("30 juni 2027" if lang == "nl" else "30 June 2027") in shown

    grace.click(grace.t("Goals"))
    assert "Leren presenteren" not in json.dumps(grace.top)  # a draft is the employee's

    ada.click(ada.t("Propose"))
    assert ada.t("Proposed, waiting for %(names)s", names="Grace") in texts(ada.top)
    assert "Accept" not in _labels(ada) and ada.t("Accept") not in _labels(ada)

    grace.open(first)
    waiting = grace.t("Goals that wait for your answer: %(titles)s", titles="“Leren presenteren”")
    assert waiting in texts(grace.top)
    grace.click(grace.t("Goals"))
    grace.click(grace.t("Accept"))
    assert grace.t("Agreed by both") in texts(grace.top)
    grace.click(grace.t("Note progress"), **{"progress_g1": "Eerste presentatie gegeven"})
    assert "Eerste presentatie gegeven" in texts(grace.top)
    day = "24 november 2026" if lang == "nl" else "24 November 2026"
    progress = grace.t("Progress noted by %(who)s on %(day)s", day=day, who=grace.t("you"))
    assert progress in texts(grace.top)
    goal = _context(app, ADA, first)["journal"]["goals"][0]
    assert (goal["state"], goal["progress"][0]["role"]) == ("agreed", "manager")
    ada.open(first)
    ada.click(ada.t("Goals"))
    ada.click(ada.t("Achieved"))
    assert ada.t("Agreed by both · achieved") in texts(ada.top)


def test_a_declined_goal_goes_back_to_the_draft_with_the_reason(app: Flask) -> None:
    """Grace declines with a reason typed on the card; the goal is Ada's draft again."""
    ada, grace, first = _both(app, "en")
    ada.click("Goals")
    ada.click("Add a goal")
    ada.click("Save the goal", goal_title="Teamleider worden")
    ada.click("Propose")
    grace.open(first)
    grace.click("Goals")
    grace.click("Decline", decline_reason="Eerst een cursus")
    assert "Teamleider worden" not in json.dumps(grace.top)
    assert _context(app, ADA, first)["journal"]["goals"][0]["state"] == "draft"
    history = _journals(app).read(app.extensions["goedgesprek.service"].registry.for_person(ADA)[0])
    assert history.journal.history[-1].detail == "Eerst een cursus"


# -- check-ins and suggestions -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_ada_checks_in_and_both_see_the_trend_and_the_suggestion(app: Flask, lang: str) -> None:
    """Two check-ins for two conversations: the trend in numbers, a sparkline and the dates for
    both; the fall is worth raising on the next conversation's main card."""
    ada, grace, first = _both(app, lang)
    ada.click(ada.t("Check-in"))
    assert ada.top["name"] == "journal_checkin"
    ada.click(ada.t("Save my check-in"), energy=["4"])
    assert ada.notification == ada.t("Choose your energy and your work happiness first.")
    ada.click(ada.t("Save my check-in"), energy=["4"], happiness=["5"])
    assert ada.notification == ada.t("Your check-in is saved.")
    assert current_inputs(ada.top)["energy"] == ["4"]
    second = _next_event(app, first)
    ada.open(second)
    ada.click(ada.t("Check-in"))
    ada.click(ada.t("Save my check-in"), energy=["2"], happiness=["2"])

    grace.open(second)
    worth = gettext(lang, "api", "Energy fell from %(from)s to %(to)s in the last check-ins.")
    expected = worth % {"from": 4, "to": 2}
    assert grace.t("Worth raising") in texts(grace.top)
    assert expected in texts(grace.top)
    grace.click(grace.t("Check-in"))
    card = grace.top
    assert "energy" not in current_inputs(card) and grace.t("Save my check-in") not in _labels(
        grace
    )
    shown = texts(card)
    assert "▆▂   4 → 2" in shown and "█▂   5 → 2" in shown
    assert ("24 nov 2026" if lang == "nl" else "24 Nov 2026") in shown
    # The suggestion's words are the shared helper's, in the reader's language.
    falling = {"rule": "energy_falling", "params": {"from": "4", "to": "2"}}
    assert suggestion_text(falling, lang)["reason"] == expected


def test_the_overview_shows_goals_actions_agreements_feedback_and_trend(app: Flask) -> None:
    """From the suggestions' Overview button: everything to look back on, on one card."""
    ada, _grace, first = _both(app, "en")
    ada.click("Check-in")
    ada.click("Save my check-in", energy=["3"], happiness=["4"])
    _back(ada)
    ada.click("Goals")
    ada.click("Add a goal")
    ada.click("Save the goal", goal_title="Leren presenteren")
    ada.open(first)
    assert "Worth raising" in texts(ada.top)
    ada.click("Overview")
    card = ada.top
    assert card["name"] == "journal_overview"
    shown = texts(card)
    for words in ("Leren presenteren", "Open actions", "Agreements of the past year", "3", "4"):
        assert words in shown
    assert "No answered feedback yet." in shown


# -- feedback from colleagues --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_colleague_is_asked_and_the_answer_stays_adas_until_shared(app: Flask, lang: str) -> None:
    """Ada asks Eve; the card shows the link to pass on; Eve answers; Grace sees that it was
    answered but not the answer, until Ada shares it."""
    ada, grace, first = _both(app, lang)
    ada.click(ada.t("Feedback"))
    ada.click(ada.t("Ask a colleague"))
    assert ada.top["name"] == "journal_feedback_ask"
    bank = _context(app, ADA, first, lang)["journal"]["questions"]
    assert len(bank) <= journal_cards.MAX_QUESTIONS
    ada.click(
        ada.t("Ask for feedback"),
        feedback_email=EVE,
        feedback_name="Eve",
        feedback_questions=[bank[0]["key"], bank[3]["key"]],
    )
    assert [c["name"] for c in ada.stack] == ["agenda", "journal_feedback"]
    link = _link_in(ada.top)
    assert link.startswith("http") and "/f/" in link
    assert bank[0]["text"] in texts(ada.top)
    # A lost link: a new one, and the old one opens nothing any more.
    ada.click(ada.t("New link"))
    renewed = _link_in(ada.top)
    assert renewed != link
    with pytest.raises(Missing):
        _answer(app, link, "Te laat")
    link = renewed

    _answer(app, link, ANSWER, "")
    grace.click(grace.t("Feedback"))
    card = json.dumps(grace.top, ensure_ascii=False)
    assert ANSWER not in card and link not in card
    assert grace.t("%(employee)s has not shared the answer with you.", employee="Ada") in texts(
        grace.top
    )
    assert grace.t("Mark as discussed") not in _labels(grace)

    ada.open(first)
    ada.click(ada.t("Feedback"))
    assert ANSWER in texts(ada.top)
    ada.click(ada.t("Share with %(name)s", name="Grace"))
    grace.open(first)
    grace.click(grace.t("Feedback"))
    assert ANSWER in texts(grace.top)
    grace.click(grace.t("Mark as discussed"))
    assert grace.t("discussed") in texts(grace.top)


def test_a_request_by_the_manager_waits_for_adas_consent(app: Flask) -> None:
    """Grace asks on Ada's behalf: Ada's main card says so and her consent sends it out."""
    ada, grace, first = _both(app, "en")
    grace.click("Feedback")
    grace.click("Ask a colleague")
    bank = _context(app, GRACE, first)["journal"]["questions"]
    grace.click(
        "Ask for feedback",
        feedback_email="bo@example.org",
        feedback_name="Bo",
        feedback_questions=[bank[1]["key"]],
    )
    assert "Waiting for Ada to agree" in texts(grace.top)
    ada.open(first)
    assert "Grace would like to ask Bo for feedback: it goes out once you agree." in texts(ada.top)
    ada.click("Feedback")
    assert "Waiting for your consent" in texts(ada.top)
    ada.click("Agree: send it")
    assert "Open until" in texts(ada.top)
    assert _context(app, ADA, first)["journal"]["feedback"][0]["state"] == "open"


def test_asking_a_partner_is_refused_with_a_sentence_and_keeps_the_form(app: Flask) -> None:
    """The domain refuses Grace as Ada's colleague: a Dutch notification, the form as typed."""
    ada, _grace, first = _both(app, "nl")
    ada.click(ada.t("Feedback"))
    ada.click(ada.t("Ask a colleague"))
    bank = _context(app, ADA, first, "nl")["journal"]["questions"]
    before = ada.top
    ada.click(ada.t("Ask for feedback"), feedback_email=GRACE, feedback_questions=[bank[0]["key"]])
    assert ada.top == before
    assert ada.notification is not None
    assert ada.notification.startswith(gettext("nl", "api", "Nothing was saved."))
    assert _context(app, ADA, first)["journal"]["feedback"] == []


# -- reflection ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_reflection_is_written_by_ada_and_read_by_grace_once_shared(
    app: Flask, lang: str
) -> None:
    """The prompts guide Ada's reflection; Grace reads it only after Ada shares it."""
    ada, grace, first = _both(app, lang)
    ada.click(ada.t("Reflection & overview"))
    assert ada.top["name"] == "journal_reflection"
    prompts = _context(app, ADA, first, lang)["journal"]["reflection_prompts"]
    assert prompts and prompts[0] in texts(ada.top)
    ada.click(ada.t("Save"), reflection_text="Ik wil meer verantwoordelijkheid.")
    assert ada.notification == ada.t("Your reflection is saved.")
    assert ada.t("Only you see it") in texts(ada.top)
    grace.click(grace.t("Reflection & overview"))
    assert "verantwoordelijkheid" not in json.dumps(grace.top)
    ada.click(ada.t("Share with %(name)s", name="Grace"))
    assert ada.t("Shared with %(name)s", name="Grace") in texts(ada.top)
    grace.open(first)
    grace.click(grace.t("Reflection & overview"))
    assert "Ik wil meer verantwoordelijkheid." in texts(grace.top)
    assert "reflection_text" not in json.dumps(grace.top)


# -- time-outs and guests ------------------------------------------------------------------------


def test_grace_asks_a_time_out_and_ada_closes_it(app: Flask) -> None:
    """The reason is the pair's; HR counts one request; either partner closes it."""
    ada, grace, first = _both(app, "en")
    grace.click("Time-out & guests")
    assert "HR is told only that a request exists, never why." in texts(grace.top)
    grace.click("Ask", timeout_kind=["other_partner"], timeout_reason="Het loopt vast")
    assert grace.notification == "The request is saved. HR is told only that it exists."
    assert "Another conversation partner · Open" in texts(grace.top)
    series = _context(app, ADA, first)["series"]["id"]
    assert _journals(app).timeouts.by_series("2026-01") == {series: 1}
    ada.open(first)
    assert "The request for another conversation partner" in texts(ada.top)  # worth raising
    ada.click("Time-out & guests")
    assert "Het loopt vast" in texts(ada.top)
    ada.click("Close")
    assert "Another conversation partner · Closed" in texts(ada.top)
    assert "Close" not in _labels(ada)


def test_ada_invites_a_guest_who_may_read_the_record_then_removes_her(app: Flask) -> None:
    """A guest of this conversation: invited, the record allowed and withheld, removed; Grace
    sees who comes but changes nothing."""
    ada, grace, first = _both(app, "en")
    ada.click("Time-out & guests")
    ada.click("Invite", guest_email="henk@example.org", guest_name="Henk", guest_record=["yes"])
    assert ada.notification == "The guest is invited to this conversation."
    assert "Henk" in texts(ada.top) and "May read the record of this conversation" in texts(ada.top)
    ada.click("Withhold the record")
    guests = _context(app, ADA, first)["journal"]["guests"]
    assert [(g["email"], g["record"]) for g in guests] == [("henk@example.org", False)]
    grace.click("Time-out & guests")
    assert "Henk" in texts(grace.top)
    assert not {"Invite", "Remove", "Allow the record"} & set(_labels(grace))
    ada.click("Remove")
    assert _context(app, ADA, first)["journal"]["guests"] == []


def test_once_the_record_is_written_ada_sends_it_to_a_guest_allowed_to_read_it(
    app: Flask, clock: ManualClock
) -> None:
    """After the conversation, a guest allowed to read the record gets a button that mails the
    link from Ada's mailbox; a guest not allowed gets none."""
    ada, _grace, first = _both(app, "en")
    ada.click("Time-out & guests")
    ada.click("Invite", guest_email="henk@example.org", guest_name="Henk", guest_record=["yes"])
    assert "Send the record" not in _labels(ada)  # no record yet
    ctx = _context(app, ADA, first)
    clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(minutes=5))
    service = app.extensions["goedgesprek.service"]
    caller = Caller(ADA, "Ada", "en")
    ctx = _context(app, ADA, first)
    body = {"ops": [{"op": "record.add_agreement", "text": "Henk helpt mee"}]}
    service.apply(caller, ctx["series"]["id"], ctx["occurrence"]["key"], body, ctx["etag"])
    ada.open(first)
    ada.click("Time-out & guests")
    ada.click("Send the record")
    store = app.extensions["goedgesprek.store"]
    sent = [m.mail for m in store.outbox() if "henk@example.org" in m.mail.to]
    assert len(sent) == 1 and sent[0].sender == ADA and "/g/" in sent[0].text
    ada.click("Withhold the record")
    assert "Send the record" not in _labels(ada)


@pytest.mark.parametrize(
    ("lang", "asks"), [("nl", "Ada vraagt je om feedback"), ("en", "Ada asks for your feedback")]
)
def test_eve_finds_adas_request_on_her_own_homepage_until_she_answers(
    app: Flask, lang: str, asks: str
) -> None:
    """The colleague's own add-in: Eve's homepage lists Ada's request with a button that opens
    its page; answered, it is gone."""
    ada, _grace, first = _both(app, lang)
    ada.click(ada.t("Feedback"))
    ada.click(ada.t("Ask a colleague"))
    bank = _context(app, ADA, first, lang)["journal"]["questions"]
    ada.click(
        ada.t("Ask for feedback"),
        feedback_email=EVE,
        feedback_name="Eve",
        feedback_questions=[bank[0]["key"]],
    )
    link = _link_in(ada.top)
    eve = Panel(app, EVE, lang)
    home = eve.open()
    validate_card(home)
    assert asks in texts(home)
    opens = [b["onClick"].get("openLink", {}).get("url") for b in buttons(home)]
    assert link in opens
    _answer(app, link, "Rustig en helder")
    assert asks not in texts(Panel(app, EVE, lang).open())


# -- races ---------------------------------------------------------------------------------------


def test_a_race_on_the_journal_keeps_what_was_typed_and_applies_it_again(app: Flask) -> None:
    """Grace saves the journal first; Ada's reflection on the older card shows the change as
    not saved, keeps her text, and applies on the new version."""
    ada, grace, _first = _both(app, "en")
    ada.click("Reflection & overview")
    grace.click("Time-out & guests")
    grace.click("Ask", timeout_reason="Even pauze")
    ada.click("Save", reflection_text="Mijn reflectie")
    assert ada.notification is not None and "meanwhile" in ada.notification
    assert "Changed meanwhile" in texts(ada.top)
    assert "Your reflection: Mijn reflectie" in texts(ada.top)
    assert current_inputs(ada.top)["reflection_text"] == "Mijn reflectie"
    ada.click("Apply mine again")
    assert "Changed meanwhile" not in texts(ada.top)
    assert current_inputs(ada.top)["reflection_text"] == "Mijn reflectie"


def test_a_press_sent_twice_saves_one_goal(app: Flask) -> None:
    """Google delivers the same press twice on the same card: one goal."""
    ada, _grace, first = _both(app, "en")
    ada.click("Goals")
    ada.click("Add a goal")
    form = ada.top
    ada.click("Save the goal", goal_title="Leren presenteren")
    ada.stack.append(form)
    ada.click("Save the goal", goal_title="Leren presenteren")
    assert [g["title"] for g in _context(app, ADA, first)["journal"]["goals"]] == [
        "Leren presenteren"
    ]


# -- the cards themselves ------------------------------------------------------------------------


def _ui(lang: str) -> Ui:
    return Ui(
        locale=lang,
        tz=ZoneInfo("Europe/Amsterdam"),
        action_url=lambda name: f"{BASE}/workspace/action/{name}",
    )


def _rich(app: Flask, lang: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Contexts with a journal full of everything, as Ada and as Grace."""
    ada, grace, first = _both(app, lang)
    ada.click(ada.t("Goals"))
    ada.click(ada.t("Add a goal"))
    ada.click(ada.t("Save the goal"), goal_title="Leren <b>presenteren</b> & meer", goal_why="x")
    ada.click(ada.t("Add a goal"))
    ada.click(ada.t("Save the goal"), goal_title="Tweede doel")
    ada.click(ada.t("Propose"))
    ada.open(first)
    ada.click(ada.t("Check-in"))
    ada.click(ada.t("Save my check-in"), energy=["1"], happiness=["3"])
    _back(ada)
    ada.click(ada.t("Feedback"))
    ada.click(ada.t("Ask a colleague"))
    bank = _context(app, ADA, first, lang)["journal"]["questions"]
    ada.click(ada.t("Ask for feedback"), feedback_email=EVE, feedback_questions=[bank[0]["key"]])
    _answer(app, _link_in(ada.top), ANSWER)
    grace.click(grace.t("Time-out & guests"))
    grace.click(grace.t("Ask"), timeout_reason="Even <script>pauze</script>")
    ada.open(first)
    ada.click(ada.t("Time-out & guests"))
    ada.click(ada.t("Invite"), guest_email="henk@example.org")
    for who in (ADA, GRACE):
        yield who, _context(app, who, first, lang)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_journal_card_validates_and_speaks_the_readers_language(
    app: Flask, lang: str
) -> None:
    """Each card of the journal, for each partner, is valid Card JSON in the reader's language,
    with user text escaped."""
    ui = _ui(lang)
    other = "en" if lang == "nl" else "nl"
    for who, ctx in _rich(app, lang):
        cards = [journal_cards.part_card(ui, ctx, part) for part in journal_cards.PARTS]
        overview = _journals(app).overview(
            Caller(who, "x", lang), ctx["series"]["id"], ctx["occurrence"]["key"]
        )
        cards.append(journal_cards.overview_card(ui, ctx, overview))
        section = journal_cards.main_section(ui, ctx)
        worth = journal_cards.suggestions_section(ui, ctx, overview["suggestions"])
        assert section is not None and worth is not None
        cards += [
            {"sections": [section]},
            {"sections": [worth]},
        ]
        for card in cards:
            assert card is not None
            validate_card(card)
            dumped = json.dumps(card, ensure_ascii=False)
            assert "<script>" not in dumped and "<b>presenteren" not in dumped
        names = [card.get("header", {}).get("title") for card in cards]
        assert gettext(lang, "cards", "Goals") in names
        if lang == "nl":
            assert "Doelen" in names and "Goals" not in names
        assert gettext(other, "cards", "Energy and work happiness") not in names
        shown = "\n".join(texts(card) for card in cards)
        assert gettext(lang, "cards", "Worth raising") in shown
        assert "Leren &lt;b&gt;presenteren&lt;/b&gt; &amp; meer" in shown
        if who == GRACE:
            # Neither the unshared answer nor the draft goal reaches the manager's cards.
            dumped = json.dumps(cards, ensure_ascii=False)
            assert ANSWER not in dumped and "Tweede doel" not in dumped
        else:
            assert ANSWER in shown and "Tweede doel" in shown


def test_a_context_without_a_journal_shows_no_journal() -> None:
    """A server that keeps no journal: no journal buttons, no suggestions, no journal cards."""
    ui = _ui("en")
    ctx: dict[str, Any] = {"state": "upcoming", "event": {"id": "e1"}}
    assert journal_cards.main_section(ui, ctx) is None
    assert journal_cards.suggestions_section(ui, ctx, [{"rule": "goal_none"}]) is None
    assert journal_cards.part_card(ui, ctx, "goals") is None


def test_the_sparkline_has_one_block_a_point() -> None:
    """1 to 5 rise block by block; a value off the scale is a gap, not an error."""
    assert journal_cards.sparkline([1, 2, 3, 4, 5]) == "▁▂▄▆█"
    assert journal_cards.sparkline([3, 0, 9]) == "▄  "


def test_forms_become_ops_only_for_the_button_that_owns_the_form() -> None:
    """A form's own button turns its inputs into one op; any other button sends none."""
    form = Form(
        {
            "goal_title": (" Leren ",),
            "goal_horizon": ("2027-06-30",),
            "energy": ("4",),
            "happiness": ("x",),
            "guest_email": ("henk@example.org",),
            "guest_record": ("yes",),
            "progress_g1": ("Goed bezig",),
            "decline_reason": ("Te vaag",),
        }
    )
    assert journal_cards.form_ops(form, {}) == []
    assert journal_cards.form_ops(form, {"form": "goal_new"}) == [
        {
            "op": "goal.add",
            "kind": "development",
            "title": "Leren",
            "why": "",
            "horizon": "2027-06-30",
        }
    ]
    # A value the form could not send goes on as text: the domain says what is wrong with it.
    assert journal_cards.form_ops(form, {"form": "checkin"}) == [
        {"op": "checkin", "energy": 4, "happiness": "x"}
    ]
    assert journal_cards.form_ops(form, {"form": "goals", "goal": "g1"}) == [
        {"op": "goal.progress", "goal": "g1", "note": "Goed bezig"}
    ]
    assert journal_cards.form_ops(form, {"form": "guest"})[0]["record"] is True
    assert journal_cards.form_ops(Form(), {"form": "reflection"}) == []
    assert journal_cards.form_ops(Form(), {"form": "reflection", "had": "1"}) == [
        {"op": "reflection.write", "text": ""}
    ]
    declined = journal_cards.with_reasons(form, [{"op": "goal.decline", "goal": "g1"}])
    assert declined == [{"op": "goal.decline", "goal": "g1", "reason": "Te vaag"}]


def test_the_trend_names_its_days_with_the_year_where_it_changes() -> None:
    """Check-ins across a new year: the year shows on the first and where it changes."""
    trend = [
        {"at": "2026-12-01T10:00:00+00:00", "energy": 3, "happiness": 4},
        {"at": "2026-12-20T10:00:00+00:00", "energy": 4, "happiness": 4},
        {"at": "2027-03-02T10:00:00+00:00", "energy": 2, "happiness": 5},
    ]
    widgets = journal_cards.trend_widgets(_ui("en"), trend)
    energy = widgets[0]["decoratedText"]
    assert energy["text"] == "▄▆▂   3 → 4 → 2"
    assert energy["bottomLabel"] == "1 Dec 2026 · 20 Dec · 2 Mar 2027"
    assert journal_cards.trend_widgets(_ui("nl"), [])[0]["textParagraph"]["text"] == (
        "Nog geen check-ins."
    )


def test_journal_changes_are_described_for_the_unsaved_list() -> None:
    """Every journal op has words of its own in the list of changes a race left unsaved."""
    ui = _ui("en")
    ctx: dict[str, Any] = {
        "journal": {
            "goals": [{"id": "g1", "title": "Leren"}],
            "feedback": [{"id": "f1", "name": "Eve"}],
        }
    }
    ops = [
        {"op": "goal.add", "title": "Nieuw"},
        {"op": "goal.status", "goal": "g1", "status": "achieved"},
        {"op": "checkin", "energy": 4, "happiness": 3},
        {"op": "feedback.share", "request": "f1", "shared": True},
        {"op": "timeout.ask", "kind": "other_partner"},
        {"op": "guest.remove", "email": "henk@example.org"},
        {"op": "mystery"},
    ]
    assert [journal_cards.describe_op(ui, ctx, op) for op in ops] == [
        "New goal: Nieuw",
        "Goal Leren: achieved",
        "Check-in: energy 4, work happiness 3",
        "Share the answer of Eve",
        "Another conversation partner",
        "Remove henk@example.org as a guest",
        "Change mystery",
    ]


def test_suggestions_are_off_the_main_card_once_the_conversation_ended(
    app: Flask, clock: ManualClock
) -> None:
    """After the conversation the record card has the journal's buttons, not the suggestions."""
    ada, _grace, first = _both(app, "en")
    clock.advance(timedelta(days=8))
    card = ada.open(first)
    assert card["name"] == "record"
    assert "Worth raising" not in texts(card)
    assert "Journal" in texts(card) and "Goals" in _labels(ada)
    ada.click("Check-in")
    assert ada.top["name"] == "journal_checkin"


def test_a_journal_waiting_on_the_server_says_so() -> None:
    """A journal saved on the server while the employee's drive is away says so on its cards."""
    ctx: dict[str, Any] = {
        "user": {"role": "manager"},
        "series": {"id": "s1", "employee": {"name": "Ada"}, "manager": {"name": "Grace"}},
        "journal": {"pending": True, "can": [], "goals": [], "trend": []},
    }
    for part in ("goals", "checkin"):
        card = journal_cards.part_card(_ui("nl"), ctx, part)
        assert card is not None
        validate_card(card)
        assert gettext(
            "nl",
            "cards",
            "Saved on the server for now: %(name)s's drive did not answer. It goes there by "
            "itself as soon as the drive answers again; you can keep working.",
            name="Ada",
        ) in texts(card)
