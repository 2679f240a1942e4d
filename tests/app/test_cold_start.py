"""A fresh process with the Graph backend: `create_app` imports no SDK and starts no thread;
the first request starts the warm-up, and a port used before it is done waits for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

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
    print(json.dumps(out))
    """
)


def _run(settings: dict[str, object]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(settings)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
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
        done = subprocess.run(
            [sys.executable, "-c", FREEZE, json.dumps(settings)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        counts.append(int(done.stdout.split()[-1]))
    assert counts[0] == 0
    assert counts[1] > 10_000
    assert counts[2] == 0
