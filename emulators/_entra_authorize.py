"""The Entra emulator's authorize endpoint: the sign-in form, the consent prompt, silent
(``prompt=none``) sign-in with the session cookie, and the redirect back with ``code`` and
``state`` or ``error`` ("OAuth 2.0 authorization code flow": request, successful and error
responses; an unknown client or an unregistered redirect URI gets an error page, no redirect)."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from emulators import _entra_pages as pages
from emulators._entra_keys import b64url
from emulators._entra_model import (
    ADMIN_ONLY,
    App,
    OAuthError,
    ScopeRequest,
    Target,
    User,
    missing_parameter,
)
from emulators._entra_state import CODE_LIFETIME, SESSION_COOKIE, Code, EntraState, now


class AuthorizeEndpoint(EntraState):
    """``GET|POST /{tenant}/oauth2/v2.0/authorize``."""

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
            flow = _Flow(params, client, tid, redirect_uri, spa, f"{base}/{segment}", lang)
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
            self._check_user_state(session_user, now(), flow.client.client_id)
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
            self._sessions[session] = (user.email.lower(), now())
            missing = self._missing_consent(user, flow.client.client_id, scopes)
            wanted = self._consentable(scopes) if scopes.default else missing
            admin_only = [n for n in wanted if self._admin_only(scopes.target, n)]
            if missing and admin_only:
                response = _page(pages.error(_needs_admin(flow.client, admin_only), flow.lang))
            elif missing or prompt == "consent":
                shown = wanted or scopes.names
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
            # Entra asks only about what is not granted yet (by the admin or earlier).
            missing = self._missing_consent(session_user, flow.client.client_id, scopes)
            wanted = self._consentable(scopes) if scopes.default else missing
            if any(self._admin_only(scopes.target, n) for n in wanted):
                # A user cannot grant what only an admin may, even by posting the form directly.
                raise OAuthError(
                    400, "access_denied", 90094, "The grant requires admin permission."
                )
            for name in wanted:
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

    def _consentable(self, scopes: ScopeRequest) -> list[str]:
        """What consent to ``{resource}/.default`` covers: the emulator keeps no list of an app's
        configured permissions, so every scope of the resource a user may grant."""
        return [
            n for n in self._target_scopes(scopes.target) if not self._admin_only(scopes.target, n)
        ]

    def _admin_only(self, target: Target, name: str) -> bool:
        return target.kind == "resource" and name.lower() in ADMIN_ONLY.get(target.id, ())

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
        self._codes[code] = Code(
            flow.client.client_id,
            flow.redirect_uri,
            user.email.lower(),
            params["scope"],
            params.get("code_challenge"),
            params.get("code_challenge_method", "plain"),
            params.get("nonce"),
            now() + CODE_LIFETIME,
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
class _Flow:
    """One authorize request: its parameters, client, tenant and where the forms post back."""

    params: dict[str, str]
    client: App
    tenant: str | None
    redirect_uri: str
    spa: bool
    authority: str  # base URL and tenant segment as the request named it
    lang: str

    @property
    def action(self) -> str:
        """The authorize endpoint the pages' forms post to."""
        return f"{self.authority}/oauth2/v2.0/authorize"

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
    "error_uri",
    "suberror",
    "timestamp",
    "trace_id",
    "correlation_id",
)


def _attr(value: str) -> str:
    return escape(value)


def _needs_admin(client: App, scopes: list[str]) -> str:
    return (
        f"AADSTS90094: {client.name} needs permission to access resources in your organization "
        f"that only an admin can grant ({', '.join(scopes)}). Please ask an admin to grant "
        "permission to this app before you can use it."
    )


def _page(html: str, status: int = 200) -> Response:
    return Response(html, status, mimetype="text/html")


def _with_session(response: Response, session: str) -> Response:
    # SameSite=None so a hidden iframe (prompt=none) from the app's origin still sends it.
    response.set_cookie(
        SESSION_COOKIE, session, path="/", secure=True, httponly=True, samesite="None"
    )
    return response
