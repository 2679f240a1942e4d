"""Reporting lines in the embedded stores: set, replaced, removed, refused when odd, and a
local store written before reporting lines existed gains them on opening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connectors.errors import InvalidRequest
from connectors.local import DB_NAME, LocalStore
from connectors.memory import MemoryStore


def test_an_older_local_store_gains_reporting_lines(tmp_path: Path) -> None:
    """A schema-1 file (no managers table) opens, and keeps its people."""
    with LocalStore(tmp_path) as store:
        store.add_person("ada@example.org", "Ada", "Europe/Amsterdam")
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("DROP TABLE managers")
        db.execute("PRAGMA user_version = 1")
    with LocalStore(tmp_path) as store:
        store.set_manager("ada@example.org", "grace@example.org")
        assert store.manager_of("ADA@example.org") == "grace@example.org"
        assert [p.email for p in store.people()] == ["ada@example.org"]


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_odd_reporting_lines_are_refused(kind: str, tmp_path: Path) -> None:
    """Not an address, or one's own manager: refused with the reason, nothing kept."""
    store = MemoryStore() if kind == "memory" else LocalStore(tmp_path)
    for employee, manager in (("ada", "grace@example.org"), ("ada@example.org", "ADA@example.org")):
        with pytest.raises(InvalidRequest):
            store.set_manager(employee, manager)
    assert store.manager_of("ada@example.org") is None
    if isinstance(store, LocalStore):
        store.close()
