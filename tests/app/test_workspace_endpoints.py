"""The Google Calendar add-on's endpoints, called as Google calls them, on the local store.

A `Panel` plays Google Calendar for one person: it signs each request (the system ID token in the
header, the user's ID token in the event object), sends the event object with the card's current
inputs, checks every answer against Google's card schema and keeps the card stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addin.app import create_app
from addin.demo import seed
from addin.i18n import gettext
from addin.workspace import flows
from addin.workspace.flows import Ui
from addin.workspace.schema import validate_card, validate_response
from addin.workspace.verify import LOCAL_SERVICE_ACCOUNT, LocalSigner
from connectors.local import LocalStore
from connectors.models import Attendee, NewEvent
from connectors.testing import ManualClock

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

ADA = "ada@example.org"
GRACE = "grace@example.org"
EVE = "eve@example.org"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BASE = "http://localhost"
HOSTILE = "<script>alert('x')</script> & <b>vet</b>"


# -- Google's side -------------------------------------------------------------------------------


class Panel:
    """Google Calendar's add-on panel for one person: signed requests, checked answers, a stack."""

    def __init__(self, app: Flask, who: str, lang: str = "nl") -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.who = who
        self.lang = lang
        self.signer: LocalSigner = app.extensions["goedgesprek.signer"]
        self.stack: list[dict[str, Any]] = []
        self.event_id = ""
        self.notification: str | None = None

    def t(self, msgid: str, **params: Any) -> str:
        """A card text in this panel's language."""
        return gettext(self.lang, "cards", msgid, **params)

    def turn(self, msgid: str, **params: Any) -> str:
        """A whose-turn sentence (the service's ``api`` catalog) in this panel's language."""
        return gettext(self.lang, "api", msgid, **params)

    def event_object(
        self,
        url: str,
        *,
        parameters: dict[str, str] | None = None,
        inputs: dict[str, Any] | None = None,
        user_token: str | None = "signed",
    ) -> dict[str, Any]:
        """The JSON Google POSTs: common part, user's token, the open event."""
        common: dict[str, Any] = {
            "hostApp": "CALENDAR",
            "platform": "WEB",
            "userLocale": {"nl": "nl-NL", "en": "en-GB"}[self.lang],
            "timeZone": {"id": "Europe/Amsterdam", "offset": 3_600_000},
        }
        if parameters:
            common["parameters"] = parameters
        if inputs:
            common["formInputs"] = inputs
        token = self.sign(url, self.who) if user_token == "signed" else user_token
        body: dict[str, Any] = {
            "commonEventObject": common,
            "authorizationEventObject": {"userOAuthToken": "ya29.local", "userIdToken": token},
        }
        if self.event_id:
            body["calendar"] = {
                "id": self.event_id,
                "calendarId": self.who,
                "capabilities": {"canSeeAttendees": True, "canAddAttendees": False},
            }
            if "_" in self.event_id:
                body["calendar"]["recurringEventId"] = self.event_id.split("_")[0]
        return body

    def sign(self, url: str, email: str = LOCAL_SERVICE_ACCOUNT) -> str:
        """An ID token for `url` in Google's shape, signed with the app's local key."""
        return self.signer.sign(audience=url, now=datetime.now(UTC), email=email)

    def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST as Google does; the answer must be a valid add-on response."""
        response = self.client.post(
            url, json=body, headers={"Authorization": f"Bearer {self.sign(url)}"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        answer: dict[str, Any] = response.get_json()
        validate_response(answer)
        envelope = answer.get("renderActions", answer)
        for step in envelope.get("action", {}).get("navigations", []):
            for kind in ("pushCard", "updateCard"):
                if kind in step:
                    validate_card(step[kind])
        return answer

    def open(self, event_id: str = "") -> dict[str, Any]:
        """Open an event (or the homepage without one): the trigger's card starts the stack."""
        self.event_id = event_id
        path = "/workspace/calendar/event-open" if event_id else "/workspace/homepage"
        answer = self.post(BASE + path, self.event_object(BASE + path))
        self.stack = [answer["action"]["navigations"][0]["pushCard"]]
        return self.top

    @property
    def top(self) -> dict[str, Any]:
        """The card shown."""
        return self.stack[-1]

    def click(self, label: str, /, **typed: Any) -> dict[str, Any]:
        """Press the first button labelled `label`, with the card's inputs plus `typed`."""
        found = [b for b in buttons(self.top) if b["text"] == label]
        assert found, f"no button {label!r} in {[b['text'] for b in buttons(self.top)]}"
        action = found[0]["onClick"]["action"]
        parameters = {p["key"]: p["value"] for p in action.get("parameters", [])}
        values = {**current_inputs(self.top), **typed}
        body = self.event_object(
            action["function"], parameters=parameters, inputs=form_inputs(values)
        )
        answer = self.post(action["function"], body)
        self.apply(answer["renderActions"])
        return answer

    def apply(self, render: dict[str, Any]) -> None:
        """Apply a callback's navigations to the stack, as Google's host does."""
        action = render.get("action", {})
        for step in action.get("navigations", []):
            if step.get("popToRoot"):
                del self.stack[1:]
            elif step.get("pop"):
                self.stack.pop()
            elif "updateCard" in step:
                self.stack[-1] = step["updateCard"]
            elif "pushCard" in step:
                self.stack.append(step["pushCard"])
        self.notification = action.get("notification", {}).get("text")


