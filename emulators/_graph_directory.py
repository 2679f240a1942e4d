"""Reporting lines and mailbox settings of the Graph emulator's users.

- ``GET /users/{id}/manager`` (and ``/me/manager``): the manager as a user object, ``$select``
  honoured; no manager is 404 ``Request_ResourceNotFound`` with Graph's own message (the
  documented and long-standing behaviour: the navigation property has no value).
- ``GET /users/{id}/mailboxSettings``: ``timeZone`` and ``workingHours`` (``daysOfWeek``,
  ``startTime``/``endTime`` as Edm.TimeOfDay, ``timeZone.name``), zones as Windows names the way
  Exchange answers; Exchange's default working hours are Monday-Friday 08:00-17:00.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any

from emulators._graph_common import GraphError

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass
class Hours:
    """A user's working hours as Outlook keeps them."""

    days: tuple[str, ...]
    start: time
    end: time
    tz: str


def hours_of(days: tuple[str, ...], start: time, end: time, tz: str) -> Hours:
    """Hours from RFC 5545 day codes (MO..SU) or Graph day names; ValueError if unknown."""
    names = []
    for day in days:
        lowered = day.lower()
        if day.upper() in _CODES:
            names.append(DAYS[_CODES.index(day.upper())])
        elif lowered in DAYS:
            names.append(lowered)
        else:
            raise ValueError(f"unknown day {day!r}")
    if start >= end:
        raise ValueError("working hours must end after they start")
    return Hours(tuple(d for d in DAYS if d in names), start, end, tz)


def user_json(user_id: str, email: str, name: str) -> dict[str, Any]:
    """A user as the manager navigation property answers it (the properties we keep)."""
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": user_id,
        "displayName": name,
        "mail": email,
        "userPrincipalName": email,
        "givenName": name.split(" ", maxsplit=1)[0],
        "jobTitle": None,
        "officeLocation": None,
    }


def manager_json(
    manager: dict[str, Any] | None, select: set[str] | None, context: str
) -> dict[str, Any]:
    """The manager answer, or the 404 Graph gives for a user without one."""
    if manager is None:
        raise GraphError(
            404,
            "Request_ResourceNotFound",
            "Resource 'manager' does not exist or one of its queried reference-property objects "
            "are not present.",
        )
    body = {"@odata.context": context, **manager}
    if select is not None:
        wanted = {s.lower() for s in select} | {"@odata.type", "@odata.context", "id"}
        body = {k: v for k, v in body.items() if k.lower() in wanted}
    return body


def mailbox_settings_json(
    tz: str, hours: Hours | None, windows_name: Callable[[str], str], context: str
) -> dict[str, Any]:
    """The user's mailbox settings; zones named the Windows way, as Exchange Online does."""
    if hours is None:
        hours = Hours(DAYS[:5], time(8), time(17), tz)
    return {
        "@odata.context": context,
        "archiveFolder": "AAMkAGI2AAEuAAAAAACaAAA=",
        "timeZone": windows_name(tz),
        "automaticRepliesSetting": {"status": "disabled", "externalAudience": "all"},
        "dateFormat": "d-M-yyyy",
        "timeFormat": "HH:mm",
        "userPurpose": "user",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "language": {"locale": "nl-NL", "displayName": "Nederlands (Nederland)"},
        "workingHours": {
            "daysOfWeek": list(hours.days),
            "startTime": f"{hours.start:%H:%M:%S}.0000000",
            "endTime": f"{hours.end:%H:%M:%S}.0000000",
            "timeZone": {"name": windows_name(hours.tz)},
        },
    }
