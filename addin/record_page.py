"""The record form as a plain web page, for the person a reminder mail's signed link names.

``GET /r/<token>`` reads the link (`addin.record_link`), keeps it in a cookie scoped to that
occurrence's path and sends the browser on to ``/record/<series>/<occ>``, so the token leaves the
address bar. That page shows the record form of the occurrence as the side panel does (a summary
per agenda item, the agreements and their acceptance, the actions), drawn on the server with no
script, and each of its forms posts one change through the same service as the panel's API:
the same rules, the same etag check, the same change id against a double submit. What the person
typed stays in the form when a change is refused or their partner saved first.

The words live in the ``site`` catalog; the language is the link's, unless ``?lang=`` says
otherwise.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from addin import record_link
from addin.conversations import Caller, Conversations, ServiceError, turn_message
from addin.i18n import gettext, normalise_locale
from addin.signed import LinkRefused
from cadence.errors import CadenceError
from connectors.errors import ConnectorError

bp = Blueprint("record_page", __name__)

COOKIE = "gg_record"
MAX_FORM = 64 * 1024
"""The largest form the page reads (a whole record is a few KB)."""

_REFUSED = (ServiceError, CadenceError, ConnectorError)


def _(msgid: str) -> str:
    """Marks a text for the ``site`` catalog."""
    return msgid


DONE = {
    "summaries": _("The summaries are saved."),
    "agreement": _("The agreement is added."),
    "edited": _("The agreement is saved."),
    "removed": _("The agreement is removed."),
    "proposed": _("The agreement is proposed for acceptance."),
    "proposed_all": _("The drafts are proposed for acceptance."),
    "accepted": _("You accepted the agreement."),
    "accepted_all": _("You accepted all proposed agreements."),
    "declined": _("You declined the agreement. Talk about it again together."),
    "action": _("The action is added."),
    "status": _("The action's status is saved."),
    "nothing": _("Nothing changed."),
}


def _key() -> bytes:
    key = current_app.secret_key
    if not key:
        raise RuntimeError("the app has no SECRET_KEY to sign record links with")
    return key if isinstance(key, bytes) else str(key).encode()


def _service() -> Conversations:
    service: Conversations = current_app.extensions["goedgesprek.service"]
    return service


def _locale(fallback: str) -> str:
    return normalise_locale(request.args.get("lang")) or normalise_locale(fallback) or "nl"


@bp.get("/r/<token>")
def follow(token: str) -> Response:
    """A mail's link: kept in a cookie for its form's path, then on to the form."""
    try:
        grant = record_link.read(_key(), token, now=time.time())
    except LinkRefused as exc:
        return _refused(exc.locale or _locale(""), expired=exc.expired, status=403)
    path = url_for("record_page.form", series_id=grant.series, occ=grant.occ)
    response = redirect(f"{path}?lang={quote(grant.locale, safe='')}", code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(1, grant.expires - int(time.time())),
        path=path,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    private(response)
    return response


@bp.get("/record/<series_id>/<occ>")
def form(series_id: str, occ: str) -> Response:
    """The record form of one occurrence, for the person the cookie's link names."""
    visitor = _visitor(series_id, occ)
    if isinstance(visitor, Response):
        return visitor
    token, caller = visitor
    locale = caller.locale
    done = DONE.get(request.args.get("done", ""))
    return _page(
        caller, token, series_id, occ, notice=gettext(locale, "site", done) if done else ""
    )


@bp.post("/record/<series_id>/<occ>")
def change(series_id: str, occ: str) -> Response:
    """One change from the form: applied as the panel's API applies it, then back to the form."""
    visitor = _visitor(series_id, occ)
    if isinstance(visitor, Response):
        return visitor
    token, caller = visitor
    locale = caller.locale
    if request.content_length is not None and request.content_length > MAX_FORM:
        return _refused(locale, status=413, msgid=_("The form is too large to save."))
    data = request.form
    if not record_link.form_token_ok(_key(), token, data.get("csrf", "")):
        # Not sent by our page: another site's form, or a page from before the link changed.
        return _refused(locale, status=403, msgid=_("This form is out of date: open it again."))
    try:
        ops, done = _ops(data)
    except _Unclear as exc:
        return _page(
            caller,
            token,
            series_id,
            occ,
            error=gettext(locale, "site", exc.msgid),
            kept=data,
            status=400,
        )
    if not ops:
        return _back(series_id, occ, locale, "nothing")
    body = {"ops": ops, "change_id": data.get("change", "")}
    try:
        _service().apply(caller, series_id, occ, body, data.get("etag", ""))
    except _REFUSED as exc:
        from addin.workspace.endpoints import _refusal_status, refusal_message

        status = _refusal_status(exc)
        return _page(
            caller,
            token,
            series_id,
            occ,
            error=refusal_message(locale, exc, caller=caller.email),
            kept=data,
            status=status,
        )
    return _back(series_id, occ, locale, done)


