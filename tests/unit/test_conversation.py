"""The conversation: agenda ownership, agreement state machine, carry-over, serialisation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.conversation import (
    AGENDA_SCHEMA,
    KEEP,
    Action,
    ActionStatus,
    Actor,
    Agenda,
    AgendaState,
    AgreementState,
    CarriedFrom,
    HistoryEntry,
    Origin,
    Record,
    Step,
    Theme,
    carry_over,
)
from cadence.errors import CadenceError, TransitionError
from cadence.model import Pair, Person, Role

AMS = ZoneInfo("Europe/Amsterdam")
OCC = datetime(2027, 1, 12, 10, 0, tzinfo=AMS)
NEXT = datetime(2027, 4, 13, 10, 0, tzinfo=AMS)
T0 = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
ADA = Actor("ada", Role.EMPLOYEE)
GRACE = Actor("grace", Role.MANAGER)
THEMES = (
    Theme("personal", "Persoonlijk"),
    Theme("role", "Huidige functie"),
    Theme("growth", "Groei en ontwikkeling"),
)


def tick(n: int) -> datetime:
    """The n-th minute after T0, so history instants are distinct."""
    return T0 + timedelta(minutes=n)


def agenda() -> Agenda:
    """An empty draft agenda for OCC."""
    return Agenda(series_id="s1", occurrence=OCC, themes=THEMES)


def filled() -> Agenda:
    """A draft with one item of each partner."""
    a = agenda().add_item(theme="personal", title="Energie", by=ADA, now=tick(1))
    return a.add_item(theme="role", title="Feedback op project X", by=GRACE, now=tick(2))


# -- actors -------------------------------------------------------------------------------------


def test_actor_of_pair_gives_the_role() -> None:
    """A partner's role comes from the pair."""
    pair = Pair(Person("ada", "Ada", "ada@example.org"), Person("grace", "Grace", "g@example.org"))
    assert Actor.of(pair, "grace") == GRACE


def test_actor_of_pair_refuses_an_outsider() -> None:
    """Someone outside the pair cannot act on the conversation."""
    pair = Pair(Person("ada", "Ada", "ada@example.org"), Person("grace", "Grace", "g@example.org"))
    with pytest.raises(TransitionError, match="not a partner"):
        Actor.of(pair, "hr")


# -- agenda -------------------------------------------------------------------------------------


def test_items_get_ids_owner_and_proposer() -> None:
    """The employee adds, the manager proposes; each item remembers who proposed it."""
    a = filled()
    assert [(i.id, i.owner, i.proposed_by) for i in a.items] == [
        ("i1", Role.EMPLOYEE, Role.EMPLOYEE),
        ("i2", Role.MANAGER, Role.MANAGER),
    ]
    assert a.state is AgendaState.DRAFT
    assert [e.step for e in a.history] == [Step.ADD, Step.ADD]


def test_an_owner_other_than_the_proposer_can_be_named() -> None:
    """The manager may propose an item the employee brings."""
    a = agenda().add_item(
        theme="growth", title="Opleiding", by=GRACE, now=tick(1), owner=Role.EMPLOYEE
    )
    assert (a.items[0].owner, a.items[0].proposed_by) == (Role.EMPLOYEE, Role.MANAGER)


def test_add_item_refuses_an_unknown_theme() -> None:
    """An item must sit under one of the agenda's themes; the message lists them."""
    with pytest.raises(CadenceError, match="use one of personal, role, growth"):
        agenda().add_item(theme="salary", title="x", by=ADA, now=tick(1))


def test_add_item_refuses_an_empty_title() -> None:
    """A blank title is refused with what to do."""
    with pytest.raises(CadenceError, match="write a few words"):
        agenda().add_item(theme="role", title="   ", by=ADA, now=tick(1))


def test_add_item_refuses_a_multiline_title() -> None:
    """A title is one line; the rest goes into the notes."""
    with pytest.raises(CadenceError, match="one line"):
        agenda().add_item(theme="role", title="a\nb", by=ADA, now=tick(1))


def test_add_item_refuses_a_naive_now() -> None:
    """`now` must be aware."""
    with pytest.raises(CadenceError, match="aware"):
        agenda().add_item(theme="role", title="x", by=ADA, now=datetime(2027, 1, 1))


