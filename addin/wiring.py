"""The composition root: every service the app uses, built once from its settings.

`build(config)` reads the settings (`GOEDGESPREK_*` through the Flask config) and makes the
provider's ports or the embedded store, the series registry, the keyring, the templates, the
clock, the sign-in pieces and the `Conversations` use cases. `Services.close()` releases what
`build` made (thread pools, database engines, provider sessions); what the caller passed in
(a store, ports) stays the caller's to close.

Nothing here knows the demo: the demo's factory (`addin.demo.create_demo_app`) passes its own
clock and store in, as tests do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from addin.settings import Settings
from connectors._files import private_dir

if TYPE_CHECKING:
    from addin.backends import Ports
    from addin.conversations import Conversations
    from addin.conversations.journals import Journals
    from addin.identity import Identity
    from addin.registry import Registry
    from addin.signin.obo import GraphOnBehalf
    from addin.signin.vault import TokenVault
    from addin.workspace.verify import LocalSigner, RequestVerifier
    from connectors.keyring import Keyring
    from connectors.ports import Calendar, Directory, DirectoryPerson, Drive, Mailer
    from templates import TemplateSet

log = logging.getLogger(__name__)


class Store(Protocol):
    """Every user's calendar, drive and mailer in one place (`LocalStore`, `MemoryStore`)."""

    def calendar(self, email: str) -> Calendar:
        """The calendar of `email`."""
        ...

    def drive(self, email: str) -> Drive:
        """The app's folder in the drive of `email`."""
        ...

    def mailer(self, email: str) -> Mailer:
        """A mailer sending as `email`."""
        ...


@dataclass(eq=False)
class Services:
    """What `build` made, ready to use; `close()` once when the app stops."""

    settings: Settings
    calendar: Callable[[str], Calendar]
    drive: Callable[[str], Drive]
    mailer: Callable[[str], Mailer]
    provider: Ports | None
    """The provider's ports when ``BACKEND`` is ``graph`` or ``google`` (else None)."""
    store: Store | None
    """The embedded (or passed-in) store the ports come from, when they come from one."""
    registry: Registry
    keyring: Keyring
    templates: TemplateSet
    clock: Callable[[], datetime]
    signer: LocalSigner
    identity: Identity
    """Who calls the pane's API: with ``ENTRA_CLIENT_ID``, Microsoft Entra ID's access tokens
    (`addin.signin.entra`); without, tokens signed by this installation's own key (`signer`),
    which it issues to no one over HTTP."""
    verifier: RequestVerifier
    conversations: Conversations
    directory: Directory
    """Who reports to whom (`CachedDirectory` over the provider's directory by default)."""
    vault: TokenVault
    """Where people's sealed provider sign-ins are kept (the server store)."""
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def ports(self) -> dict[str, Callable[[str], Any]]:
        """The three per-user port factories by name."""
        return {"calendar": self.calendar, "drive": self.drive, "mailer": self.mailer}

    def close(self) -> None:
        """Release what `build` made, last made first; a second call does nothing."""
        _close_all(self._closers)


def _close_all(closers: list[Callable[[], None]]) -> None:
    while closers:
        close = closers.pop()
        try:
            close()
        except Exception:  # one failing close must not leave the others open
            log.exception("closing %r failed", close)


def build(
    config: Mapping[str, Any],
    *,
    calendar: Callable[[str], Calendar] | None = None,
    drive: Callable[[str], Drive] | None = None,
    mailer: Callable[[str], Mailer] | None = None,
    store: Store | None = None,
    verifier: RequestVerifier | None = None,
    clock: Callable[[], datetime] | None = None,
    create_keyring: bool = False,
) -> Services:
    """Every service for the settings in `config`.

    `calendar`, `drive` and `mailer` give one user's port by email address; left out, they come
    from the configured provider (``BACKEND``) or from `store`, by default the embedded
    `LocalStore` in the data directory. `verifier` checks Google's signed requests to the card
    endpoints (default: Google's published keys, or the local signing key when
    ``WORKSPACE_KEYS`` is ``local`` or the app is built for tests). `create_keyring` makes a keyring
    in the data directory when there is none (tests, the demo); otherwise a missing one stops
    start-up with the keyring's own message.
    """
    closers: list[Callable[[], None]] = []
    try:
        return _build(
            config,
            closers,
            calendar=calendar,
            drive=drive,
            mailer=mailer,
            store=store,
            verifier=verifier,
            clock=clock,
            create_keyring=create_keyring,
        )
    except BaseException:
        _close_all(closers)
        raise


