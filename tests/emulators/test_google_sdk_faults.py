"""Faults through the real HTTP stack: each Google failure becomes one connector error.

The served emulator sits behind `Script`, a tiny WSGI wrapper that answers the next matching
requests its own way (a 429 with Retry-After, a body that is not JSON, a slow answer) and passes
everything else through. A mail, which no read can find again with ``gmail.send`` alone, is never
repeated once Gmail may have it: `SendUncertain`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.oauth2.credentials import Credentials

from addin.backends import GOOGLE_DELEGATED_SCOPES
from connectors._retry import NO_RETRY, RetryPolicy
from connectors.errors import AuthExpired, Conflict, NotFound, SendUncertain, Unavailable
from connectors.google import GoogleAccount
from connectors.models import Attendee, EventPatch, Mail, NewEvent
from emulators._wsgi import StartResponse, WSGIApp
from emulators.google import GoogleEmulator
from emulators.serve import Server

ADA = "ada@example.org"
BOB = "bob@example.org"
AMS = "Europe/Amsterdam"
EVENTS = "/calendar/v3/calendars/primary/events"
Step = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Script:
    """Answers the next requests matching (method, path prefix) with scripted steps."""

    def __init__(self, app: WSGIApp) -> None:
        """Wrap `app`; with no steps queued every request passes through."""
        self.app = app
        self.steps: list[tuple[str, str, Step]] = []
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []

    def queue(self, method: str, prefix: str, *steps: Step) -> None:
        """Answer the next matching requests with `steps`, one each, in order."""
        with self.lock:
            self.steps.extend((method, prefix, step) for step in steps)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Run the first queued step that matches this request, else the wrapped app."""
        chosen: Step = self.app
        with self.lock:
            self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
            for index, (method, prefix, step) in enumerate(self.steps):
                if environ["REQUEST_METHOD"] == method and environ["PATH_INFO"].startswith(prefix):
                    chosen = step
                    del self.steps[index]
                    break
        return chosen(environ, start_response)


def forwarded(app: WSGIApp, environ: dict[str, Any]) -> None:
    """Let `app` handle the request fully, then drop its answer (as a lost response)."""
    body = app(environ, lambda *args: None)
    b"".join(body)