def test_steps_leave_the_original_unchanged() -> None:
    """Every step returns a new agenda; the old value stays as it was."""
    before = agenda()
    after = before.add_item(theme="role", title="x", by=ADA, now=tick(1))
    assert before.items == ()
    assert len(after.items) == 1


def test_manager_cannot_remove_the_employees_item() -> None:
    """The employee owns the agenda: the manager may not remove their item (once shared)."""
    with pytest.raises(TransitionError, match="cannot remove item 'i1'"):
        filled().share(by=ADA, now=tick(3)).remove_item("i1", by=GRACE, now=tick(4))


def test_manager_cannot_edit_the_employees_item() -> None:
    """The manager may not reword the employee's item (once shared)."""
    with pytest.raises(TransitionError, match="propose a new item instead"):
        filled().share(by=ADA, now=tick(3)).edit_item("i1", title="Anders", by=GRACE, now=tick(4))


def test_manager_can_edit_and_remove_their_own_item() -> None:
    """The manager changes and withdraws what they proposed."""
    a = filled().edit_item("i2", notes="met voorbeelden", by=GRACE, now=tick(3))
    assert a.item("i2").notes == "met voorbeelden"
    assert [i.id for i in a.remove_item("i2", by=GRACE, now=tick(4)).items] == ["i1"]


def test_employee_can_remove_the_managers_item() -> None:
    """The employee leads the agenda and may take off any item."""
    assert [i.id for i in filled().remove_item("i2", by=ADA, now=tick(3)).items] == ["i1"]


def test_ids_are_not_reused_after_removal() -> None:
    """A removed item's id is never handed out again."""
    a = filled().remove_item("i2", by=ADA, now=tick(3))
    a = a.add_item(theme="growth", title="Cursus", by=ADA, now=tick(4))
    assert [i.id for i in a.items] == ["i1", "i3"]


def test_edit_with_the_same_values_changes_nothing() -> None:
    """An edit that changes nothing returns the agenda as it is, without history."""
    a = filled()
    assert a.edit_item("i1", title="Energie", by=ADA, now=tick(3)) is a


def test_edit_can_move_an_item_to_another_theme() -> None:
    """An item can change theme, but only to one on the agenda."""
    a = filled().edit_item("i1", theme="growth", by=ADA, now=tick(3))
    assert a.item("i1").theme == "growth"
    with pytest.raises(CadenceError, match="unknown theme"):
        a.edit_item("i1", theme="nope", by=ADA, now=tick(4))


def test_only_the_employee_orders_the_agenda() -> None:
    """Moving items is the employee's; the manager is refused."""
    a = filled().move_item("i2", 0, by=ADA, now=tick(3))
    assert [i.id for i in a.items] == ["i2", "i1"]
    with pytest.raises(TransitionError, match="only the employee orders"):
        a.move_item("i2", 1, by=GRACE, now=tick(4))


def test_move_item_refuses_an_index_out_of_range() -> None:
    """The index must be a position on the agenda."""
    with pytest.raises(CadenceError, match="index must be 0-1, got 5"):
        filled().move_item("i1", 5, by=ADA, now=tick(3))


def test_unknown_item_is_named() -> None:
    """An unknown id is refused with the id in the message."""
    with pytest.raises(CadenceError, match="no item 'i9'"):
        filled().remove_item("i9", by=ADA, now=tick(3))


def test_agenda_moves_draft_shared_agreed() -> None:
    """Shared by the employee, agreed once both partners agreed."""
    a = filled().share(by=ADA, now=tick(3))
    assert a.state is AgendaState.SHARED
    a = a.agree(by=GRACE, now=tick(4))
    assert (a.state, a.agreed_by) == (AgendaState.SHARED, frozenset({Role.MANAGER}))
    a = a.agree(by=ADA, now=tick(5))
    assert a.state is AgendaState.AGREED


def test_only_the_employee_shares() -> None:
    """The manager cannot share the employee's agenda."""
    with pytest.raises(TransitionError, match="only the employee shares"):
        filled().share(by=GRACE, now=tick(3))


def test_share_twice_is_refused() -> None:
    """A shared agenda cannot be shared again."""
    with pytest.raises(TransitionError, match="already shared"):
        filled().share(by=ADA, now=tick(3)).share(by=ADA, now=tick(4))


