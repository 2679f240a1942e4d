"""The Google Workspace directory: the Admin SDK's manager relation and each calendar's zone.

``users.get(userKey, projection="full")`` carries ``relations`` (``type: manager``); it needs an
administrator's access (``admin.directory.user.readonly`` through domain-wide delegation as an
admin, or an admin's own token), so it is read as the configured administrator. The zone is
the person's own Calendar setting (``settings.get("timezone")``); Google's public API has no
working hours, so people set their own in the product. Group membership is ``members.hasMember``,
as the administrator too (``admin.directory.group.member.readonly``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from cadence.errors import CadenceError
from cadence.zones import zone
from connectors.directory import LogOnce
from connectors.errors import InvalidRequest, NotFound
from connectors.ports import DirectoryPerson

if TYPE_CHECKING:
    from connectors.google import _Client

log = logging.getLogger(__name__)


def manager_from_user(data: Mapping[str, Any] | None) -> str | None:
    """The address in the user's first ``manager`` relation, lower case, or None."""
    relations = (data or {}).get("relations")
    if not isinstance(relations, list):
        return None
    for relation in relations:
        if not isinstance(relation, Mapping) or relation.get("type") != "manager":
            continue
        value = relation.get("value")
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return None


def name_from_user(data: Mapping[str, Any] | None) -> str:
    """The user's full name, or ''."""
    name = (data or {}).get("name")
    full = name.get("fullName") if isinstance(name, Mapping) else None
    return full if isinstance(full, str) else ""


def zone_from_setting(data: Mapping[str, Any] | None) -> str:
    """The IANA zone of a ``timezone`` setting, or '' when it is not one."""
    value = (data or {}).get("value")
    if not isinstance(value, str):
        return ""
    try:
        zone(value)
    except CadenceError:
        return ""
    return value


USERS_PAGE = 500
"""Users per page of users.list (the Admin SDK's most)."""
MAX_PAGES = 20_000
"""Pages read at most: every loop is bounded."""


class GoogleDirectory:
    """Reporting lines as `admin` reads them; zones with each person's own access."""

    def __init__(self, client_of: Callable[[str], _Client], admin: str) -> None:
        self._client_of = client_of
        self._admin = admin
        self._note = LogOnce(log)
        """Notes an unknown person or group once: the HR page asks on every request."""
        self._lock = threading.Lock()

    def _user(self, email: str) -> Mapping[str, Any] | None:
        client = self._client_of(self._admin)
        request = client.resource("admin", "users").get(userKey=email, projection="full")
        try:
            data: Mapping[str, Any] = client.run(
                request, f"read {email} in the directory", idempotent=True
            )
        except NotFound:
            return None
        return data

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """users.list of the whole account (``customer=my_customer``), every page, as the
        directory's administrator; a suspended user is left out."""
        client = self._client_of(self._admin)
        users = client.resource("admin", "users")
        found: list[tuple[str, str]] = []
        token: str | None = None
        for _page in range(MAX_PAGES):
            request = users.list(
                customer="my_customer",
                projection="full",
                maxResults=USERS_PAGE,
                orderBy="email",
                **({"pageToken": token} if token else {}),
            )
            data = client.run(request, "list the users of the directory", idempotent=True)
            for user in data.get("users") or []:
                if not isinstance(user, Mapping) or user.get("suspended"):
                    continue
                address = str(user.get("primaryEmail") or "").strip().lower()
                boss = manager_from_user(user)
                if "@" in address and boss:
                    found.append((address, boss))
            following = data.get("nextPageToken")
            token = following if isinstance(following, str) and following else None
            if token is None:
                break
        return sorted(found)

    def manager_of(self, email: str) -> str | None:
        """The manager relation of `email` (None for an unknown user or none)."""
        return manager_from_user(self._user(email.strip().lower()))

    def person(self, email: str) -> DirectoryPerson | None:
        """The name (directory) and zone (the person's calendar); no working hours."""
        address = email.strip().lower()
        client = self._client_of(address)
        request = client.resource("calendar", "settings").get(setting="timezone")
        try:
            setting = client.run(request, f"read the time zone of {address}", idempotent=True)
        except NotFound:
            setting = None
        user = self._user(address)
        if user is None and setting is None:
            return None
        return DirectoryPerson(address, name_from_user(user), zone_from_setting(setting))

    def is_member(self, email: str, group: str) -> bool:
        """members.hasMember(`group`, `email`) as the administrator: direct or nested.

        Google checks nested groups only when the person and the group are in the same domain,
        and answers "Invalid Input" otherwise, as for an address it knows no user by (an
        external member, a group): no, here. For those, Cloud Identity's
        checkTransitiveMembership would be needed.
        """
        address, key = email.strip().lower(), group.strip()
        client = self._client_of(self._admin)
        request = client.resource("admin", "members").hasMember(groupKey=key, memberKey=address)
        try:
            data = client.run(request, f"check whether {address} is in {key}", idempotent=True)
        except NotFound:
            self._note(f"the Admin SDK has no group {key}")
            return False
        except InvalidRequest as exc:
            if "invalid input" not in str(exc).lower():
                raise  # a refusal (not an administrator, no scope): the operator must know
            self._note(f"the Admin SDK cannot say whether {address} is in {key}: {exc}")
            return False
        return isinstance(data, Mapping) and data.get("isMember") is True
