"""Gmail v1 as the emulator serves it: send (JSON ``raw`` or media upload), get, list with ``q``.

A sent message lands in the sender's mailbox with the SENT label, and a copy in the INBOX of each
recipient who is a user of the emulator. Gmail adds ``Message-ID`` and ``Date`` when the message has
none and writes the sender's own address into ``From``.

A token held to scopes (`emulators.google.GoogleEmulator.token`) must have one that allows the
method, as in each method's reference: to send ``gmail.send`` (or compose, modify, full); to list
or get ``gmail.readonly``, ``gmail.metadata``, ``gmail.modify`` or full. Without, Gmail answers
403 ``insufficientPermissions`` (`check_scopes`).
"""

from __future__ import annotations

import email
import email.policy
import itertools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import Message as MimeMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any, Protocol

from emulators._google_drive import split_multipart
from emulators._google_http import ApiError, Call, Reply, b64url, bad_request, page, unb64url

SYSTEM_LABELS = ("INBOX", "SENT", "UNREAD", "DRAFT", "SPAM", "TRASH", "STARRED", "IMPORTANT")
_AUTH = "https://www.googleapis.com/auth/"
FULL = "https://mail.google.com/"
SEND_SCOPES = frozenset(
    {FULL, _AUTH + "gmail.modify", _AUTH + "gmail.compose", _AUTH + "gmail.send"}
    | {_AUTH + "gmail.addons.current.action.compose"}
)
READ_SCOPES = frozenset(
    {FULL, _AUTH + "gmail.modify", _AUTH + "gmail.readonly", _AUTH + "gmail.metadata"}
)
SCOPES = {
    "gmail.send": SEND_SCOPES,
    "gmail.upload": SEND_SCOPES,
    "gmail.list": READ_SCOPES,
    "gmail.get": READ_SCOPES,
}
"""By endpoint: any one of these scopes lets a token call it."""


