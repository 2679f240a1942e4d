"""Roll-out: plan the quarterly series of every pair in an organisation at once.

HR hands over a CSV (``employee,manager`` and any of ``tz,weekdays,window,duration,place``);
`read_pairs` checks every row and says what is wrong with each bad one by its line number (the
header is line 1), `check_reporting_lines` holds each pair to the directory, and `Rollout` plans
the good ones through the same service the side panel uses, as the employee (who is in charge of
their series), around both calendars.

It is resumable and never makes a pair twice: each pair's plan request has an id made from the
pair itself, so a rerun finds what a run killed halfway made (the registry by that id, the
calendar by the event's idempotency key) and only finishes it. Work is spread so that no mailbox
gets more than `PER_MAILBOX` requests at once (Graph throttles a mailbox beyond four), while
many mailboxes are worked on side by side.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Final

from addin.conversations import Caller, Conversations, ServiceError
from addin.conversations.errors import SeriesExists
from addin.i18n import gettext
from cadence.errors import CadenceError
from cadence.zones import zone
from connectors.errors import ConnectorError
from connectors.ports import Directory

REQUIRED: Final = ("employee", "manager")
OPTIONAL: Final = ("tz", "weekdays", "window", "duration", "place")
DURATIONS: Final = (30, 45, 60, 75, 90, 120)
WORKDAYS: Final = ("MO", "TU", "WE", "TH", "FR")
PER_MAILBOX: Final = 4
THREADS: Final = 32
MAX_ROWS: Final = 100_000
_ADDRESS = re.compile(r"[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+")


class HeaderError(ValueError):
    """The file cannot be read as a roll-out at all (its header, its encoding, its size)."""


@dataclass(frozen=True, slots=True)
class PairRow:
    """One good row: the pair and what the employee prefers, as the plan request sends it."""

    line: int
    employee: str
    manager: str
    preferences: dict[str, Any] = field(default_factory=dict)
    tz: str = ""

    @property
    def request_id(self) -> str:
        """The pair's own plan request id: the same on every run, so a rerun finds its work."""
        digest = hashlib.sha256(f"{self.employee}|{self.manager}".encode()).hexdigest()
        return f"rollout-{digest[:40]}"


@dataclass(frozen=True, slots=True)
class Problem:
    """A row that is not planned, and why, in a sentence a person can act on."""

    line: int
    employee: str
    manager: str
    reason: str


