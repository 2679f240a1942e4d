"""The JSON shapes the API answers (see `/api/openapi.json`) and the whose-turn sentence."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from addin.conversations.document import Doc
from addin.conversations.errors import _
from addin.conversations.people import Caller
from addin.splice import MARKER_END, MARKER_START
from cadence.conversation import Action, Agenda, AgendaState, Agreement, AgreementState, Record
from cadence.model import Pair, Role, Series
from cadence.planning import Proposal
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


def record_out(record: Record) -> dict[str, Any]:
    return {
        "summaries": [
            {"item_id": s.item_id, "text": s.text, "finished": s.finished} for s in record.summaries
        ],
        "agreements": [agreement_out(a) for a in record.agreements],
        "actions": [action_out(a) for a in record.actions],
        "final": record.is_final and bool(record.agreements),
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


def turn_out(entry: Series, doc: Doc, ended: bool) -> dict[str, Any]:
    """Whose turn it is and what to do; the API translates `message_id` with `params`."""
    names = {"employee": entry.pair.employee.name, "manager": entry.pair.manager.name}
    agenda, record = doc.agenda, doc.record
    if not ended:
        if agenda.state is AgendaState.DRAFT:
            return _t(["employee"], "write_agenda", names)
        if agenda.state is AgendaState.SHARED:
            waiting = [r for r in ("employee", "manager") if Role(r) not in agenda.agreed_by]
            return _t(waiting, "agree_agenda", names)
        return _t(["employee", "manager"], "prepare", names)
    if (
        record is None
        or not record.agreements
        or any(a.state is AgreementState.DRAFT for a in record.agreements)
    ):
        return _t(["employee", "manager"], "write_record", names)
    waiting_roles: set[str] = set()
    for agreement in record.agreements:
        waiting_roles.update(r.value for r in agreement.waiting_for)
    if waiting_roles:
        return _t([r for r in ("employee", "manager") if r in waiting_roles], "accept", names)
    return _t([], "done", names)


TURN_MESSAGES = {
    "plan": _("Plan the series of conversations: the employee's wishes come first."),
    "write_agenda": _("%(employee)s writes the agenda and shares it with %(manager)s."),
    "agree_agenda": _("Waiting for %(names)s to agree to the agenda."),
    "prepare": _("The agenda is agreed. Prepare the conversation: look back at what you agreed."),
    "write_record": _(
        "The conversation has ended: write down the summary, agreements and actions."
    ),
    "accept": _("Waiting for %(names)s to accept the agreements."),
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


def _t(who: Sequence[str], what: str, names: Mapping[str, str]) -> dict[str, Any]:
    people = [names[w] for w in who]
    return {"who": list(who), "what": what, "message_id": what, "params": {"names": people}}
