"""Unit tests for `cadence.recurrence`: anchors, ends, zones, both wire formats, words, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cadence.errors import CadenceError, InvalidRule, UnknownTimeZone, UnsupportedRecurrence
from cadence.recurrence import DayOfMonth, NthWeekday, Rule, Weekday, format_date, iana_zone

AMS = "Europe/Amsterdam"


def quarterly_second_tuesday(**kwargs: object) -> Rule:
    """The brief's example rule: every 3 months on the second Tuesday at 10:00 in Amsterdam."""
    return Rule.build(
        datetime(2027, 1, 1, 10),
        AMS,
        NthWeekday(Weekday.TU, 2),
        **kwargs,  # type: ignore[arg-type]
    )


def utc(*args: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# -- anchors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("week", "expected"),
    [
        (1, [date(2027, 1, 5), date(2027, 4, 6), date(2027, 7, 6)]),
        (2, [date(2027, 1, 12), date(2027, 4, 13), date(2027, 7, 13)]),
        (3, [date(2027, 1, 19), date(2027, 4, 20), date(2027, 7, 20)]),
        (4, [date(2027, 1, 26), date(2027, 4, 27), date(2027, 7, 27)]),
        (-1, [date(2027, 1, 26), date(2027, 4, 27), date(2027, 7, 27)]),
    ],
)
def test_nth_weekday_anchor(week: int, expected: list[date]) -> None:
    """Each week of the month (and the last) lands on the right Tuesday every quarter."""
    rule = Rule.build(datetime(2027, 1, 1, 9), AMS, NthWeekday(Weekday.TU, week))
    assert rule.local_dates(3) == expected


def test_last_weekday_differs_from_fourth_in_a_month_with_five() -> None:
    """In a month with five Fridays the last Friday is the fifth, not the fourth."""
    rule = Rule.build(datetime(2027, 1, 1, 9), AMS, NthWeekday(Weekday.FR, -1), interval=1)
    assert rule.local_dates(1) == [date(2027, 1, 29)]
    fourth = Rule.build(datetime(2027, 1, 1, 9), AMS, NthWeekday(Weekday.FR, 4), interval=1)
    assert fourth.local_dates(1) == [date(2027, 1, 22)]


def test_fixed_day_anchor() -> None:
    """A fixed day of the month repeats on that day."""
    rule = Rule.build(datetime(2027, 1, 1, 9), AMS, DayOfMonth(12), interval=2)
    assert rule.local_dates(3) == [date(2027, 1, 12), date(2027, 3, 12), date(2027, 5, 12)]


def test_last_day_anchor_follows_month_length() -> None:
    """The last day of the month is 31, 28/29 or 30 as the month has it."""
    rule = Rule.build(datetime(2028, 1, 1, 9), AMS, DayOfMonth(-1), interval=1)
    assert rule.local_dates(4) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]


def test_build_moves_first_to_the_next_matching_date() -> None:
    """A start after this month's anchor date moves the first occurrence to next month."""
    rule = Rule.build(datetime(2027, 1, 13, 10, 30), AMS, NthWeekday(Weekday.TU, 2))
    assert rule.first == datetime(2027, 2, 9, 10, 30)


def test_build_keeps_a_start_on_the_anchor() -> None:
    """A start that is itself an anchor date is the first occurrence."""
    assert quarterly_second_tuesday().first == datetime(2027, 1, 12, 10)


# -- ends -------------------------------------------------------------------------------------


def test_count_ends_the_rule() -> None:
    """A count of 8 gives exactly eight occurrences, even when more are asked for."""
    rule = quarterly_second_tuesday(count=8)
    occurrences = rule.first_n(20)
    assert len(occurrences) == 8
    assert occurrences[-1] == datetime(2028, 10, 10, 10, tzinfo=ZoneInfo(AMS))
    assert rule.last() == occurrences[-1]


def test_until_is_inclusive() -> None:
    """An until date on an occurrence keeps that occurrence, and none after it."""
    rule = quarterly_second_tuesday(until=date(2027, 10, 12))
    assert rule.local_dates(10) == [
        date(2027, 1, 12),
        date(2027, 4, 13),
        date(2027, 7, 13),
        date(2027, 10, 12),
    ]
    assert quarterly_second_tuesday(until=date(2027, 10, 11)).local_dates(10)[-1] == date(
        2027, 7, 13
    )


