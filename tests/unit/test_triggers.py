"""Triggers: what is due when, to whom, under which key, and when it goes stale."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.conversation import Actor, Agenda, Record, Theme
from cadence.errors import CadenceError
from cadence.model import Pair, Person, Role, Series
from cadence.recurrence import NthWeekday, Rule, Weekday
from cadence.triggers import (
    CadenceReason,
    Offsets,
    Trigger,
    TriggerKind,
    due_triggers,
    held_occurrences,
    working_days_before,
)

AMS = ZoneInfo("Europe/Amsterdam")
ADA = Person("ada", "Ada", "ada@example.org")
GRACE = Person("grace", "Grace", "grace@example.org")
PAIR = Pair(ADA, GRACE)
# Second Tuesday every 3 months from 12 January 2027, 10:00 Amsterdam (09:00 UTC), 60 minutes.
JAN = datetime(2027, 1, 12, 10, 0, tzinfo=AMS)
APR = datetime(2027, 4, 13, 10, 0, tzinfo=AMS)
JUL = datetime(2027, 7, 13, 10, 0, tzinfo=AMS)
OCT = datetime(2027, 10, 12, 10, 0, tzinfo=AMS)
JAN28 = datetime(2028, 1, 11, 10, 0, tzinfo=AMS)
THEMES = (Theme("personal", "Persoonlijk"),)


def series(**rule: int) -> Series:
    """The pair's series, with optional rule settings (interval, count)."""
    return Series(
        "s1",
        PAIR,
        Rule.build(
            datetime(2027, 1, 12, 10, 0), "Europe/Amsterdam", NthWeekday(Weekday.TU, 2), **rule
        ),
    )


def utc(*args: int) -> datetime:
    """A UTC instant."""
    return datetime(*args, tzinfo=UTC)


def kinds(triggers: list[Trigger], kind: TriggerKind) -> list[Trigger]:
    """The triggers of one kind."""
    return [t for t in triggers if t.kind is kind]


def meeting(now: datetime, **kw: Any) -> list[tuple[str, str, datetime, tuple[str, ...]]]:
    """Meeting triggers (no cadence) as (kind, key, due, recipient ids)."""
    return [
        (t.kind.value, t.key, t.due, tuple(p.id for p in t.recipients))
        for t in due_triggers(series(), now, **kw)
        if t.kind is not TriggerKind.CADENCE
    ]


# -- prepare ------------------------------------------------------------------------------------


def test_prepare_reminder_is_due_seven_days_before() -> None:
    """The employee is reminded 7 days before, keyed by series and occurrence in UTC."""
    assert meeting(utc(2027, 1, 5, 9, 0)) == [
        ("prepare", "prepare:s1:2027-01-12T09:00:00Z", utc(2027, 1, 5, 9, 0), ("ada",))
    ]


def test_prepare_reminder_is_not_due_a_minute_early() -> None:
    """Before its instant nothing is due."""
    assert meeting(utc(2027, 1, 5, 8, 59)) == []


def test_prepare_reminder_is_stale_once_the_meeting_starts() -> None:
    """After the start a reminder to prepare is pointless."""
    assert kinds(due_triggers(series(), utc(2027, 1, 12, 9, 0)), TriggerKind.PREPARE) == []


def test_prepare_reminder_is_dropped_once_the_agenda_is_shared() -> None:
    """A shared agenda means the employee prepared: no prepare or deadline trigger."""
    ada = Actor("ada", Role.EMPLOYEE)
    agenda = Agenda("s1", JAN, THEMES).share(by=ada, now=utc(2027, 1, 4))
    assert meeting(utc(2027, 1, 11, 9, 0), agendas=[agenda]) == []


def test_prepare_offset_is_configurable() -> None:
    """A 14-day prepare offset makes the reminder due a week earlier."""
    found = due_triggers(
        series(), utc(2026, 12, 29, 9, 0), offsets=Offsets(prepare=timedelta(days=14))
    )
    assert [t.due for t in kinds(found, TriggerKind.PREPARE)] == [utc(2026, 12, 29, 9, 0)]


# -- agenda deadline ------------------------------------------------------------------------------


def test_agenda_deadline_skips_the_weekend() -> None:
    """Two working days before a Tuesday 10:00 is the Friday before at 10:00, to the manager."""
    found = kinds(due_triggers(series(), utc(2027, 1, 8, 9, 0)), TriggerKind.AGENDA)
    assert [(t.key, t.due, t.recipients) for t in found] == [
        ("agenda:s1:2027-01-12T09:00:00Z", utc(2027, 1, 8, 9, 0), (GRACE,))
    ]
    assert kinds(due_triggers(series(), utc(2027, 1, 8, 8, 59)), TriggerKind.AGENDA) == []


