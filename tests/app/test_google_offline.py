"""The offline Google grant end to end over HTTP: card link, Google's consent page, callback, vault.

The product app, the Google API emulator and the Google OAuth emulator (HTTPS) each run on
127.0.0.1; a requests session plays the person's browser and answers the consent form. Cards act
with the person's own ``userOAuthToken``; work for the partner uses the partner's sealed grant,
and a revoked grant parks the account and asks for a new grant, losing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from google.oauth2.credentials import Credentials
from google_product import ACCOUNT, google_settings, manager_plan_json
from markupsafe import escape

from addin.app import close_app, create_app
from addin.errors import error_message
from addin.i18n import gettext
from addin.workspace.grant import SCOPE_WORDS
from addin.workspace.schema import validate_card, validate_response
from connectors.errors import AuthExpired
from connectors.google import GoogleAccount
from connectors.models import Attendee, NewEvent
from emulators._wsgi import StartResponse
from emulators.google import GoogleEmulator
from emulators.google_oauth import GoogleOAuthEmulator, consent
from emulators.serve import Server
from emulators.tls import LocalCA

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

CLIENT_ID = "1234-web.apps.googleusercontent.com"
SECRET = "GOCSPX-offline"
ADA = "ada@example.org"
GRACE = "grace@example.org"
CALENDAR = "https://www.googleapis.com/auth/calendar.events.owned"
DRIVE = "https://www.googleapis.com/auth/drive.file"


class Later:
    """A WSGI app set after the server starts (the app needs the server's URL first)."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class World:
    """Everything running: the app, both emulators, and a browser session."""

    app: Flask
    url: str
    api: GoogleEmulator
    api_url: str
    oauth: GoogleOAuthEmulator
    browser: requests.Session
    outage: Outage

    def card(self, email: str, path: str = "/workspace/homepage", **calendar: str) -> Any:
        """A trigger as Google sends it for `email`, with their own access token."""
        url = self.url + path
        body: dict[str, Any] = {
            "commonEventObject": {"hostApp": "CALENDAR", "platform": "WEB", "userLocale": "en"},
            "authorizationEventObject": {
                "userOAuthToken": self.api.token(email),
                "userIdToken": self.oauth.sign_id_token(url, email),
            },
        }
        if calendar:
            body["calendar"] = calendar
        system = self.oauth.sign_id_token(url, ACCOUNT)
        answer = requests.post(
            url, json=body, headers={"Authorization": f"Bearer {system}"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        validate_response(answer.json())
        card = answer.json()["action"]["navigations"][0]["pushCard"]
        validate_card(card)
        return card

    def action(self, email: str, name: str, parameters: dict[str, str], locale: str = "en") -> Any:
        """A card button pressed by `email` (with their own token): Google's callback answer."""
        url = f"{self.url}/workspace/action/{name}"
        body: dict[str, Any] = {
            "commonEventObject": {
                "hostApp": "CALENDAR",
                "platform": "WEB",
                "userLocale": locale,
                "timeZone": {"id": "Europe/Amsterdam", "offset": 3_600_000},
                "parameters": parameters,
            },
            "authorizationEventObject": {
                "userOAuthToken": self.api.token(email),
                "userIdToken": self.oauth.sign_id_token(url, email),
            },
        }
        system = self.oauth.sign_id_token(url, ACCOUNT)
        answer = requests.post(
            url, json=body, headers={"Authorization": f"Bearer {system}"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        validate_response(answer.json())
        return answer.json()

    def grant(self, email: str, scopes: list[str] | None = None, *, allow: bool = True) -> str:
        """Press the card's grant button, consent on Google's page, follow the callback."""
        link = grant_link(self.card(email))
        assert link is not None, "the card offers no grant"
        start = self.browser.get(link, allow_redirects=False, timeout=30)
        assert start.status_code == 302
        location = consent(
            self.browser, start.headers["Location"], email=email, grant=scopes, allow=allow
        )
        assert location.startswith(self.url + "/workspace/oauth/callback?")
        page = self.browser.get(location, timeout=30)
        return page.text


def grant_link(card: dict[str, Any]) -> str | None:
    """The URL of the card's grant button, if it has one."""
    for section in card["sections"]:
        for widget in section["widgets"]:
            for button in widget.get("buttonList", {}).get("buttons", []):
                url = button["onClick"].get("openLink", {}).get("url", "")
                if "/workspace/oauth/start" in url:
                    return str(url)
    return None


def plan_as_manager(employee: str, request_id: str) -> dict[str, str]:
    """The parameters of a manager's "Schedule this series" button for a series with `employee`."""
    return {"plan": manager_plan_json(employee), "request_id": request_id}


def notification(answer: dict[str, Any]) -> str:
    """The notification text of a callback answer ("" when there is none)."""
    action = answer.get("renderActions", {}).get("action", {})
    return str(action.get("notification", {}).get("text", ""))


def card_text(card: dict[str, Any]) -> str:
    """Every paragraph of the card."""
    return "\n".join(
        w["textParagraph"]["text"]
        for s in card["sections"]
        for w in s["widgets"]
        if "textParagraph" in w
    )


def t(msgid: str) -> str:
    """A cards text in English."""
    return gettext("en", "cards", msgid)


class Outage:
    """The OAuth emulator behind a switch: while `down`, its token endpoint answers 503."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.down = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.down and environ["PATH_INFO"] == "/token":
            start_response("503 Service Unavailable", [("Content-Type", "text/html")])
            return [b"<html>Service unavailable</html>"]
        return self.app(environ, start_response)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The product (BACKEND=google, offline grants) between the two emulators."""
    ca = LocalCA(tmp_path / "ca")
    api = GoogleEmulator()
    for email in (ADA, GRACE):
        api.add_user(email)
    oauth = GoogleOAuthEmulator(mint=api.token, revoked=api.revoke)
    for email in (ADA, GRACE):
        oauth.add_person(email)
    later = Later()
    # No service account here: reporting lines come from HR's file.
    lines = tmp_path / "reporting-lines.csv"
    lines.write_text(f"employee,manager\n{ADA},{GRACE}\n", encoding="utf-8")
    outage = Outage(oauth)
    with Server(api) as api_server, Server(outage, tls=ca) as idp, Server(later) as served:
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
            # One attempt: google-auth already retries the token endpoint three times.
            | {"PROVIDER_RETRY_ATTEMPTS": 1}
        )
        later.app = app
        browser = requests.Session()
        browser.verify = str(ca.ca_file)
        browser.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        browser.headers["Accept-Language"] = "en"
        try:
            yield World(app, served.url, api, api_server.url, oauth, browser, outage)
        finally:
            close_app(app)


def test_granular_consent_names_what_is_missing_until_all_is_granted(world: World) -> None:
    """No grant: the card asks for one. Calendar only: the callback and the card name each
    missing permission in words. Everything: the card asks nothing more, and the vault holds
    the sealed grant under Ada's Google account id."""
    first = world.card(ADA)
    assert t("Give access") in str(first)
    page = world.grant(ADA, [CALENDAR])
    assert t(SCOPE_WORDS[DRIVE]) in page
    assert t(SCOPE_WORDS[CALENDAR]) not in page
    # A page in the person's language, the missing permissions as a list, running nothing.
    assert page.startswith('<!DOCTYPE html><html lang="en">')
    assert f"<li>{escape(t(SCOPE_WORDS[DRIVE]))}</li>" in page and "<script" not in page
    card = card_text(world.card(ADA))
    assert t("Goed Gesprek still misses your permission to:") in card
    assert t(SCOPE_WORDS[DRIVE]) in card and t(SCOPE_WORDS[CALENDAR]) not in card
    page = world.grant(ADA)
    assert t("can close this window") in page or "close this window" in page
    assert grant_link(world.card(ADA)) is None
    grants = world.app.extensions["goedgesprek.google_grants"]
    account = grants.vault.find("google", ADA)
    assert account is not None and account.subject == world.oauth.add_person(ADA).subject
    secret = grants.vault.secret("google", account.subject)
    assert b"refresh_token" in secret and account.parked == ""


def test_cancel_and_tampered_links_store_nothing(world: World) -> None:
    """Cancel on Google's page, a changed link or a changed state: a page that says so, and
    no grant in the vault."""
    page = world.grant(ADA, allow=False)
    assert "did not give access" in page
    link = grant_link(world.card(ADA))
    assert link is not None
    bad = world.browser.get(link[:-3] + "xyz", allow_redirects=False, timeout=30)
    assert bad.status_code == 400 and "not valid" in bad.text
    start = world.browser.get(link, allow_redirects=False, timeout=30)
    back = consent(world.browser, start.headers["Location"], email=ADA)
    query = parse_qs(urlsplit(back).query)
    forged = world.browser.get(
        world.url + "/workspace/oauth/callback",
        params={"code": query["code"][0], "state": query["state"][0] + "x"},
        timeout=30,
    )
    assert forged.status_code == 400
    grants = world.app.extensions["goedgesprek.google_grants"]
    assert grants.vault.find("google", ADA) is None


def test_consent_from_another_account_is_refused(world: World) -> None:
    """Ada's link answered on Google's page as Grace: refused, nothing stored for either."""
    link = grant_link(world.card(ADA))
    assert link is not None
    start = world.browser.get(link, allow_redirects=False, timeout=30)
    back = consent(world.browser, start.headers["Location"], email=GRACE)
    page = world.browser.get(back, timeout=30)
    assert page.status_code == 400 and ADA in page.text
    grants = world.app.extensions["goedgesprek.google_grants"]
    assert grants.vault.find("google", ADA) is None and grants.vault.find("google", GRACE) is None


def test_cards_use_the_persons_own_token(world: World) -> None:
    """With no stored grant, an opened event is still read: through the userOAuthToken of the
    request, not a stored token."""
    owner = GoogleAccount(
        lambda email: Credentials(token=world.api.token(email)),  # type: ignore[no-untyped-call]
        root_url=world.api_url + "/",
    )
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    event = owner.calendar(ADA).create_event(
        NewEvent(
            subject="Kennismaking",
            start=start,
            end=start + timedelta(minutes=30),
            tz="Europe/Amsterdam",
            organizer=ADA,
            attendees=(Attendee(GRACE, "Grace"),),
        ),
        idempotency_key="k-1",
    )
    owner.close()
    card = world.card(ADA, "/workspace/calendar/event-open", id=event.id, calendarId=ADA)
    assert t("Your permission for the calendar or drive has expired") not in str(card)
    # Outside a request there is no token to use and no grant: the port says so.
    provider = world.app.extensions["goedgesprek.provider"]
    with pytest.raises(AuthExpired):
        provider.calendar(ADA).get_event(event.id)


def test_the_partners_grant_works_later_and_a_revoked_one_parks(world: World) -> None:
    """Grace's stored grant reads her calendar with no card open (refreshed at Google's token
    endpoint); once she revokes it, the next call parks her account, her card asks for a new
    grant, and the grant given again works."""
    world.grant(GRACE)
    provider = world.app.extensions["goedgesprek.provider"]
    grants = world.app.extensions["goedgesprek.google_grants"]
    before = world.oauth.token_requests
    now = datetime.now(UTC)
    assert provider.calendar(GRACE).events(now, now + timedelta(days=1)) == []
    assert world.oauth.token_requests == before + 1
    world.oauth.revoke(GRACE)
    with pytest.raises(AuthExpired):
        provider.calendar(GRACE).events(now, now + timedelta(days=1))
    account = grants.vault.find("google", GRACE)
    assert account is not None and account.parked
    # Parked, not forgotten: the account and its sealed grant stay until she signs in again.
    assert grants.vault.secret("google", account.subject) is not None
    card = card_text(world.card(GRACE))
    assert t("what you wrote is kept") in card or "withdrawn" in card
    world.grant(GRACE)
    assert grants.vault.find("google", GRACE).parked == ""
    assert provider.calendar(GRACE).events(now, now + timedelta(days=1)) == []


def test_a_partners_missing_or_revoked_grant_names_the_partner(world: World) -> None:
    """Grace plans a series as Ada's manager: the series goes into Ada's calendar through Ada's
    stored grant. With none, and once Ada revoked it, Grace's card names Ada as the one who
    must give access (in Dutch and in English), not Grace; nothing is planned until she does."""
    registry = world.app.extensions["goedgesprek.service"].registry
    answer = world.action(GRACE, "create", plan_as_manager(ADA, "req-none-1"))
    said = notification(answer)
    assert said == gettext(
        "en",
        "cards",
        "%(name)s has not yet given Goed Gesprek access to their calendar "
        "and files: %(name)s needs to open Goed Gesprek once and give access.",
        name=ADA,
    )
    assert t("Your permission for the calendar or drive has expired") not in said
    dutch = notification(world.action(GRACE, "create", plan_as_manager(ADA, "req-none-2"), "nl"))
    assert dutch.startswith(f"{ADA} heeft Goed Gesprek nog geen toegang gegeven")
    assert registry.for_person(ADA) == []

    world.grant(ADA)
    world.oauth.revoke(ADA)
    said = notification(world.action(GRACE, "create", plan_as_manager(ADA, "req-revoked")))
    assert said.startswith(f"The access {ADA} gave Goed Gesprek to their calendar and files")
    assert said.endswith(f"{ADA} needs to open Goed Gesprek once and give access again.")
    assert registry.for_person(ADA) == []
    grants = world.app.extensions["goedgesprek.google_grants"]
    assert grants.vault.find("google", ADA).parked

    world.grant(ADA)
    created = world.action(GRACE, "create", plan_as_manager(ADA, "req-granted"))
    assert notification(created) == t("The series is in both calendars.")
    (series,) = registry.for_person(ADA)

    # Ada withdraws the grant: the event's card, opened by Grace, names Ada too (as the series
    # calls her), and says Ada must give access, not Grace.
    world.oauth.revoke(ADA)
    card = world.card(GRACE, "/workspace/calendar/event-open", id=series.master_event_id)
    name = series.pair.employee.name
    expected = gettext(
        "en",
        "cards",
        "The access %(name)s gave Goed Gesprek to their calendar and files was withdrawn or has "
        "expired: %(name)s needs to open Goed Gesprek once and give access again.",
        name=name,
    )
    assert name and expected in str(card), card


def test_the_callers_own_stored_grant_keeps_the_own_sentence(tmp_path: Path) -> None:
    """A refusal of the caller's own stored grant (an export link opened later) says "your
    permission"; a partner's names the partner; an error with no grant behind it is as before."""
    from addin.signin.google import GrantRevoked, GrantUnusable
    from addin.workspace.endpoints import refusal_message

    own = GrantUnusable(ADA, "parked", "parked")
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)})
    try:
        with app.app_context():
            mine = refusal_message("en", own, caller=ADA.upper())
            assert mine == t(
                "Your permission for the calendar or drive has expired: open the add-on again "
                "and allow access."
            )
            assert refusal_message("en", AuthExpired("x"), caller=GRACE) == mine
            # The connector raises its own AuthExpired from google-auth's RefreshError.
            try:
                try:
                    raise GrantRevoked(ADA, "invalid_grant")
                except GrantRevoked as cause:
                    raise AuthExpired("the Google sign-in expired") from cause
            except AuthExpired as mapped:
                said = refusal_message("nl", mapped, caller=GRACE)
            assert said.startswith(f"De toegang die {ADA} Goed Gesprek gaf")
    finally:
        close_app(app)


def test_a_partners_partial_grant_names_the_partner_and_what_to_do(world: World) -> None:
    """Ada gave the calendar but not the drive: planning with her as employee stops before any
    call Google would refuse with a bare 403, and Grace's card says Ada must give the rest."""
    registry = world.app.extensions["goedgesprek.service"].registry
    world.grant(ADA, [CALENDAR])
    said = notification(world.action(GRACE, "create", plan_as_manager(ADA, "req-partial")))
    assert said == gettext(
        "en",
        "cards",
        "%(name)s gave Goed Gesprek only part of the access it needs to their calendar and "
        "files: %(name)s needs to open Goed Gesprek once and give the rest.",
        name=ADA,
    )
    dutch = notification(
        world.action(GRACE, "create", plan_as_manager(ADA, "req-partial-nl"), "nl")
    )
    assert dutch.startswith(f"{ADA} heeft Goed Gesprek maar een deel van de toegang")
    assert registry.for_person(ADA) == []
    world.grant(ADA)
    created = world.action(GRACE, "create", plan_as_manager(ADA, "req-complete"))
    assert notification(created) == t("The series is in both calendars.")


def test_googles_sign_in_service_away_is_not_a_revoked_grant(world: World) -> None:
    """Google's token endpoint answering 503 while Grace plans into Ada's calendar: the card says
    to try again later, Ada's grant stays usable (not parked, no "give access again"), nothing is
    planned; once Google answers again the same plan goes through."""
    registry = world.app.extensions["goedgesprek.service"].registry
    world.grant(ADA)
    world.outage.down = True
    said = notification(world.action(GRACE, "create", plan_as_manager(ADA, "req-outage")))
    assert said == error_message("provider_unavailable", "en")
    assert registry.for_person(ADA) == []
    grants = world.app.extensions["goedgesprek.google_grants"]
    assert grants.vault.find("google", ADA).parked == ""
    world.outage.down = False
    created = world.action(GRACE, "create", plan_as_manager(ADA, "req-outage"))
    assert notification(created) == t("The series is in both calendars.")
    assert len(registry.for_person(ADA)) == 1
