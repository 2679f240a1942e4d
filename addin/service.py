"""The side panel's use cases, shared by the Outlook pane's JSON API and the Google cards.

One `Conversations` object holds the ports (each user's calendar and drive), the series registry,
the keyring, the templates and the clock. Every method takes the verified caller and answers plain
JSON-ready dicts in the shapes `/api/openapi.json` describes.

Where things live:

- the series registry (server database): pair, rule, place, the master event's id and iCalUId;
- each occurrence's document (agenda + record), sealed, in the employee's drive, in the series'
  folder, named ``occ-<original start, UTC>.json``; its drive etag guards concurrent saves;
- the calendar events carry our series id in a property, so an opened event maps back to its series
  even before the registry has seen that partner's copy.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from addin.splice import MARKER_END, MARKER_START, splice
from cadence.conversation import (
    ActionStatus,
    Actor,
    Agenda,
    AgendaState,
    AgreementState,
    Record,
    carry_over,
)
from cadence.errors import CadenceError
from cadence.model import Locale, Pair, Person, Role
from cadence.planning import Availability, Interval, Preferences, Proposal, WorkingHours, plan
from cadence.recurrence import Rule, Weekday
from cadence.zones import zone
from connectors.errors import Conflict, NotFound
from connectors.keyring import Keyring
from connectors.models import Attendee, Event, EventPatch, NewEvent
from connectors.ports import Calendar, Drive
from connectors.sealed import SealedDrive
from templates import TemplateSet
from templates.render import agenda_html, agenda_text, record_html, record_markdown

SERIES_PROPERTY = "goedgesprek.series"
"""The event property that names our series id (Graph extended property, Google shared property)."""

DOC_SCHEMA = "goedgesprek.occurrence/1"
HORIZON = timedelta(days=400)
MAX_OPS = 100

T = TypeVar("T")


def _(msgid: str) -> str:
    """Marks an ``api`` message for extraction; the API translates it for the caller."""
    return msgid


# -- errors ---------------------------------------------------------------------------------------


class ServiceError(Exception):
    """A refusal the API turns into a status and a translated message.

    `msgid` is the English message (a gettext msgid in the ``api`` domain), `params` fill its
    ``%(name)s`` placeholders; `detail` is the domain error behind it, translated after it.
    """

    status = 400
    code = "invalid"

    def __init__(self, msgid: str, *, detail: BaseException | None = None, **params: Any) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        self.detail = detail
        self.extra: dict[str, Any] = {}


class Invalid(ServiceError):
    """The request cannot be done as asked (400)."""


class Forbidden(ServiceError):
    """The caller may not do this (403)."""

    status = 403
    code = "forbidden"


class Missing(ServiceError):
    """The thing asked for does not exist (404)."""

    status = 404
    code = "not_found"


class Changed(ServiceError):
    """The other partner saved meanwhile (409); `extra` carries the current state."""

    status = 409
    code = "conflict"


class PreconditionRequired(ServiceError):
    """A save without If-Match over an existing document (428)."""

    status = 428
    code = "precondition_required"


# -- helpers ---------------------------------------------------------------------------------------


def occ_key(original_start: datetime) -> str:
    """The occurrence key: its original start in UTC, compact (``20261201T083000Z``)."""
    return original_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_occ_key(key: str) -> datetime:
    """The instant an occurrence key names; `Invalid` for anything else."""
    try:
        return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise Invalid(_("%(key)s is not an occurrence key."), key=key[:40]) from None


def doc_name(key: str) -> str:
    """The drive file of an occurrence's document."""
    return f"occ-{key}.json"


@dataclass(frozen=True, slots=True)
class Caller:
    """The verified user (from the token) in the language they asked for."""

    email: str
    name: str
    locale: str = "nl"


@dataclass(frozen=True, slots=True)
class Doc:
    """An occurrence's document as read: agenda, record (None before the meeting), drive etag."""

    agenda: Agenda
    record: Record | None
    etag: str | None

    def to_bytes(self) -> bytes:
        data = {
            "schema": DOC_SCHEMA,
            "agenda": self.agenda.to_dict(),
            "record": self.record.to_dict() if self.record else None,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, content: bytes, etag: str) -> Doc:
        data = json.loads(content)
        if data.get("schema") != DOC_SCHEMA:
            raise CadenceError(f"unknown document schema {data.get('schema')!r}")
        record = Record.from_dict(data["record"]) if data.get("record") else None
        return cls(Agenda.from_dict(data["agenda"]), record, etag)


@dataclass(frozen=True, slots=True)
class KnownPerson:
    """A directory entry: the name and time zone of an address."""

    email: str
    name: str
    tz: str


# -- the service -----------------------------------------------------------------------------------


