"""The server's series registry: which pair, which rule, where the master event and dossier live.

No conversation content is kept here (that lives sealed in the employee's drive): only what the
server needs to find a series from an opened event and to plan around it. SQLAlchemy Core on the
server store (`addin.store`): a SQLite file in the data directory by default, PostgreSQL via
`DATABASE_URL`; the tables are made by the store's Alembic migrations, not here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from addin.store.db import DB_NAME, create_store_engine, default_url, upgrade
from addin.store.tables import alias_table, manager_history_table, metadata, series_table
from cadence.model import Locale, Pair, Person, Series
from cadence.recurrence import Rule

__all__ = [
    "DB_NAME",
    "EVENT_COPIES",
    "PairTaken",
    "Registry",
    "alias_table",
    "manager_history_table",
    "metadata",
    "pair_key",
    "series_table",
]


EVENT_COPIES = ("full", "titles")


class PairTaken(Exception):
    """The pair already has an active series (`existing`); a new one was not added."""

    def __init__(self, existing: Series) -> None:
        super().__init__(f"the pair already has series {existing.id}")
        self.existing = existing


def pair_key(pair: Pair) -> str:
    """The pair's two addresses, lower case and sorted: the same whoever is employee."""
    return "|".join(sorted(p.email.strip().lower() for p in pair.partners))


def _person(row: Any, role: str) -> Person:
    return Person(
        id=row[f"{role}_email"],
        name=row[f"{role}_name"],
        email=row[f"{role}_email"],
        tz=row[f"{role}_tz"],
        locale=Locale(row[f"{role}_locale"]),
    )


def _entry(row: Any) -> Series:
    m = row._mapping
    created = m["created"]
    return Series(
        id=m["id"],
        request_id=m["request_id"],
        pair=Pair(employee=_person(m, "employee"), manager=_person(m, "manager"), tz=m["tz"]),
        rule=Rule.from_rfc5545(m["rule"]),
        duration=m["duration"],
        place=m["place"],
        online=bool(m["online"]),
        event_copy=m["event_copy"],
        template=m["template"],
        created=created if created.tzinfo else created.replace(tzinfo=UTC),
        master_event_id=m["master_event_id"],
        ical_uid=m["ical_uid"],
    )


