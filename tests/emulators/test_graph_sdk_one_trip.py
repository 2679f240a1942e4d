"""Each Graph calendar call in one round trip, counted at the emulator: listings in one page with
their attachment lists expanded, a create without a re-read, an update as one ``$batch`` (the
PATCH and the read depending on it), and what they return equal to what `get_event` reads."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cadence.recurrence import NthWeekday, Rule, Weekday
from connectors._retry import RetryPolicy
from connectors.errors import Conflict
from connectors.graph import GraphAccount, StaticToken
from connectors.models import Attendee, EventPatch, NewEvent
from emulators.graph import GraphEmulator
from emulators.serve import Server

ADA = "ada@example.org"
BOB = "bob@example.org"
AMS = "Europe/Amsterdam"
START = datetime(2027, 2, 1, 8, tzinfo=UTC)
LOST = b'{"error": {"code": "ServiceNotAvailable", "message": "the answer was lost"}}'


class Counter:
    """Wraps the emulator: records each HTTP request; can lose the answer of chosen ones."""

    def __init__(self, app: GraphEmulator) -> None:
        """Count in front of `app`."""
        self.app = app
        self.seen: list[tuple[str, str]] = []
        self.losing: dict[tuple[str, str], int] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Record and pass on; a request to lose is handled, then answered 503."""
        key = (environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        self.seen.append(key)
        if self.losing.get(key, 0) > 0:
            self.losing[key] -= 1
            b"".join(self.app(environ, lambda *_: lambda _data: None))
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [LOST]
        return self.app(environ, start_response)


@pytest.fixture
def counted() -> Iterator[tuple[Counter, GraphAccount]]:
    """An account on a fresh emulator behind a request counter (retries not slept)."""
    emulator = GraphEmulator()
    emulator.add_user(ADA, "Ada")
    emulator.add_user(BOB, "Bob")
    counter = Counter(emulator)
    with Server(counter) as server:
        account = GraphAccount(
            StaticToken(emulator.token(ADA)),
            base_url=f"{server.url}/v1.0",
            retry=RetryPolicy(sleep=lambda _: None),
        )
        try:
            yield counter, account
        finally:
            account.close()


def meeting(subject: str, start: datetime = START, **extra: Any) -> NewEvent:
    """A one-hour meeting of Ada's with Bob and one property of ours."""
    return NewEvent(
        subject,
        start,
        start + timedelta(hours=1),
        AMS,
        ADA,
        attendees=(Attendee(BOB),),
        body_html="<p>Agenda</p>",
        location="Kamer 4",
        properties={"goedgesprek.role": "employee"},
        **extra,
    )


def test_listing_25_events_with_attachments_is_one_request(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """25 events (Graph's default page is 10), some with attachments: one calendarView GET."""
    counter, account = counted
    cal = account.calendar(ADA)
    created = [
        cal.create_event(
            meeting(f"Gesprek {n}", START + timedelta(hours=n)), idempotency_key=f"{n}"
        )
        for n in range(25)
    ]
    for event in created[::5]:
        cal.add_attachment(event.id, "agenda.txt", b"x", "text/plain")
    counter.seen.clear()
    listed = cal.events(START - timedelta(days=1), START + timedelta(days=2))
    assert counter.seen == [("GET", "/v1.0/me/calendarView")]
    assert len(listed) == 25
    with_files = {e.id for e in listed if [a.name for a in e.attachments] == ["agenda.txt"]}
    assert with_files == {e.id for e in created[::5]}
    assert listed == [cal.get_event(e.id) for e in listed]


def test_instances_of_a_25_occurrence_series_is_one_request(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """A monthly series of 25: its occurrences come in one instances GET."""
    counter, account = counted
    cal = account.calendar(ADA)
    rule = Rule.build(
        datetime(2027, 1, 12, 10), AMS, NthWeekday(Weekday.TU, 2), interval=1, count=25
    )
    series = cal.create_event(
        meeting("Reeks", rule.first_n(1)[0], recurrence=rule), idempotency_key="reeks"
    )
    counter.seen.clear()
    found = cal.instances(
        series.id, datetime(2027, 1, 1, tzinfo=UTC), datetime(2029, 3, 1, tzinfo=UTC)
    )
    assert len(found) == 25
    assert counter.seen == [("GET", f"/v1.0/me/events/{series.id}/instances")]


def test_create_is_one_request_and_returns_what_a_read_gives(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """create_event POSTs once and returns the event equal to get_event's, properties included."""
    counter, account = counted
    cal = account.calendar(ADA)
    counter.seen.clear()
    created = cal.create_event(meeting("Overleg", online=True), idempotency_key="k")
    assert counter.seen == [("POST", "/v1.0/me/events")]
    assert created == cal.get_event(created.id)
    assert dict(created.properties) == {"goedgesprek.role": "employee"}


def test_a_repeated_create_of_an_event_with_attachments_since_returns_it_whole(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """The same key again answers the first event; it has an attachment now, so it is read."""
    _, account = counted
    cal = account.calendar(ADA)
    first = cal.create_event(meeting("Overleg"), idempotency_key="k")
    cal.add_attachment(first.id, "agenda.txt", b"x", "text/plain")
    again = cal.create_event(meeting("Overleg"), idempotency_key="k")
    assert again == cal.get_event(first.id)
    assert [a.name for a in again.attachments] == ["agenda.txt"]


def _stranger(counter: Counter, account: GraphAccount) -> GraphAccount:
    """Another client of the same user: it has seen none of the first one's events."""
    return GraphAccount(StaticToken(counter.app.token(ADA)), base_url=account.base_url)


@pytest.mark.parametrize("guarded", [False, True])
def test_an_update_of_an_event_this_session_saw_is_one_patch(
    counted: tuple[Counter, GraphAccount], guarded: bool
) -> None:
    """The PATCH goes under If-Match of the state this session read; its answer plus that
    state's attachments is what a read gives: one request, no read after the write."""
    counter, account = counted
    cal = account.calendar(ADA)
    created = cal.create_event(meeting("Overleg"), idempotency_key="k")
    cal.add_attachment(created.id, "agenda.txt", b"x", "text/plain")
    etag = cal.get_event(created.id).etag
    counter.seen.clear()
    patch = EventPatch(subject="Nieuw", properties={"goedgesprek.role": "manager"})
    updated = cal.update_event(created.id, patch, if_match=etag if guarded else None)
    assert counter.seen == [("PATCH", f"/v1.0/me/events/{created.id}")]
    assert updated == cal.get_event(created.id)
    assert (updated.subject, dict(updated.properties)) == ("Nieuw", {"goedgesprek.role": "manager"})
    assert [a.name for a in updated.attachments] == ["agenda.txt"]
    # Properties the patch leaves alone are kept from the state seen.
    again = cal.update_event(created.id, EventPatch(location="Kamer 2"))
    assert dict(again.properties) == {"goedgesprek.role": "manager"}
    assert again == cal.get_event(created.id)


@pytest.mark.parametrize("guarded", [False, True])
def test_an_update_of_an_event_this_session_never_saw_is_one_batch(
    counted: tuple[Counter, GraphAccount], guarded: bool
) -> None:
    """A PATCH (If-Match or not) and the read of the event as stored: one $batch call."""
    counter, account = counted
    created = account.calendar(ADA).create_event(meeting("Overleg"), idempotency_key="k")
    account.calendar(ADA).add_attachment(created.id, "agenda.txt", b"x", "text/plain")
    etag = account.calendar(ADA).get_event(created.id).etag
    stranger = _stranger(counter, account)
    try:
        counter.seen.clear()
        patch = EventPatch(subject="Nieuw", properties={"goedgesprek.role": "manager"})
        cal = stranger.calendar(ADA)
        updated = cal.update_event(created.id, patch, if_match=etag if guarded else None)
        assert counter.seen == [("POST", "/v1.0/$batch")]
        assert updated == cal.get_event(created.id)
    finally:
        stranger.close()
    assert [a.name for a in updated.attachments] == ["agenda.txt"]


def test_an_unguarded_update_after_someone_elses_edit_still_applies(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """Unguarded, the session's own If-Match meeting another client's edit (412) falls back
    to the $batch without it: the edit is applied as asked, on top of the other one."""
    counter, account = counted
    cal = account.calendar(ADA)
    created = cal.create_event(meeting("Overleg"), idempotency_key="k")
    stranger = _stranger(counter, account)
    try:
        stranger.calendar(ADA).update_event(created.id, EventPatch(location="Kamer 9"))
    finally:
        stranger.close()
    counter.seen.clear()
    updated = cal.update_event(created.id, EventPatch(subject="Nieuw"))
    assert counter.seen == [("PATCH", f"/v1.0/me/events/{created.id}"), ("POST", "/v1.0/$batch")]
    assert (updated.subject, updated.location) == ("Nieuw", "Kamer 9")
    assert updated == cal.get_event(created.id)


def test_a_move_of_an_event_never_seen_reads_the_zone_first_then_is_one_batch(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """A new start keeps the zone and duration: one read, then the $batch; two in all."""
    counter, account = counted
    created = account.calendar(ADA).create_event(meeting("Overleg"), idempotency_key="k")
    stranger = _stranger(counter, account)
    try:
        cal = stranger.calendar(ADA)
        counter.seen.clear()
        moved = cal.update_event(created.id, EventPatch(start=START + timedelta(days=1)))
        assert counter.seen == [
            ("GET", f"/v1.0/me/events/{created.id}"),
            ("POST", "/v1.0/$batch"),
        ]
        assert moved.end - moved.start == timedelta(hours=1) and moved.tz == AMS
        assert moved == cal.get_event(created.id)
    finally:
        stranger.close()


def test_a_stale_if_match_is_conflict_and_changes_nothing(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """The PATCH's 412 is the error (its dependent read answers 424, not raised)."""
    _, account = counted
    cal = account.calendar(ADA)
    created = cal.create_event(meeting("Overleg"), idempotency_key="k")
    cal.update_event(created.id, EventPatch(location="Kamer 1"))
    with pytest.raises(Conflict):
        cal.update_event(created.id, EventPatch(subject="Nieuw"), if_match=created.etag)
    assert cal.get_event(created.id).subject == "Overleg"


@pytest.mark.parametrize("seen", [True, False])
def test_a_guarded_update_whose_answer_was_lost_is_ours(
    counted: tuple[Counter, GraphAccount], seen: bool
) -> None:
    """The PATCH (alone, or in the $batch) was done but its answer lost: the repeat's 412 is
    our own edit, and the event as it now is comes back."""
    counter, account = counted
    created = account.calendar(ADA).create_event(meeting("Overleg"), idempotency_key="k")
    stranger = None if seen else _stranger(counter, account)
    cal = (stranger or account).calendar(ADA)
    sent = ("PATCH", f"/v1.0/me/events/{created.id}") if seen else ("POST", "/v1.0/$batch")
    counter.losing[sent] = 1
    try:
        updated = cal.update_event(created.id, EventPatch(subject="Nieuw"), if_match=created.etag)
        assert updated.subject == "Nieuw" and updated == cal.get_event(created.id)
    finally:
        if stranger is not None:
            stranger.close()
    assert counter.seen.count(sent) == 2


def test_an_unguarded_update_whose_answer_was_lost_is_applied_once(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """The session's own If-Match meets its own lost write (412): the $batch sends the same
    body again, which changes nothing more."""
    counter, account = counted
    cal = account.calendar(ADA)
    created = cal.create_event(meeting("Overleg"), idempotency_key="k")
    counter.losing[("PATCH", f"/v1.0/me/events/{created.id}")] = 1
    updated = cal.update_event(created.id, EventPatch(subject="Nieuw"))
    assert updated.subject == "Nieuw" and updated == cal.get_event(created.id)
    assert counter.seen.count(("POST", "/v1.0/$batch")) == 1


# The emulator's $expand of attachments, as Graph documents it


def test_emulator_expands_attachments_with_a_nested_select(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """``$expand=attachments($select=name)`` gives each attachment's type, id and name only;
    without ``$select`` the whole fileAttachment, bytes included."""
    counter, account = counted
    cal = account.calendar(ADA)
    created = cal.create_event(meeting("Overleg"), idempotency_key="k")
    cal.add_attachment(created.id, "agenda.txt", b"x", "text/plain")
    base = account.base_url
    headers = {"Authorization": f"Bearer {counter.app.token(ADA)}"}
    url = f"{base}/me/events/{created.id}"
    chosen = httpx.get(url, params={"$expand": "attachments($select=name)"}, headers=headers)
    whole = httpx.get(url, params={"$expand": "attachments"}, headers=headers)
    assert chosen.status_code == 200 and whole.status_code == 200
    [item] = chosen.json()["attachments"]
    assert set(item) == {"@odata.type", "id", "name"}
    assert whole.json()["attachments"][0]["contentBytes"] == "eA=="
    assert "attachments" not in httpx.get(url, headers=headers).json()


@pytest.mark.parametrize(
    "expand",
    ["attendees", "attachments($filter=name eq 'x')", "attachments,nothing"],
)
def test_emulator_refuses_an_expand_it_does_not_know(
    counted: tuple[Counter, GraphAccount], expand: str
) -> None:
    """An unknown navigation property or nested option is 400 BadRequest, as Graph answers."""
    counter, account = counted
    created = account.calendar(ADA).create_event(meeting("Overleg"), idempotency_key="k")
    answer = httpx.get(
        f"{account.base_url}/me/events/{created.id}",
        params={"$expand": expand},
        headers={"Authorization": f"Bearer {counter.app.token(ADA)}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"


def test_a_guarded_move_of_an_event_just_read_is_one_patch(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """If-Match naming the state this session read: its zone and duration are the current
    ones whenever the PATCH applies, so the move is the one PATCH."""
    counter, account = counted
    cal = account.calendar(ADA)
    created = cal.create_event(meeting("Overleg"), idempotency_key="k")
    read = cal.get_event(created.id)
    counter.seen.clear()
    later = START + timedelta(days=1)
    moved = cal.update_event(created.id, EventPatch(start=later), if_match=read.etag)
    assert counter.seen == [("PATCH", f"/v1.0/me/events/{created.id}")]
    assert (moved.start, moved.end - moved.start, moved.tz) == (later, timedelta(hours=1), AMS)
    assert moved == cal.get_event(created.id)


def test_a_guarded_move_after_someone_elses_edit_is_conflict_and_not_moved(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """The remembered state is stale once another client edits: the PATCH gets 412, nothing
    moves (the stale zone and duration are never written)."""
    counter, account = counted
    cal = account.calendar(ADA)
    created = cal.create_event(meeting("Overleg"), idempotency_key="k")
    read = cal.get_event(created.id)
    other = GraphAccount(StaticToken(counter.app.token(ADA)), base_url=account.base_url)
    try:
        other.calendar(ADA).update_event(
            created.id, EventPatch(end=START + timedelta(hours=2)), if_match=read.etag
        )
    finally:
        other.close()
    with pytest.raises(Conflict):
        cal.update_event(
            created.id, EventPatch(start=START + timedelta(days=1)), if_match=read.etag
        )
    now = cal.get_event(created.id)
    assert (now.start, now.end) == (START, START + timedelta(hours=2))


def test_requests_go_through_the_sdks_middleware(counted: tuple[Counter, GraphAccount]) -> None:
    """OneDrive's ``/content`` answers 302: the SDK's redirect handler follows it (msgraph-core's
    transport skips the middleware for a request without kiota's request options)."""
    counter, account = counted
    drive = account.drive(ADA)
    drive.put("dossier", "a.txt", b"een")
    drive.put("dossier", "a.txt", b"twee")
    counter.seen.clear()
    assert drive.get_version("dossier", "a.txt", 1).content == b"een"
    assert any(path.startswith("/_download/") for _, path in counter.seen)


def test_emulator_lists_attachments_with_only_the_selected_properties(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """``GET .../attachments?$select=id,name`` leaves out the bytes and the rest, as Graph does."""
    counter, account = counted
    cal = account.calendar(ADA)
    created = cal.create_event(meeting("Overleg"), idempotency_key="k")
    cal.add_attachment(created.id, "agenda.txt", b"x", "text/plain")
    answer = httpx.get(
        f"{account.base_url}/me/events/{created.id}/attachments",
        params={"$select": "id,name"},
        headers={"Authorization": f"Bearer {counter.app.token(ADA)}"},
    )
    assert [set(a) for a in answer.json()["value"]] == [{"@odata.type", "id", "name"}]


# Drive writes: the upload and its versions in one $batch


def test_writing_a_small_file_is_one_batch_with_its_versions(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """The PUT goes base64 in a $batch with the read of the versions that name its etag."""
    counter, account = counted
    drive = account.drive(ADA)
    blob = b"\x00sealed\xff\r\n" + "één".encode()
    counter.seen.clear()
    first = drive.put("gesprekken 2027", "verslag één.bin", blob)
    second = drive.put("gesprekken 2027", "verslag één.bin", blob + blob)
    assert counter.seen == [("POST", "/v1.0/$batch")] * 2
    assert (first.version, second.version) == (1, 2)
    assert first.etag != second.etag
    assert drive.stat("gesprekken 2027", "verslag één.bin") == second
    assert drive.get("gesprekken 2027", "verslag één.bin").content == blob + blob


def test_a_file_over_the_batch_size_is_a_put_of_its_own(
    counted: tuple[Counter, GraphAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A larger file is PUT directly (a batch is capped), then its versions are read."""
    monkeypatch.setattr("connectors.graph.BATCHED_UPLOAD_BYTES", 10)
    counter, account = counted
    drive = account.drive(ADA)
    counter.seen.clear()
    info = drive.put("dossier", "groot.bin", b"x" * 11)
    assert [method for method, _ in counter.seen] == ["PUT", "GET"]
    assert info == drive.stat("dossier", "groot.bin")


def test_a_batched_write_that_must_not_overwrite_is_conflict(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """Fail-on-exists inside the batch: the PUT's 409 is raised, its versions read is 424."""
    _, account = counted
    drive = account.drive(ADA)
    drive.put("dossier", "a.txt", b"een")
    with pytest.raises(Conflict):
        drive.put("dossier", "a.txt", b"twee", if_none_match=True)
    assert drive.get("dossier", "a.txt").content == b"een"


def test_emulator_takes_a_base64_body_in_a_batch_and_answers_in_base64(
    counted: tuple[Counter, GraphAccount],
) -> None:
    """As Graph documents: a body that is not a JSON object is base64 (URL-safe too), and
    the answer to such a request comes back base64-encoded even when it is JSON."""
    counter, account = counted
    base = account.base_url
    headers = {"Authorization": f"Bearer {counter.app.token(ADA)}"}
    blob = bytes(range(250, 256)) * 3
    item = {
        "id": "1",
        "method": "PUT",
        "url": "/me/drive/special/approot:/dossier/b%C3%A9.bin:/content",
        "body": base64.urlsafe_b64encode(blob).decode().rstrip("="),
        "headers": {"Content-Type": "application/octet-stream"},
    }
    answer = httpx.post(f"{base}/$batch", json={"requests": [item]}, headers=headers)
    [put] = answer.json()["responses"]
    assert put["status"] in (200, 201)
    assert json.loads(base64.b64decode(put["body"]))["name"] == "bé.bin"
    assert account.drive(ADA).get("dossier", "bé.bin").content == blob
