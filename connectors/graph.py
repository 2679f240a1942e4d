"""Microsoft Graph backends of the ports, through msgraph-sdk: calendar, OneDrive app folder, mail.

`GraphAccount` holds one `GraphServiceClient` per credential and hands out the ports per user:
``/me`` with delegated credentials, ``/users/{email}`` when the app acts on its own
(``app_only``). The SDK is async only; the ports are synchronous, so every call runs on the one
event loop `connectors._loop` owns. Translation to and from Graph JSON is in
`connectors._graph_map` (pure); errors are mapped once in `connectors._graph_errors`; JSON
batching is ours (`connectors._graph_batch`) because the SDK's has defects.

Every request goes through the SDK's request adapter (auth provider, Graph middleware, OData
error answers) with a URL we build: the SDK's request builders expand URI templates, which cost
more CPU than the rest of a request (see `GraphCalendar._window`). Bodies and answers stay JSON,
mapped by `connectors._graph_map`. They are never parsed into the generated
typed models: a model's field table runs its imports on every parse (milliseconds per event)
and the first parse of a message imports about 1,200 modules (a second).

The HTTP pipeline is the SDK's redirect handler, for OneDrive's ``/content`` only (see
`_Session.send`); Graph's telemetry
headers (client-request-id, SdkVersion, HostOs, RuntimeEnvironment) are set as the SDK's handler
sets them, without its per-request URL parsing. The SDK's RetryHandler is left out so
`connectors._retry` is the one retry policy (otherwise a 429 would be retried by both,
multiplying the waits and the attempts); the URL replacement, user-agent, inspection and
parameter-name decoding handlers do nothing for our URLs and cost CPU on every request."""

from __future__ import annotations

import asyncio
import base64
import builtins
import contextlib
import dataclasses
import functools
import gc
import json
import platform
import ssl
import threading
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import anyio
import httpcore
import httpx
from azure.core.credentials import AccessToken, AccessTokenInfo
from opentelemetry import trace

# First: importing the SDK's builders would raise one of kiota's own warnings (see _graph_sdk).
from connectors import _graph_sdk  # noqa: F401  (imported for its import-time work)

# isort: split

from kiota_abstractions.method import Method
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware import RedirectHandler
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_request_adapter import options as sdk_options
from msgraph_core._constants import SDK_VERSION  # type: ignore[import-untyped]
from msgraph_core._enums import FeatureUsageFlag, NationalClouds  # type: ignore[import-untyped]
from msgraph_core.graph_client_factory import GraphClientFactory  # type: ignore[import-untyped]
from msgraph_core.middleware.options import (  # type: ignore[import-untyped]
    GraphTelemetryHandlerOption,
)

from connectors import _graph_batch, _loop
from connectors._asyncio_net import AsyncioBackend
from connectors._graph_errors import send_error, to_connector_error
from connectors._graph_hash import content_matches
from connectors._graph_map import (
    AUTO_KEY_PREFIX,
    expand_properties,
    from_drive_item,
    from_drive_version,
    from_graph_attachment,
    from_graph_event,
    from_schedule,
    graph_ical_uid,
    in_window,
    patch_shows,
    sorted_versions,
    to_get_schedule,
    to_graph_attachment,
    to_graph_event,
    to_graph_message,
    to_graph_patch,
    utc_iso,
)
from connectors._retry import NO_RETRY, RetryPolicy
from connectors.directory_graph import GraphDirectory
from connectors.errors import Conflict, ConnectorError, InvalidRequest, NotFound, Unavailable
from connectors.memory import check_mail, check_name
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
Json = dict[str, Any]

DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_SCOPES = ("https://graph.microsoft.com/.default",)
UTC_PREFER = 'outlook.timezone="UTC"'
PAGE_LIMIT = 200
"""Most pages followed for one listing: a bound on every loop, far above a year of events."""
SCHEDULE_SPAN = timedelta(days=62)
"""The longest span getSchedule answers at once."""
ATTACHMENT_FIELDS = "id,name,contentType,size"
ATTACHMENT_EXPAND = f"attachments($select={ATTACHMENT_FIELDS})"
"""Expands an event's attachment list (no bytes) into the event: one answer, not two."""
READ_EXPAND = quote(f"{expand_properties()},{ATTACHMENT_EXPAND}", safe="(),='$")
"""The ``$expand`` of an event read: our properties and the attachment list."""
PAGE_SIZE = 1000
"""``$top`` of a listing: Outlook items page by 10 unless asked, at most 1000 (Graph's list
messages: "Use $top to customize the page size, within the range of 1 and 1000"); more follow
``@odata.nextLink``."""
DOWNLOAD_URL = "@microsoft.graph.downloadUrl"
ITEM_FIELDS = f"id,name,eTag,size,file,folder,lastModifiedDateTime,{DOWNLOAD_URL}"
"""What a drive item read selects: what `from_drive_item` and If-Match need, and the download URL
(Graph sends that annotation only when it is selected or nothing is)."""
DOWNLOAD_URL_TRUST = 55 * 60.0
"""Seconds a remembered download URL is tried: Graph invalidates it after 1 hour."""
VERSION_IDS = "$select=id"
"""What a file's etag and version count need of its versions listing: their ids."""
VERSION_DETAILS = "$select=id,lastModifiedDateTime,size"
"""What a `FileInfo` of each kept version needs of the listing."""
MEMORY = 512
"""File ids and download URLs remembered per session, each (the oldest is forgotten first)."""
READ_ATTEMPTS = 3
"""Reads of a file whose bytes keep disagreeing with its metadata (a writer racing us)."""
ATTACHMENT_TRIPS = 5
"""Requests of an attachment's replacement one after another, for up to three old copies."""
GET_TRIPS = 3 * (READ_ATTEMPTS + 1)
"""Requests of a read one after another at most: the known item's, then each attempt's three."""
BATCHED_UPLOAD_BYTES = 1_000_000
"""Files up to this size go in a ``$batch`` with the read of their versions (one round trip);
larger ones are a PUT of their own (Graph caps a whole batch at 4 MB, base64 adds a third)."""
PUT_TRIPS = 4
"""Requests of a write one after another: the item and its versions (If-Match), PUT, versions."""

__all__ = [
    "FetchedToken",
    "GraphAccount",
    "GraphCalendar",
    "GraphDrive",
    "GraphMailer",
    "StaticToken",
    "warm_up",
]


class FetchedToken:
    """A `TokenCredential` whose token `fetch` gives on every request for one, whatever the
    scopes: Graph's scopes were fixed when the token was got (a sign-in, a fixed token)."""

    def __init__(self, fetch: Callable[[], AccessToken]) -> None:
        self._fetch = fetch

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """The token (azure-core's TokenCredential protocol)."""
        return self._fetch()

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        """The token (azure-core's SupportsTokenInfo protocol)."""
        token = self._fetch()
        return AccessTokenInfo(token.token, token.expires_on)


class StaticToken(FetchedToken):
    """A `TokenCredential` for a fixed bearer token (emulators, tests, a token got elsewhere)."""

    def __init__(self, token: str, *, lifetime: int = 3600) -> None:
        """Hand out `token`, said to expire `lifetime` seconds after each request for it."""
        super().__init__(lambda: AccessToken(token, int(time.time()) + lifetime))


