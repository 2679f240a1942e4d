"""Google Calendar, Drive and Gmail behind the ports, through google-api-python-client.

`GoogleAccount` builds one client per user from the discovery documents shipped with the library
(no discovery fetch), with ``rootUrl`` replaced by the configured endpoint before the client is
built. That is the only way batch and media-upload URLs follow a custom endpoint: a client built
with ``client_options={"api_endpoint": ...}`` still sends batches to googleapis.com and media
uploads to the endpoint's host over https (see ``tests/emulators/test_google_sdk_endpoint.py``).

Threads: ``httplib2.Http`` is not thread-safe, and the app calls the ports from a thread pool.
Every client holds a `_ThreadLocalHttp`, which gives each thread its own ``AuthorizedHttp`` over
its own ``httplib2.Http`` (so its own connection); the clients and ports are shared. The
library's built clients and resources are shared by every user of an account (`_Library`): they
only build requests, and each request is sent through its user's http.
`GoogleAccount.close` closes every thread's connections and ends the parallel-read pool.

Retries: the library retries nothing (``num_retries=0``) and never honours Retry-After, so every
call goes through the one `RetryPolicy`, and only calls that are safe to repeat are retried:
reads, creates under a client-chosen id (events, Drive files from ``files.generateIds``), event
patches without If-Match (setting the same fields again changes nothing more) and a mail whose
send surely did not reach Gmail (`send_error`; one that may have is never repeated). A repeat
that can meet its own lost success goes through `RetryPolicy.call_resolving`: a delete
(NotFound on a repeat: done), an event patch under If-Match (412 on a repeat: read the event,
ours if it shows the patch) and a Drive write (a new head on a repeat: ours if its MD5 is that
of the bytes we sent).
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import http.client
import json
import logging
import socket
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import Any, TypeVar

import google.auth.credentials
import google.auth.exceptions
import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest, MediaInMemoryUpload

from connectors._google_map import (
    FILE_FIELDS,
    FOLDER_MIME,
    JSON,
    VERSION_PROPERTY,
    busy_from_google,
    drive_quote,
    error_from_status,
    event_id_for,
    file_info_from_drive,
    from_google_event,
    message_id_for,
    revision_infos,
    rfc3339,
    to_gmail_raw,
    to_google_attachment,
    to_google_event,
    to_google_patch,
)
from connectors._retry import RetryPolicy, is_transient, slowest
from connectors.directory_google import GoogleDirectory
from connectors.errors import (
    AuthExpired,
    Conflict,
    ConnectorError,
    InvalidRequest,
    NotFound,
    SendUncertain,
    Unavailable,
)
from connectors.memory import check_mail, check_name, check_preconditions
from connectors.models import (
    AttachmentInfo,
    Busy,
    Event,
    EventPatch,
    File,
    FileInfo,
    Mail,
    NewEvent,
    SentMail,
    windows,
)

T = TypeVar("T")
log = logging.getLogger(__name__)
Credentials = google.auth.credentials.Credentials
CredentialSource = Credentials | Callable[[str], Credentials]

SEND_UPDATES = "externalOnly"
"""Google mails guests outside Google Workspace (a manager on Microsoft 365) the invitation, its
updates and its cancellation; guests inside see the event without a mail, as before. Without it
Google sends nothing to outside guests."""
APP_FOLDER = "Goed Gesprek"
"""The folder the app creates in each user's Drive (scope ``drive.file``: it sees only its own)."""

_APIS = {
    "calendar": ("calendar", "v3"),
    "drive": ("drive", "v3"),
    "gmail": ("gmail", "v1"),
    # The Admin SDK Directory, for reporting lines (`connectors.directory_google`).
    "admin": ("admin", "directory_v1"),
}
_PAGES = 200  # every paging loop stops here: 200 full pages are far beyond one user's year
_EVENT_PAGE = 2500
"""events.list and events.instances maxResults: the most Google allows ("The page size can never
be larger than 2500 events", the discovery document), so a busy year is one request, not ten."""
_EVENTS_KEPT = 1000  # events a person's memory keeps, for a change without reading them again
_FREEBUSY_ITEMS = 50  # calendarExpansionMax: at most 50 calendars per freebusy.query
_FREEBUSY_SPAN = timedelta(days=90)  # a longer span is refused: "timeRangeTooLong"
_BATCH_MAX = 50  # Calendar's documented limit per batch (Drive allows 100)


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """Runs the second of two reads sent at once (each thread has its own connection)."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="google-parallel")


# -- discovery documents: parsed once per process ---------------------------------------------

_DOCS: dict[tuple[str, str | None], JSON] = {}
_DOCS_LOCK = threading.Lock()


def discovery_document(api: str, root_url: str | None = None) -> JSON:
    """The shipped discovery document of `api` (calendar, drive, gmail), rooted at `root_url`.

    ``rootUrl`` and what is derived from it (``baseUrl``, ``mtlsRootUrl``) are replaced, so
    the client's batch URI (rootUrl + batchPath) and media-upload URLs (rootUrl + "upload/" +
    servicePath + path) go to `root_url` too. Parsed once per process and per root; callers
    get the shared dict and must not change it.
    """
    if root_url is not None and not root_url.endswith("/"):
        root_url += "/"
    key = (api, root_url)
    with _DOCS_LOCK:
        cached = _DOCS.get(key)
        if cached is not None:
            return cached
    if root_url is None:
        name, version = _APIS[api]
        text = get_static_doc(name, version)
        if text is None:
            raise Unavailable(f"the Google client library ships no {name} {version} document")
        doc: JSON = json.loads(text)
    else:
        root = root_url
        doc = dict(discovery_document(api))
        doc["rootUrl"] = root
        doc["mtlsRootUrl"] = root
        doc["baseUrl"] = root + doc["servicePath"]
    with _DOCS_LOCK:
        return _DOCS.setdefault(key, doc)


class _ThreadLocalHttp:
    """An http object for the client library that gives each thread its own connection.

    Exposes `credentials` as ``AuthorizedHttp`` does, so batch requests authorize their parts.
    """

    def __init__(self, credentials: Credentials, timeout: float) -> None:
        self.credentials = credentials
        self._timeout = timeout
        self._local = threading.local()
        self._every: list[google_auth_httplib2.AuthorizedHttp] = []  # each thread's, to close
        self._lock = threading.Lock()

    def _http(self) -> google_auth_httplib2.AuthorizedHttp:
        authorized = getattr(self._local, "http", None)
        if authorized is None:
            authorized = google_auth_httplib2.AuthorizedHttp(
                self.credentials, http=httplib2.Http(timeout=self._timeout)
            )
            self._local.http = authorized
            with self._lock:
                self._every.append(authorized)
        return authorized

    def request(self, uri: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        """Send through this thread's ``AuthorizedHttp``."""
        return self._http().request(uri, method, *args, **kwargs)

    def one_shot(self) -> google_auth_httplib2.AuthorizedHttp:
        """A new ``AuthorizedHttp`` on a new connection that sends each request at most once
        (`_OnceHttp`); the caller closes it."""
        return google_auth_httplib2.AuthorizedHttp(
            self.credentials, http=_OnceHttp(timeout=self._timeout)
        )

    def close(self) -> None:
        """Close every thread's connections (a later request opens a new one)."""
        with self._lock:
            every = list(self._every)
        for authorized in every:
            authorized.close()


