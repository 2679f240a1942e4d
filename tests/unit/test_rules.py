"""Who may do what: `cadence.rules.allowed` answers exactly what the steps would do."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.conversation import (
    ActionStatus,
    Actor,
    Agenda,
    AgendaState,
    AgreementState,
    Record,
    Theme,
    carry_over,
)
from cadence.errors import CadenceError, TransitionError
from cadence.model import Role
from cadence.rules import Turn, allowed, series_allowed, turn, visible_items

AMS = ZoneInfo("Europe/Amsterdam")
OCC = datetime(2027, 1, 12, 10, 0, tzinfo=AMS)
T0 = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
ADA = Actor("ada", Role.EMPLOYEE)
GRACE = Actor("grace", Role.MANAGER)
THEMES = (Theme("personal", "Persoonlijk"), Theme("role", "Huidige functie"))
STATUS = {"mark_done": ActionStatus.DONE, "drop": ActionStatus.DROPPED, "reopen": ActionStatus.OPEN}


def tick(n: int) -> datetime:
    """The n-th minute after T0."""
    return T0 + timedelta(minutes=n)


def agenda() -> Agenda:
    """An empty draft agenda."""
    return Agenda(series_id="s1", occurrence=OCC, themes=THEMES)


def works(step: Callable[[], object]) -> bool:
    """True when the step is taken; False when the rules refuse it."""
    try:
        step()
    except TransitionError:
        return False
    return True


def test_the_manager_sees_only_their_own_proposals_in_a_draft() -> None:
    """The employee owns the draft: the manager sees their own items only, all once shared."""
    a = agenda().add_item(theme="personal", title="Privé", by=ADA, now=tick(1))
    a = a.add_item(theme="role", title="Planning", by=GRACE, now=tick(2))
    assert [i.title for i in visible_items(a, Role.MANAGER)] == ["Planning"]
    assert [i.title for i in visible_items(a, Role.EMPLOYEE)] == ["Privé", "Planning"]
    shared = a.share(by=ADA, now=tick(3))
    assert [i.title for i in visible_items(shared, Role.MANAGER)] == ["Privé", "Planning"]
    assert set(allowed(a, None, Role.MANAGER).items) == {"i2"}


def test_the_manager_cannot_tell_a_hidden_draft_item_from_a_missing_one() -> None:
    """Editing, removing or moving the employee's unshared item reads as a missing item."""
    a = agenda().add_item(theme="personal", title="Privé", by=ADA, now=tick(1))
    a = a.add_item(theme="role", title="Planning", by=GRACE, now=tick(2))
    steps = (
        lambda i: a.edit_item(i, title="x", by=GRACE, now=tick(3)),
        lambda i: a.remove_item(i, by=GRACE, now=tick(3)),
        lambda i: a.move_item(i, 0, by=GRACE, now=tick(3)),
    )
    for step in steps:
        codes = []
        for item_id in ("i1", "i9"):
            with pytest.raises(CadenceError) as refused:
                step(item_id)
            codes.append((refused.value.code, str(refused.value).replace(item_id, "?")))
        assert codes[0] == codes[1]
    assert a.visible_item("i2", Role.MANAGER).title == "Planning"
    shared = a.share(by=ADA, now=tick(3))
    with pytest.raises(TransitionError) as refused:
        shared.edit_item("i1", title="x", by=GRACE, now=tick(4))
    assert refused.value.code == "manager_cannot_edit_item"


def test_the_agenda_steps_per_role_and_state() -> None:
    """Add for the employee, propose for the manager; share a draft; agree once shared."""
    a = agenda().add_item(theme="personal", title="Energie", by=ADA, now=tick(1))
    assert allowed(a, None, Role.EMPLOYEE).agenda == ("add_item", "share")
    assert allowed(a, None, Role.MANAGER).agenda == ("propose_item",)
    shared = a.share(by=ADA, now=tick(2))
    assert allowed(shared, None, Role.EMPLOYEE).agenda == ("add_item", "agree")
    assert allowed(shared, None, Role.MANAGER).agenda == ("propose_item", "agree")
    assert allowed(shared, None, Role.EMPLOYEE).items == {"i1": ("edit", "remove")}
    assert allowed(shared, None, Role.MANAGER).items == {"i1": ()}


