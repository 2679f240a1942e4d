"""The employee's whole dossier as one zip (AVG/GDPR art. 15 and 20): every conversation's
agenda and record, agreements with who accepted them when, and actions, opened and readable
without Goed Gesprek, as HTML and as Markdown.

Only the employee exports: the dossier is theirs. Series with a former manager are included
(the records stay the employee's); a record that does not open is named in the index with the
reason instead of stopping the export.
"""

from __future__ import annotations

import html
import io
import json
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from addin.conversations.errors import Missing, ServiceError, _
from addin.conversations.people import Caller
from cadence.model import Series
from cadence.zones import zone
from connectors.errors import ConnectorError
from templates.render import record_html, record_markdown

if TYPE_CHECKING:
    from addin.conversations import Conversations

log = logging.getLogger(__name__)

AHEAD = timedelta(days=400)
"""Prepared agendas up to this far ahead are part of the dossier too."""

_TEXT = {
    "nl": {
        "title": "Dossier van {name}",
        "intro": "Alle gesprekken met je leidinggevende, zoals ze in je eigen opslag bewaard "
        "zijn, geopend en leesbaar zonder Goed Gesprek. Gemaakt op {when}.",
        "series": "Reeks met {manager} ({tz}), {count} gesprek(ken)",
        "unreadable": "{day}: niet te openen ({why})",
        "none": "Nog geen gesprekken met een agenda of verslag.",
        "journal": "Logboek: doelen, check-ins, feedback, reflecties",
        "goals": "Doelen",
        "checkins": "Energie en werkplezier",
        "checkin": "{day}: energie {energy}/5, werkplezier {happiness}/5",
        "feedback": "Feedback van collega's",
        "asked": "{name} ({email}), gevraagd op {day}: {state}",
        "reflections": "Reflecties",
        "timeouts": "Time-outs",
        "guests": "Gasten",
        "why": "Waarom",
        "horizon": "Einddatum",
        "development": "ontwikkeldoel",
        "results": "resultaatdoel",
        "draft": "concept",
        "proposed": "voorgesteld",
        "agreed": "afgesproken",
        "open": "open",
        "achieved": "behaald",
        "dropped": "vervallen",
        "consent": "wacht op toestemming",
        "answered": "beantwoord",
        "withdrawn": "ingetrokken",
        "time_out": "time-out",
        "other_partner": "andere gesprekspartner",
        "employee": "medewerker",
        "manager": "leidinggevende",
    },
    "en": {
        "title": "Dossier of {name}",
        "intro": "Every conversation with your manager, as kept in your own storage, opened "
        "and readable without Goed Gesprek. Made on {when}.",
        "series": "Series with {manager} ({tz}), {count} conversation(s)",
        "unreadable": "{day}: cannot be opened ({why})",
        "none": "No conversations with an agenda or record yet.",
        "journal": "Journal: goals, check-ins, feedback, reflections",
        "goals": "Goals",
        "checkins": "Energy and work happiness",
        "checkin": "{day}: energy {energy}/5, work happiness {happiness}/5",
        "feedback": "Feedback from colleagues",
        "asked": "{name} ({email}), asked on {day}: {state}",
        "reflections": "Reflections",
        "timeouts": "Time-outs",
        "guests": "Guests",
        "why": "Why",
        "horizon": "Horizon",
        "development": "development goal",
        "results": "results goal",
        "draft": "draft",
        "proposed": "proposed",
        "agreed": "agreed",
        "open": "open",
        "achieved": "achieved",
        "dropped": "dropped",
        "consent": "waiting for consent",
        "answered": "answered",
        "withdrawn": "withdrawn",
        "time_out": "time-out",
        "other_partner": "another conversation partner",
        "employee": "employee",
        "manager": "manager",
    },
}


@dataclass(frozen=True, slots=True)
class _Entry:
    day: str
    html_name: str
    md_name: str


def dossier_zip(conversations: Conversations, caller: Caller) -> tuple[bytes, str]:
    """The caller's dossier (as employee) as zip bytes and a file name; `Missing` if none."""
    mine = [
        entry
        for entry in conversations.registry.for_person(caller.email)
        if entry.pair.employee.email.lower() == caller.email.lower()
    ]
    if not mine:
        raise Missing(
            _(
                "You have no dossier as an employee: the export holds the conversations with "
                "your manager, and there are none."
            )
        )
    clock: Callable[[], datetime] = conversations.clock
    now = clock()
    lang = "nl" if caller.locale.startswith("nl") else "en"
    words = _TEXT[lang]
    buffer = io.BytesIO()
    index_md: list[str] = []
    index_html: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, entry in enumerate(mine, start=1):
            folder = f"{number:02d}-{_slug(entry.pair.manager.email)}"
            written, unreadable = _series(
                conversations, archive, folder=folder, entry=entry, caller=caller, now=now
            )
            heading = words["series"].format(
                manager=entry.pair.manager.name or entry.pair.manager.email,
                tz=entry.pair.tz,
                count=len(written),
            )
            index_md.append(f"\n## {heading}\n")
            index_html.append(f"<h2>{html.escape(heading)}</h2><ul>")
            for item in written:
                index_md.append(
                    f"- {item.day}: [HTML]({folder}/{item.html_name}) · "
                    f"[Markdown]({folder}/{item.md_name})"
                )
                index_html.append(
                    f'<li>{item.day}: <a href="{folder}/{item.html_name}">HTML</a> · '
                    f'<a href="{folder}/{item.md_name}">Markdown</a></li>'
                )
            journal = _journal(conversations, archive, folder=folder, entry=entry, words=words)
            if journal:
                index_md.append(f"- [{words['journal']}]({folder}/{journal})")
                index_html.append(
                    f'<li><a href="{folder}/{journal}">{html.escape(words["journal"])}</a></li>'
                )
            for day, why in unreadable:
                line = words["unreadable"].format(day=day, why=why)
                index_md.append(f"- {line}")
                index_html.append(f"<li>{html.escape(line)}</li>")
            if not written and not unreadable:
                index_md.append(f"- {words['none']}")
                index_html.append(f"<li>{html.escape(words['none'])}</li>")
            index_html.append("</ul>")
        name = caller.name or caller.email
        title = words["title"].format(name=name)
        intro = words["intro"].format(when=now.date().isoformat())
        archive.writestr("README.md", f"# {title}\n\n{intro}\n" + "\n".join(index_md) + "\n")
        archive.writestr(
            "index.html",
            f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><body><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(intro)}</p>{''.join(index_html)}</body></html>\n",
        )
    return buffer.getvalue(), f"goedgesprek-dossier-{now.date().isoformat()}.zip"


