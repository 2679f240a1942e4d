"""Fixtures shared by the emulator tests: an Entra emulator with a tenant, users and our app,
served over HTTPS beside a Graph emulator it mints Graph tokens from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from entra_checks import (
    ADA,
    APP_ID_URI,
    BOB,
    CLIENT_ID,
    GRAPH_SCOPES,
    SECRET,
    SPA_REDIRECT,
    WEB_REDIRECT,
    EntraSetup,
)

from emulators.entra import EntraEmulator
from emulators.graph import GraphEmulator
from emulators.serve import Server
from emulators.tls import LocalCA


@pytest.fixture(scope="session")
def local_ca() -> LocalCA:
    """One throw-away CA for the session's HTTPS emulators."""
    return LocalCA()


@pytest.fixture
def entra_setup(local_ca: LocalCA) -> Iterator[EntraSetup]:
    """Entra over HTTPS with tenant contoso, our app (SPA and web redirects), Ada and Bob."""
    entra = EntraEmulator()
    graph = GraphEmulator()
    with Server(entra, tls=local_ca) as server, Server(graph) as graph_server:
        entra.base_url = server.url
        tenant = entra.add_tenant(domain="contoso.example")
        entra.add_user(ADA, "Ada Lovelace", tenant=tenant)
        entra.add_user(BOB, "Bob Dekker", tenant=tenant)
        entra.register_app(
            CLIENT_ID,
            SECRET,
            tenant=tenant,
            app_id_uri=APP_ID_URI,
            spa_redirect_uris=(SPA_REDIRECT,),
            web_redirect_uris=(WEB_REDIRECT,),
        )
        entra.add_resource("https://graph.microsoft.com", graph.token, GRAPH_SCOPES)
        yield EntraSetup(entra, graph, server.url, graph_server.url, local_ca, tenant)