class _Resent(Exception):
    """httplib2 was about to send a request a second time (see `_OnceHttp`)."""


class _OnceHttp(httplib2.Http):  # type: ignore[misc]
    """An ``httplib2.Http`` that puts each request on the wire at most once.

    httplib2 sends a request again on a new connection when the first gets no status line (the
    server closed the connection: ``RemoteDisconnected``), to get past a stale kept connection.
    For a mail, the first may have been sent: the second try raises `_Resent` instead. Used
    fresh for each send, it holds no kept connection that could be stale.
    """

    def _conn_request(
        self, conn: Any, request_uri: str, method: str, body: Any, headers: Any
    ) -> Any:
        sent = False
        send = conn.request

        def once(*args: Any, **kwargs: Any) -> Any:
            nonlocal sent
            if sent:
                raise _Resent(f"{method} {request_uri}: the connection closed without an answer")
            sent = True
            return send(*args, **kwargs)

        conn.request = once
        try:
            return super()._conn_request(conn, request_uri, method, body, headers)
        finally:
            conn.request = send


# -- errors: mapped once ----------------------------------------------------------------------

_NETWORK_ERRORS = (
    TimeoutError,
    ConnectionError,
    http.client.HTTPException,
    httplib2.HttpLib2Error,
    OSError,
)


