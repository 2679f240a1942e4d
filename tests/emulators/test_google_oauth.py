"""The Google OAuth emulator through google-auth-oauthlib and google-auth, over local HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google.auth.exceptions
import google.auth.transport.requests
import pytest
import requests
from google.oauth2 import id_token as google_id_token
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow  # type: ignore[import-untyped]

from addin.workspace.verify import GoogleCerts, GoogleIdTokenVerifier, Unauthorized
from emulators.google import GoogleEmulator
from emulators.google_oauth import GoogleOAuthEmulator, consent, read_consent_page
from emulators.serve import Server
from emulators.tls import LocalCA

CLIENT_ID = "1234-web.apps.googleusercontent.com"
SECRET = "GOCSPX-test-secret"
REDIRECT = "https://goedgesprek.example.org/workspace/oauth/callback"
ADA = "ada@example.org"
CALENDAR = "https://www.googleapis.com/auth/calendar.events.owned"
DRIVE = "https://www.googleapis.com/auth/drive.file"
SCOPES = ["openid", "https://www.googleapis.com/auth/userinfo.email", CALENDAR, DRIVE]


class Idp:
    """The emulator served over HTTPS, with a session that trusts its CA."""

    def __init__(self, ca: LocalCA) -> None:
        self.api = GoogleEmulator()
        self.oauth = GoogleOAuthEmulator(mint=self.api.token, revoked=self.api.revoke)
        self.oauth.add_client(CLIENT_ID, SECRET, [REDIRECT])
        self.oauth.add_person(ADA, "Ada Lovelace")
        self.server = Server(self.oauth, tls=ca)
        self.url = self.server.url
        self.session = requests.Session()
        self.session.verify = str(ca.ca_file)
        # requests lets REQUESTS_CA_BUNDLE from the environment override a session's verify.
        self.session.trust_env = False

    def flow(self, scopes: list[str] = SCOPES) -> Flow:
        """A web-server flow for the registered client, trusting the emulator's CA."""
        config = {
            "web": {
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "auth_uri": f"{self.url}/o/oauth2/v2/auth",
                "token_uri": f"{self.url}/token",
                "redirect_uris": [REDIRECT],
            }
        }
        flow = Flow.from_client_config(config, scopes=scopes, redirect_uri=REDIRECT)
        flow.oauth2session.verify = self.session.verify
        flow.oauth2session.trust_env = False
        return flow

    def grant(self, flow: Flow, grant: list[str] | None = None, **extra: str) -> dict[str, Any]:
        """Consent (to `grant` or all) and exchange the code; the token answer."""
        url, state = flow.authorization_url(
            access_type="offline", include_granted_scopes="true", prompt="consent", **extra
        )
        location = consent(self.session, url, email=ADA, grant=grant)
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == [state]
        try:
            token: dict[str, Any] = flow.fetch_token(code=query["code"][0])
        except Warning as changed:
            # oauthlib raises when the granted scopes differ from those asked for: granular
            # consent does exactly that, so the token it carries is the answer.
            token = dict(changed.token)  # type: ignore[attr-defined]
        return token


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    """One throw-away CA for the module."""
    return LocalCA()


@pytest.fixture
def idp(ca: LocalCA) -> Iterator[Idp]:
    """A running emulator."""
    idp = Idp(ca)
    try:
        yield idp
    finally:
        idp.server.close()


def test_the_web_server_flow_yields_tokens_the_api_emulator_accepts(idp: Idp) -> None:
    """Code for tokens with PKCE: an access token Google's APIs accept, a refresh token, an ID
    token signed with the published keys for our client."""
    token = idp.grant(idp.flow())
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3599
    assert token["refresh_token"].startswith("1//")
    assert set(token["scope"]) == set(SCOPES)
    assert idp.api.user_of({"HTTP_AUTHORIZATION": f"Bearer {token['access_token']}"}) == ADA
    request = google.auth.transport.requests.Request(idp.session)
    claims = google_id_token.verify_token(
        token["id_token"], request, audience=CLIENT_ID, certs_url=f"{idp.url}/oauth2/v1/certs"
    )
    assert claims["email"] == ADA and claims["email_verified"] is True
    assert claims["iss"] == "https://accounts.google.com"


def test_granular_consent_grants_only_the_ticked_scopes(idp: Idp) -> None:
    """The consent page offers each data scope with a checkbox; what is not ticked is not in the
    token answer, and sign-in scopes are not optional."""
    flow = idp.flow()
    url, _ = flow.authorization_url(access_type="offline")
    page = read_consent_page(idp.session.get(url, timeout=10).text)
    assert page.optional == [CALENDAR, DRIVE]
    assert set(page.fixed) == {"openid", "https://www.googleapis.com/auth/userinfo.email"}
    token = idp.grant(idp.flow(), grant=[CALENDAR])
    assert DRIVE not in token["scope"] and CALENDAR in token["scope"]
    # Asked again with include_granted_scopes, the earlier grant comes along.
    again = idp.grant(idp.flow(["openid", DRIVE]), grant=[DRIVE])
    assert {CALENDAR, DRIVE} <= set(again["scope"])


