"""The Google cards: the record exported through a short-lived signed link, no weekday refused
with the service's sentence, and times in the person's own zone, named when not the pair's."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from test_workspace_endpoints import (
    ADA,
    BASE,
    EVE,
    GRACE,
    NOW,
    Panel,
    buttons,
    kennismaking,
    plan,
    seeded_app,
    texts,
)

from addin.workspace import export_link
from addin.workspace.schema import validate_response
from connectors.testing import ManualClock

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock, moved by the tests."""
    return ManualClock(NOW)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Flask:
    """The app on the seeded local store."""
    return seeded_app(tmp_path, clock)


class ZonedPanel(Panel):
    """A panel whose person's calendar is set to another zone."""

    def __init__(self, app: Flask, who: str, lang: str, zone: str) -> None:
        super().__init__(app, who, lang)
        self.zone = zone

    def event_object(self, url: str, **kwargs: Any) -> dict[str, Any]:
        body = super().event_object(url, **kwargs)
        body["commonEventObject"]["timeZone"] = {"id": self.zone, "offset": -18_000_000}
        return body


def record_panel(app: Flask, clock: ManualClock, lang: str) -> tuple[Panel, str]:
    """Ada's panel on the first conversation after it ended, with an agreement both accepted."""
    ada, first = plan(app, lang)
    service = app.extensions["goedgesprek.service"]
    clock.advance(timedelta(days=8))
    ada.open(first)
    assert ada.top["name"] == "record"
    ada.click(ada.t("Save the record"), agreement_text="Minder reizen")
    ada.click(ada.t("Propose all drafts"))
    ada.click(ada.t("Accept all"))
    grace = Panel(app, GRACE, lang)
    grace.open(first)
    grace.click(grace.t("Accept"))
    assert service is not None
    ada.open(first)
    return ada, first


def export_button(panel: Panel, label: str) -> dict[str, Any]:
    """The export button labelled `label`: it asks the server for the link to open."""
    found = [b for b in buttons(panel.top) if b["text"] == label]
    assert found, [b["text"] for b in buttons(panel.top)]
    click = found[0]["onClick"]
    assert "openDynamicLinkAction" in click and "action" not in click
    return dict(click["openDynamicLinkAction"])


def press_for_link(panel: Panel, label: str) -> str:
    """Press an export button as Google does and return the link Google is told to open."""
    action = export_button(panel, label)
    parameters = {p["key"]: p["value"] for p in action.get("parameters", [])}
    answer = panel.post(
        action["function"], panel.event_object(action["function"], parameters=parameters)
    )
    validate_response(answer)
    link = answer["renderActions"]["action"]["link"]
    assert link["openAs"] == "FULL_SIZE" and link["onClose"] == "NOTHING"
    assert str(link["url"]).startswith(BASE + "/workspace/export/")
    return str(link["url"])


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_record_card_opens_the_export_through_a_signed_link(
    app: Flask, clock: ManualClock, lang: str
) -> None:
    """Both formats open in a new tab, name the pair and who accepted, and run nothing."""
    ada, _first = record_panel(app, clock, lang)
    assert ada.top["name"] == "final"
    assert ada.t("Export") in texts(ada.top)
    client = app.test_client()
    html = client.get(press_for_link(ada, ada.t("Open as HTML")))
    assert html.status_code == 200, html.get_data(as_text=True)
    assert html.mimetype == "text/html"
    page = html.get_data(as_text=True)
    employee, accepted = {"nl": ("Medewerker: Ada", "akkoord van Grace"), "en": (
        "Employee: Ada", "accepted by Grace")}[lang]  # fmt: skip
    assert employee in page and accepted in page and "Minder reizen" in page
    assert html.headers["Content-Disposition"].startswith("inline;")
    assert html.headers["Cache-Control"] == "no-store"
    assert html.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in html.headers["Content-Security-Policy"]
    md = client.get(press_for_link(ada, ada.t("Open as Markdown")))
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    assert employee in md.get_data(as_text=True)