def test_agree_to_a_draft_is_refused() -> None:
    """Nobody agrees to a draft the manager has not seen."""
    with pytest.raises(TransitionError, match="still a draft"):
        filled().agree(by=GRACE, now=tick(3))


def test_agree_twice_is_refused() -> None:
    """A partner agrees once."""
    a = filled().share(by=ADA, now=tick(3)).agree(by=GRACE, now=tick(4))
    with pytest.raises(TransitionError, match="manager already agreed"):
        a.agree(by=GRACE, now=tick(5))


def agreed() -> Agenda:
    """A filled agenda both partners agreed to."""
    a = filled().share(by=ADA, now=tick(3))
    return a.agree(by=GRACE, now=tick(4)).agree(by=ADA, now=tick(5))


def test_an_edit_after_agreement_reopens_the_agenda() -> None:
    """A change to an agreed agenda clears the agreements: back to shared, reopen logged."""
    a = agreed().add_item(theme="growth", title="Nieuw", by=GRACE, now=tick(6))
    assert (a.state, a.agreed_by) == (AgendaState.SHARED, frozenset())
    assert [e.step for e in a.history[-2:]] == [Step.REOPEN, Step.ADD]


def test_an_edit_after_one_agreement_clears_it() -> None:
    """An agreement given to other content is cleared by a change."""
    a = filled().share(by=ADA, now=tick(3)).agree(by=GRACE, now=tick(4))
    a = a.edit_item("i1", title="Energie en balans", by=ADA, now=tick(5))
    assert (a.state, a.agreed_by) == (AgendaState.SHARED, frozenset())


def test_history_keeps_who_agreed_when() -> None:
    """The history is append-only: agreements stay visible after a reopen."""
    a = agreed().remove_item("i2", by=ADA, now=tick(6))
    agree = [(e.person, e.role, e.at) for e in a.history if e.step is Step.AGREE]
    assert agree == [("grace", Role.MANAGER, tick(4)), ("ada", Role.EMPLOYEE, tick(5))]


def test_agenda_refuses_an_inconsistent_state() -> None:
    """An agreed agenda without both agreements cannot be built (e.g. from a tampered file)."""
    with pytest.raises(CadenceError, match="exactly when both"):
        Agenda("s1", OCC, THEMES, state=AgendaState.AGREED, agreed_by=frozenset({Role.MANAGER}))


def test_agenda_refuses_duplicate_themes() -> None:
    """Theme keys are unique."""
    with pytest.raises(CadenceError, match="appears twice"):
        Agenda("s1", OCC, (THEMES[0], THEMES[0]))


def test_theme_key_must_be_a_slug() -> None:
    """A theme key is lowercase letters, digits or _."""
    with pytest.raises(CadenceError, match="lowercase letters"):
        Theme("Persoonlijk!", "Persoonlijk")


# -- record and agreements ------------------------------------------------------------------------


def record() -> Record:
    """An empty record for OCC."""
    return Record.for_agenda(agenda())


def proposed() -> Record:
    """A record with one proposed agreement."""
    r = record().add_agreement("Ada volgt de cursus", by=ADA, now=tick(10))
    return r.propose("ag1", by=ADA, now=tick(11))


def test_agreement_moves_draft_proposed_final() -> None:
    """Final only after both partners accepted."""
    r = record().add_agreement("Ada volgt de cursus", by=ADA, now=tick(10))
    assert r.agreement("ag1").state is AgreementState.DRAFT
    r = r.propose("ag1", by=ADA, now=tick(11))
    assert (r.agreement("ag1").state, r.agreement("ag1").proposed_at) == (
        AgreementState.PROPOSED,
        tick(11),
    )
    r = r.accept("ag1", by=ADA, now=tick(12))
    assert r.agreement("ag1").waiting_for == (Role.MANAGER,)
    assert not r.is_final
    r = r.accept("ag1", by=GRACE, now=tick(13))
    assert r.agreement("ag1").state is AgreementState.FINAL
    assert r.is_final


def test_accepting_a_draft_is_refused() -> None:
    """A draft must be proposed first."""
    r = record().add_agreement("x", by=ADA, now=tick(10))
    with pytest.raises(TransitionError, match="propose it before accepting"):
        r.accept("ag1", by=GRACE, now=tick(11))


