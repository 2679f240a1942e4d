"""The harness's arithmetic: ratios to the floor and requests per call."""

from __future__ import annotations

from bench.peers import _summarise, ratio


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
