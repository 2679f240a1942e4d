"""Graph ``patternedRecurrence``: validation and expansion with Exchange's semantics.

Every pattern Graph publishes is expanded (daily, weekly, absoluteMonthly, relativeMonthly,
absoluteYearly, relativeYearly), each ending after a count, at a date, or never. Dates come from
the pattern in the event's start zone; each occurrence keeps the start's wall-clock time across
DST (a time in a DST gap moves forward by the gap, as `cadence.recurrence.localize` does).

Exchange quirks kept on purpose: an ``absoluteMonthly``/``absoluteYearly`` ``dayOfMonth`` past the
month's end falls on the month's last day (RFC 5545 would skip that month), and ``index`` is
first..fourth or last (there is no "fifth").
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from cadence.recurrence import localize
from cadence.zones import zone

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Graph's day names, in `date.weekday()` order."""

INDEXES = ("first", "second", "third", "fourth", "last")
PATTERNS = (
    "daily",
    "weekly",
    "absoluteMonthly",
    "relativeMonthly",
    "absoluteYearly",
    "relativeYearly",
)
RANGES = ("endDate", "noEnd", "numbered")
_NO_DATE = "0001-01-01"
_LAST_YEAR = 9998  # expansion stops here so every loop ends


class RecurrenceError(ValueError):
    """A recurrence Graph would refuse; the message says which field is wrong."""


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A validated patternedRecurrence; `zone` is the name as given (Windows or IANA)."""

    kind: str
    interval: int
    days: tuple[int, ...]
    day_of_month: int
    month: int
    index: str
    first_day_of_week: int
    range_kind: str
    start_date: date
    end_date: date | None
    count: int
    zone: str

    def same_pattern(self, other: Recurrence) -> bool:
        """True when only the range's end differs (the series is lengthened or shortened)."""
        return (
            self.kind,
            self.interval,
            self.days,
            self.day_of_month,
            self.month,
            self.index,
            self.first_day_of_week,
            self.start_date,
        ) == (
            other.kind,
            other.interval,
            other.days,
            other.day_of_month,
            other.month,
            other.index,
            other.first_day_of_week,
            other.start_date,
        )

    def to_json(self) -> dict[str, Any]:
        """The recurrence as Graph returns it: every field, unused ones zeroed."""
        uses_days = self.kind in ("weekly", "relativeMonthly", "relativeYearly")
        return {
            "pattern": {
                "type": self.kind,
                "interval": self.interval,
                "month": self.month,
                "dayOfMonth": self.day_of_month,
                "daysOfWeek": [DAYS[d] for d in self.days] if uses_days else [],
                "firstDayOfWeek": DAYS[self.first_day_of_week],
                "index": self.index,
            },
            "range": {
                "type": self.range_kind,
                "startDate": self.start_date.isoformat(),
                "endDate": self.end_date.isoformat() if self.end_date else _NO_DATE,
                "recurrenceTimeZone": self.zone,
                "numberOfOccurrences": self.count,
            },
        }


def _int(source: Mapping[str, Any], key: str, default: int) -> int:
    value = source.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecurrenceError(f"{key} must be an integer, got {value!r}")
    return value


def _date(source: Mapping[str, Any], key: str) -> date | None:
    value = source.get(key)
    if value in (None, "", _NO_DATE):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise RecurrenceError(f"{key} must be a date like 2027-01-12, got {value!r}") from exc


def _day(name: object) -> int:
    text = str(name).lower()
    if text not in DAYS:
        raise RecurrenceError(f"unknown day of week {name!r}")
    return DAYS.index(text)


def _pick(value: object, choices: tuple[str, ...], what: str) -> str:
    """Graph enums are case-insensitive on input and camelCase on output."""
    for choice in choices:
        if str(value).lower() == choice.lower():
            return choice
    raise RecurrenceError(f"{what} must be one of {', '.join(choices)}, got {value!r}")


def parse(recurrence: Mapping[str, Any], zone: str) -> Recurrence:
    """Validate a patternedRecurrence; `zone` is the event start's zone, the default range zone."""
    pattern = recurrence.get("pattern")
    range_ = recurrence.get("range")
    if not isinstance(pattern, Mapping) or not isinstance(range_, Mapping):
        raise RecurrenceError("recurrence needs a pattern and a range")
    kind = _pick(pattern.get("type"), PATTERNS, "pattern type")
    interval = _int(pattern, "interval", 1)
    if not 1 <= interval <= 999:
        raise RecurrenceError(f"interval must be 1-999, got {interval}")
    days = tuple(sorted({_day(d) for d in pattern.get("daysOfWeek") or []}))
    day_of_month = _int(pattern, "dayOfMonth", 0)
    month = _int(pattern, "month", 0)
    index = _pick(pattern.get("index") or "first", INDEXES, "index")
    first_day = _day(pattern.get("firstDayOfWeek") or "sunday")
    if kind in ("weekly", "relativeMonthly", "relativeYearly") and not days:
        raise RecurrenceError(f"a {kind} pattern needs daysOfWeek")
    if kind in ("absoluteMonthly", "absoluteYearly") and not 1 <= day_of_month <= 31:
        raise RecurrenceError(f"a {kind} pattern needs dayOfMonth 1-31, got {day_of_month}")
    if kind in ("absoluteYearly", "relativeYearly") and not 1 <= month <= 12:
        raise RecurrenceError(f"a {kind} pattern needs month 1-12, got {month}")
    range_kind = _pick(range_.get("type"), RANGES, "range type")
    start_date = _date(range_, "startDate")
    if start_date is None:
        raise RecurrenceError("range needs a startDate")
    end_date = _date(range_, "endDate") if range_kind == "endDate" else None
    count = _int(range_, "numberOfOccurrences", 0) if range_kind == "numbered" else 0
    if range_kind == "endDate" and (end_date is None or end_date < start_date):
        raise RecurrenceError("an endDate range needs an endDate on or after its startDate")
    if range_kind == "numbered" and count < 1:
        raise RecurrenceError("a numbered range needs numberOfOccurrences of 1 or more")
    return Recurrence(
        kind=kind,
        interval=interval,
        days=days,
        day_of_month=day_of_month,
        month=month,
        index=index,
        first_day_of_week=first_day,
        range_kind=range_kind,
        start_date=start_date,
        end_date=end_date,
        count=count,
        zone=str(range_.get("recurrenceTimeZone") or zone),
    )


