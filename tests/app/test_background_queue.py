"""The background work on a real queue: Huey on SQLite in the data directory, and on Redis with
two consumers; the outbox is the witness that each message went out once."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_api import ADA, Api, seeded_api

from addin.background.ledger import Ledger
from addin.background.queue import (
    HEARTBEAT,
    SWEEP_LOCK,
    Background,
    QueueSettingError,
    WorkerLock,
    make_huey,
    sweep_minutes,
)
from addin.background.service import sweep_threads
from connectors.models import SentMail
from tests.waiting import wait_for


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    api = seeded_api(tmp_path)
    planned = api.plan()
    start = datetime.fromisoformat(planned["context"]["occurrence"]["start"])
    # Both the employee's prepare reminder (7 days before) and the record prompt are past:
    # move to just after the meeting, where the record prompt is due for both partners.
    api.clock.set(start + timedelta(minutes=75))
    yield api


def _services(api: Api) -> Any:
    return api.app.extensions["goedgesprek.services"]


def _outbox(api: Api) -> list[SentMail]:
    sent: list[SentMail] = api.app.extensions["goedgesprek.store"].outbox()
    return sent


def test_the_embedded_queue_lives_in_the_data_directory_and_runs_a_sweep(
    api: Api, tmp_path: Path
) -> None:
    background = Background(_services(api), {"DATA_DIR": str(tmp_path)}, owner="embedded")
    assert background.embedded
    assert (tmp_path / "queue.sqlite3").exists()
    # No periodic sweep: one crossing a minute boundary would leave the last heartbeat.
    background.start(periodic=False)
    try:
        background.sweep_soon()
        assert wait_for(lambda: len(_outbox(api)) == 2, 20), _outbox(api)
        assert wait_for(lambda: background.heartbeat() is not None, 10)
    finally:
        background.stop()
    beat = background.heartbeat()
    assert beat is not None and beat["series"] == 1 and beat["sent"] == 2
    assert {m.mail.sender for m in _outbox(api)} == {ADA, "grace@example.org"}


def test_two_consumers_on_one_redis_send_each_message_once(
    api: Api, tmp_path: Path, redis_url: str
) -> None:
    config = {"DATA_DIR": str(tmp_path), "REDIS_URL": redis_url}
    first = Background(_services(api), config, owner="consumer-a")
    second = Background(_services(api), config, owner="consumer-b")
    assert not first.embedded
    first.start(workers=2)
    second.start(workers=2)
    try:
        for _ in range(6):
            first.sweep_soon()
            second.sweep_soon()
        assert wait_for(lambda: len(_outbox(api)) >= 2, 20)
        # Every queued sweep ran (or skipped, another running): the queue drains.
        assert wait_for(lambda: len(first.huey) == 0, 30)
        time.sleep(0.5)
    finally:
        first.stop()
        second.stop()
    assert len(_outbox(api)) == 2
    ledger = Ledger(_services(api).registry.engine, clock=_services(api).clock)
    assert ledger.counts() == {"sent": 2}


def test_a_sweep_lock_a_dead_consumer_left_is_taken_over(api: Api, tmp_path: Path) -> None:
    background = Background(_services(api), {"DATA_DIR": str(tmp_path)}, owner="after")
    background.huey.put_if_empty(SWEEP_LOCK, time.time())
    assert background.run_sweep() is None  # a live lock: skipped
    background.huey.delete(SWEEP_LOCK)
    background.huey.put_if_empty(SWEEP_LOCK, time.time() - 3600)
    report = background.run_sweep()
    assert report is not None and report.count("sent") == 2
    assert background.huey.get(SWEEP_LOCK, peek=True) is None
    assert background.huey.get(HEARTBEAT, peek=True)["sent"] == 2


def _hold(path: str, ready: Any) -> None:
    lock = WorkerLock(Path(path))
    assert lock.acquire()
    ready.set()
    time.sleep(60)


def test_one_server_worker_holds_the_worker_lock_until_it_exits(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(str(tmp_path), ready), daemon=True)
    holder.start()
    try:
        assert ready.wait(30)
        mine = WorkerLock(tmp_path)
        assert not mine.acquire()
        holder.kill()
        holder.join(10)
        assert wait_for(mine.acquire, 5)
        mine.release()
    finally:
        if holder.is_alive():
            holder.kill()


def test_queue_settings_are_checked_with_a_sentence(tmp_path: Path) -> None:
    assert sweep_minutes({}) == 5
    assert sweep_minutes({"SWEEP_MINUTES": "15"}) == 15
    for bad in ("7", "0", "soon", "90"):
        with pytest.raises(QueueSettingError, match="divide an hour"):
            sweep_minutes({"SWEEP_MINUTES": bad})
    with pytest.raises(QueueSettingError, match="redis://host:6379/0"):
        make_huey({"REDIS_URL": "http://cache:6379"}, tmp_path)
    assert sweep_threads({}) == 8 and sweep_threads({"SWEEP_THREADS": "32"}) == 32
    for bad in ("0", "65", "many"):
        with pytest.raises(ValueError, match="SWEEP_THREADS must be a whole number"):
            sweep_threads({"SWEEP_THREADS": bad})


def test_the_worker_runs_retention_every_night_unless_dossiers_are_kept(
    api: Api, tmp_path: Path
) -> None:
    night = datetime(2027, 1, 5, 3, 17)  # Huey's periodic clock is UTC, naive
    background = Background(_services(api), {"DATA_DIR": str(tmp_path)}, owner="nightly")
    assert "retention" in {t.name for t in background.huey.read_periodic(night)}
    assert "retention" not in {t.name for t in background.huey.read_periodic(night.replace(hour=4))}
    assert background.run_retention() == {
        "months": 24,
        "pairs_due": 0,
        "pairs_erased": 0,
        "series_erased": 0,
        "failed": 0,
        "receipts": [],
    }
    kept = Background(
        _services(api), {"DATA_DIR": str(tmp_path / "k"), "RETENTION_MONTHS": "0"}, owner="k"
    )
    assert "retention" not in {t.name for t in kept.huey.read_periodic(night)}
    assert kept.run_retention() is None
    with pytest.raises(ValueError, match="RETENTION_MONTHS"):
        Background(_services(api), {"DATA_DIR": str(tmp_path / "b"), "RETENTION_MONTHS": "x"})
