"""The planner: propose a series that fits both partners' calendars, pure and deterministic.

Candidates are every preferred weekday in week 1-4 and the last week of the month, at every
30-minute start in the employee's window, with the first conversation at least `LEAD_DAYS` after
`now` (room to prepare). A candidate fits when each of its next `CHECKED` occurrences lies inside
both partners' working hours (each in their own zone), inside the employee's window, clear of both
busy lists, not on a public holiday and not in the year-end break (24-31 December: many teams are
off or on leave then, so a conversation planned there is likely to be moved).

A fixed day of the month is never proposed: it wanders over the weekdays, and the employee chose
weekdays. Among fitting candidates the earliest first occurrence wins (so an earlier time of day
wins on the same date), then week 1, 2, 3, 4, last. If none fits, the candidate with the fewest
clashing occurrences (then fewest clashes, then the same order) is proposed with its clashes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate

from cadence.errors import CadenceError, InvalidPreferences
from cadence.holidays import holiday_name, is_year_end_break
from cadence.model import MAX_DURATION, MIN_DURATION, Pair, Person
from cadence.recurrence import (
    INTERVALS,
    NthWeekday,
    Rule,
    Weekday,
    format_date,
    language,
    localize,
    weekday_name,
)
from cadence.zones import zone

LEAD_DAYS = 7
"""The first conversation is at least this many days after `now`, so both can prepare."""

CHECKED = 4
"""How many upcoming occurrences a candidate must fit (a year of quarterly conversations)."""

STEP = timedelta(minutes=30)
"""Start times are tried at this step through the employee's window."""

_WEEKS = (1, 2, 3, 4, -1)
_WORKWEEK = frozenset({Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR})


def _weekdays(days: Iterable[int], what: str, error: type[CadenceError]) -> frozenset[Weekday]:
    try:
        return frozenset(Weekday(day) for day in days)
    except ValueError:
        raise error(
            f"{what} must be weekdays 0-6 (Monday-Sunday), got {sorted(days)}",
            code="unknown_weekday",
        ) from None


def _naive_time(value: time, what: str, error: type[CadenceError]) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise error(
            f"{what} must be a local time of day without a zone, got {value!r}",
            code="time_of_day",
        )


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When someone works, in their own IANA zone: `days` from `start` to `end` (local time)."""

    tz: str
    days: frozenset[Weekday] = _WORKWEEK
    start: time = time(9)
    end: time = time(17)

    def __post_init__(self) -> None:
        zone(self.tz)
        object.__setattr__(self, "days", _weekdays(self.days, "working days", CadenceError))
        if not self.days:
            raise CadenceError("working days must name at least one weekday", code="no_working_day")
        _naive_time(self.start, "working hours start", CadenceError)
        _naive_time(self.end, "working hours end", CadenceError)
        if self.start >= self.end:
            raise CadenceError(
                f"working hours must end after they start, got {self.start:%H:%M}-{self.end:%H:%M}",
                code="working_hours_order",
                start=f"{self.start:%H:%M}",
                end=f"{self.end:%H:%M}",
            )

    def contains(self, start: datetime, end: datetime) -> bool:
        """True when [start, end) lies within one working day of these hours."""
        local_start, local_end = start.astimezone(zone(self.tz)), end.astimezone(zone(self.tz))
        return (
            local_start.date() == local_end.date()
            and local_start.weekday() in self.days
            and local_start.time() >= self.start
            and local_end.time() <= self.end
        )


@dataclass(frozen=True, slots=True)
class Interval:
    """A busy stretch of time: aware instants, end exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is None or value.utcoffset() is None:
                raise CadenceError(f"busy interval {name} must be aware, got {value}")
        if self.end <= self.start:
            raise CadenceError(
                f"a busy interval must end after it starts, got {self.start} - {self.end}"
            )


