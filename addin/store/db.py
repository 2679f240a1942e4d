"""The server store's database: an engine from a URL, and its schema brought up to date.

SQLite in the data directory by default (a private 0600 file, WAL, a busy timeout), PostgreSQL
with ``DATABASE_URL=postgresql+psycopg://...``. The schema comes from the Alembic migrations
beside this module; `upgrade` runs them at start-up under a lock, so two workers or two servers
starting at once do not race: a transaction-level advisory lock on PostgreSQL, an exclusive lock
on the database file itself on SQLite. A database made before migrations existed (tables, no
``alembic_version``) gets the fix-ups the registry used to run, then is stamped at revision 0001.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, and_, create_engine, event, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

from addin.store.tables import alias_table, series_table
from connectors._files import private_dir, private_sqlite, use_wal

DB_NAME = "server.sqlite3"
MIGRATIONS = Path(__file__).parent / "migrations"
LEGACY_REVISION = "0001"
"""What a database made by the registry before migrations holds."""

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock migrations run under.
_PG_LOCK_KEY = 0x60ED_6E5D_0001
_local_lock = threading.Lock()


class StoreError(Exception):
    """The database URL cannot be used (an unknown scheme, a driver that is not installed)."""


def default_url(data_dir: Path) -> str:
    """The SQLite file in the data directory, created private (0600) in a private directory."""
    private_dir(Path(data_dir), tighten=True)
    return f"sqlite:///{private_sqlite(Path(data_dir) / DB_NAME)}"


def create_store_engine(url: str | None = None, *, data_dir: Path | None = None) -> Engine:
    """An engine for `url`, or for the SQLite file in `data_dir` when `url` is empty."""
    if not url:
        if data_dir is None:
            raise StoreError("give a database URL or a data directory")
        url = default_url(data_dir)
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise StoreError(f"the database URL cannot be read: {exc}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(
            f"the database must be SQLite or PostgreSQL (postgresql+psycopg://...), not {backend}"
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we install (the postgres extra); plain postgresql:// means it.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            private_sqlite(Path(database))
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"PostgreSQL needs the psycopg driver ({exc.name} is not installed): "
            "pip install 'goedgesprek[postgres]'"
        ) from None


def put_row(
    engine: Engine, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """Keep one row: replace the values of the row with `key`, or add it.

    A writer that added the same key meanwhile makes the insert fail on the primary key: then
    the row is there, and ours replaces its values (the last save wins).
    """
    where = and_(*(table.c[name] == value for name, value in key.items()))
    try:
        with engine.begin() as conn:
            if conn.execute(table.update().where(where).values(**values)).rowcount:
                return
            conn.execute(table.insert().values(**key, **values))
    except IntegrityError:
        with engine.begin() as conn:
            conn.execute(table.update().where(where).values(**values))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    use_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision the migrations know."""
    found = _scripts().get_current_head()
    assert found is not None
    return found


def current(engine: Engine) -> str | None:
    """The database's revision; None for an empty database or one made before migrations."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


_REVISION = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*(?:\"([^\"]+)\"|None)", re.M)


@cache
def _quick_head() -> str | None:
    """The newest revision read from the migration files' ``revision``/``down_revision`` lines,
    without Alembic (about 0.15 s of imports); None when they do not make one plain chain."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = dict((m.group(1), m.group(2)) for m in _REVISION.finditer(path.read_text()))
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stamped(engine: Engine) -> str | None:
    """The one revision in ``alembic_version``, read with plain SQL; None when not exactly one."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no such table yet
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision, once, whoever else starts now; returns it.

    A database already at the newest revision costs one read, takes no lock and imports no
    Alembic.
    """
    quick = _quick_head()
    if quick is not None and _stamped(engine) == quick:
        return quick
    from alembic import command

    newest = head()
    if current(engine) == newest:
        return newest
    with _local_lock, _file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held until this transaction ends; PostgreSQL's DDL is transactional, so a second
            # server waits here and then finds the schema up to date.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        if _made_before_migrations(conn):
            _fix_up_legacy(conn)
            command.stamp(_config(conn), LEGACY_REVISION)
        command.upgrade(_config(conn), "head")
    return newest


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """On SQLite, an exclusive lock on a file beside the database while migrations run (POSIX).

    Never the database file itself: closing any descriptor of it drops every POSIX lock SQLite
    holds on it in this process ("How To Corrupt An SQLite Database File", 2.2).
    """
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or os.name != "posix":
        yield
        return
    import fcntl

    fd = os.open(f"{database}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _made_before_migrations(conn: Connection) -> bool:
    tables = set(inspect(conn).get_table_names())
    return "alembic_version" not in tables and bool(tables & {"series", "event_alias"})


def _fix_up_legacy(conn: Connection) -> None:
    """What the registry did at every start before migrations: the tables it created, then the
    columns added since (nullable, so nothing is lost), so the database matches revision 0001."""
    series_table.create(conn, checkfirst=True)
    alias_table.create(conn, checkfirst=True)
    present = {c["name"] for c in inspect(conn).get_columns(alias_table.name)}
    if "occurrence" not in present:
        conn.execute(text("ALTER TABLE event_alias ADD COLUMN occurrence VARCHAR(32)"))
    present = {c["name"] for c in inspect(conn).get_columns(series_table.name)}
    if "active_pair" not in present:
        _add_active_pair(conn)


def _add_active_pair(conn: Connection) -> None:
    """Mark each pair's oldest series active; a pair planned twice before keeps both series."""
    t = series_table
    conn.execute(text("ALTER TABLE series ADD COLUMN active_pair VARCHAR(641)"))
    taken: set[str] = set()
    rows = conn.execute(
        select(t.c.id, t.c.employee_email, t.c.manager_email).order_by(t.c.created)
    ).all()
    for series_id, employee, manager in rows:
        key = "|".join(sorted((employee.strip().lower(), manager.strip().lower())))
        if key not in taken:
            taken.add(key)
            conn.execute(update(t).where(t.c.id == series_id).values(active_pair=key))
    conn.execute(
        text("CREATE UNIQUE INDEX IF NOT EXISTS ix_series_active_pair ON series (active_pair)")
    )
