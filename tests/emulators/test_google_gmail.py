"""The Google emulator's Gmail v1: send as raw or upload, get in each format, search."""

from __future__ import annotations

import base64
import email
from email.message import EmailMessage

import pytest
from google_checks import GoogleApi, error_reason
from werkzeug.test import Client

from emulators.google import GoogleEmulator

ADA = "ada@example.org"
BOB = "bob@example.org"


@pytest.fixture
def google() -> GoogleEmulator:
    """A fresh emulator with Ada and Bob."""
    emulator = GoogleEmulator()
    emulator.add_user(BOB, "Bob")
    return emulator


@pytest.fixture
def ada(google: GoogleEmulator) -> GoogleApi:
    """Ada's validating caller."""
    return GoogleApi(Client(google), google.token(ADA))


def mail(subject: str = "Agenda", msgid: str | None = None, to: str = BOB) -> bytes:
    """An RFC 822 message with a text and an HTML part."""
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    if msgid:
        message["Message-ID"] = msgid
    message.set_content("Zie de agenda")
    message.add_alternative("<p>Zie de agenda</p>", subtype="html")
    return message.as_bytes()


def raw(data: bytes) -> str:
    """Base64url as clients send ``raw``."""
    return base64.urlsafe_b64encode(data).decode()


def test_send_raw_then_get_each_format(ada: GoogleApi, google: GoogleEmulator) -> None:
    """A sent message is SENT, gets From, Message-ID and Date, and reads back in every format."""
    sent = ada("gmail", "users.messages.send", userId="me", body={"raw": raw(mail())})
    assert sent["labelIds"] == ["SENT"] and sent["threadId"] == sent["id"]
    full = ada("gmail", "users.messages.get", userId="me", id=sent["id"])
    headers = {h["name"]: h["value"] for h in full["payload"]["headers"]}
    assert headers["From"] == ADA and headers["Message-ID"].startswith("<") and headers["Date"]
    assert full["payload"]["mimeType"] == "multipart/alternative"
    text = full["payload"]["parts"][0]
    assert base64.urlsafe_b64decode(text["body"]["data"]).decode().strip() == "Zie de agenda"
    assert full["snippet"] == "Zie de agenda"
    raw_form = ada("gmail", "users.messages.get", userId="me", id=sent["id"], format="raw")
    parsed = email.message_from_bytes(base64.urlsafe_b64decode(raw_form["raw"]))
    assert parsed["Subject"] == "Agenda"
    meta = ada(
        "gmail",
        "users.messages.get",
        userId="me",
        id=sent["id"],
        format="metadata",
        metadataHeaders=["Subject"],
    )
    assert meta["payload"]["headers"] == [{"name": "Subject", "value": "Agenda"}]
    assert [m["id"] for m in google.sent()] == [sent["id"]]
    assert google.sent()[0]["raw"] == raw_form["raw"]


def test_upload_path_sends_too(ada: GoogleApi, google: GoogleEmulator) -> None:
    """The media upload path /upload/gmail/v1/users/me/messages/send sends the message."""
    first = ada("gmail", "users.messages.send", userId="me", body={"raw": raw(mail("Een"))})
    second = ada(
        "gmail", "users.messages.send", userId="me", media=(mail("Twee"), "message/rfc822")
    )
    third = ada(
        "gmail",
        "users.messages.send",
        userId="me",
        body={},
        media=(mail("Drie"), "message/rfc822"),
        upload="multipart",
    )
    order = [first["id"], second["id"], third["id"]]
    assert [m["id"] for m in google.sent()] == order
    subjects = [
        email.message_from_bytes(base64.urlsafe_b64decode(m["raw"]))["Subject"]
        for m in google.sent()
    ]
    assert subjects == ["Een", "Twee", "Drie"]


def test_search_by_rfc822msgid_and_in_sent(ada: GoogleApi) -> None:
    """q finds a message by its Message-ID (with or without brackets) and by in:sent."""
    wanted = ada(
        "gmail",
        "users.messages.send",
        userId="me",
        body={"raw": raw(mail(msgid="<k1@goedgesprek>"))},
    )
    other = ada("gmail", "users.messages.send", userId="me", body={"raw": raw(mail())})
    for q in ("rfc822msgid:<k1@goedgesprek>", "rfc822msgid:k1@goedgesprek in:sent"):
        found = ada("gmail", "users.messages.list", userId="me", q=q)
        assert found["messages"] == [{"id": wanted["id"], "threadId": wanted["threadId"]}]
    sent = ada("gmail", "users.messages.list", userId="me", q="in:sent")
    assert [m["id"] for m in sent["messages"]] == [other["id"], wanted["id"]]
    none = ada("gmail", "users.messages.list", userId="me", q="rfc822msgid:nope@x")
    assert "messages" not in none and none["resultSizeEstimate"] == 0
    by_label = ada("gmail", "users.messages.list", userId="me", labelIds=["SENT"], maxResults=1)
    assert [m["id"] for m in by_label["messages"]] == [other["id"]] and by_label["nextPageToken"]


def test_recipient_user_gets_an_inbox_copy(ada: GoogleApi, google: GoogleEmulator) -> None:
    """Bob, a user, finds the message in his INBOX; the outbox holds only Ada's copy."""
    ada("gmail", "users.messages.send", userId="me", body={"raw": raw(mail(msgid="<m@x>"))})
    bob = GoogleApi(Client(google), google.token(BOB))
    inbox = bob("gmail", "users.messages.list", userId="me", q="in:inbox rfc822msgid:<m@x>")
    assert len(inbox["messages"]) == 1
    got = bob("gmail", "users.messages.get", userId=BOB, id=inbox["messages"][0]["id"])
    assert got["labelIds"] == ["INBOX", "UNREAD"]
    assert len(google.sent()) == 1


def test_refusals(ada: GoogleApi, google: GoogleEmulator) -> None:
    """No recipient, no raw, someone else's mailbox and an unknown id are refused."""
    answer = ada(
        "gmail", "users.messages.send", userId="me", body={"raw": raw(mail(to=""))}, expect=400
    )
    assert error_reason(answer) == "invalidArgument"
    ada("gmail", "users.messages.send", userId="me", body={}, expect=400)
    ada("gmail", "users.messages.list", userId=BOB, expect=403)
    ada("gmail", "users.messages.get", userId="me", id="0123456789abcdef", expect=404)
    assert google.sent() == []


def test_scopes_are_held_as_google_holds_them(google: GoogleEmulator) -> None:
    """A token held to ``gmail.send`` sends but cannot list or get (403 insufficientPermissions,
    Google's body); ``gmail.readonly`` reads but does not send; no scopes: anything."""
    auth = "https://www.googleapis.com/auth/"
    sender = GoogleApi(Client(google), google.token(ADA, [auth + "gmail.send"]))
    sent = sender("gmail", "users.messages.send", userId="me", body={"raw": raw(mail())})
    refused = sender("gmail", "users.messages.list", userId="me", q="in:sent", expect=403)
    assert refused == {
        "error": {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "errors": [
                {
                    "message": "Insufficient Permission",
                    "domain": "global",
                    "reason": "insufficientPermissions",
                }
            ],
            "status": "PERMISSION_DENIED",
        }
    }
    sender("gmail", "users.messages.get", userId="me", id=sent["id"], expect=403)
    reader = GoogleApi(Client(google), google.token(ADA, [auth + "gmail.readonly"]))
    assert reader("gmail", "users.messages.get", userId="me", id=sent["id"])["id"] == sent["id"]
    reader("gmail", "users.messages.send", userId="me", body={"raw": raw(mail())}, expect=403)
    assert len(google.sent()) == 1