def _build(
    config: Mapping[str, Any],
    closers: list[Callable[[], None]],
    *,
    calendar: Callable[[str], Calendar] | None,
    drive: Callable[[str], Drive] | None,
    mailer: Callable[[str], Mailer] | None,
    store: Store | None,
    verifier: RequestVerifier | None,
    clock: Callable[[], datetime] | None,
    create_keyring: bool,
) -> Services:
    from addin.backends import provider_ports
    from addin.clock import real_now
    from addin.conversations import Conversations
    from addin.identity import LocalIdentity
    from addin.registry import Registry
    from addin.workspace.verify import LocalSigner, request_verifier
    from cadence.holidays import check_country
    from templates import load_templates

    settings = Settings.from_mapping(config)
    private_dir(settings.data_dir)
    keyring = open_keyring(settings.data_dir, create=create_keyring)
    url = config.get("DATABASE_URL")
    registry = Registry(str(url)) if url else Registry.in_dir(settings.data_dir)
    closers.append(registry.close)
    vault = _vault(registry, keyring)
    entra = _entra(config, vault)
    if entra is not None:
        closers.append(entra.close)

    delegated = entra.graph.credential if entra is not None and entra.graph else None
    provider = (
        None
        if None not in (calendar, drive, mailer)
        else provider_ports(config, delegated=delegated)
    )
    if provider is not None:
        closers.append(provider.close)
        calendar = calendar or provider.calendar
        drive = drive or provider.drive
        mailer = mailer or provider.mailer
    if store is None and None in (calendar, drive, mailer):
        from connectors.local import LocalStore

        local = LocalStore(Path(settings.data_dir))
        closers.append(local.close)
        store = local
    if store is not None:
        calendar = calendar or store.calendar
        drive = drive or store.drive
        mailer = mailer or store.mailer
    assert calendar is not None and drive is not None and mailer is not None

    # Checked now, so an organisation's broken template stops start-up with a clear message.
    templates = load_templates(settings.template_dirs)
    clock = clock or real_now
    # Likewise a country the holiday calendar does not know: once now, not to every planner.
    check_country(settings.country)

    signer = LocalSigner.open(settings.data_dir)
    identity: Identity = entra.identity if entra is not None else LocalIdentity(signer)
    # Google's published keys unless the local key is chosen (tests, the demo): see
    # `request_verifier`.
    verifier = verifier or request_verifier(config, signer)
    reporting = directory(config, store, closers, delegated=delegated, provider=provider)
    conversations = Conversations(
        calendar=calendar,
        drive=drive,
        provider_of=provider.provider_of if provider is not None else None,
        registry=registry,
        keyring=keyring,
        templates=templates,
        clock=clock,
        directory=reporting,
        country=settings.country,
        default_locale=settings.default_locale,
        default_template=str(config.get("DEFAULT_TEMPLATE") or "three_themes").strip(),
        team_templates=team_templates(config),
    )
    closers.append(conversations.close)
    conversations.journals = journals(config, settings.data_dir, conversations, mailer)
    return Services(
        settings=settings,
        calendar=calendar,
        drive=drive,
        mailer=mailer,
        provider=provider,
        store=store,
        registry=registry,
        keyring=keyring,
        templates=templates,
        clock=clock,
        signer=signer,
        identity=identity,
        verifier=verifier,
        conversations=conversations,
        directory=reporting,
        vault=vault,
        _closers=closers,
    )


@dataclass(frozen=True)
class _Entra:
    identity: Identity
    vault: TokenVault
    graph: GraphOnBehalf | None
    close: Callable[[], None]


