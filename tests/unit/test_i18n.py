"""Translations: the catalogs' health, the extraction check, locale choice, lookups and caching,
and the domain errors in Dutch."""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from flask import Flask, render_template_string

from addin import i18n
from addin.errors import MESSAGES, error_message, translate_error
from addin.settings import Settings
from cadence.conversation import Actor, Agenda, Item, Record, Theme
from cadence.errors import CadenceError
from cadence.model import Pair, Person, Role
from cadence.planning import Preferences
from cadence.recurrence import DayOfMonth, NthWeekday, Rule, Weekday
from cadence.zones import zone

PO_FILES = sorted(i18n.TRANSLATIONS_DIR.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrif]")


def _read(path: Path) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def _domains_with_catalogs() -> list[str]:
    return sorted({path.stem for path in PO_FILES})


def _strings(message: Message) -> tuple[str, ...]:
    """The msgstr forms of an entry (one for a simple message)."""
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(message.string or ())


def _singular(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


# -- the catalogs ---------------------------------------------------------------------------------


def test_the_own_catalogs_exist() -> None:
    """The api, site and cards catalogs exist in both languages."""
    for domain in ("api", "site", "cards"):
        for locale in i18n.SUPPORTED:
            assert i18n.catalog_path(locale, domain).is_file(), (locale, domain)


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_catalog_parses_without_fuzzy_entries(path: Path) -> None:
    """Each .po file parses, is for a supported locale and known domain, and nothing is fuzzy."""
    catalog = _read(path)
    assert path.parent.parent.name in i18n.SUPPORTED
    assert path.stem in i18n.DOMAINS
    assert not catalog.fuzzy, f"{path}: the header is marked fuzzy"
    fuzzy = [_singular(m) for m in _messages(catalog) if m.fuzzy]
    assert not fuzzy, f"{path}: fuzzy entries {fuzzy}"


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_plural_rule_is_one_versus_other(path: Path) -> None:
    """Dutch and English both use the singular exactly when n == 1, as the JSON shape assumes."""
    catalog = _read(path)
    assert catalog.num_plurals == 2
    assert catalog.plural_expr.replace(" ", "") == "(n!=1)"


def test_every_dutch_entry_is_translated() -> None:
    """No nl entry is left empty (English may stay empty: the msgid is the English)."""
    empty = []
    for path in i18n.TRANSLATIONS_DIR.glob("nl/LC_MESSAGES/*.po"):
        for message in _messages(_read(path)):
            if not all(s.strip() for s in _strings(message)):
                empty.append(f"{path.name}: {_singular(message)!r}")
    assert not empty, "untranslated Dutch:\n" + "\n".join(empty)


@pytest.mark.parametrize("domain", _domains_with_catalogs())
def test_nl_and_en_have_the_same_msgids(domain: str) -> None:
    """Both languages of a domain exist and list the same msgids (plurals included)."""
    ids = {}
    for locale in i18n.SUPPORTED:
        path = i18n.catalog_path(locale, domain)
        assert path.is_file(), f"{path} is missing: run scripts/update_catalogs.py {domain}"
        ids[locale] = {
            (m.id if isinstance(m.id, str) else tuple(m.id)) for m in _messages(_read(path))
        }
    assert ids["nl"] == ids["en"]


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_placeholders_match_and_format(path: Path) -> None:
    """Every translation has exactly its msgid's %(name)s placeholders and formats cleanly."""
    for message in _messages(_read(path)):
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        for msgid, text in zip(ids, _strings(message), strict=False):
            if not text:
                continue
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), (
                f"{path}: {msgid!r} -> {text!r}"
            )
            names = dict.fromkeys(PLACEHOLDER.findall(msgid), "x")
            if names:
                assert text % names  # a stray % would raise here


@pytest.mark.parametrize("domain", _domains_with_catalogs())
def test_json_keys_do_not_collide(domain: str) -> None:
    """A plural's msgids never clash with a simple msgid that is translated differently."""
    for locale in i18n.SUPPORTED:
        seen: dict[str, str] = {}
        for key, text in i18n._entries(i18n.read_catalog(locale, domain)):
            assert seen.setdefault(key, text) == text, f"{domain}/{locale}: {key!r}"


