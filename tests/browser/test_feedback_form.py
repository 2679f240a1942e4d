"""A colleague asked for feedback, as they meet it: the link in the mail from the employee's
mailbox opens the questions in Chromium without an account; they answer one, leave one open and
see thanks; the answer is in the employee's journal and nowhere on the page again. Dutch and
English."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from test_pane import ADA, LANGS, XSS, Api

DemoServer = Any

pytestmark = pytest.mark.browser

EVE = "eve@example.org"
WORDS = {
    "nl": {
        "asks": "Ada vraagt je om feedback",
        "sealed": "Je antwoord gaat versleuteld naar Ada alleen.",
        "open": "Je mag een vraag openlaten.",
        "send": "Verstuur mijn antwoord",
        "thanks": "Dank je wel voor je feedback",
        "answer": "Ada houdt het overzicht als het druk wordt.",
    },
    "en": {
        "asks": "Ada asks for your feedback",
        "sealed": "Your answer goes sealed to Ada alone.",
        "open": "You may leave a question open.",
        "send": "Send my answer",
        "thanks": "Thank you for your feedback",
        "answer": "Ada keeps the overview when it gets busy.",
    },
}


def _asked(server: DemoServer, lang: str) -> tuple[str, str]:
    """Ada plans a series and asks Eve two questions; the series id and the mail's link path."""
    ada = Api(server, ADA, lang)
    context = ada.plan(server.new_meeting())
    series, occ = context["series"]["id"], context["occurrence"]["key"]
    etag = context["journal"]["etag"]
    ask = {
        "op": "feedback.ask",
        "email": EVE,
        "name": "Eve",
        "questions": ["colleague_strength", "colleague_next"],
    }
    response = ada.client.post(
        f"/api/series/{series}/occurrences/{occ}/journal",
        query_string={"lang": lang},
        json={"event": context["event"]["id"], "ops": [ask], "change_id": "ask-eve-0001"},
        headers={**ada.headers, **({"If-Match": etag} if etag else {})},
    )
    assert response.status_code == 200, response.get_json()
    (mail,) = [m for m in server.store.outbox() if m.mail.to == (EVE,)]
    assert mail.mail.sender == ADA
    found = re.search(r"/f/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", mail.mail.text)
    assert found, mail.mail.text
    return str(series), found.group(0)


@pytest.mark.parametrize("lang", LANGS)
def test_a_colleague_opens_the_mail_link_answers_and_sees_thanks(
    lang: str,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    """Eve follows the link, answers one question of two, sees thanks; Ada's journal has it."""
    words = WORDS[lang]
    series, link = _asked(demo_server, lang)
    page = new_page(locale="nl-NL" if lang == "nl" else "en-GB", width=800)
    page.goto(f"{demo_server.url}{link}")
    assert "/f/" not in page.url, "the link's token stays out of the address bar"
    assert page.url.startswith(f"{demo_server.url}/feedback/{series}/")
    assert page.locator("h1").inner_text() == words["asks"]
    main = page.locator("main").inner_text()
    assert words["sealed"] in main and words["open"] in main and "Grace" not in main
    assert page.locator("script").count() == 0
    axe(page)
    shot(page, f"feedback-form-{lang}")
    # One answer (with markup that must stay text), one question left open.
    page.locator("#answer-0").fill(f"{words['answer']} {XSS}")
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == words["thanks"]
    assert page.locator("textarea").count() == 0
    assert words["answer"] not in page.locator("main").inner_text()
    assert page.evaluate("window.__xss") is None, "the answer ran as script"
    axe(page)
    shot(page, f"feedback-thanks-{lang}")
    # Back to the form: it is asked anew (no-store) and shows thanks, not the answer.
    page.go_back()
    assert page.locator("h1").inner_text() == words["thanks"]
    assert page.locator("textarea").count() == 0
    # The answer is in Ada's journal, as typed.
    conversations = demo_server.app.extensions["goedgesprek.service"]
    entry = conversations.registry.get(series)
    (asked,) = conversations.journals.read(entry).journal.feedback
    assert asked.state.value == "answered"
    assert asked.answers == (f"{words['answer']} {XSS}", "")
