"""The demo's host preview: two local calendars, the real side panel beside them, the Google cards.

The seeded pair (`addin.demo.seed`): Ada (employee) and Grace (manager). The page at ``/`` shows a
week of both calendars; choosing an event opens the real task pane (``/demo/pane``, a stub Office
host around the real pane) in a frame, as Ada or as Grace, in read or compose mode. The demo clock
moves time on: to just after the conversation, a week or a quarter on.

``/demo/cards`` shows the Google Calendar add-on the same way: it calls the app's own card
endpoints exactly as Google would (a signed request with Google's event object) and renders the
answered cards as HTML (`addin.demo.preview`), with a card stack kept per browser session.

Part of the demo app only (`addin.demo.create_demo_app`); the product never registers it.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from dateutil.relativedelta import relativedelta
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from addin.demo.preview import (
    PreviewWords,
    apply_response,
    calendar_object,
    clicked_action,
    event_object,
    form_inputs,
    render_card,
)
from addin.demo.seed import ADA, FIRST_MEETING, PAIR
from addin.errors import error_message
from addin.i18n import gettext, request_locale
from addin.jsonbody import MAX_DEPTH, BadBody, read_object
from addin.workspace.schema import CardError, validate_response
from addin.workspace.verify import LOCAL_SERVICE_ACCOUNT
from cadence.model import Person
from cadence.zones import zone
from connectors.errors import NotFound
from connectors.models import Event

AFTER_THE_END = timedelta(minutes=10)
"""Where "to the end of this conversation" puts the clock: just after the meeting."""

DOMAIN = "demo"
PEOPLE = {p.id: p for p in PAIR.partners}
MODES = ("read", "compose")

bp = Blueprint(
    "demo",
    __name__,
    static_folder="static",
    static_url_path="/demo/static",
    template_folder="pages",
)


# -- request helpers -------------------------------------------------------------------------------


def _url(endpoint: str, args: Mapping[str, Any]) -> str:
    """`url_for` with query arguments from a mapping (None values left out)."""
    values: dict[str, Any] = {k: v for k, v in args.items() if v is not None}
    return url_for(endpoint, **values)


def _store() -> Any:
    return current_app.extensions["goedgesprek.store"]


def _clock() -> Any:
    return current_app.extensions.get("goedgesprek.clock")


def _now() -> datetime:
    clock = _clock()
    return clock() if clock is not None else datetime.now(UTC)


def _locale() -> str:
    return request_locale(request.form.get("lang") if request.method == "POST" else None)


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return str(token)


def _check_csrf(sent: str | None) -> None:
    expected = str(session.get("csrf") or "")
    if not expected or not secrets.compare_digest(str(sent or ""), expected):
        abort(
            400,
            description=gettext(
                _locale(), DOMAIN, "The form has expired: reload the page and try again."
            ),
        )


def _viewer(value: str | None) -> Person:
    return PEOPLE.get((value or "").strip().lower(), ADA)


def _mode(value: str | None) -> str:
    return value if value in MODES else "read"


def _week(value: str | None) -> int:
    try:
        return max(-104, min(104, int(value or "0")))
    except ValueError:
        return 0


def _find_event(event_id: str, viewer: Person) -> Event | None:
    if not event_id:
        return None
    try:
        event: Event = _store().calendar(viewer.email).get_event(event_id)
    except NotFound:
        return None
    return event


def _sees(event: Event, person: Person) -> bool:
    emails = {event.organizer.lower()} | {a.email.lower() for a in event.attendees}
    return person.email.lower() in emails


# -- the host page ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cell:
    """One event in the week grid, as the viewer sees it."""

    event: Event
    start: str
    end: str
    openable: bool
    ours: bool
    selected: bool


@bp.get("/")
def home() -> str:
    """The host preview: a week of both calendars, the side panel in a frame, the demo clock."""
    locale = _locale()
    now = _now()
    viewer = _viewer(request.args.get("as"))
    mode = _mode(request.args.get("mode"))
    offset = _week(request.args.get("week"))
    selected = _find_event(request.args.get("event", ""), viewer)
    tz = zone(PAIR.tz)
    monday = now.astimezone(tz).date() - timedelta(days=now.astimezone(tz).weekday())
    monday += timedelta(weeks=offset)
    days = [monday + timedelta(days=i) for i in range(7)]
    grid = {p.id: _week_of(p, monday, viewer, selected, locale) for p in PAIR.partners}
    state: dict[str, Any] = {"as": viewer.id, "mode": mode, "lang": locale}
    series = _series(now, locale)
    # Once the pair planned its series, there is nothing left to start.
    first = None if series else _first_meeting_link(viewer, now, state)
    pane_src = (
        _url("pane_demo.pane", {"event": selected.id, **state})
        if selected is not None and "pane_demo.pane" in current_app.view_functions
        else None
    )
    return render_template(
        "demo.html",
        locale=locale,
        pair=PAIR,
        viewer=viewer,
        mode=mode,
        offset=offset,
        week_label=format_date(monday, "d MMMM y", locale=locale),
        days=[(d, format_date(d, "EEE d MMM", locale=locale)) for d in days],
        grid=grid,
        selected=selected,
        selected_when=_when(selected, locale) if selected else "",
        pane_src=pane_src,
        now_label=format_datetime(now.astimezone(tz), "EEEE d MMMM y, HH:mm", locale=locale),
        clock_moved=_clock_moved(),
        clock_available=hasattr(_clock(), "advance"),
        first_meeting=first,
        first_meeting_subject=FIRST_MEETING,
        series=series,
        csrf=_csrf_token(),
        cards_href=_url(
            "demo.cards_view",
            {"as": viewer.id, "lang": locale, "event": selected.id if selected else None},
        ),
        outbox_href=_url("demo.outbox", {"as": viewer.id, "lang": locale}),
        outbox_count=_received(viewer),
        here=lambda **changes: _here(state, offset, selected, changes),
    )


def _received(person: Person) -> int:
    """How many mails are in the person's demo mailbox."""
    store = current_app.extensions.get("goedgesprek.store")
    if store is None or not hasattr(store, "outbox"):
        return 0
    return sum(1 for m in store.outbox() if person.email.lower() in (a.lower() for a in m.mail.to))


