"""The embedded default backend: one SQLite file and a folder of drive files in a data directory.

Layout of ``data_dir``::

    goedgesprek.sqlite3            events, attachments, drive metadata, outbox, people
    drive/<user>/<folder>/<name>/  one file per version of a drive file

Everything in it is the user's alone (directories 0700, files 0600). SQLite runs in WAL mode;
one connection is shared by all threads behind a lock (Flask serves threads), every operation is
one transaction. The schema version is ``PRAGMA user_version``.

A drive write puts the bytes in a new file first (temporary name, fsync, rename), then commits the
metadata that points at it. A crash in between leaves an unreferenced file that nothing lists
or reads, and the previous version intact.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cadence.recurrence import DayOfMonth, NthWeekday, Rule, Weekday
from cadence.zones import zone
from connectors._files import private_dir, private_sqlite, private_tree, use_wal, write_atomically
from connectors._recurring import StoredCalendar, attendees_from, frozen_properties, participants
from connectors.errors import ConnectorError, InvalidRequest, NotFound, Unavailable
from connectors.memory import (
    Clock,
    check_address,
    check_mail,
    check_name,
    check_person,
    check_preconditions,
    utc_now,
)
from connectors.models import AttachmentInfo, Event, File, FileInfo, KnownPerson, Mail, SentMail

DB_NAME = "goedgesprek.sqlite3"
"""The SQLite file's name inside the data directory."""

SCHEMA_VERSION = 4
"""The schema this code writes; a newer file is refused rather than misread."""

