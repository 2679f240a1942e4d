"""Entra access tokens at the pane API: each attack gets 401, changes nothing and echoes nothing.

The authority here is a small HTTPS server publishing a JWKS of keys the tests hold, so every
claim and header can be forged; the Entra emulator's own tokens are used in test_entra_obo.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from jwt.algorithms import RSAAlgorithm

from addin.app import create_app
from addin.backends import BackendError
from addin.demo import seed
from addin.identity import SignInRequired
from addin.signin.entra import EntraSettings, EntraSettingsError, EntraVerifier
from connectors.local import LocalStore
from connectors.testing import ManualClock
from emulators.serve import Server
from emulators.tls import LocalCA

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
CLIENT_ID = "6e2a3b1c-0d4f-4c55-9a8b-1f2e3d4c5b6a"
PUBLIC_URL = "https://goedgesprek.example.org"
APP_ID_URI = f"api://goedgesprek.example.org/{CLIENT_ID}"
ADA = "ada@example.org"
GRACE = "grace@example.org"
ADA_OID = "00000000-0000-0000-0000-00000000a0a0"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PREFS = {
    "weekdays": ["TU", "WE", "TH"],
    "earliest": "09:30",
    "latest": "12:00",
    "duration": 60,
    "place": "Koffiebar",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(kid: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "kty": "RSA"}


class Authority:
    """An HTTPS JWKS publisher: ``/{tenant}/discovery/v2.0/keys``; elsewhere an attacker's keys."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"key-1": _new_key()}
        self.current = "key-1"
        self.attacker = ("evil-1", _new_key())
        self.hits: Counter[str] = Counter()
        self.down = False
        self._lock = threading.Lock()

    def rotate(self) -> str:
        """A new key signs from now on; both are published."""
        kid = f"key-{len(self.keys) + 1}"
        with self._lock:
            self.keys[kid] = _new_key()
            self.current = kid
        return kid

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        with self._lock:
            self.hits[path] += 1
            if self.down:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"down"]
            if path.endswith("/discovery/v2.0/keys"):
                body = {"keys": [_jwk(kid, key) for kid, key in self.keys.items()]}
            elif path == "/attacker/keys":
                body = {"keys": [_jwk(*self.attacker)]}
            else:
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"not found"]
        data = json.dumps(body).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [data]


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


@pytest.fixture
def authority(ca: LocalCA) -> Iterator[tuple[Authority, str]]:
    app = Authority()
    with Server(app, tls=ca) as server:
        yield app, server.url


class Pane:
    """The pane API with Entra sign-in on a seeded local store, and a token factory."""

    def __init__(self, app: Flask, authority: Authority, url: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.authority = authority
        self.url = url

    def claims(self, **override: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": CLIENT_ID,
            "iss": f"{self.url}/{TENANT}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "ver": "2.0",
            "tid": TENANT,
            "oid": ADA_OID,
            "sub": "pairwise-subject-of-ada",
            "scp": "access_as_user",
            "azp": "pane-client-id",
            "preferred_username": ADA,
            "name": "Ada",
            "uti": uuid.uuid4().hex,
        }
        claims.update(override)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        headers: dict[str, Any] | None = None,
        **override: Any,
    ) -> str:
        kid = kid or self.authority.current
        key = key or self.authority.keys[kid]
        return jwt.encode(
            self.claims(**override),
            key,
            algorithm="RS256",
            headers={"kid": kid, "typ": "JWT", **(headers or {})},
        )

    def plan(self, token: str, **headers: str) -> Any:
        return self.client.post(
            "/api/series?lang=en",
            json={
                "partner": GRACE,
                "role": "employee",
                "preferences": PREFS,
                "request_id": "r" * 12,
            },
            headers={"Authorization": f"Bearer {token}", **headers},
        )

    def series_of_ada(self) -> list[Any]:
        found: list[Any] = self.app.extensions["goedgesprek.service"].registry.for_person(ADA)
        return found


