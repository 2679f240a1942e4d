"""What the API says to one reader: theme titles in their language, times in their zone, no
weekday refused with a sentence, and an export that names who took part and who accepted when."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_api import ADA, GRACE, PREFS, Api, seeded_api

ENGLISH_THEMES = ["Personal", "Current role", "Growth and development"]
DUTCH_THEMES = ["Persoonlijk", "Huidige functie", "Groei en ontwikkeling"]
NO_WEEKDAY = {
    "nl": "Kies minstens één dag van de week voor de gesprekken.",
    "en": "Choose at least one weekday for the conversations.",
}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    """The API on a seeded local store, at NOW."""
    return seeded_api(tmp_path)


def preview(api: Api, lang: str = "en", **extra: Any) -> Any:
    """POST a preview as Ada (the employee) with Grace."""
    body = {"partner": GRACE, "role": "employee", "preferences": PREFS, **extra}
    return api.call("POST", "/api/series/preview", body=body, lang=lang)


def context(api: Api, who: str, event: str, lang: str) -> dict[str, Any]:
    """The context of `event` for `who` in `lang`."""
    response = api.call("GET", f"/api/context?event={event}", who, lang=lang)
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


# -- weekdays -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("days", [[], None])
def test_no_weekday_is_refused_with_a_sentence_not_planned_on_tuesdays(
    api: Api, lang: str, days: list[str] | None
) -> None:
    """Preview and create answer 400 asking for a weekday; nothing is made."""
    prefs = {**PREFS, "weekdays": days}
    body = {"partner": GRACE, "role": "employee", "preferences": prefs}
    refused = api.call("POST", "/api/series/preview", body=body, lang=lang)
    assert refused.status_code == 400
    assert refused.get_json()["message"] == NO_WEEKDAY[lang]
    create = api.call("POST", "/api/series", body={**body, "request_id": "req-noday-1"}, lang=lang)
    assert create.status_code == 400
    assert create.get_json()["message"] == NO_WEEKDAY[lang]
    assert api.app.extensions["goedgesprek.service"].registry.for_person(ADA) == []


# -- zones ----------------------------------------------------------------------------------------


def test_the_preview_sentence_gives_a_reader_elsewhere_their_own_time(api: Api) -> None:
    """From New York the sentence names both zones and the reader's clock time."""
    here = preview(api).get_json()
    there = preview(api, viewer_tz="America/New_York").get_json()
    assert "America/New_York" not in here["sentence"]
    assert "(Europe/Amsterdam; " in there["sentence"]
    first = datetime.fromisoformat(there["occurrences"][0])
    new_york = first.astimezone(ZoneInfo("America/New_York"))
    assert f"{new_york:%H:%M} for you in America/New_York" in there["sentence"]
    dutch = preview(api, "nl", viewer_tz="America/New_York").get_json()
    assert f"voor jou {new_york:%H:%M} in America/New_York" in dutch["sentence"]
    assert there["tz"] == "Europe/Amsterdam"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", 5, "x" * 100])
def test_a_reader_zone_that_is_not_one_is_refused(api: Api, zone: object) -> None:
    """A bad `viewer_tz` is a 400 with a sentence, never a 500."""
    refused = preview(api, viewer_tz=zone)
    assert refused.status_code == 400
    assert "Europe/Amsterdam" in refused.get_json()["message"]


# -- theme titles ---------------------------------------------------------------------------------


def test_theme_titles_follow_the_reader_in_context_export_and_event_copy(api: Api) -> None:
    """An agenda made in Dutch reads in English for an English reader, and Dutch for a Dutch one."""
    ctx = api.plan()["context"]
    event = ctx["event"]["id"]
    english = context(api, GRACE, event, "en")
    assert [t["title"] for t in english["agenda"]["themes"]] == ENGLISH_THEMES
    dutch = context(api, GRACE, event, "nl")
    assert [t["title"] for t in dutch["agenda"]["themes"]] == DUTCH_THEMES
    ctx = api.ops(ADA, dutch, {"op": "agenda.add_item", "theme": "role", "title": "X"}).get_json()
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    base = f"/api/series/{series}/occurrences/{occ}"
    md = api.call("GET", f"{base}/export?format=md", lang="en").get_data(as_text=True)
    assert "## Current role" in md and "Huidige functie" not in md
    html = api.call("GET", f"{base}/export?format=html", lang="nl").get_data(as_text=True)
    assert "<h3>Huidige functie</h3>" in html
    copy = api.call("GET", f"{base}/event-copy", GRACE, lang="en").get_json()
    assert "Current role" in copy["html"] and "Huidige functie" not in copy["html"]


# -- the export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_export_names_the_pair_the_zone_and_who_accepted_or_declined_when(
    api: Api, lang: str
) -> None:
    """Employee, manager, the pair's zone, both acceptances and a decline with its reason."""
    ctx = api.plan()["context"]
    ctx = api.ops(
        ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "Energie"}
    ).get_json()
    api.clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(minutes=1))
    ctx = context(api, ADA, ctx["event"]["id"], lang)
    ctx = api.ops(
        ADA,
        ctx,
        {"op": "record.add_agreement", "text": "Minder reizen"},
        {"op": "record.add_agreement", "text": "Cursus"},
        {"op": "record.propose", "agreement": "ag1"},
        {"op": "record.propose", "agreement": "ag2"},
        {"op": "record.accept", "agreement": "ag1"},
    ).get_json()
    grace = context(api, GRACE, ctx["event"]["id"], lang)
    api.ops(
        GRACE,
        grace,
        {"op": "record.accept", "agreement": "ag1"},
        {"op": "record.decline", "agreement": "ag2", "reason": "Eerst budget"},
    )
    series, occ = ctx["series"]["id"], ctx["occurrence"]["key"]
    base = f"/api/series/{series}/occurrences/{occ}/export"
    md = api.call("GET", f"{base}?format=md", lang=lang).get_data(as_text=True)
    html = api.call("GET", f"{base}?format=html", lang=lang).get_data(as_text=True)
    words = {
        "nl": ("Medewerker: Ada", "Leidinggevende: Grace", "tijdzone Europe/Amsterdam",
               "akkoord van Ada (medewerker) op ", "akkoord van Grace (leidinggevende) op ",
               "afgewezen door Grace (leidinggevende) op ", "reden: Eerst budget"),
        "en": ("Employee: Ada", "Manager: Grace", "time zone Europe/Amsterdam",
               "accepted by Ada (employee) on ", "accepted by Grace (manager) on ",
               "declined by Grace (manager) on ", "reason: Eerst budget"),
    }[lang]  # fmt: skip
    for text in words:
        assert text in md, text
        assert text in html, text
