"""The server store's schema: made by the migrations, on SQLite and on PostgreSQL, once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from addin.store.db import StoreError, create_store_engine, current, head, upgrade
from addin.store.tables import metadata

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "series",
    "event_alias",
    "accounts",
    "account_secrets",
    "series_manager_history",
    "person_hours",
    "deliveries",
    "reminder_settings",
    "pending_documents",
    "cadence_stats",
    "series_keys",
    "erasures",
    "timeout_requests",
    "feedback_asks",
    "alembic_version",
}


def test_upgrade_makes_every_table_and_says_the_newest_revision(database_url: str) -> None:
    """An empty database gains every table and stands at the newest revision."""
    engine = create_store_engine(database_url)
    try:
        assert current(engine) is None
        assert upgrade(engine) == head()
        assert current(engine) == head()
        assert set(inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_the_migrated_schema_is_what_the_code_queries(database_url: str) -> None:
    """Alembic finds no difference between the migrated database and the Table objects."""
    engine = create_store_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_a_second_upgrade_changes_nothing(database_url: str) -> None:
    """Upgrading an up-to-date database keeps its rows and its revision."""
    engine = create_store_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO event_alias (user_email, event_id, series_id) "
                    "VALUES ('ada@example.org', 'e1', 's1')"
                )
            )
        assert upgrade(engine) == head()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM event_alias")).scalar() == 1
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [v[0] for v in versions] == [head()]
    finally:
        engine.dispose()


def test_servers_starting_at_once_migrate_once(database_url: str, tmp_path: Path) -> None:
    """Three processes upgrading one empty database together all succeed: one migrates, the
    others wait for its lock and find the schema up to date."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GOEDGESPREK_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "addin.cli", "db", "upgrade", "--database-url", database_url]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out.decode(), err.decode()))
    assert [r[0] for r in results] == [0, 0, 0], results
    said = sorted(r[1].strip() for r in results)
    assert sum("upgraded the database" in s for s in said) >= 1
    engine = create_store_engine(database_url)
    try:
        assert current(engine) == head()
    finally:
        engine.dispose()


def test_db_current_says_when_the_database_is_behind(database_url: str, tmp_path: Path) -> None:
    """`goedgesprek db current` exits 1 before the upgrade and 0 after it."""
    from click.testing import CliRunner

    from addin.cli import cli

    runner = CliRunner()
    env = {"GOEDGESPREK_DATA_DIR": str(tmp_path)}
    args = ["db", "current", "--database-url", database_url]
    before = runner.invoke(cli, args, env=env)
    assert before.exit_code == 1
    assert "current: none" in before.output
    upgraded = runner.invoke(cli, ["db", "upgrade", "--database-url", database_url], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    after = runner.invoke(cli, args, env=env)
    assert after.exit_code == 0, after.output
    assert f"current: {head()}" in after.output


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://db.example.org/goedgesprek", "SQLite or PostgreSQL"),
        ("not a url", "cannot be read"),
    ],
)
def test_a_database_url_we_cannot_use_is_refused_with_a_reason(url: str, says: str) -> None:
    """An unsupported or malformed URL is a clear error before anything connects."""
    with pytest.raises(StoreError, match=says):
        create_store_engine(url)


def test_the_cli_refuses_an_unusable_url_in_one_line(tmp_path: Path) -> None:
    """`goedgesprek db upgrade` with a foreign URL exits 2 with one sentence, no traceback."""
    from click.testing import CliRunner

    from addin.cli import cli

    result = CliRunner().invoke(
        cli,
        ["db", "upgrade", "--database-url", "mysql://db.example.org/x"],
        env={"GOEDGESPREK_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "SQLite or PostgreSQL" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_postgresql_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    """A server that does not answer gives `db current` a one-line error (exit 1)."""
    from click.testing import CliRunner

    from addin.cli import cli

    result = CliRunner().invoke(
        cli,
        ["db", "current", "--database-url", "postgresql://nobody@127.0.0.1:1/none"],
        env={"GOEDGESPREK_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: the database cannot be read")
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_default_database_is_a_private_file_in_the_data_dir(tmp_path: Path) -> None:
    """Without a URL the store is server.sqlite3 in the data directory, 0600 in a 0700 folder."""
    old = os.umask(0o022)
    try:
        engine = create_store_engine(None, data_dir=tmp_path / "data")
        upgrade(engine)
        engine.dispose()
    finally:
        os.umask(old)
    path = tmp_path / "data" / "server.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_plain_postgresql_urls_use_psycopg() -> None:
    """`postgresql://` means the psycopg 3 driver we ship (the postgres extra)."""
    engine = create_store_engine("postgresql://u@127.0.0.1:1/db")
    try:
        assert engine.url.drivername == "postgresql+psycopg"
    finally:
        engine.dispose()


def test_the_migration_lock_never_opens_the_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing any descriptor of the database file drops every POSIX lock SQLite holds on it in
    this process ("How To Corrupt An SQLite Database File", 2.2): a server whose registry was
    open while it migrated corrupted its file. The lock lives in a file beside it."""
    import os

    db = tmp_path / "server.sqlite3"
    opened: list[str] = []
    real_open = os.open

    def recording_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    engine = create_store_engine(f"sqlite:///{db}")
    try:
        monkeypatch.setattr(os, "open", recording_open)
        upgrade(engine)
    finally:
        monkeypatch.undo()
        engine.dispose()
    assert f"{db}.migrate-lock" in opened
    assert str(db) not in opened


def test_the_newest_revision_read_from_the_files_is_alembics() -> None:
    """The start-up check reads the migration files itself; it must agree with Alembic."""
    from addin.store.db import _quick_head

    assert _quick_head() == head()


def test_a_database_behind_by_one_revision_is_upgraded(database_url: str) -> None:
    """The quick check sees a stamp other than the newest and the migrations run."""
    engine = create_store_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE feedback_asks"))
            conn.execute(text("UPDATE alembic_version SET version_num = '0010'"))
        assert upgrade(engine) == head()
        assert "feedback_asks" in set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_starting_on_an_up_to_date_database_does_not_import_alembic(tmp_path: Path) -> None:
    """A fresh process upgrading a database already at the newest revision reads one row and
    leaves Alembic (0.15 s of imports) unloaded."""
    engine = create_store_engine(data_dir=tmp_path)
    upgrade(engine)
    engine.dispose()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from addin.store.db import create_store_engine, upgrade\n"
        f"engine = create_store_engine(data_dir=Path({str(tmp_path)!r}))\n"
        "print(upgrade(engine), any(m.split('.')[0] == 'alembic' for m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == [head(), "False"]


def test_writers_keeping_the_same_row_at_once_leave_one_row_and_no_error(
    database_url: str,
) -> None:
    """`put_row` from eight threads on one key: one row, holding one of the writers' values."""
    import threading
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from addin.store.db import put_row
    from addin.store.tables import reminder_settings_table as t

    engine = create_store_engine(database_url)
    try:
        upgrade(engine)
        start = threading.Barrier(8)
        failures: list[BaseException] = []

        def write(n: int) -> None:
            start.wait(timeout=10)
            try:
                values = {"off": f"k{n}", "quiet": "", "updated": datetime.now(UTC)}
                put_row(engine, t, {"email": "ada@example.org"}, values)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert failures == []
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t)).scalar() == 1
            assert conn.execute(select(t.c.off)).scalar() in {f"k{n}" for n in range(8)}
    finally:
        engine.dispose()
