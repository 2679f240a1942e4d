"""Verify that a request to a Google Workspace add-on endpoint comes from Google.

Google sends every request to an HTTP add-on endpoint with ``Authorization: Bearer <ID token>``: an
OpenID Connect ID token signed by Google (keys published at ``GOOGLE_CERTS_URL``), issued by
``https://accounts.google.com``, whose ``aud`` is the endpoint URL (or the audience configured for
the deployment) and whose ``email`` is the add-on's own service account,
``service-<project number>@gcp-sa-gsuiteaddons.iam.gserviceaccount.com``, with ``email_verified``.

`GoogleIdTokenVerifier` checks all of that. Its certificates come from a provider: `GoogleCerts`
(fetched with google-auth's transport, cached as long as Google's ``Cache-Control`` allows) in
production, or a `LocalSigner`'s own key for the demo and the tests, so both run the same checks.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt
from google.auth import jwt as google_jwt

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
"""Where Google publishes the certificates (key id -> PEM) that sign its ID tokens."""

GOOGLE_ISSUER = "https://accounts.google.com"
"""The ``iss`` of Google's ID tokens (Google also still issues the bare host name)."""

GOOGLE_ISSUERS = frozenset({GOOGLE_ISSUER, "accounts.google.com"})

CLOCK_SKEW = timedelta(seconds=30)
"""How far our clock and Google's may disagree before ``iat``/``exp`` are held against a token."""

TOKEN_LIFETIME = timedelta(hours=1)
"""How long a locally signed token lives: the same hour as Google's own ID tokens."""

KEY_FILE = "workspace-signing-key.pem"
"""The local signing key's file name inside the data directory."""

KEY_CHECKED_FILE = "workspace-signing-key.checked"
"""The SHA-256 of the key file as last found sound: an unchanged key is not checked again."""

LOCAL_SERVICE_ACCOUNT = "service-000000000000@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
"""The service-account email local tokens carry by default (project number 0: never a real one)."""

_ALGORITHM = "RS256"
_CERTS_FALLBACK_MAX_AGE = timedelta(minutes=5)
_MAX_AGE = re.compile(r"max-age=(\d+)")


class Unauthorized(Exception):
    """The request is not from Google (or not for us); `reason` says what to check."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CertsUnavailable(Unauthorized):
    """Google's signing certificates could not be fetched, so no token can be checked now."""


class SigningKeyError(Exception):
    """The local signing key file exists but cannot be used."""


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says: who signed the request, for which endpoint, and when."""

    issuer: str
    audience: str
    email: str
    subject: str
    issued_at: datetime
    expires_at: datetime


class RequestVerifier(Protocol):
    """Checks one request's ``Authorization`` header for the URL it was sent to."""

    def verify(self, authorization_header: str | None, url: str) -> Claims:
        """Return the token's claims, or raise `Unauthorized` with a reason to act on."""
        ...