class Registry:
    """Series by id, by the request that created them and by any partner's copy of an event."""

    def __init__(self, url: str | Engine, *, migrate: bool = True) -> None:
        """A registry on the database at `url` (or on an engine the caller owns).

        With `migrate` (the default) the schema is brought up to date first (`addin.store.db`).
        """
        self._owns_engine = isinstance(url, str)
        self._engine: Engine = create_store_engine(url) if isinstance(url, str) else url
        self.url = url if isinstance(url, str) else url.url.render_as_string(hide_password=True)
        self._lock = threading.Lock()
        if migrate:
            upgrade(self._engine)

    @classmethod
    def in_dir(cls, data_dir: Path) -> Registry:
        """The default registry: a SQLite file in the data directory, the user's alone (0600)."""
        return cls(default_url(Path(data_dir)))

    @property
    def engine(self) -> Engine:
        """The server store's database (the token vault and people's hours share it)."""
        return self._engine

    def add(self, entry: Series) -> Series:
        """Register a series; a second add with the same request id returns the first one.

        Raises `PairTaken` when the pair already has another active series.
        """
        values = {
            "id": entry.id,
            "request_id": entry.request_id,
            "tz": entry.pair.tz,
            "rule": "\n".join(entry.rule.to_rfc5545()),
            "duration": entry.duration,
            "place": entry.place,
            "online": entry.online,
            "event_copy": entry.event_copy,
            "template": entry.template,
            "master_event_id": entry.master_event_id,
            "ical_uid": entry.ical_uid,
            "created": entry.created,
            "active_pair": pair_key(entry.pair),
        }
        for role, person in (("employee", entry.pair.employee), ("manager", entry.pair.manager)):
            values[f"{role}_email"] = person.email
            values[f"{role}_name"] = person.name
            values[f"{role}_tz"] = person.tz
            values[f"{role}_locale"] = str(person.locale)
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(series_table).values(**values))
        except IntegrityError:
            first = self.by_request(entry.request_id)
            if first is not None:
                return first
            taken = self.active_for_pair(entry.pair)
            if taken is None:
                raise
            raise PairTaken(taken) from None
        return entry

    def active_for_pair(self, pair: Pair) -> Series | None:
        """The pair's active series (in either role), or None."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(series_table).where(series_table.c.active_pair == pair_key(pair))
            ).first()
        return _entry(row) if row else None

    def get(self, series_id: str) -> Series | None:
        """The series with this id, or None."""
        if not _storable(series_id):
            return None
        with self._engine.connect() as conn:
            row = conn.execute(select(series_table).where(series_table.c.id == series_id)).first()
        return _entry(row) if row else None

    def by_request(self, request_id: str) -> Series | None:
        """The series a plan request created, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(series_table).where(series_table.c.request_id == request_id)
            ).first()
        return _entry(row) if row else None

    def by_ical_uid(self, ical_uid: str) -> Series | None:
        """The series whose master event has this iCalUId (shared by both partners' copies)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(series_table).where(series_table.c.ical_uid == ical_uid)
            ).first()
        return _entry(row) if row else None

    def due_for_sweep(self, now: datetime, *, after: str = "", limit: int = 500) -> list[Series]:
        """Active series the sweep should read at `now` (never read, changed since, or due),
        by id: a page of `limit` after `after`."""
        t = series_table
        when = now.astimezone(UTC)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t)
                .where(
                    t.c.active_pair.is_not(None)
                    & (t.c.id > after)
                    & (t.c.next_sweep.is_(None) | (t.c.next_sweep <= when))
                )
                .order_by(t.c.id)
                .limit(limit)
            ).all()
        return [_entry(row) for row in rows]

    def set_next_sweep(self, series_id: str, when: datetime | None) -> None:
        """When the sweep next reads the series (None: at the next sweep)."""
        value = when.astimezone(UTC) if when is not None else None
        with self._engine.begin() as conn:
            conn.execute(
                update(series_table).where(series_table.c.id == series_id).values(next_sweep=value)
            )

    def active(self, *, after: str = "", limit: int = 500) -> list[Series]:
        """Active series by id, the first `limit` with an id after `after` (a page: the sweep
        walks every series without holding them all)."""
        t = series_table
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t)
                .where(t.c.active_pair.is_not(None) & (t.c.id > after))
                .order_by(t.c.id)
                .limit(limit)
            ).all()
        return [_entry(row) for row in rows]

    def all_series(self, *, page: int = 500) -> Iterator[Series]:
        """Every series, active or ended, by id, read a page at a time."""
        t = series_table
        after = ""
        while True:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(t).where(t.c.id > after).order_by(t.c.id).limit(page)
                ).all()
            yield from (_entry(row) for row in rows)
            if len(rows) < page:
                return
            after = rows[-1].id

    def for_person(self, email: str) -> list[Series]:
        """Every series the person is a partner in, oldest first."""
        t = series_table
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t)
                .where((t.c.employee_email == email) | (t.c.manager_email == email))
                .order_by(t.c.created)
            ).all()
        return [_entry(row) for row in rows]

    def release_pair(self, series_id: str) -> None:
        """The series is no longer the pair's active one: the pair may plan a new series."""
        with self._engine.begin() as conn:
            conn.execute(
                update(series_table).where(series_table.c.id == series_id).values(active_pair=None)
            )

    def is_active(self, series_id: str) -> bool:
        """True while the series is its pair's active one (not ended, not replaced)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(series_table.c.active_pair).where(series_table.c.id == series_id)
            ).first()
        return row is not None and row[0] is not None

    def active_as_employee(self, email: str) -> list[Series]:
        """The active series in which `email` is the employee."""
        t = series_table
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(t)
                .where((t.c.employee_email == email.strip().lower()) & t.c.active_pair.is_not(None))
                .order_by(t.c.created)
            ).all()
        return [_entry(row) for row in rows]

    def hand_over(
        self, entry: Series, manager: Person, at: datetime, *, active: bool = True
    ) -> Series:
        """Make `manager` the series' manager from `at` on; the former one's time is kept.

        Raises `PairTaken` when the employee and the new manager have another active series;
        `active=False` hands over a series that has ended (it stays released).
        """
        t, h = series_table, manager_history_table
        old = entry.pair.manager
        new_pair = replace(entry.pair, manager=manager)
        with self._lock:
            try:
                with self._engine.begin() as conn:
                    last = conn.execute(
                        select(h.c.until)
                        .where(h.c.series_id == entry.id)
                        .order_by(h.c.until.desc())
                        .limit(1)
                    ).first()
                    since = _aware(last[0]) if last else entry.created
                    conn.execute(
                        insert(h).values(
                            series_id=entry.id,
                            manager_email=old.email,
                            since=since,
                            until=at,
                            successor_email=manager.email,
                        )
                    )
                    conn.execute(
                        update(t)
                        .where(t.c.id == entry.id)
                        .values(
                            manager_email=manager.email,
                            manager_name=manager.name,
                            manager_tz=manager.tz,
                            manager_locale=str(manager.locale),
                            active_pair=pair_key(new_pair) if active else None,
                        )
                    )
            except IntegrityError:
                taken = self.active_for_pair(new_pair)
                if taken is None or taken.id == entry.id:
                    raise
                raise PairTaken(taken) from None
        return replace(entry, pair=new_pair)

    def former_managers(self, series_id: str) -> list[tuple[str, datetime, datetime]]:
        """The series' former managers as (address, since, until), oldest first."""
        h = manager_history_table
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(h.c.manager_email, h.c.since, h.c.until)
                .where(h.c.series_id == series_id)
                .order_by(h.c.until)
            ).all()
        return [(str(e), _aware(since), _aware(until)) for e, since, until in rows]

    def end(self, series_id: str, rule: Rule) -> None:
        """End the series: its rule (ended) is kept and the pair released, in one step."""
        with self._engine.begin() as conn:
            conn.execute(
                update(series_table)
                .where(series_table.c.id == series_id)
                .values(rule="\n".join(rule.to_rfc5545()), active_pair=None)
            )

    def set_master(self, series_id: str, master_event_id: str, ical_uid: str) -> None:
        """Record the master event once the provider created it."""
        with self._engine.begin() as conn:
            conn.execute(
                update(series_table)
                .where(series_table.c.id == series_id)
                .values(master_event_id=master_event_id, ical_uid=ical_uid)
            )

    def change(self, entry: Series, **fields: Any) -> Series:
        """Change place, duration, online or event_copy; returns the new entry."""
        allowed = {"place", "duration", "online", "event_copy"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
        with self._engine.begin() as conn:
            conn.execute(
                update(series_table)
                .where(series_table.c.id == entry.id)
                .values(**fields, next_sweep=None)
            )
        return replace(entry, **fields)

    def alias(self, user_email: str, event_id: str) -> str | None:
        """The series id a user's event id was mapped to before, or None."""
        found = self.alias_of(user_email, event_id)
        return found[0] if found else None

    def is_mapped(self, user_email: str, series_id: str) -> bool:
        """True when any of the user's event ids is mapped to the series."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(alias_table.c.event_id)
                .where(
                    (alias_table.c.user_email == user_email)
                    & (alias_table.c.series_id == series_id)
                )
                .limit(1)
            ).first()
        return row is not None

    def alias_of(self, user_email: str, event_id: str) -> tuple[str, datetime | None] | None:
        """The series id and, for an occurrence, its original start, as remembered; or None."""
        if not _storable(event_id):
            return None
        with self._engine.connect() as conn:
            row = conn.execute(
                select(alias_table.c.series_id, alias_table.c.occurrence).where(
                    (alias_table.c.user_email == user_email) & (alias_table.c.event_id == event_id)
                )
            ).first()
        if row is None:
            return None
        return str(row[0]), datetime.fromisoformat(row[1]) if row[1] else None

    def remember(
        self,
        user_email: str,
        event_ids: list[str],
        series_id: str,
        *,
        occurrences: Mapping[str, datetime] | None = None,
    ) -> None:
        """Map a user's copies of the series' events to it, so the next open needs no lookup.

        `occurrences` gives the occurrence an id stands for, when it stands for one.
        """
        occurrences = occurrences or {}
        with self._lock:
            try:
                self._remember(user_email, event_ids, series_id, occurrences)
            except IntegrityError:
                # Another process mapped one of these ids between our read and our insert: the
                # second pass finds its row and only brings the occurrence up to date.
                self._remember(user_email, event_ids, series_id, occurrences)

    def _remember(
        self,
        user_email: str,
        event_ids: list[str],
        series_id: str,
        occurrences: Mapping[str, datetime],
    ) -> None:
        with self._engine.begin() as conn:
            for event_id in event_ids:
                when = occurrences.get(event_id)
                stamp = when.astimezone(UTC).isoformat() if when is not None else None
                where = (alias_table.c.user_email == user_email) & (
                    alias_table.c.event_id == event_id
                )
                exists = conn.execute(select(alias_table.c.occurrence).where(where)).first()
                if exists is None:
                    conn.execute(
                        insert(alias_table).values(
                            user_email=user_email,
                            event_id=event_id,
                            series_id=series_id,
                            occurrence=stamp,
                        )
                    )
                elif stamp is not None and exists[0] != stamp:
                    conn.execute(update(alias_table).where(where).values(occurrence=stamp))

    def close(self) -> None:
        """Release the connection pool, when the registry made it."""
        if self._owns_engine:
            self._engine.dispose()


def _storable(key: str) -> bool:
    """False for a key no row can hold: PostgreSQL text refuses NUL, which no id the app or a
    provider gives contains; asked for one, the answer is "none" on every database alike."""
    return "\x00" not in key


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive UTC datetimes; PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
