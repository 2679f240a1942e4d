"""The Google Calendar add-on's HTTP endpoints: Google's event objects in, Card JSON out.

Routes (POST, JSON event object from Google, as the deployment file names them):

- ``/workspace/homepage``: the homepage trigger (no event open): what the add-on does, the
  person's series and the plan form;
- ``/workspace/calendar/event-open`` and ``/workspace/calendar/event-update``: the event's card
  for its state (plan, agenda, record, agreed record);
- ``/workspace/action/<name>``: a button on one of those cards. Each button's ``function`` is the
  absolute URL of its route, made with ``url_for(..., _external=True)``; its parameters name the
  series, the occurrence, the etag the card was built from and the event.

And one GET: ``/workspace/export/<series>/<occ>/<fmt>?t=...``, the record behind a short-lived
signed link the export button made (`export_link`); nothing else opens it.

Triggers answer ``{"action": {"navigations": [{"pushCard": card}]}}``; callbacks answer
``{"renderActions": {"action": {"navigations": [...], "notification": {...}}}}``.

Who is asking, checked on every request before anything else happens:

1. The request: Google signs it as the add-on's service account (``Authorization: Bearer`` with
   the system ID token). `current_app.extensions["goedgesprek.verifier"]` checks signature
   (Google's published keys in production, see `verify.request_verifier`), issuer, time, the
   audience (the endpoint URL under ``PUBLIC_URL``, never the request's Host header; or the
   deployment's fixed audience) and the service-account email. A bad or missing token gets 401,
   which names nothing the server expects, and no service call.
2. The user: ``authorizationEventObject.userIdToken``, an ID token for the person using the
   add-on, signed by Google. It is checked with the same certificates, issuer and clock rules.
   Its audience must be the add-on's OAuth client id when ``WORKSPACE_CLIENT_ID`` is set; else
   the deployment's fixed audience (``WORKSPACE_AUDIENCE``) when set; else, as for the system
   token, the endpoint URL (the demo and the tests sign it so). A service account is never
   accepted as the user. The add-on then acts for the token's ``email``.

While a request is handled, the caller's calendar and drive are reached with their own
``authorizationEventObject.userOAuthToken`` (the provider's ``lend``); the partner's through the
partner's stored offline grant (`grant`, `addin.signin.google`). A person whose offline grant is
missing, incomplete (granular consent) or revoked sees a notice on top of the card naming what is
missing, with a button to give it.

The event object's ``commonEventObject.userLocale`` picks Dutch or English,
``commonEventObject.timeZone.id`` the zone dates are shown in, ``calendar.id`` the event (for a
recurring event Google sends the occurrence's instance id, ``<series id>_<start in UTC>``, which
the service maps to its occurrence), falling back to ``calendar.recurringEventId``.
``calendar.calendarId`` and ``calendar.capabilities`` are not needed: the service reads the event
through the user's own calendar (the event object carries ids, not titles or times), and the
add-on never edits the open event's guests or conference data.

Every use case is a call on `addin.conversations.Conversations`; nothing here decides the domain.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from google.auth import jwt as google_jwt
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from addin import jsonbody
from addin.conversations import Caller, Changed, Conversations, ServiceError
from addin.errors import error_message, translate_error
from addin.i18n import default_locale, gettext, normalise_locale, request_locale
from addin.jsonbody import MAX_DEPTH, BadBody, read_object
from addin.routing import NotServed
from addin.signed import LinkRefused
from addin.signin.google import Refusal, grant_refusal
from addin.workspace import cards as c
from addin.workspace import export_link, flows, grant, journal_cards
from addin.workspace.flows import Form, Ui
from addin.workspace.verify import GoogleIdTokenVerifier, Unauthorized
from cadence.errors import CadenceError
from connectors.errors import (
    AuthExpired,
    Conflict,
    ConnectorError,
    InvalidRequest,
    NotFound,
    Throttled,
)
from connectors.sealed import SealedError

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
"""The largest event object read (a card's inputs are a few KB)."""

DEFAULT_ZONE = "Europe/Amsterdam"

bp = Blueprint("workspace", __name__, url_prefix="/workspace")


def _(msgid: str) -> str:
    """Marks a text for the `cards` catalog; it is translated where it is shown."""
    return msgid


# -- the event object ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventObject:
    """The parts of Google's event object the add-on reads."""

    locale: str | None
    zone: str | None
    form: Form
    parameters: Mapping[str, str]
    event_id: str
    user_id_token: str | None
    user_oauth_token: str | None
    series_id: str = ""
    """``calendar.recurringEventId``: the series an occurrence belongs to, a lookup hint."""

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> EventObject:
        """Read an event object; fields that are missing or of the wrong type count as absent."""
        common = _mapping(body.get("commonEventObject"))
        calendar = _mapping(body.get("calendar"))
        auth = _mapping(body.get("authorizationEventObject"))
        zone = _mapping(common.get("timeZone")).get("id")
        params = _mapping(common.get("parameters"))
        event_id = _string(calendar.get("id")) or _string(calendar.get("recurringEventId"))
        return cls(
            locale=normalise_locale(_string(common.get("userLocale"))),
            zone=zone if isinstance(zone, str) else None,
            form=Form.from_inputs(common.get("formInputs")),
            parameters={k: v for k, v in params.items() if isinstance(v, str)},
            event_id=event_id,
            user_id_token=_string(auth.get("userIdToken")) or None,
            user_oauth_token=_string(auth.get("userOAuthToken")) or None,
            series_id=_string(calendar.get("recurringEventId"))[:1024],
        )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class Call:
    """One verified request: who, in which language, with which event object."""

    caller: Caller
    event: EventObject
    ui: Ui
    subject: str = ""
    """The person's Google account id (``sub`` of their ID token)."""

    def param(self, name: str) -> str:
        """A button parameter (empty when absent)."""
        return self.event.parameters.get(name, "")


class _Refusal(Exception):
    """A request that is not a readable event object: an HTTP error with a JSON body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# -- verification --------------------------------------------------------------------------------


def endpoint_url() -> str:
    """The URL Google signed this request for: under ``PUBLIC_URL`` when it is set.

    The request's own Host header never decides what a token's audience must be; without
    ``PUBLIC_URL`` (the demo, tests) the URL as it reached the app is used, and the production
    verifier refuses to run without ``PUBLIC_URL`` or ``WORKSPACE_AUDIENCE``.
    """
    public = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if public:
        return public + request.script_root + request.path
    return request.url


def _verify_request() -> None:
    verifier = current_app.extensions["goedgesprek.verifier"]
    verifier.verify(request.headers.get("Authorization"), endpoint_url())


def _trusted_certs() -> Callable[[], Mapping[str, str]]:
    """The certificates the request verifier trusts: Google's, or the local signer's."""
    verifier = current_app.extensions["goedgesprek.verifier"]
    certs = getattr(verifier, "certs", None)
    if callable(certs):
        return certs  # type: ignore[no-any-return]
    signer = current_app.extensions["goedgesprek.signer"]
    return signer.certs  # type: ignore[no-any-return]


def _user_audience() -> str | None:
    config = current_app.config
    fixed = config.get("WORKSPACE_CLIENT_ID") or config.get("WORKSPACE_AUDIENCE")
    return str(fixed) if fixed else None


@dataclass(frozen=True, slots=True)
class User:
    """The person using the add-on, as their verified ID token names them."""

    email: str
    name: str
    subject: str


def verify_user(token: str | None, url: str) -> User:
    """The verified email, name and account id of the person using the add-on."""
    if not token:
        raise Unauthorized(
            "the event object carries no authorizationEventObject.userIdToken: "
            "the deployment must ask for the userinfo.email scope"
        )
    try:
        # Read unverified only to learn whom the token claims to be; verified right below.
        payload = google_jwt.decode(token, verify=False)  # type: ignore[no-untyped-call]
    except (ValueError, TypeError, RecursionError) as exc:
        raise Unauthorized("the user's ID token is not a JWT") from exc
    if not isinstance(payload, dict):
        raise Unauthorized("the user's ID token is not a JWT")
    claimed = payload.get("email")
    if not isinstance(claimed, str) or "@" not in claimed:
        raise Unauthorized("the user's ID token names no email address")
    if claimed.lower().endswith(".gserviceaccount.com"):
        raise Unauthorized("the user's ID token is a service account's, not a person's")
    checker = GoogleIdTokenVerifier(
        service_account_email=claimed, audience=_user_audience(), certs=_trusted_certs()
    )
    claims = checker.verify(f"Bearer {token}", url)
    name = payload.get("name")
    email = claims.email.lower()
    shown = name if isinstance(name, str) and name.strip() else email.split("@")[0]
    return User(email, shown, claims.subject)


def _body() -> Mapping[str, Any]:
    locale = request_locale()
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _Refusal(413, "too_large", error_message("too_large", locale, limit=MAX_BODY // 1024))
    if request.mimetype != "application/json":
        raise _Refusal(
            415, "unsupported_media_type", error_message("unsupported_media_type", locale)
        )
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        raise _Refusal(413, "too_large", error_message("too_large", locale, limit=MAX_BODY // 1024))
    try:
        return read_object(raw)
    except BadBody as exc:
        message = error_message(exc.code, locale, limit=MAX_DEPTH)
        raise _Refusal(400, "bad_request", message) from None


def _zone(name: str | None) -> tzinfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(DEFAULT_ZONE)


def _action_url(name: str) -> str:
    return grant.external_url("workspace.action", name=name)


def _acting_as(email: str, token: str | None) -> AbstractContextManager[None]:
    """While handling the call, the caller's ports use their own token from the event object."""
    provider = current_app.extensions.get("goedgesprek.provider")
    lend = getattr(provider, "lend", None)
    if token and lend is not None:
        return lend(email, token)  # type: ignore[no-any-return]
    return nullcontext()


def _serve(handle: Callable[[Call], Mapping[str, Any]]) -> Response:
    """Verify the request and the user, read the event object, run `handle`, answer JSON."""
    try:
        _verify_request()
        event = EventObject.parse(_body())
        user = verify_user(event.user_id_token, endpoint_url())
        locale = event.locale or default_locale()
        ui = Ui(locale=locale, tz=_zone(event.zone), action_url=_action_url)
        caller = Caller(email=user.email, name=user.name, locale=locale)
        with _acting_as(user.email, event.user_oauth_token):
            answer = handle(Call(caller, event, ui, user.subject))
    except Unauthorized as exc:
        return _unauthorized(exc)
    except _Refusal as exc:
        return _json_error(exc.status, exc.code, exc.message)
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response


def _json_error(status: int, code: str, message: str) -> Response:
    response = jsonify(error=code, message=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _unauthorized(exc: Unauthorized) -> Response:
    # The reason is for the operator (it is in English and names token details), not the user.
    log.warning("card request refused as unverified: %s", exc.reason)
    message = gettext(
        request_locale(),
        "cards",
        _(
            "This request could not be verified as coming from Google Calendar: open the add-on "
            "again. If this keeps happening, tell your administrator."
        ),
    )
    response = _json_error(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="goedgesprek-workspace"'
    return response


# -- messages ------------------------------------------------------------------------------------


def refusal_message(locale: str, exc: Exception, *, caller: str = "") -> str:
    """What went wrong, in a sentence the person can act on, in their language.

    When a partner's stored Google grant is what failed (`caller` is someone else), the
    sentence names the partner: they, not the person reading it, must give access again.
    """
    if isinstance(exc, ServiceError):
        message = gettext(locale, "api", exc.msgid, **exc.params)
        if exc.detail is not None:
            message = f"{message} {translate_error(exc.detail, locale)}"
        return message
    if isinstance(exc, CadenceError):
        return translate_error(exc, locale)
    if isinstance(exc, SealedError):
        # Not transient: the operator needs the file and the reason, the person a plain answer.
        current_app.logger.error(
            "sealed record cannot be opened, not retried: %s: %s", type(exc).__name__, exc
        )
        return error_message("record_unreadable", locale)
    if isinstance(exc, NotFound):
        return error_message("not_found", locale)
    if isinstance(exc, AuthExpired):
        partner = _partner_refusal(exc, caller)
        if partner is not None:
            return partner_message(locale, partner, _name_of(partner.email, caller))
        return gettext(
            locale,
            "cards",
            _(
                "Your permission for the calendar or drive has expired: open the add-on again "
                "and allow access."
            ),
        )
    if isinstance(exc, Conflict):
        return error_message("conflict", locale)
    if isinstance(exc, NotServed):
        return error_message("not_served", locale, email=exc.email)
    if isinstance(exc, InvalidRequest):
        # The provider's own words are for the administrator, as in the API.
        current_app.logger.warning("provider refused a request: %s", exc)
        return error_message("provider_refused", locale)
    if isinstance(exc, Throttled) and exc.retry_after:
        return error_message("throttled", locale, seconds=int(exc.retry_after))
    return error_message("provider_unavailable", locale)


_PARTNER_PARKED = _(
    "The access %(name)s gave Goed Gesprek to their calendar and files was withdrawn or has "
    "expired: %(name)s needs to open Goed Gesprek once and give access again."
)
_PARTNER_MISSING = _(
    "%(name)s has not yet given Goed Gesprek access to their calendar and files: %(name)s "
    "needs to open Goed Gesprek once and give access."
)


_PARTNER_PARTIAL = _(
    "%(name)s gave Goed Gesprek only part of the access it needs to their calendar and files: "
    "%(name)s needs to open Goed Gesprek once and give the rest."
)


def partner_message(locale: str, refusal: Refusal, name: str) -> str:
    """The sentence for a partner whose stored grant is missing, partial or parked, naming them."""
    msgid = {"missing": _PARTNER_MISSING, "partial": _PARTNER_PARTIAL}.get(
        refusal.reason, _PARTNER_PARKED
    )
    return gettext(locale, "cards", msgid, name=name)


def _partner_refusal(exc: BaseException, caller: str) -> Refusal | None:
    refusal = grant_refusal(exc)
    if refusal is None or not caller or refusal.email == caller.strip().lower():
        return None
    return refusal


def _name_of(email: str, caller: str) -> str:
    """The partner's name as a series of the caller's has it, else their address."""
    try:
        series = _service().registry.for_person(caller)
    except SQLAlchemyError:  # the name is a courtesy: the sentence works with the address too
        log.warning("the series of %s could not be read for a name", caller, exc_info=True)
        return email
    for entry in series:
        for person in entry.pair.partners:
            if person.email.strip().lower() == email and person.name.strip():
                return str(person.name)
    return email


_REFUSED = (ServiceError, CadenceError, ConnectorError)


def _service() -> Conversations:
    service: Conversations = current_app.extensions["goedgesprek.service"]
    return service


# -- triggers ------------------------------------------------------------------------------------


def _with_notice(call: Call, card: Mapping[str, Any]) -> Mapping[str, Any]:
    """`card` with the offline-grant notice on top, when the person's grant is incomplete."""
    section = grant.notice(
        call.ui.tr, email=call.caller.email, subject=call.subject, locale=call.ui.locale
    )
    if section is None:
        return card
    return {**card, "sections": [section, *card["sections"]]}


def _trigger(call: Call) -> Mapping[str, Any]:
    ui = call.ui
    if not call.event.event_id:
        mine = _service().my_series(call.caller)
        home = flows.home_card(ui, mine["series"], mine["feedback_asks"])
        return c.push_card(_with_notice(call, home))
    try:
        ctx = _service().context(call.caller, call.event.event_id, series_hint=call.event.series_id)
    except _REFUSED as exc:
        message = refusal_message(ui.locale, exc, caller=call.caller.email)
        gone = _refusal_status(exc) == 404
        card = flows.error_card(ui, message, event_id=call.event.event_id, gone=gone)
        return c.push_card(_with_notice(call, card))
    return c.push_card(_with_notice(call, _context_card(call, ctx)))


@bp.post("/homepage")
def homepage() -> Response:
    """The homepage trigger: no event is open."""
    return _serve(_trigger)


@bp.post("/calendar/event-open")
def event_open() -> Response:
    """An event was opened: its card for its state."""
    return _serve(_trigger)


@bp.post("/calendar/event-update")
def event_update() -> Response:
    """The open event changed: its card again, read anew."""
    return _serve(_trigger)


# -- callbacks -----------------------------------------------------------------------------------


def _notify(message: str) -> Mapping[str, Any]:
    return c.render_actions(notification=message)


def _refused(call: Call, exc: Exception) -> Mapping[str, Any]:
    # The card stays as it is, with what the person typed: only a notification says why.
    return _notify(refusal_message(call.ui.locale, exc, caller=call.caller.email))


def _saved(call: Call, ctx: Mapping[str, Any], message: str) -> Mapping[str, Any]:
    return c.render_actions(update=_context_card(call, ctx), notification=message)


def _context_card(
    call: Call,
    ctx: Mapping[str, Any],
    *,
    draft: Form = flows.NO_FORM,
    unsaved: flows.Ops | None = None,
) -> dict[str, Any]:
    """The occurrence's card, with what is worth raising before the conversation."""
    return flows.context_card(
        call.ui, ctx, draft=draft, unsaved=unsaved, suggestions=_suggestions(call, ctx)
    )


def _suggestions(call: Call, ctx: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The journal's suggestions for an upcoming conversation; none when they cannot be read
    now (the card is still worth showing without them)."""
    journals = _service().journals
    if journals is None or ctx.get("state") != "upcoming" or "journal" not in ctx:
        return None
    series, occ = str(ctx["series"]["id"]), str(ctx["occurrence"]["key"])
    try:
        found: list[Mapping[str, Any]] = journals.overview(call.caller, series, occ)["suggestions"]
    except _REFUSED as exc:
        log.warning("suggestions for %s/%s not shown: %s", series, occ, exc)
        return None
    return found


def _journal(call: Call) -> Mapping[str, Any]:
    """One of the journal's cards (the ``part`` parameter), read anew, over the card it was
    opened from."""
    ui = call.ui
    part = call.param("part")
    journals = _service().journals
    try:
        ctx = _service().context(call.caller, call.param("event") or call.event.event_id)
        if part != "overview":
            card = journal_cards.part_card(ui, ctx, part)
        elif journals is not None and journal_cards.journal_of(ctx) is not None:
            key = str(ctx["occurrence"]["key"])
            overview = journals.overview(call.caller, str(ctx["series"]["id"]), key)
            card = journal_cards.overview_card(ui, ctx, overview)
        else:
            card = None
    except _REFUSED as exc:
        return _refused(call, exc)
    if card is None:
        return _notify(ui.t("This button is out of date: open the event again."))
    return c.render_actions(push=card)


def _journal_ops(call: Call) -> Mapping[str, Any]:
    """Apply journal changes on the version the card showed; then the occurrence's card anew
    with the journal's card on top. A race shows their version and keeps what was typed."""
    ui = call.ui
    journals = _service().journals
    params = call.event.parameters
    series, occ, part = call.param("series"), call.param("occ"), call.param("part")
    try:
        ops = jsonbody.loads(call.param("ops") or "[]")
    except ValueError:
        ops = None
    if (
        journals is None
        or not series
        or not occ
        or not isinstance(ops, list)
        or not all(isinstance(op, dict) for op in ops)
    ):
        return _notify(ui.t("This button is out of date: open the event again."))
    form = call.event.form
    ops = journal_cards.with_reasons(form, [*journal_cards.form_ops(form, params), *ops])
    if not ops:
        return _notify(journal_cards.nothing_typed(ui, call.param("form")))
    event_id = call.param("event") or call.event.event_id
    body = {
        "event": event_id,
        "ops": ops,
        "change_id": flows.change_id(call.caller.email, params, ops),
    }
    try:
        ctx = journals.apply(call.caller, series, occ, body, call.param("etag"))
    except Changed as exc:
        current = exc.extra["current"]
        card = journal_cards.part_card(ui, current, part, draft=form, unsaved=ops)
        message = refusal_message(ui.locale, exc, caller=call.caller.email)
        if card is None:
            return _notify(message)
        return c.render_actions(update=card, notification=message)
    except _REFUSED as exc:
        return _refused(call, exc)
    # A step on one goal or request keeps what was typed elsewhere on the card.
    draft = form if not call.param("form") else flows.NO_FORM
    shown = journal_cards.part_card(ui, ctx, call.param("then") or part, draft=draft)
    return c.render_actions(
        pop_to_root=True,
        update=_context_card(call, ctx),
        push=shown,
        notification=journal_cards.saved(ui, call.param("form")),
    )


def _preview(call: Call) -> Mapping[str, Any]:
    plan = flows.plan_body(call.event.form, call.param("event") or call.event.event_id)
    try:
        # The sentence is said in the person's own zone (Google sends it in the event object).
        viewer = {"viewer_tz": str(getattr(call.ui.tz, "key", ""))}
        proposal = _service().preview(call.caller, {**plan, **viewer})
    except _REFUSED as exc:
        return _refused(call, exc)
    card = flows.preview_card(call.ui, proposal, plan, uuid.uuid4().hex)
    return c.render_actions(push=card)


def _create(call: Call) -> Mapping[str, Any]:
    ui = call.ui
    try:
        plan = jsonbody.loads(call.param("plan") or "null")
    except ValueError:
        plan = None
    if not isinstance(plan, dict):
        return _notify(ui.t("This button is out of date: open the event again."))
    body = {**plan, "request_id": call.param("request_id")}
    try:
        result = _service().create_series(call.caller, body)
    except _REFUSED as exc:
        return _refused(call, exc)
    card = _context_card(call, result["context"])
    return c.render_actions(
        pop_to_root=True,
        update=card,
        notification=ui.t("The series is in both calendars."),
    )


def _refresh(call: Call) -> Mapping[str, Any]:
    ui = call.ui
    event_id = call.param("event") or call.event.event_id
    if not event_id:
        mine = _service().my_series(call.caller)
        home = flows.home_card(ui, mine["series"], mine["feedback_asks"])
        return c.render_actions(update=home)
    try:
        ctx = _service().context(call.caller, event_id)
    except _REFUSED as exc:
        return _refused(call, exc)
    return c.render_actions(update=_context_card(call, ctx))


def _apply(call: Call, ops: flows.Ops, message: str) -> Mapping[str, Any]:
    """Apply `ops` on the version the card showed; a race shows both versions, nothing lost."""
    ui = call.ui
    series, occ = call.param("series"), call.param("occ")
    event_id = call.param("event") or call.event.event_id
    if not series or not occ:
        return _notify(ui.t("This button is out of date: open the event again."))
    # The same change pressed again on the same card has the same id: never applied twice.
    body = {
        "event": event_id,
        "ops": ops,
        "change_id": flows.change_id(call.caller.email, call.event.parameters, ops),
    }
    try:
        # An empty etag means "there was no saved version": a save by the other partner since
        # then is a conflict too.
        ctx = _service().apply(call.caller, series, occ, body, call.param("etag"))
    except Changed as exc:
        current = exc.extra["current"]
        card = _context_card(call, current, draft=call.event.form, unsaved=ops)
        message = refusal_message(ui.locale, exc, caller=call.caller.email)
        return c.render_actions(update=card, notification=message)
    except _REFUSED as exc:
        return _refused(call, exc)
    return _saved(call, ctx, message)


def _ops(call: Call) -> Mapping[str, Any]:
    ui = call.ui
    try:
        ops = jsonbody.loads(call.param("ops") or "null")
    except ValueError:
        ops = None
    if not isinstance(ops, list) or not ops or not all(isinstance(op, dict) for op in ops):
        return _notify(ui.t("This button is out of date: open the event again."))
    typed = flows.form_ops(call.event.form, call.event.parameters)
    ops = flows.with_reasons(call.event.form, ops)
    return _apply(call, [*typed, *ops], ui.t("Saved."))


def _agenda_add(call: Call) -> Mapping[str, Any]:
    ui = call.ui
    ops = flows.agenda_ops(call.event.form)
    if not ops:
        return _notify(ui.t("Write a title for the agenda item first."))
    return _apply(call, ops, ui.t("The item is on the agenda."))


def _record_save(call: Call) -> Mapping[str, Any]:
    ui = call.ui
    ops = flows.form_ops(call.event.form, {**call.event.parameters, "form": "record"})
    if not ops:
        return _notify(ui.t("Nothing to save yet: write a summary, an agreement or an action."))
    return _apply(call, ops, ui.t("The record is saved."))


def _event_copy(call: Call) -> Mapping[str, Any]:
    ui = call.ui
    choice = call.event.form.one("event_copy", "full")
    try:
        _service().change_series(call.caller, call.param("series"), {"event_copy": choice})
        ctx = _service().context(call.caller, call.param("event") or call.event.event_id)
    except _REFUSED as exc:
        return _refused(call, exc)
    return _saved(call, ctx, ui.t("Saved: the next agenda copy in the event follows this choice."))


def _hours(call: Call) -> Mapping[str, Any]:
    """The person's working hours, on a card of their own over the one they came from."""
    try:
        answer = _service().working_hours(call.caller)
    except _REFUSED as exc:
        return _refused(call, exc)
    return c.render_actions(push=flows.hours_card(call.ui, answer))


def _hours_save(call: Call) -> Mapping[str, Any]:
    """Save the chosen working hours through the same use case as the pane.

    Refused hours keep the card as chosen with the reason on it; nothing is saved.
    """
    ui = call.ui
    form = call.event.form
    try:
        answer = _service().set_working_hours(call.caller, flows.hours_body(form))
    except _REFUSED as exc:
        message = refusal_message(ui.locale, exc, caller=call.caller.email)
        if _refusal_status(exc) != 400:
            return _notify(message)
        # The card showed where the hours came from; a refused save changes nothing of that.
        shown = {"source": call.param("source") or "default"}
        card = flows.hours_card(ui, shown, draft=form, problem=message)
        return c.render_actions(update=card, notification=message)
    return c.render_actions(
        update=flows.hours_card(ui, answer),
        notification=ui.t("Your working hours are saved."),
    )


def _reminders(call: Call) -> Mapping[str, Any]:
    """Which reminders the person gets by mail, on a card of their own."""
    try:
        answer = _service().reminders(call.caller)
    except _REFUSED as exc:
        return _refused(call, exc)
    return c.render_actions(push=flows.reminders_card(call.ui, answer))


def _reminders_save(call: Call) -> Mapping[str, Any]:
    """Save the chosen reminders through the same use case as the pane; refused choices keep
    the card as chosen with the reason on it."""
    ui = call.ui
    form = call.event.form
    try:
        answer = _service().set_reminders(call.caller, flows.reminders_body(form))
    except _REFUSED as exc:
        message = refusal_message(ui.locale, exc, caller=call.caller.email)
        if _refusal_status(exc) != 400:
            return _notify(message)
        card = flows.reminders_card(ui, {}, draft=form, problem=message)
        return c.render_actions(update=card, notification=message)
    return c.render_actions(
        update=flows.reminders_card(ui, answer),
        notification=ui.t("Your reminders are saved."),
    )


def _end_ask(call: Call) -> Mapping[str, Any]:
    """Ask once before ending the series: a card that says what ending does."""
    ui = call.ui
    series, event_id = call.param("series"), call.param("event") or call.event.event_id
    if not series or not event_id:
        return _notify(ui.t("This button is out of date: open the event again."))
    try:
        # Read anew: the domain says whether this person may end it now (the context's `can`).
        ctx = _service().context(call.caller, event_id)
    except _REFUSED as exc:
        return _refused(call, exc)
    if str((ctx.get("series") or {}).get("id", "")) != series:
        return _notify(ui.t("This button is out of date: open the event again."))
    if "end" not in ((ctx.get("can") or {}).get("series") or []):
        return c.render_actions(
            update=_context_card(call, ctx),
            notification=ui.t("This series has ended already."),
        )
    return c.render_actions(push=flows.end_confirm_card(ui, ctx))


def _end(call: Call) -> Mapping[str, Any]:
    """End the series (either partner; the use case refuses anyone else), then say so."""
    ui = call.ui
    series = call.param("series")
    if not series:
        return _notify(ui.t("This button is out of date: open the event again."))
    try:
        answer = _service().end_series(call.caller, series)
    except _REFUSED as exc:
        return _refused(call, exc)
    # Off the question, onto the card it was asked from: that event may be gone now.
    return c.render_actions(
        pop=True,
        update=flows.ended_card(ui, answer, call.caller.email),
        notification=ui.t("The series has ended."),
    )


def _back(call: Call) -> Mapping[str, Any]:
    """Cancel on a pushed card: back to the card underneath, nothing changed."""
    return c.render_actions(pop=True)


def _export(call: Call) -> Mapping[str, Any]:
    """Open the record as HTML or Markdown: a short-lived link signed for this person."""
    ui = call.ui
    series, occ, fmt = call.param("series"), call.param("occ"), call.param("format")
    if not series or not occ or fmt not in export_link.FORMATS:
        return _notify(ui.t("This button is out of date: open the event again."))
    token = export_link.grant_for(
        _link_key(),
        series=series,
        occ=occ,
        fmt=fmt,
        email=call.caller.email,
        locale=ui.locale,
        now=time.time(),
    )
    url = grant.external_url("workspace.export", series_id=series, occ=occ, fmt=fmt, t=token)
    return c.render_actions(link=url)


DOSSIER = ("*", "*", "zip")
"""The (series, occ, format) an export link to the caller's whole dossier is signed for."""


def _dossier(call: Call) -> Mapping[str, Any]:
    """The caller's whole dossier as a zip: a short-lived link signed for this person."""
    series, occ, fmt = DOSSIER
    token = export_link.grant_for(
        _link_key(),
        series=series,
        occ=occ,
        fmt=fmt,
        email=call.caller.email,
        locale=call.ui.locale,
        now=time.time(),
    )
    return c.render_actions(link=grant.external_url("workspace.dossier", t=token))


@bp.get("/dossier")
def dossier() -> Response:
    """The dossier behind a signed link (see `_dossier`); nothing else opens it."""
    from addin.dossier import dossier_zip

    locale = request_locale()
    series, occ, fmt = DOSSIER
    try:
        found = export_link.verify(
            _link_key(), request.args.get("t", ""), series=series, occ=occ, fmt=fmt, now=time.time()
        )
    except LinkRefused as exc:
        return _refused_link(exc, locale)
    caller = Caller(email=found.email, name=found.email, locale=found.locale)
    try:
        content, name = dossier_zip(_service(), caller)
    except _REFUSED as exc:
        return _plain(_refusal_status(exc), refusal_message(found.locale, exc, caller=found.email))
    response = Response(content, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    _private(response)
    return response


def _link_key() -> bytes:
    key = current_app.secret_key
    if not key:
        raise RuntimeError("the app has no SECRET_KEY to sign export links with")
    return key if isinstance(key, bytes) else str(key).encode()


@bp.get("/export/<series_id>/<occ>/<fmt>")
def export(series_id: str, occ: str, fmt: str) -> Response:
    """The record behind a signed export link (see `export_link`); nothing else opens it."""
    locale = request_locale()
    try:
        grant = export_link.verify(
            _link_key(),
            request.args.get("t", ""),
            series=series_id,
            occ=occ,
            fmt=fmt,
            now=time.time(),
        )
    except LinkRefused as exc:
        return _refused_link(exc, locale)
    caller = Caller(email=grant.email, name=grant.email, locale=grant.locale)
    try:
        content, media_type, name = _service().export(caller, series_id, occ, fmt)
    except _REFUSED as exc:
        message = refusal_message(grant.locale, exc, caller=grant.email)
        return _plain(_refusal_status(exc), message)
    response = Response(content, mimetype=media_type.split(";")[0])
    response.headers["Content-Type"] = media_type
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    _private(response)
    return response


def _refused_link(exc: LinkRefused, locale: str) -> Response:
    """403 for an export link that does not open, saying whether it expired or is not ours."""
    msgid = (
        _("This export link has expired: press the export button on the card again.")
        if exc.expired
        else _("This export link is not valid: press the export button on the card again.")
    )
    return _plain(403, gettext(exc.locale or locale, "cards", msgid))


def _refusal_status(exc: Exception) -> int:
    """The status the API answers for the same refusal (a sealed record that won't open: 422)."""
    if isinstance(exc, ServiceError):
        return exc.status
    if isinstance(exc, CadenceError):
        return 400
    if isinstance(exc, SealedError):
        return 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, AuthExpired):
        return 401
    if isinstance(exc, InvalidRequest):
        return 400
    return 503


def _plain(status: int, message: str) -> Response:
    response = Response(message + "\n", status=status, mimetype="text/plain")
    _private(response)
    return response


def _private(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    # An exported record opened in the browser runs nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"


ACTIONS: Mapping[str, Callable[[Call], Mapping[str, Any]]] = {
    "preview": _preview,
    "create": _create,
    "refresh": _refresh,
    "ops": _ops,
    "agenda_add": _agenda_add,
    "record_save": _record_save,
    "event_copy": _event_copy,
    "export": _export,
    "dossier": _dossier,
    "hours": _hours,
    "hours_save": _hours_save,
    "reminders": _reminders,
    "reminders_save": _reminders_save,
    "end_ask": _end_ask,
    "end": _end,
    "back": _back,
    "journal": _journal,
    "journal_ops": _journal_ops,
}


@bp.post("/action/<name>")
def action(name: str) -> Response:
    """A button on a card; unknown names get 404 (after the request is verified)."""

    return _serve(ACTIONS.get(name, _unknown_action))


def _unknown_action(call: Call) -> Mapping[str, Any]:
    raise _Refusal(404, "not_found", error_message("not_found", call.ui.locale))


@bp.get("/oauth/start")
def oauth_start() -> BaseResponse:
    """A card's grant link: on to Google's consent page (see `grant`)."""
    return grant.oauth_start()


@bp.get("/oauth/callback")
def oauth_callback() -> Response:
    """Google's redirect back after consent (see `grant`)."""
    return grant.oauth_callback()


def init_app(app: Flask) -> None:
    """Register the add-on's endpoints and, when configured, the offline grants."""
    app.register_blueprint(bp)
    grant.setup(app)
