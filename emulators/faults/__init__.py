"""Fault files: which requests an emulator fails, and how, in the spirit of Microsoft Dev Proxy.

The format follows Dev Proxy's GenericRandomErrorPlugin errors file
(https://learn.microsoft.com/microsoft-cloud/dev/dev-proxy/technical-reference/genericrandomerrorplugin,
schema ``genericrandomerrorplugin.errorsfile.schema.json``)::

    {"errors": [{"request": {"url": "https://graph.microsoft.com/v1.0/*", "method": "GET"},
                 "responses": [{"statusCode": 429,
                                "headers": [{"name": "Retry-After", "value": "@dynamic"}],
                                "body": {"error": {"code": "TooManyRequests"}}}]}]}

A Dev Proxy errors file loads unchanged. Dev Proxy keeps the failure ``rate`` (percent, default 50)
and ``retryAfterInSeconds`` (default 5, used for a ``Retry-After`` of ``@dynamic``; ``@dynamic=N``
gives N) in the plugin's config; here both live in the file, and ``rate`` defaults to 100 so a
file means what it says. What Dev Proxy cannot express, and tests need:

- ``seed`` (top level): makes ``rate`` and the choice among several responses repeatable.
- ``rate``, ``count``, ``after`` on one error: its own failure percentage; fail at most ``count``
  matching requests, then pass; let the first ``after`` matching requests pass.
- A response may be a socket fault instead of an HTTP answer: ``{"fault": "timeout", "seconds":
  S}`` holds the connection S seconds, then closes it with no answer; ``{"fault": "reset"}``
  closes it at once with a TCP RST; ``{"fault": "garbage"}`` answers 200 with a body that does not
  parse (``body`` may give the text).
- A response with no ``body`` gets the emulator's own error body for its status, so a file need
  not repeat each provider's error shape.

URL patterns use ``*`` for any run of characters, as in Dev Proxy. The emulator listens on
127.0.0.1, not on the provider's host, so a pattern's scheme and host are dropped and the rest is
matched against the request's path and query: ``https://graph.microsoft.com/v1.0/me/events*``
matches ``/v1.0/me/events?$top=5`` on any port. A pattern with no scheme is matched as a path.
Rules are tried in file order; each matching rule counts the request, and the first one that fires
answers it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator

FaultKind = Literal["timeout", "reset", "garbage"]

MAX_HOLD_SECONDS = 600.0
"""The longest a timeout fault may hold a connection: every wait in the emulators is bounded."""

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE"]
_PERCENT: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 100}
_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Emulator fault file (Dev Proxy GenericRandomErrorPlugin errors file, extended)",
    "type": "object",
    "additionalProperties": False,
    "required": ["errors"],
    "properties": {
        "$schema": {"type": "string"},
        "definitions": {"type": "object"},
        "rate": _PERCENT,
        "seed": {"type": "integer"},
        "retryAfterInSeconds": {"type": "integer", "minimum": 1},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["request", "responses"],
                "properties": {
                    "request": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["url"],
                        "properties": {
                            "url": {"type": "string", "minLength": 1},
                            "method": {"enum": _METHODS},
                            "bodyFragment": {"type": "string"},
                        },
                    },
                    "responses": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "statusCode": {"type": "integer", "minimum": 100, "maximum": 599},
                                "headers": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["name", "value"],
                                        "properties": {
                                            "name": {"type": "string", "minLength": 1},
                                            "value": {"type": "string"},
                                        },
                                    },
                                },
                                "body": {"type": ["object", "array", "string"]},
                                "fault": {"enum": ["timeout", "reset", "garbage"]},
                                "seconds": {
                                    "type": "number",
                                    "exclusiveMinimum": 0,
                                    "maximum": MAX_HOLD_SECONDS,
                                },
                            },
                        },
                    },
                    "rate": _PERCENT,
                    "count": _COUNT,
                    "after": _COUNT,
                },
            },
        },
    },
}
"""JSON Schema (2020-12) of a fault file; every file is validated against it on load."""


class FaultFileError(ValueError):
    """A fault file that cannot be used; the message names the file, the place and the fix."""


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer from a fault file: status, headers, and a body (None: the emulator's)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    @property
    def reason(self) -> str:
        """The status line's phrase (``Too Many Requests``)."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"


@dataclass(frozen=True, slots=True)
class SocketFault:
    """A fault below HTTP: hold then close (timeout), close with RST (reset), or garbage."""

    kind: FaultKind
    seconds: float = 10.0
    body: bytes | None = None


Response = Answer | SocketFault