CertsProvider = Callable[[], Mapping[str, str]]
"""Returns the trusted certificates or public keys in PEM form, by key id (``kid``)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class GoogleCerts:
    """Google's published signing certificates, fetched over HTTPS and cached per ``max-age``.

    `request` is a google-auth transport request (default: ``google.auth.transport.requests``);
    the fetch happens on first use, never at construction.
    """

    def __init__(
        self,
        url: str = GOOGLE_CERTS_URL,
        *,
        request: Callable[..., Any] | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._url = url
        self._request = request
        self._clock = clock
        self._lock = threading.Lock()
        self._certs: dict[str, str] = {}
        self._fresh_until: datetime | None = None

    def __call__(self) -> Mapping[str, str]:
        """The current certificates by key id; raises `CertsUnavailable` if they cannot be had."""
        with self._lock:
            now = self._clock()
            if self._fresh_until is None or now >= self._fresh_until:
                self._certs, max_age = self._fetch()
                self._fresh_until = now + max_age
            return dict(self._certs)

    def _fetch(self) -> tuple[dict[str, str], timedelta]:
        request = self._request
        if request is None:
            import google.auth.transport.requests

            request = self._request = google.auth.transport.requests.Request()
        try:
            response = request(self._url, method="GET")
        except Exception as exc:  # any transport failure means the same thing to the caller
            raise CertsUnavailable(
                f"could not fetch Google's signing certificates from {self._url}: {exc}"
            ) from exc
        if response.status != 200:
            raise CertsUnavailable(
                f"could not fetch Google's signing certificates from {self._url}: "
                f"HTTP {response.status}"
            )
        try:
            certs = json.loads(response.data)
        except ValueError as exc:
            raise CertsUnavailable(f"{self._url} did not answer with JSON certificates") from exc
        if not isinstance(certs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in certs.items()
        ):
            raise CertsUnavailable(f"{self._url} did not answer with a key id -> PEM object")
        headers = {str(k).lower(): str(v) for k, v in dict(response.headers).items()}
        match = _MAX_AGE.search(headers.get("cache-control", ""))
        max_age = timedelta(seconds=int(match[1])) if match else _CERTS_FALLBACK_MAX_AGE
        return certs, max_age


class GoogleIdTokenVerifier:
    """Verifies Google's ID token on an add-on request: signature, issuer, time, audience, email.

    `audience` None means the token's ``aud`` must be the URL the request reached (Google's
    default for an HTTP add-on); a string means the fixed audience configured for the deployment.
    `certs` defaults to Google's published certificates; pass a `LocalSigner`'s ``certs`` to trust
    a local key instead. `clock` is read once per verification; `clock_skew` is the allowance for
    ``iat`` and ``exp``.
    """

    def __init__(
        self,
        *,
        service_account_email: str,
        audience: str | None = None,
        certs: CertsProvider | None = None,
        certs_url: str = GOOGLE_CERTS_URL,
        clock: Callable[[], datetime] = _utcnow,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> None:
        if not service_account_email.strip():
            raise ValueError("service_account_email must be the add-on's service account")
        self.service_account_email = service_account_email.strip()
        self.audience = audience
        self._certs: CertsProvider = certs if certs is not None else GoogleCerts(certs_url)
        self._clock = clock
        self._skew = clock_skew

    @property
    def certs(self) -> CertsProvider:
        """Where this verifier's trusted keys come from (to check a user's ID token alike)."""
        return self._certs

    def verify(self, authorization_header: str | None, url: str) -> Claims:
        """Return the claims of the request's token, or raise `Unauthorized` saying why not."""
        token = _bearer_token(authorization_header)
        header, payload, signed, signature = _split(token)
        self._check_signature(header, signed, signature)
        now = self._clock()
        issuer = payload.get("iss")
        if issuer not in GOOGLE_ISSUERS:
            raise Unauthorized(f"wrong issuer: expected {GOOGLE_ISSUER}, got {issuer!r}")
        issued_at, expires_at = self._check_times(payload, now)
        expected = self.audience if self.audience is not None else url
        audience = payload.get("aud")
        if audience != expected:
            raise Unauthorized(f"wrong audience: expected {expected}, got {audience!r}")
        email = payload.get("email")
        if not isinstance(email, str) or email.lower() != self.service_account_email.lower():
            raise Unauthorized(
                f"wrong email: expected the add-on's service account "
                f"{self.service_account_email}, got {email!r}"
            )
        if payload.get("email_verified") not in (True, "true"):
            raise Unauthorized(f"email not verified: the token does not vouch for {email}")
        subject = payload.get("sub")
        return Claims(
            issuer=str(issuer),
            audience=expected,
            email=email,
            subject=subject if isinstance(subject, str) else "",
            issued_at=issued_at,
            expires_at=expires_at,
        )

    def _check_signature(self, header: Mapping[str, Any], signed: bytes, signature: bytes) -> None:
        algorithm = header.get("alg")
        if algorithm != _ALGORITHM:
            raise Unauthorized(
                f"not signed by Google: algorithm {algorithm!r}, expected {_ALGORITHM}"
            )
        certs = self._certs()
        key_id = header.get("kid")
        if key_id is None:
            candidates = list(certs.values())
        elif isinstance(key_id, str) and key_id in certs:
            candidates = [certs[key_id]]
        else:
            raise Unauthorized(
                f"not signed by Google: unknown key id {key_id!r} "
                f"(not among the {len(certs)} trusted certificates)"
            )
        for pem in candidates:
            # google-auth's crypt module has no annotations: hence the ignore.
            verifier = crypt.RSAVerifier.from_string(pem)  # type: ignore[no-untyped-call]
            if verifier.verify(signed, signature):
                return
        raise Unauthorized(
            f"not signed by Google: the signature does not match key {key_id or '(no kid)'}"
        )

    def _check_times(self, payload: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime]:
        issued_at = _instant(payload, "iat")
        expires_at = _instant(payload, "exp")
        if now > expires_at + self._skew:
            raise Unauthorized(f"token expired at {_iso(expires_at)} (now {_iso(now)})")
        not_before = _instant(payload, "nbf") if "nbf" in payload else issued_at
        if now < not_before - self._skew:
            raise Unauthorized(
                f"token not yet valid: valid from {_iso(not_before)}, now {_iso(now)} "
                "(check this server's clock)"
            )
        return issued_at, expires_at