def _entra(config: Mapping[str, Any], vault: TokenVault) -> _Entra | None:
    """Sign-in with Microsoft when ``ENTRA_CLIENT_ID`` is set: the pane's identity and, with
    ``BACKEND=graph``, Graph on behalf of each signed-in person."""
    if not str(config.get("ENTRA_CLIENT_ID") or "").strip():
        return None  # the sign-in libraries stay unimported (`EntraSettings.from_config`)
    from addin.backends import backend_name
    from addin.signin.entra import EntraSettings, EntraVerifier

    settings = EntraSettings.from_config(config)
    if settings is None:
        return None
    verifier = EntraVerifier(settings)
    if backend_name(config) not in ("graph", "mixed"):
        return _Entra(verifier, vault, None, verifier.close)
    from addin.signin.obo import GraphOnBehalf, OnBehalfIdentity

    graph = GraphOnBehalf(settings, vault)

    def close() -> None:
        verifier.close()
        graph.close()

    return _Entra(OnBehalfIdentity(verifier, graph), vault, graph, close)


def team_templates(config: Mapping[str, Any]) -> dict[str, str]:
    """``TEAM_TEMPLATES``: ``manager@example.org=talk_card`` pairs (spaces or commas between),
    each team's own default agenda template, by its manager's address."""
    found: dict[str, str] = {}
    for part in str(config.get("TEAM_TEMPLATES") or "").replace(",", " ").split():
        manager, sep, key = part.partition("=")
        if not sep or "@" not in manager or not key.strip():
            raise ValueError(f"TEAM_TEMPLATES: {part!r} is not manager@address=template")
        found[manager.strip().lower()] = key.strip()
    return found


def _vault(registry: Registry, keyring: Keyring) -> TokenVault:
    """Where sealed sign-ins are kept: the server store's database, beside the registry."""
    from addin.store.vault import SqlTokenVault

    return SqlTokenVault(registry.engine, keyring)


def open_keyring(data_dir: Path, *, create: bool = False) -> Keyring:
    """The keyring in `data_dir`; with `create`, a new one when there is none (never over a
    damaged one: its error stands)."""
    from connectors.keyring import Keyring, KeyringError, default_keyring_path

    try:
        return Keyring.from_default(data_dir)
    except KeyringError:
        path = default_keyring_path(data_dir)
        if path.exists() or not create:
            raise
        return Keyring.init(path)


class DirectoryError(ValueError):
    """The ``DIRECTORY`` setting cannot be used; the message says why."""


def directory(
    config: Mapping[str, Any],
    store: object | None,
    closers: list[Callable[[], None]] | None = None,
    *,
    delegated: Callable[[str], Any] | None = None,
    provider: Ports | None = None,
) -> Directory:
    """The directory that decides reporting lines, from ``DIRECTORY``.

    ``provider`` (the default with ``BACKEND`` graph or google): the provider's own directory;
    ``csv:<path>``: an HR-maintained file; ``local`` (the default otherwise): the embedded
    store's people and managers. A store without reporting lines gives a directory in which
    nobody has a manager, so no pair can be planned. `delegated` gives a signed-in person's Graph
    credential (sign-in with Microsoft): the directory then reads with each person's own sign-in;
    `provider`, the app's ports, whose account then reads the directory too.
    """
    from addin.backends import backend_name
    from connectors.directory import (
        CachedDirectory,
        CsvDirectory,
        DirectoryFileError,
        NoDirectory,
        StoreDirectory,
    )

    backend = backend_name(config)
    setting = str(config.get("DIRECTORY") or ("local" if backend == "local" else "provider"))
    if setting.startswith("csv:"):
        try:
            return CsvDirectory(Path(setting[4:]))
        except DirectoryFileError as exc:
            raise DirectoryError(f"DIRECTORY={setting}: {exc}") from exc
    if setting == "provider":
        if backend == "local":
            raise DirectoryError("DIRECTORY=provider needs BACKEND graph or google")
        if backend in ("google", "mixed") and not config.get("GOOGLE_DIRECTORY_ADMIN"):
            raise DirectoryError(
                f"DIRECTORY=provider with BACKEND={backend} reads Google's reporting lines from "
                "the Admin SDK as an administrator: set GOOGLE_DIRECTORY_ADMIN to that address, "
                "or use DIRECTORY=csv:<path>"
            )
        for side in ("graph", "google") if backend == "mixed" else (backend,):
            _check_directory_credentials(config, side, delegated)
        ttl = _cache_seconds(config)
        lazy = _LazyDirectory(lambda: _provider_directory(config, delegated, provider))
        if closers is not None:
            closers.append(lazy.close)
        # Every pane call asks for the employee's manager: a request on the critical path.
        return CachedDirectory(lazy, ttl=ttl) if ttl > 0 else lazy
    if setting != "local":
        raise DirectoryError(f"DIRECTORY must be provider, csv:<path> or local, not {setting!r}")
    if (
        store is not None
        and hasattr(store, "manager_of")
        and hasattr(store, "people")
        and hasattr(store, "managers")
    ):
        return StoreDirectory(store)
    return NoDirectory()


