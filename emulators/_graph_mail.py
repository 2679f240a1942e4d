"""sendMail (JSON and MIME) and the Sent Items folder.

``POST /me/sendMail`` takes ``{message, saveToSentItems}`` as JSON, or a base64 MIME message
with ``Content-Type: text/plain``; either way it answers 202 with no body. A saved message is in
Sent Items (``/me/mailFolders/sentitems/messages``, newest first as Graph lists a folder), with
its single-value extended properties returned only when expanded.

202 Accepted means queued: Exchange sends, then files the copy in Sent Items a moment later, so
a lookup right after sendMail can miss it. `Mail(filing_delay=...)` shows that (seconds of real
time; 0 files at once).

A token held to scopes (`emulators.graph.GraphEmulator.token`) needs Mail.Send to send and
Mail.ReadBasic, Mail.Read or Mail.ReadWrite to read (Mail.Read or Mail.ReadWrite for a message's
MIME), as the permissions of sendMail, list messages and get message say; without, Graph answers
403 ``ErrorAccessDenied``.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import html
import re
import secrets
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from emulators._graph_calendar import parse_properties
from emulators._graph_common import (
    GraphError,
    bad_request,
    change_key,
    json_response,
    new_id,
    param,
    short_stamp,
)
from emulators._graph_odata import page, parse_expand, parse_filter, parse_select

if TYPE_CHECKING:
    from emulators.graph import Call

_SENT_ITEMS = ("sentitems",)
GRAPH = "https://graph.microsoft.com/"
SEND_SCOPES = frozenset({"mail.send"})
READ_SCOPES = frozenset({"mail.read", "mail.readwrite"})
LIST_SCOPES = READ_SCOPES | {"mail.readbasic"}
"""Any one of these lets a token send, read a message's content, or list and get messages
(lower case, without Graph's URI)."""


def require(scopes: frozenset[str] | None, wanted: frozenset[str]) -> None:
    """Refuse a token held to `scopes` with none of `wanted`, as Graph does (403)."""
    if scopes is None:
        return
    held = {s.lower().removeprefix(GRAPH) for s in scopes}
    if not held & wanted:
        raise GraphError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )


_FILTER_FIELDS = ("subject", "internetMessageId", "conversationId")


@dataclass
class Message:
    """A sent message as Sent Items holds it."""

    id: str
    owner: str
    data: dict[str, Any]
    mime: bytes
    properties: dict[str, str] = field(default_factory=dict)
    saved: bool = True
    filed_at: float = 0.0
    """`time.monotonic()` from when it shows in Sent Items."""

    def filed(self) -> bool:
        """Whether Sent Items shows it by now."""
        return self.saved and time.monotonic() >= self.filed_at


