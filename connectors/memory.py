"""In-memory backends: complete semantics of the ports, nothing persisted.

`MemoryDrive` stands alone (``MemoryDrive()``) for code that needs any `Drive`; `MemoryStore`
holds every user's calendar, drive and outbox for tests and the demo. All are safe to share
between threads.
"""

from __future__ import annotations

import builtins
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cadence.errors import CadenceError
from cadence.zones import zone
from connectors._recurring import StoredCalendar, participants
from connectors.errors import Conflict, InvalidRequest, NotFound
from connectors.models import AttachmentInfo, Event, File, FileInfo, KnownPerson, Mail, SentMail

Clock = Callable[[], datetime]
"""Returns the current instant, aware and in UTC; tests and the demo pass their own."""

MAX_NAME_BYTES = 255
"""The longest folder or file name accepted, in UTF-8 bytes (a common file-system limit)."""


def utc_now() -> datetime:
    """The real clock: the current instant, aware, in UTC."""
    return datetime.now(UTC)


def check_name(kind: str, value: str) -> str:
    """Return `value` if it is safe as a folder or file name, else raise `InvalidRequest`.

    Refused: empty, ``.`` or ``..``, a ``/`` or ``\\``, a control character (NUL included),
    leading or trailing spaces, or more than `MAX_NAME_BYTES` bytes. `kind` names the argument
    in the message ("folder", "name").
    """
    if not value:
        raise InvalidRequest(f"{kind} must not be empty")
    if value in {".", ".."}:
        raise InvalidRequest(f"{kind} {value!r} is not allowed: use a plain name such as 'records'")
    if "/" in value or "\\" in value:
        raise InvalidRequest(f"{kind} {value!r} must not contain '/' or '\\': use a plain name")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InvalidRequest(f"{kind} {value!r} must not contain control characters such as NUL")
    if value != value.strip(" "):
        raise InvalidRequest(f"{kind} {value!r} must not start or end with a space")
    if len(value.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidRequest(f"{kind} is longer than {MAX_NAME_BYTES} bytes: use a shorter name")
    return value


def check_preconditions(
    where: str, etag: str | None, *, if_match: str | None, if_none_match: bool = False
) -> None:
    """Raise `Conflict` if a conditional write or delete of `where` must not go ahead.

    `etag` is the current version's, None when there is no file; see `connectors.ports.Drive.put`.
    """
    if if_none_match and etag is not None:
        raise Conflict(f"{where} already exists: read it first or drop if_none_match")
    if if_match is not None and etag != if_match:
        raise Conflict(f"{where} changed meanwhile (etag {if_match!r} is stale): read it again")


def check_mail(owner: str, mail: Mail) -> None:
    """Raise `InvalidRequest` unless `owner`'s mailer may send `mail`: own sender, a recipient."""
    if mail.sender.strip().lower() != owner.strip().lower():
        raise InvalidRequest(
            f"sender {mail.sender!r} must be the mailer's user {owner!r}: "
            f"send from that user's mailer"
        )
    if not mail.to:
        raise InvalidRequest("a mail needs at least one recipient in `to`")


@dataclass(slots=True)
class _StoredFile:
    """One file's versions, oldest first; `id` is new each time the name is created."""

    id: str
    versions: list[File] = field(default_factory=list)


class MemoryDrive:
    """A `Drive` held in memory: folders by name, every put a new version, etags per version."""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        """An empty drive; `clock` stamps `FileInfo.modified`."""
        self._clock = clock
        self._lock = threading.RLock()
        self._folders: dict[str, dict[str, _StoredFile]] = {}

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
        with self._lock:
            stored = self._folders.get(folder, {}).get(name)
            check_preconditions(
                f"{folder}/{name}",
                stored.versions[-1].info.etag if stored else None,
                if_match=if_match,
                if_none_match=if_none_match,
            )
            if stored is None:
                stored = _StoredFile(id=uuid.uuid4().hex)
                self._folders.setdefault(folder, {})[name] = stored
            version = len(stored.versions) + 1
            info = FileInfo(
                id=stored.id,
                folder=folder,
                name=name,
                etag=f"{stored.id}.{version}",
                version=version,
                size=len(content),
                content_type=content_type,
                modified=self._clock(),
            )
            stored.versions.append(File(info=info, content=bytes(content)))
            return info

    def get(self, folder: str, name: str) -> File:
        """The newest version of a file; `NotFound` if there is none."""
        with self._lock:
            return self._stored(folder, name).versions[-1]

    def stat(self, folder: str, name: str) -> FileInfo:
        """A file's metadata without its bytes."""
        return self.get(folder, name).info

    def list(self, folder: str) -> list[FileInfo]:
        """The files in a folder, by name; an unknown folder is empty."""
        check_name("folder", folder)
        with self._lock:
            files = self._folders.get(folder, {})
            return [files[name].versions[-1].info for name in sorted(files)]

    def folders(self) -> builtins.list[str]:
        """The folder names, sorted (a folder stays after its last file is deleted)."""
        with self._lock:
            return sorted(self._folders)

    def versions(self, folder: str, name: str) -> builtins.list[FileInfo]:
        """Every version of a file, oldest first."""
        with self._lock:
            return [f.info for f in self._stored(folder, name).versions]

    def get_version(self, folder: str, name: str, version: int) -> File:
        """One version of a file (1 is the first); `NotFound` for a version never written."""
        with self._lock:
            stored = self._stored(folder, name)
            newest = len(stored.versions)
            if not 1 <= version <= newest:
                raise NotFound(f"{folder}/{name} has no version {version}: versions are 1-{newest}")
            return stored.versions[version - 1]

    def delete(self, folder: str, name: str, *, if_match: str | None = None) -> None:
        """Delete a file and its versions; `Conflict` if `if_match` is stale."""
        with self._lock:
            stored = self._stored(folder, name)
            check_preconditions(
                f"{folder}/{name}", stored.versions[-1].info.etag, if_match=if_match
            )
            del self._folders[folder][name]

    def _stored(self, folder: str, name: str) -> _StoredFile:
        check_name("folder", folder)
        check_name("name", name)
        stored = self._folders.get(folder, {}).get(name)
        if stored is None:
            raise NotFound(f"no file {folder}/{name} in this drive")
        return stored


def check_address(email: str) -> str:
    """The address in lower case, or `InvalidRequest` when it is none."""
    address = email.strip().lower()
    if "@" not in address or len(address) > 320 or any(c.isspace() for c in address):
        raise InvalidRequest(f"email {email!r} must be an address such as ada@example.org")
    return address


def check_person(email: str, name: str, tz: str) -> KnownPerson:
    """A `KnownPerson`, or `InvalidRequest` saying what is wrong with the input."""
    if "@" not in email:
        raise InvalidRequest(f"email {email!r} must be an address such as ada@example.org")
    try:
        zone(tz)
    except CadenceError as exc:
        raise InvalidRequest(str(exc)) from exc
    return KnownPerson(email=email.strip().lower(), name=name, tz=tz)


class _MemoryEvents:
    """An `EventRepo` in dictionaries; a failed transaction puts back what it found."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._events: dict[str, Event] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._files: dict[str, dict[str, tuple[AttachmentInfo, bytes]]] = {}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                yield
                return
            # Records are immutable, so shallow copies are a full snapshot.
            saved = (
                dict(self._events),
                dict(self._keys),
                {k: dict(v) for k, v in self._files.items()},
            )
            self._depth = 1
            try:
                yield
            except BaseException:
                self._events, self._keys, self._files = saved
                raise
            finally:
                self._depth = 0

    def load(self, event_id: str) -> Event | None:
        return self._events.get(event_id)

    def save(self, event: Event) -> None:
        self._events[event.id] = event

    def remove(self, event_id: str) -> None:
        for gone in [event_id, *(e.id for e in self.exceptions(event_id))]:
            self._events.pop(gone, None)
            self._files.pop(gone, None)

    def exceptions(self, series_id: str) -> builtins.list[Event]:
        return [e for e in self._events.values() if e.series_id == series_id]

    def with_ical_uid(self, ical_uid: str) -> Event | None:
        return next(
            (e for e in self._events.values() if e.ical_uid == ical_uid and e.series_id is None),
            None,
        )

    def candidates(self, email: str, start: datetime, end: datetime) -> builtins.list[Event]:
        ids = {
            e.series_id or e.id
            for e in self._events.values()
            if email in participants(e)
            and e.start < end
            and (e.series_id is not None or e.recurrence is not None or e.end > start)
        }
        return [self._events[i] for i in sorted(ids) if i in self._events]

    def key_lookup(self, owner: str, key: str) -> str | None:
        return self._keys.get((owner, key))

    def key_store(self, owner: str, key: str, event_id: str) -> None:
        self._keys[(owner, key)] = event_id

    def attachments(self, event_id: str) -> builtins.list[AttachmentInfo]:
        files = self._files.get(event_id, {})
        return [files[name][0] for name in sorted(files)]

    def attachment(self, event_id: str, attachment_id: str) -> bytes | None:
        for info, content in self._files.get(event_id, {}).values():
            if info.id == attachment_id:
                return content
        return None

    def put_attachment(self, event_id: str, info: AttachmentInfo, content: bytes) -> None:
        self._files.setdefault(event_id, {})[info.name] = (info, content)

    def drop_attachments(self, event_id: str) -> None:
        self._files.pop(event_id, None)


class MemoryCalendar(StoredCalendar):
    """A `Calendar` over a `MemoryStore`'s shared events; get one from `MemoryStore.calendar`."""


class MemoryMailer:
    """A `Mailer` that records each mail in its store's outbox instead of sending it."""

    def __init__(self, owner: str, store: MemoryStore) -> None:
        """A mailer sending as `owner` into `store`'s outbox."""
        self._owner = owner
        self._store = store

    def send(self, mail: Mail) -> SentMail:
        """Record a message; the same non-empty `Mail.key` again returns the first send."""
        check_mail(self._owner, mail)
        return self._store._record_mail(mail)


class MemoryStore:
    """Every user's calendar, drive and outbox in memory: for tests and the demo."""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        """An empty store; `clock` stamps files and sent mail (the demo moves its own)."""
        self._clock = clock
        self._lock = threading.RLock()
        self._events = _MemoryEvents()
        self._drives: dict[str, MemoryDrive] = {}
        self._outbox: list[SentMail] = []
        self._sent_by_key: dict[tuple[str, str], SentMail] = {}
        self._people: dict[str, KnownPerson] = {}
        self._managers: dict[str, str] = {}

    def calendar(self, email: str) -> MemoryCalendar:
        """The calendar of `email`."""
        return MemoryCalendar(email, self._events)

    def drive(self, email: str) -> MemoryDrive:
        """The app's folder in the drive of `email` (the same object on every call)."""
        with self._lock:
            return self._drives.setdefault(email.strip().lower(), MemoryDrive(clock=self._clock))

    def mailer(self, email: str) -> MemoryMailer:
        """A mailer sending as `email`."""
        return MemoryMailer(email, self)

    def outbox(self) -> list[SentMail]:
        """Every mail sent, oldest first."""
        with self._lock:
            return list(self._outbox)

    def add_person(self, email: str, name: str, tz: str) -> None:
        """Make a user known by name and zone; adding again updates them."""
        person = check_person(email, name, tz)
        with self._lock:
            self._people[person.email] = person

    def people(self) -> list[KnownPerson]:
        """The known users, by email."""
        with self._lock:
            return [self._people[e] for e in sorted(self._people)]

    def set_manager(self, email: str, manager: str | None) -> None:
        """Record who `email`'s manager is (None: nobody); setting again replaces it."""
        employee = check_address(email)
        boss = None if manager is None else check_address(manager)
        if boss == employee:
            raise InvalidRequest(f"{email} cannot be their own manager")
        with self._lock:
            if boss is None:
                self._managers.pop(employee, None)
            else:
                self._managers[employee] = boss

    def managers(self) -> list[tuple[str, str]]:
        """Every recorded (employee, manager), by employee."""
        with self._lock:
            return sorted(self._managers.items())

    def manager_of(self, email: str) -> str | None:
        """The address of `email`'s manager, or None."""
        with self._lock:
            return self._managers.get(email.strip().lower())

    def drive_owners(self) -> list[str]:
        """Every user whose drive holds at least one folder."""
        with self._lock:
            drives = dict(self._drives)
        return sorted(email for email, drive in drives.items() if drive.folders())

    def _record_mail(self, mail: Mail) -> SentMail:
        with self._lock:
            key = (mail.sender.strip().lower(), mail.key)
            if mail.key and key in self._sent_by_key:
                return self._sent_by_key[key]
            sent = SentMail(id=uuid.uuid4().hex, mail=mail, sent_at=self._clock())
            self._outbox.append(sent)
            if mail.key:
                self._sent_by_key[key] = sent
            return sent
