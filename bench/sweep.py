"""The background sweep at an organisation's scale. Writes `$BENCH_OUT/sweep.json`.

- ``local``: `SWEEP_LOCAL` series (100,000 by default) in the embedded store, each pair with its
  series master in the employee's calendar: one sweep that reads them all (as the first sweep
  after a start does), then the scheduled sweeps 5 minutes and an hour later (a series is read
  again when something may fall due, and at least hourly): CPU time, wall time, store calls.
- ``graph``: `SWEEP_GRAPH` series (1,000) against the Graph emulator with 100 ms of latency a
  request and at most 4 concurrent requests per mailbox (Graph's limit): the wall time of a sweep
  that reads them all beside the quota-bound minimum (requests on the critical path of one
  series x latency x series / series read at once), and the requests it made.

Run: `.venv/bin/python -m bench.sweep` (or `make bench`).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import write_result
from cadence.model import Locale, Pair, Person, Series
from cadence.recurrence import NthWeekday, Rule, Weekday

LOCAL_SERIES = int(os.environ.get("SWEEP_LOCAL", "100000"))
GRAPH_SERIES = int(os.environ.get("SWEEP_GRAPH", "1000"))
GRAPH_LATENCY_MS = 100.0
PER_MAILBOX = 4
THREADS = 8
START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
"""The bench's "now" before the first sweep."""
TZ = "Europe/Amsterdam"


def _person(email: str, name: str) -> Person:
    return Person(email, name, email, TZ, Locale.NL)


def _series(n: int) -> Series:
    """Pair n: employee n, their manager (one per eight), a quarterly rule whose week and day
    spread the first conversations over the quarter."""
    weekday = (Weekday.TU, Weekday.WE, Weekday.TH)[n % 3]
    rule = Rule.build(
        datetime(2027, 1 + n % 3, 1, 9 + n % 6, 0), TZ, NthWeekday(1 + n % 4, weekday)
    )
    employee = _person(f"e{n:06d}@example.org", f"Medewerker {n}")
    manager = _person(f"m{n // 8:06d}@example.org", f"Leidinggevende {n // 8}")
    return Series(
        id=f"s{n:06d}",
        request_id=f"bench-sweep-{n:06d}",
        pair=Pair(employee=employee, manager=manager),
        rule=rule,
        duration=60,
        created=START - timedelta(days=30),
    )


class Counting:
    """Counts calls per method on the ports a factory hands out (the store's "requests")."""

    def __init__(self, factory: Callable[[str], Any]) -> None:
        self._factory = factory
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, email: str) -> Any:
        inner = self._factory(email)
        outer = self

        class Port:
            def __getattr__(self, name: str) -> Any:
                found = getattr(inner, name)
                if not callable(found):
                    return found

                def call(*args: Any, **kwargs: Any) -> Any:
                    with outer._lock:
                        outer.calls[name] += 1
                    return found(*args, **kwargs)

                return call

        return Port()


@contextmanager
def _app(data_dir: Path, config: dict[str, Any], clock: Callable[[], datetime]) -> Iterator[Any]:
    from addin.app import close_app, create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(data_dir), **config}, clock=clock)
    try:
        yield app
    finally:
        close_app(app)


def _master(calendar: Any, entry: Series) -> str:
    from connectors.models import Attendee, NewEvent

    first = entry.rule.first.replace(tzinfo=None)
    from cadence.recurrence import localize

    start = localize(first, TZ)
    event = calendar.create_event(
        NewEvent(
            subject=f"Goed gesprek {entry.pair.employee.name}",
            start=start,
            end=start + timedelta(minutes=entry.duration),
            tz=TZ,
            organizer=entry.pair.employee.email,
            attendees=(Attendee(entry.pair.manager.email, entry.pair.manager.name),),
            recurrence=entry.rule,
        ),
        idempotency_key=entry.request_id,
    )
    return str(event.id)