def test_accepting_twice_is_refused() -> None:
    """A partner accepts once."""
    r = proposed().accept("ag1", by=GRACE, now=tick(12))
    with pytest.raises(TransitionError, match="manager accepted agreement 'ag1' already"):
        r.accept("ag1", by=GRACE, now=tick(13))


def test_accepting_a_final_agreement_is_refused() -> None:
    """Nothing is left to accept on a final agreement."""
    r = proposed().accept("ag1", by=GRACE, now=tick(12)).accept("ag1", by=ADA, now=tick(13))
    with pytest.raises(TransitionError, match="final already"):
        r.accept("ag1", by=ADA, now=tick(14))


def test_proposing_twice_is_refused() -> None:
    """Only a draft is proposed."""
    with pytest.raises(TransitionError, match="only a draft is proposed"):
        proposed().propose("ag1", by=GRACE, now=tick(12))


def test_edit_after_acceptance_reopens_and_clears() -> None:
    """An edit after any acceptance: back to proposed, acceptances cleared, new proposal time."""
    r = proposed().accept("ag1", by=GRACE, now=tick(12)).accept("ag1", by=ADA, now=tick(13))
    r = r.edit_agreement("ag1", "Ada volgt de cursus in het voorjaar", by=GRACE, now=tick(14))
    a = r.agreement("ag1")
    assert (a.state, a.accepted, a.proposed_at) == (AgreementState.PROPOSED, (), tick(14))
    assert [e.step for e in r.history[-2:]] == [Step.REOPEN, Step.EDIT]


def test_history_keeps_who_accepted_which_text() -> None:
    """After a reopen the history still shows each acceptance, with the text accepted."""
    r = proposed().accept("ag1", by=GRACE, now=tick(12))
    r = r.edit_agreement("ag1", "Nieuwe tekst", by=ADA, now=tick(13))
    r = r.accept("ag1", by=GRACE, now=tick(14))
    accepts = [(e.person, e.at, e.detail) for e in r.history if e.step is Step.ACCEPT]
    assert accepts == [
        ("grace", tick(12), "Ada volgt de cursus"),
        ("grace", tick(14), "Nieuwe tekst"),
    ]


def test_edit_of_a_draft_keeps_it_a_draft() -> None:
    """Rewording a draft does not propose it."""
    r = (
        record()
        .add_agreement("x", by=ADA, now=tick(10))
        .edit_agreement("ag1", "y", by=GRACE, now=tick(11))
    )
    assert (r.agreement("ag1").text, r.agreement("ag1").state) == ("y", AgreementState.DRAFT)


def test_decline_sends_the_agreement_back_to_draft() -> None:
    """A partner who does not accept sends it back: they talk again."""
    r = proposed().accept("ag1", by=ADA, now=tick(12))
    r = r.decline("ag1", by=GRACE, now=tick(13), reason="eerst budget checken")
    a = r.agreement("ag1")
    assert (a.state, a.accepted, a.proposed_at) == (AgreementState.DRAFT, (), None)
    assert r.history[-1].detail == "eerst budget checken"


def test_accept_all_accepts_what_waits_for_that_role() -> None:
    """Accept-all takes every proposed agreement still waiting for the role."""
    r = proposed().add_agreement("tweede", by=GRACE, now=tick(12))
    r = r.propose("ag2", by=GRACE, now=tick(13)).accept_all(by=ADA, now=tick(14))
    assert [a.accepted_by for a in r.agreements] == [frozenset({Role.EMPLOYEE})] * 2
    with pytest.raises(TransitionError, match="no proposed agreement"):
        r.accept_all(by=ADA, now=tick(15))


def test_removing_an_accepted_agreement_is_refused() -> None:
    """An accepted agreement is changed (which proposes it again), not silently removed."""
    r = proposed().accept("ag1", by=ADA, now=tick(12))
    with pytest.raises(TransitionError, match="change its text") as refused:
        r.remove_agreement("ag1", by=GRACE, now=tick(13))
    assert refused.value.code == "agreement_accepted_not_removed"
    assert proposed().remove_agreement("ag1", by=GRACE, now=tick(13)).agreements == ()


