"""A Microsoft Entra ID (v2.0 endpoints) emulator: discovery, keys, sign-in and the token endpoint.

`EntraEmulator` is a WSGI app serving, for a tenant segment that is a tenant GUID, a verified
domain, ``common`` or ``organizations``:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` and ``GET /{tenant}/discovery/v2.0/keys``
  ("OpenID Connect on the Microsoft identity platform"; "Signing key rollover");
- ``GET /common/discovery/instance``, the instance discovery msal calls for hosts it does not know;
- ``GET|POST /{tenant}/oauth2/v2.0/authorize``: a sign-in form, a consent prompt, then a redirect
  with ``code`` and ``state`` ("OAuth 2.0 authorization code flow", PKCE as RFC 7636);
- ``POST /{tenant}/oauth2/v2.0/token``: ``authorization_code``, ``refresh_token``,
  ``client_credentials`` and on-behalf-of (``urn:ietf:params:oauth:grant-type:jwt-bearer``), with
  the error codes Microsoft documents (AADSTS65001 consent, AADSTS50076 MFA, AADSTS7000215 secret,
  AADSTS9002326/9002327 single-page-app cross-origin rules).

Access tokens for our own API are v2.0 JWTs signed RS256 with the published keys ("Access token
claims reference"); tokens for a Microsoft resource (Graph) come from that resource's emulator, via
`add_resource`. Served over HTTPS (`emulators.tls.LocalCA`), since msal refuses HTTP authorities.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from emulators import _entra_pages as pages
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
    missing_parameter,
)
from emulators._wsgi import StartResponse

CODE_LIFETIME = 600
"""Authorization codes live about ten minutes ("authorization code flow": "short lived")."""
SPA_REFRESH_LIFETIME = 24 * 3600
"""A single-page app's refresh tokens last 24 hours and are not extended ("Refresh tokens")."""
REFRESH_LIFETIME = 90 * 24 * 3600
"""Other refresh tokens last 90 days, extended by use."""
CLOCK_SKEW = 300
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SESSION_COOKIE = "ESTSAUTH"
_SPECIAL_TENANTS = ("common", "organizations")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_MFA_POLICY = "9ab03e19-ed42-4168-b6b7-7001fb3e933a"
"""The policy id in the on-behalf-of page's claims challenge example."""


@dataclass
class _Code:
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
class _Refresh:
    email: str
    client_id: str
    issued: float
    expires: float
    spa: bool


def _now() -> float:
    return time.time()


def _sub(tid: str, oid: str, client_id: str) -> str:
    """A pairwise subject: the same user looks different to each app."""
    return b64url(hashlib.sha256(f"{tid}:{oid}:{client_id}".encode()).digest())


def _json(data: dict[str, Any], status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(data), status, mimetype="application/json")
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


