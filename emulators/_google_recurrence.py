"""RFC 5545 recurrence as Google Calendar reads an event's ``recurrence`` lines.

Expansion runs in the event's own time zone with python-dateutil, so an occurrence keeps its
wall-clock time across DST, and ``BYMONTHDAY=31`` skips the months without a 31st (RFC 5545;
-1 is the month's last day). A timed event's occurrences are aware datetimes; an all-day event's
are naive midnights.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rruleset, rrulestr

from emulators._google_http import bad_request

MAX_OCCURRENCES = 5000
"""No expansion goes past this many occurrences: a rule without end still ends somewhere."""


def _invalid(detail: str) -> Exception:
    return bad_request(f"Invalid recurrence rule: {detail}", "invalid")


@dataclass
class Recurrence:
    """The occurrence set of one recurring event."""

    rules: rruleset
    zone: ZoneInfo | None
    """None for an all-day event: its occurrences are naive dates at midnight."""

    def between(self, start: datetime, end: datetime) -> list[datetime]:
        """Original starts with ``start <= occurrence < end`` (aware bounds), in order."""
        lo, hi = self._bound(start), self._bound(end)
        found: list[datetime] = []
        for occurrence in itertools.islice(self.rules.xafter(lo, inc=True), MAX_OCCURRENCES):
            if self._cmp(occurrence) >= self._cmp(hi):
                break
            found.append(occurrence)
        return found

    def first(self, limit: int) -> list[datetime]:
        """The first `limit` occurrences (fewer when the rule ends)."""
        return list(itertools.islice(iter(self.rules), min(limit, MAX_OCCURRENCES)))

    def contains(self, original: datetime) -> bool:
        """Whether `original` (an aware instant, or a naive midnight) is an occurrence."""
        probe = self._bound(original) if original.tzinfo is not None else original
        # dateutil compares wall-clock times: a start in a DST gap is an hour off its instant.
        hits = self.rules.between(probe - timedelta(hours=3), probe + timedelta(hours=3))
        return any(self._cmp(hit) == self._cmp(probe) for hit in hits)

    def _bound(self, instant: datetime) -> datetime:
        """An aware instant in the rule's own terms (naive local midnight-based for all-day)."""
        if self.zone is None:
            return instant.astimezone(UTC).replace(tzinfo=None) if instant.tzinfo else instant
        return instant.astimezone(self.zone)

    def _cmp(self, value: datetime) -> datetime:
        """A value to compare by: the UTC instant (comparing in one tzinfo would use wall time)."""
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC)


def parse(lines: list[str], start: datetime | date, zone: ZoneInfo | None) -> Recurrence:
    """Parse RRULE/EXRULE/RDATE/EXDATE lines for an event starting at `start`.

    `start` is the aware first start of a timed event (with `zone`), or the date of an all-day
    event (`zone` None). DTSTART/DTEND lines are refused, as Google refuses them.
    """
    if zone is not None and isinstance(start, datetime):
        dtstart = start.astimezone(zone)
    elif isinstance(start, date) and not isinstance(start, datetime):
        dtstart = datetime.combine(start, time())
    else:
        raise _invalid("the start needs a time zone")
    rules = rruleset()
    has_rule = False
    for raw in lines:
        if not isinstance(raw, str) or ":" not in raw:
            raise _invalid(repr(raw))
        head, value = raw.split(":", 1)
        name, *params = head.split(";")
        name = name.strip().upper()
        if name in ("RRULE", "EXRULE"):
            rule = _rule(value, dtstart, zone)
            if name == "RRULE":
                rules.rrule(rule)
                has_rule = True
            else:
                rules.exrule(rule)
        elif name in ("RDATE", "EXDATE"):
            for item in value.split(","):
                moment = _moment(item.strip(), params, zone)
                if name == "RDATE":
                    rules.rdate(moment)
                    has_rule = True
                else:
                    rules.exdate(moment)
        else:
            raise _invalid(f"{name} lines are not allowed in recurrence")
    if not has_rule:
        raise _invalid("no RRULE or RDATE")
    # As dateutil does, a first start off the rule is not an occurrence of its own: a client sends
    # a start that matches its rule (Google's UI always does).
    return Recurrence(rules, zone)


def _rule(value: str, dtstart: datetime, zone: ZoneInfo | None) -> rrule:
    """One RRULE value, its UNTIL brought into the same terms as `dtstart`."""
    parts = []
    for part in value.strip().split(";"):
        key, _, item = part.partition("=")
        if key.upper() == "UNTIL":
            item = _until(item, zone)
        parts.append(f"{key.upper()}={item}")
    try:
        parsed = rrulestr(";".join(parts), dtstart=dtstart)
    except (ValueError, TypeError) as exc:
        raise _invalid(f"{value}: {exc}") from exc
    if not isinstance(parsed, rrule):
        raise _invalid(value)
    return parsed


def _until(item: str, zone: ZoneInfo | None) -> str:
    """UNTIL in UTC for a timed event (a date means through that local day), naive otherwise."""
    text = item.strip().upper()
    try:
        if len(text) == 8:
            day = _naive(text, "%Y%m%d")
            local = day.replace(hour=23, minute=59, second=59)
        elif text.endswith("Z"):
            local = datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            local = _naive(text, "%Y%m%dT%H%M%S")
    except ValueError as exc:
        raise _invalid(f"UNTIL={item}") from exc
    if zone is None:
        return f"{local.replace(tzinfo=None):%Y%m%dT%H%M%S}"
    aware = local if local.tzinfo is not None else local.replace(tzinfo=zone)
    return f"{aware.astimezone(UTC):%Y%m%dT%H%M%S}Z"


def _moment(item: str, params: list[str], zone: ZoneInfo | None) -> datetime:
    """An RDATE/EXDATE value: UTC, TZID-local, floating (event zone) or a date."""
    options = dict(p.split("=", 1) for p in params if "=" in p)
    text = item.upper()
    try:
        if len(text) == 8 or options.get("VALUE", "").upper() == "DATE":
            day = _naive(text[:8], "%Y%m%d")
            return day if zone is None else day.replace(tzinfo=zone)
        if text.endswith("Z"):
            moment = datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            local_zone = ZoneInfo(options["TZID"]) if "TZID" in options else zone
            moment = _naive(text, "%Y%m%dT%H%M%S").replace(tzinfo=local_zone)
    except (ValueError, KeyError) as exc:
        raise _invalid(item) from exc
    if zone is None:
        return moment.replace(tzinfo=None)
    return moment.astimezone(zone) if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _naive(text: str, fmt: str) -> datetime:
    """A naive (floating or all-day) date-time: its zone is the event's, applied by the caller."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None or len(text) != len(datetime.now(UTC).strftime(fmt)):
        raise ValueError(text)
    return value


def instance_key(original: datetime) -> str:
    """The suffix of an instance id: the original start in UTC basic form, or the date."""
    if original.tzinfo is None:
        return f"{original:%Y%m%d}"
    return f"{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def parse_instance_key(key: str) -> datetime | None:
    """The original start an instance-id suffix names, or None when it is not one."""
    try:
        if len(key) == 8:
            return _naive(key, "%Y%m%d")
        return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
