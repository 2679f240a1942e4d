"""`goedgesprek worker`: consume the background queue (reminders, prompts, nudges).

With ``GOEDGESPREK_REDIS_URL`` any number of workers, on any machines, consume the Redis queue;
without, a worker consumes the data directory's queue once no server worker holds it (a server
normally consumes it itself). ``--health`` is a container probe: it exits 0 when the queue
answers and a sweep ran lately (or none was due yet), 1 with the reason otherwise.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from addin.cli._errors import OneLineErrors, fail
from addin.cli.serve import check_queue, env_settings


@click.command(name="worker", cls=OneLineErrors)
@click.option("--health", is_flag=True, help="Check the queue and the last sweep, then exit.")
@click.option(
    "--threads",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Tasks run at once in this worker.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data directory (default: GOEDGESPREK_DATA_DIR, else the per-user one).",
)
def worker(health: bool, threads: int, data_dir: Path | None) -> None:
    """Consume the background queue until stopped (SIGTERM or Ctrl-C)."""
    from addin.background.queue import Background, WorkerLock
    from addin.wiring import build

    config = env_settings(os.environ, data_dir)
    try:
        check_queue(config)
    except ValueError as exc:
        fail(str(exc), code=2)
    try:
        services = build(config)
    except Exception as exc:  # a setting that cannot be used: one line, not a traceback
        fail(f"cannot start: {exc}")
    try:
        background = Background(services, config)
        if health:
            _health(background)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        lock = WorkerLock(Path(services.settings.data_dir)) if background.embedded else None
        if lock is not None and not lock.acquire():
            click.echo("waiting: a server worker consumes this data directory's queue", err=True)
            while not stop.wait(5):
                if lock.acquire():
                    break
        if stop.is_set():
            return
        background.start(workers=threads)
        where = "the data directory's queue" if background.embedded else "Redis"
        click.echo(f"consuming {where}; a sweep every {background.minutes} min", err=True)
        stop.wait()
        background.stop()
        if lock is not None:
            lock.release()
    finally:
        services.close()


def _health(background: Any) -> None:
    try:
        pending = len(background.huey)
        beat = background.heartbeat()
    except Exception as exc:  # the queue does not answer
        fail(f"the queue does not answer: {type(exc).__name__}: {exc}")
    if beat is None:
        click.echo(f"ok: the queue answers ({pending} waiting); no sweep has run yet")
        return
    at = datetime.fromisoformat(beat["at"])
    late = timedelta(minutes=3 * background.minutes + 2)
    age = datetime.now(UTC) - at
    if age > late:
        fail(f"the last sweep ran at {beat['at']}, over {int(late.total_seconds() // 60)} min ago")
    click.echo(
        f"ok: last sweep {int(age.total_seconds())} s ago ({beat['series']} series, "
        f"{beat['sent']} sent); {pending} waiting"
    )
