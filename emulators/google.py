"""A stand-in for Google Calendar v3, Drive v3 and Gmail v1 on one port, as one WSGI app.

Paths are those of the discovery documents google-api-python-client ships (``servicePath``,
``mediaUpload`` paths, ``batchPath``), so a client built from a document whose ``rootUrl`` is this
app's URL reaches it for plain, media-upload and batch requests alike. Every request needs a bearer
token the emulator minted (`GoogleEmulator.token`); state is shared by all users and guarded by one
lock, so the app is safe under a threaded server.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from emulators import _google_batch as batch
from emulators._auth import Tokens
from emulators._google_calendar import CalendarApi
from emulators._google_directory import DirectoryApi
from emulators._google_drive import DriveApi
from emulators._google_gmail import GmailApi, check_scopes
from emulators._google_http import (
    REASONS,
    UNAUTHENTICATED_MESSAGE,
    ApiError,
    Call,
    Reply,
    apply_fields,
    error_json,
    parse_fields,
)
from emulators._wsgi import StartResponse

Handler = Callable[[Call], Reply]


@dataclass
class User:
    """A user of the emulator: a primary calendar, a drive and a mailbox."""

    email: str
    name: str
    tz: str


class GoogleEmulator:
    """The Google APIs the product uses, for any number of users, as a WSGI app."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._users: dict[str, User] = {}
        self._tokens = Tokens("ya29.")  # the prefix of Google's OAuth access tokens
        self.calendar = CalendarApi(self, self._now, self._counter)
        self.drive = DriveApi(self, self._now, self._counter)
        self.gmail = GmailApi(self, self._now, self._counter)
        self.directory = DirectoryApi(self.known, self.name_of, self.tz_of, self._emails)
        self._urls = Map(self._rules(), strict_slashes=False, merge_slashes=False).bind("localhost")

    # -- the shared emulator surface ----------------------------------------------------------

    def add_user(self, email: str, name: str = "", tz: str = "Europe/Amsterdam") -> None:
        """Make `email` a user (idempotent: a known user keeps name and zone)."""
        with self._lock:
            key = email.lower()
            if key not in self._users:
                self._users[key] = User(key, name, tz)
                self.drive.add_user(key)

    def set_manager(self, email: str, manager: str | None) -> None:
        """The Admin SDK's manager relation of `email` (both added if unknown); None removes it."""
        self.add_user(email)
        with self._lock:
            if manager is None:
                self.directory.managers.pop(email.lower(), None)
                return
        self.add_user(manager)
        with self._lock:
            self.directory.managers[email.lower()] = manager.lower()

    def add_group(self, email: str, name: str = "", members: Iterable[str] = ()) -> str:
        """A Google group `email` (idempotent) with `members` added: users (added if unknown)
        or, by their address, groups already made. Returns the group's id."""
        with self._lock:
            group = self.directory.add_group(email, name)
        for member in members:
            if member.lower() not in self.directory.groups:
                self.add_user(member)
            with self._lock:
                group.members.add(member.lower())
        return group.id

    def remove_member(self, email: str, member: str) -> None:
        """Take `member` (a user's or a group's address) out of the group `email`."""
        with self._lock:
            group = self.directory.groups.get(email.lower())
            if group is not None:
                group.members.discard(member.lower())

    def add_admin(self, email: str) -> None:
        """Make `email` a Workspace administrator: it may read the Admin SDK Directory."""
        self.add_user(email)
        with self._lock:
            self.directory.admins.add(email.lower())

    def token(self, email: str, scopes: Iterable[str] | None = None) -> str:
        """A fresh bearer token for `email`, adding the user if unknown; with `scopes` (full
        URIs) Gmail holds it to them, as Google does; without, it may do all."""
        self.add_user(email)
        return self._tokens.mint(email, scopes)

    def revoke(self, email: str) -> None:
        """Every token of `email` answers 401 from now on (consent withdrawn or expired)."""
        self._tokens.revoke(email)

    def user_of(self, environ: dict[str, Any]) -> str | None:
        """The user a request's bearer token belongs to, or None."""
        return self._tokens.owner(environ.get("HTTP_AUTHORIZATION"))

    def error_body(self, status: int, message: str) -> bytes:
        """Google's JSON error body for `status`."""
        return json.dumps(error_json(status, message)).encode()

    def sent(self) -> list[dict[str, Any]]:
        """Every message sent, oldest first, as Gmail Message resources with ``raw``."""
        with self._lock:
            return self.gmail.sent()

    def reset(self) -> None:
        """Forget users, tokens and all content."""
        with self._lock:
            self._users.clear()
            self._tokens.clear()
            self.calendar.reset()
            self.drive.reset()
            self.gmail.reset()
            self.directory.reset()

    # -- directory (what the APIs ask about users) ---------------------------------------------

    def _emails(self) -> list[str]:
        return list(self._users)

    def known(self, email: str) -> bool:
        """Whether `email` is a user."""
        return email.lower() in self._users

    def tz_of(self, email: str) -> str:
        """A user's calendar time zone (UTC for a stranger)."""
        user = self._users.get(email.lower())
        return user.tz if user else "UTC"

    def name_of(self, email: str) -> str:
        """A user's display name ('' when none or unknown)."""
        user = self._users.get(email.lower())
        return user.name if user else ""

    def drive_file(self, file_id: str) -> dict[str, str] | None:
        """Title, type and icon of a Drive file, for calendar attachments."""
        return self.drive.describe(file_id)

    def _now(self) -> datetime:
        return self._clock()

    # -- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        reply = self.dispatch(
            request.method,
            request.path,
            MultiDict(request.args),
            dict(request.headers.items()),
            request.get_data(),
        )
        payload = reply.payload()
        headers = [("Content-Length", str(len(payload)))]
        if payload or reply.status != 204:
            headers.append(("Content-Type", reply.content_type))
        headers.extend(reply.headers.items())
        start_response(f"{reply.status} {REASONS.get(reply.status, 'Unknown')}", headers)
        return [payload]

    def dispatch(
        self,
        method: str,
        path: str,
        query: MultiDict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        """Run one request (from the wire or a batch part) and answer it."""
        try:
            endpoint, args = self._urls.match(path, method=method)
        except MethodNotAllowed:
            return _error(ApiError(405, "Method Not Allowed", "httpMethodNotAllowed"))
        except NotFound:
            return _error(ApiError(404, "Not Found", "notFound"))
        if endpoint == "batch":
            return batch.run(self, args, headers, body)
        content_type = _header(headers, "Content-Type") or ""
        try:
            user = self._tokens.owner(_header(headers, "Authorization"))
            if user is None:
                raise ApiError(
                    401,
                    UNAUTHENTICATED_MESSAGE,
                    "authError",
                    location="Authorization",
                    location_type="header",
                )
            check_scopes(endpoint, self._tokens.scopes(_header(headers, "Authorization")))
            call = Call(user, method, path, args, query, headers, body, content_type)
            handler: Handler = self._handlers[endpoint]
            with self._lock:
                reply = handler(call)
            mask = query.get("fields")
            if mask and reply.data is not None and reply.raw is None:
                reply.data = apply_fields(reply.data, parse_fields(mask))
            return reply
        except ApiError as error:
            return _error(error)

    def _rules(self) -> list[Rule]:
        cal = "/calendar/v3/calendars/<calendarId>/events"
        files = "/drive/v3/files"
        upload = "/upload/drive/v3/files"
        mail = "/gmail/v1/users/<userId>/messages"
        table: list[tuple[str, str, str, Handler]] = [
            (cal, "GET", "calendar.list", self.calendar.list_events),
            (cal, "POST", "calendar.insert", self.calendar.insert),
            (cal + "/<eventId>", "GET", "calendar.get", self.calendar.get),
            (cal + "/<eventId>", "PATCH", "calendar.patch", self.calendar.patch),
            (cal + "/<eventId>", "PUT", "calendar.update", self.calendar.update),
            (cal + "/<eventId>", "DELETE", "calendar.delete", self.calendar.delete),
            (cal + "/<eventId>/instances", "GET", "calendar.instances", self.calendar.instances),
            ("/calendar/v3/freeBusy", "POST", "calendar.freebusy", self.calendar.freebusy),
            (files, "GET", "drive.list", self.drive.list_files),
            (files, "POST", "drive.create", self.drive.create),
            (upload, "POST", "drive.upload", self.drive.create),
            ("/resumable" + upload, "POST", "drive.resumable", self.drive.create),
            (upload, "PUT", "drive.resume", self.drive.resume),
            (upload + "/<fileId>", "PUT", "drive.resume_update", self.drive.resume),
            (files + "/generateIds", "GET", "drive.generateIds", self.drive.generate_ids),
            (files + "/<fileId>", "GET", "drive.get", self.drive.get),
            (files + "/<fileId>", "PATCH", "drive.update", self.drive.update),
            (upload + "/<fileId>", "PATCH", "drive.upload_update", self.drive.update),
            (files + "/<fileId>", "DELETE", "drive.delete", self.drive.delete),
            (files + "/<fileId>/revisions", "GET", "drive.revisions", self.drive.revisions),
            (
                files + "/<fileId>/permissions",
                "POST",
                "drive.permissions.create",
                self.drive.create_permission,
            ),
            (
                files + "/<fileId>/permissions",
                "GET",
                "drive.permissions.list",
                self.drive.list_permissions,
            ),
            (
                files + "/<fileId>/revisions/<revisionId>",
                "GET",
                "drive.revision",
                self.drive.revision,
            ),
            (mail, "GET", "gmail.list", self.gmail.list_messages),
            (mail + "/send", "POST", "gmail.send", self.gmail.send),
            ("/upload" + mail + "/send", "POST", "gmail.upload", self.gmail.send),
            (mail + "/<id>", "GET", "gmail.get", self.gmail.get),
            (
                "/admin/directory/v1/users/<userKey>",
                "GET",
                "directory.users.get",
                self.directory.user,
            ),
            ("/admin/directory/v1/users", "GET", "directory.users.list", self.directory.users),
            (
                "/admin/directory/v1/groups/<groupKey>/hasMember/<memberKey>",
                "GET",
                "directory.members.hasMember",
                self.directory.has_member,
            ),
            (
                "/calendar/v3/users/me/settings/<setting>",
                "GET",
                "calendar.settings.get",
                self.directory.setting,
            ),
        ]
        self._handlers: dict[str, Handler] = {name: fn for _, _, name, fn in table}
        rules = [Rule(path, methods=[verb], endpoint=name) for path, verb, name, _ in table]
        rules.append(Rule("/batch", methods=["POST"], endpoint="batch", defaults={"api": "gmail"}))
        rules.append(Rule("/batch/<api>/<version>", methods=["POST"], endpoint="batch"))
        return rules


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _error(error: ApiError) -> Reply:
    reply = Reply(error.status, error.body())
    if error.status == 401:
        reply.headers["WWW-Authenticate"] = (
            'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        )
    return reply


def split_target(target: str) -> tuple[str, str]:
    """A request target (path or absolute URL) as its decoded path and raw query."""
    parts = urlsplit(target)
    return unquote(parts.path), parts.query