def test_the_record_form_has_the_export_too(app: Flask, clock: ManualClock) -> None:
    """While the record is being written, the card offers the export as well."""
    ada, first = plan(app, "en")
    clock.advance(timedelta(days=8))
    ada.open(first)
    assert ada.top["name"] == "record"
    export_button(ada, ada.t("Open as HTML"))


def _swap(url: str, **changes: str) -> str:
    """`url` with path parts (series, occ, fmt) or the token replaced."""
    parts = urlsplit(url)
    _, _, _, series, occ, fmt = parts.path.split("/")
    values = {"series": series, "occ": occ, "fmt": fmt, "t": parse_qs(parts.query)["t"][0]}
    values.update(changes)
    return f"/workspace/export/{values['series']}/{values['occ']}/{values['fmt']}?t={values['t']}"


def test_a_link_cannot_be_stretched_altered_or_pointed_elsewhere(
    app: Flask, clock: ManualClock
) -> None:
    """Expired, altered, non-ASCII, another series, occurrence or format, or no token: 403."""
    ada, _first = record_panel(app, clock, "en")
    url = press_for_link(ada, ada.t("Open as HTML"))
    token = parse_qs(urlsplit(url).query)["t"][0]
    grant = export_link.verify(
        app.secret_key,  # type: ignore[arg-type]
        token,
        series=url.split("/")[5],
        occ=url.split("/")[6],
        fmt="html",
        now=time.time(),
    )
    key: bytes = app.secret_key  # type: ignore[assignment]
    stale = export_link.grant_for(
        key,
        series=grant.series,
        occ=grant.occ,
        fmt="html",
        email=ADA,
        locale="en",
        now=time.time() - export_link.LIFETIME - 1,
    )
    client = app.test_client()
    expired = client.get(_swap(url, t=stale))
    assert expired.status_code == 403
    assert "expired" in expired.get_data(as_text=True)
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    cases = [
        _swap(url, t=altered),
        _swap(url, series="0" * 32),
        _swap(url, occ="20990101T090000Z"),
        _swap(url, fmt="md"),
        _swap(url, t=""),
        _swap(url, t="x.y"),
        _swap(url, t="é." + token.split(".")[1]),
    ]
    for case in cases:
        refused = client.get(case, headers={"Accept-Language": "en-GB"})
        assert refused.status_code == 403, case
        body = refused.get_data(as_text=True)
        assert "not valid" in body and "Minder reizen" not in body, case
    assert client.get(url).status_code == 200  # the real link still works


def test_a_link_to_a_damaged_record_says_it_cannot_be_opened(
    app: Flask, clock: ManualClock
) -> None:
    """The link is sound but the sealed record is not: 422 with its sentence, not 503 try again."""
    from addin.errors import error_message

    ada, _first = record_panel(app, clock, "en")
    url = press_for_link(ada, ada.t("Open as HTML"))
    series, occ = url.split("/")[5], url.split("/")[6]
    drive = app.extensions["goedgesprek.store"].drive(ADA)
    name = f"occ-{occ}.json"
    content = bytearray(drive.get(series, name).content)
    content[40] ^= 1
    drive.put(series, name, bytes(content))
    refused = app.test_client().get(url)
    assert refused.status_code == 422
    assert error_message("record_unreadable", "en") in refused.get_data(as_text=True)


def test_a_link_signed_for_someone_outside_the_pair_opens_nothing(
    app: Flask, clock: ManualClock
) -> None:
    """A grant for another user (here Eve, no partner) is refused by the service: 403."""
    ada, _first = record_panel(app, clock, "en")
    url = press_for_link(ada, ada.t("Open as HTML"))
    series, occ = url.split("/")[5], url.split("/")[6]
    key: bytes = app.secret_key  # type: ignore[assignment]
    for_eve = export_link.grant_for(
        key, series=series, occ=occ, fmt="html", email=EVE, locale="en", now=time.time()
    )
    refused = app.test_client().get(_swap(url, t=for_eve))
    assert refused.status_code == 403
    assert "Minder reizen" not in refused.get_data(as_text=True)


