"""The demo's people and their calendars: Ada (employee) and Grace (manager).

`seed()` gives both an ordinary working year and a first meeting to open, in any store with
``add_person`` and ``calendar(email)`` (the local store, the memory store, an emulated provider),
and makes Grace Ada's manager where the store keeps reporting lines (``set_manager``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from cadence.model import Locale, Pair, Person
from cadence.zones import zone
from connectors.models import Attendee, NewEvent

ADA = Person(id="ada", name="Ada", email="ada@example.org", tz="Europe/Amsterdam", locale=Locale.NL)
GRACE = Person(
    id="grace", name="Grace", email="grace@example.org", tz="Europe/Amsterdam", locale=Locale.NL
)
PAIR = Pair(employee=ADA, manager=GRACE)
SEED_WEEKS = 56
FIRST_MEETING = "Kennismaking Ada & Grace"
"""The one-off meeting a user opens first: from it, the pane plans the series."""


@dataclass(frozen=True, slots=True)
class _Busy:
    person: Person
    subject: str
    weekday: int
    start: time
    minutes: int
    every_weeks: int = 1
    with_other: bool = False


_WEEKLY = (
    _Busy(GRACE, "MT-overleg", 1, time(9, 0), 120),
    _Busy(GRACE, "Budgetoverleg", 3, time(14, 0), 120),
    _Busy(GRACE, "Teamoverleg", 0, time(10, 0), 60, with_other=True),
    _Busy(ADA, "Sprint review", 2, time(10, 0), 90, every_weeks=2),
    _Busy(ADA, "Klantbezoek", 3, time(9, 0), 180, every_weeks=4),
)


def seed(store: Any, now: datetime) -> int:
    """Put Ada's and Grace's usual weeks, a holiday week of Ada's and their first meeting in the
    local calendars. Idempotent: every event has a stable idempotency key.

    Returns how many events were created or found again.
    """
    for person in PAIR.partners:
        store.add_person(person.email, person.name, person.tz)
    # The reporting line that lets Ada and Grace plan their series (where the store keeps one).
    set_manager = getattr(store, "set_manager", None)
    if set_manager is not None:
        set_manager(ADA.email, GRACE.email)
    # Ada joined almost five years ago: the preparation names the anniversary and the schemes
    # that come with five years of service.
    set_joined = getattr(store, "set_joined", None)
    if set_joined is not None:
        set_joined(ADA.email, joined_day(now))
    tz = zone(PAIR.tz)
    monday = now.astimezone(tz).date() - timedelta(days=now.astimezone(tz).weekday())
    count = 0
    for week in range(SEED_WEEKS):
        for busy in _WEEKLY:
            if week % busy.every_weeks:
                continue
            day = monday + timedelta(weeks=week, days=busy.weekday)
            start = datetime.combine(day, busy.start, tzinfo=zone(busy.person.tz))
            other = GRACE if busy.person is ADA else ADA
            event = NewEvent(
                subject=busy.subject,
                start=start,
                end=start + timedelta(minutes=busy.minutes),
                tz=busy.person.tz,
                organizer=busy.person.email,
                attendees=(Attendee(other.email, other.name),) if busy.with_other else (),
            )
            key = f"seed:{busy.person.id}:{busy.subject}:{day.isoformat()}"
            store.calendar(busy.person.email).create_event(event, idempotency_key=key)
            count += 1
    holiday = monday + timedelta(weeks=10)
    for offset in range(5):
        day = holiday + timedelta(days=offset)
        start = datetime.combine(day, time(8, 0), tzinfo=zone(ADA.tz))
        event = NewEvent(
            subject="Vakantie",
            start=start,
            end=start + timedelta(hours=10),
            tz=ADA.tz,
            organizer=ADA.email,
        )
        store.calendar(ADA.email).create_event(event, idempotency_key=f"seed:ada:vakantie:{day}")
        count += 1
    start = first_meeting_start(now)
    meeting = NewEvent(
        subject=FIRST_MEETING,
        start=start,
        end=start + timedelta(minutes=45),
        tz=ADA.tz,
        organizer=ADA.email,
        attendees=(Attendee(GRACE.email, GRACE.name),),
        location="Koffiebar, 3e verdieping",
    )
    # One key, no date: seeding again next month finds the first one instead of adding another.
    store.calendar(ADA.email).create_event(meeting, idempotency_key="seed:ada:kennismaking")
    return count + 1


def joined_day(now: datetime) -> date:
    """The day Ada joined: five years before three weeks from `now`."""
    soon = (now + timedelta(weeks=3)).date()
    return soon.replace(year=soon.year - 5, day=min(soon.day, 28))


def first_meeting_start(now: datetime) -> datetime:
    """13:00 on the first working day that still has 13:00 ahead (today before noon, else the
    next one): a time both calendars leave free every week."""
    tz = zone(ADA.tz)
    local = now.astimezone(tz)
    day = local.date() if local.time() < time(12, 0) else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(13, 0), tzinfo=tz)