class InsufficientScopes(ApiError):
    """Gmail's 403 for a token without a scope the method accepts."""

    def __init__(self) -> None:
        super().__init__(403, "Request had insufficient authentication scopes.")

    def body(self) -> dict[str, Any]:
        """Google's body: its entry's message differs from the top one."""
        return {
            "error": {
                "code": 403,
                "message": self.message,
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


def check_scopes(endpoint: str, scopes: frozenset[str] | None) -> None:
    """Refuse a Gmail call whose token is held to `scopes` with none the method accepts."""
    wanted = SCOPES.get(endpoint)
    if wanted is not None and scopes is not None and not scopes & wanted:
        raise InsufficientScopes()


class Directory(Protocol):
    """What Gmail needs to know about users."""

    def known(self, email: str) -> bool:
        """Whether `email` is a user of the emulator."""
        ...


@dataclass
class Stored:
    """One message in one mailbox."""

    id: str
    owner: str
    thread_id: str
    raw: bytes
    labels: list[str]
    internal: datetime
    history_id: int
    sequence: int

    def mime(self) -> MimeMessage:
        """The parsed message."""
        return email.message_from_bytes(self.raw, policy=email.policy.compat32)


class GmailApi:
    """The Gmail v1 handlers over one shared, lock-guarded store."""

    def __init__(
        self, directory: Directory, now: Callable[[], datetime], counter: Iterator[int]
    ) -> None:
        self.directory = directory
        self.now = now
        self.counter = counter
        self.messages: dict[str, Stored] = {}
        self._order = itertools.count(1)

    def reset(self) -> None:
        """Forget every message."""
        self.messages.clear()

    def sent(self) -> list[dict[str, Any]]:
        """Every sent message (the sender's copy), oldest first, in ``raw`` format."""
        found = [m for m in self.messages.values() if "SENT" in m.labels]
        found.sort(key=lambda m: m.sequence)
        return [self.resource(m, "raw") for m in found]

    def _mailbox(self, call: Call) -> str:
        user_id = call.args["userId"]
        if user_id not in ("me", call.user):
            raise ApiError(403, f"Delegation denied for {call.user}", "forbidden")
        return call.user

    # -- handlers -----------------------------------------------------------------------------

    def send(self, call: Call) -> Reply:
        """users.messages.send: ``{"raw": base64url}``, or the message as an upload."""
        owner = self._mailbox(call)
        raw, thread_id = self._message_of(call)
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        recipients = [
            address.lower()
            for _, address in getaddresses(
                [str(v) for k in ("To", "Cc", "Bcc") for v in message.get_all(k, [])]
            )
            if address
        ]
        if not recipients:
            raise bad_request("Recipient address required", "invalidArgument")
        now = self.now()
        del message["From"]
        message["From"] = owner
        if message["Message-ID"] is None:
            message["Message-ID"] = make_msgid(domain="mail.gmail.com")
        if message["Date"] is None:
            message["Date"] = format_datetime(now)
        data = message.as_bytes()
        sent = self._store(owner, data, ["SENT"], thread_id, now)
        for recipient in dict.fromkeys(recipients):
            if self.directory.known(recipient):
                self._store(recipient, data, ["INBOX", "UNREAD"], None, now)
        return Reply(200, {"id": sent.id, "threadId": sent.thread_id, "labelIds": sent.labels})

    def _message_of(self, call: Call) -> tuple[bytes, str | None]:
        if call.path.startswith("/upload/"):
            upload_type = call.query.get("uploadType", "media")
            if upload_type == "media":
                return call.body, None
            if upload_type == "multipart":
                parts = split_multipart(call.body, call.content_type)
                if len(parts) != 2:
                    raise bad_request("Multipart upload needs a metadata part and a media part.")
                meta = Call(call.user, "POST", call.path, {}, call.query, {}, parts[0][1]).json()
                return parts[1][1], meta.get("threadId")
            raise bad_request(f"Invalid upload type: {upload_type}", location="uploadType")
        body = call.json()
        if not body.get("raw"):
            raise bad_request(
                "'raw' RFC822 payload message string or uploading message via /upload/* URL"
                " required",
                "invalidArgument",
            )
        return unb64url(str(body["raw"]), "raw"), body.get("threadId")

    def _store(
        self, owner: str, raw: bytes, labels: list[str], thread_id: str | None, now: datetime
    ) -> Stored:
        message_id = f"{secrets.randbits(63):016x}"
        stored = Stored(
            message_id,
            owner,
            thread_id or message_id,
            raw,
            labels,
            now,
            next(self.counter),
            next(self._order),
        )
        self.messages[message_id] = stored
        return stored

    def get(self, call: Call) -> Reply:
        """users.messages.get in format full (default), raw, metadata or minimal."""
        owner = self._mailbox(call)
        stored = self.messages.get(call.args["id"])
        if stored is None or stored.owner != owner:
            raise ApiError(404, "Requested entity was not found.", "notFound")
        fmt = call.choice("format", ("full", "raw", "metadata", "minimal"), "full") or "full"
        return Reply(200, self.resource(stored, fmt, call.query.getlist("metadataHeaders")))

    def list_messages(self, call: Call) -> Reply:
        """users.messages.list, newest first, filtered by ``labelIds`` and ``q``."""
        owner = self._mailbox(call)
        labels = call.query.getlist("labelIds")
        test = compile_search(call.query.get("q") or "")
        spam_trash = call.flag("includeSpamTrash")
        found = [
            m
            for m in self.messages.values()
            if m.owner == owner
            and all(label in m.labels for label in labels)
            and (spam_trash or not {"SPAM", "TRASH"} & set(m.labels))
            and test(m)
        ]
        found.sort(key=lambda m: -m.sequence)
        size = call.integer("maxResults", 100, 1, 500, clamp=True)
        chunk, token = page(found, call.query.get("pageToken"), size)
        listing: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if chunk:
            listing["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in chunk]
        if token:
            listing["nextPageToken"] = token
        return Reply(200, listing)

    # -- rendering ----------------------------------------------------------------------------

    def resource(
        self, stored: Stored, fmt: str, wanted_headers: list[str] | None = None
    ) -> dict[str, Any]:
        """The Message resource in a ``format``."""
        message = stored.mime()
        out: dict[str, Any] = {
            "id": stored.id,
            "threadId": stored.thread_id,
            "labelIds": list(stored.labels),
            "snippet": _snippet(message),
            "sizeEstimate": len(stored.raw),
            "historyId": str(stored.history_id),
            "internalDate": str(int(stored.internal.timestamp() * 1000)),
        }
        if fmt == "raw":
            out["raw"] = b64url(stored.raw)
        elif fmt == "full":
            out["payload"] = _part(message, "")
        elif fmt == "metadata":
            wanted = {h.lower() for h in wanted_headers or []}
            out["payload"] = {
                "mimeType": message.get_content_type(),
                "headers": [
                    {"name": k, "value": str(v)}
                    for k, v in message.items()
                    if not wanted or k.lower() in wanted
                ],
            }
        return out


def _part(message: MimeMessage, part_id: str) -> dict[str, Any]:
    """A MessagePart: headers, and the body's data or child parts."""
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": message.get_content_type(),
        "filename": message.get_filename() or "",
        "headers": [{"name": k, "value": str(v)} for k, v in message.items()],
    }
    if message.is_multipart():
        children = message.get_payload()
        assert isinstance(children, list)
        out["body"] = {"size": 0}
        out["parts"] = [
            _part(child, f"{part_id}.{i}" if part_id else str(i))
            for i, child in enumerate(children)
        ]
        return out
    data = message.get_payload(decode=True)
    content = data if isinstance(data, bytes) else b""
    if out["filename"]:
        out["body"] = {"attachmentId": f"ANGjdJ{secrets.token_urlsafe(24)}", "size": len(content)}
    else:
        out["body"] = {"size": len(content), "data": b64url(content)}
    return out


def _snippet(message: MimeMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                charset = part.get_content_charset() or "utf-8"
                return " ".join(data.decode(charset, "replace").split())[:200]
    return ""


def compile_search(query: str) -> Callable[[Stored], bool]:
    """Gmail search in the subset we use: ``rfc822msgid:``, ``in:``/``label:``, ``from:``,
    ``to:``, ``subject:`` and plain words (matched in the message text)."""
    tests = [_search_term(term) for term in query.split()]
    return lambda message: all(test(message) for test in tests)


def _search_term(term: str) -> Callable[[Stored], bool]:
    name, sep, value = term.partition(":")
    name = name.lower()
    if sep and name == "rfc822msgid":
        wanted = value.strip("<>")
        return lambda m: str(m.mime()["Message-ID"] or "").strip().strip("<>") == wanted
    if sep and name in ("in", "label"):
        label = value.upper()
        return lambda m: label in m.labels
    if sep and name in ("from", "to", "subject"):
        header = {"from": "From", "to": "To", "subject": "Subject"}[name]
        needle = value.lower()
        return lambda m: needle in str(m.mime()[header] or "").lower()
    word = term.lower()
    return lambda m: word in m.raw.decode("utf-8", "replace").lower()
