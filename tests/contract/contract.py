"""The contract every backend of the ports passes: the definition of `Calendar`, `Drive`, `Mailer`.

Adding a backend takes one module, ``tests/contract/test_<backend>.py``, with one fixture and
three empty subclasses::

    import pytest
    from contract import CalendarContract, DriveContract, MailerContract

    @pytest.fixture
    def backend(clock):
        store = MyStore(...)          # anything shaped like `Backend` below
        yield store
        store.close()                 # whatever tear-down it needs

    class TestMyCalendar(CalendarContract): ...
    class TestMyDrive(DriveContract): ...
    class TestMyMailer(MailerContract): ...

The fixture yields a fresh, empty backend per test. `clock` (from ``conftest.py``) is a
`connectors.testing.ManualClock` a backend may use or ignore: no contract test depends on the
time it shows. Tests compare instants, never the zone an instant is returned in, and never an
event's id across two users' calendars (providers give each attendee a copy with its own id:
the iCalUId is what they share).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest

from connectors.errors import Conflict, InvalidRequest, NotFound
from connectors.models import Attendee, EventPatch, Mail, NewEvent, SentMail
from connectors.ports import Calendar, Drive, Mailer

ADA = "ada@example.org"
BOB = "bob@example.org"
CY = "cy@example.org"
AMS = "Europe/Amsterdam"
AMSTERDAM = ZoneInfo(AMS)

BAD_NAMES = ["", ".", "..", "../secret", "a/b", "a\\b", "a\x00b", "/etc"]


class Backend(Protocol):
    """What a contract fixture yields: one empty backend holding every user."""

    def calendar(self, email: str) -> Calendar:
        """The calendar of `email`."""
        ...

    def drive(self, email: str) -> Drive:
        """The app's folder in the drive of `email`."""
        ...

    def mailer(self, email: str) -> Mailer:
        """A mailer sending as `email`."""
        ...

    def outbox(self) -> list[SentMail]:
        """Every mail sent, oldest first."""
        ...

    def add_person(self, email: str, name: str, tz: str) -> None:
        """Make a user known to the backend (free/busy, directory)."""
        ...


def local(*args: int) -> datetime:
    """An aware Amsterdam wall-clock time."""
    return datetime(*args, tzinfo=AMSTERDAM)  # type: ignore[misc]


