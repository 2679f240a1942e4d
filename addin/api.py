"""The side panel's JSON API: one blueprint behind the Outlook pane.

Every call is authenticated with a bearer token (`addin.identity`); every answer but the export
is JSON, and every error is ``{"error": code, "message": sentence}`` in the caller's language.
The routes and their shapes are described in `addin.openapi` and served at
``/api/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from addin.conversations import Caller, Conversations, ServiceError, turn_message
from addin.conversations.journals import Journals
from addin.conversations.parsing import parse_start_hint
from addin.errors import MESSAGES, error_message
from addin.i18n import gettext, request_locale
from addin.identity import SignInRequired
from addin.jsonbody import MAX_DEPTH, BadBody, read_object
from addin.routing import NotServed
from addin.suggestion_text import suggestion_text
from addin.workspace.verify import Unauthorized
from cadence.errors import CadenceError
from connectors.errors import (
    AuthExpired,
    Conflict,
    ConnectorError,
    InvalidRequest,
    NotFound,
    Throttled,
    Unavailable,
)
from connectors.sealed import SealedError

MAX_BODY = 64 * 1024
"""The largest request body the API reads (a whole record is a few KB)."""

bp = Blueprint("api", __name__, url_prefix="/api")


def _(msgid: str) -> str:
    """Marks a message for extraction; translated later with the caller's locale."""
    return msgid


def _locale() -> str:
    return request_locale(request.args.get("lang"))


def t(msgid: str, **params: Any) -> str:
    return gettext(_locale(), "api", msgid, **params)


def _service() -> Conversations:
    service: Conversations = current_app.extensions["goedgesprek.service"]
    return service


def _journals() -> Journals:
    journals = _service().journals
    if journals is None:
        raise _Refusal(404, "not_found", _("This server keeps no journal."))
    return journals


def _with_suggestions(answer: dict[str, Any], locale: str) -> dict[str, Any]:
    """Each suggestion's title and reason, in the caller's language."""
    for suggestion in answer["suggestions"]:
        suggestion.update(suggestion_text(suggestion, locale))
    return answer


def _caller() -> Caller:
    identity = current_app.extensions["goedgesprek.identity"]
    user = identity.verify(request.headers.get("Authorization"))
    g.caller_email = user.email
    return Caller(email=user.email, name=user.name, locale=_locale())


def _body() -> Mapping[str, Any]:
    """The JSON object in the request; 413, 415 or 400 with a message otherwise."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise RequestEntityTooLarge()
    if request.mimetype != "application/json":
        raise _Refusal(415, "unsupported_media_type", _("Send the request as JSON."))
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        raise RequestEntityTooLarge()
    try:
        return read_object(raw)
    except BadBody as exc:
        # The decoder's own words are English and echo the input: the reader gets our sentence.
        if exc.code == "bad_request":
            raise _Refusal(400, "bad_request", _("Send a JSON object.")) from None
        raise _Refusal(400, "bad_request", MESSAGES[exc.code], limit=MAX_DEPTH) from None


class _Refusal(Exception):
    def __init__(self, status: int, code: str, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.status, self.code, self.msgid, self.params = status, code, msgid, params


def _with_messages(context: dict[str, Any]) -> dict[str, Any]:
    """Fill in the turn's sentence in the caller's language."""
    turn = context.get("turn")
    if isinstance(turn, dict) and "message_id" in turn:
        turn["message"] = turn_message(context, _locale())
    return context


def _context_response(context: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(_with_messages(context))
    response.status_code = status
    if context.get("etag"):
        response.headers["ETag"] = context["etag"]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/context")
def context() -> Response:
    """The opened event's context: series, occurrence, agenda, record, whose turn it is."""
    caller = _caller()
    args = request.args
    return _context_response(
        _service().context(
            caller,
            args.get("event", ""),
            series_hint=args.get("series", ""),
            start_hint=parse_start_hint(args.get("start")),
        )
    )


@bp.post("/series/preview")
def preview() -> Response:
    """The planner's proposal; nothing is created."""
    caller = _caller()
    return jsonify(_service().preview(caller, _body()))


@bp.post("/series")
def create_series() -> Response:
    """Plan the series; a repeat with the same request_id gives the same series."""
    caller = _caller()
    result = _service().create_series(caller, _body())
    _with_messages(result["context"])
    response = jsonify(result)
    response.status_code = 201
    return response


@bp.patch("/series/<series_id>")
def change_series(series_id: str) -> Response:
    """Change the event copy (either partner) or place/duration/online (the employee)."""
    caller = _caller()
    return jsonify(_service().change_series(caller, series_id, _body()))


