"""The Google emulator expands RRULEs as python-dateutil and `cadence.recurrence.Rule` do."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from google_checks import GoogleApi
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from cadence.recurrence import DayOfMonth, NthWeekday, Rule, Weekday
from emulators.google import GoogleEmulator

ZONES = [
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
]
"""Northern and southern DST, no DST, and a 45-minute offset."""


def caller() -> GoogleApi:
    """A validating caller on a fresh emulator."""
    emulator = GoogleEmulator()
    return GoogleApi(Client(emulator), emulator.token("ada@example.org"))


def expand(api: GoogleApi, first: datetime, tz: str, lines: list[str]) -> list[datetime]:
    """Insert a one-hour series starting at `first` and list its instants.

    A naive `first` is the rule's wall-clock time, sent as it is (it may fall in a DST gap).
    """
    local = first if first.tzinfo is None else first.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    created = api(
        "calendar",
        "events.insert",
        calendarId="primary",
        body={
            "summary": "Reeks",
            "start": {"dateTime": local.isoformat(), "timeZone": tz},
            "end": {"dateTime": (local + timedelta(hours=1)).isoformat(), "timeZone": tz},
            "recurrence": lines,
        },
    )
    found = api(
        "calendar",
        "events.instances",
        calendarId="primary",
        eventId=created["id"],
        maxResults=2500,
    )
    assert "nextPageToken" not in found
    return [datetime.fromisoformat(e["start"]["dateTime"]) for e in found["items"]]


anchors = st.one_of(
    st.builds(NthWeekday, st.sampled_from(list(Weekday)), st.sampled_from([1, 2, 3, 4, -1])),
    st.builds(DayOfMonth, st.sampled_from([1, 5, 15, 28, -1])),
)


@settings(max_examples=40, deadline=None)
@given(
    anchor=anchors,
    tz=st.sampled_from(ZONES),
    interval=st.sampled_from([1, 2, 3, 4, 6]),
    start=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
    minute=st.integers(0, 24 * 60 - 1).map(lambda m: m - m % 15),
    count=st.integers(1, 12),
    use_until=st.booleans(),
)
def test_expansion_agrees_with_cadence_and_dateutil(
    *,
    anchor: NthWeekday | DayOfMonth,
    tz: str,
    interval: int,
    start: date,
    minute: int,
    count: int,
    use_until: bool,
) -> None:
    """Instances match Rule.first_n and dateutil's rrule in the event zone, DST included."""
    naive = datetime(start.year, start.month, start.day, minute // 60, minute % 60)
    rule = Rule.build(naive, tz, anchor, interval=interval, count=count)
    if use_until:
        last = rule.first_n(count)[-1]
        rule = rule.ending_before(last.date() + timedelta(days=1))
    lines = [line for line in rule.to_rfc5545() if not line.startswith("DTSTART")]
    found = expand(caller(), rule.first, tz, lines)
    expected = rule.first_n(count)
    assert [f.astimezone(UTC) for f in found] == [e.astimezone(UTC) for e in expected]
    wall = rule.first.replace(tzinfo=ZoneInfo(tz))
    by_dateutil = list(rrulestr(lines[0].removeprefix("RRULE:"), dtstart=wall))
    assert [f.astimezone(UTC) for f in found] == [d.astimezone(UTC) for d in by_dateutil]


def test_bymonthday_31_skips_short_months() -> None:
    """BYMONTHDAY=31 lands only in months with a 31st (RFC 5545); -1 is every month's last."""
    api = caller()
    first = datetime(2027, 1, 31, 9, tzinfo=ZoneInfo("Europe/Amsterdam"))
    on_31 = expand(api, first, "Europe/Amsterdam", ["RRULE:FREQ=MONTHLY;BYMONTHDAY=31;COUNT=6"])
    assert [(d.month, d.day) for d in on_31] == [
        (1, 31),
        (3, 31),
        (5, 31),
        (7, 31),
        (8, 31),
        (10, 31),
    ]
    last = expand(api, first, "Europe/Amsterdam", ["RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4"])
    assert [(d.month, d.day) for d in last] == [(1, 31), (2, 28), (3, 31), (4, 30)]
    assert {d.hour for d in on_31 + last} == {9}


def test_wall_clock_kept_across_dst_and_gap() -> None:
    """Weekly at 02:30 Amsterdam keeps 02:30, and the spring-forward gap shows 03:30."""
    api = caller()
    zone = ZoneInfo("Europe/Amsterdam")
    first = datetime(2027, 3, 21, 2, 30, tzinfo=zone)
    found = expand(api, first, "Europe/Amsterdam", ["RRULE:FREQ=WEEKLY;COUNT=3"])
    local = [f.astimezone(zone) for f in found]
    assert [(d.day, d.hour, d.minute) for d in local] == [(21, 2, 30), (28, 3, 30), (4, 2, 30)]


def test_exdate_and_rdate_lines() -> None:
    """EXDATE removes an occurrence and RDATE adds one, each in the event's zone."""
    api = caller()
    zone = ZoneInfo("Europe/Amsterdam")
    first = datetime(2027, 1, 4, 10, tzinfo=zone)
    found = expand(
        api,
        first,
        "Europe/Amsterdam",
        [
            "RRULE:FREQ=WEEKLY;COUNT=3",
            "EXDATE;TZID=Europe/Amsterdam:20270111T100000",
            "RDATE:20270113T090000Z",
        ],
    )
    assert [f.astimezone(zone).day for f in found] == [4, 13, 18]
