"""The demo on Microsoft Graph or Google: the real SDKs against the built-in emulators.

`goedgesprek demo --provider graph` (or ``google``) serves the provider's emulator on 127.0.0.1,
points the app at it the way a deployment is configured (``BACKEND``, the endpoint, a token file)
and seeds Ada's and Grace's weeks through the connectors, so every click in the demo travels
through msgraph-sdk or google-api-python-client and real HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from addin.demo.seed import PAIR
from connectors.models import KnownPerson
from emulators.serve import Server

DEMO_ADMIN = "admin@example.org"
"""The emulated Workspace administrator the reporting lines are read as (Google)."""
DEMO_HR_GROUP = "hr-team@example.org"
"""The emulated directory's HR group (``HR_GROUP``): Grace is in it, so her panel offers the
cadence report."""


class EmulatedStore:
    """What the demo reads from a store (calendars, drives, directory) over a provider's ports."""

    def __init__(self, ports: Any, emulator: Any) -> None:
        self._ports = ports
        self._emulator = emulator
        self._people: dict[str, KnownPerson] = {}

    def calendar(self, email: str) -> Any:
        """The user's calendar through the provider's connector."""
        return self._ports.calendar(email)

    def drive(self, email: str) -> Any:
        """The user's drive through the provider's connector."""
        return self._ports.drive(email)

    def mailer(self, email: str) -> Any:
        """Mail as the user through the provider's connector."""
        return self._ports.mailer(email)

    def add_person(self, email: str, name: str, tz: str) -> None:
        """A user of the emulated tenant, known by name and zone."""
        self._emulator.add_user(email, name, tz)
        self._people[email.lower()] = KnownPerson(email=email.lower(), name=name, tz=tz)

    def set_manager(self, email: str, manager: str | None) -> None:
        """A reporting line in the emulated tenant's own directory."""
        self._emulator.set_manager(email, manager)

    def people(self) -> list[KnownPerson]:
        """The known users, by email."""
        return [self._people[k] for k in sorted(self._people)]


@dataclass
class ProviderDemo:
    """A running provider demo: the app, the emulator's server, and the store it seeds."""

    app: Flask
    server: Server
    store: EmulatedStore

    def close(self) -> None:
        """Stop the emulator and release the app's and the connectors' connections."""
        from addin.app import close_app

        close_app(self.app)
        self.app.extensions["goedgesprek.provider_ports"].close()
        self.server.close()


def start(provider: str, data_dir: Path, *, latency_ms: float = 0.0) -> ProviderDemo:
    """Serve `provider`'s emulator and build the demo app on it (not yet seeded)."""
    from addin.backends import provider_ports
    from addin.demo.app import create_demo_app
    from connectors._files import write_atomically
    from emulators.serve import API_ROOT, behind_network, emulator_for

    emulator = emulator_for(provider)
    for person in PAIR.partners:
        emulator.add_user(person.email, person.name, person.tz)
    group_id = emulator.add_group(DEMO_HR_GROUP, "HR", [PAIR.manager.email])
    server = Server(behind_network(emulator, latency_ms=latency_ms), keep_alive=True)
    tokens = data_dir / f"{provider}-tokens.json"
    grants = {p.email: emulator.token(p.email) for p in PAIR.partners}
    if provider == "google":
        # The Admin SDK Directory is read as a Workspace administrator.
        emulator.add_admin(DEMO_ADMIN)
        grants[DEMO_ADMIN] = emulator.token(DEMO_ADMIN)
    write_atomically(tokens, json.dumps(grants).encode(), mode=0o600)
    config: dict[str, Any] = {
        "DATA_DIR": str(data_dir),
        "BACKEND": provider,
        # Microsoft 365 names the group by its object id (no permission to look one up).
        "HR_GROUP": group_id if provider == "graph" else DEMO_HR_GROUP,
    }
    url = server.url + API_ROOT[provider]
    if provider == "graph":
        config |= {"GRAPH_URL": url, "GRAPH_TOKENS": str(tokens)}
    else:
        config |= {
            "GOOGLE_ROOT_URL": url,
            "GOOGLE_TOKENS": str(tokens),
            "GOOGLE_DIRECTORY_ADMIN": DEMO_ADMIN,
        }
    ports = provider_ports(config)
    assert ports is not None
    store = EmulatedStore(ports, emulator)
    app = create_demo_app(
        config, calendar=ports.calendar, drive=ports.drive, mailer=ports.mailer, store=store
    )
    app.extensions["goedgesprek.provider_ports"] = ports
    return ProviderDemo(app, server, store)