def test_a_decline_is_for_a_partner_who_has_not_accepted() -> None:
    """Accepted or final agreements are changed, not declined; the decline names who and why."""
    r = Record.for_agenda(agenda()).add_agreement("Cursus", by=ADA, now=tick(1))
    r = r.propose("ag1", by=ADA, now=tick(2)).accept("ag1", by=ADA, now=tick(3))
    assert allowed(agenda(), r, Role.EMPLOYEE).agreements["ag1"] == ("edit",)
    assert allowed(agenda(), r, Role.MANAGER).agreements["ag1"] == ("edit", "accept", "decline")
    with pytest.raises(TransitionError) as refused:
        r.decline("ag1", by=ADA, now=tick(4))
    assert (refused.value.code, refused.value.params) == (
        "agreement_accepted_not_declined",
        {"role": "employee"},
    )
    declined = r.decline("ag1", by=GRACE, now=tick(4), reason="Eerst budget")
    entry = declined.declined("ag1")
    assert entry is not None
    assert (entry.role, entry.person, entry.at, entry.detail) == (
        Role.MANAGER,
        "grace",
        tick(4),
        "Eerst budget",
    )
    assert declined.propose("ag1", by=ADA, now=tick(5)).declined("ag1") is None
    final = r.accept("ag1", by=GRACE, now=tick(4))
    with pytest.raises(TransitionError) as refused:
        final.decline("ag1", by=GRACE, now=tick(5))
    assert refused.value.code == "agreement_final_not_declined"


def test_the_series_steps_per_role() -> None:
    """Either partner chooses the event copy; the employee chooses place and length."""
    assert series_allowed(Role.EMPLOYEE) == ("change_event_copy", "change_place", "end")
    assert series_allowed(Role.MANAGER) == ("change_event_copy", "end")
    assert series_allowed(Role.MANAGER, active=False) == ("change_event_copy",)


STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["add", "remove", "share", "agree", "add_ag", "propose", "accept", "decline", "status"]
        ),
        st.sampled_from([ADA, GRACE]),
        st.integers(min_value=0, max_value=3),
        st.sampled_from(list(ActionStatus)),
    ),
    max_size=20,
)


def _step(
    a: Agenda, r: Record, kind: str, who: Actor, *, pick: int, status: ActionStatus, now: datetime
) -> tuple[Agenda, Record]:
    if kind == "add":
        return a.add_item(theme="personal", title="t", by=who, now=now), r.add_action(
            "doen", owner=who.role, by=who, now=now
        )
    if kind == "remove" and a.items:
        return a.remove_item(a.items[pick % len(a.items)].id, by=who, now=now), r
    if kind == "share":
        return a.share(by=who, now=now), r
    if kind == "agree":
        return a.agree(by=who, now=now), r
    if kind == "add_ag":
        return a, r.add_agreement("afspraak", by=who, now=now)
    if kind == "status" and r.actions:
        return a, r.set_status(r.actions[pick % len(r.actions)].id, status, by=who, now=now)
    if r.agreements:
        ag = r.agreements[pick % len(r.agreements)].id
        if kind == "propose":
            return a, r.propose(ag, by=who, now=now)
        if kind == "accept":
            return a, r.accept(ag, by=who, now=now)
        if kind == "decline":
            return a, r.decline(ag, by=who, now=now)
    return a, r


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_can_is_exactly_what_the_steps_allow(
    steps: list[tuple[str, Actor, int, ActionStatus]],
) -> None:
    """Whatever state the partners reach, each role's `can` lists a step iff the step is taken."""
    a, r = agenda(), Record.for_agenda(agenda())
    for n, (kind, who, pick, status) in enumerate(steps):
        with contextlib.suppress(TransitionError):
            a, r = _step(a, r, kind, who, pick=pick, status=status, now=tick(n))
    _check(a, r, ADA, tick(len(steps) + 1))
    _check(a, r, GRACE, tick(len(steps) + 1))


