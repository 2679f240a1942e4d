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

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors.errors import Conflict, InvalidRequest, NotFound
from connectors.models import Attendee, Event, EventPatch, Mail, NewEvent, SentMail
from connectors.ports import Calendar, Drive, Mailer
from connectors.testing import ManualClock

ADA = "ada@example.org"
BOB = "bob@example.org"
CY = "cy@example.org"
AMS = "Europe/Amsterdam"
AMSTERDAM = ZoneInfo(AMS)

_KEYS = itertools.count()
"""Fresh idempotency keys for tests that create many events in one backend."""

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


def in_series(calendar: Calendar, event: Event, master: Event) -> bool:
    """True when `event`, from `calendar`'s user, is an occurrence of the organizer's `master`.

    Google and the embedded backends give every copy the same ids, so `series_id` is the master's
    id. Graph gives each attendee a copy with ids of their own mailbox: there `series_id` names
    that user's master, which shares the organizer's iCalUId.
    """
    if event.series_id is None:
        return False
    if event.series_id == master.id:
        return True
    try:
        return calendar.get_event(event.series_id).ical_uid == master.ical_uid
    except NotFound:
        return False


def ams(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware Amsterdam wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def meeting(
    subject: str,
    start: datetime,
    minutes: int = 60,
    *,
    organizer: str = ADA,
    attendees: tuple[Attendee, ...] = (Attendee(BOB, "Bob"),),
    recurrence: Rule | None = None,
    properties: dict[str, str] | None = None,
) -> NewEvent:
    """A meeting planned in Amsterdam."""
    return NewEvent(
        subject=subject,
        start=start,
        end=start + timedelta(minutes=minutes),
        tz=AMS,
        organizer=organizer,
        attendees=attendees,
        body_html="<p>Agenda volgt</p>",
        location="Kamer 4",
        recurrence=recurrence,
        properties=properties or {},
    )


QUARTERLY = Rule.build(datetime(2027, 1, 12, 10, 0), AMS, NthWeekday(Weekday.TU, 2), count=4)
"""Every 3 months on the second Tuesday at 10:00 Amsterdam: Jan 12, Apr 13, Jul 13, Oct 12 2027.

January is winter time (UTC+1), the others summer time (UTC+2): the series crosses DST.
"""

QUARTERLY_UTC = [
    utc(2027, 1, 12, 9),
    utc(2027, 4, 13, 8),
    utc(2027, 7, 13, 8),
    utc(2027, 10, 12, 8),
]
YEAR = (utc(2027, 1, 1), utc(2028, 1, 1))


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

    @pytest.mark.parametrize("ending", [b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n"])
    def test_content_ending_in_a_line_break_round_trips(
        self, backend: Backend, ending: bytes
    ) -> None:
        """Content ending in CR or LF keeps every byte, new and rewritten (a sealed record's last
        byte is random: a multipart upload must not take it for the line break before the next
        boundary)."""
        drive = backend.drive(ADA)
        blob = b"\x00sealed\xff" + ending
        drive.put("dossier", "ends", blob)
        assert drive.get("dossier", "ends").content == blob
        drive.put("dossier", "ends", blob + blob)
        assert drive.get("dossier", "ends").content == blob + blob

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
    """Sending mail: each send is in the outbox once, with its content."""

    def test_send_records_in_outbox(self, backend: Backend) -> None:
        """A sent mail is in the outbox; the answer carries it, an id and an aware send time."""
        mail = Mail(sender=ADA, to=(BOB,), subject="Agenda", text="Zie bijlage", html="<p>x</p>")
        sent = backend.mailer(ADA).send(mail)
        assert sent.mail == mail and sent.id
        assert sent.sent_at.utcoffset() is not None
        assert [m.mail for m in backend.outbox()] == [mail]

    def test_no_key_sends_every_time(self, backend: Backend) -> None:
        """Without a key, two equal mails are two sends."""
        mailer = backend.mailer(ADA)
        mail = Mail(sender=ADA, to=(BOB,), subject="Hoi", text="x")
        first = mailer.send(mail)
        second = mailer.send(mail)
        assert first.id != second.id
        assert [m.mail for m in backend.outbox()] == [mail, mail]

    def test_different_keys_send_twice(self, backend: Backend) -> None:
        """Two different keys are two sends, in order."""
        mailer = backend.mailer(ADA)
        first = mailer.send(Mail(sender=ADA, to=(BOB,), subject="a", text="a", key="k1"))
        second = mailer.send(Mail(sender=ADA, to=(BOB,), subject="b", text="b", key="k2"))
        assert [m.mail for m in backend.outbox()] == [first.mail, second.mail]


class KeyedMailerContract(MailerContract):
    """A mailer keeping its own outbox (memory, local): a repeated key is answered from it."""

    def test_outbox_holds_the_send_as_answered(self, backend: Backend) -> None:
        """The outbox's record is the answer itself: same id and send time."""
        sent = backend.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="Agenda", text="x"))
        assert backend.outbox() == [sent]

    def test_same_key_sends_once(self, backend: Backend) -> None:
        """A second send with the same key returns the first send and adds nothing."""
        mailer = backend.mailer(ADA)
        first = mailer.send(Mail(sender=ADA, to=(BOB,), subject="Herinnering", text="1", key="k1"))
        again = mailer.send(Mail(sender=ADA, to=(BOB,), subject="Herinnering", text="2", key="k1"))
        assert again == first
        assert backend.outbox() == [first]


class SendOnlyMailerContract(MailerContract):
    """A provider's mailer with send permission only (Graph's Mail.Send, Gmail's gmail.send)."""

    def test_same_key_is_sent_again(self, backend: Backend) -> None:
        """Reading no mailbox, it cannot know an earlier send: the same key sends again, the key
        in both. The sweep's ledger, not the mailer, keeps a reminder from a second send."""
        mailer = backend.mailer(ADA)
        first = mailer.send(Mail(sender=ADA, to=(BOB,), subject="Herinnering", text="1", key="k1"))
        again = mailer.send(Mail(sender=ADA, to=(BOB,), subject="Herinnering", text="2", key="k1"))
        assert [m.mail for m in backend.outbox()] == [first.mail, again.mail]
        assert {m.mail.key for m in backend.outbox()} == {"k1"}


class CalendarContract:
    """Events, series, exceptions, free/busy, attachments and properties."""

    def series(self, backend: Backend, key: str = "series-1") -> Event:
        """Create the quarterly series organized by Ada with Bob."""
        return backend.calendar(ADA).create_event(
            meeting("Goed gesprek", ams(2027, 1, 12, 10), recurrence=QUARTERLY),
            idempotency_key=key,
        )

    # -- single events ---------------------------------------------------------------------

    def test_create_then_get_round_trips(self, backend: Backend) -> None:
        """A created event reads back with every field it was created with."""
        cal = backend.calendar(ADA)
        created = cal.create_event(
            meeting("Kennismaking", ams(2027, 2, 1, 14)), idempotency_key="k"
        )
        got = cal.get_event(created.id)
        assert got == created
        assert got.subject == "Kennismaking"
        assert (got.start, got.end) == (utc(2027, 2, 1, 13), utc(2027, 2, 1, 14))
        assert got.tz == AMS
        assert got.organizer.lower() == ADA
        assert [a.email.lower() for a in got.attendees] == [BOB]
        assert got.body_html.count("Agenda volgt") == 1
        assert got.location == "Kamer 4"
        assert got.etag and got.ical_uid
        assert not got.is_series_master
        assert got.series_id is None

    def test_event_is_in_attendee_calendar_with_same_ical_uid(self, backend: Backend) -> None:
        """An attendee sees the event (by iCalUId); an outsider does not."""
        created = backend.calendar(ADA).create_event(
            meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k"
        )
        window = (utc(2027, 2, 1), utc(2027, 2, 2))
        seen_by_bob = backend.calendar(BOB).events(*window)
        assert [e.ical_uid for e in seen_by_bob] == [created.ical_uid]
        assert backend.calendar(CY).events(*window) == []

    def test_find_event_gives_each_calendar_its_copy_of_a_series(self, backend: Backend) -> None:
        """By the organizer's iCalUId each partner finds their own copy; an outsider none."""
        master = self.series(backend)
        own = backend.calendar(ADA).find_event(master.ical_uid)
        assert own is not None and own.id == master.id and own.is_series_master
        copy = backend.calendar(BOB).find_event(master.ical_uid)
        assert copy is not None and copy.is_series_master
        assert copy.ical_uid == master.ical_uid
        # The attendee's copy is what the attendee's occurrences name as their series.
        window = (utc(2027, 1, 1), utc(2027, 2, 1))
        (first,) = backend.calendar(BOB).instances(copy.id, *window)
        assert first.series_id == copy.id
        assert backend.calendar(CY).find_event(master.ical_uid) is None
        assert backend.calendar(ADA).find_event("no-such-uid@example.org") is None
        backend.calendar(ADA).delete_event(master.id)
        assert backend.calendar(ADA).find_event(master.ical_uid) is None

    def test_a_window_lists_long_events_that_began_long_before_it(self, backend: Backend) -> None:
        """Events of a month and more (a secondment, a sabbatical) overlap a week in their
        middle for both people, whenever they began; one that ended before the week does not."""
        cal = backend.calendar(ADA)
        starts = {30: utc(2027, 1, 1, 9), 31: utc(2027, 1, 1, 9), 40: utc(2026, 12, 27, 9)}
        starts[90] = utc(2026, 11, 15, 9)
        made = {
            days: cal.create_event(
                meeting(f"Lang {days}", start, days * 24 * 60), idempotency_key=f"l{days}"
            )
            for days, start in starts.items()
        }
        week = (utc(2027, 2, 1), utc(2027, 2, 8))
        for who in (ADA, BOB):
            listed = {e.subject for e in backend.calendar(who).events(*week)}
            assert listed == {"Lang 31", "Lang 40", "Lang 90"}, who
        assert {e.id for e in cal.events(*week)} == {made[d].id for d in (31, 40, 90)}

    def test_update_changes_fields_and_etag(self, backend: Backend) -> None:
        """An update changes the given fields, keeps the rest, and moves the etag."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        updated = cal.update_event(
            created.id,
            EventPatch(subject="Goed gesprek", start=ams(2027, 2, 2, 9), end=ams(2027, 2, 2, 10)),
        )
        assert updated.etag != created.etag
        assert updated.ical_uid == created.ical_uid
        assert cal.get_event(created.id) == updated
        assert (updated.subject, updated.start, updated.location) == (
            "Goed gesprek",
            utc(2027, 2, 2, 8),
            "Kamer 4",
        )

    def test_update_with_current_etag_succeeds(self, backend: Backend) -> None:
        """An update with the etag just read is applied."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        cal.update_event(created.id, EventPatch(location="Online"), if_match=created.etag)
        assert cal.get_event(created.id).location == "Online"

    def test_update_with_stale_etag_conflicts(self, backend: Backend) -> None:
        """An update with an etag from before another write raises Conflict and changes nothing."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        cal.update_event(created.id, EventPatch(subject="Eerste"))
        with pytest.raises(Conflict):
            cal.update_event(created.id, EventPatch(subject="Tweede"), if_match=created.etag)
        assert cal.get_event(created.id).subject == "Eerste"

    def test_delete_removes_event(self, backend: Backend) -> None:
        """A deleted event is gone from get and from both partners' calendars."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        cal.delete_event(created.id)
        with pytest.raises(NotFound):
            cal.get_event(created.id)
        window = (utc(2027, 2, 1), utc(2027, 2, 2))
        assert cal.events(*window) == []
        assert backend.calendar(BOB).events(*window) == []

    def test_delete_with_stale_etag_conflicts(self, backend: Backend) -> None:
        """A delete with a stale etag raises Conflict and keeps the event."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        cal.update_event(created.id, EventPatch(subject="Nieuw"))
        with pytest.raises(Conflict):
            cal.delete_event(created.id, if_match=created.etag)
        assert cal.get_event(created.id).subject == "Nieuw"

    def test_unknown_and_deleted_ids_are_not_found(self, backend: Backend) -> None:
        """get, update and delete of an id that is not there raise NotFound."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        cal.delete_event(created.id)
        for missing in ["no-such-event", created.id]:
            with pytest.raises(NotFound):
                cal.get_event(missing)
            with pytest.raises(NotFound):
                cal.update_event(missing, EventPatch(subject="x"))
            with pytest.raises(NotFound):
                cal.delete_event(missing)

    def test_same_idempotency_key_returns_first_event(self, backend: Backend) -> None:
        """Creating twice with one key gives one event, the first, unchanged."""
        cal = backend.calendar(ADA)
        first = cal.create_event(meeting("Eerste", ams(2027, 2, 1, 14)), idempotency_key="same")
        again = cal.create_event(meeting("Tweede", ams(2027, 2, 1, 16)), idempotency_key="same")
        assert again.id == first.id
        assert again.subject == "Eerste"
        assert [e.id for e in cal.events(utc(2027, 2, 1), utc(2027, 2, 2))] == [first.id]

    def test_different_keys_make_different_events(self, backend: Backend) -> None:
        """Two keys are two events, even for equal content."""
        cal = backend.calendar(ADA)
        cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="a")
        cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="b")
        assert len(cal.events(utc(2027, 2, 1), utc(2027, 2, 2))) == 2

    def test_end_before_start_is_refused(self, backend: Backend) -> None:
        """An event that ends before it starts is refused and nothing is created."""
        cal = backend.calendar(ADA)
        bad = meeting("Omgekeerd", ams(2027, 2, 1, 14), minutes=-30)
        with pytest.raises(InvalidRequest):
            cal.create_event(bad, idempotency_key="k")
        assert cal.events(utc(2027, 2, 1), utc(2027, 2, 2)) == []

    def test_events_window_overlap_and_order(self, backend: Backend) -> None:
        """events lists what overlaps the window, by start; touching the edge is outside."""
        cal = backend.calendar(ADA)
        late = cal.create_event(meeting("Laat", ams(2027, 2, 1, 15)), idempotency_key="l")
        early = cal.create_event(meeting("Vroeg", ams(2027, 2, 1, 9)), idempotency_key="e")
        spanning = cal.create_event(
            meeting("Over de rand", ams(2027, 2, 1, 7), minutes=120), idempotency_key="s"
        )
        cal.create_event(meeting("Ervoor", ams(2027, 2, 1, 7)), idempotency_key="b")
        found = cal.events(ams(2027, 2, 1, 8), ams(2027, 2, 1, 18))
        assert [e.id for e in found] == [spanning.id, early.id, late.id]

    def test_properties_are_kept(self, backend: Backend) -> None:
        """Our own ids stored on an event come back on get, in listings and after a patch."""
        cal = backend.calendar(ADA)
        created = cal.create_event(
            meeting("Overleg", ams(2027, 2, 1, 14), properties={"series": "s-1", "pair": "p-9"}),
            idempotency_key="k",
        )
        assert dict(cal.get_event(created.id).properties) == {"series": "s-1", "pair": "p-9"}
        listed = cal.events(utc(2027, 2, 1), utc(2027, 2, 2))
        assert [dict(e.properties) for e in listed] == [{"series": "s-1", "pair": "p-9"}]
        cal.update_event(created.id, EventPatch(subject="Ander onderwerp"))
        assert dict(cal.get_event(created.id).properties) == {"series": "s-1", "pair": "p-9"}

    def test_ical_uid_is_stable(self, backend: Backend) -> None:
        """The iCalUId survives updates and differs between two events."""
        cal = backend.calendar(ADA)
        one = cal.create_event(meeting("Een", ams(2027, 2, 1, 14)), idempotency_key="1")
        two = cal.create_event(meeting("Twee", ams(2027, 2, 1, 16)), idempotency_key="2")
        cal.update_event(one.id, EventPatch(subject="Een bis"))
        assert cal.get_event(one.id).ical_uid == one.ical_uid
        assert one.ical_uid != two.ical_uid

    # -- attachments -----------------------------------------------------------------------

    def test_attachment_round_trip(self, backend: Backend) -> None:
        """An attachment is listed on the event and its bytes read back."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        info = cal.add_attachment(created.id, "agenda.pdf", b"%PDF-1.7 agenda", "application/pdf")
        assert (info.name, info.content_type, info.size) == ("agenda.pdf", "application/pdf", 15)
        assert [a.name for a in cal.get_event(created.id).attachments] == ["agenda.pdf"]
        assert cal.get_attachment(created.id, info.id) == b"%PDF-1.7 agenda"

    def test_attachment_with_same_name_is_replaced(self, backend: Backend) -> None:
        """Attaching a name again leaves one attachment with the new bytes."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        cal.add_attachment(created.id, "agenda.txt", b"oud", "text/plain")
        new = cal.add_attachment(created.id, "agenda.txt", b"nieuw", "text/plain")
        attachments = cal.get_event(created.id).attachments
        assert [a.name for a in attachments] == ["agenda.txt"]
        assert cal.get_attachment(created.id, attachments[0].id) == b"nieuw"
        assert attachments[0].id == new.id

    def test_unknown_attachment_is_not_found(self, backend: Backend) -> None:
        """Reading an attachment the event does not have raises NotFound."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        with pytest.raises(NotFound):
            cal.get_attachment(created.id, "no-such-attachment")

    # -- series ----------------------------------------------------------------------------

    def test_series_master_carries_rule(self, backend: Backend) -> None:
        """The master reads back with its rule and starts at the first occurrence."""
        master = self.series(backend)
        got = backend.calendar(ADA).get_event(master.id)
        assert got.is_series_master
        assert got.recurrence == QUARTERLY
        assert got.start == QUARTERLY_UTC[0]
        assert got.end - got.start == timedelta(hours=1)

    def test_instances_keep_wall_clock_across_dst(self, backend: Backend) -> None:
        """Every occurrence is at 10:00 Amsterdam, winter and summer time alike."""
        master = self.series(backend)
        found = backend.calendar(ADA).instances(master.id, *YEAR)
        assert [e.start for e in found] == QUARTERLY_UTC
        assert [e.start.astimezone(AMSTERDAM).hour for e in found] == [10, 10, 10, 10]
        assert [e.end - e.start for e in found] == [timedelta(hours=1)] * 4
        assert {e.series_id for e in found} == {master.id}
        assert [e.original_start for e in found] == QUARTERLY_UTC
        assert not any(e.is_series_master for e in found)

    def test_series_starting_in_the_spring_gap_keeps_its_wall_clock(self, backend: Backend) -> None:
        """A first start inside the DST gap moves forward; the later ones keep 02:00 (RFC 5545)."""
        rule = Rule.build(
            datetime(2027, 3, 1, 2, 0), AMS, NthWeekday(Weekday.SU, 4), interval=1, count=3
        )
        master = backend.calendar(ADA).create_event(
            meeting("Nachtdienst", rule.first_n(1)[0], recurrence=rule), idempotency_key="gap"
        )
        found = backend.calendar(ADA).instances(master.id, *YEAR)
        assert [e.start for e in found] == [utc(2027, 3, 28, 1), utc(2027, 4, 25), utc(2027, 5, 23)]
        assert [e.start for e in found] == rule.first_n(3)

    def test_instances_window_is_by_start(self, backend: Backend) -> None:
        """instances gives the occurrences starting in the window only."""
        master = self.series(backend)
        found = backend.calendar(ADA).instances(master.id, utc(2027, 4, 1), utc(2027, 8, 1))
        assert [e.start for e in found] == QUARTERLY_UTC[1:3]

    def test_occurrence_ids_are_stable_and_readable(self, backend: Backend) -> None:
        """Occurrence ids are the same on every expansion and each reads back as that occurrence."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        first = [e.id for e in cal.instances(master.id, *YEAR)]
        assert [e.id for e in cal.instances(master.id, *YEAR)] == first
        assert len(set(first)) == 4
        occurrence = cal.get_event(first[1])
        assert (occurrence.start, occurrence.series_id) == (QUARTERLY_UTC[1], master.id)

    def test_events_expand_series_for_both_partners(self, backend: Backend) -> None:
        """Both partners' calendars list every occurrence, not the master."""
        master = self.series(backend)
        for email in (ADA, BOB):
            found = backend.calendar(email).events(*YEAR)
            assert [e.start for e in found] == QUARTERLY_UTC
            assert all(not e.is_series_master for e in found)
        assert [e.id for e in backend.calendar(ADA).events(*YEAR)] == [
            e.id for e in backend.calendar(ADA).instances(master.id, *YEAR)
        ]

    def test_moving_one_occurrence_makes_an_exception(self, backend: Backend) -> None:
        """A moved occurrence keeps its id and original start; the others stay put."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        second = cal.instances(master.id, *YEAR)[1]
        moved_to = ams(2027, 4, 15, 14)
        cal.update_event(
            second.id,
            EventPatch(subject="Verzet", start=moved_to, end=moved_to + timedelta(hours=1)),
        )
        found = cal.instances(master.id, *YEAR)
        assert [e.start for e in found] == [
            QUARTERLY_UTC[0],
            moved_to,
            QUARTERLY_UTC[2],
            QUARTERLY_UTC[3],
        ]
        assert found[1].id == second.id
        assert found[1].original_start == QUARTERLY_UTC[1]
        assert found[1].subject == "Verzet"
        assert [e.subject for e in found if e.id != second.id] == ["Goed gesprek"] * 3
        assert cal.get_event(second.id).start == moved_to
        assert cal.get_event(master.id).is_series_master

    def test_first_occurrence_moved_earlier_is_listed_and_busy(self, backend: Backend) -> None:
        """An occurrence moved before the series' first start is in events and free/busy there."""
        backend.add_person(ADA, "Ada", AMS)
        backend.add_person(BOB, "Bob", AMS)
        master = self.series(backend)
        cal = backend.calendar(ADA)
        first = cal.instances(master.id, *YEAR)[0]
        moved_to = ams(2027, 1, 8, 10)
        cal.update_event(first.id, EventPatch(start=moved_to, end=moved_to + timedelta(hours=1)))
        window = (utc(2027, 1, 5), utc(2027, 1, 11))
        for email in (ADA, BOB):
            assert [e.start for e in backend.calendar(email).events(*window)] == [moved_to]
        busy = cal.free_busy([BOB], *window)
        assert [(b.start, b.end) for b in busy[BOB]] == [(utc(2027, 1, 8, 9), utc(2027, 1, 8, 10))]

    def test_attendee_added_to_one_occurrence_sees_only_that_one(self, backend: Backend) -> None:
        """Someone invited to one occurrence has it in their calendar and is busy then only."""
        backend.add_person(CY, "Cy", AMS)
        master = self.series(backend)
        cal = backend.calendar(ADA)
        second = cal.instances(master.id, *YEAR)[1]
        cal.update_event(second.id, EventPatch(attendees=(Attendee(BOB, "Bob"), Attendee(CY))))
        cy = backend.calendar(CY)
        found = cy.events(*YEAR)
        assert [(e.start, in_series(cy, e, master)) for e in found] == [(QUARTERLY_UTC[1], True)]
        busy = cal.free_busy([CY], *YEAR)
        assert [(b.start, b.end) for b in busy[CY]] == [(utc(2027, 4, 13, 8), utc(2027, 4, 13, 9))]
        assert len(backend.calendar(BOB).events(*YEAR)) == 4

    def test_occurrence_update_with_stale_etag_conflicts(self, backend: Backend) -> None:
        """An occurrence changed since it was read refuses a write with the old etag."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        second = cal.instances(master.id, *YEAR)[1]
        cal.update_event(second.id, EventPatch(location="Online"))
        with pytest.raises(Conflict):
            cal.update_event(second.id, EventPatch(location="Kamer 5"), if_match=second.etag)
        assert cal.get_event(second.id).location == "Online"

    def test_cancelling_one_occurrence(self, backend: Backend) -> None:
        """A deleted occurrence is gone; the rest of the series stays."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        third = cal.instances(master.id, *YEAR)[2]
        cal.delete_event(third.id)
        assert [e.start for e in cal.instances(master.id, *YEAR)] == [
            QUARTERLY_UTC[0],
            QUARTERLY_UTC[1],
            QUARTERLY_UTC[3],
        ]
        with pytest.raises(NotFound):
            cal.get_event(third.id)
        assert [e.start for e in backend.calendar(BOB).events(*YEAR)] == [
            QUARTERLY_UTC[0],
            QUARTERLY_UTC[1],
            QUARTERLY_UTC[3],
        ]
        assert cal.get_event(master.id).is_series_master

    def test_master_change_reaches_occurrences(self, backend: Backend) -> None:
        """A new subject on the master shows on every occurrence that was not changed alone."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        cal.update_event(master.id, EventPatch(subject="Het goede gesprek"))
        assert [e.subject for e in cal.instances(master.id, *YEAR)] == ["Het goede gesprek"] * 4

    def test_new_rule_reexpands_and_drops_lost_exceptions(self, backend: Backend) -> None:
        """Ending a series early removes later occurrences and their exceptions, keeps the rest."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        occurrences = cal.instances(master.id, *YEAR)
        cal.update_event(occurrences[1].id, EventPatch(location="Kantine"))
        cal.update_event(occurrences[3].id, EventPatch(location="Buiten"))
        cal.update_event(
            master.id, EventPatch(recurrence=QUARTERLY.ending_before(date(2027, 7, 1)))
        )
        found = cal.instances(master.id, *YEAR)
        assert [e.start for e in found] == QUARTERLY_UTC[:2]
        assert found[1].location == "Kantine"
        with pytest.raises(NotFound):
            cal.get_event(occurrences[3].id)
        assert cal.get_event(master.id).recurrence == QUARTERLY.ending_before(date(2027, 7, 1))

    def test_deleting_master_deletes_series(self, backend: Backend) -> None:
        """Deleting the master removes every occurrence, changed ones too."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        occurrences = cal.instances(master.id, *YEAR)
        cal.update_event(occurrences[0].id, EventPatch(location="Kantine"))
        cal.delete_event(master.id)
        assert cal.events(*YEAR) == []
        assert backend.calendar(BOB).events(*YEAR) == []
        for gone in (master.id, occurrences[0].id, occurrences[1].id):
            with pytest.raises(NotFound):
                cal.get_event(gone)
        with pytest.raises(NotFound):
            cal.instances(master.id, *YEAR)

    def test_same_key_for_a_series_makes_one_series(self, backend: Backend) -> None:
        """Creating a series twice with one key leaves one series."""
        first = self.series(backend, key="once")
        again = self.series(backend, key="once")
        assert again.id == first.id
        assert len(backend.calendar(ADA).events(*YEAR)) == 4

    @settings(
        max_examples=25,
        deadline=None,
        # Each example makes its own series under a fresh key, so sharing the backend is safe.
        # The same test runs once per backend class: that is the point, not a flake.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        week=st.sampled_from([1, 2, 3, 4, -1]),
        weekday=st.sampled_from(list(Weekday)),
        interval=st.sampled_from([1, 2, 3, 4, 6]),
        minute_of_day=st.integers(0, 24 * 60 - 1).map(lambda m: m - m % 30),
        edits=st.lists(
            st.tuples(
                st.integers(0, 5),
                st.sampled_from(["move", "cancel", "retitle"]),
                st.integers(-72, 72),
            ),
            max_size=8,
        ),
    )
    def test_random_edits_match_a_model(
        self,
        backend: Backend,
        *,
        week: int,
        weekday: Weekday,
        interval: int,
        minute_of_day: int,
        edits: list[tuple[int, str, int]],
    ) -> None:
        """After any moves, cancellations and renames, instances and events agree with a model."""
        rule = Rule.build(
            datetime(2027, 3, 1, minute_of_day // 60, minute_of_day % 60),
            AMS,
            NthWeekday(weekday, week),
            interval=interval,
            count=6,
        )
        original = rule.first_n(6)
        cal = backend.calendar(ADA)
        master = cal.create_event(
            meeting("Reeks", original[0], recurrence=rule), idempotency_key=f"p{next(_KEYS)}"
        )
        window = (original[0] - timedelta(days=4), original[-1] + timedelta(days=4))
        ids = [e.id for e in cal.instances(master.id, *window)]
        model: dict[str, tuple[datetime, str] | None] = {
            i: (o.astimezone(UTC), "Reeks") for i, o in zip(ids, original, strict=True)
        }
        for index, action, hours in edits:
            target = ids[index]
            current = model[target]
            if current is None:
                with pytest.raises(NotFound):
                    cal.get_event(target)
            elif action == "cancel":
                cal.delete_event(target)
                model[target] = None
            elif action == "move":
                start = current[0] + timedelta(hours=hours)
                cal.update_event(target, EventPatch(start=start, end=start + timedelta(hours=1)))
                model[target] = (start, current[1])
            else:
                cal.update_event(target, EventPatch(subject=f"Gesprek {hours}"))
                model[target] = (current[0], f"Gesprek {hours}")
        # Moves can carry an occurrence out of the window; then instances() rightly leaves it out.
        expected = {
            (i, v[0], v[1])
            for i, v in model.items()
            if v is not None and window[0] <= v[0] < window[1]
        }
        found = cal.instances(master.id, *window)
        # Compared in UTC: Python never finds a zone's second 02:00 (fold=1) equal to a time in
        # another zone, even the same instant (PEP 495), and hashes it as the first.
        assert {(e.id, e.start.astimezone(UTC), e.subject) for e in found} == expected
        assert [e.start for e in found] == sorted(e.start for e in found)
        assert all(e.series_id == master.id and not e.cancelled for e in found)
        bob = backend.calendar(BOB)
        listed = [e for e in bob.events(*window) if in_series(bob, e, master)]
        assert sorted((e.start.astimezone(UTC), e.subject) for e in listed) == sorted(
            (start, subject) for _, start, subject in expected
        )
        cal.delete_event(master.id)

    # -- free/busy -------------------------------------------------------------------------

    def test_free_busy_across_two_users_and_a_series(self, backend: Backend) -> None:
        """Busy time covers each user's single events and series occurrences; strangers are free."""
        backend.add_person(ADA, "Ada", AMS)
        backend.add_person(BOB, "Bob", AMS)
        self.series(backend)
        backend.calendar(BOB).create_event(
            meeting("Tandarts", ams(2027, 4, 13, 15), organizer=BOB, attendees=()),
            idempotency_key="bob-1",
        )
        start, end = utc(2027, 4, 13), utc(2027, 4, 14)
        busy = backend.calendar(ADA).free_busy([ADA, BOB, "nobody@example.org"], start, end)
        assert [(b.start, b.end) for b in busy[ADA]] == [(utc(2027, 4, 13, 8), utc(2027, 4, 13, 9))]
        assert [(b.start, b.end) for b in busy[BOB]] == [
            (utc(2027, 4, 13, 8), utc(2027, 4, 13, 9)),
            (utc(2027, 4, 13, 13), utc(2027, 4, 13, 14)),
        ]
        assert busy["nobody@example.org"] == []

    def test_free_busy_over_more_than_a_year_sees_every_occurrence(self, backend: Backend) -> None:
        """The planner looks 400 days ahead, longer than a provider answers at once (Graph 62
        days, Google about 90): every occurrence is busy, each once, a meeting across a window's
        edge included."""
        backend.add_person(ADA, "Ada", AMS)
        backend.add_person(BOB, "Bob", AMS)
        self.series(backend)
        start = utc(2026, 12, 20)
        edge = start + timedelta(days=62) - timedelta(minutes=30)
        backend.calendar(BOB).create_event(
            meeting("Over de rand", edge, organizer=BOB, attendees=()),
            idempotency_key="bob-edge",
        )
        busy = backend.calendar(ADA).free_busy([ADA, BOB], start, start + timedelta(days=400))
        assert [b.start for b in busy[ADA]] == QUARTERLY_UTC
        spans = [(b.start, b.end) for b in busy[BOB] if b.start not in QUARTERLY_UTC]
        assert spans[0][0] == edge.astimezone(UTC) and spans[-1][1] == edge + timedelta(hours=1)
        assert [b.start for b in busy[BOB] if b.start in QUARTERLY_UTC] == QUARTERLY_UTC

    def test_free_busy_leaves_out_cancelled_and_declined(self, backend: Backend) -> None:
        """A cancelled occurrence frees both partners; a declined invitation frees the decliner."""
        backend.add_person(ADA, "Ada", AMS)
        backend.add_person(BOB, "Bob", AMS)
        master = self.series(backend)
        cal = backend.calendar(ADA)
        cal.delete_event(cal.instances(master.id, *YEAR)[1].id)
        cal.create_event(
            meeting(
                "Borrel",
                ams(2027, 4, 13, 16),
                attendees=(Attendee(BOB, "Bob", response="declined"),),
            ),
            idempotency_key="borrel",
        )
        busy = cal.free_busy([ADA, BOB], utc(2027, 4, 13), utc(2027, 4, 14))
        assert [(b.start, b.end) for b in busy[ADA]] == [
            (utc(2027, 4, 13, 14), utc(2027, 4, 13, 15))
        ]
        assert busy[BOB] == []


