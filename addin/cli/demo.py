"""`goedgesprek demo`: the product on the local store, with a seeded pair."""

from __future__ import annotations

import os
from pathlib import Path

import click

from addin.cli._errors import fail


@click.command(name="demo")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the local calendar, drive and keyring live (default: the per-user data directory).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--provider",
    type=click.Choice(["local", "graph", "google"]),
    default="local",
    show_default=True,
    help="local: the embedded calendar and drive. graph or google: the real Microsoft or Google "
    "SDK against that provider's built-in emulator on 127.0.0.1 (fresh each start).",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(0, 5000),
    default=0.0,
    help="With --provider graph or google: delay every provider request this long.",
)
def demo(port: int, data_dir: Path | None, host: str, provider: str, latency_ms: float) -> None:
    """Start the demo: Ada (medewerker) and Grace (leidinggevende) on local calendars."""
    _stop_on_sigterm()
    if provider != "local":
        _provider_demo(provider, port, host, latency_ms)
        return
    from addin.app import close_app
    from addin.demo import create_demo_app, seed
    from cadence.errors import CadenceError
    from connectors._files import private_dir
    from connectors.keyring import default_data_dir

    data_dir = data_dir or default_data_dir()
    try:
        private_dir(data_dir, tighten=True)
    except OSError as exc:
        fail(f"cannot use data directory {data_dir}: {exc.strerror}")
    config: dict[str, object] = {"DATA_DIR": str(data_dir)}
    if not os.environ.get("GOEDGESPREK_PUBLIC_URL"):
        # The mails' links lead to this demo.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        config["PUBLIC_URL"] = f"http://{shown}:{port}"
    try:
        app = create_demo_app(config)
    except CadenceError as exc:
        fail(str(exc))
    store = app.extensions["goedgesprek.store"]
    seed(store, app.extensions["goedgesprek.clock"]())
    from addin.background.queue import background_for

    # The reminders and prompts: the data directory's queue, consumed in this process.
    background = background_for(app)
    background.start()
    click.echo(f"Goed Gesprek demo on http://{host}:{port}/  (data in {data_dir})")
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False)
    finally:
        background.stop()
        close_app(app)


def _stop_on_sigterm() -> None:
    """SIGTERM stops the server as Ctrl-C does, so what the demo opened is closed on the way out."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))


def _provider_demo(provider: str, port: int, host: str, latency_ms: float) -> None:
    """The demo through a provider's SDK and emulator, in a fresh data directory."""
    import tempfile

    from addin.cli.emulate import need_emulators

    need_emulators()

    from addin.demo import seed
    from addin.demo.provider import start

    with tempfile.TemporaryDirectory(prefix="goedgesprek-demo-") as data_dir:
        running = start(provider, Path(data_dir), latency_ms=latency_ms)
        try:
            seed(running.store, running.app.extensions["goedgesprek.clock"]())
            click.echo(
                f"Goed Gesprek demo on http://{host}:{port}/  "
                f"({provider} emulator on {running.server.url}, data in {data_dir})"
            )
            running.app.run(host=host, port=port, debug=False, use_reloader=False)
        finally:
            running.close()
