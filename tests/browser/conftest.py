"""Browser-test fixtures: the real app on a free loopback port, headless Chromium, screenshots, axe.

- `demo_server` (session): the demo app (`create_demo_app`) in a thread, on a temporary data
  directory, with the demo's seeded pair (Ada, employee; Grace, manager) and a demo clock pinned
  to `DEMO_NOW`. `demo_server.clock.set(...)` moves "now" for every request; `reset_clock`
  (autouse) puts it back before each test.
- `browser` (session) and `page` (per test): Chromium with a bounded timeout; a page fails its
  test on an uncaught script error or a Content-Security-Policy violation.
- `shot(page, name)`: a PNG under test-output/screenshots/ (or $GOEDGESPREK_SCREENSHOTS).
- `axe(page)`: runs axe-core in the page; fails on serious or critical violations.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DEMO_NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
"""The demo clock's fixed base: a Tuesday morning, so every run plans the same dates."""
TIMEOUT_MS = 10_000
"""Longest a single browser step may wait (navigation, a selector, an API round trip)."""


@dataclass
class DemoServer:
    """A running demo app: its base URL, the Flask app, the local store and the demo clock."""

    url: str
    app: Flask
    data_dir: Path
    _server: BaseWSGIServer = field(repr=False)

    @property
    def store(self) -> Any:
        """The local store (calendars, drives) the app runs on."""
        return self.app.extensions["goedgesprek.store"]

    @property
    def clock(self) -> Any:
        """The demo clock (`set`, `advance`, `reset`; calling it gives "now")."""
        return self.app.extensions["goedgesprek.clock"]

    def now(self) -> datetime:
        """The app's "now"."""
        return self.clock()  # type: ignore[no-any-return]

    def pane_url(
        self,
        event: str = "",
        *,
        who: str = "ada",
        mode: str = "read",
        lang: str = "nl",
        **extra: str,
    ) -> str:
        """The demo pane for `event` as `who` (ada or grace), in read or compose mode."""
        from urllib.parse import urlencode

        query = {"as": who, "mode": mode, "lang": lang, **extra}
        if event:
            query["event"] = event
        return f"{self.url}/demo/pane?{urlencode(query)}"

    def new_meeting(
        self,
        subject: str = "Goed gesprek Ada & Grace",
        *,
        days_ahead: int = 9,
        organizer: str = "ada@example.org",
        attendee: str = "grace@example.org",
        body_html: str = "",
    ) -> str:
        """A fresh one-off appointment between the pair (not a series yet); returns its id."""
        from uuid import uuid4

        from connectors.models import Attendee, NewEvent

        start = (self.now() + timedelta(days=days_ahead)).replace(
            hour=13, minute=0, second=0, microsecond=0
        )
        event = NewEvent(
            subject=subject,
            start=start,
            end=start + timedelta(hours=1),
            tz="Europe/Amsterdam",
            organizer=organizer,
            attendees=(Attendee(attendee),),
            body_html=body_html,
        )
        calendar = self.store.calendar(organizer)
        return str(calendar.create_event(event, idempotency_key=uuid4().hex).id)


class _QuietHandler(WSGIRequestHandler):
    """No access log: a failing test's output shows the test, not every static file."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _free_server(app: Flask) -> BaseWSGIServer:
    # Port 0: the OS picks a free port on the loopback interface.
    return make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)


@pytest.fixture
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo app on 127.0.0.1, in a thread, with a pinned demo clock.

    A fresh one per test: a pair plans one series, so every test starts without any.
    """
    from addin.demo import create_demo_app, seed
    from addin.demo.clock import DemoClock

    data_dir = tmp_path_factory.mktemp("demo-data")
    clock = DemoClock(data_dir, base=lambda: DEMO_NOW)
    app = create_demo_app({"DATA_DIR": str(data_dir)}, clock=clock)
    seed(app.extensions["goedgesprek.store"], DEMO_NOW)
    server = _free_server(app)
    thread = threading.Thread(target=server.serve_forever, name="demo-server", daemon=True)
    thread.start()
    try:
        yield DemoServer(f"http://127.0.0.1:{server.server_port}", app, data_dir, server)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(autouse=True)
def reset_clock(request: pytest.FixtureRequest) -> None:
    """Each test that uses the demo server starts at `DEMO_NOW`."""
    if "demo_server" in request.fixturenames:
        request.getfixturevalue("demo_server").clock.reset()


@dataclass
class PageProblems:
    """What went wrong in a page: uncaught errors and CSP violations."""

    errors: list[str] = field(default_factory=list)


def _watch(page: Any, problems: PageProblems) -> None:
    page.on("pageerror", lambda exc: problems.errors.append(f"uncaught: {exc}"))

    def console(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            problems.errors.append(f"CSP: {text}")

    page.on("console", console)


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open a fresh page (own context): `new_page(locale="nl-NL", width=400, zone=...)`.

    Every page fails the test at teardown if it had an uncaught error or a CSP violation.
    """
    opened: list[tuple[Any, PageProblems]] = []

    def open_page(
        locale: str = "nl-NL", width: int = 400, height: int = 900, zone: str = "Europe/Amsterdam"
    ) -> Any:
        context = browser.new_context(
            locale=locale,
            timezone_id=zone,
            viewport={"width": width, "height": height},
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems = PageProblems()
        _watch(page, problems)
        opened.append((context, problems))
        return page

    yield open_page
    errors = [e for _context, problems in opened for e in problems.errors]
    for context, _problems in opened:
        context.close()
    assert not errors, "problems in the page:\n" + "\n".join(errors)


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """One page, Dutch locale, pane width."""
    return new_page()


def screenshot_dir() -> Path:
    """Where screenshots go: $GOEDGESPREK_SCREENSHOTS, else test-output/screenshots."""
    configured = os.environ.get("GOEDGESPREK_SCREENSHOTS")
    return Path(configured) if configured else ROOT / "test-output" / "screenshots"


@pytest.fixture(scope="session")
def shot() -> Callable[[Any, str], Path]:
    """`shot(page, name)` saves a full-page PNG named `name`.png and returns its path."""
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
        path = folder / f"{safe}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
        return path

    return take


@pytest.fixture(scope="session")
def axe() -> Callable[..., list[dict[str, Any]]]:
    """`axe(page)` runs axe-core (WCAG 2.x A/AA rules) and fails on serious or critical findings.

    The script is evaluated through the browser's debugging protocol, so the page's strict CSP
    stays on. Returns every violation (minor and moderate ones included) for a closer look.
    """
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing (npm ci)")
    source = AXE.read_text(encoding="utf-8")

    def run(page: Any, context: str = "document") -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(source)
        result = page.evaluate(
            """async (selector) => {
                const target =
                  selector === "document" ? document : document.querySelector(selector);
                const options = { runOnly: { type: "tag",
                  values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } };
                const found = await window.axe.run(target, options);
                return found.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
            }""",
            context,
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, "axe found serious problems:\n" + json.dumps(bad, indent=2)
        violations: list[dict[str, Any]] = result
        return violations

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Chromium cancels requests it no longer needs (a page left mid-load); werkzeug's dev
    server then drops a static file's response without closing the file, and the file's
    ResourceWarning surfaces in whichever test runs next. That is the test server's noise, not
    the app's: it is not an error in the browser tests."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning"))