def test_agenda_deadline_skips_holidays() -> None:
    """A holiday on the Friday moves the deadline to Thursday."""
    found = due_triggers(series(), utc(2027, 1, 7, 9, 0), holidays={date(2027, 1, 8)})
    assert [t.due for t in kinds(found, TriggerKind.AGENDA)] == [utc(2027, 1, 7, 9, 0)]


def test_working_days_before_keeps_wall_clock_across_dst() -> None:
    """Tuesday 30 March 2027 10:00 CEST gives Friday 26 March 10:00 CET (09:00 UTC)."""
    start = datetime(2027, 3, 30, 10, 0, tzinfo=AMS)
    assert working_days_before(start, 2) == datetime(2027, 3, 26, 10, 0, tzinfo=AMS)
    assert working_days_before(start, 2).astimezone(UTC) == utc(2027, 3, 26, 9, 0)


def test_working_days_before_over_easter() -> None:
    """Good Friday and Easter Monday as holidays: 2 working days before Wednesday is Wednesday."""
    start = datetime(2027, 3, 31, 10, 0, tzinfo=AMS)
    holidays = {date(2027, 3, 26), date(2027, 3, 29)}
    assert working_days_before(start, 2, holidays).date() == date(2027, 3, 25)


def test_working_days_before_refuses_zero() -> None:
    """At least one working day."""
    with pytest.raises(CadenceError, match="days must be 1 or more, got 0"):
        working_days_before(JAN, 0)


# -- post-meeting prompt ------------------------------------------------------------------------


def test_record_prompt_is_due_ten_minutes_after_the_end() -> None:
    """Both partners are asked for the record at end + 10 minutes."""
    assert meeting(utc(2027, 1, 12, 10, 10)) == [
        ("record", "record:s1:2027-01-12T09:00:00Z", utc(2027, 1, 12, 10, 10), ("ada", "grace"))
    ]
    assert meeting(utc(2027, 1, 12, 10, 9)) == []


def test_record_prompt_is_dropped_once_a_record_exists() -> None:
    """A record of the occurrence means the prompt was answered."""
    assert meeting(utc(2027, 1, 13), records=[Record("s1", JAN)]) == []


def test_record_prompt_is_stale_after_seven_days() -> None:
    """A week after the prompt, an old meeting is left to the next conversation."""
    assert meeting(utc(2027, 1, 19, 10, 9))
    assert meeting(utc(2027, 1, 19, 10, 10)) == []


# -- cancelled and moved occurrences ------------------------------------------------------------


def test_a_cancelled_occurrence_triggers_nothing() -> None:
    """No reminder or prompt for a cancelled occurrence."""
    assert meeting(utc(2027, 1, 8, 9, 0), cancelled={JAN}) == []
    assert meeting(utc(2027, 1, 12, 10, 10), cancelled={JAN}) == []


def test_a_moved_occurrence_keeps_its_key_and_follows_the_new_start() -> None:
    """Reminders follow the new start; the key still names the rule's start."""
    moved = {JAN: datetime(2027, 1, 14, 10, 0, tzinfo=AMS)}
    found = meeting(utc(2027, 1, 14, 10, 10), moved=moved)
    assert found == [
        ("record", "record:s1:2027-01-12T09:00:00Z", utc(2027, 1, 14, 10, 10), ("ada", "grace"))
    ]


def test_a_moved_start_in_utc_counts_working_days_in_the_series_zone() -> None:
    """A moved start given in UTC gets the same agenda deadline as the same instant in the zone."""
    akl = ZoneInfo("Pacific/Auckland")
    kiwi = Pair(
        Person("ada", "Ada", "ada@example.org", tz="Pacific/Auckland"),
        Person("grace", "Grace", "grace@example.org", tz="Pacific/Auckland"),
    )
    rule = Rule.build(datetime(2027, 1, 12, 9, 0), "Pacific/Auckland", NthWeekday(Weekday.TU, 2))
    occurrence = datetime(2027, 1, 12, 9, 0, tzinfo=akl)
    # Monday 18 January 09:00 in Auckland is Sunday 17 January 20:00 in UTC.
    new_start = datetime(2027, 1, 18, 9, 0, tzinfo=akl).astimezone(UTC)
    found = kinds(
        due_triggers(
            Series("s1", kiwi, rule),
            datetime(2027, 1, 17, 0, 0, tzinfo=akl),
            moved={occurrence: new_start},
        ),
        TriggerKind.AGENDA,
    )
    assert [t.due for t in found] == [datetime(2027, 1, 14, 9, 0, tzinfo=akl)]


