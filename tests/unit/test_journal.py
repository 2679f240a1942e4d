"""The journal's rules: goals agreed by both, the employee's check-ins, reflection and feedback,
what the manager may read, and a journal that reads back as it was written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.conversation import Actor
from cadence.errors import CadenceError, TransitionError
from cadence.journal import (
    FeedbackState,
    GoalKind,
    GoalState,
    GoalStatus,
    Journal,
    TimeOutKind,
)
from cadence.model import Role

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADA = Actor("ada@example.org", Role.EMPLOYEE)
GRACE = Actor("grace@example.org", Role.MANAGER)
OCC = "20261201T090000Z"


def _goal(journal: Journal | None = None) -> Journal:
    journal = journal or Journal("s1")
    return journal.add_goal(
        kind=GoalKind.DEVELOPMENT,
        title="Leren presenteren",
        why="Ik wil het team meenemen",
        horizon=date(2027, 6, 30),
        by=ADA,
        now=NOW,
    )


def _agreed() -> Journal:
    journal = _goal().propose_goal("g1", by=ADA, now=NOW)
    return journal.accept_goal("g1", by=GRACE, now=NOW)


def _asked(journal: Journal | None = None, *, by: Actor = ADA) -> Journal:
    return (journal or Journal("s1")).ask_feedback(
        colleague="Eve@Example.org",
        name="Eve",
        questions=["Waarin ben ik op mijn best?"],
        occurrence=OCC,
        expires=date(2026, 12, 15),
        nonce="n1",
        locale="nl",
        by=by,
        now=NOW,
        employee=ADA.person,
        manager=GRACE.person,
    )


def test_a_goal_is_agreed_once_both_accept_and_an_edit_reopens_it() -> None:
    """The employee proposes (and so accepts); the manager's acceptance agrees it; an edit clears
    the manager's acceptance."""
    proposed = _goal().propose_goal("g1", by=ADA, now=NOW)
    assert proposed.goal("g1").state is GoalState.PROPOSED
    assert proposed.goal("g1").waiting_for == (Role.MANAGER,)
    agreed = proposed.accept_goal("g1", by=GRACE, now=NOW)
    assert agreed.goal("g1").state is GoalState.AGREED
    edited = agreed.edit_goal("g1", title="Leren presenteren voor 50 mensen", by=ADA, now=NOW)
    assert edited.goal("g1").state is GoalState.PROPOSED
    assert edited.goal("g1").accepted_by == {Role.EMPLOYEE}


def test_only_the_employee_writes_proposes_and_closes_goals() -> None:
    """The manager accepts or declines; writing, proposing and closing are the employee's."""
    with pytest.raises(TransitionError) as refused:
        Journal("s1").add_goal(
            kind=GoalKind.RESULTS, title="Omzet", why="", horizon=None, by=GRACE, now=NOW
        )
    assert refused.value.code == "goal_employee"
    with pytest.raises(TransitionError):
        _goal().propose_goal("g1", by=GRACE, now=NOW)
    with pytest.raises(TransitionError):
        _agreed().set_goal_status("g1", GoalStatus.ACHIEVED, by=GRACE, now=NOW)


def test_a_declined_goal_goes_back_to_the_employees_draft() -> None:
    """Declining a proposed goal clears every acceptance and keeps why in the history."""
    declined = _goal().propose_goal("g1", by=ADA, now=NOW)
    declined = declined.decline_goal("g1", by=GRACE, now=NOW, reason="Te vaag")
    assert declined.goal("g1").state is GoalState.DRAFT
    assert not declined.goal("g1").accepted_by
    assert declined.history[-1].detail == "Te vaag"


def test_progress_and_links_only_on_an_agreed_goal_and_status_closes_it() -> None:
    """Progress is noted per conversation by either partner; an achieved goal changes no more."""
    with pytest.raises(TransitionError):
        _goal().note_progress("g1", "Eerste keer", occurrence=OCC, by=ADA, now=NOW)
    agreed = _agreed().note_progress(
        "g1", "Eerste keer gepresenteerd", occurrence=OCC, by=GRACE, now=NOW
    )
    agreed = agreed.link_action("g1", OCC, "x1", by=ADA, now=NOW)
    assert agreed.goal("g1").progress[0].role is Role.MANAGER
    assert agreed.goal("g1").actions == ((OCC, "x1"),)
    done = agreed.set_goal_status("g1", GoalStatus.ACHIEVED, by=ADA, now=NOW)
    with pytest.raises(TransitionError) as closed:
        done.edit_goal("g1", title="Iets anders", by=ADA, now=NOW)
    assert closed.value.code == "goal_closed"
    with pytest.raises(TransitionError) as agreed_removed:
        agreed.remove_goal("g1", by=ADA, now=NOW)
    assert agreed_removed.value.code == "goal_agreed"