@bp.post("/series/<series_id>/end")
def end_series(series_id: str) -> Response:
    """End the series: later conversations cancelled, records kept; idempotent."""
    caller = _caller()
    return jsonify(_service().end_series(caller, series_id))


@bp.get("/me/working-hours")
def working_hours() -> Response:
    """The caller's working days, hours and zone as the planner uses them."""
    caller = _caller()
    return jsonify(_service().working_hours(caller))


@bp.put("/me/working-hours")
def set_working_hours() -> Response:
    """Set the caller's own working days, hours and zone."""
    caller = _caller()
    return jsonify(_service().set_working_hours(caller, _body()))


@bp.get("/me/reminders")
def reminders() -> Response:
    """Which reminders the caller gets by mail, and their quiet days."""
    caller = _caller()
    return jsonify(_service().reminders(caller))


@bp.put("/me/reminders")
def set_reminders() -> Response:
    """Turn kinds of reminder off or on, and choose quiet days."""
    caller = _caller()
    return jsonify(_service().set_reminders(caller, _body()))


@bp.get("/me/hr")
def hr() -> Response:
    """Whether the caller may see the organisation's cadence report."""
    from addin.hr_page import is_hr

    caller = _caller()
    return jsonify(hr=is_hr(caller.email))


@bp.post("/hr/report-link")
def hr_report_link() -> Response:
    """A link to the cadence report, signed for the caller, who must be HR."""
    from addin.hr_page import LIFETIME, is_hr, link_for

    caller = _caller()
    if not is_hr(caller.email):
        raise _Refusal(
            403, "forbidden", _("Only the people the organisation names as HR see this report.")
        )
    return jsonify(url=link_for(caller.email, caller.locale), expires_in=LIFETIME)


@bp.post("/series/<series_id>/occurrences/<occ>")
def apply_ops(series_id: str, occ: str) -> Response:
    """Apply agenda and record changes, all or none, guarded by If-Match."""
    caller = _caller()
    body = _body()
    if_match = request.headers.get("If-Match")
    return _context_response(_service().apply(caller, series_id, occ, body, if_match))


@bp.post("/series/<series_id>/occurrences/<occ>/journal")
def apply_journal(series_id: str, occ: str) -> Response:
    """Change the pair's journal (goals, check-ins, feedback, reflection, time-outs, guests),
    all or none, guarded by the journal's etag in If-Match; the occurrence's new context."""
    caller = _caller()
    body = _body()
    if_match = request.headers.get("If-Match")
    return _context_response(_journals().apply(caller, series_id, occ, body, if_match))


@bp.get("/series/<series_id>/occurrences/<occ>/overview")
def overview(series_id: str, occ: str) -> Response:
    """The preparation's suggestions and overview for the conversation."""
    caller = _caller()
    answer = _journals().overview(caller, series_id, occ)
    response = jsonify(_with_suggestions(answer, caller.locale))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/series/<series_id>/occurrences/<occ>/export")