_SCHEMA = [
    """CREATE TABLE people (email TEXT PRIMARY KEY, name TEXT NOT NULL, tz TEXT NOT NULL)""",
    """CREATE TABLE events (
        id TEXT PRIMARY KEY,
        series_id TEXT,
        is_master INTEGER NOT NULL,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        data TEXT NOT NULL)""",
    "CREATE INDEX events_series ON events (series_id)",
    """CREATE TABLE event_people (
        email TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (email, event_id))""",
    "CREATE INDEX event_people_event ON event_people (event_id)",
    """CREATE TABLE event_keys (
        owner TEXT NOT NULL,
        key TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (owner, key))""",
    """CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        content BLOB NOT NULL,
        UNIQUE (event_id, name))""",
    """CREATE TABLE folders (
        owner TEXT NOT NULL,
        folder TEXT NOT NULL,
        PRIMARY KEY (owner, folder))""",
    """CREATE TABLE files (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        folder TEXT NOT NULL,
        name TEXT NOT NULL,
        UNIQUE (owner, folder, name))""",
    """CREATE TABLE file_versions (
        file_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        etag TEXT NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        modified TEXT NOT NULL,
        blob TEXT NOT NULL,
        PRIMARY KEY (file_id, version))""",
    """CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        sender TEXT NOT NULL,
        key TEXT NOT NULL,
        data TEXT NOT NULL,
        sent_at TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX outbox_key ON outbox (sender, key) WHERE key <> ''",
]

_SCHEMA_2 = [
    # Reporting lines: who is whose manager, as the embedded directory knows it.
    """CREATE TABLE managers (email TEXT PRIMARY KEY, manager TEXT NOT NULL)""",
]


SHORT_SPAN_DAYS = 31
"""Singles up to this long are found by their start near a window; longer ones by their span."""

_SCHEMA_3 = [
    # Finding a meeting's copy by iCalUId (`Calendar.find_event`) without reading every row.
    """CREATE INDEX IF NOT EXISTS events_ical_uid ON events (json_extract(data, '$.ical_uid'))
       WHERE series_id IS NULL""",
    # A window's events without reading the person's whole calendar (`candidates`).
    """CREATE INDEX IF NOT EXISTS events_single_start ON events (start_utc)
       WHERE series_id IS NULL AND is_master = 0""",
    """CREATE INDEX IF NOT EXISTS events_long_span
       ON events (julianday(end_utc) - julianday(start_utc))""",
    """CREATE INDEX IF NOT EXISTS events_recurring_start ON events (start_utc)
       WHERE series_id IS NOT NULL OR is_master = 1""",
]

_SCHEMA_4 = [
    # The day each person joined the organisation, as the embedded directory knows it.
    """CREATE TABLE IF NOT EXISTS joined (email TEXT PRIMARY KEY, day TEXT NOT NULL)""",
]


_UTC_TEXT = "%Y-%m-%dT%H:%M:%S.%f"


def _utc_text(moment: datetime) -> str:
    """A fixed-width UTC text that sorts as the instants do."""
    return moment.astimezone(UTC).strftime(_UTC_TEXT)


def _from_utc_text(text: str) -> datetime:
    return datetime.strptime(text, _UTC_TEXT).replace(tzinfo=UTC)


def _rule_data(rule: Rule) -> dict[str, Any]:
    anchor: dict[str, int] = (
        {"weekday": int(rule.anchor.weekday), "week": rule.anchor.week}
        if isinstance(rule.anchor, NthWeekday)
        else {"day": rule.anchor.day}
    )
    return {
        "first": rule.first.isoformat(),
        "tz": rule.tz,
        "anchor": anchor,
        "interval": rule.interval,
        "count": rule.count,
        "until": rule.until.isoformat() if rule.until else None,
    }


def _rule_from(data: dict[str, Any]) -> Rule:
    raw = data["anchor"]
    anchor = (
        NthWeekday(Weekday(raw["weekday"]), raw["week"])
        if "weekday" in raw
        else DayOfMonth(raw["day"])
    )
    return Rule(
        first=datetime.fromisoformat(data["first"]),
        tz=data["tz"],
        anchor=anchor,
        interval=data["interval"],
        count=data["count"],
        until=date.fromisoformat(data["until"]) if data["until"] else None,
    )


def _event_data(event: Event) -> str:
    return json.dumps(
        {
            "subject": event.subject,
            "start": _utc_text(event.start),
            "end": _utc_text(event.end),
            "tz": event.tz,
            "organizer": event.organizer,
            "etag": event.etag,
            "ical_uid": event.ical_uid,
            "attendees": [
                {"email": a.email, "name": a.name, "response": a.response} for a in event.attendees
            ],
            "body_html": event.body_html,
            "location": event.location,
            "online": event.online,
            "recurrence": _rule_data(event.recurrence) if event.recurrence else None,
            "series_id": event.series_id,
            "original_start": (
                _utc_text(event.original_start) if event.original_start is not None else None
            ),
            "cancelled": event.cancelled,
            "properties": dict(event.properties),
        }
    )


def _event_from(event_id: str, text: str) -> Event:
    data = json.loads(text)
    tz = zone(data["tz"])
    original = data["original_start"]
    return Event(
        id=event_id,
        subject=data["subject"],
        start=_from_utc_text(data["start"]).astimezone(tz),
        end=_from_utc_text(data["end"]).astimezone(tz),
        tz=data["tz"],
        organizer=data["organizer"],
        etag=data["etag"],
        ical_uid=data["ical_uid"],
        attendees=attendees_from(data["attendees"]),
        body_html=data["body_html"],
        location=data["location"],
        online=data["online"],
        recurrence=_rule_from(data["recurrence"]) if data["recurrence"] else None,
        series_id=data["series_id"],
        original_start=_from_utc_text(original).astimezone(tz) if original else None,
        cancelled=data["cancelled"],
        properties=frozen_properties(data["properties"]),
    )


def _disk_name(value: str) -> str:
    """A portable file-system name for a validated name: odd characters escaped, length capped."""
    safe = quote(value, safe="@+-_.")
    if safe.startswith("."):
        safe = "%2E" + safe[1:]
    if len(safe) > 120:
        # Long names keep a readable prefix and a digest, so two of them never collide.
        safe = f"{safe[:80]}~{hashlib.sha256(value.encode()).hexdigest()[:32]}"
    return safe


class _Database:
    """One SQLite connection shared by threads behind a re-entrant lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        # Autocommit mode: transactions are begun and ended explicitly in `transaction`.
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        try:
            use_wal(self._conn)
            # FULL: a committed write survives a power cut, not only a process crash.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _migrate(self) -> None:
        with self.transaction():
            (version,) = self._conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise InvalidRequest(
                    f"{self.path.name} has schema version {version}, newer than this program's "
                    f"{SCHEMA_VERSION}: upgrade goedgesprek to open it"
                )
            if version == 0:
                for statement in _SCHEMA:
                    self._conn.execute(statement)
            if version < 2:
                for statement in _SCHEMA_2:
                    self._conn.execute(statement)
            if version < 3:
                for statement in _SCHEMA_3:
                    self._conn.execute(statement)
            if version < 4:
                for statement in _SCHEMA_4:
                    self._conn.execute(statement)
            if version < SCHEMA_VERSION:
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One all-or-nothing unit; nested calls join the outer one."""
        with self._lock:
            if self._closed:
                # The caller's mistake, not a failing store: no ConnectorError to retry.
                raise sqlite3.ProgrammingError(f"the local store {self.path} is closed")
            if self._depth:
                yield
                return
            self._depth = 1
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except ConnectorError:
                raise
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise Unavailable(f"the local store {self.path.name} failed: {exc}") from exc
            except OSError as exc:
                raise Unavailable(f"the local data directory failed: {exc}") from exc
            finally:
                self._depth = 0

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one statement (inside `transaction`)."""
        return self._conn.execute(sql, params)

    def close(self) -> None:
        """Close the connection; a later transaction raises `sqlite3.ProgrammingError`."""
        with self._lock:
            self._closed = True
            self._conn.close()


class _LocalEvents:
    """An `EventRepo` in SQLite: one row per record, participants indexed for lookups."""

    def __init__(self, db: _Database) -> None:
        self._db = db

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return self._db.transaction()

    def load(self, event_id: str) -> Event | None:
        row = self._db.execute("SELECT data FROM events WHERE id = ?", (event_id,)).fetchone()
        return _event_from(event_id, row[0]) if row else None

    def save(self, event: Event) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO events (id, series_id, is_master, start_utc, end_utc, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                event.id,
                event.series_id,
                int(event.recurrence is not None),
                _utc_text(event.start),
                _utc_text(event.end),
                _event_data(event),
            ),
        )
        self._db.execute("DELETE FROM event_people WHERE event_id = ?", (event.id,))
        for email in sorted(participants(event)):
            self._db.execute(
                "INSERT INTO event_people (email, event_id) VALUES (?, ?)", (email, event.id)
            )

    def remove(self, event_id: str) -> None:
        ids = [event_id, *(e.id for e in self.exceptions(event_id))]
        for gone in ids:
            self._db.execute("DELETE FROM events WHERE id = ?", (gone,))
            self._db.execute("DELETE FROM event_people WHERE event_id = ?", (gone,))
            self._db.execute("DELETE FROM attachments WHERE event_id = ?", (gone,))

    def exceptions(self, series_id: str) -> builtins.list[Event]:
        rows = self._db.execute("SELECT id, data FROM events WHERE series_id = ?", (series_id,))
        return [_event_from(i, d) for i, d in rows.fetchall()]

    def with_ical_uid(self, ical_uid: str) -> Event | None:
        row = self._db.execute(
            "SELECT id, data FROM events WHERE series_id IS NULL"
            " AND json_extract(data, '$.ical_uid') = ? LIMIT 1",
            (ical_uid,),
        ).fetchone()
        return _event_from(row[0], row[1]) if row else None

    def candidates(self, email: str, start: datetime, end: datetime) -> builtins.list[Event]:
        # Three index walks, so a window costs what it holds, not what the calendar holds (named,
        # as the planner otherwise walks `events_series` for "series_id IS NULL"):
        # singles starting at most SHORT_SPAN before it (`events_single_start`), longer singles
        # (`events_long_span`), and the user's masters and exceptions, each leading to its
        # master (`events_recurring_start`). The person is checked per row found.
        low, high = _utc_text(start), _utc_text(end)
        rows = self._db.execute(
            "SELECT id, data FROM events WHERE id IN ("
            " SELECT e.id FROM events e INDEXED BY events_single_start"
            "  WHERE e.series_id IS NULL AND e.is_master = 0"
            "  AND e.start_utc >= ? AND e.start_utc < ? AND e.end_utc > ?"
            "  AND EXISTS (SELECT 1 FROM event_people p WHERE p.email = ? AND p.event_id = e.id)"
            " UNION"
            " SELECT e.id FROM events e INDEXED BY events_long_span"
            "  WHERE julianday(e.end_utc) - julianday(e.start_utc) > ?"
            "  AND e.series_id IS NULL AND e.is_master = 0"
            "  AND e.start_utc < ? AND e.end_utc > ?"
            "  AND EXISTS (SELECT 1 FROM event_people p WHERE p.email = ? AND p.event_id = e.id)"
            " UNION"
            " SELECT COALESCE(e.series_id, e.id) FROM events e INDEXED BY events_recurring_start"
            "  WHERE (e.series_id IS NOT NULL OR e.is_master = 1) AND e.start_utc < ?"
            "  AND EXISTS (SELECT 1 FROM event_people p WHERE p.email = ? AND p.event_id = e.id))",
            (
                _utc_text(start - timedelta(days=SHORT_SPAN_DAYS + 1)),
                high,
                low,
                email,
                SHORT_SPAN_DAYS,
                high,
                low,
                email,
                high,
                email,
            ),
        )
        return [_event_from(i, d) for i, d in rows.fetchall()]

    def key_lookup(self, owner: str, key: str) -> str | None:
        row = self._db.execute(
            "SELECT event_id FROM event_keys WHERE owner = ? AND key = ?", (owner, key)
        ).fetchone()
        return str(row[0]) if row else None

    def key_store(self, owner: str, key: str, event_id: str) -> None:
        self._db.execute(
            "INSERT INTO event_keys (owner, key, event_id) VALUES (?, ?, ?)", (owner, key, event_id)
        )

    def attachments(self, event_id: str) -> builtins.list[AttachmentInfo]:
        rows = self._db.execute(
            "SELECT id, name, content_type, size FROM attachments WHERE event_id = ? ORDER BY name",
            (event_id,),
        )
        return [AttachmentInfo(id=i, name=n, content_type=t, size=s) for i, n, t, s in rows]

    def attachment(self, event_id: str, attachment_id: str) -> bytes | None:
        row = self._db.execute(
            "SELECT content FROM attachments WHERE event_id = ? AND id = ?",
            (event_id, attachment_id),
        ).fetchone()
        return bytes(row[0]) if row else None

    def put_attachment(self, event_id: str, info: AttachmentInfo, content: bytes) -> None:
        self._db.execute(
            "DELETE FROM attachments WHERE event_id = ? AND name = ?", (event_id, info.name)
        )
        self._db.execute(
            "INSERT INTO attachments (id, event_id, name, content_type, size, content)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (info.id, event_id, info.name, info.content_type, info.size, content),
        )

    def drop_attachments(self, event_id: str) -> None:
        self._db.execute("DELETE FROM attachments WHERE event_id = ?", (event_id,))


