"""Dutch and English through gettext catalogs (Babel), one catalog per component ("domain").

Catalogs are `.po` files in `addin/translations/<nl|en>/LC_MESSAGES/<domain>.po`. English msgids
are the source text; the `en` catalog may leave a msgstr empty, which means "the msgid as it is".
A catalog is read on first use and compiled in memory (no `.mo` files, no build step).

Domains: `pane` (the task pane's ES modules), `cards` (the Google cards), `api` (messages of the
JSON API), `demo` (the host preview), `site` (support and privacy pages), `mail` (the reminders
and prompts the background sweep sends).

Python: `gettext(locale, domain, msgid, **params)` and `ngettext(locale, domain, singular, plural,
n, **params)`; params fill `%(name)s` placeholders (ngettext adds `num=n` unless given). Python
modules call these module functions with the domain as a literal, or mark text with a local `_`:
the extraction check (`extract`) finds both.

Templates: `init_app` adds `_`, `gettext` and `ngettext` to Jinja. Each template names its domain
once at its top with `{% set domain = "site" %}` (included templates see it; imported macros do
not, so import them `with context`). The locale is the template's `locale` variable: a view that
decided it passes `locale=...`, else a context processor fills in `request_locale()`.

JavaScript: `GET /i18n/<domain>/<lang>.json` answers `catalog_json(lang, domain)`.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    has_request_context,
    jsonify,
    request,
)
from jinja2 import pass_context
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response as BaseResponse

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog
    from jinja2.runtime import Context

SUPPORTED = ("nl", "en")
DOMAINS = ("pane", "cards", "api", "demo", "site", "mail")
FALLBACK_LOCALE = "nl"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"

# Which files feed which domain, as globs relative to the `addin` package (see `extract`).
SOURCES: Mapping[str, tuple[str, ...]] = {
    "pane": ("pane/static/*.js", "pane/pages/*.html"),
    "cards": ("workspace/*.py",),
    "api": (
        "api.py",
        "conversations/*.py",
        "errors.py",
        "erasure.py",
        "dossier.py",
        "suggestion_text.py",
        "guest_record.py",
    ),
    "demo": ("demo/*.py", "demo/pages/*.html", "demo/static/demo.js"),
    "site": (
        "support.py",
        "pages/site_base.html",
        "pages/support.html",
        "pages/privacy.html",
        "pages/open.html",
        "pages/record.html",
        "record_page.py",
        "pages/hr.html",
        "feedback_page.py",
        "pages/feedback.html",
    ),
    "mail": ("background/*.py",),
}


class UnknownCatalog(LookupError):
    """A locale or domain without a catalog."""


# -- locale choice -------------------------------------------------------------------------------


def normalise_locale(value: str | None) -> str | None:
    """`value` as one of SUPPORTED ("nl-NL" -> "nl", "EN" -> "en"), else None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED else None


def _best_match(accept: LanguageAccept, default: str) -> str | None:
    """The first language the browser lists (best quality first) that we speak, by its primary
    tag: "nl-NL, en;q=0.8" is Dutch. (werkzeug's `best_match` takes an exact "en" over "nl-NL".)
    "*" means any language: the default."""
    for value, quality in accept:
        if quality <= 0:
            continue
        if value == "*":
            return default
        chosen = normalise_locale(value)
        if chosen:
            return chosen
    return None


def pick_locale(explicit: str | None, accept_language: str | None, default: str = "nl") -> str:
    """The locale asked for, else the browser's best supported language, else `default`."""
    chosen = normalise_locale(explicit)
    if chosen:
        return chosen
    accept = parse_accept_header(accept_language or "", LanguageAccept)
    return _best_match(accept, default) or default


def default_locale() -> str:
    """The deployment's default locale (settings), else Dutch."""
    settings = current_app.extensions.get("goedgesprek.settings")
    configured = getattr(settings, "default_locale", None)
    return normalise_locale(configured) or FALLBACK_LOCALE


def request_locale(explicit: str | None = None) -> str:
    """The locale for this request: `explicit` (the host's language the client passed on), else
    `?lang=`, else the browser's Accept-Language, else the settings' default.

    An unsupported value at one step falls through to the next.
    """
    default = default_locale()
    for candidate in (explicit, request.args.get("lang")):
        chosen = normalise_locale(candidate)
        if chosen:
            return chosen
    return _best_match(request.accept_languages, default) or default


