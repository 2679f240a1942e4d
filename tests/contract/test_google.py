"""The contract suite on the Google connectors, through google-api-python-client over real HTTP.

The emulator runs once per session on 127.0.0.1 and is reset before every test; each test gets a
fresh `GoogleAccount` whose clients are built from the shipped discovery documents with the
emulator's URL as rootUrl, authorized with the emulator's bearer tokens as OAuth user tokens.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract import CalendarContract, DriveContract, SendOnlyMailerContract
from google.oauth2.credentials import Credentials

from connectors._google_map import sent_mail_from_gmail
from connectors.google import GoogleAccount, GoogleCalendar, GoogleDrive, GoogleMailer
from connectors.models import SentMail
from emulators.google import GoogleEmulator
from emulators.serve import Server


class GoogleBackend:
    """`contract.Backend` over a served `GoogleEmulator`: one account, a token per user."""

    def __init__(self, emulator: GoogleEmulator, url: str) -> None:
        """Ports for any user of `emulator`, reached at `url`."""
        self.emulator = emulator
        self._tokens: dict[str, str] = {}
        self.account = GoogleAccount(self._credentials, root_url=url + "/")

    def _credentials(self, email: str) -> Credentials:
        token = self._tokens.get(email)
        if token is None:
            token = self._tokens[email] = self.emulator.token(email)
        return Credentials(token=token)

    def calendar(self, email: str) -> GoogleCalendar:
        """The primary calendar of `email`."""
        return self.account.calendar(email)

    def drive(self, email: str) -> GoogleDrive:
        """The app's folder in the Drive of `email`."""
        return self.account.drive(email)

    def mailer(self, email: str) -> GoogleMailer:
        """Gmail as `email`."""
        return self.account.mailer(email)

    def outbox(self) -> list[SentMail]:
        """Every message the emulator's Gmail sent, oldest first."""
        return [sent_mail_from_gmail(message) for message in self.emulator.sent()]

    def add_person(self, email: str, name: str, tz: str) -> None:
        """Make `email` a user of the emulator."""
        self.emulator.add_user(email, name, tz)


@pytest.fixture(scope="session")
def google_server() -> Iterator[tuple[GoogleEmulator, Server]]:
    """One emulator served on 127.0.0.1 for the whole session."""
    emulator = GoogleEmulator()
    with Server(emulator) as server:
        yield emulator, server


@pytest.fixture
def backend(google_server: tuple[GoogleEmulator, Server]) -> GoogleBackend:
    """An emptied emulator and a fresh account on it."""
    emulator, server = google_server
    emulator.reset()
    return GoogleBackend(emulator, server.url)


class TestGoogleCalendar(CalendarContract):
    """Calendar contract on `GoogleCalendar`."""


class TestGoogleDrive(DriveContract):
    """Drive contract on `GoogleDrive`."""


class TestGoogleMailer(SendOnlyMailerContract):
    """Mailer contract on `GoogleMailer`."""
