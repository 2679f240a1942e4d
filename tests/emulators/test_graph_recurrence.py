"""Recurrence expansion in the Graph emulator agrees with cadence and with python-dateutil.

Where Exchange and RFC 5545 differ (``dayOfMonth`` past the month's end) the emulator keeps
Exchange's meaning, and a test says so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from dateutil import rrule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.recurrence import DayOfMonth, NthWeekday, Rule, Weekday, localize
from emulators import _graph_recurrence as rr
from emulators._graph_check import CheckedClient
from emulators.graph import GraphEmulator

ZONES = [
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Europe/London",
    "UTC",
]
"""Zones with DST on either hemisphere, and one without."""

WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2036, 1, 1, tzinfo=UTC))


def expand_over_http(rule: Rule, minutes: int = 45) -> list[datetime]:
    """Create the rule's series in a fresh emulator and read its instances back as instants."""
    emulator = GraphEmulator()
    client = CheckedClient(emulator, "ada@example.org")
    start = rule.first
    end = start + timedelta(minutes=minutes)
    body = {
        "subject": "Reeks",
        "start": {"dateTime": start.isoformat(), "timeZone": rule.tz},
        "end": {"dateTime": end.isoformat(), "timeZone": rule.tz},
        "recurrence": rule.to_graph(),
    }
    master = client.call("POST", "/me/events", "event", json=body).get_json()
    query = "startDateTime=2026-01-01T00:00:00Z&endDateTime=2036-01-01T00:00:00Z"
    found: list[datetime] = []
    url: str | None = f"/me/events/{master['id']}/instances?{query}"
    for _ in range(100):
        if url is None:
            break
        page = client.call("GET", url, "events", headers={"Prefer": "odata.maxpagesize=50"})
        for item in page.get_json()["value"]:
            found.append(datetime.fromisoformat(item["start"]["dateTime"][:19]).replace(tzinfo=UTC))
        link = page.get_json().get("@odata.nextLink")
        url = link.split("/v1.0", 1)[1] if link else None
    return found


