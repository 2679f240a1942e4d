"""The product's application factory: settings, blueprints, security headers; nothing built at
import time. Every service comes from the composition root (`addin.wiring`); the demo adds itself
on top (`addin.demo.create_demo_app`)."""

from __future__ import annotations

import contextlib
import gc
import secrets
import weakref
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from addin.settings import Settings, gc_freeze, proxy_hops
from connectors._files import private_dir, write_atomically

if TYPE_CHECKING:
    from addin.backends import Ports
    from addin.wiring import Store
    from addin.workspace.verify import RequestVerifier
    from connectors.ports import Calendar, Drive, Mailer

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

FRAMEABLE_PREFIXES: tuple[str, ...] = ("/pane/",)
"""Pages Outlook shows in a frame: no X-Frame-Options on them (the demo adds its own)."""

FRAME_ANCESTORS = (
    "'self' https://*.office.com https://*.office365.com https://*.outlook.com "
    "https://*.microsoft.com https://*.live.com https://*.cloud.microsoft"
)


def secret_key(data_dir: Path) -> bytes:
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
    calendar: Callable[[str], Calendar] | None = None,
    drive: Callable[[str], Drive] | None = None,
    mailer: Callable[[str], Mailer] | None = None,
    verifier: RequestVerifier | None = None,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """Build the app. Settings come from `GOEDGESPREK_*` variables, then `config` on top.

    This is the product: it wires nothing of the demo (`addin.demo.create_demo_app` adds it).
    Services come from the composition root (`addin.wiring.build`): `calendar`, `drive` and
    `mailer` give one user's port by email address; left out, they come from the configured
    provider or from `store` (by default the embedded `LocalStore` in the data directory).
    `verifier` checks Google's signed requests to the card endpoints (default: one that trusts
    the app's local signing key). `clock` is the app's "now" (default: real time). What the
    composition root made is released by `close_app(app)`, or when the app is collected or the
    process exits. Unless ``GC_FREEZE`` is false (the default when testing, where many apps are
    made in one process), what start-up made is frozen out of the garbage collector's scans.
    """
    # Start-up allocates much and frees little: the collector's passes over the growing heap
    # (a few dozen, about 50 ms) would find next to nothing. It runs again once the app is made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        app = _create_app(
            config,
            calendar=calendar,
            drive=drive,
            mailer=mailer,
            verifier=verifier,
            store=store,
            clock=clock,
        )
    finally:
        if collecting:
            gc.enable()
    if gc_freeze(app.config):
        # What start-up made lives as long as the process: leave it out of every later full
        # garbage collection, which would scan it each time (about 50 ms, inside a request).
        gc.freeze()
    return app


def _create_app(
    config: dict[str, Any] | None,
    *,
    calendar: Callable[[str], Calendar] | None,
    drive: Callable[[str], Drive] | None,
    mailer: Callable[[str], Mailer] | None,
    verifier: RequestVerifier | None,
    store: Store | None,
    clock: Callable[[], datetime] | None,
) -> Flask:
    app = Flask(__name__, template_folder="pages", static_folder="static")
    app.config.from_prefixed_env("GOEDGESPREK")
    if config:
        app.config.update(config)
    app.config.setdefault("MAX_CONTENT_LENGTH", 1024 * 1024)
    hops = proxy_hops(str(app.config.get("PROXY_FIX") or ""))
    if hops.any:
        # Behind a TLS-terminating proxy: the URL Google signed for must be the one we see.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops.x_for, x_proto=hops.x_proto, x_host=hops.x_host
        )
    settings = Settings.from_mapping(app.config)
    private_dir(settings.data_dir, tighten=True)
    app.extensions["goedgesprek.settings"] = settings
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(settings.data_dir)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)

    from addin.wiring import build

    services = build(
        app.config,
        calendar=calendar,
        drive=drive,
        mailer=mailer,
        store=store,
        verifier=verifier,
        clock=clock,
        create_keyring=app.testing,
    )
    app.extensions["goedgesprek.services"] = services
    # Closed when the app is collected or the interpreter exits, or at once by `close_app`.
    app.extensions["goedgesprek.close"] = weakref.finalize(app, services.close)
    if services.provider is not None:
        app.extensions["goedgesprek.provider"] = services.provider
    if services.store is not None:
        app.extensions["goedgesprek.store"] = services.store
    app.extensions["goedgesprek.ports"] = services.ports
    app.extensions["goedgesprek.clock"] = services.clock
    app.extensions["goedgesprek.signer"] = services.signer
    app.extensions["goedgesprek.identity"] = services.identity
    app.extensions["goedgesprek.verifier"] = services.verifier
    app.extensions["goedgesprek.templates"] = services.templates
    app.extensions["goedgesprek.service"] = services.conversations
    app.extensions["goedgesprek.directory"] = services.directory
    app.extensions["goedgesprek.frameable"] = FRAMEABLE_PREFIXES

    _register(app)
    _security(app)
    _warm_on_first_request(app, services.provider)
    return app


def _warm_on_first_request(app: Flask, provider: Ports | None) -> None:
    """Start the provider's warm-up (Graph's SDK imports) with the first request, not before:
    `create_app` stays quick and the pane's page, loaded before its first API call, gives the
    thread a head start."""
    warm = provider.warm if provider is not None else None
    if warm is None:
        return
    begun = False

    @app.before_request
    def _warm() -> None:
        nonlocal begun
        if not begun:
            begun = True
            warm()


def close_app(app: Flask) -> None:
    """Release the app's resources now (thread pools, database engines, provider sessions)."""
    close: weakref.finalize[Any, Any] = app.extensions["goedgesprek.close"]
    close()


def _register(app: Flask) -> None:
    from addin import api, feedback_page, hr_page, i18n, pane, pane_vendor, record_page, support
    from addin.workspace import endpoints

    for module in (
        i18n,
        api,
        pane,
        pane_vendor,
        support,
        record_page,
        feedback_page,
        hr_page,
        endpoints,
    ):
        module.init_app(app)


def _security(app: Flask) -> None:
    from addin.errors import error_message
    from addin.i18n import request_locale

    generic = {404: "no_such_page", 405: "method_not_allowed", 413: "too_large"}

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        key = generic.get(code)
        if key == "too_large":
            message = error_message(
                key, request_locale(), limit=app.config["MAX_CONTENT_LENGTH"] // 1024
            )
        elif key is not None:
            message = error_message(key, request_locale())
        else:
            message = exc.description or exc.name
        response = jsonify(error=key or exc.name.lower().replace(" ", "_"), message=message)
        response.status_code = code
        # The exception's own headers stay: a 405 names the allowed methods (Allow, RFC 9110).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.after_request
    def _headers(response: Response) -> Response:
        csp = CSP
        if request.path.startswith(app.extensions["goedgesprek.frameable"]):
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
