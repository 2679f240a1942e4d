"""The Entra emulator's state and the parts both endpoints share: lookups, scopes and consent,
token minting, the user's revocation and MFA state."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from emulators._entra_keys import KeyRing, b64url
from emulators._entra_model import (
    GRAPH,
    GRAPH_APP_ID,
    OIDC_SCOPES,
    App,
    OAuthError,
    Resource,
    ScopeRequest,
    Target,
    Tenant,
    User,
)

CODE_LIFETIME = 600
"""Authorization codes live about ten minutes ("authorization code flow": "short lived")."""
SPA_REFRESH_LIFETIME = 24 * 3600
"""A single-page app's refresh tokens last 24 hours and are not extended ("Refresh tokens")."""
REFRESH_LIFETIME = 90 * 24 * 3600
"""Other refresh tokens last 90 days, extended by use."""
CLOCK_SKEW = 300
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SESSION_COOKIE = "ESTSAUTH"
SPECIAL_TENANTS = ("common", "organizations")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
MFA_POLICY = "9ab03e19-ed42-4168-b6b7-7001fb3e933a"
"""The policy id in the on-behalf-of page's claims challenge example."""


@dataclass
class Code:
    """An authorization code: whom it was issued to, where, for what, and its PKCE challenge."""

    client_id: str
    redirect_uri: str
    email: str
    scope: str
    challenge: str | None
    method: str
    nonce: str | None
    expires: float
    spa: bool
    used: bool = False


@dataclass
class RefreshGrant:
    """What a refresh token stands for; a single-page app's is bound to cross-origin use."""

    email: str
    client_id: str
    issued: float
    expires: float
    spa: bool


def now() -> float:
    """Seconds since the epoch (one place, so a test could move the clock)."""
    return time.time()


def pairwise_sub(tid: str, oid: str, client_id: str) -> str:
    """A pairwise subject: the same user looks different to each app."""
    return b64url(hashlib.sha256(f"{tid}:{oid}:{client_id}".encode()).digest())


