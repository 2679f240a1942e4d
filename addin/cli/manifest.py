"""`goedgesprek manifest`: the Outlook manifest and the Google add-on deployment for one host."""

from __future__ import annotations

from pathlib import Path

import click

from addin.cli._errors import OneLineErrors, fail
from manifest.build import DEFAULT_VERSION, PROVIDER, write_manifests


@click.command(name="manifest", cls=OneLineErrors)
@click.option(
    "--base-url",
    required=True,
    help="The public https address the app is served at, e.g. https://goedgesprek.example.org.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The directory to write outlook.xml and workspace-deployment.json into (made if needed).",
)
@click.option(
    "--app-id",
    default=None,
    help="The Outlook add-in's GUID (default: derived from --base-url, the same on every run).",
)
@click.option(
    "--addin-version",
    default=DEFAULT_VERSION,
    show_default=True,
    help="The Outlook add-in version, four numbers; raise it for every update you publish.",
)
@click.option(
    "--provider",
    default=PROVIDER,
    show_default=True,
    help="The organisation publishing the add-in, shown in Outlook.",
)
@click.option(
    "--app-domain",
    "app_domains",
    multiple=True,
    help="An extra https origin the task pane may navigate to (repeatable; usually none).",
)
@click.option(
    "--entra-client-id",
    envvar="GOEDGESPREK_ENTRA_CLIENT_ID",
    default=None,
    help="The Entra app registration's client id (GUID; default: $GOEDGESPREK_ENTRA_CLIENT_ID): "
    "adds WebApplicationInfo for Outlook sign-in.",
)
@click.option(
    "--app-id-uri",
    envvar="GOEDGESPREK_ENTRA_APP_ID_URI",
    default=None,
    help="Our API's App ID URI in that registration (default: api://HOST/CLIENT-ID).",
)
@click.option(
    "--allow-loopback",
    is_flag=True,
    help="Accept http://127.0.0.1 or http://localhost, for sideloading on this machine only.",
)
def manifest(
    *,
    base_url: str,
    out_dir: Path,
    app_id: str | None,
    addin_version: str,
    provider: str,
    app_domains: tuple[str, ...],
    entra_client_id: str | None,
    app_id_uri: str | None,
    allow_loopback: bool,
) -> None:
    """Write outlook.xml and workspace-deployment.json for the app served at --base-url.

    Prints the path of each file written. Upload outlook.xml in Outlook (My add-ins, Add a
    custom add-in) or in the Microsoft 365 admin center; create the Google add-on with
    `gcloud workspace-add-ons deployments create NAME --deployment-file=FILE`.
    """
    try:
        paths = write_manifests(
            base_url,
            out_dir,
            app_id=app_id,
            version=addin_version,
            allow_loopback=allow_loopback,
            app_domains=app_domains,
            provider=provider,
            entra_client_id=entra_client_id or None,
            app_id_uri=app_id_uri or None,
        )
    except ValueError as exc:
        fail(str(exc), code=2)
    except OSError as exc:
        fail(f"cannot write to {out_dir}: {exc.strerror or exc}; pass --out with a writable path")
    for path in paths:
        click.echo(str(path))