def map_error(error: BaseException, what: str) -> ConnectorError:
    """The connector error for anything a Google call raised while doing `what`."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, HttpError):
        headers = {str(k): str(v) for k, v in dict(error.resp or {}).items()}
        return error_from_status(int(error.resp.status), headers, error.content or b"", what)
    if isinstance(error, google.auth.exceptions.RefreshError):
        if getattr(error, "retryable", False):
            # google-auth marks a 5xx or 429 of the token endpoint (and OAuth's server_error,
            # temporarily_unavailable) retryable: Google is away, the grant is fine.
            return Unavailable(
                f"{what}: Google's sign-in service did not answer ({error}): try again later"
            )
        return AuthExpired(f"{what}: the Google sign-in expired ({error}): sign in again")
    if isinstance(error, (google.auth.exceptions.TransportError, *_NETWORK_ERRORS)):
        kind = type(error).__name__
        return Unavailable(f"{what}: Google did not answer ({kind}: {error}): try again later")
    if isinstance(error, ValueError | UnicodeDecodeError):
        # The library parses the body itself; a body that is not JSON is a broken answer.
        return Unavailable(f"{what}: Google's answer did not parse ({error}): try again later")
    raise error


_NOT_SENT = (ConnectionRefusedError, socket.gaierror, httplib2.ServerNotFoundError)
"""Network failures before a request left: no connection was made."""


def send_error(error: BaseException, what: str) -> ConnectorError:
    """The connector error for a failed Gmail send (see `connectors.errors.SendUncertain`).

    Not sent, so safe to try again: our own error or the token's refresh (before the request),
    no connection, or an answer below 500 (429, ``rateLimitExceeded``, 4xx: Gmail refused it).
    Anything else may have reached Gmail: a 5xx, a timeout or a dropped connection after the
    request went out, an unreadable answer.
    """
    if isinstance(error, _Resent):
        mapped: ConnectorError = Unavailable(f"{what}: Google did not answer ({error})")
    else:
        mapped = map_error(error, what)
        if error is mapped or isinstance(error, google.auth.exceptions.GoogleAuthError):
            return mapped
        if isinstance(error, _NOT_SENT):
            return mapped
        if isinstance(error, HttpError) and int(error.resp.status) < 500:
            return mapped
    return SendUncertain(
        f"{mapped}; the mail may or may not have gone, and it is not sent again so that it "
        "cannot arrive twice"
    )


class _Unsent:
    """The http the shared clients are built over. Nothing is sent through it: every request
    goes through its user's http (`_Client.once`, `_Client.batch`), and one that did not would
    fail here rather than go out without the user's token."""

    credentials = None  # the library's universe check then assumes googleapis.com, as ours are

    def request(self, uri: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        """Refuse: a request must be sent through its user's client."""
        raise RuntimeError(f"{method} {uri}: a Google request must go through its user's client")


class _Library:
    """The built clients and resources of one endpoint, shared by every user's client.

    The library builds a new ``Resource`` on every ``service.events()``: it turns each method of
    the discovery document into a function again, about 2/3 of a call's own CPU, and a client
    lent for one add-on request would pay it again on every request. A resource only builds
    requests and keeps no state between calls, so one is shared by users and threads; the user's
    http is given to each request when it is sent.
    """

    def __init__(self, root_url: str | None) -> None:
        """Build nothing yet: each client and resource on first use."""
        self._root_url = root_url
        self._http = _Unsent()
        self._services: dict[str, Any] = {}
        self._resources: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()

    def service(self, api: str) -> Any:
        """The built client for `api`."""
        with self._lock:
            built = self._services.get(api)
            if built is None:
                doc = discovery_document(api, self._root_url)
                built = build_from_document(doc, http=self._http)
                self._services[api] = built
            return built

    def resource(self, api: str, *path: str) -> Any:
        """The resource at `path` of `api` (``"events"``; ``"users", "messages"``)."""
        key = (api, *path)
        found = self._resources.get(key)  # a dict read is atomic: no lock on the hot path
        if found is not None:
            return found
        built = self.service(api)
        for name in path:
            built = getattr(built, name)()
        with self._lock:
            return self._resources.setdefault(key, built)


class _Client:
    """One user's http and the policy every call goes through, over the shared `_Library`."""

    def __init__(
        self,
        email: str,
        credentials: Credentials,
        library: _Library,
        retry: RetryPolicy,
        timeout: float,
        *,
        memory: _Memory,
    ) -> None:
        self.email = email
        self.retry = retry
        self.http = _ThreadLocalHttp(credentials, timeout)
        self._library = library
        self.memory = memory
        self.drive = GoogleDrive(email, self, memory)  # one per client: ids in `memory`

    def service(self, api: str) -> Any:
        """The built client for `api` (shared: send its requests through `once` or `batch`)."""
        return self._library.service(api)

    def resource(self, api: str, *path: str) -> Any:
        """The resource at `path` of `api`, built once (shared: its requests go through `once`)."""
        return self._library.resource(api, *path)

    def once(self, request: HttpRequest, what: str) -> Any:
        """Run `request` once through this user's http, mapping every failure into the family."""
        try:
            answer = request.execute(http=self.http, num_retries=0)
        except Exception as exc:
            raise map_error(exc, what) from exc
        if isinstance(answer, str) and answer:
            # The library's JSON model hands back the raw text when a body does not parse
            # (an empty text is its "no content" for methods without a response body).
            raise Unavailable(f"{what}: Google's answer did not parse ({answer[:60]!r})")
        return answer

    def send(self, request: HttpRequest, what: str) -> Any:
        """Run a mail's `request` once, on a connection of its own (`_OnceHttp`); a failure
        after it may have reached Google is `SendUncertain` (`send_error`)."""
        http = self.http.one_shot()
        try:
            answer = request.execute(http=http, num_retries=0)
        except Exception as exc:
            raise send_error(exc, what) from exc
        finally:
            http.close()
        if not isinstance(answer, Mapping) or "id" not in answer:
            raise send_error(
                ValueError(f"Google's answer has no message id ({answer!r:.60})"), what
            )
        return answer

    def run(self, request: HttpRequest, what: str, *, idempotent: bool) -> Any:
        """Run `request` under the retry policy."""
        return self.retry.call(lambda: self.once(request, what), idempotent=idempotent)

    def pages(
        self,
        make: Callable[[str | None], HttpRequest],
        key: str,
        what: str,
        *,
        retried: bool = True,
    ) -> list[JSON]:
        """Every item under `key` of a listing, page after page; past `_PAGES` pages it raises.

        `make(token)` builds the request for the page `token` names (None: the first).
        """
        items: list[JSON] = []
        token: str | None = None
        for _ in range(_PAGES):
            page = self.call(make(token), what, retried=retried)
            items.extend(page.get(key) or ())
            token = page.get("nextPageToken")
            if not token:
                return items
        raise Unavailable(f"{what}: more than {_PAGES} pages, refusing to read further")

    def call(self, request: HttpRequest, what: str, *, retried: bool) -> Any:
        """Run an idempotent `request`: under the policy, or once inside a caller's attempt."""
        return self.run(request, what, idempotent=True) if retried else self.once(request, what)

    def delete(self, request: HttpRequest, what: str) -> None:
        """Run a delete; NotFound on a repeat means an earlier attempt deleted it."""
        self.retry.call_resolving(
            lambda: self.once(request, what), ambiguous=NotFound, resolve=lambda _: None
        )

    def batch(
        self, api: str, requests: Mapping[str, HttpRequest], what: str
    ) -> dict[str, Any | ConnectorError]:
        """Run idempotent `requests` in Google batches; each answer or its error, by key.

        A key leaves the work as soon as it has its answer (or an error a retry cannot cure), so
        a later chunk failing never costs an earlier chunk's answers. Keys that failed with 429
        or 5xx, and those of a chunk that failed as a whole, are sent again in a new batch under
        the retry policy; if it gives up, they get its last error.
        """
        results: dict[str, Any | ConnectorError] = {}
        pending = dict(requests)
        failed: dict[str, ConnectorError] = {}

        def done(key: str, response: Any, exc: BaseException | None) -> None:
            error = None if exc is None else map_error(exc, f"{what} ({key})")
            if error is not None and is_transient(error):
                failed[key] = error
                return
            results[key] = response if error is None else error
            del pending[key]

        def attempt() -> None:
            failed.clear()
            keys = list(pending)
            for start in range(0, len(keys), _BATCH_MAX):
                batch = self.service(api).new_batch_http_request()
                for key in keys[start : start + _BATCH_MAX]:
                    # Each part is authorized by its own request's http (the library's batch).
                    pending[key].http = self.http
                    batch.add(pending[key], callback=done, request_id=key)
                try:
                    batch.execute(http=self.http)
                except Exception as exc:
                    raise map_error(exc, what) from exc
            if failed:
                raise slowest(failed.values())

        try:
            self.retry.call(attempt, idempotent=True)
        except ConnectorError as exc:
            if not is_transient(exc):
                raise
            results.update(dict.fromkeys(pending, exc))
        return results


# -- the account ------------------------------------------------------------------------------


class GoogleAccount:
    """Google ports per user, all built from one credential source and one endpoint.

    `credentials` is a google-auth ``Credentials`` (a service account with domain-wide
    delegation, narrowed per user with ``with_subject``; or a user's OAuth token, as the add-on
    receives it, used as is) or a callable giving each user's. `root_url` replaces the discovery
    documents' rootUrl for all three APIs (an emulator's ``http://127.0.0.1:PORT/``).
    """

    def __init__(
        self,
        credentials: CredentialSource,
        *,
        root_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Keep the settings; clients are built per user on first use."""
        self._credentials = credentials
        self._library = _Library(root_url)  # built clients and resources, shared by every user
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._clients: dict[str, _Client] = {}
        self._lent: dict[str, list[_Client]] = {}
        self._memory: dict[str, _Memory] = {}  # per person, for default and lent clients
        self._lock = threading.Lock()

    @contextmanager
    def lend(self, email: str, credentials: Credentials) -> Iterator[None]:
        """For the block, `email`'s ports act with `credentials` (the person's own token, as an
        open add-on card sends it) instead of the account's credential source.

        Other people's ports are untouched. Ports made inside the block keep these credentials;
        while blocks for the same person overlap (two cards at once), the latest one's apply.
        """
        key = email.strip().lower()
        with self._lock:
            memory = self._memory.setdefault(key, _Memory())
        client = _Client(
            email, credentials, self._library, self._retry, self._timeout, memory=memory
        )
        with self._lock:
            self._lent.setdefault(key, []).append(client)
        try:
            yield
        finally:
            with self._lock:
                stack = self._lent.get(key, [])
                if client in stack:
                    stack.remove(client)
                if not stack:
                    self._lent.pop(key, None)
            client.http.close()

    def _for(self, email: str) -> Credentials:
        source = self._credentials
        if isinstance(source, Credentials):
            with_subject = getattr(source, "with_subject", None)
            return with_subject(email) if callable(with_subject) else source
        return source(email)

    def _client(self, email: str) -> _Client:
        key = email.strip().lower()
        with self._lock:
            lent = self._lent.get(key)
            if lent:
                return lent[-1]
            client = self._clients.get(key)
            if client is None:
                memory = self._memory.setdefault(key, _Memory())
                client = _Client(
                    email,
                    self._for(email),
                    self._library,
                    self._retry,
                    self._timeout,
                    memory=memory,
                )
                self._clients[key] = client
            return client

    def calendar(self, email: str) -> GoogleCalendar:
        """The primary calendar of `email`."""
        client = self._client(email)
        return GoogleCalendar(email, client, client.drive)

    def drive(self, email: str) -> GoogleDrive:
        """The app's folder in the Drive of `email` (one instance per user: it caches ids)."""
        return self._client(email).drive

    def mailer(self, email: str) -> GoogleMailer:
        """Sends mail as `email` through Gmail."""
        return GoogleMailer(email, self._client(email))

    def directory(self, admin: str) -> GoogleDirectory:
        """Reporting lines read as the administrator `admin`; zones as each person."""
        return GoogleDirectory(self._client, admin)

    def close(self) -> None:
        """Close every user's connections, in every thread, and end the parallel-read pool.

        Ports keep working after it (a request opens a new connection, a read a new pool), so
        closing at shutdown while a request is still running costs that request nothing.
        """
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            client.http.close()
        pool = _pool()
        _pool.cache_clear()  # the next parallel read starts a fresh pool
        pool.shutdown(wait=True)


# -- calendar ---------------------------------------------------------------------------------


class GoogleCalendar:
    """`connectors.ports.Calendar` on a user's primary Google calendar."""

    def __init__(self, owner: str, client: _Client, drive: GoogleDrive) -> None:
        """Use `client` for calls and `drive` for attachment files."""
        self._owner = owner
        self._client = client
        self._drive = drive

    @property
    def owner(self) -> str:
        """The email address of the calendar's user."""
        return self._owner

    @property
    def _events(self) -> Any:
        return self._client.resource("calendar", "events")

    def create_event(self, event: NewEvent, *, idempotency_key: str) -> Event:
        """Insert under an id derived from owner and key; a repeat gets 409 and reads the first."""
        if event.organizer.strip().lower() != self._owner.strip().lower():
            raise InvalidRequest(
                f"organizer {event.organizer!r} must be the calendar's user {self._owner!r}: "
                "create the event in the organizer's calendar"
            )
        event_id = event_id_for(self._owner, idempotency_key)
        body = to_google_event(event, event_id=event_id)
        what = f"creating event {event.subject!r} in {self._owner}'s calendar"
        request = self._events.insert(
            calendarId="primary",
            body=body,
            supportsAttachments=True,
            conferenceDataVersion=1,
            sendUpdates=SEND_UPDATES,
        )
        try:
            data = self._client.run(request, what, idempotent=True)
        except Conflict:
            # The id is ours for this key: the event exists, from this call's earlier attempt
            # or an earlier call with the same key.
            data = self._get(event_id, f"reading the event of key {idempotency_key!r}")
            if data.get("status") == "cancelled":
                raise Conflict(
                    f"{what}: the event of key {idempotency_key!r} was deleted since; "
                    "use a new key to create it again"
                ) from None
        return self._client.memory.saw(from_google_event(data))

    def _get(self, event_id: str, what: str) -> JSON:
        request = self._events.get(calendarId="primary", eventId=event_id)
        data: JSON = self._client.run(request, what, idempotent=True)
        return data

    def get_event(self, event_id: str) -> Event:
        """The event or occurrence; a deleted one (status cancelled) is `NotFound`."""
        what = f"reading event {event_id!r} in {self._owner}'s calendar"
        return self._client.memory.saw(_live(from_google_event(self._get(event_id, what)), what))

    def get_events(self, event_ids: Sequence[str]) -> dict[str, Event | ConnectorError]:
        """Several events in one batch round trip; each event or the error reading it."""
        requests = {
            f"e{i}": self._events.get(calendarId="primary", eventId=event_id)
            for i, event_id in enumerate(event_ids)
        }
        answers = self._client.batch("calendar", requests, "reading events")
        out: dict[str, Event | ConnectorError] = {}
        for key, event_id in zip(requests, event_ids, strict=True):
            answer = answers[key]
            if isinstance(answer, ConnectorError):
                out[event_id] = answer
            else:
                event = from_google_event(answer)
                out[event_id] = (
                    NotFound(f"event {event_id!r} was deleted")
                    if event.cancelled
                    else self._client.memory.saw(event)
                )
        return out

    def update_event(
        self, event_id: str, patch: EventPatch, *, if_match: str | None = None
    ) -> Event:
        """Patch the event, series (master id) or one occurrence, guarded by If-Match."""
        what = f"changing event {event_id!r} in {self._owner}'s calendar"
        start, end, tz = patch.start, patch.end, None
        if start is not None or end is not None:
            # Google wants both ends and the zone; the zone keeps a series' wall clock. The
            # version the caller names by If-Match needs no read when this person's ports have
            # seen it: if it is not the current version any more, the patch fails with 412.
            seen = None if if_match is None else self._client.memory.event(event_id, if_match)
            current = seen or self.get_event(event_id)
            tz = current.tz
            if start is None:
                start = current.start
            if end is None:
                end = start + (current.end - current.start)
        body = to_google_patch(
            patch, tz=tz or "UTC", start=start, end=end, request_id=uuid.uuid4().hex
        )
        request = self._events.patch(
            calendarId="primary",
            eventId=event_id,
            body=body,
            supportsAttachments=True,
            conferenceDataVersion=1,
            sendUpdates=SEND_UPDATES,
        )
        if if_match is None:
            data = self._client.run(request, what, idempotent=True)
            return self._client.memory.saw(_live(from_google_event(data), what))
        request.headers["If-Match"] = if_match

        def resolve(conflict: ConnectorError) -> JSON:
            # A 412 on a repeat: the lost attempt may have moved the etag itself.
            current: JSON = self._client.once(
                self._events.get(calendarId="primary", eventId=event_id), what
            )
            if _shows(from_google_event(current), patch, start, end):
                return current
            raise conflict

        data = self._client.retry.call_resolving(
            lambda: self._client.once(request, what), ambiguous=Conflict, resolve=resolve
        )
        return self._client.memory.saw(_live(from_google_event(data), what))

    def delete_event(self, event_id: str, *, if_match: str | None = None) -> None:
        """Delete the event or series, or cancel one occurrence (If-Match guarded)."""
        request = self._events.delete(
            calendarId="primary", eventId=event_id, sendUpdates=SEND_UPDATES
        )
        if if_match is not None:
            request.headers["If-Match"] = if_match
        self._client.delete(request, f"deleting event {event_id!r} in {self._owner}'s calendar")

    def find_event(self, ical_uid: str) -> Event | None:
        """This calendar's copy of a meeting by iCalUID (events.list ``iCalUID``), or None."""
        if not ical_uid:
            return None
        what = f"finding the meeting {ical_uid!r} in {self._owner}'s calendar"
        request = self._events.list(calendarId="primary", iCalUID=ical_uid, maxResults=10)
        data: JSON = self._client.run(request, what, idempotent=True)
        found = [from_google_event(item) for item in data.get("items") or []]
        # An occurrence changed on its own shares the iCalUID: the master or single is the copy.
        return next((e for e in found if not e.cancelled and e.series_id is None), None)

    def instances(self, series_id: str, start: datetime, end: datetime) -> list[Event]:
        """Occurrences of the series starting in [start, end), exceptions applied."""
        what = f"listing occurrences of {series_id!r} in {self._owner}'s calendar"
        low, high = rfc3339(start, "start"), rfc3339(end, "end")
        items = self._client.pages(
            lambda token: self._events.instances(
                calendarId="primary",
                eventId=series_id,
                timeMin=low,
                timeMax=high,
                maxResults=_EVENT_PAGE,
                pageToken=token,
            ),
            "items",
            what,
        )
        found = [from_google_event(item) for item in items]
        # Google's window is by overlap; the port's is by start.
        return _by_start(e for e in found if not e.cancelled and start <= e.start < end)

    def events(self, start: datetime, end: datetime) -> list[Event]:
        """Every event overlapping [start, end), series expanded, by start."""
        what = f"listing {self._owner}'s calendar"
        low, high = rfc3339(start, "start"), rfc3339(end, "end")
        items = self._client.pages(
            lambda token: self._events.list(
                calendarId="primary",
                singleEvents=True,
                orderBy="startTime",
                timeMin=low,
                timeMax=high,
                maxResults=_EVENT_PAGE,
                pageToken=token,
            ),
            "items",
            what,
        )
        found = (from_google_event(item) for item in items)
        return _by_start(e for e in found if not e.cancelled and e.end > start)

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Busy]]:
        """Busy intervals per address from freebusy.query; one Google cannot see is free."""
        what = "reading free/busy"
        spans = [
            (rfc3339(low, "start"), rfc3339(high, "end"))
            for low, high in windows(start, end, _FREEBUSY_SPAN)
        ]
        out: dict[str, list[Busy]] = {e: [] for e in emails}
        freebusy = self._client.resource("calendar", "freebusy")
        for first in range(0, len(emails), _FREEBUSY_ITEMS):
            chunk = list(emails[first : first + _FREEBUSY_ITEMS])
            bodies = {
                f"w{n}": {"timeMin": low, "timeMax": high, "items": [{"id": e} for e in chunk]}
                for n, (low, high) in enumerate(spans)
            }
            if len(bodies) == 1:
                answers: dict[str, Any] = {
                    "w0": self._client.run(freebusy.query(body=bodies["w0"]), what, idempotent=True)
                }
            else:
                # A longer span than one query answers: its windows in one batch.
                requests = {key: freebusy.query(body=body) for key, body in bodies.items()}
                answers = self._client.batch("calendar", requests, what)
            for key in bodies:
                answer = answers[key]
                if isinstance(answer, ConnectorError):
                    raise answer
                for email, busy in busy_from_google(answer, chunk).items():
                    out[email].extend(busy)
        return {e: sorted(set(b), key=lambda b: (b.start, b.end)) for e, b in out.items()}

    def add_attachment(
        self, event_id: str, name: str, content: bytes, content_type: str
    ) -> AttachmentInfo:
        """Upload the bytes to the app's Drive folder, then attach that file to the event.

        The event's attachment list is read and patched under If-Match, so a concurrent change
        to the list is not lost (a 412 reads again, at most three times).
        """
        check_name("attachment name", name)
        what = f"attaching {name!r} to event {event_id!r} in {self._owner}'s calendar"
        # The upload and the first read of the event wait on nothing of each other: sent at once.
        uploading = _pool().submit(self._drive.upload_attachment, name, content, content_type)
        data = self._get(event_id, what)
        file_id = uploading.result()
        for attempt in range(3):
            if attempt:
                data = self._get(event_id, what)
            if data.get("status") == "cancelled":
                raise NotFound(f"{what}: the event was deleted")
            kept = [a for a in data.get("attachments") or () if a.get("title") != name]
            body = {"attachments": [*kept, to_google_attachment(file_id, name, content_type)]}
            request = self._events.patch(
                calendarId="primary",
                eventId=event_id,
                body=body,
                supportsAttachments=True,
                sendUpdates=SEND_UPDATES,
            )
            request.headers["If-Match"] = str(data.get("etag", ""))
            try:
                self._client.run(request, what, idempotent=True)
            except Conflict:
                continue
            # The file lives in the owner's drive.file folder: without a permission the other
            # guests get "not found" when they open the attachment.
            for guest in _guests(data, self._owner):
                try:
                    self._drive.share(file_id, guest)
                except InvalidRequest as exc:
                    # An address with no Google account cannot be shared with silently; the
                    # attachment stays, and that guest reads the agenda through the add-on.
                    log.warning("the agenda is not shared with %s: %s", guest, exc)
            return AttachmentInfo(file_id, name, content_type, len(content))
        raise Conflict(f"{what}: the event kept changing meanwhile; try again")

    def get_attachment(self, event_id: str, attachment_id: str) -> bytes:
        """The bytes of an attachment of the event, read from Drive."""
        event = self.get_event(event_id)
        if attachment_id not in {a.id for a in event.attachments}:
            raise NotFound(f"event {event_id!r} has no attachment {attachment_id!r}")
        return self._drive.download(attachment_id)


