"""A quick run of the connector benchmark's parts with tiny counts, so the benchmark cannot rot."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import connectors as bench


@pytest.mark.parametrize("name", bench.PROVIDERS)
def test_overhead_compares_each_operation_with_the_same_requests_sent_raw(name: str) -> None:
    """Every operation is timed through the connector and raw, with its requests counted."""
    found = bench.overhead(name, repeat=2)
    assert set(found) == {"get_event", "events", "drive_get"}
    for figures in found.values():
        assert figures["connector"]["runs"] == figures["raw"]["runs"] == 2
        assert figures["requests_per_call"] == len(figures["requests"]) >= 1
        assert figures["connections_per_call"] >= 1


def _check_context(found: dict[str, Any]) -> None:
    for role in ("employee", "manager"):
        for case in ("first_open", "remembered"):
            figures = found[role][case]
            assert figures["requests_per_call"] >= 1
            assert 1 <= figures["critical_path"] <= len(figures["timeline"])


def test_google_panel_context_reports_each_partner_first_open_and_remembered() -> None:
    """The context runs through the app over Google, with a timeline of its requests."""
    _check_context(bench.panel_context("google", repeat=1, latency_ms=5))


def test_graph_panel_context_reports_each_partner_first_open_and_remembered() -> None:
    """The context runs through the app over Graph, with a timeline of its requests."""
    _check_context(bench.panel_context("graph", repeat=1, latency_ms=5))
