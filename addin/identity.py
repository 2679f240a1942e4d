"""Who is calling the side-panel API: a bearer token, verified on every request.

In Outlook the pane gets an access token for our API from Microsoft Entra ID (nested app
authentication); `addin.signin.entra` verifies it and `addin.signin.obo` then acts for that user.
Without sign-in settings, the demo and the tests use `LocalIdentity`: tokens in the same JWT
shape, signed with the app's local RSA key (the one the Workspace demo signs with), so every call
runs the same verification path. A refusal the pane can act on is a `SignInRequired`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from google.auth import exceptions as google_exceptions
from google.auth import jwt as google_jwt

from addin.workspace.verify import CLOCK_SKEW, LocalSigner, Unauthorized, _bearer_token
from connectors.errors import AuthExpired

LOCAL_ISSUER = "urn:goedgesprek:local"
PANE_AUDIENCE = "urn:goedgesprek:pane"
TOKEN_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class User:
    """The person a verified token speaks for."""

    email: str
    name: str
    tenant: str = ""
    """The directory the person signed in with (Entra's ``tid``); empty for local tokens."""
    oid: str = ""
    """The person's object id in that directory (Entra's ``oid``); empty for local tokens."""


class SignInRequired(Unauthorized):
    """A token or a stored sign-in the server cannot use; `signin` tells the pane what to do.

    ``"again"``: get a new token (sign in again); ``"consent"``: ask the person (or their
    administrator) to grant `scopes`. The reason stays English, for the operator's log.
    """

    def __init__(
        self,
        reason: str,
        *,
        signin: str = "again",
        scopes: tuple[str, ...] = (),
        email: str = "",
    ) -> None:
        super().__init__(reason)
        self.signin = signin
        self.scopes = scopes
        self.email = email
        """Whose stored sign-in it is, when it is a stored one (empty: the caller's own token)."""


class SignInAgain(SignInRequired, AuthExpired):
    """The person's stored sign-in ended (revoked, expired, needs MFA): they must sign in again.

    Both a connector error (background work stops for the account) and a pane 401
    (``signin: again``): the sign-in error comes first in the MRO, so the API's handler for
    `Unauthorized` answers it.
    """

    def __init__(self, reason: str, *, email: str = "") -> None:
        super().__init__(reason, signin="again", email=email)


class ConsentRequired(SignInRequired, AuthExpired):
    """Microsoft says the app lacks consent for `scopes` (AADSTS65001): 401 ``signin: consent``."""

    def __init__(self, reason: str, scopes: tuple[str, ...], *, email: str = "") -> None:
        super().__init__(reason, signin="consent", scopes=scopes, email=email)


class Identity(Protocol):
    """Turns an ``Authorization`` header into a `User`, or raises `Unauthorized`."""

    def verify(self, authorization_header: str | None) -> User:
        """The caller, or `Unauthorized` with a reason to act on."""
        ...


class LocalIdentity:
    """Issues and verifies pane tokens with a local key (demo, tests, single-machine installs)."""

    def __init__(
        self, signer: LocalSigner, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._signer = signer
        self._clock = clock

    def issue(self, email: str, name: str = "") -> str:
        """A token for `email`, valid for `TOKEN_LIFETIME`."""
        if "@" not in email:
            raise ValueError(f"not an email address: {email!r}")
        return self._signer.sign(
            audience=PANE_AUDIENCE,
            now=self._clock(),
            email=email.lower(),
            issuer=LOCAL_ISSUER,
            lifetime=TOKEN_LIFETIME,
            extra={"name": name or email.split("@", maxsplit=1)[0]},
        )

    def verify(self, authorization_header: str | None) -> User:
        """The token's user; a missing, forged, expired or foreign token raises `Unauthorized`."""
        token = _bearer_token(authorization_header)
        try:
            claims: dict[str, Any] = google_jwt.decode(  # type: ignore[no-untyped-call]
                token,
                certs=dict(self._signer.certs()),
                audience=PANE_AUDIENCE,
                clock_skew_in_seconds=int(CLOCK_SKEW.total_seconds()),
            )
        except (ValueError, google_exceptions.GoogleAuthError) as exc:
            raise Unauthorized(f"the token does not verify: {exc}") from exc
        except RecursionError as exc:
            raise Unauthorized("the token does not verify: its JSON is nested too deep") from exc
        if claims.get("iss") != LOCAL_ISSUER:
            raise Unauthorized(f"wrong issuer: {claims.get('iss')!r}")
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise Unauthorized("the token names no user")
        name = claims.get("name")
        return User(email=email.lower(), name=name if isinstance(name, str) else email)