# -- catalogs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Loaded:
    translations: Translations
    json_body: bytes
    etag: str


_cache: dict[tuple[str, str], _Loaded] = {}
_lock = threading.Lock()


def catalog_path(locale: str, domain: str) -> Path:
    """Where the `.po` file of (`locale`, `domain`) lives."""
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def _check(locale: str, domain: str) -> tuple[str, str]:
    code = normalise_locale(locale)
    if code is None:
        raise UnknownCatalog(f"unsupported locale {locale!r}: use one of {', '.join(SUPPORTED)}")
    if domain not in DOMAINS:
        raise UnknownCatalog(f"unknown domain {domain!r}: use one of {', '.join(DOMAINS)}")
    return code, domain


def read_catalog(locale: str, domain: str) -> Catalog:
    """The parsed `.po` catalog of (`locale`, `domain`); UnknownCatalog if the file is missing."""
    path = catalog_path(locale, domain)
    try:
        with path.open("rb") as fp:
            return read_po(fp, locale=locale, domain=domain)
    except FileNotFoundError:
        raise UnknownCatalog(f"no catalog {domain}.po for {locale}") from None


def _entries(catalog: Catalog) -> Iterator[tuple[str, str]]:
    """(key, text) pairs for the JSON catalog; see `catalog_json` for the shape."""
    for message in catalog:
        if not message.id:
            continue  # the header
        translated = not message.fuzzy
        prefix = f"{message.context}\x04" if message.context else ""
        if isinstance(message.id, tuple | list):
            strings = message.string if isinstance(message.string, tuple | list) else ()
            for index, msgid in enumerate(message.id[:2]):
                text = strings[index] if translated and index < len(strings) else ""
                yield prefix + msgid, text or msgid
        else:
            text = message.string if translated and isinstance(message.string, str) else ""
            yield prefix + message.id, text or message.id


def _load(locale: str, domain: str) -> _Loaded:
    catalog = read_catalog(locale, domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, so they fall back to the msgid
    buffer.seek(0)
    translations = Translations(buffer, domain=domain)
    body = json.dumps(dict(_entries(catalog)), ensure_ascii=False, sort_keys=True).encode()
    etag = hashlib.sha256(body).hexdigest()[:20]
    return _Loaded(translations, body, etag)


def _loaded(locale: str, domain: str) -> _Loaded:
    key = _check(locale, domain)
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key)
            if found is None:
                found = _cache[key] = _load(*key)
    return found


def clear_cache() -> None:
    """Forget every loaded catalog (after the `.po` files changed)."""
    with _lock:
        _cache.clear()


def translations(locale: str, domain: str) -> Translations:
    """The compiled catalog of (`locale`, `domain`), loaded once and shared between threads."""
    return _loaded(locale, domain).translations


def _format(translated: str, fallback: str, params: Mapping[str, Any]) -> str:
    if not params:
        return translated
    try:
        return translated % params
    except (KeyError, ValueError, TypeError):
        # A translation with a broken placeholder must not break the page: use the source text.
        return fallback % params


def gettext(locale: str, domain: str, msgid: str, **params: Any) -> str:
    """`msgid` in `locale`, with `%(name)s` placeholders filled from `params`."""
    return _format(translations(locale, domain).gettext(msgid), msgid, params)


def ngettext(locale: str, domain: str, singular: str, plural: str, n: int, **params: Any) -> str:
    """The form of `singular`/`plural` for `n` in `locale`; `%(num)s` is `n` unless given."""
    params.setdefault("num", n)
    chosen = translations(locale, domain).ngettext(singular, plural, n)
    return _format(chosen, singular if n == 1 else plural, params)


def catalog_json(locale: str, domain: str) -> dict[str, str]:
    """The catalog for JavaScript: every msgid -> its translation (untranslated: the msgid).

    Plural entries give two keys, the singular msgid -> the singular form and the plural msgid ->
    the plural form; Dutch and English both use the singular exactly when n == 1, so the pane's
    `tn(singular, plural, n)` is `n === 1 ? t(singular) : t(plural)`. An entry with a msgctxt is
    keyed "context\\x04msgid", as GNU gettext does.
    """
    loaded = _loaded(locale, domain)
    result: dict[str, str] = json.loads(loaded.json_body)
    return result