# -- the extraction check --------------------------------------------------------------------------


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_every_text_in_the_sources_is_in_the_dutch_catalog(domain: str) -> None:
    """Every msgid Babel extracts from a domain's files is in its nl catalog (file:line if not)."""
    found = i18n.extract(domain)
    if not found:
        return
    path = i18n.catalog_path("nl", domain)
    assert path.is_file(), f"{path} is missing: run scripts/update_catalogs.py {domain}"
    known = {_singular(m) for m in _messages(_read(path))}
    known |= {m.id[1] for m in _messages(_read(path)) if not isinstance(m.id, str)}
    missing = [
        f"{f.path.relative_to(i18n.TRANSLATIONS_DIR.parent.parent)}:{f.lineno}: {text!r}"
        for f in found
        for text in (f.msgid, f.plural)
        if text is not None and text not in known
    ]
    assert not missing, (
        f"not in {domain}.po (run scripts/update_catalogs.py {domain}, then translate):\n"
        + "\n".join(missing)
    )


def test_extract_reads_python_templates_and_javascript(tmp_path: Path) -> None:
    """The extractors find `_`, `gettext(locale, domain, ...)`, Jinja calls and `t`/`tn` in JS."""
    (tmp_path / "demo" / "pages").mkdir(parents=True)
    (tmp_path / "demo" / "static").mkdir()
    (tmp_path / "demo" / "host.py").write_text(
        "from addin.i18n import gettext\n"
        'A = _("Marked")\n'
        'B = gettext(locale, "demo", "Looked up", name=x)\n'
        'C = ngettext(locale, "demo", "One item", "%(num)s items", n)\n'
        'D = params["not a message"]\n'
    )
    (tmp_path / "demo" / "pages" / "demo.html").write_text(
        '{% set domain = "demo" %}\n<p>{{ _("In a template") }}</p>\n'
        '<p>{{ ngettext("One day", "%(num)s days", 2) }}</p>\n'
    )
    (tmp_path / "demo" / "static" / "demo.js").write_text(
        'import { t, tn } from "./i18n.js";\nel.textContent = t("In a module");\n'
        'el.title = tn("One action", "%(num)s actions", n);\n'
    )
    found = {(f.path.name, f.msgid, f.plural) for f in i18n.extract("demo", tmp_path)}
    assert found == {
        ("host.py", "Marked", None),
        ("host.py", "Looked up", None),
        ("host.py", "One item", "%(num)s items"),
        ("demo.html", "In a template", None),
        ("demo.html", "One day", "%(num)s days"),
        ("demo.js", "In a module", None),
        ("demo.js", "One action", "%(num)s actions"),
    }


def test_missing_source_files_are_skipped(tmp_path: Path) -> None:
    """A domain whose files do not exist yet extracts nothing."""
    assert i18n.source_files("pane", tmp_path) == []
    assert i18n.extract("site", tmp_path) == []


# -- locale choice ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nl", "nl"),
        ("en", "en"),
        ("nl-NL", "nl"),
        ("en-US", "en"),
        ("EN", "en"),
        ("en_GB", "en"),
        (" nl-BE ", "nl"),
        ("de", None),
        ("", None),
        (None, None),
        ("english", None),
    ],
)
def test_normalise_locale(value: str | None, expected: str | None) -> None:
    """Region and case do not matter; anything but Dutch or English is None."""
    assert i18n.normalise_locale(value) == expected


@pytest.mark.parametrize(
    ("explicit", "accept", "expected"),
    [
        ("en", "nl-NL,nl;q=0.9", "en"),
        ("EN-us", None, "en"),
        ("de", "en-US,en;q=0.9", "en"),
        (None, "de-DE,de;q=0.9,en;q=0.5,nl;q=0.4", "en"),
        (None, "nl;q=0.4,en;q=0.8", "en"),
        (None, "fr-FR", "nl"),
        (None, None, "nl"),
        (None, "*", "nl"),
    ],
)
def test_pick_locale(explicit: str | None, accept: str | None, expected: str) -> None:
    """Explicit first, then the browser's languages by their weights, then the default."""
    assert i18n.pick_locale(explicit, accept) == expected


