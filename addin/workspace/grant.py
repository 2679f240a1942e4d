"""The offline grant as the add-on shows it: a card section, and the two routes of the flow.

- A card's notice (`notice`): when the person has given no offline access, gave only some of the
  scopes the product needs (Google's granular consent), or their grant was revoked, the card says
  so in plain words, naming each missing permission, with a button that opens the grant link.
- ``GET /workspace/oauth/start?t=<signed person>``: 302 to Google's consent page.
- ``GET /workspace/oauth/callback``: Google's redirect back; the grant is sealed
  (`addin.signin.google.GoogleGrants`) and a short page in the person's language says what
  happened and what is still missing.

URLs are made under ``PUBLIC_URL`` when it is set, never from the request's Host header.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, current_app, redirect, request, url_for
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from addin.i18n import gettext, request_locale
from addin.signin.google import GoogleGrants, GrantError, OAuthClient, http_session, needed_scopes
from addin.signin.vault import TokenVault
from addin.workspace import cards as c

log = logging.getLogger(__name__)

EXTENSION = "goedgesprek.google_grants"


def _(msgid: str) -> str:
    """Marks a text for the `cards` catalog; it is translated where it is shown."""
    return msgid


SCOPE_WORDS: Mapping[str, str] = {
    "https://www.googleapis.com/auth/calendar.events.owned": _(
        "see and change the events in the calendars you own (to plan the series)"
    ),
    "https://www.googleapis.com/auth/calendar.events.freebusy": _(
        "see when you are busy (to find a time that suits you both)"
    ),
    "https://www.googleapis.com/auth/drive.file": _(
        "keep the files it made in your Drive (the agenda and the record)"
    ),
    "https://www.googleapis.com/auth/gmail.send": _("send reminders by e-mail in your name"),
}
"""What each needed scope lets the add-on do, in words a person can weigh."""

_FAILURES: Mapping[str, str] = {
    "link_expired": _("This link has expired: open the add-on again and use its button."),
    "link_invalid": _("This link is not valid: open the add-on again and use its button."),
    "refused": _("Google did not accept the sign-in: start again from the card."),
    "no_identity": _("Google did not say which account gave access: start again from the card."),
    "other_account": _(
        "You gave access with another Google account than the one using the add-on: start "
        "again from the card and choose %(email)s."
    ),
    "not_offline": _("Google gave no lasting access: start again from the card."),
}


def grants() -> GoogleGrants | None:
    """The app's offline grants, when ``GOOGLE_OAUTH_CLIENT_ID`` is configured."""
    found: GoogleGrants | None = current_app.extensions.get(EXTENSION)
    return found


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` under ``PUBLIC_URL`` (else as the request reached us)."""
    public = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if public:
        return public + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def scope_words(t: Callable[..., str], scopes: list[str]) -> list[str]:
    """Each scope as the person reads it (a scope without words shows as itself)."""
    return [t(SCOPE_WORDS[s]) if s in SCOPE_WORDS else s for s in scopes]


def notice(
    t: Callable[..., str], *, email: str, subject: str, locale: str
) -> Mapping[str, Any] | None:
    """A card section asking for the offline grant, or None when it is complete (or not used)."""
    found = grants()
    if found is None or not subject:
        return None
    grant = found.grant_of(email)
    missing = list(needed_scopes()) if grant is None else grant.missing(needed_scopes())
    if grant is not None and grant.parked:
        lines = [
            t(
                "Your access for Goed Gesprek was withdrawn or has expired. Give it again so "
                "nothing has to wait: what you wrote is kept."
            )
        ]
        label = t("Give access again")
    elif grant is None:
        lines = [
            t(
                "So that Goed Gesprek can prepare your conversations while you are away, "
                "give it lasting access once."
            )
        ]
        label = t("Give access")
    elif missing:
        lines = [t("Goed Gesprek still misses your permission to:")]
        lines += [f"• {words}" for words in scope_words(t, missing)]
        label = t("Give access again")
    else:
        return None
    link = external_url(
        "workspace.oauth_start",
        t=found.link_token(subject=subject, email=email, locale=locale),
    )
    widgets = [c.text(c.escape("\n".join(lines))), c.button_list([c.button(label, link)])]
    return c.section(None, widgets)


_PAGE_STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "background:#f8f9fa;color:#1f1f1f}main{max-width:32rem;margin:3rem auto;padding:1.5rem 2rem;"
    "background:#fff;border:1px solid #dadce0;border-radius:8px;line-height:1.5}"
    "h1{font-size:1.25rem;margin:0 0 1rem;color:#0b57d0}ul{padding-left:1.25rem}"
)


def _page(status: int, text: str, locale: str) -> Response:
    """A small page in the person's language: what happened and what to do next.

    Lines starting with a bullet become a list; it runs no script (its CSP allows none).
    """
    blocks: list[str] = []
    items: list[str] = []
    for line in text.splitlines():
        if line.startswith("• "):
            items.append(f"<li>{escape(line[2:])}</li>")
            continue
        if items:
            blocks.append("<ul>" + "".join(items) + "</ul>")
            items = []
        blocks.append(f"<p>{escape(line)}</p>")
    if items:
        blocks.append("<ul>" + "".join(items) + "</ul>")
    lang = "nl" if locale == "nl" else "en"
    html = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Goed Gesprek</title><style>{_PAGE_STYLE}</style></head>"
        f"<body><main><h1>Goed Gesprek</h1>{''.join(blocks)}</main></body></html>\n"
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    return response


def _failure(exc: GrantError, locale: str) -> Response:
    log.warning("the Google grant did not complete (%s): %s", exc.code, exc)
    msgid = _FAILURES.get(exc.code, _FAILURES["refused"])
    shown = exc.locale or locale
    return _page(400, gettext(shown, "cards", msgid, email=exc.email), shown)


def oauth_start() -> BaseResponse:
    """Send the person to Google's consent page for the offline grant."""
    locale = request_locale()
    found = grants()
    if found is None:
        return _page(404, gettext(locale, "cards", _("Lasting access is not set up here.")), locale)
    try:
        url = found.authorization_url(request.args.get("t", ""))
    except GrantError as exc:
        return _failure(exc, locale)
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def oauth_callback() -> Response:
    """Google's redirect back: seal the grant and say what was granted."""
    found = grants()
    locale = request_locale()
    if found is None:
        return _page(404, gettext(locale, "cards", _("Lasting access is not set up here.")), locale)
    state = request.args.get("state", "")
    locale = found.locale_of(state) or locale
    if request.args.get("error"):
        log.info("Google's consent ended with %s", request.args.get("error"))
        text = _(
            "You did not give access. Goed Gesprek then works only while the add-on is open; "
            "the button on the card lets you give access later."
        )
        return _page(403, gettext(locale, "cards", text), locale)
    code = request.args.get("code", "")
    if not code or not state:
        return _page(400, gettext(locale, "cards", _FAILURES["link_invalid"]), locale)
    try:
        grant = found.complete(state, code)
    except GrantError as exc:
        return _failure(exc, locale)
    missing = grant.missing(needed_scopes())
    if missing:

        def t(msgid: str) -> str:
            return gettext(locale, "cards", msgid)

        lines = [t("Thank you. Goed Gesprek still misses your permission to:")]
        lines += [f"• {words}" for words in scope_words(t, missing)]
        lines.append(t("Open the add-on again to give it."))
        return _page(200, "\n".join(lines), locale)
    text = _(
        "Thank you: Goed Gesprek can now prepare your conversations while you are away. You "
        "can close this window."
    )
    return _page(200, gettext(locale, "cards", text), locale)


def setup(app: Flask) -> None:
    """Build the app's `GoogleGrants` when ``GOOGLE_OAUTH_CLIENT_ID`` is configured.

    The grants are sealed in the server store's vault.
    """
    client = OAuthClient.from_config(app.config)
    if client is None:
        return
    services = app.extensions["goedgesprek.services"]
    vault: TokenVault = services.vault
    key = app.secret_key
    raw = key if isinstance(key, bytes) else str(key).encode()
    found = GoogleGrants(client, vault, http_session(app.config), raw)
    app.extensions[EXTENSION] = found
    provider = app.extensions.get("goedgesprek.provider")
    offline = getattr(provider, "offline", None)
    if offline is not None:
        offline.bind(found)