@pytest.fixture
def pane(tmp_path: Path, ca: LocalCA, authority: tuple[Authority, str]) -> Pane:
    publisher, url = authority
    clock = ManualClock(NOW)
    store = LocalStore(tmp_path, clock=clock)
    config = {
        "TESTING": True,
        "DATA_DIR": str(tmp_path),
        "PUBLIC_URL": PUBLIC_URL,
        "ENTRA_CLIENT_ID": CLIENT_ID,
        "ENTRA_TENANTS": TENANT,
        "ENTRA_AUTHORITY": url,
        "ENTRA_CA_BUNDLE": str(ca.ca_file),
    }
    app = create_app(config, store=store, clock=clock)
    seed(store, NOW)
    return Pane(app, publisher, url)


SECRETS = (CLIENT_ID, APP_ID_URI, TENANT, OTHER_TENANT, "goedgesprek.example.org", "key-1")


def refused(pane: Pane, token: str | None, *, header: str | None = None, **headers: str) -> Any:
    """Send `token` to a write; assert 401, nothing planned and no secret echoed."""
    auth = header if header is not None else f"Bearer {token}"
    response = pane.client.post(
        "/api/series?lang=en",
        json={"partner": GRACE, "role": "employee", "preferences": PREFS, "request_id": "r" * 12},
        headers={"Authorization": auth, **headers} if auth else headers,
    )
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_data(as_text=True)
    assert pane.url not in body
    for secret in SECRETS:
        assert secret not in body, secret
    assert pane.series_of_ada() == []
    data: dict[str, Any] = response.get_json()
    assert data["error"] == "unauthorized"
    return data


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


# -- the way in ---------------------------------------------------------------------------------


def test_a_valid_token_plans_as_its_person(pane: Pane) -> None:
    """The control: the same request with a sound token is planned for Ada."""
    response = pane.plan(pane.token())
    assert response.status_code == 201, response.get_json()
    assert len(pane.series_of_ada()) == 1


def test_the_app_id_uri_is_an_accepted_audience(pane: Pane) -> None:
    """A token for ``api://<public host>/<client id>`` (the pane's scope) is ours too."""
    assert pane.plan(pane.token(aud=APP_ID_URI)).status_code == 201


# -- attacks ---------------------------------------------------------------------------------------


def test_forged_signature(pane: Pane) -> None:
    """Signed with another key under the authority's kid."""
    data = refused(pane, pane.token(key=_new_key(), kid="key-1"))
    assert data["signin"] == "again"


def test_tampered_claims_keep_no_signature(pane: Pane) -> None:
    """A valid token whose payload was swapped for Grace's."""
    head, _payload, signature = pane.token().split(".")
    payload = _b64(json.dumps(pane.claims(preferred_username=GRACE)).encode())
    refused(pane, f"{head}.{payload}.{signature}")


def test_expired(pane: Pane) -> None:
    """Expired two minutes ago: beyond the minute of skew."""
    now = int(time.time())
    refused(pane, pane.token(iat=now - 3720, nbf=now - 3720, exp=now - 120))


def test_not_yet_valid(pane: Pane) -> None:
    """``nbf`` five minutes ahead."""
    now = int(time.time())
    refused(pane, pane.token(nbf=now + 300))
    refused(pane, pane.token(iat=now + 300, nbf=now + 300))


@pytest.mark.parametrize(
    "audience",
    [
        "api://someone-else.example/" + CLIENT_ID,
        "3f4e5d6c-0000-4000-8000-000000000001",
        "https://graph.microsoft.com",
        "00000003-0000-0000-c000-000000000000",
        [],
    ],
)
def test_wrong_audience(pane: Pane, audience: Any) -> None:
    """Another API's token, a Graph token, no audience."""
    refused(pane, pane.token(aud=audience))


def test_a_token_without_audience(pane: Pane) -> None:
    """``aud`` left out altogether."""
    refused(pane, pane.token(aud=None))


@pytest.mark.parametrize(
    "issuer",
    [
        "https://evil.example/{tid}/v2.0",
        "https://sts.windows.net/{tid}/",
        "{authority}/{tid}/v2.0/",
        "{authority}/common/v2.0",
        "{authority}/{{tenantid}}/v2.0",
    ],
)
def test_wrong_issuer(pane: Pane, issuer: str) -> None:
    """Another issuer, v1's, a trailing slash, the multi-tenant template itself."""
    refused(pane, pane.token(iss=issuer.format(tid=TENANT, authority=pane.url)))


