"""The product on Google with its own offline grant, as the Google sign-in tests set it up.

Shared by the app-level and the browser tests of the grant: the settings of a deployment whose
Calendar/Drive API, OAuth endpoints and certificates are the emulators', and the plan a
manager's "Schedule this series" button carries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ACCOUNT = "service-271828182845@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
"""The add-on's service account, whose signed requests the app trusts."""

MANAGER_PREFERENCES: dict[str, Any] = {
    "weekdays": ["TU", "TH"],
    "earliest": "09:30",
    "latest": "12:00",
    "duration": 60,
    "every": 3,
    "place": "Kamer 2",
    "online": False,
}


def google_settings(
    *,
    data_dir: Path,
    directory_csv: Path,
    api_url: str,
    public_url: str,
    idp_url: str,
    ca_file: Path,
    client_id: str,
    secret: str,
) -> dict[str, Any]:
    """`create_app` settings: BACKEND=google, the grant's client, the emulators' endpoints."""
    return {
        "TESTING": True,
        "DATA_DIR": str(data_dir),
        "BACKEND": "google",
        "DIRECTORY": f"csv:{directory_csv}",
        "GOOGLE_ROOT_URL": api_url + "/",
        "PUBLIC_URL": public_url,
        "WORKSPACE_SERVICE_ACCOUNT": ACCOUNT,
        "GOOGLE_OAUTH_CLIENT_ID": client_id,
        "GOOGLE_OAUTH_CLIENT_SECRET": secret,
        "GOOGLE_AUTH_URI": idp_url + "/o/oauth2/v2/auth",
        "GOOGLE_TOKEN_URI": idp_url + "/token",
        "GOOGLE_CERTS_URL": idp_url + "/oauth2/v1/certs",
        "GOOGLE_CA_BUNDLE": str(ca_file),
    }


def manager_plan(employee: str) -> dict[str, Any]:
    """The plan of a manager's "Schedule this series" button for a series with `employee`."""
    return {"partner": employee, "role": "manager", "event": "", "preferences": MANAGER_PREFERENCES}


def manager_plan_json(employee: str) -> str:
    """`manager_plan` as the button's parameter carries it."""
    return json.dumps(manager_plan(employee))
