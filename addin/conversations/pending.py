"""Documents saved while the employee's drive did not answer: kept sealed on the server, then
delivered to the drive.

A save whose write to the drive fails after the retries (the drive is down, throttled or too
slow) is not lost and not refused: the new document goes into the server store, encrypted under
the server's key (the same seal as stored sign-ins), and is read in place of the drive's copy
from then on, so both partners keep working on it. The worker delivers it with the drive's
version it was made from as precondition; a delivery whose answer was lost is recognised by
the drive holding the same content. A row lives only until delivery.

Each row has a `version`: a save on top of a pending document must name the version it read
(its etag is ``pending:<version>``), so two saves at once cannot both win, as with the drive's
own etags.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from addin.signin.vault import open_secret, seal_secret
from addin.store.tables import pending_documents_table as pending_table
from connectors.keyring import Keyring

ETAG_PREFIX = "pending:"
MAX_WRITTEN = 64
"""Digests of tried writes kept per document (a drive copy older than these is not ours)."""
_PURPOSE = "pending-document"


@dataclass(frozen=True, slots=True)
class Pending:
    """A document waiting for the drive: its plaintext (opened here only), and where from."""

    series_id: str
    name: str
    owner: str
    content: bytes
    base_etag: str | None
    version: int
    saved_at: datetime
    attempts: int = 0
    written: frozenset[str] = frozenset()
    """Digests of the versions whose write to the drive was tried (`digest`)."""

    def wrote(self, content: bytes) -> bool:
        """True when a write of `content` was tried for this document (maybe landed)."""
        return digest(content) in self.written

    @property
    def etag(self) -> str:
        """The etag a save on top of this document must send (If-Match)."""
        return f"{ETAG_PREFIX}{self.version}"


class PendingRace(Exception):
    """Another save changed the pending document first (as a drive's 412)."""


def digest(content: bytes) -> str:
    """A version's digest, as `Pending.written` keeps it."""
    return hashlib.sha256(content).hexdigest()[:32]


def is_pending(etag: str | None) -> bool:
    """True for the etag of a document that waits on the server."""
    return bool(etag) and str(etag).startswith(ETAG_PREFIX)


class PendingDocs:
    """The server store's pending documents (table ``pending_documents``)."""

    def __init__(
        self,
        engine: Engine,
        keyring: Keyring,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._clock = clock

    def get(self, series_id: str, name: str) -> Pending | None:
        """The pending document, or None when the drive's copy is the current one."""
        t = pending_table
        with self._engine.connect() as conn:
            row = conn.execute(
                select(t).where(and_(t.c.series_id == series_id, t.c.name == name))
            ).first()
        return None if row is None else self._open(row)

    def get_many(self, series_id: str, names: Sequence[str]) -> dict[str, Pending]:
        """The pending ones among the series' documents `names`, by name (one query)."""
        t = pending_table
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t).where(and_(t.c.series_id == series_id, t.c.name.in_(list(names))))
            ).all()
        return {row.name: self._open(row) for row in rows}

    def names(self, series_id: str) -> set[str]:
        """The names of the series' pending documents."""
        t = pending_table
        with self._engine.connect() as conn:
            return set(conn.scalars(select(t.c.name).where(t.c.series_id == series_id)))

    def keep(
        self,
        series_id: str,
        name: str,
        owner: str,
        content: bytes,
        *,
        base_etag: str | None,
        replacing: int | None,
        tried: bytes | None = None,
    ) -> Pending:
        """Keep `content` as the document until it is delivered.

        `replacing` is the version of the pending document this save was made from (None: it
        was made from the drive's copy, and none may be pending). `tried` is what a failed write
        to the drive just sent (it may have landed). `PendingRace` when another save came first.
        """
        t = pending_table
        now = self._clock()
        version = (replacing or 0) + 1
        earlier = self._written(series_id, name) if replacing is not None else []
        written = [*earlier, *([digest(tried)] if tried is not None else [])][-MAX_WRITTEN:]
        sealed = seal_secret(self._keyring, _PURPOSE, f"{series_id}/{name}", content)
        values = {
            "owner": owner,
            "sealed": sealed,
            "version": version,
            "saved_at": now,
            "attempts": 0,
            "note": "",
            "written": " ".join(written),
        }
        try:
            with self._engine.begin() as conn:
                if replacing is None:
                    conn.execute(
                        t.insert().values(
                            series_id=series_id, name=name, base_etag=base_etag, **values
                        )
                    )
                else:
                    done = conn.execute(
                        t.update()
                        .where(
                            and_(
                                t.c.series_id == series_id,
                                t.c.name == name,
                                t.c.version == replacing,
                            )
                        )
                        .values(**values)
                    )
                    if not done.rowcount:
                        raise PendingRace(f"{series_id}/{name} changed since version {replacing}")
        except IntegrityError:
            raise PendingRace(f"{series_id}/{name} is pending already") from None
        stored_base = base_etag if replacing is None else self._base(series_id, name)
        return Pending(
            series_id, name, owner, content, stored_base, version, now, 0, frozenset(written)
        )

    def delivered(self, series_id: str, name: str, version: int, drive_etag: str | None) -> bool:
        """Forget the document once the drive holds this version (as `drive_etag`).

        False when a newer save waits on top of it: that one was made from this version, so
        it is delivered over `drive_etag` from now on.
        """
        t = pending_table
        same = and_(t.c.series_id == series_id, t.c.name == name)
        with self._engine.begin() as conn:
            done = conn.execute(t.delete().where(and_(same, t.c.version == version)))
            if done.rowcount:
                return True
            if drive_etag is not None:
                conn.execute(
                    t.update().where(and_(same, t.c.version > version)).values(base_etag=drive_etag)
                )
        return False

    def failed(self, series_id: str, name: str, version: int, note: str) -> None:
        """Count a delivery that did not get through, and why (a word or two, no content)."""
        t = pending_table
        with self._engine.begin() as conn:
            conn.execute(
                t.update()
                .where(and_(t.c.series_id == series_id, t.c.name == name, t.c.version == version))
                .values(attempts=t.c.attempts + 1, note=note[:200])
            )

    def waiting(self, limit: int = 500) -> list[Pending]:
        """The documents waiting for delivery, the oldest first (at most `limit`)."""
        t = pending_table
        with self._engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.saved_at).limit(limit)).all()
        return [self._open(row) for row in rows]

    def count(self) -> int:
        """How many documents wait."""
        t = pending_table
        with self._engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(t)) or 0)

    def _written(self, series_id: str, name: str) -> list[str]:
        t = pending_table
        with self._engine.connect() as conn:
            value = conn.scalar(
                select(t.c.written).where(and_(t.c.series_id == series_id, t.c.name == name))
            )
        return str(value or "").split()

    def _base(self, series_id: str, name: str) -> str | None:
        t = pending_table
        with self._engine.connect() as conn:
            value: str | None = conn.scalar(
                select(t.c.base_etag).where(and_(t.c.series_id == series_id, t.c.name == name))
            )
        return value

    def _open(self, row: object) -> Pending:
        data = row._mapping  # type: ignore[attr-defined]
        content = open_secret(
            self._keyring, _PURPOSE, f"{data['series_id']}/{data['name']}", data["sealed"]
        )
        saved = data["saved_at"]
        return Pending(
            series_id=data["series_id"],
            name=data["name"],
            owner=data["owner"],
            content=content,
            base_etag=data["base_etag"],
            version=int(data["version"]),
            saved_at=saved if saved.tzinfo else saved.replace(tzinfo=UTC),
            attempts=int(data["attempts"]),
            written=frozenset(str(data["written"] or "").split()),
        )
