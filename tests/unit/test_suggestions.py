"""Each suggestion rule fires on its example and stays quiet just outside it; the reasons read in
Dutch and English."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from addin.suggestion_text import SUGGESTION_MESSAGES, suggestion_text
from cadence.conversation import Action, Actor, Agenda, CarriedFrom, Origin, Theme
from cadence.journal import GoalKind, Journal, TimeOutKind
from cadence.model import Role
from cadence.suggestions import RULES, History, SchemeRule, Suggestion, suggest

ADA = Actor("ada@example.org", Role.EMPLOYEE)
GRACE = Actor("grace@example.org", Role.MANAGER)
THEMES = (Theme("wellbeing", "Hoe gaat het"), Theme("work", "Het werk"), Theme("growth", "Groei"))
# Quarterly, on the first Tuesday-ish: four held, the fifth being prepared.
DATES = [datetime(2026, m, 3, 9, 0, tzinfo=UTC) for m in (3, 6, 9, 12)]
DATES.insert(0, datetime(2025, 12, 2, 9, 0, tzinfo=UTC))
CURRENT = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2027, 2, 20)


def _key(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


def _agenda(at: datetime, *themes: str, actions: tuple[Action, ...] = ()) -> Agenda:
    agenda = Agenda("s1", at, THEMES, actions=actions)
    for theme in themes:
        agenda = agenda.add_item(theme=theme, title=f"Over {theme}", by=ADA, now=at)
    return agenda


def _history(*themes: str) -> list[History]:
    return [History(_key(at), _agenda(at, *themes)) for at in DATES]


def _run(journal: Journal | None = None, **kw: Any) -> tuple[Suggestion, ...]:
    args: dict[str, Any] = {
        "journal": journal or _with_goal(),
        "role": Role.EMPLOYEE,
        "occurrence": CURRENT,
        "key": _key(CURRENT),
        "agenda": _agenda(CURRENT, "work"),
        "history": _history("wellbeing", "work", "growth"),
        "themes": THEMES,
        "today": TODAY,
    }
    args.update(kw)
    return suggest(**args)


def _carried(action_id: str, text: str, due: date) -> Action:
    origin = CarriedFrom(DATES[-1], Origin.ACTION, action_id)
    return Action(action_id, Role.MANAGER, text, due=due, carried_from=origin)


def _rules(found: tuple[Suggestion, ...]) -> list[str]:
    return [s.rule for s in found]


def _with_goal(*, agreed_at: datetime = DATES[0], notes: tuple[datetime, ...] = ()) -> Journal:
    journal = Journal("s1").add_goal(
        kind=GoalKind.DEVELOPMENT, title="Presenteren", why="", horizon=None, by=ADA, now=agreed_at
    )
    journal = journal.propose_goal("g1", by=ADA, now=agreed_at)
    journal = journal.accept_goal("g1", by=GRACE, now=agreed_at)
    for at in notes:
        journal = journal.note_progress("g1", "Stap gezet", occurrence=_key(at), by=ADA, now=at)
    return journal


def test_a_quiet_pair_gets_no_suggestion() -> None:
    """An agreed goal with fresh progress, every theme discussed, nothing overdue: nothing."""
    assert _run(_with_goal(notes=(DATES[-1],))) == ()


def test_goal_stalled_after_two_conversations_without_progress() -> None:
    """Example: "Presenteren" agreed in Dec 2025, last progress in June 2026, none in Sep or Dec."""
    found = _run(_with_goal(notes=(DATES[2],)))
    assert _rules(found) == ["goal_stalled"]
    assert found[0].subject == "Presenteren"
    assert _run(_with_goal(notes=(DATES[3],))) == ()


def test_goal_horizon_near_or_past() -> None:
    """Example: horizon 2027-03-01, prepared on 2027-02-20: near; on 2027-03-05: past."""
    journal = _with_goal(notes=(DATES[-1],)).edit_goal(
        "g1", horizon=date(2027, 3, 1), by=ADA, now=DATES[-1]
    )
    journal = journal.accept_goal("g1", by=GRACE, now=DATES[-1])
    near = _run(journal)
    assert [(s.rule, s.params["when"]) for s in near] == [("goal_horizon", "near")]
    past = _run(journal, today=date(2027, 3, 5))
    assert [(s.rule, s.params["when"]) for s in past] == [("goal_horizon", "past")]


def test_goal_none_after_a_conversation_without_goals() -> None:
    """Example: five conversations held and no goal proposed or agreed."""
    found = _run(Journal("s1"))
    assert _rules(found) == ["goal_none"]
    assert found[0].params["count"] == "5"
    assert _run(Journal("s1"), history=[]) == ()


def test_action_overdue() -> None:
    """Example: "Opleidingsbudget aanvragen", due 2027-02-15, still open on 2027-02-20."""
    late = _carried("x1", "Opleidingsbudget aanvragen", date(2027, 2, 15))
    later = _carried("x2", "Cursus kiezen", date(2027, 3, 15))
    found = _run(_with_goal(notes=(DATES[-1],)), agenda=_agenda(CURRENT, actions=(late, later)))
    assert [(s.rule, s.subject) for s in found] == [
        ("action_overdue", "Opleidingsbudget aanvragen")
    ]


def test_theme_quiet_after_a_year_without_items() -> None:
    """Example: "Groei" had items only in Dec 2025; by Mar 2027 a year has passed without."""
    history = [History(_key(DATES[0]), _agenda(DATES[0], "wellbeing", "work", "growth"))]
    history += [History(_key(at), _agenda(at, "wellbeing", "work")) for at in DATES[1:]]
    found = _run(_with_goal(notes=(DATES[-1],)), history=history)
    assert [(s.rule, s.ref, s.params["last"]) for s in found] == [
        ("theme_quiet", "growth", "2025-12-02")
    ]
    # A pair that has talked for less than a year is not told a theme was quiet "for a year".
    assert _run(_with_goal(notes=(DATES[-1],)), history=history[3:]) == ()
    # On this agenda already: nothing to suggest.
    assert (
        _run(_with_goal(notes=(DATES[-1],)), history=history, agenda=_agenda(CURRENT, "growth"))
        == ()
    )


@pytest.mark.parametrize(
    ("values", "rules"),
    [
        ([(4, 4), (3, 4), (2, 4)], ["energy_falling"]),  # 4 -> 3 -> 2
        ([(4, 5), (4, 3)], ["happiness_falling"]),  # 5 -> 3 at once
        ([(3, 3), (2, 3)], ["energy_low"]),  # fell by one to 2
        ([(2, 4), (3, 4)], []),  # rising again
    ],
)
def test_energy_and_happiness(values: list[tuple[int, int]], rules: list[str]) -> None:
    """Examples: energy 4, 3, 2 falls; happiness 5 then 3 falls; a latest 2 is low."""
    journal = _with_goal(notes=(DATES[-1],))
    for n, (energy, happiness) in enumerate(values):
        at = DATES[-len(values) + n]
        journal = journal.check_in(energy, happiness, occurrence=_key(at), by=ADA, now=at)
    assert _rules(_run(journal)) == rules


def test_feedback_open_and_waiting_for_consent_as_each_partner_sees_it() -> None:
    """Example: Eve answered on 2027-02-10 and it was not discussed; the manager is told only
    once it is shared; a manager's request waits for the employee's consent."""
    journal = _with_goal(notes=(DATES[-1],)).ask_feedback(
        colleague="eve@example.org",
        name="Eve",
        questions=["?"],
        occurrence=_key(CURRENT),
        expires=date(2027, 2, 28),
        nonce="n",
        locale="nl",
        by=ADA,
        now=datetime(2027, 2, 1, tzinfo=UTC),
        employee=ADA.person,
        manager=GRACE.person,
    )
    journal = journal.answer("f1", "n", ["Goed"], now=datetime(2027, 2, 10, tzinfo=UTC))
    assert [(s.rule, s.params["answered"]) for s in _run(journal)] == [
        ("feedback_open", "2027-02-10")
    ]
    as_manager = _run(journal.visible_to(Role.MANAGER), role=Role.MANAGER)
    assert as_manager == ()
    shared = journal.share_feedback("f1", True, by=ADA, now=DATES[-1])
    assert _rules(_run(shared.visible_to(Role.MANAGER), role=Role.MANAGER)) == ["feedback_open"]
    discussed = shared.mark_discussed("f1", by=GRACE, now=DATES[-1])
    assert _run(discussed) == ()
    consent = _with_goal(notes=(DATES[-1],)).ask_feedback(
        colleague="bob@example.org",
        name="Bob",
        questions=["?"],
        occurrence=_key(CURRENT),
        expires=date(2027, 2, 28),
        nonce="m",
        locale="nl",
        by=GRACE,
        now=DATES[-1],
        employee=ADA.person,
        manager=GRACE.person,
    )
    assert _rules(_run(consent)) == ["feedback_consent"]
    assert _run(consent.visible_to(Role.MANAGER), role=Role.MANAGER) == ()


def test_timeout_open() -> None:
    """Example: a time-out asked on 2027-01-10 and still open."""
    journal = _with_goal(notes=(DATES[-1],)).ask_time_out(
        TimeOutKind.TIME_OUT, "Vastgelopen", by=GRACE, now=datetime(2027, 1, 10, tzinfo=UTC)
    )
    assert [(s.rule, s.params["since"]) for s in _run(journal)] == [("timeout_open", "2027-01-10")]
    assert _run(journal.close_time_out("t1", by=ADA, now=DATES[-1])) == ()


@pytest.mark.parametrize(
    ("joined", "years"),
    [(date(2022, 4, 1), "5"), (date(2016, 1, 15), "11"), (date(2022, 8, 1), None)],
)
def test_anniversary(joined: date, years: str | None) -> None:
    """Example: joined 2022-04-01, conversation 2027-03-02: five years on 1 April."""
    found = _run(_with_goal(notes=(DATES[-1],)), joined=joined)
    assert [s.params["years"] for s in found] == ([years] if years else [])


def test_schemes_in_their_months_and_after_their_years() -> None:
    """Example: the study budget in Jan-Mar; the career scan after five years of service."""
    schemes = [
        SchemeRule("study", "Studiebudget", "Vraag het aan vóór 1 april.", months=(1, 2, 3)),
        SchemeRule("leave", "Verlof", "Plan je vakantie.", months=(5, 6)),
        SchemeRule("scan", "Loopbaanscan", "Na vijf jaar.", min_years=5),
    ]
    quiet = _with_goal(notes=(DATES[-1],))
    found = _run(quiet, schemes=schemes, joined=date(2020, 9, 1))
    assert [s.ref for s in found] == ["study", "scan"]
    found = _run(quiet, schemes=schemes, joined=date(2023, 9, 1))
    assert [s.ref for s in found] == ["study"]
    # Without a joining date, a scheme tied to years of service is not guessed.
    assert [s.ref for s in _run(quiet, schemes=schemes)] == ["study"]


def test_every_rule_and_variant_has_a_title_and_reason_in_both_languages() -> None:
    """Each rule reads as a sentence in nl and en, dates written out."""
    examples: dict[str, dict[str, str]] = {
        "timeout_open": {"kind": "other_partner", "since": "2027-01-10"},
        "action_overdue": {"due": "2027-02-15"},
        "goal_stalled": {"count": "3"},
        "goal_horizon": {"horizon": "2027-03-01", "when": "past"},
        "goal_none": {"count": "2"},
        "energy_falling": {"from": "4", "to": "2", "since": "2027-01-01"},
        "happiness_falling": {"from": "5", "to": "3", "since": "2027-01-01"},
        "energy_low": {"value": "2"},
        "happiness_low": {"value": "1"},
        "feedback_open": {"answered": "2027-02-10"},
        "feedback_consent": {},
        "theme_quiet": {"last": ""},
        "anniversary": {"years": "5", "date": "2027-04-01", "joined": "2022-04-01"},
        "scheme": {"reason": "Vraag het aan vóór 1 april."},
    }
    assert set(examples) == set(RULES)
    for rule, params in examples.items():
        for locale in ("nl", "en"):
            text = suggestion_text({"rule": rule, "subject": "X", "params": params}, locale)
            assert text["title"] and text["reason"], (rule, locale)
            assert "%(" not in text["title"] + text["reason"]
    nl = suggestion_text(
        {"rule": "action_overdue", "subject": "Budget", "params": examples["action_overdue"]}, "nl"
    )
    assert nl == {
        "title": "Actiepunt: Budget",
        "reason": "Het moest klaar zijn op 15 februari 2027 en staat nog open.",
    }
    assert {"timeout_open_other_partner", "goal_horizon_near", "theme_quiet_never"} <= set(
        SUGGESTION_MESSAGES
    )


def test_suggestions_come_in_the_rules_order() -> None:
    """The most pressing first: an open time-out before an overdue action before a quiet theme."""
    late = _carried("x1", "Budget", date(2027, 1, 1))
    journal = Journal("s1").ask_time_out(TimeOutKind.TIME_OUT, "", by=ADA, now=DATES[-1])
    history = [History(_key(at), _agenda(at, "work")) for at in DATES]
    found = _run(journal, agenda=_agenda(CURRENT, actions=(late,)), history=history)
    order = _rules(found)
    assert order == sorted(order, key=RULES.index)
    assert order[:2] == ["timeout_open", "action_overdue"]
    assert "theme_quiet" in order and "goal_none" in order
    assert CURRENT - timedelta(days=365) > DATES[0]
