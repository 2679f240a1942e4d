"""The pane when the employee's drive does not take a save: the record is kept on the server, the
pane says so in both languages and keeps working, and the note goes once the drive has it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from test_pane import LANGS, Pane, agreed_series, occurrence_end, open_pane

from addin.background.service import build_sweep
from connectors.errors import Unavailable
from connectors.local import LocalDrive

DemoServer = Any

pytestmark = pytest.mark.browser

NOTE = {"nl": "Voorlopig op de server bewaard", "en": "Saved on the server for now"}


@pytest.mark.parametrize("lang", LANGS)
def test_a_save_the_drive_does_not_take_is_kept_and_the_pane_says_so(
    lang: str,
    *,
    demo_server: DemoServer,
    new_page: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    axe: Callable[..., Any],
    shot: Callable[..., Any],
) -> None:
    occurrence, _context = agreed_series(demo_server, lang)
    demo_server.clock.set(occurrence_end(demo_server, occurrence) + timedelta(minutes=15))
    put = LocalDrive.put
    down = {"writes": True}

    def failing_put(drive: LocalDrive, *args: Any, **kwargs: Any) -> Any:
        if down["writes"]:
            raise Unavailable("the drive does not answer")
        return put(drive, *args, **kwargs)

    monkeypatch.setattr(LocalDrive, "put", failing_put)
    pane = open_pane(new_page, demo_server, occurrence, "ada", lang)
    text = "Ada leidt het volgende teamoverleg" if lang == "nl" else "Ada chairs the next meeting"
    pane.fill("new-agreement:text", text)
    pane.click("new-agreement:submit")
    assert not pane.alert(), pane.alert()
    note = pane.page.locator('[data-key="pending"]')
    assert NOTE[lang] in note.inner_text()
    assert NOTE[lang] in pane.page.locator("#status").inner_text()
    assert text in pane.text()
    axe(pane.page)
    shot(pane.page, f"pane-pending-{lang}")
    # The drive answers again: the next sweep puts the record there and the note goes.
    down["writes"] = False
    services = demo_server.app.extensions["goedgesprek.services"]
    assert build_sweep(services, demo_server.app.config).run().documents["delivered"] == 1
    again: Pane = open_pane(new_page, demo_server, occurrence, "ada", lang)
    assert text in again.text()
    assert again.page.locator('[data-key="pending"]').count() == 0
