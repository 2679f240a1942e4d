"""Bearer tokens both emulators hand out and check: opaque, per user, revocable."""

from __future__ import annotations

import secrets
import threading


class Tokens:
    """Tokens minted for users; a revoked user's tokens stop working, new ones work again."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def mint(self, email: str) -> str:
        """A fresh token for `email` (lower-cased as its owner)."""
        token = self._prefix + secrets.token_urlsafe(32)
        with self._lock:
            self._owners[token] = email.lower()
        return token

    def revoke(self, email: str) -> None:
        """Every token of `email` is refused from now on (consent expired or withdrawn)."""
        with self._lock:
            for token in [t for t, owner in self._owners.items() if owner == email.lower()]:
                del self._owners[token]

    def owner(self, authorization: object) -> str | None:
        """The user an ``Authorization: Bearer ...`` header's token belongs to, or None."""
        scheme, _, token = str(authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        with self._lock:
            return self._owners.get(token.strip())

    def clear(self) -> None:
        """Forget every token."""
        with self._lock:
            self._owners.clear()
