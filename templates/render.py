"""Agendas and records as HTML, plain text and Markdown, in Dutch or English.

Every text a person wrote (titles, notes, summaries, agreements, actions, and the theme titles an
organisation chose) is escaped: HTML through `html.escape`, Markdown by `escape_markdown`, so
``<script>`` or ``**`` in a title shows as those characters. Only the labels are ours.

The agenda comes as a fragment for the calendar event's body and as a whole document for the
attachment; `titles_only` shows the theme titles without the items, for a pair that agreed the copy
in the calendar shows no more than that.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from cadence.conversation import (
    Action,
    Agenda,
    Agreement,
    AgreementState,
    HistoryEntry,
    Item,
    Record,
    Step,
    Summary,
)
from cadence.errors import TemplateError
from cadence.model import Pair, Role
from cadence.recurrence import format_date, weekday_name
from cadence.zones import zone
from templates import DEFAULT_AGENDA, TemplateSet, template_language

__all__ = [
    "agenda_html",
    "agenda_template_html",
    "agenda_text",
    "escape_markdown",
    "record_html",
    "record_markdown",
]

_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "nl": {
        "agenda": "Agenda",
        "record": "Verslag",
        "when": "Gesprek van {when}",
        "state.draft": "concept",
        "state.shared": "gedeeld",
        "state.agreed": "akkoord van beiden",
        "employee": "medewerker",
        "manager": "leidinggevende",
        "carried": "uit vorig gesprek",
        "no_items": "Nog geen punten.",
        "finished": "afgerond",
        "unfinished": "loopt door",
        "not_discussed": "niet besproken",
        "other": "Overige punten",
        "agreements": "Afspraken",
        "actions": "Actiepunten",
        "carried_actions": "Actiepunten uit eerdere gesprekken",
        "agreement.draft": "concept",
        "agreement.proposed": "voorgesteld",
        "agreement.final": "definitief",
        "accepted": "akkoord van {who} op {when}",
        "declined": "afgewezen door {who} op {when}",
        "reason": "reden: {reason}",
        "no_reason": "geen reden gegeven",
        "pair.employee": "Medewerker: {name}",
        "pair.manager": "Leidinggevende: {name}",
        "zone": "tijdzone {tz}",
        "what": "Wat",
        "who": "Wie",
        "due": "Wanneer",
        "status": "Status",
        "action.open": "open",
        "action.done": "gedaan",
        "action.dropped": "vervallen",
        "none": "Geen.",
        "no_date": "geen datum",
    },
    "en": {
        "agenda": "Agenda",
        "record": "Record",
        "when": "Conversation of {when}",
        "state.draft": "draft",
        "state.shared": "shared",
        "state.agreed": "agreed by both",
        "employee": "employee",
        "manager": "manager",
        "carried": "carried over",
        "no_items": "No items yet.",
        "finished": "finished",
        "unfinished": "continues",
        "not_discussed": "not discussed",
        "other": "Other items",
        "agreements": "Agreements",
        "actions": "Actions",
        "carried_actions": "Actions from earlier conversations",
        "agreement.draft": "draft",
        "agreement.proposed": "proposed",
        "agreement.final": "final",
        "accepted": "accepted by {who} on {when}",
        "declined": "declined by {who} on {when}",
        "reason": "reason: {reason}",
        "no_reason": "no reason given",
        "pair.employee": "Employee: {name}",
        "pair.manager": "Manager: {name}",
        "zone": "time zone {tz}",
        "what": "What",
        "who": "Who",
        "due": "When",
        "status": "Status",
        "action.open": "open",
        "action.done": "done",
        "action.dropped": "dropped",
        "none": "None.",
        "no_date": "no date",
    },
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}table{border-collapse:collapse}"
    "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
    ".gg-meta,.gg-owner,.gg-carried{color:#555}"
)


class _Words:
    """The labels of one language."""

    def __init__(self, locale: str) -> None:
        self.lang = lang = template_language(locale)
        self._labels = _LABELS[lang]

    def __call__(self, key: str, **values: str) -> str:
        return self._labels[key].format(**values)

    def role(self, role: Role) -> str:
        return self(role.value)

    def when(self, at: datetime, tz: str | None, *, named: bool = False) -> str:
        """ "Conversation of <moment>"; `named` adds the zone's name (when there is one)."""
        text = self("when", when=self.moment(at, tz))
        return f"{text} ({self('zone', tz=tz)})" if named and tz else text

    def moment(self, at: datetime, tz: str | None) -> str:
        """Weekday, date and time of `at` in `tz` (else in its own zone)."""
        if tz is not None:
            at = at.astimezone(zone(tz))
        day = f"{weekday_name(at.weekday(), self.lang)} {format_date(at.date(), self.lang)}"
        return f"{day}, {at:%H:%M}"

    def person(self, person: str, role: Role, pair: Pair | None) -> str:
        """A partner by name and role ("Ada Lovelace (employee)"), or by role without `pair`."""
        if pair is None:
            return self.role(role)
        known = {p.id: p.name for p in pair.partners}
        return f"{known.get(person, person)} ({self.role(role)})"

    def owner(self, role: Role, pair: Pair | None) -> str:
        """Who holds an action: "Ada (employee)", or the role alone without `pair`."""
        if pair is None:
            return self.role(role)
        name = pair.employee.name if role is Role.EMPLOYEE else pair.manager.name
        return f"{name} ({self.role(role)})"

    def day(self, value: date | None) -> str:
        return self("no_date") if value is None else format_date(value, self.lang)


