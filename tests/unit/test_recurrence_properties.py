"""Property tests for `cadence.recurrence`: dateutil is the oracle for our own expansion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cadence.recurrence import DayOfMonth, NthWeekday, Rule, Weekday

ZONES = (
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Sydney",
    "Pacific/Apia",
    "Asia/Kolkata",
    "UTC",
)
OPEN_ENDED = 24  # occurrences compared for a rule without end

# Sundays and early hours are drawn often: that is where DST gaps and overlaps are.
weekdays = st.one_of(st.just(Weekday.SU), st.sampled_from(Weekday))
anchors = st.one_of(
    st.builds(NthWeekday, weekdays, st.sampled_from((1, 2, 3, 4, -1))),
    st.builds(DayOfMonth, st.sampled_from((*range(1, 29), -1))),
)
times = st.builds(
    time,
    st.one_of(st.integers(1, 4), st.integers(0, 23)),
    st.sampled_from((0, 15, 30, 45)),
    st.sampled_from((0, 0, 0, 30)),
)
intervals = st.one_of(st.just(1), st.sampled_from((1, 2, 3, 4, 6)))


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    """Any rule in the model, from 2005 to 2040 (Apia's skipped day included)."""
    day = draw(st.dates(date(2005, 1, 1), date(2040, 12, 31)))
    start = datetime.combine(day, draw(times))
    tz = draw(st.sampled_from(ZONES))
    anchor = draw(anchors)
    interval = draw(intervals)
    end = draw(st.sampled_from(("count", "until", "none")))
    if end == "count":
        return Rule.build(start, tz, anchor, interval=interval, count=draw(st.integers(1, 30)))
    rule = Rule.build(start, tz, anchor, interval=interval)
    if end == "until":
        offset = draw(st.integers(0, 2500))
        return Rule.build(
            start, tz, anchor, interval=interval, until=rule.first.date() + timedelta(offset)
        )
    return rule


# The edges named in the brief, always tried besides the random rules.
EDGES = (
    # Samoa skipped 30 December 2011; the until-day is that skipped day.
    Rule.build(
        datetime(2011, 11, 1, 10),
        "Pacific/Apia",
        NthWeekday(Weekday.FR, -1),
        interval=1,
        until=date(2011, 12, 30),
    ),
    Rule.build(datetime(2011, 9, 1, 3, 30), "Pacific/Apia", NthWeekday(Weekday.SU, -1), interval=1),
    # Amsterdam's spring-forward gap and autumn overlap at 02:30 on the last Sunday.
    Rule.build(
        datetime(2027, 3, 1, 2, 30),
        "Europe/Amsterdam",
        NthWeekday(Weekday.SU, -1),
        interval=1,
        count=14,
    ),
    # Sydney's southern DST: gap on the first Sunday of October, overlap in April.
    Rule.build(
        datetime(2027, 4, 1, 2, 30),
        "Australia/Sydney",
        NthWeekday(Weekday.SU, 1),
        interval=6,
        count=6,
    ),
    Rule.build(
        datetime(2027, 3, 1, 2, 30),
        "America/New_York",
        NthWeekday(Weekday.SU, 2),
        interval=1,
        until=date(2029, 3, 11),
    ),
    Rule.build(datetime(2027, 1, 1, 10), "Asia/Kolkata", DayOfMonth(-1), interval=1, count=25),
)


def with_edges(test: Callable[[Rule], None]) -> Callable[[Rule], None]:
    """Add every edge rule as an explicit Hypothesis example."""
    for rule in EDGES:
        test = example(rule)(test)
    return test


def oracle(rule: Rule) -> list[datetime]:
    """dateutil's expansion of our own RRULE line, from an aware DTSTART."""
    dtstart = rule.first.replace(tzinfo=ZoneInfo(rule.tz))
    expanded = rrulestr(rule.to_rfc5545()[1], dtstart=dtstart)
    return list(islice(expanded, 200 if rule.count or rule.until else OPEN_ENDED))


def instants(values: list[datetime]) -> list[datetime]:
    """The same moments in UTC, so a DST-gap time compares by what it means."""
    return [value.astimezone(UTC) for value in values]


@settings(max_examples=300, deadline=None)
@with_edges
@given(rules())
def test_expansion_matches_dateutil(rule: Rule) -> None:
    """Our occurrences are the instants dateutil computes from our own RRULE."""
    expected = oracle(rule)
    ours = rule.first_n(len(expected) + 1 if rule.count or rule.until else OPEN_ENDED)
    assert instants(ours) == instants(expected)


@settings(max_examples=200, deadline=None)
@with_edges
@given(rules())
def test_rfc5545_round_trip(rule: Rule) -> None:
    """Parsing our RFC 5545 lines gives the same rule back."""
    assert Rule.from_rfc5545(rule.to_rfc5545()) == rule


@settings(max_examples=200, deadline=None)
@with_edges
@given(rules())
def test_graph_round_trip(rule: Rule) -> None:
    """Parsing our Graph patternedRecurrence with the first start time gives the same rule."""
    assert Rule.from_graph(rule.to_graph(), rule.first.time()) == rule


@settings(max_examples=150, deadline=None)
@given(rules(), st.integers(-400, 4000), st.integers(1, 3000))
def test_window_and_next_after_agree_with_the_list(rule: Rule, offset: int, length: int) -> None:
    """`occurrences` in a window and `next_after` agree with the plain list of occurrences."""
    every = rule.first_n(200)
    start = every[0] + timedelta(days=offset)
    end = start + timedelta(days=length)
    if len(every) == 200:
        end = min(end, every[-1])  # past the list's end the list cannot say
    assert rule.occurrences(start, end) == [o for o in every if start <= o < end]
    later = [o for o in every if o > start]
    if later:
        assert rule.next_after(start) == later[0]
    elif len(every) < 200:
        assert rule.next_after(start) is None
