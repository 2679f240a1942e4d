"""The demo's stand-in for Outlook: the pane with a stub Office host, backed by the local store.

Part of the demo app only. The stub Office script (`static/office-stub.js`, served from the
demo's own static folder) reads the opened appointment from `GET /demo/item`, gets the user's
token from `GET /demo/token`, and saves compose-mode changes with `POST /demo/item`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request, url_for
from werkzeug.wrappers import Response

from addin.errors import error_message
from addin.i18n import gettext, request_locale
from addin.jsonbody import MAX_DEPTH, BadBody, read_object
from connectors.errors import Conflict, InvalidRequest, NotFound
from connectors.models import Attendee, Event, EventPatch, NewEvent

bp = Blueprint("pane_demo", __name__, url_prefix="/demo")

MAX_ATTACHMENTS = 10


def t(msgid: str, **params: Any) -> str:
    """`msgid` in the demo catalog, in the browser's language (as Office speaks the user's)."""
    return gettext(request_locale(), "demo", msgid, **params)


def _store() -> Any:
    return current_app.extensions["goedgesprek.store"]


def _person(who: str | None) -> tuple[str, str]:
    """The (email, name) of a known person, by email or by the part before the @."""
    wanted = (who or "").strip().lower()
    if not wanted:
        abort(400, description=t("Say who you are: add ?as=ada or ?as=grace."))
    for person in _store().people():
        email = str(person.email).lower()
        if wanted in (email, email.split("@")[0]):
            return str(person.email), str(person.name)
    abort(404, description=f"No one called {wanted!r} works here in the demo.")


def _names() -> dict[str, str]:
    return {str(p.email).lower(): str(p.name) for p in _store().people()}


def _address(email: str, names: dict[str, str], name: str = "") -> dict[str, str]:
    fallback = email.split("@", maxsplit=1)[0]
    return {"email": email, "name": name or names.get(email.lower(), fallback)}


def item_json(event: Event) -> dict[str, Any]:
    """The appointment as the stub Office host shows it (neutral names; the stub maps them)."""
    names = _names()
    return {
        "id": event.id,
        "subject": event.subject,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "tz": event.tz,
        "organizer": _address(event.organizer, names),
        "attendees": [
            _address(a.email, names, a.name) | {"response": a.response} for a in event.attendees
        ],
        "location": event.location,
        "online": event.online,
        "body_html": event.body_html,
        "etag": event.etag,
        "series_id": event.series_id,
        "is_series_master": event.is_series_master,
        "attachments": [
            {"id": a.id, "name": a.name, "content_type": a.content_type, "size": a.size}
            for a in event.attachments
        ],
    }


def _event_or_404(email: str, event_id: str) -> Event:
    try:
        event: Event = _store().calendar(email).get_event(event_id)
    except NotFound:
        abort(404, description="This event is not in your calendar (any more).")
    return event


@bp.get("/pane")
def pane() -> str:
    """The real task pane page, with the stub Office host instead of Office.js."""
    from addin.pane import render_pane

    return render_pane(url_for("demo.static", filename="office-stub.js"), demo=True)


@bp.get("/token")
def token() -> Response:
    """A pane token for a demo person (what Office SSO gives the pane in Outlook)."""
    email, name = _person(request.args.get("as"))
    identity = current_app.extensions["goedgesprek.identity"]
    return jsonify(token=identity.issue(email, name))


@bp.get("/item")
def get_item() -> Response:
    """The opened appointment from the person's local calendar."""
    email, _ = _person(request.args.get("as"))
    event_id = request.args.get("event", "")
    if not event_id:
        abort(400, description=t("Say which event: add ?event=<id>."))
    event = _event_or_404(email, event_id)
    response = jsonify(item_json(event))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/item")
def save_item() -> Response:
    """Save the compose form: a new appointment, or the body and attachments of an existing one."""
    data = _json_body()
    email, _ = _person(data.get("as"))
    calendar = _store().calendar(email)
    event_id = data.get("event")
    try:
        if not event_id:
            event = calendar.create_event(_new_event(email, data), idempotency_key=_key(data))
        else:
            event = _event_or_404(email, str(event_id))
            if "body_html" in data:
                body = data["body_html"]
                if not isinstance(body, str):
                    abort(400, description=t("body_html must be text."))
                if_match = request.headers.get("If-Match") or None
                patch = EventPatch(body_html=body)
                event = calendar.update_event(event.id, patch, if_match=if_match)
        for name, content_type, content in _attachments(data):
            calendar.add_attachment(event.id, name, content, content_type)
    except Conflict:
        current = item_json(_event_or_404(email, str(event_id)))
        message = t("The event changed meanwhile.")
        body = {"error": "conflict", "message": message, "current": current}
        return Response(_dumps(body), status=409, mimetype="application/json")
    except InvalidRequest as exc:
        abort(400, description=str(exc))
    return jsonify(item_json(calendar.get_event(event.id)))


def _dumps(data: dict[str, Any]) -> str:
    return current_app.json.dumps(data)


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        abort(415, description=t("Send JSON (Content-Type: application/json)."))
    try:
        return dict(read_object(request.get_data(cache=False)))
    except BadBody as exc:
        abort(400, description=error_message(exc.code, request_locale(), limit=MAX_DEPTH))


def _key(data: dict[str, Any]) -> str:
    key = str(data.get("key") or "")
    if not key.isalnum() or len(key) > 64:
        abort(400, description=t("A new appointment needs a key (letters and digits, at most 64)."))
    return f"demo-item:{key}"


def _new_event(email: str, data: dict[str, Any]) -> NewEvent:
    """A new appointment from the stub's compose form."""
    new = data.get("new")
    if not isinstance(new, dict):
        abort(400, description=t("Send the new appointment under 'new'."))
    try:
        start = datetime.fromisoformat(str(new["start"]))
        end = datetime.fromisoformat(str(new["end"]))
    except (KeyError, ValueError):
        abort(400, description=t("A new appointment needs a start and an end (ISO 8601)."))
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        abort(400, description=t("Start and end need a UTC offset; the end must follow the start."))
    names = _names()
    attendees = tuple(
        Attendee(str(a), names.get(str(a).lower(), ""))
        for a in new.get("attendees") or []
        if isinstance(a, str) and "@" in a
    )
    tz = str(new.get("tz") or "Europe/Amsterdam")
    return NewEvent(
        subject=str(new.get("subject") or ""),
        start=start,
        end=end,
        tz=tz,
        organizer=email,
        attendees=attendees,
        body_html=str(new.get("body_html") or ""),
        location=str(new.get("location") or ""),
    )


def _attachments(data: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    raw = data.get("attachments") or []
    if not isinstance(raw, list) or len(raw) > MAX_ATTACHMENTS:
        abort(400, description=t("Send at most %(n)s attachments as a list.", n=MAX_ATTACHMENTS))
    result = []
    for entry in raw:
        try:
            name = str(entry["name"])
            content_type = str(entry.get("content_type") or "application/octet-stream")
            content = base64.b64decode(str(entry["base64"]), validate=True)
        except (KeyError, TypeError, AttributeError, binascii.Error):
            abort(400, description=t("Each attachment needs a name and base64 content."))
        result.append((name, content_type, content))
    return result


def init_app(app: Flask) -> None:
    """Register the demo host routes."""
    app.register_blueprint(bp)