def test_pick_locale_default() -> None:
    """Without any usable choice the given default wins, also for "*"."""
    assert i18n.pick_locale(None, "fr", default="en") == "en"
    assert i18n.pick_locale(None, "*", default="en") == "en"


def _app(default_locale: str = "nl") -> Flask:
    app = Flask(__name__)
    app.extensions["goedgesprek.settings"] = Settings(
        data_dir=Path("unused"), default_locale=default_locale
    )
    i18n.init_app(app)
    return app


@pytest.mark.parametrize(
    ("explicit", "query", "accept", "default", "expected"),
    [
        ("en", "nl", "nl", "nl", "en"),  # the host's language the client passed on
        (None, "en", "nl", "nl", "en"),  # ?lang=
        (None, "EN-GB", None, "nl", "en"),
        ("xx", "en", None, "nl", "en"),  # unusable explicit falls through
        (None, "de", "en-US,en;q=0.9", "nl", "en"),  # unusable ?lang= falls through
        (None, None, "nl-NL,nl;q=0.9,en;q=0.8", "en", "nl"),
        (None, None, "fr", "en", "en"),  # the settings' default
        (None, None, None, "en", "en"),
        (None, None, None, "nl", "nl"),
        (None, None, "*", "en", "en"),
    ],
)
def test_request_locale(
    explicit: str | None, query: str | None, accept: str | None, default: str, expected: str
) -> None:
    """Explicit, then ?lang=, then Accept-Language, then the settings' default."""
    app = _app(default)
    headers = {"Accept-Language": accept} if accept else {}
    url = f"/?lang={query}" if query else "/"
    with app.test_request_context(url, headers=headers):
        assert i18n.request_locale(explicit) == expected


def test_request_locale_without_settings_is_dutch() -> None:
    """An app without settings falls back to Dutch."""
    app = Flask(__name__)
    with app.test_request_context("/"):
        assert i18n.request_locale() == "nl"


# -- lookups ---------------------------------------------------------------------------------------

_TEST_PO = r"""
msgid ""
msgstr ""
"Language: {locale}\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"
"Content-Type: text/plain; charset=utf-8\n"

msgid "Hello %(name)s"
msgstr "{hello}"

msgid "Untranslated"
msgstr ""

#, fuzzy
msgid "Fuzzy"
msgstr "Wazig"

msgid "Broken %(name)s"
msgstr "Kapot %(naam)s"

msgid "One conversation"
msgid_plural "%(num)s conversations"
msgstr[0] "{one}"
msgstr[1] "{other}"

msgctxt "verb"
msgid "Plan"
msgstr "{plan}"
"""


