"""Offline access to a person's Google calendar and drive: the grant, kept sealed, used later.

While a card is open the add-on acts with the person's own ``userOAuthToken`` from the event
object. Work done for them later (the partner's side of a series, reminders, prompts) needs an
offline grant: once, the person follows a link from a card to Google's consent page (Google's
"OAuth 2.0 for Web Server Applications": ``access_type=offline``, ``include_granted_scopes=true``,
PKCE), and the refresh token with the scopes actually granted is sealed in the `TokenVault` under
``("google", sub)`` with the address. Google lets people grant only some scopes (granular
consent), so what was granted is compared with what the product needs and a card names what is
missing. A refresh token Google calls ``invalid_grant`` (revoked, expired) parks the account: its
work waits, nothing is lost, and the card asks the person to grant access again.

Two signed, short-lived values keep the flow bound to the person: the link a card opens
(``/workspace/oauth/start?t=``) names the verified card user; the ``state`` sent to Google names
them again with a nonce from which the PKCE verifier is derived with the app's key, so the
verifier never travels and any worker can finish the flow. The callback also checks that the
account that consented is that same person (the ID token's ``sub``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import google.auth.exceptions
from google.oauth2.credentials import Credentials
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from addin.signin.vault import TokenVault, VaultError
from connectors.errors import AuthExpired

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

PROVIDER = "google"
AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"
CALLBACK_PATH = "/workspace/oauth/callback"
LINK_SECONDS = 15 * 60
"""How long a card's grant link works (the card may stay open a while)."""
STATE_SECONDS = 10 * 60
"""How long the person may take on Google's consent page."""

SIGN_IN_SCOPES = ("openid", "https://www.googleapis.com/auth/userinfo.email")
"""Asked with the data scopes: the ID token says which account consented."""


def needed_scopes() -> tuple[str, ...]:
    """The data scopes offline work needs (those a delegated service account is given)."""
    from addin.backends import GOOGLE_DELEGATED_SCOPES

    return GOOGLE_DELEGATED_SCOPES


