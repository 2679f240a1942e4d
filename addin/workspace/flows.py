"""The Google Calendar add-on's cards: one pure builder per panel state, from the service's JSON.

`context_card` turns a `Context` (the shape `/api/openapi.json` describes, as
`addin.conversations.Conversations` answers it) into the card for its state:

- ``not_series``: the plan form (partner, role, the employee's preferences, the event copy);
  `preview_card` shows the planner's proposal with the button that schedules it; with a partner
  the person has a series with already, that series instead (`existing_card`);
- ``upcoming``: the agenda by theme (add, remove, share, agree), preparation (what was agreed
  last time, open actions, the question bank), the checklist of agreements with the choice of
  what the event shows, and the series;
- ``ended``: the record form (a summary per agenda item with a "finished" switch, agreements,
  actions with owner and due date), acceptance per agreement;
- ``ended`` with every agreement final: the record itself, read-only but for marking actions
  done. The record is sealed in the employee's drive, so a Drive link would open ciphertext: the
  export buttons open a short-lived signed link to our own export instead (`export_section`).
- ``not_partner``: a polite read-only note.

Before a conversation and after it, the pair's journal (goals, check-ins, colleagues' feedback,
the reflection, time-outs and guests) sits behind a few buttons that push cards of its own, and
an upcoming conversation's card lists what is worth raising: see `journal_cards`.

Besides the event's state: "My working hours" (`hours_card`, from the plan form and the
homepage) sets the person's own working days, hours and zone, which the planner keeps to; and
"End this series" (either partner, when the context's ``can.series`` has ``end``) asks once
(`end_confirm_card`) and then says the series has ended (`ended_card`).

Buttons carry what their endpoint needs in the action's parameters (series, occurrence, the etag
the card was built from, the event id), so every save is checked against the version the person
saw. Nothing here does I/O: `Ui` carries the language, the zone and how to name an endpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime

from addin.conversations import turn_message as service_turn_message
from addin.i18n import gettext
from addin.workspace import cards as c

Json = dict[str, Any]
Ops = list[dict[str, Any]]

DOMAIN = "cards"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")
DEFAULT_WEEKDAYS = ("TU", "WE", "TH")
DURATIONS = (30, 45, 60, 75, 90, 120)
TIMES = tuple(f"{h:02d}:{m:02d}" for h in range(7, 21) for m in (0, 30))
MAX_NOTE = 200
"""How much of a long user text a one-line label shows (the full text stays in the inputs)."""


def _(msgid: str) -> str:
    """Marks a text for the `cards` catalog; it is translated where it is shown."""
    return msgid


WEEKDAY_NAMES = {
    "MO": _("Monday"),
    "TU": _("Tuesday"),
    "WE": _("Wednesday"),
    "TH": _("Thursday"),
    "FR": _("Friday"),
    "SA": _("Saturday"),
    "SU": _("Sunday"),
}

HOURS_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
"""The days one's working hours may name: weekends too (shift work, other countries)."""
HALF_HOURS = tuple(f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30))
"""The start and end times the working-hours card offers (a dropdown holds up to 100 items)."""
COMMON_ZONES = (
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Europe/Athens",
    "America/Curacao",
    "America/Aruba",
    "America/Paramaribo",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Singapore",
    "UTC",
)
"""The zones the working-hours card offers, besides the person's current one and the calendar's."""


# -- what a card needs to know -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ui:
    """The person's language and zone, and the absolute URL of each action endpoint by name."""

    locale: str
    tz: tzinfo
    action_url: Callable[[str], str]

    def t(self, msgid: str, **params: Any) -> str:
        """`msgid` from the `cards` catalog in this language."""
        return gettext(self.locale, DOMAIN, msgid, **params)

    def tr(self, msgid: str, **params: Any) -> str:
        """Like `t`, for a msgid held in a variable (marked with `_` where it is written)."""
        return gettext(self.locale, DOMAIN, msgid, **params)

    def act(self, name: str, **parameters: str) -> Json:
        """An action that POSTs the event object to the endpoint `name`."""
        return c.action(self.action_url(name), parameters)

    def when(self, iso: str, pair_tz: str | None = None) -> str:
        """An ISO instant as the person reads it: weekday, date and time in their zone.

        When the pair's zone (`pair_tz`) shows another clock time, the person's zone is named.
        """
        moment = datetime.fromisoformat(iso)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        mine = moment.astimezone(self.tz)
        text = format_datetime(mine, "EEEE d MMMM y, HH:mm", locale=self.locale)
        if pair_tz and _differs(mine, pair_tz):
            text = f"{text} ({getattr(self.tz, 'key', self.tz)})"
        return text

    def day(self, iso: str) -> str:
        """An ISO date (or the date of an instant) as the person reads it."""
        try:
            day = date.fromisoformat(iso[:10])
        except ValueError:
            return iso
        return format_date(day, "EEE d MMM y", locale=self.locale)


def _differs(moment: datetime, tz: str) -> bool:
    """Whether `moment` shows another wall-clock time in the zone `tz` (an unknown zone: no)."""
    try:
        other = moment.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return other.replace(tzinfo=None) != moment.replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Form:
    """What a card's inputs held when its button was pressed (Google's ``formInputs``).

    Text and selections are lists of strings; a date comes back as ``YYYY-MM-DD``, a date and
    time as an ISO instant, a time as ``HH:MM``. A field left empty is absent, as Google sends it.
    """

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_inputs(cls, inputs: Any) -> Form:
        """Read ``commonEventObject.formInputs``; anything malformed in it is left out."""
        if not isinstance(inputs, Mapping):
            return cls()
        values: dict[str, tuple[str, ...]] = {}
        for name, raw in list(inputs.items())[:500]:
            value = _input_values(raw)
            if isinstance(name, str) and value:
                values[name] = value
        return cls(values)

    def one(self, name: str, default: str = "") -> str:
        """The first value of `name`, else `default`."""
        found = self.values.get(name)
        return found[0] if found else default

    def many(self, name: str) -> tuple[str, ...]:
        """Every value of `name` (the checked boxes of a multi-select)."""
        return self.values.get(name, ())

    def has(self, name: str) -> bool:
        """Whether the card sent `name` at all."""
        return name in self.values


def _input_values(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, Mapping):
        return ()
    # Some hosts nest the inputs one level deeper under an empty key.
    if isinstance(raw.get(""), Mapping):
        raw = raw[""]
    strings = raw.get("stringInputs")
    if isinstance(strings, Mapping) and isinstance(strings.get("value"), list):
        return tuple(v for v in strings["value"] if isinstance(v, str))
    for key, kind in (("dateInput", "date"), ("dateTimeInput", "datetime")):
        picked = raw.get(key)
        if isinstance(picked, Mapping):
            instant = _from_ms(picked.get("msSinceEpoch"))
            if instant is None:
                return ()
            return (instant.date().isoformat() if kind == "date" else instant.isoformat(),)
    clock = raw.get("timeInput")
    if isinstance(clock, Mapping):
        hours, minutes = clock.get("hours"), clock.get("minutes")
        if isinstance(hours, int) and isinstance(minutes, int):
            return (f"{hours:02d}:{minutes:02d}",)
    return ()


