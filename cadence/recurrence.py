"""Recurrence rules for a series: every 1, 2, 3, 4 or 6 months on one anchor day.

A `Rule` models only what both providers express the same way: a monthly rule on the 1st-4th or
last weekday of the month, on a fixed day 1-28, or on the last day of the month, ending after a
count, at a date, or never. It converts both ways to RFC 5545 (Google Calendar) and to a Microsoft
Graph ``patternedRecurrence``; anything outside the model is refused with `UnsupportedRecurrence`.

Expansion is plain month arithmetic in the pair's IANA zone: the wall-clock time is kept across
DST; a time inside a DST gap takes the offset before the gap (RFC 5545 section 3.3.5, so 02:30 on a
spring-forward day in Amsterdam becomes 03:30); an ambiguous time is its first occurrence.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from cadence.errors import CadenceError, InvalidRule, UnknownTimeZone, UnsupportedRecurrence
from cadence.zones import canonical_zone, require_aware, zone

INTERVALS = (1, 2, 3, 4, 6)
"""The month intervals a rule may have."""

_LAST_YEAR = 9998  # stop expanding before datetime's range ends, so every loop is bounded
_FIRST_YEAR = 2  # a local time in year 1 may lie before datetime's range once in UTC


class Weekday(enum.IntEnum):
    """A day of the week, Monday first (as `date.weekday()` counts)."""

    MO = 0
    TU = 1
    WE = 2
    TH = 3
    FR = 4
    SA = 5
    SU = 6


@dataclass(frozen=True, slots=True)
class NthWeekday:
    """The `week`-th `weekday` of the month: 1..4, or -1 for the last such weekday."""

    weekday: Weekday
    week: int

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "weekday", Weekday(self.weekday))
        except ValueError as exc:
            raise InvalidRule(f"weekday must be 0-6 (Monday-Sunday), got {self.weekday!r}") from exc
        if isinstance(self.week, bool) or self.week not in (1, 2, 3, 4, -1):
            raise UnsupportedRecurrence(
                f"week must be 1-4 or -1 (last), got {self.week!r}: a fifth weekday is not in "
                "every month and Outlook has no 'fifth', so use -1 for the last",
                code="week_index",
            )


@dataclass(frozen=True, slots=True)
class DayOfMonth:
    """A fixed day of the month: 1..28, or -1 for the last day of the month."""

    day: int

    def __post_init__(self) -> None:
        if isinstance(self.day, bool) or not (1 <= self.day <= 28 or self.day == -1):
            raise UnsupportedRecurrence(
                f"day must be 1-28 or -1 (the last day of the month), got {self.day!r}: days "
                "29-31 are not in every month, so use -1 for the last day",
                code="month_day",
            )


Anchor = NthWeekday | DayOfMonth
"""Where in the month an occurrence falls."""


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def anchor_date(anchor: Anchor, year: int, month: int) -> date:
    """The date `anchor` picks in the given month (every anchor exists in every month)."""
    last = calendar.monthrange(year, month)[1]
    if isinstance(anchor, DayOfMonth):
        return date(year, month, last if anchor.day == -1 else anchor.day)
    if anchor.week == -1:
        last_weekday = date(year, month, last).weekday()
        return date(year, month, last - (last_weekday - anchor.weekday) % 7)
    first_weekday = date(year, month, 1).weekday()
    return date(year, month, 1 + (anchor.weekday - first_weekday) % 7 + 7 * (anchor.week - 1))


def localize(local: datetime, tz: str) -> datetime:
    """An aware datetime for a naive wall-clock time in `tz`.

    A time in a DST gap takes the offset before the gap and is then shown as the real wall-clock
    time after it (02:30 becomes 03:30); an ambiguous time is the first of the two.
    """
    info = zone(tz)
    aware = local.replace(tzinfo=info, fold=0)
    return aware.astimezone(UTC).astimezone(info)


@dataclass(frozen=True, slots=True)
class Rule:
    """A series' recurrence: every `interval` months on `anchor`, in the zone `tz`.

    `first` is the naive local wall-clock start of the first occurrence and matches the anchor.
    `count` and `until` (an inclusive local date) end the series; never both; neither means no end.
    Build one with `Rule.build`; constructing directly validates the same way.
    """

    first: datetime
    tz: str
    anchor: Anchor
    interval: int = 3
    count: int | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        zone(self.tz)
        if not isinstance(self.anchor, NthWeekday | DayOfMonth):
            raise InvalidRule(
                f"anchor must be NthWeekday or DayOfMonth, got {type(self.anchor).__name__}"
            )
        if isinstance(self.interval, bool) or self.interval not in INTERVALS:
            raise UnsupportedRecurrence(
                f"interval must be 1, 2, 3, 4 or 6 months, got {self.interval!r}",
                code="interval",
                got=self.interval,
            )
        if not isinstance(self.first, datetime):
            raise InvalidRule(f"first must be a datetime, got {type(self.first).__name__}")
        if self.first.tzinfo is not None:
            raise InvalidRule(
                f"first must be a naive local time (the zone goes in tz), got {self.first}"
            )
        if self.first.microsecond:
            raise InvalidRule(f"first must be whole seconds, got {self.first}")
        if self.first.fold:
            object.__setattr__(self, "first", self.first.replace(fold=0))
        if not _FIRST_YEAR <= self.first.year <= _LAST_YEAR:
            raise InvalidRule(f"first must be in year {_FIRST_YEAR}-{_LAST_YEAR}, got {self.first}")
        expected = anchor_date(self.anchor, self.first.year, self.first.month)
        if self.first.date() != expected:
            raise InvalidRule(
                f"first ({self.first.date()}) is not on the rule's anchor (that month it is "
                f"{expected}): use Rule.build, which moves it to the first matching date"
            )
        if self.count is not None and self.until is not None:
            raise InvalidRule("give either count or until, not both")
        if self.count is not None and (
            isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1
        ):
            raise InvalidRule(f"count must be 1 or more, got {self.count!r}", code="count")
        if self.until is not None:
            if isinstance(self.until, datetime) or not isinstance(self.until, date):
                raise InvalidRule(f"until must be a date, got {self.until!r}")
            if self.until.year > _LAST_YEAR:
                # The day after `until` must exist: it is the exclusive end of the series.
                raise InvalidRule(
                    f"until must be in year {_LAST_YEAR} or earlier, got {self.until}: "
                    "leave the end out for a series without end",
                    code="until_year",
                    year=_LAST_YEAR,
                )
            if self.until < self.first.date():
                raise InvalidRule(
                    f"until ({self.until}) is before the first occurrence "
                    f"({self.first.date()}): choose a later end date",
                    code="until_before_first",
                    until=self.until.isoformat(),
                    first=self.first.date().isoformat(),
                )

    @classmethod
    def build(
        cls,
        start: datetime,
        tz: str,
        anchor: Anchor,
        *,
        interval: int = 3,
        count: int | None = None,
        until: date | None = None,
    ) -> Rule:
        """A rule whose first occurrence is the first anchor date on or after `start`'s date.

        `start` is naive local wall-clock time in `tz`; its time of day is every occurrence's.
        This is Graph's semantics: the range's start date need not match the pattern.
        Raises `InvalidRule`, `UnsupportedRecurrence` or `UnknownTimeZone` saying what to change.
        """
        zone(tz)
        if not isinstance(start, datetime):
            raise InvalidRule(f"start must be a datetime, got {type(start).__name__}")
        if start.tzinfo is not None:
            raise InvalidRule(
                f"start must be a naive local time (the zone goes in tz), got {start}"
            )
        if not isinstance(anchor, NthWeekday | DayOfMonth):
            raise InvalidRule(f"anchor must be NthWeekday or DayOfMonth, got {anchor!r}")
        if start.year > _LAST_YEAR:
            raise InvalidRule(f"start must be in year {_LAST_YEAR} or earlier, got {start}")
        day = anchor_date(anchor, start.year, start.month)
        if day < start.date():
            year, month = divmod(_month_index(start.year, start.month) + 1, 12)
            day = anchor_date(anchor, year, month + 1)
        first = datetime.combine(day, start.time().replace(tzinfo=None, fold=0))
        return cls(first, tz, anchor, interval=interval, count=count, until=until)

    # -- expansion ------------------------------------------------------------------------------

    def _local(self, k: int) -> datetime | None:
        """The naive local start of occurrence `k` (0-based), ignoring the end; None past 9998."""
        index = _month_index(self.first.year, self.first.month) + k * self.interval
        year, month = divmod(index, 12)
        if year > _LAST_YEAR:
            return None
        return datetime.combine(anchor_date(self.anchor, year, month + 1), self.first.time())

    def _end_instant(self) -> datetime | None:
        """The first instant after the until-day in the zone (exclusive end), or None."""
        if self.until is None:
            return None
        return localize(datetime.combine(self.until + timedelta(days=1), time()), self.tz)

    def _occurrence(self, k: int, end_instant: datetime | None) -> datetime | None:
        """Occurrence `k` as an aware datetime, or None when the rule has ended by then."""
        if k < 0 or (self.count is not None and k >= self.count):
            return None
        local = self._local(k)
        if local is None:
            return None
        aware = localize(local, self.tz)
        if end_instant is not None and aware >= end_instant:
            return None
        return aware

    def _k_near(self, instant: datetime) -> int:
        """An occurrence index at or before the first occurrence at or after `instant`."""
        local = instant.astimezone(zone(self.tz))
        months = _month_index(local.year, local.month) - _month_index(
            self.first.year, self.first.month
        )
        return max(0, months // self.interval - 1)

    def occurrences(self, start: datetime, end: datetime) -> list[datetime]:
        """Occurrences with ``start <= occurrence < end``, aware in `tz`, honouring count/until."""
        require_aware(start, "start")
        require_aware(end, "end")
        end_instant = self._end_instant()
        found: list[datetime] = []
        k = self._k_near(start)
        while (occurrence := self._occurrence(k, end_instant)) is not None and occurrence < end:
            if occurrence >= start:
                found.append(occurrence)
            k += 1
        return found

    def first_n(self, n: int) -> list[datetime]:
        """The first `n` occurrences (fewer if the rule ends sooner), aware in `tz`."""
        if n < 0:
            raise CadenceError(f"n must be 0 or more, got {n}")
        end_instant = self._end_instant()
        found: list[datetime] = []
        for k in range(n):
            occurrence = self._occurrence(k, end_instant)
            if occurrence is None:
                break
            found.append(occurrence)
        return found

    def next_after(self, instant: datetime) -> datetime | None:
        """The first occurrence strictly after `instant`, or None when the rule has ended."""
        require_aware(instant, "instant")
        end_instant = self._end_instant()
        k = self._k_near(instant)
        while (occurrence := self._occurrence(k, end_instant)) is not None:
            if occurrence > instant:
                return occurrence
            k += 1
        return None

    def local_dates(self, n: int) -> list[date]:
        """The local dates of the first `n` occurrences (a DST-gap day can move to the next)."""
        return [occurrence.date() for occurrence in self.first_n(n)]

    def last(self) -> datetime | None:
        """The last occurrence, or None for a rule without end."""
        if self.count is not None:
            occurrences = self.first_n(self.count)
            return occurrences[-1] if occurrences else None
        if self.until is None:
            return None
        end_instant = self._end_instant()
        months = _month_index(self.until.year, self.until.month) - _month_index(
            self.first.year, self.first.month
        )
        for k in range(months // self.interval, -1, -1):
            occurrence = self._occurrence(k, end_instant)
            if occurrence is not None:
                return occurrence
        return None

    def ending_before(self, day: date) -> Rule:
        """The same rule ending before `day` (until = day - 1), never later than it ended.

        Ends a series from `day` on; raises `InvalidRule` if no occurrence would remain.
        """
        if day <= self.first.date():
            raise InvalidRule(
                f"cannot end the series before {day}: its first occurrence is "
                f"{self.first.date()}, so choose a later day or delete the series",
                code="end_before_first",
                day=day.isoformat(),
                first=self.first.date().isoformat(),
            )
        until = day - timedelta(days=1)
        last = self.last()
        if last is not None and last.date() < until:
            until = max(last.date(), self.first.date())
        return replace(self, count=None, until=until)

    # -- RFC 5545 -------------------------------------------------------------------------------

    def to_rfc5545(self) -> list[str]:
        """The DTSTART and RRULE lines; DTSTART is the first occurrence, UNTIL is in UTC."""
        dtstart = f"DTSTART;TZID={self.tz}:{self.first:%Y%m%dT%H%M%S}"
        parts = [f"FREQ=MONTHLY;INTERVAL={self.interval}"]
        if isinstance(self.anchor, NthWeekday):
            parts.append(f"BYDAY={self.anchor.week}{self.anchor.weekday.name}")
        else:
            parts.append(f"BYMONTHDAY={self.anchor.day}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        end_instant = self._end_instant()
        if end_instant is not None:
            # RFC 5545 wants a UTC UNTIL with a zoned DTSTART: the last second of the until-day.
            last_second = end_instant.astimezone(UTC) - timedelta(seconds=1)
            parts.append(f"UNTIL={last_second:%Y%m%dT%H%M%S}Z")
        return [dtstart, "RRULE:" + ";".join(parts)]

    @classmethod
    def from_rfc5545(cls, lines: str | Sequence[str]) -> Rule:
        """Parse DTSTART and RRULE lines (one string or a sequence) back into a rule.

        Accepts the RRULE parts in any order, ``BYDAY=TU;BYSETPOS=2`` as well as ``2TU``, an
        UNTIL as a date or a UTC date-time; ignores WKST. Anything the model cannot hold raises
        `UnsupportedRecurrence` saying why.
        """
        return _parse_rfc5545(lines)

    # -- Microsoft Graph ------------------------------------------------------------------------

    def to_graph(self) -> dict[str, Any]:
        """The Microsoft Graph ``patternedRecurrence`` with every field, as Graph returns it.

        The last day of the month is ``dayOfMonth: 31``: Exchange puts a day past the month's end
        on its last day (RFC 5545 would skip the month instead, hence -1 there).
        """
        pattern: dict[str, Any]
        if isinstance(self.anchor, NthWeekday):
            pattern = {
                "type": "relativeMonthly",
                "interval": self.interval,
                "month": 0,
                "dayOfMonth": 0,
                "daysOfWeek": [_GRAPH_DAYS[self.anchor.weekday]],
                "firstDayOfWeek": "sunday",
                "index": _GRAPH_INDEX[self.anchor.week],
            }
        else:
            pattern = {
                "type": "absoluteMonthly",
                "interval": self.interval,
                "month": 0,
                "dayOfMonth": 31 if self.anchor.day == -1 else self.anchor.day,
                "daysOfWeek": [],
                "firstDayOfWeek": "sunday",
                "index": "first",
            }
        # Graph fills unused range fields with 0001-01-01 and 0 rather than leaving them out.
        range_: dict[str, Any] = {
            "type": "noEnd",
            "startDate": self.first.date().isoformat(),
            "endDate": "0001-01-01",
            "recurrenceTimeZone": self.tz,
            "numberOfOccurrences": 0,
        }
        if self.count is not None:
            range_["type"] = "numbered"
            range_["numberOfOccurrences"] = self.count
        elif self.until is not None:
            range_["type"] = "endDate"
            range_["endDate"] = self.until.isoformat()
        return {"pattern": pattern, "range": range_}

    @classmethod
    def from_graph(
        cls, recurrence: Mapping[str, Any], start_time: time, *, tz: str | None = None
    ) -> Rule:
        """Parse a Graph ``patternedRecurrence``; `start_time` is the event's local start time.

        `tz` is the event's zone, used when the range has no ``recurrenceTimeZone`` and to pick
        among the IANA zones a Windows zone name stands for. Refuses what the model cannot hold
        (``dayOfMonth`` 29 or 30 has no RFC 5545 equivalent) with `UnsupportedRecurrence`.
        """
        return _parse_graph(recurrence, start_time, tz)

    # -- words ----------------------------------------------------------------------------------

    def describe(self, locale: str = "nl") -> str:
        """The rule in words, Dutch or English: ``elke 3 maanden op de tweede dinsdag, 8 keer``."""
        lang = language(locale)
        words = _WORDS[lang]
        if self.count is not None:
            end = words["once"] if self.count == 1 else words["times"].format(n=self.count)
        elif self.until is not None:
            end = words["until"].format(date=format_date(self.until, lang))
        else:
            end = words["noend"]
        return f"{self.describe_pattern(lang)}, {end}"

    def describe_pattern(self, locale: str = "nl") -> str:
        """The rhythm without its end: ``elke 3 maanden op de tweede dinsdag``."""
        lang = language(locale)
        words = _WORDS[lang]
        every = words["every1"] if self.interval == 1 else words["everyn"].format(n=self.interval)
        if isinstance(self.anchor, NthWeekday):
            on = words["nth"].format(
                nth=words["ordinals"][self.anchor.week],
                day=weekday_name(self.anchor.weekday, lang),
            )
        elif self.anchor.day == -1:
            on = words["lastday"]
        else:
            on = words["day"].format(day=_day_ordinal(self.anchor.day, lang))
        return f"{every} {on}"


# -- words ------------------------------------------------------------------------------------

_WEEKDAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_WORDS: dict[str, dict[str, Any]] = {
    "nl": {
        "every1": "elke maand",
        "everyn": "elke {n} maanden",
        "nth": "op de {nth} {day}",
        "ordinals": {1: "eerste", 2: "tweede", 3: "derde", 4: "vierde", -1: "laatste"},
        "day": "op de {day} van de maand",
        "lastday": "op de laatste dag van de maand",
        "once": "1 keer",
        "times": "{n} keer",
        "until": "tot en met {date}",
        "noend": "zonder einddatum",
    },
    "en": {
        "every1": "every month",
        "everyn": "every {n} months",
        "nth": "on the {nth} {day}",
        "ordinals": {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"},
        "day": "on the {day} of the month",
        "lastday": "on the last day of the month",
        "once": "once",
        "times": "{n} times",
        "until": "until {date}",
        "noend": "with no end date",
    },
}


def language(locale: str) -> str:
    """``nl`` or ``en`` for a locale such as ``nl``, ``en-GB`` or `Locale.EN`."""
    lang = str(locale).strip().lower()[:2]
    if lang not in _WEEKDAYS:
        raise CadenceError(f"locale must be nl or en, got {locale!r}", code="locale")
    return lang


def weekday_name(weekday: int, locale: str = "nl") -> str:
    """The weekday's name in the locale: ``dinsdag`` / ``Tuesday``."""
    return _WEEKDAYS[language(locale)][weekday]


