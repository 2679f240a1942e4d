"""Card requests checked against Google's published keys (the Google OAuth emulator over HTTPS).

The product app trusts the certificates at ``GOOGLE_CERTS_URL``, the audience under ``PUBLIC_URL``
and the configured service account. Each attack below gets 401, says nothing of what the server
expects, and makes no series; the same request signed properly does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from google.auth import crypt
from google.auth import jwt as google_jwt

from addin.app import create_app
from addin.demo import seed
from addin.workspace.verify import GoogleIdTokenVerifier, LocalSigner, RefuseAll, request_verifier
from connectors.local import LocalStore
from connectors.testing import ManualClock
from emulators.google_oauth import GoogleOAuthEmulator
from emulators.serve import Server
from emulators.tls import LocalCA

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

PUBLIC = "https://goedgesprek.example.org"
EVIL_URL = "https://evil.example/workspace/action/create"
URL = PUBLIC + "/workspace/action/create"
ACCOUNT = "service-314159265358@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
ADA = "ada@example.org"
GRACE = "grace@example.org"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def google() -> Iterator[tuple[GoogleOAuthEmulator, Server, LocalCA]]:
    """Google's signing keys, served over HTTPS on 127.0.0.1."""
    ca = LocalCA()
    oauth = GoogleOAuthEmulator()
    with Server(oauth, tls=ca) as server:
        yield oauth, server, ca


