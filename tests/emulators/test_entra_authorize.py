"""The authorization code flow with PKCE through the emulator's sign-in pages, with plain requests
playing the browser, and the token endpoint's cross-origin rules for single-page apps.

Attacks the emulator refuses as Entra does (each has a test here):
- a stolen code redeemed without, or with the wrong, PKCE verifier (AADSTS501481);
- a code redeemed twice, even after a failed attempt (AADSTS54005);
- a code redeemed with another redirect URI than the one it was issued to (AADSTS70000);
- an authorize request sending the code to an unregistered redirect URI (AADSTS50011: an error
  page, no redirect);
- a single-page app's code or refresh token redeemed from a server, without Origin (AADSTS9002327),
  and a web app's code redeemed cross-origin, secretless (AADSTS9002326);
- a single-page app's code asked for without PKCE, redeemed cross-origin (AADSTS9002325);
- a silent (prompt=none) request without a signed-in session (AADSTS50058);
- a user of another tenant signing in to a single-tenant app (AADSTS50020);
- a sign-out sending the browser to an unregistered address (open redirect);
- a user granting a permission only an admin may grant, on the prompt or by posting the consent
  form directly (AADSTS90094).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import requests
from entra_checks import (
    ADA,
    APP_ID_URI,
    CLIENT_ID,
    SECRET,
    SPA_REDIRECT,
    WEB_REDIRECT,
    EntraSetup,
    redirect_params,
    sign_in,
    submit,
    trusting,
)

ORIGIN = "https://pane.example.org"
API_SCOPE = f"{APP_ID_URI}/access_as_user"


def pkce() -> tuple[str, str]:
    """A verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(setup: EntraSetup, segment: str | None = None, **params: str) -> str:
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": SPA_REDIRECT,
        "scope": f"{API_SCOPE} openid profile offline_access",
        "state": "s-" + secrets.token_hex(4),
        "response_mode": "fragment",
        "login_hint": ADA,
        **params,
    }
    return f"{setup.url}/{segment or setup.tenant}/oauth2/v2.0/authorize?{urlencode(query)}"


def token(
    setup: EntraSetup, data: dict[str, str], *, origin: str | None = ORIGIN
) -> requests.Response:
    headers = {"Origin": origin} if origin else {}
    return trusting(setup.ca).post(
        f"{setup.url}/{setup.tenant}/oauth2/v2.0/token",
        data={"client_id": CLIENT_ID, "client_info": "1", **data},
        headers=headers,
        timeout=10,
    )


def spa_code(setup: EntraSetup, **params: str) -> tuple[str, str, dict[str, str]]:
    """Ada signs in to the single-page app: the code, its verifier and the redirect's fields."""
    verifier, challenge = pkce()
    url = authorize_url(
        setup, code_challenge=challenge, code_challenge_method="S256", nonce="n-1", **params
    )
    fields = redirect_params(sign_in(trusting(setup.ca), url, ADA))
    return fields["code"], verifier, fields


def redeem(setup: EntraSetup, code: str, verifier: str, **extra: Any) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": SPA_REDIRECT,
        "code_verifier": verifier,
        "scope": f"{API_SCOPE} openid profile offline_access",
    }
    return token(setup, {**data, **extra.pop("data", {})}, **extra)


def error_of(answer: requests.Response) -> tuple[int, str, int]:
    body = answer.json()
    return answer.status_code, body["error"], body["error_codes"][0]