def test_cancel_redirects_with_access_denied(idp: Idp) -> None:
    """Cancel on the consent page is ``error=access_denied`` back at the redirect URI."""
    url, _ = idp.flow().authorization_url(state="s-1")
    location = consent(idp.session, url, email=ADA, allow=False)
    assert location.startswith(REDIRECT)
    assert parse_qs(urlsplit(location).query) == {"error": ["access_denied"], "state": ["s-1"]}


def test_refresh_then_revoked_is_invalid_grant(idp: Idp) -> None:
    """A refresh token refreshes through google-auth; once revoked, Google's invalid_grant."""
    token = idp.grant(idp.flow())
    credentials = Credentials(  # type: ignore[no-untyped-call]
        token=None,
        refresh_token=token["refresh_token"],
        token_uri=f"{idp.url}/token",
        client_id=CLIENT_ID,
        client_secret=SECRET,
    )
    request = google.auth.transport.requests.Request(idp.session)
    credentials.refresh(request)  # type: ignore[no-untyped-call]
    assert idp.api.user_of({"HTTP_AUTHORIZATION": f"Bearer {credentials.token}"}) == ADA
    revoked = idp.session.post(f"{idp.url}/revoke", data={"token": token["refresh_token"]})
    assert revoked.status_code == 200
    # The access tokens die with the grant, at the API too.
    assert idp.api.user_of({"HTTP_AUTHORIZATION": f"Bearer {credentials.token}"}) is None
    with pytest.raises(google.auth.exceptions.RefreshError) as raised:
        credentials.refresh(request)  # type: ignore[no-untyped-call]
    assert "invalid_grant" in str(raised.value)
    answer = idp.session.post(
        f"{idp.url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        },
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"code": "4/0nope"}, 400, "invalid_grant"),
        ({"code_verifier": "x" * 50}, 400, "invalid_grant"),
        ({"code_verifier": ""}, 400, "invalid_grant"),
        ({"redirect_uri": "https://evil.example/cb"}, 400, "redirect_uri_mismatch"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "other"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"code": ""}, 400, "invalid_request"),
    ],
)
def test_the_token_endpoint_refuses_as_google_does(
    idp: Idp, change: dict[str, str], status: int, error: str
) -> None:
    """A wrong code, verifier, redirect URI, client or grant type: Google's status and error."""
    flow = idp.flow()
    url, _ = flow.authorization_url(access_type="offline")
    code = parse_qs(urlsplit(consent(idp.session, url, email=ADA)).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "code_verifier": flow.code_verifier or "",
        **change,
    }
    answer = idp.session.post(f"{idp.url}/token", data=form)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert isinstance(answer.json()["error_description"], str)


def test_a_code_works_once(idp: Idp) -> None:
    """The same authorization code a second time is invalid_grant."""
    flow = idp.flow()
    url, _ = flow.authorization_url(access_type="offline")
    code = parse_qs(urlsplit(consent(idp.session, url, email=ADA)).query)["code"][0]
    flow.fetch_token(code=code)
    with pytest.raises(Exception, match="invalid_grant"):
        idp.flow().fetch_token(code=code, code_verifier=flow.code_verifier)


def test_unknown_client_and_foreign_redirect_stay_on_googles_page(idp: Idp) -> None:
    """Neither an unknown client nor an unregistered redirect URI is redirected to."""
    base = f"{idp.url}/o/oauth2/v2/auth?response_type=code&scope=openid"
    unknown = idp.session.get(f"{base}&client_id=nope&redirect_uri={REDIRECT}", timeout=10)
    assert unknown.status_code == 401 and "invalid_client" in unknown.text
    foreign = idp.session.get(
        f"{base}&client_id={CLIENT_ID}&redirect_uri=https://evil.example/cb",
        allow_redirects=False,
        timeout=10,
    )
    assert foreign.status_code == 400 and "redirect_uri_mismatch" in foreign.text


def test_certs_are_published_with_cache_headers_and_verify_signed_tokens(idp: Idp) -> None:
    """v1 (PEM certificates) and v3 (JWKS) carry Cache-Control max-age; GoogleCerts honours it
    and a token from `sign_id_token` verifies against them, also after a key roll-over."""
    v1 = idp.session.get(f"{idp.url}/oauth2/v1/certs", timeout=10)
    assert v1.headers["Cache-Control"].startswith("public, max-age=19800")
    assert all(pem.startswith("-----BEGIN CERTIFICATE-----") for pem in v1.json().values())
    v3 = idp.session.get(f"{idp.url}/oauth2/v3/certs", timeout=10).json()
    assert {k["kid"] for k in v3["keys"]} == set(v1.json())
    now = [datetime.now(UTC)]
    certs = GoogleCerts(
        f"{idp.url}/oauth2/v1/certs",
        request=google.auth.transport.requests.Request(idp.session),
        clock=lambda: now[0],
    )
    account = "service-42@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
    verifier = GoogleIdTokenVerifier(service_account_email=account, certs=certs)
    url = "https://goedgesprek.example.org/workspace/homepage"
    token = idp.oauth.sign_id_token(url, account)
    assert verifier.verify(f"Bearer {token}", url).email == account
    idp.oauth.rotate_keys()
    rolled = idp.oauth.sign_id_token(url, account)
    with pytest.raises(Unauthorized):  # cached: the new key is not known yet
        verifier.verify(f"Bearer {rolled}", url)
    now[0] += timedelta(seconds=19_801)
    assert verifier.verify(f"Bearer {rolled}", url).email == account