def test_no_end_goes_on() -> None:
    """A rule without count or until keeps producing occurrences."""
    rule = quarterly_second_tuesday()
    assert len(rule.first_n(40)) == 40
    assert rule.last() is None
    assert rule.next_after(utc(2100, 1, 1)) == datetime(2100, 1, 12, 10, tzinfo=ZoneInfo(AMS))


def test_occurrences_window_is_half_open() -> None:
    """`occurrences` includes an occurrence at `start` and excludes one at `end`."""
    rule = quarterly_second_tuesday()
    april = datetime(2027, 4, 13, 10, tzinfo=ZoneInfo(AMS))
    october = datetime(2027, 10, 12, 10, tzinfo=ZoneInfo(AMS))
    assert rule.occurrences(april, october) == [
        april,
        datetime(2027, 7, 13, 10, tzinfo=ZoneInfo(AMS)),
    ]


def test_occurrences_honours_count() -> None:
    """A window past the count's end is empty."""
    rule = quarterly_second_tuesday(count=2)
    assert rule.occurrences(utc(2027, 5, 1), utc(2030, 1, 1)) == []


def test_next_after_is_strict_and_ends() -> None:
    """`next_after` skips an occurrence at the instant itself and is None past the end."""
    rule = quarterly_second_tuesday(count=2)
    first, second = rule.first_n(2)
    assert rule.next_after(first) == second
    assert rule.next_after(first - timedelta(seconds=1)) == first
    assert rule.next_after(second) is None


def test_naive_window_is_refused() -> None:
    """A naive window bound is refused with a message naming it."""
    with pytest.raises(CadenceError, match="start must be an aware datetime"):
        quarterly_second_tuesday().occurrences(datetime(2027, 1, 1), utc(2028, 1, 1))


def test_ending_before_ends_the_series() -> None:
    """`ending_before` keeps occurrences before the day and drops the count."""
    ended = quarterly_second_tuesday(count=8).ending_before(date(2027, 7, 13))
    assert ended.until == date(2027, 7, 12)
    assert ended.count is None
    assert ended.local_dates(10) == [date(2027, 1, 12), date(2027, 4, 13)]


def test_ending_before_never_extends() -> None:
    """Ending after the series already ended leaves its occurrences as they were."""
    rule = quarterly_second_tuesday(count=2)
    ended = rule.ending_before(date(2030, 1, 1))
    assert ended.local_dates(10) == rule.local_dates(10)


def test_ending_before_the_first_is_refused() -> None:
    """Ending a series on or before its first occurrence says to delete it instead."""
    with pytest.raises(InvalidRule, match="delete the series"):
        quarterly_second_tuesday().ending_before(date(2027, 1, 12))


# -- zones ------------------------------------------------------------------------------------


def test_dst_gap_in_amsterdam_moves_to_after_the_gap() -> None:
    """02:30 on the last Sunday of March does not exist: it becomes 03:30 CEST (01:30 UTC)."""
    rule = Rule.build(datetime(2027, 3, 1, 2, 30), AMS, NthWeekday(Weekday.SU, -1), interval=1)
    gap, april = rule.first_n(2)
    assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, timedelta(hours=2))
    assert gap.astimezone(UTC) == utc(2027, 3, 28, 1, 30)
    assert (april.hour, april.minute) == (2, 30)


def test_dst_ambiguous_time_in_amsterdam_is_the_first() -> None:
    """02:30 on the last Sunday of October happens twice: the first (CEST) is the occurrence."""
    rule = Rule.build(datetime(2027, 10, 1, 2, 30), AMS, NthWeekday(Weekday.SU, -1), interval=1)
    (autumn,) = rule.first_n(1)
    assert autumn.date() == date(2027, 10, 31)
    assert autumn.astimezone(UTC) == utc(2027, 10, 31, 0, 30)


def test_wall_clock_is_kept_across_dst() -> None:
    """A 10:00 rule stays at 10:00 local in winter and summer, with different UTC times."""
    winter, spring = quarterly_second_tuesday().first_n(2)
    assert (winter.hour, spring.hour) == (10, 10)
    assert (winter.astimezone(UTC).hour, spring.astimezone(UTC).hour) == (9, 8)