@dataclass(frozen=True, slots=True)
class Rule:
    """One entry of ``errors``: which requests it matches and the responses it may give."""

    url: str
    pattern: re.Pattern[str]
    method: str | None
    body_fragment: str | None
    responses: tuple[Response, ...]
    rate: float
    count: int | None
    after: int

    def matches(self, method: str, target: str) -> bool:
        """Whether a request line (method, path and query) is one this rule watches."""
        if self.method is not None and self.method != method:
            return False
        return self.pattern.fullmatch(target) is not None


@dataclass(frozen=True, slots=True)
class Faults:
    """A parsed fault file. Immutable: the counting state lives in the middleware using it."""

    rules: tuple[Rule, ...]
    seed: int | None = None
    source: str = "<faults>"

    @property
    def reads_body(self) -> bool:
        """Whether any rule matches on the request body (so the middleware must buffer it)."""
        return any(rule.body_fragment is not None for rule in self.rules)

    @classmethod
    def load(cls, path: str | Path) -> Faults:
        """Read and validate a fault file; `FaultFileError` says what is wrong and where."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FaultFileError(f"{path}: cannot read fault file: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaultFileError(
                f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from exc
        return cls.from_data(data, source=str(path))

    @classmethod
    def from_data(cls, data: object, *, source: str = "<faults>") -> Faults:
        """Validate decoded JSON against `SCHEMA` and build the rules."""
        _validate(data, source)
        assert isinstance(data, dict)
        default_rate = float(data.get("rate", 100))
        retry_after = int(data.get("retryAfterInSeconds", 5))
        rules = tuple(
            _rule(entry, default_rate, retry_after, f"{source}: errors[{index}]")
            for index, entry in enumerate(data["errors"])
        )
        seed = data.get("seed")
        return cls(rules=rules, seed=seed if isinstance(seed, int) else None, source=source)


def _validate(data: object, source: str) -> None:
    errors = sorted(
        Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(map(str, e.path))
    )
    if errors:
        first = errors[0]
        where = _json_path(first.absolute_path)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise FaultFileError(f"{source}: {where}: {first.message}{more}")


def _json_path(parts: Any) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _rule(entry: dict[str, Any], default_rate: float, retry_after: int, where: str) -> Rule:
    request = entry["request"]
    responses = tuple(
        _response(item, retry_after, f"{where}.responses[{index}]")
        for index, item in enumerate(entry["responses"])
    )
    return Rule(
        url=request["url"],
        pattern=compile_url(request["url"]),
        method=request.get("method"),
        body_fragment=request.get("bodyFragment"),
        responses=responses,
        rate=float(entry.get("rate", default_rate)),
        count=entry.get("count"),
        after=int(entry.get("after", 0)),
    )


def _response(item: dict[str, Any], retry_after: int, where: str) -> Response:
    fault = item.get("fault")
    if fault is not None:
        if "statusCode" in item or "headers" in item:
            raise FaultFileError(f"{where}: a fault response takes no statusCode or headers")
        if "seconds" in item and fault != "timeout":
            raise FaultFileError(f"{where}: seconds applies to a timeout fault only")
        if "body" in item and fault != "garbage":
            raise FaultFileError(f"{where}: body applies to a garbage fault only")
        return SocketFault(
            kind=fault, seconds=float(item.get("seconds", 10.0)), body=_body(item.get("body"))
        )
    if "statusCode" not in item:
        raise FaultFileError(
            f"{where}: give statusCode (an HTTP answer) or fault (timeout, reset, garbage)"
        )
    if "seconds" in item:
        raise FaultFileError(f"{where}: seconds applies to a timeout fault only")
    headers = tuple(
        (header["name"], _header_value(header["value"], retry_after, where))
        for header in item.get("headers", ())
    )
    return Answer(status=item["statusCode"], headers=headers, body=_body(item.get("body")))


def _header_value(value: str, retry_after: int, where: str) -> str:
    """Dev Proxy's ``@dynamic`` (the file's retryAfterInSeconds) and ``@dynamic=N``."""
    if value == "@dynamic":
        return str(retry_after)
    if value.startswith("@dynamic="):
        seconds = value.removeprefix("@dynamic=")
        if not seconds.isdigit():
            raise FaultFileError(f"{where}: @dynamic=N needs whole seconds, not {seconds!r}")
        return seconds
    return value


def _body(body: object) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def compile_url(url: str) -> re.Pattern[str]:
    """A Dev Proxy URL pattern as a regex over path and query (scheme and host dropped)."""
    if "://" in url:
        rest = url.split("://", 1)[1]
        slash = rest.find("/")
        url = rest[slash:] if slash >= 0 else "/*"
    elif not url.startswith(("/", "*")):
        url = "/" + url
    return re.compile(".*".join(re.escape(part) for part in url.split("*")))
