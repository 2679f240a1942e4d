"""The page where a colleague answers a request for feedback, behind the mail's signed link.

``GET /f/<token>`` reads the link (`Journals.grant`), keeps it in a cookie scoped to that
request's path and sends the browser on to ``/feedback/<series>/<request>``, so the token leaves
the address bar and the history. That page shows who asks (the employee's first name), the
questions and a text box for each, drawn on the server with no script; its form posts the
answers once, sealed into the employee's journal (`Journals.answer`). Afterwards the page says
thanks and never shows the answers again. What the colleague typed stays in the form when it is
refused, and is never written to a log.

The words live in the ``site`` catalog; the language is the request's, unless ``?lang=`` says
otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from addin.conversations.errors import Missing, ServiceError
from addin.i18n import gettext, normalise_locale
from addin.record_page import private
from addin.signed import LinkRefused
from cadence.errors import CadenceError, TransitionError
from cadence.journal import FeedbackState
from connectors.errors import ConnectorError

if TYPE_CHECKING:
    from addin.conversations.journals import FeedbackGrant, Journals
    from cadence.journal import Feedback
    from cadence.model import Series

bp = Blueprint("feedback_page", __name__)

COOKIE = "gg_feedback"
MAX_FORM = 64 * 1024
"""The largest form the page reads (six answers of 4,000 characters fit with room to spare)."""
MAX_ANSWER = 4000
"""Characters per answer, as the journal keeps them."""

CSP = "; ".join(
    [
        "default-src 'none'",
        "img-src 'self'",
        "style-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
"""The page runs no script and is shown in no frame: it loads its style sheet and icon only."""


def _(msgid: str) -> str:
    """Marks a text for the ``site`` catalog."""
    return msgid


INVALID = _(
    "This link is not valid. Use the link in the mail as it came, or ask the colleague who sent "
    "it for a new one."
)
EXPIRED = _(
    "This link has expired: the time to answer is over. The colleague who asked can send you a "
    "new one."
)
NO_COOKIE = _(
    "Open this page with the link in your mail: it opens the questions for you alone, without "
    "an account."
)
GONE = _(
    "This request for feedback is no longer open: it was withdrawn, or a newer mail replaced it. "
    "If you received a newer mail, use its link."
)
ANSWERED = _("You answered these questions already: an answer is sent once. Thank you!")
STALE = _("This form is out of date: open it again.")
TOO_LARGE = _("The form is too large to save.")
EMPTY = _("Write an answer to at least one question.")
TOO_LONG = _(
    "Your answer to question %(number)s is %(length)s characters long: keep each answer to "
    "%(limit)s characters."
)
UNSAVED = _(
    "Your answer could not be saved just now. Try again in a few minutes: what you wrote is "
    "still in the form."
)
UNREACHABLE = _("The questions cannot be opened just now. Try again in a few minutes.")


@dataclass(frozen=True, slots=True)
class _Visit:
    """The colleague on the page: their cookie's token, what it grants, the page's language."""

    token: str
    grant: FeedbackGrant
    locale: str


class _Refusal(Exception):
    """Why the colleague gets no further, as a status and one sentence (a ``site`` msgid)."""

    def __init__(self, status: int, msgid: str, *, locale: str = "", **params: Any) -> None:
        super().__init__(msgid)
        self.status = status
        self.msgid = msgid
        self.locale = locale
        self.params = params


def _journals() -> Journals:
    journals: Journals | None = current_app.extensions["goedgesprek.service"].journals
    if journals is None:
        raise RuntimeError("the app has no journal service to answer feedback with")
    return journals


def _now() -> datetime:
    now: datetime = current_app.extensions["goedgesprek.clock"]()
    return now


def _locale(fallback: str) -> str:
    return normalise_locale(request.args.get("lang")) or normalise_locale(fallback) or "nl"


@bp.get("/f/<token>")
def follow(token: str) -> Response:
    """A mail's link: kept in a cookie for its page's path, then on to the page."""
    now = _now()
    try:
        grant = _journals().grant(token, today=now.date())
    except LinkRefused as exc:
        return _refused(_link_refused(exc))
    path = url_for("feedback_page.form", series_id=grant.series, request_id=grant.request)
    response = redirect(path, code=303)
    until = datetime.combine(grant.expires + timedelta(days=1), time(0), tzinfo=UTC)
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(60, int((until - now).total_seconds())),
        path=path,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    _private(response)
    return response


@bp.get("/feedback/<series_id>/<request_id>")
def form(series_id: str, request_id: str) -> Response:
    """The questions and a text box for each; or thanks, once answered."""
    try:
        visit = _visit(series_id, request_id)
        entry, asked = _open(visit)
    except _Refusal as exc:
        return _refused(exc, here=True)
    if asked.state is FeedbackState.ANSWERED:
        return _page(visit, entry, answered=True)
    return _page(visit, entry, asked=asked)


@bp.post("/feedback/<series_id>/<request_id>")
def answer(series_id: str, request_id: str) -> Response:
    """The colleague's answers: saved once, sealed into the employee's journal; then thanks."""
    try:
        visit = _visit(series_id, request_id)
        data = _form(visit.locale)
        journals = _journals()
        if not journals.form_token_ok(visit.token, data.get("csrf", "")):
            # Not sent by our page: another site's form, or the page of another request.
            raise _Refusal(403, STALE, locale=visit.locale)
        entry, asked = _open(visit)
    except _Refusal as exc:
        return _refused(exc, here=True)
    if asked.state is FeedbackState.ANSWERED:
        return _page(visit, entry, answered=True, error=ANSWERED, status=409)
    try:
        journals.answer(visit.grant, _answers(data, len(asked.questions)))
    except _Refusal as exc:
        return _page(visit, entry, asked=asked, error=exc, kept=data)
    except TransitionError as exc:
        if exc.code == "feedback_answered":
            return _page(visit, entry, answered=True, error=ANSWERED, status=409)
        gone = EXPIRED if exc.code == "feedback_expired" else GONE
        return _refused(_Refusal(410, gone, locale=visit.locale), here=True)
    except Missing:
        return _refused(_Refusal(410, GONE, locale=visit.locale), here=True)
    except (ServiceError, CadenceError, ConnectorError):
        # The drive did not take it: what was typed stays in the form.
        return _page(visit, entry, asked=asked, error=UNSAVED, kept=data, status=503)
    path = url_for("feedback_page.form", series_id=series_id, request_id=request_id)
    response = redirect(f"{path}?lang={visit.locale}", code=303)
    _private(response)
    return response


def _visit(series_id: str, request_id: str) -> _Visit:
    """The cookie's link, if it opens this page; a `_Refusal` otherwise."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        raise _Refusal(403, NO_COOKIE, locale=_locale(""))
    try:
        grant = _journals().grant(token, today=_now().date())
    except LinkRefused as exc:
        raise _link_refused(exc) from None
    locale = _locale(grant.locale)
    if (grant.series, grant.request) != (series_id, request_id):
        raise _Refusal(403, INVALID, locale=locale)
    return _Visit(token, grant, locale)