def ordinal_name(week: int, locale: str = "nl") -> str:
    """A week of the month in words: 2 is ``tweede`` / ``second``, -1 is ``laatste`` / ``last``."""
    ordinals: dict[int, str] = _WORDS[language(locale)]["ordinals"]
    return ordinals[week]


def format_date(day: date, locale: str = "nl") -> str:
    """A date in words: ``12 januari 2027`` / ``12 January 2027``."""
    return f"{day.day} {_MONTHS[language(locale)][day.month - 1]} {day.year}"


def _day_ordinal(day: int, lang: str) -> str:
    if lang == "nl":
        return f"{day}e"
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# -- RFC 5545 parsing ---------------------------------------------------------------------------

_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_DATETIME = re.compile(r"^(\d{8})T(\d{6})(Z?)$")
_DATE = re.compile(r"^\d{8}$")
_KNOWN_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYSETPOS", "BYMONTHDAY", "COUNT", "UNTIL", "WKST"}


def _unfold(lines: str | Sequence[str]) -> list[str]:
    """Content lines with RFC 5545 folding undone and blank lines dropped."""
    raw = lines.splitlines() if isinstance(lines, str) else [str(line) for line in lines]
    out: list[str] = []
    for line in raw:
        if line[:1] in (" ", "\t") and out:
            out[-1] += line[1:]
        elif line.strip():
            out.append(line.strip())
    return out


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise UnsupportedRecurrence(f"{name} must be a whole number, got {value!r}") from exc