def _from_ms(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


NO_FORM = Form()


# -- dispatch ------------------------------------------------------------------------------------


def context_card(
    ui: Ui,
    ctx: Mapping[str, Any],
    *,
    draft: Form = NO_FORM,
    unsaved: Ops | None = None,
    suggestions: Sequence[Mapping[str, Any]] | None = None,
) -> Json:
    """The card for the state of `ctx`.

    After a refused save (the other partner saved first) `draft` holds what the person typed,
    kept in the inputs, and `unsaved` the changes that were not applied, with a button to apply
    them again on top of the current version. `suggestions` (`Journals.overview`'s) show on an
    upcoming conversation's card.
    """
    state = ctx.get("state")
    if state == "not_series" and ctx.get("existing"):
        return existing_card(ui, ctx["existing"])
    if state == "not_series":
        partner = ctx.get("partner") or {}
        card = plan_card(
            ui,
            event_id=_event_id(ctx),
            partner=partner.get("email", ""),
            draft=draft,
            templates=ctx.get("templates"),
        )
        from addin.workspace.journal_cards import asks_section

        asked = asks_section(ui, ctx.get("feedback_asks"))
        return {**card, "sections": [asked, *card["sections"]]} if asked else card
    if state == "not_partner":
        note = service_turn_message({"turn": {"message_id": "not_partner"}}, ui.locale)
        return note_card(ui, note, subject=_subject(ctx))
    if state == "upcoming":
        return agenda_card(ui, ctx, draft=draft, unsaved=unsaved, suggestions=suggestions)
    record = ctx.get("record") or {}
    if record.get("final") and (ctx.get("turn") or {}).get("what") == "done" and not unsaved:
        return final_card(ui, ctx)
    return record_card(ui, ctx, draft=draft, unsaved=unsaved)


def target(ctx: Mapping[str, Any]) -> dict[str, str]:
    """The parameters that name one occurrence's document and the version a card shows."""
    return {
        "series": str(ctx["series"]["id"]),
        "occ": str(ctx["occurrence"]["key"]),
        "etag": str(ctx.get("etag") or ""),
        "event": _event_id(ctx),
    }


def turn_message(ui: Ui, ctx: Mapping[str, Any]) -> str:
    """Whose turn it is and what to do, in the person's language."""
    return service_turn_message(ctx, ui.locale)


# -- small cards ---------------------------------------------------------------------------------


def note_card(ui: Ui, message: str, *, subject: str | None = None) -> Json:
    """A card that only says something (not a partner, nothing to show)."""
    return c.card(
        subject or ui.t("Good conversation"), [c.section(None, [c.text(message)])], name="note"
    )


def error_card(ui: Ui, message: str, *, event_id: str = "", gone: bool = True) -> Json:
    """A trigger that could not show its event: the reason, then what the person can do.

    An event that is `gone` gets the plan form to start anew; one that is there but could not be
    read now (its record does not open, the provider is away) gets Refresh, never a second plan.
    """
    notice = c.decorated_text(message, icon="DESCRIPTION")
    if not gone:
        refresh = c.button(ui.t("Refresh"), ui.act("refresh", event=event_id))
        return c.card(
            ui.t("Good conversation"),
            [c.section(None, [notice, c.button_list([refresh])])],
            name="error",
        )
    plan = plan_card(ui, event_id=event_id, partner="")
    return {**plan, "sections": [c.section(None, [notice]), *plan["sections"]]}


def existing_card(ui: Ui, existing: Mapping[str, Any]) -> Json:
    """An event with a partner the person has a series with already: that series, no plan form."""
    name = str((existing.get("partner") or {}).get("name", ""))
    widgets = [
        c.text(
            ui.t(
                "You already have a series of conversations with %(name)s. Open one of its "
                "conversations in your calendar.",
                name=name,
            )
        ),
        _existing_widget(ui, existing),
    ]
    return c.card(ui.t("Good conversation"), [c.section(None, widgets)], name="existing")


def _existing_widget(ui: Ui, existing: Mapping[str, Any]) -> Json:
    series = existing.get("series") or {}
    upcoming = existing.get("next")
    name = str((existing.get("partner") or {}).get("name", ""))
    when = ui.when(str(upcoming), series.get("tz")) if upcoming else ""
    return c.decorated_text(
        str(series.get("description", "")),
        top_label=ui.t("With %(name)s", name=name),
        bottom_label=ui.t("Next conversation: %(when)s", when=when) if upcoming else None,
        icon="INVITE",
    )


def home_card(
    ui: Ui,
    existing: Sequence[Mapping[str, Any]] = (),
    asks: Sequence[Mapping[str, Any]] = (),
) -> Json:
    """The homepage: what the add-on does, the person's series, the plan form for a new one.

    A series the person has already is listed with its next conversation; planning another with
    the same partner is refused, so the form is for someone else.
    """
    plan = plan_card(ui, event_id="", partner="")
    intro = c.section(
        None,
        [
            c.text(
                ui.t(
                    "Open a good conversation in your calendar to see its agenda, preparation "
                    "and record. Or plan a new series with your manager or employee here."
                )
            )
        ],
    )
    mine = (
        [c.section(ui.t("Your series"), [_existing_widget(ui, e) for e in existing])]
        if existing
        else []
    )
    from addin.workspace.journal_cards import asks_section

    asked = asks_section(ui, asks)
    first = [asked] if asked else []
    return {**plan, "name": "home", "sections": [intro, *first, *mine, *plan["sections"]]}


# -- plan ----------------------------------------------------------------------------------------


def plan_card(
    ui: Ui,
    *,
    event_id: str,
    partner: str,
    draft: Form = NO_FORM,
    templates: Mapping[str, Any] | None = None,
) -> Json:
    """The plan form: who the partner is, who leads, the employee's preferences and, where
    there is a choice, the agenda template."""
    d = draft
    who = c.section(
        ui.t("Who"),
        [
            c.text_input(
                "partner",
                ui.t("Your conversation partner (email address)"),
                value=d.one("partner", partner) or None,
                hint=ui.t("Your manager, or your employee"),
            ),
            c.selection_input(
                "role",
                ui.t("You are the"),
                [("employee", ui.t("employee")), ("manager", ui.t("manager"))],
                selected=[_choice(d.one("role"), ("employee", "manager"), "employee")],
                kind="RADIO_BUTTON",
            ),
        ],
    )
    # The defaults only on a fresh form: a form sent back keeps what was ticked, even nothing.
    chosen_days = (
        [day for day in d.many("weekdays") if day in WEEKDAYS]
        if d.values
        else list(DEFAULT_WEEKDAYS)
    )
    times = [(value, value) for value in TIMES]
    wishes = c.section(
        ui.t("The employee's preferences"),
        [
            c.selection_input(
                "weekdays",
                ui.t("Days"),
                [(day, ui.tr(WEEKDAY_NAMES[day])) for day in WEEKDAYS],
                selected=chosen_days,
                kind="CHECK_BOX",
            ),
            c.selection_input(
                "earliest",
                ui.t("From"),
                times,
                selected=[_choice(d.one("earliest"), TIMES, "09:30")],
            ),
            c.selection_input(
                "latest", ui.t("Until"), times, selected=[_choice(d.one("latest"), TIMES, "12:00")]
            ),
            c.selection_input(
                "duration",
                ui.t("Length"),
                [(str(m), ui.t("%(minutes)s minutes", minutes=m)) for m in DURATIONS],
                selected=[_choice(d.one("duration"), [str(m) for m in DURATIONS], "60")],
            ),
            c.selection_input(
                "every",
                ui.t("How often"),
                [
                    ("1", ui.t("Every month")),
                    ("2", ui.t("Every 2 months")),
                    ("3", ui.t("Every 3 months")),
                ],
                selected=[_choice(d.one("every"), ("1", "2", "3"), "3")],
            ),
            c.text_input(
                "place",
                ui.t("Place"),
                value=d.one("place") or None,
                hint=ui.t("The employee proposes where you meet"),
            ),
            c.selection_input(
                "online",
                ui.t("Online"),
                [("yes", ui.t("Meet online (video call)"))],
                selected=["yes"] if "yes" in d.many("online") else [],
                kind="SWITCH",
            ),
        ],
    )
    choices = list((templates or {}).get("choices") or [])
    template = (
        [
            c.selection_input(
                "template",
                ui.t("Agenda template"),
                [(str(choice["key"]), str(choice["title"])) for choice in choices],
                selected=[
                    _choice(
                        d.one("template"),
                        [str(choice["key"]) for choice in choices],
                        str((templates or {}).get("default") or choices[0]["key"]),
                    )
                ],
                kind="RADIO_BUTTON",
            ),
            c.text("\n".join(f"{o['title']}: {' · '.join(o['themes'])}" for o in choices)),
        ]
        if len(choices) > 1
        else []
    )
    copy = c.section(
        ui.t("What the calendar event shows"),
        [
            *template,
            _event_copy_input(ui, d.one("event_copy", "full")),
            c.button_list([c.button(ui.t("Show the proposal"), ui.act("preview", event=event_id))]),
        ],
    )
    return c.card(
        ui.t("Plan a series of good conversations"),
        # The proposal's button stays the form's last.
        [who, wishes, _hours_entry_section(ui), copy],
        name="plan",
    )


def _hours_entry_section(ui: Ui) -> Json:
    """The way to one's own working hours: the planner plans within both partners' hours."""
    return c.section(
        ui.t("Your working hours"),
        [
            c.text(
                ui.t(
                    "Conversations are planned on the days and at the hours you both work. "
                    "Working part-time? Set your days."
                )
            ),
            c.button_list([c.button(ui.t("My working hours"), ui.act("hours"))]),
        ],
    )


def plan_body(form: Form, event_id: str) -> dict[str, Any]:
    """The `/api/series/preview` body the plan form describes."""
    return {
        "event": event_id,
        "partner": form.one("partner").strip(),
        "role": form.one("role", "employee"),
        "preferences": {
            # None ticked is sent as none: the service says to choose one, never plans Tuesdays.
            "weekdays": [d for d in form.many("weekdays") if d in WEEKDAYS],
            "earliest": form.one("earliest", "09:30"),
            "latest": form.one("latest", "12:00"),
            "duration": _whole(form.one("duration", "60")),
            "every": _whole(form.one("every", "3")),
            "place": form.one("place").strip(),
            "online": "yes" in form.many("online"),
        },
        "event_copy": _choice(form.one("event_copy"), ("full", "titles"), "full"),
        **({"template": form.one("template")} if form.one("template") else {}),
    }


def preview_card(
    ui: Ui, proposal: Mapping[str, Any], plan: Mapping[str, Any], request_id: str
) -> Json:
    """The planner's proposal, and the button that schedules it.

    `request_id` is made when this card is built, so pressing the button twice (or Google
    retrying the request) schedules one series.
    """
    fits = bool(proposal.get("fits"))
    summary = [
        c.text(str(proposal.get("sentence", ""))),
        c.decorated_text(
            str(proposal.get("description", "")),
            top_label=ui.t("Rhythm"),
            bottom_label=ui.t("Fits both calendars") if fits else ui.t("Does not fit completely"),
            icon="CLOCK",
        ),
    ]
    employee = (proposal.get("employee") or {}).get("name", "")
    manager = (proposal.get("manager") or {}).get("name", "")
    if employee and manager:
        summary.append(
            c.decorated_text(
                ui.t(
                    "%(employee)s (employee) and %(manager)s (manager)",
                    employee=employee,
                    manager=manager,
                ),
                icon="MULTIPLE_PEOPLE",
            )
        )
    dates = [
        c.decorated_text(ui.when(str(moment), proposal.get("tz")), icon="INVITE")
        for moment in proposal.get("occurrences") or []
    ]
    sections = [c.section(None, summary)]
    if dates:
        sections.append(c.section(ui.t("The first conversations"), dates))
    clashes = [
        c.decorated_text(
            "; ".join(str(r) for r in clash.get("reasons") or []) or ui.t("Busy"),
            top_label=ui.day(str(clash.get("date", ""))),
        )
        for clash in proposal.get("clashes") or []
    ]
    if clashes:
        sections.append(c.section(ui.t("Clashes"), clashes))
    schedule = ui.act(
        "create",
        plan=json.dumps(plan, ensure_ascii=False, separators=(",", ":")),
        request_id=request_id,
        event=str(plan.get("event") or ""),
    )
    sections.append(
        c.section(
            None,
            [
                c.text(
                    ui.t("The series goes into the employee's calendar; the manager is invited.")
                ),
                c.button_list([c.button(ui.t("Schedule this series"), schedule)]),
            ],
        )
    )
    return c.card(ui.t("Proposed series"), sections, name="preview")


# -- upcoming: agenda, preparation, checklist ----------------------------------------------------


def agenda_card(
    ui: Ui,
    ctx: Mapping[str, Any],
    *,
    draft: Form = NO_FORM,
    unsaved: Ops | None = None,
    suggestions: Sequence[Mapping[str, Any]] | None = None,
) -> Json:
    """Before the conversation: what is worth raising, the agenda by theme, the journal's
    buttons, preparation, checklist and the series."""
    from addin.workspace import journal_cards

    agenda = ctx["agenda"]
    names = _names(ctx)
    # Every button saves what is typed in the new-item form too (see `form_ops`).
    params = {**target(ctx), "form": "agenda"}
    sections: list[Json] = []
    if unsaved:
        sections.append(unsaved_section(ui, ctx, unsaved))
    sections.append(_turn_section(ui, ctx))
    worth = journal_cards.suggestions_section(ui, ctx, suggestions)
    if worth is not None:
        sections.append(worth)
    for theme in agenda["themes"]:
        items = [i for i in agenda["items"] if i["theme"] == theme["key"]]
        widgets = [_item_widget(ui, ctx, item, names, params) for item in items]
        shown = widgets or [c.text(ui.t("No items yet."))]
        # The template's hint and guiding questions, folded away under the items.
        guide = [c.text(str(theme["hint"]))] if theme.get("hint") else []
        prompts = [str(p) for p in theme.get("prompts") or []]
        if prompts:
            guide.append(c.text(ui.t("Questions to think about") + "\n• " + "\n• ".join(prompts)))
        sections.append(
            c.section(
                theme["title"],
                [*shown, *guide],
                bool(guide),
                uncollapsible_widgets=len(shown) if guide else None,
            )
        )
    adding = _add_item_section(ui, ctx, params, draft)
    if adding is not None:
        sections.append(adding)
    sections.append(_agenda_status_section(ui, ctx, names, params))
    sections.extend(_journal_sections(ui, ctx))
    sections.extend(_preparation_sections(ui, ctx, params))
    if _may(ctx, "change_event_copy", "series"):
        sections.append(_event_copy_section(ui, ctx, draft))
    sections.append(_checklist_section(ui, ctx))
    sections.append(_series_section(ui, ctx))
    return c.card(_subject(ctx), sections, subtitle=_occurrence_line(ui, ctx), name="agenda")


def _item_widget(
    ui: Ui,
    ctx: Mapping[str, Any],
    item: Mapping[str, Any],
    names: Mapping[str, str],
    params: Mapping[str, str],
) -> Json:
    label = None
    if item.get("carried_from"):
        label = ui.t("Carried over from the previous conversation")
    elif item.get("proposed_by") == "manager":
        label = ui.t("Proposed by %(name)s", name=_called(ui, ctx, "manager", names))
    remove = None
    if _may(item, "remove"):
        ops = [{"op": "agenda.remove_item", "item": item["id"]}]
        remove = c.button(ui.t("Remove"), ui.act("ops", **params, ops=_ops_text(ops)))
    return c.decorated_text(
        str(item.get("title", "")),
        top_label=label,
        bottom_label=_short(str(item.get("notes") or "")) or None,
        button=remove,
    )


def _add_item_section(
    ui: Ui, ctx: Mapping[str, Any], params: Mapping[str, str], draft: Form
) -> Json | None:
    agenda = ctx["agenda"]
    if _may(ctx, "add_item", "agenda"):
        label = ui.t("Add to the agenda")
    elif _may(ctx, "propose_item", "agenda"):
        label = ui.t("Propose this item")
    else:
        return None
    themes = [(theme["key"], str(theme["title"])) for theme in agenda["themes"]]
    keys = [key for key, _title in themes]
    return c.section(
        ui.t("New agenda item"),
        [
            c.selection_input(
                "item_theme",
                ui.t("Theme"),
                themes,
                selected=[_choice(draft.one("item_theme"), keys, keys[0])],
            ),
            c.text_input("item_title", ui.t("Title"), value=draft.one("item_title") or None),
            c.text_input(
                "item_notes",
                ui.t("Notes (optional)"),
                value=draft.one("item_notes") or None,
                multiline=True,
            ),
            c.button_list([c.button(label, ui.act("agenda_add", **params))]),
        ],
        collapsible=agenda.get("state") == "agreed",
        uncollapsible_widgets=1 if agenda.get("state") == "agreed" else None,
    )


def _agenda_status_section(
    ui: Ui,
    ctx: Mapping[str, Any],
    names: Mapping[str, str],
    params: Mapping[str, str],
) -> Json:
    agenda = ctx["agenda"]
    state = agenda.get("state")
    agreed_by = set(agenda.get("agreed_by") or [])
    # Said to the reader: "you", never their own name.
    viewer = (ctx.get("user") or {}).get("role")
    if state == "draft" and viewer == "employee":
        status = ui.t(
            "The agenda is a draft: share it with %(manager)s when it is ready.",
            manager=names.get("manager", ""),
        )
    elif state == "draft":
        status = ui.t(
            "The agenda is a draft: %(employee)s shares it when it is ready.",
            employee=names.get("employee", ""),
        )
    elif state == "shared":
        waiting = [
            _called(ui, ctx, r, names) for r in ("employee", "manager") if r not in agreed_by
        ]
        status = ui.t(
            "The agenda is shared. Waiting for %(names)s to agree.", names=_join(ui, waiting)
        )
    else:
        status = ui.t(
            "The agenda is agreed by both. It is in the calendar event and attached to it."
        )
    buttons: list[Json] = []
    if _may(ctx, "share", "agenda"):
        share = [{"op": "agenda.share"}]
        buttons.append(
            c.button(
                ui.t("Share with %(name)s", name=names.get("manager", "")),
                ui.act("ops", **params, ops=_ops_text(share)),
            )
        )
    if _may(ctx, "agree", "agenda"):
        agree = [{"op": "agenda.agree"}]
        buttons.append(
            c.button(ui.t("Agree to the agenda"), ui.act("ops", **params, ops=_ops_text(agree)))
        )
    widgets = [c.decorated_text(status, icon="DESCRIPTION")]
    if buttons:
        widgets.append(c.button_list(buttons))
    return c.section(ui.t("Agenda"), widgets)


def _preparation_sections(
    ui: Ui, ctx: Mapping[str, Any], params: Mapping[str, str] | None = None
) -> list[Json]:
    """What was agreed last time, the actions still open, and the question bank.

    The actions carried over from earlier conversations get a button to mark them done when
    `params` names the card's document.
    """
    names = _names(ctx)
    sections: list[Json] = []
    previous = ctx.get("previous")
    if previous and previous.get("agreements"):
        widgets = [
            c.decorated_text(
                str(a.get("text", "")), bottom_label=_agreement_state(ui, ctx, a, names)
            )
            for a in previous["agreements"]
        ]
        header = ui.t("Agreed on %(day)s", day=ui.day(str(previous.get("occurrence", ""))))
        sections.append(c.section(header, widgets, collapsible=True, uncollapsible_widgets=1))
    carried = _carried_section(ui, ctx, params)
    if carried is not None:
        sections.append(carried)
    questions = (ctx.get("preparation") or {}).get("questions") or []
    if questions:
        widgets = [
            c.decorated_text(str(q.get("text", "")), top_label=str(q.get("group") or "") or None)
            for q in questions
        ]
        sections.append(
            c.section(
                ui.t("Questions to prepare"), widgets, collapsible=True, uncollapsible_widgets=1
            )
        )
    return sections


def _carried_section(
    ui: Ui, ctx: Mapping[str, Any], params: Mapping[str, str] | None
) -> Json | None:
    """The actions carried from earlier conversations, each with its button when `params`."""
    carried = (ctx.get("agenda") or {}).get("actions")
    actions = carried if carried is not None else ctx.get("open_actions") or []
    if not actions:
        return None
    toggles = params if carried is not None else None
    names = _names(ctx)
    widgets = [
        _action_widget(ui, a, names, toggles, op="agenda.set_action_status", pair_tz=_pair_tz(ctx))
        for a in actions
    ]
    return c.section(ui.t("Open actions"), widgets, collapsible=True, uncollapsible_widgets=1)


def _event_copy_section(ui: Ui, ctx: Mapping[str, Any], draft: Form) -> Json:
    series = ctx["series"]
    chosen = draft.one("event_copy", str(series.get("event_copy") or "full"))
    return c.section(
        ui.t("What the calendar event shows"),
        [
            c.text(
                ui.t(
                    "Anyone with access to either calendar sees the event, so choose what the "
                    "agenda in it shows. The record is never in the event."
                )
            ),
            _event_copy_input(ui, chosen),
            c.button_list(
                [
                    c.button(
                        ui.t("Save this choice"),
                        ui.act("event_copy", series=str(series["id"]), event=_event_id(ctx)),
                    )
                ]
            ),
        ],
        collapsible=True,
        uncollapsible_widgets=1,
    )


def _event_copy_input(ui: Ui, chosen: str) -> Json:
    return c.selection_input(
        "event_copy",
        ui.t("The agenda in the event"),
        [("full", ui.t("The whole agenda")), ("titles", ui.t("Only the theme titles"))],
        selected=[_choice(chosen, ("full", "titles"), "full")],
        kind="RADIO_BUTTON",
    )


def _checklist_section(ui: Ui, ctx: Mapping[str, Any]) -> Json:
    items = (ctx.get("preparation") or {}).get("checklist") or []
    widgets = [
        c.decorated_text(str(i.get("text", "")), top_label=str(i.get("title") or "") or None)
        for i in items
    ] or [c.text(ui.t("No checklist in this template."))]
    return c.section(
        ui.t("Checklist of agreements"), widgets, collapsible=True, uncollapsible_widgets=1
    )


def _series_section(ui: Ui, ctx: Mapping[str, Any]) -> Json:
    series = ctx["series"]
    widgets = [
        c.decorated_text(
            str(series.get("description", "")), top_label=ui.t("Rhythm"), icon="CLOCK"
        ),
        c.decorated_text(
            ui.t("%(minutes)s minutes", minutes=series.get("duration", "")),
            top_label=ui.t("Length"),
        ),
    ]
    place = str(series.get("place") or "")
    if place or series.get("online"):
        shown = (
            place if not series.get("online") else ui.t("Online") + (f" · {place}" if place else "")
        )
        widgets.append(c.decorated_text(shown, top_label=ui.t("Place"), icon="MAP_PIN"))
    upcoming = [ui.when(str(d), _pair_tz(ctx)) for d in ctx.get("next_dates") or []]
    if upcoming:
        widgets.append(c.decorated_text("\n".join(upcoming), top_label=ui.t("Next conversations")))
    widgets.append(c.button_list([c.button(ui.t("Reminders by mail"), ui.act("reminders"))]))
    end = _end_widget(ui, ctx)
    if end is not None:
        widgets.append(end)
    return c.section(ui.t("The series"), widgets, collapsible=True, uncollapsible_widgets=1)


# -- ended: the record ---------------------------------------------------------------------------


def record_card(
    ui: Ui, ctx: Mapping[str, Any], *, draft: Form = NO_FORM, unsaved: Ops | None = None
) -> Json:
    """After the conversation: summaries per item, agreements and actions, then acceptance."""
    agenda = ctx["agenda"]
    record = ctx.get("record") or {"summaries": [], "agreements": [], "actions": [], "final": False}
    names = _names(ctx)
    role = (ctx.get("user") or {}).get("role")  # only the new action's default owner
    summaries = {s["item_id"]: s for s in record.get("summaries") or []}
    # Every button saves what is typed in the record form too (see `form_ops`).
    params = {**target(ctx), "form": "record", "summarised": ",".join(sorted(summaries))}
    save = c.button_list([c.button(ui.t("Save the record"), ui.act("record_save", **params))])
    sections: list[Json] = []
    if unsaved:
        sections.append(unsaved_section(ui, ctx, unsaved))
    sections.append(_turn_section(ui, ctx))
    themes = {theme["key"]: str(theme["title"]) for theme in agenda["themes"]}
    summary_widgets: list[Json] = []
    for item in agenda["items"]:
        summary_widgets.extend(_summary_widgets(ui, item, themes, summaries.get(item["id"]), draft))
    if not summary_widgets:
        summary_widgets.append(
            c.text(ui.t("The agenda had no items: write the agreements and actions below."))
        )
    summary_widgets.append(save)
    sections.append(c.section(ui.t("Summary per agenda item"), summary_widgets))
    sections.append(
        _agreements_section(
            ui, ctx, record=record, names=names, params=params, draft=draft, save=save
        )
    )
    sections.append(
        _actions_section(
            ui, ctx, record=record, role=role, names=names, params=params, draft=draft, save=save
        )
    )
    sections.extend(_journal_sections(ui, ctx))
    sections.extend(_preparation_sections(ui, ctx, params))
    sections.append(export_section(ui, ctx))
    return c.card(_subject(ctx), sections, subtitle=_occurrence_line(ui, ctx), name="record")


def _summary_widgets(
    ui: Ui,
    item: Mapping[str, Any],
    themes: Mapping[str, str],
    summary: Mapping[str, Any] | None,
    draft: Form,
) -> list[Json]:
    item_id = str(item["id"])
    text_name, switch_name = f"summary_{item_id}", f"finished_{item_id}"
    saved_text = str(summary.get("text", "")) if summary else ""
    text, finished = saved_text, bool(summary.get("finished")) if summary else False
    widgets = [c.decorated_text(str(item.get("title", "")), top_label=themes.get(item["theme"]))]
    if draft.has(text_name) or draft.has(switch_name):
        # After a refused save: what this person typed stays in the inputs, and what the other
        # partner saved meanwhile shows above it.
        text, finished = draft.one(text_name), "yes" in draft.many(switch_name)
        if saved_text and saved_text != text:
            widgets.append(c.decorated_text(saved_text, top_label=ui.t("Saved meanwhile")))
    return [
        *widgets,
        c.text_input(text_name, ui.t("Summary"), value=text or None, multiline=True),
        c.selection_input(
            switch_name,
            ui.t("Finished"),
            [("yes", ui.t("This topic is finished"))],
            selected=["yes"] if finished else [],
            kind="SWITCH",
        ),
    ]


def _item_options(ui: Ui, agenda: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [("", ui.t("(no agenda item)"))] + [
        (str(i["id"]), _short(str(i.get("title", "")))) for i in agenda["items"]
    ]


def _agreements_section(
    ui: Ui,
    ctx: Mapping[str, Any],
    *,
    record: Mapping[str, Any],
    names: Mapping[str, str],
    params: Mapping[str, str],
    draft: Form,
    save: Json,
) -> Json:
    widgets: list[Json] = []
    for agreement in record.get("agreements") or []:
        widgets.append(
            c.decorated_text(
                str(agreement.get("text", "")),
                top_label=_agreement_state(ui, ctx, agreement, names),
                bottom_label=_declined(ui, ctx, agreement),
            )
        )
        buttons = _agreement_buttons(ui, agreement, params)
        if buttons:
            widgets.append(c.button_list(buttons))
    bulk: list[Json] = []
    if _may(ctx, "propose_all", "record"):
        ops = [{"op": "record.propose", "agreement": "*"}]
        bulk.append(
            c.button(ui.t("Propose all drafts"), ui.act("ops", **params, ops=_ops_text(ops)))
        )
    if _may(ctx, "accept_all", "record"):
        ops = [{"op": "record.accept", "agreement": "*"}]
        bulk.append(c.button(ui.t("Accept all"), ui.act("ops", **params, ops=_ops_text(ops))))
    if bulk:
        widgets.append(c.button_list(bulk))
    if any(_may(a, "decline") for a in record.get("agreements") or []):
        widgets.append(
            c.text_input(
                "decline_reason",
                ui.t("Why not? (sent with Decline)"),
                value=draft.one("decline_reason") or None,
                multiline=True,
            )
        )
    options = _item_options(ui, ctx["agenda"])
    widgets += [
        c.text_input(
            "agreement_text",
            ui.t("New agreement"),
            value=draft.one("agreement_text") or None,
            hint=ui.t("An agreement is final when both of you accept it"),
            multiline=True,
        ),
        c.selection_input(
            "agreement_item",
            ui.t("About"),
            options,
            selected=[_choice(draft.one("agreement_item"), [k for k, _v in options], "")],
        ),
        save,
    ]
    return c.section(ui.t("Agreements"), widgets)


def _agreement_buttons(
    ui: Ui, agreement: Mapping[str, Any], params: Mapping[str, str]
) -> list[Json]:
    agreement_id = str(agreement["id"])

    def button(label: str, op: str) -> Json:
        ops = [{"op": op, "agreement": agreement_id}]
        return c.button(label, ui.act("ops", **params, ops=_ops_text(ops)))

    steps = (
        ("propose", ui.t("Propose"), "record.propose"),
        ("remove", ui.t("Remove"), "record.remove_agreement"),
        ("accept", ui.t("Accept"), "record.accept"),
        ("decline", ui.t("Decline"), "record.decline"),
    )
    return [button(label, op) for step, label, op in steps if _may(agreement, step)]


def _declined(ui: Ui, ctx: Mapping[str, Any], agreement: Mapping[str, Any]) -> str | None:
    """Who declined an agreement back to draft, when and why (the proposer reads it here)."""
    declined = agreement.get("declined")
    if not declined:
        return None
    when = ui.when(str(declined.get("at", "")), _pair_tz(ctx))
    reason = str(declined.get("reason") or "")
    name = _called(ui, ctx, str(declined.get("role", "")), {}) or str(declined.get("name", ""))
    if reason:
        return ui.t(
            "Declined by %(name)s on %(when)s: “%(reason)s”", name=name, when=when, reason=reason
        )
    return ui.t("Declined by %(name)s on %(when)s, without a reason.", name=name, when=when)


def _actions_section(
    ui: Ui,
    ctx: Mapping[str, Any],
    *,
    record: Mapping[str, Any],
    role: str | None,
    names: Mapping[str, str],
    params: Mapping[str, str],
    draft: Form,
    save: Json,
) -> Json:
    widgets = [_action_widget(ui, a, names, params) for a in record.get("actions") or []]
    owner_default = role if role in ("employee", "manager") else "employee"
    options = _item_options(ui, ctx["agenda"])
    due = draft.one("action_due")
    widgets += [
        c.text_input(
            "action_description",
            ui.t("New action"),
            value=draft.one("action_description") or None,
            hint=ui.t("Who does what, by when"),
        ),
        c.selection_input(
            "action_owner",
            ui.t("Who"),
            [
                ("employee", names.get("employee") or ui.t("employee")),
                ("manager", names.get("manager") or ui.t("manager")),
            ],
            selected=[_choice(draft.one("action_owner"), ("employee", "manager"), owner_default)],
        ),
        c.date_time_picker(
            "action_due",
            ui.t("Due date (optional)"),
            kind="DATE_ONLY",
            value=_date_or_none(due),
        ),
        c.selection_input(
            "action_item",
            ui.t("About"),
            options,
            selected=[_choice(draft.one("action_item"), [k for k, _v in options], "")],
        ),
        save,
    ]
    return c.section(ui.t("Actions"), widgets)


def _action_widget(
    ui: Ui,
    action: Mapping[str, Any],
    names: Mapping[str, str],
    params: Mapping[str, str] | None,
    *,
    op: str = "record.set_status",
    pair_tz: str | None = None,
) -> Json:
    owner = names.get(str(action.get("owner")), str(action.get("owner", "")))
    due = action.get("due")
    top = ui.t("%(owner)s, before %(day)s", owner=owner, day=ui.day(str(due))) if due else owner
    status = str(action.get("status", "open"))
    toggle = None
    step = next((s for s in ("mark_done", "reopen") if _may(action, s)), None)
    if params is not None and step is not None:
        new = "done" if step == "mark_done" else "open"
        ops = [{"op": op, "action": str(action["id"]), "status": new}]
        label = ui.t("Mark done") if step == "mark_done" else ui.t("Reopen")
        toggle = c.button(label, ui.act("ops", **params, ops=_ops_text(ops)))
    bottom = _status_label(ui, status)
    carried = action.get("carried_from")
    if carried:
        when = ui.when(str(carried.get("occurrence", "")), pair_tz)
        bottom += " · " + ui.t("Agreed in the conversation of %(date)s", date=when)
    return c.decorated_text(
        str(action.get("description", "")), top_label=top, bottom_label=bottom, button=toggle
    )


def _status_label(ui: Ui, status: str) -> str:
    labels = {"open": ui.t("Open"), "done": ui.t("Done"), "dropped": ui.t("Dropped")}
    return labels.get(status, status)


def final_card(ui: Ui, ctx: Mapping[str, Any]) -> Json:
    """The agreed record, read-only except for marking actions done."""
    agenda = ctx["agenda"]
    record = ctx["record"]
    names = _names(ctx)
    params = target(ctx)
    summaries = {s["item_id"]: s for s in record.get("summaries") or []}
    themes = {theme["key"]: str(theme["title"]) for theme in agenda["themes"]}
    sections = [_turn_section(ui, ctx)]
    items = []
    for item in agenda["items"]:
        summary = summaries.get(item["id"])
        text = str(summary.get("text") or "") if summary else ""
        finished = bool(summary and summary.get("finished"))
        items.append(
            c.decorated_text(
                text or ui.t("(no summary)"),
                top_label=f"{themes.get(item['theme'], '')}: {item.get('title', '')}",
                bottom_label=ui.t("Finished") if finished else ui.t("Continues next time"),
            )
        )
    if items:
        sections.append(c.section(ui.t("Summary per agenda item"), items))
    agreements = [
        c.decorated_text(str(a.get("text", "")), bottom_label=_agreement_state(ui, ctx, a, names))
        for a in record.get("agreements") or []
    ]
    if agreements:
        sections.append(c.section(ui.t("Agreements"), agreements))
    actions = [_action_widget(ui, a, names, params) for a in record.get("actions") or []]
    if actions:
        sections.append(c.section(ui.t("Actions"), actions))
    carried = _carried_section(ui, ctx, params)
    if carried is not None:
        sections.append(carried)
    employee = names.get("employee", "")
    where = [
        c.text(
            ui.t(
                "The record is kept sealed in %(employee)s's own drive; only the two of you "
                "see it, here in the calendar.",
                employee=employee,
            )
        )
    ]
    upcoming = ctx.get("next_dates") or []
    if upcoming:
        where.append(
            c.decorated_text(
                ui.when(str(upcoming[0]), _pair_tz(ctx)),
                top_label=ui.t("Next conversation"),
                icon="INVITE",
            )
        )
    sections.append(c.section(ui.t("The record"), where))
    sections.extend(_journal_sections(ui, ctx))
    sections.append(export_section(ui, ctx))
    return c.card(_subject(ctx), sections, subtitle=_occurrence_line(ui, ctx), name="final")


def export_section(ui: Ui, ctx: Mapping[str, Any]) -> Json:
    """Buttons that open the record as HTML or Markdown in a new tab.

    A card cannot download a file: each button asks our server (as a verified card request) for
    a short-lived signed link to the export, and Google opens it (``openDynamicLinkAction``).
    """
    where = {"series": str(ctx["series"]["id"]), "occ": str(ctx["occurrence"]["key"])}
    buttons = [
        c.button(label, ui.act("export", **where, format=fmt), opens_link=True)
        for fmt, label in (("html", ui.t("Open as HTML")), ("md", ui.t("Open as Markdown")))
    ]
    if (ctx.get("user") or {}).get("role") == "employee":
        # The whole dossier is the employee's: every conversation, as one zip.
        label = ui.t("Download my whole dossier (zip)")
        buttons.append(c.button(label, ui.act("dossier"), opens_link=True))
    return c.section(
        ui.t("Export"),
        [
            c.text(
                ui.t(
                    "Opens the record in a new tab, to save or print. The link works for a few "
                    "minutes."
                )
            ),
            c.button_list(buttons),
        ],
    )


# -- my working hours ----------------------------------------------------------------------------

_HOURS_SOURCE = {
    "own": _("These are the working hours you set."),
    "directory": _(
        "These working hours come from your organisation's directory. If they are not right, "
        "set your own here: yours are used instead."
    ),
    "default": _(
        "No working hours are known for you yet, so Monday to Friday, 09:00 to 17:00 is used. "
        "Set the days and hours you work."
    ),
}


def hours_card(
    ui: Ui,
    answer: Mapping[str, Any],
    *,
    draft: Form = NO_FORM,
    problem: str | None = None,
) -> Json:
    """The person's own working days, start, end and zone, and where they come from now.

    `answer` is the working-hours use case's answer (``working_hours`` and ``source``). After a
    refused save `draft` holds what was chosen, kept in the inputs, and `problem` the reason.
    """
    current = answer.get("working_hours") or {}
    source = str(answer.get("source") or "default")
    d = draft
    if d.values:
        # A form sent back keeps what was ticked, even nothing.
        days = [day for day in d.many("hours_days") if day in HOURS_DAYS]
    else:
        days = [day for day in current.get("days") or [] if day in HOURS_DAYS]
    start = d.one("hours_start", str(current.get("start") or "09:00"))
    end = d.one("hours_end", str(current.get("end") or "17:00"))
    viewer = str(getattr(ui.tz, "key", "") or "")
    tz = d.one("hours_tz", str(current.get("tz") or viewer or COMMON_ZONES[0]))
    sections: list[Json] = []
    if problem:
        sections.append(c.section(None, [c.decorated_text(problem, icon="DESCRIPTION")]))
    sections.append(
        c.section(
            None,
            [
                c.decorated_text(
                    ui.tr(_HOURS_SOURCE.get(source, _HOURS_SOURCE["default"])), icon="CLOCK"
                ),
                c.text(
                    ui.t(
                        "Conversations are planned within the working days and hours of both "
                        "of you, each in your own time zone."
                    )
                ),
            ],
        )
    )
    sections.append(
        c.section(
            ui.t("When you work"),
            [
                c.selection_input(
                    "hours_days",
                    ui.t("Days I work"),
                    [(day, ui.tr(WEEKDAY_NAMES[day])) for day in HOURS_DAYS],
                    selected=days,
                    kind="CHECK_BOX",
                ),
                _time_input(ui, "hours_start", ui.t("Start"), start),
                _time_input(ui, "hours_end", ui.t("End"), end),
                c.selection_input(
                    "hours_tz",
                    ui.t("Time zone"),
                    [(zone_id, zone_id.replace("_", " ")) for zone_id in _zones(tz, viewer)],
                    selected=[tz] if _is_zone_name(tz) else [],
                ),
                c.button_list(
                    [
                        c.button(
                            ui.t("Save my working hours"),
                            ui.act("hours_save", source=source),
                            style="FILLED",
                        )
                    ]
                ),
            ],
        )
    )
    return c.card(ui.t("My working hours"), sections, name="hours")


# -- reminders by mail ---------------------------------------------------------------------------

REMINDER_KINDS: Final = {
    "prepare": _("A week before: prepare the conversation (the employee)"),
    "agenda": _("Two working days before: the agenda so far (the manager)"),
    "record": _("After the conversation: write the record"),
    "accept": _("An agreement waiting for my acceptance"),
    "cadence": _("Fewer than four conversations a year, or none planned"),
}


def reminders_card(
    ui: Ui, answer: Mapping[str, Any], *, draft: Form = NO_FORM, problem: str | None = None
) -> Json:
    """Which reminders the person gets by mail (each kind on or off) and their quiet days.

    `answer` is the reminders use case's answer (``off``, ``quiet_days``, ``kinds``).
    """
    kinds = [k for k in answer.get("kinds") or REMINDER_KINDS if k in REMINDER_KINDS]
    if draft.values:
        wanted = [k for k in draft.many("reminders_on") if k in REMINDER_KINDS]
        quiet = [d for d in draft.many("reminders_quiet") if d in HOURS_DAYS]
    else:
        off = set(answer.get("off") or ())
        wanted = [k for k in kinds if k not in off]
        quiet = [d for d in answer.get("quiet_days") or () if d in HOURS_DAYS]
    sections: list[Json] = []
    if problem:
        sections.append(c.section(None, [c.decorated_text(problem, icon="DESCRIPTION")]))
    sections.append(
        c.section(
            None,
            [
                c.text(
                    ui.t("Goed Gesprek mails these from your own mailbox to you, in your language.")
                ),
                c.selection_input(
                    "reminders_on",
                    ui.t("Send me"),
                    [(k, ui.tr(REMINDER_KINDS[k])) for k in kinds],
                    selected=wanted,
                    kind="CHECK_BOX",
                ),
                c.selection_input(
                    "reminders_quiet",
                    ui.t("No mail on"),
                    [(day, ui.tr(WEEKDAY_NAMES[day])) for day in HOURS_DAYS],
                    selected=quiet,
                    kind="CHECK_BOX",
                ),
                c.button_list(
                    [c.button(ui.t("Save my reminders"), ui.act("reminders_save"), style="FILLED")]
                ),
            ],
        )
    )
    return c.card(ui.t("Reminders by mail"), sections, name="reminders")


def reminders_body(form: Form) -> dict[str, Any]:
    """The reminders use case's body the card's form holds: the kinds not ticked are off."""
    on = set(form.many("reminders_on"))
    return {
        "off": [k for k in REMINDER_KINDS if k not in on],
        "quiet_days": [d for d in form.many("reminders_quiet")],
    }


def hours_body(form: Form) -> dict[str, Any]:
    """The working-hours use case's body (``{days, start, end, tz}``) the card's form holds.

    Passed on as chosen: the use case checks it and says what is wrong.
    """
    return {
        "days": list(form.many("hours_days")),
        "start": form.one("hours_start"),
        "end": form.one("hours_end"),
        "tz": form.one("hours_tz"),
    }


def _time_input(ui: Ui, name: str, label: str, chosen: str) -> Json:
    """A dropdown of half hours; a time off the half hour (from the directory) is kept too."""
    times = list(HALF_HOURS)
    if _is_clock_time(chosen) and chosen not in times:
        times = sorted([*times, chosen])
    return c.selection_input(
        name,
        label,
        [(value, value) for value in times],
        selected=[chosen] if chosen in times else [],
    )


def _zones(current: str, viewer: str) -> list[str]:
    """The common zones, with the person's current zone and their calendar's zone on top."""
    first = [z for z in (current, viewer) if _is_zone_name(z)]
    return list(dict.fromkeys([*first, *COMMON_ZONES]))


def _is_clock_time(value: str) -> bool:
    return (
        len(value) == 5
        and value[2] == ":"
        and value[:2].isdigit()
        and value[3:].isdigit()
        and int(value[:2]) < 24
        and int(value[3:]) < 60
    )


def _is_zone_name(value: str) -> bool:
    """Whether `value` names a zone this server knows (a forged value is never offered)."""
    if not value or len(value) > 64:
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# -- ending the series ---------------------------------------------------------------------------


def _end_widget(ui: Ui, ctx: Mapping[str, Any]) -> Json | None:
    """The button that asks to end the series, when the context allows it (either partner)."""
    if not _may(ctx, "end", "series"):
        return None
    ask = ui.act("end_ask", series=str(ctx["series"]["id"]), event=_event_id(ctx))
    return c.button_list([c.button(ui.t("End this series"), ask, style="BORDERLESS")])


def end_confirm_card(ui: Ui, ctx: Mapping[str, Any]) -> Json:
    """Asked once before ending: what ending does, then "End the series" or "Cancel"."""
    names = _names(ctx)
    partner = str((ctx.get("partner") or {}).get("name", ""))
    series_id = str(ctx["series"]["id"])
    widgets = [
        c.text(
            ui.t(
                "Ending the series cancels the conversations not yet held, for both of you. "
                "The records of the conversations held stay with %(employee)s, in their own "
                "drive. You can plan a new series later.",
                employee=names.get("employee", ""),
            )
        ),
        c.decorated_text(
            str(ctx["series"].get("description", "")),
            top_label=ui.t("With %(name)s", name=partner),
            icon="INVITE",
        ),
        confirm_or_cancel(
            ui, ui.t("End the series"), ui.act("end", series=series_id, event=_event_id(ctx))
        ),
    ]
    return c.card(ui.t("End this series?"), [c.section(None, widgets)], name="end")


def confirm_or_cancel(ui: Ui, label: str, action: Mapping[str, Any]) -> Json:
    """A card's one main step, and Cancel back to the card underneath."""
    return c.button_list(
        [c.button(label, action, style="FILLED"), c.button(ui.t("Cancel"), ui.act("back"))]
    )


def ended_card(ui: Ui, answer: Mapping[str, Any], caller_email: str) -> Json:
    """After ending: the series has ended, what that means, and with whom it was."""
    series = answer.get("series") or {}
    me = caller_email.strip().lower()
    employee = series.get("employee") or {}
    other = series.get("manager") if str(employee.get("email", "")).lower() == me else employee
    widgets = [
        c.text(
            ui.t(
                "The conversations not yet held are cancelled in the calendar. The records stay "
                "with the employee, and you can plan a new series later."
            )
        ),
        c.decorated_text(
            str(series.get("description", "")),
            top_label=ui.t("With %(name)s", name=str((other or {}).get("name", ""))),
            icon="INVITE",
        ),
    ]
    return c.card(ui.t("The series has ended"), [c.section(None, widgets)], name="ended")


# -- conflicts -----------------------------------------------------------------------------------


def unsaved_section(ui: Ui, ctx: Mapping[str, Any], ops: Ops) -> Json:
    """The changes a refused save held, in words, with a button to apply them on this version."""
    widgets: list[Json] = [
        c.text(
            ui.t(
                "%(partner)s saved first. Their version is below; these changes of yours were "
                "not saved yet:",
                partner=(ctx.get("partner") or {}).get("name", ""),
            )
        )
    ]
    widgets += [c.decorated_text(describe_op(ui, ctx, op), icon="DESCRIPTION") for op in ops[:20]]
    again = ui.act("ops", **target(ctx), ops=_ops_text(ops))
    widgets.append(c.button_list([c.button(ui.t("Apply mine again"), again)]))
    return c.section(ui.t("Changed meanwhile"), widgets)


def describe_op(ui: Ui, ctx: Mapping[str, Any], op: Mapping[str, Any]) -> str:
    """One change in words, for the list of changes that were not saved."""
    agenda = ctx.get("agenda") or {}
    record = ctx.get("record") or {}
    items = {i["id"]: str(i.get("title", "")) for i in agenda.get("items") or []}
    agreements = {a["id"]: str(a.get("text", "")) for a in record.get("agreements") or []}
    actions = {a["id"]: str(a.get("description", "")) for a in record.get("actions") or []}
    name = str(op.get("op", ""))
    text = _short(str(op.get("text") or op.get("title") or op.get("description") or ""))
    item = items.get(str(op.get("item", "")), str(op.get("item", "")))
    agreement = agreements.get(str(op.get("agreement", "")), str(op.get("agreement", "")))
    if name == "agenda.add_item":
        return ui.t("New agenda item: %(title)s", title=text)
    if name == "agenda.remove_item":
        return ui.t("Remove agenda item: %(title)s", title=item)
    if name == "agenda.share":
        return ui.t("Share the agenda")
    if name == "agenda.agree":
        return ui.t("Agree to the agenda")
    if name == "record.summarise":
        return ui.t("Summary of %(item)s: %(text)s", item=item, text=text)
    if name == "record.add_agreement":
        return ui.t("New agreement: %(text)s", text=text)
    if name == "record.add_action":
        return ui.t("New action: %(text)s", text=text)
    if name in ("record.propose", "record.accept") and op.get("agreement") == "*":
        if name == "record.propose":
            return ui.t("Propose all draft agreements")
        return ui.t("Accept all proposed agreements")
    if name == "record.propose":
        return ui.t("Propose: %(text)s", text=agreement)
    if name == "record.accept":
        return ui.t("Accept: %(text)s", text=agreement)
    if name == "record.decline":
        return ui.t("Decline: %(text)s", text=agreement)
    if name == "record.remove_agreement":
        return ui.t("Remove agreement: %(text)s", text=agreement)
    if name in ("record.set_status", "agenda.set_action_status"):
        carried = {a["id"]: str(a.get("description", "")) for a in agenda.get("actions") or []}
        known = carried if name.startswith("agenda.") else actions
        action = known.get(str(op.get("action", "")), str(op.get("action", "")))
        status = _status_label(ui, str(op.get("status", "")))
        return ui.t("Action %(text)s: %(status)s", text=action, status=status)
    return ui.t("Change %(op)s", op=name)


# -- form to ops ---------------------------------------------------------------------------------


def record_ops(form: Form, summarised: Iterable[str], item_ids: Sequence[str]) -> Ops:
    """The record changes a submitted record form asks for.

    A summary is sent for an item that has text or is marked finished, or that had a summary
    when the card was built (`summarised`: it may have been emptied on purpose). The domain
    leaves an unchanged summary as it was.
    """
    had = set(summarised)
    ops: Ops = []
    for item_id in item_ids:
        text = form.one(f"summary_{item_id}").strip()
        finished = "yes" in form.many(f"finished_{item_id}")
        if text or finished or item_id in had:
            ops.append(
                {"op": "record.summarise", "item": item_id, "text": text, "finished": finished}
            )
    agreement = form.one("agreement_text").strip()
    if agreement:
        op: dict[str, Any] = {"op": "record.add_agreement", "text": agreement}
        if form.one("agreement_item") in item_ids:
            op["item"] = form.one("agreement_item")
        ops.append(op)
    description = form.one("action_description").strip()
    if description:
        action: dict[str, Any] = {
            "op": "record.add_action",
            "description": description,
            "owner": form.one("action_owner", "employee"),
        }
        if form.one("action_due"):
            action["due"] = form.one("action_due")[:10]
        if form.one("action_item") in item_ids:
            action["item"] = form.one("action_item")
        ops.append(action)
    return ops


def agenda_ops(form: Form) -> Ops:
    """The new agenda item the agenda card's form holds, if a title was typed."""
    title = form.one("item_title").strip()
    if not title:
        return []
    op: dict[str, Any] = {"op": "agenda.add_item", "theme": form.one("item_theme"), "title": title}
    notes = form.one("item_notes").strip()
    if notes:
        op["notes"] = notes
    return [op]


def with_reasons(form: Form, ops: Ops) -> Ops:
    """The ops, each decline given the reason typed on the card (the proposer reads it)."""
    reason = form.one("decline_reason").strip()
    if not reason:
        return ops
    return [
        {**op, "reason": reason} if op.get("op") == "record.decline" and "reason" not in op else op
        for op in ops
    ]


def form_ops(form: Form, parameters: Mapping[str, str]) -> Ops:
    """What a card's form holds, as changes, for the card named in the ``form`` parameter.

    Every button on the agenda and record cards sends the card's inputs along; saving them with
    the button's own change means nothing typed is lost by pressing "Propose" before "Save".
    """
    kind = parameters.get("form")
    if kind == "agenda":
        return agenda_ops(form)
    if kind == "record":
        summarised = [s for s in parameters.get("summarised", "").split(",") if s]
        prefixes = ("summary_", "finished_")
        typed = [k.split("_", 1)[1] for k in form.values if k.startswith(prefixes)]
        return record_ops(form, summarised, list(dict.fromkeys([*summarised, *typed])))
    return []


def change_id(user: str, parameters: Mapping[str, str], ops: Ops) -> str:
    """The id of the change a card's button sends: the same on every resend of that change.

    A card shows one version of the document (the etag in its parameters). Pressing the same
    button on it again, with the same inputs, or Google delivering one press twice, is the same
    change and gets the same id, so a save whose answer was lost is not applied twice. Another
    person, button, text or version is another change.
    """
    where = [parameters.get(k, "") for k in ("series", "occ", "etag")]
    data = json.dumps([user, *where, ops], sort_keys=True, ensure_ascii=False)
    return "card-" + hashlib.sha256(data.encode()).hexdigest()[:40]


# -- helpers -------------------------------------------------------------------------------------


def _journal_sections(ui: Ui, ctx: Mapping[str, Any]) -> list[Json]:
    """The journal's buttons (`journal_cards`), where the context has a journal."""
    from addin.workspace import journal_cards

    section = journal_cards.main_section(ui, ctx)
    return [section] if section is not None else []


def _turn_section(ui: Ui, ctx: Mapping[str, Any]) -> Json:
    message = turn_message(ui, ctx) or ui.t("Good conversation")
    refresh = ui.act("refresh", event=_event_id(ctx))
    widgets = [c.decorated_text(message, icon="PERSON", button=c.button(ui.t("Refresh"), refresh))]
    if ctx.get("pending"):
        employee = ((ctx.get("series") or {}).get("employee") or {}).get("name") or ""
        widgets.append(
            c.text(
                ui.t(
                    "Saved on the server for now: %(name)s's drive did not answer. It goes "
                    "there by itself as soon as the drive answers again; you can keep working.",
                    name=employee,
                )
            )
        )
    return c.section(None, widgets)


def _agreement_state(
    ui: Ui, ctx: Mapping[str, Any], agreement: Mapping[str, Any], names: Mapping[str, str]
) -> str:
    state = agreement.get("state")
    if state == "final":
        return ui.t("Final: accepted by both")
    if state == "proposed":
        waiting = [_called(ui, ctx, r, names) for r in agreement.get("waiting_for") or []]
        return ui.t("Proposed, waiting for %(names)s", names=_join(ui, waiting))
    if agreement.get("declined"):
        return ui.t("Draft: talk about it again")
    return ui.t("Draft")


def _called(ui: Ui, ctx: Mapping[str, Any], role: str, names: Mapping[str, str]) -> str:
    """The partner with `role` as the card's reader reads it: "you", or their name."""
    if role == (ctx.get("user") or {}).get("role"):
        return ui.t("you")
    return names.get(role, "")


def _may(thing: Mapping[str, Any], step: str, where: str | None = None) -> bool:
    """True when the context allows `step`: on `thing` itself, or in its `can[where]` list.

    The domain decides (the context's ``can`` lists); the cards only offer what it allows.
    """
    allowed = (thing.get("can") or {}).get(where) if where else thing.get("can")
    return step in (allowed or [])


def _names(ctx: Mapping[str, Any]) -> dict[str, str]:
    series = ctx.get("series") or {}
    return {role: str((series.get(role) or {}).get("name", "")) for role in ("employee", "manager")}


def _subject(ctx: Mapping[str, Any]) -> str:
    subject = str((ctx.get("event") or {}).get("subject") or "").strip()
    return subject[:MAX_NOTE] or "Goed Gesprek"


def _occurrence_line(ui: Ui, ctx: Mapping[str, Any]) -> str:
    occurrence = ctx.get("occurrence") or {}
    return ui.t(
        "Conversation %(number)s · %(when)s",
        number=occurrence.get("number", ""),
        when=ui.when(str(occurrence.get("start")), _pair_tz(ctx)),
    )


def _pair_tz(ctx: Mapping[str, Any]) -> str | None:
    tz = (ctx.get("series") or {}).get("tz")
    return str(tz) if tz else None


def _event_id(ctx: Mapping[str, Any]) -> str:
    return str((ctx.get("event") or {}).get("id") or "")


def _join(ui: Ui, names: Sequence[str]) -> str:
    names = [n for n in names if n]
    if len(names) < 2:
        return "".join(names)
    return ui.t("%(first)s and %(last)s", first=", ".join(names[:-1]), last=names[-1])


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_NOTE else text[: MAX_NOTE - 1] + "…"


def _choice(value: str, allowed: Sequence[str], default: str) -> str:
    return value if value in allowed else default


def _whole(value: str) -> int | str:
    # A number the form could not have sent goes on as text: the service says what is wrong.
    return int(value) if value.isdigit() else value


def _date_or_none(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _ops_text(ops: Ops) -> str:
    return json.dumps(ops, ensure_ascii=False, separators=(",", ":"))
