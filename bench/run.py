"""One benchmark run: every section into one JSON file, for `bench/report.py` to render.

    python -m bench.run --out test-output/bench [--quick]

Sections (see each function): `peers` (each call beside its floor and its peers, 0 and 50 ms),
`context` (the side panel's context beside round trips x latency), `cold_start` (fresh
processes, BACKEND=graph), `store` (the local backend from 500 to 50,000 events). The committed
figures live in bench/results/ and are written there only when asked (``--out bench/results``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cadence, peers
from bench import connectors as wires

LATENCIES = (0.0, 50.0)
SAMPLES = {0.0: 60, 50.0: 24}
"""Rounds per latency in `peers` (each round runs every client once per operation)."""
CONTEXT_SAMPLES = 10
COLD_STARTS = 5
STORE_SIZES = (500, 5_000, 50_000)


def machine() -> dict[str, Any]:
    """CPU model, cores, Python and the date of the run."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# -- b. the panel's context ----------------------------------------------------------------------


def context(latency_ms: float, repeat: int) -> dict[str, Any]:
    """Per provider and partner: first open and remembered, p50 beside round trips x latency."""
    out: dict[str, Any] = {}
    for name in wires.PROVIDERS:
        found = wires.panel_context(name, repeat=repeat, latency_ms=latency_ms)
        for role in ("employee", "manager"):
            for case in ("first_open", "remembered"):
                row = found[role][case]
                row["floor_ms"] = round(row["critical_path"] * latency_ms, 1)
                row["app_ms"] = round(row["p50_ms"] - row["floor_ms"], 1)
        out[name] = found
    return out


# -- c. cold start -------------------------------------------------------------------------------

COLD = textwrap.dedent(
    """
    import json, sys, time
    from datetime import datetime
    spawned = float(sys.argv[1])
    settings, email, event_id, now = json.loads(sys.argv[2]), *sys.argv[3:6]
    now = datetime.fromisoformat(now)
    started = time.time()
    out = {"interpreter_ms": (started - spawned) * 1000}
    t = time.perf_counter()
    from addin.app import create_app
    out["import_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    app = create_app(settings, clock=lambda: now)
    out["create_app_ms"] = (time.perf_counter() - t) * 1000
    client = app.test_client()
    token = app.extensions["goedgesprek.identity"].issue(email, "Ada")
    headers = {"Authorization": "Bearer " + token}
    answer = client.get(f"/api/context?event={event_id}", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    out["first_context_since_start_ms"] = (time.time() - spawned) * 1000
    print(json.dumps({k: round(v, 1) for k, v in out.items()}))
    """
)


FIRST_EVENT = textwrap.dedent(
    """
    import json, sys, time
    spawned = float(sys.argv[1])
    kind, url, token, user, event_id = sys.argv[2:7]
    if kind == "o365":
        from bench.o365_account import o365_calendar
        o365_calendar(url, token, user)[2].get_event(event_id)
    else:
        from connectors.graph import GraphAccount, StaticToken
        account = GraphAccount(lambda _: StaticToken(token), base_url=url + "/v1.0")
        account.calendar(user).get_event(event_id)
    print(json.dumps({"first_event_since_start_ms": round((time.time() - spawned) * 1000, 1)}))
    """
)


BYTECODE = Path(tempfile.gettempdir()) / "goedgesprek-bench-pycache"
"""Where fresh processes keep compiled modules: a deployed server has them (pip compiles on
install), so a start-up is measured with bytecode, whatever the shell says about writing it."""


