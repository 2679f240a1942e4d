"""The demo's outbox: moving the clock past a conversation sends the prompt for the record,
and the outbox page shows each person's mails as a mail client would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html

from addin.background.queue import background_for
from addin.demo import create_demo_app, seed
from addin.demo.clock import DemoClock
from connectors.local import LocalStore

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PREFS = {"weekdays": ["TU", "WE", "TH"], "earliest": "09:30", "latest": "12:00", "duration": 60}


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    clock = DemoClock(tmp_path, base=lambda: NOW)
    store = LocalStore(tmp_path, clock=clock)
    seed(store, NOW)
    app = create_demo_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)
    background_for(app)  # as `goedgesprek demo` does (its consumer is not needed here)
    return app


def _csrf(client: FlaskClient) -> str:
    page = lxml_html.fromstring(client.get("/?lang=en").get_data(as_text=True))
    return str(
        page.xpath("//form[contains(@class,'clock-buttons')]//input[@name='csrf']/@value")[0]
    )


def _plan(app: Flask) -> str:
    """Ada plans the series through the API; the id of her first conversation's event."""
    identity = app.extensions["goedgesprek.identity"]
    token = identity.issue("ada@example.org", "Ada")
    body = {
        "partner": "grace@example.org",
        "role": "employee",
        "preferences": PREFS,
        "request_id": "outbox-1",
    }
    answer = app.test_client().post(
        "/api/series?lang=nl", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.get_json()
    event_id: str = answer.get_json()["context"]["event"]["id"]
    return event_id


def test_moving_the_clock_past_a_conversation_puts_the_prompt_in_both_mailboxes(
    app: Flask,
) -> None:
    client = app.test_client()
    event_id = _plan(app)
    empty = client.get("/demo/outbox?as=ada&lang=en").get_data(as_text=True)
    assert "No mails yet." in empty
    data = {"csrf": _csrf(client), "action": "end", "as": "ada", "lang": "en", "event": event_id}
    assert client.post("/demo/clock", data=data).status_code == 303
    for who, subject in (
        ("ada", "Leg vast wat je met Grace"),
        ("grace", "Leg vast wat je met Ada"),
    ):
        page = client.get(f"/demo/outbox?as={who}&lang=en")
        assert page.status_code == 200
        doc = lxml_html.fromstring(page.get_data(as_text=True))
        subjects = [h.text_content() for h in doc.xpath("//article[@class='mail']/h3")]
        assert any(s.startswith(subject) for s in subjects), subjects
        frame = doc.xpath("//iframe[@class='mail-body']")[0]
        # The mail's HTML runs nothing; its links open a new tab, as in a mail client.
        assert frame.get("sandbox") == "allow-popups allow-popups-to-escape-sandbox"
        body = client.get(frame.get("src"))
        assert body.status_code == 200 and "<html" in body.get_data(as_text=True)
        assert '<base target="_blank">' in body.get_data(as_text=True)
        csp = body.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "style-src 'unsafe-inline'" in csp
        assert "script-src" not in csp
    home = client.get("/?lang=nl&as=grace").get_data(as_text=True)
    assert "Mails van Grace (" in home


def test_an_unknown_mail_is_404_and_a_malformed_address_400(app: Flask) -> None:
    client = app.test_client()
    assert client.get(f"/demo/outbox/{'0' * 32}").status_code == 404
    refused = client.get("/demo/outbox/nothing-here?lang=en")
    assert refused.status_code == 400
    assert "not the address of a mail" in refused.get_data(as_text=True)


def test_the_outbox_page_speaks_both_languages(app: Flask) -> None:
    client = app.test_client()
    assert "De mails van Ada" in client.get("/demo/outbox?as=ada&lang=nl").get_data(as_text=True)
    assert "The mails of Grace" in client.get("/demo/outbox?as=grace&lang=en").get_data(
        as_text=True
    )


def test_later_the_clock_moves_on_and_nothing_is_sent_twice(app: Flask) -> None:
    client = app.test_client()
    event_id = _plan(app)
    data = {"csrf": _csrf(client), "action": "end", "as": "ada", "lang": "en", "event": event_id}
    client.post("/demo/clock", data=data)
    store = app.extensions["goedgesprek.store"]
    first = len(store.outbox())
    assert first >= 2
    client.post("/demo/clock", data={**data, "action": "end"})
    assert len(store.outbox()) == first
    # NOW is the base; "week" moves on: nothing new is due a week after (the record prompt is
    # sent, the next conversation is a quarter away).
    client.post("/demo/clock", data={**data, "action": "week"})
    assert len(store.outbox()) == first
