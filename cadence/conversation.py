"""One conversation: its agenda, its record, the agreements and actions, and carry-over.

Everything here is an immutable value. A step (add an item, accept an agreement) is a method that
returns a new value, or raises `TransitionError` when the step is not allowed from where things
stand; nothing is changed in place. Every step takes the acting partner (`Actor`) and `now` (an
aware instant) and appends a `HistoryEntry`, so who did what and when is never lost, even after an
edit clears the acceptances it invalidated.

The rules, from the practice of "het goede gesprek":

- The employee owns the agenda: they add, edit, remove and reorder any item, and share it. The
  manager proposes items and may edit or remove only the items they proposed.
- The agenda moves draft -> shared -> agreed (both partners agreed). A change to its content after
  any agreement clears the agreements and reopens it (back to shared).
- An agreement moves draft -> proposed -> final (accepted by both partners). An edit after any
  acceptance reopens it: back to proposed, acceptances cleared. Declining sends it back to draft,
  so the partners talk again.
- Carry-over builds the next agenda from the previous one and its record: unfinished items come
  along under the template's fixed themes, and every open action comes along as an action (owner,
  due date, status) until it is done or dropped, each flagged with where it came from. Either
  partner marks a carried action done in any later conversation; that is follow-up, not a change
  to the agenda, so it reopens no agreement.

`to_dict` / `from_dict` give JSON-safe dictionaries with a schema name and version, for the sealed
files in the owner's drive.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from cadence.errors import CadenceError, TransitionError
from cadence.model import Pair, Role
from cadence.zones import require_aware, zone

__all__ = [
    "AGENDA_SCHEMA",
    "KEEP",
    "RECORD_SCHEMA",
    "SCHEMA_VERSION",
    "Acceptance",
    "Action",
    "ActionStatus",
    "Actor",
    "Agenda",
    "AgendaState",
    "Agreement",
    "AgreementState",
    "CarriedFrom",
    "HistoryEntry",
    "Item",
    "Origin",
    "Record",
    "Step",
    "Summary",
    "Theme",
    "carry_over",
]

AGENDA_SCHEMA: Final = "goedgesprek.agenda"
"""The `schema` value of a serialised agenda."""

RECORD_SCHEMA: Final = "goedgesprek.record"
"""The `schema` value of a serialised record."""

SCHEMA_VERSION: Final = 1
"""The version this code writes and the newest it reads."""

_BOTH: Final = frozenset({Role.EMPLOYEE, Role.MANAGER})

_MAX_TITLE = 200
_MAX_NOTES = 4000
_MAX_SUMMARY = 10000
_MAX_AGREEMENT = 2000
_MAX_ACTION = 500
_MAX_KEY = 40
_MAX_ITEMS = 30
"""Items on one agenda: more than a conversation can hold, few enough for a calendar body."""
_MAX_AGREEMENTS = 30
_MAX_ACTIONS = 30


# -- small values ------------------------------------------------------------------------------


class Step(enum.StrEnum):
    """What a history entry records."""

    ADD = "add"
    EDIT = "edit"
    REMOVE = "remove"
    MOVE = "move"
    SHARE = "share"
    AGREE = "agree"
    REOPEN = "reopen"
    SUMMARISE = "summarise"
    PROPOSE = "propose"
    ACCEPT = "accept"
    DECLINE = "decline"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who takes a step: a partner's person id and the role they play in the pair."""

    person: str
    role: Role

    def __post_init__(self) -> None:
        if not self.person:
            raise CadenceError("an actor needs a person id")
        object.__setattr__(self, "role", Role(self.role))

    @classmethod
    def of(cls, pair: Pair, person_id: str) -> Actor:
        """The actor for `person_id` in `pair`; an outsider raises `TransitionError`."""
        role = pair.role_of(person_id)
        if role is None:
            raise TransitionError(
                f"{person_id!r} is not a partner in this conversation: only the employee and "
                "the manager can change it",
                code="not_partner",
            )
        return cls(person_id, role)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step in the append-only history: who (person, role), when, what, on which subject.

    `subject` is the id of the item, agreement or action ("" for the whole agenda); `detail`
    keeps what was agreed to or accepted (the text at that moment), or a new status.
    """

    at: datetime
    person: str
    role: Role
    step: Step
    subject: str = ""
    detail: str = ""

    def __post_init__(self) -> None:
        require_aware(self.at, "the instant of a history entry")
        object.__setattr__(self, "at", self.at.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class Theme:
    """A heading of the agenda: a stable key and its title in the agenda's language."""

    key: str
    title: str

    def __post_init__(self) -> None:
        _check_key(self.key, "theme key")
        object.__setattr__(self, "title", _line(self.title, "theme title", _MAX_TITLE))


class Origin(enum.StrEnum):
    """What a carried-over item was in the previous conversation."""

    ITEM = "item"
    ACTION = "action"


@dataclass(frozen=True, slots=True)
class CarriedFrom:
    """Where a carried-over item came from: the occurrence, and the item or action id there."""

    occurrence: datetime
    origin: Origin
    ref: str

    def __post_init__(self) -> None:
        require_aware(self.occurrence, "the occurrence an item was carried from")
        object.__setattr__(self, "origin", Origin(self.origin))


# -- the agenda --------------------------------------------------------------------------------


class AgendaState(enum.StrEnum):
    """Draft (the employee is writing), shared (both can see it), agreed (both agreed)."""

    DRAFT = "draft"
    SHARED = "shared"
    AGREED = "agreed"


@dataclass(frozen=True, slots=True)
class Item:
    """An agenda item under a theme.

    `owner` brings the item to the conversation; `proposed_by` put it on the agenda. A carried-over
    item names its origin in `carried_from`.
    """

    id: str
    theme: str
    title: str
    owner: Role
    proposed_by: Role
    notes: str = ""
    carried_from: CarriedFrom | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise CadenceError("an agenda item needs an id")
        object.__setattr__(self, "title", _line(self.title, "title", _MAX_TITLE))
        object.__setattr__(self, "notes", _block(self.notes, "notes", _MAX_NOTES, required=False))
        object.__setattr__(self, "owner", Role(self.owner))
        object.__setattr__(self, "proposed_by", Role(self.proposed_by))

    @property
    def carried_over(self) -> bool:
        """True when the item came along from an earlier conversation."""
        return self.carried_from is not None


