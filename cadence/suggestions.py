"""Topics worth raising in the next conversation, each with its reason: rules, not guesses.

`suggest` looks at what the pair already keeps (the journal, the conversations of the last year,
the agenda being prepared) and returns `Suggestion` values in a fixed order. Each names its rule
and the particulars the reason sentence needs; the app words them in the reader's language.
Nothing leaves the server and nothing is learned: the same input gives the same suggestions.

The rules (``rule`` value, and when it fires):

- ``goal_stalled``: an agreed, open goal with no progress noted in the last two conversations
  held since it was agreed.
- ``goal_horizon``: an agreed, open goal whose horizon is past or within the next 30 days.
- ``goal_none``: no open goal is agreed (or proposed) after at least one conversation.
- ``action_overdue``: an open action on this agenda whose due date has passed.
- ``theme_quiet``: a theme of the template without any item in the conversations of the last
  twelve months, once the pair has talked for a year.
- ``energy_falling`` / ``happiness_falling``: the check-ins fell three times in a row, or by two
  points or more since the last one.
- ``energy_low`` / ``happiness_low``: the latest check-in is 1 or 2 (when not already falling).
- ``feedback_open``: a colleague's answer the reader may see that was not talked about yet.
- ``feedback_consent``: (the employee) the manager asked a colleague, waiting for consent.
- ``timeout_open``: a time-out or another conversation partner was asked and is still open.
- ``anniversary``: a work anniversary between three months before and one month after this
  conversation.
- ``scheme``: a scheme the template lists, in its months and after its years of service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from cadence.conversation import ActionStatus, Agenda, Record, Step, Theme
from cadence.journal import FeedbackState, GoalState, GoalStatus, Journal
from cadence.model import Role

__all__ = ["RULES", "History", "SchemeRule", "Suggestion", "suggest"]

RULES: Final = (
    "timeout_open",
    "action_overdue",
    "goal_stalled",
    "goal_horizon",
    "goal_none",
    "energy_falling",
    "happiness_falling",
    "energy_low",
    "happiness_low",
    "feedback_open",
    "feedback_consent",
    "theme_quiet",
    "anniversary",
    "scheme",
)
"""Every rule, in the order suggestions are listed."""

_HORIZON_NEAR = timedelta(days=30)
_YEAR = timedelta(days=365)
_HISTORY_FOR_QUIET = timedelta(days=330)
_ANNIVERSARY_BEFORE = timedelta(days=92)
_ANNIVERSARY_AFTER = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A topic and why: `rule`, what it is about (`subject`, as written by the pair or the
    template), a reference for the hosts (`ref`: a goal, action, request or theme id) and the
    reason's particulars (`params`)."""

    rule: str
    subject: str = ""
    ref: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SchemeRule:
    """A scheme as the rules need it (see `templates.Scheme`)."""

    key: str
    title: str
    reason: str
    months: tuple[int, ...] = ()
    min_years: int | None = None


@dataclass(frozen=True, slots=True)
class History:
    """One earlier or current conversation: its occurrence key, agenda and record."""

    key: str
    agenda: Agenda
    record: Record | None = None


def suggest(
    *,
    journal: Journal,
    role: Role,
    occurrence: datetime,
    key: str,
    agenda: Agenda,
    history: Sequence[History],
    themes: Sequence[Theme],
    today: date,
    joined: date | None = None,
    schemes: Sequence[SchemeRule] = (),
) -> tuple[Suggestion, ...]:
    """The suggestions for the conversation at `occurrence` (`key`), as `role` may see them.

    `journal` is the journal as `role` sees it; `history` the conversations of the last year or
    more, oldest first, the current one (`key`) among them or not; `themes` the template's.
    """
    held = [h for h in history if h.key < key and h.agenda.occurrence.date() <= today]
    found: list[Suggestion] = []
    found += _timeouts(journal)
    found += _overdue(agenda, today)
    found += _goals(journal, held, today, occurrence)
    found += _energy(journal)
    found += _feedback(journal, role)
    found += _quiet(themes, history, agenda, occurrence)
    found += _anniversary(joined, occurrence)
    found += _schemes(schemes, joined, occurrence)
    order = {rule: n for n, rule in enumerate(RULES)}
    return tuple(sorted(found, key=lambda s: order[s.rule]))


def _timeouts(journal: Journal) -> list[Suggestion]:
    return [
        Suggestion("timeout_open", ref=t.id, params={"kind": t.kind.value, "since": _day(t.at)})
        for t in journal.timeouts
        if t.open
    ]


def _overdue(agenda: Agenda, today: date) -> list[Suggestion]:
    return [
        Suggestion("action_overdue", a.description, a.id, {"due": a.due.isoformat()})
        for a in agenda.actions
        if a.status is ActionStatus.OPEN and a.due is not None and a.due < today
    ]


