"""The Graph emulator's sendMail, Sent Items and JSON batching."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from typing import Any

import pytest

from emulators._graph_check import CheckedClient, unknown_fields
from emulators.graph import BATCH_LIMIT, GraphEmulator

ADA = "ada@example.org"
BOB = "bob@example.org"
PROP = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name key"


@pytest.fixture
def graph() -> GraphEmulator:
    """A fresh emulator with Ada and Bob."""
    emulator = GraphEmulator()
    emulator.add_user(ADA, "Ada")
    emulator.add_user(BOB, "Bob")
    return emulator


@pytest.fixture
def ada(graph: GraphEmulator) -> CheckedClient:
    """Ada's client."""
    return CheckedClient(graph, ADA)


def mail(subject: str = "Agenda", **extra: Any) -> dict[str, Any]:
    """A sendMail body."""
    return {
        "message": {
            "subject": subject,
            "body": {"contentType": "HTML", "content": "<p>Zie bijlage</p>"},
            "toRecipients": [{"emailAddress": {"address": BOB}}],
            **extra,
        },
        "saveToSentItems": True,
    }


def test_send_mail_json(graph: GraphEmulator, ada: CheckedClient) -> None:
    """sendMail answers 202 with no body; the message is in Sent Items and in sent()."""
    response = ada.call("POST", "/me/sendMail", json=mail())
    assert (response.status_code, response.get_data()) == (202, b"")
    listed = ada.call("GET", "/me/mailFolders/sentitems/messages", "messages").get_json()["value"]
    assert [m["subject"] for m in listed] == ["Agenda"]
    message = listed[0]
    assert message["from"]["emailAddress"]["address"] == ADA
    assert message["toRecipients"] == [{"emailAddress": {"name": BOB, "address": BOB}}]
    assert message["bodyPreview"] == "Zie bijlage"
    assert graph.sent() == [{k: v for k, v in message.items() if k != "@odata.context"}]
    assert unknown_fields("message", graph.sent()[0]) == []
    one = ada.call("GET", f"/me/messages/{message['id']}", "message").get_json()
    assert one["id"] == message["id"]
    mime = ada.call("GET", f"/me/messages/{message['id']}/$value").get_data()
    assert b"Subject: Agenda" in mime and b"Zie bijlage" in mime


def test_send_mail_mime(graph: GraphEmulator, ada: CheckedClient) -> None:
    """A base64 MIME body with Content-Type text/plain is sent as that message."""
    message = EmailMessage()
    message["To"] = f"Bob <{BOB}>"
    message["Subject"] = "Herinnering"
    message.set_content("Morgen het goede gesprek")
    data = base64.b64encode(message.as_bytes())
    response = ada.call("POST", "/me/sendMail", data=data, headers={"Content-Type": "text/plain"})
    assert response.status_code == 202
    sent = graph.sent()[0]
    assert (sent["subject"], sent["toRecipients"][0]["emailAddress"]["name"]) == (
        "Herinnering",
        "Bob",
    )
    assert sent["body"]["content"].strip() == "Morgen het goede gesprek"
    bad = ada.call(
        "POST", "/me/sendMail", data=b"not base64!", headers={"Content-Type": "text/plain"}
    )
    assert bad.get_json()["error"]["code"] == "ErrorMimeContentInvalidBase64String"


def test_mail_without_recipients_is_refused(graph: GraphEmulator, ada: CheckedClient) -> None:
    """No recipient answers 400 ErrorInvalidRecipients and sends nothing."""
    body = mail()
    body["message"]["toRecipients"] = []
    response = ada.call("POST", "/me/sendMail", json=body)
    assert (response.status_code, response.get_json()["error"]["code"]) == (
        400,
        "ErrorInvalidRecipients",
    )
    assert graph.sent() == []


def test_sent_items_filter_and_expand(ada: CheckedClient) -> None:
    """Sent Items filters by extended property and expands it; not saving keeps it out."""
    ada.call(
        "POST",
        "/me/sendMail",
        json=mail("Een", singleValueExtendedProperties=[{"id": PROP, "value": "k1"}]),
    )
    ada.call("POST", "/me/sendMail", json=mail("Twee"))
    ada.call("POST", "/me/sendMail", json={**mail("Drie"), "saveToSentItems": False})
    query = (
        f"$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{PROP}' and ep/value eq 'k1')"
        f"&$expand=singleValueExtendedProperties($filter=id eq '{PROP}')"
    )
    found = ada.call(
        "GET", f"/me/mailFolders('SentItems')/messages?{query}", "messages"
    ).get_json()["value"]
    assert [(m["subject"], m["singleValueExtendedProperties"]) for m in found] == [
        ("Een", [{"id": PROP, "value": "k1"}])
    ]
    listed = ada.call("GET", "/me/mailFolders/SentItems/messages", "messages").get_json()["value"]
    assert [m["subject"] for m in listed] == ["Twee", "Een"]
    assert "singleValueExtendedProperties" not in listed[0]


