"""`goedgesprek demo --provider graph|google`: the demo through the real SDKs and the emulators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from lxml import html

from addin.demo import ADA, GRACE, seed
from addin.demo.provider import ProviderDemo, start

PREFS = {"weekdays": ["TU", "WE", "TH"], "earliest": "09:30", "latest": "16:00", "duration": 60}


@pytest.fixture(params=["graph", "google"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProviderDemo]:
    """The provider's demo, seeded, stopped afterwards."""
    demo = start(request.param, tmp_path)
    try:
        seed(demo.store, demo.app.extensions["goedgesprek.clock"]())
        yield demo
    finally:
        demo.close()


def test_the_host_preview_shows_both_calendars_read_through_the_provider(
    running: ProviderDemo,
) -> None:
    """The week view lists the seeded meetings, read from the emulator by the connector."""
    client = running.app.test_client()
    page = client.get("/?lang=en&as=ada")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Kennismaking" in text and "Teamoverleg" in text and "MT-overleg" in text
    link = html.fromstring(text).xpath("//p[@class='start']/a")[0].get("href")
    event = parse_qs(urlparse(link).query)["event"][0]
    framed = client.get(f"/?event={event}&as=ada&lang=en")
    assert html.fromstring(framed.get_data(as_text=True)).xpath("//iframe")


def test_planning_from_the_first_meeting_creates_the_series_at_the_provider(
    running: ProviderDemo,
) -> None:
    """Ada plans the series from the seeded meeting; both calendars at the provider have it."""
    app = running.app
    token = app.extensions["goedgesprek.identity"].issue(ADA.email, ADA.name)
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "partner": GRACE.email,
        "role": "employee",
        "preferences": PREFS,
        "request_id": "demo-provider-1",
    }
    response = app.test_client().post("/api/series?lang=en", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    first = running.store.calendar(ADA.email).get_event(response.get_json()["first_event"])
    assert first.series_id and first.attendees[0].email.lower() == GRACE.email
    window = (first.start - timedelta(minutes=1), first.start + timedelta(minutes=1))
    grace_copies = running.store.calendar(GRACE.email).events(*window)
    assert [e.ical_uid for e in grace_copies if e.series_id] != []
    assert [p.email for p in running.store.people()] == [ADA.email, GRACE.email]


def test_the_provider_demo_names_its_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The banner names the fresh data directory: ``workspace sign-request --data-dir`` needs
    it to sign what this demo accepts."""
    from click.testing import CliRunner
    from flask import Flask

    from addin.cli import cli

    served: list[Path] = []

    def run(app: Flask, **_options: object) -> None:  # serves nothing: the banner is out
        served.append(app.extensions["goedgesprek.settings"].data_dir)

    monkeypatch.setattr(Flask, "run", run)
    monkeypatch.setattr("signal.signal", lambda *_args: None)  # the test run keeps its own
    result = CliRunner().invoke(cli, ["demo", "--provider", "google", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert served and f"data in {served[0]}" in result.output
