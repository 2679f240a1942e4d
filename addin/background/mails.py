"""The mails the sweep sends: what each says, in the recipient's language, as HTML and text.

`compose` turns an `Occasion` (a trigger with what the sweep read for it) into a `Letter`: the
words, in the recipient's language, with what people typed (agenda items, agreements, actions,
names) kept apart as data. `render` lays a letter out through the templates beside this module:
the HTML one escapes every value (Jinja's autoescape), the text one is plain.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from addin.i18n import gettext, ngettext
from cadence.errors import CadenceError
from cadence.model import Person
from cadence.recurrence import language as recurrence_language
from cadence.triggers import CadenceReason, TriggerKind
from cadence.zones import zone

DOMAIN = "mail"
MAX_ENTRY = 300
"""Characters of one typed text a mail shows (the rest is in the record itself)."""
MAX_ENTRIES = 10
"""Entries of one list a mail shows."""
SIGN_IN = "signin"
"""The kind of the notice to a person whose stored sign-in ended (not a trigger of the
conversation: it is about the person's access)."""


def _(msgid: str) -> str:
    """Marks a text for the catalog; `gettext` translates it when the mail is composed."""
    return msgid


@dataclass(frozen=True, slots=True)
class Occasion:
    """What one mail is about: the trigger's kind and what the sweep read for it.

    `start` is the occurrence's start (after a move), None for a cadence nudge. The lists are
    what people typed: the agenda's items, open actions, agreements (for ``accept``: the one
    waiting). `held` counts the conversations held in the last twelve months (``cadence``).
    """

    kind: TriggerKind | str
    """A trigger's kind, or `SIGN_IN`."""
    recipient: Person
    partner: Person
    link: str
    start: datetime | None = None
    agenda: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    agreements: tuple[str, ...] = ()
    reason: CadenceReason | None = None
    held: int = 0
    calendar: str = ""
    """A second way in: the appointment in the recipient's web calendar, or the page that says
    how to open it there (empty: none)."""


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Listing:
    caption: str
    entries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Letter:
    """A mail's words before layout; `lang` is the language they are in."""

    lang: str
    subject: str
    heading: str
    paragraphs: tuple[str, ...]
    footer: str
    lists: tuple[Listing, ...] = ()
    button: Button | None = None
    also: tuple[Button, ...] = ()
    """Links after the button, as plain links."""
    note: str = ""
    """A line under the links (what the button's link is and how long it works)."""


def language(person: Person) -> str:
    """The language a person reads their mail in (Dutch unless they chose English)."""
    try:
        return recurrence_language(str(person.locale))
    except CadenceError:
        return "nl"


def when(start: datetime, person: Person, lang: str) -> str:
    """An occurrence's start in the person's zone, as people write it ("2 March 2027, 09:30")."""
    local = start.astimezone(zone(person.tz))
    day = format_date(local.date(), "long", locale=lang)
    return f"{day}, {format_time(local.time(), 'HH:mm', locale=lang)}"


def clean(text: str) -> str:
    """A typed text as one line a mail can show: controls removed, shortened to `MAX_ENTRY`."""
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cf", "Cs", "Co")
    )
    line = " ".join(kept.split())
    return line if len(line) <= MAX_ENTRY else line[: MAX_ENTRY - 1].rstrip() + "…"


def _entries(texts: Sequence[str]) -> tuple[str, ...]:
    shown = [clean(t) for t in texts if t.strip()][:MAX_ENTRIES]
    return tuple(shown)


