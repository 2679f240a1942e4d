"""Outlook sign-in in Chromium: msal-browser against the Entra ID emulator, Graph on behalf of.

The product app (no demo routes) runs with ``ENTRA_*`` settings, ``BACKEND=graph`` and the Graph
emulator; the Entra ID emulator is served over HTTPS with a throw-away CA (the app's msal trusts
it through ``ENTRA_CA_BUNDLE``; Chromium's context ignores certificate errors). The pane is opened
in a plain page whose Office.js is a small stand-in without nested app authentication, so the
pane signs in the way a browser does: the user clicks "Sign in", msal-browser opens the
emulator's sign-in page in a popup (authorization code with PKCE), and the pane calls our API
with the access token; the server exchanges it on-behalf-of for Graph and reads Ada's calendar
as Ada. A session revoked at Entra gets "Sign in again", and the pane recovers after it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from addin.demo import ADA, GRACE
from addin.signin.obo import GRAPH_PERMISSIONS
from connectors.models import Attendee, NewEvent

pytestmark = pytest.mark.browser

CHROMIUM_TIMEOUT_MS = 15_000
"""Longest a single browser step may wait (a popup, a token round trip, an API call)."""
CLIENT_ID = "5b0c7e52-3f1d-4e0a-9c61-2f8a4d7b9e13"
SECRET = "pane-signin-test-secret"
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
WORDS = {
    "nl": {
        "signin": "Aanmelden",
        "again": "Opnieuw aanmelden",
        "consent": "Toegang geven",
        "plan": "Plan het goede gesprek",
    },
    "en": {
        "signin": "Sign in",
        "again": "Sign in again",
        "consent": "Grant access",
        "plan": "Plan the good conversation",
    },
}


def _office(event_id: str, lang: str) -> str:
    """Office.js as a plain page has it: an appointment open in read mode, no NestedAppAuth and
    no dialog API, so msal-browser signs in with a popup."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=9)
    item = {
        "itemId": event_id,
        "subject": "Goed gesprek Ada & Grace",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "organizer": {"emailAddress": ADA.email, "displayName": ADA.name},
        "requiredAttendees": [{"emailAddress": GRACE.email, "displayName": GRACE.name}],
        "optionalAttendees": [],
    }
    return f"""
    (function () {{
      const item = {json.dumps(item)};
      item.start = new Date(item.start);
      item.end = new Date(item.end);
      window.Office = {{
        onReady: () => Promise.resolve({{ host: "Outlook" }}),
        AsyncResultStatus: {{ Succeeded: "succeeded", Failed: "failed" }},
        context: {{
          displayLanguage: {json.dumps("nl-NL" if lang == "nl" else "en-GB")},
          requirements: {{ isSetSupported: (name) => name !== "NestedAppAuth" }},
          mailbox: {{ item }},
        }},
      }};
    }})();
    """


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _Later:
    """A WSGI app set after its server is listening (the app's settings need the server's URL)."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class World:
    """The running app, its URL, both emulators, and who Graph saw (path, user) since set-up."""

    app: Flask
    url: str
    entra: Any
    graph: Any
    tenant: str
    oids: dict[str, str]
    event: str
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def vault(self) -> Any:
        """Where the server keeps each person's sealed Microsoft sign-in."""
        return self.app.extensions["goedgesprek.services"].vault


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """Entra ID (HTTPS) and Graph emulators, and the product app signed in through them.

    The tenant's admin consented to the Graph permissions, unless the test's parameter is
    False."""
    admin_consent = getattr(request, "param", True)
    from addin.app import close_app, create_app
    from addin.backends import provider_ports
    from connectors._files import write_atomically
    from emulators.entra import EntraEmulator
    from emulators.graph import GraphEmulator
    from emulators.serve import Server
    from emulators.tls import LocalCA

    ca = LocalCA(tmp_path / "ca")
    entra = EntraEmulator()
    graph = GraphEmulator()
    seen: list[tuple[str, str | None]] = []

    def recording(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append((str(environ.get("PATH_INFO")), graph.user_of(environ)))
        return graph(environ, start_response)

    later = _Later()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, later, threaded=True, request_handler=_Quiet
    )
    url = f"http://127.0.0.1:{server.server_port}"
    with Server(entra, tls=ca) as entra_server, Server(recording) as graph_server:
        entra.base_url = entra_server.url
        tenant = entra.add_tenant(domain="example.org")
        oids = {}
        for person in (ADA, GRACE):
            graph.add_user(person.email, person.name, person.tz)
            oids[person.email] = entra.add_user(person.email, person.name, tenant=tenant)
        app_id_uri = f"api://127.0.0.1:{server.server_port}/{CLIENT_ID}"
        entra.register_app(
            CLIENT_ID,
            SECRET,
            tenant=tenant,
            app_id_uri=app_id_uri,
            spa_redirect_uris=(f"{url}/pane/signin-done",),
        )
        entra.add_resource(
            "https://graph.microsoft.com", graph.token, (*GRAPH_PERMISSIONS, "offline_access")
        )
        # The tenant's admin consented, as the deployment guide asks (or, not yet, only to our API).
        granted = GRAPH_PERMISSIONS if admin_consent else ()
        entra.grant_consent(tenant, CLIENT_ID, ("access_as_user", *granted))
        graph_url = graph_server.url + "/v1.0"
        app = create_app(
            {
                "TESTING": True,
                "DATA_DIR": str(tmp_path / "data"),
                "PUBLIC_URL": url,
                "BACKEND": "graph",
                "GRAPH_URL": graph_url,
                "ENTRA_CLIENT_ID": CLIENT_ID,
                "ENTRA_CLIENT_SECRET": SECRET,
                "ENTRA_TENANTS": tenant,
                "ENTRA_AUTHORITY": entra_server.url,
                "ENTRA_CA_BUNDLE": str(ca.ca_file),
                "ENTRA_APP_ID_URI": app_id_uri,
            }
        )
        later.app = app
        # Ada's meeting with Grace, made in her calendar beforehand (a token of her own).
        tokens = tmp_path / "tokens.json"
        write_atomically(tokens, json.dumps({ADA.email: graph.token(ADA.email)}).encode())
        setup = provider_ports({"BACKEND": "graph", "GRAPH_URL": graph_url, "GRAPH_TOKENS": tokens})
        assert setup is not None
        start = (datetime.now(UTC) + timedelta(days=9)).replace(minute=0, second=0, microsecond=0)
        event = setup.calendar(ADA.email).create_event(
            NewEvent(
                subject="Goed gesprek Ada & Grace",
                start=start,
                end=start + timedelta(hours=1),
                tz=ADA.tz,
                organizer=ADA.email,
                attendees=(Attendee(GRACE.email, GRACE.name),),
            ),
            idempotency_key=uuid4().hex,
        )
        setup.close()
        seen.clear()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield World(app, url, entra, graph, tenant, oids, str(event.id), seen)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            close_app(app)


