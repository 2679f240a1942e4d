"""Directories that need no provider: the embedded store's, and an HR-maintained CSV file.

The CSV file has one line per employee::

    employee,manager[,timezone,working_days,start,end][,joined]
    ada@example.org,grace@example.org,Europe/Amsterdam,MO TU TH,09:00,15:30,2021-04-01
    grace@example.org,
    bob@example.org,grace@example.org,2019-09-01

``joined`` (YYYY-MM-DD, optional: 3 or 7 fields) is the day the person joined the organisation:
the preparation then names a work anniversary and the schemes that come with years of service.

A first line starting with ``employee`` is a header; blank lines and lines starting with ``#``
are skipped. An empty manager means nobody (the top of the organisation). Working days are
RFC 5545 codes (MO..SU) separated by spaces or ``;``. Every problem is reported with its line
number, all at once, so HR can fix the file in one go.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import threading
import time as _time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any, Protocol, cast

from cadence.errors import CadenceError
from cadence.zones import zone
from connectors.errors import Unavailable
from connectors.models import KnownPerson
from connectors.ports import WEEKDAYS, Directory, DirectoryHours, DirectoryPerson

MAX_LINES = 200_000
"""More lines than any organisation has employees: a file beyond it is refused, not read."""


class LogOnce:
    """Logs each message once (the newest 10,000 kept): a directory asked the same question
    on every request notes its answer once."""

    def __init__(self, logger: logging.Logger, most: int = 10_000) -> None:
        self._logger = logger
        self._most = most
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        with self._lock:
            if message in self._seen:
                return
            if len(self._seen) >= self._most:
                self._seen.clear()
            self._seen.add(message)
        self._logger.info("%s", message)


class DirectoryFileError(ValueError):
    """The CSV file is not valid; `problems` are ``(line, sentence)`` pairs, by line."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        shown = "; ".join(f"line {n}: {text}" for n, text in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{source} cannot be used as the directory: {shown}{more}")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class DirectoryLine:
    """One employee's line: their manager (or None) and, when given, zone and hours."""

    employee: str
    manager: str | None
    tz: str = ""
    hours: DirectoryHours | None = None
    joined: date | None = None


def _address(value: str, what: str) -> str:
    address = value.strip().lower()
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise ValueError(f"{what} {value.strip()!r} is not an email address")
    if len(address) > 320:
        raise ValueError(f"{what} is longer than 320 characters")
    return address


def _clock_time(value: str, what: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{what} {value.strip()!r} must look like 09:00") from None


def parse_days(value: str) -> tuple[str, ...]:
    """Working days from ``MO TU TH`` (or ``MO;TU;TH``), Monday first; ValueError if bad."""
    codes = [c for c in value.replace(";", " ").upper().split() if c]
    unknown = [c for c in codes if c not in WEEKDAYS]
    if unknown:
        raise ValueError(f"working days must be MO TU WE TH FR SA SU, not {' '.join(unknown)}")
    if not codes:
        raise ValueError("working days must name at least one day")
    return tuple(d for d in WEEKDAYS if d in codes)


def check_hours(days: tuple[str, ...], start: time, end: time, tz: str) -> None:
    """ValueError with a sentence when these hours cannot be worked (no day, end first, no zone)."""
    if not days:
        raise ValueError("working days must name at least one day")
    if start >= end:
        raise ValueError(f"working hours must end after they start ({start:%H:%M}-{end:%H:%M})")
    try:
        zone(tz)
    except CadenceError:
        raise ValueError(f"{tz!r} is not an IANA time zone such as Europe/Amsterdam") from None


def _line(fields: list[str]) -> DirectoryLine:
    if len(fields) not in (2, 3, 6, 7):
        raise ValueError(
            f"expected 2 fields (employee,manager) or 6 (employee,manager,timezone,"
            f"working_days,start,end), each optionally followed by joined, found {len(fields)}"
        )
    employee = _address(fields[0], "employee")
    manager = _address(fields[1], "manager") if fields[1].strip() else None
    if manager == employee:
        raise ValueError(f"{employee} cannot be their own manager")
    joined = _joined(fields[-1]) if len(fields) in (3, 7) else None
    if len(fields) in (2, 3):
        return DirectoryLine(employee, manager, joined=joined)
    tz = fields[2].strip()
    days = parse_days(fields[3])
    start, end = _clock_time(fields[4], "start"), _clock_time(fields[5], "end")
    check_hours(days, start, end, tz)
    return DirectoryLine(employee, manager, tz, DirectoryHours(days, start, end), joined)


def _joined(value: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        found = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        found = None
    if found is None:
        raise ValueError(f"joined must be a date such as 2021-04-01, not {text!r}")
    return found


def parse_directory_csv(text: str, source: str = "the directory file") -> dict[str, DirectoryLine]:
    """Every employee's line by address; `DirectoryFileError` listing each bad line."""
    lines: dict[str, DirectoryLine] = {}
    problems: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text))
    for fields in reader:
        number = reader.line_num
        if number > MAX_LINES:
            problems.append((number, f"the file has more than {MAX_LINES} lines"))
            break
        if not fields or not "".join(fields).strip() or fields[0].lstrip().startswith("#"):
            continue
        if not lines and not problems and fields[0].strip().lower() == "employee":
            continue
        try:
            line = _line(fields)
        except ValueError as exc:
            problems.append((number, str(exc)))
            continue
        if line.employee in lines:
            problems.append((number, f"{line.employee} has a line already"))
            continue
        lines[line.employee] = line
    if problems:
        raise DirectoryFileError(source, problems)
    return lines


