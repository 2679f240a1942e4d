"""Admin SDK Directory ``users.get`` and Calendar ``settings.get`` of the Google emulator.

- ``GET admin/directory/v1/users/{userKey}`` (the discovery document's path): the user resource
  with ``relations`` (``{"value": address, "type": "manager"}``) under ``projection=full``, as
  the Admin SDK answers it; only an administrator may read (a non-admin is 403 "Not Authorized
  to access this resource/api"), an unknown user is 404 "Resource Not Found: userKey".
- ``GET admin/directory/v1/users?customer=my_customer``: users.list, paged by ``pageToken``,
  administrators only, as users.get.
- ``GET admin/directory/v1/groups/{groupKey}/hasMember/{memberKey}``: members.hasMember,
  ``{"isMember": bool}``, direct or nested, administrators only (403 as users.get); an unknown
  group is 404 "Resource Not Found: groupKey"; a member key that is no user of the account (an
  external address, a group) is 400 "Invalid Input: memberKey", and so is a nested membership
  across domains, as the Admin SDK documents.
- ``GET calendar/v3/users/me/settings/{setting}``: the caller's own settings (``timezone``,
  ``weekStart``, ...); an unknown setting is 404 notFound.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulators._google_http import ApiError, Call, Reply

_PROJECTIONS = ("basic", "custom", "full")


@dataclass
class Group:
    """A Google group: its address, name, and members' addresses (users or groups)."""

    id: str
    email: str
    name: str
    members: set[str] = field(default_factory=set)


class DirectoryApi:
    """The two directory reads, over the emulator's users."""

    def __init__(
        self,
        known: Callable[[str], bool],
        name_of: Callable[[str], str],
        tz_of: Callable[[str], str],
        everyone: Callable[[], list[str]] = list,
    ) -> None:
        self._known, self._name_of, self._tz_of = known, name_of, tz_of
        self._everyone = everyone
        self.reset()

    def reset(self) -> None:
        """No administrators, no reporting lines, no groups."""
        self.admins: set[str] = set()
        self.managers: dict[str, str] = {}
        self.groups: dict[str, Group] = {}

    def add_group(self, email: str, name: str = "") -> Group:
        """The group `email` (idempotent: a known group keeps its id)."""
        key = email.lower()
        group = self.groups.get(key)
        if group is None:
            group_id = f"0{zlib.crc32(key.encode()):x}grp"
            group = Group(group_id, key, name or key.split("@", maxsplit=1)[0].title())
            self.groups[key] = group
        return group

    def has_member(self, call: Call) -> Reply:
        """members.hasMember."""
        if call.user.lower() not in self.admins:
            raise ApiError(403, "Not Authorized to access this resource/api", "forbidden")
        wanted = call.args["groupKey"].lower()
        group = self.groups.get(wanted) or next(
            (g for g in self.groups.values() if g.id == wanted), None
        )
        if group is None:
            raise ApiError(404, "Resource Not Found: groupKey", "notFound")
        member = call.args["memberKey"].lower()
        if not self._known(member) or member in self.groups:
            raise ApiError(400, "Invalid Input: memberKey", "invalid")
        if member in group.members:
            return Reply(200, {"isMember": True})
        domain = group.email.partition("@")[2]
        nested = self._nested(group, member, set())
        if nested and member.partition("@")[2] != domain:
            raise ApiError(400, "Invalid Input", "invalid")
        return Reply(200, {"isMember": nested})

    def _nested(self, group: Group, member: str, seen: set[str]) -> bool:
        """Whether `member` is in `group` through the groups among its members."""
        seen.add(group.email)
        for inner in (self.groups[m] for m in group.members if m in self.groups):
            if inner.email in seen:
                continue
            if member in inner.members or self._nested(inner, member, seen):
                return True
        return False

    def user(self, call: Call) -> Reply:
        """users.get."""
        if call.user.lower() not in self.admins:
            raise ApiError(403, "Not Authorized to access this resource/api", "forbidden")
        key = call.args["userKey"].lower()
        if not self._known(key):
            raise ApiError(404, "Resource Not Found: userKey", "notFound")
        return Reply(200, self._body(key, self._projection(call)))

    def users(self, call: Call) -> Reply:
        """users.list: the account's users by primary email, paged (``maxResults`` 1-500, 100 by
        default; ``pageToken``); ``customer`` or ``domain`` must say whose."""
        if call.user.lower() not in self.admins:
            raise ApiError(403, "Not Authorized to access this resource/api", "forbidden")
        if not call.query.get("customer") and not call.query.get("domain"):
            raise ApiError(400, "Bad Request", "badRequest")
        projection = self._projection(call)
        size = call.integer("maxResults", 100, 1, 500)
        token = call.query.get("pageToken") or ""
        everyone = sorted(self._everyone())
        start = 0
        if token:
            try:
                start = int(token.removeprefix("p"), 16)
            except ValueError:
                raise ApiError(400, "Invalid Input: pageToken", "invalid") from None
        chosen = everyone[start : start + size]
        body: dict[str, Any] = {
            "kind": "admin#directory#users",
            "etag": f'"{zlib.crc32(",".join(everyone).encode())}"',
            "users": [self._body(key, projection) for key in chosen],
        }
        if start + size < len(everyone):
            body["nextPageToken"] = f"p{start + size:x}"
        return Reply(200, body)

    @staticmethod
    def _projection(call: Call) -> str:
        projection = call.query.get("projection", "basic")
        if projection not in _PROJECTIONS:
            raise ApiError(
                400,
                f"Invalid value for projection: {projection}",
                "invalid",
            )
        return projection

    def _body(self, key: str, projection: str) -> dict[str, Any]:
        name = self._name_of(key) or key.split("@", maxsplit=1)[0].title()
        given, _, family = name.partition(" ")
        body: dict[str, Any] = {
            "kind": "admin#directory#user",
            "id": str(zlib.crc32(key.encode()) * 100_003),
            "primaryEmail": key,
            "name": {"givenName": given, "familyName": family, "fullName": name},
            "isAdmin": key in self.admins,
            "suspended": False,
            "orgUnitPath": "/",
            "emails": [{"address": key, "primary": True}],
        }
        # relations is a "full" field: basic leaves it out, as the Admin SDK does.
        manager = self.managers.get(key)
        if projection == "full" and manager:
            body["relations"] = [{"value": manager, "type": "manager"}]
        return body

    def setting(self, call: Call) -> Reply:
        """settings.get for the caller's own calendar."""
        settings = {
            "timezone": self._tz_of(call.user),
            "weekStart": "1",
            "format24HourTime": "true",
            "locale": "nl",
        }
        wanted = call.args["setting"]
        if wanted not in settings:
            raise ApiError(404, "Not Found", "notFound")
        return Reply(
            200,
            {
                "kind": "calendar#setting",
                "etag": f'"{zlib.crc32(f"{wanted}={settings[wanted]}".encode())}"',
                "id": wanted,
                "value": settings[wanted],
            },
        )
