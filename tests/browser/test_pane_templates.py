"""The pair picks the agenda template in the pane's plan form; each theme then shows its hint and
guiding questions. Both languages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_pane import LANGS, open_pane

DemoServer = Any

pytestmark = pytest.mark.browser

WORDS = {
    "nl": {"results": "Resultaten", "question": "Welk resultaat wil je graag even uitlichten?"},
    "en": {"results": "Results", "question": "Which result would you like to highlight?"},
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_talk_card_is_chosen_in_the_plan_form_and_its_questions_show(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    server = demo_server
    ada = open_pane(new_page, server, server.new_meeting(subject=f"Sjabloon {lang}"), "ada", lang)
    assert ada.state() == "not_series"
    choice = ada.key("plan:template:talk_card")
    choice.wait_for()
    assert ada.key("plan:template:three_themes").is_checked()
    choice.check()
    axe(ada.page)
    ada.click("plan:preview-button")
    ada.key("plan:confirm").wait_for()
    ada.click("plan:confirm")
    assert ada.state() == "upcoming", ada.alert()
    page = ada.page
    assert page.locator("h3", has_text=WORDS[lang]["results"]).count() == 1
    questions = page.locator("details.prompts").first
    assert not page.get_by_text(WORDS[lang]["question"]).is_visible()
    questions.locator("summary").click()
    assert page.get_by_text(WORDS[lang]["question"]).is_visible()
    axe(page)
    questions.scroll_into_view_if_needed()
    shot(page, f"pane-talk-card-{lang}")
    series = server.app.extensions["goedgesprek.service"].registry.for_person("ada@example.org")
    assert [s.template for s in series][-1] == "talk_card"