class LocalCalendar(StoredCalendar):
    """A `Calendar` over a `LocalStore`'s shared events; get one from `LocalStore.calendar`."""


class LocalDrive:
    """A `Drive` whose bytes are files under ``drive/<user>/`` and whose metadata is in SQLite."""

    def __init__(self, owner: str, db: _Database, root: Path, clock: Clock) -> None:
        """The drive of `owner`; get one from `LocalStore.drive`."""
        self._owner = owner.strip().lower()
        self._db = db
        self._root = root
        self._clock = clock

    def put(
        self,
        folder: str,
        name: str,
        content: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> FileInfo:
        """Write a new version of a file; see `connectors.ports.Drive.put`."""
        check_name("folder", folder)
        check_name("name", name)
        new_file: Path | None = None
        try:
            with self._db.transaction():
                row = self._file(folder, name)
                current = self._newest(row[0]) if row else None
                check_preconditions(
                    f"{folder}/{name}",
                    current[0] if current else None,
                    if_match=if_match,
                    if_none_match=if_none_match,
                )
                file_id = row[0] if row else uuid.uuid4().hex
                version = current[1] + 1 if current else 1
                token = uuid.uuid4().hex
                blob = "/".join(
                    [
                        _disk_name(self._owner),
                        _disk_name(folder),
                        _disk_name(name),
                        f"v{version}-{token[:12]}",
                    ]
                )
                # Bytes first, metadata second: until the commit, nothing points at the new file.
                write_atomically(self._root / blob, bytes(content))
                new_file = self._root / blob
                if row is None:
                    self._db.execute(
                        "INSERT OR IGNORE INTO folders (owner, folder) VALUES (?, ?)",
                        (self._owner, folder),
                    )
                    self._db.execute(
                        "INSERT INTO files (id, owner, folder, name) VALUES (?, ?, ?, ?)",
                        (file_id, self._owner, folder, name),
                    )
                info = FileInfo(
                    id=file_id,
                    folder=folder,
                    name=name,
                    etag=f"{file_id}.{version}.{token[:8]}",
                    version=version,
                    size=len(content),
                    content_type=content_type,
                    modified=self._clock(),
                )
                self._db.execute(
                    "INSERT INTO file_versions"
                    " (file_id, version, etag, size, content_type, modified, blob)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        file_id,
                        version,
                        info.etag,
                        info.size,
                        content_type,
                        info.modified.astimezone(UTC).isoformat(),
                        blob,
                    ),
                )
                return info
        except BaseException:
            # The metadata did not commit: the new bytes are unreferenced, so do not keep them.
            if new_file is not None:
                with contextlib.suppress(OSError):
                    new_file.unlink()
            raise

    def get(self, folder: str, name: str) -> File:
        """The newest version of a file; `NotFound` if there is none."""
        with self._db.transaction():
            info, blob = self._version(folder, name, None)
            return File(info=info, content=self._read(blob, folder, name))

    def stat(self, folder: str, name: str) -> FileInfo:
        """A file's metadata without its bytes."""
        with self._db.transaction():
            return self._version(folder, name, None)[0]

    def list(self, folder: str) -> builtins.list[FileInfo]:
        """The files in a folder, by name; an unknown folder is empty."""
        check_name("folder", folder)
        with self._db.transaction():
            rows = self._db.execute(
                "SELECT id, name FROM files WHERE owner = ? AND folder = ? ORDER BY name",
                (self._owner, folder),
            ).fetchall()
            return [self._info(file_id, folder, name, None)[0] for file_id, name in rows]

    def folders(self) -> builtins.list[str]:
        """The folder names, sorted (a folder stays after its last file is deleted)."""
        with self._db.transaction():
            rows = self._db.execute(
                "SELECT folder FROM folders WHERE owner = ? ORDER BY folder", (self._owner,)
            )
            return [str(r[0]) for r in rows.fetchall()]

    def versions(self, folder: str, name: str) -> builtins.list[FileInfo]:
        """Every version of a file, oldest first."""
        check_name("folder", folder)
        check_name("name", name)
        with self._db.transaction():
            row = self._file(folder, name)
            if row is None:
                raise NotFound(f"no file {folder}/{name} in the drive of {self._owner}")
            rows = self._db.execute(
                "SELECT version FROM file_versions WHERE file_id = ? ORDER BY version", (row[0],)
            ).fetchall()
            return [self._info(row[0], folder, name, v)[0] for (v,) in rows]

    def get_version(self, folder: str, name: str, version: int) -> File:
        """One version of a file (1 is the first); `NotFound` for a version never written."""
        with self._db.transaction():
            info, blob = self._version(folder, name, version)
            return File(info=info, content=self._read(blob, folder, name))

    def delete(self, folder: str, name: str, *, if_match: str | None = None) -> None:
        """Delete a file and its versions; `Conflict` if `if_match` is stale."""
        with self._db.transaction():
            info, _ = self._version(folder, name, None)
            check_preconditions(f"{folder}/{name}", info.etag, if_match=if_match)
            blobs = [
                str(b)
                for (b,) in self._db.execute(
                    "SELECT blob FROM file_versions WHERE file_id = ?", (info.id,)
                ).fetchall()
            ]
            self._db.execute("DELETE FROM file_versions WHERE file_id = ?", (info.id,))
            self._db.execute("DELETE FROM files WHERE id = ?", (info.id,))
        # Only after the commit: should this fail, the files are unreferenced, never visible.
        for blob in blobs:
            with contextlib.suppress(OSError):
                (self._root / blob).unlink()

    def _file(self, folder: str, name: str) -> tuple[str] | None:
        row = self._db.execute(
            "SELECT id FROM files WHERE owner = ? AND folder = ? AND name = ?",
            (self._owner, folder, name),
        ).fetchone()
        return (str(row[0]),) if row else None

    def _newest(self, file_id: str) -> tuple[str, int] | None:
        """The etag and number of a file's newest version."""
        row = self._db.execute(
            "SELECT etag, version FROM file_versions WHERE file_id = ?"
            " ORDER BY version DESC LIMIT 1",
            (file_id,),
        ).fetchone()
        return (str(row[0]), int(row[1])) if row else None

    def _info(
        self, file_id: str, folder: str, name: str, version: int | None
    ) -> tuple[FileInfo, str]:
        if version is None:
            row = self._db.execute(
                "SELECT version, etag, size, content_type, modified, blob FROM file_versions"
                " WHERE file_id = ? ORDER BY version DESC LIMIT 1",
                (file_id,),
            ).fetchone()
        else:
            row = self._db.execute(
                "SELECT version, etag, size, content_type, modified, blob FROM file_versions"
                " WHERE file_id = ? AND version = ?",
                (file_id, version),
            ).fetchone()
        if row is None:
            raise NotFound(f"{folder}/{name} has no version {version}")
        number, etag, size, content_type, modified, blob = row
        info = FileInfo(
            id=file_id,
            folder=folder,
            name=name,
            etag=etag,
            version=number,
            size=size,
            content_type=content_type,
            modified=datetime.fromisoformat(modified),
        )
        return info, str(blob)

    def _version(self, folder: str, name: str, version: int | None) -> tuple[FileInfo, str]:
        check_name("folder", folder)
        check_name("name", name)
        row = self._file(folder, name)
        if row is None:
            raise NotFound(f"no file {folder}/{name} in the drive of {self._owner}")
        return self._info(row[0], folder, name, version)

    def _read(self, blob: str, folder: str, name: str) -> bytes:
        try:
            return (self._root / blob).read_bytes()
        except FileNotFoundError as exc:
            raise Unavailable(
                f"the bytes of {folder}/{name} are missing from the data directory: "
                f"restore it from a backup"
            ) from exc


