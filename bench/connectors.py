"""Connector speed: each SDK against a raw client, and the panel's context per provider.

Writes `$BENCH_OUT/connectors.json` when run alone (`bench.run` uses its parts):
- `overhead`: per call, p50/p95 of `GraphAccount` / `GoogleAccount` (`get_event`, `events`,
  drive `get`) and of a raw client (httpx for Graph, httplib2 for Google) sending the very
  requests the connector sent (captured on the wire: same URLs, token and bodies), one after
  another, on the same served emulator with no added latency. Samples alternate between the two,
  so a busy machine slows both alike. `overhead_ms` is connector minus raw; `requests_per_call`
  counts HTTP requests at the emulator (`Network.stats`; a ``$batch`` is one). The emulator
  is served with keep-alive, as Graph and Google answer, so both clients reuse their
  connections (`connections_per_call` counts the connections one call used).
- `panel_context`: ``GET /api/context`` through the app with each provider behind `Network`
  with `LATENCY_MS` per request, for the employee's and the manager's copy of an occurrence
  with a previous record, first open (the event's mapping not yet remembered) and remembered:
  p50, p50 / latency, provider requests per call, and one call's request timeline with its
  critical path (the longest chain of requests each waiting for the one before).
"""

from __future__ import annotations

import functools
import io
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httplib2
import httpx
from flask import Flask
from google.oauth2.credentials import Credentials

from addin.app import close_app, create_app
from addin.registry import DB_NAME
from bench._common import hold_first_conversation, write_result
from cadence.recurrence import NthWeekday, Rule
from connectors.google import GoogleAccount
from connectors.graph import GraphAccount, StaticToken
from connectors.models import Attendee, NewEvent
from connectors.testing import ManualClock
from emulators.google import GoogleEmulator
from emulators.graph import GraphEmulator
from emulators.network import Network
from emulators.serve import Server

ADA, GRACE = "ada@example.org", "grace@example.org"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TZ = "Europe/Amsterdam"
PROVIDERS = ("graph", "google")
CALLS = 300
"""Samples per operation and client in `overhead`."""
LATENCY_MS = 50
CONTEXT_CALLS = 12
"""Samples per case in `panel_context` (each is a few round trips of `LATENCY_MS`)."""
KEPT_HEADERS = ("authorization", "content-type", "accept", "prefer", "if-match", "if-none-match")
"""Request headers a raw replay sends as the connector did (the rest is the client's own)."""


# -- the wire: a served emulator whose requests can be counted, captured and timed ---------------


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as it reached the emulator, and when (perf_counter seconds)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    start: float
    end: float
    connection: int
    """The client's port: requests with one port came over one TCP connection."""


class Capture:
    """WSGI middleware that keeps every request passing while `on` is set."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.on = False
        self.seen: list[Request] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Pass the request on; when capturing, note it with its start and end."""
        if not self.on:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = [(k[5:].replace("_", "-").lower(), str(v)) for k, v in environ.items()]
        headers = [(k, v) for k, v in headers if k in KEPT_HEADERS]
        if environ.get("CONTENT_TYPE"):
            headers.append(("content-type", environ["CONTENT_TYPE"]))
        raw = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        start = time.perf_counter()
        served = self.app(environ, start_response)
        try:
            answer = list(served)
        finally:
            close = getattr(served, "close", None)
            if close is not None:
                close()
        with self._lock:
            self.seen.append(
                Request(
                    environ["REQUEST_METHOD"],
                    raw,
                    tuple(headers),
                    body,
                    start,
                    time.perf_counter(),
                    int(environ.get("REMOTE_PORT") or 0),
                )
            )
        return answer

    @contextmanager
    def capturing(self) -> Iterator[list[Request]]:
        """Capture the requests of the block into the list it yields (sorted by start)."""
        found: list[Request] = []
        with self._lock:
            self.seen = []
        self.on = True
        try:
            yield found
        finally:
            self.on = False
            with self._lock:
                found.extend(sorted(self.seen, key=lambda r: r.start))
                self.seen = []


