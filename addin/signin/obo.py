"""Microsoft Graph on behalf of the person in the pane, now and later (msal's on-behalf-of flow).

Each verified pane token is exchanged once (Microsoft's "on-behalf-of flow" page) for Graph
tokens; msal asks for ``offline_access`` by itself, so the answer carries a refresh token. msal's
token cache for that person is kept sealed in the `TokenVault` under ``("entra", "<tid>.<oid>")``
with their address. Graph calls, in a pane request or in background work, take their token
from that cache through `acquire_token_silent`, which refreshes when needed: no refresh logic
of our own.

A refresh Microsoft refuses (``invalid_grant``: revoked, expired; ``interaction_required``: MFA
or a policy) parks the account and raises `SignInAgain`; missing consent (AADSTS65001) raises
`ConsentRequired`. msal's result dicts hold refresh tokens: only their ``error`` and the AADSTS
code are ever logged or kept.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import msal  # type: ignore[import-untyped]  # msal ships no type information
import requests
from azure.core.credentials import AccessToken
from msal.exceptions import MsalError  # type: ignore[import-untyped]

from addin.identity import ConsentRequired, SignInAgain, SignInRequired, User
from addin.signin import GRAPH_PERMISSIONS
from addin.signin.entra import EntraSettings, EntraSettingsError, EntraVerifier
from addin.signin.vault import TokenVault, VaultError
from addin.workspace.verify import _bearer_token
from connectors.errors import Unavailable

if TYPE_CHECKING:
    from connectors.graph import FetchedToken

log = logging.getLogger(__name__)

PROVIDER = "entra"

_AADSTS = re.compile(r"AADSTS\d+")
_CONSENT = "AADSTS65001"
_SIGN_IN_AGAIN = frozenset({"invalid_grant", "interaction_required", "consent_required"})
_SEEN_TOKENS = 4096
"""How many exchanged pane tokens are remembered, so each is exchanged once (bounded)."""
_SEEN_FOR = 300.0
"""Seconds a pane token counts as exchanged; after that its next call exchanges it again."""


def _code(result: Mapping[str, Any]) -> str:
    """The error and its AADSTS code: what may be logged of an msal error result."""
    found = _AADSTS.search(str(result.get("error_description") or ""))
    return f"{result.get('error') or 'no_token'}{' ' + found.group() if found else ''}"


def _needs_consent(result: Mapping[str, Any]) -> bool:
    return _CONSENT in str(result.get("error_description") or "") or (
        result.get("suberror") == "consent_required"
    )


class GraphOnBehalf:
    """Exchanges pane tokens for Graph tokens and keeps each person's msal cache in the vault."""

    def __init__(
        self,
        settings: EntraSettings,
        vault: TokenVault,
        *,
        session: requests.Session | None = None,
    ) -> None:
        if not settings.client_secret:
            raise EntraSettingsError(
                "ENTRA_CLIENT_SECRET is needed with BACKEND=graph: Graph is called on behalf of "
                "each signed-in person with the app's secret"
            )
        self.settings = settings
        self.vault = vault
        self._session = session or settings.session()
        self._http_cache: dict[Any, Any] = {}  # msal's cache of the authority's metadata
        self._locks = [threading.Lock() for _ in range(64)]
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._seen_lock = threading.Lock()

    def close(self) -> None:
        """Close the connections to the authority."""
        self._session.close()

    def _lock(self, subject: str) -> threading.Lock:
        digest = hashlib.sha256(subject.encode()).digest()
        return self._locks[digest[0] % len(self._locks)]

    def _app(
        self, tenant: str, cache: msal.SerializableTokenCache
    ) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            self.settings.client_id,
            authority=f"{self.settings.authority}/{tenant}",
            client_credential=self.settings.client_secret,
            token_cache=cache,
            http_client=self._session,
            http_cache=self._http_cache,
            # The authority is configured, not discovered: no call to Microsoft's instance list.
            instance_discovery=False,
        )

    def exchange(self, user: User, assertion: str) -> None:
        """Get Graph tokens for `user` with their pane token and keep msal's cache sealed.

        A token already exchanged is not exchanged again while the account can act.
        """
        subject = f"{user.tenant}.{user.oid}"
        key = hashlib.sha256(assertion.encode()).hexdigest()
        account = self.vault.account(PROVIDER, subject)
        if self._was_seen(key) and account is not None and not account.parked:
            return
        with self._lock(subject):
            cache = msal.SerializableTokenCache()
            with _reaching_microsoft():
                app = self._app(user.tenant, cache)
                result = app.acquire_token_on_behalf_of(assertion, list(GRAPH_PERMISSIONS))
            if not result or "access_token" not in result:
                self._refused(subject, result or {}, f"on-behalf-of for {user.email}")
            self.vault.save(
                PROVIDER, subject, user.email, cache.serialize().encode(), tenant=user.tenant
            )
        self._remember(key)

    def _refused(self, subject: str, result: Mapping[str, Any], what: str) -> None:
        """Raise what an msal error result means, parking the account when it must wait."""
        code = _code(result)
        if _needs_consent(result):
            self.vault.park(PROVIDER, subject, f"consent needed ({code})")
            raise ConsentRequired(f"{what}: Microsoft needs consent ({code})", GRAPH_PERMISSIONS)
        if result.get("error") in _SIGN_IN_AGAIN or not result:
            self.vault.park(PROVIDER, subject, f"sign in again ({code})")
            raise SignInAgain(f"{what}: Microsoft refused ({code}); the user must sign in again")
        raise Unavailable(f"{what}: Microsoft did not give a token ({code})")

    def _was_seen(self, key: str) -> bool:
        with self._seen_lock:
            expires = self._seen.get(key)
            return expires is not None and expires > time.monotonic()

    def _remember(self, key: str) -> None:
        with self._seen_lock:
            self._seen[key] = time.monotonic() + _SEEN_FOR
            self._seen.move_to_end(key)
            while len(self._seen) > _SEEN_TOKENS:
                self._seen.popitem(last=False)

    def token(self, email: str) -> AccessToken:
        """A Graph token for `email` from their stored cache, refreshed by msal when due.

        A stored sign-in that cannot serve names `email` in the `SignInRequired` it raises, so
        the pane can tell a partner's missing sign-in from the caller's own.
        """
        try:
            return self._stored_token(email)
        except SignInRequired as exc:
            exc.email = exc.email or email.strip().lower()
            raise

    def _stored_token(self, email: str) -> AccessToken:
        account = self.vault.find(PROVIDER, email)
        if account is None:
            raise SignInAgain(f"no Microsoft sign-in is stored for {email}")
        if account.parked:
            raise SignInAgain(f"work for {email} waits for a new sign-in: {account.parked}")
        with self._lock(account.subject):
            try:
                secret = self.vault.secret(PROVIDER, account.subject)
            except VaultError as exc:
                log.error("the stored Microsoft sign-in of %s does not open: %s", email, exc)
                raise SignInAgain(f"the stored sign-in of {email} cannot be opened") from exc
            if secret is None:
                raise SignInAgain(f"no Microsoft sign-in is stored for {email}")
            cache = msal.SerializableTokenCache()
            try:
                cache.deserialize(secret.decode())
            except ValueError as exc:
                self.vault.park(PROVIDER, account.subject, "sign in again (unreadable cache)")
                raise SignInAgain(f"the stored sign-in of {email} is unreadable") from exc
            tenant, _, oid = account.subject.partition(".")
            home = f"{oid}.{tenant}"
            with _reaching_microsoft():
                app = self._app(tenant, cache)
                found = [a for a in app.get_accounts() if a.get("home_account_id") == home]
                if not found:
                    self.vault.park(PROVIDER, account.subject, "sign in again (no account)")
                    raise SignInAgain(f"the stored sign-in of {email} holds no account")
                result = app.acquire_token_silent_with_error(list(GRAPH_PERMISSIONS), found[0])
            if not result or "access_token" not in result:
                self._refused(account.subject, result or {}, f"refresh for {email}")
            if cache.has_state_changed:
                self.vault.save(
                    PROVIDER,
                    account.subject,
                    account.email,
                    cache.serialize().encode(),
                    tenant=tenant,
                )
        expires_in = int(result.get("expires_in") or 3600)
        return AccessToken(str(result["access_token"]), int(time.time()) + expires_in)

    def credential(self, email: str) -> FetchedToken:
        """An azure-core ``TokenCredential`` for `email` (what `GraphAccount` takes per user),
        asking for the person's token on every call; the SDK's ``.default`` scope is ignored."""
        from connectors.graph import FetchedToken

        return FetchedToken(partial(self.token, email))


