"""The HR cadence report: whether the conversations take place, never what is in them.

The background sweep reads every active series at least hourly and counts, from the calendar
and the records' dates, which conversations were held; `CadenceStats` keeps those dates and the
next planned one per series (table ``cadence_stats``). `cadence_report` turns them into figures
per team (a manager's reports): the pairs, how many held four or more conversations in the last
twelve months, the overdue ones, the next planned dates and the conversations held per quarter.

Only counts and dates: no title, topic, agreement or name of an employee appears anywhere. A team
of fewer than `SMALL_TEAM` pairs is folded into its manager's manager's team (upwards until it is
large enough, else into "the rest of the organisation"), so no one is singled out.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Engine

from addin.store.db import put_row
from addin.store.tables import cadence_stats_table
from cadence.model import Series

SMALL_TEAM: Final = 5
KEPT: Final = timedelta(days=2 * 366)
"""How far back held dates are kept: eight quarters of trend."""
OVERDUE: Final = timedelta(days=122)
"""A pair with no conversation held for this long (a quarter and a month) is overdue."""
QUARTERS: Final = 4
REST: Final = "(rest of the organisation)"


@dataclass(frozen=True, slots=True)
class Counted:
    """What the sweep last counted of one series."""

    series_id: str
    held: tuple[date, ...]
    next_planned: datetime | None


class CadenceStats:
    """The sweep's counts per series, in the server store."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._engine = engine
        self._clock = clock

    def record(
        self,
        series_id: str,
        held: Iterable[datetime],
        next_planned: datetime | None,
        *,
        since: datetime,
    ) -> None:
        """Keep the dates held as counted now from `since` on, with the earlier ones kept
        before (up to `KEPT` back), and the next planned conversation."""
        now = self._clock()
        fresh = {h.astimezone(UTC).date() for h in held}
        earlier = self.get(series_id)
        kept = {
            d
            for d in (earlier.held if earlier else ())
            if d < since.astimezone(UTC).date() and d >= (now - KEPT).date()
        }
        dates = " ".join(d.isoformat() for d in sorted(kept | fresh))
        put_row(
            self._engine,
            cadence_stats_table,
            {"series_id": series_id},
            {"held": dates, "next_planned": next_planned, "updated": now},
        )

    def get(self, series_id: str) -> Counted | None:
        t = cadence_stats_table
        with self._engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.series_id == series_id)).first()
        return None if row is None else _counted(row)

    def all(self) -> dict[str, Counted]:
        t = cadence_stats_table
        with self._engine.connect() as conn:
            rows = conn.execute(select(t)).all()
        return {row.series_id: _counted(row) for row in rows}


def _counted(row: object) -> Counted:
    data = row._mapping  # type: ignore[attr-defined]
    held = tuple(date.fromisoformat(d) for d in str(data["held"] or "").split())
    planned = data["next_planned"]
    if planned is not None and planned.tzinfo is None:
        planned = planned.replace(tzinfo=UTC)
    return Counted(str(data["series_id"]), held, planned)


@dataclass(slots=True)
class Team:
    """One line of the report: a manager's team, with the small teams folded into it."""

    manager: str
    pairs: int = 0
    four_or_more: int = 0
    overdue: int = 0
    not_counted: int = 0
    timeouts: int = 0
    """Time-outs or other conversation partners asked in twelve months (a count, never why)."""
    next_planned: list[datetime] = field(default_factory=list)
    per_quarter: dict[str, int] = field(default_factory=dict)
    folded: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        """The share of pairs with four or more conversations in twelve months (0-1)."""
        return self.four_or_more / self.pairs if self.pairs else 0.0


