"""`goedgesprek emulate`: serve the Graph, Google, Entra ID or Google OAuth emulator here, with
network realism.

The emulators come with the ``demo`` extra; they are imported only when this command runs.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import signal
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from click.core import ParameterSource

from addin.cli._errors import OneLineErrors, fail
from addin.signin import GRAPH_PERMISSIONS

if TYPE_CHECKING:
    from emulators.entra import EntraEmulator
    from emulators.faults import Faults
    from emulators.network import Limits, Network

HOST_ENV = "GOEDGESPREK_EMULATE_HOST"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
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
@click.argument("provider", type=click.Choice(["graph", "google", "entra", "google-oauth"]))
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
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Delay before each HTTP request (a batch waits it once).",
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
@click.option(
    "--tenant",
    default=None,
    help="entra: the tenant, by its domain or GUID (default contoso.example, a fresh GUID).",
)
@click.option(
    "--client-id",
    default=None,
    help="entra, google-oauth: our app's client id (default: a new one).",
)
@click.option(
    "--client-secret",
    default=None,
    help="entra, google-oauth: our app's client secret (default: a new one).",
)
@click.option(
    "--public-url",
    default=None,
    help="entra, google-oauth: the server's PUBLIC_URL (default https://localhost:5000). "
    "entra: its host names the API, api://HOST/CLIENT_ID; google-oauth: the client's redirect "
    "URI is PUBLIC_URL/workspace/oauth/callback.",
)
@click.option(
    "--spa-redirect",
    multiple=True,
    metavar="URI",
    help="entra: a single-page-app redirect URI of our app (repeatable); the pane's "
    "brk-multihub://HOST and PUBLIC_URL are always registered.",
)
@click.option(
    "--web-redirect",
    multiple=True,
    metavar="URI",
    help="entra, google-oauth: another web redirect URI of our app (repeatable).",
)
@click.option(
    "--with-graph",
    is_flag=True,
    help="entra: also serve the Graph emulator on this port (/v1.0), for on-behalf-of tokens.",
)
@click.option(
    "--admin-consent",
    is_flag=True,
    help="entra: the tenant's admin has consented to our API and Graph scopes for every user.",
)
@click.option(
    "--with-google",
    is_flag=True,
    help="google-oauth: also serve the Google API emulator (plain HTTP, a free port) that "
    "accepts the access tokens this emulator mints.",
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
    tenant: str | None,
    client_id: str | None,
    client_secret: str | None,
    public_url: str | None,
    spa_redirect: tuple[str, ...],
    web_redirect: tuple[str, ...],
    with_graph: bool,
    admin_consent: bool,
    with_google: bool,
) -> None:
    """Serve the PROVIDER emulator (graph, google, entra or google-oauth) until interrupted.

    Prints one line per --user with its bearer token and the base URL to point the SDK at. For
    entra it first prints the GOEDGESPREK_* settings a server needs (authority, CA file, client),
    and each user's token is an access token for our API. For google-oauth (Google's
    authorization and token endpoints and signing certificates) it prints the GOEDGESPREK_GOOGLE_*
    settings of the offline grant; each --user can consent on its page.
    """
    need_emulators()
    from connectors._files import write_atomically
    from emulators.serve import API_ROOT, Server, behind_network, emulator_for

    if not _is_loopback(host) and ctx.get_parameter_source("host") != ParameterSource.COMMANDLINE:
        fail(
            f"{host} (from ${HOST_ENV}) is not a loopback address: the emulator's tokens are not "
            "secrets, so serving beyond this machine needs --host on the command line",
            code=2,
        )
    network_options: dict[str, Any] = {
        "latency_ms": latency_ms,
        "jitter_ms": jitter_ms,
        "limits": _limits(rate, concurrency),
        "faults": faults,
    }
    entra_only = {
        "--tenant": tenant,
        "--spa-redirect": spa_redirect,
        "--with-graph": with_graph,
        "--admin-consent": admin_consent,
    }
    client_options = {
        "--client-id": client_id,
        "--client-secret": client_secret,
        "--public-url": public_url,
        "--web-redirect": web_redirect,
    }
    if provider != "google-oauth" and with_google:
        fail("--with-google is for the google-oauth emulator only", code=2)
    if provider == "google-oauth":
        given = [name for name, value in entra_only.items() if value]
        if given:
            fail(f"{given[0]} is for the entra emulator only", code=2)
        if tokens_file is not None and not with_google:
            fail(
                "--tokens-file needs --with-google: the tokens are for the Google API emulator",
                code=2,
            )
        _serve_google_oauth(
            host=host,
            port=port,
            users=users,
            tokens_file=tokens_file,
            network_options=network_options,
            client=_GoogleClientOptions(
                client_id, client_secret, public_url or "https://localhost:5000", web_redirect
            ),
            with_google=with_google,
        )
        return
    if provider == "entra":
        _serve_entra(
            host=host,
            port=port,
            users=users,
            tokens_file=tokens_file,
            network_options=network_options,
            entra=_EntraOptions(
                tenant or "contoso.example",
                client_id,
                client_secret,
                public_url or "https://localhost:5000",
                spa_redirect,
                web_redirect,
                with_graph,
                admin_consent,
            ),
        )
        return
    given = [name for name, value in entra_only.items() if value]
    if given:
        fail(f"{given[0]} is for the entra emulator only", code=2)
    given = [name for name, value in client_options.items() if value]
    if given:
        fail(f"{given[0]} is for the entra and google-oauth emulators only", code=2)
    emulator = emulator_for(provider)
    for email in users:
        emulator.add_user(email)
    network = behind_network(
        emulator,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        limits=_limits(rate, concurrency),
        faults=faults,
    )
    try:
        server = Server(network, port, host=host, keep_alive=True)
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
        _say_stopped([network])


def _limits(rate: tuple[int, float] | None, concurrency: int | None) -> Limits | None:
    from emulators.network import Limits

    if rate is None and concurrency is None:
        return None
    requests, seconds = rate if rate is not None else (None, 60.0)
    return Limits(requests=requests, per_seconds=seconds, concurrent=concurrency)


def _say_stopped(networks: list[Network]) -> None:
    requests = sum(n.stats.requests for n in networks)
    throttled = sum(n.stats.throttled for n in networks)
    kinds: dict[str, int] = {}
    for network in networks:
        for kind, count in network.stats.faults.items():
            kinds[kind] = kinds.get(kind, 0) + count
    faults_seen = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
    click.echo(
        f"stopped after {requests} requests, {throttled} throttled, faults: {faults_seen or 'none'}"
    )


@dataclass(frozen=True)
class _EntraOptions:
    tenant: str
    client_id: str | None
    client_secret: str | None
    public_url: str
    spa_redirects: tuple[str, ...]
    web_redirects: tuple[str, ...]
    with_graph: bool
    admin_consent: bool


GRAPH_SCOPES = (*GRAPH_PERMISSIONS, "offline_access")
"""What the emulated tenant knows of Graph: the add-in's permissions and a refresh token."""