def test_apia_skipped_day_moves_to_the_next() -> None:
    """Samoa skipped 30 December 2011: the last Friday at 10:00 lands on Saturday 31st, +14:00."""
    rule = Rule.build(
        datetime(2011, 11, 1, 10), "Pacific/Apia", NthWeekday(Weekday.FR, -1), interval=1
    )
    november, december, january = rule.first_n(3)
    assert november.utcoffset() == timedelta(hours=-10)
    assert december.date() == date(2011, 12, 31)
    assert december.utcoffset() == timedelta(hours=14)
    assert december.astimezone(UTC) == utc(2011, 12, 30, 20)
    assert january.date() == date(2012, 1, 27)


def test_sydney_southern_dst() -> None:
    """Sydney is +11 in January and +10 in July; its October gap moves 02:30 to 03:30."""
    tz = "Australia/Sydney"
    rule = Rule.build(datetime(2027, 1, 1, 9), tz, DayOfMonth(15), interval=6)
    january, july = rule.first_n(2)
    assert (january.utcoffset(), july.utcoffset()) == (timedelta(hours=11), timedelta(hours=10))
    gap_rule = Rule.build(datetime(2027, 10, 1, 2, 30), tz, NthWeekday(Weekday.SU, 1))
    (gap,) = gap_rule.first_n(1)
    assert (gap.date(), gap.hour, gap.minute) == (date(2027, 10, 3), 3, 30)


def test_kolkata_half_hour_offset() -> None:
    """Kolkata is +05:30 all year: 10:00 local is 04:30 UTC."""
    rule = Rule.build(datetime(2027, 1, 1, 10), "Asia/Kolkata", NthWeekday(Weekday.MO, 1))
    first, second = rule.first_n(2)
    assert first.astimezone(UTC) == utc(2027, 1, 4, 4, 30)
    assert second.utcoffset() == timedelta(hours=5, minutes=30)


# -- RFC 5545 ---------------------------------------------------------------------------------


def test_rfc5545_with_count() -> None:
    """The brief's example gives its exact two lines."""
    assert quarterly_second_tuesday(count=8).to_rfc5545() == [
        "DTSTART;TZID=Europe/Amsterdam:20270112T100000",
        "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=8",
    ]


def test_rfc5545_until_is_end_of_local_day_in_utc() -> None:
    """UNTIL is the last second of the until-day in the zone, in UTC (CEST: 21:59:59Z)."""
    rule = quarterly_second_tuesday(until=date(2027, 7, 13))
    assert rule.to_rfc5545()[1] == "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;UNTIL=20270713T215959Z"


def test_rfc5545_last_day_and_last_weekday() -> None:
    """The last day is BYMONTHDAY=-1 and the last weekday -1XX."""
    last_day = Rule.build(datetime(2027, 1, 1, 9), AMS, DayOfMonth(-1), interval=1)
    assert last_day.to_rfc5545()[1] == "RRULE:FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1"
    last_fri = Rule.build(datetime(2027, 1, 1, 9), AMS, NthWeekday(Weekday.FR, -1))
    assert last_fri.to_rfc5545()[1] == "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR"


def test_from_rfc5545_any_order_bysetpos_and_wkst() -> None:
    """Parts in any order, the BYSETPOS form and a WKST all parse to the same rule."""
    lines = [
        "DTSTART;TZID=Europe/Amsterdam:20270112T100000",
        "RRULE:COUNT=8;WKST=MO;BYSETPOS=2;BYDAY=TU;INTERVAL=3;FREQ=MONTHLY",
    ]
    assert Rule.from_rfc5545(lines) == quarterly_second_tuesday(count=8)


def test_from_rfc5545_accepts_one_string_and_a_date_until() -> None:
    """A single string with CRLF line ends and an UNTIL date parse; the until-day is kept."""
    text = (
        "DTSTART;TZID=Europe/Amsterdam:20270112T100000\r\n"
        "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;UNTIL=20271012\r\n"
    )
    assert Rule.from_rfc5545(text) == quarterly_second_tuesday(until=date(2027, 10, 12))


