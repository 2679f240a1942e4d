"""The task queue the background work runs on (Huey): SQLite by default, Redis for many machines.

Without ``REDIS_URL`` the queue is a SQLite file in the data directory, consumed inside the
server itself: by `goedgesprek demo`, and by one of `goedgesprek serve`'s workers at a time (the
one holding the data directory's worker lock; when it exits, another takes over). With
``REDIS_URL`` (``redis://host:6379/0``) the queue is on Redis and ``goedgesprek worker`` consumes
it, on any number of machines.

The sweep runs every ``SWEEP_MINUTES`` (default 5; a divisor of 60). Each consumer's scheduler
enqueues it, so with several consumers it may be enqueued more than once: a Huey lock lets one
run at a time, and the ledger sends each message once whatever runs. After each sweep a heartbeat
(its time and counts, no content) is kept in the queue's storage for ``worker --health``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from addin.background.service import build_sweep

if TYPE_CHECKING:
    from addin.background.sweep import Report
    from addin.wiring import Services

log = logging.getLogger(__name__)

QUEUE_NAME = "goedgesprek"
QUEUE_FILE = "queue.sqlite3"
LOCK_FILE = "worker.lock"
HEARTBEAT = "sweep-heartbeat"
SWEEP_LOCK = "sweep-lock"
STALE_LOCK = 30 * 60.0
"""Seconds after which a sweep lock is taken to be a dead consumer's."""
DEFAULT_MINUTES = 5
MINUTES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)
TAKE_OVER_SECONDS = 30.0
"""How often a server worker without the worker lock tries to take it."""


class QueueSettingError(ValueError):
    """A queue setting cannot be used; the message says which and why."""


def sweep_minutes(config: Mapping[str, Any]) -> int:
    """``SWEEP_MINUTES``: minutes between sweeps, a divisor of 60 (5 unless set)."""
    raw = config.get("SWEEP_MINUTES")
    if raw in (None, ""):
        return DEFAULT_MINUTES
    try:
        minutes = int(str(raw).strip())
    except ValueError:
        minutes = -1
    if minutes not in MINUTES:
        raise QueueSettingError(
            f"SWEEP_MINUTES must be one of {', '.join(map(str, MINUTES))} "
            f"(minutes that divide an hour), not {raw!r}"
        )
    return minutes


def redis_url(config: Mapping[str, Any]) -> str:
    """``REDIS_URL``, checked: empty for the embedded queue."""
    url = str(config.get("REDIS_URL") or "").strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise QueueSettingError(
            f"REDIS_URL must look like redis://host:6379/0 (or rediss://, unix://), not {url!r}"
        )
    return url


def make_huey(config: Mapping[str, Any], data_dir: Path) -> Huey:
    """The queue: Redis at ``REDIS_URL``, else the SQLite file in `data_dir`."""
    url = redis_url(config)
    if url:
        return RedisHuey(QUEUE_NAME, url=url, utc=True, results=False)
    return SqliteHuey(QUEUE_NAME, filename=str(data_dir / QUEUE_FILE), utc=True, results=False)


