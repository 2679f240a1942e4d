"""`goedgesprek demo`: the product on the local store, with a seeded pair."""

from __future__ import annotations

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
def demo(port: int, data_dir: Path | None, host: str) -> None:
    """Start the demo: Ada (medewerker) and Grace (leidinggevende) on local calendars."""
    from addin.app import create_app
    from addin.demo import seed
    from cadence.errors import CadenceError
    from connectors.keyring import default_data_dir

    data_dir = data_dir or default_data_dir()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot use data directory {data_dir}: {exc.strerror}")
    try:
        app = create_app({"DATA_DIR": str(data_dir), "DEMO": True})
    except CadenceError as exc:
        fail(str(exc))
    store = app.extensions["goedgesprek.store"]
    seed(store, app.extensions["goedgesprek.clock"]())
    click.echo(f"Goed Gesprek demo on http://{host}:{port}/  (data in {data_dir})")
    app.run(host=host, port=port, debug=False, use_reloader=False)
