"""The Outlook task pane: its page, its function file and its static ES modules.

The page is plain HTML with ES modules and no inline script or style, so the app's strict CSP
holds. In Outlook it loads Office.js from Microsoft's CDN; the demo (`addin.demo.outlook`) serves
the same page with a stub Office host instead.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from addin.i18n import request_locale

OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"

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


def render_pane(office_js: str, *, demo: bool = False) -> str:
    """The task pane page with `office_js` as its Office host script."""
    return render_template("taskpane.html", office_js=office_js, lang=page_language(), demo=demo)


@bp.get("/")
def taskpane() -> str:
    """The task pane, as Outlook opens it."""
    return render_pane(OFFICE_JS)


@bp.get("/commands.html")
def commands() -> str:
    """The function file the manifest names; it only initialises Office.js."""
    return render_template("commands.html", office_js=OFFICE_JS, lang=page_language())


def init_app(app: Flask) -> None:
    """Register the pane."""
    app.register_blueprint(bp)
