"""The support and privacy pages the manifests point at (`/support`, `/privacy`), nl and en.

The words live in the `site` gettext catalog (`addin/translations/<nl|en>/LC_MESSAGES/site.po`):
the templates call `_()` with the English text and name the domain at their top. The language is
`?lang=`, else the browser's Accept-Language, else the deployment's default.
"""

from __future__ import annotations

import re

from flask import Blueprint, Flask, current_app, render_template, request
from werkzeug.wrappers import Response

from addin.i18n import request_locale
from manifest.build import GOOGLE_SCOPES

bp = Blueprint("support", __name__)

_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")


def _support_email() -> str | None:
    """The support address from `GOEDGESPREK_SUPPORT_EMAIL`, if it looks like one."""
    value = str(current_app.config.get("SUPPORT_EMAIL") or "").strip()
    return value if _EMAIL.fullmatch(value) else None


def _retention() -> int:
    from addin.retention import DEFAULT_MONTHS, retention_months

    try:
        return retention_months(current_app.config)
    except ValueError:
        return DEFAULT_MONTHS  # the worker refuses to start on it; the page states the default


def _render(template: str) -> Response:
    locale = request_locale()
    html = render_template(
        template,
        locale=locale,
        endpoint=request.endpoint,
        support_email=_support_email(),
        google_scopes=GOOGLE_SCOPES,
        retention_months=_retention(),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = locale
    response.vary.add("Accept-Language")
    return response


@bp.get("/support")
def support() -> Response:
    """How to open and use the side panel in Outlook and Google Calendar, and whom to ask."""
    return _render("support.html")


@bp.get("/privacy")
def privacy() -> Response:
    """What is stored where, who sees what, and which permissions are asked for and why."""
    return _render("privacy.html")


@bp.get("/open/<series_id>")
@bp.get("/open/<series_id>/<key>")
def open_conversation(series_id: str, key: str = "") -> Response:
    """Where a reminder's button leads: the day of the conversation in the person's calendar,
    from which the side panel opens on it. It names no one: the panel shows the conversation
    to its partners only, signed in."""
    from babel.dates import format_datetime

    from addin.conversations.document import parse_occ_key
    from addin.conversations.errors import Invalid
    from cadence.zones import zone

    locale = request_locale()
    when = ""
    day = None
    if key:
        try:
            instant = parse_occ_key(key)
        except Invalid:
            return Response("not found", status=404, mimetype="text/plain")
        service = current_app.extensions["goedgesprek.service"]
        entry = service.registry.get(series_id[:64])
        local = instant.astimezone(zone(entry.rule.tz)) if entry is not None else instant
        day = local.date()
        when = format_datetime(local, "d MMMM y, HH:mm", locale=locale)
    today = day or current_app.extensions["goedgesprek.clock"]().date()
    path = f"{today.year}/{today.month}/{today.day}"
    html = render_template(
        "open.html",
        locale=locale,
        endpoint=request.endpoint,
        when=when,
        outlook=f"https://outlook.office.com/calendar/view/day/{path}",
        google=f"https://calendar.google.com/calendar/r/day/{path}",
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = locale
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    """Serve `/support` and `/privacy`."""
    app.register_blueprint(bp)