def test_from_rfc5545_until_at_the_last_start_keeps_it() -> None:
    """An UNTIL equal to the last occurrence's start (as some clients write it) keeps that day."""
    lines = [
        "DTSTART;TZID=Europe/Amsterdam:20270112T100000",
        "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;UNTIL=20271012T080000Z",
    ]
    assert Rule.from_rfc5545(lines).until == date(2027, 10, 12)


def test_from_rfc5545_until_before_the_last_start_drops_that_day() -> None:
    """An UNTIL earlier in the day than the occurrence excludes it, as RFC 5545 says."""
    lines = [
        "DTSTART;TZID=Europe/Amsterdam:20270112T100000",
        "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;UNTIL=20271012T070000Z",
    ]
    assert Rule.from_rfc5545(lines).local_dates(10)[-1] == date(2027, 7, 13)


def test_from_rfc5545_utc_dtstart_and_bare_monthly() -> None:
    """A UTC DTSTART gives zone UTC; a bare FREQ=MONTHLY repeats on DTSTART's day."""
    rule = Rule.from_rfc5545(["DTSTART:20270115T090000Z", "RRULE:FREQ=MONTHLY;INTERVAL=6"])
    assert rule == Rule.build(datetime(2027, 1, 15, 9), "UTC", DayOfMonth(15), interval=6)


def test_from_rfc5545_windows_tzid() -> None:
    """An Outlook-style Windows TZID maps to its IANA zone."""
    rule = Rule.from_rfc5545(
        [
            'DTSTART;TZID="Eastern Standard Time":20270112T100000',
            "RRULE:FREQ=MONTHLY;BYDAY=2TU",
        ]
    )
    assert (rule.tz, rule.interval) == ("America/New_York", 1)


@pytest.mark.parametrize(
    ("rrule", "message"),
    [
        ("FREQ=WEEKLY;BYDAY=TU", "FREQ must be MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=2TU,2WE", "only one BYDAY"),
        ("FREQ=MONTHLY;BYDAY=TU", "say which one"),
        ("FREQ=MONTHLY;BYDAY=5TU", "fifth"),
        ("FREQ=MONTHLY;BYMONTHDAY=31", "BYMONTHDAY=-1"),
        ("FREQ=MONTHLY;BYMONTHDAY=29", "BYMONTHDAY=-1"),
        ("FREQ=MONTHLY;BYMONTH=1;BYDAY=2TU", "BYMONTH is not supported"),
        ("FREQ=MONTHLY;BYDAY=2TU;BYMONTHDAY=12", "not both"),
        ("FREQ=MONTHLY;BYDAY=2TU;BYSETPOS=2", "not both forms"),
        ("FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU", "1, 2, 3, 4 or 6"),
        ("FREQ=MONTHLY;BYDAY=2TU;COUNT=x", "whole number"),
        ("FREQ=MONTHLY;BYDAY=1TU", "not an occurrence"),
        ("FREQ=MONTHLY;BYDAY=2TU;BYDAY=2TU", "twice"),
    ],
)
def test_from_rfc5545_refuses_outside_the_model(rrule: str, message: str) -> None:
    """Each rule outside the model is refused with a reason."""
    with pytest.raises(UnsupportedRecurrence, match=message):
        Rule.from_rfc5545(["DTSTART;TZID=Europe/Amsterdam:20270112T100000", "RRULE:" + rrule])


def test_from_rfc5545_refuses_count_and_until() -> None:
    """COUNT and UNTIL together are inconsistent."""
    with pytest.raises(InvalidRule, match="both COUNT and UNTIL"):
        Rule.from_rfc5545(
            [
                "DTSTART;TZID=Europe/Amsterdam:20270112T100000",
                "RRULE:FREQ=MONTHLY;BYDAY=2TU;COUNT=2;UNTIL=20280101",
            ]
        )


