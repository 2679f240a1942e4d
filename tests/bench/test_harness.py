"""The harness's arithmetic: ratios to the floor and requests per call."""

from __future__ import annotations

import pytest

from bench.peers import _summarise, measure, ratio


def test_ratio_is_p50_over_the_floor_rounded_and_zero_without_a_floor() -> None:
    assert ratio(10.0, 4.0) == 2.5
    assert ratio(1.0, 3.0) == 0.33
    assert ratio(5.0, 0.0) == 0.0


def test_summary_gives_each_client_its_ratio_to_raw_and_requests_per_call() -> None:
    times = {
        "get_event": {
            "connector": [3.0, 2.0, 4.0],
            "raw": [1.0, 1.0, 2.0],
            "o365": [1.5, 1.5, 9.0],
        },
        "drive_roundtrip": {},
    }
    requests = {"get_event": {"connector": 6, "raw": 3, "o365": 3}, "drive_roundtrip": {}}
    out = _summarise(times, requests, rounds=3)
    assert set(out) == {"get_event"}  # an op no client ran is left out
    row = out["get_event"]
    assert row["raw"] == {"p50_ms": 1.0, "p95_ms": 1.0, "ratio": 1.0, "requests_per_call": 1.0}
    assert row["connector"]["p50_ms"] == 3.0
    assert row["connector"]["ratio"] == 3.0
    assert row["connector"]["requests_per_call"] == 2.0
    assert row["o365"]["ratio"] == 1.5


@pytest.mark.parametrize("provider", ["graph", "google"])
def test_a_short_run_times_every_op_and_counts_the_floors_requests(provider: str) -> None:
    # The connector and the raw floor only: the peers come with the bench extra.
    out = measure(provider, (0.0,), {0.0: 2}, warm=1, kinds=("connector", "raw"))
    ops = set(out["0ms"])
    expected = {"get_event", "list_25", "create_event", "update_event", "delete_event"}
    assert ops == expected | ({"drive_roundtrip"} if provider == "graph" else set())
    for op, row in out["0ms"].items():
        assert set(row) == {"connector", "raw"}
        assert row["raw"]["ratio"] == 1.0
        # One request per call for the floor, three for the drive's upload, redirect, download.
        assert row["raw"]["requests_per_call"] == (3.0 if op == "drive_roundtrip" else 1.0)
        assert row["connector"]["requests_per_call"] >= 1.0
        assert row["connector"]["p50_ms"] > 0


def test_the_rollout_bench_plans_every_pair_and_reports_the_bounds() -> None:
    """A small run of `bench.rollout`: every pair planned, the figures the report needs."""
    from bench.rollout import graph

    out = graph(count=6, latency_ms=5.0)
    assert out["outcomes"] == {"planned": 6}
    assert out["requests_per_pair"] > 0 and out["busiest_mailbox_requests"] > 0
    assert out["quota_bound_minimum_s"] > 0 and out["over_minimum"] > 0
