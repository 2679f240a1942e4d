"""Short-lived signed links to a record's export, for the Google cards.

A card cannot download a file, and the export needs the user's identity, which Google sends only
in the card's own POST requests. So the export button is an ``openDynamicLinkAction``: its POST is
verified like every other card request, and the answer opens a link to our own export route that
carries a grant signed with the app's key. The grant names the series, the occurrence, the format,
the user and their language, and expires `LIFETIME` after it was made; the route serves the export
only for exactly that grant, and the service still checks that the user is a partner.

Token: ``<payload>.<mac>``, both base64url without padding; the payload is compact JSON, the mac
HMAC-SHA256 over the payload with a key derived from the app's key for this purpose alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final

LIFETIME: Final = 300
"""Seconds a link stays valid: long enough to open it, short enough that a leaked one is stale."""

FORMATS: Final = ("html", "md")

_PURPOSE: Final = b"goedgesprek.workspace.export-link.v1"
_MAX_TOKEN: Final = 2048


class LinkRefused(Exception):
    """A link that does not grant this export; `expired` tells a stale link from a bad one.

    `locale` is the language of an authentic link (empty for a forged one), to say why in it.
    """

    def __init__(self, reason: str, *, expired: bool = False, locale: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired
        self.locale = locale


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
    payload = json.dumps(
        {
            "s": grant.series,
            "o": grant.occ,
            "f": grant.fmt,
            "u": grant.email,
            "l": grant.locale,
            "e": grant.expires,
        },
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()
    body = _b64(payload)
    return f"{body}.{_b64(_mac(key, body))}"


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
    if len(token) > _MAX_TOKEN or token.count(".") != 1 or not token.isascii():
        raise LinkRefused("the link is not one of ours")
    body, mac = token.split(".")
    try:
        given = _unb64(mac)
    except ValueError:
        raise LinkRefused("the link is not one of ours") from None
    if not hmac.compare_digest(given, _mac(key, body)):
        raise LinkRefused("the link's signature does not match")
    try:
        data = json.loads(_unb64(body))
        grant = Grant(
            series=_text(data, "s"),
            occ=_text(data, "o"),
            fmt=_text(data, "f"),
            email=_text(data, "u"),
            locale=_text(data, "l"),
            expires=int(data["e"]),
        )
    except (ValueError, TypeError, KeyError):
        raise LinkRefused("the link is not one of ours") from None
    if (grant.series, grant.occ, grant.fmt) != (series, occ, fmt):
        raise LinkRefused("the link was made for another export", locale=grant.locale)
    if now >= grant.expires:
        raise LinkRefused("the link has expired", expired=True, locale=grant.locale)
    return grant


def _text(data: object, key: str) -> str:
    if not isinstance(data, dict) or not isinstance(data.get(key), str):
        raise ValueError(key)
    value: str = data[key]
    return value


def _mac(key: bytes, body: str) -> bytes:
    derived = hmac.new(key, _PURPOSE, hashlib.sha256).digest()
    return hmac.new(derived, body.encode("ascii"), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from exc
