"""`goedgesprek rollout pairs.csv`: plan every pair of the organisation at once.

Settings come from ``GOEDGESPREK_*`` variables, as for `goedgesprek serve` (the same data
directory, database and provider); ``--provider`` and ``--data-dir`` override them. The file's
header is ``employee,manager`` followed by any of ``tz,weekdays,window,duration,place``.

Every row is checked first; each bad one is listed by its line number with what to correct, and
is not planned. ``--dry-run`` stops there, after showing each good pair's first date. Otherwise
the good pairs are planned with a progress bar; a rerun skips the pairs that are done and
finishes any a stopped run left halfway. ``--failures FILE`` writes every pair not planned, with
the reason, as CSV for whoever fixes them. Exit status: 0 when every row was planned (or was done
before), 1 when some failed, 2 when the file or the settings cannot be used.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import click

from addin.cli._errors import OneLineErrors, fail
from addin.cli.serve import env_settings

PROVIDERS = ("graph", "google", "mixed", "local")
MAX_FILE = 64 * 1024 * 1024


@click.command(name="rollout", cls=OneLineErrors)
@click.argument(
    "pairs", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--from-directory",
    is_flag=True,
    help="Plan every employee with a manager in the directory, instead of a file.",
)
@click.option(
    "--reader",
    metavar="EMAIL",
    default="",
    help="Whose sign-in reads the directory on Microsoft 365 (an HR administrator's).",
)
@click.option("--provider", type=click.Choice(PROVIDERS), help="Default: GOEDGESPREK_BACKEND.")
@click.option(
    "--dry-run", is_flag=True, help="Check the file and show each pair's plan; create nothing."
)
@click.option(
    "--failures",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the pairs not planned, with the reason, to this CSV file.",
)
@click.option(
    "--lang",
    type=click.Choice(("nl", "en")),
    default="en",
    show_default=True,
    help="The language of the reasons and of the series' titles.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data directory (default: GOEDGESPREK_DATA_DIR, else the per-user one).",
)
def rollout(
    pairs: Path | None,
    *,
    from_directory: bool,
    reader: str,
    provider: str | None,
    dry_run: bool,
    failures: Path | None,
    lang: str,
    data_dir: Path | None,
) -> None:
    """Plan the quarterly series of every pair in PAIRS (CSV: employee,manager,...)."""
    from rich.console import Console

    from addin.rollout import HeaderError, Rollout, check_reporting_lines, read_pairs

    console = Console(highlight=False)
    if (pairs is None) == (not from_directory):
        fail("name a CSV file of pairs, or say --from-directory (not both)", code=2)
    rows: list[Any] = []
    problems: list[Any] = []
    if pairs is not None:
        rows, problems = _read(pairs, read_pairs, HeaderError)
    config: dict[str, Any] = env_settings(os.environ, data_dir)
    if provider:
        config["BACKEND"] = provider
    services = _services(config)
    try:
        if pairs is None:
            rows = _from_directory(services.directory, reader.strip().lower())
            console.print(f"The directory names a manager for {len(rows)} people.")
        else:
            rows, wrong = check_reporting_lines(rows, services.directory)
            problems = sorted([*problems, *wrong], key=lambda p: p.line)
            _show_problems(console, pairs, problems)
        results = _run(console, Rollout(services.conversations, locale=lang), rows, dry_run)
    finally:
        services.close()
    failed = [r for r in results if r.outcome == "failed"]
    _summary(console, results, problems, dry_run)
    if failures is not None:
        _write_failures(failures, problems, failed)
        console.print(f"The pairs not planned, with the reasons: {failures}")
    if problems or failed:
        raise SystemExit(1)


def _read(pairs: Path, read_pairs: Any, header_error: type[Exception]) -> tuple[Any, Any]:
    if pairs.stat().st_size > MAX_FILE:
        fail(f"{pairs} is larger than {MAX_FILE // (1024 * 1024)} MB: split it", code=2)
    try:
        text = pairs.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{pairs} is not UTF-8 text: save it as CSV UTF-8", code=2)
    try:
        found: tuple[Any, Any] = read_pairs(text)
    except header_error as exc:
        fail(f"{pairs}: {exc}", code=2)
    return found


def _from_directory(directory: Any, reader: str) -> list[Any]:
    """Every (employee, manager) of the directory as rows numbered in its order."""
    from addin.rollout import PairRow
    from connectors.errors import ConnectorError

    try:
        lines = directory.reporting_lines(reader)
    except ConnectorError as exc:
        fail(f"the directory could not be read: {exc}")
    return [PairRow(n + 1, e, m) for n, (e, m) in enumerate(lines) if e != m]


def _services(config: dict[str, Any]) -> Any:
    from addin.wiring import build

    try:
        return build(config)
    except Exception as exc:  # a setting that cannot be used: one line, not a traceback
        fail(f"cannot start: {exc}", code=2)


def _show_problems(console: Any, pairs: Path, problems: list[Any]) -> None:
    if not problems:
        return
    console.print(f"[bold]{len(problems)} line(s) of {pairs.name} are not planned:[/bold]")
    for p in problems:
        who = f" {p.employee} / {p.manager}" if p.employee or p.manager else ""
        console.print(f"  line {p.line}{who}: {p.reason}", markup=False)


def _run(console: Any, rollout: Any, rows: list[Any], dry_run: bool) -> list[Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if not rows:
        return []
    label = "Checking the plans" if dry_run else "Planning the series"
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(label, total=len(rows), rate="")

        def done(_result: Any) -> None:
            finished = progress.tasks[task].completed + 1
            elapsed = progress.tasks[task].elapsed or 0.0
            rate = f"{finished / elapsed:.1f} pairs/s" if elapsed > 0 else ""
            progress.update(task, advance=1, rate=rate)

        results: list[Any] = rollout.run(rows, dry_run=dry_run, on_result=done)
    return results


def _summary(console: Any, results: list[Any], problems: list[Any], dry_run: bool) -> None:
    from rich.table import Table

    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    table = Table(title="Roll-out" + (" (dry run: nothing created)" if dry_run else ""))
    table.add_column("pairs")
    table.add_column("count", justify="right")
    shown = (
        ("would", "would be planned"),
        ("planned", "planned now"),
        ("done", "planned before (skipped)"),
        ("failed", "failed: run again, or see the reasons"),
    )
    for outcome, label in shown:
        if counts.get(outcome):
            table.add_row(label, str(counts[outcome]))
    if problems:
        table.add_row("not planned: correct the file or the directory", str(len(problems)))
    console.print(table)
    if dry_run:
        for r in sorted(results, key=lambda r: r.row.line):
            when = r.first.strftime("%Y-%m-%d %H:%M") if r.first else "-"
            reason = f"  ({r.reason})" if r.reason else ""
            said = {"would": "would be planned", "done": "planned before"}.get(r.outcome, r.outcome)
            console.print(
                f"  line {r.row.line}: {r.row.employee} / {r.row.manager}: {said}, "
                f"first {when}{reason}",
                markup=False,
            )
    for r in sorted((r for r in results if r.outcome == "failed"), key=lambda r: r.row.line):
        console.print(
            f"  line {r.row.line}: {r.row.employee} / {r.row.manager}: {r.reason}", markup=False
        )


def _write_failures(path: Path, problems: list[Any], failed: list[Any]) -> None:
    rows = [(p.line, p.employee, p.manager, p.reason) for p in problems]
    rows += [(r.row.line, r.row.employee, r.row.manager, r.reason) for r in failed]
    rows.sort(key=lambda row: row[0])
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("line", "employee", "manager", "reason"))
        writer.writerows(rows)