class _Unclear(Exception):
    def __init__(self, msgid: str) -> None:
        super().__init__(msgid)
        self.msgid = msgid


def _ops(data: Mapping[str, str]) -> tuple[list[dict[str, Any]], str]:
    """The ops one submit asks for (by its button, ``do``), and the news to show after it."""
    do = data.get("do", "")
    step, _sep, target = do.partition(":")
    if step == "summaries":
        ops: list[dict[str, Any]] = []
        for item in _listed(data.get("items", "")):
            text = data.get(f"summary-{item}", "")
            finished = data.get(f"finished-{item}") == "on"
            if text != data.get(f"had-{item}", "") or finished != (
                data.get(f"had-finished-{item}") == "on"
            ):
                ops.append(
                    {"op": "record.summarise", "item": item, "text": text, "finished": finished}
                )
        return ops, "summaries"
    if step == "add_agreement":
        text = data.get("agreement", "").strip()
        if not text:
            raise _Unclear(_("Write the agreement first."))
        op: dict[str, Any] = {"op": "record.add_agreement", "text": text}
        if data.get("about"):
            op["item"] = data["about"]
        return [op], "agreement"
    if step == "edit" and target:
        text = data.get(f"text-{target}", "").strip()
        if not text:
            raise _Unclear(_("Write the agreement first."))
        return [{"op": "record.edit_agreement", "agreement": target, "text": text}], "edited"
    if step in ("remove", "propose", "accept") and target:
        news = {"remove": "removed", "propose": "proposed", "accept": "accepted"}[step]
        op_name = "record.remove_agreement" if step == "remove" else f"record.{step}"
        return [{"op": op_name, "agreement": target}], news
    if step == "propose_all":
        return [{"op": "record.propose", "agreement": "*"}], "proposed_all"
    if step == "accept_all":
        return [{"op": "record.accept", "agreement": "*"}], "accepted_all"
    if step == "decline" and target:
        reason = data.get(f"reason-{target}", "").strip()
        return [{"op": "record.decline", "agreement": target, "reason": reason}], "declined"
    if step == "add_action":
        description = data.get("action", "").strip()
        if not description:
            raise _Unclear(_("Describe the action first."))
        op = {
            "op": "record.add_action",
            "description": description,
            "owner": data.get("owner", "employee"),
        }
        if data.get("due"):
            op["due"] = data["due"]
        return [op], "action"
    if step == "status" and target:
        return [
            {
                "op": "record.set_status",
                "action": target,
                "status": data.get(f"status-{target}", ""),
            }
        ], "status"
    raise _Unclear(_("This form is out of date: open it again."))


def _listed(value: str) -> list[str]:
    return [part for part in value.split(",") if part][:200]


def _visitor(series_id: str, occ: str) -> tuple[str, Caller] | Response:
    """The cookie's link and the person it names, or the page that refuses them."""
    grant = _grant(series_id, occ)
    if isinstance(grant, Response):
        return grant
    token, granted = grant
    locale = _locale(granted.locale)
    return token, Caller(email=granted.email, name=granted.email, locale=locale)


def _grant(series_id: str, occ: str) -> tuple[str, record_link.Grant] | Response:
    token = request.cookies.get(COOKIE, "")
    if not token:
        return _refused(_locale(""), status=403, missing=True, series_id=series_id, occ=occ)
    try:
        granted = record_link.verify(_key(), token, series=series_id, occ=occ, now=time.time())
    except LinkRefused as exc:
        return _refused(
            exc.locale or _locale(""), expired=exc.expired, status=403, series_id=series_id, occ=occ
        )
    return token, granted


