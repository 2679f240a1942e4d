"""The task pane's routes, the demo host's routes, and static checks on the pane's front-end."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html

from addin.app import create_app
from addin.demo import ADA, GRACE, create_demo_app, seed
from addin.pane import OFFICE_JS
from connectors.memory import MemoryStore
from connectors.models import Attendee, NewEvent

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "addin" / "pane" / "static"
DEMO_STATIC = ROOT / "addin" / "demo" / "static"
PAGES = ROOT / "addin" / "pane" / "pages"
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryStore:
    """A memory store seeded like the demo."""
    s = MemoryStore(clock=lambda: NOW)
    seed(s, NOW)
    return s


def _app(tmp_path: Path, store: MemoryStore, *, demo: bool = True, **config: Any) -> Flask:
    factory = create_demo_app if demo else create_app
    return factory({"DATA_DIR": str(tmp_path), **config}, store=store, clock=lambda: NOW)


@pytest.fixture
def app(tmp_path: Path, store: MemoryStore) -> Flask:
    """The demo app under test: the product's pane and the demo's stub Office host."""
    return _app(tmp_path, store, TESTING=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def meeting(store: MemoryStore) -> str:
    """A one-off appointment Ada organised with Grace; its id."""
    start = NOW + timedelta(days=8)
    event = NewEvent(
        subject="1:1 <b>Ada</b> & Grace",
        start=start,
        end=start + timedelta(hours=1),
        tz="Europe/Amsterdam",
        organizer=ADA.email,
        attendees=(Attendee(GRACE.email, GRACE.name),),
        body_html="<p>Eigen tekst</p>",
    )
    return str(store.calendar(ADA.email).create_event(event, idempotency_key="m1").id)


# -- the pane's pages -----------------------------------------------------------------------------


def _scripts(page: str) -> list[Any]:
    """The page's scripts that load code (the import map only maps names)."""
    return [s for s in lxml_html.fromstring(page).iter("script") if s.get("type") != "importmap"]


def _import_map(page: str) -> tuple[str, dict[str, Any]]:
    """The page's import map: its exact text (what the CSP hashes) and its JSON."""
    maps = [s for s in lxml_html.fromstring(page).iter("script") if s.get("type") == "importmap"]
    assert len(maps) == 1
    text = maps[0].text or ""
    return text, json.loads(text)


def test_pane_page_loads_office_js_from_the_cdn(client: FlaskClient) -> None:
    """/pane/ loads Office.js from Microsoft's CDN and the pane as an ES module."""
    response = client.get("/pane/?lang=en")
    assert response.status_code == 200
    scripts = _scripts(response.get_data(as_text=True))
    assert scripts[0].get("src") == OFFICE_JS
    assert scripts[1].get("type") == "module"
    assert scripts[1].get("src") == "/pane/static/main.js"
    assert 'lang="en"' in response.get_data(as_text=True)


def test_function_file_only_initialises_office(client: FlaskClient) -> None:
    """/pane/commands.html loads Office.js and a module that calls Office.onReady."""
    response = client.get("/pane/commands.html")
    assert response.status_code == 200
    scripts = _scripts(response.get_data(as_text=True))
    assert [s.get("src") for s in scripts] == [OFFICE_JS, "/pane/static/commands.js"]
    assert "Office.onReady" in (STATIC / "commands.js").read_text()


def test_demo_pane_uses_the_stub_office_host(client: FlaskClient) -> None:
    """/demo/pane is the same page with the stub instead of Office.js."""
    response = client.get("/demo/pane?event=x&as=ada&lang=nl")
    scripts = _scripts(response.get_data(as_text=True))
    assert scripts[0].get("src") == "/demo/static/office-stub.js"
    assert scripts[1].get("src") == "/pane/static/main.js"