def _week_of(
    person: Person, monday: date, viewer: Person, selected: Event | None, locale: str
) -> list[list[_Cell]]:
    """`person`'s events in the week from `monday`, one list per day, as `viewer` sees them."""
    tz = zone(PAIR.tz)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    columns: list[list[_Cell]] = [[] for _ in range(7)]
    for event in _store().calendar(person.email).events(start, start + timedelta(days=7)):
        index = (event.start.astimezone(tz).date() - monday).days
        if 0 <= index < len(columns):
            columns[index].append(
                _Cell(
                    event=event,
                    start=format_time(event.start.astimezone(tz), "HH:mm", locale=locale),
                    end=format_time(event.end.astimezone(tz), "HH:mm", locale=locale),
                    openable=_sees(event, viewer),
                    ours=bool(event.series_id or event.recurrence),
                    selected=selected is not None and selected.id == event.id,
                )
            )
    return columns


def _here(state: Mapping[str, str], week: int, selected: Event | None, changes: Any) -> str:
    """This page's address with some of its choices changed (None drops one)."""
    args: dict[str, Any] = {**state, "week": week}
    if selected is not None:
        args["event"] = selected.id
    changes = dict(changes)
    if "viewer" in changes:  # templates cannot pass `as` as a keyword
        changes["as"] = changes.pop("viewer")
    args.update(changes)
    return _url("demo.home", args)


def _when(event: Event, locale: str) -> str:
    tz = zone(PAIR.tz)
    day = format_date(event.start.astimezone(tz), "EEEE d MMMM y", locale=locale)
    start = format_time(event.start.astimezone(tz), "HH:mm", locale=locale)
    end = format_time(event.end.astimezone(tz), "HH:mm", locale=locale)
    return f"{day}, {start}–{end}"


def _clock_moved() -> bool:
    offset = getattr(_clock(), "offset", None)
    return isinstance(offset, timedelta) and abs(offset) >= timedelta(minutes=1)


