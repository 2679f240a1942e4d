"""A fresh process with the Graph backend: `create_app` imports no SDK and starts no thread;
the first request starts the warm-up, and a port used before it is done waits for it."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

# Providers and hosts, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    settings = json.loads(sys.argv[1])
    from addin.app import create_app
    app = create_app(settings)
    def sdk():
        return sorted(m for m in sys.modules if m.split(".")[0] in ("msgraph", "kiota_http"))
    def warming():
        return any(t.name == "graph-warm-up" for t in threading.enumerate())
    out = {"sdk_after_create_app": sdk(), "thread_after_create_app": warming()}
    assert app.test_client().get("/healthz").status_code == 200
    out["thread_after_first_request"] = warming() or bool(sdk())
    calendar = app.extensions["goedgesprek.ports"]["calendar"]("ada@example.org")
    out["port"] = type(calendar).__module__
    out["sdk_after_port"] = bool(sdk())
    out["builders_after_port"] = sorted(m for m in sys.modules if m.endswith("request_builder")
        and m.startswith("msgraph.generated."))
    print(json.dumps(out))
    """
)


def _python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`script` run in a fresh interpreter of this checkout (nothing imported yet)."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _run(settings: dict[str, object]) -> dict[str, object]:
    done = _python(SCRIPT, json.dumps(settings))
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_create_app_with_graph_imports_no_sdk_and_the_first_request_starts_it(
    tmp_path: Path,
) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"ada@example.org": "token"}))
    settings = {
        "TESTING": True,
        "DATA_DIR": str(tmp_path),
        "BACKEND": "graph",
        "GRAPH_URL": "http://127.0.0.1:9/v1.0",
        "GRAPH_TOKENS": str(tokens),
    }
    found = _run(settings)
    assert found["sdk_after_create_app"] == []
    assert found["thread_after_create_app"] is False
    assert found["thread_after_first_request"] is True
    assert found["port"] == "connectors.graph"
    assert found["sdk_after_port"] is True
    assert found["builders_after_port"] == []


BUILDER = textwrap.dedent(
    """
    import warnings
    warnings.simplefilter("error")
    import connectors.graph
    from msgraph import GraphServiceClient
    from msgraph.generated.users.item.events.events_request_builder import EventsRequestBuilder
    config = EventsRequestBuilder.EventsRequestBuilderGetRequestConfiguration
    print(config.__name__)
    """
)


def test_a_request_builder_imported_later_raises_none_of_the_sdks_own_warnings() -> None:
    """The connector imports no request builder; one imported later (as the SDK's properties
    do, mid-request) still does not stop on the SDK's deprecation warnings, with warnings as
    errors, while any other warning still is one."""
    done = _python(BUILDER)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["EventsRequestBuilderGetRequestConfiguration"]
    other = BUILDER.replace("print(config.__name__)", "warnings.warn('ours', DeprecationWarning)")
    done = _python(other)
    assert done.returncode != 0
    assert "DeprecationWarning: ours" in done.stderr


FREEZE = textwrap.dedent(
    """
    import gc, json, sys
    from addin.app import create_app
    create_app(json.loads(sys.argv[1]))
    print(gc.get_freeze_count())
    """
)


def test_start_up_objects_are_frozen_out_of_the_collectors_scans_unless_testing(
    tmp_path: Path,
) -> None:
    """A served app freezes what start-up made (a later full collection would scan it, about
    50 ms inside some request); a test process, which makes many apps, does not unless asked."""
    counts = []
    for extra in ({}, {"GC_FREEZE": True}, {"GC_FREEZE": False}):
        settings = {"TESTING": True, "DATA_DIR": str(tmp_path), **extra}
        done = _python(FREEZE, json.dumps(settings))
        assert done.returncode == 0, done.stderr[-2000:]
        counts.append(int(done.stdout.split()[-1]))
    assert counts[0] == 0
    assert counts[1] > 10_000
    assert counts[2] == 0


def _deferred(
    monkeypatch: pytest.MonkeyPatch, *, freeze: bool, wait: bool
) -> tuple[Any, list[bool], list[bool]]:
    """A `_Deferred` whose build notes whether the collector runs and, with `wait`, waits
    (bounded) until a port asks for the account; `warm_up` is recorded, not run."""
    import connectors.graph
    from addin.backends import _Deferred

    rehearsed: list[bool] = []
    monkeypatch.setattr(connectors.graph, "warm_up", lambda *, collect: rehearsed.append(collect))
    collecting: list[bool] = []
    box: list[Any] = []

    def build() -> str:
        collecting.append(gc.isenabled())
        deadline = time.monotonic() + 5
        while wait and not box[0]._waited and time.monotonic() < deadline:
            time.sleep(0.005)
        return "account"

    box.append(_Deferred(build, freeze=freeze))
    return box[0], rehearsed, collecting


def _finished() -> None:
    for thread in threading.enumerate():
        if thread.name == "graph-warm-up":
            thread.join(10)


def test_a_port_already_waiting_is_not_made_to_wait_for_a_rehearsal_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first request pays the first-use costs itself; a rehearsal beside it would only
    compete with it for the interpreter lock."""
    deferred, rehearsed, collecting = _deferred(monkeypatch, freeze=False, wait=True)
    assert deferred.get(timeout=10) == "account"
    _finished()
    assert rehearsed == []
    assert collecting == [False]
    assert gc.isenabled()


def test_the_warm_up_pauses_the_collector_and_a_served_app_freezes_what_it_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for freeze in (False, True):
        deferred, rehearsed, collecting = _deferred(monkeypatch, freeze=freeze, wait=False)
        before = gc.get_freeze_count()
        deferred.start()
        _finished()
        assert deferred.get(timeout=10) == "account"
        frozen = gc.get_freeze_count() > before
        gc.unfreeze()
        assert collecting == [False]
        assert gc.isenabled()
        # Warmed up, with the collection left to the freeze when the app freezes.
        assert rehearsed == [not freeze]
        assert frozen is freeze
