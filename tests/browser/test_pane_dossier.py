"""The employee's dossier in the pane: the whole of it as a zip, and erasing it for good with a
receipt; the manager sees neither. Both languages."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from test_pane import LANGS, agreed_series, open_pane

DemoServer = Any

pytestmark = pytest.mark.browser

WORDS = {
    "nl": {"section": "Je dossier", "erased": "Het dossier is gewist"},
    "en": {"section": "Your dossier", "erased": "The dossier is erased"},
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_employee_downloads_then_erases_the_dossier(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    occurrence, context = agreed_series(demo_server, lang)
    series = context["series"]["id"]
    # The manager has no such section: the dossier is the employee's.
    grace = open_pane(new_page, demo_server, occurrence, "grace", lang)
    grace.page.wait_for_timeout(200)
    assert grace.page.locator('[data-key="dossier"]').count() == 0

    ada = open_pane(new_page, demo_server, occurrence, "ada", lang)
    page = ada.page
    section = page.locator('[data-key="dossier"]')
    section.wait_for()
    assert WORDS[lang]["section"] in section.inner_text()
    with page.expect_download() as got:
        page.locator('[data-key="dossier:zip"]').click()
    archive = zipfile.ZipFile(io.BytesIO(open(got.value.path(), "rb").read()))  # noqa: SIM115
    assert "README.md" in archive.namelist()
    notes = [archive.read(n).decode() for n in archive.namelist() if n.endswith(".md")]
    assert any("Energie" in text and "werkplezier" in text for text in notes), notes

    page.locator('[data-key="dossier:erase"]').click()
    page.locator('[data-key="dossier:confirm"]').wait_for()
    axe(page)
    section.scroll_into_view_if_needed()
    shot(page, f"pane-erase-confirm-{lang}")
    # Keeping it changes nothing.
    page.locator('[data-key="dossier:keep"]').click()
    assert page.locator('[data-key="dossier:confirm"]').count() == 0
    page.locator('[data-key="dossier:erase"]').click()
    page.locator('[data-key="dossier:confirm"]').click()
    heading = page.locator("h1", has_text=WORDS[lang]["erased"])
    heading.wait_for()
    axe(page)
    shot(page, f"pane-erased-{lang}")
    with page.expect_download() as receipt_file:
        page.locator('[data-key="dossier:receipt"]').click()
    receipt = json.loads(open(receipt_file.value.path(), encoding="utf-8").read())  # noqa: SIM115
    assert receipt["series"][0]["series"] == series
    assert receipt["series"][0]["key_destroyed"] is True
    service = demo_server.app.extensions["goedgesprek.service"]
    assert service.registry.get(series) is None