def test_a_check_in_is_the_employees_one_per_conversation_within_the_scale() -> None:
    """A second check-in for a conversation replaces the first; between conversations they add."""
    journal = Journal("s1").check_in(4, 3, occurrence=OCC, by=ADA, now=NOW)
    journal = journal.check_in(2, 2, occurrence=OCC, by=ADA, now=NOW + timedelta(hours=1))
    journal = journal.check_in(3, 3, occurrence="", by=ADA, now=NOW + timedelta(days=30))
    assert [(c.energy, c.occurrence) for c in journal.checkins] == [(2, OCC), (3, "")]
    with pytest.raises(TransitionError):
        journal.check_in(3, 3, occurrence=OCC, by=GRACE, now=NOW)
    for bad in (0, 6, True):
        with pytest.raises(CadenceError) as refused:
            journal.check_in(bad, 3, occurrence=OCC, by=ADA, now=NOW)
        assert refused.value.code == "checkin_scale"
    # The history says a check-in happened, never its values.
    assert all("2" not in e.detail and "4" not in e.detail for e in journal.history)


def test_the_manager_reads_no_draft_goal_no_unshared_answer_no_unshared_reflection() -> None:
    """What the employee keeps to themself is gone from the manager's view, not flagged."""
    journal = _goal()  # a draft
    journal = _asked(journal)
    journal = journal.answer("f1", "n1", ["Als je uitlegt"], now=NOW)
    journal = journal.reflect(OCC, "Ik ben moe", by=ADA, now=NOW)
    seen = journal.visible_to(Role.MANAGER)
    assert seen.goals == ()
    assert seen.feedback[0].answers == ()
    assert seen.reflections == ()
    shared = journal.share_feedback("f1", True, by=ADA, now=NOW).share_reflection(
        OCC, True, by=ADA, now=NOW
    )
    seen = shared.visible_to(Role.MANAGER)
    assert seen.feedback[0].answers == ("Als je uitlegt",)
    assert seen.reflections[0].text == "Ik ben moe"
    assert journal.visible_to(Role.EMPLOYEE) is journal


def test_a_request_by_the_manager_waits_for_the_employees_consent() -> None:
    """The manager may ask on the employee's behalf; it goes out only with consent."""
    asked = _asked(by=GRACE)
    assert asked.request("f1").state is FeedbackState.CONSENT
    with pytest.raises(TransitionError):
        asked.consent("f1", by=GRACE, now=NOW)
    with pytest.raises(TransitionError):
        asked.answer("f1", "n1", ["iets"], now=NOW)
    open_ = asked.consent("f1", by=ADA, now=NOW)
    assert open_.request("f1").state is FeedbackState.OPEN


def test_an_answer_comes_once_through_the_current_link_before_it_expires() -> None:
    """An old nonce, a second answer, a withdrawn or expired request are refused by code."""
    asked = _asked()
    codes = []
    for journal, nonce, now in (
        (asked, "old", NOW),
        (asked.answer("f1", "n1", ["ja"], now=NOW), "n1", NOW),
        (asked.withdraw("f1", by=ADA, now=NOW), "n1", NOW),
        (asked, "n1", datetime(2026, 12, 16, 9, 0, tzinfo=UTC)),
    ):
        with pytest.raises(TransitionError) as refused:
            journal.answer("f1", nonce, ["nee"], now=now)
        codes.append(refused.value.code)
    assert codes == ["feedback_link", "feedback_answered", "feedback_withdrawn", "feedback_expired"]
    with pytest.raises(CadenceError) as empty:
        asked.answer("f1", "n1", ["  "], now=NOW)
    assert empty.value.code == "answer_empty"


def test_a_partner_is_no_colleague_to_ask_and_nobody_is_asked_twice() -> None:
    """Asking one of the pair, or the same colleague twice for one conversation, is refused."""
    with pytest.raises(TransitionError) as partner:
        Journal("s1").ask_feedback(
            colleague="GRACE@example.org",
            name="Grace",
            questions=["?"],
            occurrence=OCC,
            expires=date(2026, 12, 15),
            nonce="n",
            locale="nl",
            by=ADA,
            now=NOW,
            employee=ADA.person,
            manager=GRACE.person,
        )
    assert partner.value.code == "feedback_partner"
    with pytest.raises(TransitionError) as twice:
        _asked(_asked())
    assert twice.value.code == "feedback_twice"