# -- extraction (for the catalog check and scripts/update_catalogs.py) ---------------------------

# Python calls the module functions with locale and domain first: gettext(locale, domain, msgid);
# a module's own one-argument helper is named `_` or `t` (`tn` for plurals).
_PY_KEYWORDS: dict[str, Any] = {
    "_": None,
    "t": None,
    "tn": (1, 2),
    "gettext": (3,),
    "ngettext": (3, 4),
}
_TEMPLATE_KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2)}
_JS_KEYWORDS: dict[str, Any] = {**_TEMPLATE_KEYWORDS, "t": None, "tn": (1, 2)}
_METHODS = {
    ".py": ("python", _PY_KEYWORDS, {}),
    ".html": ("jinja2.ext:babel_extract", _TEMPLATE_KEYWORDS, {"silent": "false"}),
    ".js": ("javascript", _JS_KEYWORDS, {}),
}


@dataclass(frozen=True, slots=True)
class Extracted:
    """One translatable text found in a source file (`plural` is None for a simple message)."""

    path: Path
    lineno: int
    msgid: str
    plural: str | None


def source_files(domain: str, root: Path | None = None) -> list[Path]:
    """The existing files that feed `domain`, sorted; `root` is the `addin` package directory."""
    base = root or Path(__file__).parent
    found = {path for pattern in SOURCES[domain] for path in base.glob(pattern) if path.is_file()}
    return sorted(found)


def extract(domain: str, root: Path | None = None) -> list[Extracted]:
    """Every translatable text in the source files of `domain` (Babel's extractors)."""
    from babel.messages.extract import extract as babel_extract

    found: list[Extracted] = []
    for path in source_files(domain, root):
        method = _METHODS.get(path.suffix)
        if method is None:
            continue
        name, keywords, options = method
        with path.open("rb") as fp:
            for lineno, message, _comments, _context in babel_extract(
                name, fp, keywords, options=options
            ):
                if isinstance(message, tuple):
                    found.append(Extracted(path, lineno, message[0], message[1]))
                else:
                    found.append(Extracted(path, lineno, message, None))
    return found


# -- Flask ---------------------------------------------------------------------------------------

bp = Blueprint("i18n", __name__, url_prefix="/i18n")


def _not_found() -> Response:
    msgid = "There is no such page. Check the address."
    try:
        message = gettext(request_locale(), "api", msgid)
    except UnknownCatalog:  # the api catalog itself is missing
        message = msgid
    response = jsonify(error="not_found", message=message)
    response.status_code = 404
    return response


SERVED_DOMAINS = ("pane", "cards", "api", "site")
"""Catalogs the route serves; the demo's own is rendered on the server, not by the product."""


@bp.get("/<domain>/<lang>.json")
def catalog_route(domain: str, lang: str) -> BaseResponse:
    """One catalog as JSON for the pane's `t()`, cacheable for an hour, with an ETag."""
    if domain not in SERVED_DOMAINS:
        return _not_found()
    try:
        loaded = _loaded(lang, domain)
    except UnknownCatalog:
        return _not_found()
    response = Response(loaded.json_body, mimetype="application/json")
    response.set_etag(loaded.etag)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.make_conditional(request)  # 304 when If-None-Match names this ETag
    return response


def _template_locale(context: Context) -> str:
    chosen = normalise_locale(context.get("locale"))
    if chosen:
        return chosen
    return request_locale() if has_request_context() else default_locale()


def _template_domain(context: Context) -> str:
    domain = context.get("domain")
    if not isinstance(domain, str):
        name = context.name or "a template"
        raise UnknownCatalog(f'{name} uses _() without {{% set domain = "..." %}} at its top')
    return domain


@pass_context
def _template_gettext(context: Context, msgid: str, **params: Any) -> str:
    return gettext(_template_locale(context), _template_domain(context), msgid, **params)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int, **params: Any) -> str:
    return ngettext(
        _template_locale(context), _template_domain(context), singular, plural, n, **params
    )


def init_app(app: Flask) -> None:
    """Jinja helpers (`_`, `gettext`, `ngettext`, `locale`) and the `/i18n` catalog route."""
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )

    @app.context_processor
    def _locale() -> dict[str, str]:
        return {"locale": request_locale() if has_request_context() else default_locale()}

    app.register_blueprint(bp)
