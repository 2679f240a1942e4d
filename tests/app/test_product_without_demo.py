"""The product serves nothing of the demo; the demo app, built on the product, serves all of it.

The demo's routes are read from the demo app's own `url_map`, so a route added to the demo later is
held here without a change to this file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from jinja2 import TemplateNotFound
from werkzeug.routing import Rule

from addin.app import create_app
from addin.demo import create_demo_app
from connectors.memory import MemoryStore

ROOT = Path(__file__).resolve().parents[2]
DEMO_STATIC = ROOT / "addin" / "demo" / "static"
DEMO_PAGES = ROOT / "addin" / "demo" / "pages"
STATIC_PREFIXES = ("/static/", "/pane/static/", "/demo/static/")
"""Everywhere a static file could be served from: the app's, the pane's and the demo's folder."""


@pytest.fixture
def product(tmp_path: Path) -> Flask:
    """The product app."""
    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "product")}, store=MemoryStore())


@pytest.fixture
def demo(tmp_path: Path) -> Flask:
    """The demo app."""
    return create_demo_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path / "demo")}, store=MemoryStore()
    )


def _demo_rules(demo: Flask, product: Flask) -> list[Rule]:
    """The demo app's rules whose endpoint the product does not have."""
    ours = set(product.view_functions)
    return [r for r in demo.url_map.iter_rules() if r.endpoint not in ours]


def _requests(rules: list[Rule]) -> Iterator[tuple[str, str]]:
    """(method, path) for every demo rule and method; a static rule once per demo file."""
    for rule in rules:
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if rule.arguments == {"filename"}:
            paths = [rule.rule.replace("<path:filename>", p.name) for p in DEMO_STATIC.iterdir()]
        else:
            paths = [rule.build({a: "x" for a in rule.arguments})[1]]  # type: ignore[index]
        for method in methods:
            for path in paths:
                yield method, path


def test_the_demo_has_routes_to_hold(demo: Flask, product: Flask) -> None:
    """The comparison below has something to compare: the host, the pane stub, the cards."""
    paths = {r.rule for r in _demo_rules(demo, product)}
    assert {"/", "/demo/pane", "/demo/cards", "/demo/token", "/demo/clock"} <= paths


def test_the_product_answers_404_for_every_demo_route(demo: Flask, product: Flask) -> None:
    """Each method of each demo route is 404 in the product (none is 405: no path is shared)."""
    client = product.test_client()
    answers = {
        (method, path): client.open(path, method=method).status_code
        for method, path in _requests(_demo_rules(demo, product))
    }
    assert answers and all(code == 404 for code in answers.values()), answers


def test_the_demo_app_serves_every_demo_route(demo: Flask, product: Flask) -> None:
    """The same requests reach a demo view in the demo app (a refusal of bad input, not 404)."""
    client = demo.test_client()
    for method, path in _requests(_demo_rules(demo, product)):
        response = client.open(path, method=method)
        assert response.status_code != 404, (method, path, response.get_data(as_text=True))
        response.close()


@pytest.mark.parametrize("name", sorted(p.name for p in DEMO_STATIC.iterdir()))
def test_demo_static_files_only_in_the_demo(demo: Flask, product: Flask, name: str) -> None:
    """office-stub.js, demo.js and the demo's styles are served by the demo app alone."""
    for prefix in STATIC_PREFIXES:
        assert product.test_client().get(prefix + name).status_code == 404, prefix + name
    response = demo.test_client().get(f"/demo/static/{name}")
    assert response.status_code == 200
    assert response.get_data() == (DEMO_STATIC / name).read_bytes()
    response.close()


def test_the_product_has_no_demo_pages(product: Flask) -> None:
    """The demo's templates are not on the product's template path."""
    for page in DEMO_PAGES.iterdir():
        with pytest.raises(TemplateNotFound):
            product.jinja_env.get_template(page.name)


def test_the_product_serves_no_demo_catalog(product: Flask) -> None:
    """The demo's translations are not served as JSON; the pane's are."""
    client = product.test_client()
    assert client.get("/i18n/demo/nl.json").status_code == 404
    assert client.get("/i18n/demo/en.json").status_code == 404
    assert client.get("/i18n/pane/nl.json").status_code == 200


def test_the_product_imports_neither_the_demo_nor_the_emulators(tmp_path: Path) -> None:
    """Building and serving the product loads no module of `addin.demo` or `emulators`."""
    script = (
        "import sys\n"
        "from addin.app import create_app\n"
        f"app = create_app({{'TESTING': True, 'DATA_DIR': {str(tmp_path)!r}}})\n"
        "app.test_client().get('/pane/')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('addin.demo', 'emulators'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "[]"
