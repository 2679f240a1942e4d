"""What a person sets for themself: their working days, hours and time zone.

Part-time days are common, and Google's public API gives no working hours at all, so a person's
own setting wins over the directory's (Graph ``mailboxSettings``) and over the default
Monday-Friday 09:00-17:00. Kept in the server store (`addin.store.tables`, migration 0003).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from addin.store.db import put_row
from addin.store.tables import person_hours_table
from connectors.directory import check_hours, parse_days
from connectors.ports import WEEKDAYS, DirectoryHours


@dataclass(frozen=True, slots=True)
class OwnHours:
    """A person's own working hours in their own zone."""

    hours: DirectoryHours
    tz: str


class HoursError(ValueError):
    """Working hours that cannot be used; `code` says which part: days, time, order or tz."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_own_hours(body: Mapping[str, Any]) -> OwnHours:
    """`{days, start, end, tz}` read and checked; `HoursError` otherwise."""
    days = body.get("days")
    if (
        not isinstance(days, list)
        or not days
        or len(days) > len(WEEKDAYS)
        or not all(isinstance(d, str) and len(d) == 2 for d in days)
    ):
        raise HoursError("days", 'days must be a list such as ["MO", "TU", "TH"]')
    try:
        parsed = parse_days(" ".join(days))
    except ValueError as exc:
        raise HoursError("days", str(exc)) from None
    if len(parsed) != len(days):
        raise HoursError("days", "days names a day twice")
    values: dict[str, time] = {}
    for name in ("start", "end"):
        raw = body.get(name)
        try:
            if not isinstance(raw, str) or len(raw) != 5 or raw[2] != ":":
                raise ValueError
            if not (raw[:2].isdigit() and raw[3:].isdigit()):
                raise ValueError
            values[name] = time(int(raw[:2]), int(raw[3:]))
        except ValueError:
            raise HoursError("time", f"{name} must be a time such as 09:00") from None
    if values["start"] >= values["end"]:
        raise HoursError("order", "the working day must end after it starts")
    tz = body.get("tz")
    if not isinstance(tz, str) or not tz or len(tz) > 64:
        raise HoursError("tz", "tz must be an IANA time zone such as Europe/Amsterdam")
    try:
        check_hours(parsed, values["start"], values["end"], tz)
    except ValueError as exc:
        raise HoursError("tz", str(exc)) from None
    return OwnHours(DirectoryHours(parsed, values["start"], values["end"]), tz)


class PeopleSettings:
    """Each person's own working hours, by address (lower case)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        person_hours_table.create(engine, checkfirst=True)

    def hours(self, email: str) -> OwnHours | None:
        """The hours the person set, or None."""
        t = person_hours_table
        with self._engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.email == email.strip().lower())).first()
        if row is None:
            return None
        m = row._mapping
        hours = DirectoryHours(
            tuple(m["days"].split()), time.fromisoformat(m["start"]), time.fromisoformat(m["end"])
        )
        return OwnHours(hours, m["tz"])

    def set_hours(self, email: str, own: OwnHours, at: datetime) -> None:
        """Keep the person's hours (replacing earlier ones)."""
        t = person_hours_table
        values = {
            "days": " ".join(own.hours.days),
            "start": f"{own.hours.start:%H:%M}",
            "end": f"{own.hours.end:%H:%M}",
            "tz": own.tz,
            "updated": at,
        }
        put_row(self._engine, t, {"email": email.strip().lower()}, values)

    def forget(self, email: str) -> None:
        """Drop the person's own hours (they leave, or ask to be forgotten)."""
        t = person_hours_table
        with self._engine.begin() as conn:
            conn.execute(t.delete().where(t.c.email == email.strip().lower()))