@dataclass(frozen=True, slots=True)
class Availability:
    """One partner's working hours and busy intervals."""

    person: Person
    hours: WorkingHours
    busy: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "busy", tuple(self.busy))


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the employee wants: weekdays, a window of the day (their own local time), a length.

    `earliest` and `latest` bound the whole conversation; `interval` is in months.
    """

    weekdays: frozenset[Weekday]
    earliest: time
    latest: time
    duration: int = 60
    place: str = ""
    online: bool = False
    interval: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "weekdays", _weekdays(self.weekdays, "weekdays", InvalidPreferences)
        )
        if not self.weekdays:
            raise InvalidPreferences(
                "choose at least one weekday for the conversations", code="no_weekday"
            )
        if isinstance(self.duration, bool) or not MIN_DURATION <= self.duration <= MAX_DURATION:
            raise InvalidPreferences(
                f"duration must be {MIN_DURATION}-{MAX_DURATION} minutes, got {self.duration}",
                code="duration_range",
                low=MIN_DURATION,
                high=MAX_DURATION,
                got=self.duration,
            )
        _naive_time(self.earliest, "earliest", InvalidPreferences)
        _naive_time(self.latest, "latest", InvalidPreferences)
        if _minutes(self.earliest) + self.duration > _minutes(self.latest):
            raise InvalidPreferences(
                f"a {self.duration}-minute conversation does not fit between "
                f"{self.earliest:%H:%M} and {self.latest:%H:%M}: start earlier, end later "
                "or make it shorter",
                code="window_too_short",
                duration=self.duration,
                earliest=f"{self.earliest:%H:%M}",
                latest=f"{self.latest:%H:%M}",
            )
        if self.interval not in INTERVALS:
            raise InvalidPreferences(
                f"interval must be 1, 2, 3, 4 or 6 months, got {self.interval}",
                code="interval",
                got=self.interval,
            )


@dataclass(frozen=True, slots=True)
class Clash:
    """Why one occurrence does not fit, e.g. ``Koningsdag (feestdag)`` or ``Grace is bezet``."""

    when: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """The proposed series: the rule, whether it fits, the occurrences checked and any clashes."""

    rule: Rule
    fits: bool
    occurrences: tuple[datetime, ...]
    clashes: tuple[Clash, ...]
    explanation: str


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


class _Busy:
    """Busy intervals sorted by start, with the running latest end, for O(log n) overlap tests."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, busy: Sequence[Interval]) -> None:
        ordered = sorted(busy, key=lambda interval: interval.start)
        self._starts = [interval.start.astimezone(UTC) for interval in ordered]
        self._ends = list(accumulate((i.end.astimezone(UTC) for i in ordered), max))

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """True when any interval overlaps [start, end)."""
        before_end = bisect_left(self._starts, end)
        return before_end > 0 and self._ends[before_end - 1] > start


_REASONS = {
    "nl": {
        "holiday": "{name} (feestdag)",
        "year_end": "tussen kerst en nieuwjaar",
        "window": "buiten de voorkeurstijden van {name}",
        "hours": "buiten de werktijden van {name}",
        "busy": "{name} is bezet",
    },
    "en": {
        "holiday": "{name} (public holiday)",
        "year_end": "between Christmas and New Year",
        "window": "outside {name}'s preferred times",
        "hours": "outside {name}'s working hours",
        "busy": "{name} is busy",
    },
}
_ALL_FIT = {
    "nl": {
        1: "het gesprek past in beide agenda's",
        2: "beide gesprekken passen in beide agenda's",
        3: "alle drie de gesprekken passen in beide agenda's",
        4: "alle vier de gesprekken passen in beide agenda's",
    },
    "en": {
        1: "the conversation fits both calendars",
        2: "both conversations fit both calendars",
        3: "all three conversations fit both calendars",
        4: "all four conversations fit both calendars",
    },
}
_SENTENCE = {
    "nl": "{pattern} om {time}, de eerste op {first}: {rest}.",
    "en": "{pattern} at {time}, the first on {first}: {rest}.",
}
_NO_FIT = {
    "nl": "geen tijdstip past elke keer, dit voorstel botst op {dates}",
    "en": "no time fits every one, this proposal clashes on {dates}",
}
_AND = {"nl": "en", "en": "and"}
_VIEWER = {
    "nl": "{time} ({pair}; voor jou {viewer_time} in {viewer})",
    "en": "{time} ({pair}; {viewer_time} for you in {viewer})",
}


