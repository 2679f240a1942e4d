"""The Entra emulator's discovery documents and signing keys, read by PyJWT's PyJWKClient as our
server reads Microsoft's: tokens verify, a rollover's new key is found by refetching, a retired
key's tokens stop verifying."""

from __future__ import annotations

import jwt
import pytest
from entra_checks import ADA, CLIENT_ID, EntraSetup, trusting

SPECIAL = ("common", "organizations")


def jwks_client(setup: EntraSetup, segment: str | None = None) -> jwt.PyJWKClient:
    """PyJWKClient for the tenant's ``jwks_uri``, found through the metadata document."""
    config = trusting(setup.ca).get(
        f"{setup.url}/{segment or setup.tenant}/v2.0/.well-known/openid-configuration", timeout=10
    )
    assert config.status_code == 200
    # PyJWKClient refetches on an unknown kid at most once per cooldown (30 s by default); a test
    # rolls over within a second, so without one.
    return jwt.PyJWKClient(
        config.json()["jwks_uri"], ssl_context=setup.ca.client_context(), cooldown_duration=0
    )


def verify(client: jwt.PyJWKClient, token: str, issuer: str) -> dict[str, object]:
    key = client.get_signing_key_from_jwt(token)
    claims: dict[str, object] = jwt.decode(
        token, key.key, algorithms=["RS256"], audience=CLIENT_ID, issuer=issuer
    )
    return claims


def test_metadata_names_the_tenant_issuer_and_its_endpoints(entra_setup: EntraSetup) -> None:
    session = trusting(entra_setup.ca)
    for segment in (entra_setup.tenant, "contoso.example"):
        config = session.get(
            f"{entra_setup.url}/{segment}/v2.0/.well-known/openid-configuration", timeout=10
        ).json()
        base = f"{entra_setup.url}/{entra_setup.tenant}"
        assert config["issuer"] == f"{base}/v2.0"
        assert config["token_endpoint"] == f"{base}/oauth2/v2.0/token"
        assert config["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
        assert config["jwks_uri"] == f"{base}/discovery/v2.0/keys"
        assert config["id_token_signing_alg_values_supported"] == ["RS256"]


@pytest.mark.parametrize("segment", SPECIAL)
def test_multi_tenant_metadata_has_the_issuer_template(
    entra_setup: EntraSetup, segment: str
) -> None:
    config = (
        trusting(entra_setup.ca)
        .get(f"{entra_setup.url}/{segment}/v2.0/.well-known/openid-configuration", timeout=10)
        .json()
    )
    assert config["issuer"] == f"{entra_setup.url}/{{tenantid}}/v2.0"
    assert config["token_endpoint"] == f"{entra_setup.url}/{segment}/oauth2/v2.0/token"


def test_an_unknown_tenant_is_400(entra_setup: EntraSetup) -> None:
    answer = trusting(entra_setup.ca).get(
        f"{entra_setup.url}/fabrikam.example/v2.0/.well-known/openid-configuration", timeout=10
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_tenant"
    assert answer.json()["error_codes"] == [90002]


def test_jwks_lists_rsa_keys_with_certificates(entra_setup: EntraSetup) -> None:
    answer = trusting(entra_setup.ca).get(
        f"{entra_setup.url}/{entra_setup.tenant}/discovery/v2.0/keys", timeout=10
    )
    assert "max-age" in answer.headers["Cache-Control"]
    (key,) = answer.json()["keys"]
    assert {"kty", "use", "kid", "x5t", "n", "e", "x5c"} <= set(key)
    assert key["kty"] == "RSA" and key["use"] == "sig" and key["kid"] == key["x5t"]
    assert key["issuer"] == f"{entra_setup.url}/{entra_setup.tenant}/v2.0"


def test_issued_tokens_verify_with_pyjwkclient(entra_setup: EntraSetup) -> None:
    token = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID)
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "JWT" and header["alg"] == "RS256"
    issuer = f"{entra_setup.url}/{entra_setup.tenant}/v2.0"
    claims = verify(jwks_client(entra_setup), token, issuer)
    assert claims["scp"] == "access_as_user"
    assert claims["ver"] == "2.0"
    assert claims["tid"] == entra_setup.tenant
    assert claims["preferred_username"] == ADA
    assert claims["azp"] == CLIENT_ID
    assert {"oid", "sub", "iat", "nbf", "exp", "uti", "name"} <= set(claims)
    # The multi-tenant key set holds the same keys.
    assert verify(jwks_client(entra_setup, "common"), token, issuer)["oid"] == claims["oid"]


def test_sub_is_pairwise_and_oid_is_not(entra_setup: EntraSetup) -> None:
    other = "0b8f3c2e-1111-4a4a-9b9b-123456789abc"
    entra_setup.entra.register_app(
        other, "s", tenant=entra_setup.tenant, app_id_uri=f"api://{other}"
    )
    mine = jwt.decode(
        entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID),
        options={"verify_signature": False},
    )
    theirs = jwt.decode(
        entra_setup.entra.issue_access_token(ADA, client_id=other),
        options={"verify_signature": False},
    )
    assert mine["oid"] == theirs["oid"]
    assert mine["sub"] != theirs["sub"]


def test_rollover_new_kid_is_found_by_refetching(entra_setup: EntraSetup) -> None:
    issuer = f"{entra_setup.url}/{entra_setup.tenant}/v2.0"
    client = jwks_client(entra_setup)
    old_token = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID)
    verify(client, old_token, issuer)  # caches the one-key set
    new_kid = entra_setup.entra.rotate_keys()
    new_token = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert verify(client, new_token, issuer)["preferred_username"] == ADA
    assert verify(client, old_token, issuer)["preferred_username"] == ADA
    assert [kid for kid, _ in entra_setup.entra.signing_keys][-1] == new_kid


def test_a_retired_key_no_longer_verifies(entra_setup: EntraSetup) -> None:
    old_token = entra_setup.entra.issue_access_token(ADA, client_id=CLIENT_ID)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    entra_setup.entra.rotate_keys()
    with pytest.raises(ValueError, match="rotate_keys"):
        entra_setup.entra.retire_key(entra_setup.entra.signing_keys[-1][0])
    entra_setup.entra.retire_key(old_kid)
    with pytest.raises(jwt.PyJWKClientError):
        jwks_client(entra_setup).get_signing_key_from_jwt(old_token)
    assert len(entra_setup.entra.signing_keys) == 1


def test_claims_override_changes_and_removes_claims(entra_setup: EntraSetup) -> None:
    token = entra_setup.entra.issue_access_token(
        ADA, client_id=CLIENT_ID, scopes=("access_as_user",), scp=None, roles=["Task.Read"]
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    assert "scp" not in claims and claims["roles"] == ["Task.Read"]
    assert claims["aud"] == CLIENT_ID