def _parse_stamp(value: str, what: str) -> tuple[datetime, bool]:
    """A naive datetime from ``YYYYMMDDTHHMMSS[Z]`` and whether it ended in Z."""
    match = _DATETIME.match(value)
    if not match:
        raise UnsupportedRecurrence(
            f"{what} must look like 20270112T100000 (a date-time), got {value!r}"
        )
    try:
        parsed = datetime.strptime(match[1] + match[2], "%Y%m%d%H%M%S")  # noqa: DTZ007
    except ValueError as exc:
        raise UnsupportedRecurrence(f"{what} is not a real date-time: {value!r}") from exc
    return parsed, bool(match[3])


def _parse_dtstart(line: str) -> tuple[datetime, str]:
    head, _, value = line.partition(":")
    params = dict(
        (key.upper(), val.strip('"'))
        for key, _, val in (part.partition("=") for part in head.split(";")[1:])
    )
    if params.get("VALUE", "DATE-TIME").upper() != "DATE-TIME" or _DATE.match(value):
        raise UnsupportedRecurrence(
            "DTSTART is a date without a time (an all-day event): give a start time"
        )
    start, utc = _parse_stamp(value.strip(), "DTSTART")
    if utc:
        if "TZID" in params:
            raise UnsupportedRecurrence("DTSTART has both a TZID and a Z: give one of them")
        return start, "UTC"
    if "TZID" not in params:
        raise UnsupportedRecurrence(
            "DTSTART has no TZID (a floating time): give the zone, "
            "as in DTSTART;TZID=Europe/Amsterdam:20270112T100000"
        )
    return start, iana_zone(params["TZID"])