def _goals(
    journal: Journal, held: Sequence[History], today: date, occurrence: datetime
) -> list[Suggestion]:
    out: list[Suggestion] = []
    agreed_at = {e.subject: e.at for e in journal.history if e.step is Step.ACCEPT and e.subject}
    live = [g for g in journal.goals if g.status is GoalStatus.OPEN]
    for goal in live:
        if goal.state is not GoalState.AGREED:
            continue
        since = agreed_at.get(goal.id)
        noted = {p.occurrence for p in goal.progress}
        latest_note = max((p.at for p in goal.progress), default=None)
        after = [
            h
            for h in held
            if (since is None or h.agenda.occurrence >= since)
            and (latest_note is None or h.agenda.occurrence > latest_note)
        ]
        if len(after) >= 2 and not any(h.key in noted for h in after[-2:]):
            out.append(Suggestion("goal_stalled", goal.title, goal.id, {"count": str(len(after))}))
        if goal.horizon is not None and goal.horizon <= today + _HORIZON_NEAR:
            state = "past" if goal.horizon < today else "near"
            out.append(
                Suggestion(
                    "goal_horizon",
                    goal.title,
                    goal.id,
                    {"horizon": goal.horizon.isoformat(), "when": state},
                )
            )
    if held and not any(g.state is not GoalState.DRAFT for g in live):
        out.append(Suggestion("goal_none", params={"count": str(len(held))}))
    return out


def _energy(journal: Journal) -> list[Suggestion]:
    # One value per conversation (its latest), and every check-in in between, by time.
    points = sorted(journal.checkins, key=lambda c: c.at)
    out: list[Suggestion] = []
    for measure in ("energy", "happiness"):
        values = [getattr(c, measure) for c in points]
        if not values:
            continue
        last = values[-1]
        three_down = len(values) >= 3 and values[-3] > values[-2] > values[-1]
        big_drop = len(values) >= 2 and values[-2] - last >= 2
        if three_down or big_drop:
            before = values[-3] if three_down else values[-2]
            out.append(
                Suggestion(
                    f"{measure}_falling",
                    params={"from": str(before), "to": str(last), "since": _day(points[-1].at)},
                )
            )
        elif last <= 2:
            out.append(Suggestion(f"{measure}_low", params={"value": str(last)}))
    return out


def _feedback(journal: Journal, role: Role) -> list[Suggestion]:
    out: list[Suggestion] = []
    for request in journal.feedback:
        visible = role is Role.EMPLOYEE or request.shared
        if request.state is FeedbackState.ANSWERED and visible and not request.discussed:
            when = _day(request.answered_at) if request.answered_at else ""
            out.append(Suggestion("feedback_open", request.name, request.id, {"answered": when}))
        if role is Role.EMPLOYEE and request.state is FeedbackState.CONSENT:
            out.append(Suggestion("feedback_consent", request.name, request.id))
    return out


def _quiet(
    themes: Sequence[Theme], history: Sequence[History], agenda: Agenda, occurrence: datetime
) -> list[Suggestion]:
    earlier = [h for h in history if h.agenda.occurrence < occurrence]
    if not earlier or min(h.agenda.occurrence for h in earlier) > occurrence - _HISTORY_FOR_QUIET:
        return []
    recent = [*(h.agenda for h in earlier if h.agenda.occurrence >= occurrence - _YEAR), agenda]
    out: list[Suggestion] = []
    for theme in themes:
        if any(a.items_in(theme.key) for a in recent):
            continue
        last = max(
            (h.agenda.occurrence for h in earlier if h.agenda.items_in(theme.key)), default=None
        )
        out.append(
            Suggestion("theme_quiet", theme.title, theme.key, {"last": _day(last) if last else ""})
        )
    return out


def _anniversary(joined: date | None, occurrence: datetime) -> list[Suggestion]:
    if joined is None:
        return []
    day = occurrence.date()
    for years in range(max(1, day.year - joined.year - 1), day.year - joined.year + 2):
        at = _years_after(joined, years)
        low, high = occurrence - _ANNIVERSARY_BEFORE, occurrence + _ANNIVERSARY_AFTER
        if low.date() <= at <= high.date():
            return [
                Suggestion(
                    "anniversary",
                    params={
                        "years": str(years),
                        "date": at.isoformat(),
                        "joined": joined.isoformat(),
                    },
                )
            ]
    return []


def _schemes(
    schemes: Sequence[SchemeRule], joined: date | None, occurrence: datetime
) -> list[Suggestion]:
    out: list[Suggestion] = []
    day = occurrence.date()
    service = _full_years(joined, day) if joined else None
    for scheme in schemes:
        if scheme.months and day.month not in scheme.months:
            continue
        if scheme.min_years is not None and (service is None or service < scheme.min_years):
            continue
        out.append(Suggestion("scheme", scheme.title, scheme.key, {"reason": scheme.reason}))
    return out


def _years_after(joined: date, years: int) -> date:
    try:
        return joined.replace(year=joined.year + years)
    except ValueError:  # 29 February in a year without one
        return joined.replace(year=joined.year + years, day=28)


def _full_years(joined: date, day: date) -> int:
    years = day.year - joined.year
    return years - 1 if _years_after(joined, years) > day else years


def _day(at: datetime | None) -> str:
    return at.date().isoformat() if at else ""
