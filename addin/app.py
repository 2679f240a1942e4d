"""The application factory: one composition root, nothing built at import time."""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from addin.settings import Settings
from connectors._files import write_atomically

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
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
    store: Any = None,
) -> Flask:
    """Build the app. Settings come from `GOEDGESPREK_*` variables, then `config` on top.

    `store` is a connector store (`LocalStore`, `MemoryStore`); by default a `LocalStore` in the
    configured data directory, opened on first use.
    """
    app = Flask(__name__, template_folder="pages", static_folder="static")
    app.config.from_prefixed_env("GOEDGESPREK")
    if config:
        app.config.update(config)
    settings = Settings.from_mapping(app.config)
    app.extensions["goedgesprek.settings"] = settings
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(settings.data_dir)
    if store is None:
        from connectors.local import LocalStore

        store = LocalStore(Path(settings.data_dir))
    app.extensions["goedgesprek.store"] = store
    # Checked now, so an organisation's broken template stops start-up with a clear message.
    from templates import load_templates

    app.extensions["goedgesprek.templates"] = load_templates(settings.template_dirs)

    from addin import demo

    demo.init_app(app)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.name, message=exc.description), exc.code or 500

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    @app.get("/healthz")
    def _health() -> Response:
        return jsonify(status="ok")

    return app