def test_summaries_are_replaced_per_item() -> None:
    """A second summary of the same item replaces the first."""
    r = record().summarise("i1", "Gaat goed", finished=False, by=ADA, now=tick(10))
    r = r.summarise("i1", "Gaat goed, afgerond", finished=True, by=GRACE, now=tick(11))
    assert [(s.item_id, s.finished) for s in r.summaries] == [("i1", True)]


def test_actions_have_owner_due_and_status() -> None:
    """An action is open until done or dropped, and can be opened again."""
    r = record().add_action(
        "Cursus zoeken", owner=Role.EMPLOYEE, due=date(2027, 2, 1), by=ADA, now=tick(10)
    )
    assert r.open_actions[0].due == date(2027, 2, 1)
    r = r.set_status("ac1", ActionStatus.DONE, by=ADA, now=tick(11))
    assert r.open_actions == ()
    with pytest.raises(TransitionError, match="it can become open"):
        r.set_status("ac1", ActionStatus.DROPPED, by=ADA, now=tick(12))
    assert r.set_status("ac1", ActionStatus.OPEN, by=ADA, now=tick(12)).open_actions


def test_edit_action_keeps_or_clears_the_due_date() -> None:
    """`due` left out keeps the date; `due=None` clears it."""
    r = record().add_action(
        "Cursus zoeken", owner=Role.EMPLOYEE, due=date(2027, 2, 1), by=ADA, now=tick(10)
    )
    kept = r.edit_action("ac1", owner=Role.MANAGER, by=ADA, now=tick(11))
    assert (kept.action("ac1").owner, kept.action("ac1").due) == (Role.MANAGER, date(2027, 2, 1))
    cleared = r.edit_action("ac1", due=None, by=ADA, now=tick(11))
    assert cleared.action("ac1").due is None
    assert r.edit_action("ac1", due=KEEP, by=ADA, now=tick(11)) is r


# -- carry-over ---------------------------------------------------------------------------------


def met() -> tuple[Agenda, Record]:
    """An agreed agenda of three items and its record: one finished, one not, one not discussed."""
    a = agreed().add_item(theme="growth", title="Vijf jaar", by=ADA, now=tick(6))
    r = Record.for_agenda(a)
    r = r.summarise("i1", "Energie is goed", finished=True, by=ADA, now=tick(10))
    r = r.summarise("i2", "Half besproken", finished=False, by=GRACE, now=tick(11))
    r = r.add_action(
        "Cursus zoeken",
        owner=Role.EMPLOYEE,
        due=date(2027, 3, 1),
        by=ADA,
        now=tick(12),
        item_id="i3",
    )
    r = r.add_action("Budget vragen", owner=Role.MANAGER, by=GRACE, now=tick(13))
    r = r.add_action("Klaar", owner=Role.MANAGER, by=GRACE, now=tick(14))
    return a, r.set_status("ac3", ActionStatus.DONE, by=GRACE, now=tick(15))


THIRD = NEXT + timedelta(days=91)


def test_carry_over_takes_unfinished_items() -> None:
    """Unfinished and undiscussed items come along, flagged with their origin."""
    a, r = met()
    nxt = carry_over(a, r, occurrence=NEXT, themes=THEMES)
    got = [
        (i.id, i.theme, i.title, i.carried_from.origin, i.carried_from.ref)
        for i in nxt.items
        if i.carried_from is not None
    ]
    assert got == [
        ("i1", "role", "Feedback op project X", Origin.ITEM, "i2"),
        ("i2", "growth", "Vijf jaar", Origin.ITEM, "i3"),
    ]
    assert all(i.carried_over for i in nxt.items)
    assert {i.carried_from.occurrence for i in nxt.items if i.carried_from} == {OCC}


def test_carry_over_keeps_open_actions_as_actions() -> None:
    """Open actions stay actions: owner, due date, status and where they were agreed are kept."""
    a, r = met()
    nxt = carry_over(a, r, occurrence=NEXT, themes=THEMES)
    got = [
        (x.id, x.description, x.owner, x.due, x.status, x.item_id, x.carried_from)
        for x in nxt.actions
    ]
    assert got == [
        (
            "ca1",
            "Cursus zoeken",
            Role.EMPLOYEE,
            date(2027, 3, 1),
            ActionStatus.OPEN,
            "i2",
            CarriedFrom(OCC, Origin.ACTION, "ac1"),
        ),
        (
            "ca2",
            "Budget vragen",
            Role.MANAGER,
            None,
            ActionStatus.OPEN,
            "",
            CarriedFrom(OCC, Origin.ACTION, "ac2"),
        ),
    ]
    assert nxt.open_actions == nxt.actions