def widgets(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every widget of a card."""
    for section in card["sections"]:
        yield from section["widgets"]


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button of a card, in order."""
    found = []
    for widget in widgets(card):
        found += widget.get("buttonList", {}).get("buttons", [])
        if "button" in widget.get("decoratedText", {}):
            found.append(widget["decoratedText"]["button"])
    return found


def texts(card: dict[str, Any]) -> str:
    """All formatted text a card shows (headers, paragraphs, decorated text), joined."""
    parts = [card.get("header", {}).get("title", ""), card.get("header", {}).get("subtitle", "")]
    for section in card["sections"]:
        parts.append(section.get("header", ""))
        for widget in section["widgets"]:
            parts.append(widget.get("textParagraph", {}).get("text", ""))
            body = widget.get("decoratedText", {})
            parts += [body.get("text", ""), body.get("topLabel", ""), body.get("bottomLabel", "")]
    return "\n".join(parts)


def current_inputs(card: dict[str, Any]) -> dict[str, Any]:
    """What the card's inputs hold before anyone types: Google sends these with every click."""
    values: dict[str, Any] = {}
    for widget in widgets(card):
        if "textInput" in widget and widget["textInput"].get("value"):
            values[widget["textInput"]["name"]] = widget["textInput"]["value"]
        if "selectionInput" in widget:
            body = widget["selectionInput"]
            chosen = [i["value"] for i in body["items"] if i.get("selected")]
            if chosen:
                values[body["name"]] = chosen
        if "dateTimePicker" in widget and "valueMsEpoch" in widget["dateTimePicker"]:
            ms = int(widget["dateTimePicker"]["valueMsEpoch"])
            values[widget["dateTimePicker"]["name"]] = datetime.fromtimestamp(ms / 1000, UTC).date()
    return values


def form_inputs(values: dict[str, Any]) -> dict[str, Any]:
    """Google's ``formInputs`` for `values` (a date becomes a ``dateInput`` at 00:00 UTC)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value in ("", []):
            continue  # Google leaves out a widget without a value
        if isinstance(value, date):
            midnight = datetime(value.year, value.month, value.day, tzinfo=UTC)
            out[name] = {"dateInput": {"msSinceEpoch": str(int(midnight.timestamp() * 1000))}}
        else:
            strings = value if isinstance(value, list) else [value]
            out[name] = {"stringInputs": {"value": strings}}
    return out


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock, moved by the tests."""
    return ManualClock(NOW)


def seeded_app(tmp_path: Path, clock: ManualClock) -> Flask:
    """The app on the seeded local store."""
    store = LocalStore(tmp_path, clock=clock)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)
    seed(store, NOW)
    return app


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Flask:
    """The app on the seeded local store."""
    return seeded_app(tmp_path, clock)


