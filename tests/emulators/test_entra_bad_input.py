"""Bad input to the Entra emulator gets a 4xx with an AADSTS sentence, never a 500."""

from __future__ import annotations

import pytest
from entra_checks import ADA, APP_ID_URI, CLIENT_ID, SECRET, SPA_REDIRECT
from werkzeug.test import Client

from emulators.entra import EntraEmulator

BASE = "https://login.test"


@pytest.fixture
def client() -> tuple[Client, EntraEmulator, str]:
    entra = EntraEmulator()
    entra.base_url = BASE
    tenant = entra.add_tenant()
    entra.add_user(ADA, tenant=tenant)
    entra.register_app(
        CLIENT_ID, SECRET, tenant=tenant, app_id_uri=APP_ID_URI, spa_redirect_uris=(SPA_REDIRECT,)
    )
    return Client(entra), entra, tenant


OBO = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "client_secret": SECRET}


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"client_id": CLIENT_ID},
        {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": "x"},
        {"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": ""},
        {"client_id": CLIENT_ID, "grant_type": "authorization_code", "code": "\u00e9\u0000"},
        {"client_id": CLIENT_ID, **OBO, "requested_token_use": "on_behalf_of", "assertion": "a"},
        {"client_id": CLIENT_ID, **OBO, "requested_token_use": "on_behalf_of", "assertion": ""},
        {"client_id": CLIENT_ID, **OBO, "assertion": "a.b.c"},
        {
            "client_id": CLIENT_ID,
            **OBO,
            "requested_token_use": "on_behalf_of",
            "assertion": "e.e.e",
        },
        {"client_id": CLIENT_ID, "grant_type": "client_credentials", "client_secret": SECRET},
        {
            "client_id": CLIENT_ID,
            "grant_type": "client_credentials",
            "client_secret": SECRET,
            "scope": "/.default",
        },
        {
            "client_id": CLIENT_ID,
            "grant_type": "client_credentials",
            "client_secret": SECRET,
            "scope": "https://unknown.example/.default",
        },
        {"client_id": "\u2603", "grant_type": "client_credentials"},
    ],
)
def test_token_endpoint_answers_bad_forms_with_4xx(
    client: tuple[Client, EntraEmulator, str], form: dict[str, str]
) -> None:
    http, _, tenant = client
    answer = http.post(f"/{tenant}/oauth2/v2.0/token", data=form)
    assert 400 <= answer.status_code < 500, answer.text
    body = answer.get_json()
    assert body["error_description"].startswith("AADSTS")
    assert body["error_codes"]


@pytest.mark.parametrize(
    "override",
    [{"exp": "soon"}, {"iat": None}, {"nbf": [1]}, {"tid": 5}, {"aud": {"x": 1}}],
)
def test_malformed_claims_in_an_assertion_are_4xx(
    client: tuple[Client, EntraEmulator, str], override: dict[str, object]
) -> None:
    http, entra, tenant = client
    assertion = entra.issue_access_token(ADA, client_id=CLIENT_ID, **override)
    form = {
        "client_id": CLIENT_ID,
        **OBO,
        "requested_token_use": "on_behalf_of",
        "assertion": assertion,
        "scope": f"{APP_ID_URI}/access_as_user",
    }
    answer = http.post(f"/{tenant}/oauth2/v2.0/token", data=form)
    assert answer.status_code == 400, answer.text
    assert answer.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "query",
    [
        "",
        f"client_id={CLIENT_ID}",
        f"client_id={CLIENT_ID}&redirect_uri={SPA_REDIRECT}",
        f"client_id={CLIENT_ID}&redirect_uri={SPA_REDIRECT}&response_type=token&scope=openid",
        f"client_id={CLIENT_ID}&redirect_uri={SPA_REDIRECT}&response_type=code&scope=x/y/z"
        "&code_challenge=c",
        f"client_id={CLIENT_ID}&redirect_uri={SPA_REDIRECT}&response_type=code&scope=openid"
        "&code_challenge=c&code_challenge_method=S512",
    ],
)
def test_authorize_answers_bad_requests_without_a_500(
    client: tuple[Client, EntraEmulator, str], query: str
) -> None:
    http, _, tenant = client
    answer = http.get(f"/{tenant}/oauth2/v2.0/authorize?{query}")
    assert answer.status_code in (302, 400), answer.text
    if answer.status_code == 302:
        assert "error=" in answer.headers["Location"]
    else:
        assert "AADSTS" in answer.text


def test_unknown_paths_and_tenants_are_4xx(client: tuple[Client, EntraEmulator, str]) -> None:
    http, _, _ = client
    assert http.get("/nowhere").status_code == 404
    unknown = http.get("/not-a-tenant/discovery/v2.0/keys")
    assert unknown.status_code == 400 and unknown.get_json()["error_codes"] == [90002]
    assert http.get("/common/discovery/instance").status_code == 400
