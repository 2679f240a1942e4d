"""Google's offline grant in Chromium: the card's link, Google's consent page, the callback, and
work done later for a person who is not there.

The product app (``BACKEND=google``, no demo routes) runs between the Google API emulator and the
Google OAuth emulator (HTTPS with a throw-away CA: the app trusts it through
``GOOGLE_CA_BUNDLE``, Chromium's context ignores certificate errors). Reporting lines come from
HR's file: Ada reports to Grace. Chromium opens the "give access" link of Ada's card, and on the
emulator's consent page Ada first leaves a permission unticked (granular consent): the page the
callback shows names what is missing, in Dutch and in English. Then she grants everything. Later
Grace, as Ada's manager, plans their series while Ada is away: it goes into Ada's calendar, so
the server refreshes Ada's sealed refresh token at the OAuth emulator and the Google API
emulator sees Ada's requests with the access token that refresh minted.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from flask import Flask
from google_product import ACCOUNT, google_settings, manager_plan_json

from addin.i18n import gettext
from addin.workspace.grant import SCOPE_WORDS

pytestmark = pytest.mark.browser

CHROMIUM_TIMEOUT_MS = 15_000
"""Longest a single browser step may wait (a redirect, the consent page, the callback)."""
CLIENT_ID = "271828-addon.apps.googleusercontent.com"
SECRET = "GOCSPX-browser-grant"
ADA = "ada@example.org"
GRACE = "grace@example.org"
CALENDAR = "https://www.googleapis.com/auth/calendar.events.owned"
DRIVE = "https://www.googleapis.com/auth/drive.file"


class _Later:
    """A WSGI app set after its server is listening (the app's settings need the server's URL)."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class Seen:
    """What the emulators saw since the last `clear`: Google API requests as (path, user,
    bearer token); token-endpoint requests as their form; access tokens minted per person."""

    api: list[tuple[str, str | None, str]] = field(default_factory=list)
    token_forms: list[dict[str, list[str]]] = field(default_factory=list)
    minted: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.api.clear()
            self.token_forms.clear()
            self.minted.clear()