def _first_meeting_link(viewer: Person, now: datetime, state: Mapping[str, Any]) -> str | None:
    """A link that opens the first meeting (in its week), if it is in the viewer's calendar."""
    calendar = _store().calendar(viewer.email)
    window = calendar.events(now - timedelta(days=14), now + timedelta(days=21))
    found = next((e for e in window if e.subject == FIRST_MEETING), None)
    if found is None:
        return None
    tz = zone(PAIR.tz)
    this_monday = now.astimezone(tz).date() - timedelta(days=now.astimezone(tz).weekday())
    week = (found.start.astimezone(tz).date() - this_monday).days // 7
    return _url("demo.home", {**state, "event": found.id, "week": week})


@dataclass(frozen=True, slots=True)
class _Series:
    subject: str
    description: str
    upcoming: list[str]


def _series(now: datetime, locale: str) -> list[_Series]:
    """The series in Ada's calendar (she is the employee, so she holds every master)."""
    calendar = _store().calendar(ADA.email)
    masters: dict[str, Event] = {}
    for event in calendar.events(now - timedelta(days=120), now + timedelta(days=400)):
        master_id = event.series_id or (event.id if event.recurrence else None)
        if master_id is None or master_id in masters:
            continue
        try:
            masters[master_id] = calendar.get_event(master_id)
        except NotFound:
            continue
    tz = zone(PAIR.tz)
    result = []
    for master in masters.values():
        upcoming = calendar.instances(master.id, now, now + timedelta(days=400))[:4]
        result.append(
            _Series(
                subject=master.subject,
                description=master.recurrence.describe(locale) if master.recurrence else "",
                upcoming=[
                    format_datetime(e.start.astimezone(tz), "EEE d MMM y, HH:mm", locale=locale)
                    for e in upcoming
                ],
            )
        )
    return result


# -- the demo clock --------------------------------------------------------------------------------


_CLOCK_ACTIONS = ("end", "week", "quarter", "today")


@bp.post("/demo/clock")
def move_clock() -> Response:
    """Move the demo clock: ``end`` (10 minutes after the chosen event), ``week``, ``quarter``
    (three months on) or ``today`` (back to real time).

    Takes a form (with the page's ``csrf`` field; answers with a redirect back to the page, or to
    the cards view with ``back=cards``) or
    JSON (``{"action", "event", "as"}`` with the token in ``X-CSRF-Token``; answers
    ``{"now": ...}``).
    """
    if request.is_json:
        try:
            data = read_object(request.get_data(cache=False))
        except BadBody as exc:
            if exc.code == "bad_request":
                abort(400, description=t("Send a JSON object."))
            abort(400, description=error_message(exc.code, _locale(), limit=MAX_DEPTH))
        _check_csrf(request.headers.get("X-CSRF-Token") or data.get("csrf"))
        fields: Mapping[str, Any] = data
    else:
        _check_csrf(request.form.get("csrf"))
        fields = request.form
    clock = _clock()
    if not hasattr(clock, "advance"):
        abort(503, description=t("The demo clock is off: start the app with the demo command."))
    action = str(fields.get("action") or "")
    if action not in _CLOCK_ACTIONS:
        abort(400, description=t("Choose how to move the clock: end, week, quarter or today."))
    viewer = _viewer(fields.get("as"))
    event = _find_event(str(fields.get("event") or ""), viewer)
    try:
        if action == "end":
            if event is None:
                abort(400, description=t("Open a conversation first, then move to its end."))
            clock.set(event.end.astimezone(UTC) + AFTER_THE_END)
        elif action == "week":
            clock.advance(timedelta(weeks=1))
        elif action == "quarter":
            local = clock().astimezone(zone(PAIR.tz))
            clock.advance((local + relativedelta(months=3)) - local)
        else:
            clock.reset()
    except ValueError:
        abort(400, description=t("The demo clock moves at most three years from today."))
    _sweep_after_the_clock_moved()
    if request.is_json:
        return jsonify(now=clock().isoformat())
    if fields.get("back") == "cards":
        # Time moved: the add-on's panel opens afresh, as Google reopens it.
        args = {"as": viewer.id, "lang": _locale(), "event": event.id if event else None}
        return redirect(_url("demo.cards_view", {**args, "reset": 1}), code=303)
    state = {
        "as": viewer.id,
        "mode": _mode(fields.get("mode")),
        "lang": _locale(),
        "week": 0,
        "event": event.id if event is not None else None,
    }
    return redirect(_url("demo.home", state), code=303)