def _guests(data: Mapping[str, Any], owner: str) -> list[str]:
    """The event's people other than `owner` (rooms and other resources left out)."""
    out = []
    for attendee in data.get("attendees") or ():
        email = str(attendee.get("email") or "").strip().lower()
        if email and email != owner.strip().lower() and not attendee.get("resource"):
            out.append(email)
    return out


def _by_start(events: Iterable[Event]) -> list[Event]:
    """Events by start, end and id, compared as UTC instants."""
    return sorted(events, key=lambda e: (e.start.astimezone(UTC), e.end.astimezone(UTC), e.id))


def _shows(event: Event, patch: EventPatch, start: datetime | None, end: datetime | None) -> bool:
    """Whether `event` carries every field `patch` sets (with the completed `start`/`end`)."""
    wanted = {
        "subject": patch.subject,
        "body_html": patch.body_html,
        "location": patch.location,
        "start": start,
        "end": end,
        "recurrence": patch.recurrence,
        "online": patch.online,
    }
    if any(value is not None and getattr(event, key) != value for key, value in wanted.items()):
        return False
    if patch.attendees is not None:
        has = {a.email.lower() for a in event.attendees}
        if has != {a.email.lower() for a in patch.attendees}:
            return False
    shared = patch.properties or {}
    return all(event.properties.get(key) == value for key, value in shared.items())


