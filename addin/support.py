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


def _render(template: str) -> Response:
    locale = request_locale()
    html = render_template(
        template,
        locale=locale,
        endpoint=request.endpoint,
        support_email=_support_email(),
        google_scopes=GOOGLE_SCOPES,
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


def init_app(app: Flask) -> None:
    """Serve `/support` and `/privacy`."""
    app.register_blueprint(bp)