@dataclass
class Wire:
    """An emulator behind `Network` (counting) and `Capture`, served on 127.0.0.1."""

    name: str
    emulator: Any
    network: Network
    capture: Capture
    server: Server
    tokens: dict[str, str] = field(default_factory=dict)
    accounts: list[Any] = field(default_factory=list)
    """Connector accounts made by `account`, closed with the wire (its server keeps
    connections alive)."""

    @property
    def base_url(self) -> str:
        """What a connector is pointed at (Graph's version segment, Google's root)."""
        return f"{self.server.url}/v1.0" if self.name == "graph" else f"{self.server.url}/"

    def requests(self) -> int:
        """HTTP requests counted by the network middleware so far."""
        return self.network.stats.requests


DIRECTORY_ADMIN = "admin@example.org"
"""The Workspace administrator the Admin SDK Directory is read as."""


@contextmanager
def wire(name: str) -> Iterator[Wire]:
    """Serve a fresh emulator of `name` with Ada and Grace as users."""
    emulator: Any = GraphEmulator() if name == "graph" else GoogleEmulator()
    for email, person in ((ADA, "Ada"), (GRACE, "Grace")):
        emulator.add_user(email, person, TZ)
    # The provider's directory names Grace as Ada's manager (Google: read as an administrator).
    emulator.set_manager(ADA, GRACE)
    readers: tuple[str, ...] = (ADA, GRACE)
    if name == "google":
        emulator.add_admin(DIRECTORY_ADMIN)
        readers = (ADA, GRACE, DIRECTORY_ADMIN)
    # A Graph $batch is one round trip: its items reach the emulator directly (batch_target is
    # left as it is), so the latency and the request count apply to the batch as a whole.
    network = Network(emulator, user_of=emulator.user_of, error_body=emulator.error_body)
    capture = Capture(network)
    with Server(capture, keep_alive=True) as server:
        tokens = {email: emulator.token(email) for email in readers}
        w = Wire(name, emulator, network, capture, server, tokens)
        try:
            yield w
        finally:
            for made in w.accounts:
                made.close()


def meeting(subject: str, start: datetime) -> NewEvent:
    """An hour of Ada's with Grace, with a short agenda in its body."""
    return NewEvent(
        subject=subject,
        start=start,
        end=start + timedelta(hours=1),
        tz=TZ,
        organizer=ADA,
        attendees=(Attendee(GRACE, "Grace"),),
        body_html="<p>Agenda</p>",
    )


def account(w: Wire) -> Any:
    """The connector's account on `w`, one token per user, as the app builds it."""
    made: Any
    if w.name == "graph":
        made = GraphAccount(lambda email: StaticToken(w.tokens[email]), base_url=w.base_url)
    else:
        made = GoogleAccount(lambda email: Credentials(token=w.tokens[email]), root_url=w.base_url)
    w.accounts.append(made)
    return made


# -- statistics ------------------------------------------------------------------------------------


def summary(samples: list[float]) -> dict[str, float]:
    """p50, p95 and max of samples in milliseconds (the `bench._common.timed` shape)."""
    ordered = sorted(samples)
    return {
        "runs": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "max_ms": round(ordered[-1], 3),
    }


def paired(
    a: Callable[[], object], b: Callable[[], object], repeat: int
) -> tuple[list[float], ...]:
    """Time `a` and `b` alternately `repeat` times each; two lists of milliseconds."""
    first: list[float] = []
    second: list[float] = []
    for _ in range(repeat):
        for fn, samples in ((a, first), (b, second)):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
    return first, second


def critical_path(requests: list[Request]) -> int:
    """The longest chain of requests each starting after the previous one ended."""
    depth: list[int] = []
    for i, request in enumerate(requests):
        before = [depth[j] for j in range(i) if requests[j].end <= request.start]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


def shown(request: Request) -> str:
    """``METHOD path``, cut short; a ``$batch`` lists the requests inside it."""
    path = request.target.split("?", 1)[0]
    path = path if len(path) <= 90 else path[:60] + "..." + path[-27:]
    if path.endswith("/$batch") and request.body:
        inner = json.loads(request.body).get("requests") or []
        path += " [" + ", ".join(str(r.get("url", "")).split("?", 1)[0] for r in inner) + "]"
    elif "alt=media" in request.target:
        path += "?alt=media"
    return f"{request.method} {path}"