def test_carry_over_skips_a_conversation_without_losing_anything() -> None:
    """From the first conversation straight to the third, everything open still comes along."""
    a, r = met()
    third = carry_over(a, r, occurrence=THIRD, themes=THEMES)
    assert [i.title for i in third.items] == ["Feedback op project X", "Vijf jaar"]
    assert [(x.description, x.due) for x in third.actions] == [
        ("Cursus zoeken", date(2027, 3, 1)),
        ("Budget vragen", None),
    ]


def test_an_action_never_closed_carries_on_from_where_it_was_agreed() -> None:
    """An action carried into the second agenda and left open reaches the third, origin kept."""
    a, r = met()
    second = carry_over(a, r, occurrence=NEXT, themes=THEMES)
    second = second.set_action_status("ca2", ActionStatus.DONE, by=GRACE, now=tick(20))
    record2 = Record.for_agenda(second).add_action(
        "Mentor kiezen", owner=Role.EMPLOYEE, by=ADA, now=tick(21)
    )
    third = carry_over(second, record2, occurrence=THIRD, themes=THEMES)
    assert [(x.id, x.description, x.carried_from) for x in third.actions] == [
        ("ca1", "Cursus zoeken", CarriedFrom(OCC, Origin.ACTION, "ac1")),
        ("ca2", "Mentor kiezen", CarriedFrom(NEXT, Origin.ACTION, "ac1")),
    ]
    # Without a record of the second conversation its open carried actions still come along.
    assert [
        x.description for x in carry_over(second, None, occurrence=THIRD, themes=THEMES).actions
    ] == ["Cursus zoeken"]


def test_either_partner_marks_a_carried_action_done_without_reopening() -> None:
    """Following up an action is not an agenda change: the agreements stay, history says who."""
    a, r = met()
    nxt = carry_over(a, r, occurrence=NEXT, themes=THEMES)
    nxt = nxt.share(by=ADA, now=tick(20)).agree(by=GRACE, now=tick(21)).agree(by=ADA, now=tick(22))
    done = nxt.set_action_status("ca1", ActionStatus.DONE, by=GRACE, now=tick(23))
    assert done.state is AgendaState.AGREED
    assert done.action("ca1").status is ActionStatus.DONE
    assert [x.id for x in done.open_actions] == ["ca2"]
    assert (done.history[-1].person, done.history[-1].step, done.history[-1].detail) == (
        "grace",
        Step.STATUS,
        "done",
    )
    with pytest.raises(TransitionError, match="it can become open"):
        done.set_action_status("ca1", ActionStatus.DROPPED, by=ADA, now=tick(24))
    with pytest.raises(CadenceError, match="no carried action 'ca9'"):
        done.set_action_status("ca9", ActionStatus.DONE, by=ADA, now=tick(24))


def test_an_agenda_holds_only_carried_actions() -> None:
    """A new action belongs in the record; the agenda only carries earlier ones."""
    with pytest.raises(CadenceError, match="must say where it was carried from"):
        Agenda("s1", OCC, THEMES, actions=(Action("ca1", Role.EMPLOYEE, "Nieuw"),))


def test_carry_over_gives_a_fresh_draft_with_template_themes() -> None:
    """The next agenda is a draft for the next occurrence under the template's themes."""
    a, r = met()
    nxt = carry_over(a, r, occurrence=NEXT, themes=THEMES)
    assert [t.key for t in nxt.themes] == ["personal", "role", "growth"]
    assert (nxt.state, nxt.agreed_by, nxt.history, nxt.occurrence) == (
        AgendaState.DRAFT,
        frozenset(),
        (),
        NEXT,
    )
    assert nxt.add_item(theme="role", title="x", by=ADA, now=tick(20)).items[-1].id == "i3"


def test_carry_over_keeps_owner_and_proposer() -> None:
    """A carried item keeps who owns it and who proposed it."""
    a, r = met()
    nxt = carry_over(a, r, occurrence=NEXT, themes=THEMES)
    assert [(i.owner, i.proposed_by) for i in nxt.items] == [
        (Role.MANAGER, Role.MANAGER),
        (Role.EMPLOYEE, Role.EMPLOYEE),
    ]