def t(msgid: str, **params: Any) -> str:
    return gettext(_locale(), DOMAIN, msgid, **params)


def _sweep_after_the_clock_moved() -> None:
    """Time moved: what became due goes out now, as the worker would send it by the next sweep
    (a sweep already under way leaves it to the queue's next one)."""
    background = current_app.extensions.get("goedgesprek.background")
    if background is None:
        return
    if background.run_sweep() is None:
        background.sweep_soon()


# -- the outbox ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Shown:
    """One mail as the outbox shows it."""

    id: str
    subject: str
    sender: str
    to: str
    at: str
    html: str
    text: str


MAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
"""A mail's HTML runs nothing and loads nothing; its inline styles apply, as in a mail client."""


@bp.get("/demo/outbox/<mail_id>")
def outbox_mail(mail_id: str) -> Response:
    """One mail's HTML part, for the outbox page's sandboxed frame."""
    if not re.fullmatch(r"[0-9a-f]{32}", mail_id):
        abort(400, description=t("This is not the address of a mail in the outbox."))
    store = current_app.extensions.get("goedgesprek.store")
    sent = store.outbox() if store is not None and hasattr(store, "outbox") else []
    found = next((m for m in sent if m.id == mail_id), None)
    if found is None or not found.mail.html:
        abort(404)
    # A mail client opens a mail's links in a new tab; so does this one.
    html = found.mail.html.replace("<head>", '<head>\n<base target="_blank">', 1)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/demo/outbox")
def outbox() -> str:
    """The mails the demo's people received (each from their own mailbox), newest first, as a
    mail client shows them: the HTML in a sandboxed frame, the text part beside it."""
    viewer = _viewer(request.args.get("as"))
    locale = _locale()
    store = current_app.extensions.get("goedgesprek.store")
    sent = store.outbox() if store is not None and hasattr(store, "outbox") else []
    mine = [m for m in sent if viewer.email.lower() in (a.lower() for a in m.mail.to)]
    mine.sort(key=lambda m: m.sent_at, reverse=True)
    tz = zone(viewer.tz)
    shown = [
        _Shown(
            id=m.id,
            subject=m.mail.subject,
            sender=m.mail.sender,
            to=", ".join(m.mail.to),
            at=format_datetime(m.sent_at.astimezone(tz), "d MMM y, HH:mm", locale=locale),
            html=m.mail.html,
            text=m.mail.text,
        )
        for m in mine
    ]
    return render_template(
        "outbox.html",
        locale=locale,
        viewer=viewer,
        pair=PAIR,
        mails=shown,
        available=store is not None and hasattr(store, "outbox"),
        home=_url("demo.home", {"as": viewer.id, "lang": locale}),
        here=lambda **changes: _url("demo.outbox", {"as": viewer.id, "lang": locale, **changes}),
    )


# -- the Google cards preview ----------------------------------------------------------------------

ENDPOINTS = {
    "homepage": "/workspace/homepage",
    "open": "/workspace/calendar/event-open",
    "update": "/workspace/calendar/event-update",
}
MAX_SESSIONS = 200


@dataclass
class _CardsState:
    """One browser's add-on panel: who, which event, the card stack and what to show once."""

    viewer: str
    event: str
    lang: str
    stack: list[Any] = field(default_factory=list)
    flash: dict[str, Any] = field(default_factory=dict)
    values: dict[str, list[str]] | None = None  # what the top card last posted, kept in place