def _parse_until(value: str, first: datetime, tz: str) -> date:
    """The inclusive local until-date for an UNTIL value, exact for the rule's time of day."""
    if _DATE.match(value):
        try:
            return datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007
        except ValueError as exc:
            raise UnsupportedRecurrence(f"UNTIL is not a real date: {value!r}") from exc
    stamp, utc = _parse_stamp(value, "UNTIL")
    info = zone(tz)
    instant = stamp.replace(tzinfo=UTC) if utc else localize(stamp, tz)
    after = (instant + timedelta(seconds=1)).astimezone(info)
    if after.time() == time():
        # The end of a local day (our own form): that whole day, even one a zone skipped.
        return after.date() - timedelta(days=1)
    day = instant.astimezone(info).date()
    if localize(datetime.combine(day, first.time()), tz) > instant:
        day -= timedelta(days=1)
    return day


def _parse_anchor(parts: Mapping[str, str], first: datetime) -> Anchor:
    has_day, has_monthday = "BYDAY" in parts, "BYMONTHDAY" in parts
    if has_day and has_monthday:
        raise UnsupportedRecurrence("give BYDAY or BYMONTHDAY, not both")
    if has_monthday:
        if "BYSETPOS" in parts:
            raise UnsupportedRecurrence("BYSETPOS only goes with one BYDAY weekday")
        value = parts["BYMONTHDAY"]
        if "," in value:
            raise UnsupportedRecurrence(f"only one BYMONTHDAY is supported, got {value}")
        day = _int("BYMONTHDAY", value)
        if day in (29, 30, 31):
            raise UnsupportedRecurrence(
                f"BYMONTHDAY={day} skips the months without that day: use BYMONTHDAY=-1 for the "
                "last day of the month, or a day of 1-28"
            )
        if not (1 <= day <= 28 or day == -1):
            raise UnsupportedRecurrence(f"BYMONTHDAY must be 1-28 or -1 (the last day), got {day}")
        return DayOfMonth(day)
    if has_day:
        value = parts["BYDAY"]
        if "," in value:
            raise UnsupportedRecurrence(
                f"only one BYDAY weekday is supported, got {value}: make one series per weekday"
            )
        match = _BYDAY.match(value)
        if not match:
            raise UnsupportedRecurrence(f"BYDAY must look like 2TU or -1TU, got {value!r}")
        weekday = Weekday[match[2]]
        if match[1] is not None and "BYSETPOS" in parts:
            raise UnsupportedRecurrence("give BYDAY=2TU or BYDAY=TU;BYSETPOS=2, not both forms")
        if match[1] is None:
            if "BYSETPOS" not in parts:
                raise UnsupportedRecurrence(
                    f"BYDAY={value} means every {weekday_name(weekday, 'en')} of the month: "
                    f"say which one, as BYDAY=2{value} or BYDAY=-1{value}"
                )
            setpos = parts["BYSETPOS"]
            if "," in setpos:
                raise UnsupportedRecurrence(f"only one BYSETPOS is supported, got {setpos}")
            week = _int("BYSETPOS", setpos)
        else:
            week = _int("BYDAY", match[1])
        if week not in (1, 2, 3, 4, -1):
            raise UnsupportedRecurrence(
                f"the week in BYDAY must be 1-4 or -1 (last), got {week}: a fifth weekday is not "
                "in every month and Outlook has no 'fifth'"
            )
        return NthWeekday(weekday, week)
    if "BYSETPOS" in parts:
        raise UnsupportedRecurrence("BYSETPOS needs one BYDAY weekday")
    # A bare FREQ=MONTHLY repeats on DTSTART's day of the month.
    if first.day > 28:
        raise UnsupportedRecurrence(
            f"a monthly rule on day {first.day} skips the months without it: use "
            "BYMONTHDAY=-1 for the last day of the month, or a day of 1-28"
        )
    return DayOfMonth(first.day)