class SigninPane:
    """The product pane in a page of its own browser context (certificate errors ignored for
    the emulator's throw-away CA), with the stand-in Office.js served for Microsoft's CDN URL."""

    def __init__(self, browser: Any, world: World, lang: str) -> None:
        self.world = world
        self.lang = lang
        self.errors: list[str] = []
        self.context = browser.new_context(
            locale="nl-NL" if lang == "nl" else "en-GB",
            viewport={"width": 400, "height": 800},
            ignore_https_errors=True,
        )
        self.context.set_default_timeout(CHROMIUM_TIMEOUT_MS)
        office = _office(world.event, lang)
        self.context.route(
            OFFICE_JS,
            lambda route: route.fulfill(body=office, content_type="text/javascript"),
        )
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if "Content Security Policy" in m.text else None,
        )

    def open(self) -> None:
        self.page.goto(f"{self.world.url}/pane/?lang={self.lang}")
        self.settle()

    def settle(self) -> None:
        self.page.wait_for_selector("body[data-ready]")
        self.page.wait_for_selector("main[aria-busy=false]")

    def prompt(self) -> Any:
        """The sign-in prompt's button, once it shows."""
        button = self.page.locator("#signin:not([hidden]) button")
        button.wait_for()
        return button

    def popup(self, email: str, *, consent: bool = False) -> None:
        """Click the prompt's button and sign in as `email` on the emulator's page (accepting
        its consent prompt when `consent`); returns once msal-browser has closed the popup."""
        with self.page.expect_popup() as opened:
            self.prompt().click()
        popup = opened.value
        popup.wait_for_selector("#i0116")
        popup.fill("#i0116", email)
        # msal-browser closes the popup as soon as it reads the answer: listen before clicking.
        with popup.expect_event("close"):
            popup.click("#idSIButton9")
            if consent:
                popup.click("#idBtn_Accept")

    def sign_in(self, email: str, *, consent: bool = False) -> None:
        """Sign in through the prompt, then wait until the pane shows a state (or an alert)."""
        self.popup(email, consent=consent)
        self.page.wait_for_selector("#signin", state="hidden")
        self.page.wait_for_selector("#view h1, #alert:not(:empty)")
        self.page.wait_for_selector("main[aria-busy=false]")

    def state(self) -> str | None:
        state = self.page.evaluate("window.goedGesprekPane.state")
        return None if state is None else str(state)

    def close(self) -> None:
        self.context.close()
        assert not self.errors, "problems in the page:\n" + "\n".join(self.errors)