class _CardSessions:
    """Card stacks by session id, in memory, the least recently used dropped past a bound."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._items: OrderedDict[str, _CardsState] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, key: str) -> _CardsState | None:
        with self._lock:
            state = self._items.get(key)
            if state is not None:
                self._items.move_to_end(key)
            return state

    def put(self, key: str, state: _CardsState) -> None:
        with self._lock:
            self._items[key] = state
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)


def _sessions() -> _CardSessions:
    sessions: _CardSessions = current_app.extensions["goedgesprek.demo.cards"]
    return sessions


def _session_key() -> str:
    key = session.get("cards")
    if not key:
        key = secrets.token_urlsafe(16)
        session["cards"] = key
    return str(key)


@bp.get("/demo/cards")
def cards_view() -> str:
    """The add-on's side panel as Google Calendar shows it: the card on top of the stack."""
    locale = _locale()
    viewer = _viewer(request.args.get("as"))
    event = _find_event(request.args.get("event", ""), viewer)
    key = _session_key()
    state = _sessions().get(key)
    wanted = (viewer.id, event.id if event else "", locale)
    if (
        state is None
        or (state.viewer, state.event, state.lang) != wanted
        or "reset" in request.args
    ):
        state = _CardsState(viewer=viewer.id, event=wanted[1], lang=locale)  # a fresh panel
        _run(state, "open" if event else "homepage", url=None, parameters={}, inputs={})
        _sessions().put(key, state)
    flash, state.flash = state.flash, {}
    top = state.stack[-1] if state.stack else None
    card_html = (
        render_card(
            top,
            action_url=url_for("demo.cards_action"),
            hidden={"csrf": _csrf_token(), "lang": locale},
            words=_preview_words(),
            tz=ZoneInfo(PAIR.tz),
            values=state.values,
        )
        if isinstance(top, Mapping)
        else None
    )
    tz = zone(PAIR.tz)
    return render_template(
        "cards.html",
        locale=locale,
        now_label=format_datetime(_now().astimezone(tz), "EEEE d MMMM y, HH:mm", locale=locale),
        clock_moved=_clock_moved(),
        clock_available=hasattr(_clock(), "advance"),
        pair=PAIR,
        viewer=viewer,
        event=event,
        event_when=_when(event, locale) if event else "",
        attendees=_attendee_names(event) if event else [],
        card_html=card_html,
        card_json=json.dumps(top, indent=2, ensure_ascii=False) if top is not None else "",
        depth=len(state.stack),
        flash=flash,
        csrf=_csrf_token(),
        state={"as": viewer.id, "lang": locale, **({"event": event.id} if event else {})},
        host_href=_url(
            "demo.home", {"as": viewer.id, "lang": locale, "event": event.id if event else None}
        ),
    )


def _attendee_names(event: Event) -> list[str]:
    names = {p.email: p.name for p in PAIR.partners}
    emails = [event.organizer, *(a.email for a in event.attendees if a.email != event.organizer)]
    return [names.get(e, e) for e in emails]


def _preview_words() -> PreviewWords:
    return PreviewWords(
        show_more=t("Show more"),
        apply=t("Apply"),
        card_menu=t("Card menu"),
        image=t("Image"),
        unsupported=t("Not shown in this preview"),
    )


@bp.post("/demo/cards/action")
def cards_action() -> Response:
    """A button on a card: call the add-on's endpoint as Google would, apply its answer."""
    _check_csrf(request.form.get("csrf"))
    state = _sessions().get(_session_key())
    if state is None:
        return redirect(url_for("demo.cards_view", lang=_locale()), code=303)
    fields = [
        (k, v) for k, v in request.form.items(multi=True) if k not in ("csrf", "lang", "_action")
    ]
    inputs = form_inputs(fields, ZoneInfo(PAIR.tz))
    top = state.stack[-1] if state.stack else None
    trigger = request.form.get("_trigger")
    if trigger == "update" and state.event:
        _run(state, "update", url=None, parameters={}, inputs=inputs)
    else:
        action = clicked_action(request.form.get("_action"))
        if action is None:
            abort(400, description=t("This button runs nothing: reload the page and try again."))
        _run(state, "action", url=action.function, parameters=action.parameters, inputs=inputs)
    # The card still on top keeps what the user typed, as in Google's panel.
    kept = top is not None and bool(state.stack) and state.stack[-1] is top
    posted: dict[str, list[str]] = {}
    for key, value in fields:
        posted.setdefault(key, []).append(value)
    state.values = posted if kept else None
    return redirect(_cards_href(state), code=303)


@bp.post("/demo/cards/back")
def cards_back() -> Response:
    """The panel's back arrow: Google pops the top card without asking the add-on."""
    _check_csrf(request.form.get("csrf"))
    state = _sessions().get(_session_key())
    if state is None:
        return redirect(url_for("demo.cards_view", lang=_locale()), code=303)
    if len(state.stack) > 1:
        state.stack.pop()
        state.values = None
    return redirect(_cards_href(state), code=303)


