"""Benchmark the embedded default: the local calendar and the sealed local drive.

Writes `bench/results/store.json`. Run: `.venv/bin/python bench/store.py`.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors.keyring import Keyring
from connectors.local import LocalStore
from connectors.models import Attendee, NewEvent
from connectors.sealed import SealedDrive

ADA, GRACE = "ada@example.org", "grace@example.org"


def _timed(fn: Callable[[int], object], repeat: int) -> dict[str, float]:
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


def main() -> None:
    """Run each measurement on a fresh data directory and write the JSON result."""
    start = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp, LocalStore(Path(tmp)) as store:
        calendar = store.calendar(ADA)

        def create(i: int) -> None:
            begin = start + timedelta(hours=i)
            event = NewEvent(
                "Overleg",
                begin,
                begin + timedelta(minutes=30),
                "Europe/Amsterdam",
                ADA,
                attendees=(Attendee(GRACE),),
            )
            calendar.create_event(event, idempotency_key=f"bench:{i}")

        results["create_event"] = _timed(create, 500)
        rule = Rule.build(
            datetime(2027, 1, 12, 10, 0), "Europe/Amsterdam", NthWeekday(Weekday.TU, 2)
        )
        calendar.create_event(
            NewEvent(
                "Goed gesprek",
                rule.first_n(1)[0],
                rule.first_n(1)[0] + timedelta(hours=1),
                "Europe/Amsterdam",
                ADA,
                attendees=(Attendee(GRACE),),
                recurrence=rule,
            ),
            idempotency_key="bench:series",
        )
        year = (start, start + timedelta(days=365))
        results["events_one_year_500_plus_series"] = _timed(lambda _: calendar.events(*year), 50)
        results["free_busy_two_people_one_year"] = _timed(
            lambda _: calendar.free_busy([ADA, GRACE], *year), 50
        )
        ring = Keyring.init(Path(tmp) / "keyring.json")
        sealed = SealedDrive(store.drive(ADA), ring)
        record = json.dumps({"summary": "x" * 10_000}).encode()
        results["sealed_put_10kb"] = _timed(
            lambda i: sealed.put("series-1", f"record-{i % 20}.json", record), 200
        )
        results["sealed_get_10kb"] = _timed(
            lambda i: sealed.get("series-1", f"record-{i % 20}.json"), 200
        )
    out = {
        "benchmark": "store",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": results,
    }
    target = Path(__file__).resolve().parent / "results" / "store.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
