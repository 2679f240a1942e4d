"""Sign-in with Microsoft end to end: real msal on-behalf-of against the Entra emulator over HTTPS,
then the pane API reaching the Graph emulator as the signed-in person, the msal cache sealed in
the vault, later work without the pane, and what a revoked session or missing consent does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import select

from addin.app import close_app, create_app
from addin.identity import SignInAgain
from addin.signin.entra import EntraSettings, EntraVerifier
from addin.signin.obo import GRAPH_PERMISSIONS, PROVIDER, GraphOnBehalf
from addin.signin.vault import TokenVault
from addin.store.tables import account_secrets_table
from connectors.errors import Unavailable
from connectors.graph import GraphAccount, StaticToken
from connectors.models import Attendee, NewEvent
from emulators.entra import EntraEmulator
from emulators.graph import GraphEmulator
from emulators.serve import Server
from emulators.tls import LocalCA

CLIENT_ID = "5f0c1a3e-8d2b-4c6a-9e1f-2b3c4d5e6f70"
SECRET = "emulated~secret~value"
PUBLIC_URL = "https://goedgesprek.example.org"
APP_ID_URI = f"api://goedgesprek.example.org/{CLIENT_ID}"
ADA = "ada@contoso.example"
GRACE = "grace@contoso.example"
GRAPH_SCOPES = (*GRAPH_PERMISSIONS, "offline_access")


class Counting:
    """The emulator behind a counter of the token endpoint's requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.token_calls = 0
        self.down = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"].endswith("/oauth2/v2.0/token"):
            self.token_calls += 1
            if self.down:
                start_response("503 Service Unavailable", [("Content-Type", "text/html")])
                return [b"<html>Service unavailable</html>"]
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


@dataclass
class World:
    entra: EntraEmulator
    graph: GraphEmulator
    counter: Counting
    tenant: str
    oids: dict[str, str]
    app: Flask
    graph_url: str

    @property
    def vault(self) -> TokenVault:
        vault: TokenVault = self.app.extensions["goedgesprek.services"].vault
        return vault

    @property
    def on_behalf(self) -> GraphOnBehalf:
        graph: GraphOnBehalf = self.app.extensions["goedgesprek.identity"].graph
        return graph

    def subject(self, email: str) -> str:
        return f"{self.tenant}.{self.oids[email]}"

    def pane_token(self, email: str = ADA) -> str:
        return self.entra.issue_access_token(email, client_id=CLIENT_ID)

    def get(self, path: str, token: str) -> Any:
        sep = "&" if "?" in path else "?"
        return self.app.test_client().get(
            f"{path}{sep}lang=en", headers={"Authorization": f"Bearer {token}"}
        )

    def event_of_ada(self) -> str:
        """A one-off meeting in Ada's Graph calendar, made with the Graph emulator's own token."""
        account = GraphAccount(StaticToken(self.graph.token(ADA)), base_url=self.graph_url)
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        try:
            event = account.calendar(ADA).create_event(
                NewEvent(
                    subject="Kennismaking",
                    start=start,
                    end=start + timedelta(minutes=30),
                    tz="Europe/Amsterdam",
                    organizer=ADA,
                    attendees=(Attendee(GRACE, "Grace"),),
                ),
                idempotency_key="kennismaking",
            )
        finally:
            account.close()
        return event.id

    def expire_access_tokens(self, email: str) -> None:
        """Let the cached Graph access token expire (as an hour would); the refresh token stays."""
        subject = self.subject(email)
        secret = self.vault.secret(PROVIDER, subject)
        assert secret is not None
        cache = json.loads(secret)
        for entry in cache.get("AccessToken", {}).values():
            entry["expires_on"] = str(int(time.time()) - 10)
            entry.pop("refresh_on", None)
        account = self.vault.account(PROVIDER, subject)
        assert account is not None
        parked = account.parked
        self.vault.save(PROVIDER, subject, email, json.dumps(cache).encode(), tenant=self.tenant)
        if parked:
            self.vault.park(PROVIDER, subject, parked)


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


