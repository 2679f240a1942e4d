"""Tests for the planner `cadence.planning.plan`: fits, holidays, busy time, zones, no fit."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cadence.errors import CadenceError, InvalidPreferences
from cadence.holidays import holiday_name, public_holidays
from cadence.model import Locale, Pair, Person
from cadence.planning import (
    Availability,
    Clash,
    Interval,
    Preferences,
    WorkingHours,
    plan,
)
from cadence.recurrence import NthWeekday, Weekday

AMS = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
ADA = Person("e-1", "Ada", "ada@example.nl")
GRACE = Person("m-1", "Grace", "grace@example.nl", locale=Locale.EN)
PAIR = Pair(ADA, GRACE)
TUESDAY_MORNING = Preferences(frozenset({Weekday.TU}), time(10), time(12))


def at(*args: int, tz: ZoneInfo = AMS) -> datetime:
    """An aware datetime in Amsterdam (or `tz`)."""
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


def person(
    who: Person, tz: str = "Europe/Amsterdam", busy: tuple[Interval, ...] = ()
) -> Availability:
    """Someone working 09:00-17:00, Monday to Friday, in `tz`."""
    return Availability(who, WorkingHours(tz), busy)


def every_tuesday(
    start: date, end: date, hours: tuple[int, int], tz: ZoneInfo = AMS
) -> tuple[Interval, ...]:
    """Busy every Tuesday from `start` to `end` between the given hours."""
    day = start + timedelta(days=(Weekday.TU - start.weekday()) % 7)
    found = []
    while day <= end:
        found.append(
            Interval(
                datetime.combine(day, time(hours[0]), tzinfo=tz),
                datetime.combine(day, time(hours[1]), tzinfo=tz),
            )
        )
        day += timedelta(days=7)
    return tuple(found)


def test_fits_with_the_brief_sentence() -> None:
    """Free calendars give the second Tuesday at 10:00 and the brief's own sentence."""
    proposal = plan(PAIR, person(ADA), person(GRACE), TUESDAY_MORNING, now=at(2027, 1, 1, 9))
    assert proposal.fits
    assert proposal.rule.anchor == NthWeekday(Weekday.TU, 2)
    assert proposal.rule.first == datetime(2027, 1, 12, 10)
    assert proposal.rule.interval == 3
    assert [o.date() for o in proposal.occurrences] == [
        date(2027, 1, 12),
        date(2027, 4, 13),
        date(2027, 7, 13),
        date(2027, 10, 12),
    ]
    assert proposal.clashes == ()
    assert proposal.explanation == (
        "Elke 3 maanden op de tweede dinsdag om 10:00, de eerste op 12 januari 2027: "
        "alle vier de gesprekken passen in beide agenda's."
    )


def test_english_explanation_and_count() -> None:
    """In English, with a count of two, the sentence speaks of both conversations."""
    proposal = plan(
        PAIR,
        person(ADA),
        person(GRACE),
        TUESDAY_MORNING,
        now=at(2027, 1, 1, 9),
        locale="en",
        count=2,
    )
    assert proposal.rule.count == 2
    assert len(proposal.occurrences) == 2
    assert proposal.explanation == (
        "Every 3 months on the second Tuesday at 10:00, the first on 12 January 2027: "
        "both conversations fit both calendars."
    )


@pytest.mark.parametrize(
    "viewer,locale,expected",
    [
        (
            "America/New_York",
            "en",
            "Every 3 months on the second Tuesday at 10:00 (Europe/Amsterdam; 04:00 for you in "
            "America/New_York), the first on 12 January 2027: ",
        ),
        (
            "America/New_York",
            "nl",
            "Elke 3 maanden op de tweede dinsdag om 10:00 (Europe/Amsterdam; voor jou 04:00 in "
            "America/New_York), de eerste op 12 januari 2027: ",
        ),
        (
            "Pacific/Honolulu",
            "en",
            "Every 3 months on the second Tuesday at 10:00 (Europe/Amsterdam; Monday 11 January "
            "2027, 23:00 for you in Pacific/Honolulu), the first on 12 January 2027: ",
        ),
    ],
)
def test_a_reader_in_another_zone_gets_their_own_time_and_both_zones_named(
    viewer: str, locale: str, expected: str
) -> None:
    """The sentence names the pair's zone and the reader's, with the reader's clock time."""
    proposal = plan(
        PAIR,
        person(ADA),
        person(GRACE),
        TUESDAY_MORNING,
        now=at(2027, 1, 1, 9),
        locale=locale,
        viewer_tz=viewer,
    )
    assert proposal.explanation.startswith(expected)