def test_issuer_of_another_tenant_than_tid(pane: Pane) -> None:
    """``iss`` names another tenant than ``tid``: each must match the other."""
    refused(pane, pane.token(iss=f"{pane.url}/{OTHER_TENANT}/v2.0"))


def test_tenant_not_allowed(pane: Pane) -> None:
    """A sound token of a tenant that is not on the allow-list."""
    refused(pane, pane.token(tid=OTHER_TENANT, iss=f"{pane.url}/{OTHER_TENANT}/v2.0"))


def test_tid_not_a_guid(pane: Pane) -> None:
    """``tid`` is ``common`` (a tenant alias, not a tenant)."""
    refused(pane, pane.token(tid="common", iss=f"{pane.url}/common/v2.0"))


def test_v1_token(pane: Pane) -> None:
    """A v1.0 access token (``ver`` 1.0, sts.windows.net issuer)."""
    refused(pane, pane.token(ver="1.0", iss=f"https://sts.windows.net/{TENANT}/"))
    refused(pane, pane.token(ver="1.0"))
    refused(pane, pane.token(ver=None))


def test_app_only_token(pane: Pane) -> None:
    """Client credentials: ``roles``, no ``scp`` (and ``idtyp: app``)."""
    refused(pane, pane.token(scp=None, roles=["Calendars.ReadWrite"], idtyp="app"))
    refused(pane, pane.token(scp=None, roles=["Calendars.ReadWrite"]))
    refused(pane, pane.token(idtyp="app"))


def test_an_id_token_is_not_an_access_token(pane: Pane) -> None:
    """The pane's ID token (our client id as audience, no ``scp``) does not open the API."""
    id_token = pane.token(scp=None, azp=None, nonce="n-0S6_WzA2Mj", aio="x", uti=None)
    assert refused(pane, id_token)["signin"] == "again"


def test_missing_scp(pane: Pane) -> None:
    """No delegated scope at all: sign in again."""
    assert refused(pane, pane.token(scp=None))["signin"] == "again"
    assert refused(pane, pane.token(scp=""))["signin"] == "again"


def test_a_scope_other_than_ours_asks_for_consent(pane: Pane) -> None:
    """``scp`` without ``access_as_user``: the pane is told to ask for that scope."""
    data = refused(pane, pane.token(scp="User.Read"))
    assert data["signin"] == "consent"
    assert data["scopes"] == ["access_as_user"]
    assert "Microsoft" in data["message"]


def test_no_object_id(pane: Pane) -> None:
    """``oid`` missing or not an object id: the person cannot be keyed."""
    refused(pane, pane.token(oid=None))
    refused(pane, pane.token(oid="ada"))


def test_no_address(pane: Pane) -> None:
    """No ``preferred_username``, ``upn`` or ``email`` with an address."""
    refused(pane, pane.token(preferred_username=None))
    refused(pane, pane.token(preferred_username="Ada Lovelace"))


def test_alg_none(pane: Pane) -> None:
    """Unsigned, in each spelling of ``none``."""
    for alg in ("none", "None", "NONE"):
        token = _unsigned({"alg": alg, "kid": "key-1", "typ": "JWT"}, pane.claims())
        refused(pane, token + ".")
        refused(pane, token)


def test_hs256_signed_with_the_public_key(pane: Pane) -> None:
    """Key confusion: HMAC keyed with the published RSA key (PEM and JWK ``n``)."""
    public = pane.authority.keys["key-1"].public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (pem, der, _jwk("key-1", pane.authority.keys["key-1"])["n"].encode()):
        for alg in ("HS256", "RS256"):
            signed = _unsigned({"alg": alg, "kid": "key-1", "typ": "JWT"}, pane.claims())
            mac = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
            refused(pane, f"{signed}.{_b64(mac)}")


def test_a_foreign_key(pane: Pane) -> None:
    """Signed with a key the authority does not publish, under its own kid."""
    kid, key = pane.authority.attacker
    refused(pane, pane.token(key=key, kid=kid))