def _cache_seconds(config: Mapping[str, Any]) -> float:
    """``DIRECTORY_CACHE_SECONDS``: how long a provider directory's answer is reused (300; 0
    asks every time, so a change of manager shows at once)."""
    from connectors.directory import DIRECTORY_CACHE_SECONDS

    value = config.get("DIRECTORY_CACHE_SECONDS")
    if value is None or value == "":
        return DIRECTORY_CACHE_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise DirectoryError(
            f"DIRECTORY_CACHE_SECONDS must be a number of seconds from 0 to 86400, not {value!r}"
        )
    return seconds


class _LazyDirectory:
    """A provider's directory built on first use: the SDKs stay off start-up's path."""

    def __init__(self, build: Callable[[], tuple[Directory, Callable[[], None]]]) -> None:
        self._build = build
        self._built: tuple[Directory, Callable[[], None]] | None = None
        self._lock = threading.Lock()

    def _get(self) -> Directory:
        with self._lock:
            if self._built is None:
                self._built = self._build()
            return self._built[0]

    def manager_of(self, email: str) -> str | None:
        """The provider's answer."""
        return self._get().manager_of(email)

    def person(self, email: str) -> DirectoryPerson | None:
        """The provider's answer."""
        return self._get().person(email)

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """The provider's answer."""
        return self._get().reporting_lines(reader)

    def is_member(self, email: str, group: str) -> bool:
        """The provider's answer."""
        return self._get().is_member(email, group)

    def close(self) -> None:
        """Close the directory's connections, if it was built."""
        with self._lock:
            built, self._built = self._built, None
        if built is not None:
            built[1]()


def _check_directory_credentials(
    config: Mapping[str, Any], backend: str, delegated: Callable[[str], Any] | None
) -> None:
    """Stop start-up when the provider's directory would have nothing to read with."""
    if backend == "graph":
        ready = delegated is not None or config.get("GRAPH_TOKENS") or config.get("GRAPH_CLIENT_ID")
        what = "sign-in with Microsoft (ENTRA_*), GRAPH_TOKENS or an app registration (GRAPH_*)"
    else:
        ready = config.get("GOOGLE_TOKENS") or config.get("GOOGLE_SERVICE_ACCOUNT_FILE")
        what = (
            "GOOGLE_SERVICE_ACCOUNT_FILE (a service account with domain-wide delegation for the "
            "Admin SDK) or GOOGLE_TOKENS"
        )
    if not ready:
        raise DirectoryError(
            f"DIRECTORY=provider with {backend} reads reporting lines with {what}; set "
            "one, or keep reporting lines in an HR file with DIRECTORY=csv:<path>"
        )


def _provider_directory(
    config: Mapping[str, Any],
    delegated: Callable[[str], Any] | None,
    provider: Ports | None,
) -> tuple[Directory, Callable[[], None]]:
    """The provider's directory on the provider's own account (`addin.backends`): the app's,
    or one of its own when the app's ports were passed in."""
    from addin.backends import provider_ports

    owned = provider is None
    ports = provider or provider_ports(config, delegated=delegated)
    if ports is None or ports.directory is None:
        raise DirectoryError("the provider's settings give no way to read its directory")
    return ports.directory(), ports.close if owned else (lambda: None)


def journals(
    config: Mapping[str, Any],
    data_dir: Path | str,
    conversations: Conversations,
    mailer: Callable[[str], Mailer],
) -> Journals:
    """The journal's use cases; colleagues' links signed with the app's key, on its origin."""
    from addin.background.service import link_key, public_origin
    from addin.conversations.journals import Journals

    return Journals(
        conversations,
        key=link_key(config, Path(data_dir)),
        origin=public_origin(config),
        mailer=mailer,
    )
