"""The sweep sends what is due, once, from each person's own mailbox, in their language.

Planned through the API on the local store: the clock moves past the moments each trigger
becomes due and the sweep runs (several times, and as two consumers); the local outbox is the
witness of what went out.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_api import ADA, GRACE, Api, seeded_api

from addin.background.ledger import Ledger, State
from addin.background.service import build_sweep
from addin.background.sweep import Sweep
from connectors.errors import AuthExpired, SendUncertain, Throttled
from connectors.models import SentMail


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return seeded_api(tmp_path)


def _sweep(api: Api, owner: str = "consumer-1") -> Sweep:
    services = api.app.extensions["goedgesprek.services"]
    return build_sweep(services, api.app.config, owner=owner)


def _outbox(api: Api) -> list[SentMail]:
    sent: list[SentMail] = api.app.extensions["goedgesprek.store"].outbox()
    return sent


def _first_start(planned: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(planned["context"]["occurrence"]["start"])


def _kinds(mails: list[SentMail]) -> list[tuple[str, str]]:
    return sorted((m.mail.sender, m.mail.subject) for m in mails)


def test_the_prepare_reminder_goes_to_the_employee_once(api: Api) -> None:
    planned = api.plan()
    start = _first_start(planned)
    api.clock.set(start - timedelta(days=7) + timedelta(minutes=5))
    report = _sweep(api).run()
    assert report.series == 1
    mails = _outbox(api)
    assert len(mails) == 1
    mail = mails[0].mail
    assert mail.sender == mail.to[0] == ADA
    assert "bereid het voor" in mail.subject  # Ada reads Dutch
    assert "Grace" in mail.text and "<html" in mail.html
    assert re.search(r"http://127\.0\.0\.1:5000/open/[^/]+/\d{8}T\d{6}Z\?lang=nl", mail.text)
    # Run again, and as another consumer, reading every series: nothing more goes out.
    assert _sweep(api).run(everything=True).count("settled") == 1
    assert _sweep(api, "consumer-2").run(everything=True).count("sent") == 0
    assert len(_outbox(api)) == 1


def test_a_series_is_read_again_when_something_may_fall_due_or_it_changed(api: Api) -> None:
    """After a sweep the series waits until its next possible reminder (at most an hour);
    a change through the panel has it read at the next sweep."""
    planned = api.plan()
    start = _first_start(planned)
    api.clock.set(start - timedelta(days=20))
    assert _sweep(api).run().series == 1
    assert _sweep(api).run().series == 0  # nothing can fall due within the next 45 minutes
    api.clock.advance(timedelta(minutes=61))
    assert _sweep(api).run().series == 1  # read at least hourly
    context = planned["context"]
    op = {"op": "agenda.add_item", "theme": "role", "title": "Mijn punt"}
    fresh = api.call("GET", f"/api/context?event={context['event']['id']}", ADA).get_json()
    assert api.ops(ADA, fresh, op).status_code == 200
    assert _sweep(api).run().series == 1
    # The prepare reminder's moment comes: the series is read then, not an hour late.
    api.clock.set(start - timedelta(days=7) - timedelta(minutes=30))
    assert _sweep(api).run().series == 1
    api.clock.set(start - timedelta(days=7) + timedelta(seconds=1))
    report = _sweep(api).run()
    assert report.series == 1 and report.count("sent") == 1


def test_after_the_meeting_both_partners_are_asked_for_the_record(api: Api) -> None:
    planned = api.plan()
    start = _first_start(planned)
    api.clock.set(start + timedelta(minutes=60 + 11))
    report = _sweep(api).run()
    record = [p for p in report.planned if p.trigger.kind == "record"]
    assert sorted(p.recipient.email for p in record) == [ADA, GRACE]
    assert all(p.outcome == "sent" for p in record)
    senders = sorted(
        m.mail.sender
        for m in _outbox(api)
        if "agreed" in m.mail.subject.lower() or "afgesproken" in m.mail.subject
    )
    assert senders == [ADA, GRACE]


def test_a_dry_run_lists_what_is_due_and_sends_nothing(api: Api) -> None:
    planned = api.plan()
    api.clock.set(_first_start(planned) + timedelta(minutes=75))
    report = _sweep(api).run(dry_run=True)
    assert {p.outcome for p in report.planned} == {"due"}
    assert report.count("due") >= 2
    assert _outbox(api) == []


def test_a_throttled_send_is_tried_again_by_the_next_sweep(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = api.plan()
    api.clock.set(_first_start(planned) - timedelta(days=7) + timedelta(minutes=5))
    store = api.app.extensions["goedgesprek.store"]
    real = store.mailer
    failing = {"left": 1}

    class Flaky:
        def __init__(self, email: str) -> None:
            self._inner = real(email)

        def send(self, mail: Any) -> SentMail:
            if failing["left"]:
                failing["left"] -= 1
                raise Throttled("try later", retry_after=5)
            sent: SentMail = self._inner.send(mail)
            return sent

    services = api.app.extensions["goedgesprek.services"]
    monkeypatch.setattr(services, "mailer", Flaky)
    first = _sweep(api).run()
    assert first.count("retry") == 1 and _outbox(api) == []
    second = _sweep(api).run()
    assert second.count("sent") == 1 and len(_outbox(api)) == 1


def test_a_consumer_killed_after_sending_is_not_repeated(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first consumer sent, then died before marking it sent: after its lease the next one
    settles it as uncertain and does not send it again."""
    planned = api.plan()
    api.clock.set(_first_start(planned) - timedelta(days=7) + timedelta(minutes=5))
    services = api.app.extensions["goedgesprek.services"]
    real = services.mailer

    class Killed(BaseException):
        """The process ends here (not an error the sweep could catch)."""

    class DiesAfterSending:
        def __init__(self, email: str) -> None:
            self._inner = real(email)

        def send(self, mail: Any) -> SentMail:
            self._inner.send(mail)
            raise Killed

    monkeypatch.setattr(services, "mailer", DiesAfterSending)
    with pytest.raises(Killed):
        _sweep(api, "dies").run()
    monkeypatch.setattr(services, "mailer", real)
    assert len(_outbox(api)) == 1
    assert _sweep(api, "second").run().count("busy") == 1  # its lease still holds
    ledger = Ledger(services.registry.engine, clock=services.clock)
    api.clock.advance(ledger.lease + timedelta(minutes=1))
    after = _sweep(api, "second").run()
    assert after.count("sent") == 0
    assert len(_outbox(api)) == 1
    (done,) = [p for p in after.planned if p.outcome == "busy"]
    entry = ledger.entry(done.delivery.key)
    assert entry is not None and entry.state is State.FAILED and entry.attempts == 1
    assert entry.note.startswith("uncertain")
    assert _sweep(api, "third").run().count("sent") == 0
    assert len(_outbox(api)) == 1