def _world(
    tmp_path: Path, ca: LocalCA, *, consent: bool, tenants: str | None = None
) -> Iterator[World]:
    entra = EntraEmulator()
    graph = GraphEmulator()
    counter = Counting(entra)
    with Server(counter, tls=ca) as entra_server, Server(graph) as graph_server:
        entra.base_url = entra_server.url
        tenant = entra.add_tenant(domain="contoso.example")
        oids = {
            ADA: entra.add_user(ADA, "Ada Lovelace", tenant=tenant),
            GRACE: entra.add_user(GRACE, "Grace Hopper", tenant=tenant),
        }
        graph.add_user(ADA, "Ada Lovelace")
        graph.add_user(GRACE, "Grace Hopper")
        entra.register_app(CLIENT_ID, SECRET, tenant=tenant, app_id_uri=APP_ID_URI)
        entra.add_resource("https://graph.microsoft.com", graph.token, GRAPH_SCOPES)
        if consent:
            entra.grant_consent(tenant, CLIENT_ID, GRAPH_SCOPES)
        graph_url = f"{graph_server.url}/v1.0"
        app = create_app(
            {
                "TESTING": True,
                "DATA_DIR": str(tmp_path),
                "PUBLIC_URL": PUBLIC_URL,
                "BACKEND": "graph",
                "GRAPH_URL": graph_url,
                "PROVIDER_RETRY_ATTEMPTS": 1,
                "ENTRA_CLIENT_ID": CLIENT_ID,
                "ENTRA_CLIENT_SECRET": SECRET,
                "ENTRA_TENANTS": tenants or tenant,
                "ENTRA_AUTHORITY": entra_server.url,
                "ENTRA_CA_BUNDLE": str(ca.ca_file),
            }
        )
        try:
            yield World(entra, graph, counter, tenant, oids, app, graph_url)
        finally:
            close_app(app)


@pytest.fixture
def world(tmp_path: Path, ca: LocalCA) -> Iterator[World]:
    yield from _world(tmp_path, ca, consent=True)


@pytest.fixture
def unconsented(tmp_path: Path, ca: LocalCA) -> Iterator[World]:
    yield from _world(tmp_path, ca, consent=False)


def test_the_pane_reaches_graph_as_the_signed_in_person(world: World) -> None:
    """Ada's pane token is exchanged on-behalf-of; the API reads her Graph calendar as her."""
    event = world.event_of_ada()
    response = world.get(f"/api/context?event={event}", world.pane_token())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["event"]["id"] == event
    account = world.vault.account(PROVIDER, world.subject(ADA))
    assert account is not None
    assert (account.email, account.tenant, account.parked) == (ADA, world.tenant, "")
    # Grace's token gets Grace's calendar: the event is not in it.
    other = world.get(f"/api/context?event={event}", world.pane_token(GRACE))
    assert other.status_code == 404, other.get_json()


def test_the_cache_is_sealed_in_the_vault(world: World) -> None:
    """The stored bytes hold none of the tokens the opened cache holds."""
    world.get(f"/api/context?event={world.event_of_ada()}", world.pane_token())
    opened = json.loads(world.vault.secret(PROVIDER, world.subject(ADA)) or b"{}")
    secrets = [
        entry["secret"]
        for kind in ("AccessToken", "RefreshToken")
        for entry in opened.get(kind, {}).values()
    ]
    assert len(secrets) >= 2, "an access and a refresh token"
    services = world.app.extensions["goedgesprek.services"]
    with services.registry.engine.connect() as conn:
        sealed = conn.execute(
            select(account_secrets_table.c.sealed).where(
                account_secrets_table.c.subject == world.subject(ADA)
            )
        ).scalar_one()
    for secret in secrets:
        assert secret.encode() not in sealed
    for text in (b"RefreshToken", b"AccessToken", b"eyJ", ADA.encode()):
        assert text not in sealed


def test_a_pane_token_is_exchanged_once(world: World) -> None:
    """The same pane token twice: one on-behalf-of request; the Graph token comes from the cache."""
    event = world.event_of_ada()
    token = world.pane_token()
    before = world.counter.token_calls
    for _ in range(3):
        assert world.get(f"/api/context?event={event}", token).status_code == 200
    assert world.counter.token_calls - before == 1


