"""The Entra emulator's token endpoint: ``authorization_code`` (PKCE), ``refresh_token``,
``client_credentials`` and on-behalf-of, with the errors the Microsoft identity platform documents
for each ("OAuth 2.0 authorization code flow", "On-behalf-of flow", "Client credentials flow",
"AADSTS error codes")."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from emulators._entra_keys import b64url
from emulators._entra_model import App, OAuthError, ScopeRequest, User, missing_parameter
from emulators._entra_state import (
    CLOCK_SKEW,
    JWT_BEARER,
    EntraState,
    json_response,
    now,
    pkce_challenge,
    stamp,
)


class TokenEndpoint(EntraState):
    """``POST /{tenant}/oauth2/v2.0/token``."""

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
                return json_response(self._client_credentials(call, segment, base))
            if grant == JWT_BEARER:
                return json_response(self._on_behalf_of(call, base))
            if grant == "authorization_code":
                return json_response(self._authorization_code(call))
            if grant == "refresh_token":
                return json_response(self._refresh_token(call))
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
        moment = int(now())
        lifetime = 3599
        principal = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{call.tenant}/{client.client_id}"))
        claims = {
            "aud": audience,
            "iss": self._issuer(base, call.tenant),
            "iat": moment,
            "nbf": moment,
            "exp": moment + lifetime,
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
        moment = now()
        expires = _number(claims, "exp")
        if expires < moment - CLOCK_SKEW or _number(claims, "nbf") > moment + CLOCK_SKEW:
            raise OAuthError(
                400,
                "invalid_grant",
                500133,
                "Assertion is not within its valid time range. Ensure that the access token is "
                "not expired before using it for user assertion, or request a new token. Current "
                f"time: {stamp(moment)}, expiry time of assertion {stamp(expires)}.",
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
        self._check_user_state(user, _number(claims, "iat"), request.target.id)
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
        if code.expires < now():
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
        if code.spa and code.challenge is None:
            # Entra refuses this at redemption, not when the code is asked for.
            raise OAuthError(
                400,
                "invalid_request",
                9002325,
                "Proof Key for Code Exchange is required for cross-origin authorization code "
                "redemption.",
            )
        if code.challenge is not None:
            verifier = call.form.get("code_verifier") or ""
            if not verifier or pkce_challenge(verifier, code.method) != code.challenge:
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
        moment = now()
        if grant.expires < moment:
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
                f"{stamp(grant.issued)} and was inactive for 90.00:00:00.",
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


@dataclass
class _TokenCall:
    form: Any
    client: App
    tenant: str | None
    authenticated: bool
    origin: str | None


def _number(claims: dict[str, Any], name: str) -> float:
    """A time claim of an assertion; a missing or non-numeric one makes it malformed."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OAuthError(
            400,
            "invalid_grant",
            50013,
            f"Assertion is malformed: its '{name}' claim is not a time.",
        )
    return float(value)
