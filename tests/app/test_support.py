"""The support and privacy pages: language choice, truthful content, escaping, no inline code,
and (in headless Chromium) no serious or critical axe-core finding."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addin.app import create_app
from manifest.build import GOOGLE_SCOPES, ROUTES

# Providers and hosts, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROUTES["support"], ROUTES["privacy"])


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The app on an empty data directory."""
    return create_app({"DATA_DIR": tmp_path, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


class _Page(HTMLParser):
    """What the tests look at in a page: text, tags with their attributes, the document language."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(" ".join(data.split()))

    @property
    def lang(self) -> str | None:
        return next(attrs.get("lang") for tag, attrs in self.tags if tag == "html")

    def all_text(self) -> str:
        return " ".join(self.text)


def parse(html: str) -> _Page:
    """The parsed page."""
    page = _Page()
    page.feed(html)
    return page


def get(client: FlaskClient, path: str, **headers: str) -> tuple[Any, _Page]:
    """GET `path`; the response and its parsed page."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return response, parse(response.get_data(as_text=True))


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_are_html_and_say_their_language(client: FlaskClient, path: str) -> None:
    """200, text/html, Content-Language and Vary: Accept-Language; <html lang> matches."""
    response, page = get(client, path + "?lang=en")
    assert response.mimetype == "text/html"
    assert response.headers["Content-Language"] == "en" == page.lang
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("?lang=nl", "en-GB,en;q=0.9", "nl"),
        ("?lang=en", "nl-NL", "en"),
        ("", "en-US,en;q=0.8", "en"),
        ("", "nl-BE,nl;q=0.9,en;q=0.5", "nl"),
        ("", "", "nl"),
        ("?lang=fr", "fr-FR", "nl"),
    ],
)
def test_the_language_comes_from_lang_then_the_browser_then_the_default(
    client: FlaskClient, query: str, accept: str, expected: str
) -> None:
    """?lang= wins, then Accept-Language, then the deployment's default (Dutch)."""
    for path in PAGES:
        headers = {"Accept-Language": accept} if accept else {}
        response, page = get(client, path + query, **headers)
        assert response.headers["Content-Language"] == expected == page.lang


def test_the_default_language_follows_the_settings(tmp_path: Path) -> None:
    """With LOCALE=en, a browser that says nothing gets English."""
    client = create_app({"DATA_DIR": tmp_path, "TESTING": True, "LOCALE": "en"}).test_client()
    response, _ = get(client, ROUTES["support"])
    assert response.headers["Content-Language"] == "en"


@pytest.mark.parametrize(
    ("path", "dutch", "english"),
    [
        (ROUTES["support"], "Veelgestelde vragen", "Common questions"),
        (ROUTES["privacy"], "De inhoud van je gesprekken", "The content of your conversations"),
    ],
)
def test_dutch_and_english_pages_are_translated(
    client: FlaskClient, path: str, dutch: str, english: str
) -> None:
    """The Dutch page is in Dutch and the English page in English."""
    _, nl = get(client, path + "?lang=nl")
    _, en = get(client, path + "?lang=en")
    assert dutch in nl.all_text() and english not in nl.all_text()
    assert english in en.all_text() and dutch not in en.all_text()


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_language_links_lead_to_the_same_page(client: FlaskClient, path: str, lang: str) -> None:
    """The language switch links to this page in each language and marks the current one."""
    _, page = get(client, f"{path}?lang={lang}")
    links = {
        attrs.get("hreflang"): attrs
        for tag, attrs in page.tags
        if tag == "a" and attrs.get("hreflang")
    }
    assert links["nl"]["href"] == f"{path}?lang=nl"
    assert links["en"]["href"] == f"{path}?lang=en"
    assert links[lang].get("aria-current") == "page"
    other = "en" if lang == "nl" else "nl"
    assert "aria-current" not in links[other]


