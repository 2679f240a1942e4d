"""`goedgesprek worker`: consumes the Redis queue in its own process; `--health` for a probe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from test_cli_sweep import _planned

from addin.background.queue import HEARTBEAT, Background, make_huey
from addin.cli import cli
from addin.wiring import build
from connectors.local import LocalStore
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _health(data_dir: Path, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["worker", "--health", "--data-dir", str(data_dir)], env=env or None
    )
    return result.exit_code, result.output


def test_health_says_ok_before_any_sweep_and_after_a_recent_one(tmp_path: Path) -> None:
    _planned(tmp_path)
    code, out = _health(tmp_path)
    assert code == 0 and "no sweep has run yet" in out, out
    huey = make_huey({}, tmp_path)
    huey.put(HEARTBEAT, {"at": datetime.now(UTC).isoformat(), "series": 1, "sent": 2})
    code, out = _health(tmp_path)
    assert code == 0 and "1 series, 2 sent" in out, out
    old = datetime.now(UTC) - timedelta(hours=2)
    huey.put(HEARTBEAT, {"at": old.isoformat(), "series": 1, "sent": 0})
    code, out = _health(tmp_path)
    assert code == 1 and "the last sweep ran at" in out, out
    huey.storage.close()


def test_health_refuses_a_queue_setting_it_cannot_use(tmp_path: Path) -> None:
    _planned(tmp_path)
    code, out = _health(tmp_path, GOEDGESPREK_SWEEP_MINUTES="7")
    assert code == 2 and "SWEEP_MINUTES" in out
    code, out = _health(tmp_path, GOEDGESPREK_REDIS_URL="redis://127.0.0.1:1/0")
    assert code == 1 and "the queue does not answer" in out


def test_a_worker_process_consumes_redis_and_stops_on_sigterm(
    tmp_path: Path, redis_url: str
) -> None:
    _planned(tmp_path)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GOEDGESPREK_DATA_DIR": str(tmp_path),
        "GOEDGESPREK_REDIS_URL": redis_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "addin.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    config = {"DATA_DIR": str(tmp_path), "REDIS_URL": redis_url}
    services = build(config)
    store = LocalStore(tmp_path)
    try:
        sender = Background(services, config)
        before = len(store.outbox())
        sender.sweep_soon()
        # The worker's own periodic sweep may run first and write the last heartbeat; either
        # way, the due mails went out once and the heartbeat says a sweep ran.
        assert wait_for(lambda: sender.heartbeat() is not None, 60), "the worker swept nothing"
        assert len(store.outbox()) > before, "the worker sent nothing"
        sent = len(store.outbox())
        sender.sweep_soon()
        assert wait_for(lambda: (sender.heartbeat() or {}).get("sent") == 0, 60)
        assert len(store.outbox()) == sent, "a second sweep sent a mail again"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        proc.stderr.close()
        store.close()
        services.close()
    assert "consuming Redis" in err and "Traceback" not in err