@dataclass(frozen=True, slots=True)
class _Checker:
    """Everything a candidate occurrence is checked against."""

    employee: Availability
    manager: Availability
    prefs: Preferences
    employee_busy: _Busy
    manager_busy: _Busy
    country: str
    lang: str
    skip_year_end: bool

    def clashes(self, occurrence: datetime) -> list[Clash]:
        """Every reason `occurrence` does not fit, in a fixed order."""
        reasons = _REASONS[self.lang]
        start = occurrence.astimezone(UTC)
        end = start + timedelta(minutes=self.prefs.duration)
        day = occurrence.date()
        found: list[str] = []
        holiday = holiday_name(day, self.country, self.lang)
        if holiday is not None:
            found.append(reasons["holiday"].format(name=holiday))
        elif self.skip_year_end and is_year_end_break(day):
            found.append(reasons["year_end"])
        if not self._in_window(start, end):
            found.append(reasons["window"].format(name=self.employee.person.name))
        for who in (self.employee, self.manager):
            if not who.hours.contains(start, end):
                found.append(reasons["hours"].format(name=who.person.name))
        for who, busy in ((self.employee, self.employee_busy), (self.manager, self.manager_busy)):
            if busy.overlaps(start, end):
                found.append(reasons["busy"].format(name=who.person.name))
        return [Clash(occurrence, reason) for reason in found]

    def _in_window(self, start: datetime, end: datetime) -> bool:
        info = zone(self.employee.hours.tz)
        local_start, local_end = start.astimezone(info), end.astimezone(info)
        return (
            local_start.date() == local_end.date()
            and local_start.time() >= self.prefs.earliest
            and local_end.time() <= self.prefs.latest
        )