def _cards_href(state: _CardsState) -> str:
    args = {"as": state.viewer, "lang": state.lang, "event": state.event or None}
    return _url("demo.cards_view", args)


def _run(
    state: _CardsState,
    kind: str,
    *,
    url: str | None,
    parameters: Mapping[str, str],
    inputs: Mapping[str, Any],
) -> None:
    """Send one request to the add-on, as Google would, and apply the answer to `state`."""
    base = request.host_url.rstrip("/")
    target = url if url is not None else base + ENDPOINTS[kind]
    parts = urlsplit(target)
    if f"{parts.scheme}://{parts.netloc}" != base or not parts.path.startswith("/workspace/"):
        # Google would call any URL; the demo calls only this app's own add-on endpoints.
        state.flash = {
            "error": t("The card asks for an endpoint outside this app: %(url)s", url=target)
        }
        return
    body = _event_object(state, target, parameters, inputs)
    response = current_app.test_client(use_cookies=False).post(
        parts.path + (f"?{parts.query}" if parts.query else ""),
        base_url=base,
        json=body,
        headers={"Authorization": f"Bearer {body['authorizationEventObject']['systemIdToken']}"},
    )
    if response.status_code == 404 and not _has_endpoints():
        state.flash = {"error": t("The Google card endpoints are not part of this app yet.")}
        return
    answer = response.get_json(silent=True)
    if response.status_code != 200 or not isinstance(answer, dict):
        message = answer.get("message") if isinstance(answer, dict) else None
        state.flash = {
            "error": t(
                "The add-on answered %(status)s: %(message)s",
                status=response.status_code,
                message=message or response.get_data(as_text=True)[:300],
            )
        }
        return
    _apply(state, answer)


def _event_object(
    state: _CardsState, target: str, parameters: Mapping[str, str], inputs: Mapping[str, Any]
) -> dict[str, Any]:
    """Google's event object for `target`, with both ID tokens signed by the app's local key."""
    viewer = PEOPLE[state.viewer]
    event = _find_event(state.event, viewer)
    signer = current_app.extensions["goedgesprek.signer"]
    real_now = datetime.now(UTC)  # tokens are checked against real time, not the demo's
    config = current_app.config
    audience = str(config.get("WORKSPACE_AUDIENCE") or target)
    # Google's user ID token is for the add-on's OAuth client; without one, like the system token.
    user_audience = str(config.get("WORKSPACE_CLIENT_ID") or audience)
    service_account = str(config.get("WORKSPACE_SERVICE_ACCOUNT") or LOCAL_SERVICE_ACCOUNT)
    return event_object(
        locale=state.lang,
        tz_name=viewer.tz,
        now=_now(),
        system_id_token=signer.sign(audience=audience, now=real_now, email=service_account),
        user_id_token=signer.sign(
            audience=user_audience, now=real_now, email=viewer.email, extra={"name": viewer.name}
        ),
        calendar=calendar_object(event, viewer.email) if event is not None else None,
        parameters=parameters,
        inputs=inputs,
    )


def _apply(state: _CardsState, answer: Mapping[str, Any]) -> None:
    """The answer's navigations on the stack; what to show beside the card once."""
    problems: list[str] = []
    try:
        validate_response(answer)
    except CardError as exc:
        problems.append(str(exc))
    outcome = apply_response(state.stack, answer)
    state.stack = outcome.stack
    state.flash = {
        "notification": outcome.notification,
        "link": outcome.link,
        "host_actions": [(a.kind, ", ".join(a.items)) for a in outcome.host_actions],
        "problems": problems + list(outcome.problems),
    }


def _has_endpoints() -> bool:
    adapter = current_app.url_map.bind("localhost")
    return any(adapter.test(path, method="POST") for path in ENDPOINTS.values())


def init_app(app: Flask) -> None:
    """Register the host preview, the demo clock and the cards preview."""
    app.extensions["goedgesprek.demo.cards"] = _CardSessions()
    app.register_blueprint(bp)
