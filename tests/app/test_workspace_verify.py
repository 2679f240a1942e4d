"""Tests for the Workspace add-on request verifier, with local keys in Google's token shape."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt
from google.auth import jwt as google_jwt

from addin.workspace.verify import (
    GOOGLE_ISSUER,
    KEY_CHECKED_FILE,
    KEY_FILE,
    LOCAL_SERVICE_ACCOUNT,
    CertsUnavailable,
    Claims,
    GoogleCerts,
    GoogleIdTokenVerifier,
    LocalSigner,
    RequestVerifier,
    SigningKeyError,
    Unauthorized,
)

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
URL = "https://addin.example.org/addon/homepage"
ADDON = "service-123456789012@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"


def _key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def signer() -> LocalSigner:
    """One key for the whole module: RSA key generation is the slow part."""
    return LocalSigner.generate()


@pytest.fixture(scope="module")
def other_pem() -> bytes:
    """A second key that nobody trusts."""
    return _key_pem()


def verifier(signer: LocalSigner, *, audience: str | None = None) -> GoogleIdTokenVerifier:
    """The local verifier for the add-on's service account, at NOW."""
    return signer.verifier(service_account_email=ADDON, audience=audience, clock=lambda: NOW)


def reason(check: RequestVerifier, header: str | None, url: str = URL) -> str:
    """The reason `check` refuses `header`."""
    with pytest.raises(Unauthorized) as caught:
        check.verify(header, url)
    return caught.value.reason


def test_a_token_in_googles_shape_passes_and_yields_its_claims(signer: LocalSigner) -> None:
    """A fresh token for this URL from the add-on's service account verifies."""
    token = signer.sign(audience=URL, now=NOW - timedelta(minutes=5), email=ADDON)
    claims = verifier(signer).verify(f"Bearer {token}", URL)
    assert claims == Claims(
        issuer=GOOGLE_ISSUER,
        audience=URL,
        email=ADDON,
        subject=claims.subject,
        issued_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(minutes=55),
    )
    assert claims.subject.isdigit()


def test_the_token_carries_googles_header_and_claims(signer: LocalSigner) -> None:
    """Header has alg RS256 and the signer's kid; payload has every claim Google sends."""
    token = signer.sign(audience=URL, now=NOW, email=ADDON)
    header = google_jwt.decode_header(token)  # type: ignore[no-untyped-call]
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert (header["alg"], header["kid"]) == ("RS256", signer.key_id)
    assert set(payload) >= {"iss", "aud", "email", "email_verified", "sub", "iat", "exp"}
    assert payload["email_verified"] is True


def test_scheme_is_case_insensitive_and_a_fixed_audience_ignores_the_url(
    signer: LocalSigner,
) -> None:
    """'bearer' works; with a configured audience the request URL does not matter."""
    token = signer.sign(audience="1234567890", now=NOW, email=ADDON)
    claims = verifier(signer, audience="1234567890").verify(f"bearer {token}", "http://internal/x")
    assert claims.audience == "1234567890"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "missing Authorization header"),
        ("", "missing Authorization header"),
        ("   ", "missing Authorization header"),
        ("Basic dXNlcjpwYXNz", "not a Bearer token"),
        ("Bearer", "no token after 'Bearer'"),
        ("Bearer    ", "no token after 'Bearer'"),
        ("Bearer garbage", "malformed token: a JWT has 3 dot-separated parts, this has 1"),
        ("Bearer a.b.c", "malformed token: its parts are not base64url-encoded JSON"),
        ("Bearer W10.W10.AA", "malformed token: header and payload must be JSON objects"),
    ],
)
def test_headers_that_are_no_token_are_refused_with_a_reason(
    signer: LocalSigner, header: str | None, expected: str
) -> None:
    """A missing, non-Bearer, empty or garbage header is Unauthorized, saying which."""
    assert expected in reason(verifier(signer), header)


def test_a_token_from_an_untrusted_key_is_refused(signer: LocalSigner, other_pem: bytes) -> None:
    """Another key's token names a key id that is not among the trusted certificates."""
    token = LocalSigner(other_pem).sign(audience=URL, now=NOW, email=ADDON)
    got = reason(verifier(signer), f"Bearer {token}")
    assert got.startswith("not signed by Google: unknown key id")