class Conversations:
    """The side panel's use cases over the ports.

    `calendar(email)` and `drive(email)` give a user's calendar and app-folder drive;
    `directory(email)` a person's name and zone (None when unknown: the default zone is used).
    `parallel` runs independent provider calls at the same time (one round trip on the critical
    path of `context`).
    """

    def __init__(
        self,
        *,
        calendar: Callable[[str], Calendar],
        drive: Callable[[str], Drive],
        registry: Any,
        keyring: Keyring,
        templates: TemplateSet,
        clock: Callable[[], datetime],
        directory: Callable[[str], KnownPerson | None] = lambda _email: None,
        country: str = "NL",
        default_tz: str = "Europe/Amsterdam",
        default_locale: str = "nl",
        parallel: bool = True,
    ) -> None:
        self._calendar = calendar
        self._drive = drive
        self.registry = registry
        self._keyring = keyring
        self._templates = templates
        self._clock = clock
        self._directory = directory
        self._country = country
        self._default_tz = default_tz
        self._default_locale = default_locale
        self._pool = ThreadPoolExecutor(max_workers=4) if parallel else None
        self._sealed: dict[str, SealedDrive] = {}

    def close(self) -> None:
        """Stop the worker threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    # -- reading ------------------------------------------------------------------------------

    def context(self, caller: Caller, event_id: str) -> dict[str, Any]:
        """Everything the side panel shows for one opened event; see the OpenAPI `Context`."""
        if not event_id or len(event_id) > 1024:
            raise Invalid(_("Open an appointment first: the request names no event."))
        known = self.registry.alias_of(caller.email, event_id)
        entry = self.registry.get(known[0]) if known else None
        if entry is None:
            event = self._get_event(caller.email, event_id)
            entry = self._series_of(caller.email, event)
            if entry is None:
                return self._not_series(caller, event)
            return self._series_context(caller, entry, event, None)
        # Known series: read the event and the documents of the occurrence it stood for last
        # time (or that its id names) in one round trip.
        guess = known[1] or _guess_occurrence(entry, event_id)
        if guess is None:
            event = self._get_event(caller.email, event_id)
            return self._series_context(caller, entry, event, None)
        event, docs = self._gather(
            lambda: self._get_event(caller.email, event_id),
            lambda: self._docs_around(entry, guess),
        )
        return self._series_context(caller, entry, event, (guess, docs))

    def preview(self, caller: Caller, body: Mapping[str, Any]) -> dict[str, Any]:
        """The planner's proposal for the caller and their partner (nothing is created)."""
        pair, prefs = self._plan_request(caller, body)
        proposal = self._propose(pair, prefs, caller.locale)
        return _proposal_out(proposal, pair, caller.locale)

    def create_series(self, caller: Caller, body: Mapping[str, Any]) -> dict[str, Any]:
        """Plan the series in the employee's calendar (the manager invited); idempotent."""
        request_id = _text(body, "request_id", 64)
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", request_id):
            raise Invalid(_("request_id must be 8 to 64 letters, digits, '-' or '_'."))
        existing = self.registry.by_request(request_id)
        if existing is None:
            pair, prefs = self._plan_request(caller, body)
            event_copy = str(body.get("event_copy") or "full")
            if event_copy not in ("full", "titles"):
                raise Invalid(_("event_copy must be full or titles."))
            proposal = self._propose(pair, prefs, caller.locale)
            from addin.registry import SeriesEntry

            existing = self.registry.add(
                SeriesEntry(
                    id=uuid.uuid4().hex,
                    request_id=request_id,
                    pair=pair,
                    rule=proposal.rule,
                    duration=prefs.duration,
                    place=prefs.place,
                    online=prefs.online,
                    event_copy=event_copy,
                    template=str(body.get("template") or "three_themes"),
                    created=self._clock(),
                )
            )
        entry = existing
        if self._role(entry, caller.email) is None:
            raise Forbidden(_("Only the employee and the manager of this series can see it."))
        master = self._ensure_master(entry, caller.locale)
        first = self._first_upcoming(entry, master)
        return {
            "series": _series_out(entry, caller.locale),
            "first_event": first.id,
            "context": self._series_context(caller, self._reload(entry), first, None),
        }

    def change_series(
        self, caller: Caller, series_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change what the pair chose: the event copy (either), place/duration/online (employee)."""
        entry = self._entry(series_id)
        role = self._require_partner(entry, caller.email)
        fields: dict[str, Any] = {}
        if "event_copy" in body:
            if body["event_copy"] not in ("full", "titles"):
                raise Invalid(_("event_copy must be full or titles."))
            fields["event_copy"] = body["event_copy"]
        employee_only = {"place", "duration", "online"} & set(body)
        if employee_only and role is not Role.EMPLOYEE:
            raise Forbidden(
                _("Only the employee chooses the place and length of the conversations.")
            )
        if "place" in body:
            fields["place"] = _text(body, "place", 200, required=False)
        if "duration" in body:
            duration = body["duration"]
            if not isinstance(duration, int) or isinstance(duration, bool):
                raise Invalid(_("duration must be a whole number of minutes."))
            Preferences(
                weekdays=frozenset({Weekday.TU}),
                earliest=time(0),
                latest=time(23, 59),
                duration=duration,
            )
            fields["duration"] = duration
        if "online" in body:
            fields["online"] = bool(body["online"])
        if not fields:
            raise Invalid(_("Nothing to change: send event_copy, place, duration or online."))
        entry = self.registry.change(entry, **fields)
        if entry.master_event_id and {"place", "duration", "online"} & set(fields):
            master = self._calendar(entry.owner).get_event(entry.master_event_id)
            self._calendar(entry.owner).update_event(
                master.id,
                EventPatch(
                    location=entry.place,
                    online=entry.online,
                    end=master.start + timedelta(minutes=entry.duration),
                ),
                if_match=master.etag,
            )
        return {"series": _series_out(entry, caller.locale)}

    def apply(
        self,
        caller: Caller,
        series_id: str,
        key: str,
        body: Mapping[str, Any],
        if_match: str | None,
    ) -> dict[str, Any]:
        """Apply the ops to an occurrence's document, all or none, guarded by `if_match`."""
        entry = self._entry(series_id)
        role = self._require_partner(entry, caller.email)
        occurrence = self._occurrence(entry, key)
        ops = body.get("ops")
        if not isinstance(ops, list) or not ops:
            raise Invalid(_("Send the changes as a non-empty list 'ops'."))
        if len(ops) > MAX_OPS:
            raise Invalid(_("Send at most %(n)s changes at once."), n=MAX_OPS)
        event_id = str(body.get("event") or "")
        doc, previous = self._docs_around(entry, occurrence)
        if doc.etag is not None and if_match is None:
            missing = PreconditionRequired(
                _("This conversation was saved before: send the etag you read (If-Match).")
            )
            missing.extra = self._conflict(caller, entry, event_id, occurrence, body).extra
            raise missing
        if if_match is not None and if_match != (doc.etag or ""):
            raise self._conflict(caller, entry, event_id, occurrence, body)
        actor = Actor(caller.email, role)
        now = self._clock()
        agenda, record = doc.agenda, doc.record
        agreed_before = agenda.state is AgendaState.AGREED
        for n, op in enumerate(ops):
            if not isinstance(op, Mapping):
                raise Invalid(_("Change %(n)s is not an object."), n=n + 1)
            try:
                agenda, record = _apply_op(op, agenda, record, actor, now)
            except CadenceError as exc:
                raise Invalid(
                    _("Change %(n)s (%(op)s) was refused."), detail=exc, n=n + 1, op=op.get("op")
                ) from exc
        new = Doc(agenda, record, None)
        try:
            info = self._sealed_drive(entry).put(
                entry.id,
                doc_name(key),
                new.to_bytes(),
                if_match=doc.etag,
                if_none_match=doc.etag is None,
            )
        except Conflict:
            raise self._conflict(caller, entry, event_id, occurrence, body) from None
        if agenda.state is AgendaState.AGREED and not agreed_before:
            self._write_event_copy(entry, occurrence, agenda)
        event = self._event_or_occurrence(caller, entry, event_id, occurrence)
        saved = replace(new, etag=info.etag)
        return self._series_context(caller, entry, event, (occurrence, (saved, previous)))

    def export(self, caller: Caller, series_id: str, key: str, fmt: str) -> tuple[bytes, str, str]:
        """The record with its agenda as HTML or Markdown: (content, media type, file name)."""
        entry = self._entry(series_id)
        self._require_partner(entry, caller.email)
        occurrence = self._occurrence(entry, key)
        doc, _previous = self._docs_around(entry, occurrence)
        record = doc.record or Record.for_agenda(doc.agenda)
        day = occurrence.astimezone(zone(entry.pair.tz)).date().isoformat()
        if fmt == "md":
            text = record_markdown(record, doc.agenda, caller.locale, tz=entry.pair.tz)
            return text.encode(), "text/markdown; charset=utf-8", f"gesprek-{day}.md"
        if fmt == "html":
            html = record_html(record, doc.agenda, caller.locale, tz=entry.pair.tz)
            return html.encode(), "text/html; charset=utf-8", f"gesprek-{day}.html"
        raise Invalid(_("format must be html or md."))

    def event_copy(self, caller: Caller, series_id: str, key: str) -> dict[str, Any]:
        """What compose mode writes into the event: the agenda copy and its attachment."""
        entry = self._entry(series_id)
        self._require_partner(entry, caller.email)
        occurrence = self._occurrence(entry, key)
        doc, _previous = self._docs_around(entry, occurrence)
        return _copy_out(entry, doc.agenda, caller.locale)

    # -- context pieces -----------------------------------------------------------------------

    def _not_series(self, caller: Caller, event: Event) -> dict[str, Any]:
        others = [
            a for a in (Attendee(event.organizer), *event.attendees) if a.email != caller.email
        ]
        partner = others[0] if len(others) == 1 else None
        if partner is not None and not partner.name:
            known = self._directory(partner.email)
            partner = Attendee(partner.email, known.name if known else partner.email)
        return {
            **_empty_context(caller, event, "not_series"),
            "partner": {"email": partner.email, "name": partner.name} if partner else None,
            "turn": {
                "who": [],
                "what": "plan",
                "message_id": "plan",
                "params": {},
            },
        }

    def _series_context(
        self,
        caller: Caller,
        entry: Any,
        event: Event,
        prefetched: tuple[datetime, tuple[Doc, Doc | None]] | None,
    ) -> dict[str, Any]:
        role = self._role(entry, caller.email)
        if role is None:
            return {
                **_empty_context(caller, event, "not_partner"),
                "turn": {"who": [], "what": "done", "message_id": "not_partner", "params": {}},
            }
        now = self._clock()
        occurrence = self._occurrence_of(entry, event, now)
        stands_for = {event.id: occurrence} if event.series_id else {}
        self.registry.remember(caller.email, _ids_of(event), entry.id, occurrences=stands_for)
        if prefetched is not None and prefetched[0] == occurrence:
            doc, previous = prefetched[1]
        else:
            doc, previous = self._docs_around(entry, occurrence)
        start = event.start if event.series_id or not event.is_series_master else occurrence
        end = start + timedelta(minutes=entry.duration)
        if event.series_id or not event.is_series_master:
            end = event.end
        ended = now >= end
        tz = zone(entry.pair.tz)
        number = _occurrence_number(entry.rule, occurrence)
        upcoming = [
            o for o in entry.rule.occurrences(now, now + HORIZON) if o > occurrence.astimezone(UTC)
        ][:4]
        questions = self._templates.questions(locale=caller.locale)
        checklist = self._templates.checklist(locale=caller.locale)
        open_actions = previous.record.open_actions if previous and previous.record else ()
        return {
            "user": _user_out(caller, role),
            "event": _event_out(event),
            "state": "ended" if ended else "upcoming",
            "series": _series_out(entry, caller.locale),
            "occurrence": {
                "key": occ_key(occurrence),
                "start": start.astimezone(tz).isoformat(),
                "end": end.astimezone(tz).isoformat(),
                "number": number,
            },
            "next_dates": [o.astimezone(tz).isoformat() for o in upcoming],
            "partner": _partner_out(entry, role),
            "etag": doc.etag,
            "agenda": _agenda_out(doc.agenda),
            "record": _record_out(doc.record) if doc.record else None,
            "previous": (
                {
                    "occurrence": previous.agenda.occurrence.astimezone(tz).isoformat(),
                    "agreements": [_agreement_out(a) for a in previous.record.agreements],
                    "final": previous.record.is_final,
                }
                if previous and previous.record
                else None
            ),
            "open_actions": [_action_out(a) for a in open_actions],
            "turn": _turn(entry, doc, ended),
            "preparation": {
                "questions": [
                    {"key": q.key, "text": q.text, "group": g.title}
                    for g in questions.groups
                    for q in g.questions
                    if g.direction
                    == ("manager_to_employee" if role is Role.EMPLOYEE else "employee_to_manager")
                ],
                "checklist": [
                    {"key": i.key, "title": i.title, "text": i.explanation} for i in checklist.items
                ],
            },
        }

    # -- series ------------------------------------------------------------------------------

    def _entry(self, series_id: str) -> Any:
        entry = self.registry.get(series_id) if len(series_id) <= 64 else None
        if entry is None:
            raise Missing(_("There is no such series: it may have been removed."))
        return entry

    def _reload(self, entry: Any) -> Any:
        return self.registry.get(entry.id) or entry

    @staticmethod
    def _role(entry: Any, email: str) -> Role | None:
        role: Role | None = entry.pair.role_of(email)
        return role

    def _require_partner(self, entry: Any, email: str) -> Role:
        role = self._role(entry, email)
        if role is None:
            raise Forbidden(_("Only the employee and the manager of this series can see it."))
        return role

    def _series_of(self, email: str, event: Event) -> Any:
        """The series an event belongs to: its property, or its master's iCalUId."""
        series_id = event.properties.get(SERIES_PROPERTY)
        if series_id is None and event.series_id:
            series_id = self.registry.alias(email, event.series_id)
            if series_id is None:
                master = self._calendar(email).get_event(event.series_id)
                series_id = master.properties.get(SERIES_PROPERTY)
                if series_id is None:
                    found = self.registry.by_ical_uid(master.ical_uid)
                    return found
        if series_id:
            return self.registry.get(series_id)
        return self.registry.by_ical_uid(event.ical_uid) if event.ical_uid else None

    def _ensure_master(self, entry: Any, locale: str) -> Event:
        """Create the series' master event once (the request id makes a retry find it)."""
        calendar = self._calendar(entry.owner)
        employee, manager = entry.pair.employee, entry.pair.manager
        first = _first(entry.rule)
        template = self._templates.agenda(entry.template, locale)
        agenda = Agenda(entry.id, first, template.as_themes())
        copy = _copy_html(entry, agenda, locale)
        master = calendar.create_event(
            NewEvent(
                subject=_subject(entry, locale),
                start=first,
                end=first + timedelta(minutes=entry.duration),
                tz=entry.pair.tz,
                organizer=employee.email,
                attendees=(Attendee(manager.email, manager.name),),
                body_html=splice("", copy),
                location=entry.place,
                online=entry.online,
                recurrence=entry.rule,
                properties={SERIES_PROPERTY: entry.id},
            ),
            idempotency_key=f"series:{entry.request_id}",
        )
        if entry.master_event_id != master.id:
            self.registry.set_master(entry.id, master.id, master.ical_uid)
        self.registry.remember(employee.email, [master.id], entry.id)
        return master

    def _first_upcoming(self, entry: Any, master: Event) -> Event:
        now = self._clock()
        calendar = self._calendar(entry.owner)
        found = calendar.instances(master.id, now, now + HORIZON)
        return found[0] if found else master

    def _plan_request(self, caller: Caller, body: Mapping[str, Any]) -> tuple[Pair, Preferences]:
        partner_email = _text(body, "partner", 320).lower()
        if "@" not in partner_email:
            raise Invalid(_("Name your partner by email address."))
        if partner_email == caller.email:
            raise Invalid(_("A conversation needs two people: choose your manager or employee."))
        role = body.get("role")
        if role not in ("employee", "manager"):
            raise Invalid(_("Say whether you are the employee or the manager."))
        me = self._person(caller.email, caller.name, caller.locale)
        other = self._person(partner_email, str(body.get("partner_name") or ""), caller.locale)
        employee, manager = (me, other) if role == "employee" else (other, me)
        prefs = _preferences(body.get("preferences"))
        return Pair(employee=employee, manager=manager, tz=employee.tz), prefs

    def _person(self, email: str, name: str, locale: str) -> Person:
        known = self._directory(email)
        return Person(
            id=email,
            name=(known.name if known else "") or name or email.split("@", maxsplit=1)[0],
            email=email,
            tz=known.tz if known else self._default_tz,
            locale=Locale(locale if locale in ("nl", "en") else self._default_locale),
        )

    def _propose(self, pair: Pair, prefs: Preferences, locale: str) -> Proposal:
        now = self._clock()
        start, end = now, now + HORIZON
        emails = [pair.employee.email, pair.manager.email]
        busy = self._calendar(pair.employee.email).free_busy(emails, start, end)

        def availability(person: Person) -> Availability:
            intervals = tuple(Interval(b.start, b.end) for b in busy.get(person.email, []))
            return Availability(person=person, hours=WorkingHours(tz=person.tz), busy=intervals)

        try:
            return plan(
                pair,
                availability(pair.employee),
                availability(pair.manager),
                prefs,
                now=now,
                country=self._country,
                locale=locale,
            )
        except CadenceError as exc:
            raise Invalid(_("The planner could not plan this series."), detail=exc) from exc

    # -- occurrences and documents -----------------------------------------------------------

    def _occurrence(self, entry: Any, key: str) -> datetime:
        instant = parse_occ_key(key)
        local = instant.astimezone(zone(entry.pair.tz))
        found = entry.rule.occurrences(local - timedelta(minutes=1), local + timedelta(minutes=1))
        if not found:
            raise Missing(_("This series has no conversation at %(when)s."), when=key)
        occurrence: datetime = found[0]
        return occurrence

    def _occurrence_of(self, entry: Any, event: Event, now: datetime) -> datetime:
        """The rule's occurrence an event stands for; the master stands for the next one."""
        tz = zone(entry.pair.tz)
        if event.series_id and event.original_start is not None:
            original = event.original_start.astimezone(tz)
        elif event.is_series_master:
            upcoming = entry.rule.next_after(now - timedelta(minutes=entry.duration))
            original = upcoming if upcoming is not None else _first(entry.rule)
        else:
            original = event.start.astimezone(tz)
        window = entry.rule.occurrences(
            original - timedelta(days=45), original + timedelta(days=45)
        )
        if not window:
            return _first(entry.rule)
        best: datetime = min(window, key=lambda o: abs(o - original))
        return best

    def _docs_around(self, entry: Any, occurrence: datetime) -> tuple[Doc, Doc | None]:
        """This occurrence's document (made from the previous one when new) and the previous."""
        before = _previous_occurrence(entry.rule, occurrence)
        if before is None:
            current = self._read_doc(entry, occurrence)
            previous = None
        else:
            current, previous = self._gather(
                lambda: self._read_doc(entry, occurrence),
                lambda: self._read_doc(entry, before),
            )
        if current is not None:
            return current, previous
        return self._new_doc(entry, occurrence, previous), previous

    def _read_doc(self, entry: Any, occurrence: datetime) -> Doc | None:
        try:
            file = self._sealed_drive(entry).get(entry.id, doc_name(occ_key(occurrence)))
        except NotFound:
            return None
        try:
            return Doc.from_bytes(file.content, file.info.etag)
        except (CadenceError, ValueError, KeyError, TypeError) as exc:
            raise Invalid(
                _("The saved conversation of %(when)s could not be read."),
                detail=exc,
                when=occ_key(occurrence),
            ) from exc

    def _new_doc(self, entry: Any, occurrence: datetime, previous: Doc | None) -> Doc:
        template = self._templates.agenda(entry.template, entry.pair.employee.locale)
        if previous is not None:
            agenda = carry_over(
                previous.agenda,
                previous.record,
                occurrence=occurrence,
                themes=template.as_themes(),
                follow_up=template.follow_up,
            )
        else:
            agenda = Agenda(entry.id, occurrence, template.as_themes())
        return Doc(agenda, None, None)

    def _sealed_drive(self, entry: Any) -> SealedDrive:
        sealed = self._sealed.get(entry.owner)
        if sealed is None:
            sealed = SealedDrive(self._drive(entry.owner), self._keyring)
            self._sealed[entry.owner] = sealed
        return sealed

    def _get_event(self, email: str, event_id: str) -> Event:
        try:
            return self._calendar(email).get_event(event_id)
        except NotFound:
            raise Missing(
                _("This appointment is not in your calendar any more: it may have been deleted.")
            ) from None

    def _event_or_occurrence(
        self, caller: Caller, entry: Any, event_id: str, occurrence: datetime
    ) -> Event:
        if event_id:
            try:
                return self._calendar(caller.email).get_event(event_id)
            except NotFound:
                pass
        if entry.master_event_id:
            found = self._calendar(entry.owner).instances(
                entry.master_event_id,
                occurrence - timedelta(minutes=1),
                occurrence + timedelta(minutes=1),
            )
            if found:
                return found[0]
        raise Missing(
            _("This appointment is not in your calendar any more: it may have been deleted.")
        )

    def _write_event_copy(self, entry: Any, occurrence: datetime, agenda: Agenda) -> None:
        """Put the agreed agenda in the occurrence's body and attach it (server-side calendars)."""
        if not entry.master_event_id:
            return
        calendar = self._calendar(entry.owner)
        found = calendar.instances(
            entry.master_event_id,
            occurrence - timedelta(minutes=1),
            occurrence + timedelta(minutes=1),
        )
        if not found:
            return
        event = found[0]
        copy = _copy_out(entry, agenda, entry.pair.employee.locale)
        for attempt in range(COPY_ATTEMPTS):
            # The splice replaces only our block, so an edit made meanwhile (the other
            # partner's, or the calendar's own) is read again and kept, not overwritten.
            try:
                calendar.update_event(
                    event.id,
                    EventPatch(body_html=splice(event.body_html, copy["html"])),
                    if_match=event.etag,
                )
                break
            except Conflict:
                if attempt + 1 == COPY_ATTEMPTS:
                    raise
                event = calendar.get_event(event.id)
        attachment = copy["attachment"]
        calendar.add_attachment(
            event.id,
            attachment["name"],
            base64.b64decode(attachment["base64"]),
            attachment["content_type"],
        )

    def _conflict(
        self,
        caller: Caller,
        entry: Any,
        event_id: str,
        occurrence: datetime,
        body: Mapping[str, Any],
    ) -> Changed:
        error = Changed(
            _(
                "The other partner changed this meanwhile. Both versions are kept: look at theirs, "
                "then apply yours again."
            )
        )
        event = self._event_or_occurrence(caller, entry, event_id, occurrence)
        error.extra = {"current": self._series_context(caller, entry, event, None), "yours": body}
        return error

    def _gather(self, *calls: Callable[[], Any]) -> tuple[Any, ...]:
        if self._pool is None:
            return tuple(call() for call in calls)
        futures = [self._pool.submit(call) for call in calls]
        return tuple(f.result() for f in futures)


# -- ops ------------------------------------------------------------------------------------------


def _apply_op(
    op: Mapping[str, Any], agenda: Agenda, record: Record | None, by: Actor, now: datetime
) -> tuple[Agenda, Record | None]:
    name = op.get("op")
    if not isinstance(name, str):
        raise CadenceError("each change needs an 'op'")
    if name.startswith("agenda."):
        return _agenda_op(name[7:], op, agenda, by, now), record
    if name.startswith("record."):
        current = record if record is not None else Record.for_agenda(agenda)
        return agenda, _record_op(name[7:], op, current, by, now)
    raise CadenceError(f"unknown op {name!r}")


def _agenda_op(
    name: str, op: Mapping[str, Any], agenda: Agenda, by: Actor, now: datetime
) -> Agenda:
    if name == "add_item":
        return agenda.add_item(
            theme=_s(op, "theme"), title=_s(op, "title"), notes=_s(op, "notes", ""), by=by, now=now
        )
    if name == "edit_item":
        return agenda.edit_item(
            _s(op, "item"),
            by=by,
            now=now,
            title=_opt(op, "title"),
            notes=_opt(op, "notes"),
            theme=_opt(op, "theme"),
        )
    if name == "remove_item":
        return agenda.remove_item(_s(op, "item"), by=by, now=now)
    if name == "move_item":
        index = op.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise CadenceError("index must be a whole number")
        return agenda.move_item(_s(op, "item"), index, by=by, now=now)
    if name == "share":
        return agenda.share(by=by, now=now)
    if name == "agree":
        return agenda.agree(by=by, now=now)
    raise CadenceError(f"unknown op 'agenda.{name}'")


def _record_op(
    name: str, op: Mapping[str, Any], record: Record, by: Actor, now: datetime
) -> Record:
    if name == "summarise":
        finished = op.get("finished", False)
        if not isinstance(finished, bool):
            raise CadenceError("finished must be true or false")
        return record.summarise(
            _s(op, "item"), _s(op, "text", ""), finished=finished, by=by, now=now
        )
    if name == "add_agreement":
        return record.add_agreement(_s(op, "text"), by=by, now=now, item_id=_s(op, "item", ""))
    if name == "edit_agreement":
        return record.edit_agreement(_s(op, "agreement"), _s(op, "text"), by=by, now=now)
    if name == "remove_agreement":
        return record.remove_agreement(_s(op, "agreement"), by=by, now=now)
    if name == "propose":
        target = _s(op, "agreement")
        if target != "*":
            return record.propose(target, by=by, now=now)
        for agreement in record.agreements:
            if agreement.state is AgreementState.DRAFT:
                record = record.propose(agreement.id, by=by, now=now)
        return record
    if name == "accept":
        target = _s(op, "agreement")
        if target == "*":
            return record.accept_all(by=by, now=now)
        return record.accept(target, by=by, now=now)
    if name == "decline":
        return record.decline(_s(op, "agreement"), by=by, now=now, reason=_s(op, "reason", ""))
    if name == "add_action":
        return record.add_action(
            _s(op, "description"),
            owner=Role(_s(op, "owner")),
            by=by,
            now=now,
            due=_due(op.get("due")),
            item_id=_s(op, "item", ""),
        )
    if name == "edit_action":
        kwargs: dict[str, Any] = {}
        if "description" in op:
            kwargs["description"] = _s(op, "description")
        if "owner" in op:
            kwargs["owner"] = Role(_s(op, "owner"))
        if "due" in op:
            kwargs["due"] = _due(op.get("due"))
        return record.edit_action(_s(op, "action"), by=by, now=now, **kwargs)
    if name == "set_status":
        return record.set_status(_s(op, "action"), ActionStatus(_s(op, "status")), by=by, now=now)
    raise CadenceError(f"unknown op 'record.{name}'")


def _s(op: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = op.get(key, default)
    if value is None:
        raise CadenceError(f"{key!r} is missing")
    if not isinstance(value, str):
        raise CadenceError(f"{key!r} must be text")
    return value


def _opt(op: Mapping[str, Any], key: str) -> str | None:
    return _s(op, key) if key in op and op[key] is not None else None


def _due(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise CadenceError("due must be a date like 2027-01-31")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CadenceError(f"due must be a date like 2027-01-31, got {value[:20]!r}") from None


# -- shapes ---------------------------------------------------------------------------------------


def _text(body: Mapping[str, Any], key: str, limit: int, *, required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid(_("%(field)s is missing."), field=key)
    if len(value) > limit:
        raise Invalid(_("%(field)s is longer than %(limit)s characters."), field=key, limit=limit)
    return value.strip()


def _preferences(data: Any) -> Preferences:
    if not isinstance(data, Mapping):
        raise Invalid(_("Send the employee's preferences as an object 'preferences'."))
    try:
        days = data.get("weekdays") or ["TU", "WE", "TH"]
        every = data.get("every", 3)
        duration = data.get("duration", 60)
        if not isinstance(every, int) or not isinstance(duration, int):
            raise ValueError("every and duration must be whole numbers")
        return Preferences(
            weekdays=frozenset(Weekday[str(d)] for d in days),
            earliest=time.fromisoformat(str(data.get("earliest") or "09:00")),
            latest=time.fromisoformat(str(data.get("latest") or "17:00")),
            duration=duration,
            place=str(data.get("place") or "")[:200],
            online=bool(data.get("online", False)),
            interval=every,
        )
    except KeyError as exc:
        raise Invalid(
            _("Unknown weekday %(day)s: use MO, TU, WE, TH or FR."), day=str(exc)
        ) from exc
    except (ValueError, TypeError) as exc:
        raise Invalid(_("The preferences could not be read."), detail=exc) from exc
    except CadenceError as exc:
        raise Invalid(_("The preferences could not be used."), detail=exc) from exc


def _first(rule: Rule) -> datetime:
    """The rule's first occurrence, aware in its zone."""
    return rule.first.replace(tzinfo=zone(rule.tz)) if rule.first.tzinfo is None else rule.first


def _previous_occurrence(rule: Rule, occurrence: datetime) -> datetime | None:
    if occurrence <= _first(rule):
        return None
    window = rule.occurrences(occurrence - timedelta(days=400), occurrence)
    return window[-1] if window else None


def _occurrence_number(rule: Rule, occurrence: datetime) -> int:
    return len(rule.occurrences(_first(rule), occurrence)) + 1


COPY_ATTEMPTS = 3
"""How often the agenda copy is spliced into an event that keeps changing under it."""


def _guess_occurrence(entry: Any, event_id: str) -> datetime | None:
    """The occurrence an event id most likely stands for, for a speculative read (or None)."""
    stamp = event_id.rpartition("_")[2]
    try:
        instant = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    local = instant.astimezone(zone(entry.pair.tz))
    found = entry.rule.occurrences(local - timedelta(minutes=1), local + timedelta(minutes=1))
    return found[0] if found else None


def _ids_of(event: Event) -> list[str]:
    return [event.id] + ([event.series_id] if event.series_id else [])


def _subject(entry: Any, locale: str) -> str:
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


def _copy_html(entry: Any, agenda: Agenda, locale: str) -> str:
    return agenda_html(agenda, locale, titles_only=entry.event_copy == "titles", tz=entry.pair.tz)


def _copy_out(entry: Any, agenda: Agenda, locale: str) -> dict[str, Any]:
    titles = entry.event_copy == "titles"
    html = _copy_html(entry, agenda, locale)
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


def _user_out(caller: Caller, role: Role | None) -> dict[str, Any]:
    return {"email": caller.email, "name": caller.name, "role": role.value if role else None}


def _event_out(event: Event) -> dict[str, Any]:
    tz = zone(event.tz) if event.tz else UTC
    return {
        "id": event.id,
        "subject": event.subject,
        "start": event.start.astimezone(tz).isoformat(),
        "end": event.end.astimezone(tz).isoformat(),
        "organizer": event.organizer,
        "attendees": [{"email": a.email, "name": a.name} for a in event.attendees],
    }


def _empty_context(caller: Caller, event: Event, state: str) -> dict[str, Any]:
    return {
        "user": _user_out(caller, None),
        "event": _event_out(event),
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


def _series_out(entry: Any, locale: str) -> dict[str, Any]:
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


def _partner_out(entry: Any, role: Role) -> dict[str, str]:
    other = entry.pair.manager if role is Role.EMPLOYEE else entry.pair.employee
    return {"email": other.email, "name": other.name}


def _agenda_out(agenda: Agenda) -> dict[str, Any]:
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
    }


def _agreement_out(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "text": a.text,
        "item_id": a.item_id,
        "state": a.state.value,
        "accepted_by": sorted(r.value for r in a.accepted_by),
        "waiting_for": [r.value for r in a.waiting_for],
    }


def _action_out(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "description": a.description,
        "owner": a.owner.value,
        "due": a.due.isoformat() if a.due else None,
        "status": a.status.value,
        "item_id": a.item_id,
    }


def _record_out(record: Record) -> dict[str, Any]:
    return {
        "summaries": [
            {"item_id": s.item_id, "text": s.text, "finished": s.finished} for s in record.summaries
        ],
        "agreements": [_agreement_out(a) for a in record.agreements],
        "actions": [_action_out(a) for a in record.actions],
        "final": record.is_final and bool(record.agreements),
    }


def _proposal_out(proposal: Proposal, pair: Pair, locale: str) -> dict[str, Any]:
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


def _turn(entry: Any, doc: Doc, ended: bool) -> dict[str, Any]:
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
