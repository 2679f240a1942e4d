"""Templates: schema-checked loading, overrides, language fallback, and the renderers."""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from markdown_it import MarkdownIt

from cadence.conversation import ActionStatus, Actor, Agenda, Record, Theme, carry_over
from cadence.errors import TemplateError
from cadence.model import Pair, Person, Role
from templates import load_templates, schema
from templates.render import (
    agenda_html,
    agenda_template_html,
    agenda_text,
    escape_markdown,
    record_html,
    record_markdown,
)

AMS = ZoneInfo("Europe/Amsterdam")
OCC = datetime(2027, 1, 12, 10, 0, tzinfo=AMS)
T = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
ADA = Actor("ada", Role.EMPLOYEE)
GRACE = Actor("grace", Role.MANAGER)
MD = MarkdownIt("commonmark").enable("table")


def write(folder: Path, name: str, text: str) -> Path:
    """Write one template file into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


SMALL = """\
kind: agenda
key: {key}
title: {{nl: Klein, en: Small}}
themes:
  - key: one
    title: {{nl: Een, en: One}}
"""


# -- the built-in set -----------------------------------------------------------------------------


def test_schema_is_a_valid_json_schema() -> None:
    """The schema file itself is valid draft 2020-12."""
    Draft202012Validator.check_schema(schema())


def test_every_built_in_file_matches_the_schema() -> None:
    """Start-up checks only an organisation's files against the schema: the built-in ones are
    checked here, each with the same loader an organisation's file goes through."""
    import yaml

    from templates import _DATA, _load_file

    validator = Draft202012Validator(schema())
    files = sorted(_DATA.glob("*.yaml"))
    assert files
    for path in files:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
        assert errors == [], f"{path.name}: {errors[0].message}"
        _load_file(path, checked=True)


def test_built_in_templates_are_all_there() -> None:
    """Three agendas, the question bank and the checklist load."""
    ts = load_templates()
    assert ts.keys("agenda") == ("energy", "talk_card", "three_themes")
    assert ts.keys("questions") == ("feedback",)
    assert ts.keys("checklist") == ("agreements",)


def test_three_themes_in_both_languages() -> None:
    """The common agenda: personal, current role, growth and development."""
    ts = load_templates()
    assert [(t.key, t.title) for t in ts.agenda(locale="nl").themes] == [
        ("personal", "Persoonlijk"),
        ("role", "Huidige functie"),
        ("growth", "Groei en ontwikkeling"),
    ]
    assert [t.title for t in ts.agenda(locale="en").themes] == [
        "Personal",
        "Current role",
        "Growth and development",
    ]


def test_talk_card_has_its_four_themes() -> None:
    """The talk card: results, development, collaboration, wellbeing."""
    keys = [t.key for t in load_templates().agenda("talk_card").themes]
    assert keys == ["results", "development", "collaboration", "wellbeing"]


def test_every_built_in_text_is_translated() -> None:
    """No built-in template needs a fallback in either language."""
    ts = load_templates()
    for locale in ("nl", "en"):
        fallbacks = [ts.agenda(key, locale).fallback for key in ts.keys("agenda")]
        fallbacks.append(ts.questions(locale=locale).fallback)
        fallbacks.append(ts.checklist(locale=locale).fallback)
        assert fallbacks == [()] * 5


def test_question_bank_covers_both_modes_and_directions() -> None:
    """Feedback and feedforward, each employee->manager and manager->employee, open questions."""
    bank = load_templates().questions(locale="en")
    for mode in ("feedback", "feedforward"):
        for direction in ("employee_to_manager", "manager_to_employee"):
            groups = bank.group(mode, direction)
            assert groups, (mode, direction)
            assert all(q.text.endswith("?") for g in groups for q in g.questions)


