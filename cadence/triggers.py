"""What is due at `now`: the reminders and prompts that keep the conversation going.

`due_triggers` is a pure function of a series, what is known about it (records, agendas, cancelled
and moved occurrences, holidays) and `now`. It returns every trigger whose instant has passed and
that is not stale, each with a stable `key`. The background job sends each key once, through its
ledger; the function itself is idempotent, so asking twice with the same inputs gives the same list.

The triggers and their windows (each offset configurable in `Offsets`):

- ``prepare``: to the employee, 7 days before the occurrence. Stale once the meeting starts (a
  reminder to prepare after the start is pointless), or once the agenda was shared.
- ``agenda``: the agenda goes to the manager 2 working days before the occurrence, at the same
  local time (weekends and the given holidays do not count). Stale once the meeting starts, or once
  the employee shared the agenda themselves.
- ``record``: to both partners, 10 minutes after the end. Stale 7 days later (an old meeting is
  better summarised at the next one), or once a record exists.
- ``accept``: to the partners who have not accepted an agreement 5 days after it was proposed. One
  per agreement and proposal: an edit proposes again and gives a new key. Stale 14 days after it
  became due, or once the agreement is final or back in draft.
- ``cadence``: to both partners, once per local calendar month while the rhythm is below the
  minimum (4 a year), due from the start of that month. Reasons: fewer than 4 held in the last 12
  months (for a series younger than a year: held plus still planned in its first year), or no next
  occurrence planned in the coming 12 months.

An occurrence counts as *held* when it has a record, or when its end has passed and it was not
cancelled. A record proves the conversation took place even if the event was cancelled or moved;
without a record, a meeting that was not cancelled is taken to have happened.

Occurrences are named by the start the rule gives them (aware); a moved occurrence keeps that name
(and so its keys) while its reminders follow the new start.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from cadence.conversation import Agenda, AgendaState, AgreementState, Record
from cadence.errors import CadenceError
from cadence.model import Person, Role, Series
from cadence.recurrence import localize
from cadence.zones import require_aware, zone

__all__ = [
    "CadenceReason",
    "Offsets",
    "Trigger",
    "TriggerKind",
    "due_triggers",
    "held_occurrences",
    "working_days_before",
]


class TriggerKind(enum.StrEnum):
    """The kinds of trigger, in the order they sort at the same instant."""

    PREPARE = "prepare"
    AGENDA = "agenda"
    RECORD = "record"
    ACCEPT = "accept"
    CADENCE = "cadence"


_ORDER: Final = {kind: n for n, kind in enumerate(TriggerKind)}


class CadenceReason(enum.StrEnum):
    """Why a cadence warning is due."""

    FEW_HELD = "few_held"
    NONE_PLANNED = "none_planned"


@dataclass(frozen=True, slots=True)
class Offsets:
    """When each trigger becomes due and how long it stays worth sending; defaults as documented."""

    prepare: timedelta = timedelta(days=7)
    agenda_working_days: int = 2
    after_meeting: timedelta = timedelta(minutes=10)
    acceptance: timedelta = timedelta(days=5)
    record_window: timedelta = timedelta(days=7)
    acceptance_window: timedelta = timedelta(days=14)
    minimum_per_year: int = 4

    def __post_init__(self) -> None:
        _span("prepare", self.prepare, timedelta(0), timedelta(days=60))
        _span("after_meeting", self.after_meeting, timedelta(0), timedelta(days=1))
        _span("acceptance", self.acceptance, timedelta(hours=1), timedelta(days=60))
        _span("record_window", self.record_window, timedelta(hours=1), timedelta(days=90))
        _span("acceptance_window", self.acceptance_window, timedelta(hours=1), timedelta(days=90))
        if not 1 <= self.agenda_working_days <= 20:
            raise CadenceError(f"agenda_working_days must be 1-20, got {self.agenda_working_days}")
        if not 1 <= self.minimum_per_year <= 12:
            raise CadenceError(f"minimum_per_year must be 1-12, got {self.minimum_per_year}")


def _span(name: str, value: timedelta, low: timedelta, high: timedelta) -> None:
    if not low <= value <= high:
        raise CadenceError(f"{name} must be between {low} and {high}, got {value}")


@dataclass(frozen=True, slots=True)
class Trigger:
    """One thing to send: what, for which series (and occurrence), to whom, due since when.

    `key` is stable for the same thing across runs, for the ledger. `due` is in UTC. `occurrence`
    is the rule's start of the occurrence (None for a cadence warning); `agreement_id` is set for
    an acceptance reminder and `reason` for a cadence warning.
    """

    kind: TriggerKind
    key: str
    series_id: str
    due: datetime
    recipients: tuple[Person, ...]
    occurrence: datetime | None = None
    agreement_id: str = ""
    reason: CadenceReason | None = None

    @property
    def sort_key(self) -> tuple[datetime, int, str]:
        """Due instant, then kind, then key: a total, deterministic order."""
        return (self.due, _ORDER[self.kind], self.key)


def due_triggers(
    series: Series,
    now: datetime,
    *,
    records: Sequence[Record] = (),
    agendas: Sequence[Agenda] = (),
    cancelled: Collection[datetime] = (),
    moved: Mapping[datetime, datetime] | None = None,
    holidays: Collection[date] = (),
    offsets: Offsets | None = None,
) -> list[Trigger]:
    """Every trigger of `series` due at `now` and not stale, sorted by `Trigger.sort_key`.

    `records` and `agendas` are this series' documents (by occurrence); `cancelled` holds the rule
    starts of cancelled occurrences; `moved` maps a rule start to the start it was moved to;
    `holidays` are local dates that are not working days. Documents of another series are refused.
    """
    require_aware(now, "now")
    owners: list[str] = [r.series_id for r in records] + [a.series_id for a in agendas]
    for owner in owners:
        if owner != series.id:
            raise CadenceError(
                f"a document of series {owner!r} was passed for series {series.id!r}: "
                "pass only this series' records and agendas"
            )
    ctx = _Context.make(
        series, now, records, cancelled=cancelled, moved=moved or {}, offsets=offsets or Offsets()
    )
    found = [
        *_meeting_triggers(ctx, agendas, holidays),
        *_acceptance_triggers(ctx, records),
        *_cadence_triggers(ctx, records),
    ]
    return sorted(found, key=lambda t: t.sort_key)


@dataclass(frozen=True, slots=True)
class _Context:
    """What every check shares: the series, now, and one expansion of its occurrences."""

    series: Series
    now: datetime
    tz: str
    offsets: Offsets
    occurrences: tuple[datetime, ...]
    recorded: frozenset[datetime]
    cancelled: frozenset[datetime]
    moved: Mapping[datetime, datetime]
    year_ago: datetime
    year_ahead: datetime
    series_start: datetime

    @classmethod
    def make(
        cls,
        series: Series,
        now: datetime,
        records: Sequence[Record],
        *,
        cancelled: Collection[datetime],
        moved: Mapping[datetime, datetime],
        offsets: Offsets,
    ) -> _Context:
        tz = series.rule.tz
        wall = now.astimezone(zone(tz)).replace(tzinfo=None)
        year_ago = localize(_year_before(wall), tz)
        year_ahead = localize(_year_after(wall), tz)
        first = series.rule.first_n(1)
        series_start = first[0] if first else now
        first_year_end = localize(_year_after(series_start.replace(tzinfo=None)), tz)
        # One expansion serves every check: a year back (cadence, late prompts) and a year ahead.
        occurrences = series.rule.occurrences(
            year_ago - offsets.record_window - timedelta(days=1), max(year_ahead, first_year_end)
        )
        for start in moved.values():
            require_aware(start, "a moved start")
        # Working days and holidays are counted in the series' zone, whatever zone a start came in.
        info = zone(tz)
        local_moved = {rule_start: start.astimezone(info) for rule_start, start in moved.items()}
        return cls(
            series=series,
            now=now,
            tz=tz,
            offsets=offsets,
            occurrences=tuple(occurrences),
            recorded=frozenset(r.occurrence for r in records),
            cancelled=frozenset(cancelled),
            moved=local_moved,
            year_ago=year_ago,
            year_ahead=year_ahead,
            series_start=series_start,
        )

    def start(self, occurrence: datetime) -> datetime:
        """The real start of an occurrence, after any move."""
        return self.moved.get(occurrence, occurrence)


def _meeting_triggers(
    ctx: _Context, agendas: Sequence[Agenda], holidays: Collection[date]
) -> list[Trigger]:
    series, now, offsets = ctx.series, ctx.now, ctx.offsets
    employee, manager = series.pair.employee, series.pair.manager
    length = timedelta(minutes=series.duration)
    agenda_of = {a.occurrence: a for a in agendas}
    found: list[Trigger] = []
    for occurrence in ctx.occurrences:
        if occurrence in ctx.cancelled:
            continue
        start = ctx.start(occurrence)
        name = f"{series.id}:{_stamp(occurrence)}"
        agenda = agenda_of.get(occurrence)
        unshared = agenda is None or agenda.state is AgendaState.DRAFT
        if unshared and now < start:
            remind = start - offsets.prepare
            if remind <= now:
                found.append(
                    Trigger(
                        TriggerKind.PREPARE,
                        f"prepare:{name}",
                        series.id,
                        _utc(remind),
                        (employee,),
                        occurrence,
                    )
                )
            deadline = working_days_before(start, offsets.agenda_working_days, holidays)
            if deadline <= now:
                found.append(
                    Trigger(
                        TriggerKind.AGENDA,
                        f"agenda:{name}",
                        series.id,
                        _utc(deadline),
                        (manager,),
                        occurrence,
                    )
                )
        prompt = start + length + offsets.after_meeting
        if occurrence not in ctx.recorded and prompt <= now < prompt + offsets.record_window:
            found.append(
                Trigger(
                    TriggerKind.RECORD,
                    f"record:{name}",
                    series.id,
                    _utc(prompt),
                    (employee, manager),
                    occurrence,
                )
            )
    return found


def _acceptance_triggers(ctx: _Context, records: Sequence[Record]) -> list[Trigger]:
    people = {Role.EMPLOYEE: ctx.series.pair.employee, Role.MANAGER: ctx.series.pair.manager}
    found: list[Trigger] = []
    for record in records:
        for agreement in record.agreements:
            if agreement.state is not AgreementState.PROPOSED or agreement.proposed_at is None:
                continue
            at = agreement.proposed_at + ctx.offsets.acceptance
            if at <= ctx.now < at + ctx.offsets.acceptance_window:
                key = (
                    f"accept:{ctx.series.id}:{_stamp(record.occurrence)}:{agreement.id}:"
                    f"{_stamp(agreement.proposed_at)}"
                )
                found.append(
                    Trigger(
                        TriggerKind.ACCEPT,
                        key,
                        ctx.series.id,
                        _utc(at),
                        tuple(people[role] for role in agreement.waiting_for),
                        record.occurrence,
                        agreement_id=agreement.id,
                    )
                )
    return found


def _cadence_triggers(ctx: _Context, records: Sequence[Record]) -> list[Trigger]:
    now, series = ctx.now, ctx.series
    length = timedelta(minutes=series.duration)
    held = held_occurrences(
        series,
        now,
        occurrences=ctx.occurrences,
        records=records,
        cancelled=ctx.cancelled,
        moved=ctx.moved,
    )
    planned = [
        o
        for o in ctx.occurrences
        if o not in ctx.cancelled and o not in held and ctx.start(o) + length > now
    ]
    if ctx.series_start > ctx.year_ago:
        # A series younger than a year is judged on its first year: held so far plus planned.
        first_year_end = localize(_year_after(ctx.series_start.replace(tzinfo=None)), ctx.tz)
        count = len([h for h in held if h >= ctx.series_start])
        count += len([o for o in planned if o < first_year_end])
    else:
        count = len([h for h in held if ctx.year_ago <= h < now])
    reasons = []
    if count < ctx.offsets.minimum_per_year:
        reasons.append(CadenceReason.FEW_HELD)
    if not any(now <= ctx.start(o) < ctx.year_ahead for o in planned):
        reasons.append(CadenceReason.NONE_PLANNED)
    local = now.astimezone(zone(ctx.tz))
    month_start = localize(
        local.replace(day=1, hour=0, minute=0, second=0, microsecond=0, tzinfo=None), ctx.tz
    )
    month = f"{local.year:04d}-{local.month:02d}"
    return [
        Trigger(
            TriggerKind.CADENCE,
            f"cadence:{series.id}:{reason.value}:{month}",
            series.id,
            _utc(month_start),
            (series.pair.employee, series.pair.manager),
            reason=reason,
        )
        for reason in reasons
    ]


def held_occurrences(
    series: Series,
    now: datetime,
    *,
    occurrences: Sequence[datetime],
    records: Sequence[Record] = (),
    cancelled: Collection[datetime] = (),
    moved: Mapping[datetime, datetime] | None = None,
) -> list[datetime]:
    """The occurrences held by `now`, sorted: those with a record that started, and those whose
    end has passed and that were not cancelled.

    `occurrences` are the rule's starts to consider (e.g. one year of them); a record of an
    occurrence outside them still counts.
    """
    require_aware(now, "now")
    moved = moved or {}
    length = timedelta(minutes=series.duration)
    cancelled_set = frozenset(cancelled)
    held = {r.occurrence for r in records if moved.get(r.occurrence, r.occurrence) < now}
    held.update(
        o for o in occurrences if o not in cancelled_set and moved.get(o, o) + length <= now
    )
    return sorted(held)


def working_days_before(start: datetime, days: int, holidays: Collection[date] = ()) -> datetime:
    """The instant `days` working days before `start`, at the same local wall-clock time.

    Working days are Monday to Friday, not in `holidays` (local dates in `start`'s zone). A time
    that falls in a DST gap on that day moves forward, as everywhere in the domain.
    """
    require_aware(start, "start")
    if days < 1:
        raise CadenceError(f"days must be 1 or more, got {days}")
    local = start.replace(tzinfo=None)
    day = local.date()
    counted = 0
    # Any 7 days hold 5 weekdays and each holiday removes at most one: this bound suffices.
    for _ in range(7 * (days + len(holidays)) + 7):
        day -= timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            counted += 1
            if counted == days:
                break
    else:
        raise CadenceError("no working day found before the occurrence: check the holidays")
    wall = datetime.combine(day, local.time())
    if isinstance(start.tzinfo, ZoneInfo):
        return localize(wall, start.tzinfo.key)
    return wall.replace(tzinfo=start.tzinfo)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _year_before(local: datetime) -> datetime:
    try:
        return local.replace(year=local.year - 1)
    except ValueError:  # 29 February
        return local.replace(year=local.year - 1, day=28)


def _year_after(local: datetime) -> datetime:
    try:
        return local.replace(year=local.year + 1)
    except ValueError:  # 29 February
        return local.replace(year=local.year + 1, day=28)