# -- escaping ------------------------------------------------------------------------------------

_MD_ANYWHERE = re.compile(r"([\\`*_\[\]<>|~&#])")
_MD_LINE_START = re.compile(r"^([-+=])")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")


def escape_markdown(text: str) -> str:
    """`text` as Markdown that shows exactly these characters (one line or several).

    Inline markup characters are backslash-escaped everywhere; a line that would start a list,
    heading, quote or underline has its first character escaped; leading spaces are dropped, so
    no line becomes a code block.
    """
    lines = []
    for raw in text.splitlines() or [""]:
        line = _MD_ANYWHERE.sub(r"\\\1", raw.strip())
        line = _MD_LINE_START.sub(r"\\\1", line)
        lines.append(_MD_ORDERED.sub(r"\1\\\2", line))
    return "\n".join(lines)


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _h_block(text: str) -> str:
    """Several lines of user text as HTML, line breaks kept."""
    return "<br>".join(_h(line) for line in text.splitlines())


def _md_block(text: str, indent: str = "") -> str:
    """Several lines of user text as one Markdown paragraph with hard line breaks."""
    lines = [escape_markdown(line) for line in text.splitlines() if line.strip()]
    return ("\\\n" + indent).join(lines)


# -- agenda --------------------------------------------------------------------------------------


def agenda_html(
    agenda: Agenda,
    locale: str = "nl",
    *,
    document: bool = False,
    titles_only: bool = False,
    tz: str | None = None,
) -> str:
    """The agenda as HTML: a fragment for the event body, or a whole document (`document`).

    `titles_only` lists the theme titles and leaves the items out. The time is shown in `tz`
    (an IANA zone), else in the occurrence's own zone.
    """
    w = _Words(locale)
    out = [
        f'<section class="gg-agenda" lang="{w.lang}">',
        f"<h2>{w('agenda')}</h2>",
    ]
    meta = w.when(agenda.occurrence, tz)
    if not titles_only:
        meta += f" · {w('state.' + agenda.state.value)}"
    out.append(f'<p class="gg-meta">{_h(meta)}</p>')
    if titles_only:
        out.append('<ul class="gg-themes">')
        out.extend(f"<li>{_h(theme.title)}</li>" for theme in agenda.themes)
        out.append("</ul>")
    else:
        for theme in agenda.themes:
            out.append(f"<h3>{_h(theme.title)}</h3>")
            items = agenda.items_in(theme.key)
            if not items:
                out.append(f'<p class="gg-empty">{w("no_items")}</p>')
                continue
            out.append("<ul>")
            out.extend(_item_html(item, w) for item in items)
            out.append("</ul>")
        if agenda.open_actions:
            out += [f"<h3>{w('carried_actions')}</h3>", "<ul>"]
            out.extend(
                f"<li><strong>{_h(a.description)}</strong> "
                f'<span class="gg-owner">({w.role(a.owner)}, {w.day(a.due)})</span></li>'
                for a in agenda.open_actions
            )
            out.append("</ul>")
    out.append("</section>")
    fragment = "\n".join(out)
    if not document:
        return fragment
    return _document(f"{w('agenda')}: {w.when(agenda.occurrence, tz)}", w.lang, fragment)


def _item_html(item: Item, w: _Words) -> str:
    parts = [
        f"<strong>{_h(item.title)}</strong>",
        f' <span class="gg-owner">({w.role(item.owner)})</span>',
    ]
    if item.carried_over:
        parts.append(f' <em class="gg-carried">{w("carried")}</em>')
    if item.notes:
        parts.append(f'<br><span class="gg-notes">{_h_block(item.notes)}</span>')
    return f"<li>{''.join(parts)}</li>"