def export(series_id: str, occ: str) -> Response:
    """The record as an HTML or Markdown download."""
    caller = _caller()
    content, media_type, name = _service().export(
        caller, series_id, occ, request.args.get("format", "html")
    )
    response = Response(content, mimetype=media_type.split(";")[0])
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    # An exported record opened in the browser runs nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.get("/me/dossier")
def dossier() -> Response:
    """The caller's whole dossier (as employee) as one zip of HTML and Markdown."""
    from addin.dossier import dossier_zip

    content, name = dossier_zip(_service(), _caller())
    response = Response(content, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/series/<series_id>/erase")
def erase(series_id: str) -> Response:
    """The employee erases the pair's dossier; the answer is the signed receipt."""
    caller = _caller()
    body = _body()
    if body.get("confirm") is not True:
        raise _Refusal(
            400,
            "bad_request",
            _(
                "Erasing cannot be undone: send confirm: true to erase every conversation of "
                "this pair."
            ),
        )
    receipt = erasure().for_employee(caller.email, series_id)
    return jsonify(receipt=receipt.as_json())


def erasure() -> Any:
    """The app's `addin.erasure.Erasure` (receipts signed with the app's key)."""
    from addin.erasure import Erasure

    found = current_app.extensions.get("goedgesprek.erasure")
    if found is None:
        key = current_app.secret_key
        raw = key if isinstance(key, bytes) else str(key).encode()
        found = Erasure(_service(), raw)
        current_app.extensions["goedgesprek.erasure"] = found
    return found


@bp.get("/series/<series_id>/occurrences/<occ>/event-copy")
def event_copy(series_id: str, occ: str) -> Response:
    """What compose mode writes into the event body and attaches."""
    caller = _caller()
    return jsonify(_service().event_copy(caller, series_id, occ))


@bp.get("/openapi.json")
def openapi() -> Response:
    """The API described as OpenAPI 3.1."""
    from addin.openapi import spec

    return jsonify(spec())


# -- errors ---------------------------------------------------------------------------------------


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    response = jsonify(error=code, message=message, **extra)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    message = t(exc.msgid, **exc.params)
    if exc.detail:
        from addin.errors import translate_error

        message = f"{message} {translate_error(exc.detail, _locale())}"
    extra = dict(exc.extra)
    if "current" in extra:
        extra["current"] = _with_messages(extra["current"])
    return _error(exc.status, exc.code, message, **extra)


@bp.errorhandler(_Refusal)
def _refusal(exc: _Refusal) -> Response:
    return _error(exc.status, exc.code, t(exc.msgid, **exc.params))


@bp.errorhandler(Unauthorized)
def _unauthorized(exc: Unauthorized) -> Response:
    # The reason is English, may quote the token and may name Google: for the operator's log.
    current_app.logger.info("pane token refused: %.300s", exc)
    whose = getattr(exc, "email", "")
    if whose and whose != g.get("caller_email"):
        # The partner's stored sign-in, not the caller's: signing in again would not help them.
        return _error(
            403,
            "partner_signin",
            t(
                "%(partner)s has not signed in to Goed Gesprek, or that sign-in has expired: "
                "%(partner)s needs to open Goed Gesprek in Outlook once and sign in.",
                partner=whose,
            ),
        )
    # What the pane does next: get a new token ("again") or ask for consent to `scopes`. Never
    # the audience, tenant or keys the server expects.
    if isinstance(exc, SignInRequired) and exc.signin == "consent":
        response = _error(
            401,
            "unauthorized",
            t(
                "Allow Goed Gesprek to use your calendar, OneDrive and mail: "
                "confirm when Microsoft asks."
            ),
            signin="consent",
            scopes=list(exc.scopes),
        )
    else:
        response = _error(
            401,
            "unauthorized",
            t("Sign in again: your session could not be verified."),
            signin="again",
        )
    response.headers["WWW-Authenticate"] = 'Bearer realm="goedgesprek"'
    return response


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    return _error(
        413,
        "too_large",
        t("The request is larger than %(kb)s KB: send fewer changes at once.", kb=MAX_BODY // 1024),
    )


@bp.errorhandler(CadenceError)
def _domain_error(exc: CadenceError) -> Response:
    from addin.errors import translate_error

    return _error(400, "invalid", translate_error(exc, _locale()))


@bp.errorhandler(ConnectorError)
def _provider_error(exc: ConnectorError) -> Response:
    if isinstance(exc, NotFound):
        return _error(404, "not_found", t("It is not there any more: it may have been deleted."))
    if isinstance(exc, Conflict):
        return _error(409, "conflict", t("It changed meanwhile: reload to see the latest version."))
    if isinstance(exc, AuthExpired):
        return _error(
            401, "consent_expired", t("Your calendar permission has expired: sign in again.")
        )
    if isinstance(exc, SealedError):
        # Not transient: no retry cures a damaged, swapped or foreign record, so no 503 and no
        # Retry-After. 422: the request is sound, the stored record it needs cannot be processed.
        current_app.logger.error(
            "sealed record cannot be opened, not retried: %s: %s", type(exc).__name__, exc
        )
        return _error(422, "record_unreadable", error_message("record_unreadable", _locale()))
    if isinstance(exc, NotServed):
        return _error(400, "bad_request", error_message("not_served", _locale(), email=exc.email))
    if isinstance(exc, InvalidRequest):
        # The provider's own words are for the administrator, not for the person in the pane.
        current_app.logger.warning("provider refused a request: %s", exc)
        return _error(400, "bad_request", error_message("provider_refused", _locale()))
    # Throttled or unreachable after the retries: the operator needs to know which and why.
    current_app.logger.warning("provider unavailable: %s: %s", type(exc).__name__, exc)
    response = _error(
        503,
        "provider_unavailable",
        t("Your calendar or drive cannot be reached right now: try again in a minute."),
    )
    if isinstance(exc, Throttled) and exc.retry_after:
        response.headers["Retry-After"] = str(int(exc.retry_after))
    elif isinstance(exc, Unavailable):
        response.headers["Retry-After"] = "30"
    return response


def init_app(app: Flask) -> None:
    """Register the API (and the guests' record links, which the journal hands out)."""
    from addin import guest_record

    app.register_blueprint(bp)
    guest_record.init_app(app)
