"""The catalog route `/i18n/<domain>/<lang>.json` and the Jinja helpers in the real app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from addin import i18n
from addin.app import create_app
from connectors.memory import MemoryStore

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

UNAUTHORIZED = "Sign in again: your sign-in is missing or has expired."


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a memory store, with freshly loaded catalogs."""
    i18n.clear_cache()
    yield create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=MemoryStore())
    i18n.clear_cache()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


def test_catalog_as_json(client: FlaskClient) -> None:
    """The Dutch api catalog maps English msgids to Dutch."""
    response = client.get("/i18n/api/nl.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body[UNAUTHORIZED] == "Meld je opnieuw aan: je aanmelding ontbreekt of is verlopen."
    assert body == i18n.catalog_json("nl", "api")
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in body.items())


def test_english_catalog_gives_the_msgid(client: FlaskClient) -> None:
    """Untranslated English entries come back as their msgid, with the same keys as Dutch."""
    en = client.get("/i18n/api/en.json").get_json()
    nl = client.get("/i18n/api/nl.json").get_json()
    assert en[UNAUTHORIZED] == UNAUTHORIZED
    assert set(en) == set(nl)


def test_cache_headers_and_etag(client: FlaskClient) -> None:
    """Public for an hour, with a stable ETag per catalog; a matching If-None-Match gets 304."""
    first = client.get("/i18n/api/nl.json")
    assert first.cache_control.public
    assert first.cache_control.max_age == 3600
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get("/i18n/api/nl.json").headers["ETag"] == etag
    assert client.get("/i18n/api/en.json").headers["ETag"] != etag
    again = client.get("/i18n/api/nl.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    stale = client.get("/i18n/api/nl.json", headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200


def test_security_headers_apply(client: FlaskClient) -> None:
    """The catalog answers carry the app's usual headers."""
    response = client.get("/i18n/site/en.json")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_language_tag_in_another_case_or_region(client: FlaskClient) -> None:
    """`EN` and `nl-NL` name the same catalogs as `en` and `nl`."""
    assert client.get("/i18n/api/EN.json").get_json() == client.get("/i18n/api/en.json").get_json()
    assert (
        client.get("/i18n/api/nl-NL.json").headers["ETag"]
        == (client.get("/i18n/api/nl.json").headers["ETag"])
    )


@pytest.mark.parametrize(
    "url",
    ["/i18n/nope/nl.json", "/i18n/api/de.json", "/i18n/api/english.json", "/i18n/API/nl.json"],
)
def test_unknown_domain_or_language_is_404_json(client: FlaskClient, url: str) -> None:
    """Unknown domain or language: 404 with a JSON message in the browser's language."""
    response = client.get(url, headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": "Deze pagina bestaat niet. Controleer het adres.",
    }
    english = client.get(url, headers={"Accept-Language": "en-GB"})
    assert english.get_json()["message"] == "There is no such page. Check the address."


@pytest.mark.parametrize("url", ["/i18n/api/.json", "/i18n/..%2Fapi/nl.json", "/i18n/api/nl"])
def test_malformed_catalog_urls_are_404(client: FlaskClient, url: str) -> None:
    """Addresses that are no catalog at all do not reach a file."""
    assert client.get(url).status_code == 404


def test_known_domain_without_a_catalog_is_404(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A domain whose .po file is not there (yet) is a 404, not a crash."""
    empty = tmp_path / "translations"
    (empty / "nl" / "LC_MESSAGES").mkdir(parents=True)
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", empty)
    i18n.clear_cache()
    response = client.get("/i18n/pane/nl.json")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_templates_get_the_helpers(app: Flask) -> None:
    """create_app registers `_`, `ngettext` and `locale` for every template."""
    source = '{% set domain = "api" %}{{ locale }}: {{ _("employee") }}, {{ gettext("manager") }}'
    with app.test_request_context("/?lang=nl"):
        assert render_template_string(source) == "nl: medewerker, leidinggevende"
    with app.test_request_context("/", headers={"Accept-Language": "en-US,en;q=0.9"}):
        assert render_template_string(source) == "en: employee, manager"
