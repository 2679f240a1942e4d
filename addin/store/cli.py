"""`goedgesprek db upgrade|current`: the server store's schema from the command line.

The database is the one the server uses: ``--database-url``, else ``GOEDGESPREK_DATABASE_URL``,
else the SQLite file in the data directory (``GOEDGESPREK_DATA_DIR`` or the default).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from addin.cli._errors import fail
from addin.store.db import StoreError, create_store_engine, current, head, upgrade
from connectors.keyring import default_data_dir

_URL_HELP = "the server database (default: GOEDGESPREK_DATABASE_URL, else SQLite in the data dir)"


def _engine(database_url: str | None) -> Engine:
    url = database_url or os.environ.get("GOEDGESPREK_DATABASE_URL") or None
    data_dir = Path(os.environ.get("GOEDGESPREK_DATA_DIR") or default_data_dir())
    try:
        return create_store_engine(url, data_dir=data_dir)
    except StoreError as exc:
        fail(str(exc), code=2)


def _reason(exc: SQLAlchemyError) -> str:
    # The driver's own sentence, without SQLAlchemy's statement dump and background link.
    cause = getattr(exc, "orig", None) or exc
    return " ".join(str(cause).split("\n")[0].split())


@click.group()
def db() -> None:
    """The server database: bring its schema up to date, or say where it stands."""


@db.command("upgrade")
@click.option("--database-url", metavar="URL", help=_URL_HELP)
def upgrade_command(database_url: str | None) -> None:
    """Run the migrations the database has not had yet (the server does this when it starts)."""
    engine = _engine(database_url)
    try:
        before = current(engine)
        after = upgrade(engine)
    except SQLAlchemyError as exc:
        fail(f"the database cannot be upgraded: {_reason(exc)}")
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"the database is up to date (revision {after})")
    else:
        click.echo(f"upgraded the database from revision {before or 'none'} to {after}")


@db.command("current")
@click.option("--database-url", metavar="URL", help=_URL_HELP)
def current_command(database_url: str | None) -> None:
    """Print the database's revision and the newest one; exit 1 when it is behind."""
    engine = _engine(database_url)
    try:
        found = current(engine)
    except SQLAlchemyError as exc:
        fail(f"the database cannot be read: {_reason(exc)}")
    finally:
        engine.dispose()
    newest = head()
    click.echo(f"current: {found or 'none'}\nhead: {newest}")
    if found != newest:
        raise click.exceptions.Exit(1)
