"""Reporting lines and mailbox settings of the Graph emulator's users.

- ``GET /users/{id}/manager`` (and ``/me/manager``): the manager as a user object, ``$select``
  honoured; no manager is 404 ``Request_ResourceNotFound`` with Graph's own message (the
  documented and long-standing behaviour: the navigation property has no value).
- ``GET /users``: the organisation's users, paged by ``$skiptoken``, ``$expand=manager`` giving
  each one's manager (`list_users`).
- ``GET /users/{id}/mailboxSettings``: ``timeZone`` and ``workingHours`` (``daysOfWeek``,
  ``startTime``/``endTime`` as Edm.TimeOfDay, ``timeZone.name``), zones as Windows names the way
  Exchange answers; Exchange's default working hours are Monday-Friday 08:00-17:00.
- ``GET /groups``: the groups (``id``, ``mail``, ``displayName``, ...), ``$filter`` by ``eq`` on
  ``mail``, ``displayName`` or ``id`` (`list_groups`), paged as ``/users``.
- ``POST /users/{id|upn}/checkMemberGroups`` (and ``/me/...``): of at most 20 ``groupIds``, those
  the user is in, directly or through nested groups (`check_member_groups`); an unknown user is
  404 ``Request_ResourceNotFound``, a malformed body or id 400 ``Request_BadRequest``.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any
from urllib.parse import urlencode

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


USER_DEFAULT_SELECT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
"""What ``GET /users`` returns without ``$select`` (Graph's default set)."""
USERS_MAX_TOP = 999
USERS_DEFAULT_TOP = 100
_EXPAND_MANAGER = re.compile(r"^manager(?:\((?:\$select=([A-Za-z0-9_,]+))?\))?$", re.IGNORECASE)


def list_users(
    users: Sequence[tuple[str, str, str]],
    managers: Mapping[str, str],
    args: Mapping[str, str],
    url: str,
) -> dict[str, Any]:
    """``GET /users``: the users as (id, email, name), `managers` by lower-case address.

    ``$select``, ``$top`` (1-999, 100 by default), ``$expand=manager`` (optionally with its own
    ``$select``; a user without one has no ``manager`` property) and paging by an opaque
    ``$skiptoken`` in ``@odata.nextLink``, as Microsoft Graph pages users.
    """
    select = [s.strip() for s in args.get("$select", "").split(",") if s.strip()]
    expand = args.get("$expand", "").strip()
    manager_select: list[str] | None = None
    if expand:
        found = _EXPAND_MANAGER.match(expand)
        if found is None:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Parsing OData Select and Expand failed: Could not find a property named "
                f"'{expand.split('(')[0]}' on type 'microsoft.graph.user'.",
            )
        manager_select = [s for s in (found[1] or "").split(",") if s]
    top = _page_size(args)
    start = _skip_from(args.get("$skiptoken"))
    chosen = users[start : start + top]
    by_email = {email.lower(): (uid, email, name) for uid, email, name in users}
    value = []
    for uid, email, name in chosen:
        item = _pick(user_json(uid, email, name) | {"accountEnabled": True}, select)
        if manager_select is not None:
            boss = by_email.get(managers.get(email.lower(), ""))
            if boss is not None:
                item["manager"] = _pick(user_json(*boss), manager_select or None)
        value.append(item)
    body: dict[str, Any] = {"@odata.context": _USERS_CONTEXT, "value": value}
    if start + top < len(users):
        query = {k: v for k, v in args.items() if k != "$skiptoken"}
        query["$skiptoken"] = _skip_token(start + top)
        body["@odata.nextLink"] = url + "?" + urlencode(query, safe="$:'(),")
    return body


_USERS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#users"