@pytest.mark.parametrize("path", PAGES)
def test_no_inline_script_or_style(client: FlaskClient, path: str) -> None:
    """No <script>, <style>, style= or on*= handlers; the stylesheet and icon are static files."""
    response, page = get(client, path)
    for tag, attrs in page.tags:
        assert tag not in ("script", "style"), tag
        assert "style" not in attrs
        assert not any(name.startswith("on") for name in attrs), attrs
    sheets = [a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "stylesheet"]
    assert sheets == ["/static/support.css"]
    for tag, attrs in page.tags:
        target = attrs.get("src") if tag == "img" else attrs.get("href") if tag == "link" else None
        if target:
            assert (ROOT / "addin" / str(target).lstrip("/")).is_file(), target
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_privacy_page_explains_every_google_scope(client: FlaskClient, lang: str) -> None:
    """Each scope of the deployment is listed once, with a reason after it; no other scope."""
    html = client.get(f"{ROUTES['privacy']}?lang={lang}").get_data(as_text=True)
    listed = re.findall(
        r"<li><code>(https://www\.googleapis\.com/auth/[^<]+)</code>:\s*([^<]*)</li>", html
    )
    assert [scope for scope, _ in listed] == list(GOOGLE_SCOPES)
    for scope, reason in listed:
        assert len(reason.strip()) > 20, scope


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_privacy_page_states_what_is_stored_where(client: FlaskClient, lang: str) -> None:
    """The facts of the data design are there in both languages: the drives, the encryption, the
    permissions, what the event holds and that HR never sees content."""
    _, page = get(client, f"{ROUTES['privacy']}?lang={lang}")
    text = page.all_text()
    for fact in (
        "AES-256-GCM",
        "OneDrive",
        "Google Drive",
        "Files.ReadWrite.AppFolder",
        "ReadWriteItem",
    ):
        assert fact in text, fact
    assert "HR" in text
    # The add-on's own scopes ask no mail; the reminders' permissions are named, with why.
    from manifest.build import GOOGLE_SCOPES

    assert not [s for s in GOOGLE_SCOPES if "gmail" in s]
    for permission in ("Mail.Send", "gmail.send"):
        assert permission in text, permission
    # Mail is sent, never read.
    assert "gmail.readonly" not in text
    assert "Mail.Read" not in text
    # The privacy duties: how long, the export, the erasure.
    for fact in ("24", "zip", "HR"):
        assert fact in text, fact


def test_the_support_address_comes_from_config(tmp_path: Path) -> None:
    """SUPPORT_EMAIL becomes a mailto link on both pages, escaped."""
    app = create_app({"DATA_DIR": tmp_path, "TESTING": True, "SUPPORT_EMAIL": "a&b@example.org"})
    for path in PAGES:
        html = app.test_client().get(path + "?lang=en").get_data(as_text=True)
        assert 'href="mailto:a&amp;b@example.org"' in html
        assert ">a&amp;b@example.org</a>" in html


@pytest.mark.parametrize("value", ["", "not an address", '"><script>x</script>@e.org', "a@b"])
def test_a_bad_support_address_is_left_out(tmp_path: Path, value: str) -> None:
    """Without a plausible address, the support page names the IT service desk instead."""
    app = create_app({"DATA_DIR": tmp_path, "TESTING": True, "SUPPORT_EMAIL": value})
    html = app.test_client().get(ROUTES["support"] + "?lang=en").get_data(as_text=True)
    assert "mailto:" not in html
    assert "<script>" not in html
    assert "IT service desk" in html


def test_unknown_methods_and_paths(client: FlaskClient) -> None:
    """The pages answer GET and HEAD only."""
    assert client.head(ROUTES["support"]).status_code == 200
    assert client.post(ROUTES["privacy"]).status_code == 405


# -- accessibility, in headless Chromium ----------------------------------------------------------

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The app served on 127.0.0.1 on a free port, stopped after the test."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


@pytest.mark.browser
def test_axe_finds_no_serious_or_critical_violation(server: str) -> None:
    """Both pages in both languages, light and dark: no serious or critical axe-core violation."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists() or not AXE.is_file():
        pytest.skip("needs /usr/bin/chromium and node_modules/axe-core")
    axe = AXE.read_text(encoding="utf-8")
    problems = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            for scheme in ("light", "dark"):
                # bypass_csp: the page allows only its own scripts; axe is injected for the test.
                context = browser.new_context(bypass_csp=True, color_scheme=scheme)
                page = context.new_page()
                for path in PAGES:
                    for lang in ("nl", "en"):
                        page.goto(f"{server}{path}?lang={lang}")
                        page.evaluate(axe)
                        result = page.evaluate("async () => await axe.run(document)")
                        for violation in result["violations"]:
                            if violation["impact"] in ("serious", "critical"):
                                problems.append(f"{scheme} {path} {lang}: {violation['id']}")
                context.close()
        finally:
            browser.close()
    assert not problems, problems