def test_a_forged_signature_under_a_trusted_key_id_is_refused(
    signer: LocalSigner, other_pem: bytes
) -> None:
    """Another key claiming the trusted kid fails the signature check."""
    forger = crypt.RSASigner.from_string(other_pem, key_id=signer.key_id)  # type: ignore[no-untyped-call]
    payload = {
        "iss": GOOGLE_ISSUER,
        "aud": URL,
        "email": ADDON,
        "email_verified": True,
        "sub": "1",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 3600,
    }
    token = google_jwt.encode(forger, payload).decode()  # type: ignore[no-untyped-call]
    got = reason(verifier(signer), f"Bearer {token}")
    assert got == f"not signed by Google: the signature does not match key {signer.key_id}"


def test_an_edited_payload_breaks_the_signature(signer: LocalSigner) -> None:
    """Swapping in another audience after signing is caught by the signature."""
    head, _, sig = signer.sign(audience="https://evil.example/", now=NOW, email=ADDON).split(".")
    body = signer.sign(audience=URL, now=NOW, email=ADDON).split(".")[1]
    got = reason(verifier(signer), f"Bearer {head}.{body}.{sig}")
    assert "signature does not match" in got


def test_an_unsigned_token_is_refused(signer: LocalSigner) -> None:
    """alg none (or anything but RS256) never reaches the claims."""
    token = signer.sign(audience=URL, now=NOW, email=ADDON)
    body = token.split(".")[1]
    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    got = reason(verifier(signer), f"Bearer {none}.{body}.")
    assert got == "not signed by Google: algorithm 'none', expected RS256"


def test_an_expired_token_is_refused_but_the_skew_is_allowed(signer: LocalSigner) -> None:
    """Expired beyond the 30 s allowance is refused; 10 s over is still accepted."""
    old = signer.sign(audience=URL, now=NOW - timedelta(hours=2), email=ADDON)
    assert reason(verifier(signer), f"Bearer {old}") == (
        "token expired at 2025-03-14T08:30:00Z (now 2025-03-14T09:30:00Z)"
    )
    just = signer.sign(audience=URL, now=NOW - timedelta(hours=1, seconds=10), email=ADDON)
    assert verifier(signer).verify(f"Bearer {just}", URL).email == ADDON


def test_a_token_from_the_future_is_not_yet_valid(signer: LocalSigner) -> None:
    """Issued five minutes ahead of our clock is refused, pointing at the clock."""
    early = signer.sign(audience=URL, now=NOW + timedelta(minutes=5), email=ADDON)
    got = reason(verifier(signer), f"Bearer {early}")
    assert got.startswith("token not yet valid: valid from 2025-03-14T09:35:00Z")
    assert "clock" in got


def test_a_token_for_another_endpoint_is_refused(signer: LocalSigner) -> None:
    """A token minted for one URL does not open another."""
    token = signer.sign(audience=URL, now=NOW, email=ADDON)
    other = "https://addin.example.org/addon/event-open"
    got = reason(verifier(signer), f"Bearer {token}", other)
    assert got == f"wrong audience: expected {other}, got '{URL}'"


def test_a_token_for_another_service_account_is_refused(signer: LocalSigner) -> None:
    """Another project's add-on (or a user) is not our add-on's service account."""
    token = signer.sign(audience=URL, now=NOW, email="someone@example.org")
    got = reason(verifier(signer), f"Bearer {token}")
    expected = f"wrong email: expected the add-on's service account {ADDON}"
    assert got == f"{expected}, got 'someone@example.org'"


def test_a_token_from_another_issuer_is_refused(signer: LocalSigner) -> None:
    """Only Google's issuer counts, even with a trusted key."""
    token = signer.sign(audience=URL, now=NOW, email=ADDON, issuer="https://evil.example")
    got = reason(verifier(signer), f"Bearer {token}")
    assert got == "wrong issuer: expected https://accounts.google.com, got 'https://evil.example'"


def test_a_token_with_an_unverified_email_is_refused(signer: LocalSigner) -> None:
    """email_verified false means the email claim vouches for nothing."""
    token = signer.sign(audience=URL, now=NOW, email=ADDON, email_verified=False)
    assert reason(verifier(signer), f"Bearer {token}").startswith("email not verified")


