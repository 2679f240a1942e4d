"""`goedgesprek emulate google-oauth` as a real process: the settings it prints are enough for
google-auth-oauthlib to run the offline grant (consent, code, refresh token), for google-auth to
verify the ID token against the printed certificates, and, with --with-google, for the access
tokens to read the Google API emulator it serves beside it."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import google.auth.transport.requests
import pytest
import requests
from click.testing import CliRunner
from emulate_command import EmulateCommand
from google.oauth2 import id_token
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow  # type: ignore[import-untyped]

from addin.cli import cli
from emulators.google_oauth import consent

ADA = "ada@example.org"
PUBLIC = "https://goedgesprek.example.org"
CALENDAR = "https://www.googleapis.com/auth/calendar.events.owned"
SETTINGS = (
    "GOEDGESPREK_GOOGLE_OAUTH_CLIENT_ID",
    "GOEDGESPREK_GOOGLE_OAUTH_CLIENT_SECRET",
    "GOEDGESPREK_GOOGLE_AUTH_URI",
    "GOEDGESPREK_GOOGLE_TOKEN_URI",
    "GOEDGESPREK_GOOGLE_CERTS_URL",
    "GOEDGESPREK_GOOGLE_CA_BUNDLE",
    "GOEDGESPREK_GOOGLE_ROOT_URL",
)


def test_the_printed_settings_run_the_offline_grant_and_the_api_answers(tmp_path: Path) -> None:
    """Consent, code, refresh token and a verified ID token with the printed settings alone; the
    access tokens (from the code, from a refresh, printed) read the API emulator, others do not."""
    tokens_file = tmp_path / "tokens.json"
    served = EmulateCommand(
        [
            "google-oauth",
            "--port",
            "0",
            "--user",
            ADA,
            "--public-url",
            PUBLIC,
            "--with-google",
            "--tokens-file",
            str(tokens_file),
        ]
    )
    try:
        assert served.line().startswith("google-oauth emulator on https://127.0.0.1:")
        settings = served.settings(len(SETTINGS))
        assert tuple(settings) == SETTINGS
        user = served.user()
        assert user["user"] == ADA and user["url"] == settings["GOEDGESPREK_GOOGLE_ROOT_URL"]
        assert json.loads(tokens_file.read_text(encoding="utf-8")) == {ADA: user["token"]}
        client_id = settings["GOEDGESPREK_GOOGLE_OAUTH_CLIENT_ID"]
        assert client_id.endswith(".apps.googleusercontent.com")
        assert settings["GOEDGESPREK_GOOGLE_OAUTH_CLIENT_SECRET"].startswith("GOCSPX-")

        session = requests.Session()
        session.trust_env = False
        session.verify = settings["GOEDGESPREK_GOOGLE_CA_BUNDLE"]
        # The redirect URI registered for the client is the one under --public-url.
        flow = Flow.from_client_config(
            {
                "web": {
                    "client_id": client_id,
                    "client_secret": settings["GOEDGESPREK_GOOGLE_OAUTH_CLIENT_SECRET"],
                    "auth_uri": settings["GOEDGESPREK_GOOGLE_AUTH_URI"],
                    "token_uri": settings["GOEDGESPREK_GOOGLE_TOKEN_URI"],
                }
            },
            scopes=["openid", "https://www.googleapis.com/auth/userinfo.email", CALENDAR],
            redirect_uri=PUBLIC + "/workspace/oauth/callback",
        )
        flow.oauth2session.verify = session.verify
        flow.oauth2session.trust_env = False
        url, state = flow.authorization_url(access_type="offline", prompt="consent")
        back = consent(session, url, email=ADA)
        assert back.startswith(PUBLIC + "/workspace/oauth/callback?")
        query = parse_qs(urlsplit(back).query)
        assert query["state"] == [state]
        token = flow.fetch_token(code=query["code"][0])
        assert token["refresh_token"] and CALENDAR in token["scope"]

        request = google.auth.transport.requests.Request(session)
        claims = id_token.verify_token(
            token["id_token"],
            request,
            audience=client_id,
            certs_url=settings["GOEDGESPREK_GOOGLE_CERTS_URL"],
        )
        assert claims["email"] == ADA and claims["sub"] == user["sub"]

        # Later: the refresh token gives a new access token, which the API emulator accepts.
        later = Credentials(  # type: ignore[no-untyped-call]
            None,
            refresh_token=token["refresh_token"],
            token_uri=settings["GOEDGESPREK_GOOGLE_TOKEN_URI"],
            client_id=client_id,
            client_secret=settings["GOEDGESPREK_GOOGLE_OAUTH_CLIENT_SECRET"],
        )
        later.refresh(request)  # type: ignore[no-untyped-call]
        root = settings["GOEDGESPREK_GOOGLE_ROOT_URL"]
        plain = requests.Session()
        plain.trust_env = False
        for bearer in (token["access_token"], later.token, user["token"]):
            events = plain.get(
                root + "calendar/v3/calendars/primary/events",
                headers={"Authorization": f"Bearer {bearer}"},
                timeout=10,
            )
            assert events.status_code == 200, events.text
        refused = plain.get(
            root + "calendar/v3/calendars/primary/events",
            headers={"Authorization": "Bearer ya29.not-minted"},
            timeout=10,
        )
        assert refused.status_code == 401
    finally:
        code, rest, err = served.stop()
    assert (code, err) == (0, "")
    assert rest[0].startswith("stopped after ")


def test_an_unregistered_redirect_uri_is_refused() -> None:
    """Only PUBLIC_URL's callback (and --web-redirect ones) are registered for the client."""
    served = EmulateCommand(
        ["google-oauth", "--port", "0", "--user", ADA, "--client-id", "42-web.example"]
    )
    try:
        base = served.line().split()[3]
        settings = served.settings(len(SETTINGS) - 1)
        session = requests.Session()
        session.trust_env = False
        session.verify = settings["GOEDGESPREK_GOOGLE_CA_BUNDLE"]
        ask = {"client_id": "42-web.example", "response_type": "code", "scope": CALENDAR}
        auth = settings["GOEDGESPREK_GOOGLE_AUTH_URI"]
        assert auth.startswith(base)
        wrong = session.get(
            auth, params={**ask, "redirect_uri": "https://evil.example/cb"}, timeout=10
        )
        assert wrong.status_code == 400 and "redirect_uri_mismatch" in wrong.text
        right = session.get(
            auth,
            params={**ask, "redirect_uri": "https://localhost:5000/workspace/oauth/callback"},
            timeout=10,
        )
        assert right.status_code == 200 and ADA in right.text
    finally:
        code, _rest, err = served.stop()
    assert (code, err) == (0, "")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["google-oauth", "--port", "0", "--tenant", "x"], "--tenant is for the entra emulator"),
        (["google-oauth", "--port", "0", "--public-url", "http://x"], "is not an https URL"),
        (
            ["google-oauth", "--port", "0", "--web-redirect", "http://evil.example/cb"],
            "is not an https URL",
        ),
        (["google-oauth", "--port", "0", "--tokens-file", "t.json"], "needs --with-google"),
        (["entra", "--port", "0", "--with-google"], "--with-google is for the google-oauth"),
        (
            ["graph", "--port", "0", "--client-id", "x"],
            "--client-id is for the entra and google-oauth emulators only",
        ),
    ],
)
def test_google_oauth_options_are_checked(args: list[str], says: str) -> None:
    """Each option that does not fit the emulator is named on stderr, exit code 2."""
    result = CliRunner().invoke(cli, ["emulate", *args], env={"GOEDGESPREK_EMULATE_HOST": None})
    assert result.exit_code == 2
    assert says in result.stderr