def test_carry_over_without_record_carries_every_item() -> None:
    """Without a record nothing was finished: every item comes along, no action."""
    nxt = carry_over(filled(), None, occurrence=NEXT, themes=THEMES)
    assert [i.title for i in nxt.items] == ["Energie", "Feedback op project X"]
    assert [t.key for t in nxt.themes] == ["personal", "role", "growth"]
    assert nxt.actions == ()


def test_carry_over_keeps_a_theme_the_template_lacks() -> None:
    """An unfinished item under a theme the new template lacks keeps its theme, at the end."""
    old = Agenda("s1", OCC, (*THEMES, Theme("leave", "Verlof")))
    old = old.add_item(theme="leave", title="Ouderschapsverlof", by=ADA, now=tick(1))
    nxt = carry_over(old, None, occurrence=NEXT, themes=THEMES[:2])
    assert [t.key for t in nxt.themes] == ["personal", "role", "leave"]


def test_carry_over_refuses_a_record_of_another_occurrence() -> None:
    """The record must be of the agenda's occurrence."""
    other = Record("s1", NEXT)
    with pytest.raises(CadenceError, match="another occurrence"):
        carry_over(filled(), other, occurrence=NEXT + timedelta(days=90), themes=THEMES)


def test_carry_over_refuses_an_earlier_occurrence() -> None:
    """The next occurrence comes after the previous one."""
    with pytest.raises(CadenceError, match="must come after"):
        carry_over(filled(), None, occurrence=OCC, themes=THEMES)


# -- serialisation ------------------------------------------------------------------------------


def test_agenda_round_trips_through_json() -> None:
    """An agenda with carried items and history survives JSON unchanged, zone included."""
    a, r = met()
    nxt = carry_over(a, r, occurrence=NEXT, themes=THEMES)
    nxt = nxt.share(by=ADA, now=tick(30)).agree(by=GRACE, now=tick(31))
    nxt = nxt.set_action_status("ca1", ActionStatus.DONE, by=GRACE, now=tick(32))
    for value in (a, nxt):
        back = Agenda.from_dict(json.loads(json.dumps(value.to_dict())))
        assert back == value
        assert back.to_dict() == value.to_dict()
    assert Agenda.from_dict(a.to_dict()).occurrence.tzinfo == AMS


def test_record_round_trips_through_json() -> None:
    """A record with summaries, accepted agreements and actions survives JSON unchanged."""
    _, r = met()
    r = r.add_agreement("Cursus in Q2", by=ADA, now=tick(20), item_id="i3")
    r = r.propose("ag4", by=ADA, now=tick(21)).accept("ag4", by=GRACE, now=tick(22))
    back = Record.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r
    assert back.to_dict() == r.to_dict()


def test_a_file_written_before_carried_actions_still_reads() -> None:
    """An agenda without `actions` and an action without `carried_from` read as before."""
    a, r = met()
    old_agenda = carry_over(a, r, occurrence=NEXT, themes=THEMES).to_dict()
    del old_agenda["actions"]
    assert Agenda.from_dict(old_agenda).actions == ()
    old_record = r.to_dict()
    for action in old_record["actions"]:
        del action["carried_from"]
    assert Record.from_dict(old_record) == r


def test_serialised_agenda_names_schema_and_version() -> None:
    """The document says what it is and which version wrote it."""
    data = filled().to_dict()
    assert (data["schema"], data["version"]) == (AGENDA_SCHEMA, 1)


def test_a_newer_version_is_refused_with_what_to_do() -> None:
    """A document from a newer release asks for an update rather than guessing."""
    data = filled().to_dict() | {"version": 2}
    with pytest.raises(CadenceError, match="update Goed Gesprek"):
        Agenda.from_dict(data)


def test_a_record_is_not_read_as_an_agenda() -> None:
    """The schema name keeps documents apart."""
    with pytest.raises(CadenceError, match=r"expected a 'goedgesprek\.agenda' document"):
        Agenda.from_dict(record().to_dict())


def test_a_malformed_field_is_named() -> None:
    """A bad value names its path in the document."""
    data = filled().to_dict()
    data["items"][1]["owner"] = "hr"
    with pytest.raises(CadenceError, match=r"agenda\.items\[1\]\.owner must be one of"):
        Agenda.from_dict(data)