def _clamped(year: int, month: int, day: int) -> date:
    """Exchange's dayOfMonth: a day past the month's end is the month's last day."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _nth(year: int, month: int, days: tuple[int, ...], index: str) -> date:
    """The index-th day of the month whose weekday is one of `days` (last = the last such)."""
    last = calendar.monthrange(year, month)[1]
    matching = [d for d in range(1, last + 1) if date(year, month, d).weekday() in days]
    position = -1 if index == "last" else INDEXES.index(index)
    return date(year, month, matching[position])


def _period(rec: Recurrence, k: int) -> tuple[date, list[date]]:
    """The first day of period `k` and the pattern's dates in it, sorted."""
    start = rec.start_date
    if rec.kind == "daily":
        day = start + timedelta(days=k * rec.interval)
        return day, [day]
    if rec.kind == "weekly":
        week0 = start - timedelta(days=(start.weekday() - rec.first_day_of_week) % 7)
        week = week0 + timedelta(days=7 * k * rec.interval)
        in_week = [week + timedelta(days=i) for i in range(7)]
        return week, sorted(d for d in in_week if d.weekday() in rec.days)
    if rec.kind in ("absoluteMonthly", "relativeMonthly"):
        year, month0 = divmod(start.year * 12 + start.month - 1 + k * rec.interval, 12)
        month = month0 + 1
        first = date(year, month, 1) if year <= _LAST_YEAR else date.max
        if year > _LAST_YEAR:
            return first, []
        if rec.kind == "absoluteMonthly":
            return first, [_clamped(year, month, rec.day_of_month)]
        return first, [_nth(year, month, rec.days, rec.index)]
    year = start.year + k * rec.interval
    if year > _LAST_YEAR:
        return date.max, []
    if rec.kind == "absoluteYearly":
        return date(year, 1, 1), [_clamped(year, rec.month, rec.day_of_month)]
    return date(year, 1, 1), [_nth(year, rec.month, rec.days, rec.index)]


def _skip_to(rec: Recurrence, day: date) -> int:
    """A period index at or before the one holding `day` (only for ranges without a count)."""
    start = rec.start_date
    if rec.kind == "daily":
        periods = (day - start).days // rec.interval
    elif rec.kind == "weekly":
        periods = (day - start).days // (7 * rec.interval)
    elif rec.kind in ("absoluteMonthly", "relativeMonthly"):
        months = (day.year - start.year) * 12 + day.month - start.month
        periods = months // rec.interval
    else:
        periods = (day.year - start.year) // rec.interval
    return max(0, periods - 1)


def dates(rec: Recurrence, from_day: date | None = None) -> Iterator[date]:
    """The series' local dates in order, honouring the range; from `from_day` when given.

    `from_day` only skips ahead for ranges without a count (a count is counted from the start).
    The iteration ends at the range's end or in year 9998.
    """
    k = _skip_to(rec, from_day) if from_day and rec.range_kind != "numbered" else 0
    produced = 0
    while True:
        first, found = _period(rec, k)
        if first == date.max or first.year > _LAST_YEAR:
            return
        if rec.end_date is not None and first > rec.end_date:
            return
        for day in found:
            if day < rec.start_date:
                continue
            if rec.end_date is not None and day > rec.end_date:
                return
            yield day
            produced += 1
            if rec.range_kind == "numbered" and produced >= rec.count:
                return
        k += 1


def occurrences(
    rec: Recurrence, start_time: time, iana: str, window: tuple[datetime, datetime]
) -> Iterator[datetime]:
    """Aware occurrence starts (in `iana`) with ``window[0] <= start < window[1]``.

    The caller widens the window by the event's duration to find overlapping occurrences.
    """
    lo, hi = window
    skip = lo.astimezone(zone(iana)).date() - timedelta(days=2)
    for day in dates(rec, skip):
        instant = localize(datetime.combine(day, start_time), iana)
        if instant >= hi:
            return
        if instant >= lo:
            yield instant


def first_occurrence(rec: Recurrence, start_time: time, iana: str) -> datetime | None:
    """The series' first occurrence, or None when the pattern gives no date in its range."""
    for day in dates(rec):
        return localize(datetime.combine(day, start_time), iana)
    return None


def has_date(rec: Recurrence, day: date) -> bool:
    """True when `day` is one of the series' dates."""
    for found in dates(rec, day):
        if found >= day:
            return found == day
    return False