def read_pairs(text: str) -> tuple[list[PairRow], list[Problem]]:
    """The good rows and the problems of a roll-out CSV; `HeaderError` when it has no usable
    header. Addresses are compared without case; a pair or an employee listed twice is a
    problem at its second line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    names = _header(reader)
    good: list[PairRow] = []
    problems: list[Problem] = []
    seen_pairs: dict[tuple[str, str], int] = {}
    seen_employees: dict[str, int] = {}
    line = 1
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(line, "", "", f"the line cannot be read as CSV: {exc}"))
            continue
        if not any(f.strip() for f in fields):
            continue  # an empty line
        if len(good) + len(problems) >= MAX_ROWS:
            raise HeaderError(f"the file has more than {MAX_ROWS} pairs: split it")
        if len(fields) != len(names):
            problems.append(
                Problem(
                    line,
                    "",
                    "",
                    f"the line has {len(fields)} fields where the header has {len(names)}",
                )
            )
            continue
        row = {n: f.strip() for n, f in zip(names, fields, strict=True)}
        employee, manager = row["employee"].lower(), row["manager"].lower()
        try:
            found = _row(line, row, employee, manager)
        except _Bad as exc:
            problems.append(Problem(line, employee, manager, str(exc)))
            continue
        pair = (employee, manager)
        if pair in seen_pairs:
            problems.append(
                Problem(line, employee, manager, f"the same pair as line {seen_pairs[pair]}")
            )
            continue
        if employee in seen_employees:
            problems.append(
                Problem(
                    line,
                    employee,
                    manager,
                    f"{employee} is listed before, on line {seen_employees[employee]}, with "
                    "another manager: an employee has one manager",
                )
            )
            continue
        seen_pairs[pair] = line
        seen_employees[employee] = line
        good.append(found)
    return good, problems


def _header(reader: Iterator[list[str]]) -> list[str]:
    """The column names of line 1; `HeaderError` when they do not make a roll-out."""
    try:
        header = next(reader)
    except StopIteration:
        raise HeaderError("the file is empty: its first line must be employee,manager") from None
    except csv.Error as exc:
        raise HeaderError(f"line 1 cannot be read as CSV: {exc}") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise HeaderError(
            "line 1 must name the columns employee and manager"
            f" (missing: {', '.join(missing)}; found: {', '.join(names) or 'nothing'})"
        )
    unknown = [n for n in names if n not in REQUIRED + OPTIONAL]
    if unknown:
        raise HeaderError(
            f"line 1 names columns this roll-out does not know: {', '.join(unknown)}"
            f" (known: {', '.join(REQUIRED + OPTIONAL)})"
        )
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise HeaderError(f"line 1 names a column twice: {', '.join(doubled)}")
    return names


class _Bad(ValueError):
    pass


def _row(line: int, row: dict[str, str], employee: str, manager: str) -> PairRow:
    for role, address in (("employee", employee), ("manager", manager)):
        if not address:
            raise _Bad(f"the {role} is missing")
        if not _ADDRESS.fullmatch(address) or len(address) > 320:
            raise _Bad(f"the {role} {address!r} is not an email address")
    if employee == manager:
        raise _Bad("the employee and the manager are the same person")
    preferences: dict[str, Any] = {}
    tz = row.get("tz", "")
    if tz:
        try:
            zone(tz)
        except CadenceError:
            raise _Bad(f"tz {tz!r} is not a time zone name such as Europe/Amsterdam") from None
    days = row.get("weekdays", "")
    if days:
        chosen = [d.upper() for d in re.split(r"[\s;|/]+", days) if d]
        wrong = [d for d in chosen if d not in WORKDAYS]
        if wrong or not chosen:
            raise _Bad(f"weekdays {days!r}: name working days as MO TU WE TH FR, apart by spaces")
        preferences["weekdays"] = sorted(set(chosen), key=WORKDAYS.index)
    window = row.get("window", "")
    if window:
        earliest, latest = _window(window)
        preferences["earliest"], preferences["latest"] = earliest, latest
    duration = row.get("duration", "")
    if duration:
        if not duration.isdigit() or int(duration) not in DURATIONS:
            raise _Bad(
                f"duration {duration!r}: give minutes, one of "
                + ", ".join(str(d) for d in DURATIONS)
            )
        preferences["duration"] = int(duration)
    place = row.get("place", "")
    if place:
        if len(place) > 200 or any(ord(ch) < 0x20 for ch in place):
            raise _Bad("place: one line of at most 200 characters")
        if place.lower() in ("online", "teams", "meet"):
            preferences["online"] = True
        else:
            preferences["place"] = place
    return PairRow(line, employee, manager, preferences, tz)


def _window(value: str) -> tuple[str, str]:
    parts = [p.strip() for p in re.split(r"\s*[-–]\s*", value)]
    try:
        if len(parts) != 2:
            raise ValueError(value)
        earliest, latest = (time.fromisoformat(p) for p in parts)
    except ValueError:
        raise _Bad(f"window {value!r}: give it as 09:00-17:00") from None
    if latest <= earliest:
        raise _Bad(f"window {value!r}: the end must be after the start")
    return earliest.strftime("%H:%M"), latest.strftime("%H:%M")


def check_reporting_lines(
    rows: Sequence[PairRow], directory: Directory
) -> tuple[list[PairRow], list[Problem]]:
    """The rows whose manager the directory confirms; a problem for each other one."""
    good: list[PairRow] = []
    problems: list[Problem] = []
    for row in rows:
        try:
            named = directory.manager_of(row.employee)
        except ConnectorError as exc:
            problems.append(
                Problem(
                    row.line,
                    row.employee,
                    row.manager,
                    f"the directory could not be asked about {row.employee} ({exc}): run "
                    "the roll-out again later",
                )
            )
            continue
        if named is None:
            reason = (
                f"{row.employee} is not in the directory, or has no manager there: correct "
                "the directory or the address"
            )
        elif named.strip().lower() != row.manager:
            reason = (
                f"the directory names {named.strip().lower()} as the manager of "
                f"{row.employee}, not {row.manager}: correct the file or the directory"
            )
        else:
            good.append(row)
            continue
        problems.append(Problem(row.line, row.employee, row.manager, reason))
    return good, problems


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one pair: ``planned`` (now), ``done`` (by an earlier run or in the
    panel), ``would`` (a dry run's plan) or ``failed`` (with the reason)."""

    row: PairRow
    outcome: str
    reason: str = ""
    first: datetime | None = None