def test_a_reader_on_the_pairs_clock_gets_the_plain_sentence() -> None:
    """Same zone, or another zone with the same clock, changes nothing in the sentence."""
    plain = plan(PAIR, person(ADA), person(GRACE), TUESDAY_MORNING, now=at(2027, 1, 1, 9))
    for viewer in ("Europe/Amsterdam", "Europe/Paris"):
        same = plan(
            PAIR,
            person(ADA),
            person(GRACE),
            TUESDAY_MORNING,
            now=at(2027, 1, 1, 9),
            viewer_tz=viewer,
        )
        assert same.explanation == plain.explanation


def test_first_is_a_week_after_now() -> None:
    """The first conversation leaves at least seven days to prepare."""
    proposal = plan(PAIR, person(ADA), person(GRACE), TUESDAY_MORNING, now=at(2027, 1, 6, 9))
    assert proposal.rule.first == datetime(2027, 1, 19, 10)


def test_koningsdag_is_avoided() -> None:
    """The fourth and last Tuesday of January lead to Koningsdag (27 April): the next is chosen."""
    assert holiday_name(date(2027, 4, 27)) == "Koningsdag"
    proposal = plan(PAIR, person(ADA), person(GRACE), TUESDAY_MORNING, now=at(2027, 1, 14, 9))
    assert proposal.fits
    assert proposal.rule.first == datetime(2027, 2, 2, 10)
    assert date(2027, 4, 27) not in [o.date() for o in proposal.occurrences]


def test_days_between_christmas_and_new_year_are_avoided() -> None:
    """The fourth Tuesday of September leads to 28 December: the first Tuesday of October wins."""
    proposal = plan(PAIR, person(ADA), person(GRACE), TUESDAY_MORNING, now=at(2027, 9, 20, 9))
    assert proposal.rule.first == datetime(2027, 10, 5, 10)
    allowed = plan(
        PAIR,
        person(ADA),
        person(GRACE),
        TUESDAY_MORNING,
        now=at(2027, 9, 20, 9),
        skip_year_end=False,
    )
    assert allowed.rule.first == datetime(2027, 9, 28, 10)


def test_christmas_day_is_a_holiday_clash() -> None:
    """Christmas Day is a public holiday, named as the clash reason when nothing else fits."""
    prefs = Preferences(frozenset({Weekday.TU}), time(10), time(11), interval=1)
    busy = every_tuesday(date(2029, 12, 1), date(2030, 4, 30), (10, 11))
    busy = tuple(b for b in busy if b.start.date() != date(2029, 12, 25))
    proposal = plan(
        PAIR, person(ADA), person(GRACE, busy=busy), prefs, now=at(2029, 12, 17, 9), count=1
    )
    assert not proposal.fits
    assert proposal.clashes == (Clash(at(2029, 12, 25, 10), "Eerste kerstdag (feestdag)"),)


def test_busy_time_is_avoided() -> None:
    """A busy hour at 10:00 on one occurrence moves the series to 11:00, where both are free."""
    busy = (Interval(at(2027, 4, 13, 10), at(2027, 4, 13, 11)),)
    proposal = plan(
        PAIR, person(ADA), person(GRACE, busy=busy), TUESDAY_MORNING, now=at(2027, 1, 1, 9)
    )
    assert proposal.fits
    assert proposal.rule.first == datetime(2027, 1, 12, 11)


def test_employee_busy_time_counts_too() -> None:
    """The employee's own busy time is avoided just like the manager's."""
    busy = every_tuesday(date(2027, 1, 1), date(2027, 12, 31), (10, 11))
    proposal = plan(
        PAIR, person(ADA, busy=busy), person(GRACE), TUESDAY_MORNING, now=at(2027, 1, 1, 9)
    )
    assert proposal.rule.first == datetime(2027, 1, 12, 11)


def test_manager_in_new_york_limits_the_window() -> None:
    """A manager working 09-17 in New York can only meet from 15:00 Amsterdam time."""
    prefs = Preferences(frozenset({Weekday.TU}), time(9), time(17))
    manager = person(GRACE, "America/New_York")
    proposal = plan(PAIR, person(ADA), manager, prefs, now=at(2027, 1, 1, 9))
    assert proposal.fits
    assert proposal.rule.first == datetime(2027, 1, 12, 15)
    for occurrence in proposal.occurrences:
        assert occurrence.astimezone(NEW_YORK).time() >= time(9)


def test_no_fit_lists_the_clashes() -> None:
    """When every candidate clashes, the one with the fewest clashes comes with its dates."""
    busy = every_tuesday(date(2027, 7, 1), date(2027, 9, 30), (9, 13))
    proposal = plan(
        PAIR, person(ADA), person(GRACE, busy=busy), TUESDAY_MORNING, now=at(2027, 1, 1, 9)
    )
    assert not proposal.fits
    assert proposal.rule.first == datetime(2027, 1, 12, 10)
    assert proposal.clashes == (Clash(at(2027, 7, 13, 10), "Grace is bezet"),)
    assert proposal.explanation == (
        "Elke 3 maanden op de tweede dinsdag om 10:00, de eerste op 12 januari 2027: "
        "geen tijdstip past elke keer, dit voorstel botst op 13 juli 2027."
    )