@dataclass
class World:
    """The running app and both emulators."""

    app: Flask
    url: str
    api: Any
    oauth: Any
    seen: Seen

    def card(self, email: str, locale: str) -> dict[str, Any]:
        """Google's homepage trigger for `email` (with their own token): the pushed card."""
        url = self.url + "/workspace/homepage"
        body = {
            "commonEventObject": {"hostApp": "CALENDAR", "platform": "WEB", "userLocale": locale},
            "authorizationEventObject": {
                "userOAuthToken": self.api.token(email),
                "userIdToken": self.oauth.sign_id_token(url, email),
            },
        }
        answer = self._post(url, body)
        card: dict[str, Any] = answer["action"]["navigations"][0]["pushCard"]
        return card

    def plan_as_manager(self, manager: str, employee: str) -> dict[str, Any]:
        """The manager presses "Schedule this series" for a series with `employee`."""
        url = self.url + "/workspace/action/create"
        body = {
            "commonEventObject": {
                "hostApp": "CALENDAR",
                "platform": "WEB",
                "userLocale": "en",
                "timeZone": {"id": "Europe/Amsterdam", "offset": 3_600_000},
                "parameters": {
                    "plan": manager_plan_json(employee),
                    "request_id": "browser-grant-1",
                },
            },
            "authorizationEventObject": {
                "userOAuthToken": self.api.token(manager),
                "userIdToken": self.oauth.sign_id_token(url, manager),
            },
        }
        return self._post(url, body)

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        system = self.oauth.sign_id_token(url, ACCOUNT)
        answer = requests.post(
            url, json=body, headers={"Authorization": f"Bearer {system}"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    @property
    def grants(self) -> Any:
        return self.app.extensions["goedgesprek.google_grants"]


def grant_link(card: dict[str, Any]) -> str | None:
    """The URL of the card's grant button, if it has one."""
    for section in card["sections"]:
        for widget in section["widgets"]:
            for button in widget.get("buttonList", {}).get("buttons", []):
                url = button["onClick"].get("openLink", {}).get("url", "")
                if "/workspace/oauth/start" in url:
                    return str(url)
    return None


def words(locale: str, scope: str) -> str:
    """What a scope lets the add-on do, as the callback page says it."""
    return gettext(locale, "cards", SCOPE_WORDS[scope])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The product (BACKEND=google, offline grants, HR's reporting lines) between the emulators."""
    from addin.app import close_app, create_app
    from emulators.google import GoogleEmulator
    from emulators.google_oauth import GoogleOAuthEmulator
    from emulators.serve import Server
    from emulators.tls import LocalCA

    seen = Seen()
    ca = LocalCA(tmp_path / "ca")
    api = GoogleEmulator()
    for email, name in ((ADA, "Ada Lovelace"), (GRACE, "Grace Hopper")):
        api.add_user(email, name)

    def mint(email: str) -> str:
        token: str = api.token(email)
        with seen.lock:
            seen.minted.append((email, token))
        return token

    oauth = GoogleOAuthEmulator(mint=mint, revoked=api.revoke)
    for email in (ADA, GRACE):
        oauth.add_person(email)

    def api_seen(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        bearer = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")[2]
        with seen.lock:
            seen.api.append((str(environ.get("PATH_INFO")), api.user_of(environ), bearer))
        return api(environ, start_response)

    def oauth_seen(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/token":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(raw)
            with seen.lock:
                seen.token_forms.append(parse_qs(raw.decode("ascii", "replace")))
        return oauth(environ, start_response)

    lines = tmp_path / "reporting-lines.csv"
    lines.write_text(f"employee,manager\n{ADA},{GRACE}\n", encoding="utf-8")
    later = _Later()
    with (
        Server(api_seen) as api_server,
        Server(oauth_seen, tls=ca) as idp,
        Server(later) as served,
    ):
        oauth.add_client(CLIENT_ID, SECRET, [served.url + "/workspace/oauth/callback"])
        app = create_app(
            google_settings(
                data_dir=tmp_path / "data",
                directory_csv=lines,
                api_url=api_server.url,
                public_url=served.url,
                idp_url=idp.url,
                ca_file=ca.ca_file,
                client_id=CLIENT_ID,
                secret=SECRET,
            )
        )
        later.app = app
        try:
            yield World(app, served.url, api, oauth, seen)
        finally:
            close_app(app)


class ConsentBrowser:
    """Chromium in a context of its own (the emulator's certificate is from a throw-away CA)."""

    def __init__(self, browser: Any, lang: str) -> None:
        self.context = browser.new_context(
            locale="nl-NL" if lang == "nl" else "en-GB",
            viewport={"width": 800, "height": 700},
            ignore_https_errors=True,
        )
        self.context.set_default_timeout(CHROMIUM_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def consent_page(self, link: str) -> Any:
        """Open the card's link: our server sends Chromium on to Google's consent page."""
        self.page.goto(link)
        self.page.wait_for_selector("form[action='/o/oauth2/v2/auth/approve']")
        return self.page

    def answer(self, email: str, leave_out: Iterable[str] = ()) -> str:
        """Choose `email`, untick the scopes in `leave_out`, press Continue; the text of the
        page the callback shows."""
        self.page.select_option("select[name=email]", email)
        for scope in leave_out:
            self.page.uncheck(f"input[name=scope][value='{scope}']")
        with self.page.expect_navigation(url="**/workspace/oauth/callback?**"):
            self.page.click("button[value=allow]")
        text: str = self.page.inner_text("body")
        return text

    def close(self) -> None:
        self.context.close()
        assert not self.errors, "problems in the page:\n" + "\n".join(self.errors)


@pytest.fixture
def chromium(browser: Any) -> Iterator[Callable[[str], ConsentBrowser]]:
    """`chromium(lang)`: a fresh browser context; every one is checked for script errors."""
    opened: list[ConsentBrowser] = []

    def make(lang: str) -> ConsentBrowser:
        made = ConsentBrowser(browser, lang)
        opened.append(made)
        return made

    yield make
    for made in opened:
        made.close()


def test_granular_consent_in_chromium_then_work_for_ada_while_she_is_away(
    world: World,
    chromium: Callable[[str], ConsentBrowser],
    shot: Callable[[Any, str], Path],
) -> None:
    """Calendar only (in Dutch, then in English): the callback page names the Drive permission
    as missing, in the person's language, and not the calendar one. Everything: the page says
    she can close the window, and her card asks nothing more. Then Grace plans their series
    with Ada away: the server refreshes Ada's sealed refresh token at Google's token endpoint,
    and the Google API emulator sees Ada's requests with the token that refresh minted."""
    for lang in ("nl", "en"):
        link = grant_link(world.card(ADA, lang))
        assert link is not None, "Ada's card offers no grant"
        ada = chromium(lang)
        consent = ada.consent_page(link)
        offered = consent.locator("input[name=scope]").evaluate_all(
            "boxes => boxes.map(box => box.value)"
        )
        assert CALENDAR in offered and DRIVE in offered
        assert consent.locator("select[name=email]").input_value() == ADA  # login_hint
        shot(consent, f"google-consent-{lang}")
        page = ada.answer(ADA, leave_out=[DRIVE])
        assert words(lang, DRIVE) in page, page
        assert words(lang, CALENDAR) not in page
        shot(ada.page, f"google-callback-missing-{lang}")
        ada.close()
    grant = world.grants.grant_of(ADA)
    assert grant is not None and DRIVE not in grant.scopes and CALENDAR in grant.scopes

    link = grant_link(world.card(ADA, "en"))
    assert link is not None, "a grant without Drive is not complete"
    ada = chromium("en")
    ada.consent_page(link)
    page = ada.answer(ADA)
    assert "You can close this window." in page, page
    shot(ada.page, "google-callback-done-en")
    assert grant_link(world.card(ADA, "en")) is None

    account = world.grants.vault.find("google", ADA)
    assert account is not None and account.parked == ""
    sealed = json.loads(world.grants.vault.secret("google", account.subject))["refresh_token"]

    # Later: Ada is not there. Grace's card plans the series into Ada's calendar.
    world.seen.clear()
    answer = world.plan_as_manager(GRACE, ADA)
    said = answer["renderActions"]["action"]["notification"]["text"]
    assert said == gettext("en", "cards", "The series is in both calendars."), said
    refreshes = [f for f in world.seen.token_forms if f.get("grant_type") == ["refresh_token"]]
    assert refreshes and all(f["refresh_token"] == [sealed] for f in refreshes)
    minted_for_ada = {token for email, token in world.seen.minted if email == ADA}
    assert minted_for_ada, "no access token was minted for Ada from her refresh token"
    ada_calls = [(path, token) for path, user, token in world.seen.api if user == ADA]
    assert ada_calls, "the Google API emulator saw no request as Ada"
    assert {token for _path, token in ada_calls} <= minted_for_ada
    assert any("/calendar/v3/calendars/" in path for path, _token in ada_calls), ada_calls
    series = world.app.extensions["goedgesprek.service"].registry.for_person(ADA)
    assert len(series) == 1 and series[0].pair.manager.email == GRACE
