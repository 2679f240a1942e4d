"""The `goedgesprek` command line."""

from __future__ import annotations

import click

from addin.cli.demo import demo
from addin.cli.emulate import emulate
from addin.cli.keys import keys
from addin.cli.manifest import manifest
from addin.cli.privacy import erase, retention
from addin.cli.report import report
from addin.cli.rollout import rollout
from addin.cli.series import series
from addin.cli.serve import serve
from addin.cli.sweep import sweep
from addin.cli.worker import worker
from addin.cli.workspace import workspace
from addin.store.cli import db


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Goed Gesprek: quarterly 1:1 conversations inside the calendar."""


cli.add_command(series)
cli.add_command(keys)
cli.add_command(demo)
cli.add_command(workspace)
cli.add_command(manifest)
cli.add_command(emulate)
cli.add_command(db)
cli.add_command(serve)
cli.add_command(sweep)
cli.add_command(rollout)
cli.add_command(report)
cli.add_command(worker)
cli.add_command(erase)
cli.add_command(retention)


def main() -> None:
    """Console-script entry point."""
    cli()