def _series(
    conversations: Conversations,
    archive: zipfile.ZipFile,
    *,
    folder: str,
    entry: Series,
    caller: Caller,
    now: datetime,
) -> tuple[list[_Entry], list[tuple[str, str]]]:
    first = entry.rule.first_n(1)
    since = (first[0] if first else now) - timedelta(days=1)
    last = entry.rule.last()
    until = max(last + timedelta(days=1), now) if last is not None else now + AHEAD
    tz = entry.pair.tz
    written: list[_Entry] = []
    unreadable: list[tuple[str, str]] = []
    for occurrence, found in conversations.dossier_documents(entry, caller.locale, since, until):
        day = occurrence.astimezone(zone(tz)).date().isoformat()
        if isinstance(found, str):
            unreadable.append((day, found))
            log.warning("dossier: %s %s not exported: %s", entry.id, day, found)
            continue
        record, agenda = found
        pair = entry.pair
        item = _Entry(day, f"gesprek-{day}.html", f"gesprek-{day}.md")
        archive.writestr(
            f"{folder}/{item.html_name}",
            record_html(record, agenda, caller.locale, tz=tz, pair=pair),
        )
        archive.writestr(
            f"{folder}/{item.md_name}",
            record_markdown(record, agenda, caller.locale, tz=tz, pair=pair),
        )
        written.append(item)
    return written, unreadable


def _journal(
    conversations: Conversations,
    archive: zipfile.ZipFile,
    *,
    folder: str,
    entry: Series,
    words: dict[str, str],
) -> str:
    """The series' journal as Markdown and JSON in the zip; its Markdown name ("" for none)."""
    journals = conversations.journals
    if journals is None:
        return ""
    try:
        doc = journals.read(entry)
    except (ServiceError, ConnectorError) as exc:  # one journal must not stop the export
        log.warning("dossier: journal of %s not exported: %s", entry.id, exc)
        return ""
    if doc.etag is None:
        return ""
    journal = doc.journal
    tz = zone(entry.pair.tz)

    def day(at: datetime) -> str:
        return at.astimezone(tz).date().isoformat()

    lines = [f"# {words['journal']}", "", f"## {words['goals']}", ""]
    for goal in journal.goals:
        said = ", ".join(words[v] for v in (goal.kind, goal.state, goal.status))
        lines.append(f"### {goal.title} ({said})")
        if goal.why:
            lines.append(f"{words['why']}: {goal.why}")
        if goal.horizon:
            lines.append(f"{words['horizon']}: {goal.horizon.isoformat()}")
        lines += [f"- {day(p.at)} ({words[p.role]}): {p.note}" for p in goal.progress]
        lines.append("")
    lines += ["", f"## {words['checkins']}", ""]
    lines += [
        "- " + words["checkin"].format(day=day(c.at), energy=c.energy, happiness=c.happiness)
        for c in sorted(journal.checkins, key=lambda c: c.at)
    ]
    lines += ["", f"## {words['feedback']}", ""]
    for request in journal.feedback:
        lines.append(
            "### "
            + words["asked"].format(
                name=request.name,
                email=request.colleague,
                day=day(request.asked_at),
                state=words[request.state],
            )
        )
        for question, answer in zip(
            request.questions, request.answers or [""] * len(request.questions), strict=True
        ):
            lines += [f"- **{question}**", f"  {answer}" if answer else ""]
        lines.append("")
    lines += ["", f"## {words['reflections']}", ""]
    for reflection in journal.reflections:
        lines += [f"### {day(reflection.at)}", reflection.text, ""]
    lines += ["", f"## {words['timeouts']}", ""]
    lines += [
        f"- {day(t.at)} {words[t.kind]} ({words[t.role]}): {t.reason}" for t in journal.timeouts
    ]
    lines += ["", f"## {words['guests']}", ""]
    lines += [f"- {g.occurrence}: {g.name} ({g.email})" for g in journal.guests]
    archive.writestr(f"{folder}/journal.md", "\n".join(lines) + "\n")
    archive.writestr(
        f"{folder}/journal.json", json.dumps(journal.to_dict(), ensure_ascii=False, indent=2)
    )
    return "journal.md"


def _slug(email: str) -> str:
    local = email.split("@", 1)[0].lower()
    return "".join(c if c.isalnum() else "-" for c in local)[:40] or "manager"