def test_later_work_needs_no_pane_call_and_refreshes_silently(world: World) -> None:
    """Once signed in, Ada's Graph token comes from the vault, refreshed when it has expired."""
    event = world.event_of_ada()
    assert world.get(f"/api/context?event={event}", world.pane_token()).status_code == 200
    credential = world.on_behalf.credential(ADA)
    first = credential.get_token("https://graph.microsoft.com/.default")
    assert world.graph.user_of({"HTTP_AUTHORIZATION": f"Bearer {first.token}"}) == ADA
    calls = world.counter.token_calls
    world.expire_access_tokens(ADA)
    refreshed = credential.get_token("https://graph.microsoft.com/.default")
    assert world.counter.token_calls == calls + 1
    assert refreshed.token != first.token
    assert world.graph.user_of({"HTTP_AUTHORIZATION": f"Bearer {refreshed.token}"}) == ADA
    # The refreshed cache was sealed again: the next call uses it without a request.
    assert credential.get_token().token == refreshed.token
    assert world.counter.token_calls == calls + 1
    # Graph itself, through the product's ports, as Ada without a pane call.
    calendar = world.app.extensions["goedgesprek.ports"]["calendar"](ADA)
    assert calendar.get_event(event).id == event


def test_a_revoked_session_parks_the_account_and_asks_to_sign_in_again(world: World) -> None:
    """Microsoft refuses the refresh: work waits, the pane is told to sign in; nothing lost."""
    event = world.event_of_ada()
    old = world.pane_token()
    assert world.get(f"/api/context?event={event}", old).status_code == 200
    world.entra.revoke_sessions(ADA)
    world.expire_access_tokens(ADA)
    with pytest.raises(SignInAgain):
        world.on_behalf.credential(ADA).get_token()
    account = world.vault.account(PROVIDER, world.subject(ADA))
    assert account is not None and account.parked
    # The pane's old token: exchanged again, refused, 401 sign in again.
    response = world.get(f"/api/context?event={event}", old)
    assert response.status_code == 401
    assert response.get_json()["signin"] == "again"
    # Nothing lost: the cache is still there, parked; Ada signs in again and carries on.
    assert world.vault.secret(PROVIDER, world.subject(ADA))
    time.sleep(1.1)  # a sign-in after the revocation (Entra's times are in whole seconds)
    again = world.get(f"/api/context?event={event}", world.pane_token())
    assert again.status_code == 200, again.get_json()
    account = world.vault.account(PROVIDER, world.subject(ADA))
    assert account is not None and not account.parked


def test_an_mfa_policy_asks_to_sign_in_again(world: World) -> None:
    """``interaction_required`` on the exchange: 401 sign in again."""
    world.entra.require_interaction(ADA)
    response = world.get(f"/api/context?event={world.event_of_ada()}", world.pane_token())
    assert response.status_code == 401
    assert response.get_json()["signin"] == "again"


def test_missing_consent_asks_for_consent(unconsented: World) -> None:
    """AADSTS65001 on the exchange: 401 ``signin: consent`` with the Graph permissions."""
    response = unconsented.get(
        f"/api/context?event={unconsented.event_of_ada()}", unconsented.pane_token()
    )
    assert response.status_code == 401, response.get_json()
    body = response.get_json()
    assert body["signin"] == "consent"
    assert body["scopes"] == list(GRAPH_PERMISSIONS)
    assert CLIENT_ID not in response.get_data(as_text=True)
    assert unconsented.vault.account(PROVIDER, unconsented.subject(ADA)) is None
    # Once an administrator consents, the same pane works.
    unconsented.entra.grant_consent(unconsented.tenant, CLIENT_ID, GRAPH_SCOPES)
    later = unconsented.get(
        f"/api/context?event={unconsented.event_of_ada()}", unconsented.pane_token()
    )
    assert later.status_code == 200, later.get_json()


