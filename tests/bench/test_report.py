"""The benchmark report renders from a run's JSON and says plainly where we trail a peer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.report import best_peer, render, verdict

FIXTURE = Path(__file__).with_name("bench_small.json")


@pytest.fixture
def result() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(FIXTURE.read_text())
    return found


def test_best_peer_is_the_lowest_ratio_that_is_neither_ours_nor_the_floor() -> None:
    row = {
        "connector": {"ratio": 0.5, "p50_ms": 5.0},
        "raw": {"ratio": 1.0, "p50_ms": 10.0},
        "o365": {"ratio": 1.6, "p50_ms": 16.0},
        "sdk": {"ratio": 1.4, "p50_ms": 14.0},
    }
    assert best_peer(row) == ("sdk", 1.4)
    assert verdict(row) == "at or below"
    row["connector"] = {"ratio": 1.4, "p50_ms": 14.04}  # equal once rounded, still above
    assert verdict(row) == "above"
    row["connector"] = {"ratio": 1.4, "p50_ms": 14.0}
    assert verdict(row) == "at or below"
    alone = {"connector": {"ratio": 1.0, "p50_ms": 1.0}, "raw": {"ratio": 1.0, "p50_ms": 1.0}}
    assert verdict(alone) == "no peer"


def test_the_report_names_the_machine_and_each_op_beside_the_best_peer(
    result: dict[str, Any],
) -> None:
    text = render(result, source="bench/results/bench.json")
    assert "Example CPU 3000, 2 cores, Python 3.11.7" in text
    assert "2026-12-06T18:00:00+00:00" in text
    # Graph at 0 ms: get_event 2.00 against o365's 1.50 (above), list 1.50 against 3.00.
    assert "| get an event | 2.00 | 1.50 (o365) | above | +0.50 | 1.00 |" in text
    assert "| list 25 events in a window | 1.50 | 3.00 (o365) | at or below |" in text
    assert "At 0ms we are above the best peer on 1 of 2 operations: get an event." in text
    # Google at 0 ms: ours 1.50, sdk 2.00 is the best peer (gcsa 3.00).
    assert "| get an event | 1.50 | 2.00 (sdk) | at or below |" in text
    assert "At 0ms we are at or below the best peer on all 1 operations." in text


def test_the_context_stands_beside_its_floor_and_counts_round_trips(
    result: dict[str, Any],
) -> None:
    text = render(result)
    assert "| Microsoft Graph | manager | first open | 112.0 | 100.0 | 2 | 2 | 12.0 | - |" in text
    assert (
        "The first open takes up to 2 round trips on the critical path; a remembered event one."
        in text
    )
    for provider in result["context"].values():
        for role in ("employee", "manager"):
            provider[role]["first_open"]["critical_path"] = 1
    assert "The first open takes one round trip on the critical path" in render(result)


def test_cold_start_and_store_scaling_are_read_against_their_targets(
    result: dict[str, Any],
) -> None:
    text = render(result)
    assert "| create_app | 250.0 | 300 |" in text
    assert "| python-o365: first event, from process start | 240.0 | - |" in text
    assert "Both targets met." in text
    result["cold_start"]["median"]["create_app_ms"] = 301.0
    assert "Above target: create_app 301 ms (300), first context 450 ms (500)." in render(result)
    assert "| 5,000 | 6.00 / 7.00 | 2.20 / 2.60 | 168 |" in text
    assert (
        "From 500 to 5,000 events the context's p50 grows 1.5x and a week's listing 1.1x, "
        "though it returns the same 168 events at every size." in text
    )


def test_plots_are_referenced_beside_their_tables(result: dict[str, Any]) -> None:
    plots = {
        "ratios_graph": "benchmarks/ratios_graph.png",
        "context": "benchmarks/context.png",
        "store": "benchmarks/store.png",
    }
    text = render(result, plots)
    assert "![graph ratios to raw HTTP](benchmarks/ratios_graph.png)" in text
    assert "![context beside its floor](benchmarks/context.png)" in text
    assert "![local store scaling](benchmarks/store.png)" in text
    assert "ratios_google" not in text


def test_the_summary_says_where_we_trail_and_how_the_first_open_goes(
    result: dict[str, Any],
) -> None:
    text = render(result)
    assert "- Microsoft Graph at 0ms: above the best peer on get an event." in text
    assert "- Microsoft Graph at 50ms: at or below the best peer." in text  # 52.0 and 52.0
    assert "- Google Calendar at 0ms: at or below the best peer." in text
    assert (
        "- The context's first open takes more than one round trip: "
        "Microsoft Graph employee 2, Microsoft Graph manager 2." in text
    )
    assert "create_app 250 ms (target 300), first context 450 ms after process start" in text


def test_the_app_cpu_per_context_is_read_against_its_target(result: dict[str, Any]) -> None:
    cases = [
        found[role][case]
        for found in result["context"].values()
        for role in ("employee", "manager")
        for case in ("first_open", "remembered")
    ]
    for n, case in enumerate(cases):
        case["app_cpu_p50_ms"] = 4.0 + n
    text = render(result)
    assert "| 12.0 | 4.00 |" in text
    assert f"App CPU per context: 4.0 to {3.0 + len(cases):.1f} ms p50 (target 5 ms)." in text
    assert f"- App CPU per context: 4.0 to {3.0 + len(cases):.1f} ms p50 (target 5 ms)." in text


def test_the_sweep_section_reads_the_sweep_benchmark_beside_the_rest(
    result: dict[str, Any],
) -> None:
    read = {"series_read": 1000, "sent": 500, "wall_s": 2.5, "cpu_s": 2.7}
    result["sweep"] = {
        "when": "2026-12-06T23:00:00+00:00",
        "results": {
            "local": {
                "series": 100000,
                "every_series": {**read, "cpu_ms_per_series_read": 2.7},
                "five_minutes_later": {
                    "series_read": 0,
                    "sent": 0,
                    "wall_s": 0.0,
                    "cpu_s": 0.0,
                    "cpu_ms_per_series_read": None,
                },
            },
            "graph": {
                "series": 1000,
                "latency_ms": 100.0,
                "per_mailbox": 4,
                "threads": 8,
                "every_series": {**read, "wall_s": 60.0},
                "requests": 3500,
                "requests_per_series": 3.5,
                "quota_bound_minimum_s": 25.0,
                "over_minimum": 2.4,
            },
        },
    }
    text = render(result)
    assert "## The background sweep" in text
    assert "The embedded store with 100,000 series" in text
    assert "| first: every series | 1,000 | 500 | 2.50 | 2.70 | 2.70 |" in text
    assert "| 5 minutes later | 0 | 0 | 0.00 | 0.00 | - |" in text
    assert "2.4x the quota-bound minimum of 25 s" in text