def timeline(requests: list[Request]) -> list[str]:
    """Each request as ``+start..end ms METHOD path``, relative to the first one's start."""
    if not requests:
        return []
    zero = requests[0].start
    return [
        f"+{(r.start - zero) * 1000:.0f}..{(r.end - zero) * 1000:.0f} ms {shown(r)}"
        for r in requests
    ]


# -- 1. overhead of each connector against a raw client ----------------------------------------


def fixture(ports: Any) -> dict[str, Callable[[], object]]:
    """Ada's calendar with a single event (one attachment) and a quarterly series, a 4 KB file;
    the three operations to time on them."""
    calendar, drive = ports.calendar(ADA), ports.drive(ADA)
    start = NOW + timedelta(days=1, hours=1)
    single = calendar.create_event(
        meeting("Overleg", start),
        idempotency_key="bench-single",
    )
    calendar.add_attachment(single.id, "agenda.html", b"<p>" + b"x" * 2000 + b"</p>", "text/html")
    rule = Rule.build(datetime(2026, 12, 1, 10, 0), TZ, NthWeekday(1, 1))
    first = datetime(2026, 12, 1, 10, 0).replace(tzinfo=UTC) - timedelta(hours=1)
    calendar.create_event(
        NewEvent(
            subject="Het goede gesprek",
            start=first,
            end=first + timedelta(hours=1),
            tz=TZ,
            organizer=ADA,
            attendees=(Attendee(GRACE, "Grace"),),
            recurrence=rule,
        ),
        idempotency_key="bench-series",
    )
    drive.put("bench", "doc.json", os.urandom(4096), content_type="application/json")
    window = (NOW, NOW + timedelta(days=365))
    return {
        "get_event": lambda: calendar.get_event(single.id),
        "events": lambda: calendar.events(*window),
        "drive_get": lambda: drive.get("bench", "doc.json"),
    }


@contextmanager
def raw_client(w: Wire) -> Iterator[Callable[[list[Request]], None]]:
    """A raw client replaying captured requests in order, reusing its connection when it can."""
    if w.name == "graph":
        with httpx.Client(base_url=w.server.url, follow_redirects=False) as client:

            def send_httpx(requests: list[Request]) -> None:
                for r in requests:
                    answer = client.request(
                        r.method, r.target, headers=list(r.headers), content=r.body or None
                    )
                    answer.read()
                    if answer.status_code >= 400:
                        raise RuntimeError(f"raw {r.method} {r.target}: {answer.status_code}")

            yield send_httpx
        return
    http = httplib2.Http()

    def send_httplib2(requests: list[Request]) -> None:
        for r in requests:
            response, _content = http.request(
                w.server.url + r.target, r.method, body=r.body or None, headers=dict(r.headers)
            )
            if response.status >= 400:
                raise RuntimeError(f"raw {r.method} {r.target}: {response.status}")

    try:
        yield send_httplib2
    finally:
        http.close()


def overhead(name: str, repeat: int = CALLS) -> dict[str, Any]:
    """Connector against raw client per operation, on a fresh served emulator of `name`."""
    with wire(name) as w, raw_client(w) as replay:
        ports = account(w)
        operations = fixture(ports)
        out: dict[str, Any] = {}
        for op, call in operations.items():
            for _ in range(min(3, repeat)):  # first calls build clients, parse documents
                call()
            with w.capture.capturing() as sent:
                call()
            requests = list(sent)
            replay(requests)
            before = w.requests()
            connector, raw = paired(call, functools.partial(replay, requests), repeat)
            # The raw side sends exactly the captured requests; the rest is the connector's.
            per_call = (w.requests() - before - repeat * len(requests)) / repeat
            c, r = summary(connector), summary(raw)
            out[op] = {
                "connector": c,
                "raw": r,
                "overhead_ms": {
                    "p50": round(c["p50_ms"] - r["p50_ms"], 3),
                    "p95": round(c["p95_ms"] - r["p95_ms"], 3),
                },
                "requests_per_call": round(per_call, 2),
                "connections_per_call": len({q.connection for q in requests}),
                "requests": [shown(q) for q in requests],
            }
        ports.close()
    return out