def _parse_rfc5545(lines: str | Sequence[str]) -> Rule:
    dtstart: str | None = None
    rrule: str | None = None
    for line in _unfold(lines):
        name = re.split(r"[;:]", line, maxsplit=1)[0].upper()
        if name == "DTSTART":
            if dtstart is not None:
                raise UnsupportedRecurrence("more than one DTSTART line: give exactly one")
            dtstart = line
        elif name == "RRULE":
            if rrule is not None:
                raise UnsupportedRecurrence("more than one RRULE line: give exactly one")
            rrule = line.partition(":")[2]
        else:
            raise UnsupportedRecurrence(
                f"{name} is not supported: give only a DTSTART and one RRULE line"
            )
    if dtstart is None:
        raise UnsupportedRecurrence("DTSTART is missing: the first line must be DTSTART;TZID=...")
    if rrule is None:
        raise UnsupportedRecurrence("RRULE is missing: give a line RRULE:FREQ=MONTHLY;...")
    first, tz = _parse_dtstart(dtstart)

    parts: dict[str, str] = {}
    for item in rrule.upper().split(";"):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq or not value:
            raise UnsupportedRecurrence(f"RRULE part {item!r} must look like NAME=VALUE")
        if key in parts:
            raise UnsupportedRecurrence(f"RRULE has {key} twice: give it once")
        if key not in _KNOWN_PARTS:
            raise UnsupportedRecurrence(
                f"RRULE part {key} is not supported: only FREQ, INTERVAL, BYDAY (with BYSETPOS), "
                "BYMONTHDAY, COUNT and UNTIL are"
            )
        parts[key] = value
    if parts.get("FREQ") != "MONTHLY":
        raise UnsupportedRecurrence(
            f"FREQ must be MONTHLY, got {parts.get('FREQ', 'nothing')}: conversations recur "
            "every 1, 2, 3, 4 or 6 months"
        )
    interval = _int("INTERVAL", parts.get("INTERVAL", "1"))
    anchor = _parse_anchor(parts, first)
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidRule("RRULE has both COUNT and UNTIL: give one of them")
    count = _int("COUNT", parts["COUNT"]) if "COUNT" in parts else None
    until = _parse_until(parts["UNTIL"], first, tz) if "UNTIL" in parts else None
    if anchor_date(anchor, first.year, first.month) != first.date():
        # RFC 5545 counts a DTSTART off the pattern as an extra occurrence; Graph cannot.
        raise UnsupportedRecurrence(
            f"DTSTART ({first.date()}) is not an occurrence of the RRULE: start the series on "
            f"{anchor_date(anchor, first.year, first.month)} or on another matching date"
        )
    return Rule(first, tz, anchor, interval=interval, count=count, until=until)