def _bearer_token(authorization_header: str | None) -> str:
    if authorization_header is None or not authorization_header.strip():
        raise Unauthorized(
            "missing Authorization header: Google sends 'Authorization: Bearer <token>'"
        )
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized(f"Authorization header is not a Bearer token (scheme {scheme!r})")
    token = token.strip()
    if not token:
        raise Unauthorized("Authorization header has no token after 'Bearer'")
    return token


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized(
            f"malformed token: a JWT has 3 dot-separated parts, this has {len(parts)}"
        )
    try:
        header = json.loads(_b64decode(parts[0]))
        payload = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error, RecursionError) as exc:
        # RecursionError: JSON nested deeper than the parser goes is no token either.
        raise Unauthorized("malformed token: its parts are not base64url-encoded JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise Unauthorized("malformed token: header and payload must be JSON objects")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _b64decode(segment: str) -> bytes:
    data = segment.encode("ascii")
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


def _instant(payload: Mapping[str, Any], claim: str) -> datetime:
    value = payload.get(claim)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthorized(f"malformed token: claim {claim!r} must be seconds since 1970")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise Unauthorized(f"malformed token: claim {claim!r} is out of range") from exc


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalSigner:
    """An RSA key that issues ID tokens in Google's shape, for the demo and the tests.

    Tokens carry Google's issuer, ``aud``, ``email``, ``email_verified``, ``sub``, ``iat``, ``exp``
    and a ``kid`` header, so a `GoogleIdTokenVerifier` that trusts `certs` checks them exactly as
    it checks Google's.
    """

    def __init__(self, private_key_pem: bytes, *, found_sound: bool = False) -> None:
        """`found_sound`: these very bytes already passed the RSA key check (about 0.035 s),
        which is then skipped; only `open` says so, from the digest it recorded."""
        try:
            key = serialization.load_pem_private_key(
                private_key_pem, password=None, unsafe_skip_rsa_key_validation=found_sound
            )
        except (ValueError, TypeError) as exc:
            raise SigningKeyError("not an unencrypted PEM private key") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SigningKeyError("not an RSA private key")
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = hashlib.sha256(der).hexdigest()[:40]
        self._public_pem = public_pem.decode("ascii")
        # The key already loaded (and checked, about 0.035 s): not parsed and checked again.
        self._signer = crypt.RSASigner(key, key_id=self.key_id)  # type: ignore[no-untyped-call]

    @classmethod
    def generate(cls) -> LocalSigner:
        """A signer with a fresh key held only in memory."""
        return cls(_new_key_pem())

    @classmethod
    def open(cls, data_dir: Path) -> LocalSigner:
        """The signer whose key is ``<data_dir>/workspace-signing-key.pem``, made on first use.

        The key file is created readable only by its owner, complete or not at all; when two
        processes race to create it, both end up with the one that won. The RSA key check runs
        when the file's bytes differ from those it last passed (their digest is kept beside it).
        """
        from connectors._files import write_atomically

        path = data_dir / KEY_FILE
        if not path.exists():
            # Another process may win the race to create it: then use the one that won.
            with contextlib.suppress(FileExistsError):
                write_atomically(path, _new_key_pem(), mode=0o600, exclusive=True)
        pem = path.read_bytes()
        digest = hashlib.sha256(pem).hexdigest().encode("ascii")
        checked = data_dir / KEY_CHECKED_FILE
        try:
            found_sound = checked.read_bytes() == digest
        except OSError:
            found_sound = False
        try:
            signer = cls(pem, found_sound=found_sound)
        except SigningKeyError as exc:
            raise SigningKeyError(
                f"{path} is {exc}: move it away and a new key is made on next use "
                "(tokens signed with the old key stop verifying)"
            ) from exc
        if not found_sound:
            # Only a speed-up for the next start: a read-only directory still works.
            with contextlib.suppress(OSError):
                write_atomically(checked, digest, mode=0o600)
        return signer

    def certs(self) -> Mapping[str, str]:
        """This key's public half by key id: the `CertsProvider` that trusts this signer."""
        return {self.key_id: self._public_pem}

    def sign(
        self,
        *,
        audience: str,
        now: datetime,
        email: str = LOCAL_SERVICE_ACCOUNT,
        email_verified: bool = True,
        subject: str | None = None,
        issuer: str = GOOGLE_ISSUER,
        lifetime: timedelta = TOKEN_LIFETIME,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """An ID token for `audience` (an endpoint URL), issued at `now`, valid for `lifetime`.

        `extra` claims (a user's ``name``, say) are added; they cannot replace the standard ones.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        issued = int(now.timestamp())
        payload = {
            "iss": issuer,
            "aud": audience,
            "azp": subject or _subject(email),
            "sub": subject or _subject(email),
            "email": email,
            "email_verified": email_verified,
            "iat": issued,
            "exp": issued + int(lifetime.total_seconds()),
        }
        payload = {**(extra or {}), **payload}
        token: bytes = google_jwt.encode(self._signer, payload)  # type: ignore[no-untyped-call]
        return token.decode("ascii")

    def verifier(
        self,
        *,
        audience: str | None = None,
        service_account_email: str = LOCAL_SERVICE_ACCOUNT,
        clock: Callable[[], datetime] = _utcnow,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> GoogleIdTokenVerifier:
        """A `GoogleIdTokenVerifier` that trusts this key instead of Google's."""
        return GoogleIdTokenVerifier(
            service_account_email=service_account_email,
            audience=audience,
            certs=self.certs,
            clock=clock,
            clock_skew=clock_skew,
        )


def _new_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _subject(email: str) -> str:
    # Google's sub for a service account is a 21-digit number; derive a stable one from the email.
    return str(int(hashlib.sha256(email.lower().encode()).hexdigest(), 16))[:21]


class RefuseAll:
    """The verifier when Google's keys are chosen but the add-on is not configured.

    Every request is refused; `reason` (for the operator's log) says which setting is missing.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def verify(self, authorization_header: str | None, url: str) -> Claims:
        """Always `Unauthorized`."""
        raise Unauthorized(self.reason)


KEYS = ("google", "local")


def uses_google_keys(config: Mapping[str, Any]) -> bool:
    """Whether the card endpoints trust Google's published keys (else the local signing key).

    ``WORKSPACE_KEYS`` chooses (``google`` or ``local``). Unset, Google's keys are trusted, except
    in an app built for tests (``TESTING``) with no ``GOOGLE_CERTS_URL``: those sign with the
    local key, as the demo does.
    """
    chosen = str(config.get("WORKSPACE_KEYS") or "").strip().lower()
    if chosen:
        if chosen not in KEYS:
            raise ValueError(f"WORKSPACE_KEYS must be one of {', '.join(KEYS)}, not {chosen!r}")
        return chosen == "google"
    return bool(config.get("GOOGLE_CERTS_URL")) or not config.get("TESTING")


def request_verifier(
    config: Mapping[str, Any],
    signer: LocalSigner,
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> RequestVerifier:
    """The verifier the settings ask for: Google's certificates (production) or `signer`'s key.

    With Google's keys the audience is ``WORKSPACE_AUDIENCE`` or, left out, the endpoint URL
    under ``PUBLIC_URL`` (the endpoints build it; the request's Host header never counts), and
    the email is ``WORKSPACE_SERVICE_ACCOUNT``. Certificates come from ``GOOGLE_CERTS_URL``
    (Google's by default) through a session trusting ``GOOGLE_CA_BUNDLE`` when set.
    """
    audience = str(config.get("WORKSPACE_AUDIENCE") or "") or None
    account = str(config.get("WORKSPACE_SERVICE_ACCOUNT") or "").strip()
    if not uses_google_keys(config):
        return signer.verifier(
            service_account_email=account or LOCAL_SERVICE_ACCOUNT, audience=audience, clock=clock
        )
    if not account:
        return RefuseAll(
            "WORKSPACE_SERVICE_ACCOUNT is not set: the add-on's requests cannot be checked "
            "(set it to service-<project number>@gcp-sa-gsuiteaddons.iam.gserviceaccount.com)"
        )
    if audience is None and not config.get("PUBLIC_URL"):
        return RefuseAll(
            "neither WORKSPACE_AUDIENCE nor PUBLIC_URL is set: the audience of Google's tokens "
            "cannot be checked (the request's own Host header is never trusted for it)"
        )
    import google.auth.transport.requests

    from addin.signin.google import http_session

    session = http_session(config)
    certs = GoogleCerts(
        str(config.get("GOOGLE_CERTS_URL") or GOOGLE_CERTS_URL),
        request=google.auth.transport.requests.Request(session),
        clock=clock,
    )
    return GoogleIdTokenVerifier(
        service_account_email=account, audience=audience, certs=certs, clock=clock
    )