def _recipients(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request(f"{what} must be a collection of recipients.")
    found = []
    for entry in value:
        address = entry.get("emailAddress", {}) if isinstance(entry, dict) else {}
        if not isinstance(address, dict) or not address.get("address"):
            raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
        found.append(
            {
                "emailAddress": {
                    "name": str(address.get("name") or address["address"]),
                    "address": str(address["address"]),
                }
            }
        )
    return found


def _preview(body: dict[str, str]) -> str:
    content = body.get("content", "")
    if body.get("contentType") == "html":
        content = html.unescape(re.sub(r"<[^>]+>", " ", content))
    return " ".join(content.split())[:255]


class Mail:
    """Every mailbox's Sent Items and the global record of what was sent."""

    def __init__(self, filing_delay: float = 0.0) -> None:
        """No mail yet; a sent message shows in Sent Items `filing_delay` seconds after sendMail."""
        self._filing_delay = filing_delay
        self._messages: list[Message] = []
        self._folder_ids: dict[str, str] = {}

    def _folder_id(self, owner: str) -> str:
        return self._folder_ids.setdefault(owner, new_id(b"\x03"))

    def sent(self) -> list[dict[str, Any]]:
        """Every message sent, oldest first, as Graph message JSON."""
        return [dict(m.data) for m in self._messages]

    def folder(self, owner: str, folder: str) -> list[Message]:
        """A mail folder's messages, newest first; only Sent Items holds any here."""
        if folder.lower() not in (*_SENT_ITEMS, self._folder_id(owner).lower()):
            if folder.lower() in ("inbox", "drafts", "deleteditems", "outbox", "archive"):
                return []
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        found = [m for m in self._messages if m.owner == owner and m.filed()]
        return list(reversed(found))

    def send(self, call: Call, sender_name: str) -> None:
        """Send a message given as JSON or as base64 MIME; 400 when it has no recipient."""
        content_type = call.request.headers.get("Content-Type", "")
        if content_type.lower().startswith("text/plain"):
            message, properties, save = self._from_mime(call.request.get_data()), {}, True
        else:
            body = call.json()
            given = param(body, "message")
            if not isinstance(given, dict):
                raise bad_request("The 'message' parameter is required.", "ErrorInvalidParameter")
            message = given
            properties = parse_properties(message.get("singleValueExtendedProperties"))
            save = param(body, "saveToSentItems", True) is not False
        data, mime = self._store(call, message, sender_name)
        filed_at = time.monotonic() + self._filing_delay
        self._messages.append(
            Message(data["id"], call.owner, data, mime, properties, save, filed_at)
        )

    def _from_mime(self, raw: bytes) -> dict[str, Any]:
        try:
            decoded = base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise GraphError(
                400,
                "ErrorMimeContentInvalidBase64String",
                "Invalid base64 string for MIME content.",
            ) from exc
        parsed = email.message_from_bytes(decoded, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)

        def people(header: str) -> list[dict[str, Any]]:
            return [
                {"emailAddress": {"name": name or address, "address": address}}
                for name, address in getaddresses(parsed.get_all(header, []))
                if address
            ]

        html_part = parsed.get_body(preferencelist=("html",))
        text_part = parsed.get_body(preferencelist=("plain",))
        if html_part is not None:
            body = {"contentType": "html", "content": html_part.get_content()}
        elif text_part is not None:
            body = {"contentType": "text", "content": text_part.get_content()}
        else:
            body = {"contentType": "text", "content": ""}
        return {
            "subject": str(parsed.get("Subject", "")),
            "body": body,
            "toRecipients": people("To"),
            "ccRecipients": people("Cc"),
            "bccRecipients": people("Bcc"),
            "internetMessageId": parsed.get("Message-ID"),
        }

    def _store(
        self, call: Call, message: dict[str, Any], sender_name: str
    ) -> tuple[dict[str, Any], bytes]:
        to = _recipients(message.get("toRecipients"), "toRecipients")
        cc = _recipients(message.get("ccRecipients"), "ccRecipients")
        bcc = _recipients(message.get("bccRecipients"), "bccRecipients")
        if not (to or cc or bcc):
            raise GraphError(
                400,
                "ErrorInvalidRecipients",
                "At least one recipient isn't valid., A message can't be sent because it "
                "contains no recipients.",
            )
        raw_body = message.get("body") or {}
        kind = str(raw_body.get("contentType") or "text").lower()
        body = {
            "contentType": "html" if kind == "html" else "text",
            "content": str(raw_body.get("content") or ""),
        }
        me = {"emailAddress": {"name": sender_name, "address": call.user.email}}
        message_id = new_id(b"\x04")
        internet_id = message.get("internetMessageId") or make_msgid(
            domain=call.user.email.split("@")[-1]
        )
        stamp = short_stamp(call.now)
        version = secrets.token_hex(4)
        data: dict[str, Any] = {
            "@odata.etag": f'W/"{change_key(message_id, version)}"',
            "id": message_id,
            "createdDateTime": stamp,
            "lastModifiedDateTime": stamp,
            "changeKey": change_key(message_id, version),
            "categories": [],
            "receivedDateTime": stamp,
            "sentDateTime": stamp,
            "hasAttachments": bool(message.get("attachments")),
            "internetMessageId": internet_id,
            "subject": str(message.get("subject") or ""),
            "bodyPreview": _preview(body),
            "importance": str(message.get("importance") or "normal").lower(),
            "parentFolderId": self._folder_id(call.owner),
            "conversationId": "AAQkAD" + secrets.token_urlsafe(30),
            "conversationIndex": base64.b64encode(secrets.token_bytes(22)).decode(),
            "isDeliveryReceiptRequested": bool(message.get("isDeliveryReceiptRequested")),
            "isReadReceiptRequested": bool(message.get("isReadReceiptRequested")),
            "isRead": True,
            "isDraft": False,
            "webLink": "https://outlook.office365.com/owa/?ItemID="
            + message_id
            + "&exvsurl=1&viewmodel=ReadMessageItem",
            "inferenceClassification": "focused",
            "body": body,
            "sender": me,
            "from": me,
            "toRecipients": to,
            "ccRecipients": cc,
            "bccRecipients": bcc,
            "replyTo": _recipients(message.get("replyTo"), "replyTo"),
            "flag": {"flagStatus": "notFlagged"},
        }
        mime = EmailMessage()
        mime["From"] = f"{sender_name} <{call.user.email}>"
        mime["To"] = ", ".join(r["emailAddress"]["address"] for r in to)
        if cc:
            mime["Cc"] = ", ".join(r["emailAddress"]["address"] for r in cc)
        mime["Subject"] = data["subject"]
        mime["Date"] = format_datetime(call.now)
        mime["Message-ID"] = internet_id
        mime.set_content(
            body["content"], subtype="html" if body["contentType"] == "html" else "plain"
        )
        return data, mime.as_bytes()

    def _find(self, owner: str, message_id: str) -> Message:
        for message in self._messages:
            if message.id == message_id and message.owner == owner and message.filed():
                return message
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    def _render(self, call: Call, message: Message) -> dict[str, Any]:
        data = dict(message.data)
        select = parse_select(call.arg("$select"))
        if select is not None:
            data = {k: v for k, v in data.items() if k in select | {"id", "@odata.etag"}}
        expand = parse_expand(call.arg("$expand"))
        if expand is not None:
            data["singleValueExtendedProperties"] = expand(message.properties)
        return data

    def entity(self, call: Call, message_id: str, context: str) -> Response:
        """One message of Sent Items."""
        message = self._find(call.owner, message_id)
        return json_response({"@odata.context": context, **self._render(call, message)})

    def mime(self, call: Call, message_id: str) -> Response:
        """A message's MIME content (``/$value``)."""
        message = self._find(call.owner, message_id)
        return Response(message.mime, content_type="text/plain")

    def collection(self, call: Call, messages: list[Message], context: str) -> Response:
        """A page of messages, filtered as `$filter` asks."""
        predicate = parse_filter(call.arg("$filter"), _FILTER_FIELDS)
        chosen = [
            self._render(call, m)
            for m in messages
            if predicate is None or predicate(m.data, m.properties)
        ]
        args = dict(call.request.args.items())
        cut = page(chosen, args, call.prefer, call.url(), default=10)
        body: dict[str, Any] = {"@odata.context": context, "value": cut.items}
        if cut.next_link:
            body["@odata.nextLink"] = cut.next_link
        return json_response(body)
