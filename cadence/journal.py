"""What a pair keeps between conversations: goals, check-ins, colleagues' feedback, reflections.

One journal per series, an immutable value like the agenda and the record, sealed in the
employee's drive beside the conversations' documents. Every step takes the acting partner and
`now` and returns a new journal, or raises `TransitionError`.

The rules, from the practice of "het goede gesprek":

- **Goals** are the employee's: the employee writes and proposes them (a development goal, or a
  results goal where the pair wants one), with a why and a horizon. Both partners accept a goal,
  as they accept an agreement; an edit after an acceptance clears the acceptances, and declining
  sends it back to the employee's draft. Once agreed, either partner notes progress (per
  conversation), links actions that serve it, and the employee marks it achieved or dropped.
  The manager does not see a draft goal.
- **Energy and work happiness**: only the employee checks in, one tap each on a 1-5 scale, for a
  conversation (a second check-in for it replaces the first) or between conversations. Both
  partners see the trend; nobody else ever does.
- **Feedback from colleagues**: the employee asks a colleague a few open questions. The manager
  may ask on the employee's behalf, but the request waits for the employee's consent. The answer
  is the employee's: the manager sees that a request was made and answered, and reads the answer
  only once the employee shares it.
- **The reflection** before a conversation is the employee's own, shown to the manager only
  when the employee shares it.
- **A time-out or another conversation partner**: either partner may ask, with a reason only the
  pair sees. Either partner closes it again.
- **A guest at the table**: the employee invites someone (a colleague, HR, a confidant) to one
  conversation; the guest sees the record of that conversation only when the employee allows it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Final

from cadence.conversation import Actor, HistoryEntry, Step, _block, _entry_in, _entry_out, _line
from cadence.conversation import _Reader as Reader
from cadence.errors import CadenceError, TransitionError
from cadence.model import Role
from cadence.zones import require_aware

__all__ = [
    "JOURNAL_SCHEMA",
    "CheckIn",
    "Feedback",
    "FeedbackState",
    "Goal",
    "GoalKind",
    "GoalState",
    "GoalStatus",
    "Guest",
    "Journal",
    "Progress",
    "Reflection",
    "TimeOut",
    "TimeOutKind",
]

JOURNAL_SCHEMA: Final = "goedgesprek.journal"
"""The `schema` value of a serialised journal."""

JOURNAL_VERSION: Final = 1

SCALE: Final = range(1, 6)
"""A check-in's scale: 1 (very low) to 5 (very high)."""

_BOTH: Final = frozenset({Role.EMPLOYEE, Role.MANAGER})
_MAX_GOALS = 30
_MAX_PROGRESS = 100
_MAX_LINKS = 30
_MAX_CHECKINS = 200
_MAX_FEEDBACK = 60
_MAX_QUESTIONS = 6
_MAX_ANSWER = 4000
_MAX_WHY = 2000
_MAX_NOTE = 2000
_MAX_REFLECTION = 8000
_MAX_REFLECTIONS = 100
_MAX_TIMEOUTS = 30
_MAX_GUESTS = 3
_MAX_HISTORY = 500
_OCC_LEN = 16  # 20261201T083000Z


class GoalKind(enum.StrEnum):
    """A learning and development goal, or a results goal."""

    DEVELOPMENT = "development"
    RESULTS = "results"


class GoalState(enum.StrEnum):
    """Draft (the employee writes), proposed (waiting for acceptances), agreed (both)."""

    DRAFT = "draft"
    PROPOSED = "proposed"
    AGREED = "agreed"


class GoalStatus(enum.StrEnum):
    """Where an agreed goal stands."""

    OPEN = "open"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class FeedbackState(enum.StrEnum):
    """A request to a colleague: waiting for the employee's consent, open, answered, withdrawn."""

    CONSENT = "consent"
    OPEN = "open"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"


class TimeOutKind(enum.StrEnum):
    """A pause in the conversations, or another conversation partner."""

    TIME_OUT = "time_out"
    OTHER_PARTNER = "other_partner"


@dataclass(frozen=True, slots=True)
class Progress:
    """A note on a goal's progress, for a conversation (`occurrence` key, "" for none)."""

    at: datetime
    role: Role
    note: str
    occurrence: str = ""

    def __post_init__(self) -> None:
        require_aware(self.at, "the instant of a progress note")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "note", _block(self.note, "progress note", _MAX_NOTE))
        _check_occurrence(self.occurrence, optional=True)