class DriveContract:
    """Files in the app's folder: versions, etags, conditional writes, safe names."""

    def test_put_then_get_returns_bytes_and_metadata(self, backend: Backend) -> None:
        """A written file reads back with its bytes, size, type and first version."""
        drive = backend.drive(ADA)
        info = drive.put("dossier", "record.json", b"{}", content_type="application/json")
        got = drive.get("dossier", "record.json")
        assert got.content == b"{}"
        assert got.info == info
        assert (info.folder, info.name, info.size, info.version) == ("dossier", "record.json", 2, 1)
        assert info.content_type == "application/json"
        assert info.modified.utcoffset() is not None

    def test_stat_matches_get(self, backend: Backend) -> None:
        """stat gives the same metadata as get, without the bytes."""
        drive = backend.drive(ADA)
        drive.put("dossier", "a.bin", b"abc")
        assert drive.stat("dossier", "a.bin") == drive.get("dossier", "a.bin").info

    def test_every_put_makes_a_new_version(self, backend: Backend) -> None:
        """Writing a name again keeps the old bytes as an earlier version with its own etag."""
        drive = backend.drive(ADA)
        first = drive.put("dossier", "agenda.txt", b"one")
        second = drive.put("dossier", "agenda.txt", b"two")
        assert second.version == first.version + 1
        assert second.etag != first.etag
        assert second.id == first.id
        assert drive.get("dossier", "agenda.txt").content == b"two"
        assert [v.version for v in drive.versions("dossier", "agenda.txt")] == [1, 2]
        assert [v.etag for v in drive.versions("dossier", "agenda.txt")] == [
            first.etag,
            second.etag,
        ]
        assert drive.get_version("dossier", "agenda.txt", first.version).content == b"one"

    def test_unknown_version_is_not_found(self, backend: Backend) -> None:
        """Asking for a version that was never written raises NotFound."""
        drive = backend.drive(ADA)
        drive.put("dossier", "a.txt", b"x")
        with pytest.raises(NotFound):
            drive.get_version("dossier", "a.txt", 2)

    def test_list_is_by_name_and_shows_newest_version(self, backend: Backend) -> None:
        """list gives one entry per name, sorted, each at its newest version."""
        drive = backend.drive(ADA)
        drive.put("dossier", "b.txt", b"b")
        drive.put("dossier", "a.txt", b"a")
        drive.put("dossier", "a.txt", b"aa")
        drive.put("other", "c.txt", b"c")
        listed = drive.list("dossier")
        assert [(f.name, f.version, f.size) for f in listed] == [("a.txt", 2, 2), ("b.txt", 1, 1)]

    def test_unknown_folder_lists_empty(self, backend: Backend) -> None:
        """An unknown folder is empty rather than an error."""
        assert backend.drive(ADA).list("nothing-here") == []

    def test_folders_are_sorted(self, backend: Backend) -> None:
        """folders names each folder written to, sorted."""
        drive = backend.drive(ADA)
        drive.put("series-b", "x", b"")
        drive.put("series-a", "x", b"")
        assert drive.folders() == ["series-a", "series-b"]

    def test_drives_are_per_user(self, backend: Backend) -> None:
        """One user's files are not in another user's drive."""
        backend.drive(ADA).put("dossier", "a.txt", b"ada")
        with pytest.raises(NotFound):
            backend.drive(BOB).get("dossier", "a.txt")
        assert backend.drive(BOB).list("dossier") == []

    def test_missing_file_is_not_found(self, backend: Backend) -> None:
        """Reading, listing versions of or deleting a missing file raises NotFound."""
        drive = backend.drive(ADA)
        with pytest.raises(NotFound):
            drive.get("dossier", "missing.txt")
        with pytest.raises(NotFound):
            drive.stat("dossier", "missing.txt")
        with pytest.raises(NotFound):
            drive.versions("dossier", "missing.txt")
        with pytest.raises(NotFound):
            drive.delete("dossier", "missing.txt")

    def test_if_match_current_etag_writes(self, backend: Backend) -> None:
        """A write with the current etag succeeds."""
        drive = backend.drive(ADA)
        first = drive.put("dossier", "r.json", b"1")
        second = drive.put("dossier", "r.json", b"2", if_match=first.etag)
        assert drive.get("dossier", "r.json").info == second

    def test_if_match_stale_etag_conflicts_and_writes_nothing(self, backend: Backend) -> None:
        """A write with a stale etag raises Conflict and leaves the file as it was."""
        drive = backend.drive(ADA)
        first = drive.put("dossier", "r.json", b"1")
        drive.put("dossier", "r.json", b"2")
        with pytest.raises(Conflict):
            drive.put("dossier", "r.json", b"3", if_match=first.etag)
        assert drive.get("dossier", "r.json").content == b"2"
        assert len(drive.versions("dossier", "r.json")) == 2

    def test_if_match_on_missing_file_conflicts(self, backend: Backend) -> None:
        """A conditional write over a file that does not exist raises Conflict or NotFound."""
        drive = backend.drive(ADA)
        with pytest.raises((Conflict, NotFound)):
            drive.put("dossier", "new.json", b"1", if_match="some-etag")
        assert drive.list("dossier") == []

    def test_if_none_match_creates_only_once(self, backend: Backend) -> None:
        """if_none_match writes a new name and refuses an existing one."""
        drive = backend.drive(ADA)
        drive.put("dossier", "key.bin", b"first", if_none_match=True)
        with pytest.raises(Conflict):
            drive.put("dossier", "key.bin", b"second", if_none_match=True)
        assert drive.get("dossier", "key.bin").content == b"first"

    def test_delete_removes_file_and_versions(self, backend: Backend) -> None:
        """A deleted file is gone with its versions; its name can be written afresh."""
        drive = backend.drive(ADA)
        drive.put("dossier", "a.txt", b"1")
        drive.put("dossier", "a.txt", b"2")
        drive.delete("dossier", "a.txt")
        with pytest.raises(NotFound):
            drive.get("dossier", "a.txt")
        assert drive.list("dossier") == []
        again = drive.put("dossier", "a.txt", b"3", if_none_match=True)
        assert drive.get("dossier", "a.txt").info == again

    def test_delete_with_stale_etag_conflicts(self, backend: Backend) -> None:
        """A delete with a stale etag raises Conflict and keeps the file."""
        drive = backend.drive(ADA)
        first = drive.put("dossier", "a.txt", b"1")
        drive.put("dossier", "a.txt", b"2")
        with pytest.raises(Conflict):
            drive.delete("dossier", "a.txt", if_match=first.etag)
        assert drive.get("dossier", "a.txt").content == b"2"

    def test_empty_and_binary_content_round_trip(self, backend: Backend) -> None:
        """Empty files and every byte value survive a round trip."""
        drive = backend.drive(ADA)
        blob = bytes(range(256)) * 4
        drive.put("dossier", "empty", b"")
        drive.put("dossier", "blob", blob)
        assert drive.get("dossier", "empty").content == b""
        assert drive.get("dossier", "blob").content == blob

    def test_unicode_names_round_trip(self, backend: Backend) -> None:
        """Names with spaces and accents inside are kept as given."""
        drive = backend.drive(ADA)
        drive.put("gesprekken 2027", "verslag één.json", b"{}")
        assert [f.name for f in drive.list("gesprekken 2027")] == ["verslag één.json"]

    @pytest.mark.parametrize("bad", BAD_NAMES)
    def test_bad_file_name_is_refused(self, backend: Backend, bad: str) -> None:
        """A name that could escape the folder or hides a NUL is refused and nothing is written."""
        drive = backend.drive(ADA)
        with pytest.raises(InvalidRequest):
            drive.put("dossier", bad, b"x")
        with pytest.raises(InvalidRequest):
            drive.get("dossier", bad)
        assert drive.list("dossier") == []

    @pytest.mark.parametrize("bad", BAD_NAMES)
    def test_bad_folder_name_is_refused(self, backend: Backend, bad: str) -> None:
        """A folder name that could escape the app's folder is refused and nothing is written."""
        drive = backend.drive(ADA)
        with pytest.raises(InvalidRequest):
            drive.put(bad, "a.txt", b"x")
        assert drive.folders() == []