@dataclass(frozen=True, slots=True)
class Agenda:
    """The agenda of one occurrence of a series.

    `occurrence` is the occurrence's start as the rule gives it (aware), which identifies it even
    when the meeting is moved. `themes` are captured when the agenda is made, so an old agenda reads
    the same after a template changes. `seq` numbers the items handed out so far. `actions` are the
    actions carried over from earlier conversations (each with `carried_from`), open until a
    partner marks them done or dropped here.
    """

    series_id: str
    occurrence: datetime
    themes: tuple[Theme, ...]
    items: tuple[Item, ...] = ()
    state: AgendaState = AgendaState.DRAFT
    agreed_by: frozenset[Role] = frozenset()
    history: tuple[HistoryEntry, ...] = ()
    seq: int = 0
    actions: tuple[Action, ...] = ()

    def __post_init__(self) -> None:
        if not self.series_id:
            raise CadenceError("an agenda needs the id of its series")
        require_aware(self.occurrence, "the occurrence of an agenda")
        object.__setattr__(self, "themes", tuple(self.themes))
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "history", tuple(self.history))
        object.__setattr__(self, "actions", tuple(self.actions))
        object.__setattr__(self, "state", AgendaState(self.state))
        object.__setattr__(self, "agreed_by", frozenset(Role(r) for r in self.agreed_by))
        if not self.themes:
            raise CadenceError("an agenda needs at least one theme: take them from a template")
        _unique((t.key for t in self.themes), "theme key")
        _unique((i.id for i in self.items), "agenda item id")
        _unique((a.id for a in self.actions), "carried action id")
        for action in self.actions:
            if action.carried_from is None:
                raise CadenceError(
                    f"action {action.id!r} on an agenda must say where it was carried from: "
                    "new actions belong in the record"
                )
        keys = {t.key for t in self.themes}
        for item in self.items:
            if item.theme not in keys:
                raise CadenceError(
                    f"agenda item {item.id!r} is under unknown theme {item.theme!r}: "
                    f"use one of {', '.join(sorted(keys))}"
                )
        if (self.state is AgendaState.AGREED) != (self.agreed_by == _BOTH):
            raise CadenceError("an agenda is agreed exactly when both partners agreed to it")
        if self.state is AgendaState.DRAFT and self.agreed_by:
            raise CadenceError("a draft agenda cannot have agreements: share it first")
        if self.seq < 0:
            raise CadenceError(f"seq must be 0 or more, got {self.seq}")

    # -- reading

    def item(self, item_id: str) -> Item:
        """The item with this id; an unknown id raises `CadenceError`."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise CadenceError(f"the agenda has no item {item_id!r}", code="no_such_item")

    def visible_to(self, role: Role) -> tuple[Item, ...]:
        """The items `role` sees: all, except a draft's for the manager (only their own).

        A draft is the employee's until they share it.
        """
        if self.state is AgendaState.DRAFT and role is Role.MANAGER:
            return tuple(i for i in self.items if i.proposed_by is Role.MANAGER)
        return self.items

    def visible_item(self, item_id: str, role: Role) -> Item:
        """The item with this id as `role` sees it: one they may not see yet is not there.

        Refused as a step (`TransitionError`) with the sentence of a missing item, so the manager
        cannot tell the employee's unshared items from items that do not exist.
        """
        item = self.item(item_id)
        if item not in self.visible_to(role):
            raise TransitionError(f"the agenda has no item {item_id!r}", code="no_such_item")
        return item

    def items_in(self, theme: str) -> tuple[Item, ...]:
        """The items under one theme, in agenda order."""
        return tuple(item for item in self.items if item.theme == theme)

    def theme(self, key: str) -> Theme:
        """The theme with this key; an unknown key raises `CadenceError`."""
        for theme in self.themes:
            if theme.key == key:
                return theme
        keys = ", ".join(t.key for t in self.themes)
        raise CadenceError(
            f"unknown theme {key!r}: use one of {keys}",
            code="unknown_theme",
            key=repr(key[:40]),
            keys=keys,
        )

    def action(self, action_id: str) -> Action:
        """The carried action with this id; an unknown id raises `CadenceError`."""
        for action in self.actions:
            if action.id == action_id:
                return action
        raise CadenceError(f"the agenda has no carried action {action_id!r}", code="no_such_action")

    @property
    def open_actions(self) -> tuple[Action, ...]:
        """The carried actions still open, in agenda order."""
        return tuple(a for a in self.actions if a.status is ActionStatus.OPEN)

    # -- steps

    def add_item(
        self,
        *,
        theme: str,
        title: str,
        by: Actor,
        now: datetime,
        notes: str = "",
        owner: Role | None = None,
    ) -> Agenda:
        """Add an item (the employee) or propose one (the manager); `owner` defaults to `by`."""
        self.theme(theme)
        if len(self.items) >= _MAX_ITEMS:
            raise TransitionError(
                f"the agenda has {_MAX_ITEMS} items already", code="agenda_full", limit=_MAX_ITEMS
            )
        seq, item_id = self._next_id()
        item = Item(
            id=item_id,
            theme=theme,
            title=title,
            owner=by.role if owner is None else owner,
            proposed_by=by.role,
            notes=notes,
        )
        changed = replace(self, items=(*self.items, item), seq=seq)
        return changed._reopened(by, now)._log(by, now, Step.ADD, item_id, item.title)

    def edit_item(
        self,
        item_id: str,
        *,
        by: Actor,
        now: datetime,
        title: str | None = None,
        notes: str | None = None,
        theme: str | None = None,
        owner: Role | None = None,
    ) -> Agenda:
        """Change an item's title, notes, theme or owner; the same values again change nothing."""
        old = self._editable(item_id, by, "edit")
        if theme is not None:
            self.theme(theme)
        new = replace(
            old,
            title=old.title if title is None else title,
            notes=old.notes if notes is None else notes,
            theme=old.theme if theme is None else theme,
            owner=old.owner if owner is None else owner,
        )
        if new == old:
            return self
        items = tuple(new if item.id == item_id else item for item in self.items)
        changed = replace(self, items=items)
        return changed._reopened(by, now)._log(by, now, Step.EDIT, item_id, new.title)

    def remove_item(self, item_id: str, *, by: Actor, now: datetime) -> Agenda:
        """Take an item off the agenda."""
        self._editable(item_id, by, "remove")
        items = tuple(item for item in self.items if item.id != item_id)
        changed = replace(self, items=items)
        return changed._reopened(by, now)._log(by, now, Step.REMOVE, item_id)

    def move_item(self, item_id: str, index: int, *, by: Actor, now: datetime) -> Agenda:
        """Put an item at `index` in the agenda's order (the employee only)."""
        item = self.visible_item(item_id, by.role)
        if by.role is not Role.EMPLOYEE:
            raise TransitionError(
                "only the employee orders the agenda: ask them to move the item",
                code="employee_orders",
            )
        if not 0 <= index < len(self.items):
            raise CadenceError(
                f"index must be 0-{len(self.items) - 1}, got {index}",
                code="index_range",
                high=len(self.items) - 1,
                got=str(index)[:20],
            )
        rest = [i for i in self.items if i.id != item_id]
        rest.insert(index, item)
        if tuple(rest) == self.items:
            return self
        changed = replace(self, items=tuple(rest))
        return changed._reopened(by, now)._log(by, now, Step.MOVE, item_id, str(index))

    def share(self, *, by: Actor, now: datetime) -> Agenda:
        """Share the draft with the manager (the employee only)."""
        if by.role is not Role.EMPLOYEE:
            raise TransitionError(
                "only the employee shares the agenda: they own it", code="employee_shares"
            )
        if self.state is not AgendaState.DRAFT:
            raise TransitionError(
                f"the agenda is already {self.state.value}: it was shared before",
                code=(
                    "agenda_already_agreed"
                    if self.state is AgendaState.AGREED
                    else "agenda_already_shared"
                ),
            )
        return replace(self, state=AgendaState.SHARED)._log(by, now, Step.SHARE)

    def agree(self, *, by: Actor, now: datetime) -> Agenda:
        """Agree to the shared agenda; when both partners agreed it is agreed."""
        if self.state is AgendaState.DRAFT:
            raise TransitionError(
                "the agenda is still a draft: the employee shares it first",
                code="agenda_not_shared",
            )
        if by.role in self.agreed_by:
            raise TransitionError(
                f"the {by.role.value} already agreed to this agenda",
                code="already_agreed",
                role=by.role.value,
            )
        agreed = self.agreed_by | {by.role}
        state = AgendaState.AGREED if agreed == _BOTH else AgendaState.SHARED
        return replace(self, agreed_by=agreed, state=state)._log(by, now, Step.AGREE)

    def set_action_status(
        self, action_id: str, status: ActionStatus, *, by: Actor, now: datetime
    ) -> Agenda:
        """Mark a carried action done or dropped, or open it again (either partner).

        Following up an earlier action is not a change to what was agreed for this agenda, so
        the agenda's agreements stay.
        """
        new = _next_status(self.action(action_id), status)
        actions = tuple(new if a.id == action_id else a for a in self.actions)
        changed = replace(self, actions=actions)
        return changed._log(by, now, Step.STATUS, action_id, new.status.value)

    # -- serialisation

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dictionary with schema name and version."""
        return {
            "schema": AGENDA_SCHEMA,
            "version": SCHEMA_VERSION,
            "series_id": self.series_id,
            **_occurrence_out(self.occurrence),
            "themes": [{"key": t.key, "title": t.title} for t in self.themes],
            "items": [_item_out(i) for i in self.items],
            "state": self.state.value,
            "agreed_by": sorted(r.value for r in self.agreed_by),
            "history": [_entry_out(e) for e in self.history],
            "seq": self.seq,
            "actions": [_action_out(a) for a in self.actions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Agenda:
        """The agenda `to_dict` wrote; a malformed or newer document raises `CadenceError`."""
        r = _Reader(data, "agenda")
        r.header(AGENDA_SCHEMA)
        return cls(
            series_id=r.text("series_id"),
            occurrence=r.occurrence(),
            themes=tuple(Theme(t.text("key"), t.text("title")) for t in r.objects("themes")),
            items=tuple(_item_in(i) for i in r.objects("items")),
            state=r.choice("state", AgendaState),
            agreed_by=frozenset(r.choices("agreed_by", Role)),
            history=tuple(_entry_in(e) for e in r.objects("history")),
            seq=r.integer("seq"),
            # Written since carried actions stay actions; older agendas have none.
            actions=tuple(_action_in(a) for a in r.objects("actions", optional=True)),
        )

    # -- helpers

    def _next_id(self) -> tuple[int, str]:
        taken = {item.id for item in self.items}
        seq = self.seq + 1
        # Loaded ids may be anything; skip any that is taken (at most len(items) steps).
        for _ in range(len(taken) + 1):
            if f"i{seq}" not in taken:
                break
            seq += 1
        return seq, f"i{seq}"

    def _editable(self, item_id: str, by: Actor, verb: str) -> Item:
        item = self.visible_item(item_id, by.role)
        if by.role is Role.MANAGER and item.proposed_by is not Role.MANAGER:
            raise TransitionError(
                f"the manager cannot {verb} item {item_id!r}: the employee put it on the agenda "
                "and owns it; propose a new item instead",
                code="manager_cannot_edit_item" if verb == "edit" else "manager_cannot_remove_item",
            )
        return item

    def _reopened(self, by: Actor, now: datetime) -> Agenda:
        if not self.agreed_by:
            return self
        # A changed agenda is not the one that was agreed to: both agree again.
        reopened = replace(self, agreed_by=frozenset(), state=AgendaState.SHARED)
        return reopened._log(by, now, Step.REOPEN)

    def _log(
        self, by: Actor, now: datetime, step: Step, subject: str = "", detail: str = ""
    ) -> Agenda:
        entry = HistoryEntry(now, by.person, by.role, step, subject, detail)
        return replace(self, history=(*self.history, entry))


# -- the record --------------------------------------------------------------------------------


class AgreementState(enum.StrEnum):
    """Draft (being written), proposed (waiting for acceptance), final (both accepted)."""

    DRAFT = "draft"
    PROPOSED = "proposed"
    FINAL = "final"


class ActionStatus(enum.StrEnum):
    """An action is open until it is done or dropped."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Summary:
    """What was discussed on one agenda item, and whether the item is finished."""

    item_id: str
    text: str
    finished: bool = True

    def __post_init__(self) -> None:
        if not self.item_id:
            raise CadenceError("a summary needs the id of its agenda item")
        object.__setattr__(self, "text", _block(self.text, "summary", _MAX_SUMMARY, required=False))


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A partner's acceptance of an agreement as it then stood."""

    role: Role
    person: str
    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        require_aware(self.at, "the instant of an acceptance")
        object.__setattr__(self, "at", self.at.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class Agreement:
    """An agreement (afspraak); final only once both partners accepted its current text.

    `proposed_at` is when the current text was proposed (None for a draft); `item_id` optionally
    ties it to an agenda item.
    """

    id: str
    text: str
    state: AgreementState = AgreementState.DRAFT
    proposed_at: datetime | None = None
    accepted: tuple[Acceptance, ...] = ()
    item_id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise CadenceError("an agreement needs an id")
        object.__setattr__(self, "text", _block(self.text, "agreement", _MAX_AGREEMENT))
        object.__setattr__(self, "state", AgreementState(self.state))
        object.__setattr__(self, "accepted", tuple(self.accepted))
        if self.proposed_at is not None:
            require_aware(self.proposed_at, "proposed_at")
            object.__setattr__(self, "proposed_at", self.proposed_at.astimezone(UTC))
        roles = [a.role for a in self.accepted]
        if len(roles) != len(set(roles)):
            raise CadenceError(f"agreement {self.id!r} lists an acceptance twice")
        if (self.state is AgreementState.DRAFT) != (self.proposed_at is None):
            raise CadenceError(
                f"agreement {self.id!r}: a proposed or final agreement has proposed_at, "
                "a draft has none"
            )
        if self.state is AgreementState.DRAFT and self.accepted:
            raise CadenceError(f"agreement {self.id!r} is a draft: it cannot be accepted yet")
        if (self.state is AgreementState.FINAL) != (self.accepted_by == _BOTH):
            raise CadenceError(
                f"agreement {self.id!r} is final exactly when both partners accepted it"
            )

    @property
    def accepted_by(self) -> frozenset[Role]:
        """The roles that accepted the current text."""
        return frozenset(a.role for a in self.accepted)

    @property
    def waiting_for(self) -> tuple[Role, ...]:
        """The roles whose acceptance is still missing, employee first (empty unless proposed)."""
        if self.state is not AgreementState.PROPOSED:
            return ()
        return tuple(r for r in (Role.EMPLOYEE, Role.MANAGER) if r not in self.accepted_by)


@dataclass(frozen=True, slots=True)
class Action:
    """An action (actiepunt): who does what by when, and whether it is done.

    A carried-over action names the conversation it was agreed in and its id there in
    `carried_from`; `item_id` names an item of the agenda it stands beside ("" for none).
    """

    id: str
    owner: Role
    description: str
    due: date | None = None
    status: ActionStatus = ActionStatus.OPEN
    item_id: str = ""
    carried_from: CarriedFrom | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise CadenceError("an action needs an id")
        object.__setattr__(self, "owner", Role(self.owner))
        object.__setattr__(self, "status", ActionStatus(self.status))
        object.__setattr__(
            self, "description", _line(self.description, "action description", _MAX_ACTION)
        )
        if isinstance(self.due, datetime):
            raise CadenceError("an action's due date is a date, not a datetime")
        if self.carried_from is not None and self.carried_from.origin is not Origin.ACTION:
            raise CadenceError(f"action {self.id!r} can only be carried from an action")


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""Passed to `Record.edit_action(due=...)`, the default: leave the due date as it is."""

_NEXT_STATUS: Final = {
    ActionStatus.OPEN: {ActionStatus.DONE, ActionStatus.DROPPED},
    ActionStatus.DONE: {ActionStatus.OPEN},
    ActionStatus.DROPPED: {ActionStatus.OPEN},
}


_STATUS_CODES: Final = {
    ActionStatus.OPEN: "action_open",
    ActionStatus.DONE: "action_done",
    ActionStatus.DROPPED: "action_dropped",
}


def _next_status(old: Action, status: ActionStatus) -> Action:
    status = ActionStatus(status)
    if status not in _NEXT_STATUS[old.status]:
        raise TransitionError(
            f"action {old.id!r} is {old.status.value}: it can become "
            f"{' or '.join(sorted(s.value for s in _NEXT_STATUS[old.status]))}",
            code=_STATUS_CODES[old.status],
        )
    return replace(old, status=status)


@dataclass(frozen=True, slots=True)
class Record:
    """The record (verslag) of one occurrence: summaries per item, agreements, actions, history.

    Both partners co-write it. `seq` numbers the agreements and actions handed out so far.
    """

    series_id: str
    occurrence: datetime
    summaries: tuple[Summary, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    actions: tuple[Action, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    seq: int = 0

    def __post_init__(self) -> None:
        if not self.series_id:
            raise CadenceError("a record needs the id of its series")
        require_aware(self.occurrence, "the occurrence of a record")
        for name in ("summaries", "agreements", "actions", "history"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _unique((s.item_id for s in self.summaries), "summary for agenda item")
        _unique(
            [a.id for a in self.agreements] + [a.id for a in self.actions],
            "agreement or action id",
        )
        if self.seq < 0:
            raise CadenceError(f"seq must be 0 or more, got {self.seq}")

    @classmethod
    def for_agenda(cls, agenda: Agenda) -> Record:
        """An empty record for the occurrence of `agenda`."""
        return cls(series_id=agenda.series_id, occurrence=agenda.occurrence)

    # -- reading

    def summary(self, item_id: str) -> Summary | None:
        """The summary of an agenda item, or None when it was not summarised."""
        for summary in self.summaries:
            if summary.item_id == item_id:
                return summary
        return None

    def agreement(self, agreement_id: str) -> Agreement:
        """The agreement with this id; an unknown id raises `CadenceError`."""
        for agreement in self.agreements:
            if agreement.id == agreement_id:
                return agreement
        raise CadenceError(
            f"the record has no agreement {agreement_id!r}", code="no_such_agreement"
        )

    def action(self, action_id: str) -> Action:
        """The action with this id; an unknown id raises `CadenceError`."""
        for action in self.actions:
            if action.id == action_id:
                return action
        raise CadenceError(f"the record has no action {action_id!r}", code="no_such_action")

    def declined(self, agreement_id: str) -> HistoryEntry | None:
        """The decline that sent this agreement back to draft (who, when, why), or None.

        None as soon as it is proposed again: the decline was of an earlier proposal.
        """
        for entry in reversed(self.history):
            if entry.subject != agreement_id:
                continue
            if entry.step is Step.DECLINE:
                return entry if self.agreement(agreement_id).state is AgreementState.DRAFT else None
            if entry.step is Step.PROPOSE:
                return None
        return None

    @property
    def is_final(self) -> bool:
        """True when every agreement is final (a record without agreements is final)."""
        return all(a.state is AgreementState.FINAL for a in self.agreements)

    @property
    def open_actions(self) -> tuple[Action, ...]:
        """The actions still open, in record order."""
        return tuple(a for a in self.actions if a.status is ActionStatus.OPEN)

    # -- summaries

    def summarise(
        self, item_id: str, text: str, *, finished: bool, by: Actor, now: datetime
    ) -> Record:
        """Write (or rewrite) the summary of an agenda item; unfinished items carry over."""
        new = Summary(item_id, text, finished)
        if self.summary(item_id) == new:
            return self
        kept = tuple(s for s in self.summaries if s.item_id != item_id)
        changed = replace(self, summaries=(*kept, new))
        return changed._log(by, now, Step.SUMMARISE, item_id, "finished" if finished else "open")

    # -- agreements

    def add_agreement(self, text: str, *, by: Actor, now: datetime, item_id: str = "") -> Record:
        """Write a new agreement as a draft."""
        if len(self.agreements) >= _MAX_AGREEMENTS:
            raise TransitionError(
                f"the record has {_MAX_AGREEMENTS} agreements already",
                code="agreements_full",
                limit=_MAX_AGREEMENTS,
            )
        seq, agreement_id = self._next_id("ag")
        agreement = Agreement(id=agreement_id, text=text, item_id=item_id)
        changed = replace(self, agreements=(*self.agreements, agreement), seq=seq)
        return changed._log(by, now, Step.ADD, agreement_id, agreement.text)

    def edit_agreement(self, agreement_id: str, text: str, *, by: Actor, now: datetime) -> Record:
        """Change an agreement's text.

        A draft stays a draft. A proposed or final agreement is proposed again with the new text
        (`proposed_at` becomes `now`) and its acceptances are cleared: they were of other words.
        """
        old = self.agreement(agreement_id)
        new_text = _block(text, "agreement", _MAX_AGREEMENT)
        if new_text == old.text:
            return self
        if old.state is AgreementState.DRAFT:
            new = replace(old, text=new_text)
            return self._put(new)._log(by, now, Step.EDIT, agreement_id, new_text)
        # A changed text is a new proposal: earlier acceptances were of other words.
        new = replace(
            old, text=new_text, state=AgreementState.PROPOSED, proposed_at=now, accepted=()
        )
        changed = self._put(new)
        if old.accepted:
            changed = changed._log(by, now, Step.REOPEN, agreement_id)
        return changed._log(by, now, Step.EDIT, agreement_id, new_text)

    def remove_agreement(self, agreement_id: str, *, by: Actor, now: datetime) -> Record:
        """Delete an agreement nobody has accepted yet."""
        old = self.agreement(agreement_id)
        if old.accepted:
            raise TransitionError(
                f"agreement {agreement_id!r} was accepted already: an accepted agreement is not "
                "removed; change its text to propose it again",
                code="agreement_accepted_not_removed",
            )
        agreements = tuple(a for a in self.agreements if a.id != agreement_id)
        return replace(self, agreements=agreements)._log(by, now, Step.REMOVE, agreement_id)

    def propose(self, agreement_id: str, *, by: Actor, now: datetime) -> Record:
        """Propose a draft agreement to both partners for acceptance."""
        old = self.agreement(agreement_id)
        if old.state is not AgreementState.DRAFT:
            raise TransitionError(
                f"agreement {agreement_id!r} is {old.state.value} already: only a draft is "
                "proposed",
                code="agreement_already_proposed",
            )
        new = replace(old, state=AgreementState.PROPOSED, proposed_at=now)
        return self._put(new)._log(by, now, Step.PROPOSE, agreement_id, new.text)

    def propose_all(self, *, by: Actor, now: datetime) -> Record:
        """Propose every draft agreement at once."""
        todo = [a.id for a in self.agreements if a.state is AgreementState.DRAFT]
        if not todo:
            raise TransitionError(
                "there is no draft agreement to propose", code="nothing_to_propose"
            )
        record = self
        for agreement_id in todo:
            record = record.propose(agreement_id, by=by, now=now)
        return record

    def accept(self, agreement_id: str, *, by: Actor, now: datetime) -> Record:
        """Accept a proposed agreement for `by`'s role; with both acceptances it is final."""
        old = self.agreement(agreement_id)
        if old.state is AgreementState.DRAFT:
            raise TransitionError(
                f"agreement {agreement_id!r} is a draft: propose it before accepting it",
                code="agreement_not_proposed",
            )
        if old.state is AgreementState.FINAL:
            raise TransitionError(
                f"agreement {agreement_id!r} is final already", code="agreement_final"
            )
        if by.role in old.accepted_by:
            raise TransitionError(
                f"the {by.role.value} accepted agreement {agreement_id!r} already",
                code="already_accepted",
                role=by.role.value,
            )
        accepted = (*old.accepted, Acceptance(by.role, by.person, now))
        state = (
            AgreementState.FINAL
            if frozenset(a.role for a in accepted) == _BOTH
            else AgreementState.PROPOSED
        )
        new = replace(old, accepted=accepted, state=state)
        return self._put(new)._log(by, now, Step.ACCEPT, agreement_id, old.text)

    def accept_all(self, *, by: Actor, now: datetime) -> Record:
        """Accept every proposed agreement `by`'s role has not accepted yet."""
        todo = [a.id for a in self.agreements if by.role in a.waiting_for]
        if not todo:
            raise TransitionError(
                f"there is no proposed agreement for the {by.role.value} to accept",
                code="nothing_to_accept",
                role=by.role.value,
            )
        record = self
        for agreement_id in todo:
            record = record.accept(agreement_id, by=by, now=now)
        return record

    def decline(self, agreement_id: str, *, by: Actor, now: datetime, reason: str = "") -> Record:
        """Decline a proposed agreement `by` has not accepted: it goes back to draft, they talk.

        A final agreement is not declined: either partner changes its text, which proposes it
        again. `declined` tells who declined, why and when.
        """
        old = self.agreement(agreement_id)
        if old.state is AgreementState.DRAFT:
            raise TransitionError(
                f"agreement {agreement_id!r} is a draft: there is nothing to decline yet",
                code="agreement_draft_not_declined",
            )
        if old.state is AgreementState.FINAL:
            raise TransitionError(
                f"agreement {agreement_id!r} is final: change its text to propose it again",
                code="agreement_final_not_declined",
            )
        if by.role in old.accepted_by:
            raise TransitionError(
                f"the {by.role.value} accepted agreement {agreement_id!r} already: change its "
                "text to propose it again",
                code="agreement_accepted_not_declined",
                role=by.role.value,
            )
        new = replace(old, state=AgreementState.DRAFT, proposed_at=None, accepted=())
        detail = _block(reason, "reason", _MAX_AGREEMENT, required=False)
        return self._put(new)._log(by, now, Step.DECLINE, agreement_id, detail)

    # -- actions

    def add_action(
        self,
        description: str,
        *,
        owner: Role,
        by: Actor,
        now: datetime,
        due: date | None = None,
        item_id: str = "",
    ) -> Record:
        """Note an action: who (`owner`) does what by when (`due`)."""
        if len(self.actions) >= _MAX_ACTIONS:
            raise TransitionError(
                f"the record has {_MAX_ACTIONS} actions already",
                code="actions_full",
                limit=_MAX_ACTIONS,
            )
        seq, action_id = self._next_id("ac")
        action = Action(action_id, owner, description, due, item_id=item_id)
        changed = replace(self, actions=(*self.actions, action), seq=seq)
        return changed._log(by, now, Step.ADD, action_id, action.description)

    def edit_action(
        self,
        action_id: str,
        *,
        by: Actor,
        now: datetime,
        description: str | None = None,
        owner: Role | None = None,
        due: date | _Keep | None = KEEP,
    ) -> Record:
        """Change an action's description, owner or due date (`due=None` clears it)."""
        old = self.action(action_id)
        new = replace(
            old,
            description=old.description if description is None else description,
            owner=old.owner if owner is None else owner,
            due=old.due if due is KEEP else due,
        )
        if new == old:
            return self
        return self._put_action(new)._log(by, now, Step.EDIT, action_id, new.description)

    def set_status(
        self, action_id: str, status: ActionStatus, *, by: Actor, now: datetime
    ) -> Record:
        """Mark an action done or dropped, or open it again."""
        new = _next_status(self.action(action_id), status)
        return self._put_action(new)._log(by, now, Step.STATUS, action_id, new.status.value)

    # -- serialisation

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dictionary with schema name and version."""
        return {
            "schema": RECORD_SCHEMA,
            "version": SCHEMA_VERSION,
            "series_id": self.series_id,
            **_occurrence_out(self.occurrence),
            "summaries": [
                {"item_id": s.item_id, "text": s.text, "finished": s.finished}
                for s in self.summaries
            ],
            "agreements": [_agreement_out(a) for a in self.agreements],
            "actions": [_action_out(a) for a in self.actions],
            "history": [_entry_out(e) for e in self.history],
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        """The record `to_dict` wrote; a malformed or newer document raises `CadenceError`."""
        r = _Reader(data, "record")
        r.header(RECORD_SCHEMA)
        return cls(
            series_id=r.text("series_id"),
            occurrence=r.occurrence(),
            summaries=tuple(
                Summary(s.text("item_id"), s.text("text"), s.boolean("finished"))
                for s in r.objects("summaries")
            ),
            agreements=tuple(_agreement_in(a) for a in r.objects("agreements")),
            actions=tuple(_action_in(a) for a in r.objects("actions")),
            history=tuple(_entry_in(e) for e in r.objects("history")),
            seq=r.integer("seq"),
        )

    # -- helpers

    def _next_id(self, prefix: str) -> tuple[int, str]:
        taken = {a.id for a in self.agreements} | {a.id for a in self.actions}
        seq = self.seq + 1
        for _ in range(len(taken) + 1):
            if f"{prefix}{seq}" not in taken:
                break
            seq += 1
        return seq, f"{prefix}{seq}"

    def _put(self, agreement: Agreement) -> Record:
        agreements = tuple(agreement if a.id == agreement.id else a for a in self.agreements)
        return replace(self, agreements=agreements)

    def _put_action(self, action: Action) -> Record:
        actions = tuple(action if a.id == action.id else a for a in self.actions)
        return replace(self, actions=actions)

    def _log(
        self, by: Actor, now: datetime, step: Step, subject: str = "", detail: str = ""
    ) -> Record:
        entry = HistoryEntry(now, by.person, by.role, step, subject, detail)
        return replace(self, history=(*self.history, entry))


# -- carry-over --------------------------------------------------------------------------------


def carry_over(
    agenda: Agenda,
    record: Record | None,
    *,
    occurrence: datetime,
    themes: Sequence[Theme],
) -> Agenda:
    """The draft agenda of the next occurrence, built from the last agenda and its record.

    `agenda` is the latest conversation that has one, which need not be the one just before
    `occurrence`: a skipped conversation has none, and everything open reaches the next one all
    the same. It carries over every item that was not finished (no summary, or a summary marked
    unfinished), flagged with where it came from; without a record nothing was finished, so every
    item comes along. Open actions stay actions, with owner, due date and status: those of the
    record, and those `agenda` carried itself and nobody closed, each keeping where it was first
    agreed. An action tied to an item that comes along stays tied to it. Themes are the template's
    `themes` in order, plus any theme a carried item needs that the template lacks. The new agenda
    is a draft without history: the employee still owns and shares it.
    """
    require_aware(occurrence, "the next occurrence")
    if occurrence <= agenda.occurrence:
        raise CadenceError(
            f"the next occurrence ({occurrence.isoformat()}) must come after the previous one "
            f"({agenda.occurrence.isoformat()})"
        )
    if record is not None and (
        record.series_id != agenda.series_id or record.occurrence != agenda.occurrence
    ):
        raise CadenceError("the record belongs to another occurrence than the agenda")
    if not themes:
        raise CadenceError("the next agenda needs the template's themes: none were given")

    previous = agenda.occurrence
    template_keys = {t.key for t in themes}
    carried: list[Item] = []
    new_ids: dict[str, str] = {}
    extra: dict[str, Theme] = {}
    for item in agenda.items:
        summary = record.summary(item.id) if record is not None else None
        if summary is not None and summary.finished:
            continue
        if item.theme not in template_keys:
            extra.setdefault(item.theme, agenda.theme(item.theme))
        new_ids[item.id] = f"i{len(carried) + 1}"
        origin = CarriedFrom(previous, Origin.ITEM, item.id)
        carried.append(replace(item, id=new_ids[item.id], carried_from=origin))

    own = record.open_actions if record is not None else ()
    actions = [
        replace(
            action,
            id=f"ca{n}",
            item_id=new_ids.get(action.item_id, ""),
            carried_from=action.carried_from or CarriedFrom(previous, Origin.ACTION, action.id),
        )
        for n, action in enumerate((*agenda.open_actions, *own), start=1)
    ]
    return Agenda(
        series_id=agenda.series_id,
        occurrence=occurrence,
        themes=(*themes, *extra.values()),
        items=tuple(carried),
        seq=len(carried),
        actions=tuple(actions),
    )


# -- validation helpers ------------------------------------------------------------------------


def _check_key(key: str, what: str) -> None:
    ok = (
        isinstance(key, str)
        and 0 < len(key) <= _MAX_KEY
        and key[0].isascii()
        and key[0].isalpha()
        and all(c.isascii() and (c.isalnum() or c == "_") for c in key)
        and key == key.lower()
    )
    if not ok:
        raise CadenceError(
            f"{what} {key!r} must be 1-{_MAX_KEY} lowercase letters, digits or _, "
            "starting with a letter"
        )


_TEXT_CODES: Final = {
    "title": "title",
    "theme title": "theme_title",
    "notes": "notes",
    "summary": "summary",
    "agreement": "agreement",
    "action description": "action",
    "reason": "reason",
    "goal": "goal",
    "why": "why",
    "progress note": "progress",
    "question": "question",
    "answer": "answer",
    "reflection": "reflection",
    "name": "name",
}
"""The code's first word for each text a person writes (``title_empty``, ``notes_too_long``)."""


def _line(value: str, what: str, limit: int) -> str:
    text = _block(value, what, limit)
    if "\n" in text or "\r" in text:
        raise CadenceError(
            f"the {what} must be one line: move the rest into the notes",
            code=f"{_TEXT_CODES.get(what, 'text')}_one_line",
        )
    return text


def _block(value: str, what: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise CadenceError(f"the {what} must be text, got {type(value).__name__}")
    text = value.strip()
    if required and not text:
        raise CadenceError(
            f"the {what} is empty: write a few words",
            code=f"{_TEXT_CODES.get(what, 'text')}_empty",
        )
    if len(text) > limit:
        raise CadenceError(
            f"the {what} is {len(text)} characters: keep it to {limit}",
            code=f"{_TEXT_CODES.get(what, 'text')}_too_long",
            length=len(text),
            limit=limit,
        )
    return text


def _unique(values: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise CadenceError(f"{what} {value!r} appears twice: each must be unique")
        seen.add(value)


# -- serialisation helpers ---------------------------------------------------------------------


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _occurrence_out(occurrence: datetime) -> dict[str, str]:
    out = {"occurrence": occurrence.isoformat()}
    if isinstance(occurrence.tzinfo, ZoneInfo):
        out["tz"] = occurrence.tzinfo.key
    return out


def _entry_out(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "at": _instant(entry.at),
        "person": entry.person,
        "role": entry.role.value,
        "step": entry.step.value,
        "subject": entry.subject,
        "detail": entry.detail,
    }


def _item_out(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "theme": item.theme,
        "title": item.title,
        "owner": item.owner.value,
        "proposed_by": item.proposed_by.value,
        "notes": item.notes,
        "carried_from": _carried_out(item.carried_from),
    }


def _agreement_out(agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "text": agreement.text,
        "state": agreement.state.value,
        "proposed_at": None if agreement.proposed_at is None else _instant(agreement.proposed_at),
        "accepted": [
            {"role": a.role.value, "person": a.person, "at": _instant(a.at)}
            for a in agreement.accepted
        ],
        "item_id": agreement.item_id,
    }


def _carried_out(carried: CarriedFrom | None) -> dict[str, str] | None:
    if carried is None:
        return None
    return {
        "occurrence": _instant(carried.occurrence),
        "origin": carried.origin.value,
        "ref": carried.ref,
    }


def _carried_in(r: _Reader | None) -> CarriedFrom | None:
    if r is None:
        return None
    return CarriedFrom(r.instant("occurrence"), r.choice("origin", Origin), r.text("ref"))


def _action_out(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "owner": action.owner.value,
        "description": action.description,
        "due": None if action.due is None else action.due.isoformat(),
        "status": action.status.value,
        "item_id": action.item_id,
        "carried_from": _carried_out(action.carried_from),
    }


def _entry_in(r: _Reader) -> HistoryEntry:
    return HistoryEntry(
        at=r.instant("at"),
        person=r.text("person"),
        role=r.choice("role", Role),
        step=r.choice("step", Step),
        subject=r.text("subject", empty=True),
        detail=r.text("detail", empty=True),
    )


def _item_in(r: _Reader) -> Item:
    return Item(
        id=r.text("id"),
        theme=r.text("theme"),
        title=r.text("title"),
        owner=r.choice("owner", Role),
        proposed_by=r.choice("proposed_by", Role),
        notes=r.text("notes", empty=True),
        carried_from=_carried_in(r.optional_object("carried_from")),
    )


def _agreement_in(r: _Reader) -> Agreement:
    return Agreement(
        id=r.text("id"),
        text=r.text("text"),
        state=r.choice("state", AgreementState),
        proposed_at=r.optional_instant("proposed_at"),
        accepted=tuple(
            Acceptance(a.choice("role", Role), a.text("person"), a.instant("at"))
            for a in r.objects("accepted")
        ),
        item_id=r.text("item_id", empty=True),
    )


def _action_in(r: _Reader) -> Action:
    return Action(
        id=r.text("id"),
        owner=r.choice("owner", Role),
        description=r.text("description"),
        due=r.optional_date("due"),
        status=r.choice("status", ActionStatus),
        item_id=r.text("item_id", empty=True),
        # Written since actions carry over as actions; older files have none.
        carried_from=_carried_in(r.optional_object("carried_from", missing_ok=True)),
    )


_E = TypeVar("_E", bound=enum.StrEnum)


@dataclass(frozen=True, slots=True)
class _Reader:
    """Typed access to a parsed JSON object; every error names the field's path."""

    data: Mapping[str, Any]
    where: str

    def __post_init__(self) -> None:
        if not isinstance(self.data, Mapping):
            raise CadenceError(f"{self.where} must be an object, got {type(self.data).__name__}")

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise CadenceError(f"{self.where}.{key} is missing: the file is incomplete")
        return self.data[key]

    def _bad(self, key: str, expected: str, value: Any) -> CadenceError:
        return CadenceError(f"{self.where}.{key} must be {expected}, got {value!r}")

    def header(self, schema: str) -> None:
        """Check the schema name and version."""
        name = self._get("schema")
        if name != schema:
            raise CadenceError(f"{self.where}: expected a {schema!r} document, got {name!r}")
        version = self._get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self._bad("version", "a positive whole number", version)
        if version > SCHEMA_VERSION:
            raise CadenceError(
                f"{self.where} has version {version}, newer than this Goed Gesprek reads "
                f"({SCHEMA_VERSION}): update Goed Gesprek"
            )

    def text(self, key: str, *, empty: bool = False) -> str:
        value = self._get(key)
        if not isinstance(value, str) or (not empty and not value):
            raise self._bad(key, "text" if empty else "non-empty text", value)
        return value

    def integer(self, key: str) -> int:
        value = self._get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._bad(key, "a whole number", value)
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false", value)
        return value

    def choice(self, key: str, kind: type[_E]) -> _E:
        value = self._get(key)
        try:
            return kind(value)
        except ValueError:
            raise self._bad(key, f"one of {', '.join(m.value for m in kind)}", value) from None

    def choices(self, key: str, kind: type[_E]) -> list[_E]:
        values = self._get(key)
        if not isinstance(values, list):
            raise self._bad(key, "a list", values)
        out: list[_E] = []
        for value in values:
            try:
                out.append(kind(value))
            except ValueError:
                raise self._bad(
                    key, f"a list of {', '.join(m.value for m in kind)}", values
                ) from None
        return out

    def objects(self, key: str, *, optional: bool = False) -> list[_Reader]:
        if optional and key not in self.data:
            return []
        values = self._get(key)
        if not isinstance(values, list):
            raise self._bad(key, "a list", values)
        return [_Reader(v, f"{self.where}.{key}[{n}]") for n, v in enumerate(values)]

    def optional_object(self, key: str, *, missing_ok: bool = False) -> _Reader | None:
        if missing_ok and key not in self.data:
            return None
        value = self._get(key)
        return None if value is None else _Reader(value, f"{self.where}.{key}")

    def instant(self, key: str) -> datetime:
        value = self._get(key)
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise self._bad(key, "an ISO 8601 instant with an offset", value)
        return parsed

    def optional_instant(self, key: str) -> datetime | None:
        return None if self._get(key) is None else self.instant(key)

    def optional_date(self, key: str) -> date | None:
        value = self._get(key)
        if value is None:
            return None
        try:
            if isinstance(value, str) and len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise self._bad(key, "a date as YYYY-MM-DD", value)

    def occurrence(self) -> datetime:
        """The occurrence, in its own zone when the document names one."""
        at = self.instant("occurrence")
        tz = self.data.get("tz")
        if tz is None:
            return at
        if not isinstance(tz, str):
            raise self._bad("tz", "an IANA zone name", tz)
        return at.astimezone(zone(tz))
