"""The Entra emulator's sign-in, consent and error pages (English, or Dutch with ``ui_locales=nl``).

Small HTML forms that post back to the authorize endpoint with the request's parameters carried
in hidden fields. The buttons keep the ids Microsoft's pages use (``idSIButton9`` signs in,
``idBtn_Accept`` / ``idBtn_Back`` answer the consent prompt), so a browser test reads the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

_TEXT = {
    "en": {
        "title": "Sign in to your account",
        "sign_in": "Sign in",
        "email": "Email, phone, or Skype",
        "to_continue": "to continue to {app}",
        "unknown": "This username may be incorrect. Make sure you typed it correctly. "
        "Otherwise, contact your admin.",
        "consent_title": "Permissions requested",
        "consent_lead": "{app} would like to:",
        "accept": "Accept",
        "cancel": "Cancel",
        "error_title": "Sorry, but we're having trouble signing you in.",
    },
    "nl": {
        "title": "Aanmelden bij uw account",
        "sign_in": "Aanmelden",
        "email": "E-mail, telefoon of Skype",
        "to_continue": "om door te gaan naar {app}",
        "unknown": "Deze gebruikersnaam is mogelijk onjuist. Controleer of u deze correct hebt "
        "getypt. Neem anders contact op met uw beheerder.",
        "consent_title": "Aangevraagde machtigingen",
        "consent_lead": "{app} wil graag:",
        "accept": "Accepteren",
        "cancel": "Annuleren",
        "error_title": "Er is een probleem bij het aanmelden.",
    },
}


def language(ui_locales: str | None) -> str:
    """``nl`` when the request's first ``ui_locales`` entry is Dutch, else ``en``."""
    first = (ui_locales or "").replace(",", " ").split()
    return "nl" if first and first[0].lower().startswith("nl") else "en"


def _hidden(params: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )


def _page(title: str, body: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body style="font-family: sans-serif; max-width: 28em; margin: 3em auto">{body}'
        "</body></html>"
    )


def sign_in(
    action: str, params: Mapping[str, str], *, app: str, hint: str, error: str, lang: str
) -> str:
    """The sign-in form: one address field (filled from ``login_hint``) and the Sign in button."""
    t = _TEXT[lang]
    alert = f'<p role="alert" id="usernameError">{escape(t["unknown"])}</p>' if error else ""
    body = (
        f"<h1>{escape(t['title'])}</h1>"
        f"<p>{escape(t['to_continue'].format(app=app))}</p>{alert}"
        f'<form method="post" action="{escape(action)}">{_hidden(params)}'
        f'<input type="hidden" name="step" value="sign_in">'
        f'<label for="i0116">{escape(t["email"])}</label> '
        f'<input type="email" id="i0116" name="loginfmt" value="{escape(hint)}" required> '
        f'<input type="submit" id="idSIButton9" value="{escape(t["sign_in"])}">'
        "</form>"
    )
    return _page(t["title"], body, lang)


def consent(
    action: str,
    params: Mapping[str, str],
    *,
    app: str,
    email: str,
    scopes: list[str],
    lang: str,
) -> str:
    """The consent prompt for `scopes` the app lacks, with Accept and Cancel."""
    t = _TEXT[lang]
    items = "".join(f"<li>{escape(s)}</li>" for s in scopes)
    body = (
        f"<h1>{escape(t['consent_title'])}</h1><p>{escape(email)}</p>"
        f"<p>{escape(t['consent_lead'].format(app=app))}</p><ul>{items}</ul>"
        f'<form method="post" action="{escape(action)}">{_hidden(params)}'
        f'<input type="hidden" name="step" value="consent">'
        f'<input type="hidden" name="loginfmt" value="{escape(email)}">'
        f'<button type="submit" name="consent" value="no" id="idBtn_Back">'
        f"{escape(t['cancel'])}</button> "
        f'<button type="submit" name="consent" value="yes" id="idBtn_Accept">'
        f"{escape(t['accept'])}</button></form>"
    )
    return _page(t["consent_title"], body, lang)


def error(description: str, lang: str) -> str:
    """The page Entra shows instead of redirecting (unknown app, unregistered redirect URI)."""
    t = _TEXT[lang]
    body = f"<h1>{escape(t['error_title'])}</h1><p id='error'>{escape(description)}</p>"
    return _page(t["error_title"], body, lang)