class EntraEmulator:
    """Entra ID for tests and the demo (a WSGI app). Set `base_url` once it is served."""

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
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._sessions: dict[str, tuple[str, float]] = {}

    # -- the directory -------------------------------------------------------------------------

    def add_tenant(self, tenant_id: str | None = None, domain: str = "contoso.example") -> str:
        """A tenant (a fresh GUID unless given); `domain` names it too if no tenant has it yet."""
        tid = (tenant_id or str(uuid.uuid4())).lower()
        if not _GUID.match(tid):
            raise ValueError(f"tenant id {tenant_id!r} is not a GUID")
        with self._lock:
            self._tenants[tid] = Tenant(tid, domain.lower())
            self._domains.setdefault(domain.lower(), tid)
        return tid

    def add_user(self, email: str, name: str = "", *, tenant: str, oid: str | None = None) -> str:
        """A user of `tenant` (idempotent: a known address keeps its object id); returns the oid."""
        key = email.lower()
        with self._lock:
            tid = self._tenant_id(tenant)
            if key in self._users:
                return self._users[key].oid
            display = name or email.split("@", maxsplit=1)[0].replace(".", " ").title()
            user = User(email, display, tid, (oid or str(uuid.uuid4())).lower())
            self._users[key] = user
            return user.oid

    def register_app(
        self,
        client_id: str,
        secret: str,
        *,
        tenant: str,
        app_id_uri: str,
        scopes: tuple[str, ...] = ("access_as_user",),
        spa_redirect_uris: tuple[str, ...] = (),
        web_redirect_uris: tuple[str, ...] = (),
        multi_tenant: bool = True,
    ) -> None:
        """An app registration in `tenant`: a client with a secret, and an API exposing `scopes`."""
        with self._lock:
            tid = self._tenant_id(tenant)
            self._apps[client_id.lower()] = App(
                client_id,
                secret,
                tid,
                app_id_uri.rstrip("/"),
                tuple(scopes),
                tuple(spa_redirect_uris),
                tuple(web_redirect_uris),
                multi_tenant,
            )

    def add_resource(
        self, resource: str, mint: Callable[[str], str], scopes: tuple[str, ...]
    ) -> None:
        """A Microsoft resource (e.g. Graph) whose delegated tokens `mint(email)` makes."""
        with self._lock:
            self._resources[resource.rstrip("/").lower()] = Resource(
                resource.rstrip("/"), tuple(scopes), mint
            )

    def grant_consent(self, tenant: str, client_id: str, scopes: tuple[str, ...]) -> None:
        """Admin consent in `tenant` for `client_id` to `scopes` (for every user of the tenant).

        A bare name is one of the app's own API scopes when it exposes it, else a Graph scope;
        ``api://.../name`` and ``https://graph.microsoft.com/Name`` name the resource outright.
        """
        with self._lock:
            tid = self._tenant_id(tenant)
            app = self._app(client_id)
            for scope in scopes:
                if scope.lower() in OIDC_SCOPES:
                    continue
                if "/" not in scope and any(s.lower() == scope.lower() for s in app.scopes):
                    target, name = Target("app", app.client_id.lower()), scope
                else:
                    request = self._parse_scopes([scope])
                    target, name = request.target, request.names[0]
                self._admin_consent.add((tid, app.client_id.lower(), target.key, name.lower()))

    def revoke_sessions(self, email: str) -> None:
        """Sign the user out everywhere: refresh tokens and sessions issued so far stop working."""
        with self._lock:
            self._user(email).valid_from = _now()

    def require_interaction(self, email: str) -> None:
        """A policy now demands MFA: refresh and on-behalf-of answer ``interaction_required``
        until the user signs in interactively again."""
        with self._lock:
            self._user(email).needs_mfa = True

    def rotate_keys(self) -> str:
        """Sign with a new key from now on; the JWKS lists the old and the new one."""
        return self._keys.rotate()

    def retire_key(self, kid: str) -> None:
        """Stop publishing `kid` (tokens it signed stop verifying)."""
        self._keys.retire(kid)

    @property
    def signing_keys(self) -> list[tuple[str, rsa.RSAPrivateKey]]:
        """Every published key as (kid, private key), oldest first: for tests forging tokens."""
        return [(k.kid, k.private_key) for k in self._keys.published()]

    def issue_access_token(
        self,
        email: str,
        *,
        client_id: str,
        scopes: tuple[str, ...] = ("access_as_user",),
        lifetime: int = 3600,
        **claims_override: object,
    ) -> str:
        """A v2.0 access token for the API `client_id`, as the token endpoint issues it.

        `claims_override` replaces claims; a None value removes the claim.
        """
        with self._lock:
            user = self._user(email)
            app = self._app(client_id)
            claims = self._api_claims(user, app, app.client_id, list(scopes), lifetime)
        for name, value in claims_override.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self._keys.sign(claims)

    # -- the Network middleware's hooks --------------------------------------------------------

    def user_of(self, environ: dict[str, Any]) -> str | None:
        """Identity requests name no signed-in user in a header: one shared bucket."""
        return None

    def error_body(self, status: int, message: str) -> bytes:
        """An identity platform error body for a middleware's answer (throttling, faults)."""
        if status == 429:
            error = OAuthError(status, "temporarily_unavailable", 90055, message)
        elif status >= 500:
            error = OAuthError(status, "temporarily_unavailable", 90033, message)
        else:
            error = OAuthError(status, "invalid_request", 90014, message)
        return json.dumps(error.body(self.base_url, None)).encode()

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
        now = int(_now())
        return {
            "aud": api.client_id,
            "iss": self._issuer(self.base_url.rstrip("/"), user.tenant),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": b64url(secrets.token_bytes(48)),
            "azp": azp,
            "azpacr": "0",
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.email,
            "rh": "0." + b64url(secrets.token_bytes(32)),
            "scp": " ".join(names),
            "sub": _sub(user.tenant, user.oid, api.client_id),
            "tid": user.tenant,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }

    def _id_token(self, user: User, client_id: str, nonce: str | None, email: bool) -> str:
        now = int(_now())
        claims: dict[str, Any] = {
            "aud": client_id,
            "iss": self._issuer(self.base_url.rstrip("/"), user.tenant),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.email,
            "rh": "0." + b64url(secrets.token_bytes(32)),
            "sub": _sub(user.tenant, user.oid, client_id),
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
            now = _now()
            token = "1.A" + b64url(secrets.token_bytes(96))
            if refresh_expires is None:
                refresh_expires = now + (SPA_REFRESH_LIFETIME if spa else REFRESH_LIFETIME)
            self._refresh[token] = _Refresh(user.email, client.client_id, now, refresh_expires, spa)
            body["refresh_token"] = token
            if spa:
                body["refresh_token_expires_in"] = int(refresh_expires - now)
        if request.wants("openid"):
            body["id_token"] = self._id_token(user, client.client_id, nonce, request.wants("email"))
        if client_info:
            info = json.dumps({"uid": user.oid, "utid": user.tenant}).encode()
            body["client_info"] = b64url(info)
        return body

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        base = self._base(request)
        correlation = request.headers.get("client-request-id") or request.args.get(
            "client-request-id"
        )
        try:
            response = self._dispatch(request, base)
        except OAuthError as error:
            response = _json(error.body(base, correlation), error.status)
        response.headers.setdefault("Cache-Control", "no-store, no-cache")
        response.headers["x-ms-request-id"] = str(uuid.uuid4())
        if correlation:
            response.headers["client-request-id"] = correlation
        if request.headers.get("Origin"):
            # The token endpoint and the metadata answer cross-origin callers (MSAL.js).
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Expose-Headers"] = "client-request-id, x-ms-request-id"
        return response(environ, start_response)

    def _dispatch(self, request: Request, base: str) -> Response:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "OPTIONS":
            return self._preflight(request)
        if parts == ["common", "discovery", "instance"]:
            return self._instance_discovery(request, base)
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return self._openid_configuration(parts[0], base)
        if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
            return self._jwks(parts[0], base)
        if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"]:
            if parts[3] == "authorize" and request.method in ("GET", "POST"):
                return self._authorize(request, parts[0], base)
            if parts[3] == "token":
                if request.method != "POST":
                    raise OAuthError(
                        405,
                        "invalid_request",
                        900561,
                        "The endpoint only accepts POST, OPTIONS requests. Received a "
                        f"{request.method} request.",
                    )
                return self._token(request, parts[0], base)
            if parts[3] == "logout":
                return self._logout(request)
        return _json(
            {"error": "not_found", "error_description": f"No endpoint {request.path}"}, 404
        )

    def _preflight(self, request: Request) -> Response:
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            request.headers.get("Access-Control-Request-Headers") or "content-type"
        )
        response.headers["Access-Control-Max-Age"] = "86400"
        return response

    # -- discovery -----------------------------------------------------------------------------

    def _segment_tenant(self, segment: str) -> str | None:
        """The tenant id a path segment names; None for ``common``/``organizations``."""
        if segment.lower() in _SPECIAL_TENANTS:
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

    def _openid_configuration(self, segment: str, base: str) -> Response:
        tid = self._segment_tenant(segment)
        path = tid or segment.lower()
        issuer = self._issuer(base, tid or "{tenantid}")
        config = {
            "token_endpoint": f"{base}/{path}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/{path}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": issuer,
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/{path}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{path}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{path}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "at_hash",
                "c_hash",
                "email",
            ],
            "kerberos_endpoint": f"{base}/{path}/kerberos",
            "tenant_region_scope": "EU" if tid else None,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }
        return _json(config, Cache_Control="max-age=86400, private")

    def _jwks(self, segment: str, base: str) -> Response:
        tid = self._segment_tenant(segment)
        issuer = self._issuer(base, tid or "{tenantid}")
        keys = [k.jwk(issuer) for k in self._keys.published()]
        return _json({"keys": keys}, Cache_Control="max-age=86400, private")

    def _instance_discovery(self, request: Request, base: str) -> Response:
        """msal's instance discovery: this host is a known instance; others are not."""
        endpoint = request.args.get("authorization_endpoint", "")
        split = urlsplit(endpoint)
        host = urlsplit(base).netloc
        # msal sends the authority's host without its port ("canonicalize"): compare hosts.
        if (split.hostname or "").lower() != (urlsplit(base).hostname or "").lower():
            raise OAuthError(400, "invalid_instance", 50049, "Unknown or invalid instance.")
        tenant = next((p for p in split.path.split("/") if p), "common")
        return _json(
            {
                "tenant_discovery_endpoint": (
                    f"{base}/{tenant}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                ],
            }
        )

    def _logout(self, request: Request) -> Response:
        cookie = request.cookies.get(SESSION_COOKIE)
        with self._lock:
            self._sessions.pop(cookie or "", None)
        target = request.args.get("post_logout_redirect_uri")
        response = Response(status=302, headers={"Location": target}) if target else Response("")
        response.delete_cookie(SESSION_COOKIE, path="/", secure=True, samesite="None")
        return response

    # -- the token endpoint --------------------------------------------------------------------

    def _token(self, request: Request, segment: str, base: str) -> Response:
        form = request.form
        basic = request.authorization
        client_id = form.get("client_id") or (basic.username if basic else None)
        if not client_id:
            raise missing_parameter("client_id")
        grant = form.get("grant_type")
        if not grant:
            raise missing_parameter("grant_type")
        tid = self._segment_tenant(segment)
        with self._lock:
            client = self._apps.get(client_id.lower())
            if client is None:
                raise OAuthError(
                    400,
                    "unauthorized_client",
                    700016,
                    f"Application with identifier '{client_id}' was not found in the directory "
                    f"'{tid or segment}'. This can happen if the application has not been "
                    "installed by the administrator of the tenant or consented to by any user in "
                    "the tenant. You may have sent your authentication request to the wrong "
                    "tenant.",
                )
            secret = form.get("client_secret") or (basic.password if basic else None)
            if secret is not None and not secrets.compare_digest(secret, client.secret):
                raise OAuthError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to "
                    f"app '{client.client_id}'.",
                )
            call = _TokenCall(form, client, tid, secret is not None, request.headers.get("Origin"))
            if grant == "client_credentials":
                return _json(self._client_credentials(call, segment, base))
            if grant == JWT_BEARER:
                return _json(self._on_behalf_of(call, base))
            if grant == "authorization_code":
                return _json(self._authorization_code(call))
            if grant == "refresh_token":
                return _json(self._refresh_token(call))
        raise OAuthError(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'.",
        )

    def _need_secret(self, call: _TokenCall) -> None:
        if not call.authenticated:
            raise OAuthError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )

    def _check_tenant(self, call: _TokenCall, user: User) -> None:
        """The user must belong to the path's tenant, and to the app's unless it is multi-tenant."""
        home = call.client.tenant
        if (call.tenant and call.tenant != user.tenant) or (
            not call.client.multi_tenant and user.tenant != home
        ):
            raise OAuthError(
                400,
                "invalid_grant",
                50020,
                f"User account '{user.email}' from identity provider "
                f"'{self._issuer(self.base_url.rstrip('/'), user.tenant)}' does not exist in "
                f"tenant '{call.tenant or home}' and cannot access the application "
                f"'{call.client.client_id}' in that tenant.",
            )

    def _check_user_state(self, user: User, issued: float, resource: str) -> None:
        if issued < user.valid_from:
            raise OAuthError(
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is "
                "needed. The user might have changed or reset their password. The grant was "
                f"issued on '{_stamp(issued)}' and the TokensValidFrom date (before which tokens "
                f"are not valid) for this user is '{_stamp(user.valid_from)}'.",
            )
        if user.needs_mfa:
            claims = {"access_token": {"polids": {"essential": True, "values": [_MFA_POLICY]}}}
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

    def _check_consent(self, user: User, client: App, request: ScopeRequest) -> None:
        missing = self._missing_consent(user, client.client_id, request)
        if missing:
            raise OAuthError(
                400,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{client.client_id}' named '{client.name}'. Send an interactive authorization "
                "request for this user and resource.",
                suberror="consent_required",
            )

    def _scope_request(self, call: _TokenCall, tenant: str) -> ScopeRequest:
        scope = call.form.get("scope")
        if not scope:
            raise missing_parameter("scope")
        return self._parse_scopes(scope.split(), tenant)

    def _client_credentials(self, call: _TokenCall, segment: str, base: str) -> dict[str, Any]:
        self._need_secret(call)
        if call.tenant is None:
            raise OAuthError(
                400,
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by "
                f"any provided credentials ('{segment}').",
            )
        scopes = (call.form.get("scope") or "").split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise OAuthError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scopes)} is not valid. Client credential "
                "flows must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        request = self._parse_scopes(scopes, call.tenant)
        client = call.client
        consented = any(
            t == call.tenant and c == client.client_id.lower() for t, c, _, _ in self._admin_consent
        )
        if call.tenant != client.tenant and not (client.multi_tenant and consented):
            raise OAuthError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client.client_id}' was not found in the directory "
                f"'{call.tenant}'. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant.",
            )
        audience = (
            self._apps[request.target.id].client_id
            if request.target.kind == "app"
            else self._resources[request.target.id].uri
        )
        now = int(_now())
        lifetime = 3599
        principal = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{call.tenant}/{client.client_id}"))
        claims = {
            "aud": audience,
            "iss": self._issuer(base, call.tenant),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": b64url(secrets.token_bytes(48)),
            "azp": client.client_id,
            "azpacr": "1",
            "idtyp": "app",
            "oid": principal,
            "rh": "0." + b64url(secrets.token_bytes(32)),
            "sub": principal,
            "tid": call.tenant,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._keys.sign(claims),
        }

    def _on_behalf_of(self, call: _TokenCall, base: str) -> dict[str, Any]:
        """On-behalf-of: the assertion must be a live user token issued for this client's API."""
        self._need_secret(call)
        if call.form.get("requested_token_use") != "on_behalf_of":
            raise missing_parameter("requested_token_use")
        assertion = call.form.get("assertion")
        if not assertion:
            raise missing_parameter("assertion")
        claims = self._keys.verify(assertion)
        if claims is None:
            raise OAuthError(
                400,
                "invalid_grant",
                50013,
                "Assertion failed signature validation. [Reason - The key was not found.]",
            )
        client = call.client
        if claims.get("aud") not in (client.client_id, client.app_id_uri):
            raise OAuthError(
                400,
                "invalid_grant",
                50013,
                "Assertion audience does not match the Client app presenting the assertion. The "
                f"audience in the assertion was '{claims.get('aud')}' and the expected audience "
                f"is '{client.client_id}' or one of the Application Uris of this application.",
            )
        now = _now()
        expires = float(claims.get("exp", 0))
        if expires < now - CLOCK_SKEW or float(claims.get("nbf", 0)) > now + CLOCK_SKEW:
            raise OAuthError(
                400,
                "invalid_grant",
                500133,
                "Assertion is not within its valid time range. Ensure that the access token is "
                "not expired before using it for user assertion, or request a new token. Current "
                f"time: {_stamp(now)}, expiry time of assertion {_stamp(expires)}.",
            )
        tid, oid = str(claims.get("tid", "")), str(claims.get("oid", ""))
        user = self._user_by_oid(tid, oid)
        if user is None or not claims.get("scp") or claims.get("iss") != self._issuer(base, tid):
            raise OAuthError(
                400,
                "invalid_grant",
                50013,
                "Assertion contains no user of this directory: only a delegated access token "
                "issued by this authority can be exchanged on behalf of its user.",
            )
        self._check_tenant(call, user)
        request = self._scope_request(call, user.tenant)
        self._check_user_state(user, float(claims.get("iat", 0)), request.target.id)
        self._check_consent(user, client, request)
        return self._delegated(
            user, client, request, spa=False, client_info=call.form.get("client_info") == "1"
        )

    def _authorization_code(self, call: _TokenCall) -> dict[str, Any]:
        code_value = call.form.get("code")
        if not code_value:
            raise missing_parameter("code")
        code = self._codes.get(code_value)
        if code is None:
            raise OAuthError(
                400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if code.used:
            raise OAuthError(
                400,
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid "
                "code or use an existing refresh token.",
            )
        code.used = True
        if code.expires < _now():
            raise OAuthError(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to "
                "inactivity. Send a new interactive authorization request for this user and "
                "resource.",
            )
        if code.client_id.lower() != call.client.client_id.lower():
            raise OAuthError(
                400,
                "invalid_grant",
                70000,
                "Provided grant is invalid or malformed: the code was issued to another client.",
            )
        if call.form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(
                400,
                "invalid_grant",
                70000,
                "Provided grant is invalid or malformed: the redirect_uri does not match the one "
                "used to request the authorization code.",
            )
        self._check_origin(call, code.spa)
        if code.challenge is not None:
            verifier = call.form.get("code_verifier") or ""
            if not verifier or _challenge(verifier, code.method) != code.challenge:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the "
                    "authorization request.",
                )
        user = self._user(code.email)
        self._check_tenant(call, user)
        request = self._parse_scopes((call.form.get("scope") or code.scope).split(), user.tenant)
        self._check_consent(user, call.client, request)
        return self._delegated(
            user,
            call.client,
            request,
            spa=code.spa,
            nonce=code.nonce,
            client_info=call.form.get("client_info") == "1",
        )

    def _check_origin(self, call: _TokenCall, spa: bool) -> None:
        """Single-page apps redeem cross-origin (with Origin); web apps only with their secret."""
        if spa and not call.origin:
            raise OAuthError(
                400,
                "invalid_request",
                9002327,
                "Tokens issued for the 'Single-Page Application' client-type may only be "
                "redeemed via cross-origin requests.",
            )
        if not spa and call.origin:
            raise OAuthError(
                400,
                "invalid_request",
                9002326,
                "Cross-origin token redemption is permitted only for the 'Single-Page "
                f"Application' client-type. Request origin: '{call.origin}'.",
            )
        if not spa:
            self._need_secret(call)

    def _refresh_token(self, call: _TokenCall) -> dict[str, Any]:
        value = call.form.get("refresh_token")
        if not value:
            raise missing_parameter("refresh_token")
        grant = self._refresh.get(value)
        if grant is None or grant.client_id.lower() != call.client.client_id.lower():
            raise OAuthError(
                400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        self._check_origin(call, grant.spa)
        now = _now()
        if grant.expires < now:
            if grant.spa:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    700084,
                    "The refresh token was issued to a single page app (SPA), and therefore has a "
                    "fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now "
                    "expired and a new sign in request must be sent by the SPA to the sign in "
                    "page.",
                )
            raise OAuthError(
                400,
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity. The token was issued on "
                f"{_stamp(grant.issued)} and was inactive for 90.00:00:00.",
            )
        user = self._user(grant.email)
        self._check_tenant(call, user)
        request = self._scope_request(call, user.tenant)
        self._check_user_state(user, grant.issued, request.target.id)
        self._check_consent(user, call.client, request)
        return self._delegated(
            user,
            call.client,
            request,
            spa=grant.spa,
            client_info=call.form.get("client_info") == "1",
            refresh_expires=grant.expires if grant.spa else None,
        )

    # -- the authorize endpoint ----------------------------------------------------------------

    def _authorize(self, request: Request, segment: str, base: str) -> Response:
        params = {
            k: v for k, v in (request.form if request.method == "POST" else request.args).items()
        }
        lang = pages.language(params.get("ui_locales"))
        try:
            tid = self._segment_tenant(segment)
        except OAuthError as error:
            return _page(pages.error(f"AADSTS{error.code}: {error.message}", lang), 400)
        with self._lock:
            client = self._apps.get(params.get("client_id", "").lower())
            if client is None:
                text = (
                    f"AADSTS700016: Application with identifier '{params.get('client_id', '')}' "
                    f"was not found in the directory '{tid or segment}'."
                )
                return _page(pages.error(text, lang), 400)
            redirect_uri = params.get("redirect_uri", "")
            spa = redirect_uri in client.spa_redirect_uris
            if not spa and redirect_uri not in client.web_redirect_uris:
                text = (
                    f"AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does "
                    "not match the redirect URIs configured for the application "
                    f"'{client.client_id}'. Make sure the redirect URI sent in the request matches "
                    "one added to your application in the Azure portal."
                )
                return _page(pages.error(text, lang), 400)
            flow = _Flow(params, client, tid, redirect_uri, spa, base, lang)
            try:
                return self._authorize_step(request, flow)
            except OAuthError as error:
                return flow.redirect(error.body(base, params.get("client-request-id")))

    def _authorize_step(self, request: Request, flow: _Flow) -> Response:
        params = flow.params
        if params.get("response_type") != "code":
            raise OAuthError(
                400,
                "unsupported_response_type",
                700054,
                f"response_type '{params.get('response_type', '')}' is not enabled for the "
                "application.",
            )
        if not params.get("scope"):
            raise missing_parameter("scope")
        if flow.tenant is None and not flow.client.multi_tenant:
            raise OAuthError(
                400,
                "invalid_request",
                50194,
                f"Application '{flow.client.client_id}' is not configured as a multi-tenant "
                "application. Usage of the /common endpoint is not supported for such "
                "applications created after '10/15/2018'. Use a tenant-specific endpoint or "
                "configure the application to be multi-tenant.",
            )
        method = params.get("code_challenge_method", "plain")
        if params.get("code_challenge") and method not in ("plain", "S256"):
            raise OAuthError(
                400,
                "invalid_request",
                50148,
                f"The code_challenge_method '{method}' is not supported: use S256 or plain.",
            )
        if flow.spa and not params.get("code_challenge"):
            raise OAuthError(
                400,
                "invalid_request",
                9002325,
                "Proof Key for Code Exchange is required for cross-origin authorization code "
                "redemption.",
            )
        scopes = self._parse_scopes(params["scope"].split(), flow.tenant or "common")
        prompt = params.get("prompt", "")
        session_user = self._session_user(request)
        if prompt == "none":
            if session_user is None:
                raise OAuthError(
                    400,
                    "login_required",
                    50058,
                    "A silent sign-in request was sent but no user is signed in.",
                )
            self._check_user_state(session_user, _now(), flow.client.client_id)
            self._check_account(flow, session_user)
            self._check_consent_interactive(session_user, flow, scopes)
            return self._issue_code(flow, session_user)
        step = params.pop("step", "") if request.method == "POST" else ""
        email = params.pop("loginfmt", "")
        consent_answer = params.pop("consent", "")
        hint = params.get("login_hint", "")
        if step == "sign_in":
            user = self._users.get(email.strip().lower())
            if user is None:
                return _page(
                    pages.sign_in(
                        flow.action,
                        params,
                        app=flow.client.name,
                        hint=email,
                        error="x",
                        lang=flow.lang,
                    )
                )
            self._check_account(flow, user)
            user.needs_mfa = False  # an interactive sign-in satisfies the policy
            session = secrets.token_urlsafe(32)
            self._sessions[session] = (user.email.lower(), _now())
            missing = self._missing_consent(user, flow.client.client_id, scopes)
            if missing or prompt == "consent":
                shown = missing if missing != [".default"] else [scopes.target.id]
                response = _page(
                    pages.consent(
                        flow.action,
                        params,
                        app=flow.client.name,
                        email=user.email,
                        scopes=shown,
                        lang=flow.lang,
                    )
                )
            else:
                response = self._issue_code(flow, user)
            return _with_session(response, session)
        if (
            step == "consent"
            and session_user is not None
            and email.lower() == session_user.email.lower()
        ):
            if consent_answer != "yes":
                raise OAuthError(
                    400, "access_denied", 65004, "User declined to consent to access the app."
                )
            for name in (
                self._granted_names(session_user, flow.client.client_id, scopes)
                if scopes.default
                else scopes.names
            ):
                self._user_consent.add(
                    (
                        session_user.oid,
                        flow.client.client_id.lower(),
                        scopes.target.key,
                        name.lower(),
                    )
                )
            return self._issue_code(flow, session_user)
        return _page(
            pages.sign_in(
                flow.action, params, app=flow.client.name, hint=hint, error="", lang=flow.lang
            )
        )

    def _session_user(self, request: Request) -> User | None:
        found = self._sessions.get(request.cookies.get(SESSION_COOKIE) or "")
        if found is None:
            return None
        user = self._users.get(found[0])
        if user is None or found[1] < user.valid_from:
            return None
        return user

    def _check_account(self, flow: _Flow, user: User) -> None:
        home = flow.client.tenant
        if (flow.tenant and flow.tenant != user.tenant) or (
            not flow.client.multi_tenant and user.tenant != home
        ):
            raise OAuthError(
                400,
                "invalid_request",
                50020,
                f"User account '{user.email}' from identity provider does not exist in tenant "
                f"'{flow.tenant or home}' and cannot access the application "
                f"'{flow.client.client_id}' in that tenant.",
            )

    def _check_consent_interactive(self, user: User, flow: _Flow, scopes: ScopeRequest) -> None:
        if self._missing_consent(user, flow.client.client_id, scopes):
            raise OAuthError(
                400,
                "consent_required",
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{flow.client.client_id}' named '{flow.client.name}'. Send an interactive "
                "authorization request for this user and resource.",
            )

    def _issue_code(self, flow: _Flow, user: User) -> Response:
        params = flow.params
        code = b64url(secrets.token_bytes(64))
        self._codes[code] = _Code(
            flow.client.client_id,
            flow.redirect_uri,
            user.email.lower(),
            params["scope"],
            params.get("code_challenge"),
            params.get("code_challenge_method", "plain"),
            params.get("nonce"),
            _now() + CODE_LIFETIME,
            flow.spa,
        )
        answer = {"code": code}
        if params.get("client_info") == "1":
            answer["client_info"] = b64url(
                json.dumps({"uid": user.oid, "utid": user.tenant}).encode()
            )
        answer["session_state"] = str(uuid.uuid4())
        return flow.redirect(answer)