def test_the_mails_button_opens_a_page_about_that_conversation_in_their_language(
    api: Api,
) -> None:
    planned = api.plan()
    api.clock.set(_first_start(planned) + timedelta(minutes=75))
    _sweep(api).run()
    by = {m.mail.sender: m.mail for m in _outbox(api)}
    for who, words in ((ADA, "Je gesprek van"), (GRACE, "Je gesprek van")):
        link = re.search(r"http://127\.0\.0\.1:5000(/open/\S+)", by[who].text)
        assert link, by[who].text
        page = api.client.get(link[1])
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert words in html and "outlook.office.com/calendar/view/day/" in html
        assert "Grace" not in html and "Ada" not in html  # it names no one
    english = api.client.get(link[1].replace("lang=nl", "lang=en")).get_data(as_text=True)
    assert "Your conversation of" in english
    assert api.client.get("/open/whatever/2027-13-01").status_code == 404
    assert api.client.get("/open/whatever").status_code == 200


def test_a_person_turns_a_kind_off_and_chooses_a_quiet_day(api: Api) -> None:
    """Settings through the API (checked against the spec); the sweep honours both."""
    got = api.call("GET", "/api/me/reminders", ADA).get_json()
    assert got == {
        "off": [],
        "quiet_days": [],
        "kinds": ["prepare", "agenda", "record", "accept", "cadence"],
    }
    body = {"off": ["prepare"], "quiet_days": ["FR", "MO"]}
    kept = api.call("PUT", "/api/me/reminders", ADA, body=body).get_json()
    assert kept["off"] == ["prepare"] and kept["quiet_days"] == ["MO", "FR"]
    planned = api.plan()
    start = _first_start(planned)
    api.clock.set(start - timedelta(days=7) + timedelta(minutes=5))
    report = _sweep(api).run()
    assert [p.outcome for p in report.planned if p.recipient.email == ADA] == ["off"]
    assert _outbox(api) == []
    assert _sweep(api).run(everything=True).count("settled") == 1  # skipped once, for good
    # Grace keeps hers, but not on her quiet day: it goes out the next day.
    api.call("PUT", "/api/me/reminders", GRACE, body={"quiet_days": ["MO", "TU", "WE", "TH", "FR"]})
    api.clock.set(start + timedelta(minutes=75))
    after = _sweep(api).run()
    outcomes = {(p.recipient.email, p.outcome) for p in after.planned if p.trigger.kind == "record"}
    weekday = (start + timedelta(minutes=75)).astimezone(ZoneInfo("Europe/Amsterdam")).weekday()
    assert (GRACE, "quiet" if weekday < 5 else "sent") in outcomes
    assert (ADA, "quiet" if weekday in (0, 4) else "sent") in outcomes