def batch(client: CheckedClient, requests: list[dict[str, Any]]) -> Any:
    """Post a $batch and check the answer's shape."""
    response = client.call("POST", "/$batch", "batch", json={"requests": requests})
    if response.status_code == 200:
        for item in response.get_json()["responses"]:
            assert set(item) <= {"id", "status", "headers", "body"}
    return response


def test_batch_runs_each_item(graph: GraphEmulator, ada: CheckedClient) -> None:
    """Items run through the router: per-item status, JSON bodies, 412s, 404s and dependsOn."""
    created = ada.call(
        "POST",
        "/me/events",
        "event",
        json={
            "subject": "Overleg",
            "start": {"dateTime": "2027-02-01T14:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-02-01T15:00:00", "timeZone": "UTC"},
        },
    ).get_json()
    ada.call("PATCH", f"/me/events/{created['id']}", "event", json={"subject": "Nieuw"})
    response = batch(
        ada,
        [
            {"id": "1", "method": "GET", "url": f"/me/events/{created['id']}"},
            {
                "id": "2",
                "method": "PATCH",
                "url": f"/me/events/{created['id']}",
                "headers": {"If-Match": created["@odata.etag"], "Content-Type": "application/json"},
                "body": {"subject": "Oud"},
            },
            {"id": "3", "method": "GET", "url": "/me/events/AAMkADAAAAAAAAAAAAAAAAAAAAAAA="},
            {
                "id": "4",
                "method": "POST",
                "url": "/me/sendMail",
                "headers": {"Content-Type": "application/json"},
                "body": mail(),
            },
            {
                "id": "5",
                "method": "GET",
                "url": "/me/mailFolders/sentitems/messages",
                "dependsOn": ["4"],
            },
            {"id": "6", "method": "GET", "url": "/me/events", "dependsOn": ["3"]},
            {"id": "7", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me/events"},
        ],
    )
    assert response.status_code == 200
    items = {r["id"]: r for r in response.get_json()["responses"]}
    assert [items[i]["status"] for i in "1234567"] == [200, 412, 404, 202, 200, 424, 400]
    assert items["1"]["body"]["subject"] == "Nieuw"
    assert unknown_fields("event", items["1"]["body"]) == []
    assert items["2"]["body"]["error"]["code"] == "ErrorIrresolvableConflict"
    assert unknown_fields("error", items["3"]["body"]) == []
    assert "body" not in items["4"]
    assert [m["subject"] for m in items["5"]["body"]["value"]] == ["Agenda"]


def test_batch_limits(ada: CheckedClient) -> None:
    """More than 20 items, or an item without a url, answers 400 for the whole batch."""
    too_many = [{"id": str(i), "method": "GET", "url": "/me/events"} for i in range(21)]
    assert BATCH_LIMIT == 20
    response = batch(ada, too_many)
    assert response.status_code == 400
    assert batch(ada, too_many[:20]).status_code == 200
    assert batch(ada, [{"id": "1", "method": "GET"}]).status_code == 400
    duplicate = [{"id": "1", "method": "GET", "url": "/me/events"}] * 2
    assert batch(ada, duplicate).status_code == 400


def test_batch_items_need_a_valid_token(graph: GraphEmulator, ada: CheckedClient) -> None:
    """An item with its own revoked token answers 401 inside a 200 batch."""
    bob_token = graph.token(BOB)
    graph.revoke(BOB)
    response = batch(
        ada,
        [
            {"id": "1", "method": "GET", "url": "/me/events"},
            {
                "id": "2",
                "method": "GET",
                "url": "/me/events",
                "headers": {"Authorization": f"Bearer {bob_token}"},
            },
        ],
    )
    statuses = [r["status"] for r in response.get_json()["responses"]]
    assert statuses == [200, 401]
    graph.revoke(ADA)
    assert batch(ada, [{"id": "1", "method": "GET", "url": "/me/events"}]).status_code == 401


def test_batch_binary_bodies_are_base64(ada: CheckedClient) -> None:
    """A non-JSON answer comes back base64 in the batch (here an attachment's $value)."""
    created = ada.call(
        "POST",
        "/me/events",
        "event",
        json={
            "subject": "x",
            "start": {"dateTime": "2027-02-01T14:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-02-01T15:00:00", "timeZone": "UTC"},
        },
    ).get_json()
    attachment = ada.call(
        "POST",
        f"/me/events/{created['id']}/attachments",
        "attachment",
        json={
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "a.bin",
            "contentBytes": base64.b64encode(b"\x00\x01").decode(),
        },
    ).get_json()
    url = f"/me/events/{created['id']}/attachments/{attachment['id']}/$value"
    item = batch(ada, [{"id": "1", "method": "GET", "url": url}]).get_json()["responses"][0]
    assert base64.b64decode(item["body"]) == b"\x00\x01"


def test_reset_forgets_everything(graph: GraphEmulator, ada: CheckedClient) -> None:
    """reset drops users, tokens and mail."""
    ada.call("POST", "/me/sendMail", json=mail())
    graph.reset()
    assert graph.sent() == []
    assert ada.call("GET", "/me/events").status_code == 401


def test_action_parameters_are_case_insensitive(graph: GraphEmulator, ada: CheckedClient) -> None:
    """msgraph-sdk writes action parameters in PascalCase; Graph takes them, so do we."""
    body = mail()
    response = ada.call(
        "POST",
        "/me/sendMail",
        json={"Message": body["message"], "SaveToSentItems": True},
    )
    assert response.status_code == 202
    schedule = ada.call(
        "POST",
        "/me/calendar/getSchedule",
        "schedule",
        json={
            "Schedules": [ADA],
            "StartTime": {"dateTime": "2027-01-01T00:00:00", "timeZone": "UTC"},
            "EndTime": {"dateTime": "2027-01-02T00:00:00", "timeZone": "UTC"},
            "AvailabilityViewInterval": 60,
        },
    )
    assert schedule.get_json()["value"][0]["availabilityView"] == "0" * 24
    assert len(graph.sent()) == 1


def test_late_user_gets_copies(graph: GraphEmulator, ada: CheckedClient) -> None:
    """A user made known after being invited finds the meeting in their calendar."""
    ada.call(
        "POST",
        "/me/events",
        "event",
        json={
            "subject": "x",
            "start": {"dateTime": "2027-02-01T14:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-02-01T15:00:00", "timeZone": "UTC"},
            "attendees": [{"emailAddress": {"address": "late@example.org"}}],
        },
    )
    late = CheckedClient(graph, "late@example.org")
    query = "startDateTime=2027-02-01T00:00:00Z&endDateTime=2027-02-02T00:00:00Z"
    found = late.call("GET", f"/me/calendarView?{query}", "events").get_json()["value"]
    assert [e["subject"] for e in found] == ["x"]


def test_mail_needs_its_permission(graph: GraphEmulator) -> None:
    """A token held to scopes, as Graph holds one to its ``scp``: Mail.Send sends and reads no
    mail (403 ErrorAccessDenied, in a $batch too); Mail.ReadBasic lists and gets but neither
    sends nor reads MIME; a token minted without scopes may do all."""
    sender = CheckedClient(graph, ADA)
    sender.token = graph.token(ADA, ["Mail.Send", "User.Read"])
    assert sender.call("POST", "/me/sendMail", json=mail()).status_code == 202
    denied = sender.call("GET", "/me/mailFolders/sentitems/messages")
    assert (denied.status_code, denied.get_json()["error"]["code"]) == (403, "ErrorAccessDenied")
    assert (
        denied.get_json()["error"]["message"]
        == "Access is denied. Check credentials and try again."
    )
    item = {"id": "1", "method": "GET", "url": "/me/mailFolders/sentitems/messages"}
    assert batch(sender, [item]).get_json()["responses"][0]["status"] == 403

    reader = CheckedClient(graph, ADA)
    reader.token = graph.token(ADA, ["https://graph.microsoft.com/Mail.ReadBasic"])
    listed = reader.call("GET", "/me/mailFolders/sentitems/messages", "messages").get_json()
    (message,) = listed["value"]
    assert reader.call("GET", f"/me/messages/{message['id']}", "message").status_code == 200
    assert reader.call("GET", f"/me/messages/{message['id']}/$value").status_code == 403
    assert reader.call("POST", "/me/sendMail", json=mail()).status_code == 403
    assert len(graph.sent()) == 1
    everything = CheckedClient(graph, ADA)
    assert everything.call("GET", f"/me/messages/{message['id']}/$value").status_code == 200