def warm_up(*, collect: bool = True) -> float:
    """Pay the SDK's first-use costs now; returns the seconds spent.

    Building the TLS context and a session's client and middleware, the first trip through
    adapter, auth provider and middleware, the first OData error parsed into its model and the
    first connection's transport each cost the first user milliseconds to tens of milliseconds.
    This pays them: it makes the loop, runs a throwaway session's calls (a calendar view, a
    ``$batch``, a 404) against answers made in-process, with no network, and loads what a first
    connection loads. The SDK's own imports (seconds) are paid by importing this module (see
    `connectors._graph_sdk`); the app imports it and calls this in a background thread at
    start-up, so no user's first request pays either. Without `collect` the caller deals with
    the garbage collection the imports left due (by freezing what they made, say).
    """
    started = time.perf_counter()
    _loop.loop()
    _rehearse()
    # What only the first real connection would load: the connectors' transport and pool, and
    # anyio's asyncio backend (httpcore's pool locks use it; the sockets do not).
    _loop.run(_network().aclose())
    _loop.run(anyio.sleep(0))
    # The SDK's imports leave a full collection due; run it here rather than in a first request.
    if collect:
        gc.collect()
    return time.perf_counter() - started


_REHEARSAL_ERROR: Json = {"error": {"code": "ErrorItemNotFound", "message": "warm-up"}}


def _rehearsal_answer(request: httpx.Request) -> httpx.Response:
    """The in-process answers of `_rehearse`: an empty calendar view, 404 for the rest."""
    path = request.url.path
    if path.endswith("/$batch"):
        items = json.loads(request.content).get("requests") or []
        answers = [
            {"id": i["id"], "status": 404, "headers": {}, "body": _REHEARSAL_ERROR} for i in items
        ]
        return httpx.Response(200, json={"responses": answers})
    if path.endswith("/calendarView"):
        return httpx.Response(200, json={"value": []})
    return httpx.Response(404, json=_REHEARSAL_ERROR)


def _rehearse() -> None:
    """A throwaway session's first calls (list, read, batch, OData errors), answered
    in-process."""
    session = _Session(
        StaticToken("warm-up"),
        base_url=DEFAULT_BASE_URL,
        scopes=DEFAULT_SCOPES,
        retry=NO_RETRY,
        timeout=10.0,
        transport=httpx.MockTransport(_rehearsal_answer),
    )
    try:
        calendar = GraphCalendar(session, "warm-up@example.org", "/me")
        now = datetime.now(UTC)
        calendar.events(now, now)
        with contextlib.suppress(NotFound):
            calendar.get_event("warm-up")
        with contextlib.suppress(NotFound):
            calendar.get_attachment("warm-up", "warm-up")
        with contextlib.suppress(NotFound):
            calendar.update_event("warm-up", EventPatch(subject="warm-up"))
    finally:
        session.close()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every session: each new one loads the CA bundle again (~20 ms).

    Built as httpx builds its default (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``).
    """
    return httpx.create_ssl_context()


def _env_proxies() -> bool:
    """Whether the environment names a proxy that httpx would send Graph requests through."""
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


def _network() -> httpx.AsyncHTTPTransport:
    """httpx's transport, its connection pool on plain asyncio instead of anyio (see
    `connectors._asyncio_net`); the pool's limits are httpx's defaults."""
    network = httpx.AsyncHTTPTransport(verify=_ssl_context())
    limits = httpx.Limits()
    network._pool = httpcore.AsyncConnectionPool(
        ssl_context=_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return network


# -- the session: one client per credential ---------------------------------------------------


class _Session:
    """One `GraphServiceClient` on one credential, with the call and batch plumbing."""

    def __init__(
        self,
        credential: Any,
        *,
        base_url: str,
        scopes: Sequence[str],
        retry: RetryPolicy,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """A session on `base_url`; `transport` replaces the network (warm-up only)."""
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.timeout = timeout
        host = urlsplit(self.base_url).hostname or ""
        # kiota refuses a token for plain http except on localhost/127.0.0.1 (the emulator).
        auth = AzureIdentityAuthenticationProvider(
            credential, scopes=list(scopes), allowed_hosts=[host]
        )
        # Graph's telemetry headers are set in `send` (see `_telemetry`), not by the SDK's
        # handler: it parses every URL again to find Graph's host, which costs more than the
        # headers. OData parameter-name decoding is left out: it undoes request builders'
        # percent-encoding of ``$``, and our URLs carry ``$`` as it is (it re-parsed each URL).
        middleware = [RedirectHandler()]
        origin = urlsplit(self.base_url)
        self.origin = f"{origin.scheme}://{origin.netloc}"
        self.telemetry = _telemetry() if self.origin in _GRAPH_CLOUDS else {}
        """The telemetry headers of a request to this session's Graph host (none elsewhere)."""
        # Kept to close: msgraph-core's transport wraps it and its `aclose` closes nothing.
        self.network = transport or _network()
        http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            verify=_ssl_context(),  # for a proxy from the environment
            transport=self.network,
        )
        self.http = GraphClientFactory.create_with_custom_middleware(middleware, client=http)
        # With no proxy in the environment, a request that follows no redirect goes straight
        # to the connection pool: the client's layers (its auth and redirect steps, a cookie
        # jar Graph never fills, the SDK transport's pipeline check) cost 0.1 ms a request.
        self.direct = None if _env_proxies() else self.network
        self.default_headers = dict(self.http.headers)
        self.timeouts = httpx.Timeout(timeout).as_dict()
        self.tokens = auth.access_token_provider
        self.adapter = GraphRequestAdapter(auth, client=self.http)
        self.adapter.base_url = self.base_url
        self.client = GraphServiceClient(request_adapter=self.adapter)
        self.item_ids: dict[tuple[str, str, str], str] = {}
        """Drive item ids by (user path, folder, name), so a known file reads in one trip;
        the newest `MEMORY` only, oldest first."""
        self.downloads: dict[str, _Download] = {}
        """The last download URL seen per drive item id, oldest first (see `GraphDrive.get`)."""
        self.events: dict[tuple[str, str], Event] = {}
        """The last state of each event read or written by (user path, id), newest `MEMORY`
        only: a guarded move takes the zone and duration from it (see `update_event`)."""

    # A call is one coroutine run on the shared loop, its failure mapped, retried by policy.
    def call(
        self,
        make: Callable[[], Coroutine[Any, Any, T]],
        what: str,
        *,
        idempotent: bool,
        trips: int = 1,
        pauses: float = 0.0,
    ) -> T:
        """Run `make()` on the loop with the retry policy; failures become connector errors.

        `trips` is the most requests the coroutine makes one after another (a listing's pages,
        a drive read): its deadline is one request's timeout for each, plus `pauses` seconds it
        sleeps on purpose, so a slow but healthy multi-request read is not cut and run again.
        """
        return self.retry.call(lambda: self.once(make, what, trips, pauses), idempotent=idempotent)

    def call_resolving(
        self,
        make: Callable[[], Coroutine[Any, Any, T]],
        what: str,
        *,
        ambiguous: type[ConnectorError],
        resolve: Callable[[ConnectorError], T],
        trips: int = 1,
    ) -> T:
        """Like `call` for a delete or an If-Match write: see `RetryPolicy.call_resolving`."""
        return self.retry.call_resolving(
            lambda: self.once(make, what, trips), ambiguous=ambiguous, resolve=resolve
        )

    def once(
        self,
        make: Callable[[], Coroutine[Any, Any, T]],
        what: str,
        trips: int = 1,
        pauses: float = 0.0,
    ) -> T:
        """One try of `make()` on the loop (no retry); its failure mapped (the one place)."""
        try:
            return _loop.run(make(), self.timeout * trips + pauses)
        except Exception as exc:
            raise to_connector_error(exc, what) from exc

    async def step(self, request: Awaitable[T]) -> T:
        """One request of a multi-request coroutine, held to one request's timeout."""
        return await asyncio.wait_for(request, self.timeout)

    async def send(
        self,
        method: Method,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        content_type: str = "application/json",
        redirects: bool = False,
    ) -> bytes | None:
        """One request: the SDK's token provider and middleware, its OData error: raw bytes.

        What the adapter's ``send_primitive_async`` does for a request, less the
        `RequestInformation` round trip and its tracing spans (0.4 ms CPU a request): the
        token from the auth provider (which also checks the host), an empty or 204 answer as
        None, and a failed answer raised by the adapter itself (`ODataError`, exactly as
        before). The adapter's one extra, a second try on a 401 carrying a claims challenge,
        cannot help here: our credentials hand out the same token whatever the claims (see
        `FetchedToken`).

        Only a request that may be `redirects` (a file's ``/content``: 302 to a download URL)
        goes through the SDK's middleware pipeline, for its redirect handler (which drops the
        token on a hop to another host). Every other Graph call answers without redirects,
        and the pipeline's tracing spans cost about 0.5 ms of CPU a request.
        """
        target = url if "://" in url else f"{self.base_url}{url}"
        token = await self.tokens.get_authorization_token(target, {})
        sent = dict(headers or {})
        if self.telemetry and (target.startswith(self.origin + "/") or target == self.origin):
            sent.update(self.telemetry)
            sent["client-request-id"] = str(uuid.uuid4())
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if content is not None:
            sent["Content-Type"] = content_type
        if self.direct is not None and not redirects:
            answer = await self._direct(method.value, target, sent, content)
        else:
            extensions: dict[str, Any] | None = {REQUEST_OPTIONS: {}} if redirects else None
            request = self.http.build_request(
                method.value, target, headers=sent, content=content, extensions=extensions
            )
            answer = await self.http.send(request)
        if answer.is_redirect and not redirects:
            raise Unavailable(
                f"Graph answered {method.value} {urlsplit(target).path} with a redirect "
                f"({answer.status_code}), where it answers in place"
            )
        if not answer.is_success:
            errors: dict[str, Any] = {"XXX": ODataError}
            span = trace.INVALID_SPAN
            await self.adapter.throw_failed_responses(answer, errors, span, span)
        if answer.status_code in (204, 304) or not answer.content:
            return None
        return bytes(answer.content)

    async def _direct(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None = None
    ) -> httpx.Response:
        """One request straight to the pool (see `direct`), with the client's default headers
        and timeouts; its body read."""
        assert self.direct is not None
        request = httpx.Request(
            method,
            url,
            headers={**self.default_headers, **headers},
            content=content,
            extensions={"timeout": self.timeouts},
        )
        answer = await self.direct.handle_async_request(request)
        await answer.aread()
        return answer

    async def plain_get(self, url: str) -> httpx.Response:
        """GET `url` without the SDK or a token (a pre-authenticated download URL), following
        redirects."""
        if self.direct is not None:
            answer = await self._direct("GET", url, {})
            if not answer.is_redirect:
                return answer
        followed: httpx.Response = await self.http.get(url, follow_redirects=True)
        return followed

    async def send_json(self, method: Method, url: str, *, body: Any = None, **kwargs: Any) -> Any:
        """Like `send`, answering parsed JSON (None for an empty answer); `body` goes as JSON."""
        if body is not None:
            kwargs["content"] = json.dumps(body, separators=(",", ":")).encode()
        raw = await self.send(method, url, **kwargs)
        return json.loads(raw) if raw else None

    async def post_batch(
        self, requests: list[_graph_batch.BatchRequest]
    ) -> list[_graph_batch.BatchResponse]:
        """POST one ``$batch`` (at most 20 items) and parse its items."""
        raw = await self.send(
            Method.POST,
            "/$batch",
            headers={"Accept": "application/json"},
            content=_graph_batch.request_body(requests),
        )
        return _graph_batch.parse_response(raw or b"")

    async def post_chain(
        self, requests: list[_graph_batch.BatchRequest], what: str
    ) -> dict[str, Any]:
        """POST one ``$batch`` of items that depend on each other; each item's body by id.

        The first failed item in order raises its error (the write's, not the 424 of a read
        that depended on it)."""
        answers = {a.id: a for a in await self.post_batch(requests)}
        for request in requests:
            answer = answers.get(request.id)
            if answer is None:
                raise ValueError(f"the $batch answer has no {request.id!r} item")
            if not answer.ok:
                raise answer.error(what)
        return {key: answer.body for key, answer in answers.items()}

    def batch(
        self, requests: Sequence[_graph_batch.BatchRequest], what: str
    ) -> dict[str, _graph_batch.BatchResponse]:
        """Run requests as JSON batches; each answer by request id (failed ones stay failed)."""

        def send(chunk: list[_graph_batch.BatchRequest]) -> list[_graph_batch.BatchResponse]:
            return self.once(lambda: self.post_batch(chunk), what)

        return _graph_batch.run(send, requests, self.retry, what)

    def close(self) -> None:
        """Close the HTTP connections."""
        _loop.run(self._close(), self.timeout)

    async def _close(self) -> None:
        await self.http.aclose()
        await self.network.aclose()


