"""`goedgesprek serve`: the product (`addin.app:create_app`, never the demo) under gunicorn.

Settings come from ``GOEDGESPREK_*`` variables, as for `create_app`. The migrations run once in
the arbiter before any worker forks; each worker then builds its own app (no database connection
crosses a fork) and closes it when it exits. Behind a TLS-terminating proxy, ``PROXY_FIX`` says
how many proxies set each forwarded header: ``x_for,x_proto,x_host`` (``1,1,1``; ``1`` means the
same). Without an https ``PUBLIC_URL`` the server refuses to start, unless ``--insecure-local``
(loopback only) says this is a trial on one machine.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from addin.cli._errors import OneLineErrors, fail
from addin.settings import ProxyHops, proxy_hops

PREFIX = "GOEDGESPREK_"


def check_public_url(public_url: str | None, *, insecure_local: bool, bind: str) -> None:
    """Refuse to serve the product without an https public origin (`ValueError` says why)."""
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme == "https" and parts.hostname and parts.path in ("", "/"):
            return
        if parts.scheme != "https" and not insecure_local:
            raise ValueError(
                f"PUBLIC_URL must be the server's https origin, such as "
                f"https://goedgesprek.example.org, not {public_url!r}"
            )
        if parts.scheme == "https":
            raise ValueError(
                f"PUBLIC_URL must be an origin only (https://host), without a path: {public_url!r}"
            )
    if not insecure_local:
        raise ValueError(
            "set GOEDGESPREK_PUBLIC_URL to the server's https origin (the tokens' audience), "
            "or pass --insecure-local for a trial on this machine"
        )
    host = bind.rsplit(":", 1)[0].strip("[]") if ":" in bind else bind
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"--insecure-local serves on a loopback address only (127.0.0.1:PORT), not {bind!r}"
        )


def check_queue(settings: Mapping[str, str]) -> None:
    """The background queue's settings (`QueueSettingError`, a `ValueError`, says what is wrong)."""
    from addin.background.queue import redis_url, sweep_minutes
    from addin.background.service import sweep_threads

    sweep_minutes(settings)
    redis_url(settings)
    sweep_threads(settings)


def env_settings(environ: Mapping[str, str], data_dir: Path | None = None) -> dict[str, str]:
    """The ``GOEDGESPREK_*`` settings in `environ`, without the prefix; `data_dir` (a command's
    ``--data-dir``) replaces ``DATA_DIR``. The commands read their settings as the app does."""
    found = {k[len(PREFIX) :]: v for k, v in environ.items() if k.startswith(PREFIX)}
    if data_dir is not None:
        found["DATA_DIR"] = str(data_dir)
    return found


def migrate(settings: Mapping[str, str]) -> str:
    """Bring the server database to the newest revision; returns it."""
    from addin.store.db import create_store_engine, upgrade
    from connectors.keyring import default_data_dir

    data_dir = Path(settings.get("DATA_DIR") or default_data_dir())
    engine = create_store_engine(settings.get("DATABASE_URL") or None, data_dir=data_dir)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def product_app(hops: ProxyHops) -> Any:
    """The product's WSGI app, behind ProxyFix when proxies are trusted."""
    from addin.app import create_app

    # `create_app` puts ProxyFix in front with these counts.
    return create_app({"PROXY_FIX": f"{hops.x_for},{hops.x_proto},{hops.x_host}"})


def _gunicorn(load: Callable[[], Any], options: Mapping[str, Any]) -> Any:
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

    class Server(BaseApplication):  # type: ignore[misc]
        """gunicorn embedded: its options from our command line, never from sys.argv."""

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return load()

    return Server()


def _post_worker_init(worker: Any) -> None:
    """Each worker competes for the data directory's worker lock; the holder consumes the
    embedded queue (reminders and prompts), and another takes over when it exits."""
    app = getattr(worker, "wsgi", None)
    if app is not None and "goedgesprek.services" in getattr(app, "extensions", {}):
        from addin.background.queue import consume_in_server

        consume_in_server(app)


def _worker_exit(_arbiter: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if app is not None and "goedgesprek.close" in getattr(app, "extensions", {}):
        from addin.app import close_app
        from addin.background.queue import stop_in_server

        stop_in_server(app)
        close_app(app)


@click.command(cls=OneLineErrors)
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to serve on.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Worker processes (about 2 per core).",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Threads per worker: a request mostly waits on the calendar and drive, so each worker "
    "serves several at once.",
)
@click.option(
    "--timeout",
    type=click.IntRange(5, 600),
    default=60,
    show_default=True,
    help="Seconds a request may take before its worker is restarted.",
)
@click.option(
    "--insecure-local",
    is_flag=True,
    help="Serve on a loopback address without an https PUBLIC_URL (a trial, never production).",
)
def serve(bind: str, workers: int, threads: int, timeout: int, insecure_local: bool) -> None:
    """Run the product under gunicorn (behind a TLS-terminating proxy in production)."""
    settings = env_settings(os.environ)
    try:
        check_public_url(settings.get("PUBLIC_URL"), insecure_local=insecure_local, bind=bind)
        hops = proxy_hops(settings.get("PROXY_FIX"))
        check_queue(settings)
    except ValueError as exc:
        fail(str(exc), code=2)
    from addin.store.db import StoreError

    try:
        revision = migrate(settings)
    except StoreError as exc:
        fail(str(exc), code=2)
    click.echo(f"server database at revision {revision}", err=True)
    options = {
        "bind": bind,
        "workers": workers,
        # More than one thread makes gunicorn use its threaded worker (gthread).
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": min(timeout, 30),
        "accesslog": "-",
        "preload_app": False,
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
        # The proxy's own address: gunicorn honours X-Forwarded-* only from there; ProxyFix
        # (PROXY_FIX) is what the app goes by.
        "forwarded_allow_ips": "127.0.0.1,::1",
        # gunicorn's control socket would sit in the home directory, shared by every server
        # of the user: nothing here needs it.
        "control_socket_disable": True,
    }
    _gunicorn(lambda: product_app(hops), options).run()