def _live(event: Event, what: str) -> Event:
    if event.cancelled:
        raise NotFound(f"{what}: the event was deleted")
    return event


# -- drive ------------------------------------------------------------------------------------


class _Memory:
    """What a person's ports have learnt: in Drive the app's folder (under ""), each folder,
    each file read or written and file ids reserved for creates; in the calendar the latest
    version of each event read or written (see `GoogleCalendar.update_event`).

    The account keeps one per person, shared by that person's client and every client lent to
    them, so an add-on request (a client lent for its block) does not look the folders up again.
    """

    def __init__(self) -> None:
        """Nothing learnt yet."""
        self.lock = threading.Lock()
        self.folders: dict[str, str] = {}
        self.ids: list[str] = []
        self.known: dict[tuple[str, str], str] = {}
        self._events: OrderedDict[str, Event] = OrderedDict()

    def saw(self, event: Event) -> Event:
        """Keep `event` as the latest version of its id (the oldest go past `_EVENTS_KEPT`)."""
        with self.lock:
            self._events[event.id] = event
            self._events.move_to_end(event.id)
            if len(self._events) > _EVENTS_KEPT:
                self._events.popitem(last=False)
        return event

    def event(self, event_id: str, etag: str) -> Event | None:
        """The event as seen at version `etag`, if that is the version last seen."""
        with self.lock:
            seen = self._events.get(event_id)
        return seen if seen is not None and seen.etag == etag else None


