"""The demo: a seeded pair on the local store, their calendars and the proposed series.

`seed()` is idempotent (every event has a stable idempotency key), so starting the demo twice on
one data directory gives the same calendars.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from addin.i18n import pick_locale, words
from cadence.errors import CadenceError
from cadence.model import Locale, Pair, Person
from cadence.planning import Availability, Interval, Preferences, Proposal, WorkingHours, plan
from cadence.recurrence import Weekday
from cadence.zones import zone
from connectors.models import Attendee, Event, NewEvent
from templates.render import agenda_template_html

ADA = Person(id="ada", name="Ada", email="ada@example.org", tz="Europe/Amsterdam", locale=Locale.NL)
GRACE = Person(
    id="grace", name="Grace", email="grace@example.org", tz="Europe/Amsterdam", locale=Locale.NL
)
PAIR = Pair(employee=ADA, manager=GRACE)
SERIES_PROPERTY = "goedgesprek.series"
SEED_WEEKS = 56

bp = Blueprint("demo", __name__)


@dataclass(frozen=True, slots=True)
class _Busy:
    person: Person
    subject: str
    weekday: int
    start: time
    minutes: int
    every_weeks: int = 1
    with_other: bool = False


_WEEKLY = (
    _Busy(GRACE, "MT-overleg", 1, time(9, 0), 120),
    _Busy(GRACE, "Budgetoverleg", 3, time(14, 0), 120),
    _Busy(GRACE, "Teamoverleg", 0, time(10, 0), 60, with_other=True),
    _Busy(ADA, "Sprint review", 2, time(10, 0), 90, every_weeks=2),
    _Busy(ADA, "Klantbezoek", 3, time(9, 0), 180, every_weeks=4),
)


def seed(store: Any, now: datetime) -> int:
    """Put Ada's and Grace's usual weeks (and one holiday week of Ada's) in the local calendars.

    Returns how many events were created or found again.
    """
    for person in PAIR.partners:
        store.add_person(person.email, person.name, person.tz)
    tz = zone(PAIR.tz)
    monday = now.astimezone(tz).date() - timedelta(days=now.astimezone(tz).weekday())
    count = 0
    for week in range(SEED_WEEKS):
        for busy in _WEEKLY:
            if week % busy.every_weeks:
                continue
            day = monday + timedelta(weeks=week, days=busy.weekday)
            start = datetime.combine(day, busy.start, tzinfo=zone(busy.person.tz))
            other = GRACE if busy.person is ADA else ADA
            event = NewEvent(
                subject=busy.subject,
                start=start,
                end=start + timedelta(minutes=busy.minutes),
                tz=busy.person.tz,
                organizer=busy.person.email,
                attendees=(Attendee(other.email, other.name),) if busy.with_other else (),
            )
            key = f"seed:{busy.person.id}:{busy.subject}:{day.isoformat()}"
            store.calendar(busy.person.email).create_event(event, idempotency_key=key)
            count += 1
    holiday = monday + timedelta(weeks=10)
    for offset in range(5):
        day = holiday + timedelta(days=offset)
        start = datetime.combine(day, time(8, 0), tzinfo=zone(ADA.tz))
        event = NewEvent(
            subject="Vakantie",
            start=start,
            end=start + timedelta(hours=10),
            tz=ADA.tz,
            organizer=ADA.email,
        )
        store.calendar(ADA.email).create_event(event, idempotency_key=f"seed:ada:vakantie:{day}")
        count += 1
    return count


DEFAULT_PREFERENCES = Preferences(
    weekdays=frozenset({Weekday.TU, Weekday.WE, Weekday.TH}),
    earliest=time(9, 30),
    latest=time(12, 0),
    duration=60,
    place="Koffiebar, 3e verdieping",
)


def preferences_from(args: Any) -> Preferences:
    """Preferences from query or form fields; absent fields keep the demo's defaults.

    Raises `CadenceError` (with a message to show) for values out of range.
    """
    d = DEFAULT_PREFERENCES
    try:
        days = args.getlist("days")
        weekdays = frozenset(Weekday[x] for x in days) if days else d.weekdays
        earliest = time.fromisoformat(args["earliest"]) if args.get("earliest") else d.earliest
        latest = time.fromisoformat(args["latest"]) if args.get("latest") else d.latest
        duration = int(args["duration"]) if args.get("duration") else d.duration
        interval = int(args["every"]) if args.get("every") else d.interval
    except (KeyError, ValueError) as exc:
        raise CadenceError(f"could not read the preferences: {exc}") from exc
    place = args.get("place", d.place)
    # An unchecked box sends nothing, so "off" is read only from a submitted form (it has place).
    online = args.get("online") == "on" if "place" in args else d.online
    return Preferences(
        weekdays=weekdays,
        earliest=earliest,
        latest=latest,
        duration=duration,
        place=place,
        online=online,
        interval=interval,
    )


def _now() -> datetime:
    clock = current_app.extensions.get("goedgesprek.clock")
    return clock() if clock else datetime.now(UTC)


def _store() -> Any:
    return current_app.extensions["goedgesprek.store"]


def propose(prefs: Preferences, now: datetime, locale: str) -> Proposal:
    """The planner's proposal for the seeded pair, from their local calendars."""
    store = _store()
    start, end = now, now + timedelta(days=400)
    busy = store.calendar(ADA.email).free_busy([ADA.email, GRACE.email], start, end)
    settings = current_app.extensions["goedgesprek.settings"]

    def availability(person: Person) -> Availability:
        intervals = tuple(Interval(b.start, b.end) for b in busy.get(person.email, []))
        return Availability(person=person, hours=WorkingHours(tz=person.tz), busy=intervals)

    return plan(
        PAIR,
        availability(ADA),
        availability(GRACE),
        prefs,
        now=now,
        country=settings.country,
        locale=locale,
    )


def _week(offset: int, now: datetime) -> tuple[date, dict[str, list[list[Event]]]]:
    tz = zone(PAIR.tz)
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = start + timedelta(days=7)
    grid: dict[str, list[list[Event]]] = {}
    for person in PAIR.partners:
        days: list[list[Event]] = [[] for _ in range(7)]
        for event in _store().calendar(person.email).events(start, end):
            local = event.start.astimezone(zone(person.tz)).date()
            index = (local - monday).days
            if 0 <= index < 7:
                days[index].append(event)
        grid[person.id] = days
    return monday, grid


def _scheduled(now: datetime) -> list[tuple[Event, list[datetime]]]:
    calendar = _store().calendar(ADA.email)
    masters: dict[str, Event] = {}
    for event in calendar.events(now - timedelta(days=30), now + timedelta(days=400)):
        master_id = event.series_id or event.id
        if master_id in masters:
            continue
        master = calendar.get_event(master_id) if event.series_id else event
        if SERIES_PROPERTY in master.properties:
            masters[master_id] = master
    result = []
    for master in masters.values():
        upcoming = [e.start for e in calendar.instances(master.id, now, now + timedelta(days=400))]
        result.append((master, upcoming[:4]))
    return result


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return str(token)


@bp.get("/")
def home() -> str:
    """The demo page: both calendars for a week and the series the planner proposes."""
    locale = pick_locale(request.args.get("lang"), request.headers.get("Accept-Language"))
    w = words(locale)
    now = _now()
    try:
        offset = max(-52, min(52, int(request.args.get("week", "0"))))
    except ValueError:
        offset = 0
    error = None
    try:
        prefs = preferences_from(request.args)
        proposal: Proposal | None = propose(prefs, now, locale)
    except CadenceError as exc:
        prefs, proposal, error = DEFAULT_PREFERENCES, None, str(exc)
    monday, grid = _week(offset, now)
    return render_template(
        "demo.html",
        w=w,
        locale=locale,
        pair=PAIR,
        monday=monday,
        days=[monday + timedelta(days=i) for i in range(7)],
        day_names=w["weekday_names"].split(),
        grid=grid,
        offset=offset,
        prefs=prefs,
        weekdays=list(Weekday),
        proposal=proposal,
        rule_lines=proposal.rule.to_rfc5545() if proposal else [],
        graph_json=json.dumps(proposal.rule.to_graph(), indent=2) if proposal else "",
        description=proposal.rule.describe(locale) if proposal else "",
        error=error,
        scheduled=_scheduled(now),
        series_property=SERIES_PROPERTY,
        csrf=_csrf_token(),
        request_id=uuid.uuid4().hex,
        created=request.args.get("created") == "1",
        tz=zone(PAIR.tz),
    )


@bp.post("/series")
def create_series() -> Response:
    """Schedule the proposed series in both calendars (the employee's calendar holds the master)."""
    if not secrets.compare_digest(request.form.get("csrf", ""), str(session.get("csrf", ""))):
        abort(400, description="The form has expired: reload the page and try again.")
    locale = pick_locale(request.form.get("lang"), request.headers.get("Accept-Language"))
    try:
        prefs = preferences_from(request.form)
    except CadenceError as exc:
        abort(400, description=str(exc))
    request_id = request.form.get("request_id", "")
    if not request_id.isalnum() or len(request_id) > 64:
        abort(400, description="The form is incomplete: reload the page and try again.")
    proposal = propose(prefs, _now(), locale)
    first = proposal.occurrences[0]
    body = _agenda_body(locale)
    event = NewEvent(
        subject=f"{words(locale)['conversation']}: {ADA.name} & {GRACE.name}",
        start=first,
        end=first + timedelta(minutes=prefs.duration),
        tz=PAIR.tz,
        organizer=ADA.email,
        attendees=(Attendee(GRACE.email, GRACE.name),),
        body_html=body,
        location=prefs.place,
        online=prefs.online,
        recurrence=proposal.rule,
        properties={SERIES_PROPERTY: request_id},
    )
    _store().calendar(ADA.email).create_event(event, idempotency_key=f"series:{request_id}")
    return redirect(url_for("demo.home", lang=locale, created=1))


def _agenda_body(locale: str) -> str:
    """The default agenda, as HTML for the event body."""
    return agenda_template_html(current_app.extensions["goedgesprek.templates"], locale)


def init_app(app: Flask) -> None:
    """Register the demo pages."""
    app.register_blueprint(bp)
