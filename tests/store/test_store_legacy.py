"""A server database from before migrations upgrades in place: rows kept, then stamped."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from addin.registry import PairTaken, Registry
from addin.store.db import LEGACY_REVISION, create_store_engine, current, head, upgrade
from addin.store.tables import alias_table, series_table
from cadence.model import Locale, Pair, Person, Series
from cadence.recurrence import NthWeekday, Rule, Weekday

DUMP = Path(__file__).parent / "data" / "registry-before-migrations.sql"
ADA = Person("ada@example.org", "Ada", "ada@example.org", "Europe/Amsterdam", Locale.NL)
GRACE = Person("grace@example.org", "Grace", "grace@example.org", "America/New_York", Locale.EN)
RULE = Rule.build(datetime(2026, 12, 1, 10, 0), "Europe/Amsterdam", NthWeekday(1, Weekday.TU))


def _series(series_id: str, request_id: str) -> Series:
    return Series(
        id=series_id,
        request_id=request_id,
        pair=Pair(employee=ADA, manager=GRACE),
        rule=RULE,
        duration=60,
        place="Koffiebar",
        online=False,
        event_copy="full",
        template="three_themes",
        created=datetime(2026, 11, 24, 9, tzinfo=UTC),
    )


def _old_file(tmp_path: Path) -> Path:
    """The SQLite file the registry made before migrations (its `.dump`, committed)."""
    path = tmp_path / "server.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(DUMP.read_text())
    conn.close()
    return path


def test_a_database_made_by_the_old_registry_is_stamped_and_upgraded(tmp_path: Path) -> None:
    """The old file keeps its series and alias, is stamped at 0001 and gains the accounts."""
    path = _old_file(tmp_path)
    registry = Registry.in_dir(tmp_path)
    try:
        assert current(registry.engine) == head()
        found = registry.get("s1")
        assert found is not None
        assert found.master_event_id == "master-1"
        assert found.rule.to_rfc5545() == RULE.to_rfc5545()
        assert registry.alias_of("grace@example.org", "grace-copy") == (
            "s1",
            datetime(2027, 1, 12, 9, tzinfo=UTC),
        )
        with pytest.raises(PairTaken):
            registry.add(_series("s2", "req-2"))
    finally:
        registry.close()
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert {"accounts", "account_secrets", "alembic_version"} <= tables


def test_an_older_file_without_the_later_columns_gains_them(tmp_path: Path) -> None:
    """A file from before `occurrence` and `active_pair` gets both, with the oldest series of a
    pair planned twice marked active."""
    path = _old_file(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX ix_series_active_pair")
        conn.execute("ALTER TABLE series DROP COLUMN active_pair")
        conn.execute("ALTER TABLE event_alias DROP COLUMN occurrence")
        conn.execute(
            "INSERT INTO series SELECT 's0', 'req-0', employee_email, employee_name, employee_tz,"
            " employee_locale, manager_email, manager_name, manager_tz, manager_locale, tz, rule,"
            " duration, place, online, event_copy, template, NULL, NULL,"
            " '2026-10-01 09:00:00.000000' FROM series WHERE id = 's1'"
        )
    conn.close()
    registry = Registry.in_dir(tmp_path)
    try:
        assert registry.active_for_pair(_series("x", "y").pair) == registry.get("s0")
        assert registry.alias_of("grace@example.org", "grace-copy") == ("s1", None)
        assert {s.id for s in registry.for_person(ADA.email)} == {"s0", "s1"}
    finally:
        registry.close()


def test_old_tables_on_any_database_are_stamped_not_made_again(database_url: str) -> None:
    """Tables made the old way (`create_all` of the same definitions) on SQLite or PostgreSQL
    are adopted: stamped at 0001 with their rows, then upgraded to the newest revision."""
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as conn:
            series_table.create(conn)
            alias_table.create(conn)
            conn.execute(
                text(
                    "INSERT INTO event_alias (user_email, event_id, series_id) "
                    "VALUES ('ada@example.org', 'e1', 's1')"
                )
            )
        assert current(engine) is None
        assert upgrade(engine) == head()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT series_id FROM event_alias")).scalar() == "s1"
        assert head() > LEGACY_REVISION
    finally:
        engine.dispose()
