"""MSAL-backed Graph credentials: each flow, and failures as connector errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from connectors.errors import AuthExpired, Unavailable
from connectors.msal_credential import MsalCredential

SCOPE = "https://graph.microsoft.com/.default"


class FakeMsalApp:
    """Shaped like msal's ConfidentialClientApplication; records which flow was asked."""

    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, Any]] = []

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any] | None:
        self.calls.append(("client", scopes))
        return self.answer

    def acquire_token_on_behalf_of(
        self, assertion: str, scopes: list[str]
    ) -> dict[str, Any] | None:
        self.calls.append(("obo", (assertion, scopes)))
        return self.answer

    def acquire_token_silent(self, scopes: list[str], account: Any) -> dict[str, Any] | None:
        self.calls.append(("silent", (scopes, account)))
        return self.answer


def test_app_only_on_behalf_of_and_silent_each_use_their_flow() -> None:
    """The credential picks msal's flow from what it was given, and the token expires as told."""
    answer = {"access_token": "t", "expires_in": 600}
    for kwargs, flow in (
        ({}, "client"),
        ({"user_assertion": "a"}, "obo"),
        ({"account": {}}, "silent"),
    ):
        app = FakeMsalApp(answer)
        token = MsalCredential(app, **kwargs).get_token(SCOPE)
        assert token.token == "t"
        assert abs(token.expires_on - (time.time() + 600)) < 5
        assert app.calls[0][0] == flow


def test_consent_needed_is_auth_expired_and_other_failures_unavailable() -> None:
    """invalid_grant asks the user to sign in again; a service error may pass with a retry."""
    expired = FakeMsalApp({"error": "invalid_grant", "error_description": "AADSTS50173"})
    with pytest.raises(AuthExpired, match="sign-in needed again"):
        MsalCredential(expired, user_assertion="a").get_token(SCOPE)
    broken = FakeMsalApp({"error": "temporarily_unavailable", "error_description": "busy"})
    with pytest.raises(Unavailable):
        MsalCredential(broken).get_token_info(SCOPE)
    with pytest.raises(AuthExpired):
        MsalCredential(FakeMsalApp(None), account={}).get_token(SCOPE)


def test_assertion_and_account_together_are_refused() -> None:
    """One user source at a time."""
    with pytest.raises(ValueError, match="not both"):
        MsalCredential(FakeMsalApp({}), user_assertion="a", account={})


def test_graph_account_signs_in_with_an_msal_credential() -> None:
    """The Graph connector takes the MSAL credential like any TokenCredential, over real HTTP."""
    from datetime import UTC, datetime

    from connectors.graph import GraphAccount
    from emulators.graph import GraphEmulator
    from emulators.serve import Server

    emulator = GraphEmulator()
    with Server(emulator) as server:
        app = FakeMsalApp({"access_token": emulator.token("ada@example.org"), "expires_in": 3600})
        account = GraphAccount(MsalCredential(app), base_url=f"{server.url}/v1.0")
        try:
            window = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))
            assert account.calendar("ada@example.org").events(*window) == []
        finally:
            account.close()
    assert app.calls and app.calls[0][0] == "client"