class GrantError(Exception):
    """The grant could not be completed. `code` names the case for the person's sentence:
    ``link_expired``, ``link_invalid``, ``refused`` (Google did not take the code),
    ``no_identity`` (no verifiable ID token), ``other_account``, ``not_offline``; the message is
    for the operator's log."""

    def __init__(
        self, code: str, detail: str, *, locale: str | None = None, email: str = ""
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.locale = locale
        self.email = email


class GrantUnusable(AuthExpired):
    """`email`'s stored grant cannot be used: ``missing`` (never given), ``partial`` (some of the
    scopes left out at the consent screen) or ``parked`` (withdrawn or expired). It names the
    person, so a card can say who must give access again: the person using it, or their
    partner."""

    def __init__(self, email: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.email = email
        self.reason = reason


class GrantRevoked(google.auth.exceptions.RefreshError):
    """The refresh of a stored grant was refused (Google's ``invalid_grant``, or the account was
    parked meanwhile). The connector maps it to `AuthExpired` with this as its cause."""

    def __init__(self, email: str, message: str) -> None:
        super().__init__(message)  # type: ignore[no-untyped-call]
        self.email = email
        self.reason = "parked"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Whose stored grant an error came from, and why (``missing``, ``partial`` or ``parked``)."""

    email: str
    reason: str


def grant_refusal(exc: BaseException) -> Refusal | None:
    """The stored grant behind `exc` (itself, or a cause in its chain), if one is."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain of causes is short; never loop on a cycle
        if seen is None:
            return None
        if isinstance(seen, GrantUnusable | GrantRevoked):
            return Refusal(seen.email, seen.reason)
        seen = seen.__cause__ or seen.__context__
    return None


def http_session(config: Mapping[str, Any]) -> requests.Session:
    """A requests session for Google's identity endpoints, trusting ``GOOGLE_CA_BUNDLE`` if set."""
    # requests and google-auth's transport load here, not at start-up (about 0.05 s).
    from addin.signin.http import session_trusting

    return session_trusting(str(config.get("GOOGLE_CA_BUNDLE") or "") or None)


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The add-on's OAuth web client (Google Cloud console) and where Google's endpoints are."""

    client_id: str
    client_secret: str
    auth_uri: str
    token_uri: str
    redirect_uri: str
    certs_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OAuthClient | None:
        """The client from ``GOOGLE_OAUTH_*`` and ``PUBLIC_URL``; None when not configured."""
        client_id = str(config.get("GOOGLE_OAUTH_CLIENT_ID") or "").strip()
        if not client_id:
            return None
        secret = str(config.get("GOOGLE_OAUTH_CLIENT_SECRET") or "")
        public = str(config.get("PUBLIC_URL") or "").rstrip("/")
        if not secret or not public:
            raise ValueError(
                "GOOGLE_OAUTH_CLIENT_ID needs GOOGLE_OAUTH_CLIENT_SECRET and PUBLIC_URL too "
                "(the redirect URI is PUBLIC_URL + " + CALLBACK_PATH + ")"
            )
        from addin.workspace.verify import GOOGLE_CERTS_URL

        return cls(
            client_id=client_id,
            client_secret=secret,
            auth_uri=str(config.get("GOOGLE_AUTH_URI") or AUTH_URI),
            token_uri=str(config.get("GOOGLE_TOKEN_URI") or TOKEN_URI),
            redirect_uri=public + CALLBACK_PATH,
            certs_url=str(config.get("GOOGLE_CERTS_URL") or GOOGLE_CERTS_URL),
        )

    def flow_config(self) -> dict[str, Any]:
        """The client configuration google-auth-oauthlib's `Flow` reads."""
        return {
            "web": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "auth_uri": self.auth_uri,
                "token_uri": self.token_uri,
                "redirect_uris": [self.redirect_uri],
            }
        }


@dataclass(frozen=True, slots=True)
class Grant:
    """What a person granted: the scopes, and whether the account waits for a new sign-in."""

    email: str
    scopes: frozenset[str]
    parked: str = ""

    def missing(self, needed: Iterable[str]) -> list[str]:
        """The needed scopes this grant lacks, in the order given."""
        return [s for s in needed if s not in self.scopes]


class GoogleGrants:
    """The offline grant: its links, the exchange, the sealed refresh token and its use."""

    def __init__(
        self,
        client: OAuthClient,
        vault: TokenVault,
        session: requests.Session,
        key: bytes,
    ) -> None:
        self.client = client
        self.vault = vault
        self.session = session
        self._key = key
        self._links = URLSafeTimedSerializer(key, salt="goedgesprek.google-grant.link")
        self._states = URLSafeTimedSerializer(key, salt="goedgesprek.google-grant.state")
        import google.auth.transport.requests

        self.request = google.auth.transport.requests.Request(session)

    # -- the flow --------------------------------------------------------------------------------

    def link_token(self, *, subject: str, email: str, locale: str) -> str:
        """The value a card's grant link carries: who the verified card user is."""
        return str(self._links.dumps({"sub": subject, "email": email.lower(), "loc": locale}))

    def authorization_url(self, link: str) -> str:
        """Google's consent page for the person `link` names (a `link_token`)."""
        person = self._open(self._links, link, LINK_SECONDS)
        nonce = secrets.token_urlsafe(24)
        state = str(self._states.dumps({**person, "n": nonce}))
        flow = self._flow(self._verifier(nonce))
        url, _state = flow.authorization_url(
            access_type="offline",
            include_granted_scopes="true",
            prompt="consent",
            login_hint=person["email"],
            state=state,
        )
        return str(url)

    def locale_of(self, state: str) -> str | None:
        """The language the flow was started in, if `state` is readable (for error pages)."""
        try:
            loaded = self._states.loads(state)
        except BadSignature:
            return None
        return str(loaded.get("loc")) if isinstance(loaded, dict) else None

    def complete(self, state: str, code: str) -> Grant:
        """Exchange `code`, check who consented, seal the refresh token; what was granted."""
        person = self._open(self._states, state, STATE_SECONDS)
        locale = person.get("loc")
        flow = self._flow(self._verifier(person["n"]))
        try:
            token = dict(flow.fetch_token(code=code))
        except Warning as changed:
            # oauthlib raises when the granted scopes differ from those asked for; with granular
            # consent and include_granted_scopes that is normal, and the token rides along.
            token = dict(getattr(changed, "token", None) or {})
        except Exception as exc:  # oauthlib's errors and the transport's mean the same here
            log.warning("Google refused the authorization code: %s", exc)
            raise GrantError("refused", str(exc), locale=locale) from exc
        refresh = token.get("refresh_token")
        claims = self._id_claims(token.get("id_token"), locale)
        if claims.get("sub") != person["sub"]:
            raise GrantError(
                "other_account",
                f"consented as {claims.get('sub')!r}, card user {person['sub']!r}",
                locale=locale,
                email=person["email"],
            )
        if not isinstance(refresh, str) or not refresh:
            raise GrantError("not_offline", "the token answer has no refresh_token", locale=locale)
        scope = token.get("scope") or ""
        scopes = frozenset(scope.split() if isinstance(scope, str) else scope)
        secret = json.dumps({"refresh_token": refresh, "scopes": sorted(scopes)}).encode()
        self.vault.save(PROVIDER, person["sub"], person["email"], secret)
        return Grant(person["email"], scopes)

    def _id_claims(self, id_token: object, locale: str | None) -> Mapping[str, Any]:
        if not isinstance(id_token, str):
            raise GrantError("no_identity", "the token answer has no id_token", locale=locale)
        from google.oauth2 import id_token as google_id_token

        try:
            claims: Mapping[str, Any] = google_id_token.verify_token(
                id_token,
                self.request,
                audience=self.client.client_id,
                certs_url=self.client.certs_url,
                clock_skew_in_seconds=30,
            )
        except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
            raise GrantError(
                "no_identity", f"the ID token does not verify: {exc}", locale=locale
            ) from exc
        return claims

    def _flow(self, verifier: str) -> Any:
        from google_auth_oauthlib.flow import Flow  # type: ignore[import-untyped]

        scopes = [*SIGN_IN_SCOPES, *needed_scopes()]
        flow = Flow.from_client_config(
            self.client.flow_config(),
            scopes=scopes,
            redirect_uri=self.client.redirect_uri,
            code_verifier=verifier,
            autogenerate_code_verifier=False,
        )
        flow.oauth2session.verify = self.session.verify
        flow.oauth2session.trust_env = self.session.trust_env
        return flow

    def _verifier(self, nonce: str) -> str:
        # RFC 7636: 43-128 characters of [A-Za-z0-9-._~]; base64url of 32 bytes is 43.
        digest = hmac.new(self._key, b"pkce\x00" + nonce.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    @staticmethod
    def _open(serializer: URLSafeTimedSerializer, value: str, max_age: int) -> dict[str, str]:
        try:
            loaded = serializer.loads(value, max_age=max_age)
        except SignatureExpired as exc:
            raise GrantError("link_expired", str(exc)) from exc
        except BadSignature as exc:
            raise GrantError("link_invalid", str(exc)) from exc
        if not isinstance(loaded, dict) or not all(
            isinstance(loaded.get(k), str) for k in ("sub", "email")
        ):
            raise GrantError("link_invalid", "the signed value is not a person")
        return {str(k): str(v) for k, v in loaded.items()}

    # -- using the grant -------------------------------------------------------------------------

    def grant_of(self, email: str) -> Grant | None:
        """The person's stored grant (None when they never gave one)."""
        account = self.vault.find(PROVIDER, email)
        if account is None:
            return None
        try:
            secret = self.vault.secret(PROVIDER, account.subject)
        except VaultError:
            log.exception("the Google grant of %s does not open", email)
            return Grant(account.email, frozenset(), parked="unreadable")
        if secret is None:
            return None
        data = json.loads(secret)
        return Grant(account.email, frozenset(data.get("scopes") or ()), account.parked)

    def credentials(self, email: str) -> Credentials:
        """Credentials acting for `email` through their sealed refresh token.

        `GrantUnusable` (an `AuthExpired`) when there is none or the account is parked; a refresh
        Google answers with ``invalid_grant`` parks the account and raises `GrantRevoked` (a
        google-auth ``RefreshError``, which the connector maps to `AuthExpired`). Both name the
        person (`grant_refusal`), so a card can say whose access is missing.
        """
        address = email.strip().lower()
        account = self.vault.find(PROVIDER, email)
        missing = f"{email} has not given Goed Gesprek offline access: sign in again"
        if account is None:
            raise GrantUnusable(address, "missing", missing)
        if account.parked:
            raise GrantUnusable(
                address, "parked", f"{email} must give Goed Gesprek access again ({account.parked})"
            )
        secret = self.vault.secret(PROVIDER, account.subject)
        if secret is None:
            raise GrantUnusable(address, "missing", missing)
        data = json.loads(secret)
        lacking = sorted(set(needed_scopes()) - set(data.get("scopes") or ()))
        if lacking:
            # Google would answer 403 for the scope left out, which says nothing of whose grant
            # it is: refuse here, naming the person.
            raise GrantUnusable(
                address,
                "partial",
                f"{email} gave Goed Gesprek only part of the access it needs "
                f"(missing: {', '.join(lacking)})",
            )
        return StoredCredentials(
            self,
            account.subject,
            address,
            refresh_token=data["refresh_token"],
            token_uri=self.client.token_uri,
            client_id=self.client.client_id,
            client_secret=self.client.client_secret,
            scopes=list(data.get("scopes") or ()),
        )


class StoredCredentials(Credentials):
    """A person's offline credentials: refreshed through the grants' requests session (which
    trusts the configured CA), parking the account when Google says the grant is gone."""

    def __init__(self, grants: GoogleGrants, subject: str, email: str, **kwargs: Any) -> None:
        super().__init__(None, **kwargs)  # type: ignore[no-untyped-call]
        self._grants = grants
        self._subject = subject
        self._email = email

    def refresh(self, request: Any) -> None:
        """Refresh with the grants' own transport, whichever transport asks.

        The refresh token is read from the vault each time, so a grant given again since these
        credentials were made is the one used, and a parked account is not tried.
        """
        account = self._grants.vault.account(PROVIDER, self._subject)
        secret = self._grants.vault.secret(PROVIDER, self._subject) if account else None
        if account is None or secret is None or account.parked:
            raise GrantRevoked(
                self._email, "invalid_grant: the person must give Goed Gesprek access again"
            )
        self._refresh_token = json.loads(secret)["refresh_token"]
        try:
            super().refresh(self._grants.request)  # type: ignore[no-untyped-call]
        except google.auth.exceptions.RefreshError as exc:
            if _is_invalid_grant(exc):
                self._grants.vault.park(PROVIDER, self._subject, "the grant was revoked")
                raise GrantRevoked(self._email, f"invalid_grant: {exc}") from exc
            # Anything else is Google's side or ours (a 5xx page, server_error, a wrong client
            # secret), never the person's: their grant stays, and the call may be tried again.
            # google-auth marks an HTML error page not retryable, so its flag cannot decide this.
            log.warning("refreshing the Google grant of %s failed: %s", self._email, exc)
            raise google.auth.exceptions.TransportError(  # type: ignore[no-untyped-call]
                f"Google's token endpoint did not refresh the grant: {exc}"
            ) from exc


def _is_invalid_grant(exc: google.auth.exceptions.RefreshError) -> bool:
    for arg in exc.args:
        if isinstance(arg, Mapping) and arg.get("error") == "invalid_grant":
            return True
    return "invalid_grant" in str(exc)