anchors = st.one_of(
    st.builds(NthWeekday, st.sampled_from(list(Weekday)), st.sampled_from([1, 2, 3, 4, -1])),
    st.builds(DayOfMonth, st.sampled_from([1, 2, 15, 28, -1])),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    anchor=anchors,
    tz=st.sampled_from(ZONES),
    interval=st.sampled_from([1, 2, 3, 4, 6]),
    day=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
    minute=st.integers(0, 24 * 60 - 1).map(lambda m: m - m % 15),
    end=st.one_of(st.integers(1, 30), st.dates(date(2026, 1, 1), date(2035, 12, 31)), st.none()),
)
def test_instances_agree_with_cadence(
    *,
    anchor: NthWeekday | DayOfMonth,
    tz: str,
    interval: int,
    day: date,
    minute: int,
    end: int | date | None,
) -> None:
    """Every rule cadence models expands to the same instants through the emulator."""
    start = datetime.combine(day, time(minute // 60, minute % 60))
    count = end if isinstance(end, int) else None
    until = end if isinstance(end, date) and end >= day + timedelta(days=31) else None
    rule = Rule.build(start, tz, anchor, interval=interval, count=count, until=until)
    expected = [o.astimezone(UTC) for o in rule.occurrences(*WINDOW)]
    assert expand_over_http(rule) == expected


def test_day_31_falls_on_the_last_day_of_shorter_months() -> None:
    """absoluteMonthly dayOfMonth 31 is Exchange's last day of the month (RFC 5545 would skip)."""
    rec = rr.parse(
        {
            "pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
            "range": {"type": "numbered", "startDate": "2027-01-31", "numberOfOccurrences": 5},
        },
        "UTC",
    )
    assert list(rr.dates(rec)) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    rfc = rrule.rrule(rrule.MONTHLY, bymonthday=31, count=3, dtstart=datetime(2027, 1, 31))
    assert [d.date() for d in rfc] == [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31)]
    rule = Rule.build(
        datetime(2027, 1, 31, 9), "Europe/Amsterdam", DayOfMonth(-1), interval=1, count=4
    )
    assert [o.date() for o in expand_over_http(rule)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]


def test_wall_clock_kept_across_dst_and_gap() -> None:
    """Occurrences keep 02:30 local; on a spring-forward day it becomes 03:30 (past the gap)."""
    rec = rr.parse(
        {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2027-03-27", "numberOfOccurrences": 3},
        },
        "Europe/Amsterdam",
    )
    found = list(rr.occurrences(rec, time(2, 30), "Europe/Amsterdam", WINDOW))
    assert [o.strftime("%d %H:%M %z") for o in found] == [
        "27 02:30 +0100",
        "28 03:30 +0200",
        "29 02:30 +0200",
    ]


def test_series_first_start_in_the_gap_moves_alone() -> None:
    """A master given 02:00 on a spring-forward day starts at 03:00; later ones keep 02:00."""
    rule = Rule.build(
        datetime(2027, 3, 1, 2, 0), "Europe/Amsterdam", NthWeekday(Weekday.SU, 4), interval=1
    )
    expected = [
        datetime(2027, 3, 28, 1, tzinfo=UTC),
        datetime(2027, 4, 25, 0, tzinfo=UTC),
        datetime(2027, 5, 23, 0, tzinfo=UTC),
    ]
    assert expand_over_http(replace(rule, count=3)) == expected
    assert [o.astimezone(UTC) for o in rule.first_n(3)] == expected


def test_a_new_range_keeps_the_wall_clock_given() -> None:
    """Lengthening a series whose first start is in the gap keeps the later ones at 02:00."""
    client = CheckedClient(GraphEmulator(), "ada@example.org")
    rule = Rule.build(
        datetime(2027, 3, 1, 2, 0), "Europe/Amsterdam", NthWeekday(Weekday.SU, 4), count=2
    )
    body = {
        "start": {"dateTime": "2027-03-28T02:00:00", "timeZone": rule.tz},
        "end": {"dateTime": "2027-03-28T04:00:00", "timeZone": rule.tz},
        "recurrence": rule.to_graph(),
    }
    master = client.call("POST", "/me/events", "event", json=body).get_json()
    longer = {"recurrence": replace(rule, count=3).to_graph(), "subject": "Nachtdienst"}
    client.call("PATCH", f"/me/events/{master['id']}", "event", json=longer)
    query = "startDateTime=2027-01-01T00:00:00Z&endDateTime=2028-01-01T00:00:00Z"
    page = client.call("GET", f"/me/events/{master['id']}/instances?{query}", "events").get_json()
    assert [(i["start"]["dateTime"][:16], i["end"]["dateTime"][:16]) for i in page["value"]] == [
        ("2027-03-28T01:00", "2027-03-28T02:00"),
        ("2027-06-27T00:00", "2027-06-27T01:00"),
        ("2027-09-26T00:00", "2027-09-26T01:00"),
    ]


_DAYS = [rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU]
_INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


def dateutil_rule(rec: rr.Recurrence) -> rrule.rrule:
    """The same rule in dateutil, for the cases where RFC 5545 means the same."""
    kwargs: dict[str, Any] = {
        "interval": rec.interval,
        "dtstart": datetime.combine(rec.start_date, time()),
        "wkst": _DAYS[rec.first_day_of_week],
    }
    if rec.count:
        kwargs["count"] = rec.count
    if rec.end_date:
        kwargs["until"] = datetime.combine(rec.end_date, time(23, 59))
    days = [_DAYS[d] for d in rec.days]
    if rec.kind == "daily":
        return rrule.rrule(rrule.DAILY, **kwargs)
    if rec.kind == "weekly":
        return rrule.rrule(rrule.WEEKLY, byweekday=days, **kwargs)
    if rec.kind == "absoluteMonthly":
        return rrule.rrule(rrule.MONTHLY, bymonthday=rec.day_of_month, **kwargs)
    if rec.kind == "relativeMonthly":
        return rrule.rrule(rrule.MONTHLY, byweekday=days, bysetpos=_INDEX[rec.index], **kwargs)
    if rec.kind == "absoluteYearly":
        return rrule.rrule(rrule.YEARLY, bymonth=rec.month, bymonthday=rec.day_of_month, **kwargs)
    return rrule.rrule(
        rrule.YEARLY, bymonth=rec.month, byweekday=days, bysetpos=_INDEX[rec.index], **kwargs
    )


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(rr.PATTERNS),
    interval=st.integers(1, 4),
    days=st.sets(st.sampled_from(rr.DAYS), min_size=1, max_size=3),
    day_of_month=st.integers(1, 28),
    month=st.integers(1, 12),
    index=st.sampled_from(rr.INDEXES),
    first_day=st.sampled_from(["sunday", "monday"]),
    start=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    end=st.one_of(st.integers(1, 25), st.integers(20, 900)),
)
def test_patterns_agree_with_dateutil(
    *,
    kind: str,
    interval: int,
    days: set[str],
    day_of_month: int,
    month: int,
    index: str,
    first_day: str,
    start: date,
    end: int,
) -> None:
    """Every Graph pattern gives dateutil's dates where RFC 5545 means the same thing."""
    range_: dict[str, Any] = {"startDate": start.isoformat()}
    if end <= 25:
        range_.update(type="numbered", numberOfOccurrences=end)
    else:
        range_.update(type="endDate", endDate=(start + timedelta(days=end)).isoformat())
    rec = rr.parse(
        {
            "pattern": {
                "type": kind,
                "interval": interval,
                "daysOfWeek": sorted(days),
                "dayOfMonth": day_of_month,
                "month": month,
                "index": index,
                "firstDayOfWeek": first_day,
            },
            "range": range_,
        },
        "Europe/Amsterdam",
    )
    ours = list(rr.dates(rec))
    theirs = [d.date() for d in dateutil_rule(rec)]
    assert ours == theirs