@pytest.mark.parametrize(
    "body",
    [
        {"off": ["everything"]},
        {"off": "prepare"},
        {"quiet_days": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]},
        {"quiet_days": ["monday"]},
    ],
)
def test_reminder_settings_it_cannot_use_are_refused_with_a_sentence(
    api: Api, body: dict[str, Any]
) -> None:
    answer = api.call("PUT", "/api/me/reminders", ADA, body=body)
    assert answer.status_code == 400
    assert answer.get_json()["message"].startswith("Noem de")
    assert api.call("GET", "/api/me/reminders", ADA).get_json()["off"] == []


def _signed_out(real: Any, *who: str) -> Any:
    """A mailer factory whose mailboxes of `who` refuse to send: their sign-in is gone."""

    class Mailer:
        def __init__(self, email: str) -> None:
            self.email = email
            self.real = real(email)

        def send(self, mail: Any) -> SentMail:
            if self.email in who:
                raise AuthExpired(f"{self.email} must sign in again")
            sent: SentMail = self.real.send(mail)
            return sent

    return Mailer


def test_a_person_whose_sign_in_is_gone_gets_the_mail_once_they_sign_in_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = api.plan()
    api.clock.set(_first_start(planned) - timedelta(days=7) + timedelta(minutes=5))
    services = api.app.extensions["goedgesprek.services"]
    real = services.mailer
    monkeypatch.setattr(services, "mailer", _signed_out(real, ADA, GRACE))
    first = _sweep(api).run()
    # Grace's mailbox, which would carry the notice to Ada, is found parked too.
    assert first.count("parked") == 1 and first.parked == {ADA, GRACE}
    assert _sweep(api).run().series == 0  # looked at again within the hour, not every sweep
    monkeypatch.setattr(services, "mailer", real)  # Ada signed in again
    api.clock.advance(timedelta(hours=1, minutes=1))
    assert _sweep(api).run().count("sent") == 1
    assert len(_outbox(api)) == 1


