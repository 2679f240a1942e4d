"""The application factory: one composition root, nothing built at import time."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from addin.settings import Settings
from connectors._files import write_atomically

OFFICE_JS_ORIGIN = "https://appsforoffice.microsoft.com"
"""Microsoft's CDN for Office.js: the only foreign origin the pages may load script from."""

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        f"script-src 'self' {OFFICE_JS_ORIGIN}",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)

FRAMEABLE_PREFIXES = ("/pane/", "/demo/pane", "/demo/cards")
"""Pages Outlook (or the demo's host preview) shows in a frame: no X-Frame-Options on them."""

FRAME_ANCESTORS = (
    "'self' https://*.office.com https://*.office365.com https://*.outlook.com "
    "https://*.microsoft.com https://*.live.com https://*.cloud.microsoft"
)


def _secret_key(data_dir: Path) -> bytes:
    """The session-signing key, made once per data directory and kept private (0600)."""
    path = data_dir / "secret_key"
    if not path.exists():
        # Another process may make it first; then its key is the one.
        with contextlib.suppress(FileExistsError):
            write_atomically(path, secrets.token_bytes(32), mode=0o600, exclusive=True)
    return path.read_bytes()


def create_app(
    config: dict[str, Any] | None = None,
    *,
    calendar: Callable[[str], Any] | None = None,
    drive: Callable[[str], Any] | None = None,
    mailer: Callable[[str], Any] | None = None,
    verifier: Any = None,
    store: Any = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """Build the app. Settings come from `GOEDGESPREK_*` variables, then `config` on top.

    `calendar`, `drive` and `mailer` give one user's port by email address (`Calendar`, `Drive`,
    `Mailer`). Left out, they come from `store` (a `LocalStore` or `MemoryStore`), by default the
    embedded `LocalStore` in the data directory. `verifier` checks Google's signed requests to the
    card endpoints; by default one that trusts the app's local signing key (demo, tests).
    `clock` is the app's "now" (default: real time, or the movable demo clock when DEMO is on).
    """
    app = Flask(__name__, template_folder="pages", static_folder="static")
    app.config.from_prefixed_env("GOEDGESPREK")
    if config:
        app.config.update(config)
    app.config.setdefault("MAX_CONTENT_LENGTH", 1024 * 1024)
    if app.config.get("PROXY_FIX"):
        # Behind a TLS-terminating proxy: the URL Google signed for must be the one we see.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    settings = Settings.from_mapping(app.config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.extensions["goedgesprek.settings"] = settings
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(settings.data_dir)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)

    from addin.backends import provider_ports

    provider = None if None not in (calendar, drive, mailer) else provider_ports(app.config)
    if provider is not None:
        app.extensions["goedgesprek.provider"] = provider
        calendar = calendar or provider.calendar
        drive = drive or provider.drive
        mailer = mailer or provider.mailer
    if store is None and None in (calendar, drive, mailer):
        from connectors.local import LocalStore

        store = LocalStore(Path(settings.data_dir))
    if store is not None:
        app.extensions["goedgesprek.store"] = store
    ports = {
        "calendar": calendar or store.calendar,
        "drive": drive or store.drive,
        "mailer": mailer or store.mailer,
    }
    app.extensions["goedgesprek.ports"] = ports

    clock = clock or _clock(app, settings)
    app.extensions["goedgesprek.clock"] = clock

    from addin.identity import LocalIdentity
    from addin.workspace.verify import LocalSigner

    signer = LocalSigner.open(settings.data_dir)
    app.extensions["goedgesprek.signer"] = signer
    app.extensions["goedgesprek.identity"] = app.extensions.get(
        "goedgesprek.identity"
    ) or LocalIdentity(signer)
    app.extensions["goedgesprek.verifier"] = verifier or signer.verifier(
        service_account_email=str(app.config.get("WORKSPACE_SERVICE_ACCOUNT") or "")
        or _local_service_account(),
        audience=app.config.get("WORKSPACE_AUDIENCE") or None,
    )

    # Checked now, so an organisation's broken template stops start-up with a clear message.
    from templates import load_templates

    templates = load_templates(settings.template_dirs)
    app.extensions["goedgesprek.templates"] = templates
    app.extensions["goedgesprek.service"] = _service(
        app, settings, ports=ports, templates=templates, clock=clock, store=store
    )

    _register(app)
    _security(app)
    return app


def _local_service_account() -> str:
    from addin.workspace.verify import LOCAL_SERVICE_ACCOUNT

    return LOCAL_SERVICE_ACCOUNT


def _clock(app: Flask, settings: Settings) -> Callable[[], datetime]:
    from addin.clock import DemoClock, real_now

    if app.config.get("DEMO"):
        return DemoClock(settings.data_dir)
    return real_now


def _service(
    app: Flask,
    settings: Settings,
    *,
    ports: dict[str, Any],
    templates: Any,
    clock: Callable[[], datetime],
    store: Any,
) -> Any:
    from addin.registry import Registry
    from addin.service import Conversations, KnownPerson
    from connectors.keyring import Keyring, KeyringError, default_keyring_path

    url = app.config.get("DATABASE_URL")
    registry = Registry(str(url)) if url else Registry.in_dir(settings.data_dir)
    try:
        keyring = Keyring.from_default(settings.data_dir)
    except KeyringError:
        path = default_keyring_path(settings.data_dir)
        if path.exists() or not (app.config.get("DEMO") or app.testing):
            raise
        keyring = Keyring.init(path)

    def directory(email: str) -> KnownPerson | None:
        if store is None or not hasattr(store, "people"):
            return None
        for person in store.people():
            if person.email == email:
                return KnownPerson(person.email, person.name, person.tz)
        return None

    return Conversations(
        calendar=ports["calendar"],
        drive=ports["drive"],
        registry=registry,
        keyring=keyring,
        templates=templates,
        clock=clock,
        directory=directory,
        country=settings.country,
        default_locale=settings.default_locale,
    )


def _register(app: Flask) -> None:
    from addin import api, demo, i18n, pane, support
    from addin.workspace import endpoints

    for module in (i18n, api, pane, support, endpoints, demo):
        module.init_app(app)


def _security(app: Flask) -> None:
    from addin.errors import error_message
    from addin.i18n import request_locale

    generic = {404: "no_such_page", 405: "method_not_allowed", 413: "too_large"}

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = exc.code or 500
        key = generic.get(code)
        if key == "too_large":
            message = error_message(
                key, request_locale(), kb=app.config["MAX_CONTENT_LENGTH"] // 1024
            )
        elif key is not None:
            message = error_message(key, request_locale())
        else:
            message = exc.description or exc.name
        return jsonify(error=key or exc.name.lower().replace(" ", "_"), message=message), code

    @app.after_request
    def _headers(response: Response) -> Response:
        csp = CSP
        if request.path.startswith(FRAMEABLE_PREFIXES):
            csp += f"; frame-ancestors {FRAME_ANCESTORS}"
        else:
            csp += "; frame-ancestors 'self'"
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.get("/healthz")
    def _health() -> Response:
        return jsonify(status="ok")