@pytest.mark.parametrize(
    ("lines", "error", "message"),
    [
        (["RRULE:FREQ=MONTHLY;BYDAY=2TU"], UnsupportedRecurrence, "DTSTART is missing"),
        (
            ["DTSTART;TZID=Europe/Amsterdam:20270112T100000"],
            UnsupportedRecurrence,
            "RRULE is missing",
        ),
        (
            ["DTSTART:20270112T100000", "RRULE:FREQ=MONTHLY;BYDAY=2TU"],
            UnsupportedRecurrence,
            "no TZID",
        ),
        (
            ["DTSTART;VALUE=DATE:20270112", "RRULE:FREQ=MONTHLY;BYDAY=2TU"],
            UnsupportedRecurrence,
            "all-day",
        ),
        (
            ["DTSTART;TZID=Mars/Base:20270112T100000", "RRULE:FREQ=MONTHLY;BYDAY=2TU"],
            UnknownTimeZone,
            "Mars/Base",
        ),
        (
            [
                "DTSTART;TZID=Europe/Amsterdam:20270112T100000",
                "RRULE:FREQ=MONTHLY;BYDAY=2TU",
                "EXDATE;TZID=Europe/Amsterdam:20270413T100000",
            ],
            UnsupportedRecurrence,
            "EXDATE is not supported",
        ),
    ],
)
def test_from_rfc5545_refuses_bad_lines(
    lines: list[str], error: type[Exception], message: str
) -> None:
    """Missing, floating, all-day, unknown-zone and extra lines are refused with a reason."""
    with pytest.raises(error, match=message):
        Rule.from_rfc5545(lines)


# -- Microsoft Graph --------------------------------------------------------------------------


def test_to_graph_relative_numbered() -> None:
    """The brief's example rule gives Graph's full relativeMonthly pattern and numbered range."""
    assert quarterly_second_tuesday(count=8).to_graph() == {
        "pattern": {
            "type": "relativeMonthly",
            "interval": 3,
            "month": 0,
            "dayOfMonth": 0,
            "daysOfWeek": ["tuesday"],
            "firstDayOfWeek": "sunday",
            "index": "second",
        },
        "range": {
            "type": "numbered",
            "startDate": "2027-01-12",
            "endDate": "0001-01-01",
            "recurrenceTimeZone": "Europe/Amsterdam",
            "numberOfOccurrences": 8,
        },
    }


def test_to_graph_last_day_is_31_with_end_date() -> None:
    """The last day of the month is dayOfMonth 31; an until is an endDate range."""
    rule = Rule.build(datetime(2027, 1, 1, 9), AMS, DayOfMonth(-1), until=date(2027, 12, 31))
    graph = rule.to_graph()
    assert graph["pattern"] == {
        "type": "absoluteMonthly",
        "interval": 3,
        "month": 0,
        "dayOfMonth": 31,
        "daysOfWeek": [],
        "firstDayOfWeek": "sunday",
        "index": "first",
    }
    assert graph["range"] == {
        "type": "endDate",
        "startDate": "2027-01-31",
        "endDate": "2027-12-31",
        "recurrenceTimeZone": "Europe/Amsterdam",
        "numberOfOccurrences": 0,
    }


def test_to_graph_no_end_and_last_weekday() -> None:
    """A rule without end is a noEnd range; the last weekday is index last."""
    graph = Rule.build(datetime(2027, 1, 1, 9), AMS, NthWeekday(Weekday.FR, -1)).to_graph()
    assert graph["pattern"]["index"] == "last"
    assert graph["range"]["type"] == "noEnd"


def graph(pattern: dict[str, object], range_: dict[str, object]) -> dict[str, object]:
    """A patternedRecurrence with Graph's defaults filled in."""
    return {
        "pattern": {"interval": 3, "month": 0, "firstDayOfWeek": "sunday", **pattern},
        "range": {"startDate": "2027-01-01", "recurrenceTimeZone": AMS, **range_},
    }


def test_from_graph_moves_start_to_the_first_match() -> None:
    """A startDate off the pattern starts at the first matching date on or after it."""
    recurrence = graph(
        {"type": "relativeMonthly", "daysOfWeek": ["tuesday"], "index": "second"},
        {"type": "numbered", "numberOfOccurrences": 8},
    )
    assert Rule.from_graph(recurrence, time(10)) == quarterly_second_tuesday(count=8)


def test_from_graph_day_31_is_the_last_day() -> None:
    """absoluteMonthly on day 31 is our last day of the month; an endDate is the until."""
    recurrence = graph(
        {"type": "absoluteMonthly", "dayOfMonth": 31},
        {"type": "endDate", "endDate": "2027-12-31"},
    )
    rule = Rule.from_graph(recurrence, time(9))
    assert rule.anchor == DayOfMonth(-1)
    assert rule.until == date(2027, 12, 31)