def test_checklist_has_every_agreement_from_the_practice() -> None:
    """The checklist names each agreement a pair makes, each with a title and an explanation."""
    items = load_templates().checklist(locale="nl").items
    assert {i.key for i in items} >= {
        "agenda_owner",
        "participants",
        "chair",
        "frequency",
        "roster_time",
        "rescheduling",
        "duration",
        "location",
        "scope",
        "equal_access",
        "record_keeping",
        "agreement_status",
        "privacy",
        "intervention",
        "reliability",
        "calendar_copy",
    }
    assert all(i.title and i.explanation for i in items)


def test_agenda_template_feeds_the_domain() -> None:
    """Template themes start an agenda and carry-over; an open action carries as an action."""
    template = load_templates().agenda(locale="en")
    agenda = Agenda("s1", OCC, template.as_themes())
    agenda = agenda.add_item(theme="growth", title="Course", by=ADA, now=T)
    record = Record.for_agenda(agenda).add_action(
        "Find a course", owner=Role.EMPLOYEE, by=ADA, now=T
    )
    nxt = carry_over(
        agenda,
        record,
        occurrence=datetime(2027, 4, 13, 10, 0, tzinfo=AMS),
        themes=template.as_themes(),
    )
    assert nxt.themes == template.as_themes()
    assert [a.description for a in nxt.actions] == ["Find a course"]


def test_unknown_key_lists_the_known_ones() -> None:
    """Asking for a template that does not exist says which do."""
    with pytest.raises(TemplateError, match="use one of energy, talk_card, three_themes"):
        load_templates().agenda("nope")


def test_unknown_locale_is_refused() -> None:
    """Only nl and en."""
    with pytest.raises(TemplateError, match="locale must be nl or en, got 'de'"):
        load_templates().agenda(locale="de")


# -- organisation folders -----------------------------------------------------------------------


def test_an_extra_folder_adds_and_overrides(tmp_path: Path) -> None:
    """A new key is added; a built-in key is replaced whole by the organisation's file."""
    write(tmp_path, "mine.yaml", SMALL.format(key="mine"))
    write(tmp_path, "override.yaml", SMALL.format(key="talk_card"))
    ts = load_templates([tmp_path])
    assert ts.keys("agenda") == ("energy", "mine", "talk_card", "three_themes")
    assert [t.key for t in ts.agenda("talk_card").themes] == ["one"]
    assert ts.source("agenda", "talk_card") == tmp_path / "override.yaml"


def test_a_later_folder_wins(tmp_path: Path) -> None:
    """Folders apply in order: the last one with a key wins."""
    write(tmp_path / "a", "x.yaml", SMALL.format(key="mine"))
    write(tmp_path / "b", "x.yml", SMALL.format(key="mine").replace("Small", "Later"))
    assert load_templates([tmp_path / "a", tmp_path / "b"]).agenda("mine", "en").title == "Later"


def test_duplicate_keys_in_one_folder_are_refused(tmp_path: Path) -> None:
    """Two files with the same kind and key in one folder: the error names both."""
    write(tmp_path, "a.yaml", SMALL.format(key="mine"))
    write(tmp_path, "b.yaml", SMALL.format(key="mine"))
    with pytest.raises(TemplateError, match=r"b\.yaml: field key: .*also defined in a\.yaml"):
        load_templates([tmp_path])


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    """A configured folder that does not exist is named."""
    with pytest.raises(TemplateError, match="does not exist: create it"):
        load_templates([tmp_path / "nope"])


def test_other_files_in_the_folder_are_ignored(tmp_path: Path) -> None:
    """Only .yaml and .yml files are templates."""
    write(tmp_path, "README.md", "not a template")
    write(tmp_path, "mine.yaml", SMALL.format(key="mine"))
    assert "mine" in load_templates([tmp_path]).keys("agenda")


def test_fallback_to_the_other_language_is_reported(tmp_path: Path) -> None:
    """A text without English falls back to Dutch, and the lookup says which field did."""
    write(
        tmp_path,
        "nl_only.yaml",
        SMALL.format(key="mine").replace("{nl: Een, en: One}", "{nl: Een}"),
    )
    ts = load_templates([tmp_path])
    en = ts.agenda("mine", "en")
    assert (en.title, en.themes[0].title, en.fallback) == ("Small", "Een", ("themes[0].title",))
    assert ts.agenda("mine", "nl").fallback == ()


