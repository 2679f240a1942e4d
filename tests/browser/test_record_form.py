"""The record prompt as the pair meets it: the mail in the outbox, its button, the record form in
a new tab; Ada writes and proposes, Grace accepts from her own mail, in Dutch and English."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from test_pane import ADA, GRACE, LANGS, agreed_series, occurrence_end

from addin.background.service import build_sweep

DemoServer = Any

pytestmark = pytest.mark.browser

WORDS = {
    "nl": {
        "button": "Open het verslag",
        "accept_button": "Akkoord of een wijziging voorstellen",
        "record": "Verslag van het gesprek op",
        "saved": "De samenvattingen zijn opgeslagen.",
        "added": "De afspraak is toegevoegd.",
        "proposed": "De concepten zijn ter goedkeuring voorgelegd.",
        "accepted": "Je hebt akkoord gegeven op de afspraak.",
    },
    "en": {
        "button": "Open the record",
        "accept_button": "Accept or suggest a change",
        "record": "Record of the conversation on",
        "saved": "The summaries are saved.",
        "added": "The agreement is added.",
        "proposed": "The drafts are proposed for acceptance.",
        "accepted": "You accepted the agreement.",
    },
}


def _sweep(server: DemoServer) -> None:
    server.app.config["PUBLIC_URL"] = server.url
    services = server.app.extensions["goedgesprek.services"]
    build_sweep(services, server.app.config).run()


def _link(server: DemoServer, who: str) -> str:
    """The record form's link in the newest mail to `who`."""
    mails = [m for m in server.store.outbox() if m.mail.to == (who,)]
    mails.sort(key=lambda m: m.sent_at)
    found = re.search(rf"{re.escape(server.url)}/r/[A-Za-z0-9_.\-]+", mails[-1].mail.text)
    assert found, mails[-1].mail.text
    return found.group(0)


@pytest.mark.parametrize("lang", LANGS)
def test_the_mail_button_opens_the_record_form_and_both_partners_finish_it(
    lang: str,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    words = WORDS[lang]
    occurrence, context = agreed_series(demo_server, lang)
    demo_server.clock.set(occurrence_end(demo_server, occurrence) + timedelta(minutes=11))
    _sweep(demo_server)
    # Ada's outbox shows the prompt as her mail client would; its button opens a new tab.
    outbox = new_page(locale=f"{lang}-NL" if lang == "nl" else "en-GB", width=900)
    outbox.goto(f"{demo_server.url}/demo/outbox?as=ada&lang={lang}")
    mail = outbox.frame_locator("iframe.mail-body").first
    shot(outbox, f"record-mail-{lang}")
    with outbox.expect_popup() as opened:
        mail.get_by_role("link", name=words["button"]).click()
    form = opened.value
    form.wait_for_load_state()
    assert "/r/" not in form.url, "the link's token stays out of the address bar"
    assert words["record"] in form.locator("h1").inner_text()
    axe(form)
    shot(form, f"record-form-ada-{lang}")
    # A summary for the first item, then an agreement, then proposed for acceptance.
    first = form.locator("textarea[name^=summary-]").first
    first.fill("Ada wil meer ontwerpwerk doen" if lang == "nl" else "Ada wants more design work")
    form.get_by_role("button", name=re.compile("samenvattingen|summaries", re.I)).click()
    assert words["saved"] in form.locator(".notice").inner_text()
    agreement = "Ada volgt in Q1 de cursus" if lang == "nl" else "Ada takes the course in Q1"
    form.locator("#agreement").fill(agreement)
    form.locator("button[value=add_agreement]").click()
    assert words["added"] in form.locator(".notice").inner_text()
    form.locator("button[value=propose_all]").click()
    assert words["proposed"] in form.locator(".notice").inner_text()
    assert form.evaluate("window.__xss") is None, "user text ran as script"
    # Grace follows her own mail's link and accepts.
    grace = new_page(locale=f"{lang}-NL" if lang == "nl" else "en-GB", width=600)
    grace.goto(_link(demo_server, GRACE))
    assert agreement in grace.locator("main").inner_text()
    grace.locator("button[value^='accept:']").first.click()
    assert words["accepted"] in grace.locator(".notice").inner_text()
    axe(grace)
    shot(grace, f"record-form-grace-{lang}")
    # The panel reads the same record: accepted by Grace, waiting for Ada.
    conversations = demo_server.app.extensions["goedgesprek.service"]
    from addin.conversations import Caller

    seen = conversations.occurrence_context(
        Caller(ADA, "Ada", lang), context["series"]["id"], context["occurrence"]["key"]
    )
    (kept,) = seen["record"]["agreements"]
    assert kept["text"] == agreement and kept["accepted_by"] == ["manager"]
    # Ada's own link, followed again, still works within its three days.
    again = new_page(locale="nl-NL", width=600)
    again.goto(_link(demo_server, ADA))
    assert again.locator("button[value^='accept:']").count() == 1
