"""The JSON shapes the API answers (see `/api/openapi.json`) and the whose-turn sentence."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from addin.conversations.document import Doc
from addin.conversations.errors import _
from addin.conversations.people import Caller
from addin.splice import MARKER_END, MARKER_START
from cadence.conversation import Action, Agenda, Agreement, Record, carry_over
from cadence.model import Pair, Role, Series
from cadence.planning import Proposal
from cadence.rules import allowed, series_allowed, turn
from cadence.zones import zone
from connectors.models import Event
from templates.render import agenda_html, agenda_text


def subject(entry: Series, locale: str) -> str:
    from addin.i18n import gettext

    return str(
        gettext(
            locale,
            "api",
            "Good conversation: %(employee)s & %(manager)s",
            employee=entry.pair.employee.name,
            manager=entry.pair.manager.name,
        )
    )


def copy_html(entry: Series, agenda: Agenda, locale: str) -> str:
    return agenda_html(agenda, locale, titles_only=entry.event_copy == "titles", tz=entry.pair.tz)


def copy_out(entry: Series, agenda: Agenda, locale: str) -> dict[str, Any]:
    titles = entry.event_copy == "titles"
    html = copy_html(entry, agenda, locale)
    document = agenda_html(agenda, locale, document=True, titles_only=titles, tz=entry.pair.tz)
    day = agenda.occurrence.astimezone(zone(entry.pair.tz)).date().isoformat()
    return {
        "copy": entry.event_copy,
        "html": html,
        "text": agenda_text(agenda, locale, titles_only=titles, tz=entry.pair.tz),
        "markers": {"start": MARKER_START, "end": MARKER_END},
        "attachment": {
            "name": f"agenda-{day}.html",
            "content_type": "text/html",
            "base64": base64.b64encode(document.encode()).decode("ascii"),
        },
    }


def user_out(caller: Caller, role: Role | None) -> dict[str, Any]:
    return {"email": caller.email, "name": caller.name, "role": role.value if role else None}


def event_out(event: Event) -> dict[str, Any]:
    tz = zone(event.tz) if event.tz else UTC
    return {
        "id": event.id,
        "subject": event.subject,
        "start": event.start.astimezone(tz).isoformat(),
        "end": event.end.astimezone(tz).isoformat(),
        "organizer": event.organizer,
        "attendees": [{"email": a.email, "name": a.name} for a in event.attendees],
    }


def empty_context(caller: Caller, event: Event, state: str) -> dict[str, Any]:
    return {
        "user": user_out(caller, None),
        "event": event_out(event),
        "state": state,
        "series": None,
        "occurrence": None,
        "next_dates": [],
        "partner": None,
        "etag": None,
        "agenda": None,
        "record": None,
        "previous": None,
        "open_actions": [],
        "preparation": {"questions": [], "checklist": []},
    }


def series_out(entry: Series, locale: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "employee": {"email": entry.pair.employee.email, "name": entry.pair.employee.name},
        "manager": {"email": entry.pair.manager.email, "name": entry.pair.manager.name},
        "tz": entry.pair.tz,
        "description": entry.rule.describe(locale),
        "duration": entry.duration,
        "place": entry.place,
        "online": entry.online,
        "event_copy": entry.event_copy,
        "template": entry.template,
    }


def partner_out(entry: Series, role: Role) -> dict[str, str]:
    other = entry.pair.manager if role is Role.EMPLOYEE else entry.pair.employee
    return {"email": other.email, "name": other.name}


def agenda_out(agenda: Agenda) -> dict[str, Any]:
    return {
        "state": agenda.state.value,
        "agreed_by": sorted(r.value for r in agenda.agreed_by),
        "themes": [{"key": t.key, "title": t.title} for t in agenda.themes],
        "items": [
            {
                "id": i.id,
                "theme": i.theme,
                "title": i.title,
                "notes": i.notes,
                "owner": i.owner.value,
                "proposed_by": i.proposed_by.value,
                "carried_from": (
                    {
                        "occurrence": i.carried_from.occurrence.isoformat(),
                        "origin": i.carried_from.origin.value,
                        "id": i.carried_from.ref,
                    }
                    if i.carried_from
                    else None
                ),
            }
            for i in agenda.items
        ],
        "actions": [action_out(a) for a in agenda.actions],
    }


def agreement_out(a: Agreement) -> dict[str, Any]:
    return {
        "id": a.id,
        "text": a.text,
        "item_id": a.item_id,
        "state": a.state.value,
        "accepted_by": sorted(r.value for r in a.accepted_by),
        "waiting_for": [r.value for r in a.waiting_for],
    }


def action_out(a: Action) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "description": a.description,
        "owner": a.owner.value,
        "due": a.due.isoformat() if a.due else None,
        "status": a.status.value,
        "item_id": a.item_id,
    }
    if a.carried_from is not None:
        out["carried_from"] = {
            # In UTC, as stored: a fresh carry-over and a saved one read the same.
            "occurrence": a.carried_from.occurrence.astimezone(UTC).isoformat(),
            "origin": a.carried_from.origin.value,
            "id": a.carried_from.ref,
        }
    return out


def existing_out(entry: Series, locale: str, now: datetime, viewer: str) -> dict[str, Any]:
    """A series `viewer` has already: the partner, and its next conversation (None once ended)."""
    upcoming = entry.rule.next_after(now)
    other = entry.pair.manager if entry.pair.employee.email == viewer else entry.pair.employee
    return {
        "series": series_out(entry, locale),
        "partner": {"email": other.email, "name": other.name},
        "next": upcoming.astimezone(zone(entry.pair.tz)).isoformat() if upcoming else None,
    }


def record_out(record: Record, agenda: Agenda) -> dict[str, Any]:
    return {
        "summaries": [
            {"item_id": s.item_id, "text": s.text, "finished": s.finished} for s in record.summaries
        ],
        "agreements": [agreement_out(a) for a in record.agreements],
        "actions": [action_out(a) for a in record.actions],
        "final": record.is_final and bool(record.agreements),
        "carries": carries_out(agenda, record),
    }


def carries_out(agenda: Agenda, record: Record) -> dict[str, Any]:
    """What the next agenda takes from this conversation, as the domain's carry-over decides."""
    # Any later instant will do: only what is carried is shown, not its date.
    following = carry_over(
        agenda, record, occurrence=agenda.occurrence + timedelta(seconds=1), themes=agenda.themes
    )
    return {
        "items": [
            {"id": i.carried_from.ref if i.carried_from else i.id, "title": i.title}
            for i in following.items
        ],
        "actions": [action_out(a) for a in following.actions],
    }


