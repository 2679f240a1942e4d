"""Roll-out: every pair of a CSV planned once, resumable after a kill, bad rows named by line.

The file is read and checked (`read_pairs`, then the directory); the good pairs are planned
through the service as the employee. `goedgesprek rollout` runs as a process of its own against
the local store and against the Graph and Google emulators over HTTP; killed halfway and run
again, it leaves each pair one series in the registry and one in the calendar.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from test_provider_backends import Provider, served  # noqa: F401

from addin.rollout import HeaderError, PairRow, check_reporting_lines, read_pairs
from addin.store.db import create_store_engine
from addin.store.tables import series_table
from addin.wiring import build
from connectors.local import LocalStore

ROOT = Path(__file__).resolve().parents[2]
HEADER = "employee,manager,tz,weekdays,window,duration,place"


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "addin.cli", "rollout", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# -- reading the file ----------------------------------------------------------------------------


def test_every_bad_row_is_named_by_its_line_and_the_good_ones_are_kept() -> None:
    text = "\n".join(
        [
            HEADER,  # 1
            "ada@example.org,grace@example.org,Europe/Amsterdam,TU TH,09:00-17:00,60,Utrecht",
            "bo@example.org,grace@example.org,,,,,",  # 3: all defaults
            "not-an-address,grace@example.org,,,,,",  # 4
            "cy@example.org,,,,,,",  # 5: no manager
            "di@example.org,grace@example.org,Mars/Olympus,,,,",  # 6
            "ed@example.org,grace@example.org,,SA,,,",  # 7
            "fe@example.org,grace@example.org,,,17:00-09:00,,",  # 8
            "gi@example.org,grace@example.org,,,,61,",  # 9
            "ADA@example.org,grace@example.org,,,,,",  # 10: the same pair as line 2
            "bo@example.org,hal@example.org,,,,,",  # 11: bo has a manager on line 3
            "ho@example.org,grace@example.org",  # 12: too few fields
            "",  # 13: empty, skipped
            '"iv@example.org",grace@example.org,,MO;FR,08:30 - 12:00,30,online',  # 14
            "ju@example.org,ju@example.org,,,,,",  # 15
        ]
    )
    good, problems = read_pairs(text)
    assert [(r.line, r.employee) for r in good] == [
        (2, "ada@example.org"),
        (3, "bo@example.org"),
        (14, "iv@example.org"),
    ]
    assert good[0].preferences == {
        "weekdays": ["TU", "TH"],
        "earliest": "09:00",
        "latest": "17:00",
        "duration": 60,
        "place": "Utrecht",
    }
    assert good[0].tz == "Europe/Amsterdam"
    assert good[1].preferences == {}
    assert good[2].preferences == {
        "weekdays": ["MO", "FR"],
        "earliest": "08:30",
        "latest": "12:00",
        "duration": 30,
        "online": True,
    }
    reasons = {p.line: p.reason for p in problems}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 15]
    assert "not an email address" in reasons[4]
    assert "manager is missing" in reasons[5]
    assert "Mars/Olympus" in reasons[6]
    assert "MO TU WE TH FR" in reasons[7]
    assert "end must be after the start" in reasons[8]
    assert "30, 45, 60" in reasons[9]
    assert "line 2" in reasons[10]
    assert "line 3" in reasons[11] and "one manager" in reasons[11]
    assert "2 fields" in reasons[12] and "7" in reasons[12]
    assert "same person" in reasons[15]


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "empty"),
        ("employee,boss\nada@example.org,grace@example.org", "missing: manager"),
        ("employee,manager,colour\n", "colour"),
        ("employee,manager,manager\n", "twice"),
    ],
)
def test_a_file_without_a_usable_header_is_refused_whole(text: str, words: str) -> None:
    with pytest.raises(HeaderError, match=words):
        read_pairs(text)


def test_a_quoted_field_over_two_lines_keeps_the_line_numbers_right() -> None:
    text = (
        'employee,manager,place\nada@example.org,grace@example.org,"Kamer\n2"\n'
        "bad,grace@example.org,\nbo@example.org,grace@example.org,Kamer 2\n"
    )
    good, problems = read_pairs(text)
    assert [(p.line, "one line" in p.reason) for p in problems] == [(2, True), (4, False)]
    assert [r.line for r in good] == [5]


def test_the_directory_decides_who_is_whose_manager(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    try:
        for email in ("ada@example.org", "bo@example.org", "grace@example.org"):
            store.calendar(email)
        store.set_manager("ada@example.org", "grace@example.org")
        store.set_manager("bo@example.org", "hal@example.org")
        services = build({"DATA_DIR": str(tmp_path)}, store=store, create_keyring=True)
        rows = [
            PairRow(2, "ada@example.org", "grace@example.org"),
            PairRow(3, "bo@example.org", "grace@example.org"),
            PairRow(4, "zo@example.org", "grace@example.org"),
        ]
        good, problems = check_reporting_lines(rows, services.directory)
        assert [r.line for r in good] == [2]
        reasons = {p.line: p.reason for p in problems}
        assert "hal@example.org" in reasons[3]
        assert "not in the directory" in reasons[4]
        services.close()
    finally:
        store.close()


# -- the command, on the local store ---------------------------------------------------------------


def _local_org(data_dir: Path, pairs: int) -> list[tuple[str, str]]:
    """A local store with `pairs` employees under a handful of managers; the pairs."""
    store = LocalStore(data_dir)
    try:
        out = []
        for n in range(pairs):
            employee, manager = f"e{n:04d}@example.org", f"m{n % 7}@example.org"
            store.calendar(employee)
            store.calendar(manager)
            store.set_manager(employee, manager)
            out.append((employee, manager))
        # As `goedgesprek keys init` would: the documents' keyring.
        build({"DATA_DIR": str(data_dir)}, store=store, create_keyring=True).close()
        return out
    finally:
        store.close()


def _write(path: Path, pairs: list[tuple[str, str]], extra: list[str] = ()) -> Path:  # type: ignore[assignment]
    lines = ["employee,manager,weekdays", *(f"{e},{m},TU WE TH" for e, m in pairs), *extra]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def kill_halfway(path: str, env: dict[str, str], data_dir: Path, pairs: int) -> None:
    """Run `goedgesprek rollout path` and kill it (SIGKILL) once half the pairs are planned."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "addin.cli", "rollout", path],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if series_count(data_dir) >= pairs // 2:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the roll-out ended before it could be stopped halfway"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()