@pytest.mark.parametrize("where", ["jku", "x5u", "jwk", "x5c"])
def test_key_headers_pointing_elsewhere_are_ignored(pane: Pane, where: str) -> None:
    """``jku``/``x5u`` at an attacker's JWKS, ``jwk``/``x5c`` embedding the attacker's key."""
    kid, key = pane.authority.attacker
    jwk = _jwk(kid, key)
    header: dict[str, Any] = {
        "jku": f"{pane.url}/attacker/keys",
        "x5u": f"{pane.url}/attacker/keys",
        "jwk": jwk,
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    }
    refused(pane, pane.token(key=key, kid=kid, headers={where: header[where]}))
    # With the authority's kid, too: still the authority's key that decides.
    refused(pane, pane.token(key=key, kid="key-1", headers={where: header[where]}))
    assert pane.authority.hits["/attacker/keys"] == 0


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "a.b",
        "....",
        "eyJhbGciOiJSUzI1NiJ9",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "é.é.é",
        _b64(b"[" * 5000 + b"]" * 5000) + ".e30.e30",
    ],
)
def test_garbage(pane: Pane, token: str) -> None:
    """Not a JWT, or not a whole one."""
    refused(pane, token)


def test_truncated(pane: Pane) -> None:
    """A sound token cut short, or with its signature cut off."""
    token = pane.token()
    refused(pane, token[:-10])
    refused(pane, token.rsplit(".", 1)[0] + ".")
    refused(pane, token.rsplit(".", 1)[0])


@pytest.mark.parametrize("scheme", ["Basic", "Token", "MAC", "Bearer\t", ""])
def test_wrong_scheme(pane: Pane, scheme: str) -> None:
    """A sound token under another scheme, or none."""
    token = pane.token()
    refused(pane, None, header=f"{scheme}{'' if scheme.endswith(chr(9)) else ' '}{token}".strip())


def test_no_header_or_no_token(pane: Pane) -> None:
    """No Authorization header; ``Bearer`` with nothing after it."""
    refused(pane, None, header="")
    refused(pane, None, header="Bearer")
    refused(pane, None, header="Bearer   ")


def test_the_host_header_does_not_choose_the_audience(pane: Pane) -> None:
    """A token for ``api://evil.example/<client id>`` sent to Host evil.example is not ours."""
    token = pane.token(aud=f"api://evil.example/{CLIENT_ID}")
    refused(pane, token, Host="evil.example")
    refused(pane, token, **{"X-Forwarded-Host": "evil.example", "Host": "evil.example"})


def test_the_body_speaks_dutch_too(pane: Pane) -> None:
    """The 401 sentence follows the caller's language."""
    response = pane.client.get(
        "/api/context?event=x&lang=nl", headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 401
    assert response.get_json()["message"].startswith("Meld je opnieuw aan")
    consent = pane.client.get(
        "/api/context?event=x&lang=nl",
        headers={"Authorization": f"Bearer {pane.token(scp='User.Read')}"},
    )
    assert consent.get_json()["signin"] == "consent"
    assert "toegang" in consent.get_json()["message"]


# -- keys -----------------------------------------------------------------------------------------


def test_key_roll_over(pane: Pane) -> None:
    """After the authority rolls its key, a token with the new kid verifies (one refetch)."""
    assert pane.plan(pane.token()).status_code == 201
    fetched = sum(n for path, n in pane.authority.hits.items() if path.endswith("/keys"))
    pane.authority.rotate()
    response = pane.client.get(
        "/api/context?event=none&lang=en", headers={"Authorization": f"Bearer {pane.token()}"}
    )
    assert response.status_code != 401, response.get_json()
    after = sum(n for path, n in pane.authority.hits.items() if path.endswith("/keys"))
    assert after == fetched + 1
    # The old key still verifies while it is published.
    old = pane.token(kid="key-1")
    response = pane.client.get(
        "/api/context?event=none&lang=en", headers={"Authorization": f"Bearer {old}"}
    )
    assert response.status_code != 401


def test_unknown_kids_refetch_at_most_once_per_interval(
    authority: tuple[Authority, str], ca: LocalCA
) -> None:
    """Made-up key ids cannot make the server fetch the JWKS on every request."""
    publisher, url = authority
    now = [1000.0]
    settings = EntraSettings(
        client_id=CLIENT_ID,
        tenants=frozenset({TENANT}),
        authority=url,
        ca_bundle=str(ca.ca_file),
        app_id_uri=APP_ID_URI,
    )
    verifier = EntraVerifier(settings, monotonic=lambda: now[0], refetch_after=300)
    pane = Pane(Flask(__name__), publisher, url)
    assert verifier.verify(f"Bearer {pane.token()}").email == ADA
    keys = f"/{TENANT}/discovery/v2.0/keys"
    assert publisher.hits[keys] == 1
    for n in range(20):
        with pytest.raises(SignInRequired):
            verifier.verify(f"Bearer {pane.token(kid=f'made-up-{n}', key=publisher.keys['key-1'])}")
    assert publisher.hits[keys] == 2
    # A real roll-over within the interval waits; after it, the new key is fetched.
    publisher.rotate()
    with pytest.raises(SignInRequired):
        verifier.verify(f"Bearer {pane.token()}")
    now[0] += 301
    assert verifier.verify(f"Bearer {pane.token()}").oid == ADA_OID
    assert publisher.hits[keys] == 3
    verifier.close()


def test_an_unreachable_authority_is_not_a_sign_in_problem(pane: Pane) -> None:
    """No keys to check with: 503 to try again, not 401."""
    pane.authority.down = True
    response = pane.plan(pane.token())
    assert response.status_code == 503
    assert pane.series_of_ada() == []


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"ENTRA_CLIENT_ID": CLIENT_ID}, "ENTRA_TENANTS"),
        ({"ENTRA_CLIENT_ID": CLIENT_ID, "ENTRA_TENANTS": "contoso.com"}, "contoso.com"),
        ({"ENTRA_CLIENT_ID": CLIENT_ID, "ENTRA_TENANTS": " , "}, "ENTRA_TENANTS"),
        (
            {"ENTRA_CLIENT_ID": CLIENT_ID, "ENTRA_TENANTS": "any", "ENTRA_AUTHORITY": "http://x"},
            "https",
        ),
    ],
)
def test_settings_are_checked(config: dict[str, str], says: str) -> None:
    """Incomplete or malformed ENTRA_* settings stop start-up with a sentence."""
    with pytest.raises(EntraSettingsError, match=says):
        EntraSettings.from_config(config)