def _pick(item: dict[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
    if not select:
        return {k: v for k, v in item.items() if k in USER_DEFAULT_SELECT or k == "@odata.type"}
    wanted = {s.lower() for s in select} | {"id"}
    return {k: v for k, v in item.items() if k.lower() in wanted or k == "@odata.type"}


def _skip_token(offset: int) -> str:
    raw = f"X'{offset:08x}'".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _page_size(args: Mapping[str, str]) -> int:
    """``$top``: 1-999 for a directory listing, with Graph's errors for anything else."""
    try:
        top = int(args.get("$top", str(USERS_DEFAULT_TOP)))
    except ValueError:
        raise GraphError(400, "Request_BadRequest", "Invalid $top value.") from None
    if not 1 <= top <= USERS_MAX_TOP:
        raise GraphError(
            400,
            "Request_UnsupportedQuery",
            f"Invalid page size specified: '{top}'. Must be between 1 and {USERS_MAX_TOP} "
            "inclusive.",
        )
    return top


def _skip_from(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not (raw.startswith("X'") and raw.endswith("'")):
            raise ValueError(raw)
        return int(raw[2:-1], 16)
    except (ValueError, UnicodeDecodeError):
        raise GraphError(
            400, "Request_UnsupportedQuery", "Specified skip token is invalid."
        ) from None


# -- groups ------------------------------------------------------------------------------------


@dataclass
class Group:
    """A security group of the tenant; `members` are users' and nested groups' addresses."""

    id: str
    mail: str
    name: str
    members: set[str] = field(default_factory=set)

    def json(self) -> dict[str, Any]:
        """The group as ``GET /groups`` answers it (the properties we keep)."""
        return {
            "id": self.id,
            "displayName": self.name,
            "description": None,
            "groupTypes": [],
            "mail": self.mail,
            "mailEnabled": True,
            "mailNickname": self.mail.split("@", maxsplit=1)[0],
            "securityEnabled": True,
            "visibility": None,
        }


CHECK_MEMBER_GROUPS_LIMIT = 20
"""checkMemberGroups takes at most 20 group ids per request (Graph's documented limit)."""
_GROUPS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#groups"
_STRINGS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)"
_EQ = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_GROUP_FILTERS = {"mail": "mail", "displayname": "displayName", "id": "id"}


def new_group_id() -> str:
    """A fresh directory object id."""
    return str(uuid.uuid4())


def list_groups(groups: Sequence[Group], args: Mapping[str, str], url: str) -> dict[str, Any]:
    """``GET /groups``: ``$filter`` (``property eq 'value'``, case-insensitive as Graph compares
    strings), ``$select`` (``id`` always comes), ``$top`` (1-999, 100 by default), paged by
    ``$skiptoken``."""
    chosen = list(groups)
    text = args.get("$filter", "").strip()
    if text:
        found = _EQ.match(text)
        prop = _GROUP_FILTERS.get(found[1].lower()) if found else None
        if found is None or prop is None:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified for property "
                f"'{found[1] if found else text.split(' ')[0]}' of resource 'Group'.",
            )
        value = found[2].replace("''", "'").lower()
        chosen = [g for g in chosen if str(g.json()[prop] or "").lower() == value]
    select = [s.strip() for s in args.get("$select", "").split(",") if s.strip()]
    top = _page_size(args)
    start = _skip_from(args.get("$skiptoken"))
    value_out = []
    for group in chosen[start : start + top]:
        item = group.json()
        if select:
            wanted = {s.lower() for s in select} | {"id"}
            item = {k: v for k, v in item.items() if k.lower() in wanted}
        value_out.append(item)
    context = _GROUPS_CONTEXT + (f"({','.join(select)})" if select else "")
    body: dict[str, Any] = {"@odata.context": context, "value": value_out}
    if start + top < len(chosen):
        query = {k: v for k, v in args.items() if k != "$skiptoken"}
        query["$skiptoken"] = _skip_token(start + top)
        body["@odata.nextLink"] = url + "?" + urlencode(query, safe="$:'(),@")
    return body


def group_ids_of(body: Mapping[str, Any]) -> list[str]:
    """The ``groupIds`` of a checkMemberGroups body; 400 as Graph refuses a bad one."""
    ids = body.get("groupIds")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise GraphError(
            400,
            "Request_BadRequest",
            "The request body must contain 'groupIds', a collection of group ids.",
        )
    if len(ids) > CHECK_MEMBER_GROUPS_LIMIT:
        raise GraphError(
            400,
            "Request_BadRequest",
            f"The number of group ids must not exceed {CHECK_MEMBER_GROUPS_LIMIT}.",
        )
    for value in ids:
        try:
            uuid.UUID(value)
        except ValueError:
            raise GraphError(
                400, "Request_BadRequest", f"Invalid object identifier '{value}'."
            ) from None
    return [i.lower() for i in ids]


def check_member_groups(
    groups: Sequence[Group], member: str, wanted: Sequence[str]
) -> dict[str, Any]:
    """The answer: those of `wanted` (ids) that `member` (an address) is in, transitively."""
    inside: set[str] = set()
    # Every group whose members include `member`, then the groups those are members of, and on.
    reach = [member.lower()]
    while reach:
        current = reach.pop()
        for group in groups:
            if current in group.members and group.id not in inside:
                inside.add(group.id)
                reach.append(group.mail.lower())
    return {"@odata.context": _STRINGS_CONTEXT, "value": [i for i in wanted if i in inside]}


def not_found(what: str) -> GraphError:
    """Graph's 404 for a directory object it does not have."""
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{what}' does not exist or one of its queried reference-property objects are "
        "not present.",
    )