def agenda_text(
    agenda: Agenda, locale: str = "nl", *, titles_only: bool = False, tz: str | None = None
) -> str:
    """The agenda as plain text, for mail and for calendars that show no HTML."""
    w = _Words(locale)
    meta = w.when(agenda.occurrence, tz)
    if not titles_only:
        meta += f" ({w('state.' + agenda.state.value)})"
    out = [w("agenda"), meta]
    if titles_only:
        out.append("")
        out.extend(f"- {_line(theme.title)}" for theme in agenda.themes)
        return "\n".join(out) + "\n"
    for theme in agenda.themes:
        out += ["", _line(theme.title)]
        items = agenda.items_in(theme.key)
        if not items:
            out.append(f"  {w('no_items')}")
        for item in items:
            carried = f" [{w('carried')}]" if item.carried_over else ""
            out.append(f"- {item.title} ({w.role(item.owner)}){carried}")
            out.extend(f"  {line.strip()}" for line in item.notes.splitlines() if line.strip())
    if agenda.open_actions:
        out += ["", w("carried_actions")]
        out.extend(
            f"- {a.description} ({w.role(a.owner)}, {w.day(a.due)})" for a in agenda.open_actions
        )
    return "\n".join(out) + "\n"


def _line(text: str) -> str:
    return " ".join(text.split())


def agenda_template_html(
    templates: TemplateSet, locale: str = "nl", key: str = DEFAULT_AGENDA
) -> str:
    """An agenda template as an HTML fragment: its themes, hints and guiding questions.

    This is the body of a new series' event before the employee wrote any item.
    """
    w = _Words(locale)
    template = templates.agenda(key, w.lang)
    out = [
        f'<section class="gg-agenda gg-template" lang="{w.lang}">',
        f"<h2>{_h(template.title)}</h2>",
    ]
    if template.description:
        out.append(f'<p class="gg-meta">{_h(template.description)}</p>')
    for theme in template.themes:
        out.append(f"<h3>{_h(theme.title)}</h3>")
        if theme.hint:
            out.append(f"<p>{_h(theme.hint)}</p>")
        if theme.prompts:
            out.append("<ul>")
            out.extend(f"<li>{_h(prompt)}</li>" for prompt in theme.prompts)
            out.append("</ul>")
    out.append("</section>")
    return "\n".join(out)


# -- record --------------------------------------------------------------------------------------


def _sections(
    record: Record, agenda: Agenda
) -> Iterable[tuple[str, list[tuple[str, Summary | None]]]]:
    """Per theme, its items' titles with their summaries; summaries of unknown items last."""
    known = {item.id for item in agenda.items}
    for theme in agenda.themes:
        items = agenda.items_in(theme.key)
        if items:
            yield theme.title, [(item.title, record.summary(item.id)) for item in items]
    orphans: list[tuple[str, Summary | None]] = [
        (s.item_id, s) for s in record.summaries if s.item_id not in known
    ]
    if orphans:
        yield "", orphans  # titled "other items" by the renderer


def _status(summary: Summary | None, w: _Words) -> str:
    if summary is None:
        return w("not_discussed")
    return w("finished") if summary.finished else w("unfinished")


def _check_pair(record: Record, agenda: Agenda) -> None:
    if record.series_id != agenda.series_id or record.occurrence != agenda.occurrence:
        raise TemplateError("the record and the agenda are of different occurrences: pass the pair")


def _declined(record: Record, agreement: Agreement) -> HistoryEntry | None:
    """The decline that sent `agreement` back to draft, if nothing proposed it again since."""
    if agreement.state is not AgreementState.DRAFT:
        return None
    for entry in reversed(record.history):
        if entry.subject == agreement.id and entry.step in (Step.PROPOSE, Step.DECLINE):
            return entry if entry.step is Step.DECLINE else None
    return None


def _agreement_notes(
    record: Record, agreement: Agreement, w: _Words, tz: str | None, pair: Pair | None
) -> list[str]:
    """Who accepted the agreement and when; for a declined one who declined it, when and why."""
    notes = [
        w("accepted", who=w.person(a.person, a.role, pair), when=w.moment(a.at, tz))
        for a in agreement.accepted
    ]
    declined = _declined(record, agreement)
    if declined is not None:
        who = w.person(declined.person, declined.role, pair)
        reason = " ".join(declined.detail.split())
        notes.append(
            f"{w('declined', who=who, when=w.moment(declined.at, tz))}; "
            + (w("reason", reason=reason) if reason else w("no_reason"))
        )
    return notes


def _zone_name(at: datetime) -> str | None:
    """The IANA name of `at`'s zone, so history instants (kept in UTC) show in it too."""
    return at.tzinfo.key if isinstance(at.tzinfo, ZoneInfo) else None


def _pair_lines(pair: Pair | None, w: _Words) -> list[str]:
    if pair is None:
        return []
    return [
        w("pair.employee", name=pair.employee.name),
        w("pair.manager", name=pair.manager.name),
    ]