def config(server: Server, ca: LocalCA, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    """Product settings that trust the emulator's keys."""
    return {
        "TESTING": True,
        "DATA_DIR": str(tmp_path),
        "PUBLIC_URL": PUBLIC,
        "WORKSPACE_SERVICE_ACCOUNT": ACCOUNT,
        "GOOGLE_CERTS_URL": f"{server.url}/oauth2/v1/certs",
        "GOOGLE_CA_BUNDLE": str(ca.ca_file),
        **extra,
    }


@pytest.fixture
def app(google: tuple[GoogleOAuthEmulator, Server, LocalCA], tmp_path: Path) -> Flask:
    """The product on the seeded local store, verifying with Google's keys."""
    _, server, ca = google
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    app = create_app(config(server, ca, tmp_path), store=store, clock=clock)
    seed(store, NOW)
    return app


def body(user_token: str) -> dict[str, Any]:
    """The event object of the 'Schedule this series' button, as Google sends it."""
    plan = {"partner": GRACE, "role": "employee", "preferences": {"place": "x"}, "event": ""}
    return {
        "commonEventObject": {
            "hostApp": "CALENDAR",
            "platform": "WEB",
            "userLocale": "en-GB",
            "timeZone": {"id": "Europe/Amsterdam", "offset": 3_600_000},
            "parameters": {"plan": json.dumps(plan), "request_id": "abcdef123456"},
        },
        "authorizationEventObject": {"userOAuthToken": "ya29.x", "userIdToken": user_token},
    }


def series_count(app: Flask) -> int:
    """How many series Ada has."""
    return len(app.extensions["goedgesprek.service"].registry.for_person(ADA))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """header.payload, base64url."""
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"


def claims(audience: str = URL, email: str = ACCOUNT, **extra: Any) -> dict[str, Any]:
    """A system ID token's claims, valid now."""
    now = int(datetime.now(UTC).timestamp())
    return {
        "iss": "https://accounts.google.com",
        "aud": audience,
        "sub": "1234567890",
        "email": email,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        **extra,
    }


def fresh_key_pem() -> bytes:
    """A new RSA private key, PEM: not Google's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def attacks(oauth: GoogleOAuthEmulator) -> dict[str, tuple[str, str]]:
    """Each attack by name: the system token, and the base URL the request is sent to."""
    kid, pem = next(iter(oauth.certs().items()))
    good = oauth.sign_id_token(URL, ACCOUNT)
    head, payload, signature = good.split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed["email"] = "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
    forged = f"{head}.{_b64(json.dumps(changed).encode())}.{signature}"
    foreign = LocalSigner.generate().sign(audience=URL, now=datetime.now(UTC), email=ACCOUNT)
    impostor = crypt.RSASigner.from_string(fresh_key_pem(), key_id=kid)  # type: ignore[no-untyped-call]
    same_kid = google_jwt.encode(impostor, claims()).decode()  # type: ignore[no-untyped-call]
    none = unsigned({"alg": "none", "typ": "JWT", "kid": kid}, claims()) + "."
    signing_input = unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, claims())
    mac = hmac.new(pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    hs256 = f"{signing_input}.{_b64(mac)}"
    hour_ago = datetime.now(UTC) - timedelta(hours=2)
    return {
        "forged (payload changed after signing)": (forged, PUBLIC),
        "expired": (oauth.sign_id_token(URL, ACCOUNT, now=hour_ago), PUBLIC),
        "wrong audience (another endpoint)": (
            oauth.sign_id_token(PUBLIC + "/workspace/homepage", ACCOUNT),
            PUBLIC,
        ),
        "audience from the Host header": (
            oauth.sign_id_token(EVIL_URL, ACCOUNT),
            "https://evil.example",
        ),
        "wrong service account": (
            oauth.sign_id_token(URL, "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"),
            PUBLIC,
        ),
        "a person, not the service account": (oauth.sign_id_token(URL, ADA), PUBLIC),
        "foreign key (unknown kid)": (foreign, PUBLIC),
        "foreign key claiming Google's kid": (same_kid, PUBLIC),
        "alg none": (none, PUBLIC),
        "HS256 keyed with Google's public certificate": (hs256, PUBLIC),
        "unverified email": (oauth.sign_id_token(URL, ACCOUNT, email_verified=False), PUBLIC),
        "no token": ("", PUBLIC),
    }


def test_attacks_get_401_say_nothing_and_change_nothing(
    app: Flask, google: tuple[GoogleOAuthEmulator, Server, LocalCA]
) -> None:
    """Every attack on the system token is 401, names neither the service account nor the
    audience, and makes no series; the properly signed request then does."""
    oauth = google[0]
    client = app.test_client()
    for name, (token, base) in attacks(oauth).items():
        # The person's token is signed for the same URL, so only the system token can fail.
        user = oauth.sign_id_token(EVIL_URL if "evil" in base else URL, ADA)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.post(
            "/workspace/action/create", json=body(user), headers=headers, base_url=base
        )
        assert response.status_code == 401, name
        text = response.get_data(as_text=True)
        assert ACCOUNT not in text and PUBLIC not in text and "audience" not in text, name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
    assert series_count(app) == 0
    good = oauth.sign_id_token(URL, ACCOUNT)
    response = client.post(
        "/workspace/action/create",
        json=body(oauth.sign_id_token(URL, ADA)),
        headers={"Authorization": f"Bearer {good}"},
        base_url=PUBLIC,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert series_count(app) == 1


def test_the_user_token_is_checked_with_googles_keys_too(
    app: Flask, google: tuple[GoogleOAuthEmulator, Server, LocalCA]
) -> None:
    """A valid system token with a user token from a foreign key, or an unverified address, or
    for another audience, is 401 and nothing is made."""
    oauth = google[0]
    client = app.test_client()
    system = {"Authorization": f"Bearer {oauth.sign_id_token(URL, ACCOUNT)}"}
    bad_users = [
        LocalSigner.generate().sign(audience=URL, now=datetime.now(UTC), email=ADA),
        oauth.sign_id_token(URL, ADA, email_verified=False),
        oauth.sign_id_token(PUBLIC + "/workspace/homepage", ADA),
    ]
    for user in bad_users:
        response = client.post(
            "/workspace/action/create", json=body(user), headers=system, base_url=PUBLIC
        )
        assert response.status_code == 401
    assert series_count(app) == 0


def test_without_a_service_account_or_public_url_nothing_is_trusted(
    google: tuple[GoogleOAuthEmulator, Server, LocalCA], tmp_path: Path
) -> None:
    """Google's keys with no service account, or no audience to check, refuse every request
    rather than fall back to the Host header or any account."""
    _, server, ca = google
    signer = LocalSigner.generate()
    settings = config(server, ca, tmp_path)
    assert isinstance(request_verifier(settings, signer), GoogleIdTokenVerifier)
    no_account = {**settings, "WORKSPACE_SERVICE_ACCOUNT": ""}
    no_audience = {**settings, "PUBLIC_URL": ""}
    for broken in (no_account, no_audience):
        assert isinstance(request_verifier(broken, signer), RefuseAll)
    # Production (not TESTING) uses Google's keys even with no certificate URL set.
    production = {"PUBLIC_URL": PUBLIC, "WORKSPACE_SERVICE_ACCOUNT": ACCOUNT}
    assert isinstance(request_verifier(production, signer), GoogleIdTokenVerifier)
    local = request_verifier({**production, "WORKSPACE_KEYS": "local"}, signer)
    assert isinstance(local, GoogleIdTokenVerifier)
    assert local.certs() == signer.certs()
    with pytest.raises(ValueError, match="WORKSPACE_KEYS"):
        request_verifier({"WORKSPACE_KEYS": "mine"}, signer)
