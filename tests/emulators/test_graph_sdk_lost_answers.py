"""Writes whose answer is lost after Graph did the work: the repeat finds its own success
instead of doing the work twice or reporting it as someone else's change."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors._retry import RetryPolicy
from connectors.errors import Conflict
from connectors.graph import GraphAccount, StaticToken
from connectors.models import EventPatch, Mail, NewEvent
from emulators.graph import GraphEmulator
from emulators.serve import Server

START = datetime(2027, 2, 1, 13, tzinfo=UTC)
ADA = "ada@example.org"
BOB = "bob@example.org"
LOST = b'{"error": {"code": "ServiceNotAvailable", "message": "the answer was lost"}}'


class LoseAnswers:
    """Wraps the emulator: chosen requests are handled, then their answer is lost (a 503)."""

    def __init__(self, app: GraphEmulator) -> None:
        """Pass everything to `app` until told otherwise."""
        self.app = app
        self.rules: list[tuple[str, str, int, Callable[[], object] | None]] = []
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
        self.rules.append((method, path_end, times, then))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Handle a matching request and answer 503 instead of its answer; pass the rest on."""
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.seen.append((method, path))
        for index, (m, end, times, then) in enumerate(self.rules):
            if m == method and path.endswith(end) and times > 0:
                self.rules[index] = (m, end, times - 1, then)
                size = int(environ.get("CONTENT_LENGTH") or 0)
                environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(size))
                b"".join(self.app(environ, lambda *_: lambda _data: None))
                if then is not None:
                    then()
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(LOST)))]
                start_response("503 Service Unavailable", headers)
                return [LOST]
        return self.app(environ, start_response)


def serve(emulator: GraphEmulator) -> Iterator[tuple[GraphEmulator, LoseAnswers, GraphAccount]]:
    """`emulator` behind `LoseAnswers` on 127.0.0.1, with an account whose waits are not slept."""
    emulator.add_user(ADA, "Ada")
    emulator.add_user(BOB, "Bob")
    wrapper = LoseAnswers(emulator)
    emulator.batch_target = wrapper  # a write inside a $batch can lose its answer too
    with Server(wrapper) as server:
        account = GraphAccount(
            lambda email: StaticToken(emulator.token(email)),
            base_url=f"{server.url}/v1.0",
            retry=RetryPolicy(sleep=lambda _: None),
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
def slow_filing() -> Iterator[tuple[GraphEmulator, LoseAnswers, GraphAccount]]:
    """A fresh emulator filing sent mail in Sent Items 0.3 s after sendMail, as Exchange does."""
    yield from serve(GraphEmulator(sent_items_delay=0.3))


def test_mail_whose_answer_was_lost_is_sent_once(
    slow_filing: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """sendMail did its work but its answer was lost: the repeat finds the mail, filed late."""
    emulator, wrapper, account = slow_filing
    wrapper.lose("POST", "/sendMail")
    sent = account.mailer(ADA).send(
        Mail(sender=ADA, to=(BOB,), subject="Agenda", text="x", key="k")
    )
    assert len(emulator.sent()) == 1
    assert sent.mail.key == "k" and sent.id == emulator.sent()[0]["id"]


def test_mail_without_key_whose_answer_was_lost_is_sent_once(
    slow_filing: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """Without a caller's key the made-up one still finds the first send on the repeat."""
    emulator, wrapper, account = slow_filing
    wrapper.lose("POST", "/sendMail")
    account.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="Agenda", text="x"))
    assert len(emulator.sent()) == 1


def test_mail_filed_late_is_found_after_sending(
    slow_filing: tuple[GraphEmulator, LoseAnswers, GraphAccount],
) -> None:
    """A mail Exchange files in Sent Items a moment after sendMail is waited for, not an error."""
    emulator, _, account = slow_filing
    sent = account.mailer(ADA).send(Mail(sender=ADA, to=(BOB,), subject="Hoi", text="x", key="k"))
    assert sent.mail.subject == "Hoi" and len(emulator.sent()) == 1


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