@pytest.fixture
def pane(browser: Any, world: World) -> Iterator[Callable[[str], SigninPane]]:
    """`pane(lang)`: a fresh pane page; every one is checked for script and CSP errors."""
    opened: list[SigninPane] = []

    def make(lang: str) -> SigninPane:
        made = SigninPane(browser, world, lang)
        opened.append(made)
        return made

    yield make
    for made in opened:
        made.close()


def _graph_users(world: World) -> set[str | None]:
    return {user for _path, user in world.seen}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_sign_in_with_msal_then_graph_on_behalf_of_the_user(
    world: World,
    pane: Callable[[str], SigninPane],
    shot: Callable[[Any, str], Path],
    axe: Callable[..., list[dict[str, Any]]],
    lang: str,
) -> None:
    """Never signed in: "Sign in" -> the emulator's page in a popup -> the pane has a token for
    our API -> the server verified it, exchanged it on-behalf-of, and read Ada's calendar at the
    Graph emulator as Ada; her sign-in is kept sealed for work done later."""
    ada = pane(lang)
    ada.open()
    button = ada.prompt()
    assert button.inner_text() == WORDS[lang]["signin"]
    assert ada.state() is None
    assert world.seen == []  # nothing reached Graph without a signed-in user
    shot(ada.page, f"pane-signin-prompt-{lang}")
    axe(ada.page)

    ada.sign_in(ADA.email)
    assert ada.state() == "not_series", ada.page.locator("#alert").inner_text()
    assert ada.page.locator("h1").first.inner_text() == WORDS[lang]["plan"]
    # Graph saw requests, every one with a token the Entra emulator minted for Ada (on-behalf-of).
    assert world.seen
    assert _graph_users(world) == {ADA.email}
    account = world.vault.account("entra", f"{world.tenant}.{world.oids[ADA.email]}")
    assert account is not None and account.email == ADA.email and not account.parked


def test_a_revoked_session_asks_to_sign_in_again_and_recovers(
    world: World, pane: Callable[[str], SigninPane], shot: Callable[[Any, str], Path]
) -> None:
    """Ada's sessions are revoked at Entra and her stored sign-in is parked (what the server does
    when a refresh is refused): the pane says "Sign in again"; after it, Graph is reached as Ada."""
    ada = pane("en")
    ada.open()
    ada.sign_in(ADA.email)
    assert ada.state() == "not_series"

    world.entra.revoke_sessions(ADA.email)
    # Tokens carry whole seconds: the new sign-in's must be later than the revocation.
    time.sleep(1.1)
    subject = f"{world.tenant}.{world.oids[ADA.email]}"
    world.vault.park("entra", subject, "sign in again (invalid_grant AADSTS50173)")
    world.seen.clear()
    ada.open()
    button = ada.prompt()
    assert button.inner_text() == WORDS["en"]["again"]
    assert ada.page.locator("#signin").get_attribute("data-kind") == "again"
    assert world.seen == []  # a parked account does not reach Graph
    shot(ada.page, "pane-signin-again-en")

    ada.sign_in(ADA.email)
    assert ada.state() == "not_series", ada.page.locator("#alert").inner_text()
    assert _graph_users(world) == {ADA.email}
    account = world.vault.account("entra", subject)
    assert account is not None and not account.parked


@pytest.mark.parametrize("world", [False], indirect=True)
def test_missing_consent_gets_grant_access(
    world: World, pane: Callable[[str], SigninPane], shot: Callable[[Any, str], Path]
) -> None:
    """No consent for Graph yet: after sign-in the server's on-behalf-of exchange is refused
    (AADSTS65001) and the pane offers "Grant access". Entra asks for the Graph permissions the
    API named; User.Read.All is one only an admin may grant, so Ada cannot, and the pane says
    it could not sign her in. Once the admin has consented, "Grant access" gets her through and
    the pane's call reaches Graph as Ada."""
    ada = pane("nl")
    ada.open()
    ada.popup(ADA.email)
    button = ada.page.locator('#signin[data-kind="consent"]:not([hidden]) button')
    button.wait_for()
    assert button.inner_text() == WORDS["nl"]["consent"]
    assert world.seen == []
    shot(ada.page, "pane-signin-consent-nl")

    with ada.page.expect_popup() as opened:
        button.click()
    popup = opened.value
    popup.fill("#i0116", ADA.email)
    popup.click("#idSIButton9")
    assert "AADSTS90094" in popup.locator("#error").inner_text()
    popup.close()
    ada.page.wait_for_selector("#alert:not(:empty)")
    assert ada.page.locator("#signin").get_attribute("data-kind") == "consent"
    assert world.seen == []

    world.entra.grant_consent(world.tenant, CLIENT_ID, GRAPH_PERMISSIONS)
    ada.sign_in(ADA.email)
    assert ada.state() == "not_series", ada.page.locator("#alert").inner_text()
    assert world.seen
    assert _graph_users(world) == {ADA.email}
