"""The agenda template chosen where people plan (the pane's API and the cards), each theme's hint
and guiding questions beside it in the reader's language, and the organisation's default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_api import ADA, GRACE, NOW, PREFS, Api, seeded_api
from test_workspace_endpoints import Panel, kennismaking, seeded_app, series_event, texts

from addin.app import create_app
from connectors.local import LocalStore
from connectors.testing import ManualClock


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return seeded_api(tmp_path)


def _plan(api: Api, **extra: Any) -> Any:
    event = api.kennismaking()
    body = {
        "event": event,
        "partner": GRACE,
        "role": "employee",
        "preferences": PREFS,
        "request_id": "req-template-1",
        **extra,
    }
    return api.call("POST", "/api/series", body=body)


@pytest.mark.parametrize(("lang", "talk_card"), [("nl", "Praatkaart"), ("en", "Talk card")])
def test_the_plan_context_offers_every_template_in_the_readers_language(
    api: Api, lang: str, talk_card: str
) -> None:
    event = api.kennismaking()
    context = api.call("GET", f"/api/context?event={event}", lang=lang).get_json()
    offered = context["templates"]
    assert offered["default"] == "three_themes"
    choices = {c["key"]: c for c in offered["choices"]}
    assert set(choices) == {"three_themes", "talk_card", "energy"}
    assert choices["talk_card"]["title"] == talk_card
    assert len(choices["talk_card"]["themes"]) == 4
    assert all(c["description"] for c in choices.values())


@pytest.mark.parametrize(
    ("lang", "results", "question"),
    [
        ("nl", "Resultaten", "Welk resultaat wil je graag even uitlichten?"),
        ("en", "Results", "Which result would you like to highlight?"),
    ],
)
def test_a_series_planned_with_the_talk_card_shows_its_themes_hints_and_questions(
    api: Api, lang: str, results: str, question: str
) -> None:
    planned = _plan(api, template="talk_card")
    assert planned.status_code == 201, planned.get_json()
    event = planned.get_json()["context"]["event"]["id"]
    for who in (ADA, GRACE):
        agenda = api.call("GET", f"/api/context?event={event}", who, lang=lang).get_json()["agenda"]
        themes = {t["key"]: t for t in agenda["themes"]}
        assert themes["results"]["title"] == results
        assert themes["results"]["hint"]
        assert question in themes["results"]["prompts"]
        # The follow-up theme has no template text of its own to show.
        assert all(isinstance(t["prompts"], list) for t in agenda["themes"])


def test_an_unknown_template_is_refused_naming_the_ones_there_are(api: Api) -> None:
    refused = _plan(api, template="yearly_appraisal")
    assert refused.status_code == 400
    message = refused.get_json()["message"]
    assert "talk_card" in message and "energy" in message
    assert api.app.extensions["goedgesprek.service"].registry.for_person(ADA) == []


def test_the_organisations_default_template_is_planned_when_none_is_chosen(
    tmp_path: Path,
) -> None:
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    config = {"TESTING": True, "DATA_DIR": str(tmp_path), "DEFAULT_TEMPLATE": "energy"}
    app = create_app(config, store=store, clock=clock)
    from addin.demo import seed

    seed(store, NOW)
    api = Api(app, clock)
    event = api.kennismaking()
    context = api.call("GET", f"/api/context?event={event}").get_json()
    assert context["templates"]["default"] == "energy"
    planned = _plan(api)
    assert planned.status_code == 201, planned.get_json()
    assert planned.get_json()["series"]["template"] == "energy"
    with pytest.raises(ValueError, match="DEFAULT_TEMPLATE: 'nope' is none of"):
        create_app({**config, "DEFAULT_TEMPLATE": "nope"}, store=store, clock=clock)


def test_a_team_has_its_own_default_the_pair_may_still_change(tmp_path: Path) -> None:
    """TEAM_TEMPLATES names Grace's team's default: both partners' plan forms show it, a plan
    without a choice gets it, a choice wins; a bad entry stops the start with a sentence."""
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    config = {
        "TESTING": True,
        "DATA_DIR": str(tmp_path),
        "TEAM_TEMPLATES": f"{GRACE.upper()}=talk_card, bo@example.org=energy",
    }
    app = create_app(config, store=store, clock=clock)
    from addin.demo import seed

    seed(store, NOW)
    api = Api(app, clock)
    event = api.kennismaking()
    for who in (ADA, GRACE):
        context = api.call("GET", f"/api/context?event={event}", who).get_json()
        assert context["templates"]["default"] == "talk_card", who
    planned = _plan(api)
    assert planned.get_json()["series"]["template"] == "talk_card"
    service = app.extensions["goedgesprek.service"]
    assert service.template_for("someone@example.org") == "three_themes"
    for bad, words in (("grace@example.org=appraisal", "appraisal"), ("talk_card", "is not")):
        with pytest.raises(ValueError, match=words):
            create_app({**config, "TEAM_TEMPLATES": bad}, store=store, clock=clock)


# -- the cards -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_cards_plan_with_the_chosen_template_and_show_its_questions(
    tmp_path: Path, lang: str
) -> None:
    app = seeded_app(tmp_path, ManualClock(NOW))
    ada = Panel(app, ADA, lang)
    ada.open(kennismaking(app))
    assert ada.top["name"] == "plan"
    # Each template is named with its themes.
    assert ("Praatkaart: Resultaten" if lang == "nl" else "Talk card: Results") in texts(ada.top)
    ada.click(ada.t("Show the proposal"), place="Koffiebar", template="talk_card")
    ada.click(ada.t("Schedule this series"))
    ada.open(series_event(ada.top))
    shown = texts(ada.top)
    question = {
        "nl": "Welk resultaat wil je graag even uitlichten?",
        "en": "Which result would you like to highlight?",
    }[lang]
    assert question in shown, shown
    assert ada.t("Questions to think about") in shown
    series = app.extensions["goedgesprek.service"].registry.for_person(ADA)
    assert [s.template for s in series] == ["talk_card"]
