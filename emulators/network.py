"""Network realism around any emulator: latency, per-user limits and injected faults.

`Network` is WSGI middleware. Each request first waits the configured latency, then passes the
user's limits, then the fault file's rules, and only then reaches the emulator. A throttled request
never reaches the fault rules or the emulator.

The limits follow what the providers publish:

- Microsoft Graph, Outlook service limits
  (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits): 10,000 API requests
  in a 10 minute period per app and mailbox, and 4 concurrent requests. The page now scopes the 4
  to the app ID; earlier versions, and the ``MailboxConcurrency`` error tenants see, scope it to the
  mailbox, which is how it is enforced here (per user). Over a limit, Graph answers 429 with
  Retry-After. `GRAPH_LIMITS` holds these numbers.
- Google Calendar API usage limits (https://developers.google.com/calendar/api/guides/quota):
  600 requests per minute per user per project, in a sliding window; over it the API answers 403
  or 429 with reason ``rateLimitExceeded``. `GOOGLE_LIMITS` holds these numbers. Google publishes
  no concurrency limit.

Socket faults need the real connection: werkzeug's server puts it in ``environ["werkzeug.socket"]``.
In-process (no socket) a reset raises `ConnectionResetError` and a timeout raises `TimeoutError`
after its hold, which is what a client library would raise.
"""

from __future__ import annotations

import io
import math
import os
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from emulators._wsgi import StartResponse, WSGIApp
from emulators.faults import Answer, Faults, Rule, SocketFault

JSON = "application/json; charset=utf-8"
GARBAGE = b'{"value": [{"id": "AAMkAGI2TG93AAA=", "subject": "Goed gespr'
"""A 200 body cut off mid-string: valid UTF-8, invalid JSON, as a proxy cutting a stream shows."""

_ANONYMOUS = ""

BATCH_ITEM = "emulators.batch_item"
"""WSGI environ key an emulator sets on a request it runs for one item of a batch it received:
the item passes limits and faults on its own (Graph throttles batch items one by one) but waits
no latency, since the batch it came in already waited its one round trip."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-user limits: at most `requests` in any `per_seconds` window, `concurrent` at a time.

    Either limit may be None (not enforced). `status` is the answer over a limit: 429 for both
    providers by default; Google also documents 403 for ``rateLimitExceeded``.
    """

    requests: int | None = None
    per_seconds: float = 60.0
    concurrent: int | None = None
    status: int = 429

    def __post_init__(self) -> None:
        if self.requests is not None and self.requests < 1:
            raise ValueError("Limits.requests must be at least 1 (or None for no rate limit)")
        if self.per_seconds <= 0:
            raise ValueError("Limits.per_seconds must be positive")
        if self.concurrent is not None and self.concurrent < 1:
            raise ValueError("Limits.concurrent must be at least 1 (or None for no limit)")
        if self.status not in (403, 429):
            raise ValueError("Limits.status must be 429 or 403")


GRAPH_LIMITS = Limits(requests=10_000, per_seconds=600.0, concurrent=4)
"""Outlook service limits of Microsoft Graph, per app and mailbox (see the module docstring)."""

