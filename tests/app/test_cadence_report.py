"""The HR cadence report: counts and dates per team, small teams folded upwards, and nothing of
what the pairs wrote (marker text planted in every field is found in no output)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from test_api import ADA, GRACE, Api, seeded_api

from addin.background.service import build_sweep
from addin.cadence_report import REST, CadenceStats, Counted, as_csv, as_html, cadence_report
from cadence.model import Locale, Pair, Person, Series
from cadence.recurrence import NthWeekday, Rule, Weekday

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 6, 15, 9, 0, tzinfo=UTC)
MARKER = "ZZ-GEHEIM-42"


def _series(n: int, manager: str) -> Series:
    rule = Rule.build(datetime(2026, 1, 6, 10, 0), "Europe/Amsterdam", NthWeekday(2, Weekday.TU))
    employee = Person(
        f"e{n}@example.org", f"E{n}", f"e{n}@example.org", "Europe/Amsterdam", Locale.NL
    )
    boss = Person(manager, manager, manager, "Europe/Amsterdam", Locale.NL)
    return Series(id=f"s{n}", request_id=f"r{n:08d}", pair=Pair(employee, boss), rule=rule)


def _held(*days_ago: int) -> tuple[date, ...]:
    return tuple((NOW - timedelta(days=d)).date() for d in sorted(days_ago, reverse=True))


def test_teams_count_pairs_with_four_and_fold_small_teams_into_the_one_above() -> None:
    series = [_series(n, "big@example.org") for n in range(6)]
    series += [_series(10 + n, "small@example.org") for n in range(2)]
    series += [_series(20, "alone@example.org")]
    counted = {
        s.id: Counted(s.id, _held(20, 110, 200, 290), NOW + timedelta(days=60)) for s in series
    }
    counted["s0"] = Counted("s0", _held(300), None)  # one held, nothing planned: overdue
    del counted["s1"]  # not counted yet
    parents = {"small@example.org": "big@example.org", "alone@example.org": None}
    teams = cadence_report(series, counted, parents.get, NOW)
    by_manager = {t.manager: t for t in teams}
    assert set(by_manager) == {"big@example.org"}  # the small ones folded in, the lone one too
    big = by_manager["big@example.org"]
    assert big.pairs == 9 and big.not_counted == 1
    assert big.four_or_more == 7 and big.overdue == 1
    # The lone team had no manager above it: into the rest, and the rest, too small on its
    # own, into the smallest team there is.
    assert sorted(big.folded) == sorted(["small@example.org", REST, "alone@example.org"])
    assert big.per_quarter == {"2026-Q3": 8, "2026-Q4": 7, "2027-Q1": 7, "2027-Q2": 7}
    assert min(big.next_planned) == NOW + timedelta(days=60)
    only = cadence_report(series, counted, parents.get, NOW, team="big@example.org")
    assert [t.manager for t in only] == ["big@example.org"]
    assert cadence_report(series, counted, parents.get, NOW, team="small@example.org") == []


def test_the_sweep_keeps_dates_only_and_the_report_shows_no_content(tmp_path: Path) -> None:
    api: Api = seeded_api(tmp_path)
    planned = api.plan()
    context = planned["context"]
    # Marker text in every field a person can type: agenda, notes, record, agreement, action.
    context = api.ops(
        ADA,
        context,
        {"op": "agenda.add_item", "theme": "role", "title": MARKER, "notes": MARKER},
    ).get_json()
    start = datetime.fromisoformat(context["occurrence"]["start"])
    api.clock.set(start + timedelta(minutes=75))
    fresh = api.call("GET", f"/api/context?event={context['event']['id']}", ADA).get_json()
    item = fresh["agenda"]["items"][-1]["id"]
    api.ops(
        ADA,
        fresh,
        {"op": "record.summarise", "item": item, "text": MARKER, "finished": False},
        {"op": "record.add_agreement", "text": MARKER},
        {"op": "record.add_action", "description": MARKER, "owner": "employee"},
    )
    services = api.app.extensions["goedgesprek.services"]
    build_sweep(services, api.app.config).run()
    counted = CadenceStats(services.registry.engine).all()
    (stats,) = counted.values()
    assert stats.held == (start.astimezone(UTC).date(),)
    assert stats.next_planned is not None and stats.next_planned > start
    outputs = []
    for fmt in ("table", "csv", "html"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "addin.cli",
                "report",
                "cadence",
                "--format",
                fmt,
                "--data-dir",
                str(tmp_path),
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    for out in outputs:
        assert MARKER not in out
        assert ADA not in out  # no employee is named
    header, line = outputs[1].splitlines()[:2]
    assert header.startswith("team (manager),pairs,4+ in 12 months,share,overdue")
    assert line.split(",")[1:5] == ["1", "0", "0%", "0"]
    engine = services.registry.engine
    with engine.connect() as conn:
        from sqlalchemy import text

        stored = " ".join(str(r) for r in conn.execute(text("SELECT * FROM cadence_stats")))
    assert MARKER not in stored
    assert line.split(",")[0] == REST  # a team of one is folded: Grace is not singled out
    assert GRACE not in outputs[1]


def test_csv_and_html_carry_the_same_figures() -> None:
    series = [_series(n, "big@example.org") for n in range(5)]
    counted = {
        s.id: Counted(s.id, _held(10, 100, 190, 280), NOW + timedelta(days=30)) for s in series
    }
    teams = cadence_report(series, counted, lambda m: None, NOW)
    text = as_csv(teams)
    assert text.splitlines()[1].startswith("big@example.org,5,5,100%,0,")
    page = as_html(teams, NOW)
    assert "<script" not in page and "big@example.org" in page and "<svg" in page


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_an_unknown_team_is_said_plainly(tmp_path: Path, fmt: str) -> None:
    seeded_api(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "addin.cli",
            "report",
            "cadence",
            "--team",
            "nobody@example.org",
            "--format",
            fmt,
            "--data-dir",
            str(tmp_path),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "no team of nobody@example.org" in done.stderr
