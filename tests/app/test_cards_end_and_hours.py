"""The Google cards end a series (asked once) and set one's working hours, as the pane does.

Every answer is held against Google's card schema by the `Panel` (see test_workspace_endpoints).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html
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
    widgets,
)
from werkzeug.datastructures import MultiDict

from addin.conversations import Caller
from addin.demo import ADA as DEMO_ADA
from addin.demo import FIRST_MEETING, create_demo_app
from addin.demo import seed as demo_seed
from addin.demo.clock import DemoClock
from addin.i18n import gettext
from addin.workspace import cards, flows
from addin.workspace.flows import Form, Ui
from addin.workspace.schema import validate_card
from connectors.memory import MemoryStore
from connectors.testing import ManualClock

ONLY_PARTNERS = "Only the employee and the manager of this series can see it."
HOURS_REFUSED = {
    "days": "Name at least one working day, as MO, TU, WE, TH, FR, SA or SU.",
    "time": "Give the start and the end of the working day as times such as 09:00 and 17:00.",
    "order": "The working day must end after it starts: give an end later than the start.",
    "tz": "Choose a time zone such as Europe/Amsterdam for your working hours.",
}


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock, moved by the tests."""
    return ManualClock(NOW)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Flask:
    """The app on the seeded local store."""
    return seeded_app(tmp_path, clock)


# -- helpers -------------------------------------------------------------------------------------


def labels(card: dict[str, Any]) -> list[str]:
    """The labels of every button on a card."""
    return [b["text"] for b in buttons(card)]


def params_of(card: dict[str, Any], label: str) -> dict[str, str]:
    """The action parameters of the button labelled `label`."""
    for button in buttons(card):
        if button["text"] == label:
            action = button["onClick"]["action"]
            return {p["key"]: p["value"] for p in action.get("parameters", [])}
    raise AssertionError(f"no button {label!r} in {labels(card)}")


def series_events(app: Flask, email: str) -> list[Any]:
    """The conversations of the series in `email`'s calendar, from now on for a year."""
    calendar = app.extensions["goedgesprek.store"].calendar(email)
    return [e for e in calendar.events(NOW, NOW + timedelta(days=400)) if e.series_id]


def press_as(
    panel: Panel, action: str, parameters: dict[str, str], *, shown: bool = True
) -> dict[str, Any]:
    """POST a button's action as Google would for `panel`'s person (a forged or stale press).

    `shown`: the answer changes the panel's stack (a resent press's answer is not shown).
    """
    url = f"{BASE}/workspace/action/{action}"
    answer = panel.post(url, panel.event_object(url, parameters=parameters))
    if shown:
        panel.apply(answer["renderActions"])
    return answer


def selected(card: dict[str, Any], name: str) -> list[str]:
    """The values the selection input `name` shows chosen."""
    for widget in widgets(card):
        body = widget.get("selectionInput")
        if body and body["name"] == name:
            return [i["value"] for i in body["items"] if i.get("selected")]
    raise AssertionError(f"no selection input {name!r}")


def options(card: dict[str, Any], name: str) -> list[str]:
    """The values the selection input `name` offers."""
    for widget in widgets(card):
        body = widget.get("selectionInput")
        if body and body["name"] == name:
            return [i["value"] for i in body["items"]]
    raise AssertionError(f"no selection input {name!r}")


def hours_of(app: Flask, email: str) -> dict[str, Any]:
    """The working-hours use case's answer for `email`."""
    service = app.extensions["goedgesprek.service"]
    answer: dict[str, Any] = service.working_hours(Caller(email=email, name="", locale="en"))
    return answer


def ui(lang: str = "en") -> Ui:
    """A card context in `lang`, in Amsterdam, with actions under an example origin."""
    return Ui(lang, ZoneInfo("Europe/Amsterdam"), lambda name: f"https://x.example/a/{name}")