def compose(occasion: Occasion) -> Letter:
    """The mail for `occasion`, in the recipient's language."""
    lang = language(occasion.recipient)
    partner = clean(occasion.partner.name or occasion.partner.email)
    name = clean(occasion.recipient.name or occasion.recipient.email)
    at = when(occasion.start, occasion.recipient, lang) if occasion.start else ""

    def t(msgid: str, **params: object) -> str:
        return gettext(lang, DOMAIN, msgid, **params)

    footer = t(
        _(
            "You receive this because you hold your conversations with %(partner)s in Goed "
            "Gesprek, which sent it from your own mailbox. You can turn each kind of reminder "
            "off in the Goed Gesprek panel."
        ),
        partner=partner,
    )
    heading = t(_("Hello %(name)s,"), name=name)
    kind = occasion.kind
    lists: list[Listing] = []
    if kind is TriggerKind.RECORD:
        subject = t(_("Write down what you agreed with %(partner)s"), partner=partner)
        paragraphs = [
            t(
                _(
                    "Your conversation with %(partner)s on %(when)s has ended. Write the "
                    "summary and the actions while they are fresh, and propose the agreements: "
                    "they count once you both accept them."
                ),
                partner=partner,
                when=at,
            )
        ]
        button = Button(t(_("Open the record")), occasion.link)
    elif kind is TriggerKind.PREPARE:
        subject = t(
            _("Your conversation with %(partner)s is on %(when)s: prepare it"),
            partner=partner,
            when=at,
        )
        paragraphs = [
            t(
                _(
                    "In a week you talk with %(partner)s. The agenda is yours: add what you "
                    "want to discuss, and share it with %(partner)s when it is ready."
                ),
                partner=partner,
            )
        ]
        if occasion.actions:
            lists.append(Listing(t(_("Open actions")), _entries(occasion.actions)))
        if occasion.agreements:
            lists.append(Listing(t(_("What you agreed last time")), _entries(occasion.agreements)))
        button = Button(t(_("Prepare the agenda")), occasion.link)
    elif kind is TriggerKind.AGENDA:
        subject = t(
            _("The agenda for your conversation with %(partner)s on %(when)s"),
            partner=partner,
            when=at,
        )
        paragraphs = [
            t(
                _("This is what is on the agenda of your conversation with %(partner)s so far."),
                partner=partner,
            )
            if occasion.agenda
            else t(
                _("Nothing is on the agenda of your conversation with %(partner)s yet."),
                partner=partner,
            )
        ]
        if occasion.agenda:
            lists.append(Listing(t(_("On the agenda")), _entries(occasion.agenda)))
        button = Button(t(_("Open the agenda")), occasion.link)
    elif kind is TriggerKind.ACCEPT:
        subject = t(_("An agreement with %(partner)s waits for you"), partner=partner)
        paragraphs = [
            t(
                _(
                    "This agreement from your conversation with %(partner)s on %(when)s waits "
                    "for your acceptance. It counts once you have both accepted it."
                ),
                partner=partner,
                when=at,
            )
        ]
        lists.append(Listing(t(_("The agreement")), _entries(occasion.agreements)))
        button = Button(t(_("Accept or suggest a change")), occasion.link)
    elif kind == SIGN_IN:
        subject, paragraphs, footer, button = _sign_in(t, partner, occasion.link)
    elif kind is TriggerKind.CADENCE:
        if occasion.reason is CadenceReason.NONE_PLANNED:
            subject = t(_("No conversation with %(partner)s is planned"), partner=partner)
            paragraphs = [
                t(
                    _(
                        "No conversation with %(partner)s is planned in the coming twelve "
                        "months. Plan the next one, so you keep talking at least four times a "
                        "year."
                    ),
                    partner=partner,
                )
            ]
        else:
            subject = t(
                _("Fewer than four conversations with %(partner)s this year"), partner=partner
            )
            paragraphs = [
                ngettext(
                    lang,
                    DOMAIN,
                    "In the last twelve months you held %(num)s conversation with %(partner)s, "
                    "where you agreed on at least four a year. Plan the next one soon.",
                    "In the last twelve months you held %(num)s conversations with %(partner)s, "
                    "where you agreed on at least four a year. Plan the next one soon.",
                    occasion.held,
                    partner=partner,
                )
            ]
        button = Button(t(_("Plan a conversation")), occasion.link)
    else:  # pragma: no cover - every kind is handled above
        raise ValueError(f"no mail for {kind!r}")
    also, note = _after_button(t, occasion)
    return Letter(
        lang=lang,
        subject=subject,
        heading=heading,
        paragraphs=tuple(paragraphs),
        footer=footer,
        lists=tuple(lists),
        button=button,
        also=also,
        note=note,
    )


def _after_button(t: Callable[..., str], occasion: Occasion) -> tuple[tuple[Button, ...], str]:
    """The links after the button, and the line under them."""
    also: tuple[Button, ...] = ()
    if occasion.calendar:
        also = (Button(t(_("Open the appointment in your calendar")), occasion.calendar),)
    note = ""
    if occasion.kind in (TriggerKind.RECORD, TriggerKind.ACCEPT):
        note = t(
            _(
                "The button opens the record form for you alone, for three days. Do not "
                "forward this mail. In your calendar, Goed Gesprek shows the same record beside "
                "the appointment."
            )
        )
    return also, note


def _sign_in(t: Callable[..., str], partner: str, link: str) -> tuple[str, list[str], str, Button]:
    """The words of the notice to a person whose stored sign-in ended."""
    subject = t(_("Sign in to Goed Gesprek again to keep your reminders"))
    paragraphs = [
        t(
            _(
                "Goed Gesprek can no longer reach your calendar and mailbox for your "
                "conversations with %(partner)s: your permission ended, as it does after a "
                "password change or a long time without use."
            ),
            partner=partner,
        ),
        t(
            _(
                "Open any appointment in Outlook or Google Calendar, choose Goed Gesprek and "
                "sign in. Your reminders and records then carry on by themselves; nothing "
                "that waited is lost."
            )
        ),
    ]
    footer = t(
        _(
            "Goed Gesprek sent this from the mailbox of %(partner)s, because it cannot send "
            "from yours until you sign in again. You receive it once."
        ),
        partner=partner,
    )
    return subject, paragraphs, footer, Button(t(_("How do I sign in?")), link)


@cache
def _environment(autoescape: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "mails"),
        autoescape=select_autoescape(["html"]) if autoescape else False,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(letter: Letter) -> tuple[str, str]:
    """The letter's plain text and HTML."""
    text = _environment(False).get_template("letter.txt").render(letter=letter)
    html = _environment(True).get_template("letter.html").render(letter=letter, lang=letter.lang)
    return text, html