class LocalMailer:
    """A `Mailer` that records each mail in the local outbox instead of sending it."""

    def __init__(self, owner: str, db: _Database, clock: Clock) -> None:
        """A mailer sending as `owner`; get one from `LocalStore.mailer`."""
        self._owner = owner
        self._db = db
        self._clock = clock

    def send(self, mail: Mail) -> SentMail:
        """Record a message; the same non-empty `Mail.key` again returns the first send."""
        check_mail(self._owner, mail)
        sender = mail.sender.strip().lower()
        with self._db.transaction():
            if mail.key:
                # `key <> ''` repeats the partial index's condition, so SQLite uses the index
                # (it cannot see that a bound key is never empty, and would read every mail).
                row = self._db.execute(
                    "SELECT id, data, sent_at FROM outbox"
                    " WHERE sender = ? AND key = ? AND key <> ''",
                    (sender, mail.key),
                ).fetchone()
                if row is not None:
                    return _sent_from(*row)
            sent = SentMail(id=uuid.uuid4().hex, mail=mail, sent_at=self._clock())
            self._db.execute(
                "INSERT INTO outbox (id, sender, key, data, sent_at) VALUES (?, ?, ?, ?, ?)",
                (sent.id, sender, mail.key, _mail_data(mail), sent.sent_at.isoformat()),
            )
            return sent