@dataclass
class _Mailboxes:
    limit: int
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gates: dict[str, threading.BoundedSemaphore] = field(default_factory=dict)

    def gate(self, email: str) -> threading.BoundedSemaphore:
        with self._lock:
            found = self._gates.get(email)
            if found is None:
                found = threading.BoundedSemaphore(self.limit)
                self._gates[email] = found
            return found


class Rollout:
    """Plans pairs through the service, `threads` pairs at a time, at most `per_mailbox` of
    them touching any one mailbox at once."""

    def __init__(
        self,
        conversations: Conversations,
        *,
        locale: str = "nl",
        threads: int = THREADS,
        per_mailbox: int = PER_MAILBOX,
    ) -> None:
        self._conversations = conversations
        self._locale = locale
        self.threads = threads
        self._mailboxes = _Mailboxes(per_mailbox)

    def run(
        self,
        rows: Iterable[PairRow],
        *,
        dry_run: bool = False,
        on_result: Callable[[Result], None] = lambda result: None,
    ) -> list[Result]:
        """Each row's result, in the order they finished; `on_result` hears each one at once."""
        results: list[Result] = []
        with ThreadPoolExecutor(self.threads, thread_name_prefix="rollout") as pool:
            for result in pool.map(lambda row: self._one(row, dry_run), rows):
                results.append(result)
                on_result(result)
        return results

    def _one(self, row: PairRow, dry_run: bool) -> Result:
        registry = self._conversations.registry
        existing = registry.by_request(row.request_id)
        if existing is not None and existing.master_event_id:
            return Result(row, "done")
        caller = Caller(email=row.employee, name="", locale=self._locale)
        body: dict[str, Any] = {
            "partner": row.manager,
            "role": "employee",
            "preferences": row.preferences,
            "request_id": row.request_id,
        }
        if row.tz:
            body["tz"] = row.tz
        first, second = sorted((row.employee, row.manager))
        try:
            with self._mailboxes.gate(first), self._mailboxes.gate(second):
                if dry_run:
                    proposal = self._conversations.preview(caller, body)
                    dates = proposal.get("occurrences") or [None]
                    return Result(row, "would", first=_when(dates[0]))
                answer = self._conversations.create_series(caller, body)
        except SeriesExists:
            return Result(row, "done", reason="already planned in the panel")
        except ServiceError as exc:
            return Result(row, "failed", reason=self._say(exc))
        except CadenceError as exc:
            return Result(row, "failed", reason=str(exc))
        except ConnectorError as exc:
            return Result(
                row,
                "failed",
                reason=f"the calendar service did not answer ({type(exc).__name__}): run the "
                "roll-out again to finish this pair",
            )
        occurrence = (answer.get("context") or {}).get("occurrence") or {}
        return Result(row, "planned", first=_when(occurrence.get("start")))

    def _say(self, exc: ServiceError) -> str:
        return gettext(self._locale, "api", exc.msgid, **exc.params)


def _when(value: object) -> datetime | None:
    if isinstance(value, dict):
        value = value.get("start")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
