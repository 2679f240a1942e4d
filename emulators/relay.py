"""Mail between a Graph and a Google emulator: iMIP invitations (RFC 6047), for mixed organisations.

An organizer in one emulator who invites users of the other reaches them the way real tenants do,
by a METHOD:REQUEST or METHOD:CANCEL message. Here the message is an `Invitation`: each emulator's
calendar module builds it after the organizer's write succeeded (its ``outbox`` hook) and takes
one in (``receive``), storing an attendee's copy with an external organizer, as it stores the
copies its own users receive. `link` joins two emulators; delivery is synchronous unless a delay
is asked for.

What travels: UID, SEQUENCE, organizer, attendees, subject, body, location, start and end with
their zone, one RRULE, the cancelled occurrences (EXDATE) and occurrences moved or changed alone
(times, subject, body, location). What does not, as in real mail: the organizer's extended
properties, attachments, reminders, categories. Also left out here: replies (an attendee's
accept/decline never reaches the organizer), attendees invited to one occurrence only, all-day
events, RDATE/EXRULE lines, and rules Graph cannot hold (``BYMONTHDAY=31`` alone skips short
months in RFC 5545 but not in Exchange): such an invitation is kept in `Link.undelivered`.

Faithful to the providers, and worth knowing when a test sees nothing arrive:
- Google mails guests outside its domain only with ``sendUpdates=all`` or ``externalOnly``;
  without it (the default, ``none``) nothing is sent.
- Exchange shows a UID that is not its own Global Object ID wrapped in one ("vCal-Uid"): the
  copy's ``iCalUId`` is `exchange_uid` of Google's ``iCalUID``, not that string itself. Exchange's
  own UID travels as its hex Global Object ID, so Google's copy has the organizer's ``iCalUId``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from emulators.google import GoogleEmulator
    from emulators.graph import GraphEmulator

log = logging.getLogger(__name__)

Outbox = Callable[["Invitation"], None]

_GOID_CLASS = "040000008200E00074C5B7101A82E008"
_VCAL_UID = "7643616C2D55696401000000"  # "vCal-Uid" and 1, little-endian ([MS-OXCICAL] UID)
_LOCK_WAIT = 2.0
"""Seconds a delivery waits for the receiving emulator; longer (two organizers writing to each
other's users at once), it goes on a thread so neither request holds the other up."""


@dataclass(frozen=True, slots=True)
class Person:
    """An ATTENDEE: address, name, ROLE=OPT-PARTICIPANT as `optional`, PARTSTAT."""

    address: str
    name: str = ""
    optional: bool = False
    partstat: str = "NEEDS-ACTION"


@dataclass(frozen=True, slots=True)
class Instance:
    """An occurrence the organizer changed alone (a RECURRENCE-ID component); None: the series'."""

    original: datetime
    start: datetime
    end: datetime
    summary: str | None = None
    description: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Invitation:
    """One iMIP message to `recipients`. Instants are aware; zones are IANA names.

    A CANCEL with status CANCELLED ends the meeting for everyone; one with status CONFIRMED
    uninvites only its recipients (RFC 5546 3.2.5).
    """

    method: str
    uid: str
    sequence: int
    organizer: str
    organizer_name: str
    recipients: tuple[str, ...]
    start: datetime
    end: datetime
    zone: str
    end_zone: str
    attendees: tuple[Person, ...] = ()
    status: str = "CONFIRMED"
    summary: str = ""
    description: str = ""
    location: str = ""
    rrule: str | None = None
    exdates: tuple[datetime, ...] = ()
    instances: tuple[Instance, ...] = ()


class Link:
    """Two emulators mailing each other; `unlink` stops it. `undelivered` lists the messages a
    receiver refused, with why (a test reads it when a copy did not arrive)."""

    def __init__(self, graph: GraphEmulator, google: GoogleEmulator, delay: float) -> None:
        self._graph = graph
        self._google = google
        self._delay = delay
        self._linked = True
        self._timers: list[threading.Timer] = []
        self.undelivered: list[tuple[Invitation, str]] = []
        with graph._lock:
            graph._calendars.outbox = self._from_graph
        with google._lock:
            google.calendar.outbox = self._from_google

    def unlink(self) -> None:
        """Stop delivering (messages already on a timer are dropped too)."""
        self._linked = False
        with self._graph._lock:
            if self._graph._calendars.outbox == self._from_graph:
                self._graph._calendars.outbox = None
        with self._google._lock:
            if self._google.calendar.outbox == self._from_google:
                self._google.calendar.outbox = None
        for timer in self._timers:
            timer.cancel()

    def _from_graph(self, invitation: Invitation) -> None:
        self._send(invitation, self._to_google)

    def _from_google(self, invitation: Invitation) -> None:
        self._send(invitation, self._to_graph)

    def _to_google(self, invitation: Invitation, wait: float) -> bool:
        if not self._google._lock.acquire(timeout=wait):
            return False
        try:
            self._google.calendar.receive(invitation)
        finally:
            self._google._lock.release()
        return True

    def _to_graph(self, invitation: Invitation, wait: float) -> bool:
        graph = self._graph
        if not graph._lock.acquire(timeout=wait):
            return False
        try:
            graph._calendars.receive(invitation, graph._clock())
        finally:
            graph._lock.release()
        return True

    def _send(self, invitation: Invitation, deliver: Callable[[Invitation, float], bool]) -> None:
        if not self._linked:
            return
        if self._delay > 0:
            timer = threading.Timer(self._delay, self._hand, (invitation, deliver, -1))
            timer.daemon = True
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
            timer.start()
            return
        if not self._hand(invitation, deliver, _LOCK_WAIT):
            thread = threading.Thread(
                target=self._hand, args=(invitation, deliver, -1), daemon=True
            )
            thread.start()

    def _hand(
        self, invitation: Invitation, deliver: Callable[[Invitation, float], bool], wait: float
    ) -> bool:
        """Deliver; False when the receiver stayed busy for `wait` seconds (-1: wait on)."""
        if not self._linked:
            return True
        try:
            return deliver(invitation, wait)
        except Exception as exc:  # a refused message must not fail the organizer's request
            log.warning("invitation %s for %s not delivered: %s", invitation.uid, invitation, exc)
            self.undelivered.append((invitation, str(exc)))
            return True


def link(graph: GraphEmulator, google: GoogleEmulator, *, delay: float = 0.0) -> Link:
    """Mail meetings between `graph` and `google` from now on (until `Link.unlink`).

    `delay` > 0 delivers each message that many seconds later, on a timer thread. The link
    outlives each emulator's ``reset``.
    """
    return Link(graph, google, delay)


# -- UIDs -----------------------------------------------------------------------------------------


def exchange_uid(uid: str) -> str:
    """The ``iCalUId`` Exchange shows for an iCalendar UID: its own hex Global Object ID as is,
    any other UID wrapped in a "vCal-Uid" Global Object ID ([MS-OXCICAL] 2.1.3.1.1.20.26)."""
    if _is_goid(uid):
        return uid.upper()
    data = uid.encode()
    size = (12 + len(data) + 1).to_bytes(4, "little").hex().upper()
    return f"{_GOID_CLASS}{'0' * 40}{size}{_VCAL_UID}{data.hex().upper()}00"


def ical_uid(exchange: str) -> str:
    """The UID an Exchange ``iCalUId`` goes out with: a wrapped one unwrapped, else the hex."""
    text = exchange.upper()
    if _is_goid(text) and text[80:104] == _VCAL_UID:
        try:
            return bytes.fromhex(text[104:]).rstrip(b"\x00").decode()
        except ValueError:
            return exchange
    return exchange


def _is_goid(value: str) -> bool:
    return (
        len(value) >= 80
        and value[:32].upper() == _GOID_CLASS
        and re.fullmatch(r"[0-9A-Fa-f]+", value) is not None
    )


# -- recurrence: Graph's patternedRecurrence <-> one RRULE ----------------------------------------

_RFC_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_GRAPH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


class Unrelayable(ValueError):
    """A rule the receiving calendar cannot hold."""


def rrule_from_graph(recurrence: Mapping[str, Any], zone: str) -> str:
    """The RRULE line of a patternedRecurrence as Graph returns it (`zone`: the IANA start zone).

    Exchange puts a ``dayOfMonth`` past a month's end on its last day; RFC 5545 skips such
    months, so 29-31 become ``BYMONTHDAY=28,...,d;BYSETPOS=-1`` (31: ``-1``), which is the same.
    """
    pattern, range_ = recurrence["pattern"], recurrence["range"]
    kind = str(pattern["type"])
    interval = int(pattern.get("interval") or 1)
    days = [_RFC_DAYS[_GRAPH_DAYS.index(str(d).lower())] for d in pattern.get("daysOfWeek") or []]
    parts: list[str]
    if kind == "daily":
        parts = ["FREQ=DAILY"]
    elif kind == "weekly":
        parts = ["FREQ=WEEKLY", "BYDAY=" + ",".join(days)]
        if interval > 1:
            first_day = str(pattern.get("firstDayOfWeek") or "sunday").lower()
            parts.append("WKST=" + _RFC_DAYS[_GRAPH_DAYS.index(first_day)])
    else:
        yearly = kind.endswith("Yearly")
        parts = ["FREQ=YEARLY", f"BYMONTH={int(pattern['month'])}"] if yearly else ["FREQ=MONTHLY"]
        if kind.startswith("absolute"):
            day = int(pattern["dayOfMonth"])
            if day <= 28:
                parts.append(f"BYMONTHDAY={day}")
            elif day == 31:
                parts.append("BYMONTHDAY=-1")
            else:
                parts += ["BYMONTHDAY=" + ",".join(map(str, range(28, day + 1))), "BYSETPOS=-1"]
        else:
            position = _INDEX[str(pattern.get("index") or "first").lower()]
            if len(days) == 1:
                parts.append(f"BYDAY={position}{days[0]}")
            else:
                parts += ["BYDAY=" + ",".join(days), f"BYSETPOS={position}"]
    if interval != 1:
        parts.insert(1, f"INTERVAL={interval}")
    kind = str(range_.get("type"))
    if kind == "numbered":
        parts.append(f"COUNT={int(range_['numberOfOccurrences'])}")
    elif kind == "endDate":
        # Through the end date in the event's zone: UNTIL is that day's last second, in UTC.
        after = datetime.combine(date.fromisoformat(str(range_["endDate"])), time())
        end = (after + timedelta(days=1)).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        parts.append(f"UNTIL={end - timedelta(seconds=1):%Y%m%dT%H%M%SZ}")
    return "RRULE:" + ";".join(parts)


def graph_from_rrule(line: str, first: date, zone: str) -> dict[str, Any]:
    """The patternedRecurrence for an RRULE line of a series whose DTSTART falls on `first` in
    `zone`; raises `Unrelayable` for a rule Graph's patterns cannot hold."""
    value = line.split(":", 1)[1] if ":" in line else line
    parts: dict[str, str] = {}
    for part in value.strip().split(";"):
        key, _, item = part.partition("=")
        parts[key.strip().upper()] = item.strip().upper()
    unknown = set(parts) - {
        "FREQ",
        "INTERVAL",
        "BYDAY",
        "BYMONTHDAY",
        "BYMONTH",
        "BYSETPOS",
        "COUNT",
        "UNTIL",
        "WKST",
    }
    if unknown:
        raise Unrelayable(f"{line}: {', '.join(sorted(unknown))} has no Graph pattern")
    freq = parts.get("FREQ", "")
    interval = int(parts.get("INTERVAL", "1"))
    byday: list[tuple[int | None, str]] = []
    for item in filter(None, parts.get("BYDAY", "").split(",")):
        match = re.fullmatch(r"([+-]?\d+)?(MO|TU|WE|TH|FR|SA|SU)", item)
        if match is None:
            raise Unrelayable(f"{line}: BYDAY={item}")
        byday.append((int(match[1]) if match[1] else None, match[2]))
    monthdays = [int(d) for d in filter(None, parts.get("BYMONTHDAY", "").split(","))]
    setpos = parts.get("BYSETPOS")
    wkst = parts.get("WKST", "MO")
    pattern: dict[str, Any] = {
        "interval": interval,
        "month": 0,
        "dayOfMonth": 0,
        "daysOfWeek": [],
        "firstDayOfWeek": _GRAPH_DAYS[_RFC_DAYS.index(wkst)] if wkst in _RFC_DAYS else "monday",
        "index": "first",
    }
    if freq == "DAILY" and not (byday or monthdays or "BYMONTH" in parts):
        pattern["type"] = "daily"
    elif freq == "WEEKLY" and not (monthdays or "BYMONTH" in parts or setpos):
        if any(n is not None for n, _ in byday):
            raise Unrelayable(f"{line}: a weekly BYDAY takes no position")
        names = [d for _, d in byday] or [_RFC_DAYS[first.weekday()]]
        pattern["type"] = "weekly"
        pattern["daysOfWeek"] = [_GRAPH_DAYS[_RFC_DAYS.index(d)] for d in names]
    elif freq in ("MONTHLY", "YEARLY"):
        yearly = freq == "YEARLY"
        months = [int(m) for m in filter(None, parts.get("BYMONTH", "").split(","))]
        if (months and not yearly) or len(months) > 1:
            raise Unrelayable(f"{line}: BYMONTH")
        pattern["month"] = (months[0] if months else first.month) if yearly else 0
        if byday:
            pattern.update(_relative(line, byday, setpos))
            pattern["type"] = "relativeYearly" if yearly else "relativeMonthly"
        else:
            pattern["dayOfMonth"] = _month_day(line, monthdays or [first.day], setpos)
            pattern["type"] = "absoluteYearly" if yearly else "absoluteMonthly"
    else:
        raise Unrelayable(f"{line}: no Graph pattern")
    range_: dict[str, Any] = {
        "type": "noEnd",
        "startDate": first.isoformat(),
        "recurrenceTimeZone": zone,
    }
    if "COUNT" in parts:
        range_.update(type="numbered", numberOfOccurrences=int(parts["COUNT"]))
    elif "UNTIL" in parts:
        range_.update(type="endDate", endDate=_until_date(parts["UNTIL"], zone).isoformat())
    return {"pattern": pattern, "range": range_}


def _relative(
    line: str, byday: Sequence[tuple[int | None, str]], setpos: str | None
) -> dict[str, Any]:
    names = [d for _, d in byday]
    if len(byday) == 1 and byday[0][0] is not None and setpos is None:
        position = byday[0][0]
    elif all(n is None for n, _ in byday) and setpos is not None and "," not in setpos:
        position = int(setpos)
    else:
        raise Unrelayable(f"{line}: no Graph pattern for these days")
    index = next((k for k, v in _INDEX.items() if v == position), None)
    if index is None:
        raise Unrelayable(f"{line}: Graph has first..fourth and last only")
    return {"daysOfWeek": [_GRAPH_DAYS[_RFC_DAYS.index(d)] for d in names], "index": index}


def _month_day(line: str, days: Sequence[int], setpos: str | None) -> int:
    if setpos is None and len(days) == 1 and 1 <= days[0] <= 28:
        return days[0]
    if setpos is None and list(days) == [-1]:
        return 31
    if setpos == "-1" and len(days) > 1 and list(days) == list(range(28, days[-1] + 1)):
        return days[-1]
    raise Unrelayable(f"{line}: Exchange puts a day past a month's end on its last day")


def _until_date(value: str, zone: str) -> date:
    """The local date through which an UNTIL runs."""
    if len(value) == 8:
        return datetime.strptime(value, "%Y%m%d").replace(tzinfo=UTC).date()
    if value.endswith("Z"):
        instant = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return instant.astimezone(ZoneInfo(zone)).date()
    return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=UTC).date()