GOOGLE_LIMITS = Limits(requests=600, per_seconds=60.0)
"""Calendar API quota per minute per user per project (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class Stats:
    """What the middleware did since it was made (or since `Network.reset_stats`)."""

    requests: int = 0
    throttled: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    """Injected faults by kind: ``http`` (an answer from the file), ``timeout``, ``reset``,
    ``garbage``."""


@dataclass(slots=True)
class _RuleState:
    seen: int = 0
    fired: int = 0


@dataclass(slots=True)
class _FaultState:
    faults: Faults
    rng: random.Random
    rules: list[_RuleState]


class Network:
    """WSGI middleware giving an emulator latency, per-user limits and faults from a file.

    `user_of(environ)` names the user a request is for (None: anonymous, one shared bucket);
    `error_body(status, message)` is the emulator's provider-shaped error body. `latency_ms` (plus
    up to `jitter_ms`) is waited before each HTTP request is handled, once for a whole batch (its
    items, marked `BATCH_ITEM`, are limited and faulted one by one but not delayed again).
    `limits`, `faults`, `latency_ms` and `jitter_ms` may be changed at any time, also while
    serving; assigning `faults` starts its counts afresh. Thread-safe: the served emulator
    handles each request on its own thread.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        user_of: Callable[[dict[str, Any]], str | None],
        error_body: Callable[[int, str], bytes],
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        limits: Limits | None = None,
        faults: Faults | None = None,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.app = app
        self.user_of = user_of
        self.error_body = error_body
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._jitter = random.Random(seed)
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}
        self._requests = 0
        self._throttled = 0
        self._fault_counts: dict[str, int] = {}
        self._faults: _FaultState | None = None
        self.faults = faults

    @property
    def faults(self) -> Faults | None:
        """The fault file in force (None: no faults)."""
        state = self._faults
        return state.faults if state is not None else None

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        state = None
        if faults is not None:
            state = _FaultState(
                faults, random.Random(faults.seed), [_RuleState() for _ in faults.rules]
            )
        with self._lock:
            self._faults = state

    @property
    def stats(self) -> Stats:
        """A snapshot of the counts so far."""
        with self._lock:
            return Stats(self._requests, self._throttled, dict(self._fault_counts))

    def reset_stats(self) -> None:
        """Start counting from zero (limits and fault counts are left as they are)."""
        with self._lock:
            self._requests = self._throttled = 0
            self._fault_counts = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Delay, limit, maybe fail, else hand the request to the emulator."""
        if not environ.get(BATCH_ITEM):
            self._delay()
        user = self.user_of(environ) or _ANONYMOUS
        limits = self.limits
        with self._lock:
            self._requests += 1
            refusal = self._admit(user, limits)
            if refusal is not None:
                self._throttled += 1
        if refusal is not None:
            return self._refuse(start_response, limits, *refusal)
        holds_slot = limits is not None and limits.concurrent is not None
        try:
            injected = self._inject(environ, start_response)
            body = self.app(environ, start_response) if injected is None else injected
        except BaseException:
            if holds_slot:
                self._release(user)
            raise
        if not holds_slot:
            return body
        return _Releasing(body, lambda: self._release(user))

    def _delay(self) -> None:
        seconds = self.latency_ms / 1000
        if self.jitter_ms > 0:
            with self._lock:
                seconds += self._jitter.uniform(0, self.jitter_ms) / 1000
        if seconds > 0:
            self._sleep(seconds)

    def _admit(self, user: str, limits: Limits | None) -> tuple[int, str] | None:
        """Under the lock: take a rate slot and a concurrency slot, or say why not (wait, why)."""
        if limits is None:
            return None
        now = self._clock()
        window = self._windows.setdefault(user, deque())
        if limits.requests is not None:
            while window and window[0] <= now - limits.per_seconds:
                window.popleft()
            if len(window) >= limits.requests:
                wait = max(1, math.ceil(window[0] + limits.per_seconds - now))
                return wait, (
                    f"Rate limit exceeded: at most {limits.requests} requests per "
                    f"{limits.per_seconds:g} seconds for this user. Retry after {wait} seconds."
                )
        if limits.concurrent is not None:
            if self._in_flight.get(user, 0) >= limits.concurrent:
                return 1, (
                    f"Concurrency limit exceeded: at most {limits.concurrent} requests at a time "
                    "for this user."
                )
            self._in_flight[user] = self._in_flight.get(user, 0) + 1
        if limits.requests is not None:
            window.append(now)
        return None

    def _release(self, user: str) -> None:
        with self._lock:
            left = self._in_flight.get(user, 0) - 1
            if left > 0:
                self._in_flight[user] = left
            else:
                self._in_flight.pop(user, None)

    def _refuse(
        self, start_response: StartResponse, limits: Limits | None, wait: int, message: str
    ) -> list[bytes]:
        status = limits.status if limits is not None else 429
        body = self.error_body(status, message)
        reason = "Too Many Requests" if status == 429 else "Forbidden"
        start_response(
            f"{status} {reason}",
            [
                ("Content-Type", JSON),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(wait)),
            ],
        )
        return [body]

    def _inject(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes] | None:
        """Answer from the fault file when one of its rules fires; None lets the request pass."""
        state = self._faults
        if state is None:
            return None
        method = environ.get("REQUEST_METHOD", "GET")
        target = _target(environ)
        body = _buffer_body(environ) if state.faults.reads_body else b""
        with self._lock:
            response = _fire(state, method, target, body)
            if response is not None:
                kind = response.kind if isinstance(response, SocketFault) else "http"
                self._fault_counts[kind] = self._fault_counts.get(kind, 0) + 1
        if response is None:
            return None
        if isinstance(response, Answer):
            return self._answer(start_response, response)
        return self._socket_fault(environ, start_response, response)

    def _answer(self, start_response: StartResponse, answer: Answer) -> list[bytes]:
        headers = list(answer.headers)
        names = {name.lower() for name, _ in headers}
        body = answer.body
        if body is None and answer.status >= 400:
            body = self.error_body(answer.status, answer.reason)
        body = body or b""
        if "content-type" not in names and body:
            headers.append(("Content-Type", JSON))
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{answer.status} {answer.reason}", headers)
        return [body]

    def _socket_fault(
        self, environ: dict[str, Any], start_response: StartResponse, fault: SocketFault
    ) -> list[bytes]:
        if fault.kind == "garbage":
            body = fault.body if fault.body is not None else GARBAGE
            start_response("200 OK", [("Content-Type", JSON), ("Content-Length", str(len(body)))])
            return [body]
        sock = environ.get("werkzeug.socket")
        if fault.kind == "timeout":
            self._sleep(fault.seconds)
            if isinstance(sock, socket.socket):
                _drop(sock, reset=False)
                raise ConnectionAbortedError("fault: held the connection, then closed it")
            raise TimeoutError(f"fault: no answer within {fault.seconds:g} seconds")
        if isinstance(sock, socket.socket):
            _drop(sock, reset=True)
        raise ConnectionResetError("fault: connection reset")


def _fire(state: _FaultState, method: str, target: str, body: bytes) -> Answer | SocketFault | None:
    """Under the lock: the first rule that matches and fires gives the response."""
    for rule, counts in zip(state.faults.rules, state.rules, strict=True):
        if not rule.matches(method, target) or not _body_matches(rule, body):
            continue
        counts.seen += 1
        if counts.seen <= rule.after:
            continue
        if rule.count is not None and counts.fired >= rule.count:
            continue
        if rule.rate < 100 and state.rng.random() * 100 >= rule.rate:
            continue
        counts.fired += 1
        return _choose(state.rng, rule)
    return None


def _choose(rng: random.Random, rule: Rule) -> Answer | SocketFault:
    if len(rule.responses) == 1:
        return rule.responses[0]
    return rng.choice(rule.responses)


def _body_matches(rule: Rule, body: bytes) -> bool:
    if rule.body_fragment is None:
        return True
    return rule.body_fragment in body.decode("utf-8", "replace")


def _target(environ: dict[str, Any]) -> str:
    """The request's path and query as the client sent them."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/$@:,;=+")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def _buffer_body(environ: dict[str, Any]) -> bytes:
    """Read the request body (by Content-Length) and put it back for the emulator."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _drop(sock: socket.socket, *, reset: bool) -> None:
    """Close the TCP connection now, with an RST when `reset`, else a plain FIN.

    The server still holds this socket object and will read from, shut down and close it after
    the request. Closing its descriptor would let the number be reused by another connection, so
    the descriptor is instead pointed (dup2, atomic) at one end of a fresh socket pair whose other
    end is closed: the TCP socket's last descriptor goes away, which sends the RST (SO_LINGER 0)
    or FIN, and the server reads end-of-file and finishes quietly.
    """
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        spare, other = socket.socketpair()
    except OSError:
        return
    with spare, other:
        other.close()
        os.dup2(spare.fileno(), sock.fileno())


class _Releasing:
    """The emulator's response body, releasing the user's concurrency slot once it is done."""

    def __init__(self, body: Iterable[bytes], release: Callable[[], None]) -> None:
        self._body = body
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        """Close the emulator's body (WSGI), then free the slot exactly once."""
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