@dataclass
class _TokenCall:
    form: Any
    client: App
    tenant: str | None
    authenticated: bool
    origin: str | None


@dataclass
class _Flow:
    params: dict[str, str]
    client: App
    tenant: str | None
    redirect_uri: str
    spa: bool
    base: str
    lang: str

    @property
    def action(self) -> str:
        return f"{self.base}/{self.tenant or 'common'}/oauth2/v2.0/authorize"

    def redirect(self, answer: dict[str, Any]) -> Response:
        """Back to the app with `answer` (plus ``state``), as ``response_mode`` asks."""
        fields = {k: str(v) for k, v in answer.items() if k in _REDIRECT_FIELDS}
        if "state" in self.params:
            fields["state"] = self.params["state"]
        mode = self.params.get("response_mode", "query")
        if mode == "form_post":
            inputs = "".join(
                f'<input type="hidden" name="{k}" value="{_attr(v)}">' for k, v in fields.items()
            )
            html = (
                f'<html><body onload="document.forms[0].submit()"><form method="post" '
                f'action="{_attr(self.redirect_uri)}">{inputs}</form></body></html>'
            )
            return _page(html)
        joiner = "#" if mode == "fragment" else ("&" if "?" in self.redirect_uri else "?")
        return Response(
            status=302, headers={"Location": self.redirect_uri + joiner + urlencode(fields)}
        )


_REDIRECT_FIELDS = (
    "code",
    "client_info",
    "session_state",
    "error",
    "error_description",
    "error_codes",
    "error_uri",
    "suberror",
    "timestamp",
    "trace_id",
    "correlation_id",
)


def _attr(value: str) -> str:
    return escape(value)


def _page(html: str, status: int = 200) -> Response:
    return Response(html, status, mimetype="text/html")


def _with_session(response: Response, session: str) -> Response:
    # SameSite=None so a hidden iframe (prompt=none) from the app's origin still sends it.
    response.set_cookie(
        SESSION_COOKIE, session, path="/", secure=True, httponly=True, samesite="None"
    )
    return response


def _challenge(verifier: str, method: str) -> str:
    if method == "S256":
        return b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    return verifier


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%m/%d/%Y %H:%M:%S")