class EmbeddedContract:
    """What the embedded backends (memory, local) promise beyond the ports.

    Occurrence ids follow Google's form, only the organizer writes, and a series keeps files
    attached to the master on its occurrences. Provider backends need not subclass this.
    """

    def series(self, backend: Backend) -> Event:
        """Create the quarterly series organized by Ada with Bob."""
        return backend.calendar(ADA).create_event(
            meeting("Goed gesprek", ams(2027, 1, 12, 10), recurrence=QUARTERLY),
            idempotency_key="series",
        )

    def test_occurrence_ids_derive_from_master_and_utc_start(self, backend: Backend) -> None:
        """An occurrence id is the master id, '_', and the original start in UTC."""
        master = self.series(backend)
        found = backend.calendar(ADA).instances(master.id, *YEAR)
        assert [e.id for e in found] == [
            f"{master.id}_20270112T090000Z",
            f"{master.id}_20270413T080000Z",
            f"{master.id}_20270713T080000Z",
            f"{master.id}_20271012T080000Z",
        ]

    def test_occurrence_readable_before_it_is_listed(self, backend: Backend) -> None:
        """An occurrence id built by hand reads back; an id off the rule is NotFound."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        assert cal.get_event(f"{master.id}_20271012T080000Z").start == QUARTERLY_UTC[3]
        with pytest.raises(NotFound):
            cal.get_event(f"{master.id}_20271013T080000Z")
        with pytest.raises(NotFound):
            cal.get_event(f"{master.id}_20280111T090000Z")

    def test_occurrences_share_master_ical_uid(self, backend: Backend) -> None:
        """Every occurrence carries the master's iCalUId, as on Google."""
        master = self.series(backend)
        found = backend.calendar(BOB).instances(master.id, *YEAR)
        assert {e.ical_uid for e in found} == {master.ical_uid}

    def test_attendee_cannot_change_or_delete(self, backend: Backend) -> None:
        """Only the organizer writes; an attendee's write is refused and changes nothing."""
        master = self.series(backend)
        bob = backend.calendar(BOB)
        with pytest.raises(InvalidRequest):
            bob.update_event(master.id, EventPatch(subject="Gekaapt"))
        with pytest.raises(InvalidRequest):
            bob.delete_event(master.id)
        assert bob.get_event(master.id).subject == "Goed gesprek"

    def test_outsider_cannot_read(self, backend: Backend) -> None:
        """Someone neither organizing nor attending gets NotFound for the event and its series."""
        master = self.series(backend)
        cy = backend.calendar(CY)
        with pytest.raises(NotFound):
            cy.get_event(master.id)
        with pytest.raises(NotFound):
            cy.instances(master.id, *YEAR)

    def test_organizer_must_own_the_calendar(self, backend: Backend) -> None:
        """Creating an event for another organizer is refused."""
        with pytest.raises(InvalidRequest):
            backend.calendar(ADA).create_event(
                meeting("Namens Bob", ams(2027, 2, 1, 14), organizer=BOB), idempotency_key="k"
            )

    def test_master_attachment_shows_on_occurrences_and_exceptions(self, backend: Backend) -> None:
        """A file on the master is on every occurrence; an exception keeps a copy of its own."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        cal.add_attachment(master.id, "agenda.txt", b"thema's", "text/plain")
        first, second = cal.instances(master.id, *YEAR)[:2]
        assert [a.name for a in first.attachments] == ["agenda.txt"]
        assert cal.get_attachment(first.id, first.attachments[0].id) == b"thema's"
        cal.add_attachment(second.id, "verslag.txt", b"afspraken", "text/plain")
        exception = cal.get_event(second.id)
        assert [a.name for a in exception.attachments] == ["agenda.txt", "verslag.txt"]
        assert cal.get_attachment(second.id, exception.attachments[0].id) == b"thema's"
        assert [a.name for a in cal.get_event(first.id).attachments] == ["agenda.txt"]

    def test_moving_master_moves_series_and_keeps_duration(self, backend: Backend) -> None:
        """A new start on the master moves every occurrence to that time of day."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        cal.update_event(master.id, EventPatch(start=ams(2027, 1, 12, 14)))
        found = cal.instances(master.id, *YEAR)
        assert [e.start.astimezone(AMSTERDAM).hour for e in found] == [14, 14, 14, 14]
        assert [e.end - e.start for e in found] == [timedelta(hours=1)] * 4

    def test_moving_master_drops_exceptions_off_the_new_times(self, backend: Backend) -> None:
        """After the series moves, an exception made at the old time is gone."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        second = cal.instances(master.id, *YEAR)[1]
        cal.update_event(second.id, EventPatch(location="Kantine"))
        cal.update_event(master.id, EventPatch(start=ams(2027, 1, 12, 14)))
        assert [e.location for e in cal.instances(master.id, *YEAR)] == ["Kamer 4"] * 4
        with pytest.raises(NotFound):
            cal.get_event(second.id)

    def test_cancelled_occurrence_cannot_be_cancelled_again(self, backend: Backend) -> None:
        """Deleting an occurrence twice raises NotFound the second time."""
        master = self.series(backend)
        cal = backend.calendar(ADA)
        first = cal.instances(master.id, *YEAR)[0]
        cal.delete_event(first.id)
        with pytest.raises(NotFound):
            cal.delete_event(first.id)

    def test_naive_times_are_refused(self, backend: Backend) -> None:
        """A window or event given in naive time is refused rather than guessed."""
        cal = backend.calendar(ADA)
        with pytest.raises(InvalidRequest):
            cal.events(datetime(2027, 1, 1), datetime(2027, 2, 1))
        naive = NewEvent(
            subject="Zonder zone",
            start=datetime(2027, 2, 1, 14),
            end=datetime(2027, 2, 1, 15),
            tz=AMS,
            organizer=ADA,
        )
        with pytest.raises(InvalidRequest):
            cal.create_event(naive, idempotency_key="k")

    def test_key_of_a_deleted_event_conflicts(self, backend: Backend) -> None:
        """Repeating a create whose event was deleted since raises Conflict, not a new event."""
        cal = backend.calendar(ADA)
        created = cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        cal.delete_event(created.id)
        with pytest.raises(Conflict):
            cal.create_event(meeting("Overleg", ams(2027, 2, 1, 14)), idempotency_key="k")
        assert cal.events(utc(2027, 2, 1), utc(2027, 2, 2)) == []

    def test_mail_from_another_sender_is_refused(self, backend: Backend) -> None:
        """A mailer sends only as its own user."""
        with pytest.raises(InvalidRequest):
            backend.mailer(ADA).send(Mail(sender=BOB, to=(CY,), subject="x", text="x"))
        assert backend.outbox() == []

    def test_mail_without_recipients_is_refused(self, backend: Backend) -> None:
        """A mail with an empty `to` is refused and nothing reaches the outbox."""
        with pytest.raises(InvalidRequest, match="recipient"):
            backend.mailer(ADA).send(Mail(sender=ADA, to=(), subject="x", text="x"))
        assert backend.outbox() == []

    def test_drive_stamps_modified_from_the_clock(
        self, backend: Backend, clock: ManualClock
    ) -> None:
        """A file's modified time is the store's clock at the write."""
        clock.set(utc(2027, 3, 1, 12))
        drive = backend.drive(ADA)
        drive.put("dossier", "a.txt", b"1")
        clock.advance(timedelta(hours=1))
        drive.put("dossier", "a.txt", b"2")
        assert [v.modified for v in drive.versions("dossier", "a.txt")] == [
            utc(2027, 3, 1, 12),
            utc(2027, 3, 1, 13),
        ]