@contextmanager
def _reaching_microsoft() -> Iterator[None]:
    """The authority's failures as `Unavailable`: requests' own, msal's `MsalError` for an
    answer that is no token response (a 5xx page), a ValueError for unreadable metadata."""
    try:
        yield
    except (requests.RequestException, MsalError, ValueError) as exc:
        raise Unavailable(f"Microsoft's sign-in service cannot be reached: {exc}") from exc


class OnBehalfIdentity:
    """The pane's `Identity` with Entra: verify the token, then exchange it for Graph (once)."""

    def __init__(self, verifier: EntraVerifier, graph: GraphOnBehalf) -> None:
        self.verifier = verifier
        self.graph = graph

    def verify(self, authorization_header: str | None) -> User:
        """The caller, whose Graph tokens are then in the vault; `SignInRequired` otherwise.

        The series and the partner's stored sign-in are found by address, but a token's
        ``preferred_username`` is no proof of one (Microsoft: never authorize on it). An address
        stays bound to the organisation whose account first signed in with it: a token of
        another tenant naming the same address is refused before anything is exchanged.
        """
        user = self.verifier.verify(authorization_header)
        bound = self.graph.vault.find(PROVIDER, user.email)
        if bound is not None and bound.tenant and bound.tenant != user.tenant:
            raise SignInRequired(
                "the token's address belongs to an account of another organisation here"
            )
        self.graph.exchange(user, _bearer_token(authorization_header))
        return user
