"""Benchmark the embedded default: the local calendar and the sealed local drive.

Writes `$BENCH_OUT/store.json`. Run: `.venv/bin/python bench/store.py`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import timed, write_result
from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors.keyring import Keyring
from connectors.local import LocalStore
from connectors.models import Attendee, NewEvent
from connectors.sealed import SealedDrive

ADA, GRACE = "ada@example.org", "grace@example.org"


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

        results["create_event"] = timed(create, 500)
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
        results["events_one_year_500_plus_series"] = timed(lambda _: calendar.events(*year), 50)
        results["free_busy_two_people_one_year"] = timed(
            lambda _: calendar.free_busy([ADA, GRACE], *year), 50
        )
        ring = Keyring.init(Path(tmp) / "keyring.json")
        sealed = SealedDrive(store.drive(ADA), ring)
        record = json.dumps({"summary": "x" * 10_000}).encode()
        results["sealed_put_10kb"] = timed(
            lambda i: sealed.put("series-1", f"record-{i % 20}.json", record), 200
        )
        results["sealed_get_10kb"] = timed(
            lambda i: sealed.get("series-1", f"record-{i % 20}.json"), 200
        )
    write_result("store", results)


if __name__ == "__main__":
    main()
