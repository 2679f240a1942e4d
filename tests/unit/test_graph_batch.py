"""Our $batch helper: relative URLs, 20 per call, JSON bodies kept, only failed idempotent
items retried with the waits they asked for."""

from __future__ import annotations

import json
import random

import pytest

from connectors._graph_batch import (
    MAX_REQUESTS,
    BatchRequest,
    BatchResponse,
    chunks,
    parse_response,
    request_body,
    run,
)
from connectors._retry import RetryPolicy
from connectors.errors import NotFound, Throttled, Unavailable


def recording_policy(waits: list[float]) -> RetryPolicy:
    """A policy that records waits instead of sleeping."""
    clock = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    return RetryPolicy(sleep=sleep, now=lambda: clock[0], rng=random.Random(1))


def test_absolute_urls_are_refused() -> None:
    """A sub-request URL must be relative to the version root."""
    with pytest.raises(ValueError, match="relative"):
        BatchRequest("1", "GET", "https://graph.microsoft.com/v1.0/me/events")


def test_body_is_documented_json() -> None:
    """The batch body lists id, method, relative url, headers and a JSON body."""
    body = json.loads(
        request_body(
            [
                BatchRequest("1", "get", "/me/events/a", headers={"Prefer": "x"}),
                BatchRequest("2", "PATCH", "/me/events/a", body={"subject": "s"}),
            ]
        )
    )
    assert body == {
        "requests": [
            {"id": "1", "method": "GET", "url": "/me/events/a", "headers": {"Prefer": "x"}},
            {
                "id": "2",
                "method": "PATCH",
                "url": "/me/events/a",
                "body": {"subject": "s"},
                "headers": {"Content-Type": "application/json"},
            },
        ]
    }


def test_more_than_twenty_are_split() -> None:
    """45 requests go as batches of 20, 20 and 5; one body never holds more than 20."""
    requests = [BatchRequest(str(i), "GET", f"/me/events/{i}") for i in range(45)]
    assert [len(c) for c in chunks(requests)] == [20, 20, 5]
    with pytest.raises(ValueError):
        request_body(requests[: MAX_REQUESTS + 1])


def test_json_bodies_are_kept_and_others_decoded() -> None:
    """A JSON sub-response body stays JSON; a base64 body of another type is decoded."""
    answer = {
        "responses": [
            {
                "id": "1",
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": {"id": "a", "subject": "s"},
            },
            {"id": "2", "status": 200, "headers": {"Content-Type": "text/plain"}, "body": "aGk="},
            {"id": "3", "status": 204, "headers": {}},
        ]
    }
    found = {r.id: r for r in parse_response(json.dumps(answer).encode())}
    assert found["1"].body == {"id": "a", "subject": "s"}
    assert found["2"].body == b"hi"
    assert found["3"].body is None and found["3"].ok


def test_only_failed_idempotent_items_are_retried_with_their_waits() -> None:
    """A throttled item is sent again after its Retry-After; succeeded items are not."""
    sent: list[list[str]] = []
    throttles = {"b": 2}

    def send(chunk: list[BatchRequest]) -> list[BatchResponse]:
        sent.append([r.id for r in chunk])
        out = []
        for r in chunk:
            if throttles.get(r.id, 0) > 0:
                throttles[r.id] -= 1
                out.append(BatchResponse(r.id, 429, {"Retry-After": "3"}, None))
            elif r.id == "c":
                out.append(BatchResponse(r.id, 404, {}, {"error": {"code": "ErrorItemNotFound"}}))
            else:
                out.append(BatchResponse(r.id, 200, {}, {"id": r.id}))
        return out

    waits: list[float] = []
    requests = [BatchRequest(i, "GET", f"/me/events/{i}") for i in "abc"]
    answers = run(send, requests, recording_policy(waits), "reading events")
    assert sent == [["a", "b", "c"], ["b"], ["b"]]
    assert waits == [3.0, 3.0]
    assert answers["b"].ok and answers["a"].ok
    assert isinstance(answers["c"].error("reading"), NotFound)


def test_throttling_that_never_ends_leaves_the_item_failed() -> None:
    """When retries run out, the item stays failed as Throttled rather than hanging."""

    def send(chunk: list[BatchRequest]) -> list[BatchResponse]:
        return [BatchResponse(r.id, 429, {"Retry-After": "1"}, None) for r in chunk]

    waits: list[float] = []
    answers = run(send, [BatchRequest("a", "GET", "/me")], recording_policy(waits), "x")
    assert isinstance(answers["a"].error("x"), Throttled)
    assert len(waits) == 4


def test_a_later_batch_that_cannot_be_sent_fails_its_items() -> None:
    """45 requests: the second batch never gets through, so its 20 items and the last 5 carry
    that error; the first batch is not sent again."""
    sent: list[str] = []

    def send(chunk: list[BatchRequest]) -> list[BatchResponse]:
        sent.append(chunk[0].id)
        if chunk[0].id != "0":
            raise Unavailable("the gateway is down")
        return [BatchResponse(r.id, 200, {}, {"id": r.id}) for r in chunk]

    requests = [BatchRequest(str(i), "GET", f"/me/events/{i}") for i in range(45)]
    answers = run(send, requests, recording_policy([]), "reading events")
    assert sorted(answers, key=int) == [str(i) for i in range(45)]
    assert all(answers[str(i)].ok for i in range(20))
    failed = [answers[str(i)] for i in range(20, 45)]
    assert not any(a.ok for a in failed)
    assert all(isinstance(a.error("x"), Unavailable) for a in failed)
    assert sent.count("0") == 1 and sent.count("20") == 5


def test_a_batch_that_cannot_be_sent_at_all_raises() -> None:
    """When not one item got an answer, the batch's own error is raised."""

    def send(chunk: list[BatchRequest]) -> list[BatchResponse]:
        raise Unavailable("the gateway is down")

    with pytest.raises(Unavailable):
        run(send, [BatchRequest("a", "GET", "/me")], recording_policy([]), "x")
