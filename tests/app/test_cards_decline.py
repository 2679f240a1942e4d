"""A decline in the Google cards carries its reason, and the proposer's card says who, when, why."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from test_workspace_endpoints import GRACE, NOW, Panel, plan, seeded_app, texts, widgets

from connectors.testing import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock, moved by the test."""
    return ManualClock(NOW)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> Flask:
    """The app on the seeded local store."""
    return seeded_app(tmp_path, clock)


def test_the_proposer_reads_who_declined_when_and_why(app: Flask, clock: ManualClock) -> None:
    """Grace declines Ada's agreement with a reason; Ada's record card shows it."""
    ada, first = plan(app, "en")
    ada.click("Add to the agenda", item_title="Werkdruk")
    ada.click("Share with Grace")
    ada.click("Agree to the agenda")
    grace = Panel(app, GRACE, "en")
    grace.open(first)
    grace.click("Agree to the agenda")
    clock.advance(timedelta(days=8))
    ada.open(first)
    ada.click("Save the record", agreement_text="Ada volgt een cursus")
    ada.click("Propose all drafts")
    ada.click("Accept all")
    card = grace.open(first)
    assert "decline_reason" in [w.get("textInput", {}).get("name") for w in widgets(card)]
    grace.click("Decline", decline_reason="Eerst het budget")
    shown = texts(ada.open(first))
    assert "Declined by Grace on" in shown
    assert "“Eerst het budget”" in shown
