"""The record of one conversation for a guest the employee brought and let read it.

The employee sends the link from the side panel (`guest.send_record`); it names the series, the
conversation and the guest, and opens for `GUEST_DAYS` days. Like the record form's link, it is
traded at once for a cookie scoped to that conversation's path, so the token leaves the address
bar and the history. Every opening checks the journal again: a guest the employee took off, or
no longer lets read the record, reads nothing.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from flask import Blueprint, Flask, current_app, redirect, request
from werkzeug.wrappers import Response

from addin.conversations.errors import Missing
from addin.conversations.journals import GUEST_DAYS, Journals
from addin.i18n import gettext, request_locale
from addin.record_page import private
from addin.signed import MAX_TOKEN, LinkRefused

bp = Blueprint("guest_record", __name__)

_COOKIE = "gg_guest"


def _(msgid: str) -> str:
    return msgid


def _journals() -> Journals:
    journals: Journals | None = current_app.extensions["goedgesprek.service"].journals
    if journals is None:
        raise Missing(_("This record is no longer shared with you."))
    return journals


@bp.get("/g/<token>")
def trade(token: str) -> Response:
    """Check the link, keep it in a cookie for that conversation alone, and go there."""
    if len(token) > MAX_TOKEN:
        return _refused(_("This link is not valid."), 403)
    services = current_app.extensions["goedgesprek.services"]
    try:
        journals = _journals()
        opened = journals.guest_record(token, today=services.clock().date())
    except LinkRefused as exc:
        if exc.expired:
            return _refused(_("This link has expired: ask for the record again."), 410)
        return _refused(_("This link is not valid."), 403)
    except Missing as exc:
        return _refused(exc.msgid, 410)
    path = f"/guest/{quote(opened.series, safe='')}/{quote(opened.occ, safe='')}"
    response = redirect(path, code=303)
    response.set_cookie(
        _COOKIE,
        token,
        max_age=GUEST_DAYS * 86400,
        path=path,
        httponly=True,
        secure=request.is_secure,
        samesite="Lax",
    )
    private(response)
    return response


@bp.get("/guest/<series>/<occ>")
def record(series: str, occ: str) -> Response:
    """The record, read-only, while the employee lets this guest read it."""
    token = request.cookies.get(_COOKIE, "")
    if not token:
        return _refused(_("Open the link from the mail again."), 403)
    services = current_app.extensions["goedgesprek.services"]
    try:
        opened = _journals().guest_record(token, today=services.clock().date())
    except LinkRefused:
        return _refused(_("This link is not valid."), 403)
    except Missing as exc:
        return _refused(exc.msgid, 410)
    if (opened.series, opened.occ) != (series, occ):
        return _refused(_("This link is not valid."), 403)
    response = Response(opened.page, mimetype="text/html")
    response.headers["Content-Language"] = opened.locale
    # The record shows what the pair wrote as text; nothing in it runs or loads.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    private(response)
    return response


def _refused(msgid: str, status: int) -> Response:
    locale = request_locale()
    sentence = gettext(locale, "api", msgid)
    page = (
        f'<!doctype html><html lang="{html.escape(locale)}"><meta charset="utf-8">'
        f"<title>Goed Gesprek</title><p>{html.escape(sentence)}</p></html>"
    )
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    private(response)
    return response


def init_app(app: Flask) -> None:
    """Serve guests' record links."""
    app.register_blueprint(bp)