@pytest.mark.parametrize(
    "path",
    [
        "/pane/",
        "/pane/commands.html",
        "/demo/pane?as=ada",
        "/pane/signin-dialog",
        "/pane/signin-done",
    ],
)
def test_pages_have_no_inline_script_or_style(client: FlaskClient, path: str) -> None:
    """Every script has a src but the import map, which the page's CSP allows by its hash; no
    <style> or style= or on*= attribute: the strict CSP holds."""
    response = client.get(path)
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    for script in tree.iter("script"):
        if script.get("type") == "importmap":
            digest = base64.b64encode(hashlib.sha256((script.text or "").encode()).digest())
            assert f"'sha256-{digest.decode()}'" in response.headers["Content-Security-Policy"]
        else:
            assert script.get("src")
    assert not list(tree.iter("style"))
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        assert "style" not in element.attrib, element.tag
        assert not [a for a in element.attrib if str(a).lower().startswith("on")], element.tag


def test_pane_page_headers(client: FlaskClient) -> None:
    """The pane is frameable by Outlook (no X-Frame-Options) and its CSP allows the CDN."""
    response = client.get("/pane/")
    assert "X-Frame-Options" not in response.headers
    csp = response.headers["Content-Security-Policy"]
    assert "https://appsforoffice.microsoft.com" in csp
    assert "unsafe-inline" not in csp


def test_static_modules_are_served(client: FlaskClient) -> None:
    """Every pane module is served as JavaScript."""
    for path in sorted(STATIC.glob("*.js")):
        response = client.get(f"/pane/static/{path.name}")
        assert response.status_code == 200, path.name
        assert response.mimetype in ("text/javascript", "application/javascript")
        response.close()


def test_demo_routes_are_absent_in_production(tmp_path: Path, store: MemoryStore) -> None:
    """The product has no /demo/token, /demo/item or stub Office host; the pane is there."""
    from connectors.keyring import Keyring, default_keyring_path

    Keyring.init(default_keyring_path(tmp_path))  # production refuses to make one itself
    client = _app(tmp_path, store, demo=False).test_client()
    assert client.get("/demo/token?as=ada").status_code == 404
    assert client.get("/demo/item?as=ada&event=x").status_code == 404
    assert client.get("/pane/").status_code == 200


# -- the demo host ------------------------------------------------------------------------------


def test_token_for_a_demo_person(app: Flask, client: FlaskClient) -> None:
    """/demo/token gives a pane token for a person by id or email; it verifies."""
    identity = app.extensions["goedgesprek.identity"]
    for who in ("ada", "grace@example.org"):
        token = client.get(f"/demo/token?as={who}").get_json()["token"]
        user = identity.verify(f"Bearer {token}")
        assert user.email in (ADA.email, GRACE.email)


def test_unknown_or_missing_person(client: FlaskClient) -> None:
    """An unknown person is 404, none at all 400, both with a message."""
    assert client.get("/demo/token?as=mallory").status_code == 404
    response = client.get("/demo/token")
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_item_as_office_would_show_it(client: FlaskClient, meeting: str) -> None:
    """/demo/item gives subject, times, organizer and attendees with names, body and etag."""
    item = client.get(f"/demo/item?event={meeting}&as=grace").get_json()
    assert item["subject"] == "1:1 <b>Ada</b> & Grace"
    assert item["organizer"] == {"email": ADA.email, "name": "Ada"}
    assert item["attendees"][0]["email"] == GRACE.email
    assert item["body_html"] == "<p>Eigen tekst</p>"
    assert item["etag"]
    assert client.get("/demo/item?event=nope&as=ada").status_code == 404


def test_save_body_and_attachments(client: FlaskClient, meeting: str) -> None:
    """POST /demo/item saves the body (If-Match) and attachments; a same name replaces."""
    item = client.get(f"/demo/item?event={meeting}&as=ada").get_json()
    for text in (b"een", b"twee"):
        payload = {
            "as": "ada",
            "event": meeting,
            "body_html": "<p>Nieuw</p>",
            "attachments": [
                {
                    "name": "agenda.html",
                    "content_type": "text/html",
                    "base64": base64.b64encode(text).decode(),
                }
            ],
        }
        response = client.post("/demo/item", json=payload, headers={"If-Match": item["etag"]})
        assert response.status_code == 200, response.get_json()
        item = response.get_json()
    assert item["body_html"] == "<p>Nieuw</p>"
    assert [a["name"] for a in item["attachments"]] == ["agenda.html"]