def _register(emulator: EntraEmulator, entra: _EntraOptions) -> tuple[str, str, str, str]:
    """The tenant and our app; returns the tenant id, client id, secret and App ID URI."""
    public = urlsplit(entra.public_url)
    if public.scheme != "https" or not public.hostname:
        fail(f"--public-url {entra.public_url!r} is not an https URL", code=2)
    guid = _GUID.match(entra.tenant)
    tid = emulator.add_tenant(
        entra.tenant if guid else None,
        domain="contoso.example" if guid else entra.tenant,
    )
    client_id = entra.client_id or str(uuid.uuid4())
    secret = entra.client_secret or secrets.token_urlsafe(30)
    app_id_uri = f"api://{public.netloc}/{client_id}"
    origin = f"{public.scheme}://{public.netloc}"
    emulator.register_app(
        client_id,
        secret,
        tenant=tid,
        app_id_uri=app_id_uri,
        spa_redirect_uris=(f"brk-multihub://{public.netloc}", origin, *entra.spa_redirects),
        web_redirect_uris=entra.web_redirects,
    )
    return tid, client_id, secret, app_id_uri


def _serve_entra(
    *,
    host: str,
    port: int,
    users: tuple[str, ...],
    tokens_file: Path | None,
    network_options: dict[str, Any],
    entra: _EntraOptions,
) -> None:
    """Serve Entra ID (and Graph with --with-graph) over HTTPS with a throw-away CA."""
    from connectors._files import write_atomically
    from emulators.entra import EntraEmulator, with_graph
    from emulators.graph import GraphEmulator
    from emulators.serve import Server, behind_network
    from emulators.tls import LocalCA

    emulator = EntraEmulator()
    tid, client_id, secret, app_id_uri = _register(emulator, entra)
    networks = [behind_network(emulator, **network_options)]
    app: Any = networks[0]
    if entra.with_graph:
        graph = GraphEmulator()
        emulator.add_resource("https://graph.microsoft.com", graph.token, GRAPH_SCOPES)
        networks.append(behind_network(graph, **network_options))
        app = with_graph(networks[0], networks[1])
    if entra.admin_consent:
        scopes = ("access_as_user", *(GRAPH_SCOPES if entra.with_graph else ()))
        emulator.grant_consent(tid, client_id, scopes)
    ca = LocalCA()
    try:
        server = Server(app, port, host=host, tls=ca, keep_alive=True)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    emulator.base_url = server.url
    if not _is_loopback(host):
        click.echo(f"warning: serving on {host}, reachable beyond this machine", err=True)
    click.echo(f"entra emulator on {server.url} (Ctrl-C stops it)")
    settings = {
        "GOEDGESPREK_ENTRA_AUTHORITY": server.url,
        "GOEDGESPREK_ENTRA_CA_BUNDLE": str(ca.ca_file),
        "GOEDGESPREK_ENTRA_CLIENT_ID": client_id,
        "GOEDGESPREK_ENTRA_CLIENT_SECRET": secret,
        "GOEDGESPREK_ENTRA_TENANTS": tid,
        "GOEDGESPREK_ENTRA_APP_ID_URI": app_id_uri,
    }
    if entra.with_graph:
        settings["GOEDGESPREK_GRAPH_URL"] = server.url + "/v1.0"
    for name, value in settings.items():
        click.echo(f"{name}={value}")
    tokens = {}
    for email in users:
        emulator.add_user(email, tenant=tid)
        tokens[email] = emulator.issue_access_token(email, client_id=client_id)
    if tokens_file is not None:
        write_atomically(tokens_file, json.dumps(tokens, indent=2).encode() + b"\n", mode=0o600)
    for email, token in tokens.items():
        click.echo(f"user={email} token={token} url={server.url}/{tid}")
    try:
        _wait_for_stop()
    finally:
        server.close()
        _say_stopped(networks)


