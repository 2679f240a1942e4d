"""The network middleware: latency, per-user limits and faults, in-process and over real HTTP."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.test import Client

from emulators._wsgi import StartResponse
from emulators.faults import FaultFileError, Faults
from emulators.network import GRAPH_LIMITS, Limits, Network
from emulators.serve import Server

FAULTS_DIR = Path(__file__).resolve().parents[2] / "emulators" / "faults"
TOKENS = {"tok-ada": "ada@example.com", "tok-grace": "grace@example.com"}


def user_of(environ: dict[str, Any]) -> str | None:
    """The tiny app's users: a bearer token from `TOKENS`."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    return TOKENS.get(header.removeprefix("Bearer "))


def error_body(status: int, message: str) -> bytes:
    """An error body in a shape of our own, so tests can see it was used."""
    return json.dumps({"error": {"status": status, "message": message}}).encode()


class Echo:
    """A tiny WSGI app that answers 200 with what it was asked, and remembers the bodies."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer with the method and path as JSON."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.bodies.append(environ["wsgi.input"].read(length) if length else b"")
        body = json.dumps({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"]})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]


class Gate:
    """A WSGI app that holds each request until the test opens the gate (bounded wait)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Semaphore(0)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Wait at the gate, then answer 200."""
        self.entered.release()
        self.open.wait(timeout=10)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


def network(app: Any = None, **kwargs: Any) -> Network:
    """A `Network` around `app` (default `Echo`) with the tiny app's user and error body."""
    return Network(app or Echo(), user_of=user_of, error_body=error_body, **kwargs)


def faults(*errors: dict[str, Any], **top: Any) -> Faults:
    """A fault file from its ``errors`` entries and top-level settings."""
    return Faults.from_data({"errors": list(errors), **top})


