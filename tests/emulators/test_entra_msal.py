"""msal (Python) against the Entra emulator over HTTPS: client credentials, on-behalf-of into the
Graph emulator, the authorization code flow and silent refresh, and the errors Microsoft documents
for missing consent, revoked sessions, MFA and a wrong secret."""

from __future__ import annotations

import json
from typing import Any

import jwt
import msal
import pytest
import requests
from entra_checks import (
    ADA,
    APP_ID_URI,
    CLIENT_ID,
    GRAPH_SCOPES,
    SECRET,
    WEB_REDIRECT,
    EntraSetup,
    redirect_params,
    sign_in,
    trusting,
)

from emulators.entra import EntraEmulator
from emulators.network import Limits, Network
from emulators.serve import Server

GRAPH_CALENDARS = ["https://graph.microsoft.com/Calendars.ReadWrite"]


def app(
    setup: EntraSetup, secret: str = SECRET, **options: Any
) -> msal.ConfidentialClientApplication:
    """Our server's msal client, trusting the emulator's CA."""
    options.setdefault("instance_discovery", False)
    return msal.ConfidentialClientApplication(
        CLIENT_ID,
        client_credential=secret,
        authority=options.pop("authority", setup.authority),
        http_client=trusting(setup.ca),
        **options,
    )


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (the JWKS tests verify)."""
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def consent_graph(setup: EntraSetup) -> None:
    setup.entra.grant_consent(setup.tenant, CLIENT_ID, GRAPH_SCOPES)


def test_client_credentials_gives_an_app_token_for_our_api(entra_setup: EntraSetup) -> None:
    result = app(entra_setup).acquire_token_for_client([f"{APP_ID_URI}/.default"])
    assert "access_token" in result, result
    claims = claims_of(result["access_token"])
    assert claims["aud"] == CLIENT_ID
    assert claims["iss"] == f"{entra_setup.url}/{entra_setup.tenant}/v2.0"
    assert claims["tid"] == entra_setup.tenant
    assert "scp" not in claims
    assert claims["idtyp"] == "app"
    assert result["token_type"] == "Bearer"


def test_client_credentials_need_the_default_scope_and_a_tenant(entra_setup: EntraSetup) -> None:
    wrong = app(entra_setup).acquire_token_for_client([f"{APP_ID_URI}/access_as_user"])
    assert wrong["error"] == "invalid_scope"
    assert "AADSTS1002012" in wrong["error_description"]
    common = app(entra_setup, authority=f"{entra_setup.url}/common")
    with pytest.warns(DeprecationWarning, match="specific tenant"):
        answer = common.acquire_token_for_client([f"{APP_ID_URI}/.default"])
    assert answer["error"] == "invalid_request"
    assert "AADSTS50059" in answer["error_description"]


def test_a_wrong_secret_is_invalid_client(entra_setup: EntraSetup) -> None:
    result = app(entra_setup, secret="not-the-secret").acquire_token_for_client(
        [f"{APP_ID_URI}/.default"]
    )
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215: ")
    assert result["error_codes"] == [7000215]
    assert {"timestamp", "trace_id", "correlation_id"} <= set(result)


def test_an_unknown_client_is_refused(entra_setup: EntraSetup) -> None:
    stranger = msal.ConfidentialClientApplication(
        "11111111-2222-3333-4444-555555555555",
        client_credential="x",
        authority=entra_setup.authority,
        http_client=trusting(entra_setup.ca),
        instance_discovery=False,
    )
    result = stranger.acquire_token_for_client([f"{APP_ID_URI}/.default"])
    assert result["error"] == "unauthorized_client"
    assert "AADSTS700016" in result["error_description"]


def test_on_behalf_of_gives_a_graph_token_the_graph_emulator_accepts(
    entra_setup: EntraSetup,
) -> None:
    consent_graph(entra_setup)
    assertion = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID)
    result = app(entra_setup).acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert "access_token" in result, result
    assert "Calendars.ReadWrite" in result["scope"].split()
    answer = requests.get(
        f"{entra_setup.graph_url}/v1.0/me/events",
        headers={"Authorization": f"Bearer {result['access_token']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert (
        entra_setup.graph.user_of({"HTTP_AUTHORIZATION": f"Bearer {result['access_token']}"}) == ADA
    )


def test_on_behalf_of_without_consent_is_aadsts65001(entra_setup: EntraSetup) -> None:
    assertion = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID)
    result = app(entra_setup).acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert result["error"] == "invalid_grant"
    assert result["error_description"].startswith("AADSTS65001: ")
    assert result["suberror"] == "consent_required"
    # Consent to one scope does not cover another.
    entra_setup.entra.grant_consent(entra_setup.tenant, CLIENT_ID, ("User.Read",))
    client = app(entra_setup)  # a new client: msal keeps a 400 for 60 s
    again = client.acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert "AADSTS65001" in again["error_description"]
    granted = client.acquire_token_on_behalf_of(assertion, ["User.Read"])
    assert "access_token" in granted, granted


def test_on_behalf_of_after_mfa_policy_is_interaction_required(entra_setup: EntraSetup) -> None:
    consent_graph(entra_setup)
    assertion = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID)
    entra_setup.entra.require_interaction(ADA)
    result = app(entra_setup).acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert result["error"] == "interaction_required"
    assert "AADSTS50076" in result["error_description"]
    challenge = json.loads(result["claims"])
    assert challenge["access_token"]["polids"]["essential"] is True


def test_on_behalf_of_after_revocation_is_invalid_grant(entra_setup: EntraSetup) -> None:
    consent_graph(entra_setup)
    assertion = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID, iat=1)
    entra_setup.entra.revoke_sessions(ADA)
    result = app(entra_setup).acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert result["error"] == "invalid_grant"
    assert "AADSTS50173" in result["error_description"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"aud": "00000003-0000-0000-c000-000000000000"}, "AADSTS50013"),  # meant for Graph
        ({"exp": 1_000_000, "nbf": 999_000, "iat": 999_000}, "AADSTS500133"),  # expired
        ({"scp": None, "idtyp": "app"}, "AADSTS50013"),  # an app token has no user
        ({"iss": "https://login.microsoftonline.com/other/v2.0"}, "AADSTS50013"),
    ],
)
def test_on_behalf_of_refuses_assertions_not_for_this_api(
    entra_setup: EntraSetup, change: dict[str, Any], code: str
) -> None:
    consent_graph(entra_setup)
    assertion = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID, **change)
    result = app(entra_setup).acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert result["error"] == "invalid_grant"
    assert code + ":" in result["error_description"]


def test_on_behalf_of_refuses_a_token_signed_by_another_key(entra_setup: EntraSetup) -> None:
    consent_graph(entra_setup)
    other = EntraEmulator()
    other.base_url = entra_setup.url
    other.add_tenant(entra_setup.tenant)
    other.add_user(ADA, tenant=entra_setup.tenant)
    other.register_app(CLIENT_ID, SECRET, tenant=entra_setup.tenant, app_id_uri=APP_ID_URI)
    forged = other.issue_access_token(ADA, client_id=CLIENT_ID)
    result = app(entra_setup).acquire_token_on_behalf_of(forged, GRAPH_CALENDARS)
    assert result["error"] == "invalid_grant"
    assert "AADSTS50013" in result["error_description"]


def _signed_in(
    setup: EntraSetup, scopes: list[str]
) -> tuple[msal.ConfidentialClientApplication, dict[str, Any]]:
    """Ada signs in through the web flow (consenting on the prompt); msal redeems the code."""
    client = app(setup)
    flow = client.initiate_auth_code_flow(
        scopes, redirect_uri=WEB_REDIRECT, login_hint=ADA, response_mode="form_post"
    )
    session = trusting(setup.ca)
    answer = sign_in(session, flow["auth_uri"], ADA)
    result = client.acquire_token_by_auth_code_flow(flow, redirect_params(answer))
    assert "access_token" in result, result
    return client, result


def test_auth_code_flow_then_silent_refresh(entra_setup: EntraSetup) -> None:
    client, result = _signed_in(entra_setup, GRAPH_CALENDARS)
    assert result["id_token_claims"]["preferred_username"] == ADA
    assert result["id_token_claims"]["aud"] == CLIENT_ID
    assert "refresh_token" in result
    accounts = client.get_accounts(username=ADA)
    assert len(accounts) == 1
    refreshed = client.acquire_token_silent(
        GRAPH_CALENDARS, account=accounts[0], force_refresh=True
    )
    assert refreshed is not None and "access_token" in refreshed, refreshed
    assert refreshed["access_token"] != result["access_token"]
    assert refreshed["token_source"] == "identity_provider"


def test_silent_refresh_after_revocation_is_invalid_grant(entra_setup: EntraSetup) -> None:
    client, _ = _signed_in(entra_setup, GRAPH_CALENDARS)
    entra_setup.entra.revoke_sessions(ADA)
    account = client.get_accounts(username=ADA)[0]
    result = client.acquire_token_silent_with_error(
        GRAPH_CALENDARS, account=account, force_refresh=True
    )
    assert result is not None
    assert result["error"] == "invalid_grant"
    assert "AADSTS50173" in result["error_description"]


def test_silent_refresh_under_an_mfa_policy_is_interaction_required(
    entra_setup: EntraSetup,
) -> None:
    client, _ = _signed_in(entra_setup, GRAPH_CALENDARS)
    entra_setup.entra.require_interaction(ADA)
    account = client.get_accounts(username=ADA)[0]
    result = client.acquire_token_silent_with_error(
        GRAPH_CALENDARS, account=account, force_refresh=True
    )
    assert result is not None
    assert result["error"] == "interaction_required"
    assert "claims" in result


def test_token_for_our_api_from_the_code_flow(entra_setup: EntraSetup) -> None:
    _, result = _signed_in(entra_setup, [f"{APP_ID_URI}/access_as_user"])
    claims = claims_of(result["access_token"])
    assert claims["aud"] == CLIENT_ID
    assert claims["scp"] == "access_as_user"
    assert claims["ver"] == "2.0"
    assert result["scope"].split()[0] == f"{APP_ID_URI}/access_as_user"


def test_instance_discovery_answers_for_this_host(entra_setup: EntraSetup) -> None:
    discovery = f"{entra_setup.url}/common/discovery/instance"
    result = app(entra_setup, instance_discovery=discovery).acquire_token_for_client(
        [f"{APP_ID_URI}/.default"]
    )
    assert "access_token" in result, result


def test_a_user_of_another_tenant_through_organizations(entra_setup: EntraSetup) -> None:
    """Our multi-tenant app: a customer's user gets tokens from their own tenant, and consent
    given in our tenant does not count in theirs."""
    entra = entra_setup.entra
    fabrikam = entra.add_tenant(domain="fabrikam.example")
    entra.add_user("eve@fabrikam.example", "Eve", tenant=fabrikam)
    consent_graph(entra_setup)
    assertion = entra.issue_access_token("eve@fabrikam.example", client_id=CLIENT_ID)
    claims = claims_of(assertion)
    assert claims["tid"] == fabrikam
    assert claims["iss"] == f"{entra_setup.url}/{fabrikam}/v2.0"
    client = app(entra_setup, authority=f"{entra_setup.url}/organizations")
    refused = client.acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert "AADSTS65001" in refused["error_description"]
    entra.grant_consent(fabrikam, CLIENT_ID, GRAPH_SCOPES)
    # msal answers the same request's 400 from its own cache for 60 s: a new client asks again.
    client = app(entra_setup, authority=f"{entra_setup.url}/organizations")
    result = client.acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert "access_token" in result, result
    # The contoso endpoint does not take fabrikam's user.
    wrong = app(entra_setup).acquire_token_on_behalf_of(assertion, GRAPH_CALENDARS)
    assert "AADSTS50020" in wrong["error_description"]


def test_behind_the_network_middleware_errors_are_entra_shaped(entra_setup: EntraSetup) -> None:
    network = Network(
        entra_setup.entra,
        user_of=entra_setup.entra.user_of,
        error_body=entra_setup.entra.error_body,
        limits=Limits(requests=1, per_seconds=60),
    )
    with Server(network, tls=entra_setup.ca) as server:
        endpoint = f"{server.url}/{entra_setup.tenant}/v2.0/.well-known/openid-configuration"
        session = trusting(entra_setup.ca)
        assert session.get(endpoint, timeout=10).status_code == 200
        throttled = session.get(endpoint, timeout=10)
    assert throttled.status_code == 429
    body = throttled.json()
    assert body["error"] == "temporarily_unavailable"
    assert body["error_description"].startswith("AADSTS90055: ")


def test_admin_consent_to_default_covers_the_resource(entra_setup: EntraSetup) -> None:
    entra = entra_setup.entra
    with pytest.raises(ValueError, match="AADSTS70011"):
        entra.grant_consent(entra_setup.tenant, CLIENT_ID, ("Calendars.Destroy",))
    entra.grant_consent(entra_setup.tenant, CLIENT_ID, ("https://graph.microsoft.com/.default",))
    assertion = entra.issue_access_token(ADA, client_id=CLIENT_ID)
    result = app(entra_setup).acquire_token_on_behalf_of(
        assertion, ["https://graph.microsoft.com/.default"]
    )
    assert "access_token" in result, result
    assert set(result["scope"].split()) >= {"Calendars.ReadWrite", "User.Read.All"}
