"""The Microsoft Graph directory: ``/manager`` and ``mailboxSettings`` of each user.

Each person's reporting line is read with that person's own access (``/me/manager`` with a
delegated token, ``/users/{email}/manager`` app-only), which ``User.Read`` covers for oneself;
working hours and zone come from ``mailboxSettings`` (``MailboxSettings.Read``). Translation is
in pure functions, the class only does I/O through the account's session.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import time
from typing import TYPE_CHECKING, Any

from kiota_abstractions.method import Method

from cadence.errors import CadenceError
from cadence.recurrence import iana_zone
from connectors.errors import InvalidRequest, NotFound
from connectors.ports import WEEKDAYS, DirectoryHours, DirectoryPerson

if TYPE_CHECKING:
    from connectors.graph import _Session

_GRAPH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

MANAGER_SELECT = "id,displayName,mail,userPrincipalName"
USERS_PAGE = 999
"""Users per page of ``GET /users`` (Graph's most)."""
MAX_PAGES = 10_000
"""Pages read at most (ten million users): every loop is bounded."""
"""What is read of the manager: their address (``mail``, else the UPN) and name."""


def manager_address(data: Mapping[str, Any] | None) -> str | None:
    """The manager's address from the ``/manager`` answer (``mail``, else the UPN), lower case."""
    if not data:
        return None
    for key in ("mail", "userPrincipalName"):
        value = data.get(key)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return None


def _zone(name: object) -> str:
    """An IANA zone from Graph's zone name (Windows or IANA); empty when none is known."""
    if not isinstance(name, str) or not name:
        return ""
    try:
        return iana_zone(name)
    except CadenceError:
        return ""


def _time_of_day(value: object) -> time | None:
    """Edm.TimeOfDay ``08:00:00.0000000`` as a time (minutes kept), or None."""
    if not isinstance(value, str):
        return None
    try:
        hours, minutes = value.split(":")[:2]
        return time(int(hours), int(minutes))
    except ValueError:
        return None


def person_from_mailbox_settings(email: str, data: Mapping[str, Any] | None) -> DirectoryPerson:
    """Zone and working hours from a ``mailboxSettings`` answer; what is odd is left out."""
    data = data or {}
    tz = _zone(data.get("timeZone"))
    hours = None
    working = data.get("workingHours")
    if isinstance(working, Mapping):
        raw_days = working.get("daysOfWeek")
        days = tuple(
            WEEKDAYS[_GRAPH_DAYS.index(d.lower())]
            for d in (raw_days if isinstance(raw_days, list) else [])
            if isinstance(d, str) and d.lower() in _GRAPH_DAYS
        )
        start, end = _time_of_day(working.get("startTime")), _time_of_day(working.get("endTime"))
        zone_of_hours = working.get("timeZone")
        hours_tz = _zone(zone_of_hours.get("name")) if isinstance(zone_of_hours, Mapping) else ""
        if days and start is not None and end is not None and start < end:
            hours = DirectoryHours(tuple(d for d in WEEKDAYS if d in days), start, end)
            # The hours' own zone wins: someone may work in a zone other than Outlook shows.
            tz = hours_tz or tz
    return DirectoryPerson(email=email.strip().lower(), tz=tz, hours=hours)


class GraphDirectory:
    """Reporting lines and working hours through a `GraphAccount`'s sessions."""

    def __init__(self, session_of: Callable[[str], tuple[_Session, str]]) -> None:
        self._session_of = session_of
        # Managers' display names as their reports' /manager answers gave them (the newest
        # 10,000): a manager's own mailbox settings carry no name.
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def manager_of(self, email: str) -> str | None:
        """``GET {user}/manager``; Graph's 404 for a user without one is None."""
        session, prefix = self._session_of(email)
        url = f"{prefix}/manager?$select={MANAGER_SELECT}"
        try:
            data = session.call(
                lambda: session.send_json(Method.GET, url),
                f"read the manager of {email}",
                idempotent=True,
            )
        except NotFound:
            return None
        address = manager_address(data)
        name = data.get("displayName") if isinstance(data, Mapping) else None
        if address and isinstance(name, str) and name:
            with self._lock:
                if len(self._names) >= 10_000:
                    self._names.pop(next(iter(self._names)))
                self._names[address] = name
        return address

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """``GET /users?$expand=manager``, every page, read with `reader`'s access (reading
        users and their managers needs ``User.Read.All``)."""
        if not reader:
            raise InvalidRequest("name whose sign-in reads the directory (an HR administrator)")
        session, _prefix = self._session_of(reader)
        url: str | None = (
            "/users?$select=id,mail,userPrincipalName,accountEnabled"
            f"&$expand=manager($select={MANAGER_SELECT})&$top={USERS_PAGE}"
        )
        found: list[tuple[str, str]] = []
        for _page in range(MAX_PAGES):
            if url is None:
                break
            data = session.call(
                functools.partial(session.send_json, Method.GET, url),
                "list the users of the directory",
                idempotent=True,
            )
            for user in data.get("value") or []:
                if not isinstance(user, Mapping) or user.get("accountEnabled") is False:
                    continue
                address = manager_address(user)
                boss = manager_address(user.get("manager"))
                if address and boss:
                    found.append((address, boss))
            following = data.get("@odata.nextLink")
            url = following if isinstance(following, str) and following else None
        return sorted(found)

    def person(self, email: str) -> DirectoryPerson | None:
        """``GET {user}/mailboxSettings``: the zone and working hours."""
        session, prefix = self._session_of(email)
        try:
            data = session.call(
                lambda: session.send_json(Method.GET, f"{prefix}/mailboxSettings"),
                f"read the mailbox settings of {email}",
                idempotent=True,
            )
        except NotFound:
            return None
        found = person_from_mailbox_settings(email, data)
        with self._lock:
            name = self._names.get(found.email, "")
        return replace(found, name=name)
