"""The Outlook task pane: its page, its function file and its static ES modules.

The page is plain HTML with ES modules and no inline style; its one inline script is the import
map for msal-browser, allowed by its hash in the page's own CSP. In Outlook it loads Office.js from
Microsoft's CDN; the demo (`addin.demo.outlook`) serves the same page with a stub Office host.

How the pane signs in comes from the server (`signin_config`): with `ENTRA_CLIENT_ID` set it is
Entra ID through msal-browser (`static/auth.js`), else the local identity the host hands out.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, after_this_request, current_app, render_template, request
from werkzeug.wrappers import Response

from addin.i18n import request_locale
from addin.pane_vendor import import_map

OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
ENTRA_AUTHORITY = "https://login.microsoftonline.com"
API_SCOPE = "access_as_user"

bp = Blueprint(
    "pane",
    __name__,
    url_prefix="/pane",
    static_folder="static",
    static_url_path="/static",
    template_folder="pages",
)


def page_language() -> str:
    """The language the page starts in, before Office tells the pane the user's display language."""
    return request_locale()


def _public_url() -> str:
    """The configured public origin; the request's own only when none is configured (the demo)."""
    configured = str(current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    return configured or request.host_url.rstrip("/")


def _entra_tenant(tenants: str) -> str:
    """The authority's tenant segment: the one allowed tenant, else `organizations` (work accounts).

    Microsoft's NAA samples use a tenant GUID for single-tenant apps and `common`/`organizations`
    for multi-tenant ones; the server still checks each token's `tid` against ENTRA_TENANTS.
    """
    listed = [t.strip() for t in tenants.split(",") if t.strip()]
    if len(listed) == 1 and listed[0].lower() != "any":
        return listed[0]
    return "organizations"


def signin_config() -> dict[str, Any]:
    """How the pane gets its token: `{"mode": "local"}` or Entra ID's msal-browser settings."""
    config = current_app.config
    client_id = str(config.get("ENTRA_CLIENT_ID") or "").strip()
    if not client_id:
        return {"mode": "local"}
    base = str(config.get("ENTRA_AUTHORITY") or ENTRA_AUTHORITY).strip().rstrip("/")
    public = _public_url()
    app_id_uri = str(config.get("ENTRA_APP_ID_URI") or "").strip().rstrip("/")
    if not app_id_uri:
        # As the server's token check defaults it (addin.signin.entra): never the request's Host.
        host = urlsplit(str(config.get("PUBLIC_URL") or "")).netloc
        app_id_uri = f"api://{host}/{client_id}" if host else f"api://{client_id}"
    authority_host = urlsplit(base).netloc
    return {
        "mode": "entra",
        "clientId": client_id,
        "authority": f"{base}/{_entra_tenant(str(config.get('ENTRA_TENANTS') or 'any'))}",
        # msal-browser trusts only Microsoft's clouds unless the authority's host is listed.
        "knownAuthorities": []
        if authority_host == urlsplit(ENTRA_AUTHORITY).netloc
        else [authority_host],
        # The access token is for our API, never Graph's (the server exchanges it on-behalf-of).
        "scopes": [f"{app_id_uri}/{API_SCOPE}"],
        "redirectUri": f"{public}/pane/signin-done",
        "dialogUrl": f"{public}/pane/signin-dialog",
    }


def _page_csp(inline_scripts: list[str], connect: list[str]) -> str:
    """The app's CSP, plus the hashes of this page's inline scripts and the origins it fetches."""
    from addin.app import CSP, FRAME_ANCESTORS

    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in inline_scripts
    ]
    directives = []
    extra = {"script-src": hashes, "connect-src": connect}
    for directive in CSP.split("; "):
        directives.append(" ".join([directive, *extra.get(directive.split(" ", 1)[0], [])]))
    frameable = request.path.startswith(current_app.extensions["goedgesprek.frameable"])
    ancestors = FRAME_ANCESTORS if frameable else "'self'"
    directives.append(f"frame-ancestors {ancestors}")
    return "; ".join(directives)


def _render_signin_page(template: str, **context: Any) -> str:
    """A page that may load msal-browser: its import map, sign-in settings and matching CSP."""
    signin = signin_config()
    imports = import_map()
    # "<" escaped so the JSON can never close the script element it sits in.
    map_json = json.dumps(imports, separators=(",", ":")).replace("<", "\\u003c") if imports else ""
    connect = []
    if signin["mode"] == "entra":
        parts = urlsplit(signin["authority"])
        connect.append(f"{parts.scheme}://{parts.netloc}")
    csp = _page_csp([map_json] if map_json else [], connect)

    @after_this_request
    def _with_csp(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = csp
        if not request.path.startswith(current_app.extensions["goedgesprek.frameable"]):
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response

    return render_template(
        template,
        lang=page_language(),
        import_map=map_json,
        signin=json.dumps(signin, separators=(",", ":")),
        **context,
    )


def render_pane(office_js: str, *, demo: bool = False) -> str:
    """The task pane page with `office_js` as its Office host script."""
    return _render_signin_page("taskpane.html", office_js=office_js, demo=demo)


@bp.get("/")
def taskpane() -> str:
    """The task pane, as Outlook opens it."""
    return render_pane(OFFICE_JS)


@bp.get("/signin-dialog")
def signin_dialog() -> str:
    """The Office dialog API fallback where Outlook lacks NAA: msal-browser signs in by redirect
    inside the dialog and hands the token to the pane with `Office.context.ui.messageParent`."""
    return _render_signin_page("signin-dialog.html", office_js=OFFICE_JS)


@bp.get("/signin-done")
def signin_done() -> str:
    """The redirect URI of msal-browser's popup: a blank page, as msal-browser 4 advises, from
    which the pane reads the answer (the popup must not run the app again)."""
    return render_template("signin-done.html", lang=page_language())


@bp.get("/commands.html")
def commands() -> str:
    """The function file the manifest names; it only initialises Office.js."""
    return render_template("commands.html", office_js=OFFICE_JS, lang=page_language())


def init_app(app: Flask) -> None:
    """Register the pane."""
    app.register_blueprint(bp)