_GRAPH_CLOUDS = frozenset(cloud.value for cloud in NationalClouds)
"""Graph's hosts: the SDK's telemetry handler adds its headers on these only."""


@functools.cache
def _telemetry() -> dict[str, str]:
    """The headers msgraph-core's `GraphTelemetryHandler` adds to a Graph request, less the
    per-request ``client-request-id``: the SDK's versions with the middleware in use (the
    redirect handler), the host OS and Python's version. They are the same on every request."""
    options = sdk_options[GraphTelemetryHandlerOption.get_key()]
    usage = hex(FeatureUsageFlag.REDIRECT_HANDLER_ENABLED)
    return {
        "sdkVersion": f"graph-python/{options.sdk_version}, "
        f"graph-python-core/{SDK_VERSION} (featureUsage={usage})",
        "HostOs": f"{platform.system()} {platform.version()}".strip(),
        "RuntimeEnvironment": f"Python/{platform.python_version()}",
    }


class GraphAccount:
    """Microsoft Graph for one tenant: the ports of each user.

    `credential` is an azure-identity TokenCredential (``ClientSecretCredential``,
    ``OnBehalfOfCredential``, `StaticToken`, ...) or a callable giving the credential of one
    user's email (per-user delegated tokens). With delegated credentials the ports use ``/me``;
    with `app_only` they use ``/users/{email}``.
    """

    def __init__(
        self,
        credential: Any,
        *,
        base_url: str = DEFAULT_BASE_URL,
        app_only: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        scopes: Sequence[str] = DEFAULT_SCOPES,
    ) -> None:
        """An account on `base_url` (the emulator's ``http://127.0.0.1:PORT/v1.0`` in tests)."""
        self._credential = credential
        self.base_url = base_url
        """The Graph root every port calls (``.../v1.0``)."""
        self._app_only = app_only
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._scopes = tuple(scopes)
        self._sessions: dict[object, _Session] = {}
        self._lock = threading.Lock()

    def _session(self, email: str) -> _Session:
        per_user = not hasattr(self._credential, "get_token") and callable(self._credential)
        key: object = email.lower() if per_user else id(self._credential)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                credential = self._credential(email) if per_user else self._credential
                session = _Session(
                    credential,
                    base_url=self.base_url,
                    scopes=self._scopes,
                    retry=self._retry,
                    timeout=self._timeout,
                )
                self._sessions[key] = session
            return session

    def _prefix(self, email: str) -> str:
        return f"/users/{quote(email, safe='@')}" if self._app_only else "/me"

    def calendar(self, email: str) -> GraphCalendar:
        """The calendar of `email`."""
        session = self._session(email)
        return GraphCalendar(session, email, self._prefix(email))

    def drive(self, email: str) -> GraphDrive:
        """The app folder in the OneDrive of `email`."""
        return GraphDrive(self._session(email), email, self._prefix(email))

    def mailer(self, email: str) -> GraphMailer:
        """A mailer sending as `email`."""
        return GraphMailer(self._session(email), email, self._prefix(email))

    def directory(self) -> GraphDirectory:
        """Reporting lines and working hours, each read with the person's own session."""
        return GraphDirectory(lambda email: (self._session(email), self._prefix(email)))

    def close(self) -> None:
        """Close every client's connections."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


REQUEST_OPTIONS = "kiota_request_options"
"""The request extension that sends a request through the middleware pipeline: msgraph-core's
transport passes a request without it straight to the network (the adapter always sets it).
Each request gets its own (the middleware writes into the extensions)."""


def _id(value: str) -> str:
    return quote(value, safe="")


# -- calendar ---------------------------------------------------------------------------------


class GraphCalendar:
    """`connectors.ports.Calendar` on one user's Outlook calendar through Microsoft Graph."""

    def __init__(self, session: _Session, email: str, prefix: str) -> None:
        """Use `GraphAccount.calendar`."""
        self._s = session
        self._email = email
        self._prefix = prefix

    @property
    def owner(self) -> str:
        """The email address of the calendar's user."""
        return self._email

    def _what(self, action: str) -> str:
        return f"{action} in the calendar of {self._email}"

    # reads ---------------------------------------------------------------------------------

    def _read_url(self, event_id: str) -> str:
        """One GET of an event with our properties and its attachment list expanded."""
        return f"{self._prefix}/events/{_id(event_id)}?$expand={READ_EXPAND}"

    def get_event(self, event_id: str) -> Event:
        """The event with its properties and attachment list, read in one plain GET.

        Both come in through ``$expand`` (one answer to parse, cheaper on both sides than a
        ``$batch`` of the event and its attachments collection).
        """
        what = self._what(f"reading event {event_id!r}")

        async def read() -> Any:
            return await self._s.send_json(
                Method.GET, self._read_url(event_id), headers={"Prefer": UTC_PREFER}
            )

        found = self._s.call(read, what, idempotent=True)
        return self._event(found, what)

    def _event(self, data: Any, what: str) -> Event:
        """An event read with `READ_EXPAND` (its attachments are in the answer), remembered."""
        try:
            if not isinstance(data, dict):
                raise ValueError("the event is not a JSON object")
            event = from_graph_event(data, _expanded(data))
        except (KeyError, ValueError, TypeError) as exc:
            raise to_connector_error(exc, what) from exc
        _keep(self._s.events, (self._prefix, event.id), event, MEMORY)
        return event

    def _with_attachments(self, items: Sequence[Json], what: str) -> list[Event]:
        """Events from listed JSON with their expanded attachment lists; a listing that came
        without them (a server not expanding ``attachments``) has them read in batches."""
        wanted = [
            _graph_batch.BatchRequest(
                f"a{i}",
                "GET",
                f"{self._prefix}/events/{_id(str(item['id']))}/attachments"
                f"?$select={ATTACHMENT_FIELDS}",
            )
            for i, item in enumerate(items)
            if item.get("hasAttachments") and not isinstance(item.get("attachments"), list)
        ]
        answers = self._s.batch(wanted, what) if wanted else {}
        events = []
        try:
            for i, item in enumerate(items):
                answer = answers.get(f"a{i}")
                if answer is not None and not answer.ok:
                    raise answer.error(what)
                found = list((answer.body or {}).get("value") or []) if answer else None
                events.append(from_graph_event(item, _expanded(item) if found is None else found))
        except (KeyError, ValueError, TypeError) as exc:
            raise to_connector_error(exc, what) from exc
        return events

    def _pages(self, first: str) -> Callable[[], Coroutine[Any, Any, list[Json]]]:
        """Read a listing's pages as JSON, following ``@odata.nextLink`` (bounded)."""

        async def collect() -> list[Json]:
            items: list[Json] = []
            link: Any = first
            for _ in range(PAGE_LIMIT):
                page = await self._s.step(
                    self._s.send_json(Method.GET, str(link), headers={"Prefer": UTC_PREFER})
                )
                if not isinstance(page, dict):
                    raise ValueError("a page of events is not a JSON object")
                items.extend(v for v in page.get("value") or [] if isinstance(v, dict))
                link = page.get("@odata.nextLink")
                if not link:
                    return items
            raise ValueError(f"more than {PAGE_LIMIT} pages: refusing to read on")

        return collect

    def find_event(self, ical_uid: str) -> Event | None:
        """This mailbox's copy of a meeting by iCalUId (`$filter` on /events), or None.

        /events lists single events and series masters, never occurrences, so only the copy
        that shares the organizer's iCalUId matches.
        """
        if not ical_uid:
            return None
        what = self._what(f"finding the meeting {ical_uid!r}")
        # A meeting another system organised shows its UID wrapped: ask for that form.
        uid = quote(graph_ical_uid(ical_uid).replace("'", "''"), safe="")
        url = f"{self._prefix}/events?$filter=iCalUId%20eq%20'{uid}'&$expand={READ_EXPAND}&$top=2"

        async def ask() -> list[Json]:
            answer = await self._s.send_json(Method.GET, url, headers={"Prefer": UTC_PREFER})
            return [v for v in (answer or {}).get("value") or [] if isinstance(v, dict)]

        found = self._with_attachments(self._s.call(ask, what, idempotent=True)[:1], what)
        return next((e for e in found if not e.cancelled), None)

    def instances(self, series_id: str, start: datetime, end: datetime) -> list[Event]:
        """Occurrences of a series starting in [start, end), by start, none cancelled."""
        what = self._what(f"listing occurrences of {series_id!r}")
        path = f"{self._prefix}/events/{_id(series_id)}/instances"
        events = self._window(path, start, end, what)
        return _by_start(e for e in events if start <= e.start < end)

    def events(self, start: datetime, end: datetime) -> list[Event]:
        """Every event overlapping [start, end), series expanded (calendarView), by start."""
        what = self._what("listing events")
        events = self._window(f"{self._prefix}/calendarView", start, end, what)
        return _by_start(e for e in events if in_window(e, start, end))

    def _window(self, path: str, start: datetime, end: datetime, what: str) -> list[Event]:
        """Every page of a windowed listing (instances, calendarView), none cancelled.

        The URL is ours, not a request builder's: the SDK's URI template expansion of these
        query options cost more CPU than the rest of the request together.
        """
        query = urlencode(
            {
                "startDateTime": utc_iso(start, what),
                "endDateTime": utc_iso(end, what),
                "$top": PAGE_SIZE,
                "$expand": f"{expand_properties()},{ATTACHMENT_EXPAND}",
            },
            safe="(),='$:",
            quote_via=quote,
        )
        items = self._s.call(
            self._pages(f"{path}?{query}"), what, idempotent=True, trips=PAGE_LIMIT
        )
        return [e for e in self._with_attachments(items, what) if not e.cancelled]

    def free_busy(
        self, emails: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Busy]]:
        """Busy intervals per address from getSchedule; an unknown address is free.

        getSchedule answers at most `SCHEDULE_SPAN` at once (ErrorTimeIntervalTooBig beyond):
        a longer span is asked in windows, all in one ``$batch``.
        """
        what = self._what("reading free/busy")
        spans = windows(start, end, SCHEDULE_SPAN)
        path = f"{self._prefix}/calendar/getSchedule"
        values: list[Json] = []
        if len(spans) == 1:
            body = to_get_schedule(list(emails), start, end)

            async def ask() -> list[Json]:
                answer = await self._s.send_json(
                    Method.POST, path, body=body, headers={"Prefer": UTC_PREFER}
                )
                return [v for v in (answer or {}).get("value") or [] if isinstance(v, dict)]

            values = self._s.call(ask, what, idempotent=True)
        else:
            asked = [
                _graph_batch.BatchRequest(
                    f"w{n}",
                    "POST",
                    path,
                    body=to_get_schedule(list(emails), low, high),
                    headers={"Prefer": UTC_PREFER},
                )
                for n, (low, high) in enumerate(spans)
            ]
            answers = self._s.batch(asked, what)
            for request in asked:
                answer = answers[request.id]
                if not answer.ok:
                    raise answer.error(what)
                found = (answer.body or {}).get("value") or []
                values.extend(v for v in found if isinstance(v, dict))
        try:
            return from_schedule(values, list(emails))
        except (KeyError, ValueError, TypeError) as exc:
            raise to_connector_error(exc, what) from exc

    # writes --------------------------------------------------------------------------------

    def create_event(self, event: NewEvent, *, idempotency_key: str) -> Event:
        """Create an event or series; Graph's transactionId makes a repeat return the first."""
        what = self._what(f"creating event {event.subject!r}")
        if event.organizer.lower() != self._email.lower():
            raise InvalidRequest(
                f"{what}: the organizer must be the calendar's user {self._email}, "
                f"got {event.organizer}"
            )
        body = to_graph_event(event, idempotency_key)

        async def post() -> Any:
            return await self._s.send_json(
                Method.POST, f"{self._prefix}/events", body=body, headers={"Prefer": UTC_PREFER}
            )

        created = self._s.call(post, what, idempotent=True)
        if not isinstance(created, dict) or not created.get("id"):
            raise to_connector_error(ValueError("the created event has no id"), what)
        if created.get("hasAttachments") or created.get("subject") != body["subject"]:
            # A repeated transactionId answers the first event, changed since: read it whole.
            return self.get_event(str(created["id"]))
        # The POST answers the event as stored, less the extended properties (Graph sends
        # those only when expanded on a read): they are the ones this body set.
        created.setdefault("singleValueExtendedProperties", body["singleValueExtendedProperties"])
        return self._event(created, what)

    def update_event(
        self, event_id: str, patch: EventPatch, *, if_match: str | None = None
    ) -> Event:
        """PATCH the event (If-Match when given); a new start keeps the zone and duration.

        The PATCH and the read of the event as stored go in one ``$batch``, the read depending
        on the write (a failed write answers the read 424): one round trip. A move needs the
        current zone and duration: with If-Match naming the state this session last read or
        wrote, that state is the current one whenever the PATCH applies (else 412), so it is
        used as it is; otherwise the event is read first (two round trips).
        """
        what = self._what(f"updating event {event_id!r}")
        known = self._s.events.get((self._prefix, event_id))
        if known is not None and if_match in (None, known.etag):
            try:
                return self._patch_known(event_id, patch, known, what, guarded=bool(if_match))
            except Conflict:
                if if_match:
                    raise
                # Written elsewhere since this session saw it: apply it unguarded, as asked.
        current = None
        if patch.start is not None or patch.end is not None:
            known = self._s.events.get((self._prefix, event_id))
            if if_match and known is not None and known.etag == if_match:
                current = known
            else:
                current = self.get_event(event_id)
        body = to_graph_patch(patch, current)
        headers = {"If-Match": if_match} if if_match else {}
        requests = [
            _graph_batch.BatchRequest(
                "patch", "PATCH", f"{self._prefix}/events/{_id(event_id)}", body, headers
            ),
            _graph_batch.BatchRequest(
                "read",
                "GET",
                self._read_url(event_id),
                headers={"Prefer": UTC_PREFER},
                depends_on=("patch",),
            ),
        ]

        async def send() -> Event:
            return self._event((await self._s.post_chain(requests, what))["read"], what)

        if not if_match:
            # Unguarded, a PATCH sends the same body every time: repeating it is harmless.
            return self._s.call(send, what, idempotent=True)

        resolve = functools.partial(self._patch_applied, event_id, patch)
        return self._s.call_resolving(send, what, ambiguous=Conflict, resolve=resolve)

    def _patch_known(
        self, event_id: str, patch: EventPatch, known: Event, what: str, *, guarded: bool
    ) -> Event:
        """One PATCH under If-Match of the state this session last read or wrote.

        When it applies, `known` was the state it changed, so the answer (the event as
        stored, without expansions) plus `known`'s attachments and properties, or the ones the
        patch set, is the new state: no read after the write. A 412 raises `Conflict`.
        """
        body = to_graph_patch(patch, known)
        headers = {"If-Match": known.etag, "Prefer": UTC_PREFER}
        url = f"{self._prefix}/events/{_id(event_id)}"

        async def send() -> Event:
            data = await self._s.send_json(Method.PATCH, url, body=body, headers=headers)
            try:
                if not isinstance(data, dict):
                    raise ValueError("the PATCH answer is not a JSON object")
                event = from_graph_event(data, [])
            except (KeyError, ValueError, TypeError) as exc:
                raise to_connector_error(exc, what) from exc
            properties = known.properties if patch.properties is None else patch.properties
            event = dataclasses.replace(
                event, properties=dict(properties), attachments=known.attachments
            )
            _keep(self._s.events, (self._prefix, event.id), event, MEMORY)
            return event

        if not guarded:
            # A lost answer's repeat meets its own write (412): the caller falls back.
            return self._s.call(send, what, idempotent=True)
        resolve = functools.partial(self._patch_applied, event_id, patch)
        return self._s.call_resolving(send, what, ambiguous=Conflict, resolve=resolve)

    def _patch_applied(self, event_id: str, patch: EventPatch, error: ConnectorError) -> Event:
        """A guarded PATCH's repeat met 412: it may be our own write whose answer was lost;
        the event as it is when it shows the patch, else `error`."""
        found = self.get_event(event_id)
        if not patch_shows(patch, found):
            raise error
        return found

    def delete_event(self, event_id: str, *, if_match: str | None = None) -> None:
        """Delete an event or series, or cancel one occurrence."""
        what = self._what(f"deleting event {event_id!r}")
        headers = {"If-Match": if_match} if if_match else {}
        url = f"{self._prefix}/events/{_id(event_id)}"

        async def remove() -> None:
            await self._s.send(Method.DELETE, url, headers=headers)

        self._s.events.pop((self._prefix, event_id), None)
        self._s.call_resolving(
            remove,
            what,
            ambiguous=NotFound,
            resolve=_gone,
        )

    def add_attachment(
        self, event_id: str, name: str, content: bytes, content_type: str
    ) -> AttachmentInfo:
        """Attach a file, replacing any attachment with the same name.

        The new one is added before the old ones are deleted, so a failure midway leaves the
        old attachment (or both), never neither.
        """
        what = self._what(f"attaching {name!r} to event {event_id!r}")
        url = f"{self._prefix}/events/{_id(event_id)}/attachments"
        body = to_graph_attachment(name, content, content_type)

        async def replace() -> Json:
            listed = await self._s.step(self._s.send_json(Method.GET, f"{url}?$select=id,name"))
            old = [
                str(a["id"])
                for a in (listed or {}).get("value") or []
                if a.get("name") == name and a.get("id")
            ]
            added = await self._s.step(self._s.send_json(Method.POST, url, body=body))
            if not isinstance(added, dict):
                raise ValueError("the added attachment is not a JSON object")
            for attachment_id in old:
                try:
                    await self._s.step(self._s.send(Method.DELETE, f"{url}/{_id(attachment_id)}"))
                except ODataError as exc:
                    if exc.response_status_code != 404:  # gone already is what we wanted
                        raise
            return added

        # The event's state changes (attachments, etag): what this session saw is stale.
        self._s.events.pop((self._prefix, event_id), None)
        # Repeated as a whole it ends in the same state: the newest added, the others deleted.
        added = self._s.call(replace, what, idempotent=True, trips=ATTACHMENT_TRIPS)
        try:
            info = from_graph_attachment(added)
        except (KeyError, ValueError, TypeError) as exc:
            raise to_connector_error(exc, what) from exc
        # Graph's size counts the stored item (a few hundred bytes over the file); we know the
        # file's own size here. Listings can only give Graph's.
        return AttachmentInfo(info.id, info.name, info.content_type, len(content))

    def get_attachment(self, event_id: str, attachment_id: str) -> bytes:
        """The bytes of a file attachment."""
        what = self._what(f"reading attachment {attachment_id!r} of event {event_id!r}")

        url = f"{self._prefix}/events/{_id(event_id)}/attachments/{_id(attachment_id)}"

        async def read() -> bytes:
            found = await self._s.send_json(Method.GET, url)
            data = found.get("contentBytes") if isinstance(found, dict) else None
            if not isinstance(data, str):
                raise ValueError("the attachment is not a file attachment with contentBytes")
            return base64.b64decode(data, validate=True)

        return self._s.call(read, what, idempotent=True)