def _check(a: Agenda, r: Record, by: Actor, now: datetime) -> None:
    can = allowed(a, r, by.role)
    add = "add_item" if by.role is Role.EMPLOYEE else "propose_item"
    expected_agenda = [
        name
        for name, step in (
            (add, lambda: a.add_item(theme="role", title="x", by=by, now=now)),
            ("share", lambda: a.share(by=by, now=now)),
            ("agree", lambda: a.agree(by=by, now=now)),
        )
        if works(step)
    ]
    assert list(can.agenda) == expected_agenda
    for item in visible_items(a, by.role):
        removed = works(lambda i=item.id: a.remove_item(i, by=by, now=now))
        assert ("remove" in can.items[item.id]) == removed
    for ag in r.agreements:
        for name, step in (
            ("remove", r.remove_agreement),
            ("propose", r.propose),
            ("accept", r.accept),
            ("decline", r.decline),
        ):
            taken = works(lambda s=step, i=ag.id: s(i, by=by, now=now))
            assert (name in can.agreements[ag.id]) == taken, (name, ag)
        if ag.state is AgreementState.FINAL:
            assert "decline" not in can.agreements[ag.id]
    for action in r.actions:
        for name, target in STATUS.items():
            taken = works(lambda i=action.id, s=target: r.set_status(i, s, by=by, now=now))
            assert (name in can.actions[action.id]) == taken
    assert ("accept_all" in can.record) == works(lambda: r.accept_all(by=by, now=now))
    assert ("propose_all" in can.record) == works(lambda: r.propose_all(by=by, now=now))
    for item in visible_items(a, by.role):
        edited = works(lambda i=item.id: a.edit_item(i, title="anders", by=by, now=now))
        assert ("edit" in can.items[item.id]) == edited
        moved = len(a.items) > 1 and works(lambda i=item.id: a.move_item(i, 0, by=by, now=now))
        assert ("move" in can.items[item.id]) == moved
    if a.state is AgendaState.DRAFT and by.role is Role.MANAGER:
        assert all(i.proposed_by is Role.MANAGER for i in visible_items(a, by.role))


def test_propose_all_is_a_step_of_the_record() -> None:
    """Proposing every draft is a step: with no draft left it is refused, and not offered."""
    r = Record.for_agenda(agenda()).add_agreement("Cursus", by=ADA, now=tick(1))
    r = r.add_agreement("Budget", by=GRACE, now=tick(2))
    assert "propose_all" in allowed(agenda(), r, Role.MANAGER).record
    proposed = r.propose_all(by=GRACE, now=tick(3))
    assert [a.state for a in proposed.agreements] == [AgreementState.PROPOSED] * 2
    assert "propose_all" not in allowed(agenda(), proposed, Role.EMPLOYEE).record
    with pytest.raises(TransitionError) as refused:
        proposed.propose_all(by=ADA, now=tick(4))
    assert refused.value.code == "nothing_to_propose"


def test_a_carried_action_is_followed_up_by_either_partner() -> None:
    """Done or dropped while open, reopened once closed: for both roles, as the step allows."""
    r = Record.for_agenda(agenda()).add_action("Budget", owner=Role.MANAGER, by=ADA, now=tick(1))
    nxt = carry_over(agenda(), r, occurrence=OCC + timedelta(days=91), themes=THEMES)
    for by in (ADA, GRACE):
        assert allowed(nxt, None, by.role).carried_actions == {"ca1": ("mark_done", "drop")}
    done = nxt.set_action_status("ca1", ActionStatus.DONE, by=GRACE, now=tick(2))
    for by in (ADA, GRACE):
        assert allowed(done, None, by.role).carried_actions == {"ca1": ("reopen",)}