def test_settings_defaults() -> None:
    """``any`` tenant, Microsoft's authority, the App ID URI from the public URL."""
    settings = EntraSettings.from_config(
        {"ENTRA_CLIENT_ID": CLIENT_ID, "ENTRA_TENANTS": "any", "PUBLIC_URL": PUBLIC_URL}
    )
    assert settings is not None
    assert settings.tenants is None
    assert settings.authority == "https://login.microsoftonline.com"
    assert settings.audiences == [CLIENT_ID, APP_ID_URI]
    assert settings.jwks_uri == "https://login.microsoftonline.com/common/discovery/v2.0/keys"
    assert EntraSettings.from_config({}) is None


@pytest.mark.parametrize(
    ("extra", "error", "says"),
    [
        ({"BACKEND": "graph"}, EntraSettingsError, "ENTRA_CLIENT_SECRET"),
        (
            {"BACKEND": "graph", "ENTRA_CLIENT_SECRET": "s", "GRAPH_TOKENS": "tokens.json"},
            BackendError,
            "GRAPH_TOKENS",
        ),
        (
            {"BACKEND": "graph", "ENTRA_CLIENT_SECRET": "s", "GRAPH_CLIENT_ID": CLIENT_ID},
            BackendError,
            "GRAPH_CLIENT_ID",
        ),
    ],
)
def test_graph_with_sign_in_is_configured_one_way(
    tmp_path: Path, extra: dict[str, str], error: type[Exception], says: str
) -> None:
    """With ENTRA_CLIENT_ID, Graph acts as each signed-in person: its secret is needed and
    another Graph credential contradicts it."""
    config = {
        "TESTING": True,
        "DATA_DIR": str(tmp_path),
        "ENTRA_CLIENT_ID": CLIENT_ID,
        "ENTRA_TENANTS": TENANT,
        **extra,
    }
    with pytest.raises(error, match=says):
        create_app(config)


def test_without_entra_settings_the_local_identity_stays(tmp_path: Path) -> None:
    """No ENTRA_CLIENT_ID: the pane verifies the installation's own tokens, as before."""
    from addin.identity import LocalIdentity

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)})
    assert isinstance(app.extensions["goedgesprek.identity"], LocalIdentity)
