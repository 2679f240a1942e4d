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

from addin.demo import PAIR
from connectors.memory import KnownPerson
from emulators.serve import Server

PROVIDERS = ("graph", "google")


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
        """Stop the emulator and release the connectors' connections."""
        self.app.extensions["goedgesprek.provider_ports"].close()
        self.server.close()


def start(provider: str, data_dir: Path, *, latency_ms: float = 0.0) -> ProviderDemo:
    """Serve `provider`'s emulator and build the demo app on it (not yet seeded)."""
    from addin.app import create_app
    from addin.backends import provider_ports
    from emulators.network import Network

    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
    emulator = _emulator(provider)
    for person in PAIR.partners:
        emulator.add_user(person.email, person.name, person.tz)
    network = Network(
        emulator, user_of=emulator.user_of, error_body=emulator.error_body, latency_ms=latency_ms
    )
    if hasattr(emulator, "batch_target"):
        emulator.batch_target = network
    server = Server(network)
    tokens = data_dir / f"{provider}-tokens.json"
    tokens.write_text(
        json.dumps({p.email: emulator.token(p.email) for p in PAIR.partners}), encoding="utf-8"
    )
    config: dict[str, Any] = {"DATA_DIR": str(data_dir), "DEMO": True, "BACKEND": provider}
    if provider == "graph":
        config |= {"GRAPH_URL": f"{server.url}/v1.0", "GRAPH_TOKENS": str(tokens)}
    else:
        config |= {"GOOGLE_ROOT_URL": f"{server.url}/", "GOOGLE_TOKENS": str(tokens)}
    ports = provider_ports(config)
    assert ports is not None
    store = EmulatedStore(ports, emulator)
    app = create_app(
        config, calendar=ports.calendar, drive=ports.drive, mailer=ports.mailer, store=store
    )
    app.extensions["goedgesprek.provider_ports"] = ports
    return ProviderDemo(app, server, store)


def _emulator(provider: str) -> Any:
    if provider == "graph":
        from emulators.graph import GraphEmulator

        return GraphEmulator()
    from emulators.google import GoogleEmulator

    return GoogleEmulator()