# -- Microsoft Graph parsing --------------------------------------------------------------------

_GRAPH_DAYS = {
    Weekday.MO: "monday",
    Weekday.TU: "tuesday",
    Weekday.WE: "wednesday",
    Weekday.TH: "thursday",
    Weekday.FR: "friday",
    Weekday.SA: "saturday",
    Weekday.SU: "sunday",
}
_GRAPH_INDEX = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}

# Windows zone names Outlook and Exchange use, with their IANA zones (CLDR's default first).
WINDOWS_ZONES: Mapping[str, tuple[str, ...]] = {
    "UTC": ("UTC", "Etc/UTC"),
    "GMT Standard Time": ("Europe/London", "Europe/Dublin", "Europe/Lisbon"),
    "Greenwich Standard Time": ("Atlantic/Reykjavik",),
    "W. Europe Standard Time": (
        "Europe/Berlin",
        "Europe/Amsterdam",
        "Europe/Zurich",
        "Europe/Rome",
        "Europe/Vienna",
        "Europe/Stockholm",
        "Europe/Oslo",
        "Europe/Luxembourg",
    ),
    "Romance Standard Time": (
        "Europe/Paris",
        "Europe/Brussels",
        "Europe/Madrid",
        "Europe/Copenhagen",
    ),
    "Central Europe Standard Time": ("Europe/Budapest", "Europe/Prague", "Europe/Belgrade"),
    "Central European Standard Time": ("Europe/Warsaw", "Europe/Zagreb"),
    "GTB Standard Time": ("Europe/Bucharest", "Europe/Athens"),
    "FLE Standard Time": ("Europe/Kyiv", "Europe/Helsinki", "Europe/Riga", "Europe/Vilnius"),
    "Turkey Standard Time": ("Europe/Istanbul",),
    "Russian Standard Time": ("Europe/Moscow",),
    "South Africa Standard Time": ("Africa/Johannesburg",),
    "Arabian Standard Time": ("Asia/Dubai",),
    "India Standard Time": ("Asia/Kolkata",),
    "China Standard Time": ("Asia/Shanghai",),
    "Singapore Standard Time": ("Asia/Singapore",),
    "Tokyo Standard Time": ("Asia/Tokyo",),
    "AUS Eastern Standard Time": ("Australia/Sydney", "Australia/Melbourne"),
    "New Zealand Standard Time": ("Pacific/Auckland",),
    "Samoa Standard Time": ("Pacific/Apia",),
    "Hawaiian Standard Time": ("Pacific/Honolulu",),
    "Pacific Standard Time": ("America/Los_Angeles",),
    "US Mountain Standard Time": ("America/Phoenix",),
    "Mountain Standard Time": ("America/Denver",),
    "Central Standard Time": ("America/Chicago",),
    "Eastern Standard Time": ("America/New_York",),
    "Atlantic Standard Time": ("America/Halifax",),
    "E. South America Standard Time": ("America/Sao_Paulo",),
}
"""Common Windows zone names and the IANA zones each stands for, the usual one first."""


