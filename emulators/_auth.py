"""Bearer tokens both emulators hand out and check: opaque, per user, revocable, with scopes.

A token minted without scopes may do everything (what most tests want); one minted with scopes
is held to them where an emulator checks them (mail, the one place the product narrows them).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable


class Tokens:
    """Tokens minted for users; a revoked user's tokens stop working, new ones work again."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._owners: dict[str, str] = {}
        self._scopes: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def mint(self, email: str, scopes: Iterable[str] | None = None) -> str:
        """A fresh token for `email` (lower-cased as its owner), held to `scopes` if given."""
        token = self._prefix + secrets.token_urlsafe(32)
        with self._lock:
            self._owners[token] = email.lower()
            if scopes is not None:
                self._scopes[token] = frozenset(scopes)
        return token

    def revoke(self, email: str) -> None:
        """Every token of `email` is refused from now on (consent expired or withdrawn)."""
        with self._lock:
            for token in [t for t, owner in self._owners.items() if owner == email.lower()]:
                del self._owners[token]
                self._scopes.pop(token, None)

    def owner(self, authorization: object) -> str | None:
        """The user an ``Authorization: Bearer ...`` header's token belongs to, or None."""
        token = _bearer(authorization)
        with self._lock:
            return self._owners.get(token) if token else None

    def scopes(self, authorization: object) -> frozenset[str] | None:
        """The scopes of an ``Authorization`` header's token; None: not held to any."""
        token = _bearer(authorization)
        with self._lock:
            return self._scopes.get(token) if token else None

    def clear(self) -> None:
        """Forget every token."""
        with self._lock:
            self._owners.clear()
            self._scopes.clear()


def _bearer(authorization: object) -> str | None:
    scheme, _, token = str(authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None