@dataclass(frozen=True, slots=True)
class Goal:
    """One of the employee's goals.

    `accepted_by` holds the roles that accepted its current text (a proposed goal the employee
    proposed counts the employee's acceptance). `actions` name the actions serving it as
    ``(occurrence key, action id)`` where the action was first agreed.
    """

    id: str
    kind: GoalKind
    title: str
    why: str = ""
    horizon: date | None = None
    state: GoalState = GoalState.DRAFT
    accepted_by: frozenset[Role] = frozenset()
    status: GoalStatus = GoalStatus.OPEN
    progress: tuple[Progress, ...] = ()
    actions: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _check_id(self.id, "g")
        object.__setattr__(self, "kind", GoalKind(self.kind))
        object.__setattr__(self, "state", GoalState(self.state))
        object.__setattr__(self, "status", GoalStatus(self.status))
        object.__setattr__(self, "title", _line(self.title, "goal", 200))
        object.__setattr__(self, "why", _block(self.why, "why", _MAX_WHY, required=False))
        object.__setattr__(self, "accepted_by", frozenset(Role(r) for r in self.accepted_by))
        if isinstance(self.horizon, datetime):
            raise CadenceError("a goal's horizon is a date, not a datetime")
        if (self.state is GoalState.AGREED) != (self.accepted_by == _BOTH):
            raise CadenceError(f"goal {self.id!r} is agreed exactly when both partners accepted")
        if self.state is GoalState.DRAFT and self.accepted_by:
            raise CadenceError(f"goal {self.id!r} is a draft: it cannot be accepted yet")
        if self.status is not GoalStatus.OPEN and self.state is not GoalState.AGREED:
            raise CadenceError(f"goal {self.id!r} can be achieved or dropped only once agreed")
        if len(self.progress) > _MAX_PROGRESS:
            raise CadenceError(f"goal {self.id!r} has more than {_MAX_PROGRESS} progress notes")

    @property
    def waiting_for(self) -> tuple[Role, ...]:
        """Whose acceptance a proposed goal still waits for, employee first."""
        if self.state is not GoalState.PROPOSED:
            return ()
        return tuple(r for r in (Role.EMPLOYEE, Role.MANAGER) if r not in self.accepted_by)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """The employee's energy and work happiness, 1-5 each, for a conversation or in between."""

    at: datetime
    energy: int
    happiness: int
    occurrence: str = ""

    def __post_init__(self) -> None:
        require_aware(self.at, "the instant of a check-in")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        for name in ("energy", "happiness"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value not in SCALE:
                raise CadenceError(
                    f"{name} is a whole number from 1 to 5, not {value!r}",
                    code="checkin_scale",
                    value=str(value)[:10],
                )
        _check_occurrence(self.occurrence, optional=True)


@dataclass(frozen=True, slots=True)
class Feedback:
    """A request for feedback to a colleague, and their answer.

    `questions` are the texts as asked (in the colleague's language); `answers` line up with them
    ("" for a question left open). `nonce` is part of the colleague's link: a new link (asked
    again) makes the old one useless.
    """

    id: str
    colleague: str
    name: str
    questions: tuple[str, ...]
    occurrence: str
    asked_by: Role
    asked_at: datetime
    expires: date
    nonce: str
    state: FeedbackState = FeedbackState.OPEN
    answers: tuple[str, ...] = ()
    answered_at: datetime | None = None
    shared: bool = False
    discussed: bool = False
    locale: str = "nl"

    def __post_init__(self) -> None:
        _check_id(self.id, "f")
        object.__setattr__(self, "asked_by", Role(self.asked_by))
        object.__setattr__(self, "state", FeedbackState(self.state))
        require_aware(self.asked_at, "the instant feedback was asked")
        object.__setattr__(self, "asked_at", self.asked_at.astimezone(UTC))
        object.__setattr__(self, "colleague", _address(self.colleague))
        object.__setattr__(self, "name", _line(self.name or self.colleague, "name", 200))
        if not 1 <= len(self.questions) <= _MAX_QUESTIONS:
            raise CadenceError(
                f"ask 1 to {_MAX_QUESTIONS} questions",
                code="feedback_questions",
                most=_MAX_QUESTIONS,
            )
        for question in self.questions:
            _line(question, "question", 500)
        _check_occurrence(self.occurrence, optional=True)
        if (self.state is FeedbackState.ANSWERED) != (self.answered_at is not None):
            raise CadenceError(f"feedback {self.id!r} is answered exactly when it has answers")
        if self.answers and len(self.answers) != len(self.questions):
            raise CadenceError(f"feedback {self.id!r} has answers that do not match its questions")
        for answer in self.answers:
            _block(answer, "answer", _MAX_ANSWER, required=False)
        if self.shared and self.state is not FeedbackState.ANSWERED:
            raise CadenceError(f"feedback {self.id!r} can be shared only once answered")

    @property
    def open(self) -> bool:
        """Waiting for the colleague's answer."""
        return self.state is FeedbackState.OPEN


@dataclass(frozen=True, slots=True)
class Reflection:
    """The employee's reflection before a conversation (its occurrence key)."""

    occurrence: str
    text: str
    at: datetime
    shared: bool = False

    def __post_init__(self) -> None:
        _check_occurrence(self.occurrence)
        require_aware(self.at, "the instant of a reflection")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        object.__setattr__(
            self, "text", _block(self.text, "reflection", _MAX_REFLECTION, required=False)
        )


@dataclass(frozen=True, slots=True)
class TimeOut:
    """A partner's request for a time-out or another conversation partner."""

    id: str
    kind: TimeOutKind
    role: Role
    at: datetime
    reason: str = ""
    closed_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, "t")
        object.__setattr__(self, "kind", TimeOutKind(self.kind))
        object.__setattr__(self, "role", Role(self.role))
        require_aware(self.at, "the instant of a time-out request")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        object.__setattr__(self, "reason", _block(self.reason, "reason", _MAX_NOTE, required=False))
        if self.closed_at is not None:
            require_aware(self.closed_at, "the instant a time-out was closed")

    @property
    def open(self) -> bool:
        """Not closed yet."""
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class Guest:
    """Someone the employee brings to one conversation; `record`: may read its record."""

    occurrence: str
    email: str
    name: str
    record: bool = False
    invited: bool = False

    def __post_init__(self) -> None:
        _check_occurrence(self.occurrence)
        object.__setattr__(self, "email", _address(self.email))
        object.__setattr__(self, "name", _line(self.name or self.email, "name", 200))


