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

import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from emulators._entra_authorize import AuthorizeEndpoint
from emulators._entra_model import OIDC_SCOPES, App, OAuthError, Resource, Target, Tenant, User
from emulators._entra_state import GUID, SESSION_COOKIE, json_response, now
from emulators._entra_token import TokenEndpoint
from emulators._wsgi import StartResponse, WSGIApp


class EntraEmulator(TokenEndpoint, AuthorizeEndpoint):
    """Entra ID for tests and the demo (a WSGI app). Set `base_url` once it is served."""

    # -- the directory -------------------------------------------------------------------------

    def add_tenant(self, tenant_id: str | None = None, domain: str = "contoso.example") -> str:
        """A tenant (a fresh GUID unless given); `domain` names it too if no tenant has it yet."""
        tid = (tenant_id or str(uuid.uuid4())).lower()
        if not GUID.match(tid):
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
        ``api://.../name`` and ``https://graph.microsoft.com/Name`` name the resource outright, and
        ``https://graph.microsoft.com/.default`` all of its scopes. An unknown one: ValueError.
        """
        with self._lock:
            tid = self._tenant_id(tenant)
            app = self._app(client_id)
            for scope in scopes:
                if scope.lower() in OIDC_SCOPES:
                    continue
                if "/" not in scope and any(s.lower() == scope.lower() for s in app.scopes):
                    target, names = Target("app", app.client_id.lower()), [scope]
                else:
                    try:
                        request = self._parse_scopes([scope])
                    except OAuthError as error:
                        raise ValueError(str(error)) from None
                    target = request.target
                    # ``{resource}/.default``: every scope of the resource.
                    names = request.names or list(self._target_scopes(target))
                for name in names:
                    self._admin_consent.add((tid, app.client_id.lower(), target.key, name.lower()))

    def revoke_sessions(self, email: str) -> None:
        """Sign the user out everywhere: refresh tokens and sessions issued so far stop working."""
        with self._lock:
            self._user(email).valid_from = now()

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
            error = OAuthError(status, "invalid_request", 50000, message)
        return json.dumps(error.body(self.base_url, None)).encode()

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if not self.base_url:
            # Tokens name their issuer by this URL: without one set, the first request's host.
            self.base_url = request.host_url.rstrip("/")
        base = self._base(request)
        correlation = request.headers.get("client-request-id") or request.args.get(
            "client-request-id"
        )
        try:
            response = self._dispatch(request, base)
        except OAuthError as error:
            response = json_response(error.body(base, correlation), error.status)
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
        return json_response(
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
        return json_response(config, Cache_Control="max-age=86400, private")

    def _jwks(self, segment: str, base: str) -> Response:
        tid = self._segment_tenant(segment)
        issuer = self._issuer(base, tid or "{tenantid}")
        keys = [k.jwk(issuer) for k in self._keys.published()]
        return json_response({"keys": keys}, Cache_Control="max-age=86400, private")

    def _instance_discovery(self, request: Request, base: str) -> Response:
        """msal's instance discovery: this host is a known instance; others are not."""
        endpoint = request.args.get("authorization_endpoint", "")
        split = urlsplit(endpoint)
        host = urlsplit(base).netloc
        # msal sends the authority's host without its port ("canonicalize"): compare hosts.
        if (split.hostname or "").lower() != (urlsplit(base).hostname or "").lower():
            raise OAuthError(400, "invalid_instance", 50049, "Unknown or invalid instance.")
        tenant = next((p for p in split.path.split("/") if p), "common")
        return json_response(
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
        """Sign out of the emulator's session; back to ``post_logout_redirect_uri`` if known."""
        cookie = request.cookies.get(SESSION_COOKIE)
        with self._lock:
            self._sessions.pop(cookie or "", None)
            # Only to a URI some app registered: never an open redirect.
            known = {
                u for a in self._apps.values() for u in a.spa_redirect_uris + a.web_redirect_uris
            }
        target = request.args.get("post_logout_redirect_uri")
        if target and target in known:
            response = Response(status=302, headers={"Location": target})
        else:
            response = Response("", mimetype="text/html")
        response.delete_cookie(SESSION_COOKIE, path="/", secure=True, samesite="None")
        return response


def with_graph(entra: WSGIApp, graph: WSGIApp) -> WSGIApp:
    """One app for a whole emulated Microsoft cloud on one port: Graph's paths (``/v1.0``,
    ``/_download``) go to `graph`, every other path to `entra` (their paths never overlap)."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(("/v1.0/", "/_download/")):
            return graph(environ, start_response)
        return entra(environ, start_response)

    return app
