"""What only the local backend promises: persistence, crash safety, safe files on disk."""

from __future__ import annotations

import os
import select
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors.errors import InvalidRequest, NotFound, Unavailable
from connectors.local import DB_NAME, SCHEMA_VERSION, LocalStore
from connectors.models import Attendee, EventPatch, Mail, NewEvent
from connectors.testing import ManualClock

ADA = "ada@example.org"
BOB = "bob@example.org"
AMS = "Europe/Amsterdam"
YEAR = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
RULE = Rule.build(datetime(2027, 1, 12, 10, 0), AMS, NthWeekday(Weekday.TU, 2), count=4)


def series_event() -> NewEvent:
    """Ada's quarterly series with Bob, carrying our ids."""
    start = datetime(2027, 1, 12, 10, tzinfo=ZoneInfo(AMS))
    return NewEvent(
        subject="Goed gesprek",
        start=start,
        end=start + timedelta(hours=1),
        tz=AMS,
        organizer=ADA,
        attendees=(Attendee(BOB, "Bob"),),
        recurrence=RULE,
        properties={"series": "s-1"},
    )


def fail_version_inserts(db: Path) -> None:
    """Make every later drive-metadata insert fail, as a crash before the commit would."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TRIGGER crash BEFORE INSERT ON file_versions"
            " BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
        )
    conn.close()


def allow_version_inserts(db: Path) -> None:
    """Undo `fail_version_inserts`."""
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER crash")
    conn.close()


def test_everything_survives_reopen(tmp_path: Path) -> None:
    """Events, exceptions, attachments, file versions, mail and people are there after a reopen."""
    clock = ManualClock()
    with LocalStore(tmp_path, clock=clock) as store:
        store.add_person(ADA, "Ada", AMS)
        cal = store.calendar(ADA)
        master = cal.create_event(series_event(), idempotency_key="series")
        second = cal.instances(master.id, *YEAR)[1]
        cal.update_event(second.id, EventPatch(location="Kantine"))
        cal.delete_event(cal.instances(master.id, *YEAR)[2].id)
        attachment = cal.add_attachment(master.id, "agenda.txt", b"thema's", "text/plain")
        drive = store.drive(ADA)
        drive.put("dossier", "record.json", b"v1")
        drive.put("dossier", "record.json", b"v2")
        sent = store.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="s", text="t", key="m1"))
        before = cal.instances(master.id, *YEAR)
    with LocalStore(tmp_path, clock=clock) as store:
        cal = store.calendar(ADA)
        assert cal.instances(master.id, *YEAR) == before
        assert [e.location for e in before] == ["", "Kantine", ""]
        assert cal.get_event(master.id).recurrence == RULE
        assert dict(cal.get_event(master.id).properties) == {"series": "s-1"}
        assert cal.get_attachment(master.id, attachment.id) == b"thema's"
        assert cal.create_event(series_event(), idempotency_key="series").id == master.id
        drive = store.drive(ADA)
        assert drive.get("dossier", "record.json").content == b"v2"
        assert drive.get_version("dossier", "record.json", 1).content == b"v1"
        assert store.outbox() == [sent]
        again = store.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="s", text="t", key="m1"))
        assert again == sent
        assert [(p.email, p.name, p.tz) for p in store.people()] == [(ADA, "Ada", AMS)]


def test_failed_metadata_commit_keeps_old_version_and_no_stray_bytes(tmp_path: Path) -> None:
    """A write whose commit fails after its bytes hit disk leaves the old file whole, no orphan."""
    with LocalStore(tmp_path) as store:
        drive = store.drive(ADA)
        first = drive.put("dossier", "record.json", b"old")
        fail_version_inserts(store.db_path)
        with pytest.raises(Unavailable):
            drive.put("dossier", "record.json", b"new")
        with pytest.raises(Unavailable):
            drive.put("dossier", "other.json", b"new")
        on_disk = [p for p in (tmp_path / "drive").rglob("*") if p.is_file()]
        assert len(on_disk) == 1, "the failed writes left their bytes behind"
        assert drive.get("dossier", "record.json").content == b"old"
        assert drive.versions("dossier", "record.json") == [first]
        assert [f.name for f in drive.list("dossier")] == ["record.json"]
    with LocalStore(tmp_path) as store:
        drive = store.drive(ADA)
        assert drive.get("dossier", "record.json").info == first
        assert [f.name for f in drive.list("dossier")] == ["record.json"]
        with pytest.raises(NotFound):
            drive.get("dossier", "other.json")
        allow_version_inserts(store.db_path)
        second = drive.put("dossier", "record.json", b"new", if_match=first.etag)
        assert second.version == 2
        assert drive.get("dossier", "record.json").content == b"new"


def test_crashed_write_leaves_no_temp_file_in_view(tmp_path: Path) -> None:
    """Stray temporary and unreferenced version files on disk are never listed or read."""
    with LocalStore(tmp_path) as store:
        drive = store.drive(ADA)
        drive.put("dossier", "a.txt", b"kept")
        folder = next((tmp_path / "drive").rglob("a.txt"))
        (folder / ".v2-deadbeef.tmp").write_bytes(b"half")
        (folder / "v2-deadbeefdead").write_bytes(b"orphan")
    with LocalStore(tmp_path) as store:
        drive = store.drive(ADA)
        assert [(f.name, f.version) for f in drive.list("dossier")] == [("a.txt", 1)]
        assert drive.get("dossier", "a.txt").content == b"kept"
        assert drive.put("dossier", "a.txt", b"next").version == 2
        assert drive.get("dossier", "a.txt").content == b"next"


def test_files_stay_inside_the_user_folder(tmp_path: Path) -> None:
    """Every byte written lands under drive/<user>/, whatever the names look like."""
    with LocalStore(tmp_path) as store:
        drive = store.drive("Ada@Example.org")
        drive.put(".verborgen", "..hidden name?*.json", b"1")
        drive.put("gesprekken 2027", "ver:slag|<één>.json", b"2")
        drive.put("x" * 200, "y" * 250, b"3")
        for bad in ["../../escape", "/abs", "a\x00b"]:
            with pytest.raises(InvalidRequest):
                drive.put("dossier", bad, b"x")
        written = [p for p in (tmp_path / "drive").rglob("*") if p.is_file()]
        assert len(written) == 3
        user_dir = tmp_path / "drive" / "ada@example.org"
        assert all(user_dir in p.parents for p in written)
        assert all(len(part) <= 255 for p in written for part in p.parts)
        assert drive.get("x" * 200, "y" * 250).content == b"3"
        assert [f.name for f in drive.list(".verborgen")] == ["..hidden name?*.json"]
        assert not [p for p in tmp_path.rglob("escape")]


def test_delete_removes_version_files(tmp_path: Path) -> None:
    """Deleting a file removes its version files from disk too."""
    with LocalStore(tmp_path) as store:
        drive = store.drive(ADA)
        drive.put("dossier", "a.txt", b"1")
        drive.put("dossier", "a.txt", b"2")
        drive.delete("dossier", "a.txt")
        assert [p for p in (tmp_path / "drive").rglob("*") if p.is_file()] == []


def test_schema_is_versioned_and_wal(tmp_path: Path) -> None:
    """A new database carries the schema version and runs in WAL mode."""
    LocalStore(tmp_path).close()
    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


_OPENER = """
import sys, time
from pathlib import Path
from addin.store.db import create_store_engine
from connectors.local import LocalStore
root = Path(sys.argv[1])
for line in sys.stdin:
    data_dir = root / line.strip()
    go = data_dir / "go"
    deadline = time.monotonic() + 10
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.0005)
    try:
        LocalStore(data_dir).close()
        engine = create_store_engine(data_dir=data_dir)
        with engine.connect():
            pass
        engine.dispose()
        print("ok", flush=True)
    except Exception as exc:
        print(repr(exc).replace(chr(10), " "), flush=True)