def test_from_graph_windows_zone_prefers_the_pairs_zone() -> None:
    """W. Europe Standard Time maps to the given zone when it is one of its IANA zones."""
    recurrence = graph(
        {"type": "absoluteMonthly", "dayOfMonth": 12},
        {"type": "noEnd", "recurrenceTimeZone": "W. Europe Standard Time"},
    )
    assert Rule.from_graph(recurrence, time(9), tz=AMS).tz == AMS
    assert Rule.from_graph(recurrence, time(9)).tz == "Europe/Berlin"


@pytest.mark.parametrize(
    ("windows", "iana"),
    [
        ("Eastern Standard Time", "America/New_York"),
        ("AUS Eastern Standard Time", "Australia/Sydney"),
        ("Samoa Standard Time", "Pacific/Apia"),
        ("India Standard Time", "Asia/Kolkata"),
        ("GMT Standard Time", "Europe/London"),
        ("UTC", "UTC"),
    ],
)
def test_windows_zone_names(windows: str, iana: str) -> None:
    """Common Windows zone names map to their usual IANA zone."""
    assert iana_zone(windows) == iana


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("utc", "UTC"),
        ("Etc/UTC", "Etc/UTC"),
        ("EUROPE/AMSTERDAM", "Europe/Amsterdam"),
        (" america/new_york ", "America/New_York"),
        ("eastern standard time", "America/New_York"),
    ],
)
def test_zone_names_in_any_case_are_spelled_as_the_database_does(
    typed: str, canonical: str
) -> None:
    """People type zones in any case; the name a calendar gets is the zone database's own."""
    assert iana_zone(typed) == canonical


def test_a_zone_that_matches_in_no_case_is_still_refused() -> None:
    """Folding case does not make an unknown name known."""
    with pytest.raises(UnknownTimeZone, match="unknown time zone 'mars/base'"):
        iana_zone("mars/base")


def test_from_graph_missing_zone_uses_the_events_zone() -> None:
    """Without recurrenceTimeZone the event's zone is used; without either it is refused."""
    recurrence = graph(
        {"type": "absoluteMonthly", "dayOfMonth": 12},
        {"type": "noEnd", "recurrenceTimeZone": None},
    )
    assert Rule.from_graph(recurrence, time(9), tz="Asia/Kolkata").tz == "Asia/Kolkata"
    with pytest.raises(UnsupportedRecurrence, match="pass the event's zone"):
        Rule.from_graph(recurrence, time(9))


@pytest.mark.parametrize(
    ("pattern", "range_", "error", "message"),
    [
        (
            {"type": "absoluteMonthly", "dayOfMonth": 30},
            {"type": "noEnd"},
            UnsupportedRecurrence,
            "no RFC 5545",
        ),
        (
            {"type": "absoluteMonthly", "dayOfMonth": 29},
            {"type": "noEnd"},
            UnsupportedRecurrence,
            "no RFC 5545",
        ),
        (
            {"type": "weekly", "daysOfWeek": ["monday"]},
            {"type": "noEnd"},
            UnsupportedRecurrence,
            "relativeMonthly",
        ),
        (
            {"type": "relativeMonthly", "daysOfWeek": ["monday", "friday"]},
            {"type": "noEnd"},
            UnsupportedRecurrence,
            "exactly one day",
        ),
        (
            {"type": "absoluteMonthly", "dayOfMonth": 12, "interval": 5},
            {"type": "noEnd"},
            UnsupportedRecurrence,
            "1, 2, 3, 4 or 6",
        ),
        (
            {"type": "absoluteMonthly", "dayOfMonth": 12},
            {"type": "numbered", "numberOfOccurrences": 0},
            InvalidRule,
            "count",
        ),
        (
            {"type": "absoluteMonthly", "dayOfMonth": 12},
            {"type": "noEnd", "recurrenceTimeZone": "Mars Standard Time"},
            UnknownTimeZone,
            "Windows name",
        ),
        (
            {"type": "absoluteMonthly", "dayOfMonth": 12},
            {"type": "sometimes"},
            UnsupportedRecurrence,
            "range type",
        ),
    ],
)
def test_from_graph_refuses_outside_the_model(
    pattern: dict[str, object], range_: dict[str, object], error: type[Exception], message: str
) -> None:
    """Patterns and ranges the model cannot hold are refused with a reason."""
    with pytest.raises(error, match=message):
        Rule.from_graph(graph(pattern, range_), time(9))


