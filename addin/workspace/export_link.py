"""Short-lived signed links to a record's export, for the Google cards.

A card cannot download a file, and the export needs the user's identity, which Google sends only
in the card's own POST requests. So the export button is an ``openDynamicLinkAction``: its POST is
verified like every other card request, and the answer opens a link to our own export route that
carries a grant signed with the app's key. The grant names the series, the occurrence, the format,
the user and their language, and expires `LIFETIME` after it was made; the route serves the export
only for exactly that grant, and the service still checks that the user is a partner.

The token is `addin.signed`'s, signed for this purpose alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from addin import signed
from addin.signed import LinkRefused

LIFETIME: Final = 300
"""Seconds a link stays valid: long enough to open it, short enough that a leaked one is stale."""

FORMATS: Final = ("html", "md")

_PURPOSE: Final = b"goedgesprek.workspace.export-link.v1"


@dataclass(frozen=True, slots=True)
class Grant:
    """What one link allows: one user's export of one occurrence in one format, until `expires`."""

    series: str
    occ: str
    fmt: str
    email: str
    locale: str
    expires: int


def sign(key: bytes, grant: Grant) -> str:
    """The token for `grant`."""
    claims = {
        "s": grant.series,
        "o": grant.occ,
        "f": grant.fmt,
        "u": grant.email,
        "l": grant.locale,
        "e": grant.expires,
    }
    return signed.seal(key, _PURPOSE, claims)


def grant_for(
    key: bytes, *, series: str, occ: str, fmt: str, email: str, locale: str, now: float
) -> str:
    """A token for this user's export, valid for `LIFETIME` seconds from `now`."""
    return sign(key, Grant(series, occ, fmt, email, locale, int(now) + LIFETIME))


def verify(key: bytes, token: str, *, series: str, occ: str, fmt: str, now: float) -> Grant:
    """The grant in `token` when it is ours, unaltered, unexpired and for this export.

    Raises `LinkRefused` otherwise: a forged, altered or non-ASCII token, one for another series,
    occurrence or format, or one past its expiry.
    """
    try:
        data = signed.unseal(key, _PURPOSE, token)
        grant = Grant(
            series=signed.text(data, "s"),
            occ=signed.text(data, "o"),
            fmt=signed.text(data, "f"),
            email=signed.text(data, "u"),
            locale=signed.text(data, "l"),
            expires=signed.number(data, "e"),
        )
    except signed.Forged as exc:
        raise LinkRefused(str(exc)) from None
    if (grant.series, grant.occ, grant.fmt) != (series, occ, fmt):
        raise LinkRefused("the link was made for another export", locale=grant.locale)
    if now >= grant.expires:
        raise LinkRefused("the link has expired", expired=True, locale=grant.locale)
    return grant
