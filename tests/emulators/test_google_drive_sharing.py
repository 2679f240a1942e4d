"""Drive permissions in the emulator, and the agenda attachment the partner can open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from google.oauth2.credentials import Credentials
from google_checks import GoogleApi, error_reason
from werkzeug.test import Client

from connectors.errors import NotFound
from connectors.google import GoogleAccount
from connectors.models import Attendee, NewEvent
from emulators.google import GoogleEmulator
from emulators.serve import Server

ADA = "ada@example.org"
BOB = "bob@example.org"
EVE = "eve@example.org"


@pytest.fixture
def google() -> GoogleEmulator:
    """A fresh emulator with three users."""
    emulator = GoogleEmulator()
    for email in (ADA, BOB, EVE):
        emulator.add_user(email)
    return emulator


def caller(google: GoogleEmulator, email: str) -> GoogleApi:
    """A validating caller acting as `email`."""
    return GoogleApi(Client(google), google.token(email))


def a_file(api: GoogleApi) -> str:
    """Upload a small file; its id."""
    made = api(
        "drive",
        "files.create",
        body={"name": "agenda.html"},
        media=(b"<p>hi</p>", "text/html"),
        upload="multipart",
    )
    return str(made["id"])


def test_a_reader_can_read_but_not_change_and_others_see_nothing(google: GoogleEmulator) -> None:
    """Before sharing Bob gets 404; as reader he downloads, but an update is 403
    insufficientFilePermissions and a stranger still gets 404."""
    ada, bob, eve = (caller(google, e) for e in (ADA, BOB, EVE))
    file_id = a_file(ada)
    assert error_reason(bob("drive", "files.get", fileId=file_id, expect=404)) == "notFound"
    made = ada(
        "drive",
        "permissions.create",
        fileId=file_id,
        body={"type": "user", "role": "reader", "emailAddress": BOB},
        sendNotificationEmail=False,
    )
    assert made["kind"] == "drive#permission" and made["role"] == "reader"
    assert bob("drive", "files.get", fileId=file_id, alt="media") == b"<p>hi</p>"
    seen = bob("drive", "files.get", fileId=file_id, fields="*")
    assert seen["ownedByMe"] is False and seen["shared"] is True
    refused = bob("drive", "files.update", fileId=file_id, body={"name": "x"}, expect=403)
    assert error_reason(refused) == "insufficientFilePermissions"
    assert error_reason(bob("drive", "files.delete", fileId=file_id, expect=403))
    shared = bob(
        "drive",
        "permissions.create",
        fileId=file_id,
        body={"type": "user", "role": "reader", "emailAddress": EVE},
        expect=403,
    )
    assert error_reason(shared) == "insufficientFilePermissions"
    assert error_reason(eve("drive", "files.get", fileId=file_id, expect=404)) == "notFound"


def test_sharing_again_keeps_one_permission(google: GoogleEmulator) -> None:
    """The same person twice is one permission with the newest role, same id."""
    ada = caller(google, ADA)
    file_id = a_file(ada)
    body = {"type": "user", "role": "reader", "emailAddress": BOB}
    first = ada("drive", "permissions.create", fileId=file_id, body=body)
    second = ada("drive", "permissions.create", fileId=file_id, body={**body, "role": "writer"})
    assert first["id"] == second["id"]
    listed = ada("drive", "permissions.list", fileId=file_id, fields="*")["permissions"]
    assert sorted((p["emailAddress"], p["role"]) for p in listed) == [
        (ADA, "owner"),
        (BOB, "writer"),
    ]


@pytest.mark.parametrize(
    ("body", "params", "status", "reason"),
    [
        ({"type": "user", "emailAddress": BOB}, {}, 400, "required"),
        ({"role": "reader", "emailAddress": BOB}, {}, 400, "required"),
        ({"type": "user", "role": "reader"}, {}, 400, "required"),
        ({"type": "user", "role": "boss", "emailAddress": BOB}, {}, 400, "invalid"),
        ({"type": "person", "role": "reader", "emailAddress": BOB}, {}, 400, "invalid"),
        ({"type": "user", "role": "owner", "emailAddress": BOB}, {}, 403, "forbidden"),
        (
            {"type": "user", "role": "reader", "emailAddress": "nobody@example.net"},
            {"sendNotificationEmail": False},
            400,
            "invalidSharingRequest",
        ),
    ],
)
def test_bad_permissions_are_refused_as_drive_does(
    google: GoogleEmulator, body: dict[str, str], params: dict[str, bool], status: int, reason: str
) -> None:
    """Missing or unknown role/type/address, owner without transferOwnership, a silent share
    with an address that has no Google account: Drive's status and reason."""
    ada = caller(google, ADA)
    file_id = a_file(ada)
    answer = ada("drive", "permissions.create", fileId=file_id, body=body, expect=status, **params)
    assert error_reason(answer) == reason


@pytest.fixture
def served(google: GoogleEmulator) -> Iterator[tuple[GoogleEmulator, Server]]:
    """The emulator on 127.0.0.1."""
    with Server(google) as server:
        yield google, server


def test_the_partner_opens_the_agenda_attached_to_the_event(
    served: tuple[GoogleEmulator, Server],
) -> None:
    """Attaching the agenda shares it with the event's guests: Bob reads it with his own token
    (without the share Drive answers him 404), Eve, not invited, still cannot."""
    google, server = served

    def account() -> GoogleAccount:
        return GoogleAccount(
            lambda email: Credentials(token=google.token(email)), root_url=server.url + "/"
        )

    ada, bob, eve = account(), account(), account()
    start = datetime(2027, 2, 1, 14, tzinfo=ZoneInfo("Europe/Amsterdam"))
    event = ada.calendar(ADA).create_event(
        NewEvent(
            subject="Goed gesprek",
            start=start,
            end=start + timedelta(hours=1),
            tz="Europe/Amsterdam",
            organizer=ADA,
            attendees=(Attendee(BOB, "Bob"),),
        ),
        idempotency_key="k-1",
    )
    info = ada.calendar(ADA).add_attachment(
        event.id, "agenda.html", b"<h1>Agenda</h1>", "text/html"
    )
    assert bob.drive(BOB).download(info.id) == b"<h1>Agenda</h1>"
    with pytest.raises(NotFound):
        eve.drive(EVE).download(info.id)
    for each in (ada, bob, eve):
        each.close()