def test_time_outs_and_guests() -> None:
    """Either partner asks a time-out (one open of a kind); the employee alone brings guests."""
    journal = Journal("s1").ask_time_out(TimeOutKind.TIME_OUT, "Het loopt vast", by=GRACE, now=NOW)
    with pytest.raises(TransitionError):
        journal.ask_time_out(TimeOutKind.TIME_OUT, "", by=ADA, now=NOW)
    journal = journal.ask_time_out(TimeOutKind.OTHER_PARTNER, "", by=ADA, now=NOW)
    journal = journal.close_time_out("t1", by=ADA, now=NOW)
    assert [t.open for t in journal.timeouts] == [False, True]
    journal = journal.invite_guest(
        OCC,
        "hr@example.org",
        "Henk",
        record=False,
        by=ADA,
        now=NOW,
        partners=(ADA.person, GRACE.person),
    )
    with pytest.raises(TransitionError) as manager:
        journal.invite_guest(
            OCC,
            "x@example.org",
            "X",
            record=False,
            by=GRACE,
            now=NOW,
            partners=(ADA.person, GRACE.person),
        )
    assert manager.value.code == "guest_employee"
    with pytest.raises(TransitionError) as partner:
        journal.invite_guest(
            OCC,
            GRACE.person,
            "",
            record=False,
            by=ADA,
            now=NOW,
            partners=(ADA.person, GRACE.person),
        )
    assert partner.value.code == "guest_partner"
    journal = journal.set_guest(OCC, "hr@example.org", record=True, by=ADA, now=NOW)
    assert journal.guests_of(OCC)[0].record is True
    assert journal.remove_guest(OCC, "hr@example.org", by=ADA, now=NOW).guests == ()


def test_a_journal_reads_back_as_it_was_written() -> None:
    """`to_dict` and `from_dict` keep everything, answers and history included."""
    journal = _agreed().note_progress("g1", "Goed bezig", occurrence=OCC, by=ADA, now=NOW)
    journal = _asked(journal).answer("f1", "n1", ["Als je uitlegt"], now=NOW)
    journal = journal.check_in(3, 4, occurrence=OCC, by=ADA, now=NOW)
    journal = journal.reflect(OCC, "Trots op de release", by=ADA, now=NOW)
    journal = journal.ask_time_out(TimeOutKind.TIME_OUT, "", by=GRACE, now=NOW)
    journal = journal.invite_guest(
        OCC,
        "hr@example.org",
        "Henk",
        record=True,
        by=ADA,
        now=NOW,
        partners=(ADA.person, GRACE.person),
    )
    assert Journal.from_dict(journal.to_dict()) == journal


def test_a_damaged_journal_names_the_field() -> None:
    """A journal file with a bad value is refused with the path of the field."""
    data = _agreed().to_dict()
    data["goals"][0]["state"] = "maybe"
    with pytest.raises(CadenceError, match=r"journal.goals\[0\].state"):
        Journal.from_dict(data)
    newer = {**data, "version": 99}
    with pytest.raises(CadenceError, match="version 99"):
        Journal.from_dict(newer)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.sampled_from(["add", "propose", "accept_m", "decline_m", "edit", "progress", "status"]),
        max_size=12,
    )
)
def test_any_sequence_keeps_a_goal_agreed_exactly_when_both_accepted(steps: list[str]) -> None:
    """Whatever the order of steps, a goal is agreed exactly when both accepted its text."""
    journal = Journal("s1")
    for step in steps:
        try:
            if step == "add":
                journal = _goal(journal)
            elif journal.goals:
                goal = journal.goals[-1].id
                if step == "propose":
                    journal = journal.propose_goal(goal, by=ADA, now=NOW)
                elif step == "accept_m":
                    journal = journal.accept_goal(goal, by=GRACE, now=NOW)
                elif step == "decline_m":
                    journal = journal.decline_goal(goal, by=GRACE, now=NOW)
                elif step == "edit":
                    journal = journal.edit_goal(
                        goal, why=f"{len(journal.history)}", by=ADA, now=NOW
                    )
                elif step == "progress":
                    journal = journal.note_progress(goal, "x", occurrence=OCC, by=ADA, now=NOW)
                else:
                    journal = journal.set_goal_status(goal, GoalStatus.DROPPED, by=ADA, now=NOW)
        except CadenceError:
            continue
        for goal in journal.goals:
            agreed = goal.accepted_by == {Role.EMPLOYEE, Role.MANAGER}
            assert (goal.state is GoalState.AGREED) == agreed
        assert Journal.from_dict(journal.to_dict()) == journal


def test_goals_keep_their_ids_after_a_removal() -> None:
    """A removed goal's id is not given to the next one while a later id exists."""
    journal = _goal(_goal())
    journal = journal.remove_goal("g1", by=ADA, now=NOW)
    journal = _goal(journal)
    assert [g.id for g in journal.goals] == ["g2", "g3"]
    assert replace(journal, goals=()).goals == ()