def json_response(data: dict[str, Any], status: int = 200, **headers: str) -> Response:
    """`data` as JSON; `headers` with underscores for dashes (``Cache_Control``)."""
    response = Response(json.dumps(data), status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def pkce_challenge(verifier: str, method: str) -> str:
    """The challenge `verifier` answers (RFC 7636 section 4.2: S256 or plain)."""
    if method == "S256":
        return b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    return verifier


def stamp(epoch: float) -> str:
    """A time as Entra's error messages write it."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%m/%d/%Y %H:%M:%S")


class EntraState:
    """Tenants, users, apps, resources, consent, codes, refresh tokens and sessions, one lock."""

    def __init__(self) -> None:
        self.base_url: str = ""
        self._lock = threading.RLock()
        self._keys = KeyRing()
        self._tenants: dict[str, Tenant] = {}
        self._domains: dict[str, str] = {}
        self._users: dict[str, User] = {}
        self._apps: dict[str, App] = {}
        self._resources: dict[str, Resource] = {}
        self._admin_consent: set[tuple[str, str, str, str]] = set()
        self._user_consent: set[tuple[str, str, str, str]] = set()
        self._codes: dict[str, Code] = {}
        self._refresh: dict[str, RefreshGrant] = {}
        self._sessions: dict[str, tuple[str, float]] = {}

    # -- lookups (under the lock) --------------------------------------------------------------

    def _tenant_id(self, tenant: str) -> str:
        key = tenant.lower()
        if key in self._tenants:
            return key
        if key in self._domains:
            return self._domains[key]
        raise KeyError(f"no tenant {tenant!r}: add_tenant() first")

    def _user(self, email: str) -> User:
        user = self._users.get(email.lower())
        if user is None:
            raise KeyError(f"no user {email!r}: add_user() first")
        return user

    def _app(self, client_id: str) -> App:
        app = self._apps.get(client_id.lower())
        if app is None:
            raise KeyError(f"no app {client_id!r}: register_app() first")
        return app

    def _user_by_oid(self, tid: str, oid: str) -> User | None:
        return next(
            (u for u in self._users.values() if u.tenant == tid and u.oid == str(oid).lower()),
            None,
        )

    def _base(self, request: Request) -> str:
        return self.base_url.rstrip("/") or request.host_url.rstrip("/")

    def _issuer(self, base: str, tid: str) -> str:
        return f"{base}/{tid}/v2.0"

    # -- scopes and consent --------------------------------------------------------------------

    def _find_target(self, prefix: str) -> Target | None:
        key = prefix.rstrip("/").lower()
        for app in self._apps.values():
            if key in (app.app_id_uri.lower(), app.client_id.lower(), f"api://{app.client_id}"):
                return Target("app", app.client_id.lower())
        if key == GRAPH_APP_ID:
            key = GRAPH
        if key in self._resources:
            return Target("resource", key)
        return None

    def _target_scopes(self, target: Target) -> tuple[str, ...]:
        if target.kind == "app":
            return self._apps[target.id].scopes
        return self._resources[target.id].scopes

    def _parse_scopes(self, scopes: list[str], tenant: str = "") -> ScopeRequest:
        """Split a ``scope`` parameter: one resource (bare names are Graph's) plus OpenID scopes."""
        oidc: set[str] = set()
        found: list[tuple[Target, str]] = []
        for scope in scopes:
            if scope.lower() in OIDC_SCOPES:
                oidc.add(scope.lower())
                continue
            prefix, slash, name = scope.rpartition("/")
            prefix = prefix if slash else GRAPH
            target = self._find_target(prefix)
            if target is None:
                raise OAuthError(
                    400,
                    "invalid_resource",
                    500011,
                    f"The resource principal named {prefix} was not found in the tenant named "
                    f"{tenant or 'common'}. This can happen if the application has not been "
                    "installed by the administrator of the tenant or consented to by any user "
                    "in the tenant. You might have sent your authentication request to the wrong "
                    "tenant.",
                )
            found.append((target, name))
        targets = {t for t, _ in found}
        if len(targets) > 1:
            raise OAuthError(
                400,
                "invalid_request",
                28000,
                "Provided value for the input parameter scope is not valid because it contains "
                "more than one resource. Scope " + " ".join(scopes) + " is not valid.",
            )
        if not targets:
            graph = Target("resource", GRAPH) if GRAPH in self._resources else None
            if graph is None:
                raise OAuthError(
                    400,
                    "invalid_scope",
                    70011,
                    "The provided value for the input parameter 'scope' is not valid. The scope "
                    f"'{' '.join(scopes)}' names no resource this directory knows.",
                )
            return ScopeRequest(graph, [], False, oidc)
        target = targets.pop()
        known = {s.lower(): s for s in self._target_scopes(target)}
        names: list[str] = []
        default = False
        for _, name in found:
            if name == ".default":
                default = True
            elif name.lower() in known:
                names.append(known[name.lower()])
            else:
                raise OAuthError(
                    400,
                    "invalid_scope",
                    70011,
                    "The provided value for the input parameter 'scope' is not valid. The scope "
                    f"'{name}' does not exist on the resource.",
                )
        if default and names:
            raise OAuthError(
                400,
                "invalid_scope",
                70011,
                "The provided value for the input parameter 'scope' is not valid. '.default' "
                "cannot be combined with other scopes of the resource.",
            )
        return ScopeRequest(target, names, default, oidc)

    def _consented(self, user: User, client_id: str, target: Target) -> set[str]:
        """The scope names (lower case) `client_id` may use at `target` for `user`."""
        client = client_id.lower()
        admin = {
            n
            for t, c, k, n in self._admin_consent
            if (t, c, k) == (user.tenant, client, target.key)
        }
        own = {
            n for o, c, k, n in self._user_consent if (o, c, k) == (user.oid, client, target.key)
        }
        return admin | own

    def _missing_consent(self, user: User, client_id: str, request: ScopeRequest) -> list[str]:
        consented = self._consented(user, client_id, request.target)
        if request.default:
            return [] if consented else [".default"]
        return [n for n in request.names if n.lower() not in consented]

    def _granted_names(self, user: User, client_id: str, request: ScopeRequest) -> list[str]:
        if not request.default:
            return request.names
        consented = self._consented(user, client_id, request.target)
        return [s for s in self._target_scopes(request.target) if s.lower() in consented]

    # -- token minting -------------------------------------------------------------------------

    def _api_claims(
        self, user: User, api: App, azp: str, names: list[str], lifetime: int
    ) -> dict[str, Any]:
        moment = int(now())
        return {
            "aud": api.client_id,
            "iss": self._issuer(self.base_url.rstrip("/"), user.tenant),
            "iat": moment,
            "nbf": moment,
            "exp": moment + lifetime,
            "aio": b64url(secrets.token_bytes(48)),
            "azp": azp,
            "azpacr": "0",
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.email,
            "rh": "0." + b64url(secrets.token_bytes(32)),
            "scp": " ".join(names),
            "sub": pairwise_sub(user.tenant, user.oid, api.client_id),
            "tid": user.tenant,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }

    def _id_token(self, user: User, client_id: str, nonce: str | None, email: bool) -> str:
        moment = int(now())
        claims: dict[str, Any] = {
            "aud": client_id,
            "iss": self._issuer(self.base_url.rstrip("/"), user.tenant),
            "iat": moment,
            "nbf": moment,
            "exp": moment + 3600,
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.email,
            "rh": "0." + b64url(secrets.token_bytes(32)),
            "sub": pairwise_sub(user.tenant, user.oid, client_id),
            "tid": user.tenant,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        if email:
            claims["email"] = user.email
        return self._keys.sign(claims)

    def _delegated(
        self,
        user: User,
        client: App,
        request: ScopeRequest,
        *,
        spa: bool,
        nonce: str | None = None,
        client_info: bool = True,
        refresh_expires: float | None = None,
    ) -> dict[str, Any]:
        """The success body of a delegated grant (code, refresh, on-behalf-of)."""
        names = self._granted_names(user, client.client_id, request)
        lifetime = 3600 + secrets.randbelow(1800)  # Entra varies lifetimes between 60 and 90 min
        if request.target.kind == "app":
            api = self._apps[request.target.id]
            claims = self._api_claims(user, api, client.client_id, names, lifetime)
            access_token = self._keys.sign(claims)
            scope = [f"{api.app_id_uri}/{n}" for n in names]
        else:
            resource = self._resources[request.target.id]
            access_token = resource.mint(user.email)
            # Graph's scopes come back bare ("User.Read"); other resources' qualified.
            scope = (
                names if resource.uri.lower() == GRAPH else [f"{resource.uri}/{n}" for n in names]
            )
        scope += sorted(s for s in request.oidc if s != "offline_access")
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(scope),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        }
        if request.wants("offline_access"):
            moment = now()
            token = "1.A" + b64url(secrets.token_bytes(96))
            if refresh_expires is None:
                refresh_expires = moment + (SPA_REFRESH_LIFETIME if spa else REFRESH_LIFETIME)
            self._refresh[token] = RefreshGrant(
                user.email, client.client_id, moment, refresh_expires, spa
            )
            body["refresh_token"] = token
            if spa:
                body["refresh_token_expires_in"] = int(refresh_expires - moment)
        if request.wants("openid"):
            body["id_token"] = self._id_token(user, client.client_id, nonce, request.wants("email"))
        if client_info:
            info = json.dumps({"uid": user.oid, "utid": user.tenant}).encode()
            body["client_info"] = b64url(info)
        return body

    def _segment_tenant(self, segment: str) -> str | None:
        """The tenant id a path segment names; None for ``common``/``organizations``."""
        if segment.lower() in SPECIAL_TENANTS:
            return None
        with self._lock:
            try:
                return self._tenant_id(segment)
            except KeyError:
                raise OAuthError(
                    400,
                    "invalid_tenant",
                    90002,
                    f"Tenant '{segment}' not found. Check to make sure you have the correct tenant "
                    "ID and are signing into the correct cloud.",
                ) from None

    def _check_user_state(self, user: User, issued: float, resource: str) -> None:
        if issued < user.valid_from:
            raise OAuthError(
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is "
                "needed. The user might have changed or reset their password. The grant was "
                f"issued on '{stamp(issued)}' and the TokensValidFrom date (before which tokens "
                f"are not valid) for this user is '{stamp(user.valid_from)}'.",
            )
        if user.needs_mfa:
            claims = {"access_token": {"polids": {"essential": True, "values": [MFA_POLICY]}}}
            raise OAuthError(
                400,
                "interaction_required",
                50076,
                "Due to a configuration change made by your administrator, or because you moved "
                "to a new location, you must use multi-factor authentication to access "
                f"'{resource}'.",
                suberror="basic_action",
                claims=json.dumps(claims, separators=(",", ":")),
            )
