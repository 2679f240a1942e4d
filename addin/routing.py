"""Mixed organisations: people on Microsoft 365 and people on Google Workspace in one installation.

``BACKEND=mixed`` with ``PROVIDER_DOMAINS`` naming each mail domain's provider, e.g.
``contoso.nl=graph fabrikam.nl=google``. Every port is asked for by address, so each person's
calendar, drive and mailbox is reached at their own provider, with that provider's settings
(``GRAPH_*`` and ``GOOGLE_*`` side by side, as for one provider alone).

A pair across the two gets one series: the employee organises it in their own calendar, their
provider mails the invitation to the manager, whose calendar takes it by its iCalendar UID; the
record lives in the employee's drive, which the manager's panel reads through the server as
for any pair; the planner asks each partner's own provider for their free/busy, since neither
provider shows the other's calendars.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final

from connectors.errors import InvalidRequest

if TYPE_CHECKING:
    from addin.backends import Ports
    from connectors.ports import Directory, DirectoryPerson

log = logging.getLogger(__name__)

PROVIDERS: Final = ("graph", "google")
_DOMAIN = re.compile(r"^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$")


class RoutingError(ValueError):
    """``PROVIDER_DOMAINS`` cannot be used; the message says why."""


class NotServed(InvalidRequest):
    """An address at a mail domain ``PROVIDER_DOMAINS`` does not list."""

    def __init__(self, email: str) -> None:
        domain = email.rpartition("@")[2] or "no domain"
        super().__init__(
            f"{email} is at {domain}, which PROVIDER_DOMAINS does not list: add it with its "
            "provider"
        )
        self.email = email


def provider_domains(config: Mapping[str, Any]) -> dict[str, str]:
    """``PROVIDER_DOMAINS``: ``domain=graph|google`` pairs, separated by spaces or commas."""
    raw = str(config.get("PROVIDER_DOMAINS") or "").strip()
    if not raw:
        raise RoutingError(
            "BACKEND=mixed needs PROVIDER_DOMAINS, each mail domain with its provider, e.g. "
            "'contoso.nl=graph fabrikam.nl=google'"
        )
    found: dict[str, str] = {}
    for part in raw.replace(",", " ").split():
        domain, sep, provider = part.partition("=")
        domain, provider = domain.strip().lower().lstrip("@"), provider.strip().lower()
        if not sep or not _DOMAIN.match(domain):
            raise RoutingError(f"PROVIDER_DOMAINS: {part!r} is not domain=provider")
        if provider not in PROVIDERS:
            raise RoutingError(
                f"PROVIDER_DOMAINS: {domain} names {provider!r}; the providers are "
                f"{' and '.join(PROVIDERS)}"
            )
        if found.get(domain, provider) != provider:
            raise RoutingError(f"PROVIDER_DOMAINS names {domain} twice, with two providers")
        found[domain] = provider
    return found


class Router:
    """Which provider holds a person's calendar, drive and mailbox, by their mail domain."""

    def __init__(self, domains: Mapping[str, str]) -> None:
        self.domains = dict(domains)

    def provider_of(self, email: str) -> str:
        """``graph`` or ``google``; `InvalidRequest` for an address of no listed domain."""
        address = email.strip().lower()
        found = self.domains.get(address.rpartition("@")[2])
        if found is None:
            raise NotServed(address)
        return found


def mixed_ports(config: Mapping[str, Any], graph: Ports, google: Ports) -> Ports:
    """One set of ports over both providers' own, each address routed to its provider."""
    from addin.backends import Ports

    router = Router(provider_domains(config))
    by = {"graph": graph, "google": google}

    def of(email: str) -> Ports:
        return by[router.provider_of(email)]

    def lend(email: str, token: str) -> AbstractContextManager[None]:
        if google.lend is not None and router.provider_of(email) == "google":
            return google.lend(email, token)
        return contextlib.nullcontext()

    def close() -> None:
        try:
            graph.close()
        finally:
            google.close()

    def directory() -> Directory:
        sides: dict[str, Directory] = {}
        for name, ports in by.items():
            if ports.directory is not None:
                sides[name] = ports.directory()
        return RoutedDirectory(router, sides)

    return Ports(
        lambda email: of(email).calendar(email),
        lambda email: of(email).drive(email),
        lambda email: of(email).mailer(email),
        close,
        lend,
        offline=google.offline,
        directory=directory,
        warm=graph.warm,
        provider_of=router.provider_of,
    )


class RoutedDirectory:
    """Each person's reporting line and settings from their own provider's directory."""

    def __init__(self, router: Router, sides: Mapping[str, Directory]) -> None:
        self._router = router
        self._sides = dict(sides)

    def _of(self, email: str) -> Directory:
        name = self._router.provider_of(email)
        side = self._sides.get(name)
        if side is None:
            raise InvalidRequest(f"the {name} settings give no way to read its directory")
        return side

    def manager_of(self, email: str) -> str | None:
        return self._of(email).manager_of(email)

    def person(self, email: str) -> DirectoryPerson | None:
        return self._of(email).person(email)

    def is_member(self, email: str, group: str) -> bool:
        return self._of(email).is_member(email, group)

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """Both directories' lines; Microsoft's is read as `reader` (one of its people)."""
        lines: dict[str, str] = {}
        for name, side in self._sides.items():
            own = reader if reader and self._router.provider_of(reader) == name else ""
            for employee, manager in side.reporting_lines(own):
                lines.setdefault(employee, manager)
        return sorted(lines.items())
