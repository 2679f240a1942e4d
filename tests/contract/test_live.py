"""The contract suite against a real Microsoft 365 or Google Workspace tenant (``pytest -m live``).

Skipped unless credentials are in the environment. Use test users only: every test creates events
in 2027 and files in the app's folder of those users, and removes them afterwards.

- ``GOEDGESPREK_LIVE_USERS``: the tenant's three test users standing in for the contract's ada@,
  bob@ and cy@example.org, as ``ada=a@tenant,bob=b@tenant,cy=c@tenant``.
- Microsoft 365: ``GOEDGESPREK_LIVE_GRAPH_TENANT_ID``, ``..._CLIENT_ID``, ``..._CLIENT_SECRET`` of
  an app registration with the application permissions Calendars.ReadWrite,
  Files.ReadWrite.AppFolder and Mail.Send (admin consent; limit it to the test users with an
  application access policy).
- Google Workspace: ``GOEDGESPREK_LIVE_GOOGLE_KEY``, the JSON key of a service account with
  domain-wide delegation for the scopes in ``addin.backends.GOOGLE_DELEGATED_SCOPES``.

Mail is checked by one test of its own: a tenant's outbox cannot be read back as the contract's
`outbox()` without reading the users' mail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from contract import ADA, BOB, CY, CalendarContract, DriveContract
from renamed import Names, RenamedCalendar, RenamedMailer, TrackedDrive, clean_up

from connectors.models import Mail

pytestmark = pytest.mark.live

GRAPH_VARS = tuple(
    f"GOEDGESPREK_LIVE_GRAPH_{k}" for k in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET")
)
GOOGLE_VAR = "GOEDGESPREK_LIVE_GOOGLE_KEY"


def _users() -> dict[str, str] | None:
    raw = os.environ.get("GOEDGESPREK_LIVE_USERS", "")
    pairs = dict(p.split("=", 1) for p in raw.split(",") if "=" in p)
    wanted = {"ada": ADA, "bob": BOB, "cy": CY}
    if set(pairs) != set(wanted):
        return None
    return {wanted[k]: v.strip() for k, v in pairs.items()}


def _account(provider: str) -> Any:
    if provider == "graph":
        if not all(os.environ.get(v) for v in GRAPH_VARS):
            pytest.skip(f"set {', '.join(GRAPH_VARS)} to run the contract on Microsoft 365")
        from azure.identity import ClientSecretCredential

        from connectors.graph import GraphAccount

        credential = ClientSecretCredential(*(os.environ[v] for v in GRAPH_VARS))
        return GraphAccount(credential, app_only=True)
    if not os.environ.get(GOOGLE_VAR):
        pytest.skip(f"set {GOOGLE_VAR} to run the contract on Google Workspace")
    from google.oauth2 import service_account

    from addin.backends import GOOGLE_DELEGATED_SCOPES
    from connectors.google import GoogleAccount

    key = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
        os.environ[GOOGLE_VAR], scopes=list(GOOGLE_DELEGATED_SCOPES)
    )
    return GoogleAccount(key)


class LiveBackend:
    """A tenant seen through the contract's addresses; remembers what each test made."""

    def __init__(self, account: Any, users: dict[str, str]) -> None:
        self.account = account
        self.names = Names(users)
        self.created: list[Any] = []
        self.written: set[Any] = set()

    def calendar(self, email: str) -> RenamedCalendar:
        """The tenant user's calendar."""
        inner = self.account.calendar(self.names.inward(email))
        return RenamedCalendar(inner, self.names, self.created)

    def drive(self, email: str) -> TrackedDrive:
        """The app's folder in the tenant user's drive."""
        return TrackedDrive(self.account.drive(self.names.inward(email)), self.written)

    def mailer(self, email: str) -> RenamedMailer:
        """Sends as the tenant user."""
        return RenamedMailer(self.account.mailer(self.names.inward(email)), self.names)

    def add_person(self, email: str, name: str, tz: str) -> None:
        """The tenant knows its users already."""


@pytest.fixture(params=["graph", "google"])
def backend(request: pytest.FixtureRequest) -> Iterator[LiveBackend]:
    """The tenant of each provider whose credentials are set; cleaned after every test."""
    users = _users()
    if users is None:
        pytest.skip("set GOEDGESPREK_LIVE_USERS=ada=...,bob=...,cy=... to run the live contract")
    live = LiveBackend(_account(request.param), users)
    try:
        yield live
    finally:
        clean_up(live.created, live.written)


class TestLiveCalendar(CalendarContract):
    """Calendar contract on a real tenant."""


class TestLiveDrive(DriveContract):
    """Drive contract on a real tenant."""


def test_live_mail_is_sent_with_send_permission_only(backend: LiveBackend) -> None:
    """Ada mails herself once with a key, the account holding send permission only (Mail.Send,
    gmail.send): the provider takes it, and the answer carries the mail (no mailbox is read)."""
    key = f"live-{uuid.uuid4().hex}"
    mailer = backend.mailer(ADA)
    mail = Mail(sender=ADA, to=(ADA,), subject="Goed Gesprek live test", text="Eén keer.", key=key)
    sent = mailer.send(mail)
    assert sent.id and sent.mail.key == key
