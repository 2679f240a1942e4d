"""`goedgesprek emulate entra` as a real process: the settings it prints are enough for msal to
get tokens, and with --with-graph an on-behalf-of token reads the Graph emulator on its port."""

from __future__ import annotations

import msal
import pytest
import requests
from click.testing import CliRunner
from emulate_command import EmulateCommand

from addin.cli import cli

ADA = "ada@contoso.example"


def test_the_printed_settings_get_tokens_and_graph_answers() -> None:
    served = EmulateCommand(
        ["entra", "--port", "0", "--user", ADA, "--with-graph", "--admin-consent"]
    )
    try:
        assert served.line().startswith("entra emulator on https://127.0.0.1:")
        settings = served.settings(7)
        user = served.user()
        assert user["user"] == ADA
        session = requests.Session()
        session.trust_env = False
        session.verify = settings["GOEDGESPREK_ENTRA_CA_BUNDLE"]
        tenant = settings["GOEDGESPREK_ENTRA_TENANTS"]
        app = msal.ConfidentialClientApplication(
            settings["GOEDGESPREK_ENTRA_CLIENT_ID"],
            client_credential=settings["GOEDGESPREK_ENTRA_CLIENT_SECRET"],
            authority=f"{settings['GOEDGESPREK_ENTRA_AUTHORITY']}/{tenant}",
            http_client=session,
            instance_discovery=False,
        )
        result = app.acquire_token_on_behalf_of(
            user["token"], ["https://graph.microsoft.com/Calendars.ReadWrite"]
        )
        assert "access_token" in result, result
        events = session.get(
            settings["GOEDGESPREK_GRAPH_URL"] + "/me/events",
            headers={"Authorization": f"Bearer {result['access_token']}"},
            timeout=10,
        )
        assert events.status_code == 200, events.text
        assert settings["GOEDGESPREK_ENTRA_APP_ID_URI"] == (
            f"api://localhost:5000/{settings['GOEDGESPREK_ENTRA_CLIENT_ID']}"
        )
    finally:
        code, rest, err = served.stop()
    assert (code, err) == (0, "")
    assert rest[0].startswith("stopped after ")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["graph", "--port", "0", "--tenant", "x.example"], "--tenant is for the entra emulator"),
        (["google", "--port", "0", "--with-graph"], "--with-graph is for the entra emulator"),
        (["entra", "--port", "0", "--public-url", "http://x"], "is not an https URL"),
    ],
)
def test_entra_options_are_checked(args: list[str], says: str) -> None:
    result = CliRunner().invoke(cli, ["emulate", *args], env={"GOEDGESPREK_EMULATE_HOST": None})
    assert result.exit_code == 2
    assert says in result.stderr
