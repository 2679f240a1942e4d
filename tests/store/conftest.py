"""The store suites' shared fixture: the server store's engine, migrated, on each database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from addin.store.db import create_store_engine, upgrade


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The store at `database_url` (SQLite, then PostgreSQL), brought to the newest revision."""
    engine = create_store_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
