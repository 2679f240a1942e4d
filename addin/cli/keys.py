"""`goedgesprek keys`: create the keyring and rotate it, re-wrapping every series' data key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import click

from addin.cli._errors import OneLineErrors, fail
from connectors.errors import ConnectorError
from connectors.keyring import KEYRING_ENV, Keyring, default_data_dir, default_keyring_path
from connectors.ports import Drive
from connectors.sealed import SealedDrive


class _Store(Protocol):
    """What `keys rotate` needs from the local store: every drive's owner, and that drive."""

    def drive_owners(self) -> list[str]: ...

    def drive(self, email: str) -> Drive: ...

    def close(self) -> None: ...


def _open_local_store(data_dir: Path) -> _Store:
    from connectors.local import LocalStore

    store: _Store = LocalStore(data_dir)
    return store


_KEYRING_OPTION = click.option(
    "--keyring",
    "keyring_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The keyring file (default: $GOEDGESPREK_KEYRING, else <data dir>/keyring.json).",
)


@click.group(name="keys")
def keys() -> None:
    """The keyring that seals every record: create it, rotate it."""


@keys.command(name="init", cls=OneLineErrors)
@_KEYRING_OPTION
def init(keyring_path: Path | None) -> None:
    """Create a new keyring with one key (k1), readable only by you."""
    path = keyring_path or default_keyring_path()
    try:
        ring = Keyring.init(path)
    except (ConnectorError, OSError) as exc:
        fail(_message(exc, path))
        return
    click.echo(f"created keyring {path} with key {ring.active_id}, readable only by you")
    click.echo("keep a backup of it somewhere safe: without it no sealed record can be opened")


@keys.command(name="rotate", cls=OneLineErrors)
@_KEYRING_OPTION
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The local store whose drives to re-wrap (default: $GOEDGESPREK_DATA_DIR, else the "
    "per-user data directory).",
)
@click.option(
    "--rewrap-only",
    is_flag=True,
    help="Add no new key; re-wrap under the active key (finishes an interrupted rotation).",
)
def rotate(keyring_path: Path | None, data_dir: Path | None, rewrap_only: bool) -> None:
    """Add a new active key, then re-wrap every data key in every user's drive under it.

    Records are not re-encrypted and old keys stay in the keyring, so an interrupted rotation
    loses nothing: run it again with --rewrap-only to finish.
    """
    data_dir = data_dir or default_data_dir()
    path = keyring_path or default_keyring_path(data_dir)
    try:
        ring = Keyring.load(path)
        if rewrap_only:
            click.echo(f"keyring {path}: re-wrapping under {ring.active_id} (no new key)")
        else:
            old = ring.active_id
            new = ring.rotate()
            click.echo(f"keyring {path}: {new} is now active ({old} and older keys are kept)")
        if os.environ.get(KEYRING_ENV):
            click.echo(f"note: {KEYRING_ENV} is set: give it the new value (base64 -w0 {path})")
        failed = _rewrap_store(data_dir, ring)
    except (ConnectorError, OSError) as exc:
        fail(_message(exc, path))
        return
    if failed:
        fail(
            f"{failed} series could not be re-wrapped (listed above); their records still open "
            "with the older key: fix the cause, then run 'goedgesprek keys rotate --rewrap-only'"
        )


def _rewrap_store(data_dir: Path, ring: Keyring) -> int:
    """Re-wrap every drive of the local store in `data_dir`; returns how many series failed."""
    from connectors.local import DB_NAME

    if not (data_dir / DB_NAME).is_file():
        click.echo(f"no local store in {data_dir}: nothing to re-wrap")
        return 0
    from datetime import UTC, datetime

    from addin.conversations.series_keys import SeriesKeys
    from addin.registry import Registry

    store = _open_local_store(data_dir)
    url = os.environ.get("GOEDGESPREK_DATABASE_URL")
    registry = Registry(url) if url else Registry.in_dir(data_dir)
    # Re-wrapping also binds key files made before erasure existed to a server part.
    bound = SeriesKeys(registry.engine, lambda: datetime.now(UTC))
    try:
        emails = store.drive_owners()
        failed = 0
        for email in emails:
            report = SealedDrive(store.drive(email), ring, server_keys=bound).rotate_all()
            click.echo(
                f"{email}: {len(report.rewrapped)} re-wrapped, "
                f"{len(report.current)} already current"
                + (f", {len(report.failed)} failed" if report.failed else "")
            )
            for series_id, reason in report.failed:
                click.echo(f"  {series_id}: {reason}")
            failed += len(report.failed)
    finally:
        store.close()
        registry.close()
    if not emails:
        click.echo(f"no users in the local store in {data_dir}: nothing to re-wrap")
    return failed


def _message(exc: Exception, path: Path) -> str:
    if isinstance(exc, OSError):
        return f"{exc.filename or path}: {exc.strerror or exc}"
    return str(exc)
