"""The roll-out at an organisation's scale. Writes `$BENCH_OUT/rollout.json`.

`ROLLOUT_GRAPH` pairs (1,000 by default; one manager per eight employees) planned by
`addin.rollout.Rollout` against the Graph emulator with 100 ms of latency a request and at most 4
concurrent requests per mailbox (Graph's limit), as `goedgesprek rollout` plans them.

Reported: the wall time beside the quota-bound minimum, the requests per pair, and the requests
the busiest mailbox served. The minimum is the larger of two bounds that hold whatever the client
does: one pair's own chain of round trips (measured: one pair planned alone), and the busiest
mailbox's requests served four at a time.

``graph`` runs the emulator in this process (it counts each mailbox's requests, but shares the
interpreter with the roll-out); ``graph_apart`` runs it as a process of its own, as a provider is,
for the wall time.

Run: `.venv/bin/python -m bench.rollout` (or `make bench-rollout`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._common import write_result

PAIRS = int(os.environ.get("ROLLOUT_GRAPH", "1000"))
LATENCY_MS = 100.0
PER_MAILBOX = 4
TEAM = 8
TZ = "Europe/Amsterdam"
START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


def _pairs(count: int) -> list[tuple[str, str]]:
    return [(f"e{n:06d}@example.org", f"m{n // TEAM:06d}@example.org") for n in range(count)]


def _organisation(w: Any, pairs: list[tuple[str, str]], data_dir: Path) -> dict[str, Any]:
    """The pairs as users of the emulator, each employee's manager set; the app's settings."""
    for employee, manager in pairs:
        w.emulator.add_user(employee, employee.split("@")[0], TZ)
        w.emulator.add_user(manager, manager.split("@")[0], TZ)
        w.emulator.set_manager(employee, manager)
    people = {p for pair in pairs for p in pair}
    tokens = data_dir / "tokens.json"
    tokens.write_text(json.dumps({e: w.emulator.token(e) for e in people}))
    return {
        "TESTING": True,
        "DATA_DIR": str(data_dir),
        "BACKEND": "graph",
        "GRAPH_URL": w.base_url,
        "GRAPH_TOKENS": str(tokens),
    }


def graph(count: int = PAIRS, latency_ms: float = LATENCY_MS) -> dict[str, Any]:
    """Plan `count` pairs against the Graph emulator with latency and the per-mailbox limit."""
    from addin.app import close_app, create_app
    from addin.rollout import PairRow, Rollout
    from bench.connectors import wire
    from connectors.testing import ManualClock
    from emulators.network import Limits

    pairs = _pairs(count + 1)
    with tempfile.TemporaryDirectory() as tmp, wire("graph") as w:
        app = create_app(_organisation(w, pairs, Path(tmp)), clock=ManualClock(START))
        try:
            conversations = app.extensions["goedgesprek.service"]
            rows = [
                PairRow(n + 2, e, m, {"weekdays": ["TU", "WE", "TH"]})
                for n, (e, m) in enumerate(pairs)
            ]
            seen: Counter[str] = Counter()
            lock = threading.Lock()
            user_of = w.network.user_of

            def counting(environ: dict[str, Any]) -> str | None:
                user = user_of(environ)
                with lock:
                    seen[user or "-"] += 1
                return user

            w.network.user_of = counting
            w.network.latency_ms = latency_ms
            w.network.limits = Limits(concurrent=PER_MAILBOX)
            # One pair alone (a team of its own): its chain of round trips.
            started = time.perf_counter()
            alone = Rollout(conversations).run(rows[-1:])
            one_pair_s = time.perf_counter() - started
            seen.clear()
            before, throttled = w.requests(), w.network.stats.throttled
            rollout = Rollout(conversations)
            serving = w.server.cpu_seconds
            cpu, started = time.process_time(), time.perf_counter()
            results = rollout.run(rows[:-1])
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            cpu -= w.server.cpu_seconds - serving  # the emulator's own work is not ours
            made = w.requests() - before
            throttled = w.network.stats.throttled - throttled
            w.network.latency_ms = 0
            w.network.limits = None
        finally:
            close_app(app)
    outcomes = Counter(r.outcome for r in results)
    assert alone[0].outcome == "planned", alone
    busiest, busiest_requests = seen.most_common(1)[0]
    per_mailbox_bound = busiest_requests * latency_ms / 1000 / PER_MAILBOX
    minimum = max(one_pair_s, per_mailbox_bound)
    return {
        "pairs": count,
        "team_size": TEAM,
        "latency_ms": latency_ms,
        "per_mailbox": PER_MAILBOX,
        "threads": rollout.threads,
        "outcomes": dict(outcomes),
        "wall_s": round(wall, 1),
        "app_cpu_s": round(cpu, 1),
        "app_cpu_ms_per_pair": round(cpu * 1000 / count, 1),
        "requests": made,
        "requests_per_pair": round(made / count, 2),
        "throttled": throttled,
        "one_pair_alone_s": round(one_pair_s, 2),
        "round_trips_per_pair": round(one_pair_s * 1000 / latency_ms, 1),
        "busiest_mailbox_requests": busiest_requests,
        "busiest_mailbox_is_a_manager": busiest.startswith("m"),
        "quota_bound_minimum_s": round(minimum, 1),
        "over_minimum": round(wall / minimum, 2),
    }


def graph_apart(count: int = PAIRS, latency_ms: float = LATENCY_MS) -> dict[str, Any]:
    """The same roll-out with the emulator in a process of its own (`goedgesprek emulate`), as
    a provider is: its work does not share the roll-out's interpreter. Reporting lines come
    from a directory file, since the emulate command sets none."""
    from addin.app import close_app, create_app
    from addin.rollout import PairRow, Rollout
    from connectors.testing import ManualClock

    pairs = _pairs(count + 1)
    people = sorted({p for pair in pairs for p in pair})
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        directory = data / "directory.csv"
        directory.write_text(
            "employee,manager\n" + "".join(f"{e},{m}\n" for e, m in pairs), encoding="utf-8"
        )
        tokens = data / "tokens.json"
        command = [
            sys.executable,
            "-u",  # its first line, the URL, is read while it runs
            "-m",
            "addin.cli",
            "emulate",
            "graph",
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
            "--concurrency",
            str(PER_MAILBOX),
            "--tokens-file",
            str(tokens),
            *(arg for email in people for arg in ("--user", email)),
        ]
        said = data / "emulator.out"
        out = said.open("w", encoding="utf-8")
        emulator = subprocess.Popen(command, stdout=out, text=True)
        try:
            deadline = time.monotonic() + 60
            while not tokens.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            first = said.read_text(encoding="utf-8").split("\n", 1)[0]
            url = first.split(" on ", 1)[1].split(" ", 1)[0]
            config = {
                "TESTING": True,
                "DATA_DIR": str(data),
                "BACKEND": "graph",
                "GRAPH_URL": f"{url}/v1.0",
                "GRAPH_TOKENS": str(tokens),
                "DIRECTORY": f"csv:{directory}",
            }
            app = create_app(config, clock=ManualClock(START))
            try:
                conversations = app.extensions["goedgesprek.service"]
                rows = [
                    PairRow(n + 2, e, m, {"weekdays": ["TU", "WE", "TH"]})
                    for n, (e, m) in enumerate(pairs)
                ]
                started = time.perf_counter()
                Rollout(conversations).run(rows[-1:])
                one_pair_s = time.perf_counter() - started
                rollout = Rollout(conversations)
                cpu, started = time.process_time(), time.perf_counter()
                results = rollout.run(rows[:-1])
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            finally:
                close_app(app)
        finally:
            emulator.send_signal(signal.SIGINT)
            emulator.wait(timeout=60)
            out.close()
            tail = said.read_text(encoding="utf-8")
    served = re.search(r"stopped after (\d+) requests, (\d+) throttled", tail)
    requests, throttled = (int(served[1]), int(served[2])) if served else (0, 0)
    return {
        "pairs": count,
        "threads": rollout.threads,
        "outcomes": dict(Counter(r.outcome for r in results)),
        "wall_s": round(wall, 1),
        "app_cpu_s": round(cpu, 1),
        "app_cpu_ms_per_pair": round(cpu * 1000 / count, 1),
        "one_pair_alone_s": round(one_pair_s, 2),
        "requests_served": requests,
        "throttled": throttled,
    }


def main() -> None:
    started = time.perf_counter()
    results = {"graph": graph(), "graph_apart": graph_apart()}
    apart, same = results["graph_apart"], results["graph"]
    apart["quota_bound_minimum_s"] = same["quota_bound_minimum_s"]
    apart["over_minimum"] = round(apart["wall_s"] / same["quota_bound_minimum_s"], 2)
    apart["client_cpu_bound_s"] = apart["app_cpu_s"]
    results["run_s"] = round(time.perf_counter() - started, 1)
    write_result("rollout", results)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
