"""`goedgesprek workspace`: try the Google Workspace add-on's endpoints without Google."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from addin.cli._errors import OneLineErrors, fail
from addin.workspace.verify import LOCAL_SERVICE_ACCOUNT, LocalSigner, SigningKeyError
from connectors.keyring import default_data_dir


@click.group(name="workspace")
def workspace() -> None:
    """The Google Workspace add-on: sign requests so its card endpoints can be tried locally."""


@workspace.command(name="sign-request", cls=OneLineErrors)
@click.option(
    "--url",
    required=True,
    help="The add-on endpoint the request goes to, exactly as requested (the token's audience).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the local signing key lives (default: $GOEDGESPREK_DATA_DIR, else the per-user "
    "data directory): the same directory the demo runs on.",
)
@click.option(
    "--email",
    default=LOCAL_SERVICE_ACCOUNT,
    show_default=True,
    help="The service-account email the token claims to come from.",
)
def sign_request(url: str, data_dir: Path | None, email: str) -> None:
    """Print an 'Authorization: Bearer <token>' line that the local demo accepts for URL.

    The token has the shape of Google's own (issuer, audience, email, one hour of validity) and is
    signed by the demo's local key, made on first use. Try an endpoint with:

        curl -H "$(goedgesprek workspace sign-request --url URL)" -d '{}' URL
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail(f"--url must be the endpoint's absolute http(s) URL, got {url!r}", code=2)
    if not email.strip():
        fail("--email must be a service-account email, got an empty one", code=2)
    directory = data_dir if data_dir is not None else default_data_dir()
    try:
        signer = LocalSigner.open(directory)
    except SigningKeyError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(
            f"cannot create or read the signing key in {directory}: {exc.strerror or exc}; "
            "pass --data-dir with a writable directory"
        )
    token = signer.sign(audience=url, now=datetime.now(UTC), email=email.strip())
    click.echo(f"Authorization: Bearer {token}")