class MailerContract:
    """Sending mail: the outbox records it, a key makes a repeat a no-op."""

    def test_send_records_in_outbox(self, backend: Backend) -> None:
        """A sent mail is in the outbox with its content and an aware send time."""
        mail = Mail(sender=ADA, to=(BOB,), subject="Agenda", text="Zie bijlage", html="<p>x</p>")
        sent = backend.mailer(ADA).send(mail)
        assert sent.mail == mail
        assert sent.sent_at.utcoffset() is not None
        assert backend.outbox() == [sent]

    def test_same_key_sends_once(self, backend: Backend) -> None:
        """A second send with the same key returns the first send and adds nothing."""
        mailer = backend.mailer(ADA)
        first = mailer.send(Mail(sender=ADA, to=(BOB,), subject="Herinnering", text="1", key="k1"))
        again = mailer.send(Mail(sender=ADA, to=(BOB,), subject="Herinnering", text="2", key="k1"))
        assert again == first
        assert backend.outbox() == [first]

    def test_no_key_sends_every_time(self, backend: Backend) -> None:
        """Without a key, two equal mails are two sends."""
        mailer = backend.mailer(ADA)
        mail = Mail(sender=ADA, to=(BOB,), subject="Hoi", text="x")
        first = mailer.send(mail)
        second = mailer.send(mail)
        assert first.id != second.id
        assert backend.outbox() == [first, second]

    def test_different_keys_send_twice(self, backend: Backend) -> None:
        """Two different keys are two sends, in order."""
        mailer = backend.mailer(ADA)
        first = mailer.send(Mail(sender=ADA, to=(BOB,), subject="a", text="a", key="k1"))
        second = mailer.send(Mail(sender=ADA, to=(BOB,), subject="b", text="b", key="k2"))
        assert backend.outbox() == [first, second]


class CalendarContract:
    """Events, series, exceptions, free/busy and attachments."""
