"""Compact signed tokens for links the app hands out (an export, a record form).

Token: ``<payload>.<mac>``, both base64url without padding; the payload is compact JSON, the mac
HMAC-SHA256 over the payload with a key derived from the app's key for one purpose alone, so a
token made for one kind of link never opens another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

MAX_TOKEN = 2048
"""The longest token read: ours are a few hundred characters."""


class Forged(ValueError):
    """A token that is not one of ours for this purpose; the reason stays English, for logs."""


class LinkRefused(Exception):
    """A link that does not open what was asked; `expired` tells a stale link from a bad one.

    `locale` is the language of an authentic link (empty for a forged one), to say why in it.
    """

    def __init__(self, reason: str, *, expired: bool = False, locale: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired
        self.locale = locale


def seal(key: bytes, purpose: bytes, claims: Mapping[str, Any]) -> str:
    """The token carrying `claims` (JSON-able), signed for `purpose`."""
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=True).encode()
    body = _b64(payload)
    return f"{body}.{_b64(mac(key, purpose, body.encode('ascii')))}"


def unseal(key: bytes, purpose: bytes, token: str) -> dict[str, Any]:
    """The claims of a token signed with `key` for `purpose`; `Forged` for anything else."""
    if len(token) > MAX_TOKEN or token.count(".") != 1 or not token.isascii():
        raise Forged("the link is not one of ours")
    body, given = token.split(".")
    try:
        signature = _unb64(given)
    except ValueError:
        raise Forged("the link is not one of ours") from None
    if not hmac.compare_digest(signature, mac(key, purpose, body.encode("ascii"))):
        raise Forged("the link's signature does not match")
    try:
        data = json.loads(_unb64(body))
    except ValueError:
        raise Forged("the link is not one of ours") from None
    if not isinstance(data, dict):
        raise Forged("the link is not one of ours")
    return data


def mac(key: bytes, purpose: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of `data` under the key derived from `key` for `purpose`."""
    derived = hmac.new(key, purpose, hashlib.sha256).digest()
    return hmac.new(derived, data, hashlib.sha256).digest()


def text(data: Mapping[str, Any], name: str) -> str:
    """A claim that must be a string; `Forged` otherwise."""
    value = data.get(name)
    if not isinstance(value, str):
        raise Forged(f"the link has no {name!r}")
    return value


def number(data: Mapping[str, Any], name: str) -> int:
    """A claim that must be an integer; `Forged` otherwise."""
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Forged(f"the link has no {name!r}")
    return value


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(value: str) -> bytes:
    if not value or not value.isascii():
        raise ValueError("empty")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from exc
