"""The delivery ledger: one claim per delivery, whoever sweeps; a dead claim is taken over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from addin.background.ledger import Delivery, Ledger, State

NOW = datetime(2027, 3, 2, 9, 40, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(engine: Engine, clock: Clock) -> Ledger:
    return Ledger(engine, clock=clock, max_attempts=3)


def _delivery(n: int = 1, recipient: str = "Ada@Example.org") -> Delivery:
    return Delivery(
        trigger_key=f"record:s1:2027030208{n:02d}00Z",
        kind="record",
        series_id="s1",
        recipient=recipient,
        due=NOW - timedelta(minutes=30),
    )


def test_one_claim_wins_and_a_sent_delivery_is_never_claimed_again(ledger: Ledger) -> None:
    d = _delivery()
    assert ledger.claim(d, "worker-a")
    assert not ledger.claim(d, "worker-b")
    assert ledger.sent(d.key, "worker-a", "msg-1")
    assert not ledger.claim(d, "worker-b")
    assert ledger.done([d.key, _delivery(2).key]) == {d.key}
    entry = ledger.entry(d.key)
    assert entry is not None
    assert (entry.state, entry.message_id) == (State.SENT, "msg-1")
    assert entry.recipient == "ada@example.org"


def test_only_the_claimant_settles_a_delivery(ledger: Ledger) -> None:
    d = _delivery()
    assert ledger.claim(d, "worker-a")
    assert not ledger.sent(d.key, "worker-b", "msg-x")
    assert ledger.release(d.key, "worker-b", "timeout") is None
    assert ledger.skipped(d.key, "worker-a", "off")
    assert ledger.done([d.key]) == {d.key}


def test_a_claim_whose_consumer_died_is_settled_as_uncertain_never_sent_again(
    ledger: Ledger, clock: Clock
) -> None:
    """The dead consumer may have sent it: after its lease it is failed, not taken over."""
    d = _delivery()
    assert ledger.claim(d, "worker-a")
    clock.now += ledger.lease - timedelta(seconds=1)
    assert not ledger.claim(d, "worker-b")
    clock.now += timedelta(seconds=2)
    assert not ledger.claim(d, "worker-b")
    assert not ledger.claim(d, "worker-c")
    assert not ledger.sent(d.key, "worker-a", "late")
    entry = ledger.entry(d.key)
    assert entry is not None
    assert (entry.state, entry.attempts) == (State.FAILED, 1)
    assert entry.note.startswith("uncertain")
    assert ledger.done([d.key]) == {d.key}


def test_a_released_claim_is_tried_again_then_failed_after_the_last_attempt(
    ledger: Ledger,
) -> None:
    d = _delivery()
    for attempt in range(1, 4):
        assert ledger.claim(d, f"worker-{attempt}")
        state = ledger.release(d.key, f"worker-{attempt}", "Throttled")
        assert state is (State.FAILED if attempt == 3 else State.CLAIMED)
    assert not ledger.claim(d, "worker-4")
    entry = ledger.entry(d.key)
    assert entry is not None
    assert (entry.state, entry.attempts, entry.note) == (State.FAILED, 3, "Throttled")
    assert ledger.counts() == {"failed": 1}


def test_claims_in_another_zone_compare_by_the_instant(engine: Engine) -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    now = [NOW.astimezone(amsterdam)]
    ledger = Ledger(engine, clock=lambda: now[0], lease=timedelta(minutes=10))
    d = _delivery()
    assert ledger.claim(d, "worker-a")
    now[0] = (NOW + timedelta(minutes=5)).astimezone(UTC)
    assert not ledger.claim(d, "worker-b")


def test_many_consumers_at_once_make_one_claim(ledger: Ledger) -> None:
    deliveries = [_delivery(n) for n in range(5)]
    won: list[tuple[str, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def consumer(name: str) -> None:
        start.wait(timeout=10)
        for d in deliveries:
            if ledger.claim(d, name):
                with lock:
                    won.append((d.key, name))

    threads = [threading.Thread(target=consumer, args=(f"w{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(k for k, _ in won) == sorted(d.key for d in deliveries)


def test_the_mail_key_is_stable_and_names_no_one() -> None:
    d = _delivery()
    again = _delivery(recipient="ada@example.org")
    assert d.key == again.key
    assert d.mail_key == again.mail_key
    assert "ada" not in d.mail_key and "s1" not in d.mail_key
    assert d.mail_key != _delivery(2).mail_key