# -- 2. the side panel's context over each provider ----------------------------------------------


@dataclass
class Panel:
    """The app on one provider with a planned series and two documents in the employee's drive."""

    app: Flask
    clock: ManualClock
    settings: dict[str, Any]
    headers: dict[str, dict[str, str]]
    copies: dict[str, str]
    """Each partner's event id of the occurrence after the recorded one."""
    hints: dict[str, str] = field(default_factory=dict)
    """What each partner's host sends beside the id on a first open (a query string tail)."""

    def context(self, who: str, *, first_open: bool = False) -> None:
        """One ``GET /api/context`` for `who`'s copy; raises unless it answers 200.

        A first open sends what the host gives: Outlook's pane the series master's id and the
        occurrence's start beside the item id; Google's card only the event id (an occurrence's
        id embeds the master's id and its start).
        """
        url = f"/api/context?event={quote(self.copies[who], safe='')}&lang=nl"
        if first_open:
            url += self.hints.get(who, "")
        answer = self.app.test_client().get(url, headers=self.headers[who])
        if answer.status_code != 200:
            raise RuntimeError(f"context for {who}: {answer.get_data(as_text=True)[:500]}")


def panel(w: Wire, data_dir: Path) -> Panel:
    """Plan a series through the API, agree an agenda, record it; find the next occurrence."""
    tokens = data_dir / "tokens.json"
    tokens.write_text(json.dumps(w.tokens))
    settings: dict[str, Any] = {"TESTING": True, "DATA_DIR": str(data_dir), "BACKEND": w.name}
    if w.name == "graph":
        settings |= {"GRAPH_URL": w.base_url, "GRAPH_TOKENS": str(tokens)}
    else:
        settings |= {
            "GOOGLE_ROOT_URL": w.base_url,
            "GOOGLE_TOKENS": str(tokens),
            "GOOGLE_DIRECTORY_ADMIN": DIRECTORY_ADMIN,
        }
    clock = ManualClock(NOW)
    app = create_app(settings, clock=clock)
    client = app.test_client()
    identity = app.extensions["goedgesprek.identity"]
    headers = {
        ADA: {"Authorization": f"Bearer {identity.issue(ADA, 'Ada')}"},
        GRACE: {"Authorization": f"Bearer {identity.issue(GRACE, 'Grace')}"},
    }
    prefs = {"weekdays": ["TU", "WE", "TH"], "earliest": "09:30", "latest": "12:00"}
    body = {"partner": GRACE, "role": "employee", "preferences": prefs, "request_id": "bench-01"}
    planned = client.post("/api/series", json=body, headers=headers[ADA])
    if planned.status_code != 201:
        raise RuntimeError(f"planning failed: {planned.get_data(as_text=True)[:500]}")
    ctx = planned.get_json()["context"]

    def ops(who: str, ctx: dict[str, Any], *items: dict[str, Any]) -> Any:
        url = f"/api/series/{ctx['series']['id']}/occurrences/{ctx['occurrence']['key']}"
        extra = {"If-Match": ctx["etag"]} if ctx["etag"] else {}
        payload = {"event": ctx["event"]["id"], "ops": list(items)}
        answer = client.post(url, json=payload, headers={**headers[who], **extra})
        if answer.status_code != 200:
            raise RuntimeError(f"ops failed: {answer.get_data(as_text=True)[:500]}")
        return answer.get_json()

    ctx = hold_first_conversation(ops, ctx, clock, ADA, GRACE)
    calendar = app.extensions["goedgesprek.ports"]["calendar"]
    master = calendar(ADA).get_event(ctx["event"]["id"]).series_id
    after = datetime.fromisoformat(ctx["occurrence"]["end"])
    following = calendar(ADA).instances(master, after, after + timedelta(days=200))[0]
    near = (following.start - timedelta(minutes=1), following.end + timedelta(minutes=1))
    theirs = [e for e in calendar(GRACE).events(*near) if e.start == following.start]
    if len(theirs) != 1:
        raise RuntimeError(f"expected one copy in Grace's calendar, found {len(theirs)}")
    copies = {ADA: following.id, GRACE: theirs[0].id}
    hints: dict[str, str] = {}
    if w.name == "graph":
        for who, copy in ((ADA, following), (GRACE, theirs[0])):
            query = {"series": copy.series_id or "", "start": copy.start.isoformat()}
            hints[who] = "&" + urlencode(query)
    return Panel(app, clock, settings, headers, copies, hints)