class _Same:
    """Marks "leave the horizon as it is" (None clears it)."""


SAME: Final = _Same()
"""Passed to `Journal.edit_goal(horizon=...)`: leave the horizon as it is."""


@dataclass(frozen=True, slots=True)
class Journal:
    """A series' journal: goals, check-ins, feedback, reflections, time-outs, guests."""

    series_id: str
    goals: tuple[Goal, ...] = ()
    checkins: tuple[CheckIn, ...] = ()
    feedback: tuple[Feedback, ...] = ()
    reflections: tuple[Reflection, ...] = ()
    timeouts: tuple[TimeOut, ...] = ()
    guests: tuple[Guest, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    def __post_init__(self) -> None:
        if not self.series_id:
            raise CadenceError("a journal needs its series id")
        for values, limit, what in (
            (self.goals, _MAX_GOALS, "goals"),
            (self.checkins, _MAX_CHECKINS, "check-ins"),
            (self.feedback, _MAX_FEEDBACK, "requests for feedback"),
            (self.reflections, _MAX_REFLECTIONS, "reflections"),
            (self.timeouts, _MAX_TIMEOUTS, "time-outs"),
        ):
            if len(values) > limit:
                raise CadenceError(
                    f"a journal keeps at most {limit} {what}", code="journal_full", most=limit
                )
        _unique_ids([g.id for g in self.goals], "goal")
        _unique_ids([f.id for f in self.feedback], "feedback")
        _unique_ids([t.id for t in self.timeouts], "time-out")
        _unique_ids([r.occurrence for r in self.reflections], "reflection")
        _unique_ids([f"{g.occurrence}/{g.email}" for g in self.guests], "guest")

    # -- reading --------------------------------------------------------------------------

    def goal(self, goal_id: str) -> Goal:
        """The goal `goal_id`; `TransitionError` when there is none."""
        for goal in self.goals:
            if goal.id == goal_id:
                return goal
        raise TransitionError(f"there is no goal {goal_id!r}", code="goal_unknown", id=goal_id)

    def request(self, request_id: str) -> Feedback:
        """The request for feedback `request_id`; `TransitionError` when there is none."""
        for found in self.feedback:
            if found.id == request_id:
                return found
        raise TransitionError(
            f"there is no request for feedback {request_id!r}",
            code="feedback_unknown",
            id=request_id,
        )

    def reflection(self, occurrence: str) -> Reflection | None:
        """The reflection for a conversation, or None."""
        return next((r for r in self.reflections if r.occurrence == occurrence), None)

    def checkin_for(self, occurrence: str) -> CheckIn | None:
        """The check-in for a conversation, or None."""
        return next((c for c in self.checkins if c.occurrence == occurrence), None)

    def guests_of(self, occurrence: str) -> tuple[Guest, ...]:
        """The guests of a conversation."""
        return tuple(g for g in self.guests if g.occurrence == occurrence)

    def visible_to(self, role: Role) -> Journal:
        """The journal as `role` may read it.

        The manager reads no draft goal, no answer the employee did not share, no reflection the
        employee did not share; what was hidden is gone from the value, not flagged.
        """
        if role is Role.EMPLOYEE:
            return self
        return replace(
            self,
            goals=tuple(g for g in self.goals if g.state is not GoalState.DRAFT),
            feedback=tuple(f if f.shared else replace(f, answers=()) for f in self.feedback),
            reflections=tuple(r for r in self.reflections if r.shared),
        )

    # -- goals ----------------------------------------------------------------------------

    def add_goal(
        self,
        *,
        kind: GoalKind,
        title: str,
        why: str,
        horizon: date | None,
        by: Actor,
        now: datetime,
    ) -> Journal:
        """A new draft goal (the employee only)."""
        _employee(by, "write a goal", "goal_employee")
        if len(self.goals) >= _MAX_GOALS:
            raise TransitionError(
                f"a journal keeps at most {_MAX_GOALS} goals: drop or remove one first",
                code="journal_full",
                most=_MAX_GOALS,
            )
        goal = Goal(_next_id("g", (g.id for g in self.goals)), kind, title, why, horizon)
        return self._put_goal(goal)._log(by, now, Step.ADD, goal.id, goal.title)

    def edit_goal(
        self,
        goal_id: str,
        *,
        by: Actor,
        now: datetime,
        title: str | None = None,
        why: str | None = None,
        horizon: date | _Same | None = SAME,
        kind: GoalKind | None = None,
    ) -> Journal:
        """Change a goal's words (the employee only); acceptances are cleared."""
        _employee(by, "change a goal", "goal_employee")
        old = self.goal(goal_id)
        if old.status is not GoalStatus.OPEN:
            raise TransitionError(
                f"goal {goal_id!r} is {old.status.value}: it cannot change any more",
                code="goal_closed",
            )
        new = replace(
            old,
            title=old.title if title is None else title,
            why=old.why if why is None else why,
            horizon=old.horizon if isinstance(horizon, _Same) else horizon,
            kind=old.kind if kind is None else kind,
        )
        if (new.title, new.why, new.horizon, new.kind) == (
            old.title,
            old.why,
            old.horizon,
            old.kind,
        ):
            return self
        if old.state is not GoalState.DRAFT:
            new = replace(new, state=GoalState.PROPOSED, accepted_by=frozenset({Role.EMPLOYEE}))
        return self._put_goal(new)._log(by, now, Step.EDIT, goal_id, new.title)

    def propose_goal(self, goal_id: str, *, by: Actor, now: datetime) -> Journal:
        """The employee puts a draft goal to the manager (and counts as accepting it)."""
        _employee(by, "propose a goal", "goal_employee")
        old = self.goal(goal_id)
        if old.state is not GoalState.DRAFT:
            raise TransitionError(f"goal {goal_id!r} was proposed already", code="goal_not_draft")
        new = replace(old, state=GoalState.PROPOSED, accepted_by=frozenset({Role.EMPLOYEE}))
        return self._put_goal(new)._log(by, now, Step.PROPOSE, goal_id, new.title)

    def accept_goal(self, goal_id: str, *, by: Actor, now: datetime) -> Journal:
        """A partner accepts a proposed goal; with both it is agreed."""
        old = self.goal(goal_id)
        if old.state is not GoalState.PROPOSED:
            raise TransitionError(
                f"goal {goal_id!r} is {old.state.value}: only a proposed goal is accepted",
                code="goal_not_proposed",
            )
        accepted = old.accepted_by | {by.role}
        state = GoalState.AGREED if accepted == _BOTH else GoalState.PROPOSED
        new = replace(old, accepted_by=accepted, state=state)
        return self._put_goal(new)._log(by, now, Step.ACCEPT, goal_id, new.title)

    def decline_goal(self, goal_id: str, *, by: Actor, now: datetime, reason: str = "") -> Journal:
        """A partner sends a proposed goal back to the employee's draft, saying why."""
        old = self.goal(goal_id)
        if old.state is not GoalState.PROPOSED:
            raise TransitionError(
                f"goal {goal_id!r} is {old.state.value}: only a proposed goal is declined",
                code="goal_not_proposed",
            )
        why = _block(reason, "reason", _MAX_NOTE, required=False)
        new = replace(old, state=GoalState.DRAFT, accepted_by=frozenset())
        return self._put_goal(new)._log(by, now, Step.DECLINE, goal_id, why)

    def remove_goal(self, goal_id: str, *, by: Actor, now: datetime) -> Journal:
        """The employee removes a goal not yet agreed (an agreed one is dropped instead)."""
        _employee(by, "remove a goal", "goal_employee")
        old = self.goal(goal_id)
        if old.state is GoalState.AGREED:
            raise TransitionError(
                f"goal {goal_id!r} is agreed: mark it dropped instead, so its history stays",
                code="goal_agreed",
            )
        goals = tuple(g for g in self.goals if g.id != goal_id)
        return replace(self, goals=goals)._log(by, now, Step.REMOVE, goal_id, old.title)

    def set_goal_status(
        self, goal_id: str, status: GoalStatus, *, by: Actor, now: datetime
    ) -> Journal:
        """The employee marks an agreed goal achieved, dropped, or open again."""
        _employee(by, "mark a goal achieved or dropped", "goal_employee")
        old = self.goal(goal_id)
        if old.state is not GoalState.AGREED:
            raise TransitionError(f"goal {goal_id!r} is not agreed yet", code="goal_not_agreed")
        if old.status is status:
            return self
        new = replace(old, status=status)
        return self._put_goal(new)._log(by, now, Step.STATUS, goal_id, status.value)

    def note_progress(
        self, goal_id: str, note: str, *, occurrence: str, by: Actor, now: datetime
    ) -> Journal:
        """A partner notes progress on an agreed goal, for a conversation."""
        old = self.goal(goal_id)
        if old.state is not GoalState.AGREED:
            raise TransitionError(f"goal {goal_id!r} is not agreed yet", code="goal_not_agreed")
        if len(old.progress) >= _MAX_PROGRESS:
            raise TransitionError(
                f"goal {goal_id!r} has {_MAX_PROGRESS} progress notes already",
                code="journal_full",
                most=_MAX_PROGRESS,
            )
        entry = Progress(now, by.role, note, occurrence)
        new = replace(old, progress=(*old.progress, entry))
        return self._put_goal(new)._log(by, now, Step.EDIT, goal_id, "progress")

    def link_action(
        self, goal_id: str, occurrence: str, action_id: str, *, by: Actor, now: datetime
    ) -> Journal:
        """A partner ties an action (where it was first agreed) to a goal it serves."""
        _check_occurrence(occurrence)
        if not action_id or len(action_id) > 40:
            raise CadenceError("name the action to link", code="action_unknown", id=action_id[:40])
        old = self.goal(goal_id)
        link = (occurrence, action_id)
        if link in old.actions:
            return self
        if len(old.actions) >= _MAX_LINKS:
            raise TransitionError(
                f"goal {goal_id!r} has {_MAX_LINKS} actions linked already",
                code="journal_full",
                most=_MAX_LINKS,
            )
        new = replace(old, actions=(*old.actions, link))
        return self._put_goal(new)._log(by, now, Step.EDIT, goal_id, f"link {action_id}")

    def unlink_action(
        self, goal_id: str, occurrence: str, action_id: str, *, by: Actor, now: datetime
    ) -> Journal:
        """Untie an action from a goal."""
        old = self.goal(goal_id)
        link = (occurrence, action_id)
        if link not in old.actions:
            return self
        new = replace(old, actions=tuple(a for a in old.actions if a != link))
        return self._put_goal(new)._log(by, now, Step.EDIT, goal_id, f"unlink {action_id}")

    # -- check-ins ------------------------------------------------------------------------

    def check_in(
        self, energy: int, happiness: int, *, occurrence: str, by: Actor, now: datetime
    ) -> Journal:
        """The employee's check-in; for a conversation it replaces an earlier one for it.

        The history keeps that a check-in happened, never its values.
        """
        _employee(by, "check in", "checkin_employee")
        entry = CheckIn(now, energy, happiness, occurrence)
        kept = tuple(c for c in self.checkins if not occurrence or c.occurrence != occurrence)
        checkins = (*kept, entry)[-_MAX_CHECKINS:]
        return replace(self, checkins=checkins)._log(by, now, Step.ADD, "checkin")

    # -- feedback -------------------------------------------------------------------------

    def ask_feedback(
        self,
        *,
        colleague: str,
        name: str,
        questions: Iterable[str],
        occurrence: str,
        expires: date,
        nonce: str,
        locale: str,
        by: Actor,
        now: datetime,
        employee: str,
        manager: str,
    ) -> Journal:
        """Ask a colleague; asked by the manager, the request waits for the employee's consent."""
        address = _address(colleague)
        if address in (employee.lower(), manager.lower()):
            raise TransitionError(
                "ask a colleague: the two of you talk in the conversation itself",
                code="feedback_partner",
            )
        if expires <= now.date():
            raise CadenceError(
                "the request must stay open for a day at least", code="feedback_expiry"
            )
        live = [f for f in self.feedback if f.state is not FeedbackState.WITHDRAWN]
        if len(live) >= _MAX_FEEDBACK or len(self.feedback) >= _MAX_FEEDBACK:
            raise TransitionError(
                f"a journal keeps at most {_MAX_FEEDBACK} requests for feedback",
                code="journal_full",
                most=_MAX_FEEDBACK,
            )
        for found in self.feedback:
            if (
                found.colleague == address
                and found.occurrence == occurrence
                and found.state
                in (
                    FeedbackState.CONSENT,
                    FeedbackState.OPEN,
                )
            ):
                raise TransitionError(
                    f"{address} was asked already for this conversation",
                    code="feedback_twice",
                    email=address,
                )
        state = FeedbackState.OPEN if by.role is Role.EMPLOYEE else FeedbackState.CONSENT
        request = Feedback(
            _next_id("f", (f.id for f in self.feedback)),
            address,
            name,
            tuple(questions),
            occurrence,
            by.role,
            now,
            expires,
            nonce,
            state=state,
            locale=locale,
        )
        return replace(self, feedback=(*self.feedback, request))._log(by, now, Step.ADD, request.id)

    def consent(self, request_id: str, *, by: Actor, now: datetime) -> Journal:
        """The employee lets the manager's request go out."""
        _employee(by, "consent to a request for feedback", "feedback_employee")
        old = self.request(request_id)
        if old.state is not FeedbackState.CONSENT:
            raise TransitionError(
                f"request {request_id!r} does not wait for consent", code="feedback_state"
            )
        return self._put_request(replace(old, state=FeedbackState.OPEN))._log(
            by, now, Step.AGREE, request_id
        )

    def withdraw(self, request_id: str, *, by: Actor, now: datetime) -> Journal:
        """The employee, or the manager who asked, withdraws an unanswered request."""
        old = self.request(request_id)
        if by.role is Role.MANAGER and old.asked_by is not Role.MANAGER:
            raise TransitionError(
                "only the employee withdraws a request the employee made", code="feedback_employee"
            )
        if old.state not in (FeedbackState.CONSENT, FeedbackState.OPEN):
            raise TransitionError(
                f"request {request_id!r} is {old.state.value}: it cannot be withdrawn",
                code="feedback_state",
            )
        return self._put_request(replace(old, state=FeedbackState.WITHDRAWN))._log(
            by, now, Step.REMOVE, request_id
        )

    def renew(
        self, request_id: str, *, nonce: str, expires: date, by: Actor, now: datetime
    ) -> Journal:
        """A new link for an unanswered request (lost, leaked or expired): the old one opens
        nothing any more. The employee, or the manager who asked."""
        old = self.request(request_id)
        if by.role is Role.MANAGER and old.asked_by is not Role.MANAGER:
            raise TransitionError(
                "only the employee renews a request the employee made", code="feedback_employee"
            )
        if old.state is not FeedbackState.OPEN:
            raise TransitionError(
                f"request {request_id!r} is {old.state.value}: only an open one gets a new link",
                code="feedback_state",
            )
        if expires <= now.date():
            raise CadenceError(
                "the request must stay open for a day at least", code="feedback_expiry"
            )
        new = replace(old, nonce=nonce, expires=expires)
        return self._put_request(new)._log(by, now, Step.EDIT, request_id, "new link")

    def answer(
        self, request_id: str, nonce: str, answers: Iterable[str], *, now: datetime
    ) -> Journal:
        """The colleague's answer, through their link (`nonce`); once only, before it expires."""
        old = self.request(request_id)
        if old.nonce != nonce:
            raise TransitionError("this link was replaced by a newer one", code="feedback_link")
        if old.state is FeedbackState.ANSWERED:
            raise TransitionError("this request was answered already", code="feedback_answered")
        if old.state is not FeedbackState.OPEN:
            raise TransitionError("this request was withdrawn", code="feedback_withdrawn")
        if now.date() > old.expires:
            raise TransitionError("this request has expired", code="feedback_expired")
        texts = tuple(_block(a, "answer", _MAX_ANSWER, required=False) for a in answers)
        if len(texts) != len(old.questions):
            raise CadenceError(
                "answer the questions as asked", code="feedback_questions", most=_MAX_QUESTIONS
            )
        if not any(texts):
            raise CadenceError("the answer is empty: write a few words", code="answer_empty")
        new = replace(old, state=FeedbackState.ANSWERED, answers=texts, answered_at=now)
        entry = HistoryEntry(now, old.colleague, Role.EMPLOYEE, Step.SUMMARISE, request_id)
        return replace(self._put_request(new), history=_kept((*self.history, entry)))

    def share_feedback(self, request_id: str, shared: bool, *, by: Actor, now: datetime) -> Journal:
        """The employee shares an answer with the manager, or stops sharing it."""
        _employee(by, "share feedback", "feedback_employee")
        old = self.request(request_id)
        if old.state is not FeedbackState.ANSWERED:
            raise TransitionError(
                f"request {request_id!r} has no answer yet", code="feedback_state"
            )
        if old.shared is shared:
            return self
        return self._put_request(replace(old, shared=shared))._log(
            by, now, Step.SHARE, request_id, "shared" if shared else "private"
        )

    def mark_discussed(self, request_id: str, *, by: Actor, now: datetime) -> Journal:
        """A partner marks an answer as talked about (the manager only a shared one)."""
        old = self.request(request_id)
        if old.state is not FeedbackState.ANSWERED or (by.role is Role.MANAGER and not old.shared):
            raise TransitionError(
                f"request {request_id!r} has no answer you can see", code="feedback_state"
            )
        return self._put_request(replace(old, discussed=True))._log(
            by, now, Step.STATUS, request_id, "discussed"
        )

    # -- reflection -----------------------------------------------------------------------

    def reflect(self, occurrence: str, text: str, *, by: Actor, now: datetime) -> Journal:
        """The employee writes (or rewrites) the reflection for a conversation."""
        _employee(by, "write the reflection", "reflection_employee")
        old = self.reflection(occurrence)
        new = Reflection(occurrence, text, now, old.shared if old else False)
        kept = tuple(r for r in self.reflections if r.occurrence != occurrence)
        if len(kept) >= _MAX_REFLECTIONS:
            kept = kept[1:]
        return replace(self, reflections=(*kept, new))._log(by, now, Step.EDIT, occurrence)

    def share_reflection(
        self, occurrence: str, shared: bool, *, by: Actor, now: datetime
    ) -> Journal:
        """The employee shares the reflection with the manager, or stops sharing it."""
        _employee(by, "share the reflection", "reflection_employee")
        old = self.reflection(occurrence)
        if old is None:
            raise TransitionError("write the reflection first", code="reflection_missing")
        if old.shared is shared:
            return self
        reflections = tuple(
            replace(r, shared=shared) if r.occurrence == occurrence else r for r in self.reflections
        )
        return replace(self, reflections=reflections)._log(
            by, now, Step.SHARE, occurrence, "shared" if shared else "private"
        )

    # -- time-outs and guests -------------------------------------------------------------

    def ask_time_out(self, kind: TimeOutKind, reason: str, *, by: Actor, now: datetime) -> Journal:
        """A partner asks for a time-out or another conversation partner."""
        if any(t.open and t.kind is kind for t in self.timeouts):
            raise TransitionError(
                "such a request is open already: close it first", code="timeout_open"
            )
        if len(self.timeouts) >= _MAX_TIMEOUTS:
            raise TransitionError(
                f"a journal keeps at most {_MAX_TIMEOUTS} time-outs",
                code="journal_full",
                most=_MAX_TIMEOUTS,
            )
        asked = TimeOut(_next_id("t", (t.id for t in self.timeouts)), kind, by.role, now, reason)
        return replace(self, timeouts=(*self.timeouts, asked))._log(by, now, Step.ADD, asked.id)

    def close_time_out(self, timeout_id: str, *, by: Actor, now: datetime) -> Journal:
        """A partner closes a time-out request (talked through, or no longer needed)."""
        found = next((t for t in self.timeouts if t.id == timeout_id), None)
        if found is None:
            raise TransitionError(
                f"there is no time-out {timeout_id!r}", code="timeout_unknown", id=timeout_id
            )
        if not found.open:
            return self
        timeouts = tuple(
            replace(t, closed_at=now) if t.id == timeout_id else t for t in self.timeouts
        )
        return replace(self, timeouts=timeouts)._log(by, now, Step.STATUS, timeout_id, "closed")

    def invite_guest(
        self,
        occurrence: str,
        email: str,
        name: str,
        *,
        record: bool,
        by: Actor,
        now: datetime,
        partners: tuple[str, str],
    ) -> Journal:
        """The employee brings someone to one conversation."""
        _employee(by, "invite a guest", "guest_employee")
        address = _address(email)
        if address in (p.lower() for p in partners):
            raise TransitionError(
                "a guest is someone other than the two of you", code="guest_partner"
            )
        if any(g.email == address for g in self.guests_of(occurrence)):
            raise TransitionError(
                f"{address} is invited already", code="guest_twice", email=address
            )
        if len(self.guests_of(occurrence)) >= _MAX_GUESTS:
            raise TransitionError(
                f"bring at most {_MAX_GUESTS} guests to a conversation",
                code="guest_many",
                most=_MAX_GUESTS,
            )
        guest = Guest(occurrence, address, name, record)
        return replace(self, guests=(*self.guests, guest))._log(by, now, Step.ADD, "guest")

    def set_guest(
        self,
        occurrence: str,
        email: str,
        *,
        by: Actor,
        now: datetime,
        record: bool | None = None,
        invited: bool | None = None,
    ) -> Journal:
        """Change what a guest may read (the employee), or note the invitation went out."""
        if record is not None:
            _employee(by, "change what a guest sees", "guest_employee")
        address = _address(email)
        found = next((g for g in self.guests_of(occurrence) if g.email == address), None)
        if found is None:
            raise TransitionError(f"{address} is not a guest", code="guest_unknown", email=address)
        new = replace(
            found,
            record=found.record if record is None else record,
            invited=found.invited if invited is None else invited,
        )
        guests = tuple(new if g is found else g for g in self.guests)
        return replace(self, guests=guests)._log(by, now, Step.EDIT, "guest")

    def send_record(self, occurrence: str, email: str, *, by: Actor, now: datetime) -> Journal:
        """The employee sends a guest allowed to read it the record of their conversation
        (the app mails the link; the history keeps that it went)."""
        _employee(by, "send a guest the record", "guest_employee")
        address = _address(email)
        found = next((g for g in self.guests_of(occurrence) if g.email == address), None)
        if found is None:
            raise TransitionError(f"{address} is not a guest", code="guest_unknown", email=address)
        if not found.record:
            raise TransitionError(
                f"{address} may not read the record: allow it first", code="guest_no_record"
            )
        return self._log(by, now, Step.SHARE, f"guest:{address}", occurrence)

    def remove_guest(self, occurrence: str, email: str, *, by: Actor, now: datetime) -> Journal:
        """The employee takes a guest off a conversation."""
        _employee(by, "remove a guest", "guest_employee")
        address = _address(email)
        guests = tuple(
            g for g in self.guests if not (g.occurrence == occurrence and g.email == address)
        )
        if len(guests) == len(self.guests):
            raise TransitionError(f"{address} is not a guest", code="guest_unknown", email=address)
        return replace(self, guests=guests)._log(by, now, Step.REMOVE, "guest")

    # -- serialisation --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dictionary with schema name and version."""
        return {
            "schema": JOURNAL_SCHEMA,
            "version": JOURNAL_VERSION,
            "series_id": self.series_id,
            "goals": [_goal_out(g) for g in self.goals],
            "checkins": [
                {
                    "at": c.at.isoformat(),
                    "energy": c.energy,
                    "happiness": c.happiness,
                    "occurrence": c.occurrence,
                }
                for c in self.checkins
            ],
            "feedback": [_feedback_out(f) for f in self.feedback],
            "reflections": [
                {
                    "occurrence": r.occurrence,
                    "text": r.text,
                    "at": r.at.isoformat(),
                    "shared": r.shared,
                }
                for r in self.reflections
            ],
            "timeouts": [
                {
                    "id": t.id,
                    "kind": t.kind.value,
                    "role": t.role.value,
                    "at": t.at.isoformat(),
                    "reason": t.reason,
                    "closed_at": t.closed_at.isoformat() if t.closed_at else None,
                }
                for t in self.timeouts
            ],
            "guests": [
                {
                    "occurrence": g.occurrence,
                    "email": g.email,
                    "name": g.name,
                    "record": g.record,
                    "invited": g.invited,
                }
                for g in self.guests
            ],
            "history": [_entry_out(e) for e in self.history],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Journal:
        """Read what `to_dict` wrote; `CadenceError` naming the field when it does not read."""
        r = Reader(data, "journal")
        name = r.text("schema")
        if name != JOURNAL_SCHEMA:
            raise CadenceError(f"journal: expected a {JOURNAL_SCHEMA!r} document, got {name!r}")
        version = r.integer("version")
        if not 1 <= version <= JOURNAL_VERSION:
            raise CadenceError(
                f"journal has version {version}; this Goed Gesprek reads up to {JOURNAL_VERSION}"
            )
        return cls(
            r.text("series_id"),
            goals=tuple(_goal_in(g) for g in r.objects("goals")),
            checkins=tuple(
                CheckIn(
                    c.instant("at"),
                    c.integer("energy"),
                    c.integer("happiness"),
                    c.text("occurrence", empty=True),
                )
                for c in r.objects("checkins")
            ),
            feedback=tuple(_feedback_in(f) for f in r.objects("feedback")),
            reflections=tuple(
                Reflection(
                    x.text("occurrence"),
                    x.text("text", empty=True),
                    x.instant("at"),
                    x.boolean("shared"),
                )
                for x in r.objects("reflections")
            ),
            timeouts=tuple(
                TimeOut(
                    t.text("id"),
                    t.choice("kind", TimeOutKind),
                    t.choice("role", Role),
                    t.instant("at"),
                    t.text("reason", empty=True),
                    t.optional_instant("closed_at"),
                )
                for t in r.objects("timeouts")
            ),
            guests=tuple(
                Guest(
                    g.text("occurrence"),
                    g.text("email"),
                    g.text("name"),
                    g.boolean("record"),
                    g.boolean("invited"),
                )
                for g in r.objects("guests")
            ),
            history=tuple(_entry_in(e) for e in r.objects("history")),
        )

    # -- helpers --------------------------------------------------------------------------

    def _put_goal(self, goal: Goal) -> Journal:
        goals = tuple(goal if g.id == goal.id else g for g in self.goals)
        if goal.id not in {g.id for g in self.goals}:
            goals = (*goals, goal)
        return replace(self, goals=goals)

    def _put_request(self, request: Feedback) -> Journal:
        return replace(
            self, feedback=tuple(request if f.id == request.id else f for f in self.feedback)
        )

    def _log(
        self, by: Actor, now: datetime, step: Step, subject: str = "", detail: str = ""
    ) -> Journal:
        entry = HistoryEntry(now, by.person, by.role, step, subject, detail[:200])
        return replace(self, history=_kept((*self.history, entry)))


def _kept(history: tuple[HistoryEntry, ...]) -> tuple[HistoryEntry, ...]:
    return history[-_MAX_HISTORY:]


def _employee(by: Actor, what: str, code: str) -> None:
    if by.role is not Role.EMPLOYEE:
        raise TransitionError(f"only the employee can {what}", code=code)


def _check_id(value: str, prefix: str) -> None:
    if not (
        isinstance(value, str)
        and value.startswith(prefix)
        and value[1:].isdigit()
        and len(value) <= 8
    ):
        raise CadenceError(f"{value!r} is not an id of the form {prefix}<number>")


def _next_id(prefix: str, ids: Iterable[str]) -> str:
    numbers = [int(i[1:]) for i in ids if i[1:].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def _unique_ids(values: list[str], what: str) -> None:
    if len(values) != len(set(values)):
        raise CadenceError(f"the journal lists a {what} twice")


def _check_occurrence(value: str, *, optional: bool = False) -> None:
    if optional and value == "":
        return
    ok = (
        isinstance(value, str)
        and len(value) == _OCC_LEN
        and value[8] == "T"
        and value[15] == "Z"
        and value[:8].isdigit()
        and value[9:15].isdigit()
    )
    if not ok:
        raise CadenceError(
            f"{str(value)[:40]!r} is not an occurrence key",
            code="occurrence_key",
            key=str(value)[:40],
        )


def _address(value: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    local, _at, domain = text.partition("@")
    if (
        not local
        or "." not in domain
        or len(text) > 254
        or any(c.isspace() or c in "<>,;\"'" for c in text)
    ):
        raise CadenceError(
            f"{str(value)[:80]!r} is not an e-mail address",
            code="email_invalid",
            email=str(value)[:80],
        )
    return text


def _goal_out(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "kind": goal.kind.value,
        "title": goal.title,
        "why": goal.why,
        "horizon": goal.horizon.isoformat() if goal.horizon else None,
        "state": goal.state.value,
        "accepted_by": sorted(r.value for r in goal.accepted_by),
        "status": goal.status.value,
        "progress": [
            {
                "at": p.at.isoformat(),
                "role": p.role.value,
                "note": p.note,
                "occurrence": p.occurrence,
            }
            for p in goal.progress
        ],
        "actions": [{"occurrence": o, "id": a} for o, a in goal.actions],
    }


def _goal_in(r: Reader) -> Goal:
    return Goal(
        r.text("id"),
        r.choice("kind", GoalKind),
        r.text("title"),
        r.text("why", empty=True),
        r.optional_date("horizon"),
        r.choice("state", GoalState),
        frozenset(r.choices("accepted_by", Role)),
        r.choice("status", GoalStatus),
        tuple(
            Progress(
                p.instant("at"),
                p.choice("role", Role),
                p.text("note"),
                p.text("occurrence", empty=True),
            )
            for p in r.objects("progress")
        ),
        tuple((a.text("occurrence"), a.text("id")) for a in r.objects("actions")),
    )


def _feedback_out(f: Feedback) -> dict[str, Any]:
    return {
        "id": f.id,
        "colleague": f.colleague,
        "name": f.name,
        "questions": list(f.questions),
        "occurrence": f.occurrence,
        "asked_by": f.asked_by.value,
        "asked_at": f.asked_at.isoformat(),
        "expires": f.expires.isoformat(),
        "nonce": f.nonce,
        "state": f.state.value,
        "answers": list(f.answers),
        "answered_at": f.answered_at.isoformat() if f.answered_at else None,
        "shared": f.shared,
        "discussed": f.discussed,
        "locale": f.locale,
    }


def _feedback_in(r: Reader) -> Feedback:
    answers = r.data.get("answers") or []
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise CadenceError(f"{r.where}.answers must be a list of texts")
    questions = r.data.get("questions")
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise CadenceError(f"{r.where}.questions must be a list of texts")
    expires = r.optional_date("expires")
    if expires is None:
        raise CadenceError(f"{r.where}.expires is missing")
    return Feedback(
        r.text("id"),
        r.text("colleague"),
        r.text("name"),
        tuple(questions),
        r.text("occurrence", empty=True),
        r.choice("asked_by", Role),
        r.instant("asked_at"),
        expires,
        r.text("nonce"),
        r.choice("state", FeedbackState),
        tuple(answers),
        r.optional_instant("answered_at"),
        r.boolean("shared"),
        r.boolean("discussed"),
        r.text("locale"),
    )
