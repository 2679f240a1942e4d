"""Google's batch endpoint: ``multipart/mixed`` of ``application/http`` parts, one answer each.

Each part runs through the same router as a request of its own, with its own authentication and
its own error. Headers of the outer request other than ``Content-*`` apply to every part unless the
part sets them. An answer part echoes the request's ``Content-ID`` as ``response-<id>``. The limits
are the documented ones: 1000 calls per Calendar batch, 100 per Drive or Gmail batch; every inner
request must go to the API the batch path names, and Drive takes no media in a batch.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.datastructures import MultiDict

from emulators._google_drive import split_multipart
from emulators._google_http import REASONS, ApiError, Reply, bad_request, error_json

if TYPE_CHECKING:
    from emulators.google import GoogleEmulator

LIMITS = {"calendar": 1000, "drive": 100, "gmail": 100}
PREFIXES = {
    "calendar": ("/calendar/v3/",),
    "drive": ("/drive/v3/",),
    "gmail": ("/gmail/v1/", "/upload/gmail/v1/"),
}
VERSIONS = {"calendar": "v3", "drive": "v3", "gmail": "v1"}


def run(
    emulator: GoogleEmulator, args: Mapping[str, Any], headers: Mapping[str, str], body: bytes
) -> Reply:
    """Answer one batch request."""
    api = str(args.get("api"))
    version = args.get("version", VERSIONS.get(api))
    if api not in LIMITS or version != VERSIONS[api]:
        return _error(ApiError(404, "Not Found", "notFound"))
    content_type = _get(headers, "Content-Type") or ""
    if not content_type.lower().startswith("multipart/mixed"):
        return _error(bad_request("The batch request must be multipart/mixed.", "badContent"))
    try:
        parts = split_multipart(body, content_type)
    except ApiError as error:
        return _error(error)
    if len(parts) > LIMITS[api]:
        return _error(
            bad_request(f"A {api} batch takes at most {LIMITS[api]} calls.", "batchSizeTooLarge")
        )
    shared = {k: v for k, v in headers.items() if not k.lower().startswith("content-")}
    boundary = "batch_" + secrets.token_hex(12)
    out: list[bytes] = []
    for part_headers, payload in parts:
        answer = _answer(emulator, api, shared, payload)
        content_id = part_headers.get("content-id")
        head = "Content-Type: application/http\r\n"
        if content_id:
            inner = content_id.strip()
            inner = inner[1:-1] if inner.startswith("<") and inner.endswith(">") else inner
            head += f"Content-ID: <response-{inner}>\r\n"
        out.append(f"--{boundary}\r\n{head}\r\n".encode() + answer + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return Reply(200, raw=b"".join(out), content_type=f"multipart/mixed; boundary={boundary}")


def _answer(emulator: GoogleEmulator, api: str, shared: dict[str, str], payload: bytes) -> bytes:
    """One part's HTTP request run, and its HTTP response as bytes."""
    try:
        method, target, headers, body = _parse_request(payload)
    except ApiError as error:
        return _http(_error(error))
    merged = dict(shared)
    lowered = {k.lower() for k in headers}
    merged = {k: v for k, v in merged.items() if k.lower() not in lowered}
    merged.update(headers)
    parts = urlsplit(target)
    path = unquote(parts.path)
    query: MultiDict[str, str] = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
    if not path.startswith(PREFIXES[api]):
        return _http(_error(bad_request(f"Every call in a {api} batch must go to that API.")))
    if api == "drive" and (query.get("alt") == "media" or path.startswith("/upload/")):
        return _http(_error(bad_request("Media is not supported in a Drive batch.")))
    return _http(emulator.dispatch(method, path, query, merged, body))


def _parse_request(payload: bytes) -> tuple[str, str, dict[str, str], bytes]:
    """The request line, headers and body of an ``application/http`` part."""
    text = payload.lstrip(b"\r\n")
    line_end = text.find(b"\n")
    if line_end < 0:
        line_end = len(text)
    request_line = text[:line_end].decode("latin-1").strip().split()
    if len(request_line) < 2:
        raise bad_request("Malformed batch part.", "badContent")
    rest = text[line_end + 1 :]
    head_end = _blank_line(rest)
    if head_end is None:
        head, body = rest, b""
    else:
        head, body = rest[: head_end[0]], rest[head_end[0] + head_end[1] :]
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip()] = value.strip()
    return request_line[0].upper(), request_line[1], headers, body.rstrip(b"\r\n")


def _blank_line(data: bytes) -> tuple[int, int] | None:
    if data.startswith(b"\r\n"):
        return 0, 2
    if data.startswith(b"\n"):
        return 0, 1
    found = [(i, n) for i, n in ((data.find(b"\r\n\r\n"), 4), (data.find(b"\n\n"), 2)) if i >= 0]
    if not found:
        return None
    index, length = min(found)
    return index, length


def _http(reply: Reply) -> bytes:
    payload = reply.payload()
    lines = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
    if payload:
        lines.append(f"Content-Type: {reply.content_type}")
    lines.extend(f"{k}: {v}" for k, v in reply.headers.items())
    lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def _reason(status: int) -> str:
    return REASONS.get(status, "Unknown")


def _error(error: ApiError) -> Reply:
    return Reply(error.status, error_json(error.status, error.message, error.reason))


def _get(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