def proposal_out(proposal: Proposal, pair: Pair, locale: str) -> dict[str, Any]:
    tz = zone(pair.tz)
    clashes: dict[str, list[str]] = {}
    for clash in proposal.clashes:
        clashes.setdefault(clash.when.astimezone(tz).date().isoformat(), []).append(clash.reason)
    return {
        "fits": proposal.fits,
        "sentence": proposal.explanation,
        "description": proposal.rule.describe(locale),
        "occurrences": [o.astimezone(tz).isoformat() for o in proposal.occurrences[:4]],
        "clashes": [{"date": d, "reasons": r} for d, r in clashes.items()],
        "rfc5545": proposal.rule.to_rfc5545(),
        "tz": pair.tz,
        "employee": {"email": pair.employee.email, "name": pair.employee.name},
        "manager": {"email": pair.manager.email, "name": pair.manager.name},
    }


def turn_out(entry: Series, doc: Doc, ended: bool, viewer: Role) -> dict[str, Any]:
    """Whose turn it is (the domain's `turn`) said to `viewer`; the API translates `message_id`.

    `who` lists the roles whose turn it is; `params.names` the other partners among them, so the
    sentence says "you" to the viewer and names only the other one.
    """
    names = {"employee": entry.pair.employee.name, "manager": entry.pair.manager.name}
    now = turn(doc.agenda, doc.record, ended=ended)
    return _t([r.value for r in now.who], now.what, names, viewer)


