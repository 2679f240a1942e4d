"""The task pane's routes, the demo host's routes, and static checks on the pane's front-end."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
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
    return list(lxml_html.fromstring(page).iter("script"))


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


@pytest.mark.parametrize("path", ["/pane/", "/pane/commands.html", "/demo/pane?as=ada"])
def test_pages_have_no_inline_script_or_style(client: FlaskClient, path: str) -> None:
    """Every script has a src, no <style> or style= or on*= attribute: the strict CSP holds."""
    tree = lxml_html.fromstring(client.get(path).get_data(as_text=True))
    assert all(s.get("src") for s in tree.iter("script"))
    assert not list(tree.iter("style"))
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        assert "style" not in element.attrib, element.tag
        assert not [a for a in element.attrib if a.lower().startswith("on")], element.tag


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
