"""`goedgesprek series`: look at a series' recurrence before creating it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

import click

from addin.cli._errors import OneLineErrors, fail
from cadence.errors import CadenceError
from cadence.recurrence import (
    INTERVALS,
    Anchor,
    DayOfMonth,
    NthWeekday,
    Rule,
    Weekday,
    iana_zone,
    language,
    weekday_name,
)

OPEN_ENDED_PREVIEW = 8  # occurrences shown for a rule without end
MAX_PREVIEW = 500  # a long until still prints in a moment
WEEKEND_LISTED = 8  # weekend dates named in the warning; --json lists them all

_HEADINGS = {
    "nl": ("Gesprekken", "RFC 5545 (Google Calendar)", "Microsoft Graph (Outlook)", "en verder"),
    "en": ("Occurrences", "RFC 5545 (Google Calendar)", "Microsoft Graph (Outlook)", "and more"),
}

_AT = {"nl": "om {time} ({tz})", "en": "at {time} ({tz})"}


def _parse_start(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - naive local by design
    except ValueError:
        raise CadenceError(f"--start must look like 2027-01-12T10:00, got {value!r}") from None


def _parse_until(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CadenceError(f"--until must look like 2027-12-31, got {value!r}") from None


def _anchor(weekday: str | None, week: str | None, day: str | None) -> Anchor:
    if day is not None and (weekday is not None or week is not None):
        raise CadenceError("give either --day or --weekday with --week, not both")
    if day is not None:
        if day.lower() == "last":
            return DayOfMonth(-1)
        return DayOfMonth(_day_of_month(day))
    if weekday is None or week is None:
        raise CadenceError(
            "say which day: --weekday MO..SU with --week 1-4 or last, or --day 1-28 or last"
        )
    if weekday.upper() not in Weekday.__members__:
        raise CadenceError(f"--weekday must be one of MO TU WE TH FR SA SU, got {weekday!r}")
    if week.lower() == "last":
        return NthWeekday(Weekday[weekday.upper()], -1)
    if week not in ("1", "2", "3", "4"):
        raise CadenceError(
            f"--week must be 1, 2, 3, 4 or last, got {week!r}: "
            "a fifth weekday is not in every month"
        )
    return NthWeekday(Weekday[weekday.upper()], int(week))


def _day_of_month(day: str) -> int:
    """`--day` as 1-28, or a refusal that says what is wrong with this value."""
    try:
        number = int(day)
    except ValueError:
        raise CadenceError(
            f"--day must be a day of the month, 1-28, or last, got {day!r}"
        ) from None
    if number < 1:
        raise CadenceError(
            f"--day must be 1-28 or last, got {day!r}: a month starts on day 1 "
            "(for the last day of the month, say last)"
        )
    if number > 31:
        raise CadenceError(f"--day must be 1-28 or last, got {day!r}: no month has {number} days")
    if number > 28:
        raise CadenceError(
            f"--day must be 1-28 or last, got {day!r}: days 29-31 are not in every month "
            "(for the last day of the month, say last)"
        )
    return number


def _weekend(rule: Rule, occurrences: Sequence[datetime]) -> list[datetime]:
    """The shown dates on a Saturday or Sunday when the rule names a day of the month.

    A day of the month (the 15th, the last day) moves through the week, so some conversations
    fall on a weekend and no calendar moves them; a weekday chosen with --weekday is deliberate.
    """
    if not isinstance(rule.anchor, DayOfMonth):
        return []
    return [occurrence for occurrence in occurrences if occurrence.weekday() >= 5]


_WEEKEND = {
    "nl": (
        "let op: {n} van deze {total} data vallen in het weekend ({dates}); de agenda's laten "
        "ze daar staan. Kies --weekday met --week voor steeds een werkdag."
    ),
    "en": (
        "warning: {n} of these {total} dates fall on a weekend ({dates}); the calendars keep "
        "them there. Choose --weekday with --week for a working day every time."
    ),
}


def _weekend_warning(weekend: Sequence[datetime], total: int, lang: str) -> str:
    shown = [f"{weekday_name(d.weekday(), lang)} {d:%Y-%m-%d}" for d in weekend[:WEEKEND_LISTED]]
    if len(weekend) > WEEKEND_LISTED:
        shown.append("…")
    dates = ", ".join(shown)
    return _WEEKEND[lang].format(n=len(weekend), total=total, dates=dates)


def _occurrences(rule: Rule) -> list[datetime]:
    if rule.count is None and rule.until is None:
        return rule.first_n(OPEN_ENDED_PREVIEW)
    return rule.first_n(MAX_PREVIEW)


def _offset(occurrence: datetime) -> str:
    """The UTC offset as +01:00, or +00:19:32 where a zone's old local mean time has seconds."""
    # isoformat pads the year, so the offset always follows "YYYY-MM-DDTHH:MM".
    return occurrence.isoformat(timespec="minutes")[16:]


