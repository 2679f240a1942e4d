"""`goedgesprek erase` and `goedgesprek retention`: the privacy officer's commands.

Settings come from ``GOEDGESPREK_*`` variables, as for `goedgesprek serve`; ``--data-dir``
overrides the data directory. See `addin.erasure` and `addin.retention`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from addin.cli._errors import OneLineErrors, fail
from addin.cli.serve import env_settings

_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data directory (default: GOEDGESPREK_DATA_DIR, else the per-user one).",
)


@contextmanager
def _erasure(data_dir: Path | None) -> Iterator[tuple[Any, dict[str, Any]]]:
    from addin.background.service import link_key
    from addin.erasure import Erasure
    from addin.wiring import build

    config: dict[str, Any] = env_settings(os.environ, data_dir)
    try:
        services = build(config)
    except Exception as exc:  # a setting that cannot be used: one line, not a traceback
        fail(f"cannot start: {exc}", code=2)
    try:
        key = link_key(config, Path(services.settings.data_dir))
        yield Erasure(services.conversations, key), config
    finally:
        services.close()


@click.command(name="erase", cls=OneLineErrors)
@click.option("--employee", metavar="EMAIL", default="", help="The employee of the pair.")
@click.option("--manager", metavar="EMAIL", default="", help="Their manager (now or before).")
@click.option("--yes", is_flag=True, help="Erase; without it, only show what would go.")
@click.option(
    "--receipt",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the receipt (JSON) to this file.",
)
@click.option(
    "--verify",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Check a receipt this server handed out, against its signature and the log.",
)
@_DATA_DIR
def erase(
    *,
    employee: str,
    manager: str,
    yes: bool,
    receipt: Path | None,
    verify: Path | None,
    data_dir: Path | None,
) -> None:
    """Erase a pair's dossier: its data key first, then its files and the server's rows.

    Cannot be undone: every copy of the records (drive, recycle bin, backups) stops opening.
    """
    from addin.conversations.errors import ServiceError
    from addin.erasure import verify_receipt

    with _erasure(data_dir) as (eraser, _config):
        if verify is not None:
            try:
                given = json.loads(verify.read_text())
            except (OSError, ValueError) as exc:
                fail(f"{verify} is not a receipt (JSON): {exc}", code=2)
            logged = eraser.logged(str(given.get("id", "")))
            if not verify_receipt(eraser.key, given) or logged is None:
                fail(f"{verify} is not a receipt of this server, or it was changed")
            click.echo(
                f"receipt {logged['id']}: genuine; erased {logged['at']} ({logged['reason']})"
            )
            return
        if not (employee and manager):
            fail("name the pair: --employee EMAIL --manager EMAIL", code=2)
        entries = eraser.pair_series(employee, manager)
        if not entries:
            fail(f"no dossier of {employee} with {manager}: nothing was erased", code=1)
        if not yes:
            click.echo(f"would erase {len(entries)} series of {employee} with {manager}:")
            for entry in entries:
                state = "active" if eraser.registry.is_active(entry.id) else "ended"
                click.echo(f"  {entry.id} ({state})")
            click.echo("run again with --yes to erase; this cannot be undone")
            return
        try:
            done = eraser.erase(employee, manager, reason="operator")
        except ServiceError as exc:
            fail(str(exc))
    text = json.dumps(done.as_json(), indent=2, ensure_ascii=False)
    if receipt is not None:
        receipt.write_text(text + "\n")
    click.echo(text)


@click.command(name="retention", cls=OneLineErrors)
@click.option("--dry-run", is_flag=True, help="Count the pairs due; erase nothing.")
@_DATA_DIR
def retention(dry_run: bool, data_dir: Path | None) -> None:
    """Erase the dossiers of pairs that ended longer ago than GOEDGESPREK_RETENTION_MONTHS
    (default 24; 0 keeps them). The worker runs this every night."""
    from addin.retention import Retention, retention_months

    with _erasure(data_dir) as (eraser, config):
        try:
            months = retention_months(config)
        except ValueError as exc:
            fail(str(exc), code=2)
        report = Retention(eraser, months).run(dry_run=dry_run)
    click.echo(json.dumps(report.as_json(), indent=2))
    if report.failed:
        raise click.exceptions.Exit(1)