# -- ending the series ---------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "lang"), [(ADA, "en"), (GRACE, "nl"), (GRACE, "en")])
def test_either_partner_ends_the_series_after_being_asked_once(
    app: Flask, who: str, lang: str
) -> None:
    """Employee or manager: End this series asks what it does; End the series ends it for both."""
    _ada, first = plan(app, lang)
    panel = Panel(app, who, lang)
    card = panel.open(first)
    assert card["name"] == "agenda"
    series_id = params_of(card, panel.t("End this series"))["series"]
    panel.click(panel.t("End this series"))
    ask = panel.top
    assert ask["name"] == "end" and len(panel.stack) == 2
    said = texts(ask)
    assert panel.t("End this series?") in said
    assert (
        panel.t(
            "Ending the series cancels the conversations not yet held, for both of you. The "
            "records of the conversations held stay with %(employee)s, in their own drive. You "
            "can plan a new series later.",
            employee="Ada",
        )
        in said
    )
    assert labels(ask) == [panel.t("End the series"), panel.t("Cancel")]
    assert series_events(app, ADA) and series_events(app, GRACE)

    panel.click(panel.t("End the series"))
    assert panel.notification == panel.t("The series has ended.")
    assert len(panel.stack) == 1 and panel.top["name"] == "ended"
    assert panel.t("The series has ended") in texts(panel.top)
    partner = "Grace" if who == ADA else "Ada"
    assert panel.t("With %(name)s", name=partner) in texts(panel.top)
    service = app.extensions["goedgesprek.service"]
    assert not service.registry.is_active(series_id)
    # The first conversation was still ahead: the whole series left both calendars.
    assert series_events(app, ADA) == [] and series_events(app, GRACE) == []


def test_cancel_goes_back_and_ends_nothing(app: Flask) -> None:
    """Cancel on the question pops it; the series and its conversations stay."""
    ada, first = plan(app, "en")
    ada.open(first)
    series_id = params_of(ada.top, "End this series")["series"]
    ada.click("End this series")
    ada.click("Cancel")
    assert len(ada.stack) == 1 and ada.top["name"] == "agenda"
    assert app.extensions["goedgesprek.service"].registry.is_active(series_id)
    assert len(series_events(app, GRACE)) >= 2


def test_a_third_user_never_sees_end_and_a_forged_end_is_refused(app: Flask) -> None:
    """Eve gets no End button; her forged ask and end are refused and nothing ends.

    Attacks: Eve opens the conversation's event; Eve posts the end action with the pair's
    series id; Eve posts the ask action with the series and event ids.
    """
    ada, first = plan(app, "en")
    series_id = params_of(ada.top, "End this series")["series"]
    before = [e.id for e in series_events(app, GRACE)]
    eve = Panel(app, EVE, "en")
    assert "End this series" not in labels(eve.open(first))
    forbidden = gettext("en", "api", ONLY_PARTNERS)
    answer = press_as(eve, "end", {"series": series_id, "event": first})
    assert answer["renderActions"]["action"] == {"notification": {"text": forbidden}}
    press_as(eve, "end_ask", {"series": series_id, "event": first})
    assert eve.notification and len(eve.stack) == 1
    assert app.extensions["goedgesprek.service"].registry.is_active(series_id)
    assert [e.id for e in series_events(app, GRACE)] == before


def test_ending_twice_answers_the_same(app: Flask, clock: ManualClock) -> None:
    """A resent press and the partner's stale question both say the series has ended, once."""
    ada, first = plan(app, "en")
    # The first conversation is held; the next ones are still ahead.
    clock.advance(timedelta(days=8))
    later = [e for e in series_events(app, ADA) if e.start > clock()]
    assert later
    grace = Panel(app, GRACE, "en")
    grace.open(later[0].id)
    grace.click("End this series")
    ada.open(later[0].id)
    ada.click("End this series")
    end = params_of(ada.top, "End the series")
    ada.click("End the series")
    events_after_first = [(e.id, e.start) for e in series_events(app, ADA)]
    again = press_as(ada, "end", end, shown=False)
    assert again["renderActions"]["action"]["notification"]["text"] == "The series has ended."
    grace.click("End the series")
    assert grace.notification == "The series has ended." and grace.top["name"] == "ended"
    assert [(e.id, e.start) for e in series_events(app, ADA)] == events_after_first
    # The conversation held stays, with its record; the later ones are cancelled.
    assert [e.id for e in series_events(app, ADA)] == [first]
    assert ada.open(first)["name"] in ("record", "final")
    # A stale ask on the held conversation: ended already, no question.
    press_as(ada, "end_ask", {"series": end["series"], "event": first})
    assert ada.notification == "This series has ended already."
    assert ada.top["name"] != "end" and "End this series" not in labels(ada.top)