def test_a_parked_person_is_told_once_how_to_sign_in_and_nothing_is_given_up(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ada's sign-in ended: the notice goes once, from Grace's mailbox to Ada, in Ada's
    language; a day of hourly sweeps uses up none of the reminder's tries; once Ada signs in
    again the reminder still goes out."""
    planned = api.plan()
    api.clock.set(_first_start(planned) - timedelta(days=7) + timedelta(minutes=5))
    services = api.app.extensions["goedgesprek.services"]
    real = services.mailer
    monkeypatch.setattr(services, "mailer", _signed_out(real, ADA))
    first = _sweep(api).run()
    assert first.count("parked") == 1 and first.parked == {ADA}
    (notice,) = _outbox(api)
    assert notice.mail.sender == GRACE and notice.mail.to == (ADA,)
    assert "Meld je opnieuw aan" in notice.mail.subject  # Ada reads Dutch
    assert "http://127.0.0.1:5000/support?lang=nl" in notice.mail.text
    assert "Grace" in notice.mail.text
    for _hour in range(24):
        api.clock.advance(timedelta(hours=1, minutes=1))
        assert _sweep(api).run(everything=True).count("failed") == 0
    assert len(_outbox(api)) == 1  # told once
    ledger = Ledger(services.registry.engine, clock=api.clock)
    assert ledger.counts().get("failed", 0) == 0
    monkeypatch.setattr(services, "mailer", real)  # Ada signed in again
    api.clock.advance(timedelta(hours=1, minutes=1))
    report = _sweep(api).run()
    assert report.count("sent") == 1
    assert sorted(m.mail.sender for m in _outbox(api)) == [ADA, GRACE]


def _uncertain(real: Any, *, deliver: bool, signed_out: str = "") -> Any:
    """A mailer factory whose sends end in `SendUncertain` (after delivering, if `deliver`);
    the mailbox of `signed_out` refuses to send: its sign-in is gone."""

    class Mailer:
        def __init__(self, email: str) -> None:
            self.email = email
            self.real = real(email)

        def send(self, mail: Any) -> SentMail:
            if self.email == signed_out:
                raise AuthExpired(f"{self.email} must sign in again")
            if deliver:
                self.real.send(mail)
            raise SendUncertain("no answer: the mail may or may not have gone")

    return Mailer


@pytest.mark.parametrize("deliver", [True, False])
def test_a_send_without_an_answer_is_never_sent_again(
    api: Api, monkeypatch: pytest.MonkeyPatch, deliver: bool
) -> None:
    """The send may have gone (its answer never came): the delivery is done, its message id
    "uncertain", and no later sweep, consumer or lease sends it again; it may be missing
    (`deliver` False), never doubled."""
    planned = api.plan()
    api.clock.set(_first_start(planned) - timedelta(days=7) + timedelta(minutes=5))
    services = api.app.extensions["goedgesprek.services"]
    real = services.mailer
    monkeypatch.setattr(services, "mailer", _uncertain(real, deliver=deliver))
    first = _sweep(api).run()
    (done,) = [p for p in first.planned if p.outcome == "uncertain"]
    ledger = Ledger(services.registry.engine, clock=api.clock)
    entry = ledger.entry(done.delivery.key)
    assert entry is not None and entry.state is State.SENT and entry.message_id == "uncertain"
    monkeypatch.setattr(services, "mailer", real)
    for owner in ("consumer-1", "consumer-2"):
        api.clock.advance(ledger.lease + timedelta(minutes=1))
        again = _sweep(api, owner).run(everything=True)
        assert again.count("sent") == 0 and again.count("settled") == 1
    assert len(_outbox(api)) == (1 if deliver else 0)


def test_a_sign_in_notice_without_an_answer_is_never_sent_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ada is parked; the notice from Grace's mailbox gets no answer: it is done, "uncertain",
    and not sent again while Ada stays parked."""
    planned = api.plan()
    api.clock.set(_first_start(planned) - timedelta(days=7) + timedelta(minutes=5))
    services = api.app.extensions["goedgesprek.services"]
    real = services.mailer
    monkeypatch.setattr(services, "mailer", _uncertain(real, deliver=True, signed_out=ADA))
    assert _sweep(api).run().parked == {ADA}
    ledger = Ledger(services.registry.engine, clock=api.clock)
    assert ledger.counts() == {"claimed": 1, "sent": 1}  # the reminder waits; the notice is done
    monkeypatch.setattr(services, "mailer", _signed_out(real, ADA))
    for _hour in range(3):
        api.clock.advance(timedelta(hours=1, minutes=1))
        _sweep(api).run(everything=True)
    assert len(_outbox(api)) == 1  # the one the uncertain send delivered
