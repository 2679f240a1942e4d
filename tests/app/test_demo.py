"""The demo app: the seeded pair, the page, scheduling a series, and the real server."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addin.app import create_app
from addin.demo import ADA, GRACE, SERIES_PROPERTY, seed
from connectors.memory import MemoryStore

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryStore:
    """A memory store seeded like the demo."""
    s = MemoryStore(clock=lambda: NOW)
    seed(s, NOW)
    return s


@pytest.fixture
def app(tmp_path: Path, store: MemoryStore) -> Flask:
    """The app on the seeded memory store with a fixed clock."""
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store)
    app.extensions["goedgesprek.clock"] = lambda: NOW
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


def _series_masters(store: MemoryStore) -> set[str]:
    events = store.calendar(ADA.email).events(NOW, NOW + timedelta(days=400))
    return {e.series_id or e.id for e in events if e.series_id}


def test_seed_is_idempotent(store: MemoryStore) -> None:
    """Seeding twice leaves the calendars as seeding once did."""
    week = (NOW, NOW + timedelta(days=28))
    before = len(store.calendar(GRACE.email).events(*week))
    seed(store, NOW)
    assert len(store.calendar(GRACE.email).events(*week)) == before
    assert before > 0


def test_home_shows_calendars_and_proposal(client: FlaskClient) -> None:
    """The page lists both partners, their events and a proposal with both descriptions."""
    page = client.get("/?lang=nl").get_data(as_text=True)
    assert "Ada" in page and "Grace" in page
    assert "MT-overleg" in page
    assert "Voorgestelde gesprekkenreeks" in page
    assert "RRULE:FREQ=MONTHLY;INTERVAL=3" in page
    assert "relativeMonthly" in page or "absoluteMonthly" in page
    assert len(re.findall(r"<li><time datetime=", page)) >= 4


def test_home_in_english_from_browser(client: FlaskClient) -> None:
    """With no lang parameter the browser's language decides."""
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "Proposed series" in page
    assert '<html lang="en">' in page


def test_bad_preferences_show_error_and_write_nothing(
    client: FlaskClient, store: MemoryStore
) -> None:
    """A duration out of range is explained on the page; no series appears."""
    page = client.get("/?lang=en&duration=15&place=x").get_data(as_text=True)
    assert 'role="alert"' in page
    assert "30" in page and "120" in page
    assert _series_masters(store) == set()


def test_text_is_escaped(client: FlaskClient) -> None:
    """A place with markup is shown as text."""
    page = client.get("/?place=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def _form(client: FlaskClient) -> dict[str, str]:
    page = client.get("/?lang=nl").get_data(as_text=True)
    form = page[page.index('action="/series"') :]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form[: form.index("</form>")]))
    return fields


def test_schedule_series_once_even_when_posted_twice(
    client: FlaskClient, store: MemoryStore
) -> None:
    """Posting the proposal schedules one series in both calendars; a double post adds nothing."""
    fields = _form(client)
    first = client.post("/series", data=fields)
    assert first.status_code == 302
    again = client.post("/series", data=fields)
    assert again.status_code == 302
    masters = _series_masters(store)
    assert len(masters) == 1
    master = store.calendar(ADA.email).get_event(masters.pop())
    assert SERIES_PROPERTY in master.properties
    assert master.recurrence is not None and master.recurrence.interval == 3
    grace = store.calendar(GRACE.email).events(NOW, NOW + timedelta(days=400))
    assert any(e.series_id == master.id for e in grace)
    page = client.get("/?lang=nl&created=1").get_data(as_text=True)
    assert "De reeks staat in beide agenda" in page


def test_post_without_token_is_refused(client: FlaskClient, store: MemoryStore) -> None:
    """A post without the form's token gets 400 JSON and schedules nothing."""
    fields = _form(client)
    fields["csrf"] = "forged"
    response = client.post("/series", data=fields)
    assert response.status_code == 400
    assert response.is_json and "reload" in response.get_json()["message"]
    assert _series_masters(store) == set()


def test_security_headers(client: FlaskClient) -> None:
    """Pages carry a CSP without inline script and nosniff."""
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    """`goedgesprek demo` as a user starts it, on a free port and a fresh data directory."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "addin.cli",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"demo exited early: {out}")
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("demo did not answer within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def test_demo_command_serves_the_page(demo_server: str, tmp_path: Path) -> None:
    """The demo command serves the page over real HTTP on the local store."""
    with urllib.request.urlopen(demo_server + "?lang=en", timeout=30) as response:
        page = response.read().decode()
    assert response.status == 200
    assert "Proposed series" in page and "Grace" in page
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert any(tmp_path.iterdir())


def test_broken_organisation_template_stops_the_demo(tmp_path: Path) -> None:
    """A template that breaks its schema stops start-up with a message naming the file."""
    from click.testing import CliRunner

    from addin.cli import cli

    folder = tmp_path / "org-templates"
    folder.mkdir()
    (folder / "ours.yaml").write_text("kind: agenda\nkey: ours\n")
    result = CliRunner().invoke(
        cli,
        ["demo", "--data-dir", str(tmp_path / "data"), "--port", str(_free_port())],
        env={"GOEDGESPREK_TEMPLATE_DIRS": str(folder)},
    )
    assert result.exit_code == 1
    assert "ours.yaml" in result.output and "missing" in result.output
    assert "Traceback" not in result.output


def test_organisation_template_reaches_the_event_body(tmp_path: Path, store: MemoryStore) -> None:
    """A valid template in the configured folder replaces the shipped agenda in new events."""
    import yaml

    from templates import load_templates

    shipped = load_templates().source("agenda", "three_themes")
    data = yaml.safe_load(Path(shipped).read_text())
    data["title"] = {"nl": "Ons eigen gesprek", "en": "Our own conversation"}
    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "three_themes.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path), "TEMPLATE_DIRS": str(folder)}, store=store
    )
    app.extensions["goedgesprek.clock"] = lambda: NOW
    client = app.test_client()
    assert client.post("/series", data=_form(client)).status_code == 302
    master = store.calendar(ADA.email).get_event(_series_masters(store).pop())
    assert "Ons eigen gesprek" in master.body_html