def _expanded(data: Mapping[str, Any]) -> list[Json]:
    """The attachment list expanded into an event's JSON (none when it has none)."""
    return [a for a in data.get("attachments") or [] if isinstance(a, dict)]


def _gone(error: ConnectorError) -> None:
    """A repeated delete finding nothing: the try whose answer was lost did the work."""


def _by_start(events: Iterable[Event]) -> list[Event]:
    """Events by start, then end, then id: the ports' listing order."""
    return sorted(events, key=lambda e: (e.start, e.end, e.id))


# -- drive ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Download:
    """A download URL Graph handed out with an item, the item's eTag then, and when."""

    url: str
    etag: str
    seen: float
    """`time.monotonic()` when the item carrying it was read."""


@dataclass(frozen=True, slots=True)
class _Fetched:
    """What a pre-authenticated download URL answered."""

    status: int
    etag: str | None
    content: bytes


K = TypeVar("K")
V = TypeVar("V")


def _keep(memory: dict[K, V], key: K, value: V, limit: int) -> None:
    """Put `key` in `memory` as its newest entry, forgetting the oldest beyond `limit`."""
    memory.pop(key, None)
    memory[key] = value
    for oldest in builtins.list(memory)[: max(0, len(memory) - limit)]:
        memory.pop(oldest, None)


