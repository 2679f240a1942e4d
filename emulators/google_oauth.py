"""A stand-in for Google's OAuth 2.0 server and its signing keys, as one WSGI app (serve it HTTPS).

What it speaks, after Google's "Using OAuth 2.0 for Web Server Applications" and "OpenID Connect":

- ``GET /o/oauth2/v2/auth``: the authorization endpoint. It checks ``client_id``,
  ``redirect_uri`` (an exact match with a registered one), ``response_type=code`` and ``scope``,
  then shows a consent page: the sign-in scopes (``openid``, ``email``, ``profile``) as they are,
  every other scope with its own checkbox, as Google's granular consent does (a user may grant
  only some). The form posts to ``/o/oauth2/v2/auth/approve``, which answers 302 to the redirect
  URI with ``code``, ``scope`` (what was granted) and ``state``; "Cancel" answers
  ``error=access_denied``. Errors that cannot go back to the client (unknown client, redirect URI
  mismatch) are an HTML page with status 400 or 401, as Google shows them.
  ``access_type=offline`` makes the code yield a refresh token (on the first consent, or with
  ``prompt=consent``); ``include_granted_scopes=true`` adds what the user granted the client
  before; PKCE (``code_challenge``, ``S256`` or ``plain``) is enforced at the token endpoint.
- ``POST /token``: ``authorization_code`` and ``refresh_token`` grants, client authentication in
  the body or with HTTP Basic. Answers ``access_token``, ``expires_in``, ``scope`` (granted scopes
  only), ``token_type`` ``Bearer``, ``id_token`` (when a sign-in scope was granted) and, offline,
  ``refresh_token``. Errors are Google's ``{"error", "error_description"}``: ``invalid_grant``
  (``Bad Request`` for a bad code, ``Token has been expired or revoked.`` for a revoked refresh
  token), ``invalid_client`` (401), ``unsupported_grant_type``, ``invalid_request``,
  ``redirect_uri_mismatch``.
- ``POST /revoke``: ``token=`` an access or refresh token; revokes the grant it belongs to.
- ``GET /oauth2/v1/certs`` (key id -> PEM X.509 certificate) and ``GET /oauth2/v3/certs`` (JWKS),
  with ``Cache-Control: public, max-age=...`` as Google sends them.

`sign_id_token` makes Google-signed ID tokens for tests and the demo: the add-on's system ID token
(the service account's email, the endpoint URL as audience) or a user's. Access tokens come from
`mint` (pass `emulators.google.GoogleEmulator.token` so the Google API emulator accepts them) and
`revoked` hears when a grant is revoked (pass ``GoogleEmulator.revoke``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt
from werkzeug.wrappers import Request, Response

from emulators._wsgi import StartResponse

ISSUER = "https://accounts.google.com"
SIGN_IN_SCOPES = frozenset(
    {
        "openid",
        "email",
        "profile",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    }
)
"""Scopes Google's consent page shows without a checkbox: signing in is not optional."""

ACCESS_TOKEN_SECONDS = 3599  # what Google's token endpoint answers as expires_in
CODE_SECONDS = 600
CERTS_MAX_AGE = 19_800  # about what Google's certificate endpoints send (hours, not days)
REVOKED = "Token has been expired or revoked."