def _line(occurrence: datetime, lang: str) -> str:
    name = weekday_name(occurrence.weekday(), lang)
    return f"{name:<9} {occurrence:%Y-%m-%d %H:%M} (UTC{_offset(occurrence)})"


def _human(rule: Rule, occurrences: Sequence[datetime], lang: str) -> str:
    heading_occurrences, heading_rfc, heading_graph, more = _HEADINGS[lang]
    description = rule.describe(lang)
    at = _AT[lang].format(time=f"{rule.first:%H:%M}", tz=rule.tz)
    lines = [description[0].upper() + description[1:], at, "", f"{heading_occurrences}:"]
    lines += [f"  {_line(occurrence, lang)}" for occurrence in occurrences]
    if len(occurrences) < len(rule.first_n(len(occurrences) + 1)):
        lines.append(f"  … {more}")
    lines += ["", f"{heading_rfc}:", *(f"  {line}" for line in rule.to_rfc5545())]
    lines += ["", f"{heading_graph}:", json.dumps(rule.to_graph(), indent=2, ensure_ascii=False)]
    return "\n".join(lines)


@click.group(name="series")
def series() -> None:
    """Plan and inspect conversation series."""


@series.command(name="preview", cls=OneLineErrors)
@click.option(
    "--start", "start_text", required=True, help="First possible start, YYYY-MM-DDTHH:MM."
)
@click.option(
    "--tz",
    default="Europe/Amsterdam",
    show_default=True,
    help="The pair's IANA zone, in any case (utc, europe/amsterdam).",
)
@click.option("--every", type=int, default=3, show_default=True, help="Months: 1, 2, 3, 4 or 6.")
@click.option("--weekday", help="MO, TU, WE, TH, FR, SA or SU (with --week).")
@click.option("--week", help="1, 2, 3, 4 or last (with --weekday).")
@click.option(
    "--day",
    help="A day of the month, 1-28, or last (instead of --weekday); dates that fall on a "
    "weekend are named in a warning.",
)
@click.option("--count", type=int, help="End after this many conversations.")
@click.option("--until", "until_text", help="End on this date (inclusive), YYYY-MM-DD.")
@click.option("--locale", default="nl", show_default=True, help="nl or en, for the description.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: rrule, graph, occurrences.")
def preview(
    *,
    start_text: str,
    tz: str,
    every: int,
    weekday: str | None,
    week: str | None,
    day: str | None,
    count: int | None,
    until_text: str | None,
    locale: str,
    as_json: bool,
) -> None:
    """Show a rule's occurrences and how Google (RFC 5545) and Outlook (Graph) will hold it.

    Without --count or --until the series has no end and the first 8 are shown. With --day,
    the dates that fall on a Saturday or Sunday are named in a warning on stderr (and listed
    under "weekend" with --json).
    """
    try:
        if every not in INTERVALS:
            raise CadenceError(f"--every must be 1, 2, 3, 4 or 6 (months), got {every}")
        rule = Rule.build(
            _parse_start(start_text),
            iana_zone(tz),
            _anchor(weekday, week, day),
            interval=every,
            count=count,
            until=_parse_until(until_text) if until_text is not None else None,
        )
        lang = language(locale)
    except CadenceError as exc:
        fail(str(exc), code=2)
    occurrences = _occurrences(rule)
    weekend = _weekend(rule, occurrences)
    if as_json:
        payload = {
            "rrule": rule.to_rfc5545(),
            "graph": rule.to_graph(),
            "occurrences": [occurrence.isoformat() for occurrence in occurrences],
            "weekend": [occurrence.isoformat() for occurrence in weekend],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        click.echo(_human(rule, occurrences, lang))
    if weekend:
        click.echo(_weekend_warning(weekend, len(occurrences), lang), err=True)


@series.command(name="end", cls=OneLineErrors)
@click.argument("series_id")
def end(series_id: str) -> None:
    """End a series on HR's behalf: conversations from today on are cancelled in the calendar,
    the records stay in the employee's drive and the pair may plan anew. Ending it again changes
    nothing. Settings come from the GOEDGESPREK_* variables, as for the server."""
    from addin.app import close_app, create_app
    from addin.conversations import ServiceError
    from connectors.errors import ConnectorError

    try:
        app = create_app()
    except (ValueError, ConnectorError, OSError) as exc:
        fail(f"the server's settings cannot be used: {exc}")
    try:
        service = app.extensions["goedgesprek.service"]
        try:
            ended = service.end_series_for_hr(series_id)
        except ServiceError as exc:
            fail(f"no series {series_id}: {exc}")
        except ConnectorError as exc:
            fail(f"the calendar refused or could not be reached, nothing was ended: {exc}")
        pair = ended.pair
        click.echo(
            f"series {ended.id} of {pair.employee.email} with {pair.manager.email} has ended; "
            "the records stay in the employee's drive"
        )
    finally:
        close_app(app)
