"""`goedgesprek sweep --once [--dry-run]` on a data directory with a planned series."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from test_api import Api

from addin.app import create_app
from addin.cli import cli
from addin.demo import seed
from connectors.local import LocalStore
from connectors.testing import ManualClock


def _planned(tmp_path: Path) -> None:
    """A series planned a week ago, so its first conversation is about now (real time)."""
    start = datetime.now(UTC) - timedelta(days=9)
    clock = ManualClock(start)
    store = LocalStore(tmp_path, clock=clock)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store, clock=clock)
    seed(store, start)
    Api(app, clock).plan()
    store.close()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sweep", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_a_dry_run_then_a_sweep_send_the_same_and_a_second_sweep_nothing(
    tmp_path: Path,
) -> None:
    _planned(tmp_path)
    code, out = _run("--once", "--dry-run", "--data-dir", str(tmp_path))
    assert code == 0, out
    found = re.search(r"1 active series, would send (\d+)", out)
    assert found, out
    would = int(found[1])
    code, out = _run("--once", "--data-dir", str(tmp_path))
    assert code == 0, out
    assert f"1 active series, sent {would}" in out
    store = LocalStore(tmp_path)
    try:
        assert len(store.outbox()) == would
    finally:
        store.close()
    code, out = _run("--once", "--data-dir", str(tmp_path))
    assert "sent 0" in out


def test_without_once_it_says_what_to_add(tmp_path: Path) -> None:
    code, out = _run("--data-dir", str(tmp_path))
    assert code == 2
    assert "--once" in out