class CsvDirectory:
    """The reporting lines in an HR-maintained CSV file, read again when the file changes.

    An invalid file stops start-up with `DirectoryFileError`. A file that later changes into an
    invalid one raises `Unavailable` (the operator's log gets the lines to fix; the person a
    "try again later"): reporting lines that decide who sees whose conversations are never
    guessed from a half-edited file, nor taken from the last good one after HR changed them.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._lines: dict[str, DirectoryLine] = {}
        self._load()

    def _load(self) -> dict[str, DirectoryLine]:
        with self._lock:
            try:
                stat = os.stat(self._path)
            except OSError as exc:
                raise DirectoryFileError(str(self._path), [(0, f"cannot read it: {exc}")]) from exc
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                text = self._path.read_text(encoding="utf-8-sig")
                self._lines = parse_directory_csv(text, str(self._path))
                self._stamp = stamp
            return self._lines

    def _read(self) -> dict[str, DirectoryLine]:
        try:
            return self._load()
        except DirectoryFileError as exc:
            raise Unavailable(str(exc)) from exc

    def manager_of(self, email: str) -> str | None:
        """The manager the file names for `email`, or None."""
        line = self._read().get(email.strip().lower())
        return line.manager if line else None

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """Every line of the file that names a manager."""
        return sorted((e, line.manager) for e, line in self._read().items() if line.manager)

    def person(self, email: str) -> DirectoryPerson | None:
        """The zone and hours the file gives for `email` (no name: the file has none)."""
        line = self._read().get(email.strip().lower())
        if line is None:
            return None
        return DirectoryPerson(
            email=line.employee, tz=line.tz, hours=line.hours, joined=line.joined
        )

    def is_member(self, email: str, group: str) -> bool:
        """False: the file has no groups (name HR in ``HR`` instead)."""
        return False


class _PeopleStore(Protocol):
    def people(self) -> list[KnownPerson]: ...

    def manager_of(self, email: str) -> str | None: ...

    def managers(self) -> list[tuple[str, str]]: ...


class StoreDirectory:
    """The embedded store's people and reporting lines (`LocalStore`, `MemoryStore`)."""

    def __init__(self, store: _PeopleStore) -> None:
        self._store = store

    def manager_of(self, email: str) -> str | None:
        """The manager the store records for `email`, or None."""
        return self._store.manager_of(email)

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """Every person the store records a manager for."""
        return sorted((e.lower(), m.lower()) for e, m in self._store.managers())

    def person(self, email: str) -> DirectoryPerson | None:
        """Name and zone from the store's people; the store keeps no working hours."""
        wanted = email.strip().lower()
        found = next((p for p in self._store.people() if p.email == wanted), None)
        if found is None:
            return None
        joined_on = getattr(self._store, "joined_on", None)
        joined = joined_on(wanted) if joined_on is not None else None
        return DirectoryPerson(found.email, found.name, found.tz, joined=joined)

    def is_member(self, email: str, group: str) -> bool:
        """False: the store keeps no groups (name HR in ``HR`` instead)."""
        return False