def _same_tag(left: str | None, right: str | None) -> bool:
    """Whether two entity tags name the same state (a weak ``W/`` prefix aside)."""
    if not left or not right:
        return False
    return left.strip().removeprefix("W/") == right.strip().removeprefix("W/")


def _still_at(item: Mapping[str, Any], folder: str, name: str) -> bool:
    """Whether a file read by its id is still `folder`/`name` (not renamed, moved, a folder)."""
    parent = item.get("parentReference")
    in_folder = isinstance(parent, Mapping) and parent.get("name") == folder
    return in_folder and item.get("name") == name and "file" in item


def _hashes(item: Mapping[str, Any]) -> Any:
    return (item.get("file") or {}).get("hashes")


class GraphDrive:
    """`connectors.ports.Drive` on the OneDrive app folder (``/drive/special/approot``).

    A file's etag names its item and newest version: Graph lists versions without eTags, and
    the contract wants each kept version's tag. Conditional writes check that tag, then send
    the item's own eTag as If-Match, so a write racing ours still fails with 412.
    """

    def __init__(self, session: _Session, email: str, prefix: str) -> None:
        """Use `GraphAccount.drive`."""
        self._s = session
        self._email = email
        self._prefix = prefix
        self._approot = f"{prefix}/drive/special/approot"

    def _what(self, action: str) -> str:
        return f"{action} in the app folder of {self._email}"

    def _path(self, folder: str, name: str | None = None) -> str:
        parts = [check_name("folder", folder)]
        if name is not None:
            parts.append(check_name("name", name))
        return f"{self._approot}:/{'/'.join(quote(p, safe='') for p in parts)}:"

    async def _item(self, folder: str, name: str) -> Json:
        url = f"{self._path(folder, name)}?$select={ITEM_FIELDS}"
        found = await self._s.send_json(Method.GET, url)
        if not isinstance(found, dict) or "file" not in found:
            raise _not_a_file(folder, name)
        self._known(folder, name, str(found["id"]))
        self._remember(found)
        return found

    def _known(self, folder: str, name: str, item_id: str) -> None:
        """Remember the id of the file at `folder`/`name` (see `_Session.item_ids`)."""
        _keep(self._s.item_ids, (self._prefix, folder, name), item_id, MEMORY)

    def _remember(self, item: Mapping[str, Any]) -> None:
        """Keep the download URL an item read handed out, to fetch the bytes with the next."""
        url, item_id = item.get(DOWNLOAD_URL), str(item.get("id") or "")
        self._s.downloads.pop(item_id, None)
        if not isinstance(url, str) or not url or not item_id:
            return
        seen = _Download(url, str(item.get("eTag") or ""), time.monotonic())
        _keep(self._s.downloads, item_id, seen, MEMORY)

    def _forget(self, folder: str, name: str, item_id: str | None) -> None:
        self._s.item_ids.pop((self._prefix, folder, name), None)
        if item_id is not None:
            self._s.downloads.pop(item_id, None)

    def _usable(self, item_id: str) -> _Download | None:
        """The remembered download URL of an item, unless Graph has invalidated it by now."""
        found = self._s.downloads.get(item_id)
        if found is None or time.monotonic() - found.seen > DOWNLOAD_URL_TRUST:
            return None
        return found

    async def _fetch(self, url: str) -> _Fetched | None:
        """GET a pre-authenticated download URL, without our token; None when unreachable.

        It needs no Authorization (and is not Graph's host on a tenant), so it goes through
        the session's HTTP client directly, not the SDK's adapter.
        """
        try:
            answer = await self._s.plain_get(url)
        except httpx.HTTPError:
            return None
        return _Fetched(answer.status_code, answer.headers.get("ETag"), answer.content)

    async def _bytes(self, item: Mapping[str, Any]) -> bytes:
        """An item's bytes through the download URL it came with, else ``/content`` (302)."""
        url = item.get(DOWNLOAD_URL)
        if isinstance(url, str) and url:
            fetched = await self._fetch(url)
            if fetched is not None and fetched.status == 200:
                return fetched.content
        return await self._content(str(item["id"]))

    async def _versions(self, item_id: str, query: str = VERSION_IDS) -> list[Json]:
        found = await self._s.send_json(
            Method.GET, f"{self._prefix}/drive/items/{_id(item_id)}/versions?{query}"
        )
        return [dict(v) for v in sorted_versions((found or {}).get("value") or [])]

    async def _info(
        self, folder: str, name: str, query: str = VERSION_IDS
    ) -> tuple[Json, list[Json], FileInfo]:
        item = await self._item(folder, name)
        versions = await self._versions(str(item["id"]), query)
        return item, versions, from_drive_item(item, folder, versions)

    async def _check(self, folder: str, name: str, if_match: str) -> Json:
        """The item if its newest version is `if_match`, else `Conflict` (missing: `NotFound`)."""
        item, _, info = await self._info(folder, name)
        if info.etag != if_match:
            raise Conflict(
                f"{self._what(f'writing {folder}/{name}')}: it changed meanwhile "
                f"(now {info.etag}, expected {if_match})"
            )
        return item

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
        """Upload (simple PUT, creating the folder); conditional with If-Match or fail-on-exists."""
        path = self._path(folder, name)
        what = self._what(f"writing {folder}/{name}")

        async def upload() -> FileInfo:
            headers = {}
            url = f"{path}/content"
            if if_match is not None:
                item = await self._check(folder, name, if_match)
                headers["If-Match"] = str(item.get("eTag") or "*")
            if if_none_match:
                url += "?" + urlencode({"@microsoft.graph.conflictBehavior": "fail"})
            if len(content) <= BATCHED_UPLOAD_BYTES:
                item, versions = await self._upload_batched(
                    url,
                    path,
                    headers=headers,
                    content=content,
                    content_type=content_type,
                    what=what,
                )
            else:
                item = await self._s.send_json(
                    Method.PUT, url, headers=headers, content=content, content_type=content_type
                )
                versions = None
            self._known(folder, name, str(item["id"]))
            self._remember(item)
            if versions is None:
                versions = await self._versions(str(item["id"]))
            return from_drive_item(item, folder, versions)

        if if_match is None and not if_none_match:
            # An unguarded repeat would keep one more version: it is not repeated.
            return self._s.call(upload, what, idempotent=False, trips=PUT_TRIPS)

        def resolve(error: ConnectorError) -> FileInfo:
            # A repeat's Conflict (412, or 409 for fail-on-exists) may be our own write whose
            # answer was lost: keep it when the file now holds exactly our bytes.
            try:
                item, _, info = self._s.once(lambda: self._info(folder, name), what, trips=2)
            except NotFound:
                raise error from None
            same_size = int(item.get("size") or 0) == len(content)
            if same_size and content_matches(_hashes(item), content) is True:
                return info
            raise error

        try:
            return self._s.call_resolving(
                upload, what, ambiguous=Conflict, resolve=resolve, trips=PUT_TRIPS
            )
        except NotFound as exc:
            if if_match is not None:
                raise Conflict(f"{what}: there is no such file to write over") from exc
            raise

    async def _upload_batched(
        self,
        url: str,
        path: str,
        *,
        headers: Mapping[str, str],
        content: bytes,
        content_type: str,
        what: str,
    ) -> tuple[Json, list[Json]]:
        """The PUT and the file's versions (which name its etag) in one ``$batch``: the body
        goes base64-encoded, as Graph takes a non-JSON body in a batch; the versions are read
        by path once the PUT succeeded (a failed PUT answers them 424 and raises its error)."""
        encoded = base64.b64encode(content).decode()
        sent = {**headers, "Content-Type": content_type}
        requests = [
            _graph_batch.BatchRequest("put", "PUT", url, encoded, sent, idempotent=False),
            _graph_batch.BatchRequest(
                "versions", "GET", f"{path}/versions?{VERSION_IDS}", depends_on=("put",)
            ),
        ]
        bodies = await self._s.post_chain(requests, what)
        item, listed = bodies["put"], bodies["versions"]
        if not isinstance(item, dict) or not isinstance(listed, dict):
            raise ValueError("the upload's $batch answer is not JSON")
        return item, [dict(v) for v in sorted_versions(listed.get("value") or [])]

    def get(self, folder: str, name: str) -> File:
        """The newest version's bytes and metadata, the bytes checked against its hashes.

        A file read before (its id and last download URL remembered) takes one round trip:
        item, versions and the bytes from the remembered URL at once. Graph calls that URL
        short-lived and not to be cached, so its bytes are taken only when they are the
        content the item read with them describes (hash, size and eTag); otherwise (expired,
        another writer, no hash) the bytes come from the fresh URL that item read brought.
        Bytes whose hash disagrees with the metadata returned with them are never returned.
        """
        what = self._what(f"reading {folder}/{name}")
        self._path(folder, name)

        async def read() -> File:
            known = self._s.item_ids.get((self._prefix, folder, name))
            if known is not None:
                found = await self._read_known(known, folder, name)
                if found is not None:
                    return found
            for _ in range(READ_ATTEMPTS):
                item = await self._item(folder, name)
                found = await self._read_item(item, folder)
                if found is not None:
                    return found
            raise Unavailable(f"{what}: it kept changing while it was read")

        return self._s.call(read, what, idempotent=True, trips=GET_TRIPS)

    async def _content(self, item_id: str) -> bytes:
        url = f"{self._prefix}/drive/items/{_id(item_id)}/content"
        return await self._s.send(Method.GET, url, redirects=True) or b""

    async def _read_item(self, item: Json, folder: str) -> File | None:
        """Versions and bytes of an item just read; None when the bytes are not its content."""
        versions, content = await asyncio.gather(self._versions(str(item["id"])), self._bytes(item))
        return self._file(item, versions, content, folder)

    def _file(self, item: Json, versions: list[Json], content: bytes, folder: str) -> File | None:
        """The file, when `content` is what `item` describes (a hash given and wrong, or
        another size: a write came between the reads, and the caller reads again)."""
        if content_matches(_hashes(item), content) is False or len(content) != int(
            item.get("size") or 0
        ):
            self._s.downloads.pop(str(item["id"]), None)
            return None
        return File(from_drive_item(item, folder, versions), content)

    async def _read_known(self, item_id: str, folder: str, name: str) -> File | None:
        """Metadata, versions and bytes of a file whose id we saw, all at once (one round trip
        on the side panel's critical path); None when the id is gone, the file is no longer
        `folder`/`name` (renamed or moved), or a write raced us.

        Item and versions go as one ``$batch`` beside the remembered URL's bytes: two requests,
        not three, for the same answers read at the same moment.
        """
        remembered = self._usable(item_id)
        base = f"{self._prefix}/drive/items/{_id(item_id)}"
        pair = [
            _graph_batch.BatchRequest(
                "item", "GET", f"{base}?$select={ITEM_FIELDS},parentReference"
            ),
            _graph_batch.BatchRequest("versions", "GET", f"{base}/versions?{VERSION_IDS}"),
        ]
        reads: list[Awaitable[Any]] = [self._s.post_batch(pair)]
        if remembered is not None:
            reads.append(self._fetch(remembered.url))
        answered, *fetched = await asyncio.gather(*reads, return_exceptions=True)
        if isinstance(answered, BaseException):
            raise answered
        answers = {a.id: a for a in answered}
        for key in ("item", "versions"):
            answer = answers.get(key)
            if answer is None:
                raise ValueError(f"the $batch answer has no {key!r} item")
            if not answer.ok:
                if answer.status != 404:
                    raise answer.error(self._what(f"reading {folder}/{name}"))
                self._forget(folder, name, item_id)
                return None
        item = answers["item"].body
        listed = (answers["versions"].body or {}).get("value") or []
        versions = [dict(v) for v in sorted_versions(listed)]
        if not isinstance(item, dict) or not _still_at(item, folder, name):
            self._forget(folder, name, item_id)
            return None
        self._remember(item)
        if remembered is not None and self._verified(fetched[0], item, remembered):
            return File(from_drive_item(item, folder, versions), fetched[0].content)
        return self._file(item, versions, await self._bytes(item), folder)

    @staticmethod
    def _verified(fetched: Any, item: Json, remembered: _Download) -> TypeGuard[_Fetched]:
        """Whether bytes from a remembered URL are the content `item` (read with them) shows:
        the URL answered, their hash is given and agrees, and the eTag is the item's (the one
        the answer carries, else the one the URL came with)."""
        if not isinstance(fetched, _Fetched) or fetched.status != 200:
            return False
        etag = str(item.get("eTag") or "")
        if not _same_tag(fetched.etag if fetched.etag is not None else remembered.etag, etag):
            return False
        if len(fetched.content) != int(item.get("size") or 0):
            return False
        return content_matches(_hashes(item), fetched.content) is True

    def stat(self, folder: str, name: str) -> FileInfo:
        """A file's metadata without its bytes."""
        self._path(folder, name)

        async def read() -> FileInfo:
            return (await self._info(folder, name))[2]

        return self._s.call(read, self._what(f"reading {folder}/{name}"), idempotent=True, trips=2)

    def list(self, folder: str) -> builtins.list[FileInfo]:
        """The files in a folder by name (an unknown folder is empty)."""
        what = self._what(f"listing {folder}")
        path = self._path(folder)
        try:
            items = self._s.call(
                lambda: self._children(f"{path}/children"), what, idempotent=True, trips=PAGE_LIMIT
            )
        except NotFound:
            return []
        files = [i for i in items if "file" in i]
        requests = [
            _graph_batch.BatchRequest(
                f"v{n}",
                "GET",
                f"{self._prefix}/drive/items/{_id(str(i['id']))}/versions?{VERSION_IDS}",
            )
            for n, i in enumerate(files)
        ]
        answers = self._s.batch(requests, what) if requests else {}
        found = []
        for n, item in enumerate(files):
            answer = answers[f"v{n}"]
            if not answer.ok:
                raise answer.error(what)
            versions = sorted_versions((answer.body or {}).get("value") or [])
            found.append(from_drive_item(item, folder, versions))
        return sorted(found, key=lambda f: f.name)

    async def _children(self, url: str) -> builtins.list[Json]:
        items: builtins.list[Json] = []
        for _ in range(PAGE_LIMIT):
            page = await self._s.step(self._s.send_json(Method.GET, url)) or {}
            items.extend(page.get("value") or [])
            url = page.get("@odata.nextLink") or ""
            if not url:
                return items
        raise ValueError(f"more than {PAGE_LIMIT} pages of children: refusing to read on")

    def folders(self) -> builtins.list[str]:
        """The folder names in the app folder, sorted."""
        what = self._what("listing folders")
        try:
            items = self._s.call(
                lambda: self._children(f"{self._approot}/children"),
                what,
                idempotent=True,
                trips=PAGE_LIMIT,
            )
        except NotFound:
            return []
        return sorted(str(i["name"]) for i in items if "folder" in i)

    def versions(self, folder: str, name: str) -> builtins.list[FileInfo]:
        """Every kept version, oldest first."""
        self._path(folder, name)

        async def read() -> builtins.list[FileInfo]:
            item, versions, _ = await self._info(folder, name, VERSION_DETAILS)
            return [from_drive_version(item, folder, v, n + 1) for n, v in enumerate(versions)]

        what = self._what(f"listing versions of {folder}/{name}")
        return self._s.call(read, what, idempotent=True, trips=2)

    def get_version(self, folder: str, name: str, version: int) -> File:
        """One kept version's bytes (1 is the oldest)."""
        what = self._what(f"reading version {version} of {folder}/{name}")
        self._path(folder, name)

        async def read() -> File:
            item, versions, _ = await self._info(folder, name, VERSION_DETAILS)
            if not 1 <= version <= len(versions):
                raise NotFound(f"{what}: there are {len(versions)} versions")
            chosen = versions[version - 1]
            item_id = _id(str(item["id"]))
            url = f"{self._prefix}/drive/items/{item_id}"
            if version < len(versions):
                url += f"/versions/{_id(str(chosen['id']))}"
            url += "/content"
            content = await self._s.send(Method.GET, url, redirects=True)
            return File(from_drive_version(item, folder, chosen, version), bytes(content or b""))

        return self._s.call(read, what, idempotent=True, trips=3)

    def delete(self, folder: str, name: str, *, if_match: str | None = None) -> None:
        """Delete a file and its versions (If-Match when given)."""
        what = self._what(f"deleting {folder}/{name}")
        self._path(folder, name)

        async def remove() -> None:
            if if_match is not None:
                item = await self._check(folder, name, if_match)
            else:
                item = await self._item(folder, name)
            headers = {"If-Match": str(item["eTag"])} if if_match is not None else {}
            await self._s.send(
                Method.DELETE, f"{self._prefix}/drive/items/{_id(str(item['id']))}", headers=headers
            )
            self._forget(folder, name, str(item["id"]))

        def gone(error: ConnectorError) -> None:
            # Nothing there on a repeat: the try whose answer was lost deleted it.
            self._forget(folder, name, self._s.item_ids.get((self._prefix, folder, name)))

        self._s.call_resolving(remove, what, ambiguous=NotFound, resolve=gone, trips=3)


