"""The sweep wired to an app's services: its ledger on the server store, its mails' links."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from addin import record_link
from addin.background.ledger import Ledger
from addin.background.sweep import THREADS, Sweep
from addin.conversations.document import occ_key
from cadence.model import Person, Series

if TYPE_CHECKING:
    from addin.signin.vault import TokenVault
    from addin.wiring import Services

DEFAULT_ORIGIN = "http://127.0.0.1:5000"
"""Where links point without ``PUBLIC_URL`` (the demo on this machine)."""


def public_origin(config: Mapping[str, Any]) -> str:
    """The origin people reach the app on: ``PUBLIC_URL``, else the local demo's."""
    return str(config.get("PUBLIC_URL") or "").strip().rstrip("/") or DEFAULT_ORIGIN


def open_link(origin: str, entry: Series, occurrence: datetime | None, person: Person) -> str:
    """The page a mail's button opens: the series, and the occurrence when there is one.

    It names no person and holds no secret: what it shows of the conversation it shows only to
    a partner who signs in.
    """
    path = f"/open/{quote(entry.id, safe='')}"
    if occurrence is not None:
        path += f"/{occ_key(occurrence)}"
    return f"{origin}{path}?lang={quote(_lang(person), safe='')}"


class MailLinks:
    """The links the sweep's mails carry, on the app's public origin.

    `key` is the app's secret key: the record form's link is signed with it, so the app that
    serves the form (on any machine with the same key) accepts it.
    """

    def __init__(self, origin: str, key: bytes) -> None:
        self._origin = origin
        self._key = key

    def open(self, entry: Series, occurrence: datetime | None, person: Person) -> str:
        """The page that says how to open the conversation in the calendar."""
        return open_link(self._origin, entry, occurrence, person)

    def form(self, entry: Series, occurrence: datetime, person: Person) -> str:
        """The record form of `occurrence`, for `person` alone, for three days."""
        token = record_link.grant_for(
            self._key,
            series=entry.id,
            occ=occ_key(occurrence),
            email=person.email,
            locale=_lang(person),
            now=time.time(),
        )
        return f"{self._origin}/r/{token}"

    def help(self, person: Person) -> str:
        """The help page on opening Goed Gesprek and signing in."""
        return f"{self._origin}/support?lang={quote(_lang(person), safe='')}"


def signed_in_at(vault: TokenVault) -> Callable[[str], str]:
    """When a person's stored sign-in was last saved (empty: none stored): what tells one time
    they were parked from the next."""

    def at(email: str) -> str:
        for provider in ("entra", "google"):
            account = vault.find(provider, email)
            if account is not None and account.updated is not None:
                return account.updated.isoformat()
        return ""

    return at


def _lang(person: Person) -> str:
    return str(getattr(person.locale, "value", person.locale) or "nl")


def link_key(config: Mapping[str, Any], data_dir: Path) -> bytes:
    """The app's secret key as the app itself reads it: ``SECRET_KEY``, else the data
    directory's own."""
    from addin.app import secret_key

    given = config.get("SECRET_KEY")
    if given:
        return given if isinstance(given, bytes) else str(given).encode()
    return secret_key(data_dir)


def build_sweep(
    services: Services, config: Mapping[str, Any], *, owner: str | None = None
) -> Sweep:
    """A sweep over the services' registry, ports and clock, its ledger beside the registry."""
    origin = public_origin(config)
    return Sweep(
        registry=services.registry,
        conversations=services.conversations,
        calendar=services.calendar,
        mailer=services.mailer,
        ledger=Ledger(services.registry.engine, clock=services.clock),
        clock=services.clock,
        links=MailLinks(origin, link_key(config, services.settings.data_dir)),
        signed_in_at=signed_in_at(services.vault),
        country=services.settings.country,
        owner=owner,
        threads=sweep_threads(config),
    )


def sweep_threads(config: Mapping[str, Any]) -> int:
    """``SWEEP_THREADS``: series a sweep reads at once (1-64; 8 unless set). Provider calls per
    mailbox stay at four whatever this is."""
    raw = config.get("SWEEP_THREADS")
    if raw in (None, ""):
        return THREADS
    try:
        threads = int(str(raw).strip())
    except ValueError:
        threads = 0
    if not 1 <= threads <= 64:
        raise ValueError(f"SWEEP_THREADS must be a whole number from 1 to 64, not {raw!r}")
    return threads
