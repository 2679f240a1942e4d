"""The series registry: idempotent registration, lookups by request, iCalUId and alias."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from addin.registry import Registry
from cadence.model import Locale, Pair, Person, Series
from cadence.recurrence import NthWeekday, Rule, Weekday

ADA = Person("ada@example.org", "Ada", "ada@example.org", "Europe/Amsterdam", Locale.NL)
GRACE = Person("grace@example.org", "Grace", "grace@example.org", "America/New_York", Locale.EN)
RULE = Rule.build(
    datetime(2026, 12, 1, 10, 0),
    "Europe/Amsterdam",
    NthWeekday(1, Weekday.TU),
)


def _entry(series_id: str = "s1", request_id: str = "req-1") -> Series:
    return Series(
        id=series_id,
        request_id=request_id,
        pair=Pair(employee=ADA, manager=GRACE),
        rule=RULE,
        duration=60,
        place="Koffiebar <3e>",
        online=False,
        event_copy="full",
        template="three_themes",
        created=datetime(2026, 11, 24, 9, tzinfo=UTC),
    )


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry.in_dir(tmp_path)


def test_an_entry_round_trips(registry: Registry) -> None:
    registry.add(_entry())
    found = registry.get("s1")
    assert found == _entry()
    assert found.owner == ADA.email
    assert found.rule.to_rfc5545() == RULE.to_rfc5545()


def test_a_second_add_with_the_same_request_returns_the_first(registry: Registry) -> None:
    first = registry.add(_entry("s1", "req-1"))
    again = registry.add(_entry("s2", "req-1"))
    assert again == first
    assert registry.get("s2") is None


def test_lookups_by_ical_uid_person_and_alias(registry: Registry) -> None:
    registry.add(_entry())
    registry.set_master("s1", "master-1", "uid-1")
    assert registry.by_ical_uid("uid-1").master_event_id == "master-1"
    assert [e.id for e in registry.for_person(GRACE.email)] == ["s1"]
    assert registry.for_person("eve@example.org") == []
    assert registry.alias(GRACE.email, "grace-copy") is None
    registry.remember(GRACE.email, ["grace-copy", "grace-copy"], "s1")
    registry.remember(GRACE.email, ["grace-copy"], "s1")
    assert registry.alias(GRACE.email, "grace-copy") == "s1"
    assert registry.alias(ADA.email, "grace-copy") is None


def test_changes_are_limited_to_what_the_pair_chooses(registry: Registry) -> None:
    entry = registry.add(_entry())
    changed = registry.change(entry, place="Online", duration=45)
    assert registry.get("s1") == changed
    assert changed.duration == 45
    with pytest.raises(ValueError, match="cannot change"):
        registry.change(entry, rule="x")


def test_the_registry_survives_a_restart(tmp_path: Path) -> None:
    Registry.in_dir(tmp_path).add(_entry())
    assert Registry.in_dir(tmp_path).get("s1") == _entry()


def test_an_alias_remembers_the_occurrence_it_stands_for(registry: Registry) -> None:
    """A copy's occurrence is kept with its alias, so the next open can read ahead."""
    registry.add(_entry())
    when = datetime(2027, 1, 12, 9, tzinfo=UTC)
    registry.remember(
        GRACE.email, ["occ-copy", "master-copy"], "s1", occurrences={"occ-copy": when}
    )
    assert registry.alias_of(GRACE.email, "occ-copy") == ("s1", when)
    assert registry.alias_of(GRACE.email, "master-copy") == ("s1", None)
    assert registry.alias_of(ADA.email, "occ-copy") is None
    later = datetime(2027, 1, 19, 9, tzinfo=UTC)
    registry.remember(GRACE.email, ["occ-copy"], "s1", occurrences={"occ-copy": later})
    assert registry.alias_of(GRACE.email, "occ-copy") == ("s1", later)


