"""The pair's journal on the Google Calendar add-on's cards: pure builders from the context.

The journal (`addin.conversations.journals`, the ``journal`` key of an occurrence's context)
would make the occurrence card far too long, so the main card shows only a few buttons
(`main_section`), each pushing a card of its own:

- ``goals``: the goals with their state, horizon and last progress, and the steps each allows;
  ``goal_new`` is the employee's form for a new goal;
- ``checkin``: energy and work happiness, 1 to 5 each (the employee), and the trend (both);
- ``feedback``: the requests to colleagues, the link of an open one to pass on, the answers as
  far as the reader may read them; ``feedback_ask`` asks a colleague;
- ``reflection``: the employee's reflection and whether the manager reads it, and the way to
  the ``overview`` (goals, open actions, a year of agreements, answered feedback, the trend);
- ``timeout``: a time-out or another conversation partner, and the guests of this conversation.

Before a conversation the main card also lists what is worth raising (`suggestions_section`),
with the suggestions' words from `addin.suggestion_text`.

Every button offers exactly what the journal's ``can`` lists allow (the journal's own and each
goal's or request's); nothing here decides who may do what. A change is a list of journal ops sent
to the ``journal_ops`` endpoint with the journal's etag the card was built from, as the agenda
and record cards send theirs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from babel.dates import format_date

from addin.conversations.journals import FEEDBACK_DAYS
from addin.suggestion_text import suggestion_text
from addin.workspace import cards as c
from addin.workspace.flows import (
    NO_FORM,
    Form,
    Ops,
    Ui,
    _date_or_none,
    _whole,
    confirm_or_cancel,
    target,
)

Json = dict[str, Any]

MAX_QUESTIONS: Final = 6
"""How many questions one request for feedback may ask (the domain's limit, said on the card)."""
MAX_PROGRESS_SHOWN: Final = 3
"""Progress notes a goal shows on the cards (the newest); the overview shows them all."""
SPARKS: Final = "▁▂▄▆█"
"""One block per point of the 1-5 scale, for the trend's sparkline."""


def _(msgid: str) -> str:
    """Marks a text for the `cards` catalog; it is translated where it is shown."""
    return msgid


SCALE: Final = {
    1: _("very low"),
    2: _("low"),
    3: _("in between"),
    4: _("high"),
    5: _("very high"),
}
GOAL_KINDS: Final = {"development": _("Development goal"), "results": _("Results goal")}
TIMEOUT_KINDS: Final = {
    "time_out": _("A time-out"),
    "other_partner": _("Another conversation partner"),
}

PARTS: Final = (
    "goals",
    "goal_new",
    "checkin",
    "feedback",
    "feedback_ask",
    "reflection",
    "timeout",
)
"""The journal's cards built from the context alone (the overview needs its own answer)."""


# -- what the cards need of the context ----------------------------------------------------------


def journal_of(ctx: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The context's journal, or None where there is none (no journal kept, not a partner)."""
    journal = ctx.get("journal")
    return journal if isinstance(journal, Mapping) else None


def journal_target(ctx: Mapping[str, Any]) -> dict[str, str]:
    """The parameters of a journal change: the occurrence, and the journal's etag the card shows.

    The journal has an etag of its own (none before its first change: sent as ""), so a save
    by the other partner meanwhile is a conflict, as with the agenda and the record.
    """
    journal = journal_of(ctx) or {}
    return {**target(ctx), "etag": str(journal.get("etag") or "")}


def _may(thing: Mapping[str, Any], step: str) -> bool:
    return step in (thing.get("can") or [])


def _role(ctx: Mapping[str, Any]) -> str:
    return str((ctx.get("user") or {}).get("role") or "")


def _names(ctx: Mapping[str, Any]) -> dict[str, str]:
    series = ctx.get("series") or {}
    return {role: str((series.get(role) or {}).get("name", "")) for role in ("employee", "manager")}


def _who(ui: Ui, ctx: Mapping[str, Any], role: str) -> str:
    """The partner with `role` as the reader reads it: "you", or their name."""
    return ui.t("you") if role == _role(ctx) else _names(ctx).get(role, "")


def _other(ctx: Mapping[str, Any]) -> str:
    """The name of the reader's partner."""
    return _names(ctx).get("manager" if _role(ctx) == "employee" else "employee", "")


def _event_id(ctx: Mapping[str, Any]) -> str:
    return str((ctx.get("event") or {}).get("id") or "")


def _ops_text(ops: Ops) -> str:
    return json.dumps(ops, ensure_ascii=False, separators=(",", ":"))


def _day(ui: Ui, iso: str) -> str:
    """An ISO date or instant as a day in the reader's zone and language."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return ui.day(iso)
    if len(iso) > 10:
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(ui.tz)
    return format_date(moment.date(), "d MMMM y", locale=ui.locale)


def _card(ui: Ui, ctx: Mapping[str, Any], title: str, sections: list[Json], name: str) -> Json:
    names = _names(ctx)
    pair = ui.t("%(employee)s and %(manager)s", **names)
    if (journal_of(ctx) or {}).get("pending"):
        waiting = ui.t(
            "Saved on the server for now: %(name)s's drive did not answer. It goes there by "
            "itself as soon as the drive answers again; you can keep working.",
            name=names.get("employee", ""),
        )
        sections = [c.section(None, [c.decorated_text(waiting, icon="CLOCK")]), *sections]
    return c.card(title, sections, subtitle=pair, name=f"journal_{name}")


def _open(ui: Ui, ctx: Mapping[str, Any], part: str) -> Json:
    """The action that pushes the journal's card `part` (read anew from the service)."""
    return ui.act("journal", part=part, event=_event_id(ctx))


def _change(
    ui: Ui,
    ctx: Mapping[str, Any],
    part: str,
    ops: Sequence[Mapping[str, Any]] = (),
    **extra: str,
) -> Json:
    """The action that applies `ops` (and what the card's form holds, with ``form``) and then
    shows the card `part` again."""
    params = {**journal_target(ctx), "part": part, **extra}
    if ops:
        params["ops"] = _ops_text([dict(op) for op in ops])
    return ui.act("journal_ops", **params)


# -- requests for feedback to the reader, as someone's colleague -------------------------------


def asks_section(ui: Ui, asks: Sequence[Mapping[str, Any]] | None) -> Json | None:
    """The requests for feedback waiting for the reader (`Conversations.feedback_asks`), each
    with a button that opens its page; None when there are none."""
    if not asks:
        return None
    widgets: list[Json] = [
        c.text(
            ui.t(
                "Colleagues ask for your feedback before a conversation with their manager. "
                "Your answer goes to them alone."
            )
        )
    ]
    for ask in asks:
        name = str(ask.get("name") or "")
        widgets.append(
            c.decorated_text(
                ui.t("%(name)s asks for your feedback", name=name),
                bottom_label=ui.t(
                    "%(count)s questions · until %(day)s",
                    count=str(ask.get("questions", "")),
                    day=_day(ui, str(ask.get("expires", ""))),
                ),
                icon="EMAIL",
                button=c.button(ui.t("Answer"), str(ask["link"])),
            )
        )
    return c.section(ui.t("Asked for your feedback"), widgets)


# -- on the occurrence's main card ---------------------------------------------------------------


def suggestions_section(
    ui: Ui, ctx: Mapping[str, Any], suggestions: Sequence[Mapping[str, Any]] | None
) -> Json | None:
    """What is worth raising in this conversation, each with its reason, and the overview.

    `suggestions` are `Journals.overview`'s, in the domain's order; none, none shown.
    """
    if not suggestions or journal_of(ctx) is None:
        return None
    widgets: list[Json] = []
    for suggestion in suggestions:
        words = suggestion_text(suggestion, ui.locale)
        widgets.append(
            c.decorated_text(words["reason"], top_label=words["title"] or None, icon="BOOKMARK")
        )
    widgets.append(
        c.button_list([c.button(ui.t("Overview"), _open(ui, ctx, "overview"), style="BORDERLESS")])
    )
    return c.section(ui.t("Worth raising"), widgets)


def main_section(ui: Ui, ctx: Mapping[str, Any]) -> Json | None:
    """The journal behind a few buttons: each pushes a card of its own."""
    journal = journal_of(ctx)
    if journal is None:
        return None
    employee = _role(ctx) == "employee"
    goals = [g for g in journal.get("goals") or [] if g.get("status") == "open"]
    waiting = [g for g in goals if _may(g, "accept")]
    lines = [
        ui.t("Goals that wait for your answer: %(titles)s", titles=_titles(waiting))
        if waiting
        else None,
        ui.t("Goals: %(titles)s", titles=_titles(goals)) if goals and not waiting else None,
    ]
    consent = [f for f in journal.get("feedback") or [] if _may(f, "consent")]
    if consent:
        lines.append(
            ui.t(
                "%(manager)s would like to ask %(names)s for feedback: it goes out once you agree.",
                manager=_names(ctx).get("manager", ""),
                names=", ".join(str(f.get("name") or f.get("colleague")) for f in consent),
            )
        )
    widgets = [c.decorated_text(line, icon="BOOKMARK") for line in lines if line]
    if not widgets:
        widgets.append(
            c.text(
                ui.t(
                    "Your goals, how you are doing, feedback from colleagues and your reflection, "
                    "kept with your conversations."
                )
                if employee
                else ui.t(
                    "%(employee)s's goals, how they are doing, feedback from colleagues and "
                    "their reflection, as far as %(employee)s shares them.",
                    employee=_names(ctx).get("employee", ""),
                )
            )
        )
    labels = (
        ("goals", ui.t("Goals")),
        ("checkin", ui.t("Check-in")),
        ("feedback", ui.t("Feedback")),
        ("reflection", ui.t("Reflection & overview")),
        ("timeout", ui.t("Time-out & guests")),
    )
    widgets.append(c.button_list([c.button(label, _open(ui, ctx, p)) for p, label in labels]))
    return c.section(ui.t("Journal"), widgets)


def _titles(goals: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"“{_short(str(g.get('title', '')), 60)}”" for g in goals[:3]) + (
        " …" if len(goals) > 3 else ""
    )


def _short(text: str, most: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


# -- the cards -----------------------------------------------------------------------------------


def part_card(
    ui: Ui,
    ctx: Mapping[str, Any],
    part: str,
    *,
    draft: Form = NO_FORM,
    unsaved: Ops | None = None,
) -> Json | None:
    """The journal's card `part` for `ctx`, or None when `part` is none of `PARTS` or the
    context has no journal.

    After a refused save `draft` keeps what the person typed and `unsaved` lists the changes,
    with a button to apply them again on the current version.
    """
    if journal_of(ctx) is None or part not in _BUILDERS:
        return None
    card = _BUILDERS[part](ui, ctx, draft)
    if unsaved:
        card = {**card, "sections": [unsaved_section(ui, ctx, unsaved, part), *card["sections"]]}
    return card


def goals_card(ui: Ui, ctx: Mapping[str, Any], draft: Form = NO_FORM) -> Json:
    """The goals: kind and horizon, title, where each stands, its last progress and its steps."""
    journal = journal_of(ctx) or {}
    employee = _role(ctx) == "employee"
    intro = (
        ui.t(
            "Your goals: you write them and propose them to %(manager)s. A goal counts once you "
            "have both accepted it; then either of you notes progress.",
            manager=_names(ctx).get("manager", ""),
        )
        if employee
        else ui.t(
            "%(employee)s's goals. A goal counts once you have both accepted it; then either of "
            "you notes progress. %(employee)s's drafts are not shown to you.",
            employee=_names(ctx).get("employee", ""),
        )
    )
    sections = [c.section(None, [c.text(intro)])]
    goals = list(journal.get("goals") or [])
    for goal in goals:
        sections.append(c.section(None, _goal_widgets(ui, ctx, goal, draft)))
    if not goals:
        sections.append(c.section(None, [c.text(ui.t("No goals yet."))]))
    if any(_may(g, "decline") for g in goals):
        sections.append(
            c.section(
                None,
                [
                    c.text_input(
                        "decline_reason",
                        ui.t("Why not? (sent with Decline)"),
                        value=draft.one("decline_reason") or None,
                        multiline=True,
                    )
                ],
            )
        )
    if _may(journal, "goal.add"):
        add = c.button(ui.t("Add a goal"), _open(ui, ctx, "goal_new"), style="FILLED")
        sections.append(c.section(None, [c.button_list([add])]))
    return _card(ui, ctx, ui.t("Goals"), sections, "goals")


def _goal_widgets(
    ui: Ui, ctx: Mapping[str, Any], goal: Mapping[str, Any], draft: Form
) -> list[Json]:
    goal_id = str(goal["id"])
    top = ui.tr(GOAL_KINDS.get(str(goal.get("kind")), GOAL_KINDS["development"]))
    if goal.get("horizon"):
        top += " · " + ui.t("by %(day)s", day=_day(ui, str(goal["horizon"])))
    widgets = [
        c.decorated_text(
            str(goal.get("title", "")),
            top_label=top,
            bottom_label=_goal_state(ui, ctx, goal),
            icon="STAR",
        )
    ]
    if goal.get("why"):
        widgets.append(c.decorated_text(str(goal["why"]), top_label=ui.t("Why")))
    notes = list(goal.get("progress") or [])[-MAX_PROGRESS_SHOWN:]
    widgets += [_progress_widget(ui, ctx, note) for note in reversed(notes)]
    if _may(goal, "progress"):
        name = f"progress_{goal_id}"
        widgets.append(
            c.text_input(
                name,
                ui.t("Progress"),
                value=draft.one(name) or None,
                hint=ui.t("What went well, what is next"),
                multiline=True,
            )
        )
    buttons = _goal_buttons(ui, ctx, goal)
    if buttons:
        widgets.append(c.button_list(buttons))
    return widgets


def _goal_state(ui: Ui, ctx: Mapping[str, Any], goal: Mapping[str, Any]) -> str:
    state = goal.get("state")
    if state == "draft":
        return ui.t("Draft: only you see it")
    if state == "proposed":
        waiting = [_who(ui, ctx, r) for r in goal.get("waiting_for") or []]
        return ui.t("Proposed, waiting for %(names)s", names=_join(ui, waiting))
    status = goal.get("status")
    if status == "achieved":
        return ui.t("Agreed by both · achieved")
    if status == "dropped":
        return ui.t("Agreed by both · dropped")
    return ui.t("Agreed by both")


def _progress_widget(ui: Ui, ctx: Mapping[str, Any], note: Mapping[str, Any]) -> Json:
    label = ui.t(
        "Progress noted by %(who)s on %(day)s",
        who=_who(ui, ctx, str(note.get("role", ""))),
        day=_day(ui, str(note.get("at", ""))),
    )
    return c.decorated_text(str(note.get("note", "")), top_label=label)


def _goal_buttons(ui: Ui, ctx: Mapping[str, Any], goal: Mapping[str, Any]) -> list[Json]:
    goal_id = str(goal["id"])

    def step(label: str, *ops: Mapping[str, Any], **extra: str) -> Json:
        return c.button(label, _change(ui, ctx, "goals", [dict(op) for op in ops], **extra))

    buttons: list[Json] = []
    if _may(goal, "propose"):
        buttons.append(step(ui.t("Propose"), {"op": "goal.propose", "goal": goal_id}))
    if _may(goal, "accept"):
        buttons.append(step(ui.t("Accept"), {"op": "goal.accept", "goal": goal_id}))
    if _may(goal, "decline"):
        buttons.append(step(ui.t("Decline"), {"op": "goal.decline", "goal": goal_id}))
    if _may(goal, "progress"):
        # The note typed above goes with it (the form names the goal).
        buttons.append(step(ui.t("Note progress"), form="goals", goal=goal_id))
    if _may(goal, "status") and goal.get("status") == "open":
        buttons.append(
            step(ui.t("Achieved"), {"op": "goal.status", "goal": goal_id, "status": "achieved"})
        )
        buttons.append(
            step(ui.t("Dropped"), {"op": "goal.status", "goal": goal_id, "status": "dropped"})
        )
    elif _may(goal, "status"):
        buttons.append(
            step(ui.t("Open again"), {"op": "goal.status", "goal": goal_id, "status": "open"})
        )
    if _may(goal, "remove"):
        remove = {"op": "goal.remove", "goal": goal_id}
        buttons.append(
            c.button(ui.t("Remove"), _change(ui, ctx, "goals", [remove]), style="BORDERLESS")
        )
    return buttons


def goal_new_card(ui: Ui, ctx: Mapping[str, Any], draft: Form = NO_FORM) -> Json:
    """The employee's form for a new goal: kind, title, why and horizon; saved as a draft."""
    kinds = [(key, ui.tr(label)) for key, label in GOAL_KINDS.items()]
    kind = draft.one("goal_kind", "development")
    horizon = draft.one("goal_horizon")
    widgets = [
        c.selection_input(
            "goal_kind",
            ui.t("Kind of goal"),
            kinds,
            selected=[kind if kind in GOAL_KINDS else "development"],
            kind="RADIO_BUTTON",
        ),
        c.text_input(
            "goal_title",
            ui.t("Goal"),
            value=draft.one("goal_title") or None,
            hint=ui.t("What you want to learn or achieve"),
        ),
        c.text_input(
            "goal_why",
            ui.t("Why (optional)"),
            value=draft.one("goal_why") or None,
            multiline=True,
        ),
        c.date_time_picker(
            "goal_horizon",
            ui.t("Horizon (optional)"),
            kind="DATE_ONLY",
            value=_date_or_none(horizon),
        ),
        c.text(
            ui.t(
                "The goal is saved as your draft: only you see it until you propose it to "
                "%(manager)s.",
                manager=_names(ctx).get("manager", ""),
            )
        ),
        confirm_or_cancel(
            ui,
            ui.t("Save the goal"),
            _change(ui, ctx, "goal_new", form="goal_new", then="goals"),
        ),
    ]
    return _card(ui, ctx, ui.t("New goal"), [c.section(None, widgets)], "goal_new")


def checkin_card(ui: Ui, ctx: Mapping[str, Any], draft: Form = NO_FORM) -> Json:
    """Energy and work happiness: the employee's check-in, and the trend both partners see."""
    journal = journal_of(ctx) or {}
    names = _names(ctx)
    sections: list[Json] = []
    if _may(journal, "checkin"):
        current = journal.get("checkin") or {}
        options = [(str(n), f"{n} · {ui.tr(SCALE[n])}") for n in SCALE]

        def scale(name: str, label: str, key: str) -> Json:
            chosen = draft.one(name, str(current.get(key) or ""))
            return c.selection_input(
                name,
                label,
                options,
                selected=[chosen] if chosen in {v for v, _label in options} else [],
                kind="RADIO_BUTTON",
            )

        intro = ui.t(
            "How are you now? One tap each, from 1 (very low) to 5 (very high). Only you and "
            "%(manager)s see it.",
            manager=names.get("manager", ""),
        )
        if journal.get("checkin_between"):
            intro += " " + ui.t(
                "This conversation is over: a check-in now counts between conversations."
            )
        elif current:
            intro += " " + ui.t(
                "You checked in for this conversation on %(day)s: a new check-in replaces it.",
                day=_day(ui, str(current.get("at", ""))),
            )
        sections.append(
            c.section(
                ui.t("Your check-in"),
                [
                    c.text(intro),
                    scale("energy", ui.t("Energy"), "energy"),
                    scale("happiness", ui.t("Work happiness"), "happiness"),
                    c.button_list(
                        [
                            c.button(
                                ui.t("Save my check-in"),
                                _change(ui, ctx, "checkin", form="checkin"),
                                style="FILLED",
                            )
                        ]
                    ),
                ],
            )
        )
    else:
        sections.append(
            c.section(
                None,
                [
                    c.text(
                        ui.t(
                            "%(employee)s checks in on energy and work happiness, from 1 (very "
                            "low) to 5 (very high). Only the two of you see the trend.",
                            employee=names.get("employee", ""),
                        )
                    )
                ],
            )
        )
    sections.append(c.section(ui.t("Trend"), trend_widgets(ui, journal.get("trend") or [])))
    return _card(ui, ctx, ui.t("Energy and work happiness"), sections, "checkin")


def trend_widgets(ui: Ui, trend: Sequence[Mapping[str, Any]]) -> list[Json]:
    """Energy and work happiness over the check-ins: the numbers, a sparkline and the dates.

    A card cannot draw a chart, so each scale is a line of numbers with one block per point.
    """
    if not trend:
        return [c.text(ui.t("No check-ins yet."))]
    days = _days(ui, [str(point.get("at", "")) for point in trend])
    widgets = []
    for key, label in (("energy", ui.t("Energy")), ("happiness", ui.t("Work happiness"))):
        values = [int(point.get(key) or 0) for point in trend]
        widgets.append(
            c.decorated_text(
                f"{sparkline(values)}   {' → '.join(str(v) for v in values)}",
                top_label=label,
                bottom_label=" · ".join(days),
            )
        )
    return widgets


def sparkline(values: Sequence[int]) -> str:
    """One block a point of the 1-5 scale (a value off the scale shows as a space)."""
    return "".join(SPARKS[v - 1] if 1 <= v <= len(SPARKS) else " " for v in values)


def _days(ui: Ui, instants: Sequence[str]) -> list[str]:
    """Short days for a row of instants: the year only where it changes."""
    out: list[str] = []
    year = None
    for iso in instants:
        try:
            moment = datetime.fromisoformat(iso)
        except ValueError:
            out.append(iso)
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        day = moment.astimezone(ui.tz).date()
        pattern = "d MMM" if day.year == year else "d MMM y"
        year = day.year
        out.append(format_date(day, pattern, locale=ui.locale))
    return out


def feedback_card(ui: Ui, ctx: Mapping[str, Any], draft: Form = NO_FORM) -> Json:
    """The requests to colleagues, each with its state, link, answers as far as the reader may
    read them, and the steps it allows."""
    journal = journal_of(ctx) or {}
    names = _names(ctx)
    employee = _role(ctx) == "employee"
    intro = (
        ui.t(
            "Ask a colleague a few open questions before the conversation. The answers are "
            "yours: %(manager)s reads them only when you share them.",
            manager=names.get("manager", ""),
        )
        if employee
        else ui.t(
            "You may ask a colleague on %(employee)s's behalf: the request goes out once "
            "%(employee)s agrees. You read an answer when %(employee)s shares it.",
            employee=names.get("employee", ""),
        )
    )
    sections = [c.section(None, [c.text(intro)])]
    requests = list(journal.get("feedback") or [])
    for request in reversed(requests):
        sections.append(c.section(None, _request_widgets(ui, ctx, request)))
    if not requests:
        sections.append(c.section(None, [c.text(ui.t("No requests for feedback yet."))]))
    if _may(journal, "feedback.ask"):
        ask = c.button(ui.t("Ask a colleague"), _open(ui, ctx, "feedback_ask"), style="FILLED")
        sections.append(c.section(None, [c.button_list([ask])]))
    return _card(ui, ctx, ui.t("Feedback from colleagues"), sections, "feedback")


def _request_widgets(ui: Ui, ctx: Mapping[str, Any], request: Mapping[str, Any]) -> list[Json]:
    names = _names(ctx)
    colleague = str(request.get("name") or request.get("colleague") or "")
    asked = ui.t(
        "Asked by %(who)s on %(day)s",
        who=_who(ui, ctx, str(request.get("asked_by", ""))),
        day=_day(ui, str(request.get("asked_at", ""))),
    )
    widgets = [
        c.decorated_text(
            colleague,
            top_label=_request_state(ui, ctx, request),
            bottom_label=asked,
            icon="PERSON",
        )
    ]
    if request.get("link"):
        # In a field, so the long link is selected and copied whole (a card has no clipboard).
        widgets.append(
            c.text_input(
                f"link_{request['id']}",
                ui.t(
                    "The link for %(name)s, to pass on if the mail does not arrive", name=colleague
                ),
                value=str(request["link"]),
            )
        )
    questions = [str(q) for q in request.get("questions") or []]
    answers = [str(a) for a in request.get("answers") or []]
    if answers:
        for question, answer in zip(questions, answers, strict=False):
            widgets.append(c.decorated_text(answer or ui.t("(not answered)"), top_label=question))
    else:
        if request.get("state") == "answered":
            widgets.append(
                c.text(
                    ui.t(
                        "%(employee)s has not shared the answer with you.",
                        employee=names.get("employee", ""),
                    )
                )
            )
        widgets.append(
            c.decorated_text("\n".join(f"• {q}" for q in questions), top_label=ui.t("Questions"))
        )
    buttons = _request_buttons(ui, ctx, request)
    if buttons:
        widgets.append(c.button_list(buttons))
    return widgets


def _request_state(ui: Ui, ctx: Mapping[str, Any], request: Mapping[str, Any]) -> str:
    state = request.get("state")
    employee = _names(ctx).get("employee", "")
    if state == "consent":
        if _role(ctx) == "employee":
            return ui.t("Waiting for your consent")
        return ui.t("Waiting for %(name)s to agree", name=employee)
    if state == "open":
        return ui.t("Open until %(day)s", day=_day(ui, str(request.get("expires", ""))))
    if state == "withdrawn":
        return ui.t("Withdrawn")
    text = ui.t("Answered on %(day)s", day=_day(ui, str(request.get("answered_at") or "")))
    if request.get("shared"):
        text += " · " + ui.t("shared with %(name)s", name=_names(ctx).get("manager", ""))
    if request.get("discussed"):
        text += " · " + ui.t("discussed")
    return text


def _request_buttons(ui: Ui, ctx: Mapping[str, Any], request: Mapping[str, Any]) -> list[Json]:
    request_id = str(request["id"])
    manager = _names(ctx).get("manager", "")

    def step(label: str, op: Mapping[str, Any], style: c.ButtonStyle | None = None) -> Json:
        return c.button(label, _change(ui, ctx, "feedback", [dict(op)]), style=style)

    buttons: list[Json] = []
    if _may(request, "consent"):
        buttons.append(
            step(ui.t("Agree: send it"), {"op": "feedback.consent", "request": request_id})
        )
    if _may(request, "share"):
        shared = bool(request.get("shared"))
        label = ui.t("Stop sharing") if shared else ui.t("Share with %(name)s", name=manager)
        op = {"op": "feedback.share", "request": request_id, "shared": not shared}
        buttons.append(step(label, op))
    if _may(request, "discussed"):
        buttons.append(
            step(ui.t("Mark as discussed"), {"op": "feedback.discussed", "request": request_id})
        )
    if _may(request, "renew"):
        # The old link opens nothing any more; the colleague is mailed the new one.
        buttons.append(step(ui.t("New link"), {"op": "feedback.renew", "request": request_id}))
    if _may(request, "withdraw"):
        op = {"op": "feedback.withdraw", "request": request_id}
        buttons.append(step(ui.t("Withdraw"), op, "BORDERLESS"))
    return buttons


def feedback_ask_card(ui: Ui, ctx: Mapping[str, Any], draft: Form = NO_FORM) -> Json:
    """Ask a colleague: address, name and up to six questions of the bank."""
    journal = journal_of(ctx) or {}
    names = _names(ctx)
    bank = [q for q in journal.get("questions") or [] if q.get("key")]
    options = [(str(q["key"]), str(q.get("text", ""))) for q in bank]
    keys = {key for key, _text in options}
    chosen = [k for k in draft.many("feedback_questions") if k in keys]
    widgets: list[Json] = [
        c.text_input(
            "feedback_email",
            ui.t("Colleague's email address"),
            value=draft.one("feedback_email") or None,
        ),
        c.text_input(
            "feedback_name", ui.t("Colleague's name"), value=draft.one("feedback_name") or None
        ),
    ]
    if options:
        widgets.append(
            c.selection_input(
                "feedback_questions",
                ui.t("Questions (at most %(most)s)", most=MAX_QUESTIONS),
                options,
                selected=chosen,
                kind="CHECK_BOX",
            )
        )
    note = (
        ui.t(
            "The colleague gets a mail from you with a link, valid for %(days)s days, and "
            "answers without an account. You choose whether %(manager)s reads the answer.",
            manager=names.get("manager", ""),
            days=FEEDBACK_DAYS,
        )
        if _role(ctx) == "employee"
        else ui.t(
            "The request goes out once %(employee)s agrees; %(employee)s chooses whether you "
            "read the answer.",
            employee=names.get("employee", ""),
        )
    )
    widgets += [
        c.text(note),
        confirm_or_cancel(
            ui,
            ui.t("Ask for feedback"),
            _change(ui, ctx, "feedback_ask", form="feedback_ask", then="feedback"),
        ),
    ]
    return _card(ui, ctx, ui.t("Ask a colleague"), [c.section(None, widgets)], "feedback_ask")


def reflection_card(ui: Ui, ctx: Mapping[str, Any], draft: Form = NO_FORM) -> Json:
    """The employee's reflection (written, and shared or not) and the way to the overview."""
    journal = journal_of(ctx) or {}
    names = _names(ctx)
    reflection = journal.get("reflection") or {}
    sections: list[Json] = []
    if _may(journal, "reflection.write"):
        prompts = [str(p) for p in journal.get("reflection_prompts") or []]
        guide = [c.text(ui.t("Questions to think about") + "\n• " + "\n• ".join(prompts))]
        shared = bool(reflection.get("shared"))
        if reflection:
            state = (
                ui.t("Shared with %(name)s", name=names.get("manager", ""))
                if shared
                else ui.t("Only you see it")
            )
            state += " · " + ui.t("written on %(day)s", day=_day(ui, str(reflection.get("at"))))
        else:
            state = ui.t("Not written yet. Only you see it until you share it.")
        text = draft.one("reflection_text", str(reflection.get("text") or ""))
        had = "1" if reflection else ""
        share_label = (
            ui.t("Stop sharing") if shared else ui.t("Share with %(name)s", name=names["manager"])
        )
        share = {"op": "reflection.share", "shared": not shared}
        sections.append(
            c.section(
                ui.t("Your reflection"),
                [
                    *(guide if prompts else []),
                    c.text_input(
                        "reflection_text", ui.t("Reflection"), value=text or None, multiline=True
                    ),
                    c.decorated_text(state, icon="DESCRIPTION"),
                    c.button_list(
                        [
                            c.button(
                                ui.t("Save"),
                                _change(ui, ctx, "reflection", form="reflection", had=had),
                                style="FILLED",
                            ),
                            c.button(
                                share_label,
                                _change(ui, ctx, "reflection", [share], form="reflection", had=had),
                            ),
                        ]
                    ),
                ],
            )
        )
    elif reflection:
        label = ui.t(
            "%(employee)s's reflection, %(day)s",
            employee=names.get("employee", ""),
            day=_day(ui, str(reflection.get("at", ""))),
        )
        sections.append(
            c.section(
                ui.t("Reflection"),
                [c.decorated_text(str(reflection.get("text") or ""), top_label=label)],
            )
        )
    else:
        sections.append(
            c.section(
                ui.t("Reflection"),
                [
                    c.text(
                        ui.t(
                            "%(employee)s has not shared a reflection for this conversation.",
                            employee=names.get("employee", ""),
                        )
                    )
                ],
            )
        )
    sections.append(
        c.section(
            ui.t("Overview"),
            [
                c.text(
                    ui.t(
                        "Goals and progress, open actions, the agreements of the past year, "
                        "answered feedback and the check-ins, on one card."
                    )
                ),
                c.button_list([c.button(ui.t("Open the overview"), _open(ui, ctx, "overview"))]),
            ],
        )
    )
    return _card(ui, ctx, ui.t("Reflection"), sections, "reflection")


def timeout_card(ui: Ui, ctx: Mapping[str, Any], draft: Form = NO_FORM) -> Json:
    """A time-out or another conversation partner (asked and closed by either partner), and the
    guests the employee brings to this conversation."""
    journal = journal_of(ctx) or {}
    may_ask = _may(journal, "timeout.ask")
    widgets: list[Json] = [
        c.text(
            ui.t(
                "Either of you may ask for a time-out, or for another conversation partner. The "
                "reason is only for the two of you: HR is told only that a request exists, "
                "never why."
            )
        )
    ]
    for asked in reversed(list(journal.get("timeouts") or [])):
        widgets.append(_timeout_widget(ui, ctx, asked, "close" in (asked.get("can") or [])))
    if may_ask:
        # Offered first: a kind not asked for already (an open one is refused twice).
        asked = {str(t.get("kind")) for t in journal.get("timeouts") or [] if t.get("open")}
        free = [k for k in TIMEOUT_KINDS if k not in asked] or ["time_out"]
        kind = draft.one("timeout_kind", free[0])
        widgets += [
            c.selection_input(
                "timeout_kind",
                ui.t("What you ask for"),
                [(key, ui.tr(label)) for key, label in TIMEOUT_KINDS.items()],
                selected=[kind if kind in TIMEOUT_KINDS else "time_out"],
                kind="RADIO_BUTTON",
            ),
            c.text_input(
                "timeout_reason",
                ui.t("Why (only the two of you read it)"),
                value=draft.one("timeout_reason") or None,
                multiline=True,
            ),
            c.button_list([c.button(ui.t("Ask"), _change(ui, ctx, "timeout", form="timeout"))]),
        ]
    sections = [c.section(ui.t("Time-out or another conversation partner"), widgets)]
    sections.append(c.section(ui.t("Guests at this conversation"), _guest_widgets(ui, ctx, draft)))
    return _card(ui, ctx, ui.t("Time-out & guests"), sections, "timeout")


def _timeout_widget(
    ui: Ui, ctx: Mapping[str, Any], asked: Mapping[str, Any], may_close: bool
) -> Json:
    label = ui.t(
        "Asked by %(who)s on %(day)s",
        who=_who(ui, ctx, str(asked.get("role", ""))),
        day=_day(ui, str(asked.get("at", ""))),
    )
    is_open = bool(asked.get("open"))
    kind = ui.tr(TIMEOUT_KINDS.get(str(asked.get("kind")), TIMEOUT_KINDS["time_out"]))
    reason = str(asked.get("reason") or "")
    state = ui.t("Open") if is_open else ui.t("Closed")
    close = None
    if is_open and may_close:
        op = {"op": "timeout.close", "timeout": str(asked["id"])}
        close = c.button(ui.t("Close"), _change(ui, ctx, "timeout", [op]))
    return c.decorated_text(
        f"{kind} · {state}",
        top_label=label,
        bottom_label=_short(reason) or None,
        icon="CLOCK",
        button=close,
    )


def _guest_widgets(ui: Ui, ctx: Mapping[str, Any], draft: Form) -> list[Json]:
    journal = journal_of(ctx) or {}
    names = _names(ctx)
    may = _may(journal, "guest.invite")
    widgets: list[Json] = []
    if may:
        widgets.append(
            c.text(
                ui.t(
                    "Bring someone to this conversation: a colleague, HR or a confidant. They "
                    "are invited to this conversation only."
                )
            )
        )
    for guest in journal.get("guests") or []:
        email = str(guest.get("email", ""))
        reads = bool(guest.get("record"))
        widgets.append(
            c.decorated_text(
                str(guest.get("name") or email),
                top_label=email,
                bottom_label=ui.t("May read the record of this conversation")
                if reads
                else ui.t("Does not read the record"),
                icon="PERSON",
            )
        )
        allowed = set(guest.get("can") or [])
        buttons: list[Json] = []
        if "record" in allowed:
            toggle = {"op": "guest.record", "email": email, "record": not reads}
            label = ui.t("Withhold the record") if reads else ui.t("Allow the record")
            buttons.append(c.button(label, _change(ui, ctx, "timeout", [toggle])))
        if "send_record" in allowed and (ctx.get("record") or None) is not None:
            send = {"op": "guest.send_record", "email": email}
            buttons.append(c.button(ui.t("Send the record"), _change(ui, ctx, "timeout", [send])))
        if "remove" in allowed:
            remove = {"op": "guest.remove", "email": email}
            buttons.append(
                c.button(ui.t("Remove"), _change(ui, ctx, "timeout", [remove]), style="BORDERLESS")
            )
        if buttons:
            widgets.append(c.button_list(buttons))
    if not may:
        if not widgets:
            widgets.append(
                c.text(
                    ui.t(
                        "%(employee)s may bring someone to this conversation: a colleague, HR "
                        "or a confidant. Nobody is invited.",
                        employee=names.get("employee", ""),
                    )
                )
            )
        return widgets
    widgets += [
        c.text_input(
            "guest_email", ui.t("Guest's email address"), value=draft.one("guest_email") or None
        ),
        c.text_input("guest_name", ui.t("Guest's name"), value=draft.one("guest_name") or None),
        c.selection_input(
            "guest_record",
            ui.t("The record"),
            [("yes", ui.t("May read the record of this conversation"))],
            selected=["yes"] if "yes" in draft.many("guest_record") else [],
            kind="SWITCH",
        ),
        c.button_list([c.button(ui.t("Invite"), _change(ui, ctx, "timeout", form="guest"))]),
    ]
    return widgets


def overview_card(ui: Ui, ctx: Mapping[str, Any], overview: Mapping[str, Any]) -> Json:
    """Everything to look back on before the conversation: goals and their progress, the open
    actions, the agreements of the past year, answered feedback the reader may read, the trend.

    `overview` is `Journals.overview`'s answer for this conversation, as the reader sees it.
    """
    names = _names(ctx)
    sections: list[Json] = []
    goals = []
    for goal in overview.get("goals") or []:
        top = ui.tr(GOAL_KINDS.get(str(goal.get("kind")), GOAL_KINDS["development"]))
        if goal.get("horizon"):
            top += " · " + ui.t("by %(day)s", day=_day(ui, str(goal["horizon"])))
        goals.append(
            c.decorated_text(
                str(goal.get("title", "")),
                top_label=top,
                bottom_label=_goal_state(ui, ctx, goal),
                icon="STAR",
            )
        )
        goals += [_progress_widget(ui, ctx, note) for note in reversed(goal.get("progress") or [])]
    sections.append(c.section(ui.t("Goals"), goals or [c.text(ui.t("No goals yet."))]))
    actions = [
        c.decorated_text(
            str(a.get("description", "")),
            top_label=(
                ui.t(
                    "%(owner)s, before %(day)s",
                    owner=names.get(str(a.get("owner")), ""),
                    day=ui.day(str(a["due"])),
                )
                if a.get("due")
                else names.get(str(a.get("owner")), "")
            ),
        )
        for a in overview.get("open_actions") or []
    ]
    sections.append(c.section(ui.t("Open actions"), actions or [c.text(ui.t("No open actions."))]))
    agreements = [
        c.decorated_text(str(a.get("text", "")), top_label=_day(ui, str(a.get("occurrence", ""))))
        for a in reversed(overview.get("agreements") or [])
    ]
    sections.append(
        c.section(
            ui.t("Agreements of the past year"),
            agreements or [c.text(ui.t("No agreements in the past year."))],
            collapsible=len(agreements) > 3,
            uncollapsible_widgets=3 if len(agreements) > 3 else None,
        )
    )
    feedback: list[Json] = []
    for request in overview.get("feedback") or []:
        colleague = str(request.get("name") or request.get("colleague") or "")
        feedback.append(
            c.decorated_text(colleague, top_label=_request_state(ui, ctx, request), icon="PERSON")
        )
        answers = [str(a) for a in request.get("answers") or []]
        if not answers:
            feedback.append(
                c.text(
                    ui.t(
                        "%(employee)s has not shared the answer with you.",
                        employee=names.get("employee", ""),
                    )
                )
            )
        for question, answer in zip(request.get("questions") or [], answers, strict=False):
            feedback.append(
                c.decorated_text(answer or ui.t("(not answered)"), top_label=str(question))
            )
    sections.append(
        c.section(
            ui.t("Feedback from colleagues"),
            feedback or [c.text(ui.t("No answered feedback yet."))],
        )
    )
    sections.append(
        c.section(ui.t("Energy and work happiness"), trend_widgets(ui, overview.get("trend") or []))
    )
    return _card(ui, ctx, ui.t("Overview"), sections, "overview")


# -- conflicts -----------------------------------------------------------------------------------


def unsaved_section(ui: Ui, ctx: Mapping[str, Any], ops: Ops, part: str) -> Json:
    """The journal changes a refused save held, in words, with a button to apply them again."""
    widgets: list[Json] = [
        c.text(
            ui.t(
                "%(partner)s saved first. Their version is below; these changes of yours were "
                "not saved yet:",
                partner=_other(ctx),
            )
        )
    ]
    widgets += [c.decorated_text(describe_op(ui, ctx, op), icon="DESCRIPTION") for op in ops[:20]]
    # A form pushed over its list goes back to the list once applied.
    then = {"goal_new": "goals", "feedback_ask": "feedback"}.get(part, part)
    again = _change(ui, ctx, part, ops, then=then)
    widgets.append(c.button_list([c.button(ui.t("Apply mine again"), again)]))
    return c.section(ui.t("Changed meanwhile"), widgets)


def describe_op(ui: Ui, ctx: Mapping[str, Any], op: Mapping[str, Any]) -> str:
    """One journal change in words, for the list of changes that were not saved."""
    journal = journal_of(ctx) or {}
    goals = {str(g.get("id")): str(g.get("title", "")) for g in journal.get("goals") or []}
    requests = {
        str(f.get("id")): str(f.get("name") or f.get("colleague") or "")
        for f in journal.get("feedback") or []
    }
    name = str(op.get("op", ""))
    goal = goals.get(str(op.get("goal", "")), str(op.get("goal", "")))
    request = requests.get(str(op.get("request", "")), str(op.get("request", "")))
    words: dict[str, Callable[[], str]] = {
        "goal.add": lambda: ui.t("New goal: %(title)s", title=_short(str(op.get("title", "")))),
        "goal.propose": lambda: ui.t("Propose the goal: %(title)s", title=goal),
        "goal.accept": lambda: ui.t("Accept the goal: %(title)s", title=goal),
        "goal.decline": lambda: ui.t("Decline the goal: %(title)s", title=goal),
        "goal.remove": lambda: ui.t("Remove the goal: %(title)s", title=goal),
        "goal.status": lambda: ui.t(
            "Goal %(title)s: %(status)s", title=goal, status=_status(ui, op)
        ),
        "goal.progress": lambda: ui.t(
            "Progress on %(title)s: %(note)s", title=goal, note=_short(str(op.get("note", "")))
        ),
        "checkin": lambda: ui.t(
            "Check-in: energy %(energy)s, work happiness %(happiness)s",
            energy=op.get("energy", ""),
            happiness=op.get("happiness", ""),
        ),
        "feedback.ask": lambda: ui.t(
            "Ask %(name)s for feedback", name=str(op.get("name") or op.get("email") or "")
        ),
        "feedback.consent": lambda: ui.t("Let the request to %(name)s go out", name=request),
        "feedback.withdraw": lambda: ui.t("Withdraw the request to %(name)s", name=request),
        "feedback.renew": lambda: ui.t("A new link for %(name)s", name=request),
        "feedback.share": lambda: (
            ui.t("Share the answer of %(name)s", name=request)
            if op.get("shared")
            else ui.t("Stop sharing the answer of %(name)s", name=request)
        ),
        "feedback.discussed": lambda: ui.t("The answer of %(name)s is discussed", name=request),
        "reflection.write": lambda: ui.t(
            "Your reflection: %(text)s", text=_short(str(op.get("text", "")))
        ),
        "reflection.share": lambda: (
            ui.t("Share the reflection")
            if op.get("shared")
            else ui.t("Stop sharing the reflection")
        ),
        "timeout.ask": lambda: ui.tr(
            TIMEOUT_KINDS.get(str(op.get("kind")), TIMEOUT_KINDS["time_out"])
        ),
        "timeout.close": lambda: ui.t("Close the request"),
        "guest.invite": lambda: ui.t(
            "Invite %(name)s", name=str(op.get("name") or op.get("email") or "")
        ),
        "guest.record": lambda: ui.t("What %(name)s may read", name=str(op.get("email", ""))),
        "guest.remove": lambda: ui.t("Remove %(name)s as a guest", name=str(op.get("email", ""))),
    }
    found = words.get(name)
    return found() if found else ui.t("Change %(op)s", op=name)


def _status(ui: Ui, op: Mapping[str, Any]) -> str:
    labels = {"open": ui.t("Open"), "achieved": ui.t("achieved"), "dropped": ui.t("dropped")}
    status = str(op.get("status", ""))
    return labels.get(status, status)


# -- form to ops ---------------------------------------------------------------------------------


def form_ops(form: Form, parameters: Mapping[str, str]) -> Ops:
    """The journal changes a card's form holds, for the form named in the ``form`` parameter.

    Only the button that belongs to a form sends it (its ``form`` parameter): a step on one goal
    or request never saves a half-typed new one.
    """
    kind = parameters.get("form")
    if kind == "goal_new":
        title = form.one("goal_title").strip()
        if not title:
            return []
        horizon = form.one("goal_horizon")[:10]
        return [
            {
                "op": "goal.add",
                "kind": form.one("goal_kind", "development"),
                "title": title,
                "why": form.one("goal_why").strip(),
                "horizon": horizon or None,
            }
        ]
    if kind == "goals":
        goal = parameters.get("goal", "")
        note = form.one(f"progress_{goal}").strip()
        return [{"op": "goal.progress", "goal": goal, "note": note}] if goal and note else []
    if kind == "checkin":
        energy, happiness = form.one("energy"), form.one("happiness")
        if not (energy and happiness):
            return []
        return [{"op": "checkin", "energy": _whole(energy), "happiness": _whole(happiness)}]
    if kind == "feedback_ask":
        email = form.one("feedback_email").strip()
        if not email:
            return []
        return [
            {
                "op": "feedback.ask",
                "email": email,
                "name": form.one("feedback_name").strip(),
                "questions": list(form.many("feedback_questions")),
            }
        ]
    if kind == "reflection":
        text = form.one("reflection_text").strip()
        if text or parameters.get("had"):
            return [{"op": "reflection.write", "text": text}]
        return []
    if kind == "timeout":
        return [
            {
                "op": "timeout.ask",
                "kind": form.one("timeout_kind", "time_out"),
                "reason": form.one("timeout_reason").strip(),
            }
        ]
    if kind == "guest":
        email = form.one("guest_email").strip()
        if not email:
            return []
        return [
            {
                "op": "guest.invite",
                "email": email,
                "name": form.one("guest_name").strip(),
                "record": "yes" in form.many("guest_record"),
            }
        ]
    return []


def with_reasons(form: Form, ops: Ops) -> Ops:
    """The ops, each declined goal given the reason typed on the card (the employee reads it)."""
    reason = form.one("decline_reason").strip()
    if not reason:
        return ops
    return [
        {**op, "reason": reason} if op.get("op") == "goal.decline" and "reason" not in op else op
        for op in ops
    ]


_NOTHING: Final = {
    "goal_new": _("Write the goal first."),
    "goals": _("Write a note on the progress first."),
    "checkin": _("Choose your energy and your work happiness first."),
    "feedback_ask": _("Write your colleague's email address first."),
    "reflection": _("Write your reflection first."),
    "guest": _("Write your guest's email address first."),
}
_SAVED: Final = {
    "goal_new": _("The goal is saved as your draft: propose it when it is ready."),
    "checkin": _("Your check-in is saved."),
    "feedback_ask": _("The request for feedback is saved."),
    "reflection": _("Your reflection is saved."),
    "timeout": _("The request is saved. HR is told only that it exists."),
    "guest": _("The guest is invited to this conversation."),
}


def nothing_typed(ui: Ui, kind: str) -> str:
    """What to fill in before a form's button can save anything."""
    return ui.tr(_NOTHING.get(kind, _("Nothing to save yet.")))


def saved(ui: Ui, kind: str) -> str:
    """The notification after a save of the form `kind` (or of a step: "Saved.")."""
    return ui.tr(_SAVED.get(kind, _("Saved.")))


def _join(ui: Ui, names: Sequence[str]) -> str:
    names = [n for n in names if n]
    if len(names) < 2:
        return "".join(names)
    return ui.t("%(first)s and %(last)s", first=", ".join(names[:-1]), last=names[-1])


_BUILDERS: Final[Mapping[str, Callable[[Ui, Mapping[str, Any], Form], Json]]] = {
    "goals": goals_card,
    "goal_new": goal_new_card,
    "checkin": checkin_card,
    "feedback": feedback_card,
    "feedback_ask": feedback_ask_card,
    "reflection": reflection_card,
    "timeout": timeout_card,
}
