"""Which calendar, drive and mail service the app talks to, chosen from its settings.

``GOEDGESPREK_BACKEND`` is ``local`` (the embedded store, the default), ``graph`` (Microsoft 365)
or ``google`` (Google Workspace). Each provider takes its endpoint and one credential source:

- Graph: ``GRAPH_URL`` (default Microsoft's), and either an app registration
  (``GRAPH_TENANT_ID``, ``GRAPH_CLIENT_ID``, ``GRAPH_CLIENT_SECRET``: application permissions,
  ``/users/{email}``) or ``GRAPH_TOKENS``, a JSON file of ``{email: bearer token}`` (delegated,
  ``/me``; what ``goedgesprek emulate graph --user ...`` prints).
- Google: ``GOOGLE_ROOT_URL`` (default Google's), and either ``GOOGLE_SERVICE_ACCOUNT_FILE`` (a key
  with domain-wide delegation, narrowed to each user) or ``GOOGLE_TOKENS`` as above.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BACKENDS = ("local", "graph", "google")

GOOGLE_DELEGATED_SCOPES = (
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/drive.file",
    "https://www.googleapis.com/auth/gmail.send",
    # A keyed mail is looked up by its Message-ID before it is sent again; `gmail.metadata` does
    # not allow the search that needs.
    "https://www.googleapis.com/auth/gmail.readonly",
)
"""What a service account with domain-wide delegation is granted (Admin console, API controls)."""


class BackendError(ValueError):
    """The backend settings are incomplete or contradict each other; the message says which."""


@dataclass(frozen=True)
class Ports:
    """Per-user factories of the three ports, and how to release their connections."""

    calendar: Callable[[str], Any]
    drive: Callable[[str], Any]
    mailer: Callable[[str], Any]
    close: Callable[[], None]


def backend_name(config: Mapping[str, Any]) -> str:
    """The configured backend, checked."""
    name = str(config.get("BACKEND") or "local").strip().lower()
    if name not in BACKENDS:
        raise BackendError(f"BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    return name


def provider_ports(config: Mapping[str, Any]) -> Ports | None:
    """The provider's ports for `config`, or None for the embedded store."""
    name = backend_name(config)
    if name == "graph":
        return _graph(config)
    if name == "google":
        return _google(config)
    return None


def _tokens(path: object, setting: str) -> dict[str, str]:
    try:
        data = json.loads(Path(str(path)).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"{setting}: cannot read a JSON file of tokens at {path}: {exc}"
        ) from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise BackendError(f"{setting}: expected a JSON object of email to token")
    return {k.lower(): v for k, v in data.items()}


def _unknown_user(setting: str) -> Callable[[str], Any]:
    def fail(email: str) -> Any:
        from connectors.errors import AuthExpired

        raise AuthExpired(f"no token for {email} in {setting}: sign in again")

    return fail


def _graph(config: Mapping[str, Any]) -> Ports:
    from connectors.graph import DEFAULT_BASE_URL, GraphAccount, StaticToken

    base_url = str(config.get("GRAPH_URL") or DEFAULT_BASE_URL)
    if config.get("GRAPH_TOKENS"):
        tokens = _tokens(config["GRAPH_TOKENS"], "GRAPH_TOKENS")
        missing = _unknown_user("GRAPH_TOKENS")

        def credential(email: str) -> Any:
            token = tokens.get(email.lower())
            return StaticToken(token) if token else missing(email)

        account = GraphAccount(credential, base_url=base_url)
    else:
        needed = ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET")
        absent = [k for k in needed if not config.get(k)]
        if absent:
            raise BackendError(
                "BACKEND=graph needs GRAPH_TOKENS or an app registration; missing: "
                + ", ".join(absent)
            )
        from azure.identity import ClientSecretCredential

        secret = ClientSecretCredential(
            str(config["GRAPH_TENANT_ID"]),
            str(config["GRAPH_CLIENT_ID"]),
            str(config["GRAPH_CLIENT_SECRET"]),
        )
        account = GraphAccount(secret, base_url=base_url, app_only=True)
    _warm_up_graph()
    return Ports(account.calendar, account.drive, account.mailer, account.close)


def _warm_up_graph() -> None:
    """Pay the SDK's first-request import cost (seconds) now, beside start-up, not in a request."""
    from connectors.graph import warm_up

    def run() -> None:
        seconds = warm_up()
        log.info("Microsoft Graph client ready after %.1f s", seconds)

    threading.Thread(target=run, name="graph-warm-up", daemon=True).start()


def _google(config: Mapping[str, Any]) -> Ports:
    from connectors.google import GoogleAccount

    root_url = str(config.get("GOOGLE_ROOT_URL") or "") or None
    if config.get("GOOGLE_TOKENS"):
        from google.oauth2.credentials import Credentials

        tokens = _tokens(config["GOOGLE_TOKENS"], "GOOGLE_TOKENS")
        missing = _unknown_user("GOOGLE_TOKENS")

        def credentials(email: str) -> Any:
            token = tokens.get(email.lower())
            return Credentials(token=token) if token else missing(email)  # type: ignore[no-untyped-call]

        account = GoogleAccount(credentials, root_url=root_url)
    elif config.get("GOOGLE_SERVICE_ACCOUNT_FILE"):
        from google.oauth2 import service_account

        key = str(config["GOOGLE_SERVICE_ACCOUNT_FILE"])
        try:
            delegated = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                key, scopes=list(GOOGLE_DELEGATED_SCOPES)
            )
        except (OSError, ValueError) as exc:
            raise BackendError(f"GOOGLE_SERVICE_ACCOUNT_FILE: {exc}") from exc
        account = GoogleAccount(delegated, root_url=root_url)
    else:
        raise BackendError("BACKEND=google needs GOOGLE_TOKENS or GOOGLE_SERVICE_ACCOUNT_FILE")
    return Ports(account.calendar, account.drive, account.mailer, _nothing)


def _nothing() -> None:
    """Google's clients hold no connections worth closing."""