def _mail_data(mail: Mail) -> str:
    return json.dumps(
        {
            "sender": mail.sender,
            "to": list(mail.to),
            "subject": mail.subject,
            "text": mail.text,
            "html": mail.html,
            "key": mail.key,
        }
    )


def _sent_from(sent_id: str, data: str, sent_at: str) -> SentMail:
    raw = json.loads(data)
    mail = Mail(
        sender=raw["sender"],
        to=tuple(raw["to"]),
        subject=raw["subject"],
        text=raw["text"],
        html=raw["html"],
        key=raw["key"],
    )
    return SentMail(id=sent_id, mail=mail, sent_at=datetime.fromisoformat(sent_at))


class LocalStore:
    """Every user's calendar, drive and outbox in a data directory; survives restarts.

    Close it when done (or use it as a context manager).
    """

    def __init__(self, data_dir: Path, *, clock: Clock = utc_now) -> None:
        """Open (creating as needed) the store in `data_dir`; `clock` stamps files and mail."""
        self._data_dir = Path(data_dir)
        self._clock = clock
        try:
            # The user's alone: 0700 directories, 0600 files (see `connectors._files`).
            private_dir(self._data_dir, tighten=True)
            private_dir(self._data_dir / "drive", tighten=True)
            private_tree(self._data_dir / "drive")
            private_sqlite(self._data_dir / DB_NAME)
        except OSError as exc:
            raise Unavailable(f"cannot create the data directory {self._data_dir}: {exc}") from exc
        try:
            self._db = _Database(self._data_dir / DB_NAME)
        except sqlite3.Error as exc:
            raise Unavailable(f"cannot open {DB_NAME} in {self._data_dir}: {exc}") from exc
        self._events = _LocalEvents(self._db)

    @property
    def data_dir(self) -> Path:
        """The directory holding the database and the drive files."""
        return self._data_dir

    @property
    def db_path(self) -> Path:
        """The SQLite file."""
        return self._db.path

    def calendar(self, email: str) -> LocalCalendar:
        """The calendar of `email`."""
        return LocalCalendar(email, self._events)

    def drive(self, email: str) -> LocalDrive:
        """The app's folder in the drive of `email`."""
        return LocalDrive(email, self._db, self._data_dir / "drive", self._clock)

    def mailer(self, email: str) -> LocalMailer:
        """A mailer sending as `email`."""
        return LocalMailer(email, self._db, self._clock)

    def outbox(self) -> list[SentMail]:
        """Every mail sent, oldest first."""
        with self._db.transaction():
            rows = self._db.execute("SELECT id, data, sent_at FROM outbox ORDER BY seq")
            return [_sent_from(*row) for row in rows.fetchall()]

    def add_person(self, email: str, name: str, tz: str) -> None:
        """Make a user known by name and zone; adding again updates them."""
        person = check_person(email, name, tz)
        with self._db.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO people (email, name, tz) VALUES (?, ?, ?)",
                (person.email, person.name, person.tz),
            )

    def people(self) -> list[KnownPerson]:
        """The known users, by email."""
        with self._db.transaction():
            rows = self._db.execute("SELECT email, name, tz FROM people ORDER BY email")
            return [KnownPerson(email=e, name=n, tz=t) for e, n, t in rows.fetchall()]

    def set_joined(self, email: str, day: date | None) -> None:
        """Record the day `email` joined the organisation (None: forget it)."""
        person = check_address(email)
        with self._db.transaction():
            if day is None:
                self._db.execute("DELETE FROM joined WHERE email = ?", (person,))
                return
            self._db.execute(
                "INSERT OR REPLACE INTO joined (email, day) VALUES (?, ?)",
                (person, day.isoformat()),
            )

    def joined_on(self, email: str) -> date | None:
        """The day `email` joined the organisation, when recorded."""
        with self._db.transaction():
            row = self._db.execute(
                "SELECT day FROM joined WHERE email = ?", (email.strip().lower(),)
            ).fetchone()
        return date.fromisoformat(row[0]) if row else None

    def set_manager(self, email: str, manager: str | None) -> None:
        """Record who `email`'s manager is (None: nobody); setting again replaces it."""
        employee = check_address(email)
        with self._db.transaction():
            if manager is None:
                self._db.execute("DELETE FROM managers WHERE email = ?", (employee,))
                return
            boss = check_address(manager)
            if boss == employee:
                raise InvalidRequest(f"{email} cannot be their own manager")
            self._db.execute(
                "INSERT OR REPLACE INTO managers (email, manager) VALUES (?, ?)", (employee, boss)
            )

    def managers(self) -> list[tuple[str, str]]:
        """Every recorded (employee, manager), by employee."""
        with self._db.transaction():
            rows = self._db.execute("SELECT email, manager FROM managers ORDER BY email")
            return [(str(e), str(m)) for e, m in rows.fetchall()]

    def manager_of(self, email: str) -> str | None:
        """The address of `email`'s manager, or None."""
        with self._db.transaction():
            row = self._db.execute(
                "SELECT manager FROM managers WHERE email = ?", (email.strip().lower(),)
            ).fetchone()
        return str(row[0]) if row else None

    def drive_owners(self) -> list[str]:
        """Every user whose drive holds at least one folder, known as a person or not."""
        with self._db.transaction():
            rows = self._db.execute("SELECT DISTINCT owner FROM folders ORDER BY owner")
            return [owner for (owner,) in rows.fetchall()]

    def close(self) -> None:
        """Close the database; using the store afterwards raises `sqlite3.ProgrammingError`."""
        self._db.close()

    def __enter__(self) -> LocalStore:
        """The store itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()
