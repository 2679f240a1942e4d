"""The Microsoft Graph directory: ``/manager`` and ``mailboxSettings`` of each user.

Each person's reporting line is read with that person's own access (``/me/manager`` with a
delegated token, ``/users/{email}/manager`` app-only), which ``User.Read`` covers for oneself;
working hours and zone come from ``mailboxSettings`` (``MailboxSettings.Read``); group
membership from ``checkMemberGroups``. Translation is in pure functions, the class only does I/O
through the account's session.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kiota_abstractions.method import Method

from cadence.errors import CadenceError
from cadence.recurrence import iana_zone
from connectors.directory import LogOnce
from connectors.errors import InvalidRequest, NotFound
from connectors.ports import WEEKDAYS, DirectoryHours, DirectoryPerson

if TYPE_CHECKING:
    from connectors.graph import _Session

log = logging.getLogger(__name__)
_GRAPH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

MANAGER_SELECT = "id,displayName,mail,userPrincipalName"
USERS_PAGE = 999
"""Users per page of ``GET /users`` (Graph's most)."""
MAX_PAGES = 10_000
"""Pages read at most (ten million users): every loop is bounded."""
"""What is read of the manager: their address (``mail``, else the UPN) and name."""
_OBJECT_ID = re.compile(r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)
"""A directory object's id (a GUID): a group named so needs no look-up."""


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
        # Group ids by address: a group's id never changes, so each is looked up once.
        self._groups: dict[str, str] = {}
        self._note = LogOnce(log)
        """Notes an unknown person or group once: the HR page asks on every request."""
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

    def is_member(self, email: str, group: str) -> bool:
        """``POST {user}/checkMemberGroups``: transitive, so members of nested groups count.

        Asked with the person's own access (``User.Read`` covers oneself). A group named by its
        address is first found by ``GET /groups?$filter=mail eq``, which needs
        ``GroupMember.Read.All``: not asked for by default, so deployments name the group by id.
        """
        session, prefix = self._session_of(email)
        group_id = self._group_id(session, group)
        if group_id is None:
            return False
        try:
            data = session.call(
                lambda: session.send_json(
                    Method.POST, f"{prefix}/checkMemberGroups", body={"groupIds": [group_id]}
                ),
                f"check whether {email} is in the group {group}",
                idempotent=True,  # a question: asking again changes nothing
            )
        except NotFound:
            self._note(f"Microsoft Graph does not know {email.strip().lower()}: not in {group}")
            return False
        found = data.get("value") if isinstance(data, Mapping) else None
        return isinstance(found, list) and any(
            isinstance(g, str) and g.lower() == group_id for g in found
        )

    def _group_id(self, session: _Session, group: str) -> str | None:
        """The id of `group` (an id, or the address of a group), or None when none has it."""
        wanted = group.strip().lower()
        if _OBJECT_ID.match(wanted):
            return wanted
        with self._lock:
            known = self._groups.get(wanted)
        if known is not None:
            return known
        clause = quote("mail eq '{}'".format(wanted.replace("'", "''")), safe="@'")
        data = session.call(
            functools.partial(
                session.send_json, Method.GET, f"/groups?$filter={clause}&$select=id"
            ),
            f"find the group {group}",
            idempotent=True,
        )
        ids: list[str] = [
            str(g["id"]).lower()
            for g in (data.get("value") or [] if isinstance(data, Mapping) else [])
            if isinstance(g, Mapping) and isinstance(g.get("id"), str)
        ]
        if not ids:
            self._note(f"Microsoft Graph has no group with the address {wanted}")
            return None
        with self._lock:
            self._groups[wanted] = ids[0]
        return ids[0]