@dataclass
class Client:
    """A registered OAuth client (Google Cloud console: a "Web application" client)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass
class Person:
    """A Google account that can sign in."""

    email: str
    name: str
    subject: str
    email_verified: bool = True


@dataclass
class _Pending:
    """An authorization request waiting at the consent page."""

    client: Client
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    offline: bool
    prompt_consent: bool
    include_granted: bool
    challenge: str | None
    challenge_method: str
    login_hint: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    email: str
    scopes: frozenset[str]
    offline: bool
    challenge: str | None
    challenge_method: str
    expires: datetime
    issue_refresh: bool


@dataclass
class _Grant:
    """What one person granted one client; its refresh token, once offline access was given."""

    client_id: str
    email: str
    scopes: set[str] = field(default_factory=set)
    refresh_token: str | None = None
    revoked: bool = False


class _Key:
    """An RSA signing key with its self-signed certificate, as Google publishes its keys."""

    def __init__(self, now: datetime) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = hashlib.sha1(der, usedforsecurity=False).hexdigest()
        name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "federated-signon.system.gserviceaccount.com")]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=14))
            .sign(self.private, hashes.SHA256())
        )
        self.certificate = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.signer = crypt.RSASigner.from_string(pem, key_id=self.kid)  # type: ignore[no-untyped-call]

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _b64_int(numbers.n),
            "e": _b64_int(numbers.e),
        }


def _b64_int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _subject(email: str) -> str:
    # Google's sub is a stable number of up to 21 digits; derive one from the address.
    return str(int(hashlib.sha256(email.lower().encode()).hexdigest(), 16))[:21]


class GoogleOAuthEmulator:
    """Google's authorization server, token endpoint and signing certificates, as a WSGI app."""

    def __init__(
        self,
        *,
        mint: Callable[[str], str] | None = None,
        revoked: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        certs_max_age: int = CERTS_MAX_AGE,
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._mint = mint or (lambda email: "ya29." + secrets.token_urlsafe(32))
        self._on_revoke = revoked
        self.certs_max_age = certs_max_age
        self._lock = threading.RLock()
        self._clients: dict[str, Client] = {}
        self._people: dict[str, Person] = {}
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[tuple[str, str], _Grant] = {}
        self._access: dict[str, tuple[str, str]] = {}  # access token -> (client id, email)
        self._keys = [_Key(self._clock())]
        self.token_requests = 0

    # -- set-up ---------------------------------------------------------------------------------

    def add_client(
        self, client_id: str, client_secret: str, redirect_uris: Iterable[str]
    ) -> Client:
        """Register a web client with its exact redirect URIs."""
        client = Client(client_id, client_secret, tuple(redirect_uris))
        with self._lock:
            self._clients[client_id] = client
        return client

    def add_person(self, email: str, name: str = "", *, email_verified: bool = True) -> Person:
        """A Google account that can consent (idempotent for a known address)."""
        key = email.strip().lower()
        with self._lock:
            person = self._people.get(key)
            if person is None:
                person = Person(key, name or key.split("@")[0], _subject(key), email_verified)
                self._people[key] = person
            return person

    def rotate_keys(self) -> str:
        """Start signing with a new key; the old one stays published. The new key id."""
        with self._lock:
            self._keys.append(_Key(self._clock()))
            return self._keys[-1].kid

    def retire_oldest_key(self) -> None:
        """Stop publishing the oldest key (tokens it signed stop verifying)."""
        with self._lock:
            if len(self._keys) > 1:
                self._keys.pop(0)

    # -- what tests and the demo use ------------------------------------------------------------

    def sign_id_token(
        self,
        audience: str,
        email: str,
        *,
        email_verified: bool = True,
        subject: str | None = None,
        lifetime: timedelta = timedelta(hours=1),
        now: datetime | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """An ID token signed with the current key, as Google issues them.

        For a Workspace add-on request: `audience` is the endpoint URL (or the deployment's
        audience) and `email` the add-on's service account; for a user, the client id and the
        person's address.
        """
        issued = int((now or self._clock()).timestamp())
        payload: dict[str, Any] = {
            **(extra or {}),
            "iss": ISSUER,
            "aud": audience,
            "azp": (extra or {}).get("azp", subject or _subject(email)),
            "sub": subject or _subject(email),
            "email": email,
            "email_verified": email_verified,
            "iat": issued,
            "exp": issued + int(lifetime.total_seconds()),
        }
        with self._lock:
            signer = self._keys[-1].signer
        token: bytes = google_jwt.encode(signer, payload)  # type: ignore[no-untyped-call]
        return token.decode("ascii")

    def certs(self) -> dict[str, str]:
        """The published certificates by key id (what ``/oauth2/v1/certs`` answers)."""
        with self._lock:
            return {key.kid: key.certificate for key in self._keys}

    def revoke(self, email: str, client_id: str | None = None) -> None:
        """Withdraw `email`'s grants (to one client or all): refresh tokens stop working."""
        with self._lock:
            for grant in self._grants.values():
                if grant.email == email.lower() and client_id in (None, grant.client_id):
                    grant.revoked = True
                    grant.refresh_token = None
                    grant.scopes.clear()
            for token, (_, owner) in list(self._access.items()):
                if owner == email.lower():
                    del self._access[token]
        if self._on_revoke is not None:
            self._on_revoke(email.lower())

    def granted(self, email: str, client_id: str) -> frozenset[str]:
        """The scopes `email` has granted `client_id` so far."""
        with self._lock:
            grant = self._grants.get((client_id, email.lower()))
            return frozenset(grant.scopes) if grant else frozenset()

    # -- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/o/oauth2/v2/auth"): self._authorize,
            ("POST", "/o/oauth2/v2/auth/approve"): self._approve,
            ("POST", "/token"): self._token,
            ("POST", "/revoke"): self._revoke,
            ("GET", "/oauth2/v1/certs"): self._certs_v1,
            ("GET", "/oauth2/v3/certs"): self._certs_v3,
        }
        handler = routes.get((request.method, request.path))
        if handler is None:
            known = {path for _, path in routes}
            status = 405 if request.path in known else 404
            response = Response(f"Error {status}", status=status, mimetype="text/plain")
        else:
            with self._lock:
                response = handler(request)
        response.headers.setdefault(
            "Cache-Control", "no-cache, no-store, max-age=0, must-revalidate"
        )
        return response(environ, start_response)

    # -- the authorization endpoint -------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        args = request.args
        client = self._clients.get(args.get("client_id", ""))
        if client is None:
            # Google shows this on its own page: an unknown client cannot be redirected to.
            return _page(401, "Error 401: invalid_client", "The OAuth client was not found.")
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _page(
                400,
                "Error 400: redirect_uri_mismatch",
                f"You can't sign in to this app because it doesn't comply with Google's OAuth "
                f"2.0 policy. redirect_uri={redirect_uri}",
            )
        state = args.get("state")
        if args.get("response_type") != "code":
            return _redirect(redirect_uri, error="unsupported_response_type", state=state)
        scopes = tuple(dict.fromkeys(args.get("scope", "").split()))
        if not scopes:
            return _page(400, "Error 400: invalid_request", "Missing required parameter: scope")
        method = args.get("code_challenge_method", "plain" if args.get("code_challenge") else "")
        if args.get("code_challenge") and method not in ("S256", "plain"):
            return _page(
                400, "Error 400: invalid_request", "Invalid code_challenge_method: " + method
            )
        access_type = args.get("access_type", "online")
        if access_type not in ("online", "offline"):
            return _page(400, "Error 400: invalid_request", "Invalid access_type: " + access_type)
        pending = _Pending(
            client=client,
            redirect_uri=redirect_uri,
            scopes=scopes,
            state=state,
            offline=access_type == "offline",
            prompt_consent="consent" in args.get("prompt", "").split(),
            include_granted=args.get("include_granted_scopes") == "true",
            challenge=args.get("code_challenge"),
            challenge_method=method,
            login_hint=args.get("login_hint", ""),
        )
        transaction = secrets.token_urlsafe(24)
        self._pending[transaction] = pending
        return _consent_page(transaction, pending, sorted(self._people))

    def _approve(self, request: Request) -> Response:
        form = request.form
        pending = self._pending.pop(form.get("transaction", ""), None)
        if pending is None:
            return _page(400, "Error 400: invalid_request", "This consent page has expired.")
        if form.get("decision") != "allow":
            return _redirect(pending.redirect_uri, error="access_denied", state=pending.state)
        person = self._people.get(form.get("email", "").strip().lower())
        if person is None:
            return _page(400, "Error 400: invalid_request", "Choose an account to continue.")
        chosen = set(form.getlist("scope"))
        granted = {s for s in pending.scopes if s in SIGN_IN_SCOPES or s in chosen}
        grant = self._grants.setdefault(
            (pending.client.client_id, person.email),
            _Grant(pending.client.client_id, person.email),
        )
        if grant.revoked:
            grant.revoked = False
        if pending.include_granted:
            granted |= grant.scopes
        grant.scopes |= granted
        code = "4/0" + secrets.token_urlsafe(40)
        self._codes[code] = _Code(
            client_id=pending.client.client_id,
            redirect_uri=pending.redirect_uri,
            email=person.email,
            scopes=frozenset(granted),
            offline=pending.offline,
            challenge=pending.challenge,
            challenge_method=pending.challenge_method,
            expires=self._clock() + timedelta(seconds=CODE_SECONDS),
            # Google returns a refresh token on the first offline consent, or with prompt=consent.
            issue_refresh=pending.offline
            and (pending.prompt_consent or grant.refresh_token is None),
        )
        return _redirect(
            pending.redirect_uri,
            state=pending.state,
            code=code,
            scope=" ".join(sorted(granted)),
            authuser="0",
            prompt="consent",
        )

    # -- the token endpoint ---------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = request.form
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if request.authorization is not None and request.authorization.type == "basic":
            client_id = request.authorization.username or ""
            secret = request.authorization.password or ""
        client = self._clients.get(client_id)
        if client is None:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if not secrets.compare_digest(client.client_secret, secret):
            return _oauth_error(401, "invalid_client", "Unauthorized")
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._code_grant(client, form)
        if grant_type == "refresh_token":
            return self._refresh_grant(client, form)
        if not grant_type:
            return _oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
        return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _code_grant(self, client: Client, form: Mapping[str, str]) -> Response:
        raw = form.get("code", "")
        if not raw:
            return _oauth_error(400, "invalid_request", "Missing required parameter: code")
        code = self._codes.pop(raw, None)  # a code works once
        if code is None or code.client_id != client.client_id or self._clock() > code.expires:
            return _oauth_error(400, "invalid_grant", "Bad Request")
        if form.get("redirect_uri", "") != code.redirect_uri:
            return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            if not verifier:
                return _oauth_error(400, "invalid_grant", "Missing code verifier.")
            if code.challenge_method == "S256":
                digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            else:
                expected = verifier
            if not secrets.compare_digest(expected, code.challenge):
                return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
        grant = self._grants[(client.client_id, code.email)]
        if grant.revoked:
            return _oauth_error(400, "invalid_grant", "Bad Request")
        answer = self._access_answer(client, code.email, code.scopes)
        if code.issue_refresh:
            grant.refresh_token = "1//0" + secrets.token_urlsafe(48)
            answer["refresh_token"] = grant.refresh_token
        return _json(200, answer)

    def _refresh_grant(self, client: Client, form: Mapping[str, str]) -> Response:
        token = form.get("refresh_token", "")
        if not token:
            return _oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        grant = next(
            (
                g
                for g in self._grants.values()
                if g.refresh_token is not None and secrets.compare_digest(g.refresh_token, token)
            ),
            None,
        )
        if grant is None or grant.revoked:
            return _oauth_error(400, "invalid_grant", REVOKED)
        if grant.client_id != client.client_id:
            return _oauth_error(400, "unauthorized_client", "Unauthorized")
        scopes = frozenset(grant.scopes)
        narrowed = form.get("scope")
        if narrowed:
            wanted = frozenset(narrowed.split())
            if not wanted <= scopes:
                return _oauth_error(400, "invalid_scope", "Bad Request")
            scopes = wanted
        return _json(200, self._access_answer(client, grant.email, scopes))

    def _access_answer(self, client: Client, email: str, scopes: frozenset[str]) -> dict[str, Any]:
        access = self._mint(email)
        self._access[access] = (client.client_id, email)
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }
        if scopes & SIGN_IN_SCOPES:
            person = self._people[email]
            extra: dict[str, Any] = {"azp": client.client_id}
            if scopes & {"profile", "https://www.googleapis.com/auth/userinfo.profile"}:
                extra["name"] = person.name
            extra["at_hash"] = _at_hash(access)
            answer["id_token"] = self.sign_id_token(
                client.client_id,
                person.email,
                email_verified=person.email_verified,
                subject=person.subject,
                extra=extra,
            )
        return answer

    def _revoke(self, request: Request) -> Response:
        token = request.form.get("token") or request.args.get("token") or ""
        for grant in self._grants.values():
            if grant.refresh_token is not None and secrets.compare_digest(
                grant.refresh_token, token
            ):
                self.revoke(grant.email, grant.client_id)
                return _json(200, {})
        owner = self._access.get(token)
        if owner is not None:
            self.revoke(owner[1], owner[0])
            return _json(200, {})
        return _oauth_error(400, "invalid_token", "Token expired or revoked")

    # -- certificates ---------------------------------------------------------------------------

    def _certs_v1(self, request: Request) -> Response:
        return self._cached(_json(200, self.certs()))

    def _certs_v3(self, request: Request) -> Response:
        return self._cached(_json(200, {"keys": [key.jwk() for key in self._keys]}))

    def _cached(self, response: Response) -> Response:
        response.headers["Cache-Control"] = (
            f"public, max-age={self.certs_max_age}, must-revalidate, no-transform"
        )
        expires = self._clock() + timedelta(seconds=self.certs_max_age)
        response.headers["Expires"] = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
        return response


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def _json(status: int, body: Mapping[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _oauth_error(status: int, error: str, description: str) -> Response:
    return _json(status, {"error": error, "error_description": description})


def _redirect(uri: str, **params: str | None) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    joiner = "&" if urlsplit(uri).query else "?"
    return Response("", status=302, headers={"Location": f"{uri}{joiner}{query}"})


def _page(status: int, title: str, text: str) -> Response:
    body = (
        f"<!doctype html><html lang='en'><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return Response(body, status=status, mimetype="text/html")


def _consent_page(transaction: str, pending: _Pending, people: list[str]) -> Response:
    e = html.escape
    accounts = "".join(
        f"<option value='{e(p)}'{' selected' if p == pending.login_hint.lower() else ''}>"
        f"{e(p)}</option>"
        for p in people
    )
    rows = []
    for scope in pending.scopes:
        if scope in SIGN_IN_SCOPES:
            rows.append(f"<li data-scope='{e(scope)}'>{e(scope)}</li>")
        else:
            rows.append(
                f"<li><label><input type='checkbox' name='scope' value='{e(scope)}' checked> "
                f"{e(scope)}</label></li>"
            )
    body = (
        "<!doctype html><html lang='en'><head><title>Sign in - Google Accounts</title></head>"
        f"<body><h1>{e(pending.client.client_id)} wants access to your Google Account</h1>"
        "<form method='post' action='/o/oauth2/v2/auth/approve'>"
        f"<input type='hidden' name='transaction' value='{e(transaction)}'>"
        f"<label>Account <select name='email'>{accounts}</select></label>"
        f"<ul>{''.join(rows)}</ul>"
        "<button type='submit' name='decision' value='cancel'>Cancel</button>"
        "<button type='submit' name='decision' value='allow'>Continue</button>"
        "</form></body></html>"
    )
    return Response(body, status=200, mimetype="text/html")


class _FormReader(HTMLParser):
    """The consent page's form: its action, hidden fields, accounts and scope checkboxes."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.accounts: list[str] = []
        self.optional: list[str] = []
        self.fixed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a.get("name", "")] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox" and a.get("name") == "scope":
            self.optional.append(a.get("value", ""))
        elif tag == "option":
            self.accounts.append(a.get("value", ""))
        elif tag == "li" and "data-scope" in a:
            self.fixed.append(a["data-scope"])


def read_consent_page(page: str) -> _FormReader:
    """What a consent page offers: `optional` scopes (checkboxes), `fixed` ones, `accounts`."""
    reader = _FormReader()
    reader.feed(page)
    return reader


def consent(
    session: Any,
    url: str,
    *,
    email: str,
    grant: Iterable[str] | None = None,
    allow: bool = True,
) -> str:
    """Open the authorization `url` with a `requests` session and answer its consent form.

    Ticks the scopes in `grant` (default: every one offered), chooses `email`, presses Continue
    (or Cancel) and returns the ``Location`` the server redirects to, without following it.
    """
    page = session.get(url, allow_redirects=False, timeout=10)
    if page.status_code != 200:
        raise ValueError(f"the authorization endpoint answered {page.status_code}: {page.text}")
    form = read_consent_page(page.text)
    ticked = form.optional if grant is None else [s for s in form.optional if s in set(grant)]
    data: list[tuple[str, str]] = [*form.hidden.items(), ("email", email)]
    data += [("scope", s) for s in ticked]
    data.append(("decision", "allow" if allow else "cancel"))
    base = urlsplit(url)
    answer = session.post(
        f"{base.scheme}://{base.netloc}{form.action}", data=data, allow_redirects=False, timeout=10
    )
    if answer.status_code != 302:
        raise ValueError(f"the consent form answered {answer.status_code}: {answer.text}")
    return str(answer.headers["Location"])