def _fresh(script: str, *args: str) -> dict[str, float]:
    """Run `script` in a fresh interpreter, passing when it was spawned; its JSON line."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(BYTECODE)
    done = subprocess.run(
        [sys.executable, "-c", script, repr(time.time()), *args],
        cwd=ROOT,
        env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path[1:]])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"a fresh process failed:\n{done.stderr[-3000:]}")
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def cold_start(repeat: int) -> dict[str, Any]:
    """Fresh processes: `create_app` with BACKEND=graph and its first context (remembered);
    beside it, taking turns, `GraphAccount`'s and python-o365's first event in a fresh process."""
    runs: list[dict[str, float]] = []
    first_events: dict[str, list[float]] = {"connector": [], "o365": []}
    with tempfile.TemporaryDirectory() as tmp, wires.wire("graph") as w:
        w.capture.app = peers._Calendars(w.capture.app)
        p = wires.panel(w, Path(tmp))
        p.context(wires.ADA)  # the event's mapping is remembered, as for a returning user
        provider = p.app.extensions.get("goedgesprek.provider")
        if provider is not None:
            provider.close()
        settings = {k: v for k, v in p.settings.items() if k != "TESTING"}
        event_id = p.copies[wires.ADA]
        # One discarded round writes the bytecode the measured ones start from.
        for i in range(repeat + 1):
            args = (json.dumps(settings), wires.ADA, event_id, p.clock().isoformat())
            cold = _fresh(COLD, *args)
            if i:
                runs.append(cold)
            for kind, times in first_events.items():
                found = _fresh(
                    FIRST_EVENT, kind, w.server.url, w.tokens[wires.ADA], wires.ADA, event_id
                )
                if i:
                    times.append(found["first_event_since_start_ms"])
    keys = runs[0].keys()
    return {
        "runs": len(runs),
        "median": {k: round(statistics.median(r[k] for r in runs), 1) for k in keys},
        "first_event_since_start_ms": {
            kind: round(statistics.median(times), 1) for kind, times in first_events.items()
        },
        "all": runs,
    }


# -- d. the local store at scale -----------------------------------------------------------------


def store(sizes: tuple[int, ...] = STORE_SIZES, repeat: int = 20) -> dict[str, Any]:
    """The local backend's context and a week's listing with `sizes` events in Ada's calendar."""
    from bench.panel import _setup
    from connectors.models import Attendee, NewEvent

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        client, _recorder, ada, event_id, calendar = _setup(Path(tmp), with_calendar=True)
        url = f"/api/context?event={event_id}&lang=nl"
        begin = datetime(2027, 6, 7, 6, 0, tzinfo=UTC)
        week = (begin, begin + timedelta(days=7))
        made = 0
        for size in sizes:
            while made < size:
                start = begin + timedelta(hours=made)
                event = NewEvent(
                    f"Overleg {made}",
                    start,
                    start + timedelta(minutes=30),
                    "Europe/Amsterdam",
                    wires.ADA,
                    attendees=(Attendee(wires.GRACE),),
                )
                calendar.create_event(event, idempotency_key=f"scale:{made}")
                made += 1

            def ask() -> None:
                answer = client.get(url, headers=ada)
                if answer.status_code != 200:
                    raise RuntimeError(answer.get_data(as_text=True)[:500])

            ask()
            listed = len(calendar.events(*week))
            ctx_samples, list_samples = [], []
            for _ in range(repeat):
                for fn, samples in (
                    (ask, ctx_samples),
                    (lambda: calendar.events(*week), list_samples),
                ):
                    t0 = time.perf_counter()
                    fn()
                    samples.append((time.perf_counter() - t0) * 1000)
            out[str(size)] = {
                "context": wires.summary(ctx_samples),
                "list_week": {**wires.summary(list_samples), "events": listed},
            }
    return out


def run(quick: bool = False) -> dict[str, Any]:
    """Every section; `quick` cuts samples and sizes (for a smoke run, not for the report)."""
    started = time.perf_counter()
    samples = {0.0: 6, 50.0: 2} if quick else SAMPLES
    result: dict[str, Any] = {"machine": machine(), "settings": {}}
    result["settings"] = {
        "latencies_ms": list(LATENCIES),
        "rounds": {f"{k:g}ms": v for k, v in samples.items()},
        "context_samples": 3 if quick else CONTEXT_SAMPLES,
        "cold_starts": 2 if quick else COLD_STARTS,
        "store_sizes": [100, 500] if quick else list(STORE_SIZES),
    }
    sections = (
        (
            "peers",
            lambda: {name: peers.measure(name, LATENCIES, samples) for name in wires.PROVIDERS},
        ),
        ("context", lambda: context(50.0, result["settings"]["context_samples"])),
        ("cold_start", lambda: cold_start(result["settings"]["cold_starts"])),
        ("store", lambda: store(tuple(result["settings"]["store_sizes"]))),
        ("cadence", cadence.measure),
    )
    took: dict[str, float] = {}
    for name, measure in sections:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        result[name] = measure()
        took[name] = round(time.perf_counter() - t0, 1)
    result["section_s"] = took
    result["run_s"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    """Run and write ``<out>/bench.json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", default="test-output/bench", help="folder for bench.json")
    parser.add_argument("--quick", action="store_true", help="few samples: a smoke run")
    args = parser.parse_args()
    result = run(quick=args.quick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out / 'bench.json'} in {result['run_s']} s")


if __name__ == "__main__":
    main()