def active_series(registry: Any, *, page: int = 500, most: int = 1_000_000) -> list[Series]:
    """Every active series of the registry, read a page at a time (at most `most`)."""
    found: list[Series] = []
    after = ""
    for _page in range(most // page):
        chunk = registry.active(after=after, limit=page)
        if not chunk:
            break
        found.extend(chunk)
        after = chunk[-1].id
    return found


def timeouts_since(engine: Engine, now: datetime) -> dict[str, int]:
    """Time-out requests per series in the twelve months up to `now`."""
    from addin.conversations.journals import TimeOutCounts

    since = (now.astimezone(UTC) - timedelta(days=365)).strftime("%Y-%m")
    return TimeOutCounts(engine).by_series(since)


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def last_quarters(today: date, count: int = QUARTERS) -> list[str]:
    """The names of the last `count` quarters, the current one last."""
    year, quarter = today.year, (today.month - 1) // 3
    names = []
    for _ in range(count):
        names.append(f"{year}-Q{quarter + 1}")
        quarter -= 1
        if quarter < 0:
            year, quarter = year - 1, 3
    return list(reversed(names))


def cadence_report(
    series: Sequence[Series],
    counted: Mapping[str, Counted],
    manager_of: Callable[[str], str | None],
    now: datetime,
    *,
    team: str = "",
    timeouts: Mapping[str, int] | None = None,
) -> list[Team]:
    """The report's teams, largest first; `team` (a manager's address) keeps only theirs.

    `timeouts` counts the time-out requests of each series in the last twelve months.
    """
    today = now.astimezone(UTC).date()
    quarters = last_quarters(today)
    teams: dict[str, Team] = {}
    for entry in series:
        manager = entry.pair.manager.email.lower()
        found = teams.setdefault(manager, Team(manager, per_quarter=dict.fromkeys(quarters, 0)))
        found.pairs += 1
        found.timeouts += (timeouts or {}).get(entry.id, 0)
        stats = counted.get(entry.id)
        if stats is None:
            found.not_counted += 1
            continue
        recent = [d for d in stats.held if d > today - timedelta(days=365)]
        if len(recent) >= 4:
            found.four_or_more += 1
        last = max(stats.held) if stats.held else None
        planned_soon = stats.next_planned is not None and stats.next_planned <= now + OVERDUE
        if (last is None or last < today - OVERDUE) or not planned_soon:
            found.overdue += 1
        if stats.next_planned is not None and stats.next_planned >= now:
            found.next_planned.append(stats.next_planned)
        for day in stats.held:
            name = quarter_of(day)
            if name in found.per_quarter:
                found.per_quarter[name] += 1
    folded = _fold(teams, manager_of)
    chosen = [t for t in folded if not team or t.manager == team.strip().lower()]
    return sorted(chosen, key=lambda t: (-t.pairs, t.manager))


def _fold(teams: dict[str, Team], manager_of: Callable[[str], str | None]) -> list[Team]:
    """Small teams merged upwards: into the manager's manager's team, else the rest."""
    parents: dict[str, str | None] = {}

    def parent(manager: str) -> str | None:
        if manager not in parents:
            try:
                found = manager_of(manager)
            except Exception:
                found = None
            parents[manager] = found.strip().lower() if found else None
        return parents[manager]

    for _round in range(64):  # reporting lines are shallow; bounded all the same
        small = sorted(
            (t for t in teams.values() if t.pairs < SMALL_TEAM and t.manager != REST),
            key=lambda t: t.pairs,
        )
        if not small:
            break
        for team in small:
            if team.manager not in teams:
                continue
            above = parent(team.manager)
            target = above if above and above != team.manager else REST
            into = teams.setdefault(
                target, Team(target, per_quarter=dict.fromkeys(team.per_quarter, 0))
            )
            _merge(into, team)
            del teams[team.manager]
    rest = teams.get(REST)
    if rest is not None and rest.pairs < SMALL_TEAM and len(teams) > 1:
        # Too few even together: the rest joins the smallest team there is.
        del teams[REST]
        smallest = min(teams.values(), key=lambda t: t.pairs)
        _merge(smallest, rest)
    return list(teams.values())


def _merge(into: Team, team: Team) -> None:
    into.pairs += team.pairs
    into.four_or_more += team.four_or_more
    into.overdue += team.overdue
    into.not_counted += team.not_counted
    into.timeouts += team.timeouts
    into.next_planned.extend(team.next_planned)
    for name, count in team.per_quarter.items():
        into.per_quarter[name] = into.per_quarter.get(name, 0) + count
    into.folded.extend([team.manager, *team.folded])


# -- output ------------------------------------------------------------------------------------

COLUMNS: Final = (
    "team (manager)",
    "pairs",
    "4+ in 12 months",
    "share",
    "overdue",
    "next planned",
    "teams folded in",
    "time-outs asked",
)


def rows(teams: Sequence[Team]) -> list[list[str]]:
    """The report as text cells, one row per team, the quarters last."""
    out = []
    for team in teams:
        soonest = min(team.next_planned).date().isoformat() if team.next_planned else "-"
        out.append(
            [
                team.manager,
                str(team.pairs),
                str(team.four_or_more),
                f"{round(team.share * 100)}%",
                str(team.overdue),
                soonest,
                str(len(team.folded)),
                str(team.timeouts),
                *(str(n) for n in team.per_quarter.values()),
            ]
        )
    return out


def as_csv(teams: Sequence[Team]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    quarters = list(teams[0].per_quarter) if teams else []
    writer.writerow([*COLUMNS, *quarters])
    writer.writerows(rows(teams))
    return buffer.getvalue()


def as_html(teams: Sequence[Team], now: datetime) -> str:
    """A page of its own: the table and, per team, bars of the conversations per quarter."""
    quarters = list(teams[0].per_quarter) if teams else []
    top = max((n for t in teams for n in t.per_quarter.values()), default=0) or 1
    head = "".join(f"<th scope='col'>{html.escape(c)}</th>" for c in (*COLUMNS, *quarters))
    body = []
    for team, cells in zip(teams, rows(teams), strict=True):
        tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        bars = "".join(
            f"<rect x='{i * 22}' y='{40 - round(n / top * 40)}' width='18' "
            f"height='{round(n / top * 40)}'><title>{html.escape(q)}: {n}</title></rect>"
            for i, (q, n) in enumerate(team.per_quarter.items())
        )
        chart = (
            f"<svg width='{22 * len(quarters)}' height='40' role='img' "
            f"aria-label='conversations held per quarter'>{bars}</svg>"
        )
        body.append(f"<tr>{tds}<td>{chart}</td></tr>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Goed Gesprek: cadence report</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}rect{fill:#0f6cbd}</style></head><body>"
        f"<h1>Cadence report, {html.escape(now.date().isoformat())}</h1>"
        "<p>Counts and dates only: conversations held per pair in the last twelve months, "
        f"by team; teams under {SMALL_TEAM} pairs are folded into their manager's manager's.</p>"
        f"<table><thead><tr>{head}<th scope='col'>trend</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></body></html>"
    )