def _seed(app: Any, count: int, threads: int) -> float:
    """`count` series in the registry, each master in the employee's calendar; seconds taken."""
    from dataclasses import replace

    services = app.extensions["goedgesprek.services"]
    calendar, registry = services.calendar, services.registry
    started = time.perf_counter()

    def one(n: int) -> None:
        entry = _series(n)
        master = _master(calendar(entry.owner), entry)
        registry.add(replace(entry, master_event_id=master))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    return round(time.perf_counter() - started, 1)


def _sweep_once(app: Any, counted: Counting, owner: str, *, everything: bool) -> dict[str, Any]:
    from addin.background.service import build_sweep

    services = app.extensions["goedgesprek.services"]
    sweep = build_sweep(services, app.config, owner=owner)
    sweep._calendar = counted  # the sweep's own reads, counted
    counted.calls.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    report = sweep.run(everything=everything)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "series_read": report.series,
        "sent": report.count("sent"),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_series_read": (round(cpu * 1000 / report.series, 2) if report.series else None),
        "calendar_calls": dict(counted.calls),
        "deliveries": dict(Counter(f"{p.delivery.kind}:{p.outcome}" for p in report.planned)),
    }


def local(count: int = LOCAL_SERIES) -> dict[str, Any]:
    """The embedded store: every series read, then the scheduled sweeps."""
    from connectors.testing import ManualClock

    clock = ManualClock(START)
    with tempfile.TemporaryDirectory() as tmp, _app(Path(tmp), {}, clock) as app:
        seeded = _seed(app, count, threads=4)
        counted = Counting(app.extensions["goedgesprek.services"].calendar)
        first = _sweep_once(app, counted, "bench-1", everything=True)
        clock.advance(timedelta(minutes=5))
        next_sweep = _sweep_once(app, counted, "bench-2", everything=False)
        clock.advance(timedelta(hours=1))
        hour_later = _sweep_once(app, counted, "bench-3", everything=False)
    return {
        "series": count,
        "seed_s": seeded,
        "every_series": first,
        "five_minutes_later": next_sweep,
        "an_hour_later": hour_later,
    }


def graph(count: int = GRAPH_SERIES, latency_ms: float = GRAPH_LATENCY_MS) -> dict[str, Any]:
    """Against the Graph emulator with latency and Graph's per-mailbox concurrency limit."""
    from bench.connectors import wire
    from connectors.testing import ManualClock
    from emulators.network import Limits

    clock = ManualClock(START)
    with tempfile.TemporaryDirectory() as tmp, wire("graph") as w:
        people = {
            p
            for n in range(count)
            for p in (_series(n).pair.employee.email, _series(n).pair.manager.email)
        }
        for email in sorted(people):
            w.emulator.add_user(email, email.split("@")[0], TZ)
        tokens = Path(tmp) / "tokens.json"
        tokens.write_text(json.dumps({e: w.emulator.token(e) for e in people}))
        config = {"BACKEND": "graph", "GRAPH_URL": w.base_url, "GRAPH_TOKENS": str(tokens)}
        with _app(Path(tmp), config, clock) as app:
            seeded = _seed(app, count, threads=16)
            w.network.latency_ms = latency_ms
            w.network.limits = Limits(concurrent=PER_MAILBOX)
            counted = Counting(app.extensions["goedgesprek.services"].calendar)
            before = w.requests()
            first = _sweep_once(app, counted, "bench-graph", everything=True)
            made = w.requests() - before
            w.network.latency_ms = 0
            w.network.limits = None
    trips = 2  # a series' calendar read and its folder listing, one after the other
    minimum = trips * latency_ms / 1000 * count / THREADS
    return {
        "series": count,
        "latency_ms": latency_ms,
        "per_mailbox": PER_MAILBOX,
        "threads": THREADS,
        "seed_s": seeded,
        "every_series": first,
        "requests": made,
        "requests_per_series": round(made / count, 2),
        "quota_bound_minimum_s": round(minimum, 1),
        "over_minimum": round(first["wall_s"] / minimum, 2),
    }


def main() -> None:
    started = time.perf_counter()
    results = {"local": local(), "graph": graph()}
    results["run_s"] = round(time.perf_counter() - started, 1)
    write_result("sweep", results)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
