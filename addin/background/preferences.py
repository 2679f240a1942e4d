"""What each person wants of the reminders: kinds turned off, and quiet days without mail.

Kept in the server store (migration 0005) by address. A kind turned off is never sent to that
person (its deliveries are settled as skipped, with the word "off"); on a quiet day (in their
own zone) their mail waits for the next day that is not quiet, while still worth sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from addin.store.db import put_row
from addin.store.tables import reminder_settings_table
from cadence.triggers import TriggerKind
from connectors.ports import WEEKDAYS

KINDS = tuple(kind.value for kind in TriggerKind)


@dataclass(frozen=True, slots=True)
class Reminders:
    """The kinds a person turned off and their quiet weekdays (RFC 5545 codes, Monday first)."""

    off: frozenset[str] = frozenset()
    quiet: tuple[str, ...] = ()

    def quiet_on(self, moment: datetime) -> bool:
        """Whether `moment` (aware, in the person's zone) falls on a quiet day."""
        return WEEKDAYS[moment.weekday()] in self.quiet


class RemindersError(ValueError):
    """Settings that cannot be used; `code` says which part: off or quiet."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_reminders(body: Mapping[str, Any]) -> Reminders:
    """`{off: [kind...], quiet_days: ["WE", ...]}` read and checked; `RemindersError` otherwise."""
    off = body.get("off", [])
    if not isinstance(off, list) or not all(isinstance(k, str) and k in KINDS for k in off):
        raise RemindersError("off", f"off must list kinds from: {', '.join(KINDS)}")
    quiet = body.get("quiet_days", [])
    if (
        not isinstance(quiet, list)
        or not all(isinstance(d, str) and d in WEEKDAYS for d in quiet)
        or len(set(quiet)) >= len(WEEKDAYS)
    ):
        raise RemindersError("quiet", "quiet_days must list at most six of MO TU WE TH FR SA SU")
    ordered = tuple(d for d in WEEKDAYS if d in set(quiet))
    return Reminders(frozenset(off), ordered)


class ReminderSettings:
    """Each person's reminder settings, by address (lower case)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, email: str) -> Reminders:
        """What the person set (nothing set: every kind, no quiet day)."""
        t = reminder_settings_table
        with self._engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.email == email.strip().lower())).first()
        if row is None:
            return Reminders()
        m = row._mapping
        return Reminders(frozenset(m["off"].split()), tuple(m["quiet"].split()))

    def set(self, email: str, reminders: Reminders, at: datetime) -> None:
        """Keep the person's settings (replacing earlier ones)."""
        t = reminder_settings_table
        values = {
            "off": " ".join(k for k in KINDS if k in reminders.off),
            "quiet": " ".join(reminders.quiet),
            "updated": at,
        }
        put_row(self._engine, t, {"email": email.strip().lower()}, values)


def reminders_out(reminders: Reminders) -> dict[str, Any]:
    """The settings as the API answers them, with every kind there is."""
    return {
        "off": [k for k in KINDS if k in reminders.off],
        "quiet_days": list(reminders.quiet),
        "kinds": list(KINDS),
    }
