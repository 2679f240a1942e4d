"""Signed links to one occurrence's record form, for the person a reminder mail went to.

A mail cannot open the side panel on a form, and whoever reads it may be on a phone without
Outlook or Google Calendar at hand. So the record prompt and the acceptance reminder carry a link
to a plain web page of the record form (`addin.record_page`), signed with the app's key. The grant
names the series, the occurrence, the person and their language, and expires `LIFETIME` after the
mail was composed; the page acts only on exactly that occurrence, as that person, and the service
still checks on every request that they are a partner of the series.

The link is a bearer credential, like a password-reset link: it is sent only to the person's own
mailbox, and the page trades it at once for a cookie scoped to that occurrence's path, so it leaves
the address bar, the history and the referrer of anything the page links to.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from addin import signed
from addin.signed import LinkRefused

LIFETIME: Final = 3 * 24 * 3600
"""Seconds a link stays valid: a record is written within days of the meeting, or in the pane."""

_PURPOSE: Final = b"goedgesprek.record-link.v1"
_FORM: Final = b"goedgesprek.record-form.v1"


@dataclass(frozen=True, slots=True)
class Grant:
    """What one link allows: one person's record form of one occurrence, until `expires`."""

    series: str
    occ: str
    email: str
    locale: str
    expires: int
    nonce: str = ""
    """Random: two links made in the same second for the same form still differ."""


def grant_for(key: bytes, *, series: str, occ: str, email: str, locale: str, now: float) -> str:
    """A token for this person's record form, valid for `LIFETIME` seconds from `now`."""
    claims = {
        "s": series,
        "o": occ,
        "u": email.lower(),
        "l": locale,
        "e": int(now) + LIFETIME,
        "n": secrets.token_urlsafe(6),
    }
    return signed.seal(key, _PURPOSE, claims)


def read(key: bytes, token: str, *, now: float) -> Grant:
    """The grant in `token` when it is ours, unaltered and unexpired; `LinkRefused` otherwise."""
    try:
        data = signed.unseal(key, _PURPOSE, token)
        grant = Grant(
            series=signed.text(data, "s"),
            occ=signed.text(data, "o"),
            email=signed.text(data, "u"),
            locale=signed.text(data, "l"),
            expires=signed.number(data, "e"),
            nonce=signed.text(data, "n"),
        )
    except signed.Forged as exc:
        raise LinkRefused(str(exc)) from None
    if not grant.series or not grant.occ or "@" not in grant.email:
        raise LinkRefused("the link names no form")
    if now >= grant.expires:
        raise LinkRefused("the link has expired", expired=True, locale=grant.locale)
    return grant


def verify(key: bytes, token: str, *, series: str, occ: str, now: float) -> Grant:
    """`read`, and the grant must be for this series and occurrence."""
    grant = read(key, token, now=now)
    if (grant.series, grant.occ) != (series, occ):
        raise LinkRefused("the link was made for another conversation", locale=grant.locale)
    return grant


def form_token(key: bytes, token: str) -> str:
    """The value a form on the page must send back with the link's cookie (against CSRF)."""
    return signed.mac(key, _FORM, token.encode("ascii")).hex()


def form_token_ok(key: bytes, token: str, given: str) -> bool:
    """True when `given` is the form token of `token`."""
    return given.isascii() and secrets.compare_digest(form_token(key, token), given)