"""


def test_workers_that_create_the_store_together_all_open_it(tmp_path: Path) -> None:
    """Server workers starting at once on a fresh data directory all open both databases.

    SQLite refuses a second switch to WAL at once ("database is locked") instead of waiting.
    Four processes (started afresh, not forked from this threaded one) open each directory
    the moment its "go" file appears.
    """
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    try:
        for round_ in range(20):
            data_dir = tmp_path / str(round_)
            data_dir.mkdir()
            for opener in openers:
                assert opener.stdin is not None
                opener.stdin.write(f"{round_}\n")
                opener.stdin.flush()
            time.sleep(0.05)  # every opener is waiting for the go
            (data_dir / "go").touch()
            answers = [_line(opener) for opener in openers]
            assert answers == ["ok"] * 4, answers
            with sqlite3.connect(data_dir / DB_NAME) as conn:
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            conn.close()
    finally:
        for opener in openers:
            opener.kill()
            opener.wait(10)
            for stream in (opener.stdin, opener.stdout):
                if stream is not None:
                    stream.close()


def _line(opener: subprocess.Popen[str]) -> str:
    """The opener's next answer, or a timeout after 30 s."""
    assert opener.stdout is not None
    ready, _, _ = select.select([opener.stdout], [], [], 30)
    return opener.stdout.readline().strip() if ready else "no answer within 30 s"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database from a newer program is refused with a message saying to upgrade."""
    LocalStore(tmp_path).close()
    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(InvalidRequest, match="upgrade"):
        LocalStore(tmp_path)


def test_threads_share_one_store(tmp_path: Path) -> None:
    """Writes from many threads at once all land, each version exactly once."""
    errors: list[BaseException] = []

    def write(store: LocalStore, n: int) -> None:
        try:
            for i in range(10):
                store.drive(ADA).put("dossier", "shared.txt", f"{n}-{i}".encode())
                store.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="s", text="t"))
        except BaseException as exc:  # collected and asserted in the main thread
            errors.append(exc)

    with LocalStore(tmp_path) as store:
        threads = [threading.Thread(target=write, args=(store, n)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        versions = store.drive(ADA).versions("dossier", "shared.txt")
        assert [v.version for v in versions] == list(range(1, 81))
        assert len({v.etag for v in versions}) == 80
        assert len(store.outbox()) == 80


def test_two_stores_on_one_directory_see_each_other(tmp_path: Path) -> None:
    """Two processes' worth of stores on one data directory share what they write."""
    with LocalStore(tmp_path) as one, LocalStore(tmp_path) as two:
        one.drive(ADA).put("dossier", "a.txt", b"from one")
        two.drive(ADA).put("dossier", "a.txt", b"from two")
        assert one.drive(ADA).get("dossier", "a.txt").content == b"from two"
        assert [v.version for v in one.drive(ADA).versions("dossier", "a.txt")] == [1, 2]