def test_stale_save_is_a_conflict(client: FlaskClient, meeting: str) -> None:
    """A save with an old etag is refused with 409 and the current item."""
    old = client.get(f"/demo/item?event={meeting}&as=ada").get_json()["etag"]
    body = {"as": "ada", "event": meeting, "body_html": "<p>1</p>"}
    assert client.post("/demo/item", json=body, headers={"If-Match": old}).status_code == 200
    response = client.post("/demo/item", json=body, headers={"If-Match": old})
    assert response.status_code == 409
    assert response.get_json()["current"]["body_html"] == "<p>1</p>"


def test_new_appointment_is_created_once(client: FlaskClient, store: MemoryStore) -> None:
    """A compose-mode save of a new item creates it; the same key again gives the same event."""
    start = NOW + timedelta(days=3)
    payload = {
        "as": "ada",
        "key": "abc123",
        "new": {
            "subject": "Nieuw",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "attendees": [GRACE.email],
        },
    }
    first = client.post("/demo/item", json=payload).get_json()
    again = client.post("/demo/item", json=payload).get_json()
    assert first["id"] == again["id"]
    assert first["attendees"][0]["name"] == "Grace"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"as": "ada", "key": "k1", "new": {"start": "x", "end": "y"}}, 400),
        ({"as": "ada", "key": "bad key!", "new": {}}, 400),
        ({"as": "ada", "event": "e", "attachments": "nope"}, 400),
    ],
)
def test_bad_saves_are_refused(
    client: FlaskClient, meeting: str, body: dict[str, Any], status: int
) -> None:
    """Malformed saves get 400 with a message; nothing is written."""
    if body.get("event") == "e":
        body["event"] = meeting
    response = client.post("/demo/item", json=body)
    assert response.status_code == status
    assert response.get_json()["message"]


def test_save_must_be_json(client: FlaskClient) -> None:
    """A form post is refused with 415 (no cookie-borne cross-site writes)."""
    response = client.post("/demo/item", data={"as": "ada"})
    assert response.status_code == 415


# -- the front-end's sources ---------------------------------------------------------------------

