"""Writes whose answer is lost after Graph did the work: the repeat finds its own success
instead of doing the work twice or reporting it as someone else's change. A mail, which no read
can find again with Mail.Send alone, is never repeated once Graph may have it: `SendUncertain`.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client

from addin.signin import GRAPH_PERMISSIONS
from connectors._retry import RetryPolicy
from connectors.errors import Conflict, SendUncertain, Unavailable
from connectors.graph import GraphAccount, StaticToken
from connectors.models import EventPatch, Mail, NewEvent
from emulators.graph import GraphEmulator
from emulators.serve import Server

START = datetime(2027, 2, 1, 13, tzinfo=UTC)
ADA = "ada@example.org"
BOB = "bob@example.org"
LOST = b'{"error": {"code": "ServiceNotAvailable", "message": "the answer was lost"}}'


THROTTLED = b'{"error": {"code": "TooManyRequests", "message": "slow down"}}'


class LoseAnswers:
    """Wraps the emulator: chosen requests are handled, then their answer is lost (a 503), or
    answered otherwise (`answer`)."""

    def __init__(self, app: GraphEmulator) -> None:
        """Pass everything to `app` until told otherwise."""
        self.app = app
        self.rules: list[tuple[str, str, int, Callable[[], object] | None, str]] = []
        self.seen: list[tuple[str, str]] = []

    def lose(
        self,
        method: str,
        path_end: str,
        times: int = 1,
        then: Callable[[], object] | None = None,
    ) -> None:
        """Let the next `times` requests `method ...path_end` do their work, then lose it;
        `then` runs before the loss is answered (another writer's turn)."""
        self.rules.append((method, path_end, times, then, "lost"))

    def answer(self, method: str, path_end: str, how: str, times: int = 1) -> None:
        """The next `times` matching requests: ``refused`` (a 503, the work not done),
        ``throttled`` (a 429 with Retry-After 2, not done), ``slow`` (done, no answer for 1 s),
        ``dropped`` (done, the connection closed without an answer)."""
        self.rules.append((method, path_end, times, None, how))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Handle a matching request as its rule says; pass the rest on."""
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.seen.append((method, path))
        for index, (m, end, times, then, how) in enumerate(self.rules):
            if m == method and path.endswith(end) and times > 0:
                self.rules[index] = (m, end, times - 1, then, how)
                if how == "refused":
                    return _answer(start_response, "503 Service Unavailable", LOST)
                if how == "throttled":
                    return _answer(start_response, "429 Too Many Requests", THROTTLED, "2")
                size = int(environ.get("CONTENT_LENGTH") or 0)
                environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(size))
                b"".join(self.app(environ, lambda *_: lambda _data: None))
                if how == "slow":
                    time.sleep(1.0)  # the client has given up by now
                if how == "dropped":
                    sock = environ["werkzeug.socket"]
                    sock.shutdown(socket.SHUT_RDWR)
                    raise ConnectionAbortedError("the answer is dropped")
                if then is not None:
                    then()
                return _answer(start_response, "503 Service Unavailable", LOST)
        return self.app(environ, start_response)


def _answer(
    start_response: Any, status: str, body: bytes, retry_after: str | None = None
) -> list[bytes]:
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if retry_after is not None:
        headers.append(("Retry-After", retry_after))
    start_response(status, headers)
    return [body]


WAITS: list[float] = []
"""The retry policy's waits in the test running (emptied by `serve`)."""


def serve(
    emulator: GraphEmulator, timeout: float = 30.0
) -> Iterator[tuple[GraphEmulator, LoseAnswers, GraphAccount]]:
    """`emulator` behind `LoseAnswers` on 127.0.0.1, with an account whose waits are noted in
    `WAITS`, not slept; its tokens hold the product's permissions (mail: Mail.Send only)."""
    emulator.add_user(ADA, "Ada")
    emulator.add_user(BOB, "Bob")
    wrapper = LoseAnswers(emulator)
    emulator.batch_target = wrapper  # a write inside a $batch can lose its answer too
    WAITS.clear()
    with Server(wrapper) as server:
        account = GraphAccount(
            lambda email: StaticToken(emulator.token(email, GRAPH_PERMISSIONS)),
            base_url=f"{server.url}/v1.0",
            retry=RetryPolicy(sleep=WAITS.append),
            timeout=timeout,
        )
        try:
            yield emulator, wrapper, account
        finally:
            account.close()


@pytest.fixture
def lossy() -> Iterator[tuple[GraphEmulator, LoseAnswers, GraphAccount]]:
    """A fresh emulator that files sent mail at once."""
    yield from serve(GraphEmulator())


@pytest.fixture
def impatient() -> Iterator[tuple[GraphEmulator, LoseAnswers, GraphAccount]]:
    """A fresh emulator, and an account waiting 0.5 s for an answer."""
    yield from serve(GraphEmulator(), timeout=0.5)


def _posts(wrapper: LoseAnswers) -> int:
    return sum(
        1 for method, path in wrapper.seen if (method, path) == ("POST", "/v1.0/me/sendMail")
    )


def _mail(key: str = "k") -> Mail:
    return Mail(sender=ADA, to=(BOB,), subject="Agenda", text="x", key=key)


def test_mail_is_sent_at_most_once_whatever_the_answer(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
    impatient: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """An attack on sendMail's answer, with a token holding Mail.Send and no Mail.Read. Checked:

    - answered 202: one mail, one POST, no read of the mailbox; the SentMail is the mail sent,
      its id the key;
    - the work done, the answer lost as a 503: `SendUncertain`, one mail, one POST (no retry);
    - a 503 before the work: `SendUncertain` too (Graph does not say it did nothing), no mail;
    - the work done, no answer in the client's time: `SendUncertain`, one mail, one POST;
    - the work done, the connection dropped without an answer: `SendUncertain`, one mail;
    - a 429 with Retry-After: retried after the wait Graph asked for, one mail;
    - no mail without a key either: the made-up key gives no second chance to a repeat.
    """
    emulator, wrapper, account = lossy
    sent = account.mailer(ADA).send(_mail("k0"))
    assert (len(emulator.sent()), _posts(wrapper)) == (1, 1)
    assert sent.mail == _mail("k0") and sent.id == "k0"
    assert not [p for m, p in wrapper.seen if m == "GET"]  # nothing read

    cases = [
        (lossy, "lost", 1),
        (lossy, "refused", 0),
        (impatient, "slow", 1),
        (lossy, "dropped", 1),
    ]
    for (emulator, wrapper, account), how, delivered in cases:
        before, posts = len(emulator.sent()), _posts(wrapper)
        if how == "lost":
            wrapper.lose("POST", "/sendMail")
        else:
            wrapper.answer("POST", "/sendMail", how)
        with pytest.raises(SendUncertain, match="not sent again"):
            account.mailer(ADA).send(_mail(f"k-{how}"))
        assert len(emulator.sent()) - before == delivered, how
        assert _posts(wrapper) - posts == 1, how

    emulator, wrapper, account = lossy
    before, posts = len(emulator.sent()), _posts(wrapper)
    WAITS.clear()
    wrapper.answer("POST", "/sendMail", "throttled")
    account.mailer(ADA).send(_mail("k-429"))
    assert (len(emulator.sent()) - before, _posts(wrapper) - posts) == (1, 2)
    assert WAITS == [2.0]

    before = len(emulator.sent())
    wrapper.lose("POST", "/sendMail")
    with pytest.raises(SendUncertain):
        account.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="Agenda", text="x"))
    assert len(emulator.sent()) - before == 1