# -- words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "nl", "en"),
    [
        (
            quarterly_second_tuesday(count=8),
            "elke 3 maanden op de tweede dinsdag, 8 keer",
            "every 3 months on the second Tuesday, 8 times",
        ),
        (
            Rule.build(datetime(2027, 1, 1, 9), AMS, DayOfMonth(-1), interval=1, count=1),
            "elke maand op de laatste dag van de maand, 1 keer",
            "every month on the last day of the month, once",
        ),
        (
            Rule.build(datetime(2027, 1, 1, 9), AMS, DayOfMonth(22), until=date(2027, 12, 31)),
            "elke 3 maanden op de 22e van de maand, tot en met 31 december 2027",
            "every 3 months on the 22nd of the month, until 31 December 2027",
        ),
        (
            Rule.build(datetime(2027, 1, 1, 9), AMS, NthWeekday(Weekday.FR, -1), interval=6),
            "elke 6 maanden op de laatste vrijdag, zonder einddatum",
            "every 6 months on the last Friday, with no end date",
        ),
    ],
)
def test_describe(rule: Rule, nl: str, en: str) -> None:
    """The rule reads the same in Dutch and English."""
    assert (rule.describe(), rule.describe("en")) == (nl, en)


def test_describe_refuses_an_unknown_locale() -> None:
    """Only Dutch and English are spoken."""
    with pytest.raises(CadenceError, match="nl or en"):
        quarterly_second_tuesday().describe("fr")


def test_format_date() -> None:
    """Dates read as day, month name and year."""
    assert (format_date(date(2027, 4, 27)), format_date(date(2027, 4, 27), "en")) == (
        "27 april 2027",
        "27 April 2027",
    )


# -- errors -----------------------------------------------------------------------------------


def test_fifth_weekday_is_refused() -> None:
    """A fifth weekday is not in every month and says to use the last."""
    with pytest.raises(UnsupportedRecurrence, match="use -1 for the last"):
        NthWeekday(Weekday.TU, 5)


@pytest.mark.parametrize("day", [0, 29, 30, 31, -2])
def test_day_outside_1_28_is_refused(day: int) -> None:
    """Days 29-31 (and nonsense) are refused, pointing at -1 for the last day."""
    with pytest.raises(UnsupportedRecurrence, match="-1"):
        DayOfMonth(day)


def test_interval_5_is_refused() -> None:
    """Only 1, 2, 3, 4 or 6 months are allowed."""
    with pytest.raises(UnsupportedRecurrence, match="1, 2, 3, 4 or 6 months, got 5"):
        quarterly_second_tuesday(interval=5)


def test_count_below_one_is_refused() -> None:
    """A zero count is inconsistent."""
    with pytest.raises(InvalidRule, match="count must be 1 or more, got 0"):
        quarterly_second_tuesday(count=0)


def test_until_before_first_is_refused() -> None:
    """An until before the first occurrence names both dates."""
    with pytest.raises(InvalidRule, match=r"until \(2027-01-11\) is before the first occurrence"):
        quarterly_second_tuesday(until=date(2027, 1, 11))


def test_until_past_the_last_supported_year_is_refused_clearly() -> None:
    """An until in 9999 is refused as bad input, not left to overflow when expanded."""
    with pytest.raises(InvalidRule, match="until must be in year 9998 or earlier"):
        quarterly_second_tuesday(until=date(9999, 12, 31))
    graph = quarterly_second_tuesday(until=date(2028, 1, 1)).to_graph()
    graph["range"]["endDate"] = "9999-12-31"
    with pytest.raises(InvalidRule, match="until must be in year 9998 or earlier"):
        Rule.from_graph(graph, time(10), tz=AMS)