# -- acceptance reminder --------------------------------------------------------------------------


def proposed_record(at: datetime) -> Record:
    """A record of JAN with one agreement proposed at `at` and accepted by the employee."""
    ada = Actor("ada", Role.EMPLOYEE)
    r = Record("s1", JAN).add_agreement("Cursus in Q2", by=ada, now=at)
    return r.propose("ag1", by=ada, now=at).accept("ag1", by=ada, now=at)


def test_acceptance_reminder_goes_to_who_has_not_accepted() -> None:
    """Five days after the proposal, the manager who has not accepted is reminded."""
    proposal = utc(2027, 1, 12, 11, 0)
    found = kinds(
        due_triggers(series(), utc(2027, 1, 17, 11, 0), records=[proposed_record(proposal)]),
        TriggerKind.ACCEPT,
    )
    assert [(t.key, t.due, t.recipients, t.agreement_id) for t in found] == [
        (
            "accept:s1:2027-01-12T09:00:00Z:ag1:2027-01-12T11:00:00Z",
            utc(2027, 1, 17, 11, 0),
            (GRACE,),
            "ag1",
        )
    ]


def test_acceptance_reminder_not_before_five_days_nor_after_the_window() -> None:
    """Not due before five days; stale fourteen days after it became due."""
    records = [proposed_record(utc(2027, 1, 12, 11, 0))]
    for now in (utc(2027, 1, 17, 10, 59), utc(2027, 1, 31, 11, 0)):
        assert kinds(due_triggers(series(), now, records=records), TriggerKind.ACCEPT) == []


def test_acceptance_reminder_ends_when_final() -> None:
    """A final agreement needs no reminder."""
    grace = Actor("grace", Role.MANAGER)
    r = proposed_record(utc(2027, 1, 12, 11, 0)).accept("ag1", by=grace, now=utc(2027, 1, 13))
    assert kinds(due_triggers(series(), utc(2027, 1, 18), records=[r]), TriggerKind.ACCEPT) == []


def test_an_edit_gives_a_new_acceptance_key() -> None:
    """Re-proposing after an edit is a new reminder, with a new key and due instant."""
    ada = Actor("ada", Role.EMPLOYEE)
    r = proposed_record(utc(2027, 1, 12, 11, 0)).edit_agreement(
        "ag1", "Cursus in Q3", by=ada, now=utc(2027, 1, 20)
    )
    found = kinds(due_triggers(series(), utc(2027, 1, 25), records=[r]), TriggerKind.ACCEPT)
    assert [(t.key, t.recipients) for t in found] == [
        ("accept:s1:2027-01-12T09:00:00Z:ag1:2027-01-20T00:00:00Z", (ADA, GRACE))
    ]


# -- cadence --------------------------------------------------------------------------------------


def cadence(
    s: Series, now: datetime, **kw: Any
) -> list[tuple[CadenceReason | None, str, datetime]]:
    """Cadence warnings as (reason, key, due)."""
    return [
        (t.reason, t.key, t.due) for t in kinds(due_triggers(s, now, **kw), TriggerKind.CADENCE)
    ]


def test_no_cadence_warning_when_four_were_held() -> None:
    """Four held in the last twelve months and the next one planned: all is well."""
    assert cadence(series(), utc(2028, 3, 1, 12, 0)) == []


def test_cadence_warning_when_one_of_four_was_cancelled() -> None:
    """Three held in twelve months gives a warning, once per month, due from the month's start."""
    assert cadence(series(), utc(2028, 3, 15, 12, 0), cancelled={JUL}) == [
        (CadenceReason.FEW_HELD, "cadence:s1:few_held:2028-03", utc(2028, 2, 29, 23, 0))
    ]


def test_a_record_counts_a_cancelled_occurrence_as_held() -> None:
    """A record proves the conversation took place, even if its event was cancelled."""
    assert (
        cadence(series(), utc(2028, 3, 1, 12, 0), cancelled={JUL}, records=[Record("s1", JUL)])
        == []
    )


