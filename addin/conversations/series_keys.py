"""Each series' server part of its data key's wrap, in the server store.

See `connectors.sealed` (bound key files) and `addin.erasure` (destroying the part erases the
series everywhere its documents are kept).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from addin.store.tables import series_keys_table
from connectors.sealed import SERVER_PART_BYTES, Erased


class SeriesKeys:
    """`connectors.sealed.ServerKeys` in the server store (table ``series_keys``)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def part(self, series_id: str) -> bytes | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(series_keys_table.c.part).where(series_keys_table.c.series_id == series_id)
            ).first()
        return bytes(row[0]) if row is not None and row[0] is not None else None

    def was_destroyed(self, series_id: str) -> bool:
        t = series_keys_table
        with self._engine.connect() as conn:
            row = conn.execute(select(t.c.destroyed).where(t.c.series_id == series_id)).first()
        return row is not None and row[0] is not None

    def make_part(self, series_id: str) -> bytes:
        for _attempt in range(3):
            found = self.part(series_id)
            if found is not None:
                return found
            if self.was_destroyed(series_id):
                raise Erased(
                    f"series {series_id} was erased: no new data key is made for it",
                    folder=series_id,
                )
            part = secrets.token_bytes(SERVER_PART_BYTES)
            try:
                with self._engine.begin() as conn:
                    conn.execute(
                        insert(series_keys_table).values(
                            series_id=series_id, part=part, created=self._clock()
                        )
                    )
            except IntegrityError:
                continue  # another writer made it first: read theirs
            return part
        raise Erased(f"series {series_id}: its key part kept changing", folder=series_id)

    def destroy(self, series_id: str) -> bool:
        """Destroy the part (a tombstone stays); True when there was a part to destroy."""
        t = series_keys_table
        now = self._clock()
        with self._engine.begin() as conn:
            had = conn.execute(select(t.c.part).where(t.c.series_id == series_id)).first()
            if had is None:
                conn.execute(insert(t).values(series_id=series_id, created=now, destroyed=now))
                return False
            conn.execute(
                update(t).where(t.c.series_id == series_id).values(part=None, destroyed=now)
            )
        return had[0] is not None
