"""The Entra emulator's directory (tenants, users, app registrations, resources) and its errors.

Error bodies follow the Microsoft identity platform's token-endpoint error shape
(learn.microsoft.com, "Microsoft identity platform and OAuth 2.0 authorization code flow", "Error
response"): ``error``, ``error_description`` ("AADSTSnnnn: sentence" followed by the trace id,
correlation id and timestamp lines), ``error_codes``, ``timestamp``, ``trace_id``,
``correlation_id``, ``error_uri``; ``suberror`` and ``claims`` where the on-behalf-of page shows
them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
"""Scopes of the identity platform itself: they need no consent and name no resource."""
GRAPH = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph's well-known application id; ``{GRAPH_APP_ID}/User.Read`` also names Graph."""
ADMIN_ONLY = {
    GRAPH.lower(): frozenset(
        {"user.read.all", "user.readwrite.all", "directory.read.all", "group.read.all"}
    )
}
"""Delegated permissions only an admin may consent to ("Microsoft Graph permissions reference":
Admin consent required: Yes); a user's consent prompt cannot grant them."""


class OAuthError(Exception):
    """An error answer of the token or authorize endpoint."""

    def __init__(
        self,
        status: int,
        error: str,
        code: int,
        message: str,
        *,
        suberror: str | None = None,
        claims: str | None = None,
    ) -> None:
        super().__init__(f"AADSTS{code}: {message}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message
        self.suberror = suberror
        self.claims = claims

    def body(self, base: str, correlation_id: str | None) -> dict[str, Any]:
        """The JSON error body, with fresh trace id and the caller's correlation id."""
        trace = str(uuid.uuid4())
        correlation = correlation_id or str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        data: dict[str, Any] = {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"{base}/error?code={self.code}",
        }
        if self.suberror:
            data["suberror"] = self.suberror
        if self.claims:
            data["claims"] = self.claims
        return data


def missing_parameter(name: str) -> OAuthError:
    """AADSTS900144: a required parameter is absent."""
    return OAuthError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


@dataclass
class Tenant:
    """A directory: its GUID and verified domain."""

    id: str
    domain: str


@dataclass
class User:
    """A user of one tenant. `valid_from`: refresh tokens and sessions before it are revoked."""

    email: str
    name: str
    tenant: str
    oid: str
    valid_from: float = 0.0
    needs_mfa: bool = False


@dataclass
class App:
    """An app registration: a client, and an API when it exposes scopes under `app_id_uri`."""

    client_id: str
    secret: str
    tenant: str
    app_id_uri: str
    scopes: tuple[str, ...]
    spa_redirect_uris: tuple[str, ...]
    web_redirect_uris: tuple[str, ...]
    multi_tenant: bool

    @property
    def name(self) -> str:
        """The display name Entra's messages quote; the emulator has none, so the client id."""
        return self.client_id


@dataclass
class Resource:
    """A resource app of Microsoft's (Graph): its identifier URI, scopes, and token minting."""

    uri: str
    scopes: tuple[str, ...]
    mint: Callable[[str], str]


@dataclass(frozen=True)
class Target:
    """The one resource a token request names: one of our app registrations or a `Resource`."""

    kind: str  # "app" or "resource"
    id: str  # client id of the app, or the resource URI

    @property
    def key(self) -> str:
        """How consent records name it."""
        return f"{self.kind}:{self.id}"


@dataclass
class ScopeRequest:
    """A ``scope`` parameter split as the v2 endpoint reads it."""

    target: Target
    names: list[str]  # scope names at the target, canonical spelling; empty with `default`
    default: bool  # ``{resource}/.default``
    oidc: set[str] = field(default_factory=set)

    def wants(self, scope: str) -> bool:
        """Whether the OpenID scope `scope` was asked for."""
        return scope in self.oidc
