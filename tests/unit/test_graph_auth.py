"""How kiota's Azure identity provider hands out our token: https, or plain http on loopback
(the emulator), and only to the configured Graph host."""

from __future__ import annotations

import pytest
from kiota_authentication_azure.azure_identity_access_token_provider import (
    AzureIdentityAccessTokenProvider,
)

from connectors import _loop
from connectors.graph import StaticToken


def token_for(url: str, hosts: list[str]) -> str:
    """The token the provider gives for a request to `url`."""
    provider = AzureIdentityAccessTokenProvider(StaticToken("tok"), None, [], hosts)
    # On the connectors' loop: a browser test's sync driver may keep a loop running here.
    return _loop.run(provider.get_authorization_token(url), timeout=30)


def test_loopback_http_gets_the_token() -> None:
    """The emulator on http://127.0.0.1 gets the token; kiota allows http only on loopback."""
    assert token_for("http://127.0.0.1:8123/v1.0/me/events", ["127.0.0.1"]) == "tok"


def test_plain_http_elsewhere_is_refused() -> None:
    """Plain http to any other host is refused outright."""
    with pytest.raises(Exception, match="Only https is supported"):
        token_for("http://graph.example.org/v1.0/me", ["graph.example.org"])


def test_other_hosts_get_no_token() -> None:
    """A request to a host other than the configured one goes without the token."""
    assert token_for("https://elsewhere.example.org/v1.0/me", ["graph.microsoft.com"]) == ""
    assert token_for("https://graph.microsoft.com/v1.0/me", ["graph.microsoft.com"]) == "tok"