class Background:
    """The background work of one set of services: its queue, its tasks, its consumer."""

    def __init__(
        self,
        services: Services,
        config: Mapping[str, Any],
        *,
        huey: Huey | None = None,
        owner: str | None = None,
    ) -> None:
        self.config = config
        self.minutes = sweep_minutes(config)
        self.huey = huey or make_huey(config, Path(services.settings.data_dir))
        self.sweep = build_sweep(services, config, owner=owner)
        self._consumer: Consumer | None = None
        every = crontab(minute=f"*/{self.minutes}") if self.minutes < 60 else crontab(minute="0")
        self.huey.periodic_task(every, name="sweep")(self.run_sweep)
        self.sweep_soon = self.huey.task(name="sweep-now")(self.run_sweep)
        """Enqueue a sweep now (the demo does when its clock moves)."""
        self.retention = _retention(services, config)
        if self.retention is not None:
            # Nightly; erasure is idempotent, so two consumers running it at once is harmless.
            self.huey.periodic_task(crontab(minute="17", hour="3"), name="retention")(
                self.run_retention
            )

    def run_retention(self) -> dict[str, Any] | None:
        """Erase the dossiers past retention (`addin.retention`); counts only in the log."""
        if self.retention is None:
            return None
        report: dict[str, Any] = self.retention.run().as_json()
        return report

    @property
    def embedded(self) -> bool:
        """True when the queue is the data directory's SQLite file (consumed in the server)."""
        return isinstance(self.huey, SqliteHuey)

    def run_sweep(self) -> Report | None:
        """One sweep, unless another consumer is running one (then None)."""
        if not self._take_lock():
            log.info("sweep: another consumer is sweeping; this one skips")
            return None
        try:
            report = self.sweep.run()
        finally:
            self.huey.delete(SWEEP_LOCK)
        beat = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "series": report.series,
            "sent": report.count("sent"),
            "unreadable": len(report.unreadable),
        }
        self.huey.put(HEARTBEAT, beat)
        log.info(
            "sweep: %s series, %s sent, %s left for later",
            report.series,
            report.count("sent"),
            len(report.unreadable),
        )
        return report

    def _take_lock(self) -> bool:
        """The sweep lock in the queue's storage; one a dead consumer left is taken over once
        it is older than `STALE_LOCK` (Huey's own lock would stay, on SQLite, until flushed)."""
        now = time.time()
        if self.huey.put_if_empty(SWEEP_LOCK, now):
            return True
        held = self.huey.get(SWEEP_LOCK, peek=True)
        if isinstance(held, int | float) and now - held < STALE_LOCK:
            return False
        self.huey.delete(SWEEP_LOCK)
        return bool(self.huey.put_if_empty(SWEEP_LOCK, now))

    def heartbeat(self) -> dict[str, Any] | None:
        """The last sweep's heartbeat (kept: reading does not take it away)."""
        found = self.huey.get(HEARTBEAT, peek=True)
        return found if isinstance(found, dict) else None

    def start(self, *, workers: int = 1, periodic: bool = True) -> None:
        """Consume the queue on threads of this process; with `periodic` its scheduler also
        queues the sweep every `minutes`."""
        if self._consumer is not None:
            return
        consumer = _ThreadConsumer(
            self.huey, workers=workers, worker_type="thread", periodic=periodic
        )
        consumer.start()
        self._consumer = consumer
        log.info(
            "background work: consuming %s here, sweep every %s min",
            _where(self.huey),
            self.minutes,
        )

    def stop(self) -> None:
        """Stop consuming, letting a task under way finish (bounded)."""
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stop(graceful=True)
        # The SQLite queue's connection: closing it lets SQLite fold and remove its WAL file.
        self.huey.storage.close()


class _ThreadConsumer(Consumer):  # type: ignore[misc]
    """Huey's consumer on threads of a process that has its own signal handling (a web server),
    with a bounded graceful stop."""

    def __init__(self, huey: Huey, **options: Any) -> None:
        super().__init__(huey, shutdown_timeout=30.0, **options)

    def _set_signal_handlers(self) -> None:
        """The server owns the signals; it stops the consumer itself."""


class WorkerLock:
    """The data directory's worker lock: the server worker holding it consumes the embedded
    queue. The operating system frees it when that process exits, however it exits."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / LOCK_FILE
        self._file: Any = None

    def acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it."""
        if self._file is not None:
            return True
        handle = open(self._path, "a+")  # noqa: SIM115 - held open while the lock is held
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


class Leader:
    """In each server worker: try for the worker lock now and then; the holder consumes the
    embedded queue until it stops."""

    def __init__(self, background: Background, data_dir: Path, interval: float = TAKE_OVER_SECONDS):
        self._background = background
        self._lock = WorkerLock(data_dir)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="background-leader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._lock.acquire():
                self._background.start()
                return
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._background.stop()
        self._lock.release()


def _retention(services: Services, config: Mapping[str, Any]) -> Any:
    """The retention rule of these services, or None when dossiers are kept (0 months)."""
    from addin.background.service import link_key
    from addin.erasure import Erasure
    from addin.retention import Retention, retention_months

    months = retention_months(config)
    if months == 0:
        return None
    key = link_key(config, Path(services.settings.data_dir))
    return Retention(Erasure(services.conversations, key), months)


def _where(huey: Huey) -> str:
    return "Redis" if isinstance(huey, RedisHuey) else "the data directory's queue"


def background_for(app: Any, *, owner: str | None = None) -> Background:
    """The app's background work (made once, kept in the app's extensions)."""
    found: Background | None = app.extensions.get("goedgesprek.background")
    if found is None:
        found = Background(app.extensions["goedgesprek.services"], app.config, owner=owner)
        app.extensions["goedgesprek.background"] = found
    return found


def consume_in_server(app: Any) -> Leader | None:
    """In a server worker: consume the embedded queue while this process holds the data
    directory's worker lock (None with ``REDIS_URL``: `goedgesprek worker` consumes Redis)."""
    background = background_for(app)
    if not background.embedded:
        return None
    leader = Leader(background, Path(app.extensions["goedgesprek.settings"].data_dir))
    app.extensions["goedgesprek.leader"] = leader
    leader.start()
    return leader


def stop_in_server(app: Any) -> None:
    """Stop what `consume_in_server` started (the lock goes with it)."""
    leader: Leader | None = app.extensions.pop("goedgesprek.leader", None)
    if leader is not None:
        leader.stop()