class NoDirectory:
    """No directory configured: nobody has a manager, so no pair can be planned."""

    def manager_of(self, email: str) -> str | None:
        """Always None."""
        return None

    def person(self, email: str) -> DirectoryPerson | None:
        """Always None."""
        return None

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """Nobody."""
        return []

    def is_member(self, email: str, group: str) -> bool:
        """Nobody is in any group."""
        return False


DIRECTORY_CACHE_SECONDS = 300.0
"""How long a directory answer is reused: a change of manager shows within this time."""
DIRECTORY_CACHE_ENTRIES = 10_000
"""Answers kept at most (per kind), the least recently used dropped first."""

_MISSING = object()
_Table = OrderedDict[str, tuple[float, Any]]
"""Answers by lower-case address, each with the monotonic time it expires."""


class CachedDirectory:
    """Another directory's answers, reused per person for `ttl` seconds.

    Every pane call asks who the employee's manager is; a provider's directory answers that
    with a request of its own, on the critical path. Reporting lines change rarely, so an
    answer (None included) is kept for `ttl` seconds (0: never kept), at most `max_entries`
    per kind, the least recently used dropped first. Failures are not kept: the next call asks
    again. Safe to share between threads; two threads missing at once may both ask.
    """

    def __init__(
        self,
        inner: Directory,
        *,
        ttl: float = DIRECTORY_CACHE_SECONDS,
        max_entries: int = DIRECTORY_CACHE_ENTRIES,
        clock: Callable[[], float] = _time.monotonic,
    ) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("the directory cache needs ttl >= 0 and max_entries >= 1")
        self.inner = inner
        self._ttl = ttl
        self._max = max_entries
        self.clock = clock
        """Monotonic seconds; answers expire by it."""
        self._lock = threading.Lock()
        self._managers: _Table = OrderedDict()
        self._people: _Table = OrderedDict()
        self._members: _Table = OrderedDict()

    def manager_of(self, email: str) -> str | None:
        """The inner directory's answer, asked at most once per `ttl` per person."""
        key = email.strip().lower()
        found = self._cached(self._managers, key)
        if found is not _MISSING:
            return cast("str | None", found)
        answer = self.inner.manager_of(email)
        self._keep(self._managers, key, answer)
        return answer

    def person(self, email: str) -> DirectoryPerson | None:
        """The inner directory's answer, asked at most once per `ttl` per person."""
        key = email.strip().lower()
        found = self._cached(self._people, key)
        if found is not _MISSING:
            return cast("DirectoryPerson | None", found)
        answer = self.inner.person(email)
        self._keep(self._people, key, answer)
        return answer

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        """The inner directory's whole list, asked every time (a roll-out reads it once)."""
        return self.inner.reporting_lines(reader)

    def is_member(self, email: str, group: str) -> bool:
        """The inner directory's answer, asked at most once per `ttl` per person and group:
        the HR page asks on every request."""
        person = email.strip().lower()
        key = f"{person} {group.strip().lower()}"
        found = self._cached(self._members, key)
        if found is not _MISSING:
            return bool(found)
        answer = self.inner.is_member(email, group)
        self._keep(self._members, key, answer)
        return answer

    def forget(self, email: str | None = None) -> None:
        """Drop the kept answers for `email` (everyone's when None)."""
        with self._lock:
            if email is None:
                self._managers.clear()
                self._people.clear()
                self._members.clear()
            else:
                key = email.strip().lower()
                self._managers.pop(key, None)
                self._people.pop(key, None)
                for kept in [k for k in self._members if k.partition(" ")[0] == key]:
                    del self._members[kept]

    def size(self) -> int:
        """How many answers are kept now (managers, people and memberships)."""
        with self._lock:
            return len(self._managers) + len(self._people) + len(self._members)

    def close(self) -> None:
        """Close the inner directory when it has connections to close."""
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def _cached(self, table: _Table, key: str) -> object:
        if self._ttl <= 0:
            return _MISSING
        with self._lock:
            kept = table.get(key)
            if kept is None:
                return _MISSING
            if self.clock() >= kept[0]:
                del table[key]
                return _MISSING
            table.move_to_end(key)
            return kept[1]

    def _keep(self, table: _Table, key: str, answer: object) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            table[key] = (self.clock() + self._ttl, answer)
            table.move_to_end(key)
            while len(table) > self._max:
                table.popitem(last=False)
