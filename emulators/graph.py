"""A Microsoft Graph v1.0 emulator: calendars, OneDrive app folders, mail, JSON batching.

`GraphEmulator` is a WSGI app speaking Graph's published REST shapes under ``/v1.0``, for every
path both as ``/me/...`` and ``/users/{id or userPrincipalName}/...``; the tenant's security
groups under ``/groups`` and each user's ``checkMemberGroups``. Each user has a mailbox
(calendar, Sent Items) and a OneDrive. Tokens are opaque strings the emulator mints; a missing,
unknown or revoked token answers 401 ``InvalidAuthenticationToken``. Every answer carries
``request-id`` and ``client-request-id`` headers, every error the OData error body.

One lock guards the store, so the app may be served by a threaded server. ``$batch`` items run
through `batch_target` (the emulator itself unless a wrapping middleware sets itself there, so
that its throttling and faults show per item); each is marked `emulators.network.BATCH_ITEM`, so
the middleware's latency is waited once for the whole batch, as one round trip to Graph is.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from cadence.recurrence import WINDOWS_ZONES, localize
from emulators import _graph_directory, _graph_drive, _graph_mail
from emulators._auth import Tokens
from emulators._graph_calendar import (
    Calendars,
    View,
    availability_view,
    render,
    selected_attachment,
)
from emulators._graph_common import (
    GraphError,
    bad_request,
    date_time_zone,
    is_zone,
    json_response,
    param,
    parse_instant,
    parse_local,
    resolve_zone,
)
from emulators._graph_odata import page, parse_event_expand, parse_filter, parse_select
from emulators._wsgi import StartResponse, WSGIApp
from emulators.network import BATCH_ITEM

TOKEN_PREFIX = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9."
"""A JWT header (typ JWT, alg RS256): Graph's access tokens are JWTs, and tools check the shape."""
SCHEDULE_DAYS = 62
"""getSchedule's longest window (ErrorTimeIntervalTooBig beyond, as Exchange answers)."""
BATCH_LIMIT = 20
"""Graph's JSON batching takes at most 20 requests per call."""

_EVENT_FILTER_FIELDS = ("iCalUId", "subject", "type", "seriesMasterId")
_WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000"'
)
_STATUS_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "ErrorAccessDenied",
    404: "ErrorItemNotFound",
    405: "MethodNotAllowed",
    409: "ErrorConflict",
    412: "ErrorIrresolvableConflict",
    413: "ErrorRequestEntityTooLarge",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceNotAvailable",
    504: "GatewayTimeout",
}


@dataclass
class User:
    """A user of the tenant: id, mail, display name, IANA zone."""

    id: str
    email: str
    name: str
    tz: str


@dataclass
class Call:
    """One request as the handlers see it."""

    request: Request
    user: User
    base: str
    now: datetime
    prefer: dict[str, str]
    path: str
    scopes: frozenset[str] | None = None
    """The delegated permissions of the caller's token (``scp``); None: not held to any."""

    @property
    def owner(self) -> str:
        """The mailbox the path addresses."""
        return self.user.email

    def zone(self) -> str:
        """The zone answers use: ``Prefer: outlook.timezone`` if it is a known zone, else UTC."""
        wanted = self.prefer.get("outlook.timezone")
        return wanted if wanted and is_zone(wanted) else "UTC"

    def json(self) -> dict[str, Any]:
        """The JSON body; 400 when it is not a JSON object."""
        try:
            data = json.loads(self.request.get_data() or b"{}")
        except ValueError as exc:
            raise bad_request("Unable to read JSON request payload.", "BadRequest") from exc
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.", "BadRequest")
        return data

    def arg(self, name: str) -> str | None:
        """A query option, with or without its ``$`` (Graph accepts both)."""
        args = self.request.args
        return args.get(name) or args.get(name.lstrip("$"))

    def url(self) -> str:
        """The absolute URL of this path, for @odata.nextLink."""
        return self.base + "/v1.0" + self.path