def test_the_plan_card_sends_no_weekday_as_none_and_shows_the_services_sentence(
    app: Flask,
) -> None:
    """Nothing ticked is refused with the service's sentence; no preview, no Tuesday default."""
    for lang, sentence in (
        ("nl", "Kies minstens één dag van de week voor de gesprekken."),
        ("en", "Choose at least one weekday for the conversations."),
    ):
        ada = Panel(app, ADA, lang)
        ada.open(kennismaking(app))
        ada.click(ada.t("Show the proposal"), weekdays=[])
        assert ada.notification == sentence
        assert len(ada.stack) == 1 and ada.top["name"] == "plan"


def test_cards_show_times_in_the_persons_zone_and_name_it(app: Flask) -> None:
    """From New York the proposal's dates are New York times, named, as is its sentence."""
    ada = ZonedPanel(app, ADA, "en", "America/New_York")
    ada.open(kennismaking(app))
    ada.click(ada.t("Show the proposal"))
    shown = texts(ada.top)
    assert "(America/New_York)" in shown
    assert "for you in America/New_York" in shown
    home = Panel(app, ADA, "en")
    home.open(kennismaking(app))
    home.click(home.t("Show the proposal"))
    assert "America/New_York" not in texts(home.top)
    assert "(Europe/Amsterdam)" not in texts(home.top)


def test_an_export_link_answers_a_refusal_as_the_api_does() -> None:
    """Each refusal gets the API's status: a provider refusing the request is a 400, not 503."""
    from addin.workspace.endpoints import _refusal_status
    from connectors.errors import InvalidRequest, NotFound, Unavailable

    assert _refusal_status(InvalidRequest("refused")) == 400
    assert _refusal_status(NotFound("gone")) == 404
    assert _refusal_status(Unavailable("away")) == 503


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_provider_refusing_a_card_request_is_not_said_to_be_away(app: Flask, lang: str) -> None:
    """The cards say the calendar refused the change (as the API does), not "try in a minute"."""
    from addin.errors import error_message
    from addin.workspace.endpoints import refusal_message
    from connectors.errors import InvalidRequest

    with app.app_context():
        said = refusal_message(lang, InvalidRequest("Graph: ErrorInvalidProperty"))
    assert said == error_message("provider_refused", lang)
    assert said != error_message("provider_unavailable", lang)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_employee_downloads_the_whole_dossier_from_the_card(
    app: Flask, clock: ManualClock, lang: str
) -> None:
    """The employee's card offers the dossier; its link is theirs alone and runs nothing.
    Attacks: the manager's card has no such button, an altered token, an export link's token
    for one record used for the dossier."""
    import io
    import zipfile

    ada, first = record_panel(app, clock, lang)
    label = ada.t("Download my whole dossier (zip)")
    action = export_button(ada, label)
    answer = ada.post(action["function"], ada.event_object(action["function"], parameters={}))
    validate_response(answer)
    url = str(answer["renderActions"]["action"]["link"]["url"])
    assert url.startswith(BASE + "/workspace/dossier?t=")
    client = app.test_client()
    got = client.get(url.removeprefix(BASE))
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.mimetype == "application/zip"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["Cache-Control"] == "no-store"
    names = zipfile.ZipFile(io.BytesIO(got.data)).namelist()
    assert "README.md" in names and any(n.endswith(".md") and "gesprek-" in n for n in names)

    grace = Panel(app, GRACE, lang)
    grace.open(first)
    assert label not in [b["text"] for b in buttons(grace.top)]
    token = parse_qs(urlsplit(url).query)["t"][0]
    assert client.get(f"/workspace/dossier?t={token[:-2]}xx").status_code == 403
    record_url = press_for_link(ada, ada.t("Open as HTML"))
    record_token = parse_qs(urlsplit(record_url).query)["t"][0]
    assert client.get(f"/workspace/dossier?t={record_token}").status_code == 403
    assert client.get("/workspace/dossier").status_code == 403
