"""What every Google API the emulator serves shares: errors, replies, field masks, times, paging.

Google's JSON error body is ``{"error": {"code", "message", "errors": [{"domain", "reason",
"message", ...}], "status"}}``; `ApiError` carries one and `error_json` renders it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from werkzeug.datastructures import MultiDict

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    410: "NOT_FOUND",
    412: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
"""The canonical status Google's front end pairs with each HTTP code."""

DEFAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    405: "httpMethodNotAllowed",
    409: "conflict",
    410: "deleted",
    412: "conditionNotMet",
    413: "uploadTooLarge",
    429: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
    504: "backendError",
}

REASONS = {
    200: "OK",
    204: "No Content",
    308: "Resume Incomplete",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class ApiError(Exception):
    """A request Google would refuse: the HTTP status and one entry of ``errors``."""

    def __init__(
        self,
        status: int,
        message: str,
        reason: str | None = None,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or DEFAULT_REASONS.get(status, "backendError")
        self.domain = domain
        self.location = location
        self.location_type = location_type

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        return error_json(
            self.status,
            self.message,
            self.reason,
            domain=self.domain,
            location=self.location,
            location_type=self.location_type,
        )


def error_json(
    status: int,
    message: str,
    reason: str | None = None,
    *,
    domain: str = "global",
    location: str | None = None,
    location_type: str | None = None,
) -> dict[str, Any]:
    """Google's error body for one error."""
    entry: dict[str, Any] = {
        "message": message,
        "domain": domain,
        "reason": reason or DEFAULT_REASONS.get(status, "backendError"),
    }
    if location is not None:
        entry["location"] = location
        entry["locationType"] = location_type or "parameter"
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [entry],
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


def not_found(what: str = "Not Found") -> ApiError:
    """404 notFound, as every API says it."""
    return ApiError(404, what, "notFound")


def bad_request(message: str, reason: str = "invalid", **where: str) -> ApiError:
    """400 with a reason (``invalid``, ``required``, ``badRequest`` ...)."""
    return ApiError(
        400,
        message,
        reason,
        location=where.get("location"),
        location_type=where.get("location_type"),
    )


@dataclass
class Call:
    """One API call, from the wire or from a batch part, after authentication."""

    user: str
    method: str
    path: str
    args: Mapping[str, str]
    query: MultiDict[str, str]
    headers: Mapping[str, str]
    body: bytes
    content_type: str = ""

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is ``{}``."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"Invalid JSON payload received. {exc}", "parseError") from exc
        if not isinstance(value, dict):
            raise ApiError(400, "Invalid JSON payload received. Expected an object.", "parseError")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter (``true``/``false``); anything else is a 400."""
        raw = self.query.get(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise bad_request(
            f"Invalid value '{raw}'. Values must match the type boolean.", location=name
        )

    def integer(self, name: str, default: int, low: int, high: int, *, clamp: bool = False) -> int:
        """An integer query parameter within [low, high] (clamped to `high` when `clamp`)."""
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise bad_request(f"Invalid value '{raw}'.", location=name) from exc
        if clamp and value > high:
            return high
        if not low <= value <= high:
            raise bad_request(f"Invalid value '{raw}'. Must be in [{low}, {high}].", location=name)
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
        """An enumerated query parameter; an unknown value is a 400."""
        raw = self.query.get(name)
        if raw is None:
            return default
        if raw not in allowed:
            raise bad_request(f"Invalid value '{raw}' for {name}.", location=name)
        return raw

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass
class Reply:
    """What a handler answers: a JSON value, or raw bytes with a content type."""

    status: int = 200
    data: Any = None
    raw: bytes | None = None
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        """The body bytes."""
        if self.raw is not None:
            return self.raw
        if self.data is None:
            return b""
        return json.dumps(self.data, ensure_ascii=False, indent=2).encode()


# -- field masks ---------------------------------------------------------------------------------

FieldTree = dict[str, "FieldTree | None"]


def parse_fields(mask: str) -> FieldTree:
    """Parse a ``fields`` mask (``a,b/c,d(e,f)``) into a tree; a leaf is None (whole value)."""
    tree: FieldTree = {}
    position = _parse_field_list(mask.replace(" ", ""), 0, tree)
    if position != len(mask.replace(" ", "")):
        raise bad_request(f"Invalid field selection {mask}", location="fields")
    return tree


def _parse_field_list(text: str, position: int, tree: FieldTree) -> int:
    """Parse ``item(,item)*`` from `position` into `tree`; returns where it stopped."""
    for _ in range(len(text) + 1):
        position = _parse_field_item(text, position, tree)
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return position
    return position


def _parse_field_item(text: str, position: int, tree: FieldTree) -> int:
    """Parse ``name(/name)*`` optionally followed by ``(sub-list)``."""
    start = position
    while position < len(text) and text[position] not in ",()":
        position += 1
    path = text[start:position].split("/")
    if not all(path):
        raise bad_request(f"Invalid field selection {text}", location="fields")
    node = tree
    for name in path[:-1]:
        child = node.get(name)
        if child is None:
            child = {}
            node[name] = child
        node = child
    last = path[-1]
    if position < len(text) and text[position] == "(":
        child = node.get(last) or {}
        position = _parse_field_list(text, position + 1, child)
        if position >= len(text) or text[position] != ")":
            raise bad_request(f"Invalid field selection {text}", location="fields")
        node[last] = child
        return position + 1
    node[last] = None
    return position


def apply_fields(value: Any, tree: FieldTree | None) -> Any:
    """Keep only the fields `tree` names; lists apply the mask to each item."""
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply_fields(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for name, sub in tree.items():
        if name in value:
            kept[name] = apply_fields(value[name], sub)
    return kept


# -- times ---------------------------------------------------------------------------------------


def parse_instant(raw: str, what: str) -> datetime:
    """An RFC 3339 timestamp with a mandatory offset (``Z`` or ``+hh:mm``)."""
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError as exc:
        raise bad_request(f"Bad Request: invalid {what} '{raw}'", location=what) from exc
    if value.tzinfo is None:
        raise bad_request(f"Bad Request: {what} needs a time zone offset", location=what)
    return value


def stamp(value: datetime) -> str:
    """A UTC timestamp with milliseconds, as Google writes ``created``/``updated``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def local_stamp(value: datetime) -> str:
    """An RFC 3339 date-time with the value's own offset, without fractions."""
    return value.replace(microsecond=0).isoformat()


def day_stamp(value: date) -> str:
    """A ``yyyy-mm-dd`` date."""
    return value.isoformat()


# -- paging --------------------------------------------------------------------------------------


def page(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    """One page of `items` from the offset `token` encodes, and the next page's token."""
    offset = 0
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, binascii.Error) as exc:
            raise bad_request("Invalid page token value.", location="pageToken") from exc
        if offset < 0 or offset > len(items):
            raise bad_request("Invalid page token value.", location="pageToken")
    chunk = items[offset : offset + size]
    end = offset + len(chunk)
    next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return chunk, next_token


def b64url(data: bytes) -> str:
    """Base64url with padding, as Gmail writes ``raw`` and part bodies."""
    return base64.urlsafe_b64encode(data).decode()


def unb64url(text: str, what: str) -> bytes:
    """Decode base64url, padded or not (Gmail accepts both)."""
    cleaned = text.strip().replace("+", "-").replace("/", "_")
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (ValueError, binascii.Error) as exc:
        raise bad_request(f"Invalid value for ByteString: {what}") from exc