def test_no_fit_in_english_names_every_date() -> None:
    """The English clash sentence joins several dates with 'and'."""
    prefs = Preferences(frozenset({Weekday.TU}), time(10), time(11), interval=1)
    busy = every_tuesday(date(2027, 1, 1), date(2027, 12, 31), (10, 11))
    proposal = plan(
        PAIR, person(ADA), person(GRACE, busy=busy), prefs, now=at(2027, 1, 1, 9), locale="en"
    )
    assert not proposal.fits
    assert {clash.reason for clash in proposal.clashes} == {"Grace is busy"}
    assert proposal.explanation.endswith(
        "this proposal clashes on 12 January 2027, 9 February 2027, 9 March 2027 and 13 April 2027."
    )


def test_determinism() -> None:
    """The same input, with busy intervals in another order, gives the same proposal.

    January's second Tuesday clashes at 10:00, 10:30 and 11:00, the third is busy all day and
    the fourth leads to Koningsdag, so the first Tuesday of February is the earliest fit.
    """
    busy = (
        Interval(at(2027, 4, 13, 10), at(2027, 4, 13, 11)),
        Interval(at(2027, 1, 19, 9), at(2027, 1, 19, 17)),
        Interval(at(2027, 7, 13, 11), at(2027, 7, 13, 12)),
    )
    first = plan(
        PAIR, person(ADA), person(GRACE, busy=busy), TUESDAY_MORNING, now=at(2027, 1, 1, 9)
    )
    again = plan(
        PAIR, person(ADA), person(GRACE, busy=busy[::-1]), TUESDAY_MORNING, now=at(2027, 1, 1, 9)
    )
    assert first == again
    assert first.rule.first == datetime(2027, 2, 2, 10)


def test_a_year_of_busy_time_plans_fast() -> None:
    """A year of busy intervals for both and hundreds of candidates plan well under a second."""
    busy = []
    for offset in range(365):
        day = date(2027, 1, 1) + timedelta(days=offset)
        for hour in (8, 11, 13, 16):
            start = datetime.combine(day, time(hour, 15), tzinfo=AMS)
            busy.append(Interval(start, start + timedelta(minutes=75)))
    prefs = Preferences(frozenset(Weekday), time(8), time(18), duration=90)
    started = clock.perf_counter()
    proposal = plan(
        PAIR,
        person(ADA, busy=tuple(busy)),
        person(GRACE, "America/New_York", busy=tuple(busy)),
        prefs,
        now=at(2027, 1, 1, 9),
    )
    elapsed = clock.perf_counter() - started
    assert not proposal.fits
    assert elapsed < 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": 15}, "duration must be 30-120 minutes, got 15"),
        ({"duration": 150}, "duration must be 30-120 minutes, got 150"),
        ({"latest": time(10, 30)}, "does not fit between 10:00 and 10:30"),
        ({"weekdays": frozenset()}, "at least one weekday"),
        ({"weekdays": frozenset({9})}, "weekdays must be weekdays 0-6"),
        ({"interval": 5}, "interval must be 1, 2, 3, 4 or 6 months, got 5"),
    ],
)
def test_bad_preferences(kwargs: dict[str, object], message: str) -> None:
    """Preferences out of range are refused, saying what to change."""
    values: dict[str, object] = {
        "weekdays": frozenset({Weekday.TU}),
        "earliest": time(10),
        "latest": time(12),
        **kwargs,
    }
    with pytest.raises(InvalidPreferences, match=message):
        Preferences(**values)  # type: ignore[arg-type]


def test_bad_inputs_are_refused() -> None:
    """Naive `now`, backwards busy intervals and backwards working hours are refused."""
    with pytest.raises(CadenceError, match="now must be an aware datetime"):
        plan(PAIR, person(ADA), person(GRACE), TUESDAY_MORNING, now=datetime(2027, 1, 1))
    with pytest.raises(CadenceError, match="must end after it starts"):
        Interval(at(2027, 1, 1, 10), at(2027, 1, 1, 9))
    with pytest.raises(CadenceError, match="working hours must end after they start"):
        WorkingHours("Europe/Amsterdam", start=time(17), end=time(9))
    with pytest.raises(CadenceError, match="unknown country 'XX'"):
        plan(PAIR, person(ADA), person(GRACE), TUESDAY_MORNING, now=at(2027, 1, 1), country="XX")


def test_holidays_in_english_and_other_countries() -> None:
    """Holiday names follow the locale; another country has its own holidays."""
    assert public_holidays("NL", 2027, "en")[date(2027, 4, 27)] == "King's Day"
    assert holiday_name(date(2027, 7, 4), "US", "en") is not None
    assert holiday_name(date(2027, 4, 27), "BE") is None