def test_missing_version_file_is_unavailable(tmp_path: Path) -> None:
    """Bytes removed from disk behind the store give Unavailable naming the file, not bad data."""
    with LocalStore(tmp_path) as store:
        store.drive(ADA).put("dossier", "a.txt", b"1")
        for path in (tmp_path / "drive").rglob("v1-*"):
            path.unlink()
        with pytest.raises(Unavailable, match=r"dossier/a\.txt"):
            store.drive(ADA).get("dossier", "a.txt")


def test_times_come_back_in_the_event_zone(tmp_path: Path) -> None:
    """A stored event reads back at the same instants, shown in its own zone."""
    with LocalStore(tmp_path) as store:
        created = store.calendar(ADA).create_event(series_event(), idempotency_key="k")
    with LocalStore(tmp_path) as store:
        got = store.calendar(ADA).get_event(created.id)
        assert got.start == created.start
        assert got.start.tzinfo == ZoneInfo(AMS)


def test_a_closed_store_says_so_and_is_no_provider_failure(tmp_path: Path) -> None:
    """Use after `close` is the caller's mistake: a ProgrammingError naming the store, never a
    connector error (which would be answered 503 and retried)."""
    store = LocalStore(tmp_path)
    store.close()
    uses = [
        store.people,
        lambda: store.drive(ADA).get("s-1", "occ.json"),
        lambda: store.drive(ADA).put("s-1", "occ.json", b"x"),
        lambda: store.calendar(ADA).get_event("e-1"),
        lambda: store.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="s", text="t")),
    ]
    for use in uses:
        with pytest.raises(sqlite3.ProgrammingError, match=f"{DB_NAME} .*is closed"):
            use()
    store.close()  # a second close does nothing


def test_a_keyed_mail_is_found_through_the_outbox_index(tmp_path: Path) -> None:
    """The idempotent send looks its key up by the index, not by reading every mail sent."""
    from connectors.models import Mail

    store = LocalStore(tmp_path)
    issued: list[str] = []
    try:
        store._db._conn.set_trace_callback(issued.append)  # what the mailer asks SQLite
        mail = Mail("ada@example.org", ("ada@example.org",), "Hallo", "tekst", key="k-1")
        first = store.mailer("ada@example.org").send(mail)
        assert store.mailer("ada@example.org").send(mail).id == first.id
        lookups = [q for q in issued if q.lstrip().upper().startswith("SELECT") and "outbox" in q]
        assert lookups
        for query in lookups:
            plan = store._db._conn.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()
            assert "USING INDEX outbox_key" in " ".join(str(row[-1]) for row in plan), query
    finally:
        store.close()