# -- my working hours ----------------------------------------------------------------------------


def test_the_hours_card_shows_the_source_and_saves_through_the_use_case(app: Flask) -> None:
    """From the homepage: default hours at first; saved part-time hours are the person's own."""
    ada = Panel(app, ADA, "en")
    ada.open()
    ada.click("My working hours")
    card = ada.top
    assert card["name"] == "hours" and len(ada.stack) == 2
    assert "No working hours are known for you yet" in texts(card)
    assert selected(card, "hours_days") == ["MO", "TU", "WE", "TH", "FR"]
    assert options(card, "hours_days") == ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    assert selected(card, "hours_start") == ["09:00"] and selected(card, "hours_end") == ["17:00"]
    assert selected(card, "hours_tz") == ["Europe/Amsterdam"]
    assert "America/Paramaribo" in options(card, "hours_tz")

    ada.click(
        "Save my working hours",
        hours_days=["MO", "TU", "TH"],
        hours_start="08:30",
        hours_end="13:00",
        hours_tz="Europe/Brussels",
    )
    assert ada.notification == "Your working hours are saved."
    assert "These are the working hours you set." in texts(ada.top)
    assert selected(ada.top, "hours_days") == ["MO", "TU", "TH"]
    assert selected(ada.top, "hours_tz") == ["Europe/Brussels"]
    assert hours_of(app, ADA) == {
        "working_hours": {
            "days": ["MO", "TU", "TH"],
            "start": "08:30",
            "end": "13:00",
            "tz": "Europe/Brussels",
        },
        "source": "own",
    }
    # Only the caller's own hours changed.
    assert hours_of(app, GRACE)["source"] == "default"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ({"hours_days": []}, "days"),
        ({"hours_days": ["MO", "XX"]}, "days"),
        ({"hours_start": "17:00", "hours_end": "09:00"}, "order"),
        ({"hours_start": "12:00", "hours_end": "12:00"}, "order"),
        ({"hours_start": "25:00"}, "time"),
        ({"hours_end": "noon"}, "time"),
        ({"hours_tz": "Mars/Olympus_Mons"}, "tz"),
        ({"hours_tz": "../../etc/passwd"}, "tz"),
    ],
)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_invalid_hours_are_refused_with_the_sentence_and_nothing_saved(
    app: Flask, typed: dict[str, Any], code: str, lang: str
) -> None:
    """Bad or forged hours: the card says why, keeps what was chosen, and nothing is saved."""
    ada = Panel(app, ADA, lang)
    ada.open(kennismaking(app))
    ada.click(ada.t("My working hours"))
    ada.click(ada.t("Save my working hours"), **typed)
    sentence = gettext(lang, "api", HOURS_REFUSED[code])
    assert ada.notification == sentence
    assert ada.top["name"] == "hours" and len(ada.stack) == 2
    assert cards.escape(sentence) in texts(ada.top)
    if code == "order":
        assert selected(ada.top, "hours_start") == [typed["hours_start"]]
    if code == "days" and not typed["hours_days"]:
        assert selected(ada.top, "hours_days") == []
    if code == "tz":
        # A forged zone is never offered back as a choice.
        assert typed["hours_tz"] not in options(ada.top, "hours_tz")
    assert app.extensions["goedgesprek.service"].people.hours(ADA) is None
    assert hours_of(app, ADA)["source"] == "default"


def test_refused_hours_leave_saved_hours_as_they_were(app: Flask) -> None:
    """A refused change after a saved one keeps the saved hours and says they are the own ones."""
    ada = Panel(app, ADA, "en")
    ada.open()
    ada.click("My working hours")
    ada.click("Save my working hours", hours_days=["WE", "TH"])
    saved = hours_of(app, ADA)
    ada.click("Save my working hours", hours_start="18:00", hours_end="08:00")
    assert ada.notification == HOURS_REFUSED["order"]
    assert "These are the working hours you set." in texts(ada.top)
    assert hours_of(app, ADA) == saved