def test_the_key_file_is_private_and_reused(tmp_path: Path) -> None:
    """The first open creates a 0600 key; the next open signs with the same key."""
    first = LocalSigner.open(tmp_path)
    path = tmp_path / KEY_FILE
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = LocalSigner.open(tmp_path)
    assert again.key_id == first.key_id
    token = first.sign(audience=URL, now=NOW)
    assert again.verifier(clock=lambda: NOW).verify(f"Bearer {token}", URL).email == (
        LOCAL_SERVICE_ACCOUNT
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([KEY_FILE, KEY_CHECKED_FILE])


def test_the_key_check_runs_again_only_when_the_key_file_changed(
    tmp_path: Path, other_pem: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RSA check (0.035 s) is skipped for the very bytes that passed it. Attacks: a key file
    replaced after the check, a digest file edited or emptied, a digest file copied from
    another data directory; each is checked again."""
    skipped: list[bool] = []
    load = serialization.load_pem_private_key

    def recording(data: bytes, password: None, **options: bool) -> object:
        skipped.append(options.get("unsafe_skip_rsa_key_validation", False))
        return load(data, password, **options)

    monkeypatch.setattr(serialization, "load_pem_private_key", recording)
    first = LocalSigner.open(tmp_path)
    checked = tmp_path / KEY_CHECKED_FILE
    if os.name == "posix":
        assert stat.S_IMODE(checked.stat().st_mode) == 0o600
    assert LocalSigner.open(tmp_path).key_id == first.key_id
    assert skipped == [False, True]
    (tmp_path / KEY_FILE).write_bytes(other_pem)
    replaced = LocalSigner.open(tmp_path)
    assert replaced.key_id != first.key_id
    for digest in (b"0" * 64, b""):
        checked.write_bytes(digest)
        LocalSigner.open(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    LocalSigner.open(elsewhere)
    (tmp_path / KEY_CHECKED_FILE).write_bytes((elsewhere / KEY_CHECKED_FILE).read_bytes())
    LocalSigner.open(tmp_path)
    assert skipped == [False, True, False, False, False, False, False]
    assert LocalSigner.open(tmp_path).key_id == replaced.key_id
    assert skipped[-1] is True


def test_a_broken_key_file_is_named_and_kept(tmp_path: Path) -> None:
    """A key file that is not a PEM key raises, naming the file, and is not overwritten."""
    path = tmp_path / KEY_FILE
    path.write_bytes(b"not a key")
    with pytest.raises(SigningKeyError, match=KEY_FILE):
        LocalSigner.open(tmp_path)
    assert path.read_bytes() == b"not a key"


@dataclass
class FakeResponse:
    """The part of a google-auth transport response the certificate fetch reads."""

    status: int
    data: bytes
    headers: Mapping[str, str]


@dataclass
class FakeTransport:
    """Serves one certificates answer and counts the fetches."""

    certs: Mapping[str, str]
    status: int = 200
    cache_control: str = "public, max-age=600"
    urls: list[str] = field(default_factory=list)

    def __call__(self, url: str, method: str = "GET") -> FakeResponse:
        """Answer like Google's certificate endpoint."""
        self.urls.append(url)
        return FakeResponse(
            self.status,
            json.dumps(dict(self.certs)).encode(),
            {"Cache-Control": self.cache_control},
        )


def test_google_certs_are_fetched_once_per_max_age(signer: LocalSigner) -> None:
    """The certificates are cached for Cache-Control max-age, then fetched again."""
    now = [NOW]
    transport = FakeTransport(signer.certs())
    certs = GoogleCerts(request=transport, clock=lambda: now[0])
    check = GoogleIdTokenVerifier(service_account_email=ADDON, certs=certs, clock=lambda: NOW)
    token = signer.sign(audience=URL, now=NOW, email=ADDON)
    check.verify(f"Bearer {token}", URL)
    check.verify(f"Bearer {token}", URL)
    assert transport.urls == ["https://www.googleapis.com/oauth2/v1/certs"]
    now[0] = NOW + timedelta(seconds=601)
    check.verify(f"Bearer {token}", URL)
    assert len(transport.urls) == 2


def test_unreachable_google_certs_say_so(signer: LocalSigner) -> None:
    """An error answer from the certificate URL is CertsUnavailable, with the status."""
    certs = GoogleCerts(request=FakeTransport(signer.certs(), status=503))
    check = GoogleIdTokenVerifier(service_account_email=ADDON, certs=certs, clock=lambda: NOW)
    token = signer.sign(audience=URL, now=NOW, email=ADDON)
    with pytest.raises(CertsUnavailable, match="HTTP 503"):
        check.verify(f"Bearer {token}", URL)


def test_the_real_verifier_builds_without_touching_the_network() -> None:
    """Construction fetches nothing; a blank service account is refused up front."""
    check = GoogleIdTokenVerifier(service_account_email=ADDON)
    assert (check.service_account_email, check.audience) == (ADDON, None)
    with pytest.raises(ValueError, match="service account"):
        GoogleIdTokenVerifier(service_account_email=" ")