@dataclass(frozen=True)
class _GoogleClientOptions:
    client_id: str | None
    client_secret: str | None
    public_url: str
    redirects: tuple[str, ...]


def _google_client(client: _GoogleClientOptions) -> tuple[str, str, tuple[str, ...]]:
    """Our web client as the Google Cloud console makes it: id, secret, redirect URIs."""
    from addin.signin.google import CALLBACK_PATH

    public = urlsplit(client.public_url)
    if public.scheme != "https" or not public.hostname:
        fail(f"--public-url {client.public_url!r} is not an https URL", code=2)
    for uri in client.redirects:
        parts = urlsplit(uri)
        # Google accepts only https redirect URIs, and http for localhost.
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback_name(parts)):
            fail(f"--web-redirect {uri!r} is not an https URL", code=2)
    # The console's shapes: "<project number>-<random>.apps.googleusercontent.com", "GOCSPX-...".
    client_id = client.client_id or (
        f"{secrets.randbelow(10**12):012d}-{secrets.token_hex(16)}.apps.googleusercontent.com"
    )
    secret = client.client_secret or "GOCSPX-" + secrets.token_urlsafe(21)
    origin = f"{public.scheme}://{public.netloc}{public.path.rstrip('/')}"
    return client_id, secret, (origin + CALLBACK_PATH, *client.redirects)