def test_mail_that_cannot_connect_is_tried_again_and_not_uncertain() -> None:
    """No connection: Graph never had the request, so the policy tries again and the error is
    `Unavailable` (a later sweep sends it), not `SendUncertain`."""
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    waits: list[float] = []
    account = GraphAccount(
        StaticToken("t"),
        base_url=f"http://127.0.0.1:{port}/v1.0",
        retry=RetryPolicy(attempts=3, sleep=waits.append),
    )
    try:
        with pytest.raises(Unavailable) as caught:
            account.mailer(ADA).send(_mail())
    finally:
        account.close()
    assert not isinstance(caught.value, SendUncertain) and len(waits) == 2


def test_sent_items_are_closed_to_a_send_only_token(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """The emulator holds the product's token to its scopes, as Graph does: Mail.Send sends, and
    the Sent Items look-up the mailer once made answers 403 ErrorAccessDenied."""
    emulator, wrapper, account = lossy
    account.mailer(ADA).send(_mail())
    token = emulator.token(ADA, GRAPH_PERMISSIONS)
    client = Client(wrapper)
    listed = client.get(
        "/v1.0/me/mailFolders/sentitems/messages", headers={"Authorization": f"Bearer {token}"}
    )
    assert listed.status_code == 403
    assert listed.get_json()["error"]["code"] == "ErrorAccessDenied"


def test_guarded_event_patch_whose_answer_was_lost_is_ours(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """A PATCH with If-Match whose answer was lost: the repeat's 412 is our own edit, kept."""
    _, wrapper, account = lossy
    cal = account.calendar(ADA)
    event = NewEvent("Overleg", START, START + timedelta(hours=1), "Europe/Amsterdam", ADA)
    created = cal.create_event(event, idempotency_key="k")
    wrapper.lose("PATCH", created.id)
    patch = EventPatch(subject="Nieuw", body_html="<p>Agenda &amp; acties</p>", location="Kamer 2")
    updated = cal.update_event(created.id, patch, if_match=created.etag)
    assert (updated.subject, updated.location) == ("Nieuw", "Kamer 2")
    assert wrapper.seen.count(("PATCH", f"/v1.0/me/events/{created.id}")) == 2


def test_guarded_event_patch_meeting_another_edit_is_conflict(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """A 412 on the repeat stays a Conflict when the event does not show our edit."""
    _, wrapper, account = lossy
    cal = account.calendar(ADA)
    event = NewEvent("Overleg", START, START + timedelta(hours=1), "Europe/Amsterdam", ADA)
    created = cal.create_event(event, idempotency_key="k")
    other = account.calendar(ADA)
    wrapper.lose(
        "PATCH",
        created.id,
        then=lambda: other.update_event(created.id, EventPatch(subject="Van Bob")),
    )
    with pytest.raises(Conflict):
        cal.update_event(created.id, EventPatch(subject="Nieuw"), if_match=created.etag)


def test_guarded_event_delete_whose_answer_was_lost_is_done(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """A DELETE with If-Match whose answer was lost: the repeat's 404 means it is gone."""
    _, wrapper, account = lossy
    cal = account.calendar(ADA)
    event = NewEvent("Overleg", START, START + timedelta(hours=1), "Europe/Amsterdam", ADA)
    created = cal.create_event(event, idempotency_key="k")
    wrapper.lose("DELETE", created.id)
    cal.delete_event(created.id, if_match=created.etag)
    assert cal.events(START - timedelta(days=1), START + timedelta(days=1)) == []


def test_guarded_upload_whose_answer_was_lost_is_ours(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """A PUT with If-Match whose answer was lost: the file holds our bytes, so it is ours."""
    _, wrapper, account = lossy
    drive = account.drive(ADA)
    first = drive.put("dossier", "a.json", b"een")
    wrapper.lose("PUT", ":/content")
    written = drive.put("dossier", "a.json", b"twee", if_match=first.etag)
    assert drive.get("dossier", "a.json").content == b"twee"
    assert written == drive.stat("dossier", "a.json")
    assert len(drive.versions("dossier", "a.json")) == 2


def test_create_only_upload_whose_answer_was_lost_is_ours(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """A fail-on-exists PUT whose answer was lost: the repeat's 409 names our own new file."""
    _, wrapper, account = lossy
    drive = account.drive(ADA)
    wrapper.lose("PUT", ":/content")
    written = drive.put("dossier", "a.json", b"een", if_none_match=True)
    assert written == drive.stat("dossier", "a.json")
    assert drive.get("dossier", "a.json").content == b"een"


def test_guarded_upload_meeting_another_write_is_conflict(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """A repeat's Conflict stays a Conflict when the file holds another writer's bytes."""
    _, wrapper, account = lossy
    drive = account.drive(ADA)
    first = drive.put("dossier", "a.json", b"een")
    wrapper.lose("PUT", ":/content", then=lambda: drive.put("dossier", "a.json", b"drie"))
    with pytest.raises(Conflict):
        drive.put("dossier", "a.json", b"twee", if_match=first.etag)
    assert drive.get("dossier", "a.json").content == b"drie"


def test_guarded_file_delete_whose_answer_was_lost_is_done(
    lossy: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """A drive DELETE with If-Match whose answer was lost: the repeat finds nothing, done."""
    _, wrapper, account = lossy
    drive = account.drive(ADA)
    first = drive.put("dossier", "a.json", b"een")
    wrapper.lose("DELETE", "")
    drive.delete("dossier", "a.json", if_match=first.etag)
    assert drive.list("dossier") == []