def test_a_first_occurrence_in_year_one_is_refused_clearly() -> None:
    """Year 1 is refused as bad input, not left to overflow when shown in UTC."""
    with pytest.raises(InvalidRule, match="first must be in year 2-9998"):
        Rule.build(datetime(1, 1, 1, 0, 10), AMS, DayOfMonth(1))
    with pytest.raises(InvalidRule, match="first must be in year 2-9998"):
        Rule.from_rfc5545(
            ["DTSTART;TZID=Europe/Amsterdam:00010101T001000", "RRULE:FREQ=MONTHLY;BYMONTHDAY=1"]
        )


def test_until_on_the_last_supported_day_expands_and_converts() -> None:
    """An until on 31 December 9998 still expands and writes its RFC 5545 UNTIL."""
    rule = quarterly_second_tuesday(until=date(9998, 12, 31))
    assert rule.first_n(1)[0].date() == date(2027, 1, 12)
    assert rule.last() is not None
    assert rule.to_rfc5545()[1].endswith("UNTIL=99981231T225959Z")


def test_count_and_until_together_are_refused() -> None:
    """A rule ends by count or by date, not both."""
    with pytest.raises(InvalidRule, match="not both"):
        quarterly_second_tuesday(count=2, until=date(2028, 1, 1))


def test_aware_start_is_refused() -> None:
    """The start is naive wall-clock time; the zone goes in tz."""
    with pytest.raises(InvalidRule, match="naive local time"):
        Rule.build(datetime(2027, 1, 1, 10, tzinfo=UTC), AMS, NthWeekday(Weekday.TU, 2))


def test_unknown_zone_is_refused() -> None:
    """An unknown zone name is refused, naming it."""
    with pytest.raises(UnknownTimeZone, match="Europe/Amsterdm"):
        Rule.build(datetime(2027, 1, 1, 10), "Europe/Amsterdm", NthWeekday(Weekday.TU, 2))


def test_first_off_the_anchor_is_refused() -> None:
    """Constructing a rule whose first date is off its anchor points at `Rule.build`."""
    with pytest.raises(InvalidRule, match=r"use Rule\.build"):
        Rule(datetime(2027, 1, 13, 10), AMS, NthWeekday(Weekday.TU, 2))


def test_describe_pattern_leaves_out_the_end() -> None:
    """`describe_pattern` is the rhythm alone, for sentences that add their own ending."""
    rule = quarterly_second_tuesday(count=8)
    assert (rule.describe_pattern(), rule.describe_pattern("en-GB")) == (
        "elke 3 maanden op de tweede dinsdag",
        "every 3 months on the second Tuesday",
    )


def test_from_graph_as_graph_returns_it() -> None:
    """A numbered range as Graph returns it (endDate 0001-01-01) parses; index defaults to first."""
    recurrence = {
        "pattern": {
            "type": "relativeMonthly",
            "interval": 3,
            "month": 0,
            "dayOfMonth": 0,
            "daysOfWeek": ["Monday"],
            "firstDayOfWeek": "sunday",
        },
        "range": {
            "type": "numbered",
            "startDate": "2027-01-04",
            "endDate": "0001-01-01",
            "recurrenceTimeZone": "W. Europe Standard Time",
            "numberOfOccurrences": 4,
        },
    }
    rule = Rule.from_graph(recurrence, time(14, 30), tz=AMS)
    assert rule == Rule.build(datetime(2027, 1, 4, 14, 30), AMS, NthWeekday(Weekday.MO, 1), count=4)


def test_from_graph_refuses_an_aware_start_time() -> None:
    """The start time is local wall-clock time, without a zone."""
    recurrence = graph({"type": "absoluteMonthly", "dayOfMonth": 12}, {"type": "noEnd"})
    with pytest.raises(InvalidRule, match="naive local time"):
        Rule.from_graph(recurrence, time(9, tzinfo=UTC))


def test_last_of_an_until_rule() -> None:
    """The last occurrence of an until rule is the last one on or before the until-day."""
    rule = quarterly_second_tuesday(until=date(2028, 3, 1))
    assert rule.last() == datetime(2028, 1, 11, 10, tzinfo=ZoneInfo(AMS))


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules", "right/UTC", "posix/UTC"])
def test_files_of_the_zone_database_that_are_no_place_are_refused(name: str) -> None:
    """The server's own zone, a placeholder and the database's copies are not a person's zone."""
    from cadence.errors import UnknownTimeZone
    from cadence.zones import zone

    with pytest.raises(UnknownTimeZone):
        zone(name)
