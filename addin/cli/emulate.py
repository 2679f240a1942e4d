"""`goedgesprek emulate`: serve the Graph or Google emulator here, with network realism.

The emulators come with the ``demo`` extra; they are imported only when this command runs.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from addin.cli._errors import OneLineErrors, fail

if TYPE_CHECKING:
    from emulators.faults import Faults

HOST_ENV = "GOEDGESPREK_EMULATE_HOST"
NO_EMULATORS = (
    "the emulators are not installed here: they are a distribution of their own, "
    "goedgesprek-emulators, in the emulators/ folder of a checkout (pip install ./emulators; "
    "make demo and make test install it)"
)


def need_emulators() -> None:
    """Stop with a sentence to act on when this install has no emulators."""
    try:
        import emulators  # noqa: F401
    except ImportError:
        fail(NO_EMULATORS, code=2)


def _rate(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, float] | None:
    if value is None:
        return None
    count, slash, seconds = value.partition("/")
    try:
        parsed = int(count), float(seconds)
    except ValueError:
        parsed = (0, 0.0)
    if not slash or parsed[0] < 1 or parsed[1] <= 0:
        raise click.BadParameter(
            f"{value!r} is not N/SECONDS (for example 10000/600: 10,000 requests per 10 minutes)"
        )
    return parsed


def _faults(ctx: click.Context, param: click.Parameter, value: Path | None) -> Faults | None:
    if value is None:
        return None
    need_emulators()
    from emulators.faults import FaultFileError, Faults

    try:
        return Faults.load(value)
    except FaultFileError as exc:
        raise click.BadParameter(str(exc)) from exc


def _users(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    for email in value:
        local, at, domain = email.partition("@")
        if not (local and at and "." in domain):
            raise click.BadParameter(f"{email!r} is not an email address")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command(name="emulate", cls=OneLineErrors)
@click.argument("provider", type=click.Choice(["graph", "google"]))
@click.option(
    "--port", required=True, type=click.IntRange(0, 65535), help="Port to listen on; 0: a free one."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar=HOST_ENV,
    help=f"Address to listen on (also ${HOST_ENV}). Only a --host on the command line may leave "
    "this machine.",
)
@click.option(
    "--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Delay before each request."
)
@click.option(
    "--jitter-ms", type=click.FloatRange(min=0), default=0.0, help="Up to this much extra delay."
)
@click.option(
    "--faults",
    "faults",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_faults,
    help="A fault file (Dev Proxy errors-file format, extended; see emulators/faults/).",
)
@click.option(
    "--rate",
    metavar="N/SECONDS",
    callback=_rate,
    help="Per-user rate limit, e.g. 10000/600 (Graph's Outlook limit) or 600/60 (Google's).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Per-user requests at a time, e.g. 4 (Graph's mailbox limit).",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="EMAIL",
    callback=_users,
    help="Add this user and print a bearer token for it (repeatable).",
)
@click.option(
    "--tokens-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the users' tokens as JSON {email: token}: the app's GRAPH_TOKENS or "
    "GOOGLE_TOKENS setting.",
)
@click.pass_context
def emulate(
    ctx: click.Context,
    *,
    provider: str,
    port: int,
    host: str,
    latency_ms: float,
    jitter_ms: float,
    faults: Faults | None,
    rate: tuple[int, float] | None,
    concurrency: int | None,
    users: tuple[str, ...],
    tokens_file: Path | None,
) -> None:
    """Serve the PROVIDER emulator (graph or google) until interrupted.

    Prints one line per --user with its bearer token and the base URL to point the SDK at.
    """
    need_emulators()
    from connectors._files import write_atomically
    from emulators.network import Limits
    from emulators.serve import API_ROOT, Server, behind_network, emulator_for

    if not _is_loopback(host) and ctx.get_parameter_source("host") != ParameterSource.COMMANDLINE:
        fail(
            f"{host} (from ${HOST_ENV}) is not a loopback address: the emulator's tokens are not "
            "secrets, so serving beyond this machine needs --host on the command line",
            code=2,
        )
    emulator = emulator_for(provider)
    for email in users:
        emulator.add_user(email)
    limits = None
    if rate is not None or concurrency is not None:
        requests, seconds = rate if rate is not None else (None, 60.0)
        limits = Limits(requests=requests, per_seconds=seconds, concurrent=concurrency)
    network = behind_network(
        emulator, latency_ms=latency_ms, jitter_ms=jitter_ms, limits=limits, faults=faults
    )
    try:
        server = Server(network, port, host=host)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    base = server.url + API_ROOT[provider]
    if not _is_loopback(host):
        click.echo(f"warning: serving on {host}, reachable beyond this machine", err=True)
    click.echo(f"{provider} emulator on {server.url} (Ctrl-C stops it)")
    tokens = {email: emulator.token(email) for email in users}
    if tokens_file is not None:
        # Written whole before the tokens are printed: a reader of the output finds it complete.
        write_atomically(tokens_file, json.dumps(tokens, indent=2).encode() + b"\n", mode=0o600)
    for email, token in tokens.items():
        click.echo(f"user={email} token={token} url={base}")
    try:
        _wait_for_stop()
    finally:
        server.close()
        stats = network.stats
        faults_seen = ", ".join(f"{kind} {n}" for kind, n in sorted(stats.faults.items()))
        click.echo(
            f"stopped after {stats.requests} requests, {stats.throttled} throttled, "
            f"faults: {faults_seen or 'none'}"
        )


def _wait_for_stop() -> None:
    """Block until SIGINT (Ctrl-C) or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous_term = signal.signal(signal.SIGTERM, on_signal)
    previous_int = signal.signal(signal.SIGINT, on_signal)
    try:
        stop.wait()
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