def test_spa_code_flow_with_pkce_gives_tokens_with_cors(entra_setup: EntraSetup) -> None:
    code, verifier, fields = spa_code(entra_setup)
    assert fields["state"].startswith("s-")
    answer = redeem(entra_setup, code, verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"].split()[0] == API_SCOPE
    assert body["expires_in"] >= 3600 and body["ext_expires_in"] >= 3600
    assert body["refresh_token_expires_in"] <= 24 * 3600
    access = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert access["aud"] == CLIENT_ID and access["scp"] == "access_as_user"
    identity = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert identity["nonce"] == "n-1" and identity["aud"] == CLIENT_ID
    info = body["client_info"] + "=" * (-len(body["client_info"]) % 4)
    assert base64.urlsafe_b64decode(info).decode().count(access["oid"]) == 1


def test_preflight_is_answered(entra_setup: EntraSetup) -> None:
    answer = trusting(entra_setup.ca).options(
        f"{entra_setup.url}/{entra_setup.tenant}/oauth2/v2.0/token",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert answer.status_code == 204
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Allow-Origin"] in ("*", ORIGIN)


def test_a_wrong_or_missing_verifier_is_refused_and_burns_the_code(
    entra_setup: EntraSetup,
) -> None:
    code, verifier, _ = spa_code(entra_setup)
    assert error_of(redeem(entra_setup, code, "x" * 43)) == (400, "invalid_grant", 501481)
    assert error_of(redeem(entra_setup, code, verifier)) == (400, "invalid_grant", 54005)
    other, _, _ = spa_code(entra_setup)
    assert error_of(redeem(entra_setup, other, "")) == (400, "invalid_grant", 501481)


def test_a_code_is_redeemed_once(entra_setup: EntraSetup) -> None:
    code, verifier, _ = spa_code(entra_setup)
    assert redeem(entra_setup, code, verifier).status_code == 200
    assert error_of(redeem(entra_setup, code, verifier)) == (400, "invalid_grant", 54005)


def test_garbage_code_and_other_redirect_uri(entra_setup: EntraSetup) -> None:
    assert error_of(redeem(entra_setup, "not-a-code", "v")) == (400, "invalid_grant", 9002313)
    code, verifier, _ = spa_code(entra_setup)
    answer = redeem(entra_setup, code, verifier, data={"redirect_uri": "https://evil.example/"})
    assert error_of(answer) == (400, "invalid_grant", 70000)


def test_an_unregistered_redirect_uri_gets_an_error_page(entra_setup: EntraSetup) -> None:
    url = authorize_url(entra_setup, redirect_uri="https://evil.example/catch")
    answer = trusting(entra_setup.ca).get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert "AADSTS50011" in answer.text


def test_an_unknown_client_gets_an_error_page(entra_setup: EntraSetup) -> None:
    url = authorize_url(entra_setup, client_id="99999999-0000-0000-0000-000000000000")
    answer = trusting(entra_setup.ca).get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and "AADSTS700016" in answer.text


def test_spa_codes_are_redeemed_cross_origin_only(entra_setup: EntraSetup) -> None:
    code, verifier, _ = spa_code(entra_setup)
    answer = redeem(entra_setup, code, verifier, origin=None)
    assert error_of(answer) == (400, "invalid_request", 9002327)


def test_web_codes_are_not_redeemed_cross_origin(entra_setup: EntraSetup) -> None:
    url = authorize_url(entra_setup, redirect_uri=WEB_REDIRECT, response_mode="query")
    fields = redirect_params(sign_in(trusting(entra_setup.ca), url, ADA))
    data = {
        "grant_type": "authorization_code",
        "code": fields["code"],
        "redirect_uri": WEB_REDIRECT,
        "scope": API_SCOPE,
    }
    assert error_of(token(entra_setup, data)) == (400, "invalid_request", 9002326)


def test_web_codes_need_the_client_secret(entra_setup: EntraSetup) -> None:
    url = authorize_url(entra_setup, redirect_uri=WEB_REDIRECT, response_mode="query")
    fields = redirect_params(sign_in(trusting(entra_setup.ca), url, ADA))
    data = {
        "grant_type": "authorization_code",
        "code": fields["code"],
        "redirect_uri": WEB_REDIRECT,
        "scope": API_SCOPE,
    }
    assert error_of(token(entra_setup, data, origin=None)) == (401, "invalid_client", 7000218)
    url = authorize_url(entra_setup, redirect_uri=WEB_REDIRECT, response_mode="query")
    fields = redirect_params(sign_in(trusting(entra_setup.ca), url, ADA))
    data.update(code=fields["code"], client_secret=SECRET)
    assert token(entra_setup, data, origin=None).status_code == 200


def test_spa_codes_need_pkce(entra_setup: EntraSetup) -> None:
    url = authorize_url(entra_setup)
    fields = redirect_params(sign_in(trusting(entra_setup.ca), url, ADA))
    answer = redeem(entra_setup, fields["code"], "")
    assert error_of(answer) == (400, "invalid_request", 9002325)


def test_spa_refresh_tokens_are_cross_origin_only(entra_setup: EntraSetup) -> None:
    code, verifier, _ = spa_code(entra_setup)
    refresh = redeem(entra_setup, code, verifier).json()["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": refresh, "scope": API_SCOPE}
    assert token(entra_setup, data).status_code == 200
    assert error_of(token(entra_setup, data, origin=None)) == (400, "invalid_request", 9002327)


def test_silent_sign_in_needs_a_session(entra_setup: EntraSetup) -> None:
    verifier, challenge = pkce()
    url = authorize_url(
        entra_setup, prompt="none", code_challenge=challenge, code_challenge_method="S256"
    )
    browser = trusting(entra_setup.ca)
    fields = redirect_params(browser.get(url, allow_redirects=False, timeout=10))
    assert fields["error"] == "login_required"
    assert fields["error_description"].startswith("AADSTS50058")
    spa_sign_in = authorize_url(entra_setup, code_challenge=challenge, code_challenge_method="S256")
    sign_in(browser, spa_sign_in, ADA)  # leaves the session cookie in `browser`
    fields = redirect_params(browser.get(url, allow_redirects=False, timeout=10))
    assert redeem(entra_setup, fields["code"], verifier).status_code == 200


def test_declining_consent_redirects_with_access_denied(entra_setup: EntraSetup) -> None:
    _, challenge = pkce()
    url = authorize_url(entra_setup, code_challenge=challenge, code_challenge_method="S256")
    fields = redirect_params(sign_in(trusting(entra_setup.ca), url, ADA, consent=False))
    assert fields["error"] == "access_denied"
    assert fields["error_description"].startswith("AADSTS65004")


def test_admin_consent_skips_the_prompt(entra_setup: EntraSetup) -> None:
    entra_setup.entra.grant_consent(entra_setup.tenant, CLIENT_ID, ("access_as_user",))
    _, challenge = pkce()
    url = authorize_url(entra_setup, code_challenge=challenge, code_challenge_method="S256")
    browser = trusting(entra_setup.ca)
    page = browser.get(url, allow_redirects=False, timeout=10)
    answer = submit(browser, page.text, loginfmt=ADA)
    assert answer.status_code == 302
    assert "code" in redirect_params(answer)


def test_an_unknown_user_sees_the_sign_in_page_again(entra_setup: EntraSetup) -> None:
    browser = trusting(entra_setup.ca)
    page = browser.get(authorize_url(entra_setup, code_challenge="c" * 43), timeout=10)
    answer = submit(browser, page.text, loginfmt="nobody@contoso.example")
    assert answer.status_code == 200
    assert 'role="alert"' in answer.text and "idSIButton9" in answer.text


def test_the_pages_speak_dutch_when_asked(entra_setup: EntraSetup) -> None:
    url = authorize_url(entra_setup, code_challenge="c" * 43, ui_locales="nl-NL")
    page = trusting(entra_setup.ca).get(url, timeout=10)
    assert 'lang="nl"' in page.text and "Aanmelden" in page.text


@pytest.mark.parametrize("segment", ["tenant", "common"])
def test_single_tenant_apps_refuse_other_tenants(entra_setup: EntraSetup, segment: str) -> None:
    entra = entra_setup.entra
    single = "7a7a7a7a-1111-2222-3333-444444444444"
    entra.register_app(
        single,
        "s",
        tenant=entra_setup.tenant,
        app_id_uri=f"api://{single}",
        spa_redirect_uris=(SPA_REDIRECT,),
        multi_tenant=False,
    )
    other = entra.add_tenant(domain="fabrikam.example")
    entra.add_user("eve@fabrikam.example", tenant=other)
    _, challenge = pkce()
    params = {
        "client_id": single,
        "scope": f"api://{single}/access_as_user",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    browser = trusting(entra_setup.ca)
    if segment == "common":
        url = authorize_url(entra_setup, "common", **params)
        fields = redirect_params(browser.get(url, allow_redirects=False, timeout=10))
        assert fields["error_description"].startswith("AADSTS50194")
        return
    url = authorize_url(entra_setup, **params)
    fields = redirect_params(sign_in(browser, url, "eve@fabrikam.example"))
    assert fields["error_description"].startswith("AADSTS50020")


def test_token_endpoint_refuses_get_and_missing_parameters(entra_setup: EntraSetup) -> None:
    endpoint = f"{entra_setup.url}/{entra_setup.tenant}/oauth2/v2.0/token"
    answer = trusting(entra_setup.ca).get(endpoint, timeout=10)
    assert error_of(answer) == (405, "invalid_request", 900561)
    answer = trusting(entra_setup.ca).post(endpoint, data={"grant_type": "x"}, timeout=10)
    assert error_of(answer) == (400, "invalid_request", 900144)
    assert "'client_id'" in answer.json()["error_description"]
    answer = token(entra_setup, {"grant_type": "password"}, origin=None)
    assert error_of(answer) == (400, "unsupported_grant_type", 70003)


def graph_sign_in_url(setup: EntraSetup, scope: str) -> tuple[str, str]:
    verifier, challenge = pkce()
    url = authorize_url(
        setup,
        scope=f"{scope} openid offline_access",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    return url, verifier


def test_a_user_cannot_consent_to_an_admin_only_permission(entra_setup: EntraSetup) -> None:
    url, _ = graph_sign_in_url(entra_setup, "https://graph.microsoft.com/User.Read.All")
    browser = trusting(entra_setup.ca)
    page = browser.get(url, timeout=10)
    answer = submit(browser, page.text, loginfmt=ADA)
    assert answer.status_code == 200
    assert "AADSTS90094" in answer.text and "idBtn_Accept" not in answer.text
    # Posting the consent form anyway is refused too.
    forged = submit(browser, page.text, loginfmt=ADA, step="consent", consent="yes")
    fields = redirect_params(forged)
    assert fields["error"] == "access_denied"
    assert fields["error_description"].startswith("AADSTS90094")


def test_admin_consent_covers_an_admin_only_permission(entra_setup: EntraSetup) -> None:
    entra_setup.entra.grant_consent(entra_setup.tenant, CLIENT_ID, ("User.Read.All",))
    url, verifier = graph_sign_in_url(entra_setup, "https://graph.microsoft.com/User.Read.All")
    fields = redirect_params(sign_in(trusting(entra_setup.ca), url, ADA))
    answer = redeem(
        entra_setup,
        fields["code"],
        verifier,
        data={"scope": "https://graph.microsoft.com/User.Read.All offline_access"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "User.Read.All"


def test_a_user_consents_to_the_rest_when_the_admin_granted_the_admin_only_part(
    entra_setup: EntraSetup,
) -> None:
    """Entra asks only about what is not granted yet: with User.Read.All granted by the admin,
    a user may consent to Calendars.ReadWrite asked for beside it."""
    entra_setup.entra.grant_consent(entra_setup.tenant, CLIENT_ID, ("User.Read.All",))
    scopes = (
        "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/Calendars.ReadWrite"
    )
    url, verifier = graph_sign_in_url(entra_setup, scopes)
    browser = trusting(entra_setup.ca)
    page = browser.get(url, timeout=10)
    prompt = submit(browser, page.text, loginfmt=ADA)
    assert "Calendars.ReadWrite" in prompt.text and "AADSTS90094" not in prompt.text
    fields = redirect_params(submit(browser, prompt.text, consent="yes"))
    answer = redeem(
        entra_setup, fields["code"], verifier, data={"scope": f"{scopes} offline_access"}
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["scope"].split()) == {"User.Read.All", "Calendars.ReadWrite"}


def test_consent_to_default_grants_what_a_user_may(entra_setup: EntraSetup) -> None:
    url, verifier = graph_sign_in_url(entra_setup, "https://graph.microsoft.com/.default")
    browser = trusting(entra_setup.ca)
    page = browser.get(url, timeout=10)
    prompt = submit(browser, page.text, loginfmt=ADA)
    assert "Calendars.ReadWrite" in prompt.text and "User.Read.All" not in prompt.text
    fields = redirect_params(submit(browser, prompt.text, consent="yes"))
    answer = redeem(
        entra_setup,
        fields["code"],
        verifier,
        data={"scope": "https://graph.microsoft.com/.default offline_access"},
    )
    assert answer.status_code == 200, answer.text
    granted = answer.json()["scope"].split()
    assert "Calendars.ReadWrite" in granted and "User.Read.All" not in granted


def test_sign_out_ends_the_session_and_redirects_only_where_registered(
    entra_setup: EntraSetup,
) -> None:
    _, challenge = pkce()
    silent = authorize_url(
        entra_setup, prompt="none", code_challenge=challenge, code_challenge_method="S256"
    )
    browser = trusting(entra_setup.ca)
    sign_in(browser, authorize_url(entra_setup, code_challenge=challenge), ADA)
    assert "code" in redirect_params(browser.get(silent, allow_redirects=False, timeout=10))
    logout = f"{entra_setup.url}/{entra_setup.tenant}/oauth2/v2.0/logout"
    evil = browser.get(
        logout, params={"post_logout_redirect_uri": "https://evil.example/"}, timeout=10
    )
    assert evil.status_code == 200 and "Location" not in evil.headers
    back = browser.get(
        logout,
        params={"post_logout_redirect_uri": SPA_REDIRECT},
        allow_redirects=False,
        timeout=10,
    )
    assert back.headers["Location"] == SPA_REDIRECT
    fields = redirect_params(browser.get(silent, allow_redirects=False, timeout=10))
    assert fields["error"] == "login_required"
