"""`goedgesprek sweep --once`: look at every active series and send what is due, once.

Settings come from ``GOEDGESPREK_*`` variables, as for `goedgesprek serve` (the same data
directory, database and provider); ``--data-dir`` overrides ``GOEDGESPREK_DATA_DIR``. With
``--dry-run`` nothing is claimed or sent: the table shows what a sweep now would send.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from addin.cli._errors import OneLineErrors, fail
from addin.cli.serve import env_settings

OUTCOMES = {
    "due": "would be sent",
    "sent": "sent",
    "settled": "sent before",
    "busy": "another consumer has it",
    "off": "turned off by the recipient",
    "quiet": "the recipient's quiet day: sent after it",
    "parked": "waits until they sign in again",
    "retry": "failed for now, tried again next sweep",
    "uncertain": "the send got no answer: not sent again, so never twice",
    "failed": "failed (see the log)",
}


@click.command(name="sweep", cls=OneLineErrors)
@click.option("--once", is_flag=True, help="Sweep once and exit (the worker sweeps on a schedule).")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; claim and send nothing.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data directory (default: GOEDGESPREK_DATA_DIR, else the per-user one).",
)
def sweep(once: bool, dry_run: bool, data_dir: Path | None) -> None:
    """Send the reminders and prompts that are due, each once."""
    if not once:
        fail("say --once: this command sweeps once (the worker sweeps on a schedule)", code=2)
    from addin.background.service import build_sweep
    from addin.wiring import build

    config: dict[str, Any] = env_settings(os.environ, data_dir)
    try:
        services = build(config)
    except Exception as exc:  # a setting that cannot be used: one line, not a traceback
        fail(f"cannot start: {exc}")
    try:
        report = build_sweep(services, config).run(dry_run=dry_run)
    finally:
        services.close()
    rows = [
        (
            p.delivery.kind,
            p.delivery.series_id,
            p.recipient.email,
            p.delivery.due.strftime("%Y-%m-%d %H:%M UTC"),
            OUTCOMES.get(p.outcome, p.outcome),
        )
        for p in sorted(report.planned, key=lambda p: (p.delivery.due, p.delivery.key))
    ]
    if rows:
        head = ("kind", "series", "to", "due", "outcome")
        widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
        for row in (head, *rows):
            click.echo(
                "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            )
    sent = report.count("due" if dry_run else "sent")
    verb = "would send" if dry_run else "sent"
    click.echo(
        f"{report.series} active series, {verb} {sent}"
        + (f", {len(report.unreadable)} left for the next sweep" if report.unreadable else "")
    )
    if report.unreadable:
        click.echo("not read now: " + ", ".join(report.unreadable), err=True)
    documents = {k: v for k, v in report.documents.items() if v}
    if documents:
        click.echo(
            "documents that waited for a drive: "
            + ", ".join(f"{n} {what}" for what, n in sorted(documents.items()))
        )