def _page(
    caller: Caller,
    token: str,
    series_id: str,
    occ: str,
    *,
    notice: str = "",
    error: str = "",
    kept: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    locale = caller.locale
    try:
        context = _service().occurrence_context(caller, series_id, occ)
    except _REFUSED as exc:
        from addin.workspace.endpoints import _refusal_status, refusal_message

        return _refused(
            locale,
            status=_refusal_status(exc),
            message=refusal_message(locale, exc, caller=caller.email),
            series_id=series_id,
            occ=occ,
        )
    html = render_template(
        "record.html",
        locale=locale,
        endpoint="record_page.form",
        ctx=context,
        view=_view(context, locale),
        turn=turn_message(context, locale),
        notice=notice,
        error=error,
        kept=kept if kept is not None else MultiDict(),
        csrf=record_link.form_token(_key(), token),
        change=secrets.token_urlsafe(12),
        open_url=url_for("support.open_conversation", series_id=series_id, key=occ, lang=locale),
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Language"] = locale
    private(response)
    return response


def _view(context: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """What the template draws, worked out once: names, ordered items, what may be done."""
    from datetime import date, datetime

    from babel.dates import format_date, format_datetime

    series = context.get("series") or {}
    names = {
        "employee": (series.get("employee") or {}).get("name") or "",
        "manager": (series.get("manager") or {}).get("name") or "",
    }
    agenda = context.get("agenda") or {}
    order = {theme["key"]: i for i, theme in enumerate(agenda.get("themes") or [])}
    items = sorted(agenda.get("items") or [], key=lambda it: order.get(it.get("theme"), 99))
    record = context.get("record") or {"summaries": [], "agreements": [], "actions": []}
    summaries = {s["item_id"]: s for s in record.get("summaries") or []}
    can = set((context.get("can") or {}).get("record") or [])
    occurrence = context.get("occurrence") or {}
    start = occurrence.get("start")
    when = (
        format_datetime(datetime.fromisoformat(start), "d MMMM y, HH:mm", locale=locale)
        if start
        else ""
    )
    steps = {"open": "reopen", "done": "mark_done", "dropped": "drop"}
    actions = record.get("actions") or []
    return {
        "waiting": {
            a["id"]: ", ".join(names.get(r, r) for r in a.get("waiting_for") or [])
            for a in record.get("agreements") or []
        },
        "statuses": {
            a["id"]: [
                value
                for value, step in steps.items()
                if value == a.get("status") or step in (a.get("can") or [])
            ]
            for a in actions
        },
        "due": {
            a["id"]: format_date(date.fromisoformat(a["due"]), "long", locale=locale)
            for a in actions
            if a.get("due")
        },
        "names": names,
        "agenda_items": items,
        "summaries": summaries,
        "record": record,
        "can": can,
        "when": when,
        "ended": context.get("state") == "ended",
        "final": bool(record.get("final")),
    }


def _refused(
    locale: str,
    *,
    status: int,
    expired: bool = False,
    missing: bool = False,
    msgid: str = "",
    message: str = "",
    series_id: str = "",
    occ: str = "",
) -> Response:
    if not message:
        if not msgid:
            if expired:
                msgid = _(
                    "This link has expired. Open the conversation in your calendar and choose "
                    "Goed Gesprek, or use the link in a newer mail."
                )
            elif missing:
                msgid = _(
                    "Open this form with the link in your mail: it opens the form for you "
                    "alone, for three days."
                )
            else:
                msgid = _(
                    "This link is not valid. Open the conversation in your calendar and choose "
                    "Goed Gesprek."
                )
        message = gettext(locale, "site", msgid)
    open_url = (
        url_for("support.open_conversation", series_id=series_id, key=occ, lang=locale)
        if series_id and occ
        else url_for("support.support", lang=locale)
    )
    html = render_template(
        "record.html",
        locale=locale,
        endpoint="support.support",
        switch_args={},
        refused=message,
        open_url=open_url,
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Language"] = locale
    private(response)
    return response


def _back(series_id: str, occ: str, locale: str, done: str) -> Response:
    path = url_for("record_page.form", series_id=series_id, occ=occ, lang=locale, done=done)
    response = redirect(path, code=303)
    private(response)
    return response


def private(response: Response) -> None:
    """A page for one person: kept in no cache, and its address sent to no other site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"


def init_app(app: Flask) -> None:
    """Serve the record form behind the reminder mails' signed links."""
    app.register_blueprint(bp)