class Aliases:
    """The registry's remembered event mappings, saved once and put back before a first open."""

    def __init__(self, data_dir: Path) -> None:
        self._db = data_dir / DB_NAME
        with closing(sqlite3.connect(self._db)) as db:
            rows = db.execute("SELECT user_email, event_id, series_id, occurrence FROM event_alias")
            self._saved = rows.fetchall()

    def restore(self) -> None:
        """Forget every mapping made since the snapshot."""
        with closing(sqlite3.connect(self._db)) as db, db:
            db.execute("DELETE FROM event_alias")
            db.executemany(
                "INSERT INTO event_alias (user_email, event_id, series_id, occurrence) "
                "VALUES (?, ?, ?, ?)",
                self._saved,
            )


def context_case(
    w: Wire, p: Panel, who: str, *, first_open: Aliases | None, repeat: int, latency_ms: float
) -> dict[str, Any]:
    """p50 of `repeat` context calls (each a first open when `first_open` is given)."""
    samples: list[float] = []
    cpu: list[float] = []
    requests = 0
    shown: list[Request] = []
    for i in range(repeat):
        if first_open is not None:
            first_open.restore()
        before = w.requests()
        with w.capture.capturing() as sent:
            serving = w.server.cpu_seconds
            c0, t0 = time.process_time(), time.perf_counter()
            p.context(who, first_open=first_open is not None)
            samples.append((time.perf_counter() - t0) * 1000)
            spent = time.process_time() - c0 - (w.server.cpu_seconds - serving)
            cpu.append(spent * 1000)
        requests += w.requests() - before
        if i == 0:
            shown = sent
    stats = summary(samples)
    return {
        **stats,
        "app_cpu_p50_ms": round(statistics.median(cpu), 2),
        "p50_over_latency": round(stats["p50_ms"] / latency_ms, 2),
        "requests_per_call": round(requests / repeat, 2),
        "critical_path": critical_path(shown),
        "timeline": timeline(shown),
    }


def panel_context(
    name: str, *, repeat: int = CONTEXT_CALLS, latency_ms: float = LATENCY_MS
) -> dict[str, Any]:
    """Context over `name` with `latency_ms` per request: each partner, first open and
    remembered. (Start-up is measured in fresh processes by `bench.run.cold_start`.)"""
    with tempfile.TemporaryDirectory() as tmp, wire(name) as w:
        p = panel(w, Path(tmp))
        first_open = Aliases(Path(tmp))
        w.network.latency_ms = latency_ms
        out: dict[str, Any] = {"latency_per_request_ms": latency_ms}
        for who, role in ((ADA, "employee"), (GRACE, "manager")):
            out[role] = {
                case: context_case(
                    w, p, who, first_open=aliases, repeat=repeat, latency_ms=latency_ms
                )
                for case, aliases in (("first_open", first_open), ("remembered", None))
            }
        w.network.latency_ms = 0
        close_app(p.app)
    return out


def main() -> None:
    """Run both measurements and write `$BENCH_OUT/connectors.json`."""
    started = time.perf_counter()
    results: dict[str, Any] = {
        "overhead": {name: overhead(name) for name in PROVIDERS},
        "panel_context": {name: panel_context(name) for name in PROVIDERS},
    }
    results["run_s"] = round(time.perf_counter() - started, 1)
    write_result("connectors", results)


if __name__ == "__main__":
    main()