def test_held_occurrences_lists_passed_and_recorded() -> None:
    """Held: ended and not cancelled, or with a record."""
    s = series()
    occurrences = s.rule.occurrences(JAN, JAN28 + timedelta(days=1))
    held = held_occurrences(
        s, APR + timedelta(minutes=59), occurrences=occurrences, cancelled={JAN}
    )
    assert held == []
    held = held_occurrences(
        s,
        APR + timedelta(minutes=60),
        occurrences=occurrences,
        records=[Record("s1", JAN)],
        cancelled={JAN},
    )
    assert held == [JAN, APR]


def test_cadence_warning_when_nothing_is_planned() -> None:
    """A series that ended has no next occurrence: warn, and its count falls short too."""
    assert cadence(series(count=2), utc(2027, 5, 2)) == [
        (CadenceReason.FEW_HELD, "cadence:s1:few_held:2027-05", utc(2027, 4, 30, 22, 0)),
        (CadenceReason.NONE_PLANNED, "cadence:s1:none_planned:2027-05", utc(2027, 4, 30, 22, 0)),
    ]


def test_a_young_quarterly_series_is_on_course() -> None:
    """A new quarterly series: one held plus three planned in its first year, no warning."""
    assert cadence(series(), utc(2027, 2, 1)) == []


def test_a_young_half_yearly_series_falls_short_at_once() -> None:
    """Every six months is two a year: the warning comes in the first month."""
    assert [r for r, _, _ in cadence(series(interval=6), utc(2027, 1, 20))] == [
        CadenceReason.FEW_HELD
    ]


def test_minimum_per_year_is_configurable() -> None:
    """With a minimum of two, a half-yearly rhythm is enough."""
    assert cadence(series(interval=6), utc(2027, 1, 20), offsets=Offsets(minimum_per_year=2)) == []


# -- inputs, order, idempotence -------------------------------------------------------------------


def test_documents_of_another_series_are_refused() -> None:
    """Records must belong to the series asked about."""
    with pytest.raises(CadenceError, match="pass only this series"):
        due_triggers(series(), utc(2027, 1, 5), records=[Record("other", JAN)])


def test_now_must_be_aware() -> None:
    """A naive now is refused."""
    with pytest.raises(CadenceError, match="aware"):
        due_triggers(series(), datetime(2027, 1, 5))


def test_offsets_are_checked() -> None:
    """An offset out of range says what is allowed."""
    with pytest.raises(CadenceError, match="agenda_working_days must be 1-20, got 0"):
        Offsets(agenda_working_days=0)
    with pytest.raises(CadenceError, match="prepare must be between"):
        Offsets(prepare=timedelta(days=-1))


def test_triggers_sort_by_due_then_kind_then_key() -> None:
    """Several due at once come out in one deterministic order."""
    found = due_triggers(series(), utc(2027, 1, 8, 9, 0), cancelled=set())
    assert [t.kind for t in found] == [TriggerKind.PREPARE, TriggerKind.AGENDA]
    assert found == sorted(found, key=lambda t: t.sort_key)


NOWS = st.datetimes(
    min_value=datetime(2026, 12, 1),
    max_value=datetime(2029, 3, 1),
    timezones=st.just(UTC),
)


@settings(max_examples=80, deadline=None)
@given(NOWS, st.sets(st.sampled_from([JAN, APR, JUL, OCT, JAN28])))
def test_same_inputs_give_the_same_sorted_due_triggers(
    now: datetime, cancelled: set[datetime]
) -> None:
    """Idempotent, sorted, unique keys, nothing due in the future, nothing for a cancelled one."""
    first = due_triggers(series(), now, cancelled=cancelled)
    assert first == due_triggers(series(), now, cancelled=set(cancelled))
    assert first == sorted(first, key=lambda t: t.sort_key)
    assert len({t.key for t in first}) == len(first)
    assert all(t.due <= now for t in first)
    assert not {t.occurrence for t in first} & cancelled


@settings(max_examples=60, deadline=None)
@given(NOWS, st.integers(min_value=1, max_value=7 * 24 * 60))
def test_a_key_keeps_its_due_instant_while_due(now: datetime, minutes: int) -> None:
    """Asked later, a trigger still due has the same key and the same due instant."""
    later = now + timedelta(minutes=minutes)
    before = {t.key: t.due for t in due_triggers(series(), now)}
    after = {t.key: t.due for t in due_triggers(series(), later)}
    assert all(before[key] == due for key, due in after.items() if key in before)
