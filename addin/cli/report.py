"""`goedgesprek report cadence`: whether the conversations take place, per team (HR).

Reads what the background sweep counted (`addin.cadence_report`): counts and dates only. Settings
come from ``GOEDGESPREK_*`` variables, as for `goedgesprek serve`; ``--data-dir`` overrides the
data directory. Teams of fewer than five pairs are folded into their manager's manager's team.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from addin.cli._errors import OneLineErrors, fail
from addin.cli.serve import env_settings


@click.group(name="report")
def report() -> None:
    """Reports for HR: counts and dates, never what was said."""


@report.command(name="cadence", cls=OneLineErrors)
@click.option("--team", metavar="EMAIL", default="", help="Only this manager's team.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "csv", "html")),
    default="table",
    show_default=True,
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data directory (default: GOEDGESPREK_DATA_DIR, else the per-user one).",
)
def cadence(team: str, fmt: str, data_dir: Path | None) -> None:
    """Per team: pairs with four or more conversations in twelve months, the overdue ones, the
    next planned date and the conversations held per quarter."""
    from addin.cadence_report import (
        COLUMNS,
        CadenceStats,
        active_series,
        as_csv,
        as_html,
        cadence_report,
        rows,
        timeouts_since,
    )
    from addin.wiring import build

    config: dict[str, Any] = env_settings(os.environ, data_dir)
    try:
        services = build(config)
    except Exception as exc:  # a setting that cannot be used: one line, not a traceback
        fail(f"cannot start: {exc}", code=2)
    try:
        registry = services.registry
        series = active_series(registry)
        counted = CadenceStats(registry.engine).all()
        now = services.clock()
        teams = cadence_report(
            series,
            counted,
            services.directory.manager_of,
            now,
            team=team,
            timeouts=timeouts_since(registry.engine, now),
        )
    finally:
        services.close()
    if team and not teams:
        fail(f"no team of {team} in the report (a small team is folded into the one above)")
    if fmt == "csv":
        click.echo(as_csv(teams), nl=False)
        return
    if fmt == "html":
        click.echo(as_html(teams, now))
        return
    from rich.console import Console
    from rich.table import Table

    quarters = list(teams[0].per_quarter) if teams else []
    table = Table(title=f"Cadence report, {now.date().isoformat()}")
    for name in (*COLUMNS, *quarters):
        table.add_column(name, justify="left" if name.startswith("team") else "right")
    for cells in rows(teams):
        table.add_row(*cells)
    Console(highlight=False).print(table)