def test_nothing_is_logged_of_the_tokens(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Refused exchanges log the error and its AADSTS code, never a token."""
    caplog.set_level("DEBUG")
    token = world.pane_token()
    world.entra.require_interaction(ADA)
    world.get(f"/api/context?event={world.event_of_ada()}", token)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("msal"))
    assert token not in logged
    assert "interaction_required" in logged


def test_a_refresh_refused_inside_a_pane_call_asks_to_sign_in_again(world: World) -> None:
    """The pane token was exchanged already; Graph's token needs a refresh Microsoft refuses."""
    event = world.event_of_ada()
    token = world.pane_token()
    assert world.get(f"/api/context?event={event}", token).status_code == 200
    world.entra.revoke_sessions(ADA)
    world.expire_access_tokens(ADA)
    response = world.get(f"/api/context?event={event}", token)
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["signin"] == "again"
    account = world.vault.account(PROVIDER, world.subject(ADA))
    assert account is not None and account.parked


def test_the_emulator_rolling_its_key(world: World) -> None:
    """After Entra rolls its signing key, a pane token signed with the new key verifies."""
    event = world.event_of_ada()
    assert world.get(f"/api/context?event={event}", world.pane_token()).status_code == 200
    kid = world.entra.rotate_keys()
    token = world.pane_token()
    assert jwt.get_unverified_header(token)["kid"] == kid
    assert world.get(f"/api/context?event={event}", token).status_code == 200


def test_an_unreachable_token_endpoint_is_not_a_sign_in_problem(world: World) -> None:
    """Microsoft's token endpoint failing: 503 to try again; nothing parked."""
    event = world.event_of_ada()
    assert world.get(f"/api/context?event={event}", world.pane_token()).status_code == 200
    world.counter.down = True
    response = world.get(f"/api/context?event={event}", world.pane_token())
    assert response.status_code == 503, response.get_json()
    world.expire_access_tokens(ADA)
    with pytest.raises(Unavailable):
        world.on_behalf.credential(ADA).get_token()
    account = world.vault.account(PROVIDER, world.subject(ADA))
    assert account is not None and not account.parked


def test_any_tenant_takes_the_keys_of_common(world: World, ca: LocalCA) -> None:
    """``ENTRA_TENANTS=any``: keys from ``common``; the token's own tenant names its issuer."""
    settings = EntraSettings(
        client_id=CLIENT_ID,
        tenants=None,
        authority=world.entra.base_url,
        ca_bundle=str(ca.ca_file),
        app_id_uri=APP_ID_URI,
    )
    verifier = EntraVerifier(settings)
    try:
        user = verifier.verify(f"Bearer {world.pane_token(GRACE)}")
    finally:
        verifier.close()
    assert (user.email, user.tenant, user.oid) == (GRACE, world.tenant, world.oids[GRACE])
    assert user.name == "Grace Hopper"


def test_another_organisations_token_naming_a_bound_address_is_refused(
    tmp_path: Path, ca: LocalCA
) -> None:
    """With every tenant allowed, an account of another organisation whose token names Ada's
    address (preferred_username is no proof of one) gets 401 once Ada has signed in: it reaches
    neither her series nor her stored sign-in, and nothing is exchanged for it."""
    for world in _world(tmp_path, ca, consent=True, tenants="any"):
        event = world.event_of_ada()
        assert world.get(f"/api/context?event={event}", world.pane_token()).status_code == 200
        other = world.entra.add_tenant(domain="fabrikam.example")
        world.entra.add_user("mallory@fabrikam.example", "Mallory", tenant=other)
        world.entra.register_app(CLIENT_ID, SECRET, tenant=other, app_id_uri=APP_ID_URI)
        forged = world.entra.issue_access_token(
            "mallory@fabrikam.example", client_id=CLIENT_ID, preferred_username=ADA
        )
        exchanges = world.counter.token_calls
        answer = world.get(f"/api/context?event={event}", forged)
        assert answer.status_code == 401, answer.get_json()
        assert answer.get_json()["signin"] == "again"
        assert world.counter.token_calls == exchanges
        account = world.vault.account(PROVIDER, world.subject(ADA))
        assert account is not None and account.parked == ""


def test_a_partners_missing_sign_in_is_named_not_the_callers(world: World) -> None:
    """Grace plans with Ada, whose stored sign-in was revoked: signing in again would not help
    Grace, so the pane gets 403 naming Ada (in English and Dutch), no sign-in prompt, and nothing
    is planned; once Ada signs in again, Grace's plan is read."""
    world.graph.set_manager(ADA, GRACE)
    assert world.get(f"/api/context?event={world.event_of_ada()}", world.pane_token()).status_code
    world.vault.park(PROVIDER, world.subject(ADA), "sign in again (revoked)")
    body = {
        "partner": ADA,
        "role": "manager",
        "preferences": {"weekdays": ["TU", "WE"], "earliest": "09:00", "latest": "12:00"},
    }
    grace = {"Authorization": f"Bearer {world.pane_token(GRACE)}"}
    client = world.app.test_client()
    for lang, says in (("en", f"{ADA} has not signed in"), ("nl", f"{ADA} heeft zich nog niet")):
        answer = client.post(f"/api/series/preview?lang={lang}", json=body, headers=grace)
        assert answer.status_code == 403, answer.get_json()
        data = answer.get_json()
        assert data["error"] == "partner_signin" and "signin" not in data
        assert data["message"].startswith(says)
    world.get(f"/api/context?event={world.event_of_ada()}", world.pane_token())  # Ada is back
    again = client.post("/api/series/preview?lang=en", json=body, headers=grace)
    assert again.status_code == 200, again.get_json()