def test_saved_hours_are_used_by_the_planner_preview(app: Flask) -> None:
    """After Ada says she works Wednesday and Thursday, the proposal's dates fall on those days."""

    def proposal_days(panel: Panel) -> list[str]:
        panel.click("Show the proposal")
        preview = panel.top
        assert preview["name"] == "preview"
        section = next(
            s for s in preview["sections"] if s.get("header") == "The first conversations"
        )
        days = [w["decoratedText"]["text"].split()[0] for w in section["widgets"]]
        panel.apply({"action": {"navigations": [{"pop": True}]}})
        return days

    ada = Panel(app, ADA, "en")
    ada.open(kennismaking(app))
    # The plan form asks for Tuesday, Wednesday or Thursday; a full week has Tuesday first.
    before = proposal_days(ada)
    assert "Tuesday" in before, before
    ada.click("My working hours")
    ada.click("Save my working hours", hours_days=["WE", "TH"])
    ada.apply({"action": {"navigations": [{"pop": True}]}})
    assert ada.top["name"] == "plan"
    after = proposal_days(ada)
    assert after and set(after) <= {"Wednesday", "Thursday"}, after


# -- the cards themselves ------------------------------------------------------------------------


def test_the_hours_card_keeps_an_off_grid_time_and_an_unlisted_zone() -> None:
    """Directory hours at 08:45 in São Paulo are shown as they are, and the card validates."""
    answer = {
        "working_hours": {
            "days": ["MO", "SA"],
            "start": "08:45",
            "end": "16:15",
            "tz": "America/Sao_Paulo",
        },
        "source": "directory",
    }
    card = flows.hours_card(ui(), answer)
    validate_card(card)
    assert selected(card, "hours_start") == ["08:45"]
    assert selected(card, "hours_end") == ["16:15"]
    assert options(card, "hours_start")[:3] == ["00:00", "00:30", "01:00"]
    assert len(options(card, "hours_start")) == 49
    assert options(card, "hours_tz")[:2] == ["America/Sao_Paulo", "Europe/Amsterdam"]
    assert selected(card, "hours_days") == ["MO", "SA"]
    assert "These working hours come from your organisation's directory." in texts(card)
    nl = flows.hours_card(ui("nl"), answer)
    assert "adreslijst" in texts(nl) and "zaterdag" in str(nl)


def test_the_hours_form_becomes_the_use_cases_body() -> None:
    """The chosen boxes and dropdowns, passed on as chosen (the use case judges them)."""
    form = Form(
        {
            "hours_days": ("TU", "FR"),
            "hours_start": ("10:00",),
            "hours_end": ("15:30",),
            "hours_tz": ("Europe/London",),
        }
    )
    assert flows.hours_body(form) == {
        "days": ["TU", "FR"],
        "start": "10:00",
        "end": "15:30",
        "tz": "Europe/London",
    }
    assert flows.hours_body(Form()) == {"days": [], "start": "", "end": "", "tz": ""}


def test_button_styles_follow_googles_button_type() -> None:
    """A styled button carries Google's ``type``; an unknown style is refused."""
    act = cards.action("https://x.example/a/end")
    assert cards.button("End", act, style="FILLED") == {
        "text": "End",
        "onClick": {"action": act},
        "type": "FILLED",
    }
    validate_card(
        cards.card(
            "x",
            [
                cards.section(
                    None, [cards.button_list([cards.button("End", act, style="BORDERLESS")])]
                )
            ],
        )
    )
    with pytest.raises(ValueError, match="style must be one of"):
        cards.button("End", act, style="LOUD")  # type: ignore[arg-type]


# -- the demo's card preview ---------------------------------------------------------------------


def _preview_press(
    client: FlaskClient, doc: lxml_html.HtmlElement, label: str, **changes: Any
) -> lxml_html.HtmlElement:
    """Press the button `label` in the preview, with fields changed as a person would."""
    form = doc.xpath("//form[@class='c-card']")[0]
    fields = MultiDict(form.form_values())
    for name, value in changes.items():
        fields.setlist(name, value if isinstance(value, list) else [value])
    button = form.xpath(f".//button[normalize-space()='{label}']")
    assert button, f"no button {label!r}"
    fields.add(button[0].get("name"), button[0].get("value"))
    response = client.post(form.get("action"), data=fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.get_data(as_text=True))
    assert not doc.xpath("//*[@role='alert']"), doc.xpath("string(//*[@role='alert'])")
    return doc


