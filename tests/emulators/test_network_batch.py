"""A batch behind the network middleware: one round trip's latency for the whole batch (Graph's
``$batch``, Google's multipart batch), while each Graph item still passes the limits and the
faults on its own."""

from __future__ import annotations

import time
from typing import Any

import httpx
from werkzeug.test import Client

from emulators.faults import Faults
from emulators.google import GoogleEmulator
from emulators.graph import GraphEmulator
from emulators.network import Limits, Network
from emulators.serve import Server, behind_network

ADA = "ada@example.com"
LATENCY_MS = 50.0
ONCE = 2.8 * LATENCY_MS / 1000
"""Under this a batch waited the latency once: with each of 2 items delayed too it takes 3x;
the slack is for a busy machine."""


def _two_reads() -> dict[str, Any]:
    return {
        "requests": [
            {"id": "1", "method": "GET", "url": "/me/events"},
            {
                "id": "2",
                "method": "GET",
                "url": "/me/calendarView?startDateTime=2027-01-01T00:00:00Z"
                "&endDateTime=2027-01-02T00:00:00Z",
            },
        ]
    }


def _post_batch(server: Server, graph: GraphEmulator) -> tuple[httpx.Response, float]:
    headers = {"Authorization": f"Bearer {graph.token(ADA)}"}
    started = time.perf_counter()
    answer = httpx.post(f"{server.url}/v1.0/$batch", json=_two_reads(), headers=headers, timeout=10)
    return answer, time.perf_counter() - started


def test_a_two_item_batch_waits_the_latency_once() -> None:
    """Real Graph answers a batch in one round trip: 2 items at 50 ms take about 50 ms, not 150."""
    graph = GraphEmulator()
    net = behind_network(graph, latency_ms=LATENCY_MS)
    with Server(net) as server:
        _post_batch(server, graph)  # the first connection's set-up is not the latency
        took = min(_post_batch(server, graph)[1] for _ in range(5))
    assert LATENCY_MS / 1000 <= took < ONCE, took
    assert net.stats.requests == 6 * 3  # every item still counted, as its own request


def test_each_batch_item_is_still_throttled_on_its_own() -> None:
    """A batch item over the user's rate gets its own 429 (Graph throttles items one by one)."""
    graph = GraphEmulator()
    net: Network = behind_network(graph, limits=Limits(requests=2, per_seconds=600))
    with Server(net) as server:
        answer, _ = _post_batch(server, graph)
    statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
    assert answer.status_code == 200
    assert statuses == {"1": 200, "2": 429}


def test_each_batch_item_still_meets_the_fault_rules() -> None:
    """A fault rule on the calendar view fails that item only, inside a 200 batch answer."""
    graph = GraphEmulator()
    net = behind_network(graph, latency_ms=LATENCY_MS)
    net.faults = Faults.from_data(
        {"errors": [{"request": {"url": "/*calendarView*"}, "responses": [{"statusCode": 503}]}]}
    )
    with Server(net) as server:
        answer, _ = _post_batch(server, graph)
    statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
    assert statuses == {"1": 200, "2": 503}
    assert net.stats.faults == {"http": 1}


def test_a_two_part_google_batch_waits_the_latency_once() -> None:
    """Google's batch is one HTTP request too: its parts add no latency of their own."""
    google = GoogleEmulator()
    net = behind_network(google, latency_ms=LATENCY_MS)
    boundary = "batch_one_trip"
    parts = "".join(
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <{n}>\r\n\r\n"
        f"GET /calendar/v3/calendars/primary/events HTTP/1.1\r\n\r\n\r\n"
        for n in (1, 2)
    )
    client = Client(net)
    headers = {
        "Content-Type": f"multipart/mixed; boundary={boundary}",
        "Authorization": f"Bearer {google.token(ADA)}",
    }
    took = []
    for _ in range(5):
        started = time.perf_counter()
        answer = client.post(
            "/batch/calendar/v3", data=parts + f"--{boundary}--\r\n", headers=headers
        )
        took.append(time.perf_counter() - started)
        assert answer.status_code == 200
        assert answer.get_data().count(b"HTTP/1.1 200") == 2
    assert LATENCY_MS / 1000 <= min(took) < ONCE, took
