"""`goedgesprek workspace`: try the Google Workspace add-on's endpoints without Google."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from addin.cli._errors import OneLineErrors, fail
from addin.workspace.verify import LOCAL_SERVICE_ACCOUNT, LocalSigner, SigningKeyError
from connectors.keyring import default_data_dir

DEMO_USER = "ada@example.org"
"""The demo's employee: the person a --body request speaks for unless --user says otherwise."""


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
@click.option(
    "--body",
    "as_body",
    is_flag=True,
    help="Print the event object to send instead: Google's JSON with the user's signed ID token "
    "(authorizationEventObject.userIdToken), which every endpoint needs besides the header.",
)
@click.option(
    "--user",
    default=DEMO_USER,
    show_default=True,
    help="With --body: the person using the add-on (the demo's employee by default).",
)
@click.option(
    "--event", "event_id", default="", help="With --body: the calendar event id that is open."
)
@click.option(
    "--locale",
    type=click.Choice(["nl", "en"]),
    default="nl",
    show_default=True,
    help="With --body: the user's language, which the cards speak.",
)
def sign_request(
    *,
    url: str,
    data_dir: Path | None,
    email: str,
    as_body: bool,
    user: str,
    event_id: str,
    locale: str,
) -> None:
    """Print an 'Authorization: Bearer <token>' line that the local demo accepts for URL.

    The token has the shape of Google's own (issuer, audience, email, one hour of validity) and is
    signed by the demo's local key, made on first use. Google also signs the user's ID token into
    the event object it sends; --body prints such an event object. Try an endpoint of the running
    demo with:

    \b
        URL=http://127.0.0.1:8765/workspace/homepage
        curl -H "$(goedgesprek workspace sign-request --url $URL)" \\
             -H 'Content-Type: application/json' \\
             -d "$(goedgesprek workspace sign-request --url $URL --body)" $URL
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail(f"--url must be the endpoint's absolute http(s) URL, got {url!r}", code=2)
    if not email.strip():
        fail("--email must be a service-account email, got an empty one", code=2)
    if as_body and "@" not in user:
        fail(f"--user must be an email address, got {user!r}", code=2)
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
    now = datetime.now(UTC)
    if as_body:
        click.echo(
            json.dumps(
                _event_object(
                    signer, url, now=now, user=user.strip(), event_id=event_id, locale=locale
                )
            )
        )
        return
    token = signer.sign(audience=url, now=now, email=email.strip())
    click.echo(f"Authorization: Bearer {token}")


def _event_object(
    signer: LocalSigner, url: str, *, now: datetime, user: str, event_id: str, locale: str
) -> dict[str, Any]:
    """Google's event object for `url` as `user`: the parts the add-on reads.

    The user's ID token is signed for `url`, as the demo (with no ``WORKSPACE_CLIENT_ID`` or
    ``WORKSPACE_AUDIENCE``) expects it.
    """
    token = signer.sign(
        audience=url, now=now, email=user, extra={"name": user.split("@", maxsplit=1)[0]}
    )
    body: dict[str, Any] = {
        "commonEventObject": {
            "hostApp": "CALENDAR",
            "platform": "WEB",
            "userLocale": {"nl": "nl-NL", "en": "en-GB"}[locale],
            "timeZone": {"id": "Europe/Amsterdam"},
        },
        "authorizationEventObject": {"userIdToken": token},
    }
    if event_id:
        body["calendar"] = {"id": event_id, "calendarId": user}
    return body