def _prefer(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in request.headers.getlist("Prefer"):
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key:
                found[key.strip().lower() if key.startswith("odata") else key.strip()] = (
                    value.strip().strip('"')
                )
    return found


def _windows_name(iana: str) -> str:
    for name, zones in WINDOWS_ZONES.items():
        if iana in zones:
            return name
    return iana


class GraphEmulator:
    """The emulator (a WSGI app). `clock` gives "now" for stamps; by default the wall clock.

    `sent_items_delay` is how many seconds of real time a sent mail takes to show in Sent Items
    (a tenant files it a moment after sendMail's 202; 0, the default, files it at once).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        app_name: str = "Goed Gesprek",
        sent_items_delay: float = 0.0,
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._app_name = app_name
        self._sent_items_delay = sent_items_delay
        self._lock = threading.RLock()
        self.batch_target: WSGIApp = self
        self._tokens = Tokens(TOKEN_PREFIX)
        self.reset()

    # -- the shared emulator surface -----------------------------------------------------------

    def reset(self) -> None:
        """Forget every user, token, event, file and mail."""
        with self._lock:
            self._users: dict[str, User] = {}
            self._tokens.clear()
            outbox = getattr(getattr(self, "_calendars", None), "outbox", None)
            self._calendars = Calendars(self._is_user, self._name_of)
            self._calendars.outbox = outbox  # a relay to another emulator outlives a reset
            self._drives = _graph_drive.Drives(self._app_name)
            self._mail = _graph_mail.Mail(self._sent_items_delay)
            self._managers: dict[str, str] = {}
            self._hours: dict[str, _graph_directory.Hours] = {}
            self._groups: dict[str, _graph_directory.Group] = {}

    def add_user(self, email: str, name: str = "", tz: str = "Europe/Amsterdam") -> None:
        """Make a user known (idempotent: a known user keeps its id)."""
        key = email.lower()
        with self._lock:
            if key in self._users:
                return
            resolve_zone(tz)
            display = name or email.split("@", maxsplit=1)[0].title()
            self._users[key] = User(str(uuid.uuid4()), email, display, tz)
            self._calendars.welcome(key, self._clock())

    def set_manager(self, email: str, manager: str | None) -> None:
        """Make `manager` the manager of `email` (both added if unknown); None removes it."""
        self.add_user(email)
        with self._lock:
            if manager is None:
                self._managers.pop(email.lower(), None)
                return
        self.add_user(manager)
        with self._lock:
            self._managers[email.lower()] = manager.lower()

    def add_group(self, mail: str, name: str = "", members: Iterable[str] = ()) -> str:
        """A security group with address `mail` (idempotent: a known group keeps its id) and
        `members` added: users (added if unknown) or, by their address, groups already made.
        Returns the group's id."""
        key = mail.lower()
        with self._lock:
            group = self._groups.get(key)
            if group is None:
                display = name or mail.split("@", maxsplit=1)[0].title()
                group = _graph_directory.Group(_graph_directory.new_group_id(), mail, display)
                self._groups[key] = group
        for member in members:
            if member.lower() not in self._groups:
                self.add_user(member)
            with self._lock:
                group.members.add(member.lower())
        return group.id

    def remove_member(self, mail: str, member: str) -> None:
        """Take `member` (a user's or a group's address) out of the group `mail`."""
        with self._lock:
            group = self._groups.get(mail.lower())
            if group is not None:
                group.members.discard(member.lower())

    def set_working_hours(
        self, email: str, days: tuple[str, ...], start: time, end: time, tz: str | None = None
    ) -> None:
        """The user's working hours in Outlook (days as MO..SU or Graph names); zone: theirs."""
        self.add_user(email)
        with self._lock:
            user = self._users[email.lower()]
            resolve_zone(tz or user.tz)
            self._hours[email.lower()] = _graph_directory.hours_of(days, start, end, tz or user.tz)

    def token(self, email: str, scopes: Iterable[str] | None = None) -> str:
        """A bearer token for `email` (the user is added if unknown).

        With `scopes` (``Mail.Send``, or ``https://graph.microsoft.com/Mail.Send``) the token is
        held to them for mail, as Graph holds a token to its ``scp``; without, it may do all.
        """
        self.add_user(email)
        return self._tokens.mint(email, scopes)

    def revoke(self, email: str) -> None:
        """Every token of `email` answers 401 from now on (consent expired)."""
        self._tokens.revoke(email)

    def user_of(self, environ: dict[str, Any]) -> str | None:
        """The user a request's bearer token belongs to, or None."""
        owner = self._tokens.owner(environ.get("HTTP_AUTHORIZATION"))
        with self._lock:
            user = self._users.get(owner) if owner else None
            return user.email if user else None

    def error_body(self, status: int, message: str) -> bytes:
        """Graph's OData error body for `status` (for middleware answering on our behalf)."""
        error = GraphError(status, _STATUS_CODES.get(status, "UnknownError"), message)
        return json.dumps(self._error_json(error, str(uuid.uuid4()), str(uuid.uuid4()))).encode()

    def sent(self) -> list[dict[str, Any]]:
        """Every message sent through sendMail, oldest first, as Graph message JSON."""
        with self._lock:
            return self._mail.sent()

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request_id = str(uuid.uuid4())
        client_id = request.headers.get("client-request-id") or request_id
        try:
            response = self._dispatch(request)
        except GraphError as error:
            response = json_response(
                self._error_json(error, request_id, client_id), error.status, error.headers
            )
            if error.status == 401:
                response.headers["WWW-Authenticate"] = _WWW_AUTHENTICATE
        response.headers["request-id"] = request_id
        response.headers["client-request-id"] = client_id
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers["Date"] = format_datetime(datetime.now(UTC), usegmt=True)
        return response(environ, start_response)

    def _error_json(self, error: GraphError, request_id: str, client_id: str) -> dict[str, Any]:
        return {
            "error": {
                "code": error.code,
                "message": error.message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": client_id,
                },
            }
        }

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_download/"):
            with self._lock:
                return self._drives.download(path.removeprefix("/_download/"), self._clock())
        if not path.startswith("/v1.0/"):
            raise GraphError(400, "BadRequest", f"Invalid version: {path.split('/')[1]}")
        rest = path.removeprefix("/v1.0")
        caller = self._authenticate(request)
        if rest == "/$batch":
            if request.method != "POST":
                raise _not_allowed()
            return self._batch(request)
        if rest.rstrip("/").lower() == "/users":
            if request.method != "GET":
                raise _not_allowed()
            with self._lock:
                users = [(u.id, u.email, u.name) for u in self._users.values()]
                body = _graph_directory.list_users(
                    users,
                    dict(self._managers),
                    dict(request.args),
                    request.host_url.rstrip("/") + "/v1.0/users",
                )
            return json_response(body)
        if rest.rstrip("/").lower() == "/groups":
            if request.method != "GET":
                raise _not_allowed()
            with self._lock:
                body = _graph_directory.list_groups(
                    list(self._groups.values()),
                    dict(request.args),
                    request.host_url.rstrip("/") + "/v1.0/groups",
                )
            return json_response(body)
        member_of = _CHECK_MEMBER_GROUPS.match(rest)
        if member_of:
            return self._check_member_groups(request, caller, member_of[1])
        with self._lock:
            call = self._call(request, caller, rest)
            call.scopes = self._tokens.scopes(request.headers.get("Authorization"))
            return self._route(call)

    def _check_member_groups(self, request: Request, caller: User, wanted: str | None) -> Response:
        """A directory question, not a mailbox's: any signed-in user may ask it of anyone (as
        with ``GroupMember.Read.All``); an unknown user is 404 ``Request_ResourceNotFound``."""
        if request.method != "POST":
            raise _not_allowed()
        with self._lock:
            user = caller
            if wanted is not None:
                key = wanted.strip("'").lower()
                found = self._users.get(key) or next(
                    (u for u in self._users.values() if u.id == key), None
                )
                if found is None:
                    raise _graph_directory.not_found(wanted)
                user = found
            ids = _graph_directory.group_ids_of(_json_body(request))
            body = _graph_directory.check_member_groups(
                list(self._groups.values()), user.email, ids
            )
        return json_response(body)

    def _authenticate(self, request: Request) -> User:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        owner = self._tokens.owner(header)
        with self._lock:
            user = self._users.get(owner) if owner else None
        if user is None:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        return user

    def _call(self, request: Request, caller: User, rest: str) -> Call:
        """Resolve ``/me`` or ``/users/{id|upn}``; another user's mailbox is 403 (delegated)."""
        match = re.match(r"^/(?:me|users/([^/]+))(/.*)?$", rest, re.IGNORECASE)
        if not match:
            raise GraphError(
                400, "BadRequest", f"Resource not found for the segment '{rest.split('/')[1]}'."
            )
        user = caller
        if match[1] is not None:
            wanted = match[1].strip("'").lower()
            found = self._users.get(wanted) or next(
                (u for u in self._users.values() if u.id == wanted), None
            )
            if found is None:
                raise GraphError(
                    404, "ErrorInvalidUser", f"The requested user '{match[1]}' is invalid."
                )
            if found is not caller:
                raise GraphError(
                    403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
                )
            user = found
        base = request.host_url.rstrip("/")
        return Call(request, user, base, self._clock(), _prefer(request), rest)

    def _is_user(self, email: str) -> bool:
        return email.lower() in self._users

    def _name_of(self, email: str) -> str:
        user = self._users.get(email.lower())
        return user.name if user else ""

    # -- routing -------------------------------------------------------------------------------

    def _route(self, call: Call) -> Response:
        tail = re.sub(r"^/(?:me|users/[^/]+)", "", call.path, flags=re.IGNORECASE)
        method = call.request.method
        for pattern, handlers in self._routes():
            match = re.match(pattern, tail, re.IGNORECASE)
            if match:
                handler = handlers.get(method)
                if handler is None:
                    raise _not_allowed()
                return handler(call, *match.groups())
        drive = _graph_drive.match(tail)
        if drive is not None:
            return self._drives.handle(call, drive)
        raise GraphError(
            400, "BadRequest", f"Resource not found for the segment '{tail.split('/')[1]}'."
        )

    def _routes(self) -> list[tuple[str, dict[str, Callable[..., Response]]]]:
        ev = r"^(?:/calendar)?/events"
        return [
            (ev + r"$", {"GET": self._list_events, "POST": self._create_event}),
            (
                ev + r"/([^/]+)$",
                {"GET": self._get_event, "PATCH": self._patch_event, "DELETE": self._delete_event},
            ),
            (ev + r"/([^/]+)/instances$", {"GET": self._instances}),
            (ev + r"/([^/]+)/(accept|tentativelyAccept|decline)$", {"POST": self._respond}),
            (
                ev + r"/([^/]+)/attachments$",
                {"GET": self._list_attachments, "POST": self._add_attachment},
            ),
            (
                ev + r"/([^/]+)/attachments/([^/]+)$",
                {"GET": self._get_attachment, "DELETE": self._delete_attachment},
            ),
            (ev + r"/([^/]+)/attachments/([^/]+)/\$value$", {"GET": self._attachment_value}),
            (r"^(?:/calendar)?/calendarView$", {"GET": self._calendar_view}),
            (r"^/calendar/getSchedule$", {"POST": self._get_schedule}),
            (r"^/sendMail$", {"POST": self._send_mail}),
            (r"^/manager$", {"GET": self._manager}),
            (r"^/mailboxSettings$", {"GET": self._mailbox_settings}),
            (
                r"^/mailFolders(?:/([^/]+)|\('([^']+)'\))/messages$",
                {"GET": self._folder_messages},
            ),
            (r"^/messages/([^/]+)$", {"GET": self._get_message}),
            (r"^/messages/([^/]+)/\$value$", {"GET": self._message_value}),
        ]

    # -- directory -----------------------------------------------------------------------------

    def _manager(self, call: Call) -> Response:
        boss = self._users.get(self._managers.get(call.user.email.lower(), ""))
        found = None if boss is None else _graph_directory.user_json(boss.id, boss.email, boss.name)
        context = "https://graph.microsoft.com/v1.0/$metadata#directoryObjects/$entity"
        select = parse_select(call.arg("$select"))
        return json_response(_graph_directory.manager_json(found, select, context))

    def _mailbox_settings(self, call: Call) -> Response:
        context = self._context(call, "mailboxSettings")
        hours = self._hours.get(call.user.email.lower())
        return json_response(
            _graph_directory.mailbox_settings_json(call.user.tz, hours, _windows_name, context)
        )

    # -- events --------------------------------------------------------------------------------

    def _render(self, call: Call, view: View) -> dict[str, Any]:
        expand = parse_event_expand(call.arg("$expand"))
        return render(
            view,
            call.zone(),
            organizer_name=self._name_of(view.meeting.organizer) or view.meeting.organizer_name,
            select=parse_select(call.arg("$select")),
            expand=expand.properties,
            attachments=expand.attachments,
            attachment_select=expand.attachment_select,
        )

    def _context(self, call: Call, what: str) -> str:
        return f"https://graph.microsoft.com/v1.0/$metadata#users('{call.user.id}')/{what}"

    def _entity(self, call: Call, view: View, status: int = 200) -> Response:
        data = {"@odata.context": self._context(call, "events/$entity"), **self._render(call, view)}
        headers = {"ETag": data["@odata.etag"]} if "@odata.etag" in data else {}
        if "outlook.timezone" in call.prefer:
            headers["Preference-Applied"] = f'outlook.timezone="{call.zone()}"'
        return json_response(data, status, headers)

    def _collection(self, call: Call, views: list[View], what: str) -> Response:
        predicate = parse_filter(call.arg("$filter"), _EVENT_FILTER_FIELDS)
        rendered: list[dict[str, Any]] = []
        for view in views:
            data = self._render(call, view)
            if predicate is None or predicate(
                {"iCalUId": view.ical_uid(), "type": view.kind, **data}, view.properties()
            ):
                rendered.append(data)
        args = {k: v for k, v in call.request.args.items()}
        cut = page(rendered, args, call.prefer, call.url(), default=10)
        body: dict[str, Any] = {"@odata.context": self._context(call, what), "value": cut.items}
        if cut.next_link:
            body["@odata.nextLink"] = cut.next_link
        headers = {}
        applied = []
        if cut.applied:
            applied.append(f"odata.maxpagesize={cut.applied}")
        if "outlook.timezone" in call.prefer:
            applied.append(f'outlook.timezone="{call.zone()}"')
        if applied:
            headers["Preference-Applied"] = ", ".join(applied)
        return json_response(body, 200, headers)

    def _create_event(self, call: Call) -> Response:
        view, _created = self._calendars.create(call.owner, call.json(), call.now)
        # The docs are silent on a repeated transactionId; a tenant answers 201 with the first
        # event and creates nothing.
        response = self._entity(call, view, 201)
        response.headers["Location"] = (
            f"https://graph.microsoft.com/v1.0/Users('{call.user.id}')/Events('{view.id}')"
        )
        return response

    def _list_events(self, call: Call) -> Response:
        return self._collection(call, self._calendars.events(call.owner), "events")

    def _get_event(self, call: Call, event_id: str) -> Response:
        return self._entity(call, self._calendars.view(call.owner, event_id))

    def _patch_event(self, call: Call, event_id: str) -> Response:
        view = self._calendars.patch(
            call.owner, event_id, call.json(), call.request.headers.get("If-Match"), call.now
        )
        return self._entity(call, self._calendars.view(call.owner, view.id))

    def _delete_event(self, call: Call, event_id: str) -> Response:
        self._calendars.delete(call.owner, event_id, call.request.headers.get("If-Match"), call.now)
        return Response(status=204)

    def _window(self, call: Call) -> tuple[datetime, datetime]:
        lo = parse_instant(call.request.args.get("startDateTime"), "startDateTime")
        hi = parse_instant(call.request.args.get("endDateTime"), "endDateTime")
        return lo, hi

    def _instances(self, call: Call, event_id: str) -> Response:
        lo, hi = self._window(call)
        view = self._calendars.view(call.owner, event_id)
        if view.original is not None or view.meeting.recurrence is None:
            found = [view] if view.original is None else []
        else:
            found = [
                v
                for v in self._calendars.occurrences(view.item, lo, hi)
                if self._calendars.visible(call.owner, v)
            ]
        return self._collection(call, found, "events")

    def _calendar_view(self, call: Call) -> Response:
        lo, hi = self._window(call)
        return self._collection(call, self._calendars.calendar_view(call.owner, lo, hi), "events")

    def _respond(self, call: Call, event_id: str, action: str) -> Response:
        call.json()
        self._calendars.respond(call.owner, event_id, action, call.now)
        return Response(status=202)

    # -- attachments ---------------------------------------------------------------------------

    def _list_attachments(self, call: Call, event_id: str) -> Response:
        view = self._calendars.view(call.owner, event_id)
        select = parse_select(call.arg("$select"))
        value = [selected_attachment(a, select) for a in view.attachments()]
        return json_response(
            {
                "@odata.context": self._context(call, f"events('{event_id}')/attachments"),
                "value": value,
            }
        )

    def _add_attachment(self, call: Call, event_id: str) -> Response:
        attachment = self._calendars.add_attachment(call.owner, event_id, call.json(), call.now)
        context = self._context(call, f"events('{event_id}')/attachments/$entity")
        return json_response({"@odata.context": context, **attachment.to_json()}, 201)

    def _get_attachment(self, call: Call, event_id: str, attachment_id: str) -> Response:
        attachment = self._calendars.attachment(call.owner, event_id, attachment_id)
        context = self._context(call, f"events('{event_id}')/attachments/$entity")
        return json_response({"@odata.context": context, **attachment.to_json()})

    def _attachment_value(self, call: Call, event_id: str, attachment_id: str) -> Response:
        attachment = self._calendars.attachment(call.owner, event_id, attachment_id)
        return Response(attachment.content, content_type=attachment.content_type)

    def _delete_attachment(self, call: Call, event_id: str, attachment_id: str) -> Response:
        self._calendars.delete_attachment(call.owner, event_id, attachment_id, call.now)
        return Response(status=204)

    # -- getSchedule ---------------------------------------------------------------------------

    def _get_schedule(self, call: Call) -> Response:
        body = call.json()
        schedules = param(body, "schedules")
        if not isinstance(schedules, list) or not schedules:
            raise bad_request("The 'schedules' parameter is required.", "ErrorInvalidParameter")
        if len(schedules) > 100:
            raise bad_request("At most 100 schedules can be requested.", "ErrorInvalidParameter")
        lo, lo_zone = self._schedule_time(body, "startTime")
        hi, _ = self._schedule_time(body, "endTime")
        if hi <= lo:
            raise bad_request("The endTime must be after the startTime.", "ErrorInvalidParameter")
        days = math.ceil((hi - lo) / timedelta(days=1))
        if days > SCHEDULE_DAYS:
            raise bad_request(
                "The requested time duration specified for FreeBusyViewOptions.TimeWindow is "
                f"too long. The allowed limit = {SCHEDULE_DAYS} days; the actual limit = "
                f"{days} days.",
                "ErrorTimeIntervalTooBig",
            )
        interval = param(body, "availabilityViewInterval", 30)
        if not isinstance(interval, int) or not 5 <= interval <= 1440:
            raise bad_request(
                "availabilityViewInterval must be 5-1440 minutes.", "ErrorInvalidParameter"
            )
        value = [self._schedule(call, str(s), (lo, hi), lo_zone, interval) for s in schedules]
        context = "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)"
        return json_response({"@odata.context": context, "value": value})

    @staticmethod
    def _schedule_time(body: Mapping[str, Any], key: str) -> tuple[datetime, str]:
        value = param(body, key)
        if not isinstance(value, Mapping):
            raise bad_request(f"The '{key}' parameter is required.", "ErrorInvalidParameter")
        zone_name = str(value.get("timeZone") or "UTC")
        local = parse_local(value.get("dateTime"), key)
        return localize(local, resolve_zone(zone_name)), zone_name

    def _schedule(
        self,
        call: Call,
        address: str,
        window: tuple[datetime, datetime],
        zone_name: str,
        interval: int,
    ) -> dict[str, Any]:
        lo, hi = window
        user = self._users.get(address.lower())
        if user is None:
            return {
                "scheduleId": address,
                "availabilityView": "",
                "error": {
                    "message": f"The requested user '{address}' is invalid.",
                    "responseCode": "ErrorInvalidUser",
                },
                "scheduleItems": [],
                "workingHours": None,
            }
        busy = self._calendars.busy(user.email, lo, hi)
        own = user is call.user
        items = []
        spans = []
        for view, status in busy:
            start, end, _, _ = view.times()
            spans.append((start, end, status))
            fields = view.fields()
            item: dict[str, Any] = {
                "isPrivate": fields.get("sensitivity") in ("private", "confidential"),
                "status": status,
                "start": date_time_zone(start, zone_name),
                "end": date_time_zone(end, zone_name),
            }
            if own and not item["isPrivate"]:
                # Others see only free/busy by default; the caller sees its own details.
                item["subject"] = fields.get("subject", "")
                item["location"] = fields.get("location", {}).get("displayName", "")
            items.append(item)
        return {
            "scheduleId": address,
            "availabilityView": availability_view(spans, lo, hi, interval),
            "scheduleItems": items,
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": _windows_name(user.tz)},
            },
        }

    # -- mail ----------------------------------------------------------------------------------

    def _send_mail(self, call: Call) -> Response:
        _graph_mail.require(call.scopes, _graph_mail.SEND_SCOPES)
        self._mail.send(call, self._name_of(call.owner))
        return Response(status=202)

    def _folder_messages(self, call: Call, plain: str | None, quoted: str | None) -> Response:
        _graph_mail.require(call.scopes, _graph_mail.LIST_SCOPES)
        folder = (plain or quoted or "").lower()
        messages = self._mail.folder(call.owner, folder)
        return self._mail.collection(call, messages, self._context(call, "messages"))

    def _get_message(self, call: Call, message_id: str) -> Response:
        _graph_mail.require(call.scopes, _graph_mail.LIST_SCOPES)
        return self._mail.entity(call, message_id, self._context(call, "messages/$entity"))

    def _message_value(self, call: Call, message_id: str) -> Response:
        _graph_mail.require(call.scopes, _graph_mail.READ_SCOPES)
        return self._mail.mime(call, message_id)

    # -- $batch --------------------------------------------------------------------------------

    def _batch(self, request: Request) -> Response:
        try:
            payload = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise bad_request("Unable to read JSON request payload.", "BadRequest") from exc
        steps = payload.get("requests") if isinstance(payload, dict) else None
        if not isinstance(steps, list) or not steps:
            raise bad_request("The batch request must have a 'requests' collection.", "BadRequest")
        if len(steps) > BATCH_LIMIT:
            raise bad_request(
                f"Number of batch request steps exceeds the maximum of {BATCH_LIMIT}.",
                "BadRequest",
            )
        ids: list[str] = []
        for step in steps:
            if not isinstance(step, dict) or not all(k in step for k in ("id", "method", "url")):
                raise bad_request(
                    "Each batch request needs an id, a method and a url.", "BadRequest"
                )
            ids.append(str(step["id"]))
        if len(set(ids)) != len(ids):
            raise bad_request("Batch request ids must be unique.", "BadRequest")
        for step in steps:
            for dep in step.get("dependsOn") or []:
                if str(dep) not in ids:
                    raise bad_request(
                        f"Request {step['id']} depends on {dep}, which is not in the batch.",
                        "BadRequest",
                    )
        results: dict[str, dict[str, Any]] = {}
        pending = list(steps)
        for _ in range(len(steps) + 1):
            if not pending:
                break
            for step in list(pending):
                deps = [str(d) for d in step.get("dependsOn") or []]
                if any(d not in results for d in deps):
                    continue
                pending.remove(step)
                failed = [d for d in deps if results[d]["status"] >= 400]
                results[str(step["id"])] = (
                    self._failed_dependency(str(step["id"]))
                    if failed
                    else self._run_step(request, step)
                )
        for step in pending:  # a dependency cycle
            results[str(step["id"])] = self._failed_dependency(str(step["id"]))
        return json_response({"responses": [results[i] for i in ids]})

    def _failed_dependency(self, step_id: str) -> dict[str, Any]:
        error = GraphError(424, "FailedDependency", "A request this one depends on failed.")
        request_id = str(uuid.uuid4())
        return {
            "id": step_id,
            "status": 424,
            "headers": {"Content-Type": "application/json"},
            "body": self._error_json(error, request_id, request_id),
        }

    def _run_step(self, outer: Request, step: Mapping[str, Any]) -> dict[str, Any]:
        step_id = str(step["id"])
        url = str(step["url"])
        if urlsplit(url).scheme or url.startswith("//"):
            request_id = str(uuid.uuid4())
            error = GraphError(400, "BadRequest", "Invalid request URL: use a relative URL.")
            return {
                "id": step_id,
                "status": 400,
                "headers": {"Content-Type": "application/json"},
                "body": self._error_json(error, request_id, request_id),
            }
        environ = self._step_environ(outer, step, url)
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured["status"] = int(status.split(maxsplit=1)[0])
            captured["headers"] = headers
            return lambda _: None

        chunks = self.batch_target(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        headers = Headers(captured.get("headers", []))
        kept = {
            k: v
            for k, v in headers.items()
            if k.lower()
            in (
                "content-type",
                "location",
                "retry-after",
                "etag",
                "preference-applied",
                "odata-version",
            )
        }
        result: dict[str, Any] = {
            "id": step_id,
            "status": captured.get("status", 500),
            "headers": kept,
        }
        if body:
            content_type = headers.get("Content-Type", "")
            base64_in = step.get("body") is not None and not isinstance(
                step.get("body"), dict | list
            )
            if "json" in content_type and not base64_in:
                result["body"] = json.loads(body)
            else:
                # Non-JSON bodies come back base64-encoded in a batch answer, and so does any
                # answer to a request whose own body was (an upload's item, for one).
                result["body"] = base64.b64encode(body).decode()
        return result

    @staticmethod
    def _step_environ(outer: Request, step: Mapping[str, Any], url: str) -> dict[str, Any]:
        parts = urlsplit(url if url.startswith("/") else "/" + url)
        environ: dict[str, Any] = {
            key: value
            for key, value in outer.environ.items()
            if key.startswith(("wsgi.", "SERVER_", "REMOTE_")) or key in ("HTTP_HOST",)
        }
        body = step.get("body")
        headers = {str(k): str(v) for k, v in (step.get("headers") or {}).items()}
        lowered = {k.lower(): v for k, v in headers.items()}
        if body is None:
            data = b""
        elif isinstance(body, dict | list):
            data = json.dumps(body).encode()
        else:
            # A body that is not a JSON object or array is a base64 (URL-safe allowed) value.
            data = _base64(str(body))
        environ.update(
            {
                "REQUEST_METHOD": str(step["method"]).upper(),
                "SCRIPT_NAME": "",
                "PATH_INFO": "/v1.0" + _unquote_path(parts.path),
                "QUERY_STRING": parts.query,
                "CONTENT_LENGTH": str(len(data)),
                "CONTENT_TYPE": lowered.get("content-type", "application/json" if data else ""),
                "wsgi.input": io.BytesIO(data),
                BATCH_ITEM: True,
            }
        )
        authorization = outer.headers.get("Authorization")
        if authorization and "authorization" not in lowered:
            environ["HTTP_AUTHORIZATION"] = authorization
        for key, value in headers.items():
            if key.lower() == "content-type":
                continue
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        return environ


def _base64(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except ValueError:
        return value.encode()


def _unquote_path(path: str) -> str:
    """The path as a WSGI server gives it: percent-decoded, its UTF-8 bytes as latin-1."""
    return unquote(path).encode("utf-8").decode("latin-1")


_CHECK_MEMBER_GROUPS = re.compile(r"^/(?:me|users/([^/]+))/checkMemberGroups/?$", re.IGNORECASE)


def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 as Graph answers a body it cannot read."""
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise bad_request("Unable to read JSON request payload.", "BadRequest") from exc
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.", "BadRequest")
    return data


def _not_allowed() -> GraphError:
    return GraphError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )
