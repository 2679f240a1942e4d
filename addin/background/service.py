"""The sweep wired to an app's services: its ledger on the server store, its mails' links."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from addin.background.ledger import Ledger
from addin.background.sweep import THREADS, Sweep
from addin.conversations.document import occ_key
from cadence.model import Person, Series

if TYPE_CHECKING:
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
    lang = str(getattr(person.locale, "value", person.locale) or "nl")
    return f"{origin}{path}?lang={quote(lang, safe='')}"


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
        links=lambda entry, occurrence, person: open_link(origin, entry, occurrence, person),
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
