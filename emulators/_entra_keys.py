"""The Entra emulator's token signing keys: RSA 2048, each with a self-signed certificate.

Microsoft publishes its keys as a JWK set whose entries carry ``kty``, ``use``, ``kid``, ``x5t``,
``n``, ``e``, ``x5c`` and, at the v2.0 endpoint, ``issuer`` (learn.microsoft.com, "Signing key
rollover in the Microsoft identity platform"; the live ``discovery/v2.0/keys`` document). The
``kid`` equals ``x5t``, the base64url SHA-1 thumbprint of the certificate, as Entra's keys do.
Several keys are published at once; one signs, and a rollover makes a newer one the signer.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """One key: its id, private key and certificate (DER)."""

    kid: str
    private_key: rsa.RSAPrivateKey
    certificate: bytes

    def jwk(self, issuer: str) -> dict[str, Any]:
        """The public half as Entra's JWKS lists it."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": _uint(numbers.n),
            "e": _uint(numbers.e),
            "x5c": [base64.b64encode(self.certificate).decode("ascii")],
            "cloud_instance_name": "microsoftonline.com",
            "issuer": issuer,
        }


def new_key() -> SigningKey:
    """A fresh RSA 2048 key with a self-signed certificate, as Entra's signing certificates are."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.windows.net")]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    kid = b64url(hashlib.sha1(der, usedforsecurity=False).digest())
    return SigningKey(kid, key, der)


class KeyRing:
    """The published keys, oldest first; the active one signs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        first = new_key()
        self._keys: list[SigningKey] = [first]
        self._active = first.kid

    def rotate(self) -> str:
        """Publish a new key and sign with it from now on; returns its kid."""
        key = new_key()
        with self._lock:
            self._keys.append(key)
            self._active = key.kid
        return key.kid

    def retire(self, kid: str) -> None:
        """Stop publishing `kid`; tokens it signed no longer verify. The active key cannot go."""
        with self._lock:
            if kid == self._active:
                raise ValueError(f"key {kid} is the one signing tokens: rotate_keys() first")
            if not any(k.kid == kid for k in self._keys):
                raise KeyError(f"no published key has kid {kid!r}")
            self._keys = [k for k in self._keys if k.kid != kid]

    def published(self) -> list[SigningKey]:
        """Every key in the JWKS, oldest first."""
        with self._lock:
            return list(self._keys)

    def sign(self, claims: dict[str, Any]) -> str:
        """`claims` as an RS256 JWT with header ``typ: JWT`` and the active ``kid``."""
        with self._lock:
            key = next(k for k in self._keys if k.kid == self._active)
        # Entra's headers carry typ, alg, kid and x5t (the same thumbprint).
        headers = {"typ": "JWT", "kid": key.kid, "x5t": key.kid}
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of `token` when a published key signed it (RS256); None otherwise.

        Only the signature is checked here; the caller checks audience and lifetime so it can say
        which one failed.
        """
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return None
        key = next((k for k in self.published() if k.kid == kid), None)
        if key is None:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            return None
        return claims