def series_count(data_dir: Path) -> int:
    """The series in the server store the command used (the data directory's, or the
    PostgreSQL database the environment names)."""
    engine = create_store_engine(
        os.environ.get("GOEDGESPREK_DATABASE_URL") or None, data_dir=data_dir
    )
    try:
        if "series" not in inspect(engine).get_table_names():
            return 0  # the command has not made the store yet
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(series_table)) or 0)
    finally:
        engine.dispose()


def test_a_dry_run_names_the_bad_rows_and_creates_nothing(tmp_path: Path) -> None:
    pairs = _local_org(tmp_path, 3)
    path = _write(
        tmp_path / "pairs.csv",
        pairs,
        extra=["e0000@example.org,m5@example.org,MO", "x@example.org,m1@example.org,TU"],
    )
    done = _cli(str(path), "--dry-run", "--provider", "local", "--data-dir", str(tmp_path))
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "line 5" in out and "line 6" in out
    assert "would be planned" in out and "3" in out
    assert series_count(tmp_path) == 0


def test_the_command_plans_every_pair_and_a_rerun_skips_them(tmp_path: Path) -> None:
    pairs = _local_org(tmp_path, 12)
    path = _write(tmp_path / "pairs.csv", pairs)
    failures = tmp_path / "failures.csv"
    first = _cli(
        str(path), "--provider", "local", "--data-dir", str(tmp_path), "--failures", str(failures)
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "planned now" in first.stdout
    assert series_count(tmp_path) == 12
    again = _cli(str(path), "--provider", "local", "--data-dir", str(tmp_path))
    assert again.returncode == 0 and "planned before (skipped)" in again.stdout
    assert series_count(tmp_path) == 12
    with failures.open(encoding="utf-8") as f:
        assert list(csv.reader(f)) == [["line", "employee", "manager", "reason"]]
    # Each employee's calendar holds one series.
    store = LocalStore(tmp_path)
    try:
        start = datetime.now(UTC)
        for employee, _manager in pairs:
            events = store.calendar(employee).events(start, start + timedelta(days=200))
            assert len({e.series_id for e in events if e.series_id}) == 1, employee
    finally:
        store.close()


# -- killed halfway, on the provider emulators -----------------------------------------------------

PAIRS = 200


@pytest.fixture(params=["graph", "google"])
def org(request: pytest.FixtureRequest, served: dict[str, Provider]) -> Provider:  # noqa: F811
    chosen = served[request.param]
    chosen.network.faults = None
    chosen.emulator.reset()
    for n in range(PAIRS // 10):
        chosen.emulator.add_user(f"m{n:02d}@example.org", f"Manager {n}")
    for n in range(PAIRS):
        employee = f"e{n:04d}@example.org"
        chosen.emulator.add_user(employee, f"Employee {n}")
        chosen.emulator.set_manager(employee, f"m{n % (PAIRS // 10):02d}@example.org")
    if request.param == "google":
        chosen.emulator.add_admin("hr@example.org")
    return chosen


def _settings(provider: Provider, data_dir: Path) -> dict[str, Any]:
    """The provider's settings, with a token for everyone in the organisation."""
    settings = provider.settings(data_dir)
    people = [f"e{n:04d}@example.org" for n in range(PAIRS)]
    people += [f"m{n:02d}@example.org" for n in range(PAIRS // 10)] + ["hr@example.org"]
    tokens = Path(settings["GRAPH_TOKENS" if provider.name == "graph" else "GOOGLE_TOKENS"])
    tokens.write_text(json.dumps({e: provider.emulator.token(e) for e in people}))
    return settings


def _env(provider: Provider, data_dir: Path) -> dict[str, str]:
    settings = _settings(provider, data_dir)
    return {f"GOEDGESPREK_{k}": str(v) for k, v in settings.items() if k != "TESTING"}


def test_a_rollout_killed_halfway_finishes_on_the_rerun_without_duplicates(
    org: Provider, tmp_path: Path
) -> None:
    pairs = [
        (f"e{n:04d}@example.org", f"m{n % (PAIRS // 10):02d}@example.org") for n in range(PAIRS)
    ]
    path = _write(tmp_path / "pairs.csv", pairs)
    build(_settings(org, tmp_path), create_keyring=True).close()  # as `keys init` would
    kill_halfway(str(path), _env(org, tmp_path), tmp_path, PAIRS)
    halfway = series_count(tmp_path)
    assert PAIRS // 2 <= halfway < PAIRS
    again = _cli(str(path), env=_env(org, tmp_path), timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert series_count(tmp_path) == PAIRS
    # One series in each employee's calendar: nothing made twice by the killed run.
    services = build(_settings(org, tmp_path))
    try:
        start = datetime.now(UTC) - timedelta(days=1)
        for employee, _manager in pairs:
            events = services.calendar(employee).events(start, start + timedelta(days=130))
            masters = {e.series_id for e in events if e.series_id}
            assert len(masters) == 1, (employee, masters)
    finally:
        services.close()


# -- from the directory ---------------------------------------------------------------------------


def test_from_the_directory_every_employee_with_a_manager_is_planned(tmp_path: Path) -> None:
    _local_org(tmp_path, 6)
    done = _cli("--from-directory", "--provider", "local", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "names a manager for 6 people" in done.stdout
    assert series_count(tmp_path) == 6
    both = _cli(str(tmp_path / "x.csv"), "--from-directory", "--data-dir", str(tmp_path))
    assert both.returncode == 2
    neither = _cli("--provider", "local", "--data-dir", str(tmp_path))
    assert neither.returncode == 2 and "--from-directory" in neither.stderr


@pytest.mark.parametrize("name", ["graph", "google"])
def test_from_the_providers_directory_read_as_hr(
    name: str,
    served: dict[str, Provider],  # noqa: F811
    tmp_path: Path,
) -> None:
    chosen = served[name]
    chosen.network.faults = None
    chosen.emulator.reset()
    chosen.emulator.add_user("hr@example.org", "HR")
    if name == "google":
        chosen.emulator.add_admin("hr@example.org")
    for n in range(5):
        chosen.emulator.set_manager(f"e{n:04d}@example.org", f"m{n % 2:02d}@example.org")
    build(_settings(chosen, tmp_path), create_keyring=True).close()
    env = _env(chosen, tmp_path)
    done = _cli("--from-directory", "--reader", "hr@example.org", env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "names a manager for 5 people" in done.stdout
    assert series_count(tmp_path) == 5