@pytest.mark.parametrize("tz", ZONES)
def test_occurrences_are_localized_like_cadence(tz: str) -> None:
    """Each occurrence is the local time localized with cadence's DST rule."""
    rec = rr.parse(
        {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["sunday"]},
            "range": {"type": "endDate", "startDate": "2027-01-01", "endDate": "2027-12-31"},
        },
        tz,
    )
    found = list(rr.occurrences(rec, time(2, 30), tz, WINDOW))
    assert len(found) == 52
    assert found == [localize(datetime.combine(o.date(), time(2, 30)), tz) for o in found]


def test_no_end_is_bounded_by_the_window() -> None:
    """A rule without end expands only within the asked window, even far in the future."""
    rec = rr.parse(
        {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "noEnd", "startDate": "2027-01-01"},
        },
        "UTC",
    )
    window = (datetime(2400, 1, 1, tzinfo=UTC), datetime(2400, 1, 4, tzinfo=UTC))
    assert [o.day for o in rr.occurrences(rec, time(9), "UTC", window)] == [1, 2, 3]


@pytest.mark.parametrize(
    "bad",
    [
        {"pattern": {"type": "weekly"}, "range": {"type": "noEnd", "startDate": "2027-01-01"}},
        {
            "pattern": {"type": "daily", "interval": 0},
            "range": {"type": "noEnd", "startDate": "2027-01-01"},
        },
        {
            "pattern": {"type": "absoluteYearly", "dayOfMonth": 3},
            "range": {"type": "noEnd", "startDate": "2027-01-01"},
        },
        {"pattern": {"type": "daily"}, "range": {"type": "numbered", "startDate": "2027-01-01"}},
        {
            "pattern": {"type": "daily"},
            "range": {"type": "endDate", "startDate": "2027-01-02", "endDate": "2027-01-01"},
        },
        {
            "pattern": {"type": "relativeMonthly", "daysOfWeek": ["monday"], "index": "fifth"},
            "range": {"type": "noEnd", "startDate": "2027-01-01"},
        },
    ],
)
def test_bad_recurrences_are_refused(bad: dict[str, Any]) -> None:
    """Missing days, a zero interval, no month, no count, an end before start, a fifth week."""
    with pytest.raises(rr.RecurrenceError):
        rr.parse(bad, "UTC")