TURN_MESSAGES = {
    "plan": _("Plan the series of conversations: the employee's wishes come first."),
    "write_agenda": _("%(employee)s writes the agenda and shares it with %(manager)s."),
    "write_agenda_you": _("Write the agenda and share it with %(manager)s."),
    "write_agenda_other": _(
        "%(employee)s is preparing the agenda: you see it once it is shared. Meanwhile you can "
        "propose items."
    ),
    "agree_agenda": _("Waiting for %(names)s to agree to the agenda."),
    "agree_agenda_you": _("Your turn: agree to the agenda."),
    "agree_agenda_you_and": _("Waiting for you and %(names)s to agree to the agenda."),
    "prepare": _(
        "The agenda is agreed. Prepare the conversation: the questions and what is still open "
        "are below."
    ),
    "write_record": _(
        "The conversation has ended: write down the summary, agreements and actions."
    ),
    "accept": _("Waiting for %(names)s to accept the agreements."),
    "accept_you": _("Your turn: accept the agreements, or decline one to talk about it again."),
    "accept_you_and": _("Waiting for you and %(names)s to accept the agreements."),
    "done": _("Everything is agreed. The record is in the employee's own drive."),
    "not_partner": _("This conversation is between an employee and their manager only."),
}


def turn_message(context: Mapping[str, Any], locale: str) -> str:
    """The sentence saying whose turn it is in a context, in `locale` (the ``api`` catalog)."""
    from addin.i18n import gettext

    turn = context.get("turn") or {}
    msgid = TURN_MESSAGES.get(str(turn.get("message_id") or turn.get("what") or ""))
    if msgid is None:
        return ""
    series = context.get("series") or {}
    names = [str(n) for n in (turn.get("params") or {}).get("names", [])]
    and_word = gettext(locale, "api", "and")
    joined = f" {and_word} ".join(names)
    return gettext(
        locale,
        "api",
        msgid,
        names=joined,
        employee=(series.get("employee") or {}).get("name", ""),
        manager=(series.get("manager") or {}).get("name", ""),
    )


def _t(who: Sequence[str], what: str, names: Mapping[str, str], viewer: Role) -> dict[str, Any]:
    message_id = what
    others = [w for w in who if w != viewer.value]
    if what == "write_agenda":
        message_id = "write_agenda_you" if viewer is Role.EMPLOYEE else "write_agenda_other"
    elif what in ("agree_agenda", "accept") and viewer.value in who:
        message_id = f"{what}_you_and" if others else f"{what}_you"
    people = [names[w] for w in others]
    return {"who": list(who), "what": what, "message_id": message_id, "params": {"names": people}}


def add_rules(
    context: dict[str, Any],
    entry: Series,
    agenda: Agenda,
    record: Record | None,
    role: Role,
    *,
    active: bool = True,
) -> None:
    """Put what `role` may do now in `context` (``can`` lists) and hide what they may not see.

    The whole context gets ``can`` for the agenda, the record and the series; every item,
    agreement and action its own ``can``; a declined agreement says who declined it, when and
    why (``declined``). A draft agenda shows the manager only the items they proposed.
    """
    permitted = allowed(agenda, record, role)
    context["can"] = {
        "agenda": list(permitted.agenda),
        "record": list(permitted.record),
        "series": list(series_allowed(role, active=active)),
    }
    shown = context.get("agenda")
    if isinstance(shown, dict):
        shown["items"] = [i for i in shown.get("items") or [] if i["id"] in permitted.items]
        for item in shown["items"]:
            item["can"] = list(permitted.items[item["id"]])
        for action in shown.get("actions") or []:
            action["can"] = list(permitted.carried_actions.get(action["id"], ()))
    written = context.get("record")
    if isinstance(written, dict) and record is not None:
        for agreement in written.get("agreements") or []:
            agreement["can"] = list(permitted.agreements.get(agreement["id"], ()))
            agreement["declined"] = declined_out(entry, record, agreement["id"])
        for action in written.get("actions") or []:
            action["can"] = list(permitted.actions.get(action["id"], ()))


def declined_out(entry: Series, record: Record, agreement_id: str) -> dict[str, Any] | None:
    """Who declined an agreement back to draft, when and why; None when it was not."""
    found = record.declined(agreement_id)
    if found is None:
        return None
    person = entry.pair.employee if found.role is Role.EMPLOYEE else entry.pair.manager
    return {
        "role": found.role.value,
        "name": person.name,
        "at": found.at.astimezone(zone(entry.pair.tz)).isoformat(),
        "reason": found.detail,
    }