def test_a_registry_from_before_the_occurrence_column_gains_it(tmp_path: Path) -> None:
    """An older database without the occurrence column is upgraded in place, rows kept."""
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE event_alias (user_email VARCHAR(320) NOT NULL, event_id VARCHAR(512) "
            "NOT NULL, series_id VARCHAR(64) NOT NULL, PRIMARY KEY (user_email, event_id))"
        )
        conn.execute("INSERT INTO event_alias VALUES ('grace@example.org', 'copy', 's1')")
    registry = Registry(f"sqlite:///{path}")
    try:
        assert registry.alias_of("grace@example.org", "copy") == ("s1", None)
    finally:
        registry.close()


def test_a_pair_has_one_active_series_in_either_role(registry: Registry) -> None:
    """A second series for the same two people, whoever is employee, is refused by the database."""
    from addin.registry import PairTaken

    first = registry.add(_entry("s1", "req-1"))
    with pytest.raises(PairTaken) as taken:
        registry.add(_entry("s2", "req-2"))
    assert taken.value.existing == first
    swapped = replace(_entry("s3", "req-3"), pair=Pair(employee=GRACE, manager=ADA))
    with pytest.raises(PairTaken):
        registry.add(swapped)
    assert [s.id for s in registry.for_person(ADA.email)] == ["s1"]
    # Released (the series ended), the pair may plan again.
    registry.release_pair("s1")
    assert registry.add(_entry("s4", "req-4")).id == "s4"
    assert registry.active_for_pair(first.pair) == registry.get("s4")


def test_an_older_registry_gets_the_pair_column_and_keeps_both_series_planned_twice(
    tmp_path: Path,
) -> None:
    """A registry from before the rule gains the column; a pair planned twice keeps both rows."""
    import sqlite3

    db = tmp_path / "server.sqlite3"
    registry = Registry.in_dir(tmp_path)
    registry.add(_entry("s1", "req-1"))
    registry.close()
    con = sqlite3.connect(db)
    # As the registry left it before migrations: no Alembic revision, no accounts.
    for table in (
        "alembic_version",
        "account_secrets",
        "accounts",
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
    ):
        con.execute(f"DROP TABLE {table}")
    con.execute("DROP INDEX ix_series_active_pair")
    con.execute("ALTER TABLE series DROP COLUMN active_pair")
    con.execute("DROP INDEX ix_series_next_sweep")
    con.execute("ALTER TABLE series DROP COLUMN next_sweep")
    con.execute(
        "INSERT INTO series SELECT 's2', 'req-2', employee_email, employee_name, employee_tz,"
        " employee_locale, manager_email, manager_name, manager_tz, manager_locale, tz, rule,"
        " duration, place, online, event_copy, template, master_event_id, ical_uid,"
        " '2026-11-25 09:00:00.000000' FROM series WHERE id = 's1'"
    )
    con.commit()
    con.close()
    reopened = Registry.in_dir(tmp_path)
    assert {s.id for s in reopened.for_person(ADA.email)} == {"s1", "s2"}
    assert reopened.active_for_pair(_entry().pair) == reopened.get("s1")
    from addin.registry import PairTaken

    with pytest.raises(PairTaken):
        reopened.add(_entry("s3", "req-3"))


def test_remembering_an_id_another_process_just_mapped_is_not_an_error(tmp_path: Path) -> None:
    """Two servers on one database map the same event at once: the later insert keeps the row."""
    from sqlalchemy import event as sa_event

    ours, theirs = Registry.in_dir(tmp_path), Registry.in_dir(tmp_path)
    ours.add(_entry())
    moment = datetime(2026, 12, 1, 9, tzinfo=UTC)
    raced: list[str] = []

    def the_other_server_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO event_alias") and not raced:
            raced.append(statement)
            theirs.remember(ADA.email, ["ev-1"], "s1")

    sa_event.listen(ours._engine, "before_cursor_execute", the_other_server_first)
    ours.remember(ADA.email, ["ev-1"], "s1", occurrences={"ev-1": moment})
    assert raced
    assert ours.alias_of(ADA.email, "ev-1") == ("s1", moment)