def test_whose_turn_it_is_follows_the_conversation() -> None:
    """The employee writes, both agree and prepare; after the meeting both write, then accept."""
    a = agenda()
    assert turn(a, None, ended=False) == Turn("write_agenda", (Role.EMPLOYEE,))
    shared = a.share(by=ADA, now=tick(1))
    assert turn(shared, None, ended=False) == Turn("agree_agenda", (Role.EMPLOYEE, Role.MANAGER))
    half = shared.agree(by=GRACE, now=tick(2))
    assert turn(half, None, ended=False) == Turn("agree_agenda", (Role.EMPLOYEE,))
    agreed = half.agree(by=ADA, now=tick(3))
    assert turn(agreed, None, ended=False) == Turn("prepare", (Role.EMPLOYEE, Role.MANAGER))
    both = (Role.EMPLOYEE, Role.MANAGER)
    assert turn(agreed, None, ended=True) == Turn("write_record", both)
    r = Record.for_agenda(agreed).add_agreement("Cursus", by=ADA, now=tick(4))
    assert turn(agreed, r, ended=True) == Turn("write_record", both)
    r = r.propose_all(by=ADA, now=tick(5)).accept("ag1", by=GRACE, now=tick(6))
    assert turn(agreed, r, ended=True) == Turn("accept", (Role.EMPLOYEE,))
    r = r.accept("ag1", by=ADA, now=tick(7))
    assert turn(agreed, r, ended=True) == Turn("done", ())


# -- error codes -----------------------------------------------------------------------------------


def raised_codes() -> set[str]:
    """Every error code the domain (and the reading of ops) raises: literal codes, tables."""
    codes: set[str] = set()
    root = Path(__file__).resolve().parents[2]
    # The app reads change ops into domain values and refuses them with codes of its own.
    sources = [
        *sorted((root / "cadence").glob("*.py")),
        root / "addin/conversations/parsing.py",
        root / "addin/conversations/journals.py",
    ]
    for path in sources:
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "code"
                and not isinstance(node.value, ast.JoinedStr)  # the text codes, added below
            ):
                codes.update(_choices(node.value))
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == "_STATUS_CODES"
                and isinstance(node.value, ast.Dict)
            ):
                codes.update(v.value for v in node.value.values if isinstance(v, ast.Constant))
    from cadence import conversation

    text_codes = set(conversation._TEXT_CODES.values()) | {"text"}
    codes.update(f"{t}_{kind}" for t in text_codes for kind in ("empty", "too_long", "one_line"))
    return codes


def _choices(node: ast.expr) -> set[str]:
    """The strings an expression can be: a constant, or either side of a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _choices(node.body) | _choices(node.orelse)
    return set()


def test_domain_errors_carry_codes_and_parameters() -> None:
    """A refusal names its code and the particulars its sentence needs."""
    a = agenda()
    with pytest.raises(CadenceError) as refused:
        a.add_item(theme="money", title="x", by=ADA, now=tick(1))
    assert refused.value.code == "unknown_theme"
    assert refused.value.params == {"key": "'money'", "keys": "personal, role"}
    with pytest.raises(CadenceError) as refused:
        a.add_item(theme="role", title="x" * 300, by=ADA, now=tick(1))
    assert (refused.value.code, refused.value.params) == (
        "title_too_long",
        {"length": 300, "limit": 200},
    )
    assert CadenceError("anything").code == "invalid"


def test_the_domain_raises_codes() -> None:
    """The scan finds the codes the domain raises (so the catalog test below sees them all)."""
    codes = raised_codes()
    assert {"agreement_accepted_not_removed", "action_done", "unknown_zone"} <= codes
    assert len(codes) > 60
