"""The people and the series: the nouns every other part of the domain shares."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cadence.errors import CadenceError, InvalidPreferences
from cadence.zones import zone

if TYPE_CHECKING:
    from datetime import datetime

    from cadence.recurrence import Rule


class Role(enum.StrEnum):
    """A conversation partner's part: the employee leads, the manager agrees and prepares."""

    EMPLOYEE = "employee"
    MANAGER = "manager"


class Locale(enum.StrEnum):
    """The languages the product speaks; Dutch first."""

    NL = "nl"
    EN = "en"


@dataclass(frozen=True, slots=True)
class Person:
    """A conversation partner. `id` is stable; `email` is how calendars know them."""

    id: str
    name: str
    email: str
    tz: str = "Europe/Amsterdam"
    locale: Locale = Locale.NL

    def __post_init__(self) -> None:
        zone(self.tz)


@dataclass(frozen=True, slots=True)
class Pair:
    """An employee and their manager. The pair's zone is the employee's unless set."""

    employee: Person
    manager: Person
    tz: str = ""

    def __post_init__(self) -> None:
        if not self.tz:
            object.__setattr__(self, "tz", self.employee.tz)
        zone(self.tz)
        if self.employee.id == self.manager.id:
            raise CadenceError(
                "employee and manager must be two different people", code="same_person"
            )

    def role_of(self, person_id: str) -> Role | None:
        """The role `person_id` plays in this pair, or None for an outsider."""
        if person_id == self.employee.id:
            return Role.EMPLOYEE
        if person_id == self.manager.id:
            return Role.MANAGER
        return None

    @property
    def partners(self) -> tuple[Person, Person]:
        """Both partners, employee first."""
        return (self.employee, self.manager)


MIN_DURATION = 30
MAX_DURATION = 120


@dataclass(frozen=True, slots=True)
class Series:
    """A planned series of conversations: the pair, the rule, and what the employee chose.

    One type from the planner to the registry: `request_id` is the plan request that created it
    (a retry finds it again), `event_copy` what the calendar events carry of the agenda ("full" or
    "titles"), `template` the conversation template; `master_event_id` and `ical_uid` name the
    master event in the employee's calendar once it exists.
    """

    id: str
    pair: Pair
    rule: Rule
    duration: int = 60
    place: str = ""
    online: bool = False
    request_id: str = ""
    event_copy: str = "full"
    template: str = "three_themes"
    created: datetime | None = None
    master_event_id: str | None = None
    ical_uid: str | None = None

    def __post_init__(self) -> None:
        if not MIN_DURATION <= self.duration <= MAX_DURATION:
            raise InvalidPreferences(
                f"duration must be {MIN_DURATION}-{MAX_DURATION} minutes, got {self.duration}",
                code="duration_range",
                low=MIN_DURATION,
                high=MAX_DURATION,
                got=self.duration,
            )

    @property
    def owner(self) -> str:
        """Whose calendar and drive hold the series: the employee's."""
        return self.pair.employee.email
