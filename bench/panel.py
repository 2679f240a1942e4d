"""The side panel's context call: server time on the local store, and provider calls it waits on.

Writes `$BENCH_OUT/panel.json` (`bench.run` uses its setup for the store section):
- `context_local`: p50/p95 of `GET /api/context` through the Flask app (test client, token
  verification included) over 1,000 calls on the local store, for an occurrence with an agreed
  agenda, a previous record and open actions.
- `provider_calls`: per context call, how many calendar/drive calls were made and how many of them
  lie on the critical path (calls that had to wait for an earlier one to finish), measured with
  every provider call slowed to `LATENCY_MS` so overlap is visible.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from addin.app import create_app
from addin.demo import seed
from bench._common import hold_first_conversation, timed, write_result
from connectors.local import LocalStore
from connectors.testing import ManualClock

ADA, GRACE = "ada@example.org", "grace@example.org"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LATENCY_MS = 25
CALLS = 1000


class _Recorder:
    """Wraps ports; records (start, end) of every provider call, optionally slowed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float]] = []
        self.latency = 0.0
        self._lock = threading.Lock()

    def wrap(self, factory: Callable[[str], Any], kind: str) -> Callable[[str], Any]:
        recorder = self

        class Proxy:
            def __init__(self, inner: Any) -> None:
                self._inner = inner

            def __getattr__(self, name: str) -> Any:
                attr = getattr(self._inner, name)
                if not callable(attr):
                    return attr

                def call(*args: Any, **kwargs: Any) -> Any:
                    start = time.perf_counter()
                    if recorder.latency:
                        time.sleep(recorder.latency)
                    try:
                        return attr(*args, **kwargs)
                    finally:
                        with recorder._lock:
                            recorder.calls.append((f"{kind}.{name}", start, time.perf_counter()))

                return call

        return lambda email: Proxy(factory(email))

    def critical_path(self) -> int:
        """The longest chain of calls each starting after the previous one ended."""
        ordered = sorted(self.calls, key=lambda c: c[1])
        depth: list[int] = []
        for i, (_name, start, _end) in enumerate(ordered):
            before = [depth[j] for j in range(i) if ordered[j][2] <= start]
            depth.append(1 + max(before, default=0))
        return max(depth, default=0)


def _setup(data_dir: Path, *, with_calendar: bool = False) -> tuple[Any, ...]:
    """The app on a local store with a held first conversation; the next occurrence's id
    (and, `with_calendar`, Ada's local calendar for adding events)."""
    clock = ManualClock(NOW)
    store = LocalStore(data_dir, clock=clock)
    recorder = _Recorder()
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(data_dir)},
        calendar=recorder.wrap(store.calendar, "calendar"),
        drive=recorder.wrap(store.drive, "drive"),
        mailer=store.mailer,
        store=store,
        clock=clock,
    )
    seed(store, NOW)
    client = app.test_client()
    identity = app.extensions["goedgesprek.identity"]
    ada = {"Authorization": f"Bearer {identity.issue(ADA, 'Ada')}"}
    grace = {"Authorization": f"Bearer {identity.issue(GRACE, 'Grace')}"}
    prefs = {"weekdays": ["TU", "WE", "TH"], "earliest": "09:30", "latest": "12:00"}
    body = {"partner": GRACE, "role": "employee", "preferences": prefs, "request_id": "bench-01"}
    ctx = client.post("/api/series", json=body, headers=ada).get_json()["context"]

    def ops(headers: dict[str, str], ctx: dict[str, Any], *items: dict[str, Any]) -> Any:
        url = f"/api/series/{ctx['series']['id']}/occurrences/{ctx['occurrence']['key']}"
        extra = {"If-Match": ctx["etag"]} if ctx["etag"] else {}
        payload = {"event": ctx["event"]["id"], "ops": list(items)}
        return client.post(url, json=payload, headers={**headers, **extra}).get_json()

    ctx = hold_first_conversation(ops, ctx, clock, ada, grace)
    master = store.calendar(ADA).get_event(ctx["event"]["id"]).series_id
    start = datetime.fromisoformat(ctx["occurrence"]["end"])
    following = store.calendar(ADA).instances(master, start, start + timedelta(days=200))[0].id
    if with_calendar:
        return client, recorder, ada, following, store.calendar(ADA)
    return client, recorder, ada, following


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        client, recorder, ada, event_id = _setup(Path(tmp))
        url = f"/api/context?event={event_id}&lang=nl"
        first = client.get(url, headers=ada)
        assert first.status_code == 200, first.get_json()
        assert first.get_json()["open_actions"], "the benchmark needs open actions"

        def context(_i: int) -> None:
            response = client.get(url, headers=ada)
            if response.status_code != 200:
                raise RuntimeError(response.get_data(as_text=True))

        local = timed(context, CALLS)

        recorder.calls.clear()
        recorder.latency = LATENCY_MS / 1000
        t0 = time.perf_counter()
        context(0)
        slowed_ms = (time.perf_counter() - t0) * 1000
        names = sorted(name for name, _s, _e in recorder.calls)
        write_result(
            "panel",
            {
                "context_local": local,
                "provider_calls": {
                    "latency_per_call_ms": LATENCY_MS,
                    "calls": len(names),
                    "which": names,
                    "critical_path": recorder.critical_path(),
                    "context_ms_with_latency": round(slowed_ms, 1),
                },
            },
        )


if __name__ == "__main__":
    main()
