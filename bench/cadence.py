"""Benchmark the domain: recurrence expansion, both conversions, and the planner.

Part of `bench.run` (section `cadence`); alone it writes ``$BENCH_OUT/cadence.json``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import timed, write_result
from cadence.model import Pair, Person
from cadence.planning import Availability, Interval, Preferences, WorkingHours, plan
from cadence.recurrence import DayOfMonth, NthWeekday, Rule, Weekday

ZONES = ("Europe/Amsterdam", "America/New_York", "Australia/Sydney", "Asia/Kolkata")


def _rules() -> list[Rule]:
    rules = []
    for i in range(200):
        anchor = (
            NthWeekday(Weekday(i % 5), (i % 4) + 1) if i % 3 else DayOfMonth(-1 if i % 2 else 12)
        )
        rules.append(Rule.build(datetime(2027, 1, 1, 9 + i % 8, 30), ZONES[i % len(ZONES)], anchor))
    return rules


def _busy(start: datetime, tz: str, weekday: int, hour: int) -> tuple[Interval, ...]:
    out = []
    for week in range(56):
        day = start + timedelta(weeks=week)
        begin = day.replace(hour=hour, minute=0) + timedelta(days=(weekday - day.weekday()) % 7)
        out.append(Interval(begin, begin + timedelta(hours=2)))
    return tuple(out)


def measure() -> dict[str, object]:
    """Each measurement's p50/p95/max."""
    rules = _rules()
    window = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2037, 1, 1, tzinfo=UTC))
    results: dict[str, object] = {
        "expand_10_years_200_rules": timed(
            lambda _: [r.occurrences(*window) for r in rules], repeat=20
        ),
        "rfc5545_round_trip_200_rules": timed(
            lambda _: [Rule.from_rfc5545(r.to_rfc5545()) for r in rules], repeat=20
        ),
        "graph_round_trip_200_rules": timed(
            lambda _: [Rule.from_graph(r.to_graph(), r.first.time()) for r in rules], repeat=20
        ),
    }
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    ada = Person("ada", "Ada", "ada@example.org", "Europe/Amsterdam")
    grace = Person("grace", "Grace", "grace@example.org", "America/New_York")
    pair = Pair(ada, grace)
    employee = Availability(ada, WorkingHours("Europe/Amsterdam"), _busy(now, ada.tz, 1, 9))
    manager = Availability(grace, WorkingHours("America/New_York"), _busy(now, grace.tz, 2, 9))
    prefs = Preferences(
        weekdays=frozenset({Weekday.TU, Weekday.WE, Weekday.TH}),
        earliest=clock(9, 0),
        latest=clock(17, 0),
    )
    results["plan_two_zones_year_of_busy"] = timed(
        lambda _: plan(pair, employee, manager, prefs, now=now), repeat=20
    )
    return results


def main() -> None:
    """Run each measurement and write the JSON result."""
    write_result("cadence", measure())


if __name__ == "__main__":
    main()
