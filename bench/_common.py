"""What every benchmark shares: timing samples and writing the JSON result."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RESULTS = Path(os.environ.get("BENCH_OUT", "test-output/bench"))
"""Where a benchmark run alone writes; the committed bench/results/ only when asked."""


def timed(fn: Callable[[int], object], repeat: int) -> dict[str, float]:
    """Run `fn(i)` `repeat` times; p50, p95 and max in milliseconds."""
    samples = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "runs": repeat,
        "p50_ms": round(statistics.median(samples), 4),
        "p95_ms": round(samples[int(0.95 * (repeat - 1))], 4),
        "max_ms": round(samples[-1], 4),
    }


def write_result(name: str, results: dict[str, object]) -> None:
    """Write `<RESULTS>/<name>.json` with the machine it ran on, and print it."""
    out = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


def hold_first_conversation(
    ops: Callable[..., Any], ctx: dict[str, Any], clock: Any, ada: Any, grace: Any
) -> dict[str, Any]:
    """Agenda agreed by both, the meeting over, the record accepted by both; the last context.

    `ops(who, ctx, *changes)` saves changes as `who` (whatever the caller uses to say who).
    """
    ctx = ops(
        ada,
        ctx,
        {"op": "agenda.add_item", "theme": "personal", "title": "Energie"},
        {"op": "agenda.add_item", "theme": "growth", "title": "Cursus"},
        {"op": "agenda.share"},
        {"op": "agenda.agree"},
    )
    ctx = ops(grace, ctx, {"op": "agenda.agree"})
    clock.set(datetime.fromisoformat(ctx["occurrence"]["end"]) + timedelta(minutes=5))
    item = ctx["agenda"]["items"][1]["id"]
    ctx = ops(
        ada,
        ctx,
        {"op": "record.summarise", "item": item, "text": "Later", "finished": False},
        {"op": "record.add_agreement", "text": "Ada zoekt een cursus"},
        {"op": "record.add_action", "description": "Cursus zoeken", "owner": "employee"},
        {"op": "record.propose", "agreement": "*"},
        {"op": "record.accept", "agreement": "*"},
    )
    result: dict[str, Any] = ops(grace, ctx, {"op": "record.accept", "agreement": "*"})
    return result