def throttle(app: GoogleEmulator, seconds: int, *, forward: bool = False) -> Step:
    """A 429 with Retry-After; with `forward` the request is applied first, its answer lost."""

    def step(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if forward:
            forwarded(app, environ)
        body = app.error_body(429, "Rate Limit Exceeded")
        start_response(
            "429 Too Many Requests",
            [("Content-Type", "application/json"), ("Retry-After", str(seconds))],
        )
        return [body]

    return step


def lost(app: GoogleEmulator) -> Step:
    """Apply the request, then answer 503 as if the real answer never came back."""

    def step(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        forwarded(app, environ)
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [app.error_body(503, "The service is currently unavailable.")]

    return step


def garbled(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """A 200 whose body is not JSON, as a broken proxy might send."""
    start_response("200 OK", [("Content-Type", "application/json; charset=UTF-8")])
    return [b"<html><body>Bad gateway, sort of</body></html>"]


def slow(app: WSGIApp, seconds: float) -> Step:
    """Answer as the app does, but only after `seconds`."""

    def step(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        time.sleep(seconds)
        return app(environ, start_response)

    return step


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GoogleEmulator, Script, Server]]:
    """The emulator behind a script, served on 127.0.0.1."""
    emulator = GoogleEmulator()
    script = Script(emulator)
    with Server(script) as server:
        yield emulator, script, server


@pytest.fixture
def world(served: tuple[GoogleEmulator, Script, Server]) -> tuple[GoogleEmulator, Script, str]:
    """An emptied emulator, no steps queued, and its root URL."""
    emulator, script, server = served
    emulator.reset()
    script.steps.clear()
    script.seen.clear()
    return emulator, script, server.url + "/"


def account(
    emulator: GoogleEmulator, root: str, retry: RetryPolicy = NO_RETRY, timeout: float = 10.0
) -> GoogleAccount:
    """An account with a fresh token per user, as a separate device would have."""
    return GoogleAccount(
        lambda email: Credentials(token=emulator.token(email)),
        root_url=root,
        retry=retry,
        timeout=timeout,
    )


def meeting(subject: str = "Overleg") -> NewEvent:
    """A one-hour meeting Ada organizes with Bob."""
    start = datetime(2027, 2, 1, 14, tzinfo=ZoneInfo(AMS))
    return NewEvent(
        subject=subject,
        start=start,
        end=start + timedelta(hours=1),
        tz=AMS,
        organizer=ADA,
        attendees=(Attendee(BOB, "Bob"),),
    )


def test_revoked_consent_is_auth_expired(world: tuple[GoogleEmulator, Script, str]) -> None:
    """After the user's tokens are revoked, a call raises AuthExpired."""
    emulator, _, root = world
    calendar = account(emulator, root).calendar(ADA)
    created = calendar.create_event(meeting(), idempotency_key="k")
    emulator.revoke(ADA)
    with pytest.raises(AuthExpired, match="sign"):
        calendar.get_event(created.id)


def test_event_deleted_meanwhile_is_not_found(world: tuple[GoogleEmulator, Script, str]) -> None:
    """An event the user deleted elsewhere reads, updates and deletes as NotFound."""
    emulator, _, root = world
    here = account(emulator, root).calendar(ADA)
    elsewhere = account(emulator, root).calendar(ADA)
    created = here.create_event(meeting(), idempotency_key="k")
    elsewhere.delete_event(created.id)
    with pytest.raises(NotFound):
        here.get_event(created.id)
    with pytest.raises(NotFound):
        here.update_event(created.id, EventPatch(subject="Nieuw"))


def test_edit_elsewhere_makes_a_stale_etag_conflict(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """A write with the etag read before another edit gets 412, raised as Conflict."""
    emulator, _, root = world
    here = account(emulator, root).calendar(ADA)
    elsewhere = account(emulator, root).calendar(ADA)
    read = here.create_event(meeting(), idempotency_key="k")
    elsewhere.update_event(read.id, EventPatch(location="Kantine"))
    with pytest.raises(Conflict):
        here.update_event(read.id, EventPatch(location="Kamer 5"), if_match=read.etag)
    assert here.get_event(read.id).location == "Kantine"


def test_unparseable_body_is_unavailable_and_retried(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """A 200 that is not JSON raises Unavailable; under the policy the read is tried again."""
    emulator, script, root = world
    calendar = account(emulator, root).calendar(ADA)
    created = calendar.create_event(meeting(), idempotency_key="k")
    script.queue("GET", EVENTS, garbled)
    with pytest.raises(Unavailable, match="did not parse"):
        calendar.get_event(created.id)
    waits: list[float] = []
    patient = account(emulator, root, RetryPolicy(sleep=waits.append)).calendar(ADA)
    script.queue("GET", EVENTS, garbled)
    assert patient.get_event(created.id) == calendar.get_event(created.id)
    assert len(waits) == 1


def test_three_429s_then_success_make_one_event_and_honour_retry_after(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """A create whose answers are lost to 429s is retried after each Retry-After: one event."""
    emulator, script, root = world
    waits: list[float] = []
    calendar = account(emulator, root, RetryPolicy(sleep=waits.append)).calendar(ADA)
    script.queue(
        "POST",
        EVENTS,
        throttle(emulator, 1, forward=True),
        throttle(emulator, 2),
        throttle(emulator, 3),
    )
    created = calendar.create_event(meeting(), idempotency_key="k")
    assert waits == [1.0, 2.0, 3.0]
    window = (datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 2, 2, tzinfo=UTC))
    assert [e.id for e in calendar.events(*window)] == [created.id]
    assert created.subject == "Overleg"


def test_timeout_is_unavailable(world: tuple[GoogleEmulator, Script, str]) -> None:
    """An answer slower than the client's timeout raises Unavailable."""
    emulator, script, root = world
    calendar = account(emulator, root, timeout=0.3).calendar(ADA)
    created = calendar.create_event(meeting(), idempotency_key="k")
    script.queue("GET", EVENTS, slow(emulator, 1.0))
    with pytest.raises(Unavailable, match="did not answer"):
        calendar.get_event(created.id)


def test_ports_are_safe_to_share_across_threads(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """One calendar port used from eight threads at once creates every event."""
    emulator, _, root = world
    calendar = account(emulator, root).calendar(ADA)
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(
            pool.map(
                lambda n: calendar.create_event(meeting(f"Overleg {n}"), idempotency_key=f"k{n}"),
                range(16),
            )
        )
    window = (datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 2, 2, tzinfo=UTC))
    assert sorted(e.id for e in calendar.events(*window)) == sorted(e.id for e in created)
    assert len({e.id for e in created}) == 16


def test_if_match_patch_whose_answer_is_lost_is_ours(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """A guarded patch applied but unanswered meets its own 412 on the repeat: it succeeded."""
    emulator, script, root = world
    calendar = account(emulator, root, RetryPolicy(sleep=lambda _: None)).calendar(ADA)
    read = calendar.create_event(meeting(), idempotency_key="k")
    script.queue("PATCH", EVENTS, lost(emulator))
    changed = calendar.update_event(read.id, EventPatch(location="Kamer 5"), if_match=read.etag)
    assert changed.location == "Kamer 5"
    assert changed.etag == calendar.get_event(read.id).etag != read.etag


def test_if_match_patch_lost_then_overwritten_is_a_conflict(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """When another edit lands after the lost answer, the repeat's 412 stays a Conflict."""
    emulator, script, root = world
    calendar = account(emulator, root, RetryPolicy(sleep=lambda _: None)).calendar(ADA)
    elsewhere = account(emulator, root).calendar(ADA)
    read = calendar.create_event(meeting(), idempotency_key="k")

    def lost_then_edited(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        forwarded(emulator, environ)
        elsewhere.update_event(read.id, EventPatch(location="Kantine"))
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [emulator.error_body(503, "The service is currently unavailable.")]

    script.queue("PATCH", EVENTS, lost_then_edited)
    with pytest.raises(Conflict):
        calendar.update_event(read.id, EventPatch(location="Kamer 5"), if_match=read.etag)
    assert calendar.get_event(read.id).location == "Kantine"


def test_delete_whose_answer_is_lost_is_done(world: tuple[GoogleEmulator, Script, str]) -> None:
    """A delete applied but unanswered finds nothing on the repeat, and that is success."""
    emulator, script, root = world
    calendar = account(emulator, root, RetryPolicy(sleep=lambda _: None)).calendar(ADA)
    read = calendar.create_event(meeting(), idempotency_key="k")
    script.queue("DELETE", EVENTS, lost(emulator))
    calendar.delete_event(read.id, if_match=read.etag)
    with pytest.raises(NotFound):
        calendar.get_event(read.id)


@pytest.mark.parametrize("guarded", [True, False])
def test_drive_update_whose_answer_is_lost_is_one_version(
    world: tuple[GoogleEmulator, Script, str], guarded: bool
) -> None:
    """A new revision uploaded but unanswered is found as ours by its MD5: one version more."""
    emulator, script, root = world
    drive = account(emulator, root, RetryPolicy(sleep=lambda _: None)).drive(ADA)
    first = drive.put("dossier", "occ.json", b"eerste")
    script.queue("PATCH", "/upload/drive/v3/files/", lost(emulator))
    second = drive.put("dossier", "occ.json", b"tweede", if_match=first.etag if guarded else None)
    assert second == drive.stat("dossier", "occ.json")
    assert [v.size for v in drive.versions("dossier", "occ.json")] == [6, 6]
    assert drive.get("dossier", "occ.json").content == b"tweede"


def test_drive_update_lost_then_overwritten_is_a_conflict(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """A guarded write whose lost revision was overwritten by another writer raises Conflict."""
    emulator, script, root = world
    drive = account(emulator, root, RetryPolicy(sleep=lambda _: None)).drive(ADA)
    elsewhere = account(emulator, root).drive(ADA)
    first = drive.put("dossier", "occ.json", b"eerste")

    def lost_then_written(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        forwarded(emulator, environ)
        elsewhere.put("dossier", "occ.json", b"van elders")
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [emulator.error_body(503, "The service is currently unavailable.")]

    script.queue("PATCH", "/upload/drive/v3/files/", lost_then_written)
    with pytest.raises(Conflict):
        drive.put("dossier", "occ.json", b"tweede", if_match=first.etag)
    assert drive.get("dossier", "occ.json").content == b"van elders"


def test_drive_create_whose_answer_is_lost_is_one_file(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """A first write made but unanswered is ours on the repeat, even under if_none_match."""
    emulator, script, root = world
    drive = account(emulator, root, RetryPolicy(sleep=lambda _: None)).drive(ADA)
    drive.put("dossier", "andere.json", b"-")  # the folders exist: the next upload is the file
    script.queue("POST", "/upload/drive/v3/files", lost(emulator))
    made = drive.put("dossier", "occ.json", b"eerste", if_none_match=True)
    assert made == drive.stat("dossier", "occ.json")
    assert [f.name for f in drive.list("dossier")] == ["andere.json", "occ.json"]
    assert len(drive.versions("dossier", "occ.json")) == 1


def unavailable(app: GoogleEmulator) -> Step:
    """A 503 for the whole request, which never reaches the app."""

    def step(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [app.error_body(503, "The service is currently unavailable.")]

    return step


def test_batch_keeps_earlier_chunks_when_a_later_one_fails_for_good(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """Answers of a first batch of 50 survive the second batch failing on every attempt."""
    emulator, script, root = world
    calendar = account(emulator, root, RetryPolicy(attempts=2, sleep=lambda _: None)).calendar(ADA)
    made = [
        calendar.create_event(meeting(f"Overleg {n}"), idempotency_key=f"k{n}") for n in range(51)
    ]
    script.queue("POST", "/batch/calendar/v3", emulator, *[unavailable(emulator)] * 3)
    read = calendar.get_events([e.id for e in made])
    assert [read[e.id] for e in made[:50]] == made[:50]
    assert isinstance(read[made[50].id], Unavailable)
    assert len(script.steps) == 1  # the second attempt sent only the one key still unanswered


def late(app: GoogleEmulator, seconds: float) -> Step:
    """Apply the request, then answer nothing for `seconds` (the client has given up)."""

    def step(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        forwarded(app, environ)
        time.sleep(seconds)
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [app.error_body(503, "The service is currently unavailable.")]

    return step


def dropped(app: GoogleEmulator) -> Step:
    """Apply the request, then close the connection without an answer."""

    def step(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        forwarded(app, environ)
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("the answer is dropped")

    return step


def user_rate_limited(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Gmail's 403 ``userRateLimitExceeded``: a request to slow down, not run."""
    body = {
        "error": {
            "code": 403,
            "message": "User-rate limit exceeded.",
            "errors": [
                {
                    "message": "User-rate limit exceeded.",
                    "domain": "usageLimits",
                    "reason": "userRateLimitExceeded",
                }
            ],
        }
    }
    start_response("403 Forbidden", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


SEND = "/gmail/v1/users/me/messages/send"


def test_mail_is_sent_at_most_once_whatever_the_answer(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """An attack on users.messages.send's answer, with a token holding the product's scopes
    (``gmail.send``, no ``gmail.readonly``). Checked:

    - answered: one mail, one POST, nothing read; the SentMail has Gmail's id and the mail;
    - the work done, the answer lost as a 503: `SendUncertain`, one mail, one POST (no retry);
    - a 503 before the work: `SendUncertain` too (Google does not say it did nothing), no mail;
    - the work done, no answer in the client's time: `SendUncertain`, one mail, one POST;
    - the work done, the connection closed without an answer: `SendUncertain`, one mail, one
      POST (httplib2 would have sent it again on a new connection);
    - a 429 with Retry-After, a 403 ``userRateLimitExceeded``: retried, one mail.
    """
    emulator, script, root = world
    waits: list[float] = []
    account = GoogleAccount(
        lambda email: Credentials(token=emulator.token(email, GOOGLE_DELEGATED_SCOPES)),
        root_url=root,
        retry=RetryPolicy(sleep=waits.append),
        timeout=0.5,
    )

    def mail(key: str) -> Mail:
        return Mail(sender=ADA, to=(BOB,), subject="Agenda", text="Zie bijlage", key=key)

    def posts() -> int:
        return script.seen.count(("POST", SEND))

    sent = account.mailer(ADA).send(mail("k0"))
    assert (len(emulator.sent()), posts()) == (1, 1)
    assert sent.mail == mail("k0") and sent.id == emulator.sent()[0]["id"]
    assert not [path for method, path in script.seen if method == "GET"]  # nothing read

    cases = [
        ("lost", lost(emulator), 1),
        ("refused", unavailable(emulator), 0),
        ("late", late(emulator, 1.0), 1),
        ("dropped", dropped(emulator), 1),
    ]
    for name, step, delivered in cases:
        before, tried = len(emulator.sent()), posts()
        script.queue("POST", SEND, step)
        with pytest.raises(SendUncertain, match="not sent again"):
            account.mailer(ADA).send(mail(f"k-{name}"))
        assert len(emulator.sent()) - before == delivered, name
        assert posts() - tried == 1, name

    for name, step in (("429", throttle(emulator, 2)), ("403", user_rate_limited)):
        before, tried = len(emulator.sent()), posts()
        waits.clear()
        script.queue("POST", SEND, step)
        account.mailer(ADA).send(mail(f"k-{name}"))
        assert (len(emulator.sent()) - before, posts() - tried) == (1, 2), name
        assert len(waits) == 1 and (name != "429" or waits == [2.0]), (name, waits)
    assert script.steps == []
    account.close()


def test_mail_that_cannot_connect_is_tried_again_and_not_uncertain() -> None:
    """No connection: Gmail never had the request, so the policy tries again and the error is
    `Unavailable` (a later sweep sends it), not `SendUncertain`."""
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    waits: list[float] = []
    account = GoogleAccount(
        Credentials(token="ya29.t"),
        root_url=f"http://127.0.0.1:{port}/",
        retry=RetryPolicy(attempts=3, sleep=waits.append),
    )
    with pytest.raises(Unavailable) as caught:
        account.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="Agenda", text="x"))
    account.close()
    assert not isinstance(caught.value, SendUncertain) and len(waits) == 2


def test_a_send_only_token_cannot_search_the_mailbox(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """The emulator holds the token to its scopes, as Google does: the ``rfc822msgid:`` search
    the mailer once made answers 403 ``insufficientPermissions`` (AuthExpired: consent)."""
    emulator, _, root = world
    token = emulator.token(ADA, GOOGLE_DELEGATED_SCOPES)
    account = GoogleAccount(Credentials(token=token), root_url=root, retry=NO_RETRY)
    account.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="Agenda", text="x", key="k"))
    client = account._client(ADA)
    search = client.resource("gmail", "users", "messages").list(userId="me", q="rfc822msgid:x")
    with pytest.raises(AuthExpired, match="insufficientPermissions"):
        client.once(search, "searching")
    account.close()


def test_versions_without_end_raise_instead_of_stopping_short(
    world: tuple[GoogleEmulator, Script, str],
) -> None:
    """A revisions listing whose pages never end raises after the bound, like every listing."""
    emulator, script, root = world
    drive = account(emulator, root).drive(ADA)
    made = drive.put("dossier", "occ.json", b"eerste")

    def endless(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json; charset=UTF-8")])
        return [b'{"revisions": [], "nextPageToken": "more"}']

    script.queue("GET", f"/drive/v3/files/{made.id}/revisions", *[endless] * 201)
    with pytest.raises(Unavailable, match="more than 200 pages"):
        drive.versions("dossier", "occ.json")
