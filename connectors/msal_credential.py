"""Microsoft Graph credentials from MSAL, for deployments that keep their tokens with msal.

`GraphAccount` takes any azure-core ``TokenCredential``; azure-identity's classes are one kind,
`MsalCredential` is the other: it wraps an msal application the deployment already configured
(its authority, client secret or certificate, and token cache).
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from connectors.errors import AuthExpired, Unavailable

# msal's error codes that mean the user or the admin must consent or sign in again.
_SIGN_IN_AGAIN = frozenset({"invalid_grant", "interaction_required", "consent_required"})


class MsalCredential:
    """A ``TokenCredential`` over an msal application.

    - No `user_assertion`, no `account`: the app's own token (client credentials, app-only).
    - `user_assertion`: on behalf of the user whose token that is (the side panel's token).
    - `account`: that user's token from msal's cache, refreshed silently.
    """

    def __init__(self, app: Any, *, user_assertion: str | None = None, account: Any = None) -> None:
        if user_assertion is not None and account is not None:
            raise ValueError("give a user assertion or an account, not both")
        self._app = app
        self._assertion = user_assertion
        self._account = account

    def _acquire(self, scopes: tuple[str, ...]) -> dict[str, Any]:
        wanted = list(scopes)
        if self._assertion is not None:
            result = self._app.acquire_token_on_behalf_of(self._assertion, wanted)
        elif self._account is not None:
            result = self._app.acquire_token_silent(wanted, account=self._account)
        else:
            result = self._app.acquire_token_for_client(scopes=wanted)
        if not result or "access_token" not in result:
            error = (result or {}).get("error", "no_token")
            detail = (result or {}).get("error_description", "msal returned no token")
            if error in _SIGN_IN_AGAIN or result is None:
                raise AuthExpired(f"Microsoft sign-in needed again ({error}): {detail}")
            raise Unavailable(f"Microsoft sign-in failed ({error}): {detail}")
        return dict(result)

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """A token for `scopes` (azure-core's TokenCredential protocol)."""
        result = self._acquire(scopes)
        return AccessToken(result["access_token"], _expires(result))

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        """A token for `scopes` (azure-core's SupportsTokenInfo protocol)."""
        result = self._acquire(scopes)
        return AccessTokenInfo(result["access_token"], _expires(result))


def _expires(result: dict[str, Any]) -> int:
    return int(time.time()) + int(result.get("expires_in") or 3600)
