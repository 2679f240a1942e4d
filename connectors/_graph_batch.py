"""Our own Microsoft Graph JSON batching (``POST /$batch``).

msgraph-core's ``BatchRequestContent`` sends absolute sub-request URLs once the client has made
its first call (Graph wants them relative to the version root) and reads every response body as
base64 bytes, so a JSON body comes back empty. This module builds the documented JSON itself:
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
from connectors._retry import RetryPolicy, is_transient, retry_after_seconds, slowest
from connectors.errors import ConnectorError, Throttled

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
    depends_on: tuple[str, ...] = ()
    """Ids of items that must succeed first (``dependsOn``): Graph runs this one after them,
    or answers it 424 Failed Dependency when one failed."""

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
        if self.depends_on:
            item["dependsOn"] = list(self.depends_on)
        return item


@dataclass(frozen=True)
class BatchResponse:
    """One sub-response: `body` is the parsed JSON (None when empty)."""

    id: str
    status: int
    headers: Mapping[str, str]
    body: Any
    failure: ConnectorError | None = None
    """Why the item got no answer of its own: the batch carrying it failed for good."""

    @classmethod
    def failed(cls, request_id: str, failure: ConnectorError) -> BatchResponse:
        """The stand-in answer of an item whose batch could not be sent."""
        status = 429 if isinstance(failure, Throttled) else 503
        return cls(request_id, status, {}, None, failure)

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    def error(self, what: str) -> ConnectorError:
        """The connector error this failed item stands for."""
        if self.failure is not None:
            return self.failure
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
    # Graph gives a JSON body as JSON; other content types arrive base64-encoded in a string,
    # and so does the JSON answer to a request whose body was base64 (an upload's item).
    if not isinstance(raw, str):
        return raw
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            pass
        try:
            return json.loads(base64.b64decode(raw, validate=True))
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

    Returns the final response of every request by id; a failed item is left failed (its
    `BatchResponse.error` says why) for the caller to raise or accept. When a batch cannot be
    sent (after retries) each item still waiting gets that error as its answer; when no item
    got any answer, the error is raised.
    """
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    results: dict[str, BatchResponse] = {}
    pending = list(requests)

    def attempt() -> None:
        nonlocal pending
        retry: list[BatchRequest] = []
        errors: list[ConnectorError] = []
        while pending:
            chunk, rest = pending[:MAX_REQUESTS], pending[MAX_REQUESTS:]
            try:
                answers = {a.id: a for a in send(chunk)}
            except ConnectorError:
                pending = retry + pending  # this chunk and those after it go again
                raise
            pending = rest
            for request in chunk:
                answer = answers.get(request.id) or BatchResponse(request.id, 503, {}, None)
                results[request.id] = answer
                if answer.ok or not request.idempotent:
                    continue
                error = answer.error(f"{what} ({request.method} {request.url})")
                if is_transient(error):
                    retry.append(request)
                    errors.append(error)
        pending = retry
        if errors:
            raise slowest(errors)  # one wait that suits every item

    try:
        policy.call(attempt, idempotent=all(r.idempotent for r in requests))
    except ConnectorError as exc:
        if not results:
            raise
        for request in pending:
            results.setdefault(request.id, BatchResponse.failed(request.id, exc))
    return results
