"""Faults through the real HTTP stack: the SDK's retry switched off for ours, and each provider
failure becoming the connector error a person can act on."""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors import graph as graph_connector
from connectors._retry import RetryPolicy
from connectors.errors import AuthExpired, Conflict, NotFound, Unavailable
from connectors.graph import GraphAccount, StaticToken
from connectors.models import Attendee, EventPatch, NewEvent
from emulators.graph import GraphEmulator
from emulators.serve import Server

ADA = "ada@example.org"
BOB = "bob@example.org"
START = datetime(2027, 2, 1, 13, tzinfo=UTC)


def meeting(subject: str = "Overleg") -> NewEvent:
    """Ada's one-hour meeting with Bob."""
    return NewEvent(
        subject,
        START,
        START + timedelta(hours=1),
        "Europe/Amsterdam",
        ADA,
        attendees=(Attendee(BOB, "Bob"),),
    )


class Faulty:
    """Wraps the emulator: answers chosen requests with a canned failure a set number of times."""

    def __init__(self, app: GraphEmulator) -> None:
        """Pass everything to `app` until told otherwise."""
        self.app = app
        self.rules: list[tuple[str, str, int, str, dict[str, str], bytes]] = []
        self.seen: list[tuple[str, str]] = []
        self.delays: dict[str, float] = {}

    def slow_down(self, path_end: str, seconds: float) -> None:
        """Pass requests to paths ending in `path_end` on only after `seconds`."""
        self.delays[path_end] = seconds

    def fail(
        self,
        method: str,
        path_end: str,
        times: int,
        status: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        """Answer the next `times` requests `method ...path_end` with `status` and `body`."""
        self.rules.append((method, path_end, times, status, headers or {}, body))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Fail a matching request, else pass it on."""
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.seen.append((method, path))
        for index, (m, end, times, status, headers, body) in enumerate(self.rules):
            if m == method and path.endswith(end) and times > 0:
                self.rules[index] = (m, end, times - 1, status, headers, body)
                size = int(environ.get("CONTENT_LENGTH") or 0)
                environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(size))
                out = [("Content-Length", str(len(body))), *headers.items()]
                start_response(status, out)
                return [body]
        for end, seconds in self.delays.items():
            if path.endswith(end):
                time.sleep(seconds)
        return self.app(environ, start_response)


@pytest.fixture
def faulty() -> Iterator[tuple[GraphEmulator, Faulty, str]]:
    """A fresh emulator behind the fault wrapper, served on 127.0.0.1."""
    emulator = GraphEmulator()
    emulator.add_user(ADA, "Ada")
    emulator.add_user(BOB, "Bob")
    wrapper = Faulty(emulator)
    with Server(wrapper) as server:
        yield emulator, wrapper, f"{server.url}/v1.0"


def account(emulator: GraphEmulator, base_url: str, waits: list[float]) -> GraphAccount:
    """Per-user tokens from the emulator; waits are recorded instead of slept."""
    return GraphAccount(
        lambda email: StaticToken(emulator.token(email)),
        base_url=base_url,
        retry=RetryPolicy(sleep=waits.append),
    )


def test_three_429s_then_success_is_one_event_after_the_asked_waits(
    faulty: tuple[GraphEmulator, Faulty, str],
) -> None:
    """Three 429s with Retry-After then success: 4 POSTs, waits as asked, one event.

    More POSTs would mean the SDK's own RetryHandler came back on top of our policy.
    """
    emulator, wrapper, base_url = faulty
    throttled = b'{"error": {"code": "TooManyRequests", "message": "Please retry later"}}'
    wrapper.fail(
        "POST",
        "/me/events",
        3,
        "429 Too Many Requests",
        headers={"Retry-After": "3", "Content-Type": "application/json"},
        body=throttled,
    )
    waits: list[float] = []
    graph = account(emulator, base_url, waits)
    try:
        created = graph.calendar(ADA).create_event(meeting(), idempotency_key="once")
        listed = graph.calendar(ADA).events(START - timedelta(days=1), START + timedelta(days=1))
    finally:
        graph.close()
    assert wrapper.seen.count(("POST", "/v1.0/me/events")) == 4
    assert waits == [3.0, 3.0, 3.0]
    assert [e.id for e in listed] == [created.id]


def test_revoked_consent_is_auth_expired(faulty: tuple[GraphEmulator, Faulty, str]) -> None:
    """After the user's consent is revoked, a read raises AuthExpired naming the calendar."""
    emulator, _, base_url = faulty
    graph = account(emulator, base_url, [])
    try:
        cal = graph.calendar(ADA)
        created = cal.create_event(meeting(), idempotency_key="k")
        emulator.revoke(ADA)
        with pytest.raises(AuthExpired, match=ADA):
            cal.get_event(created.id)
    finally:
        graph.close()


def test_event_deleted_meanwhile_is_not_found(faulty: tuple[GraphEmulator, Faulty, str]) -> None:
    """An event the organizer deleted is NotFound for the organizer; the attendee's copy is
    cancelled (Exchange keeps it, marked, until the attendee removes it) and not listed."""
    emulator, _, base_url = faulty
    graph = account(emulator, base_url, [])
    try:
        ada, bob = graph.calendar(ADA), graph.calendar(BOB)
        created = ada.create_event(meeting(), idempotency_key="k")
        window = (START - timedelta(days=1), START + timedelta(days=1))
        copy = bob.events(*window)[0]
        ada.delete_event(created.id)
        with pytest.raises(NotFound):
            ada.update_event(created.id, EventPatch(subject="x"))
        with pytest.raises(NotFound):
            ada.get_event(created.id)
        assert bob.get_event(copy.id).cancelled
        assert bob.events(*window) == []
    finally:
        graph.close()


def test_edit_meanwhile_is_conflict(faulty: tuple[GraphEmulator, Faulty, str]) -> None:
    """A write with the etag from before another session's edit raises Conflict (412)."""
    emulator, _, base_url = faulty
    graph = account(emulator, base_url, [])
    other = account(emulator, base_url, [])
    try:
        created = graph.calendar(ADA).create_event(meeting(), idempotency_key="k")
        other.calendar(ADA).update_event(created.id, EventPatch(location="Kantine"))
        with pytest.raises(Conflict, match="changed meanwhile"):
            graph.calendar(ADA).update_event(
                created.id, EventPatch(subject="Nieuw"), if_match=created.etag
            )
        assert graph.calendar(ADA).get_event(created.id).subject == "Overleg"
    finally:
        graph.close()
        other.close()


def test_answer_that_does_not_parse_is_unavailable(
    faulty: tuple[GraphEmulator, Faulty, str],
) -> None:
    """A gateway's HTML page where JSON belongs is Unavailable, retried, then raised."""
    emulator, wrapper, base_url = faulty
    page = b"<html><body>Service maintenance</body></html>"
    json_type = {"Content-Type": "application/json"}
    wrapper.fail("GET", "/me/calendarView", 9, "200 OK", headers=json_type, body=page)
    wrapper.fail("POST", "/$batch", 9, "200 OK", headers=json_type, body=page)
    wrapper.fail("GET", "/me/events/AAMkAnything=", 9, "200 OK", headers=json_type, body=page)
    waits: list[float] = []
    graph = account(emulator, base_url, waits)
    try:
        cal = graph.calendar(ADA)
        with pytest.raises(Unavailable, match="could not be read"):
            cal.events(START - timedelta(days=1), START + timedelta(days=1))
        with pytest.raises(Unavailable):
            cal.get_event("AAMkAnything=")
    finally:
        graph.close()
    assert len(waits) == 8


def test_parallel_calls_from_many_threads_share_one_client(
    faulty: tuple[GraphEmulator, Faulty, str],
) -> None:
    """The app's thread pool calls the ports in parallel: every call gets its own answer."""
    emulator, _, base_url = faulty
    graph = account(emulator, base_url, [])
    try:
        cal = graph.calendar(ADA)
        created = [
            cal.create_event(meeting(f"Gesprek {n}"), idempotency_key=f"k{n}") for n in range(6)
        ]
        with ThreadPoolExecutor(8) as pool:
            subjects = list(pool.map(lambda e: cal.get_event(e.id).subject, created * 4))
    finally:
        graph.close()
    assert subjects == [e.subject for e in created] * 4


def test_app_only_credentials_address_users_by_email(
    faulty: tuple[GraphEmulator, Faulty, str],
) -> None:
    """With app_only the ports go to /users/{email}/..., not /me."""
    emulator, wrapper, base_url = faulty
    graph = GraphAccount(StaticToken(emulator.token(ADA)), base_url=base_url, app_only=True)
    try:
        created = graph.calendar(ADA).create_event(meeting(), idempotency_key="k")
        assert graph.calendar(ADA).get_event(created.id).subject == "Overleg"
        graph.drive(ADA).put("dossier", "a.txt", b"x")
        assert graph.drive(ADA).get("dossier", "a.txt").content == b"x"
    finally:
        graph.close()
    # Downloads follow Graph's 302 to a pre-authenticated URL outside the API.
    paths = [p for _, p in wrapper.seen if p.startswith("/v1.0/") and p != "/v1.0/$batch"]
    assert paths and all(p.startswith(f"/v1.0/users/{ADA}/") for p in paths)


def test_failed_replacement_keeps_the_old_attachment(
    faulty: tuple[GraphEmulator, Faulty, str],
) -> None:
    """Adding the new copy fails for good: the old attachment of that name is still there."""
    emulator, wrapper, base_url = faulty
    graph = account(emulator, base_url, [])
    try:
        cal = graph.calendar(ADA)
        created = cal.create_event(meeting(), idempotency_key="k")
        cal.add_attachment(created.id, "agenda.txt", b"oud", "text/plain")
        wrapper.fail("POST", "/attachments", 9, "500 Internal Server Error")
        with pytest.raises(Unavailable):
            cal.add_attachment(created.id, "agenda.txt", b"nieuw", "text/plain")
        kept = cal.get_event(created.id).attachments
        assert [a.name for a in kept] == ["agenda.txt"]
        assert cal.get_attachment(created.id, kept[0].id) == b"oud"
    finally:
        graph.close()


def test_slow_but_healthy_pages_are_read_whole(
    faulty: tuple[GraphEmulator, Faulty, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page of a three-page listing takes 0.3 s against a 0.5 s request timeout: the
    listing is read once, not cut at 0.5 s and started again."""
    monkeypatch.setattr(graph_connector, "PAGE_SIZE", 10)  # Graph's default page: 3 pages
    emulator, wrapper, base_url = faulty
    graph = GraphAccount(
        lambda email: StaticToken(emulator.token(email)),
        base_url=base_url,
        retry=RetryPolicy(sleep=lambda _: None),
        timeout=0.5,
    )
    try:
        cal = graph.calendar(ADA)
        for n in range(25):
            cal.create_event(meeting(f"Gesprek {n}"), idempotency_key=f"k{n}")
        wrapper.slow_down("/calendarView", 0.3)
        listed = cal.events(START - timedelta(days=1), START + timedelta(days=1))
    finally:
        graph.close()
    assert len(listed) == 25
    assert wrapper.seen.count(("GET", "/v1.0/me/calendarView")) == 3