def rule(url: str = "/*", *responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One ``errors`` entry; default response is a plain 503."""
    return {"request": {"url": url}, "responses": list(responses) or [{"statusCode": 503}], **extra}


def statuses(net: Network, n: int, path: str = "/x", token: str = "tok-ada") -> list[int]:
    """The statuses of `n` in-process GETs of `path`."""
    client = Client(net)
    headers = {"Authorization": f"Bearer {token}"}
    return [client.get(path, headers=headers).status_code for _ in range(n)]


# Latency


def test_latency_is_waited_before_each_request() -> None:
    """A 60 ms latency makes each request take at least 60 ms of real time."""
    net = network(latency_ms=60)
    client = Client(net)
    started = time.perf_counter()
    for _ in range(3):
        assert client.get("/x").status_code == 200
    assert time.perf_counter() - started >= 0.18


def test_jitter_stays_within_its_bound_and_repeats_with_a_seed() -> None:
    """Jitter adds between 0 and jitter_ms, and the same seed gives the same waits."""

    def waits(seed: int) -> list[float]:
        slept: list[float] = []
        net = network(latency_ms=10, jitter_ms=5, seed=seed, sleep=slept.append)
        statuses(net, 20)
        return slept

    first = waits(3)
    assert all(0.010 <= w <= 0.015 for w in first)
    assert len(set(first)) > 1
    assert waits(3) == first


# Rate limits


def test_rate_limit_answers_429_with_retry_after_then_recovers_after_the_window() -> None:
    """Over 3 per 10 s: 429, the emulator's body and Retry-After; once the window moves, 200."""
    clock = FakeClock()
    net = network(limits=Limits(requests=3, per_seconds=10), clock=clock)
    client = Client(net)
    ada = {"Authorization": "Bearer tok-ada"}
    for _ in range(3):
        assert client.get("/x", headers=ada).status_code == 200
        clock.now += 1
    throttled = client.get("/x", headers=ada)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.get_json()["error"]["status"] == 429
    assert "3 requests per 10 seconds" in throttled.get_json()["error"]["message"]
    clock.now += 6.5
    assert client.get("/x", headers=ada).headers["Retry-After"] == "1"
    clock.now += 0.5
    assert client.get("/x", headers=ada).status_code == 200
    assert net.stats.throttled == 2


def test_rate_limit_is_per_user_and_anonymous_requests_share_one_bucket() -> None:
    """Ada's bucket does not limit Grace; requests without a known token share one bucket."""
    net = network(limits=Limits(requests=2, per_seconds=60), clock=FakeClock())
    assert statuses(net, 3, token="tok-ada") == [200, 200, 429]
    assert statuses(net, 2, token="tok-grace") == [200, 200]
    assert statuses(net, 1, token="nobody") + statuses(net, 2, token="") == [200, 200, 429]


def test_limits_can_be_changed_at_runtime() -> None:
    """Assigning `limits` takes effect on the next request, and None lifts them."""
    net = network(clock=FakeClock())
    assert statuses(net, 3) == [200, 200, 200]
    net.limits = Limits(requests=1, per_seconds=60)
    assert statuses(net, 2) == [200, 429]
    net.limits = None
    assert statuses(net, 1) == [200]


def test_google_style_limits_can_answer_403() -> None:
    """Limits with status 403 answer 403, as Google documents for rateLimitExceeded."""
    net = network(limits=Limits(requests=1, per_seconds=60, status=403), clock=FakeClock())
    assert statuses(net, 2) == [200, 403]


def test_graph_limits_hold_the_documented_numbers() -> None:
    """GRAPH_LIMITS is 10,000 requests per 10 minutes and 4 at a time."""
    assert (GRAPH_LIMITS.requests, GRAPH_LIMITS.per_seconds, GRAPH_LIMITS.concurrent) == (
        10_000,
        600.0,
        4,
    )


# Concurrency


def test_concurrency_over_the_limit_answers_429_while_requests_are_in_flight() -> None:
    """With 4 slow requests in flight for Ada, a fifth gets 429; Grace and later requests pass."""
    gate = Gate()
    net = network(gate, limits=Limits(concurrent=4))
    ada = {"Authorization": "Bearer tok-ada"}
    with Server(net) as server, ThreadPoolExecutor(4) as pool:
        slow = [
            pool.submit(httpx.get, server.url + "/slow", headers=ada, timeout=10) for _ in range(4)
        ]
        for _ in range(4):
            assert gate.entered.acquire(timeout=5)
        fifth = httpx.get(server.url + "/x", headers=ada, timeout=5)
        assert fifth.status_code == 429
        assert fifth.headers["Retry-After"] == "1"
        assert "at most 4 requests at a time" in fifth.json()["error"]["message"]
        grace = pool.submit(
            httpx.get, server.url + "/x", headers={"Authorization": "Bearer tok-grace"}, timeout=10
        )
        gate.open.set()
        assert [f.result(timeout=10).status_code for f in slow] == [200] * 4
        assert grace.result(timeout=10).status_code == 200
        assert httpx.get(server.url + "/x", headers=ada, timeout=5).status_code == 200
    assert net.stats.throttled == 1


def test_a_failing_emulator_still_frees_its_concurrency_slot() -> None:
    """An exception from the emulator releases the slot, so the next request is admitted."""

    def broken(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("emulator bug")

    net = network(broken, limits=Limits(concurrent=1))
    with pytest.raises(RuntimeError):
        Client(net).get("/x")
    net.app = Echo()
    assert statuses(net, 1) == [200]


# Faults over real HTTP


def test_reset_fault_is_a_connection_reset_for_the_client() -> None:
    """A reset fault closes the socket with an RST: urllib and httpx both see a reset."""
    net = network(faults=faults(rule("/x", {"fault": "reset"})))
    with Server(net) as server:
        with pytest.raises(ConnectionResetError):
            urllib.request.urlopen(server.url + "/x", timeout=5)
        with pytest.raises(httpx.ReadError) as caught:
            httpx.get(server.url + "/x", timeout=5)
        assert "reset" in str(caught.value).lower()
        assert httpx.get(server.url + "/other", timeout=5).status_code == 200
    assert net.stats.faults == {"reset": 2}


def test_timeout_fault_is_a_read_timeout_for_a_client_with_a_short_timeout() -> None:
    """A held connection makes a client with a 0.2 s read timeout time out."""
    net = network(faults=faults(rule("/x", {"fault": "timeout", "seconds": 1})))
    with Server(net) as server:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(server.url + "/x", timeout=httpx.Timeout(5, read=0.2))
        assert time.monotonic() - started < 0.9
        assert httpx.get(server.url + "/other", timeout=5).status_code == 200


def test_timeout_fault_closes_the_connection_with_no_answer_after_holding_it() -> None:
    """A patient client sees the connection closed without a response once the hold ends."""
    net = network(faults=faults(rule("/x", {"fault": "timeout", "seconds": 0.3})))
    with Server(net) as server:
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(server.url + "/x", timeout=5)
        assert 0.3 <= time.monotonic() - started < 3


def test_garbage_fault_is_a_200_whose_json_does_not_parse() -> None:
    """A garbage fault answers 200 application/json with a body json cannot read."""
    net = network(faults=faults(rule("/x", {"fault": "garbage"})))
    with Server(net) as server:
        answer = httpx.get(server.url + "/x", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    assert net.stats.faults == {"garbage": 1}


def test_http_fault_over_http_carries_status_headers_and_body() -> None:
    """An HTTP answer from the file arrives as written, Retry-After from @dynamic included."""
    answer_spec = {
        "statusCode": 429,
        "headers": [{"name": "Retry-After", "value": "@dynamic"}, {"name": "X-Test", "value": "1"}],
        "body": {"error": {"code": "TooManyRequests"}},
    }
    net = network(faults=faults(rule("/x", answer_spec), retryAfterInSeconds=9))
    with Server(net) as server:
        answer = httpx.get(server.url + "/x", timeout=5)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "9"
    assert answer.headers["X-Test"] == "1"
    assert answer.json() == {"error": {"code": "TooManyRequests"}}


# Faults in-process


def test_socket_faults_in_process_raise_what_a_client_library_would() -> None:
    """Without a socket, reset raises ConnectionResetError and timeout TimeoutError."""
    slept: list[float] = []
    net = network(
        faults=faults(
            rule("/reset", {"fault": "reset"}), rule("/hold", {"fault": "timeout", "seconds": 2})
        ),
        sleep=slept.append,
    )
    with pytest.raises(ConnectionResetError):
        Client(net).get("/reset")
    with pytest.raises(TimeoutError):
        Client(net).get("/hold")
    assert slept == [2.0]


def test_an_answer_without_body_gets_the_emulators_error_body() -> None:
    """A response with only a status is answered in the emulator's own error shape."""
    net = network(faults=faults(rule("/x", {"statusCode": 503})))
    answer = Client(net).get("/x")
    assert answer.status_code == 503
    assert answer.get_json() == {"error": {"status": 503, "message": "Service Unavailable"}}


def test_count_fails_the_first_n_matching_requests_then_passes() -> None:
    """count 3: three 503s, then every request passes."""
    net = network(faults=faults(rule("/x", count=3)))
    assert statuses(net, 5) == [503, 503, 503, 200, 200]


def test_after_lets_the_first_n_matching_requests_pass() -> None:
    """after 1 with count 2: pass, fail, fail, pass."""
    net = network(faults=faults(rule("/x", after=1, count=2)))
    assert statuses(net, 4) == [200, 503, 503, 200]
    assert net.stats.faults == {"http": 2}


def test_rate_with_a_seed_is_repeatable_and_roughly_the_rate() -> None:
    """The same seed fails the same requests; about half fail at rate 50."""
    first = statuses(network(faults=faults(rule(), rate=50, seed=11)), 60)
    again = statuses(network(faults=faults(rule(), rate=50, seed=11)), 60)
    other = statuses(network(faults=faults(rule(), rate=50, seed=12)), 60)
    assert first == again
    assert first != other
    assert 15 <= first.count(503) <= 45


def test_the_choice_among_responses_is_repeatable_with_a_seed() -> None:
    """Several responses: the seeded pick is the same on every run and uses each of them."""
    responses = [{"statusCode": code} for code in (500, 502, 503)]
    first = statuses(network(faults=faults(rule("/*", *responses), seed=5)), 30)
    assert statuses(network(faults=faults(rule("/*", *responses), seed=5)), 30) == first
    assert set(first) == {500, 502, 503}


def test_rules_match_method_and_url_with_the_provider_host_dropped() -> None:
    """A Dev Proxy URL on the provider's host matches our path; the method filters."""
    spec = {"request": {"url": "https://graph.microsoft.com/v1.0/me/events*", "method": "POST"}}
    net = network(faults=faults({**spec, "responses": [{"statusCode": 503}]}))
    client = Client(net)
    assert client.post("/v1.0/me/events?$select=id").status_code == 503
    assert client.get("/v1.0/me/events").status_code == 200
    assert client.post("/v1.0/me/calendar").status_code == 200


def test_first_rule_that_fires_answers_and_an_exhausted_rule_lets_the_next_one_fire() -> None:
    """Rules go in file order: once the first has fired its count, the second answers."""
    net = network(faults=faults(rule("/x", count=1), rule("/*", {"statusCode": 500}, count=1)))
    assert statuses(net, 3) == [503, 500, 200]


def test_body_fragment_matches_and_the_emulator_still_reads_the_body() -> None:
    """bodyFragment picks requests by body; the buffered body reaches the emulator intact."""
    echo = Echo()
    entry = {
        "request": {"url": "/*", "bodyFragment": "recurrence"},
        "responses": [{"statusCode": 409}],
    }
    net = network(echo, faults=faults(entry))
    client = Client(net)
    assert client.post("/x", data=b'{"recurrence": {}}').status_code == 409
    assert client.post("/x", data=b'{"subject": "1:1"}').status_code == 200
    assert echo.bodies == [b'{"subject": "1:1"}']


def test_assigning_faults_at_runtime_starts_their_counts_afresh() -> None:
    """`network.faults = ...` applies at once; the same file assigned again counts from zero."""
    net = network()
    assert statuses(net, 1) == [200]
    file = faults(rule("/x", count=1))
    net.faults = file
    assert statuses(net, 2) == [503, 200]
    net.faults = file
    assert statuses(net, 2) == [503, 200]
    net.faults = None
    assert statuses(net, 1) == [200]


def test_stats_count_requests_throttles_and_faults_by_kind() -> None:
    """Stats add up what happened; reset_stats starts again from zero."""
    net = network(
        limits=Limits(requests=4, per_seconds=60),
        faults=faults(rule("/x", count=1), rule("/g", {"fault": "garbage"})),
        clock=FakeClock(),
    )
    statuses(net, 2, "/x")
    statuses(net, 3, "/g")
    stats = net.stats
    assert (stats.requests, stats.throttled, stats.faults) == (5, 1, {"http": 1, "garbage": 2})
    net.reset_stats()
    assert net.stats.requests == 0


# Fault files


@pytest.mark.parametrize("path", sorted(FAULTS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_example_fault_files_load(path: Path) -> None:
    """Every fault file shipped with the emulators validates and has rules."""
    assert Faults.load(path).rules


def test_a_dev_proxy_errors_file_loads_unchanged() -> None:
    """Dev Proxy's own errors-file shape, $schema included, is accepted."""
    data = {
        "$schema": "https://raw.githubusercontent.com/dotnet/dev-proxy/main/schemas/v2.2.0/"
        "genericrandomerrorplugin.errorsfile.schema.json",
        "errors": [
            {
                "request": {"url": "https://api.example.com/*", "method": "GET"},
                "responses": [
                    {
                        "statusCode": 429,
                        "headers": [{"name": "Retry-After", "value": "@dynamic=17"}],
                        "body": "slow down",
                    }
                ],
            }
        ],
    }
    answer = Client(network(faults=Faults.from_data(data))).get("/anything")
    assert (answer.status_code, answer.headers["Retry-After"], answer.data) == (
        429,
        "17",
        b"slow down",
    )


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            {"errors": [{"request": {"url": "/x"}, "responses": [{"statusCode": "429"}]}]},
            "$.errors[0].responses[0].statusCode: '429' is not of type 'integer'",
        ),
        ({"errors": [{"request": {"url": "/x"}, "responses": []}]}, "$.errors[0].responses"),
        (
            {"errors": [{"request": {"url": "/x"}, "responses": [{"fault": "fire"}]}]},
            "$.errors[0].responses[0].fault",
        ),
        (
            {"errors": [{"request": {"url": "/x"}, "responses": [{"headers": []}]}]},
            "errors[0].responses[0]: give statusCode",
        ),
        (
            {
                "errors": [
                    {"request": {"url": "/x"}, "responses": [{"fault": "reset", "seconds": 1}]}
                ]
            },
            "seconds applies to a timeout fault only",
        ),
        (
            {"errors": [{"request": {"url": "/x"}, "responses": [{"statusCode": 500}], "cout": 1}]},
            "'cout' was unexpected",
        ),
        ({"errors": [], "rate": 150}, "$.rate: 150 is greater than the maximum of 100"),
        (
            {
                "errors": [
                    {
                        "request": {"url": "/x"},
                        "responses": [
                            {
                                "statusCode": 429,
                                "headers": [{"name": "Retry-After", "value": "@dynamic=soon"}],
                            }
                        ],
                    }
                ]
            },
            "@dynamic=N needs whole seconds",
        ),
        ([], "$: [] is not of type 'object'"),
    ],
)
def test_a_bad_fault_file_gives_a_clear_error(data: object, says: str) -> None:
    """Each mistake is reported with the file, the place in it, and what is wrong."""
    with pytest.raises(FaultFileError) as caught:
        Faults.from_data(data, source="bad.json")
    assert str(caught.value).startswith("bad.json: ")
    assert says in str(caught.value)


def test_a_fault_file_that_is_not_json_or_missing_says_so(tmp_path: Path) -> None:
    """A missing file and a file with a JSON syntax error both name the file and the problem."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"errors": [', encoding="utf-8")
    with pytest.raises(FaultFileError, match=r"broken\.json: not JSON: .* line 1"):
        Faults.load(broken)
    with pytest.raises(FaultFileError, match=r"absent\.json: cannot read fault file"):
        Faults.load(tmp_path / "absent.json")


# The real emulators behind the middleware


def test_graph_emulator_behind_network_answers_429_in_graphs_shape() -> None:
    """Over Ada's rate, the Graph emulator's OData error arrives with Retry-After; Grace passes."""
    from emulators.graph import GraphEmulator

    graph = GraphEmulator()
    net = Network(
        graph,
        user_of=graph.user_of,
        error_body=graph.error_body,
        limits=Limits(requests=2, per_seconds=600, concurrent=4),
        clock=FakeClock(),
    )
    ada = {"Authorization": f"Bearer {graph.token('ada@example.com')}"}
    grace = {"Authorization": f"Bearer {graph.token('grace@example.com')}"}
    with Server(net) as server:
        events = server.url + "/v1.0/me/events"
        assert [httpx.get(events, headers=ada, timeout=5).status_code for _ in range(2)] == [
            200
        ] * 2
        throttled = httpx.get(events, headers=ada, timeout=5)
        assert httpx.get(events, headers=grace, timeout=5).status_code == 200
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "600"
    error = throttled.json()["error"]
    assert error["code"] == "TooManyRequests"
    assert "2 requests per 600 seconds" in error["message"]
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}


def test_google_emulator_behind_network_answers_429_in_googles_shape() -> None:
    """Over Ada's rate, the Google emulator's error (rateLimitExceeded) arrives with Retry-After."""
    from emulators.google import GoogleEmulator

    google = GoogleEmulator()
    clock = FakeClock()
    net = Network(
        google,
        user_of=google.user_of,
        error_body=google.error_body,
        limits=Limits(requests=2, per_seconds=60),
        clock=clock,
    )
    ada = {"Authorization": f"Bearer {google.token('ada@example.com')}"}
    with Server(net) as server:
        events = server.url + "/calendar/v3/calendars/primary/events"
        assert [httpx.get(events, headers=ada, timeout=5).status_code for _ in range(2)] == [
            200
        ] * 2
        clock.now += 45
        throttled = httpx.get(events, headers=ada, timeout=5)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "15"
    error = throttled.json()["error"]
    assert error["code"] == 429
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["errors"][0]["reason"] == "rateLimitExceeded"
