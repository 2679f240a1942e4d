"""msal-browser for the pane, as ES modules and without a bundler.

`make vendor` copies `@azure/msal-browser`'s `dist/**/*.mjs` and `@azure/msal-common`'s (whose
browser entry msal-browser imports by its bare name) from node_modules into `addin/pane/vendor`;
this blueprint serves them under a versioned URL, and `import_map()` is the page's import map that
maps the bare names onto those URLs. Only `.mjs` files of the two packages at their vendored
version are served: anything else, including a path that climbs out of the copy, is a 404.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, abort, send_from_directory, url_for
from werkzeug.wrappers import Response

VENDOR_DIR = Path(__file__).resolve().parent / "pane" / "vendor"

ENTRIES: dict[str, tuple[str, str]] = {
    "@azure/msal-browser": ("msal-browser", "index.mjs"),
    "@azure/msal-common/browser": ("msal-common", "index-browser.mjs"),
}
"""Bare specifier -> (vendored package, its browser ES entry), as each package.json exports it."""

PACKAGES = frozenset(package for package, _ in ENTRIES.values())
JS_MIME = "text/javascript"  # RFC 9239: the one JavaScript media type.
YEAR = 365 * 24 * 3600

bp = Blueprint("pane_vendor", __name__, url_prefix="/pane/vendor")


@cache
def vendored_version(package: str) -> str | None:
    """The version of the vendored copy of `package`, or None when `make vendor` has not run."""
    try:
        meta = json.loads((VENDOR_DIR / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = meta.get("version") if isinstance(meta, dict) else None
    return version if isinstance(version, str) and version else None


def import_map() -> dict[str, dict[str, str]] | None:
    """The import map for pages that load msal-browser, or None when it is not vendored."""
    imports: dict[str, str] = {}
    for specifier, (package, entry) in ENTRIES.items():
        version = vendored_version(package)
        if version is None:
            return None
        imports[specifier] = url_for(
            "pane_vendor.module", package=package, version=version, path=entry
        )
    return {"imports": imports}


@bp.get("/<package>@<version>/<path:path>")
def module(package: str, version: str, path: str) -> Response:
    """One ES module of a vendored package; the URL names the version, so it never changes."""
    if package not in PACKAGES or version != vendored_version(package):
        abort(404)
    if not path.endswith(".mjs"):
        abort(404)
    # send_from_directory joins safely: "..", absolute paths and backslashes are a 404.
    response = send_from_directory(VENDOR_DIR / package / "dist", path, mimetype=JS_MIME)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def init_app(app: Flask) -> None:
    """Register the vendored modules."""
    app.register_blueprint(bp)
