"""@azure/msal-browser in headless Chromium against the Entra emulator: a popup sign-in with PKCE
(the sign-in and consent pages clicked through), then a silent refresh, cross-origin, with the
single-page app's refresh token. Needs the library in node_modules (package.json)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from entra_checks import ADA, APP_ID_URI, CLIENT_ID, EntraSetup

from emulators.serve import Server

ROOT = Path(__file__).resolve().parents[2]
MSAL_JS = ROOT / "node_modules" / "@azure" / "msal-browser" / "lib" / "msal-browser.min.js"
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not MSAL_JS.exists(), reason="@azure/msal-browser is not installed"),
]

PAGE = b"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="/msal-browser.min.js"></script></head><body>pane</body></html>"""


def _site(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The pane's origin: a page loading MSAL.js, and the popup's redirect page."""
    path = environ.get("PATH_INFO", "")
    if path == "/msal-browser.min.js":
        start_response("200 OK", [("Content-Type", "text/javascript")])
        return [MSAL_JS.read_bytes()]
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [PAGE]


@pytest.fixture
def pane_origin() -> Iterator[str]:
    with Server(_site) as server:
        yield server.url


def test_popup_sign_in_then_silent_refresh(
    entra_setup: EntraSetup, pane_origin: str, browser: Any
) -> None:
    redirect = pane_origin + "/redirect.html"
    entra_setup.entra.register_app(
        CLIENT_ID,
        "unused",
        tenant=entra_setup.tenant,
        app_id_uri=APP_ID_URI,
        spa_redirect_uris=(redirect,),
    )
    scope = f"{APP_ID_URI}/access_as_user"
    host = entra_setup.url.removeprefix("https://")
    context = browser.new_context(ignore_https_errors=True)
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(pane_origin + "/index.html")
        page.evaluate(
            """async ([authority, host, redirectUri, clientId]) => {
                window.app = new msal.PublicClientApplication({
                    auth: {clientId, authority, knownAuthorities: [host], redirectUri},
                });
                await window.app.initialize();
            }""",
            [entra_setup.authority, host, redirect, CLIENT_ID],
        )
        with context.expect_page() as opened:
            page.evaluate(
                """(scope) => {
                    window.result = window.app
                        .acquireTokenPopup({scopes: [scope], loginHint: 'ada@contoso.example'})
                        .then(r => ({token: r.accessToken, user: r.account.username}),
                              e => ({error: String(e)}));
                }""",
                scope,
            )
        popup = opened.value
        popup.click("#idSIButton9")
        popup.click("#idBtn_Accept")
        signed_in = page.evaluate("window.result")
        assert "token" in signed_in, signed_in
        assert signed_in["user"] == ADA
        claims = jwt.decode(signed_in["token"], options={"verify_signature": False})
        assert claims["aud"] == CLIENT_ID and claims["scp"] == "access_as_user"
        refreshed = page.evaluate(
            """async (scope) => {
                const account = window.app.getAllAccounts()[0];
                const r = await window.app.acquireTokenSilent(
                    {scopes: [scope], account, forceRefresh: true});
                return {token: r.accessToken, cached: r.fromCache};
            }""",
            scope,
        )
        assert refreshed["cached"] is False
        assert refreshed["token"] != signed_in["token"]
    finally:
        context.close()
