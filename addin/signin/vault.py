"""Where the server keeps what it needs to act for a person later: sealed, per account.

An account is one person at one identity provider: ``("entra", "<tid>.<oid>")`` or
``("google", "<sub>")``. Its secret is a provider's token cache (msal's serialized cache, Google's
refresh token and granted scopes), sealed with the keyring's active KEK before it reaches any
store, with the provider and subject bound as associated data, so a blob copied onto another
account does not open. A parked account has a reason (its refresh token was revoked, consent was
withdrawn): work for it waits until the person signs in again, which clears the reason.

`TokenVault` is the port; `MemoryTokenVault` keeps accounts in memory (tests, the demo); the server
store's `SqlTokenVault` keeps them in the database.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from connectors.keyring import Keyring

_VERSION = b"\x01"
_NONCE = 12


class VaultError(Exception):
    """A sealed secret cannot be opened (another keyring, a damaged or moved blob)."""


@dataclass(frozen=True, slots=True)
class Account:
    """One person at one identity provider, as the vault knows them."""

    provider: str
    subject: str
    email: str
    tenant: str = ""
    parked: str = ""
    """Why work for this account waits for a new sign-in; empty while it can act."""
    updated: datetime | None = None


def _ad(provider: str, subject: str, kek_id: str) -> bytes:
    return b"\x00".join(
        part.encode() for part in ("goedgesprek-vault/1", provider, subject, kek_id)
    )


def seal_secret(keyring: Keyring, provider: str, subject: str, secret: bytes) -> bytes:
    """`secret` encrypted under the active KEK, bound to its account."""
    kek_id, kek = keyring.active()
    nonce = os.urandom(_NONCE)
    body = AESGCM(kek).encrypt(nonce, secret, _ad(provider, subject, kek_id))
    head = kek_id.encode()
    return _VERSION + bytes([len(head)]) + head + nonce + body


def open_secret(keyring: Keyring, provider: str, subject: str, sealed: bytes) -> bytes:
    """The secret `seal_secret` made for this account; `VaultError` otherwise."""
    if len(sealed) < 2 or sealed[:1] != _VERSION:
        raise VaultError(f"the stored secret of {provider} account {subject} is not sealed")
    size = sealed[1]
    kek_id = sealed[2 : 2 + size].decode(errors="replace")
    rest = sealed[2 + size :]
    kek = keyring.kek(kek_id)
    if kek is None:
        raise VaultError(
            f"the secret of {provider} account {subject} is sealed with key {kek_id}, "
            "which this keyring does not hold"
        )
    try:
        return AESGCM(kek).decrypt(rest[:_NONCE], rest[_NONCE:], _ad(provider, subject, kek_id))
    except (InvalidTag, ValueError) as exc:
        raise VaultError(
            f"the secret of {provider} account {subject} does not open: it was changed or "
            "belongs to another account"
        ) from exc


class TokenVault(Protocol):
    """Accounts and their sealed secrets; implementations seal with `seal_secret`."""

    def save(
        self, provider: str, subject: str, email: str, secret: bytes, *, tenant: str = ""
    ) -> Account:
        """Store (or replace) the account's secret and address; clears a parked reason."""
        ...

    def secret(self, provider: str, subject: str) -> bytes | None:
        """The account's opened secret, or None when the vault has none."""
        ...

    def account(self, provider: str, subject: str) -> Account | None:
        """The account, or None."""
        ...

    def find(self, provider: str, email: str) -> Account | None:
        """The account of this address at this provider (any case), newest first, or None."""
        ...

    def park(self, provider: str, subject: str, reason: str) -> None:
        """Stop acting for the account until its person signs in again; `reason` says why."""
        ...

    def forget(self, provider: str, subject: str) -> None:
        """Remove the account and its secret (sign-out, erasure)."""
        ...


class MemoryTokenVault:
    """A `TokenVault` in memory, sealing like the real one (tests, the demo)."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._accounts: dict[tuple[str, str], tuple[Account, bytes]] = {}
        self._lock = threading.Lock()

    def save(
        self, provider: str, subject: str, email: str, secret: bytes, *, tenant: str = ""
    ) -> Account:
        sealed = seal_secret(self._keyring, provider, subject, secret)
        account = Account(provider, subject, email.strip().lower(), tenant, "", datetime.now(UTC))
        with self._lock:
            self._accounts[(provider, subject)] = (account, sealed)
        return account

    def secret(self, provider: str, subject: str) -> bytes | None:
        with self._lock:
            found = self._accounts.get((provider, subject))
        return None if found is None else open_secret(self._keyring, provider, subject, found[1])

    def account(self, provider: str, subject: str) -> Account | None:
        with self._lock:
            found = self._accounts.get((provider, subject))
        return None if found is None else found[0]

    def find(self, provider: str, email: str) -> Account | None:
        wanted = email.strip().lower()
        with self._lock:
            matches = [
                a
                for (p, _), (a, _) in self._accounts.items()
                if p == provider and a.email == wanted
            ]
        matches.sort(key=lambda a: a.updated or datetime.min.replace(tzinfo=UTC), reverse=True)
        return matches[0] if matches else None

    def park(self, provider: str, subject: str, reason: str) -> None:
        with self._lock:
            found = self._accounts.get((provider, subject))
            if found is not None:
                self._accounts[(provider, subject)] = (
                    replace(found[0], parked=reason or "sign in again"),
                    found[1],
                )

    def forget(self, provider: str, subject: str) -> None:
        with self._lock:
            self._accounts.pop((provider, subject), None)