def record_html(
    record: Record,
    agenda: Agenda,
    locale: str = "nl",
    *,
    document: bool = True,
    tz: str | None = None,
    pair: Pair | None = None,
) -> str:
    """The record as HTML (a whole document unless `document` is False), by theme and item.

    With `pair` it names the employee and the manager, and every partner who accepted or
    declined an agreement by name; times are shown in `tz`, named.
    """
    _check_pair(record, agenda)
    w = _Words(locale)
    tz = tz if tz is not None else _zone_name(agenda.occurrence)
    out = [
        f'<section class="gg-record" lang="{w.lang}">',
        f"<h2>{w('record')}</h2>",
        f'<p class="gg-meta">{_h(w.when(agenda.occurrence, tz, named=pair is not None))}</p>',
    ]
    people = _pair_lines(pair, w)
    if people:
        out.append(f'<p class="gg-pair">{"<br>".join(_h(line) for line in people)}</p>')
    for title, entries in _sections(record, agenda):
        out.append(f"<h3>{_h(title) if title else w('other')}</h3>")
        for item_title, summary in entries:
            out.append(f"<h4>{_h(item_title)} <small>({_status(summary, w)})</small></h4>")
            if summary is not None and summary.text:
                out.append(f"<p>{_h_block(summary.text)}</p>")
    out.append(f"<h3>{w('agreements')}</h3>")
    if record.agreements:
        out.append("<ul>")
        for a in record.agreements:
            notes = _agreement_notes(record, a, w, tz, pair)
            listed = "".join(f"<li>{_h(note)}</li>" for note in notes)
            out.append(
                f"<li>{_h_block(a.text)} <small>({w('agreement.' + a.state.value)})</small>"
                + (f'<ul class="gg-meta">{listed}</ul>' if notes else "")
                + "</li>"
            )
        out.append("</ul>")
    else:
        out.append(f"<p>{w('none')}</p>")
    out.append(f"<h3>{w('actions')}</h3>")
    # The actions carried from earlier conversations first, with what became of them here.
    actions = (*agenda.actions, *record.actions)
    if actions:
        out.append(
            f"<table><tr><th>{w('what')}</th><th>{w('who')}</th><th>{w('due')}</th>"
            f"<th>{w('status')}</th></tr>"
        )
        out.extend(_action_row_html(a, w, pair) for a in actions)
        out.append("</table>")
    else:
        out.append(f"<p>{w('none')}</p>")
    out.append("</section>")
    fragment = "\n".join(out)
    if not document:
        return fragment
    return _document(f"{w('record')}: {w.when(agenda.occurrence, tz)}", w.lang, fragment)


def _action_row_html(action: Action, w: _Words, pair: Pair | None) -> str:
    return (
        f"<tr><td>{_h(action.description)}</td><td>{_h(w.owner(action.owner, pair))}</td>"
        f"<td>{w.day(action.due)}</td><td>{w('action.' + action.status.value)}</td></tr>"
    )


def record_markdown(
    record: Record,
    agenda: Agenda,
    locale: str = "nl",
    *,
    tz: str | None = None,
    pair: Pair | None = None,
) -> str:
    """The record as Markdown, by theme and item, with the agreements and an actions table.

    `pair` and `tz` as for `record_html`.
    """
    _check_pair(record, agenda)
    w = _Words(locale)
    tz = tz if tz is not None else _zone_name(agenda.occurrence)
    meta = [w.when(agenda.occurrence, tz, named=pair is not None), *_pair_lines(pair, w)]
    out = [f"# {w('record')}", "", "\\\n".join(escape_markdown(line) for line in meta)]
    for title, entries in _sections(record, agenda):
        out += ["", f"## {escape_markdown(title) if title else w('other')}"]
        for item_title, summary in entries:
            out += ["", f"### {escape_markdown(item_title)}", "", f"*{_status(summary, w)}*"]
            if summary is not None and summary.text:
                out += ["", _md_block(summary.text)]
    out += ["", f"## {w('agreements')}", ""]
    if record.agreements:
        for a in record.agreements:
            out.append(f"- {_md_block(a.text, '  ')} ({w('agreement.' + a.state.value)})")
            out.extend(
                f"  - {escape_markdown(note)}" for note in _agreement_notes(record, a, w, tz, pair)
            )
    else:
        out.append(w("none"))
    out += ["", f"## {w('actions')}", ""]
    actions = (*agenda.actions, *record.actions)
    if actions:
        out.append(f"| {w('what')} | {w('who')} | {w('due')} | {w('status')} |")
        out.append("|---|---|---|---|")
        out.extend(
            f"| {escape_markdown(a.description)} | {escape_markdown(w.owner(a.owner, pair))} | "
            f"{w.day(a.due)} | "
            f"{w('action.' + a.status.value)} |"
            for a in actions
        )
    else:
        out.append(w("none"))
    return "\n".join(out) + "\n"


def _document(title: str, lang: str, body: str) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{lang}">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{_h(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            body,
            "</body>",
            "</html>",
            "",
        ]
    )