# -- broken files ----------------------------------------------------------------------------------

BROKEN = [
    (
        "syntax.yaml",
        "kind: agenda\nkey: [unclosed\n",
        r"syntax\.yaml: the YAML is broken at line 3",
    ),
    ("empty.yaml", "", r"empty\.yaml: the file is empty"),
    (
        "missing.yaml",
        "kind: agenda\nkey: mine\nthemes: [{key: one, title: {nl: Een}}]\n",
        r"missing\.yaml: field \(top level\): 'title' is missing: add it",
    ),
    (
        "badkey.yaml",
        SMALL.format(key="Mine Key"),
        r"badkey\.yaml: field key: 'Mine Key' is not a valid key: use lowercase letters",
    ),
    (
        "extra.yaml",
        SMALL.format(key="mine") + "colour: blue\n",
        r"extra\.yaml: field \(top level\): 'colour' is not allowed here: remove it",
    ),
    (
        "kind.yaml",
        SMALL.format(key="mine").replace("kind: agenda", "kind: survey"),
        r"kind\.yaml: field kind: 'survey' is not allowed: use one of agenda, questions, checklist",
    ),
    (
        "nolang.yaml",
        SMALL.format(key="mine").replace("{nl: Een, en: One}", "{}"),
        r"nolang\.yaml: field themes\[0\]\.title: the text has no language: give it in nl, en",
    ),
    (
        "german.yaml",
        SMALL.format(key="mine").replace("{nl: Een, en: One}", "{de: Eins}"),
        r"german\.yaml: field themes\[0\]\.title: 'de' is not allowed here: remove it "
        r"\(allowed: en, nl\)",
    ),
    (
        "type.yaml",
        SMALL.format(key="mine").replace("{nl: Een, en: One}", "Een"),
        r"type\.yaml: field themes\[0\]\.title: expected a mapping, got text",
    ),
    (
        "nothemes.yaml",
        "kind: agenda\nkey: mine\ntitle: {nl: X}\nthemes: []\n",
        r"nothemes\.yaml: field themes: the list is empty or too short: give at least 1",
    ),
    (
        "twice.yaml",
        SMALL.format(key="mine") + "  - key: one\n    title: {nl: Nog een}\n",
        r"twice\.yaml: field themes\[1\]\.key: 'one' is used twice in themes",
    ),
    (
        "blank.yaml",
        SMALL.format(key="mine").replace("{nl: Een, en: One}", "{nl: Een, en: '   '}"),
        r"blank\.yaml: field themes\[0\]\.title\.en: a theme title must be one line with some "
        "text",
    ),
    (
        "twolines.yaml",
        SMALL.format(key="mine").replace("{nl: Een, en: One}", '{nl: "Een\\ntwee"}'),
        r"twolines\.yaml: field themes\[0\]\.title\.nl: a theme title must be one line",
    ),
    (
        "followup.yaml",
        SMALL.format(key="mine") + "follow_up: {key: later, title: {nl: ' '}}\n",
        r"followup\.yaml: field follow_up\.title\.nl: a theme title must be one line",
    ),
    (
        "group.yaml",
        "kind: questions\nkey: q\ntitle: {nl: V}\ngroups:\n  - key: g\n    mode: feedback\n"
        "    direction: sideways\n    title: {nl: G}\n    questions:\n      - key: a\n"
        "        text: {nl: Waarom}\n",
        r"group\.yaml: field groups\[0\]\.direction: 'sideways' is not allowed: use one of "
        "employee_to_manager, manager_to_employee",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_file_names_file_field_and_fix(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """Each kind of mistake is refused with the file, the field and what to change."""
    write(tmp_path, name, text)
    with pytest.raises(TemplateError, match=message):
        load_templates([tmp_path])


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """A file saved in another encoding is refused with what to do."""
    (tmp_path / "latin.yaml").write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(
        TemplateError, match=r"latin\.yaml: the file is not UTF-8: save it as UTF-8"
    ):
        load_templates([tmp_path])


# -- renderers: golden --------------------------------------------------------------------------

THEMES = (Theme("personal", "Persoonlijk"), Theme("role", "Huidige functie"))


def small_agenda() -> Agenda:
    """Two themes; one item of each partner, one carried over with notes."""
    a = Agenda("s1", OCC, THEMES)
    a = a.add_item(
        theme="personal", title="Energie", notes="Drukke maand\nveel reizen", by=ADA, now=T
    )
    return a.add_item(theme="personal", title="Vakantie", by=GRACE, now=T)


def test_agenda_html_fragment_golden() -> None:
    """The event-body fragment in Dutch."""
    assert agenda_html(small_agenda()) == (
        '<section class="gg-agenda" lang="nl">\n'
        "<h2>Agenda</h2>\n"
        '<p class="gg-meta">Gesprek van dinsdag 12 januari 2027, 10:00 · concept</p>\n'
        "<h3>Persoonlijk</h3>\n"
        "<ul>\n"
        '<li><strong>Energie</strong> <span class="gg-owner">(medewerker)</span>'
        '<br><span class="gg-notes">Drukke maand<br>veel reizen</span></li>\n'
        '<li><strong>Vakantie</strong> <span class="gg-owner">(leidinggevende)</span></li>\n'
        "</ul>\n"
        "<h3>Huidige functie</h3>\n"
        '<p class="gg-empty">Nog geen punten.</p>\n'
        "</section>"
    )


def test_agenda_html_titles_only_golden() -> None:
    """Theme titles only, in English: no items, no notes."""
    assert agenda_html(small_agenda(), "en", titles_only=True) == (
        '<section class="gg-agenda" lang="en">\n'
        "<h2>Agenda</h2>\n"
        '<p class="gg-meta">Conversation of Tuesday 12 January 2027, 10:00</p>\n'
        '<ul class="gg-themes">\n'
        "<li>Persoonlijk</li>\n"
        "<li>Huidige functie</li>\n"
        "</ul>\n"
        "</section>"
    )


def test_agenda_html_document_wraps_the_fragment() -> None:
    """The attachment is a whole document with language, charset and an escaped title."""
    doc = agenda_html(small_agenda(), document=True)
    assert doc.startswith('<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n')
    assert "<title>Agenda: Gesprek van dinsdag 12 januari 2027, 10:00</title>" in doc
    assert agenda_html(small_agenda()) in doc
    assert doc.endswith("</body>\n</html>\n")


def test_agenda_text_golden() -> None:
    """Plain text with carried-over items flagged."""
    a = carry_over(
        small_agenda(),
        None,
        occurrence=datetime(2027, 4, 13, 10, 0, tzinfo=AMS),
        themes=THEMES,
    )
    assert agenda_text(a, "en") == (
        "Agenda\n"
        "Conversation of Tuesday 13 April 2027, 10:00 (draft)\n"
        "\n"
        "Persoonlijk\n"
        "- Energie (employee) [carried over]\n"
        "  Drukke maand\n"
        "  veel reizen\n"
        "- Vakantie (manager) [carried over]\n"
        "\n"
        "Huidige functie\n"
        "  No items yet.\n"
    )


def test_time_is_shown_in_the_zone_asked_for() -> None:
    """A partner in another zone sees their own wall-clock time."""
    assert "10:00" not in agenda_text(small_agenda(), "en", tz="Europe/London")
    assert "Tuesday 12 January 2027, 09:00" in agenda_text(small_agenda(), "en", tz="Europe/London")


def met() -> tuple[Agenda, Record]:
    """The small agenda and its record: one summary, an accepted agreement, two actions."""
    a = small_agenda()
    r = Record.for_agenda(a).summarise("i1", "Gaat beter", finished=True, by=ADA, now=T)
    r = r.add_agreement("Minder reizen", by=ADA, now=T).propose("ag1", by=ADA, now=T)
    r = r.accept("ag1", by=GRACE, now=T)
    r = r.add_action("Reisschema maken", owner=Role.EMPLOYEE, due=date(2027, 2, 1), by=ADA, now=T)
    r = r.add_action("Budget", owner=Role.MANAGER, by=GRACE, now=T)
    return a, r.set_status("ac3", ActionStatus.DONE, by=GRACE, now=T)


def test_record_markdown_golden() -> None:
    """The record in Markdown: per theme and item, agreements, an actions table."""
    a, r = met()
    assert record_markdown(r, a) == (
        "# Verslag\n"
        "\n"
        "Gesprek van dinsdag 12 januari 2027, 10:00\n"
        "\n"
        "## Persoonlijk\n"
        "\n"
        "### Energie\n"
        "\n"
        "*afgerond*\n"
        "\n"
        "Gaat beter\n"
        "\n"
        "### Vakantie\n"
        "\n"
        "*niet besproken*\n"
        "\n"
        "## Afspraken\n"
        "\n"
        "- Minder reizen (voorgesteld)\n"
        "  - akkoord van leidinggevende op zaterdag 2 januari 2027, 10:00\n"
        "\n"
        "## Actiepunten\n"
        "\n"
        "| Wat | Wie | Wanneer | Status |\n"
        "|---|---|---|---|\n"
        "| Reisschema maken | medewerker | 1 februari 2027 | open |\n"
        "| Budget | leidinggevende | geen datum | gedaan |\n"
    )


def test_record_html_golden() -> None:
    """The record as an HTML fragment in English."""
    a, r = met()
    assert record_html(r, a, "en", document=False) == (
        '<section class="gg-record" lang="en">\n'
        "<h2>Record</h2>\n"
        '<p class="gg-meta">Conversation of Tuesday 12 January 2027, 10:00</p>\n'
        "<h3>Persoonlijk</h3>\n"
        "<h4>Energie <small>(finished)</small></h4>\n"
        "<p>Gaat beter</p>\n"
        "<h4>Vakantie <small>(not discussed)</small></h4>\n"
        "<h3>Agreements</h3>\n"
        "<ul>\n"
        "<li>Minder reizen <small>(proposed)</small>"
        '<ul class="gg-meta"><li>accepted by manager on Saturday 2 January 2027, 10:00</li>'
        "</ul></li>\n"
        "</ul>\n"
        "<h3>Actions</h3>\n"
        "<table><tr><th>What</th><th>Who</th><th>When</th><th>Status</th></tr>\n"
        "<tr><td>Reisschema maken</td><td>employee</td><td>1 February 2027</td><td>open</td></tr>\n"
        "<tr><td>Budget</td><td>manager</td><td>no date</td><td>done</td></tr>\n"
        "</table>\n"
        "</section>"
    )


PAIR = Pair(
    Person("ada", "Ada Lovelace", "ada@example.org"),
    Person("grace", "Grace *Hopper*", "grace@example.org"),
)


def agreed_and_declined() -> tuple[Agenda, Record]:
    """The small agenda; one agreement accepted by both (an hour apart), one declined."""
    a = small_agenda()
    r = Record.for_agenda(a).add_agreement("Minder reizen", by=ADA, now=T)
    r = r.propose("ag1", by=ADA, now=T).accept("ag1", by=ADA, now=T)
    r = r.accept("ag1", by=GRACE, now=datetime(2027, 1, 12, 10, 30, tzinfo=UTC))
    r = r.add_agreement("Cursus volgen", by=GRACE, now=T).propose("ag2", by=GRACE, now=T)
    later = datetime(2027, 1, 13, 8, 15, tzinfo=UTC)
    return a, r.decline("ag2", by=ADA, now=later, reason="Eerst het budget <b>rond</b>")


def test_record_html_names_the_pair_and_who_accepted_or_declined_when() -> None:
    """The export names both partners, the zone, each acceptance and the decline with its reason."""
    a, r = agreed_and_declined()
    out = record_html(r, a, "en", tz="Europe/Amsterdam", pair=PAIR, document=False)
    assert (
        '<p class="gg-meta">Conversation of Tuesday 12 January 2027, 10:00 '
        "(time zone Europe/Amsterdam)</p>\n"
        '<p class="gg-pair">Employee: Ada Lovelace<br>Manager: Grace *Hopper*</p>'
    ) in out
    assert (
        '<li>Minder reizen <small>(final)</small><ul class="gg-meta">'
        "<li>accepted by Ada Lovelace (employee) on Saturday 2 January 2027, 10:00</li>"
        "<li>accepted by Grace *Hopper* (manager) on Tuesday 12 January 2027, 11:30</li>"
        "</ul></li>"
    ) in out
    assert (
        "<li>declined by Ada Lovelace (employee) on Wednesday 13 January 2027, 09:15; "
        "reason: Eerst het budget &lt;b&gt;rond&lt;/b&gt;</li>"
    ) in out


def test_record_markdown_names_the_pair_and_who_accepted_or_declined_when() -> None:
    """The same in Dutch Markdown, every name and reason escaped."""
    a, r = agreed_and_declined()
    out = record_markdown(r, a, "nl", tz="Europe/Amsterdam", pair=PAIR)
    assert out.startswith(
        "# Verslag\n\n"
        "Gesprek van dinsdag 12 januari 2027, 10:00 (tijdzone Europe/Amsterdam)\\\n"
        "Medewerker: Ada Lovelace\\\n"
        "Leidinggevende: Grace \\*Hopper\\*\n"
    )
    assert (
        "- Minder reizen (definitief)\n"
        "  - akkoord van Ada Lovelace (medewerker) op zaterdag 2 januari 2027, 10:00\n"
        "  - akkoord van Grace \\*Hopper\\* (leidinggevende) op dinsdag 12 januari 2027, 11:30\n"
        "- Cursus volgen (concept)\n"
        "  - afgewezen door Ada Lovelace (medewerker) op woensdag 13 januari 2027, 09:15; "
        "reden: Eerst het budget \\<b\\>rond\\</b\\>\n"
    ) in out
    rendered = MD.render(out)
    assert "<b>" not in rendered and "<em>Hopper" not in rendered


def test_a_decline_is_shown_until_the_agreement_is_proposed_again() -> None:
    """Proposed again after a decline, the agreement no longer reads as declined."""
    a, r = agreed_and_declined()
    again = r.propose("ag2", by=GRACE, now=datetime(2027, 1, 14, 9, 0, tzinfo=UTC))
    assert "declined" in record_html(r, a, "en", pair=PAIR)
    assert "declined" not in record_html(again, a, "en", pair=PAIR)


def test_without_a_reason_the_decline_says_so() -> None:
    """A decline without a reason says that none was given."""
    a = small_agenda()
    r = Record.for_agenda(a).add_agreement("X", by=ADA, now=T).propose("ag1", by=ADA, now=T)
    r = r.decline("ag1", by=GRACE, now=T)
    assert "declined by manager on Saturday 2 January 2027, 10:00; no reason given" in (
        record_markdown(r, a, "en")
    )


def test_the_sealed_record_keeps_who_accepted_and_declined_when() -> None:
    """What the export shows survives the sealed document's JSON round trip."""
    a, r = agreed_and_declined()
    back = Record.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back.agreement("ag1").accepted == r.agreement("ag1").accepted
    assert [(e.person, e.at, e.detail) for e in back.history if e.step == "decline"] == [
        ("ada", datetime(2027, 1, 13, 8, 15, tzinfo=UTC), "Eerst het budget <b>rond</b>")
    ]
    for locale in ("nl", "en"):
        assert record_html(back, a, locale, pair=PAIR) == record_html(r, a, locale, pair=PAIR)


def test_record_of_another_occurrence_is_refused() -> None:
    """The record and the agenda must belong together."""
    a, _ = met()
    with pytest.raises(TemplateError, match="different occurrences"):
        record_markdown(Record("s1", datetime(2027, 4, 13, 10, 0, tzinfo=AMS)), a)


def test_agenda_template_html_shows_themes_and_prompts() -> None:
    """The body of a new series: template title, themes, hints and guiding questions."""
    out = agenda_template_html(load_templates(), "en")
    assert out.startswith(
        '<section class="gg-agenda gg-template" lang="en">\n<h2>The good conversation'
    )
    assert out.count("<h3>") == 3
    assert "<li>What gives you energy at the moment, and what drains it?</li>" in out


# -- renderers: escaping --------------------------------------------------------------------------

NASTY = "<script>alert(1)</script> **vet** [x](javascript:alert(1)) & _y_"


def nasty() -> tuple[Agenda, Record]:
    """An agenda and record with markup in every user text."""
    a = Agenda("s1", OCC, (Theme("personal", "<b>Thema</b>"),))
    a = a.add_item(theme="personal", title=NASTY, notes=f"# kop\n{NASTY}", by=ADA, now=T)
    r = Record.for_agenda(a).summarise("i1", f"- lijst\n{NASTY}", finished=False, by=ADA, now=T)
    r = r.add_agreement(f"1. {NASTY}", by=ADA, now=T)
    return a, r.add_action(f"| {NASTY}", owner=Role.MANAGER, by=GRACE, now=T)


def test_html_escapes_every_user_text() -> None:
    """No user markup reaches the HTML as markup: only our own tags remain."""
    a, r = nasty()
    for out in (agenda_html(a, document=True), record_html(r, a)):
        assert "<script" not in out
        assert "<b>" not in out
        assert "&lt;script&gt;alert(1)&lt;/script&gt; **vet**" in out
        assert "&lt;b&gt;Thema&lt;/b&gt;" in out
    titles = agenda_html(a, titles_only=True)
    assert "<li>&lt;b&gt;Thema&lt;/b&gt;</li>" in titles
    assert "script" not in titles


def test_markdown_escapes_every_user_text() -> None:
    """Rendered by a CommonMark parser, user text shows as text: no script, bold, link or list."""
    a, r = nasty()
    rendered = MD.render(record_markdown(r, a))
    for tag in ("<script", "<strong>", "<em>vet", "<a ", "<b>", "<ol", "<h1>kop"):
        assert tag not in rendered, tag
    assert "**vet** [x](javascript:alert(1)) &amp; _y_" in rendered
    assert rendered.count("<table>") == 1
    assert rendered.count("<td>") == 4


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_escape_markdown_shows_any_line_as_itself(text: str) -> None:
    """Any printable line, escaped, renders as exactly that text in one paragraph."""
    stripped = text.strip()
    rendered = MD.render(escape_markdown(text))
    if not stripped:
        assert rendered == ""
    else:
        assert (
            rendered == f"<p>{html.escape(stripped, quote=False).replace(chr(34), '&quot;')}</p>\n"
        )


def test_escape_markdown_keeps_plain_words() -> None:
    """Ordinary words pass through unchanged."""
    assert escape_markdown("Goed gesprek, 4x per jaar") == "Goed gesprek, 4x per jaar"


def test_serialised_agenda_renders_the_same() -> None:
    """An agenda read back from JSON renders identically (zone kept)."""
    a = small_agenda()
    back = Agenda.from_dict(json.loads(json.dumps(a.to_dict())))
    assert agenda_html(back) == agenda_html(a)


# -- theme titles in the reader's language -------------------------------------------------------


def test_template_themes_show_in_the_readers_language() -> None:
    """An agenda made in Dutch shows the template's themes in English to an English reader."""
    ts = load_templates()
    dutch = Agenda("s1", OCC, ts.agenda(locale="nl").as_themes())
    english = ts.localize(dutch, "en")
    assert [t.title for t in english.themes] == [
        "Personal",
        "Current role",
        "Growth and development",
    ]
    assert ts.localize(english, "nl").themes == dutch.themes
    assert "<h3>Personal</h3>" in agenda_html(english, "en")


def test_the_follow_up_theme_and_hints_follow_the_reader() -> None:
    """The follow-up theme and each theme's hint come in the reader's language too."""
    ts = load_templates()
    follow = ts.theme_text(Theme("follow_up", "Opvolging van vorige keer"), "en")
    assert follow is not None and follow.title == "Follow-up from last time"
    personal = ts.theme_text(Theme("personal", "Personal"), "nl")
    assert personal is not None and personal.hint.startswith("Hoe gaat het met je?")


def test_a_theme_someone_titled_stays_as_written() -> None:
    """A title that is not the template's (or a key it lacks) is shown as it was written."""
    ts = load_templates()
    own = (Theme("personal", "Mijn welzijn"), Theme("extra", "Persoonlijk"))
    agenda = ts.localize(Agenda("s1", OCC, own), "en")
    assert agenda.themes == own
    assert ts.theme_text(own[0], "en") is None


def test_the_export_shows_template_themes_in_the_readers_language() -> None:
    """The record exported for an English reader has English theme titles, and Dutch for Dutch."""
    ts = load_templates()
    a = Agenda("s1", OCC, ts.agenda(locale="nl").as_themes())
    a = a.add_item(theme="role", title="Project X", by=ADA, now=T)
    r = Record.for_agenda(a).summarise("i1", "Loopt", finished=True, by=ADA, now=T)
    assert "## Current role" in record_markdown(r, ts.localize(a, "en"), "en")
    assert "<h3>Huidige functie</h3>" in record_html(r, ts.localize(a, "nl"), "nl")


def test_carried_actions_show_in_the_agenda_and_the_record() -> None:
    """Open actions from earlier conversations are in the event copy; the record says what
    became of them, with owner and due date."""
    a = small_agenda()
    record = Record.for_agenda(a).add_action(
        "Budget <aanvragen>", owner=Role.MANAGER, due=date(2027, 2, 1), by=GRACE, now=T
    )
    nxt = carry_over(a, record, occurrence=datetime(2027, 4, 13, 10, 0, tzinfo=AMS), themes=THEMES)
    fragment = agenda_html(nxt, "en")
    assert "<h3>Actions from earlier conversations</h3>" in fragment
    assert "<strong>Budget &lt;aanvragen&gt;</strong>" in fragment
    assert "- Budget <aanvragen> (manager, " in agenda_text(nxt, "en")
    done = nxt.set_action_status("ca1", ActionStatus.DONE, by=GRACE, now=T)
    assert "Actions from earlier conversations" not in agenda_text(done, "en")
    md = record_markdown(Record.for_agenda(done), done, "en")
    assert "| Budget \\<aanvragen\\> | manager |" in md and "| done |" in md
    assert "<td>Budget &lt;aanvragen&gt;</td><td>manager</td>" in record_html(
        Record.for_agenda(done), done, "en"
    )


def test_the_export_names_who_holds_each_action() -> None:
    """With the pair, an action's owner is a name with the role, escaped, in both formats."""
    a = small_agenda()
    r = Record.for_agenda(a).add_action(
        "Budget <b>aanvragen</b>", owner=Role.MANAGER, by=ADA, now=T
    )
    html = record_html(r, a, "en", pair=PAIR, document=False)
    assert "<td>Grace *Hopper* (manager)</td>" in html
    md = record_markdown(r, a, "nl", pair=PAIR)
    assert "| Grace \\*Hopper\\* (leidinggevende) |" in md
    assert "<td>manager</td>" in record_html(r, a, "en", document=False)
