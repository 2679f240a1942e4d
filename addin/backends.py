"""Which calendar, drive and mail service the app talks to, chosen from its settings.

``GOEDGESPREK_BACKEND`` is ``local`` (the embedded store, the default), ``graph`` (Microsoft 365),
``google`` (Google Workspace) or ``mixed`` (both, each person at the provider ``PROVIDER_DOMAINS``
names for their mail domain: `addin.routing`). Each provider takes its endpoint and one
credential source:

- Graph: ``GRAPH_URL`` (default Microsoft's), and either an app registration
  (``GRAPH_TENANT_ID``, ``GRAPH_CLIENT_ID``, ``GRAPH_CLIENT_SECRET``: application permissions,
  ``/users/{email}``) or ``GRAPH_TOKENS``, a JSON file of ``{email: bearer token}`` (delegated,
  ``/me``; what ``goedgesprek emulate graph --user ... --tokens-file F`` writes).
- Google: ``GOOGLE_ROOT_URL`` (default Google's), and one of ``GOOGLE_OAUTH_CLIENT_ID`` (each
  person's own grant: the token of an open card, else their sealed offline grant),
  ``GOOGLE_SERVICE_ACCOUNT_FILE`` (a key with domain-wide delegation, narrowed to each user) or
  ``GOOGLE_TOKENS`` as above.
- Both: ``PROVIDER_RETRY_ATTEMPTS`` (5) and ``PROVIDER_RETRY_SECONDS`` (60) bound the retries of
  throttled or failed calls that are safe to repeat.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from addin.settings import gc_freeze

if TYPE_CHECKING:
    from connectors._retry import RetryPolicy
    from connectors.ports import Calendar, Directory, Drive, Mailer

log = logging.getLogger(__name__)

BACKENDS = ("local", "graph", "google", "mixed")
GRAPH_URL = "https://graph.microsoft.com/v1.0"

GOOGLE_DELEGATED_SCOPES = (
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/drive.file",
    # Send only: no mailbox is read. A send that got no answer is not repeated (may be missing,
    # never doubled: `connectors.errors.SendUncertain`).
    "https://www.googleapis.com/auth/gmail.send",
)
"""What a service account with domain-wide delegation is granted (Admin console, API controls)."""

GOOGLE_DIRECTORY_SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/calendar.settings.readonly",
)
"""What the directory reads on Google (granted to the service account, read as the admin)."""
GOOGLE_GROUP_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.member.readonly"
"""members.hasMember, for ``HR_GROUP``: asked only then, since a scope the Admin console has not
granted fails every token."""


class BackendError(ValueError):
    """The backend settings are incomplete or contradict each other; the message says which."""


@dataclass(frozen=True)
class Ports:
    """Per-user factories of the three ports, and how to release their connections."""

    calendar: Callable[[str], Calendar]
    drive: Callable[[str], Drive]
    mailer: Callable[[str], Mailer]
    close: Callable[[], None]
    lend: Callable[[str, str], AbstractContextManager[None]] | None = None
    """Google: ``lend(email, access_token)`` makes that person's ports use their own token for
    the length of a block (the ``userOAuthToken`` of an open card)."""
    offline: OfflineGrants | None = None
    """Google with ``GOOGLE_OAUTH_CLIENT_ID``: the stored offline grants, bound by the app."""
    directory: Callable[[], Directory] | None = None
    """The provider's own directory (reporting lines, zones, hours) on the same account; None
    where the credentials cannot read it (Google with people's own grants only)."""
    warm: Callable[[], None] | None = None
    """Graph: start building the client and warming the SDK up on a thread, if not yet begun
    (the app calls it on its first request; a port used earlier starts it itself)."""
    provider_of: Callable[[str], str] | None = None
    """Mixed organisations: which provider holds a person (``graph`` or ``google``)."""


class OfflineGrants:
    """People's offline Google grants as a credential source, once the app has bound them.

    The backend is built before the app has its token vault; the add-on's endpoints `bind` the
    `addin.signin.google.GoogleGrants` when they are set up.
    """

    def __init__(self) -> None:
        self._grants: Any = None

    def bind(self, grants: Any) -> None:
        """Use `grants` (a `GoogleGrants`) from now on."""
        self._grants = grants

    @property
    def grants(self) -> Any:
        """The bound `GoogleGrants`, or None."""
        return self._grants

    def __call__(self, email: str) -> Any:
        if self._grants is None:
            from connectors.errors import AuthExpired

            raise AuthExpired(f"no offline Google grant can be used for {email} yet")
        return self._grants.credentials(email)


def backend_name(config: Mapping[str, Any]) -> str:
    """The configured backend, checked."""
    name = str(config.get("BACKEND") or "local").strip().lower()
    if name not in BACKENDS:
        raise BackendError(f"BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    return name


def provider_ports(
    config: Mapping[str, Any], *, delegated: Callable[[str], Any] | None = None
) -> Ports | None:
    """The provider's ports for `config`, or None for the embedded store.

    `delegated` gives a signed-in person's Graph credential by address (sign-in with Microsoft,
    ``ENTRA_CLIENT_ID``); Graph then acts as that person (``/me``).
    """
    name = backend_name(config)
    if name == "graph":
        return _graph(config, delegated)
    if name == "google":
        return _google(config)
    if name == "mixed":
        from addin.routing import RoutingError, mixed_ports, provider_domains

        try:
            provider_domains(config)  # checked before either provider is built
        except RoutingError as exc:
            raise BackendError(str(exc)) from exc
        return mixed_ports(config, _graph(config, delegated), _google(config))
    return None


def _retry(config: Mapping[str, Any]) -> RetryPolicy:
    """The one retry policy, bounded by ``PROVIDER_RETRY_ATTEMPTS`` and ``_SECONDS``."""
    from connectors._retry import RetryPolicy

    try:
        attempts = int(config.get("PROVIDER_RETRY_ATTEMPTS") or 5)
        total = float(config.get("PROVIDER_RETRY_SECONDS") or 60)
    except (TypeError, ValueError) as exc:
        raise BackendError(f"PROVIDER_RETRY_ATTEMPTS and _SECONDS must be numbers: {exc}") from exc
    if attempts < 1 or total <= 0:
        raise BackendError("PROVIDER_RETRY_ATTEMPTS must be at least 1 and _SECONDS above 0")
    return RetryPolicy(attempts=attempts, total=total)


def _tokens(path: object, setting: str) -> dict[str, str]:
    try:
        data = json.loads(Path(str(path)).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"{setting}: cannot read a JSON file of tokens at {path}: {exc}"
        ) from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise BackendError(f"{setting}: expected a JSON object of email to token")
    return {k.lower(): v for k, v in data.items()}


def _unknown_user(setting: str) -> Callable[[str], Any]:
    def fail(email: str) -> Any:
        from connectors.errors import AuthExpired

        raise AuthExpired(f"no token for {email} in {setting}: sign in again")

    return fail


def _graph(config: Mapping[str, Any], delegated: Callable[[str], Any] | None = None) -> Ports:
    """Graph's ports; the SDK is imported and warmed up on a thread started by the app's first
    request (`Ports.warm`), never in `create_app`."""
    base_url = str(config.get("GRAPH_URL") or GRAPH_URL)
    retry = _retry(config)
    if delegated is not None:
        other = [k for k in ("GRAPH_TOKENS", "GRAPH_CLIENT_ID") if config.get(k)]
        if other:
            raise BackendError(
                "BACKEND=graph with ENTRA_CLIENT_ID acts as each signed-in person; "
                f"remove {' and '.join(other)}"
            )
        credentials = delegated

        def build() -> Any:
            from connectors.graph import GraphAccount

            return GraphAccount(credentials, base_url=base_url, retry=retry)
    elif config.get("GRAPH_TOKENS"):
        tokens = _tokens(config["GRAPH_TOKENS"], "GRAPH_TOKENS")
        missing = _unknown_user("GRAPH_TOKENS")

        def build() -> Any:
            from connectors.graph import GraphAccount, StaticToken

            def credential(email: str) -> Any:
                token = tokens.get(email.lower())
                return StaticToken(token) if token else missing(email)

            return GraphAccount(credential, base_url=base_url, retry=retry)
    else:
        needed = ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET")
        absent = [k for k in needed if not config.get(k)]
        if absent:
            raise BackendError(
                "BACKEND=graph needs GRAPH_TOKENS or an app registration; missing: "
                + ", ".join(absent)
            )
        tenant, client, secret = (str(config[k]) for k in needed)

        def build() -> Any:
            from azure.identity import ClientSecretCredential

            from connectors.graph import GraphAccount

            credential = ClientSecretCredential(tenant, client, secret)
            return GraphAccount(credential, base_url=base_url, app_only=True, retry=retry)

    # A served app freezes what start-up made (`addin.app.create_app`); the SDK's modules too.
    account = _Deferred(build, freeze=gc_freeze(config))
    return Ports(
        lambda email: account.get().calendar(email),
        lambda email: account.get().drive(email),
        lambda email: account.get().mailer(email),
        account.close,
        directory=lambda: account.get().directory(),
        warm=account.start,
    )


class _Deferred:
    """A Graph account built on a background thread, with the SDK warmed up there too.

    The SDK's first request costs a third of a second of imports. They are not paid in
    `create_app` (where they would only compete with the app's own start for the one
    interpreter lock): `start` begins them on a thread, which the app does on its first request
    of any kind (the pane's page comes before its first API call), and a port needed before
    then starts and waits for the thread instead of paying the imports again.

    The thread pauses the garbage collector while it imports and rehearses (as `create_app`
    does: its passes over the start-up heap found nothing and cost a third of the imports) and,
    with `freeze`, leaves what it made out of later collections (with whatever else lives at
    that moment: a request in flight leaves little, once per process). When a port is already
    waiting for the account, the rehearsal is skipped: that first request pays the same
    first-use costs itself, and a rehearsal beside it would only compete with it for the
    interpreter lock.
    """

    def __init__(self, build: Callable[[], Any], *, freeze: bool = False) -> None:
        self._build = build
        self._freeze = freeze
        self._waited = False
        self._ready = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()
        self._account: Any = None
        self._error: BaseException | None = None

    def start(self) -> None:
        """Begin building on the thread, once; later calls do nothing."""
        if self._started:
            return
        with self._start_lock:
            if self._started:
                return
            self._started = True
            threading.Thread(
                target=self._run, args=(self._build,), name="graph-warm-up", daemon=True
            ).start()

    def _run(self, build: Callable[[], Any]) -> None:
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._warm(build)
        finally:
            if collecting:
                gc.enable()
            if self._freeze:
                gc.freeze()

    def _warm(self, build: Callable[[], Any]) -> None:
        started = time.perf_counter()
        try:
            self._account = build()
        except BaseException as exc:  # handed to every request that needs the account
            self._error = exc
            self._ready.set()
            log.error("the Microsoft Graph client could not be built: %s", exc)
            return
        self._ready.set()
        if self._waited:
            return
        try:
            from connectors.graph import warm_up

            warm_up(collect=not self._freeze)
        except Exception:  # only a head start: requests still work, they pay the imports
            log.warning("warming up the Microsoft Graph client failed", exc_info=True)
            return
        log.info("Microsoft Graph client ready after %.1f s", time.perf_counter() - started)

    def get(self, timeout: float = 60.0) -> Any:
        """The account, once built (waiting at most `timeout` seconds)."""
        self.start()
        if not self._ready.is_set():
            self._waited = True
        if not self._ready.wait(timeout):
            from connectors.errors import Unavailable

            raise Unavailable("the Microsoft Graph client is still starting: try again shortly")
        if self._error is not None:
            raise self._error
        return self._account

    def close(self) -> None:
        """Close the account's connections if it was built."""
        if self._ready.is_set() and self._account is not None:
            self._account.close()


def _google(config: Mapping[str, Any]) -> Ports:
    from google.oauth2.credentials import Credentials

    from connectors.google import GoogleAccount

    root_url = str(config.get("GOOGLE_ROOT_URL") or "") or None
    retry = _retry(config)
    offline = None
    if config.get("GOOGLE_TOKENS"):
        from google.oauth2.credentials import Credentials

        tokens = _tokens(config["GOOGLE_TOKENS"], "GOOGLE_TOKENS")
        missing = _unknown_user("GOOGLE_TOKENS")

        def credentials(email: str) -> Any:
            token = tokens.get(email.lower())
            return Credentials(token=token) if token else missing(email)  # type: ignore[no-untyped-call]

        account = GoogleAccount(credentials, root_url=root_url, retry=retry)
    elif config.get("GOOGLE_SERVICE_ACCOUNT_FILE"):
        from google.oauth2 import service_account

        key = str(config["GOOGLE_SERVICE_ACCOUNT_FILE"])
        try:
            delegated = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                key, scopes=list(GOOGLE_DELEGATED_SCOPES)
            )
        except (OSError, ValueError) as exc:
            raise BackendError(f"GOOGLE_SERVICE_ACCOUNT_FILE: {exc}") from exc
        account = GoogleAccount(delegated, root_url=root_url, retry=retry)
    elif config.get("GOOGLE_OAUTH_CLIENT_ID"):
        # Each person's own grant: their token while a card is open, the sealed offline grant
        # for work done later (addin.signin.google).
        offline = OfflineGrants()
        account = GoogleAccount(offline, root_url=root_url, retry=retry)
    else:
        raise BackendError(
            "BACKEND=google needs GOOGLE_OAUTH_CLIENT_ID (each person's own grant), "
            "GOOGLE_SERVICE_ACCOUNT_FILE or GOOGLE_TOKENS"
        )

    def lend(email: str, token: str) -> AbstractContextManager[None]:
        return account.lend(email, Credentials(token=token))  # type: ignore[no-untyped-call]

    admin = str(config.get("GOOGLE_DIRECTORY_ADMIN") or "")
    directory: Callable[[], Directory] | None = None
    closers = [account.close]
    if admin and config.get("GOOGLE_TOKENS"):
        directory = partial(account.directory, admin)
    elif admin and config.get("GOOGLE_SERVICE_ACCOUNT_FILE"):
        # Read as the administrator, with only the directory's scopes (Admin console, API
        # controls): the account for calendars and drives is never granted the directory.
        from google.oauth2 import service_account

        reader = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(config["GOOGLE_SERVICE_ACCOUNT_FILE"]),
            scopes=[
                *GOOGLE_DIRECTORY_SCOPES,
                *([GOOGLE_GROUP_SCOPE] if config.get("HR_GROUP") else []),
            ],
        )
        directory_account = GoogleAccount(reader, root_url=root_url, retry=retry)
        closers.append(directory_account.close)
        directory = partial(directory_account.directory, admin)

    def close() -> None:
        for close_one in closers:
            close_one()

    return Ports(
        account.calendar,
        account.drive,
        account.mailer,
        close,
        lend,
        offline=offline,
        directory=directory,
    )