def iana_zone(name: str, prefer: str | None = None) -> str:
    """The IANA name for an IANA or common Windows zone name, in any case (``utc`` -> ``UTC``).

    A Windows name stands for several IANA zones with the same rules; `prefer` picks one of them
    (the pair's own zone), else the usual one. Raises `UnknownTimeZone` saying what to give.
    """
    windows = WINDOWS_ZONES.get(name) or _windows_folded().get(name.strip().casefold())
    if windows:
        return prefer if prefer in windows else windows[0]
    try:
        return canonical_zone(name)
    except UnknownTimeZone as exc:
        raise UnknownTimeZone(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Amsterdam or a common "
            "Windows name such as W. Europe Standard Time"
        ) from exc


@cache
def _windows_folded() -> dict[str, tuple[str, ...]]:
    return {key.casefold(): value for key, value in WINDOWS_ZONES.items()}


def _graph_int(source: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = source.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnsupportedRecurrence(f"{key} must be a whole number, got {value!r}")
    return value


def _graph_date(source: Mapping[str, Any], key: str) -> date:
    value = source.get(key)
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise UnsupportedRecurrence(f"{key} must be a date like 2027-01-12, got {value!r}") from exc


def _parse_graph_anchor(pattern: Mapping[str, Any]) -> Anchor:
    kind = pattern.get("type")
    month = pattern.get("month", 0)
    if month not in (0, None):
        raise UnsupportedRecurrence(f"pattern month must be 0 for a monthly pattern, got {month!r}")
    if kind == "relativeMonthly":
        days = pattern.get("daysOfWeek") or []
        if not isinstance(days, list | tuple) or len(days) != 1:
            raise UnsupportedRecurrence(
                f"daysOfWeek must name exactly one day, got {days!r}: make one series per weekday"
            )
        by_name = {name: day for day, name in _GRAPH_DAYS.items()}
        day_name = str(days[0]).lower()
        if day_name not in by_name:
            raise UnsupportedRecurrence(f"daysOfWeek has an unknown day {days[0]!r}")
        index = str(pattern.get("index") or "first").lower()
        weeks = {name: week for week, name in _GRAPH_INDEX.items()}
        if index not in weeks:
            raise UnsupportedRecurrence(
                f"index must be first, second, third, fourth or last, got {index!r}"
            )
        return NthWeekday(by_name[day_name], weeks[index])
    if kind == "absoluteMonthly":
        day = _graph_int(pattern, "dayOfMonth")
        if day == 31:
            # Exchange puts day 31 on the last day of shorter months: that is our last day.
            return DayOfMonth(-1)
        if day in (29, 30):
            raise UnsupportedRecurrence(
                f"dayOfMonth {day} has no RFC 5545 equivalent (Google would skip February): "
                "choose a day of 1-28 or 31 for the last day of the month"
            )
        if not 1 <= day <= 28:
            raise UnsupportedRecurrence(f"dayOfMonth must be 1-28 or 31, got {day}")
        return DayOfMonth(day)
    raise UnsupportedRecurrence(
        f"pattern type must be relativeMonthly or absoluteMonthly, got {kind!r}: conversations "
        "recur every 1, 2, 3, 4 or 6 months"
    )


def _parse_graph(recurrence: Mapping[str, Any], start_time: time, tz: str | None) -> Rule:
    pattern = recurrence.get("pattern")
    range_ = recurrence.get("range")
    if not isinstance(pattern, Mapping) or not isinstance(range_, Mapping):
        raise UnsupportedRecurrence("a patternedRecurrence needs a pattern and a range object")
    if start_time.tzinfo is not None:
        raise InvalidRule(f"start_time must be a naive local time, got {start_time}")
    anchor = _parse_graph_anchor(pattern)
    interval = _graph_int(pattern, "interval", 1)
    zone_name = range_.get("recurrenceTimeZone") or tz
    if not zone_name:
        raise UnsupportedRecurrence(
            "the range has no recurrenceTimeZone: pass the event's zone as tz"
        )
    iana = iana_zone(str(zone_name), prefer=tz)
    start = datetime.combine(_graph_date(range_, "startDate"), start_time)
    kind = range_.get("type")
    if kind == "numbered":
        count = _graph_int(range_, "numberOfOccurrences")
        return Rule.build(start, iana, anchor, interval=interval, count=count)
    if kind == "endDate":
        until = _graph_date(range_, "endDate")
        return Rule.build(start, iana, anchor, interval=interval, until=until)
    if kind == "noEnd":
        return Rule.build(start, iana, anchor, interval=interval)
    raise UnsupportedRecurrence(f"range type must be numbered, endDate or noEnd, got {kind!r}")