def _nobody(environ: dict[str, Any]) -> str | None:
    return None


def _oauth_error(status: int, message: str) -> bytes:
    """The body of a throttled or failed answer from Google's OAuth endpoints: the OAuth 2.0
    error shape (RFC 6749 section 5.2) that Google's token endpoint answers with."""
    error = "temporarily_unavailable" if status == 429 or status >= 500 else "invalid_request"
    return json.dumps({"error": error, "error_description": message}).encode()


def _is_loopback_name(parts: Any) -> bool:
    return bool(parts.hostname) and _is_loopback(str(parts.hostname))


def _serve_google_oauth(
    *,
    host: str,
    port: int,
    users: tuple[str, ...],
    tokens_file: Path | None,
    network_options: dict[str, Any],
    client: _GoogleClientOptions,
    with_google: bool,
) -> None:
    """Serve Google's OAuth endpoints and certificates over HTTPS with a throw-away CA (and
    the Google API emulator beside it with --with-google)."""
    from connectors._files import write_atomically
    from emulators.google import GoogleEmulator
    from emulators.google_oauth import GoogleOAuthEmulator
    from emulators.network import Network
    from emulators.serve import Server, behind_network
    from emulators.tls import LocalCA

    client_id, secret, redirects = _google_client(client)
    api = GoogleEmulator() if with_google else None
    emulator = GoogleOAuthEmulator(
        mint=api.token if api is not None else None,
        revoked=api.revoke if api is not None else None,
    )
    emulator.add_client(client_id, secret, redirects)
    # Identity requests name no user in a header: one shared bucket, as for entra.
    networks = [Network(emulator, user_of=_nobody, error_body=_oauth_error, **network_options)]
    ca = LocalCA()
    servers: list[Server] = []
    try:
        servers.append(Server(networks[0], port, host=host, tls=ca, keep_alive=True))
        if api is not None:
            networks.append(behind_network(api, **network_options))
            servers.append(Server(networks[1], 0, host=host, keep_alive=True))
    except OSError as exc:
        for server in servers:
            server.close()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    base = servers[0].url
    if not _is_loopback(host):
        click.echo(f"warning: serving on {host}, reachable beyond this machine", err=True)
    click.echo(f"google-oauth emulator on {base} (Ctrl-C stops it)")
    # Where Google publishes them ("OAuth 2.0 for Web Server Applications"; the ID-token certs).
    settings = {
        "GOEDGESPREK_GOOGLE_OAUTH_CLIENT_ID": client_id,
        "GOEDGESPREK_GOOGLE_OAUTH_CLIENT_SECRET": secret,
        "GOEDGESPREK_GOOGLE_AUTH_URI": base + "/o/oauth2/v2/auth",
        "GOEDGESPREK_GOOGLE_TOKEN_URI": base + "/token",
        "GOEDGESPREK_GOOGLE_CERTS_URL": base + "/oauth2/v1/certs",
        "GOEDGESPREK_GOOGLE_CA_BUNDLE": str(ca.ca_file),
    }
    if api is not None:
        settings["GOEDGESPREK_GOOGLE_ROOT_URL"] = servers[1].url + "/"
    for name, value in settings.items():
        click.echo(f"{name}={value}")
    people = [emulator.add_person(email) for email in users]
    tokens = {p.email: api.token(p.email) for p in people} if api is not None else {}
    if tokens_file is not None:
        write_atomically(tokens_file, json.dumps(tokens, indent=2).encode() + b"\n", mode=0o600)
    for person in people:
        line = f"user={person.email} sub={person.subject}"
        if api is not None:
            line += f" token={tokens[person.email]} url={servers[1].url}/"
        click.echo(line)
    try:
        _wait_for_stop()
    finally:
        for server in servers:
            server.close()
        _say_stopped(networks)


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