@pytest.fixture
def catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A translations directory with a small `demo` catalog in both languages."""
    texts = {
        "nl": {
            "hello": "Hallo %(name)s",
            "one": "Eén gesprek",
            "other": "%(num)s gesprekken",
            "plan": "Plannen",
        },
        "en": {"hello": "", "one": "", "other": "", "plan": ""},
    }
    for locale, words in texts.items():
        folder = tmp_path / locale / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "demo.po").write_text(_TEST_PO.format(locale=locale, **words), "utf-8")
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    i18n.clear_cache()
    yield tmp_path
    i18n.clear_cache()


def test_gettext_fills_placeholders(catalogs: Path) -> None:
    """Params fill %(name)s in the translation; English falls back to the msgid."""
    assert i18n.gettext("nl", "demo", "Hello %(name)s", name="Ada") == "Hallo Ada"
    assert i18n.gettext("en", "demo", "Hello %(name)s", name="Ada") == "Hello Ada"
    assert i18n.gettext("nl-NL", "demo", "Hello %(name)s", name="<b>") == "Hallo <b>"


def test_gettext_falls_back_to_the_msgid(catalogs: Path) -> None:
    """Untranslated, fuzzy and unknown msgids come back as the msgid."""
    assert i18n.gettext("nl", "demo", "Untranslated") == "Untranslated"
    assert i18n.gettext("nl", "demo", "Fuzzy") == "Fuzzy"
    assert i18n.gettext("nl", "demo", "Not in the catalog") == "Not in the catalog"


def test_broken_translation_uses_the_source_text(catalogs: Path) -> None:
    """A translation with a wrong placeholder never breaks the page: the msgid is used."""
    assert i18n.gettext("nl", "demo", "Broken %(name)s", name="Ada") == "Broken Ada"


def test_ngettext_chooses_the_form_and_fills_num(catalogs: Path) -> None:
    """One for n == 1, the other form otherwise; %(num)s is n."""
    one, other = "One conversation", "%(num)s conversations"
    assert i18n.ngettext("nl", "demo", one, other, 1) == "Eén gesprek"
    assert i18n.ngettext("nl", "demo", one, other, 4) == "4 gesprekken"
    assert i18n.ngettext("nl", "demo", one, other, 0) == "0 gesprekken"
    assert i18n.ngettext("en", "demo", one, other, 1) == "One conversation"
    assert i18n.ngettext("en", "demo", one, other, 2) == "2 conversations"
    assert i18n.ngettext("en", "demo", one, other, 2, num="two") == "two conversations"


def test_catalog_json_shape(catalogs: Path) -> None:
    """msgid -> translation, untranslated and fuzzy -> msgid, plurals as two keys, contexts
    keyed with \\x04."""
    nl = i18n.catalog_json("nl", "demo")
    assert nl == {
        "Hello %(name)s": "Hallo %(name)s",
        "Untranslated": "Untranslated",
        "Fuzzy": "Fuzzy",
        "Broken %(name)s": "Kapot %(naam)s",
        "One conversation": "Eén gesprek",
        "%(num)s conversations": "%(num)s gesprekken",
        "verb\x04Plan": "Plannen",
    }
    en = i18n.catalog_json("en", "demo")
    assert en["One conversation"] == "One conversation"
    assert en["Hello %(name)s"] == "Hello %(name)s"


def test_unknown_locale_or_domain_is_refused(catalogs: Path) -> None:
    """Unsupported locales, unknown domains and missing files raise UnknownCatalog."""
    with pytest.raises(i18n.UnknownCatalog, match="locale"):
        i18n.translations("de", "demo")
    with pytest.raises(i18n.UnknownCatalog, match="domain"):
        i18n.translations("nl", "nope")
    with pytest.raises(i18n.UnknownCatalog, match=r"pane\.po"):
        i18n.translations("nl", "pane")


def test_translations_are_loaded_once(catalogs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One load per (locale, domain), also when many threads ask at once; aliases share it."""
    calls: list[tuple[str, str]] = []
    real: Callable[[str, str], i18n._Loaded] = i18n._load

    def counting(locale: str, domain: str) -> i18n._Loaded:
        calls.append((locale, domain))
        return real(locale, domain)

    monkeypatch.setattr(i18n, "_load", counting)
    start = threading.Barrier(8)
    results: list[object] = []

    def ask() -> None:
        start.wait(timeout=10)
        results.append(i18n.translations("nl", "demo"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 8
    assert all(r is results[0] for r in results)
    assert i18n.translations("nl-NL", "demo") is results[0]
    assert calls == [("nl", "demo")]
    i18n.clear_cache()
    assert i18n.translations("nl", "demo") is not results[0]
    assert calls == [("nl", "demo"), ("nl", "demo")]


# -- Jinja helpers ---------------------------------------------------------------------------------


def test_template_helpers_use_the_domain_and_locale(catalogs: Path) -> None:
    """`{% set domain %}` picks the catalog; ?lang= picks the language; output is escaped."""
    app = _app()
    source = (
        '{% set domain = "demo" %}<html lang="{{ locale }}">'
        '{{ _("Hello %(name)s", name=who) }}|'
        '{{ ngettext("One conversation", "%(num)s conversations", 3) }}|'
        '{{ gettext("Untranslated") }}'
    )
    with app.test_request_context("/?lang=nl"):
        html = render_template_string(source, who="<script>")
    assert html == '<html lang="nl">Hallo &lt;script&gt;|3 gesprekken|Untranslated'
    with app.test_request_context("/", headers={"Accept-Language": "en-US"}):
        assert render_template_string(source, who="Ada").startswith('<html lang="en">Hello Ada|')


def test_a_view_can_pass_the_locale(catalogs: Path) -> None:
    """A `locale` the view passes wins over the request's."""
    app = _app()
    with app.test_request_context("/?lang=en"):
        html = render_template_string(
            '{% set domain = "demo" %}{{ _("Hello %(name)s", name="Ada") }}', locale="nl"
        )
    assert html == "Hallo Ada"


def test_included_templates_see_the_domain(catalogs: Path) -> None:
    """An included template uses the includer's domain."""
    app = _app()
    app.jinja_env.loader = __import__("jinja2").DictLoader(
        {
            "page.html": '{% set domain = "demo" %}{% include "part.html" %}',
            "part.html": '{{ _("Hello %(name)s", name="Grace") }}',
        }
    )
    with app.test_request_context("/?lang=nl"):
        assert app.jinja_env.get_template("page.html").render() == "Hallo Grace"


def test_a_template_without_domain_fails_loudly(catalogs: Path) -> None:
    """Forgetting `{% set domain %}` is an error naming the fix, not silent English."""
    app = _app()
    with app.test_request_context("/"), pytest.raises(i18n.UnknownCatalog, match="set domain"):
        render_template_string('{{ _("Hello %(name)s", name="Ada") }}')


# -- API and domain errors -------------------------------------------------------------------------


@pytest.fixture
def real_catalogs() -> Iterator[None]:
    """The shipped catalogs, freshly loaded."""
    i18n.clear_cache()
    yield
    i18n.clear_cache()


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_error_messages_exist_in_both_languages(code: str, real_catalogs: None) -> None:
    """Every API error code has a Dutch sentence that differs from the English one."""
    params = {"field": "title", "limit": 64, "seconds": 5, "email": "ada@example.org"}
    english = error_message(code, "en", **params)
    dutch = error_message(code, "nl", **params)
    assert english == MESSAGES[code] % params
    assert dutch != english


def _raised(make: Callable[[], object]) -> CadenceError:
    with pytest.raises(CadenceError) as info:
        make()
    return info.value


ADA = Actor("ada", Role.EMPLOYEE)
GRACE = Actor("grace", Role.MANAGER)
OCC = datetime(2027, 1, 12, 9, 0, tzinfo=zone("Europe/Amsterdam"))
NOW = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)


def _agenda() -> Agenda:
    themes = (Theme("personal", "Persoonlijk"), Theme("growth", "Groei"))
    return Agenda(series_id="s1", occurrence=OCC, themes=themes).add_item(
        theme="personal", title="Energie", by=ADA, now=NOW
    )


def _prefs(**changes: object) -> Callable[[], object]:
    values: dict[str, object] = {
        "weekdays": {Weekday.TU},
        "earliest": time(9),
        "latest": time(12),
        "duration": 60,
        "interval": 3,
    }
    values.update(changes)
    return lambda: Preferences(**values)  # type: ignore[arg-type]


def _item(title: str, notes: str = "") -> Item:
    return Item("i1", "personal", title, Role.EMPLOYEE, Role.EMPLOYEE, notes=notes)


def _record() -> Record:
    return Record.for_agenda(_agenda())


DOMAIN_ERRORS: list[tuple[str, Callable[[], object], str]] = [
    ("duration", _prefs(duration=15), "Een gesprek duurt 30 tot 120 minuten, niet 15."),
    (
        "window",
        _prefs(earliest=time(9), latest=time(9, 30)),
        "Een gesprek van 60 minuten past niet tussen 09:00 en 09:30: begin eerder, eindig later "
        "of maak het korter.",
    ),
    ("no weekday", _prefs(weekdays=set()), "Kies minstens één dag van de week voor de gesprekken."),
    (
        "unknown weekday",
        _prefs(weekdays={7}),
        "Onbekende dag: kies dagen van maandag tot en met zondag.",
    ),
    ("interval", _prefs(interval=5), "Kies elke 1, 2, 3, 4 of 6 maanden, niet 5."),
    (
        "same person",
        lambda: Pair(Person("ada", "Ada", "a@example.org"), Person("ada", "Ada", "a@example.org")),
        "De medewerker en de leidinggevende moeten twee verschillende mensen zijn.",
    ),
    ("empty title", lambda: _item("  "), "De titel is leeg: schrijf een paar woorden."),
    (
        "long title",
        lambda: _item("x" * 201),
        "De titel telt 201 tekens: houd het bij 200.",
    ),
    (
        "two-line title",
        lambda: _item("one\ntwo"),
        "De titel moet op één regel: zet de rest in de notities.",
    ),
    (
        "long notes",
        lambda: _item("ok", notes="x" * 4001),
        "De notities tellen 4001 tekens: houd het bij 4000.",
    ),
    (
        "empty agreement",
        lambda: _record().add_agreement(" ", by=ADA, now=NOW),
        "De afspraak is leeg: schrijf een paar woorden.",
    ),
    (
        "empty action",
        lambda: _record().add_action("", owner=Role.EMPLOYEE, by=ADA, now=NOW),
        "Het actiepunt is leeg: schrijf een paar woorden.",
    ),
    (
        "unknown item",
        lambda: _agenda().item("i99"),
        "Dit agendapunt bestaat niet meer: laad opnieuw om de huidige agenda te zien.",
    ),
    (
        "unknown theme",
        lambda: _agenda().add_item(theme="money", title="Salaris", by=ADA, now=NOW),
        "Onbekend thema 'money': kies uit personal, growth.",
    ),
    (
        "manager shares",
        lambda: _agenda().share(by=GRACE, now=NOW),
        "Alleen de medewerker kan de agenda delen: het is de agenda van de medewerker.",
    ),
    (
        "agree a draft",
        lambda: _agenda().agree(by=GRACE, now=NOW),
        "De agenda is nog een concept: eerst deelt de medewerker hem.",
    ),
    (
        "agree twice",
        lambda: _agenda().share(by=ADA, now=NOW).agree(by=GRACE, now=NOW).agree(by=GRACE, now=NOW),
        "De leidinggevende heeft al akkoord gegeven op deze agenda.",
    ),
    (
        "manager edits the employee's item",
        lambda: _agenda().share(by=ADA, now=NOW).edit_item("i1", by=GRACE, now=NOW, title="Anders"),
        "De leidinggevende kan dit punt niet wijzigen: de medewerker heeft het op de agenda "
        "gezet. Stel in plaats daarvan een nieuw punt voor.",
    ),
    (
        "accept a draft",
        lambda: _record().add_agreement("Cursus", by=ADA, now=NOW).accept("ag1", by=ADA, now=NOW),
        "Deze afspraak is nog een concept: stel hem eerst voor, dan kan er akkoord op worden "
        "gegeven.",
    ),
    (
        "nothing to accept",
        lambda: _record().accept_all(by=GRACE, now=NOW),
        "Er is geen voorgestelde afspraak waarop de leidinggevende akkoord kan geven.",
    ),
    (
        "count",
        lambda: Rule.build(datetime(2027, 1, 1, 9), "Europe/Amsterdam", DayOfMonth(1), count=0),
        "Het aantal gesprekken moet 1 of meer zijn.",
    ),
    (
        "fifth weekday",
        lambda: NthWeekday(Weekday.TU, 5),
        "Kies de eerste tot en met de vierde of de laatste weekdag van de maand: niet elke maand "
        "heeft een vijfde.",
    ),
    (
        "day 30",
        lambda: DayOfMonth(30),
        "Kies dag 1-28 of de laatste dag van de maand: dag 29-31 zit niet in elke maand.",
    ),
    (
        "unknown zone",
        lambda: zone("Mars/Olympus"),
        "Onbekende tijdzone 'Mars/Olympus': gebruik een naam zoals Europe/Amsterdam.",
    ),
    (
        "until before first",
        lambda: Rule.build(
            datetime(2027, 1, 1, 9), "Europe/Amsterdam", DayOfMonth(1), until=date(2026, 1, 1)
        ),
        "De einddatum 2026-01-01 ligt voor het eerste gesprek (2027-01-01): kies een latere.",
    ),
]


@pytest.mark.parametrize(
    ("make", "dutch"), [(m, d) for _, m, d in DOMAIN_ERRORS], ids=[n for n, _, _ in DOMAIN_ERRORS]
)
def test_domain_errors_in_dutch(
    make: Callable[[], object], dutch: str, real_catalogs: None
) -> None:
    """A domain error a form can trigger reads as Dutch, and as a tidy sentence in English."""
    exc = _raised(make)
    assert translate_error(exc, "nl") == dutch
    english = translate_error(exc, "en")
    assert english != str(exc)
    assert english[0].isupper() and english.endswith(".")


def test_unknown_domain_errors_keep_their_english(real_catalogs: None) -> None:
    """A message no rule knows comes back unchanged, in any language."""
    exc = CadenceError("something new went wrong")
    assert translate_error(exc, "nl") == "something new went wrong"
    assert translate_error(exc, "en") == "something new went wrong"


# -- scripts/update_catalogs.py --------------------------------------------------------------------


def _update_script() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "update_catalogs.py"
    spec = importlib.util.spec_from_file_location("update_catalogs", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_update_catalogs_adds_missing_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """New msgids land in both catalogs, untranslated; translations and old entries are kept."""
    script = _update_script()
    root = tmp_path / "addin"
    root.mkdir()
    (root / "support.py").write_text(
        'A = _("Privacy")\nB = ngettext(x, "site", "One", "%(num)s", n)\n'
    )
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path / "translations")
    i18n.clear_cache()

    assert script.update("site", write=False, prune=False, root=root)  # --check: behind
    assert not i18n.catalog_path("nl", "site").exists()
    script.update("site", write=True, prune=False, root=root)
    nl = _read(i18n.catalog_path("nl", "site"))
    assert not nl.fuzzy
    assert nl.get("Privacy").string == ""
    assert tuple(nl.get("One").id) == ("One", "%(num)s")
    assert "python-format" in nl.get("One").flags
    assert {_singular(m) for m in _messages(_read(i18n.catalog_path("en", "site")))} == {
        "Privacy",
        "One",
    }

    # A translator fills in the Dutch; a new text and a removed one follow.
    text = i18n.catalog_path("nl", "site").read_text("utf-8")
    text = text.replace('msgid "Privacy"\nmsgstr ""', 'msgid "Privacy"\nmsgstr "Privacy (nl)"')
    i18n.catalog_path("nl", "site").write_text(text, "utf-8")
    (root / "support.py").write_text('A = _("Privacy")\nC = _("Contact")\n')
    capsys.readouterr()
    changes = script.update("site", write=True, prune=False, root=root)
    assert len(changes) == 2  # "Contact" in nl and en
    assert "site: not used in the sources: 'One'" in capsys.readouterr().out
    nl = _read(i18n.catalog_path("nl", "site"))
    assert nl.get("Privacy").string == "Privacy (nl)"
    assert nl.get("One") is not None
    assert script.update("site", write=True, prune=False, root=root) == []

    script.update("site", write=True, prune=True, root=root)
    assert _read(i18n.catalog_path("nl", "site")).get("One") is None
    i18n.clear_cache()


def test_every_domain_error_code_has_a_dutch_and_an_english_sentence() -> None:
    """Each code the domain raises has a sentence in both catalogs, placeholders and all."""
    from test_rules import raised_codes

    from addin.errors import DOMAIN_MESSAGES

    codes = raised_codes()
    assert codes <= set(DOMAIN_MESSAGES), sorted(codes - set(DOMAIN_MESSAGES))
    nl = _read(i18n.catalog_path("nl", "api"))
    en = _read(i18n.catalog_path("en", "api"))
    for code in codes:
        msgid = DOMAIN_MESSAGES[code]
        dutch, english = nl.get(msgid), en.get(msgid)
        assert dutch is not None and dutch.string, f"{code}: no Dutch sentence for {msgid!r}"
        assert english is not None, f"{code}: no English entry for {msgid!r}"
        assert set(PLACEHOLDER.findall(str(dutch.string))) == set(PLACEHOLDER.findall(msgid))


def test_domain_errors_are_translated_by_code_not_by_their_english(real_catalogs: None) -> None:
    """The code decides the sentence: the English text of the error plays no part."""
    exc = CadenceError("whatever the English says", code="agreement_final")
    assert translate_error(exc, "nl") == "Deze afspraak is al definitief."
    role = CadenceError("x", code="already_accepted", role="manager")
    dutch = "De leidinggevende heeft al akkoord gegeven op deze afspraak."
    assert translate_error(role, "nl") == dutch