def test_a_missing_field_is_named() -> None:
    """A missing field names itself."""
    data = record().to_dict()
    del data["seq"]
    with pytest.raises(CadenceError, match=r"record\.seq is missing"):
        Record.from_dict(data)


def test_history_instants_are_stored_in_utc() -> None:
    """Instants are written in UTC so files compare and sort alike."""
    entry = HistoryEntry(datetime(2027, 1, 2, 10, 0, tzinfo=AMS), "ada", Role.EMPLOYEE, Step.ADD)
    assert entry.at == datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    assert entry.at.tzinfo is UTC


# -- property: any sequence of allowed steps round-trips and keeps the invariants ----------------

STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["add", "edit", "remove", "share", "agree", "propose", "accept", "decline"]
        ),
        st.sampled_from([ADA, GRACE]),
        st.integers(min_value=0, max_value=3),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_any_step_sequence_keeps_invariants_and_round_trips(
    steps: list[tuple[str, Actor, int]],
) -> None:
    """Whatever partners try, refused steps change nothing and the result round-trips."""
    a, r = agenda(), record()
    for n, (kind, who, pick) in enumerate(steps):
        now = tick(n)
        before = (a, r)
        try:
            if kind == "add":
                a = a.add_item(theme=THEMES[pick % 3].key, title=f"t{n}", by=who, now=now)
                r = r.add_agreement(f"afspraak {n}", by=who, now=now)
            elif kind in {"edit", "remove"} and a.items:
                item = a.items[pick % len(a.items)]
                if kind == "edit":
                    a = a.edit_item(item.id, title=f"e{n}", by=who, now=now)
                else:
                    a = a.remove_item(item.id, by=who, now=now)
            elif kind == "share":
                a = a.share(by=who, now=now)
            elif kind == "agree":
                a = a.agree(by=who, now=now)
            elif r.agreements:
                ag = r.agreements[pick % len(r.agreements)]
                if kind == "propose":
                    r = r.propose(ag.id, by=who, now=now)
                elif kind == "accept":
                    r = r.accept(ag.id, by=who, now=now)
                elif kind == "decline":
                    r = r.decline(ag.id, by=who, now=now)
                else:
                    r = r.edit_agreement(ag.id, f"nieuw {n}", by=who, now=now)
        except TransitionError:
            assert (a, r) == before
        assert (a.state is AgendaState.AGREED) == (a.agreed_by == {Role.EMPLOYEE, Role.MANAGER})
        for ag in r.agreements:
            assert (ag.state is AgreementState.FINAL) == (len(ag.accepted) == 2)
        assert Agenda.from_dict(json.loads(json.dumps(a.to_dict()))) == a
        assert Record.from_dict(json.loads(json.dumps(r.to_dict()))) == r
        assert len(a.history) >= len(before[0].history)


def test_an_agenda_a_record_hold_a_bounded_number_of_items_agreements_and_actions() -> None:
    """Thirty of each fit; one more is refused by code, so it reaches no calendar body."""
    from cadence.rules import allowed

    a = agenda()
    for n in range(30):
        a = a.add_item(theme="personal", title=f"Punt {n}", by=ADA, now=tick(n))
    with pytest.raises(CadenceError) as full:
        a.add_item(theme="personal", title="Eén te veel", by=ADA, now=tick(31))
    assert (full.value.code, full.value.params) == ("agenda_full", {"limit": 30})
    assert "add_item" not in allowed(a, None, ADA.role).agenda
    r = record()
    for n in range(30):
        r = r.add_agreement(f"Afspraak {n}", by=ADA, now=tick(n))
        r = r.add_action(f"Actie {n}", owner=Role.EMPLOYEE, by=ADA, now=tick(n))
    with pytest.raises(CadenceError, match="30 agreements") as agreements:
        r.add_agreement("Eén te veel", by=ADA, now=tick(40))
    assert agreements.value.code == "agreements_full"
    with pytest.raises(CadenceError, match="30 actions") as actions:
        r.add_action("Eén te veel", owner=Role.EMPLOYEE, by=ADA, now=tick(40))
    assert actions.value.code == "actions_full"
    assert {"add_agreement", "add_action"}.isdisjoint(allowed(a, r, ADA.role).record)