def kennismaking(app: Flask) -> str:
    """A one-off meeting in Ada's calendar with Grace invited, to plan from."""
    start = NOW + timedelta(days=2)
    event = (
        app.extensions["goedgesprek.store"]
        .calendar(ADA)
        .create_event(
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
    )
    return str(event.id)


def plan(app: Flask, lang: str = "nl") -> tuple[Panel, str]:
    """Ada plans the series from the meeting: returns her panel and the first conversation."""
    ada = Panel(app, ADA, lang)
    ada.open(kennismaking(app))
    ada.click(ada.t("Show the proposal"), place="Koffiebar")
    ada.click(ada.t("Schedule this series"))
    event_id = series_event(ada.top)
    return ada, event_id


def series_event(card: dict[str, Any]) -> str:
    """The event id the card's Refresh button names."""
    for button in buttons(card):
        for p in button["onClick"]["action"].get("parameters", []):
            if p["key"] == "event":
                return str(p["value"])
    raise AssertionError("the card names no event")


def series_count(app: Flask) -> int:
    """How many series Ada has."""
    return len(app.extensions["goedgesprek.service"].registry.for_person(ADA))


# -- identity ------------------------------------------------------------------------------------


def test_unverified_requests_get_401_and_change_nothing(app: Flask) -> None:
    """A missing, forged, foreign or mis-addressed token gets 401 and no series is made."""
    ada = Panel(app, ADA)
    url = f"{BASE}/workspace/action/create"
    plan_json = json.dumps(
        {"partner": GRACE, "role": "employee", "preferences": {"place": "x"}, "event": ""}
    )
    parameters = {"plan": plan_json, "request_id": "abcdef123456"}
    forged = LocalSigner.generate()
    good_body = ada.event_object(url, parameters=parameters)
    cases = [
        ({}, good_body),
        ({"Authorization": "Bearer nonsense"}, good_body),
        ({"Authorization": f"Basic {ada.sign(url)}"}, good_body),
        (
            {"Authorization": f"Bearer {forged.sign(audience=url, now=datetime.now(UTC))}"},
            good_body,
        ),
        ({"Authorization": f"Bearer {ada.sign(BASE + '/workspace/homepage')}"}, good_body),
        ({"Authorization": f"Bearer {ada.sign(url, ADA)}"}, good_body),
        (
            {"Authorization": f"Bearer {ada.sign(url)}"},
            ada.event_object(url, parameters=parameters, user_token=None),
        ),
        (
            {"Authorization": f"Bearer {ada.sign(url)}"},
            ada.event_object(
                url,
                parameters=parameters,
                user_token=forged.sign(audience=url, now=datetime.now(UTC), email=ADA),
            ),
        ),
        (
            {"Authorization": f"Bearer {ada.sign(url)}"},
            ada.event_object(url, parameters=parameters, user_token=ada.sign(url)),
        ),
        (
            {"Authorization": f"Bearer {ada.sign(url)}"},
            ada.event_object(
                url,
                parameters=parameters,
                user_token=ada.signer.sign(
                    audience="https://elsewhere.example/", now=datetime.now(UTC), email=ADA
                ),
            ),
        ),
    ]
    for headers, body in cases:
        response = ada.client.post(url, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.get_json())
        assert response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert series_count(app) == 0
    # The same request, properly signed, does make the series: the refusals were the tokens.
    assert (
        ada.client.post(
            url, json=good_body, headers={"Authorization": f"Bearer {ada.sign(url)}"}
        ).status_code
        == 200
    )
    assert series_count(app) == 1


def test_bad_bodies_and_unknown_actions_get_json_errors(app: Flask) -> None:
    """A verified request with a body that is no event object, or to no action, gets a reason."""
    ada = Panel(app, ADA, "en")
    url = f"{BASE}/workspace/homepage"
    auth = {"Authorization": f"Bearer {ada.sign(url)}"}
    bad = ada.client.post(
        url, data="{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert bad.status_code == 400 and bad.get_json()["error"] == "bad_request"
    plain = ada.client.post(url, data="x", headers=auth)
    assert plain.status_code == 415
    big = ada.client.post(
        url,
        data=json.dumps({"x": "y" * 70_000}),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert big.status_code == 413
    nowhere = f"{BASE}/workspace/action/launch-rockets"
    unsigned = ada.client.post(nowhere, json=ada.event_object(nowhere))
    assert unsigned.status_code == 401
    unknown = ada.client.post(
        nowhere,
        json=ada.event_object(nowhere),
        headers={"Authorization": f"Bearer {ada.sign(nowhere)}"},
    )
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "not_found"


# -- the flows -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_flow_through_the_endpoints(app: Flask, clock: ManualClock, lang: str) -> None:
    """Plan -> agenda -> agreed -> the meeting ends -> record -> both accept -> carried over."""
    ada = Panel(app, ADA, lang)
    card = ada.open(kennismaking(app))
    assert card["name"] == "plan"
    assert current_inputs(card)["partner"] == GRACE
    ada.click(ada.t("Show the proposal"), place="Koffiebar", duration=["45"])
    preview = ada.top
    assert preview["name"] == "preview" and len(ada.stack) == 2
    assert ada.t("The first conversations") in texts(preview)
    # Pressing "schedule" twice (a double click) makes one series.
    ada.click(ada.t("Schedule this series"))
    ada.stack.append(preview)
    ada.click(ada.t("Schedule this series"))
    assert series_count(app) == 1
    assert len(ada.stack) == 1 and ada.top["name"] == "agenda"
    assert ada.notification == ada.t("The series is in both calendars.")
    first = series_event(ada.top)

    # Ada writes the agenda and shares it; Grace proposes an item and agrees; Ada agrees.
    ada.click(
        ada.t("Add to the agenda"), item_title="Werkdruk", item_notes="Sinds de reorganisatie"
    )
    assert "Werkdruk" in texts(ada.top)
    ada.click(ada.t("Share with %(name)s", name="Grace"))
    grace = Panel(app, GRACE, lang)
    card = grace.open(first)
    assert card["name"] == "agenda" and "Werkdruk" in texts(card)
    waiting = grace.turn("Waiting for you and %(names)s to agree to the agenda.", names="Ada")
    assert waiting in texts(card)
    grace.click(grace.t("Agree to the agenda"))
    ada.open(first)
    ada.click(ada.t("Agree to the agenda"))
    assert ada.t(
        "The agenda is agreed by both. It is in the calendar event and attached to it."
    ) in texts(ada.top)
    assert ada.t("Questions to prepare") in texts(ada.top)
    assert ada.t("Checklist of agreements") in texts(ada.top)

    # The meeting ends: both see the record form.
    clock.advance(timedelta(days=8))
    card = ada.open(first)
    assert card["name"] == "record"
    item = next(
        w["textInput"]["name"]
        for w in widgets(card)
        if w.get("textInput", {}).get("name", "").startswith("summary_")
    )
    item_id = item[len("summary_") :]
    ada.click(
        ada.t("Save the record"),
        **{item: "Het gaat beter", f"finished_{item_id}": []},
        agreement_text="Ada volgt een cursus timemanagement",
        agreement_item=[item_id],
        action_description="Cursus zoeken",
        action_owner=["employee"],
        action_due=date(2027, 1, 15),
    )
    card = ada.top
    assert "Ada volgt een cursus timemanagement" in texts(card)
    assert current_inputs(card)[item] == "Het gaat beter"
    ada.click(ada.t("Propose all drafts"))
    ada.click(ada.t("Accept all"))
    assert ada.t("Proposed, waiting for %(names)s", names="Grace") in texts(ada.top)
    grace.open(first)
    grace.click(grace.t("Accept"))
    final = grace.top
    assert final["name"] == "final"
    assert ada.t("Final: accepted by both") in texts(final)
    assert "Het gaat beter" in texts(final)
    ada.open(first)
    assert ada.top["name"] == "final"
    ada.click(ada.t("Mark done"))
    assert ada.t("Done") in texts(ada.top)

    # The next conversation starts from what was not finished.
    service = app.extensions["goedgesprek.service"]
    ctx = service.context(_caller(ADA, lang), first)
    following = ctx["next_dates"][0]
    stamp = datetime.fromisoformat(following).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    card = ada.open(f"{first.split('_')[0]}_{stamp}")
    assert card["name"] == "agenda"
    shown = texts(card)
    assert ada.t("Carried over from the previous conversation") in shown  # unfinished: Werkdruk
    assert "Werkdruk" in shown
    assert "Ada volgt een cursus timemanagement" in shown  # what was agreed last time


def _caller(email: str, lang: str) -> Any:
    from addin.conversations import Caller

    return Caller(email, email.split("@", maxsplit=1)[0].title(), lang)


def test_the_homepage_plans_without_an_event(app: Flask) -> None:
    """From the homepage Grace plans a series with Ada as her employee."""
    grace = Panel(app, GRACE, "en")
    card = grace.open()
    assert card["name"] == "home"
    assert "partner" not in current_inputs(card)
    grace.click("Show the proposal", partner=ADA, role=["manager"])
    grace.click("Schedule this series")
    assert grace.top["name"] == "agenda"
    entry = app.extensions["goedgesprek.service"].registry.for_person(GRACE)[0]
    assert entry.pair.employee.email == ADA


def test_dutch_cards_speak_dutch(app: Flask) -> None:
    """The plan form and the agenda are in Dutch for a Dutch user, in English for others."""
    ada, first = plan(app, "nl")
    turn = ada.top["sections"][0]["widgets"][0]["decoratedText"]["text"]
    assert turn == "Zet de agenda op en deel hem met Grace."
    assert "Bijwerken" in [b["text"] for b in buttons(ada.top)]
    english = Panel(app, ADA, "en")
    english.open(first)
    assert "Refresh" in [b["text"] for b in buttons(english.top)]


def test_refusals_are_translated_notifications_and_keep_the_card(app: Flask) -> None:
    """A plan with oneself as partner: the card stays, a Dutch notification says why."""
    ada = Panel(app, ADA, "nl")
    ada.open()
    before = ada.top
    ada.click(ada.t("Show the proposal"), partner=ADA)
    assert ada.top == before
    assert ada.notification is not None
    assert ada.notification == gettext(
        "nl", "api", "A conversation needs two people: choose your manager or employee."
    )
    # A length the form never offers (a tampered request) is refused by the domain, in Dutch.
    ada.click(ada.t("Show the proposal"), partner=GRACE, duration=["15"])
    assert ada.top == before
    assert ada.notification is not None and "15" in ada.notification
    assert ada.notification.startswith(gettext("nl", "api", "The preferences could not be used."))


def test_provider_refusals_say_what_to_do() -> None:
    """A provider's conflict or throttle is its own sentence, not "cannot be reached"."""
    from addin.errors import error_message
    from addin.workspace.endpoints import refusal_message
    from connectors.errors import Conflict, Throttled, Unavailable

    assert refusal_message("nl", Conflict("stale")) == error_message("conflict", "nl")
    assert refusal_message("en", Throttled("slow", 30)) == error_message(
        "throttled", "en", seconds=30
    )
    assert refusal_message("en", Unavailable("x")) == error_message("provider_unavailable", "en")


def test_an_event_outside_the_calendar_shows_why(app: Flask) -> None:
    """An event id the calendar does not know: a card that says so, and the plan form."""
    ada = Panel(app, ADA, "en")
    card = ada.open("no-such-event")
    assert "deleted" in texts(card)
    assert card["name"] == "plan"


def test_a_record_that_cannot_be_opened_offers_to_try_again_not_a_new_series(app: Flask) -> None:
    """The event is there but its record will not open: the reason and Refresh, no plan form."""
    ada, first = plan(app, "en")
    ada.click("Add to the agenda", item_title="Werkdruk")
    ctx = app.extensions["goedgesprek.service"].context(_caller(ADA, "en"), first)
    series, name = ctx["series"]["id"], f"occ-{ctx['occurrence']['key']}.json"
    drive = app.extensions["goedgesprek.store"].drive(ADA)
    content = bytearray(drive.get(series, name).content)
    content[40] ^= 1
    drive.put(series, name, bytes(content))
    card = Panel(app, ADA, "en").open(first)
    labels = [b["text"] for b in buttons(card)]
    assert "Refresh" in labels and "Show the proposal" not in labels
    assert "Nothing was changed" in texts(card)


# -- escaping ------------------------------------------------------------------------------------


def test_user_text_shows_as_text(app: Flask) -> None:
    """HTML and script typed into any field is escaped in every formatted card text."""
    ada, first = plan(app, "en")
    ada.click("Add to the agenda", item_title=HOSTILE, item_notes=HOSTILE)
    shown = texts(ada.top)
    assert "<script>" not in shown and "<b>" not in shown
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;vet&lt;/b&gt;" in shown
    ada.click("Share with Grace")
    grace = Panel(app, GRACE, "en")
    grace.open(first)
    assert "&lt;script&gt;" in texts(grace.top)
    assert "<script>" not in texts(grace.top)
    # Inputs are plain text, not formatted: there the text comes back exactly as typed.
    ada.click("Add to the agenda", item_title="Tom & Jerry <3")
    assert "Tom &amp; Jerry &lt;3" in texts(ada.top)


def test_not_a_partner_gets_a_polite_note() -> None:
    """Someone outside the pair who opens the event reads a note, with no buttons."""
    ui = Ui(locale="nl", tz=UTC, action_url=lambda name: f"{BASE}/workspace/action/{name}")
    card = flows.context_card(
        ui, {"state": "not_partner", "event": {"id": "e1", "subject": "Goed gesprek <b>"}}
    )
    validate_card(card)
    assert card["header"]["title"] == "Goed gesprek <b>"
    assert buttons(card) == []
    assert "alleen tussen een medewerker" in texts(card)


def test_a_button_saves_what_was_typed_with_it(app: Flask, clock: ManualClock) -> None:
    """Typing an agreement and pressing "Accept all" saves the agreement as well."""
    ada, first = plan(app, "en")
    ada.click("Add to the agenda", item_title="Werkdruk")
    ada.click("Share with Grace", item_title="Thuiswerken")
    assert "Thuiswerken" in texts(ada.top)
    clock.advance(timedelta(days=8))
    ada.open(first)
    ada.click("Save the record", agreement_text="Eerste afspraak")
    ada.click("Propose all drafts", agreement_text="Tweede afspraak")
    record = app.extensions["goedgesprek.service"].context(_caller(ADA, "en"), first)["record"]
    assert [(a["text"], a["state"]) for a in record["agreements"]] == [
        ("Eerste afspraak", "proposed"),
        ("Tweede afspraak", "proposed"),
    ]


# -- races ---------------------------------------------------------------------------------------


def test_a_race_keeps_both_versions(app: Flask) -> None:
    """Grace saves first; Ada's save shows Grace's version, keeps Ada's typing, applies again."""
    ada, first = plan(app, "en")
    ada.click("Add to the agenda", item_title="Werkdruk")
    ada.click("Share with Grace")
    grace = Panel(app, GRACE, "en")
    grace.open(first)
    ada.open(first)  # both now look at the same version
    grace.click("Propose this item", item_title="Teamsfeer")
    ada.click("Add to the agenda", item_title="Thuiswerken")
    card = ada.top
    assert ada.notification is not None and "meanwhile" in ada.notification
    assert "Teamsfeer" in texts(card)  # theirs
    assert "Changed meanwhile" in texts(card)
    assert "New agenda item: Thuiswerken" in texts(card)  # mine, listed
    assert current_inputs(card)["item_title"] == "Thuiswerken"  # mine, still typed
    ada.click("Apply mine again")
    shown = texts(ada.top)
    assert "Teamsfeer" in shown and "Thuiswerken" in shown and "Changed meanwhile" not in shown


def test_a_race_on_the_record_keeps_the_typed_summary(app: Flask, clock: ManualClock) -> None:
    """Both write the record at once: the later save keeps its text in the inputs."""
    ada, first = plan(app, "en")
    # Shared, so Grace sees the item and writes about it too.
    ada.click("Share with Grace", item_title="Werkdruk")
    clock.advance(timedelta(days=8))
    grace = Panel(app, GRACE, "en")
    grace.open(first)
    ada.open(first)
    grace.click("Save the record", agreement_text="Grace plant een teamdag")
    summary = next(
        w["textInput"]["name"]
        for w in widgets(ada.top)
        if w.get("textInput", {}).get("name", "").startswith("summary_")
    )
    ada.click("Save the record", **{summary: "Ada's samenvatting"})
    card = ada.top
    assert "Grace plant een teamdag" in texts(card)
    assert current_inputs(card)[summary] == "Ada's samenvatting"
    ada.click("Apply mine again")
    assert current_inputs(ada.top)[summary] == "Ada's samenvatting"
    assert "Grace plant een teamdag" in texts(ada.top)
    # Grace's summary written meanwhile shows above Ada's typing after the next race.
    grace.open(first)
    grace.click("Save the record", **{summary: "Grace's samenvatting"})
    ada.click("Save the record", **{summary: "Ada's tweede versie"})
    card = ada.top
    assert current_inputs(card)[summary] == "Ada's tweede versie"
    assert "Grace's samenvatting" in texts(card) and "Saved meanwhile" in texts(card)


# -- the event copy ------------------------------------------------------------------------------


def test_the_pair_chooses_what_the_event_shows(app: Flask) -> None:
    """The checklist's event-copy choice changes the series."""
    ada, _first = plan(app, "en")
    ada.click("Save this choice", event_copy=["titles"])
    entry = app.extensions["goedgesprek.service"].registry.for_person(ADA)[0]
    assert entry.event_copy == "titles"
    assert current_inputs(ada.top)["event_copy"] == ["titles"]


# -- carried actions, resends and one series per pair --------------------------------------------


def test_a_carried_action_is_marked_done_on_the_next_conversations_card(
    app: Flask, clock: ManualClock
) -> None:
    """An action left open shows on the next conversation's card, owner and date kept; done."""
    ada, first = plan(app, "en")
    service = app.extensions["goedgesprek.service"]
    ctx = service.context(_caller(ADA, "en"), first)
    op = {"op": "record.add_action", "description": "Cursus zoeken", "owner": "employee"}
    service.apply(
        _caller(ADA, "en"),
        ctx["series"]["id"],
        ctx["occurrence"]["key"],
        {"event": first, "ops": [{**op, "due": "2027-01-15"}]},
        None,
    )
    stamp = datetime.fromisoformat(ctx["next_dates"][0]).astimezone(UTC)
    card = ada.open(f"{first.split('_')[0]}_{stamp.strftime('%Y%m%dT%H%M%SZ')}")
    assert card["name"] == "agenda"
    assert "Cursus zoeken" in texts(card)
    assert "Ada, before Fri 15 Jan 2027" in texts(card)
    ada.click("Mark done")
    assert ada.t("Done") in texts(ada.top)
    carried = service.context(_caller(ADA, "en"), ada.event_id)["agenda"]["actions"]
    assert [(a["description"], a["status"]) for a in carried] == [("Cursus zoeken", "done")]


def test_a_press_sent_twice_on_the_same_card_is_applied_once(app: Flask) -> None:
    """Google delivers a press again (or it is pressed again after a lost answer): one item."""
    ada, first = plan(app, "en")
    card = ada.top
    ada.click("Add to the agenda", item_title="Werkdruk")
    ada.stack[-1] = card  # the answer never showed: the same card, the same press
    ada.click("Add to the agenda", item_title="Werkdruk")
    assert ada.top["name"] == "agenda" and "Changed meanwhile" not in texts(ada.top)
    items = app.extensions["goedgesprek.service"].context(_caller(ADA, "en"), first)["agenda"]
    assert [i["title"] for i in items["items"]] == ["Werkdruk"]
    # Another item typed on that same old card is another change: it is not swallowed.
    ada.stack[-1] = card
    ada.click("Add to the agenda", item_title="Thuiswerken")
    assert "Changed meanwhile" in texts(ada.top)


def test_change_ids_name_one_change_on_one_card() -> None:
    """The same person, card version and change give the same id; anything else another."""
    ops = [{"op": "agenda.add_item", "theme": "personal", "title": "Werkdruk"}]
    card = {"series": "s1", "occ": "20261201T100000Z", "etag": "e1", "event": "x"}
    same = flows.change_id(ADA, {**card, "event": "y"}, ops)
    assert flows.change_id(ADA, card, ops) == same
    assert len(same) <= 64 and same.replace("-", "").isalnum()
    others = {
        flows.change_id(GRACE, card, ops),
        flows.change_id(ADA, {**card, "etag": "e2"}, ops),
        flows.change_id(ADA, card, [{**ops[0], "title": "Anders"}]),
    }
    assert same not in others and len(others) == 3


def test_after_planning_the_cards_show_the_series_instead_of_another(app: Flask) -> None:
    """The meeting with Grace and the homepage show the series; planning again is refused."""
    ada, _first = plan(app, "en")
    card = ada.open(kennismaking(app))
    assert card["name"] == "existing"
    assert "You already have a series of conversations with Grace" in texts(card)
    assert "With Grace" in texts(card)
    home = ada.open()
    assert "Your series" in texts(home) and "With Grace" in texts(home)
    ada.click("Show the proposal", partner=GRACE, role=["employee"])
    # Said at the preview already: no proposal to confirm.
    assert ada.notification is not None and "already a series" in ada.notification
    assert "Schedule this series" not in [b["text"] for b in buttons(ada.top)]
    assert series_count(app) == 1
