"""HR opens the cadence report from the pane: a new tab with counts per team, in both languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from test_pane import GRACE, LANGS, agreed_series, occurrence_end, open_pane

from addin.background.service import build_sweep

DemoServer = Any

pytestmark = pytest.mark.browser

TITLE = {"nl": "Ritmerapport", "en": "Cadence report"}


@pytest.mark.parametrize("lang", LANGS)
def test_hr_opens_the_cadence_report_from_the_pane(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    occurrence, _context = agreed_series(demo_server, lang)
    demo_server.clock.set(occurrence_end(demo_server, occurrence) + timedelta(minutes=15))
    build_sweep(demo_server.app.extensions["goedgesprek.services"], demo_server.app.config).run()
    demo_server.app.config["HR"] = GRACE
    try:
        pane = open_pane(new_page, demo_server, occurrence, "grace", lang)
        button = pane.page.locator('[data-key="hr:report"]')
        button.wait_for()
        with pane.page.expect_popup() as opened:
            button.click()
        report = opened.value
        report.wait_for_load_state()
        assert TITLE[lang] in report.locator("h1").inner_text()
        assert "/hr/r/" not in report.url
        assert "XSS" not in report.content() and "__xss" not in report.content()
        axe(report)
        report.set_viewport_size({"width": 1000, "height": 520})
        shot(report, f"hr-report-{lang}")
        # Ada is not HR: no such section in her pane.
        ada = open_pane(new_page, demo_server, occurrence, "ada", lang)
        ada.page.wait_for_timeout(300)
        assert ada.page.locator('[data-key="hr"]').count() == 0
    finally:
        demo_server.app.config.pop("HR", None)