def test_the_card_preview_shows_and_saves_hours_and_ends_a_series(tmp_path: Path) -> None:
    """In the demo's preview of the real cards: the hours card's boxes and dropdowns save, and
    the End question ends the series."""
    store = MemoryStore(clock=lambda: NOW)
    demo_seed(store, NOW)
    app = create_demo_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path)},
        store=store,
        clock=DemoClock(tmp_path, base=lambda: NOW),
    )
    client = app.test_client()
    meeting = next(
        e
        for e in store.calendar(DEMO_ADA.email).events(NOW - timedelta(days=1), NOW + timedelta(7))
        if e.subject == FIRST_MEETING
    )
    page = client.get(f"/demo/cards?as=ada&event={meeting.id}&lang=en")
    doc = lxml_html.fromstring(page.get_data(as_text=True))
    doc = _preview_press(client, doc, "My working hours")
    boxes = doc.xpath("//form[@class='c-card']//input[@type='checkbox']")
    assert [b.get("value") for b in boxes] == ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    assert doc.xpath("//form[@class='c-card']//select/option[@selected]/@value") == [
        "09:00",
        "17:00",
        "Europe/Amsterdam",
    ]
    day_field = boxes[0].get("name")
    start_field = doc.xpath("//select")[0].get("name")
    doc = _preview_press(
        client, doc, "Save my working hours", **{day_field: ["TU", "WE"], start_field: "10:00"}
    )
    assert "These are the working hours you set." in doc.text_content()
    assert hours_of(app, DEMO_ADA.email)["working_hours"]["days"] == ["TU", "WE"]
    assert hours_of(app, DEMO_ADA.email)["working_hours"]["start"] == "10:00"

    # Opened afresh (a new stack), the event's plan card.
    page = client.get(f"/demo/cards?as=ada&event={meeting.id}&lang=en&reset=1")
    doc = lxml_html.fromstring(page.get_data(as_text=True))
    doc = _preview_press(client, doc, "Show the proposal")
    doc = _preview_press(client, doc, "Schedule this series")
    doc = _preview_press(client, doc, "End this series")
    assert "End this series?" in doc.text_content()
    doc = _preview_press(client, doc, "End the series")
    assert "The series has ended" in doc.text_content()
    assert not [
        e
        for e in store.calendar(DEMO_ADA.email).events(NOW, NOW + timedelta(days=400))
        if e.series_id
    ]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_reminders_card_turns_kinds_off_and_picks_quiet_days(app: Flask, lang: str) -> None:
    """From the series: every kind ticked at first; the saved choice is the person's alone, and
    a forged day is refused with the sentence, nothing saved."""
    _ada, first = plan(app, lang)
    grace = Panel(app, GRACE, lang)
    grace.open(first)
    grace.click(grace.t("Reminders by mail"))
    card = grace.top
    assert card["name"] == "reminders" and len(grace.stack) == 2
    assert selected(card, "reminders_on") == ["prepare", "agenda", "record", "accept", "cadence"]
    assert selected(card, "reminders_quiet") == []
    on = ["record", "accept", "cadence"]
    grace.click(grace.t("Save my reminders"), reminders_on=on, reminders_quiet=["WE"])
    assert grace.notification == grace.t("Your reminders are saved.")
    assert selected(grace.top, "reminders_on") == on
    assert selected(grace.top, "reminders_quiet") == ["WE"]
    service = app.extensions["goedgesprek.service"]
    caller = Caller(email=GRACE, name="", locale=lang)
    assert service.reminders(caller)["off"] == ["prepare", "agenda"]
    assert service.reminders(Caller(email=ADA, name="", locale=lang))["off"] == []
    grace.click(grace.t("Save my reminders"), reminders_on=on, reminders_quiet=["XX"])
    refused = gettext(
        lang,
        "api",
        "Name the quiet days as MO, TU, WE, TH, FR, SA or SU, in a list, and leave at least "
        "one day for the reminders.",
    )
    assert grace.notification == refused
    assert service.reminders(caller)["quiet_days"] == ["WE"]