def _link_refused(exc: LinkRefused) -> _Refusal:
    """A stale link says so (410); anything else not ours is refused (403)."""
    if exc.expired:
        return _Refusal(410, EXPIRED, locale=_locale(exc.locale))
    return _Refusal(403, INVALID, locale=_locale(exc.locale))


def _open(visit: _Visit) -> tuple[Series, Feedback]:
    """The series and the request the visit's link opens, while it is the live one."""
    try:
        entry, asked = _journals().request_for(visit.grant)
    except Missing:
        raise _Refusal(410, GONE, locale=visit.locale) from None
    except (ServiceError, CadenceError, ConnectorError):
        raise _Refusal(503, UNREACHABLE, locale=visit.locale) from None
    if asked.state not in (FeedbackState.OPEN, FeedbackState.ANSWERED):
        # Withdrawn, or asked by the manager and still waiting for the employee's consent.
        raise _Refusal(410, GONE, locale=visit.locale)
    return entry, asked


def _form(locale: str) -> MultiDict[str, str]:
    """The posted form, read only when small enough."""
    if request.content_length is not None and request.content_length > MAX_FORM:
        raise _Refusal(413, TOO_LARGE, locale=locale)
    request.max_content_length = MAX_FORM
    try:
        return request.form
    except RequestEntityTooLarge:
        raise _Refusal(413, TOO_LARGE, locale=locale) from None


def _answers(data: Mapping[str, str], count: int) -> list[str]:
    """One text per question ("" for one left open), as the journal keeps them."""
    # A browser sends a line break as CRLF, where its maxlength counted one character.
    answers = [data.get(f"answer-{n}", "").replace("\r\n", "\n").strip() for n in range(count)]
    for number, text in enumerate(answers, start=1):
        if len(text) > MAX_ANSWER:
            raise _Refusal(400, TOO_LONG, number=number, length=len(text), limit=MAX_ANSWER)
    if not any(answers):
        raise _Refusal(400, EMPTY)
    return answers


def _say(locale: str, msgid: str, **params: Any) -> str:
    """`msgid` in `locale`, its numbers written as the language writes them (4,000; 4.000)."""
    from babel.numbers import format_decimal

    shown = {
        name: format_decimal(value, locale=locale) if isinstance(value, int) else value
        for name, value in params.items()
    }
    return gettext(locale, "site", msgid, **shown)


def _first_name(entry: Series) -> str:
    """Who asks, as the colleague knows them: the employee's first name (never the manager)."""
    employee = entry.pair.employee
    words = employee.name.split()
    return words[0] if words else employee.email.split("@")[0]


def _page(
    visit: _Visit,
    entry: Series,
    *,
    asked: Feedback | None = None,
    answered: bool = False,
    error: str | _Refusal = "",
    kept: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The questions of `asked` with a box each; or, once `answered`, thanks and no answers."""
    from babel.dates import format_date

    locale = visit.locale
    if isinstance(error, _Refusal):
        status = error.status
        error = _say(locale, error.msgid, **error.params)
    elif error:
        error = _say(locale, error)
    html = render_template(
        "feedback.html",
        locale=locale,
        endpoint="feedback_page.form",
        name=_first_name(entry),
        answered=answered,
        questions=list(asked.questions) if asked is not None and not answered else [],
        until=format_date(visit.grant.expires, "long", locale=locale),
        error=error,
        kept=kept if kept is not None else MultiDict(),
        csrf=_journals().form_token(visit.token),
        max_answer=MAX_ANSWER,
    )
    return _html(html, locale, status)


def _refused(refusal: _Refusal, *, here: bool = False) -> Response:
    """The page that says why, in one sentence. `here` keeps the language switch on this page;
    the link's own address is never linked to, for it holds the token."""
    locale = refusal.locale or _locale("")
    html = render_template(
        "feedback.html",
        locale=locale,
        endpoint="feedback_page.form" if here else "support.support",
        switch_args=(request.view_args or {}) if here else {},
        refused=_say(locale, refusal.msgid, **refusal.params),
    )
    return _html(html, locale, refusal.status)


def _html(html: str, locale: str, status: int) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Language"] = locale
    _private(response)
    return response


def _private(response: Response) -> None:
    """For one person's eyes: no cache, no referrer, no script, no frame."""
    private(response)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"


def init_app(app: Flask) -> None:
    """Serve the page where colleagues answer a request for feedback."""
    app.register_blueprint(bp)
