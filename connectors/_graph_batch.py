"""Our own Microsoft Graph JSON batching (``POST /$batch``).

msgraph-core's ``BatchRequestContent`` sends absolute sub-request URLs once the client has made
its first call (Graph wants them relative to the version root) and reads every response body as
base64 bytes, so a JSON body comes back empty. This helper builds the documented JSON itself:
relative URLs, at most 20 requests per call (a longer list is split), JSON bodies in and out,
each item's status mapped into the connector errors, and only failed idempotent items retried,
through the one retry policy, honouring the Retry-After each item carried.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors._graph_errors import error_for, odata_error
from connectors._retry import RetryPolicy, is_transient, retry_after_seconds
from connectors.errors import ConnectorError, Throttled, Unavailable

MAX_REQUESTS = 20
"""Graph's documented limit of requests in one JSON batch."""


@dataclass(frozen=True)
class BatchRequest:
    """One sub-request: `url` is relative to the version root (``/me/events/{id}``)."""

    id: str
    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = True

    def __post_init__(self) -> None:
        if "://" in self.url or not self.url.startswith("/"):
            raise ValueError(f"batch url must be relative to the version root, got {self.url!r}")

    def to_json(self) -> dict[str, Any]:
        """The item as it goes into the ``requests`` array."""
        item: dict[str, Any] = {"id": self.id, "method": self.method.upper(), "url": self.url}
        headers = dict(self.headers)
        if self.body is not None:
            item["body"] = self.body
            headers.setdefault("Content-Type", "application/json")
        if headers:
            item["headers"] = headers
        return item


@dataclass(frozen=True)
class BatchResponse:
    """One sub-response: `body` is the parsed JSON (None when empty)."""

    id: str
    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    def error(self, what: str) -> ConnectorError:
        """The connector error this failed item stands for."""
        code, message = odata_error(self.body)
        lower = {k.lower(): v for k, v in self.headers.items()}
        return error_for(
            self.status, code, message, what, retry_after_seconds(lower.get("retry-after"))
        )


def request_body(requests: Sequence[BatchRequest]) -> bytes:
    """The JSON body of one ``$batch`` call (at most `MAX_REQUESTS` items)."""
    if len(requests) > MAX_REQUESTS:
        raise ValueError(f"a batch holds at most {MAX_REQUESTS} requests, got {len(requests)}")
    return json.dumps({"requests": [r.to_json() for r in requests]}).encode("utf-8")


def chunks(requests: Sequence[BatchRequest]) -> list[list[BatchRequest]]:
    """The requests split into batches of at most `MAX_REQUESTS`, in order."""
    return [list(requests[i : i + MAX_REQUESTS]) for i in range(0, len(requests), MAX_REQUESTS)]


def _body(raw: Any, headers: Mapping[str, str]) -> Any:
    # Graph gives a JSON body as JSON; other content types arrive base64-encoded in a string.
    if not isinstance(raw, str):
        return raw
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        return raw


def parse_response(content: bytes) -> list[BatchResponse]:
    """The items of a ``$batch`` answer; raises `ValueError` if it is not one."""
    data = json.loads(content)
    items = data.get("responses") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("the $batch answer has no responses array")
    found = []
    for item in items:
        headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
        found.append(
            BatchResponse(
                id=str(item["id"]),
                status=int(item["status"]),
                headers=headers,
                body=_body(item.get("body"), headers),
            )
        )
    return found


Send = Callable[[list[BatchRequest]], list[BatchResponse]]
"""Posts one batch (at most `MAX_REQUESTS`) and gives its items; raises connector errors."""


def run(
    send: Send, requests: Sequence[BatchRequest], policy: RetryPolicy, what: str
) -> dict[str, BatchResponse]:
    """Run every request, in batches of 20, retrying transient failures of idempotent items.

    Returns the final response of each request by id; a failed item is left failed (its
    `BatchResponse.error` says why) for the caller to raise or accept.
    """
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    results: dict[str, BatchResponse] = {}
    pending = list(requests)

    def attempt() -> None:
        nonlocal pending
        retry: list[BatchRequest] = []
        first_error: ConnectorError | None = None
        for chunk in chunks(pending):
            answers = {a.id: a for a in send(chunk)}
            for request in chunk:
                answer = answers.get(request.id)
                if answer is None:
                    answer = BatchResponse(request.id, 503, {}, None)
                results[request.id] = answer
                if answer.ok or not request.idempotent:
                    continue
                error = answer.error(f"{what} ({request.method} {request.url})")
                if is_transient(error):
                    retry.append(request)
                    first_error = _longest_wait(first_error, error)
        pending = retry
        if first_error is not None:
            raise first_error

    try:
        policy.call(attempt, idempotent=all(r.idempotent for r in requests))
    except (Throttled, Unavailable):
        if not results:
            raise
    return results


def _longest_wait(current: ConnectorError | None, new: ConnectorError) -> ConnectorError:
    """Of two transient errors, the one asking for the longer wait (so every item may retry)."""
    if current is None:
        return new
    current_wait = current.retry_after if isinstance(current, Throttled) else None
    new_wait = new.retry_after if isinstance(new, Throttled) else None
    if new_wait is not None and (current_wait is None or new_wait > current_wait):
        return new
    return current
