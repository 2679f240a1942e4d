"""Verify the access token the Outlook pane sends: one Microsoft Entra ID issued for our API.

The pane gets it with nested app authentication (MSAL.js) for ``<app id uri>/access_as_user``
and sends it as a Bearer token. The checks follow Microsoft's "Access tokens in the Microsoft
identity platform" (validation) and "Signing key rollover" pages, and OWASP ASVS 5.0 V9:

- the signature first, RS256 only (never the algorithm the token's header names), with a key
  taken only from the configured authority's JWKS by ``kid``; ``jku``, ``x5u``, ``jwk`` and
  ``x5c`` headers are never read;
- ``exp``/``nbf``/``iat`` with a minute of skew; ``aud`` our client id or App ID URI (from the
  settings, never the request's Host); ``ver`` 2.0;
- ``tid`` a GUID and one of the allowed tenants; ``iss`` exactly ``{authority}/{tid}/v2.0``
  (multi-tenant metadata publishes ``{tenantid}`` as a template, so the issuer is checked
  against the token's own ``tid``);
- a delegated token (``scp`` with ``access_as_user``), not an app-only one (``roles``);
- ``oid`` present: the person is ``(tid, oid)``, ``sub`` means something within one app only.

Keys roll over: an unknown ``kid`` fetches the JWKS again, at most once per `REFETCH_AFTER`,
so tokens with made-up key ids cannot make us hammer the authority.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import jwt
import requests
from jwt import PyJWK, PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWTError

from addin.identity import SignInRequired, User
from addin.signin.http import session_trusting
from addin.workspace.verify import _bearer_token
from connectors.errors import Unavailable

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
API_SCOPE = "access_as_user"
"""The delegated scope our API exposes; the pane asks for ``<app id uri>/access_as_user``."""

ALGORITHMS = ["RS256"]
"""Entra signs access tokens with RS256; nothing else is accepted, whatever a header says."""

SKEW_SECONDS = 60
JWKS_LIFESPAN = 24 * 3600.0
"""Microsoft: keys roll over periodically; fetch them again about daily (and on an unknown kid)."""
REFETCH_AFTER = 300.0
"""The least time between two JWKS fetches caused by an unknown ``kid``."""

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class EntraSettingsError(ValueError):
    """The ENTRA_* settings are incomplete or malformed; the message says which."""


def is_guid(value: object) -> bool:
    """True for a lower- or upper-case GUID string (Entra's tenant and object ids)."""
    return isinstance(value, str) and _GUID.match(value.lower()) is not None


@dataclass(frozen=True, slots=True)
class EntraSettings:
    """What sign-in with Microsoft needs from the settings (``ENTRA_*``, ``PUBLIC_URL``)."""

    client_id: str
    client_secret: str = ""
    tenants: frozenset[str] | None = None
    """The allowed tenant ids; None allows any (``ENTRA_TENANTS=any``)."""
    authority: str = DEFAULT_AUTHORITY
    ca_bundle: str | None = None
    app_id_uri: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EntraSettings | None:
        """The settings, or None when ``ENTRA_CLIENT_ID`` is unset (local identity)."""
        client_id = str(config.get("ENTRA_CLIENT_ID") or "").strip()
        if not client_id:
            return None
        raw = str(config.get("ENTRA_TENANTS") or "").strip()
        if not raw:
            raise EntraSettingsError(
                "ENTRA_TENANTS is needed with ENTRA_CLIENT_ID: 'any', or the tenant ids "
                "(GUIDs, comma-separated) of the organisations that may sign in"
            )
        tenants: frozenset[str] | None = None
        if raw.lower() != "any":
            ids = [t.strip().lower() for t in raw.split(",") if t.strip()]
            bad = [t for t in ids if not is_guid(t)]
            if bad or not ids:
                raise EntraSettingsError(
                    f"ENTRA_TENANTS must be 'any' or tenant GUIDs; not GUIDs: {', '.join(bad)}"
                )
            tenants = frozenset(ids)
        authority = str(config.get("ENTRA_AUTHORITY") or DEFAULT_AUTHORITY).rstrip("/")
        if urlparse(authority).scheme != "https":
            raise EntraSettingsError("ENTRA_AUTHORITY must be an https URL")
        app_id_uri = str(config.get("ENTRA_APP_ID_URI") or "").strip()
        if not app_id_uri:
            host = urlparse(str(config.get("PUBLIC_URL") or "")).netloc
            app_id_uri = f"api://{host}/{client_id}" if host else f"api://{client_id}"
        return cls(
            client_id=client_id,
            client_secret=str(config.get("ENTRA_CLIENT_SECRET") or ""),
            tenants=tenants,
            authority=authority,
            ca_bundle=str(config.get("ENTRA_CA_BUNDLE") or "") or None,
            app_id_uri=app_id_uri,
        )

    @property
    def audiences(self) -> list[str]:
        """What ``aud`` may be: v2 tokens carry the client id; the App ID URI is also ours."""
        return [self.client_id, self.app_id_uri]

    @property
    def jwks_uri(self) -> str:
        """The signing keys: the one tenant's, or ``common`` for several (the same key set)."""
        segment = next(iter(self.tenants)) if self.tenants and len(self.tenants) == 1 else "common"
        return f"{self.authority}/{segment}/discovery/v2.0/keys"

    def session(self) -> requests.Session:
        """An HTTP session to the authority, trusting ``ENTRA_CA_BUNDLE`` when set."""
        return session_trusting(self.ca_bundle)


class _Keys(PyJWKClient):
    """PyJWT's JWKS client, fetching with `requests` (so ``ENTRA_CA_BUNDLE`` applies)."""

    def __init__(self, uri: str, session: requests.Session, lifespan: float) -> None:
        # PyJWT's own cooldown reads the wall clock: `EntraVerifier` bounds refetches itself.
        super().__init__(
            uri, cache_jwk_set=True, lifespan=lifespan, timeout=10, cooldown_duration=0
        )
        self._session = session

    def fetch_data(self) -> Any:
        try:
            response = self._session.get(self.uri, timeout=self.timeout, allow_redirects=False)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise PyJWKClientConnectionError(
                f"the JWKS at {self.uri} cannot be read: {exc}"
            ) from exc
        return self._as_jwk_set_payload(data)


class EntraVerifier:
    """An `Identity` for Entra access tokens to our API (see the module's checks)."""

    def __init__(
        self,
        settings: EntraSettings,
        *,
        session: requests.Session | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        lifespan: float = JWKS_LIFESPAN,
        refetch_after: float = REFETCH_AFTER,
    ) -> None:
        self.settings = settings
        self._session = session or settings.session()
        self._keys = _Keys(settings.jwks_uri, self._session, lifespan)
        self._monotonic = monotonic
        self._refetch_after = refetch_after
        self._last_refetch: float | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connections to the authority."""
        self._session.close()

    def verify(self, authorization_header: str | None) -> User:
        """The token's person, or `SignInRequired` (``again``/``consent``) saying why not."""
        token = _bearer_token(authorization_header)
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError as exc:
            raise SignInRequired(f"the token is not a JWT: {exc}") from exc
        except RecursionError as exc:
            raise SignInRequired("the token is not a JWT: its JSON is nested too deep") from exc
        if header.get("alg") not in ALGORITHMS:
            raise SignInRequired(f"the token's algorithm {header.get('alg')!r} is not RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise SignInRequired("the token names no signing key (kid)")
        key = self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.settings.audiences,
                leeway=SKEW_SECONDS,
                options={"require": ["exp", "nbf", "iat", "iss", "aud", "tid", "oid"]},
            )
        except PyJWTError as exc:
            raise SignInRequired(f"the token does not verify: {exc}") from exc
        return self._user(claims)

    def _key(self, kid: str) -> PyJWK:
        """The JWKS key `kid`: from the cache, or one bounded refetch when it is unknown."""
        try:
            with self._lock:
                found = self._keys.match_kid(self._keys.get_signing_keys(), kid)
                if found is None and self._may_refetch():
                    self._last_refetch = self._monotonic()
                    found = self._keys.match_kid(self._keys.get_signing_keys(refresh=True), kid)
        except PyJWKClientConnectionError as exc:
            # Not the token's fault: no key can be checked now. 503, not "sign in again".
            raise Unavailable(f"Microsoft's signing keys cannot be fetched: {exc}") from exc
        except PyJWKClientError as exc:
            raise Unavailable(f"Microsoft's signing keys are unusable: {exc}") from exc
        if found is None:
            raise SignInRequired(f"the token's key {kid!r} is not one of the authority's keys")
        return found

    def _may_refetch(self) -> bool:
        last = self._last_refetch
        return last is None or self._monotonic() - last >= self._refetch_after

    def _user(self, claims: Mapping[str, Any]) -> User:
        if claims.get("ver") != "2.0":
            raise SignInRequired(f"not a v2.0 access token (ver {claims.get('ver')!r})")
        tid = claims.get("tid")
        if not is_guid(tid):
            raise SignInRequired("the token's tid is not a tenant id")
        tid = str(tid).lower()
        allowed = self.settings.tenants
        if allowed is not None and tid not in allowed:
            raise SignInRequired(f"tenant {tid} may not sign in here")
        if claims.get("iss") != f"{self.settings.authority}/{tid}/v2.0":
            raise SignInRequired(f"the issuer {claims.get('iss')!r} is not the token's tenant's")
        scp = claims.get("scp")
        if claims.get("idtyp") == "app" or (scp is None and claims.get("roles") is not None):
            raise SignInRequired("an app-only token: the pane must send a user's token")
        if not isinstance(scp, str) or not scp.strip():
            raise SignInRequired("the token has no delegated scopes (scp)")
        if API_SCOPE not in scp.split():
            raise SignInRequired(
                f"the token lacks the {API_SCOPE} scope", signin="consent", scopes=(API_SCOPE,)
            )
        oid = claims.get("oid")
        if not is_guid(oid):
            raise SignInRequired("the token's oid is not an object id")
        email = _address(claims.get(k) for k in ("preferred_username", "upn", "email"))
        if email is None:
            raise SignInRequired("the token names no email address for its user")
        name = claims.get("name")
        return User(
            email=email,
            name=name if isinstance(name, str) and name.strip() else email.split("@")[0],
            tenant=tid,
            oid=str(oid).lower(),
        )


def _address(values: Iterable[object]) -> str | None:
    for value in values:
        if isinstance(value, str) and "@" in value.strip():
            return value.strip().lower()
    return None