class GoogleDrive:
    """`connectors.ports.Drive` on the folder the app created in a user's Drive.

    Layout: "Goed Gesprek" in My Drive, one subfolder per port folder, files inside. A file's
    etag is its ``headRevisionId`` (new on every content write); its version counts writes in
    ``appProperties``; every write keeps its revision forever (``keepRevisionForever``), so
    Drive's revisions are the versions, oldest first.

    Drive v3 has no conditional update (no ETag or If-Match on ``files.update``), so ``if_match``
    compares the head revision just before the update: a write landing between that read and
    the update is not detected. Names are not unique in Drive either: two first writes of one
    name at once can both create a file; the later creator finds the earlier one right after,
    deletes its own and writes to the earlier one (``if_none_match`` raises `Conflict` then).
    """

    def __init__(self, owner: str, client: _Client, memory: _Memory | None = None) -> None:
        """Use `client` for calls, and keep the ids found in `memory` (else this object's own)."""
        self._owner = owner
        self._client = client
        memory = memory or _Memory()
        self._lock = memory.lock
        self._folders = memory.folders
        self._ids = memory.ids
        self._known = memory.known

    @property
    def _files(self) -> Any:
        return self._client.resource("drive", "files")

    # folders ----------------------------------------------------------------------------------

    def _new_id(self) -> str:
        """An id from ``files.generateIds`` (fetched ten at a time), so a create can be retried."""
        with self._lock:
            if self._ids:
                return self._ids.pop()
        answer = self._client.run(
            self._files.generateIds(count=10, space="drive", type="files"),
            "reserving Drive file ids",
            idempotent=True,
        )
        ids = list(answer.get("ids") or ())
        if not ids:
            raise Unavailable("reserving Drive file ids: Google sent none")
        with self._lock:
            self._ids.extend(ids[1:])
        return str(ids[0])

    def _list(
        self,
        query: str,
        what: str,
        fields: str = FILE_FIELDS + ",createdTime",
        *,
        retried: bool = True,
    ) -> list[JSON]:
        return self._client.pages(
            lambda token: self._files.list(
                q=query,
                spaces="drive",
                pageSize=1000,
                pageToken=token,
                fields=f"nextPageToken,files({fields})",
            ),
            "files",
            what,
            retried=retried,
        )

    def _app_folder(self, *, create: bool) -> str | None:
        with self._lock:
            known = self._folders.get("")
        if known:
            return known
        query = (
            f"name = {drive_quote(APP_FOLDER)} and mimeType = '{FOLDER_MIME}' and trashed = false"
        )
        what = f"finding the app's folder in {self._owner}'s Drive"
        found = self._list(query, what)
        ids = {f["id"] for f in found}
        # A subfolder may share the name: the app folder is the one not inside another.
        tops = [f for f in found if not set(f.get("parents") or ()) & ids]
        if not tops and not create:
            return None
        folder_id = _earliest(tops)["id"] if tops else self._create_folder(APP_FOLDER, None)
        with self._lock:
            self._folders[""] = folder_id
        return str(folder_id)

    def _folder(self, folder: str, *, create: bool) -> str | None:
        with self._lock:
            known = self._folders.get(folder)
        if known:
            return known
        # Asked by name alone, beside the app's folder when that is not known yet (one round
        # trip, not two); the folder is the one inside the app's.
        query = f"name = {drive_quote(folder)} and mimeType = '{FOLDER_MIME}' and trashed = false"
        named = _pool().submit(
            self._list, query, f"finding folder {folder!r} in {self._owner}'s Drive"
        )
        app = self._app_folder(create=create)
        candidates = named.result()
        if app is None:
            return None
        found = [f for f in candidates if app in (f.get("parents") or ())]
        if not found and not create:
            return None
        folder_id = str(_earliest(found)["id"]) if found else self._create_folder(folder, app)
        with self._lock:
            self._folders[folder] = folder_id
        return folder_id

    def _create_folder(self, name: str, parent: str | None) -> str:
        body: JSON = {"id": self._new_id(), "name": name, "mimeType": FOLDER_MIME}
        if parent:
            body["parents"] = [parent]
        created = self._create(body, None, f"creating folder {name!r} in {self._owner}'s Drive")
        return str(created["id"])

    def _create(
        self, body: JSON, media: MediaInMemoryUpload | None, what: str, *, retried: bool = True
    ) -> JSON:
        """Create under the pre-generated id in `body`; a retry finding it made reads it."""
        fields = FILE_FIELDS + ",createdTime"
        request = self._files.create(
            body=body, media_body=media, keepRevisionForever=media is not None, fields=fields
        )
        try:
            data: JSON = self._client.call(request, what, retried=retried)
        except Conflict:
            request = self._files.get(fileId=body["id"], fields=fields)
            data = self._client.call(request, what, retried=retried)
        return data

    # files ------------------------------------------------------------------------------------

    def _find_all(
        self, folder_id: str, name: str, what: str, *, retried: bool = True
    ) -> list[JSON]:
        query = (
            f"name = {drive_quote(name)} and {drive_quote(folder_id)} in parents "
            f"and mimeType != '{FOLDER_MIME}' and trashed = false"
        )
        return sorted(self._list(query, what, _FOUND_FIELDS, retried=retried), key=_created)

    def _find(self, folder: str, name: str, what: str) -> JSON | None:
        check_name("folder", folder)
        check_name("name", name)
        with self._lock:
            folder_id = self._folders.get(folder)
        if folder_id is not None:
            found = self._find_all(folder_id, name, what)
        else:
            # The folder is not known yet: the file is asked for by name beside the folders,
            # and kept if it is in the folder (a cold read in one round trip, not three). Under
            # the drive.file scope only the app's own files answer a query by name.
            query = (
                f"name = {drive_quote(name)} and mimeType != '{FOLDER_MIME}' and trashed = false"
            )
            named = _pool().submit(self._list, query, what, _FOUND_FIELDS)
            folder_id = self._folder(folder, create=False)
            candidates = named.result()
            if folder_id is None:
                return None
            inside = (f for f in candidates if folder_id in (f.get("parents") or ()))
            found = sorted(inside, key=_created)
        if not found:
            return None
        self._remember(folder, name, str(found[0]["id"]))
        return found[0]

    def _remember(self, folder: str, name: str, file_id: str | None) -> None:
        with self._lock:
            if file_id is None:
                self._known.pop((folder, name), None)
            else:
                self._known[(folder, name)] = file_id

    def _require(self, folder: str, name: str, what: str) -> JSON:
        found = self._find(folder, name, what)
        if found is None:
            raise NotFound(f"{what}: no file {folder}/{name} in {self._owner}'s Drive")
        return found

    def put(
        self,
        folder: str,
        name: str,
        content: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> FileInfo:
        """Write a file: create it under a generated id, or upload a new revision.

        The whole write is one attempt under the retry policy. A repeat checks against the head
        the first attempt found, so a write of that attempt whose answer was lost shows as a new
        head: it is ours when its MD5 is that of `content` (else another writer's, and a guarded
        put raises `Conflict`; an unguarded one writes over it, as the last writer).
        """
        check_name("folder", folder)
        check_name("name", name)
        where = f"{folder}/{name}"
        what = f"writing {where} in {self._owner}'s Drive"
        folder_id = self._folder(folder, create=True)
        assert folder_id is not None
        media = MediaInMemoryUpload(content, mimetype=content_type, resumable=False)
        sent = hashlib.md5(content, usedforsecurity=False).hexdigest()
        seen: builtins.list[str | None] = []  # the head the first attempt found

        def write(current: JSON | None) -> JSON:
            if current is not None:
                return self._update(current, media, content_type, what)
            return self._create_file(
                folder_id, name, media, content_type, what, if_none_match=if_none_match
            )

        def attempt() -> JSON:
            current = self._head(folder_id, name, what)
            etag = None if current is None else str(current.get("headRevisionId"))
            if seen:
                check_preconditions(where, etag, if_match=seen[0], if_none_match=seen[0] is None)
            else:
                seen.append(etag)
                check_preconditions(where, etag, if_match=if_match, if_none_match=if_none_match)
            return write(current)

        def resolve(conflict: ConnectorError) -> JSON:
            current = self._head(folder_id, name, what)
            if current is not None and current.get("md5Checksum") == sent:
                return current
            if if_match is not None or if_none_match:
                raise conflict
            return write(current)

        written = self._client.retry.call_resolving(attempt, ambiguous=Conflict, resolve=resolve)
        self._remember(folder, name, str(written["id"]))
        return file_info_from_drive(written, folder)

    def _head(self, folder_id: str, name: str, what: str) -> JSON | None:
        """The file of that name (the earliest made) with its MD5, read once: no retry here."""
        found = self._find_all(folder_id, name, what, retried=False)
        return found[0] if found else None

    def _create_file(
        self,
        folder_id: str,
        name: str,
        media: MediaInMemoryUpload,
        content_type: str,
        what: str,
        *,
        if_none_match: bool,
    ) -> JSON:
        """Create the first version of a name, once; a writer that made it first wins."""
        body = {
            "id": self._new_id(),
            "name": name,
            "parents": [folder_id],
            "mimeType": content_type,
            "appProperties": {VERSION_PROPERTY: "1"},
        }
        created = self._create(body, media, what, retried=False)
        winner = self._find_all(folder_id, name, what, retried=False)[0]
        if winner["id"] == created["id"]:
            return created
        # Another writer created the name first (Drive does not keep names unique).
        self._client.once(self._files.delete(fileId=created["id"]), what)
        if if_none_match:
            raise Conflict(f"{what}: it was created meanwhile by another writer")
        return self._update(winner, media, content_type, what)

    def _update(
        self, current: JSON, media: MediaInMemoryUpload, content_type: str, what: str
    ) -> JSON:
        """Upload a new revision, once: the caller's attempt decides about a repeat."""
        version = int((current.get("appProperties") or {}).get(VERSION_PROPERTY, 1)) + 1
        request = self._files.update(
            fileId=current["id"],
            body={"mimeType": content_type, "appProperties": {VERSION_PROPERTY: str(version)}},
            media_body=media,
            keepRevisionForever=True,
            fields=FILE_FIELDS,
        )
        data: JSON = self._client.once(request, what)
        return data

    def get(self, folder: str, name: str) -> File:
        """The newest version of a file with its bytes.

        A file this object has seen before is read in one round trip: its metadata and its
        bytes are fetched at once by id, and kept only if the bytes have the metadata's MD5
        (else a write came between, and the slow path runs). A file not seen yet is found by
        name first, and its head revision read by id, so bytes and metadata are one version.
        """
        check_name("folder", folder)
        check_name("name", name)
        what = f"reading {folder}/{name} in {self._owner}'s Drive"
        with self._lock:
            known = self._known.get((folder, name))
            folder_id = self._folders.get(folder)
        if known and folder_id:
            fast = self._get_by_id(known, folder_id, folder, name, what)
            if fast is not None:
                return fast
            self._remember(folder, name, None)
        data = self._require(folder, name, what)
        info = file_info_from_drive(data, folder)
        # Reading the head revision by id keeps bytes and metadata of one version together.
        content = self._media(
            self._client.resource("drive", "revisions").get_media(
                fileId=info.id, revisionId=info.etag
            ),
            what,
        )
        return File(info=info, content=content)

    def _get_by_id(
        self, file_id: str, folder_id: str, folder: str, name: str, what: str
    ) -> File | None:
        meta_request = self._files.get(fileId=file_id, fields=FILE_FIELDS + ",md5Checksum,trashed")
        media_request = self._files.get_media(fileId=file_id)
        meta_call = _pool().submit(self._client.run, meta_request, what, idempotent=True)
        try:
            content = self._media(media_request, what)
            meta: JSON = meta_call.result()
        except NotFound:
            return None
        fits = (
            meta.get("name") == name
            and folder_id in (meta.get("parents") or ())
            and not meta.get("trashed")
            and meta.get("md5Checksum") == hashlib.md5(content, usedforsecurity=False).hexdigest()
        )
        return File(info=file_info_from_drive(meta, folder), content=content) if fits else None

    def _media(self, request: HttpRequest, what: str) -> bytes:
        content = self._client.run(request, what, idempotent=True)
        return content if isinstance(content, bytes) else str(content).encode()

    def stat(self, folder: str, name: str) -> FileInfo:
        """A file's metadata without its bytes."""
        what = f"reading {folder}/{name} in {self._owner}'s Drive"
        return file_info_from_drive(self._require(folder, name, what), folder)

    def list(self, folder: str) -> builtins.list[FileInfo]:
        """The files in a folder, by name; an unknown folder is empty."""
        check_name("folder", folder)
        folder_id = self._folder(folder, create=False)
        if folder_id is None:
            return []
        query = (
            f"{drive_quote(folder_id)} in parents and mimeType != '{FOLDER_MIME}' "
            "and trashed = false"
        )
        found = self._list(query, f"listing {folder!r} in {self._owner}'s Drive")
        first: dict[str, JSON] = {}
        for item in sorted(found, key=_created):
            first.setdefault(str(item["name"]), item)
        return [file_info_from_drive(first[name], folder) for name in sorted(first)]

    def folders(self) -> builtins.list[str]:
        """The folder names in the app's folder, sorted."""
        app = self._app_folder(create=False)
        if app is None:
            return []
        query = f"{drive_quote(app)} in parents and mimeType = '{FOLDER_MIME}' and trashed = false"
        found = self._list(query, f"listing folders in {self._owner}'s Drive", "id,name")
        return sorted({str(f["name"]) for f in found})

    def versions(self, folder: str, name: str) -> builtins.list[FileInfo]:
        """Every kept revision, oldest first, as versions 1..n."""
        what = f"listing versions of {folder}/{name} in {self._owner}'s Drive"
        data = self._require(folder, name, what)
        revisions = self._client.resource("drive", "revisions")
        items = self._client.pages(
            lambda token: revisions.list(
                fileId=data["id"],
                pageSize=1000,
                pageToken=token,
                fields="nextPageToken,revisions(id,mimeType,size,modifiedTime,keepForever)",
            ),
            "revisions",
            what,
        )
        return revision_infos(items, file_id=str(data["id"]), folder=folder, name=name)

    def get_version(self, folder: str, name: str, version: int) -> File:
        """One earlier version's metadata and bytes."""
        what = f"reading version {version} of {folder}/{name} in {self._owner}'s Drive"
        listed = self.versions(folder, name)
        if not 1 <= version <= len(listed):
            raise NotFound(f"{what}: versions are 1-{len(listed)}")
        info = listed[version - 1]
        request = self._client.resource("drive", "revisions").get_media(
            fileId=info.id, revisionId=info.etag
        )
        return File(info=info, content=self._media(request, what))

    def delete(self, folder: str, name: str, *, if_match: str | None = None) -> None:
        """Delete a file and its revisions (compared with `if_match` just before)."""
        what = f"deleting {folder}/{name} in {self._owner}'s Drive"
        data = self._require(folder, name, what)
        check_preconditions(f"{folder}/{name}", str(data.get("headRevisionId")), if_match=if_match)
        self._client.delete(self._files.delete(fileId=data["id"]), what)
        self._remember(folder, name, None)

    # attachments --------------------------------------------------------------------------------

    def upload_attachment(self, name: str, content: bytes, content_type: str) -> str:
        """Store an event attachment's bytes in the app's folder; the new file's id."""
        app = self._app_folder(create=True)
        body = {"id": self._new_id(), "name": name, "parents": [app], "mimeType": content_type}
        media = MediaInMemoryUpload(content, mimetype=content_type, resumable=False)
        created = self._create(
            body, media, f"uploading attachment {name!r} to {self._owner}'s Drive"
        )
        return str(created["id"])

    def share(self, file_id: str, email: str, role: str = "reader") -> None:
        """Let `email` open the file (Drive ``permissions.create``, no notification mail).

        Sharing again with the same person changes nothing at Drive: the call is safe to repeat.
        """
        body = {"type": "user", "role": role, "emailAddress": email}
        request = self._client.resource("drive", "permissions").create(
            fileId=file_id, body=body, sendNotificationEmail=False, fields="id"
        )
        what = f"sharing Drive file {file_id!r} of {self._owner} with {email}"
        self._client.run(request, what, idempotent=True)

    def download(self, file_id: str) -> bytes:
        """The bytes of a Drive file by id."""
        request = self._files.get_media(fileId=file_id)
        return self._media(request, f"reading Drive file {file_id!r} of {self._owner}")


_FOUND_FIELDS = FILE_FIELDS + ",createdTime,md5Checksum"
"""What a file found by name is read with: its metadata, its age (the earliest wins) and MD5."""


def _created(item: Mapping[str, Any]) -> tuple[str, str]:
    return (str(item.get("createdTime", "")), str(item.get("id", "")))


def _earliest(items: Sequence[JSON]) -> JSON:
    return min(items, key=_created)


# -- mail -------------------------------------------------------------------------------------


class GoogleMailer:
    """`connectors.ports.Mailer` through Gmail ``users.messages.send``, with ``gmail.send`` alone.

    Nothing reads the mailbox (that needs ``gmail.readonly``, every mail of the person), so a
    repeat cannot find an earlier send: the send is tried again only while Gmail surely did not
    take it (429, ``rateLimitExceeded``, 4xx, no connection). Once it may have (a timeout, a
    dropped connection, a 5xx) it raises `SendUncertain` and is not repeated: a mail may be
    missing, never doubled. A keyed mail's Message-ID still comes from its key: two copies, if
    ever, would share it, and mail clients thread them together.
    """

    def __init__(self, owner: str, client: _Client) -> None:
        """Send as `owner` through `client`."""
        self._owner = owner
        self._client = client

    def send(self, mail: Mail) -> SentMail:
        """Send once; the `SentMail` is built from Gmail's answer (its id) and the mail itself."""
        check_mail(self._owner, mail)
        if mail.key:
            message_id = message_id_for(self._owner, mail.key)
        else:
            message_id = make_msgid(domain=self._owner.rpartition("@")[2] or None)
        messages = self._client.resource("gmail", "users", "messages")
        request = messages.send(userId="me", body={"raw": to_gmail_raw(mail, message_id)})
        what = f"sending mail as {self._owner}"
        # Only errors before Gmail had the request are transient (`send_error`): safe to repeat.
        answer = self._client.retry.call(lambda: self._client.send(request, what), idempotent=True)
        return SentMail(id=str(answer["id"]), mail=mail, sent_at=datetime.now(UTC))