def _start_times(prefs: Preferences, same_zone: bool) -> list[time]:
    """Candidate start times: the window at 30-minute steps, or the whole day across zones."""
    if same_zone:
        first, last = _minutes(prefs.earliest), _minutes(prefs.latest) - prefs.duration
    else:
        # The window is in the employee's zone; the rule's zone differs, so try every step.
        first, last = 0, 24 * 60 - 30
    step = int(STEP.total_seconds()) // 60
    return [time(minutes // 60, minutes % 60) for minutes in range(first, last + 1, step)]


def _join(items: Sequence[str], lang: str) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {_AND[lang]} {items[-1]}"


def _explain(
    rule: Rule,
    occurrences: Sequence[datetime],
    clashes: Sequence[Clash],
    lang: str,
    viewer_tz: str | None = None,
) -> str:
    pattern = rule.describe_pattern(lang)
    at = f"{rule.first:%H:%M}"
    first = occurrences[0]
    if viewer_tz:
        # The rule lives in the pair's zone; a reader elsewhere also gets their own clock time.
        local = first.astimezone(zone(rule.tz))
        theirs = first.astimezone(zone(viewer_tz))
        if theirs.replace(tzinfo=None) != local.replace(tzinfo=None):
            viewer_time = f"{theirs:%H:%M}"
            if theirs.date() != local.date():
                viewer_time = (
                    f"{weekday_name(theirs.weekday(), lang)} "
                    f"{format_date(theirs.date(), lang)}, {viewer_time}"
                )
            at = _VIEWER[lang].format(
                time=at, pair=rule.tz, viewer_time=viewer_time, viewer=viewer_tz
            )
    if clashes:
        dates = sorted({clash.when.date() for clash in clashes})
        rest = _NO_FIT[lang].format(dates=_join([format_date(day, lang) for day in dates], lang))
    else:
        rest = _ALL_FIT[lang][len(occurrences)]
    return _SENTENCE[lang].format(
        pattern=pattern[0].upper() + pattern[1:],
        time=at,
        first=format_date(occurrences[0].date(), lang),
        rest=rest,
    )


Candidate = tuple[Weekday, int, time]
"""A candidate rule before it is built: weekday, week of the month, start time."""


def plan(
    pair: Pair,
    employee: Availability,
    manager: Availability,
    prefs: Preferences,
    *,
    now: datetime,
    country: str = "NL",
    locale: str = "nl",
    count: int | None = None,
    skip_year_end: bool = True,
    viewer_tz: str | None = None,
) -> Proposal:
    """Propose a series for `pair` in the pair's zone; see the module docstring for the rules.

    `count` ends the proposed rule after that many conversations (None: no end). `country`
    chooses the public holidays; `skip_year_end` keeps 24-31 December free. `viewer_tz` is the
    zone of whoever reads the explanation: where its clock differs from the pair's, the
    explanation names both zones and gives the reader's own time.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise CadenceError(f"now must be an aware datetime, got {now}")
    lang = language(locale)
    info = zone(pair.tz)
    if viewer_tz is not None:
        zone(viewer_tz)
    earliest_day: date = now.astimezone(info).date() + timedelta(days=LEAD_DAYS)
    checker = _Checker(
        employee=employee,
        manager=manager,
        prefs=prefs,
        employee_busy=_Busy(employee.busy),
        manager_busy=_Busy(manager.busy),
        country=country,
        lang=lang,
        skip_year_end=skip_year_end,
    )
    times = _start_times(prefs, same_zone=employee.hours.tz == pair.tz)

    def build(weekday: Weekday, week: int, start_time: time) -> Rule:
        return Rule.build(
            datetime.combine(earliest_day, start_time),
            pair.tz,
            NthWeekday(weekday, week),
            interval=prefs.interval,
            count=count,
        )

    best_fit: tuple[tuple[object, ...], Candidate, tuple[datetime, ...]] | None = None
    best_other: (
        tuple[tuple[object, ...], Candidate, tuple[datetime, ...], tuple[Clash, ...]] | None
    ) = None
    for weekday in sorted(prefs.weekdays):
        for week_order, week in enumerate(_WEEKS):
            # The rule's dates do not depend on the time of day: worked out once per anchor,
            # each start time is those dates at that wall-clock time in the pair's zone.
            days = [o.date() for o in build(weekday, week, times[0]).first_n(CHECKED)]
            for start_time in times:
                candidate = (weekday, week, start_time)
                first = localize(datetime.combine(days[0], start_time), pair.tz)
                order = (first.astimezone(UTC), week_order, int(weekday))
                if best_fit is not None and order >= best_fit[0]:
                    continue  # cannot beat the fit already found
                occurrences = (
                    first,
                    *(localize(datetime.combine(day, start_time), pair.tz) for day in days[1:]),
                )
                clashes = tuple(c for o in occurrences for c in checker.clashes(o))
                if not clashes:
                    best_fit = (order, candidate, occurrences)
                elif best_fit is None:
                    clashing = len({clash.when for clash in clashes})
                    key = (clashing, len(clashes), *order)
                    if best_other is None or key < best_other[0]:
                        best_other = (key, candidate, occurrences, clashes)
    if best_fit is not None:
        _, chosen, occurrences = best_fit
        fit = build(*chosen)
        return Proposal(fit, True, occurrences, (), _explain(fit, occurrences, (), lang, viewer_tz))
    if best_other is None:  # pragma: no cover - validated preferences always give a candidate
        raise InvalidPreferences("no candidate start time: widen the window", code="no_start_time")
    _, chosen, occurrences, clashes = best_other
    other = build(*chosen)
    return Proposal(
        other, False, occurrences, clashes, _explain(other, occurrences, clashes, lang, viewer_tz)
    )