_UNSAFE = re.compile(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(")


def test_no_markup_from_strings_in_the_pane() -> None:
    """User text only reaches the DOM as text: no innerHTML, insertAdjacentHTML, eval (the pane's
    modules and the demo's scripts around it)."""
    for path in sorted([*STATIC.glob("*.js"), *DEMO_STATIC.glob("*.js")]):
        found = _UNSAFE.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {found}"


def test_every_t_call_has_a_literal_msgid() -> None:
    """t() and tn() take string literals, so the catalog extraction sees every text."""
    call = re.compile(r"(?<![\w.$])tn?\(\s*([^\s)])")
    for path in sorted(STATIC.glob("*.js")):
        if path.name == "i18n.js":
            continue
        for match in call.finditer(path.read_text(encoding="utf-8")):
            assert match.group(1) == '"', f"{path.name}: t( without a literal at {match.start()}"


def test_stylesheet_uses_fluent_tokens() -> None:
    """The stylesheet defines Fluent 2 tokens and uses them instead of raw colours in rules."""
    css = (STATIC / "pane.css").read_text(encoding="utf-8")
    assert re.search(r"--colorBrandBackground:\s*#0f6cbd;", css, re.IGNORECASE)
    assert '"Segoe UI"' in css
    rules = css.split("}", 1)[1]  # everything after :root
    raw = re.findall(r":\s*#[0-9a-fA-F]{3,6}\b", rules)
    assert not raw, raw


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_splice_passes_the_shared_vectors() -> None:
    """The pane's splice gives the expected body for every case in tests/data/splice_cases.json."""
    cases = ROOT / "tests" / "data" / "splice_cases.json"
    script = (
        "import { readFileSync } from 'node:fs';"
        f"import {{ splice }} from {json.dumps((STATIC / 'splice.js').as_uri())};"
        f"const data = JSON.parse(readFileSync({json.dumps(str(cases))}, 'utf8'));"
        "const out = data.cases.map((c) => ({ name: c.name,"
        " got: splice(c.body, c.html, data.markers), want: c.expected }));"
        "console.log(JSON.stringify(out));"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results = json.loads(done.stdout)
    assert len(results) >= 20
    wrong = [r["name"] for r in results if r["got"] != r["want"]]
    assert not wrong, wrong


# -- msal-browser, vendored and served as ES modules --------------------------------------------


def test_import_map_points_at_the_vendored_msal_modules(client: FlaskClient) -> None:
    """The pane's import map maps msal-browser and msal-common's browser entry to versioned URLs
    that serve JavaScript for a year (the URL changes with the version), hashed into the CSP."""
    from addin.pane_vendor import vendored_version

    assert vendored_version("msal-browser") is not None, "run `make vendor` first"
    response = client.get("/pane/")
    text, imports = _import_map(response.get_data(as_text=True))
    assert set(imports["imports"]) == {"@azure/msal-browser", "@azure/msal-common/browser"}
    browser_url = imports["imports"]["@azure/msal-browser"]
    assert browser_url == f"/pane/vendor/msal-browser@{vendored_version('msal-browser')}/index.mjs"
    for url in imports["imports"].values():
        module = client.get(url)
        assert module.status_code == 200, url
        assert module.mimetype == "text/javascript"
        assert "immutable" in module.headers["Cache-Control"]
        assert "max-age=31536000" in module.headers["Cache-Control"]
        assert module.headers["X-Content-Type-Options"] == "nosniff"
        module.close()
    # A module msal-browser imports relatively resolves against the same versioned folder.
    relative = client.get(browser_url.replace("index.mjs", "app/PublicClientApplication.mjs"))
    assert relative.status_code == 200
    relative.close()
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]


@pytest.fixture
def fake_vendor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A vendored copy of version 1.2.3 with a secret beside and above its dist folder."""
    from addin import pane_vendor

    root = tmp_path / "vendor"
    for package in ("msal-browser", "msal-common"):
        dist = root / package / "dist" / "app"
        dist.mkdir(parents=True)
        (root / package / "package.json").write_text('{"version": "1.2.3", "secret": "S3CRET"}')
        (dist.parent / "index.mjs").write_text("export const ok = 1;\n")
        (dist / "a.mjs").write_text("export const a = 1;\n")
        (dist.parent / "index.mjs.map").write_text('{"secret": "S3CRET"}')
    (tmp_path / "outside.mjs").write_text("S3CRET")
    monkeypatch.setattr(pane_vendor, "VENDOR_DIR", root)
    pane_vendor.vendored_version.cache_clear()
    yield root
    pane_vendor.vendored_version.cache_clear()


@pytest.mark.parametrize(
    "path",
    [
        "/pane/vendor/msal-browser@1.2.3/../package.json",  # climbing out (the client normalises)
        "/pane/vendor/msal-browser@1.2.3/%2e%2e/package.json",  # the same, percent-encoded
        "/pane/vendor/msal-browser@1.2.3/..%2fpackage.json",  # an encoded slash
        "/pane/vendor/msal-browser@1.2.3/app/..%2f..%2f..%2foutside.mjs",  # above the copy
        "/pane/vendor/msal-browser@1.2.3/..%5c..%5coutside.mjs",  # backslashes
        "/pane/vendor/msal-browser@1.2.3//etc/passwd",  # an absolute path
        "/pane/vendor/msal-browser@1.2.3/%2fetc%2fpasswd",
        "/pane/vendor/msal-browser@1.2.3/index.mjs.map",  # not an ES module
        "/pane/vendor/msal-browser@1.2.3/app",  # a folder
        "/pane/vendor/msal-browser@1.2.3/missing.mjs",
        "/pane/vendor/msal-browser@9.9.9/index.mjs",  # another version
        "/pane/vendor/msal-browser@/index.mjs",
        "/pane/vendor/msal-node@1.2.3/index.mjs",  # a package that is not vendored
        "/pane/vendor/..@1.2.3/outside.mjs",
        "/pane/vendor/msal-browser@1.2.3/index.mjs%00.map",  # a NUL byte
    ],
)
def test_vendored_modules_refuse_everything_else(
    tmp_path: Path, store: MemoryStore, fake_vendor: Path, path: str
) -> None:
    """Only .mjs files inside a vendored package's dist, at its version: the rest is a 404 and
    never shows what lies beside or above the copy."""
    client = _app(tmp_path, store, demo=False, TESTING=True).test_client()
    # Werkzeug merges a double slash with a redirect first; where it leads is still a 404.
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 404, path
    assert b"S3CRET" not in response.get_data()
    ok = client.get("/pane/vendor/msal-browser@1.2.3/app/a.mjs")
    assert ok.status_code == 200
    assert ok.get_data() == b"export const a = 1;\n"
    ok.close()


def test_without_the_vendored_copy_the_page_has_no_import_map(
    tmp_path: Path, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout where `make vendor` has not run: local sign-in still works, no import map."""
    from addin import pane_vendor

    monkeypatch.setattr(pane_vendor, "VENDOR_DIR", tmp_path / "nothing")
    pane_vendor.vendored_version.cache_clear()
    try:
        client = _app(tmp_path, store, demo=False, TESTING=True).test_client()
        page = client.get("/pane/").get_data(as_text=True)
        assert 'type="importmap"' not in page
        assert client.get("/pane/vendor/msal-browser@4.30.0/index.mjs").status_code == 404
    finally:
        pane_vendor.vendored_version.cache_clear()


# -- how the pane signs in ----------------------------------------------------------------------


def _signin(page: str) -> dict[str, Any]:
    body = lxml_html.fromstring(page).find("body")
    assert body is not None
    return dict(json.loads(body.get("data-signin") or "null"))


TENANT = "0b7f4d3e-2a61-4c55-9c1e-5f2d8a9e7b10"


def test_without_entra_the_pane_uses_the_local_identity(client: FlaskClient) -> None:
    """No ENTRA_CLIENT_ID: the host hands the token (the demo's stub), msal is not involved."""
    assert _signin(client.get("/pane/").get_data(as_text=True)) == {"mode": "local"}
    assert _signin(client.get("/demo/pane?as=ada").get_data(as_text=True)) == {"mode": "local"}


def test_with_entra_the_pane_gets_msal_settings(tmp_path: Path, store: MemoryStore) -> None:
    """ENTRA_* set: the client id, the tenant's authority, a token for OUR API's scope, the blank
    redirect page on the public URL, and the authority's origin in the CSP's connect-src."""
    client = _app(
        tmp_path,
        store,
        demo=False,
        TESTING=True,
        ENTRA_CLIENT_ID="11111111-2222-3333-4444-555555555555",
        ENTRA_TENANTS=TENANT,
        PUBLIC_URL="https://goedgesprek.example.org/",
    ).test_client()
    response = client.get("/pane/", headers={"Host": "evil.example"})
    assert _signin(response.get_data(as_text=True)) == {
        "mode": "entra",
        "clientId": "11111111-2222-3333-4444-555555555555",
        "authority": f"https://login.microsoftonline.com/{TENANT}",
        "knownAuthorities": [],
        "scopes": [
            "api://goedgesprek.example.org/11111111-2222-3333-4444-555555555555/access_as_user"
        ],
        "redirectUri": "https://goedgesprek.example.org/pane/signin-done",
        "dialogUrl": "https://goedgesprek.example.org/pane/signin-dialog",
    }
    csp = response.headers["Content-Security-Policy"]
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src"))
    assert connect == "connect-src 'self' https://login.microsoftonline.com"
    assert "frame-ancestors" in csp and "https://*.office.com" in csp
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize(
    ("tenants", "segment"),
    [
        ("any", "organizations"),
        ("ANY", "organizations"),
        (f"{TENANT}, 7d2c1b0a-9f8e-4d6c-b5a4-3e2f1a0b9c8d", "organizations"),
    ],
)
def test_several_or_any_tenant_sign_in_at_organizations(
    tmp_path: Path, store: MemoryStore, tenants: str, segment: str
) -> None:
    """A multi-tenant app signs work accounts in at `organizations`; the server checks `tid`."""
    client = _app(
        tmp_path,
        store,
        demo=False,
        TESTING=True,
        ENTRA_CLIENT_ID="abc",
        ENTRA_TENANTS=tenants,
        ENTRA_AUTHORITY="https://127.0.0.1:4443/",
    ).test_client()
    signin = _signin(client.get("/pane/signin-dialog").get_data(as_text=True))
    assert signin["authority"] == f"https://127.0.0.1:4443/{segment}"
    # An authority outside Microsoft's clouds must be named, or msal-browser refuses it.
    assert signin["knownAuthorities"] == ["127.0.0.1:4443"]
    # No PUBLIC_URL: the App ID URI is api://<client id>, as the server's check defaults it.
    assert signin["scopes"] == ["api://abc/access_as_user"]
    assert signin["redirectUri"] == "http://localhost/pane/signin-done"


def test_the_popup_redirect_page_is_blank(client: FlaskClient) -> None:
    """msal-browser 4 reads the answer from the popup's URL: the page runs nothing itself."""
    response = client.get("/pane/signin-done")
    assert response.status_code == 200
    assert not list(lxml_html.fromstring(response.get_data(as_text=True)).iter("script"))


def test_the_dialog_page_signs_in_with_msal(client: FlaskClient) -> None:
    """The dialog fallback loads Office.js (for messageParent) and its sign-in module."""
    response = client.get("/pane/signin-dialog")
    assert [s.get("src") for s in _scripts(response.get_data(as_text=True))] == [
        OFFICE_JS,
        "/pane/static/signin-dialog.js",
    ]


def test_auth_module_picks_the_host_s_way_to_sign_in() -> None:
    """auth.js in Node with stand-in hosts: NAA where Office has NestedAppAuth 1.1, the dialog API
    where it has not, a popup without Office; the local mode asks the host; the dialog fallback
    hands its token back, closes, and a closed, refused or garbled dialog asks to sign in again;
    granting access asks for the Graph permissions the API named, and only well-formed ones."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [
            "node",
            "--no-warnings",
            str(ROOT / "tests" / "js" / "pane_auth.mjs"),
            STATIC.as_uri() + "/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = json.loads(done.stdout)
    assert out["strategies"] == {
        "naa": "naa",
        "dialog": "dialog",
        "popupWithoutOffice": "popup",
        "popupStub": "popup",
        "throwing": "popup",
    }
    assert out["readConfig"] == ["entra", "local", "local", "local"]
    assert out["msalConfig"]["auth"]["knownAuthorities"] == ["login.example"]
    assert out["msalConfig"]["auth"]["redirectUri"] == "https://app.example/pane/signin-done"
    assert [r["prompt"] for r in out["requests"]] == ["consent", "select_account"]
    assert out["consent"] == [
        {
            "scopes": [
                "https://graph.microsoft.com/Calendars.ReadWrite",
                "api://x.example/c/access_as_user",
            ],
        },
        None,
        None,
    ]
    assert out["dialogConsent"] == [
        "T2",
        "https://app.example/pane/signin-dialog?prompt=consent&consent="
        "https%3A%2F%2Fgraph.microsoft.com%2FMail.Send+https%3A%2F%2Fgraph.microsoft.com%2FUser.Read",
    ]
    assert out["local"] == ["local", "host-token", "host-token"]
    assert out["dialog"] == {
        "strategy": "dialog",
        "token": "T1",
        "again": "T1",
        "url": "https://app.example/pane/signin-dialog?prompt=consent",
        "closed": True,
        "refresh": ["SigninRequired", "again"],
    }
    assert out["userClosed"] == ["SigninRequired", "again", "The sign-in window was closed."]
    assert out["refused"] == ["SigninRequired", "again", "access_denied"]
    assert out["garbage"] == ["SigninRequired", "again", "unreadable"]
