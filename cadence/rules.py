"""What each partner may do now, and see: the conversation's rules, asked before a step is taken.

The steps of `cadence.conversation` are the only place the rules are written: a step the rules do
not allow raises `TransitionError`. `allowed` asks each step in advance on the immutable values
(nothing is kept), so the answer can never disagree with what a save would do. The app carries the
answer to both hosts as ``can`` lists; they render it and decide nothing themselves.

The vocabulary, per thing:

- agenda: ``add_item`` (the employee), ``propose_item`` (the manager), ``share``, ``agree``;
- agenda item: ``edit``, ``remove``, ``move``;
- record: ``summarise``, ``add_agreement``, ``propose_all``, ``accept_all``, ``add_action``;
- agreement: ``edit``, ``remove``, ``propose``, ``accept``, ``decline``;
- action (of the record, or carried on the agenda): ``edit`` (record only), ``mark_done``,
  ``drop``, ``reopen``;
- series: ``change_event_copy`` (either partner), ``change_place`` (place, length, online: the
  employee, who leads).

Visibility: the employee owns the agenda until it is shared. Before that the manager sees only the
items they proposed themselves (`visible_items`), and that a draft is being prepared.

Whose turn it is (`turn`): before the meeting the employee writes and shares the agenda, both agree
to it, then both prepare; after it both write the record until every agreement is proposed, then
whoever has not accepted yet; with every agreement final it is done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from cadence.conversation import (
    ActionStatus,
    Actor,
    Agenda,
    AgendaState,
    AgreementState,
    Item,
    Record,
)
from cadence.errors import CadenceError, TransitionError
from cadence.model import Role

__all__ = [
    "SERIES_ACTIONS",
    "Allowed",
    "Turn",
    "allowed",
    "series_allowed",
    "turn",
    "visible_items",
]

_ASKER: Final = "asking"
"""The person id the steps are asked with: a step's rules look at the role, never at the id."""

_NOW: Final = datetime(2000, 1, 1, tzinfo=UTC)

_STATUS_STEPS: Final = (
    ("mark_done", ActionStatus.DONE),
    ("drop", ActionStatus.DROPPED),
    ("reopen", ActionStatus.OPEN),
)

SERIES_ACTIONS: Final[Mapping[Role, tuple[str, ...]]] = {
    Role.EMPLOYEE: ("change_event_copy", "change_place", "end"),
    Role.MANAGER: ("change_event_copy", "end"),
}
"""What each partner may change of the series: the employee chooses place and length; either
partner may end the series while it is active (HR too, outside the pane)."""


@dataclass(frozen=True, slots=True)
class Allowed:
    """What one partner may do now, per thing; each tuple in the order of the module's list."""

    agenda: tuple[str, ...]
    items: Mapping[str, tuple[str, ...]]
    carried_actions: Mapping[str, tuple[str, ...]]
    record: tuple[str, ...]
    agreements: Mapping[str, tuple[str, ...]]
    actions: Mapping[str, tuple[str, ...]]


def series_allowed(role: Role | str, *, active: bool = True) -> tuple[str, ...]:
    """What `role` may change of the series; an ended series can no longer be ended."""
    actions = SERIES_ACTIONS[Role(role)]
    return actions if active else tuple(a for a in actions if a != "end")


@dataclass(frozen=True, slots=True)
class Turn:
    """What is to be done now and by whom (roles, employee first; none once done).

    `what` is one of ``write_agenda``, ``agree_agenda``, ``prepare``, ``write_record``,
    ``accept``, ``done``.
    """

    what: str
    who: tuple[Role, ...]


_ROLES: Final = (Role.EMPLOYEE, Role.MANAGER)


def turn(agenda: Agenda, record: Record | None, *, ended: bool) -> Turn:
    """Whose turn it is in this conversation; `ended`: the meeting is over."""
    if not ended:
        if agenda.state is AgendaState.DRAFT:
            return Turn("write_agenda", (Role.EMPLOYEE,))
        if agenda.state is AgendaState.SHARED:
            return Turn("agree_agenda", tuple(r for r in _ROLES if r not in agenda.agreed_by))
        return Turn("prepare", _ROLES)
    if (
        record is None
        or not record.agreements
        or any(a.state is AgreementState.DRAFT for a in record.agreements)
    ):
        return Turn("write_record", _ROLES)
    waiting = {r for a in record.agreements for r in a.waiting_for}
    if waiting:
        return Turn("accept", tuple(r for r in _ROLES if r in waiting))
    return Turn("done", ())