def _not_a_file(folder: str, name: str) -> NotFound:
    return NotFound(f"{folder}/{name} is a folder, not a file")


# -- mail -------------------------------------------------------------------------------------


class GraphMailer:
    """`connectors.ports.Mailer` through ``sendMail``, with ``Mail.Send`` alone.

    Every mail carries a key (the caller's, else one made up for this send) in an extended
    property. Nothing reads the mailbox (that needs Mail.Read), so a repeat cannot find an
    earlier send: the POST is tried again only while Graph surely did not take it (429, 4xx, no
    connection). Once it may have (a timeout, a dropped connection, a 5xx) the send raises
    `SendUncertain` and is not repeated: a mail may be missing, never doubled.
    """

    def __init__(self, session: _Session, email: str, prefix: str) -> None:
        """Use `GraphAccount.mailer`."""
        self._s = session
        self._email = email
        self._prefix = prefix

    def send(self, mail: Mail) -> SentMail:
        """Send once; the `SentMail`'s id is the mail's key (sendMail answers 202, no body)."""
        what = f"sending mail {mail.subject!r} as {self._email}"
        try:
            # sendMail sends as the signed-in user; another sender needs Send As rights.
            check_mail(self._email, mail)
        except InvalidRequest as exc:
            raise InvalidRequest(f"{what}: {exc}") from exc
        key = mail.key or f"{AUTO_KEY_PREFIX}{uuid.uuid4()}"
        body = {"message": to_graph_message(mail, key), "saveToSentItems": True}
        url = f"{self._prefix}/sendMail"

        def attempt() -> None:
            try:
                _loop.run(self._s.send_json(Method.POST, url, body=body), self._s.timeout)
            except Exception as exc:
                raise send_error(exc, what) from exc

        # Only errors before Graph had the request are transient (`send_error`): safe to repeat.
        self._s.retry.call(attempt, idempotent=True)
        return SentMail(id=key, mail=mail, sent_at=datetime.now(UTC))