def visible_items(agenda: Agenda, role: Role) -> tuple[Item, ...]:
    """The agenda items `role` sees: all of them, except a draft's for the manager.

    A draft is the employee's until they share it; the manager sees only what they proposed.
    The steps hold to it too: an item `role` may not see reads as one that is not there.
    """
    return agenda.visible_to(role)


def allowed(agenda: Agenda, record: Record | None, role: Role) -> Allowed:
    """Every step `role` may take now on this agenda and record (None: not written yet)."""
    by = Actor(_ASKER, Role(role))
    current = record if record is not None else Record.for_agenda(agenda)
    return Allowed(
        agenda=_agenda(agenda, by),
        items={i.id: _item(agenda, i, by) for i in visible_items(agenda, by.role)},
        carried_actions={a.id: _carried(agenda, a.id, by) for a in agenda.actions},
        record=_record(agenda, current, by),
        agreements={a.id: _agreement(current, a.id, by) for a in current.agreements},
        actions={a.id: ("edit", *_action(current, a.id, by)) for a in current.actions},
    )


def _ok(step: Callable[[], object]) -> bool:
    try:
        step()
    except TransitionError:
        return False
    except CadenceError:
        # Refused for its input, not for who asks or where things stand: the step is allowed.
        return True
    return True


def _agenda(agenda: Agenda, by: Actor) -> tuple[str, ...]:
    found: list[str] = []
    theme = agenda.themes[0].key
    if _ok(lambda: agenda.add_item(theme=theme, title="?", by=by, now=_NOW)):
        found.append("add_item" if by.role is Role.EMPLOYEE else "propose_item")
    if _ok(lambda: agenda.share(by=by, now=_NOW)):
        found.append("share")
    if _ok(lambda: agenda.agree(by=by, now=_NOW)):
        found.append("agree")
    return tuple(found)


def _item(agenda: Agenda, item: Item, by: Actor) -> tuple[str, ...]:
    found: list[str] = []
    if _ok(lambda: agenda.edit_item(item.id, title=item.title, by=by, now=_NOW)):
        found.append("edit")
    if _ok(lambda: agenda.remove_item(item.id, by=by, now=_NOW)):
        found.append("remove")
    if len(agenda.items) > 1 and _ok(lambda: agenda.move_item(item.id, 0, by=by, now=_NOW)):
        found.append("move")
    return tuple(found)


def _record(agenda: Agenda, record: Record, by: Actor) -> tuple[str, ...]:
    found: list[str] = []
    if agenda.items:
        found.append("summarise")
    if _ok(lambda: record.add_agreement("?", by=by, now=_NOW)):
        found.append("add_agreement")
    if _ok(lambda: record.propose_all(by=by, now=_NOW)):
        found.append("propose_all")
    if _ok(lambda: record.accept_all(by=by, now=_NOW)):
        found.append("accept_all")
    if _ok(lambda: record.add_action("?", owner=by.role, by=by, now=_NOW)):
        found.append("add_action")
    return tuple(found)


def _agreement(record: Record, agreement_id: str, by: Actor) -> tuple[str, ...]:
    found = ["edit"]
    steps: tuple[tuple[str, Callable[[], object]], ...] = (
        ("remove", lambda: record.remove_agreement(agreement_id, by=by, now=_NOW)),
        ("propose", lambda: record.propose(agreement_id, by=by, now=_NOW)),
        ("accept", lambda: record.accept(agreement_id, by=by, now=_NOW)),
        ("decline", lambda: record.decline(agreement_id, by=by, now=_NOW)),
    )
    found.extend(name for name, step in steps if _ok(step))
    return tuple(found)


def _carried(agenda: Agenda, action_id: str, by: Actor) -> tuple[str, ...]:
    def step(status: ActionStatus) -> object:
        return agenda.set_action_status(action_id, status, by=by, now=_NOW)

    return _statuses(step)


def _action(record: Record, action_id: str, by: Actor) -> tuple[str, ...]:
    def step(status: ActionStatus) -> object:
        return record.set_status(action_id, status, by=by, now=_NOW)

    return _statuses(step)


def _statuses(step: Callable[[ActionStatus], object]) -> tuple[str, ...]:
    found: list[str] = []
    for name, status in _STATUS_STEPS:
        try:
            step(status)
        except TransitionError:
            continue
        found.append(name)
    return tuple(found)
