"""The side panel's use cases, shared by the Outlook pane's JSON API and the Google cards.

One `Conversations` object holds the ports (each user's calendar and drive), the series registry,
the keyring, the templates and the clock. Every method takes the verified caller and answers plain
JSON-ready dicts in the shapes `/api/openapi.json` describes.

Where things live:

- the series registry (server database): pair, rule, place, the master event's id and iCalUId;
- each occurrence's document (agenda + record), sealed, in the employee's drive (see `document`);
- the calendar events carry our series id in a property, so an opened event maps back to its series
  even before the registry has seen that partner's copy.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import logging
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import TYPE_CHECKING, Any

from addin.background.preferences import (
    RemindersError,
    ReminderSettings,
    parse_reminders,
    reminders_out,
)
from addin.conversations.document import (
    Change,
    Doc,
    doc_name,
    fingerprint,
    occ_key,
    parse_occ_key,
)
from addin.conversations.errors import (
    Changed,
    Forbidden,
    HandedOver,
    Invalid,
    Missing,
    NotReportingLine,
    PreconditionRequired,
    SeriesExists,
    ServiceError,
    Unreadable,
    _,
)
from addin.conversations.parsing import (
    MAX_OPS,
    apply_all,
    apply_op,
    body_text,
    parse_change_id,
    parse_preferences,
    parse_viewer_zone,
    parse_zone,
)
from addin.conversations.pending import Pending, PendingDocs, PendingRace, is_pending
from addin.conversations.people import Caller
from addin.conversations.series_keys import SeriesKeys
from addin.conversations.shapes import (
    action_out,
    add_rules,
    agenda_out,
    agreement_out,
    copy_html,
    copy_out,
    empty_context,
    event_out,
    existing_out,
    partner_out,
    proposal_out,
    record_out,
    series_out,
    subject,
    turn_out,
    user_out,
)
from addin.identity import SignInRequired
from addin.people_settings import HoursError, OwnHours, PeopleSettings, parse_own_hours
from addin.registry import PairTaken, Registry
from addin.splice import splice
from cadence.conversation import Actor, Agenda, AgendaState, Record, carry_over
from cadence.errors import CadenceError, InvalidRule
from cadence.model import Locale, Pair, Person, Role, Series
from cadence.planning import Availability, Interval, Preferences, Proposal, WorkingHours, plan
from cadence.recurrence import Rule, Weekday
from cadence.rules import series_allowed, visible_items
from cadence.zones import zone
from connectors.directory import NoDirectory
from connectors.errors import Conflict, ConnectorError, NotFound, Throttled, Unavailable
from connectors.keyring import Keyring
from connectors.models import Attendee, Event, EventPatch, FileInfo, NewEvent
from connectors.ports import Calendar, Directory, DirectoryHours, DirectoryPerson, Drive
from connectors.sealed import KEY_FILE, SealedDrive
from templates import TemplateSet
from templates.render import record_html, record_markdown

if TYPE_CHECKING:
    from addin.conversations.journals import JournalDoc, Journals
    from cadence.journal import Guest

SERIES_PROPERTY = "goedgesprek.series"
"""The event property that names our series id (Graph extended property, Google shared property)."""

HORIZON = timedelta(days=400)

MOVED_WITHIN = timedelta(days=45)
"""How far from its rule's start an occurrence is looked for when it was moved."""

_HOURS_REFUSED = {
    "days": _("Name at least one working day, as MO, TU, WE, TH, FR, SA or SU."),
    "time": _("Give the start and the end of the working day as times such as 09:00 and 17:00."),
    "order": _("The working day must end after it starts: give an end later than the start."),
    "tz": _("Choose a time zone such as Europe/Amsterdam for your working hours."),
}

_REMINDERS_REFUSED = {
    "off": _(
        "Name the reminders to turn off as prepare, agenda, record, accept or cadence, in a list."
    ),
    "quiet": _(
        "Name the quiet days as MO, TU, WE, TH, FR, SA or SU, in a list, and leave at least "
        "one day for the reminders."
    ),
}


log = logging.getLogger(__name__)


# -- the service -----------------------------------------------------------------------------------


class Conversations:
    """The side panel's use cases over the ports.

    `calendar(email)` and `drive(email)` give a user's calendar and app-folder drive;
    `directory` says who is whose manager (a pair exists only where it says so) and a person's
    name, zone and working hours (unknown: the defaults). `people` keeps what a person set for
    themself (working hours and zone), which wins over the directory.
    `parallel` runs independent provider calls at the same time (one round trip on the critical
    path of `context`).
    """

    def __init__(
        self,
        *,
        calendar: Callable[[str], Calendar],
        drive: Callable[[str], Drive],
        registry: Registry,
        keyring: Keyring,
        templates: TemplateSet,
        clock: Callable[[], datetime],
        directory: Directory | None = None,
        people: PeopleSettings | None = None,
        country: str = "NL",
        default_tz: str = "Europe/Amsterdam",
        default_locale: str = "nl",
        parallel: bool = True,
        provider_of: Callable[[str], str] | None = None,
        default_template: str = "three_themes",
        team_templates: Mapping[str, str] | None = None,
    ) -> None:
        self._calendar = calendar
        known = templates.keys("agenda")
        for where, key in [("DEFAULT_TEMPLATE", default_template), *(team_templates or {}).items()]:
            if key not in known:
                raise ValueError(f"{where}: {key!r} is none of the agenda templates {known}")
        self.default_template = default_template
        """The agenda template a plan gets when it names none (``DEFAULT_TEMPLATE``)."""
        self.team_templates = {m.lower(): t for m, t in (team_templates or {}).items()}
        """A team's own default, by its manager's address (``TEAM_TEMPLATES``)."""
        self._provider_of = provider_of
        """Which provider holds a person (mixed organisations, `addin.routing`); None: one."""
        self._drive = drive
        self.registry = registry
        self._keyring = keyring
        self._templates = templates
        self._clock = clock
        self._directory: Directory = directory or NoDirectory()
        self.people = people or PeopleSettings(registry.engine)
        self._country = country
        self._default_tz = default_tz
        self._default_locale = default_locale
        self._pool = ThreadPoolExecutor(max_workers=4) if parallel else None
        self._sealed: dict[str, SealedDrive] = {}
        self.pending = PendingDocs(registry.engine, keyring, clock)
        self.series_keys = SeriesKeys(registry.engine, clock)
        """Each series' server part of its data key: erasure destroys it (`addin.erasure`)."""
        """Documents saved while the employee's drive did not answer, until delivered."""
        self.journals: Journals | None = None
        """The journal's use cases (`addin.conversations.journals`), set by the composition root."""
        self.look_again = LOOK_AGAIN
        """Seconds before an unmapped manager's copy is looked for again."""
        self._looked: dict[tuple[str, str], float] = {}
        """When the manager's copy of a series was last looked for, by (manager, series id);
        infinity once it is mapped."""

    def close(self) -> None:
        """Stop the worker threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    # -- reading ------------------------------------------------------------------------------

    def context(
        self,
        caller: Caller,
        event_id: str,
        *,
        series_hint: str = "",
        start_hint: datetime | None = None,
    ) -> dict[str, Any]:
        """Everything the side panel shows for one opened event; see the OpenAPI `Context`.

        `series_hint` (the series master's id, as Outlook's ``item.seriesId`` gives it) and
        `start_hint` (the start the host shows) let a first open find its series and occurrence
        without asking the provider first, so the event and its documents are read in one round
        trip. Hints only choose what to read; the event read decides what is shown.
        """
        if not event_id or len(event_id) > 1024:
            raise Invalid(_("Open an appointment first: the request names no event."))
        if len(series_hint) > 1024:
            raise Invalid(_("The series id is too long: send the id the host gives, or none."))
        found = self._known_series(caller, event_id, series_hint, start_hint)
        if found is None:
            event = self._get_event(caller.email, event_id)
            return self._context_of(caller, event)
        entry, guess, via = found
        if guess is None or entry.pair.role_of(caller.email) is None:
            # Nothing to read ahead for, or nothing the caller may see: the event decides.
            entry = self._current(entry)
            if entry.pair.role_of(caller.email) is None:
                # Said before the read: a hand-over also took the event from their calendar.
                self._refuse_former_manager(entry, caller.email)
            event = self._get_event(caller.email, event_id)
            if via is not None and via not in _ids_of(event):
                return self._context_of(caller, event)
            return self._series_context(caller, entry, event, None)
        # Known series: read the event and the documents of the occurrence it stands for (as
        # remembered, named by its id, or nearest the start the host shows) in one round trip,
        # while the directory is asked whether the pair still stands (the reads depend only on
        # the employee's drive, which a hand-over keeps).
        (read, handed_over, journal), docs = self._docs_around_with(
            entry,
            guess,
            lambda: _outcome(lambda: self._get_event(caller.email, event_id)),
            lambda: self.reconcile_reporting_line(entry.pair.employee.email),
            lambda: self._journal_outcome(entry),
        )
        if handed_over:
            entry = self._reload(entry)
            if entry.pair.role_of(caller.email) is None:
                # Before the read's answer: the hand-over may have taken the event away too.
                self._refuse_former_manager(entry, caller.email)
        if isinstance(read, ServiceError):
            raise read
        if via is not None and via not in _ids_of(read):
            # The hint named another series than the event's own.
            return self._context_of(caller, read)
        return self._series_context(caller, entry, read, (guess, docs), journal=journal)

    def _journal_outcome(self, entry: Series) -> JournalDoc | ServiceError | None:
        """The series' journal read alongside the documents (None: no journals here); a
        refusal is kept to be raised only if the journal is shown."""
        if self.journals is None:
            return None
        try:
            return self.journals.read(entry)
        except ServiceError as exc:
            return exc

    def occurrence_context(self, caller: Caller, series_id: str, key: str) -> dict[str, Any]:
        """The context of one occurrence named by its series and key, not by an opened event.

        For the record form a reminder mail links to: the occurrence's event is read from the
        calendar that holds the series (moved or not), and the caller must be a partner.
        """
        entry = self._entry(series_id)
        self._require_partner(entry, caller.email)
        occurrence = self._occurrence(entry, key)
        event = self._event_or_occurrence(caller, entry, "", occurrence)
        return self._series_context(caller, entry, event, None, remember=False)

    def _context_of(self, caller: Caller, event: Event) -> dict[str, Any]:
        """The context of an event read first, its series found from the event itself."""
        entry = self._series_of(caller.email, event)
        if entry is None:
            return self._not_series(caller, event)
        return self._series_context(caller, self._current(entry), event, None)

    def _known_series(
        self, caller: Caller, event_id: str, series_hint: str, start_hint: datetime | None
    ) -> tuple[Series, datetime | None, str | None] | None:
        """The series an event id maps to without a provider call (as registered: the directory
        is asked alongside the reads), the occurrence to read ahead (or None), and the id the
        mapping went through when it was not the event's own.

        Tried in turn: the event id as remembered; the hinted series master id; the master id
        an occurrence id carries (Google's and the embedded calendars' ``<master>_<start>``).
        """
        known = self.registry.alias_of(caller.email, event_id)
        if known is not None:
            entry = self.registry.get(known[0])
            if entry is not None:
                guess = (
                    known[1]
                    or _guess_occurrence(entry, event_id)
                    or self._near(entry, start_hint)
                    or _master_stands_for(entry, self._clock())
                )
                return entry, guess, None
        carried = event_id.rpartition("_")[0]
        for via in dict.fromkeys(v for v in (series_hint, carried) if v and v != event_id):
            series_id = self.registry.alias(caller.email, via)
            entry = self.registry.get(series_id) if series_id else None
            if entry is not None:
                ahead = _guess_occurrence(entry, event_id) or self._near(entry, start_hint)
                return entry, ahead, via
        return None

    def _near(self, entry: Series, moment: datetime | None) -> datetime | None:
        """The rule's occurrence nearest a start the host shows (a moved one is near it)."""
        return self._nearest_occurrence(entry, moment) if moment is not None else None

    def preview(self, caller: Caller, body: Mapping[str, Any]) -> dict[str, Any]:
        """The planner's proposal for the caller and their partner (nothing is created)."""
        pair, prefs = self._plan_request(caller, body)
        ongoing = self._ongoing_series(pair.employee.email, pair.manager.email)
        if ongoing is not None:
            # Said before the proposal, not only when the pair confirms it.
            raise self._series_exists(caller, ongoing)
        viewer_tz = parse_viewer_zone(body)
        proposal = self._propose(pair, prefs, caller.locale, viewer_tz)
        return proposal_out(proposal, pair, caller.locale)

    def create_series(self, caller: Caller, body: Mapping[str, Any]) -> dict[str, Any]:
        """Plan the series in the employee's calendar (the manager invited); idempotent."""
        request_id = body_text(body, "request_id", 64)
        if not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", request_id):
            raise Invalid(_("request_id must be 8 to 64 letters, digits, '-' or '_'."))
        existing = self.registry.by_request(request_id)
        if existing is not None and not _same_plan(existing, caller, body):
            raise Invalid(
                _("This request_id was sent before for another plan: send a new request_id.")
            )
        if existing is None:
            pair, prefs = self._plan_request(caller, body)
            ongoing = self._ongoing_series(pair.employee.email, pair.manager.email)
            if ongoing is not None:
                raise self._series_exists(caller, ongoing)
            event_copy = str(body.get("event_copy") or "full")
            if event_copy not in ("full", "titles"):
                raise Invalid(_("event_copy must be full or titles."))
            template = body.get("template") or self.template_for(pair.manager.email)
            known = self._templates.keys("agenda")
            if template not in known:
                # Before the series is kept: one without its agenda template could never start.
                raise Invalid(_("Choose an agenda template: %(keys)s."), keys=", ".join(known))
            proposal = self._propose(pair, prefs, caller.locale)
            series = Series(
                id=uuid.uuid4().hex,
                request_id=request_id,
                pair=pair,
                rule=proposal.rule,
                duration=prefs.duration,
                place=prefs.place,
                online=prefs.online,
                event_copy=event_copy,
                template=str(template),
                created=self._clock(),
            )
            try:
                existing = self.registry.add(series)
            except PairTaken as exc:
                if exc.existing.rule.next_after(self._clock()) is not None:
                    # Another plan request for this pair won the race after the check above.
                    raise self._series_exists(caller, exc.existing) from None
                # The pair's last series has no conversation left: this one takes its place.
                self.registry.release_pair(exc.existing.id)
                try:
                    existing = self.registry.add(series)
                except PairTaken as again:
                    # Another plan for this pair took that place first.
                    raise self._series_exists(caller, again.existing) from None
        entry = existing
        if self._role(entry, caller.email) is None:
            raise Forbidden(_("Only the employee and the manager of this series can see it."))
        master = self._ensure_master(entry, caller.locale)
        first, _found = self._gather(
            lambda: self._first_upcoming(entry, master),
            lambda: self._remember_partner_copy(entry, master.ical_uid),
        )
        return {
            "series": series_out(entry, caller.locale),
            "first_event": first.id,
            "context": self._series_context(caller, self._reload(entry), first, None),
        }

    def _series_exists(self, caller: Caller, ongoing: Series) -> SeriesExists:
        other = next(p for p in ongoing.pair.partners if p.email != caller.email)
        refused = SeriesExists(
            _(
                "There is already a series of conversations with %(name)s: open one of "
                "its conversations in your calendar."
            ),
            name=other.name,
        )
        refused.extra = {"existing": self._existing(caller, ongoing)}
        return refused

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
        if employee_only and "change_place" not in series_allowed(role):
            raise Forbidden(
                _("Only the employee chooses the place and length of the conversations.")
            )
        if "place" in body:
            fields["place"] = body_text(body, "place", 200, required=False, line=True)
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
            if not isinstance(body["online"], bool):
                raise Invalid(_("online must be true or false."))
            fields["online"] = body["online"]
        if not fields:
            raise Invalid(_("Nothing to change: send event_copy, place, duration or online."))
        # The calendar first: if it refuses, the series keeps what the calendar shows.
        if entry.master_event_id and {"place", "duration", "online"} & set(fields):
            self._change_master(entry, fields)
        entry = self.registry.change(entry, **fields)
        return {"series": series_out(entry, caller.locale)}

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
        change_id = parse_change_id(body)
        change = None if change_id is None else Change(change_id, fingerprint(caller.email, ops))
        (journal,), (doc, previous) = self._docs_around_with(
            entry, occurrence, lambda: self._journal_outcome(entry)
        )
        applied = doc.applied(change.id) if change else None
        if change and applied and applied.ops not in (change.ops, ""):
            # Another sender or other ops under an id already used: never the change applied.
            raise Invalid(
                _(
                    "Nothing was saved: this change_id was sent before with other changes. "
                    "Send a new change_id with each new change."
                )
            )
        if applied is not None:
            # Sent again because its answer was lost: it is in already. The etag the client
            # holds is older than that very write, so it is not checked.
            event = self._event_or_occurrence(caller, entry, event_id, occurrence)
            return self._series_context(
                caller, entry, event, (occurrence, (doc, previous)), journal=journal
            )
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
        agenda, record = apply_all(
            ops, (agenda, record), lambda pair, op: apply_op(op, *pair, actor, now)
        )
        new = replace(doc, agenda=agenda, record=record, etag=None).with_change(change)
        try:
            etag = self._store_doc(entry, doc_name(key), new.to_bytes(), doc.etag)
        except Conflict:
            now_stored = self._docs_around(entry, occurrence)
            if change is not None and now_stored[0].applied(change.id) == change:
                # The same change sent twice at once: the other send saved it.
                event = self._event_or_occurrence(caller, entry, event_id, occurrence)
                return self._series_context(
                    caller, entry, event, (occurrence, now_stored), journal=journal
                )
            raise self._conflict(
                caller, entry, event_id, occurrence, body, docs=now_stored
            ) from None
        # What is due may have changed (an agenda shared, an agreement proposed or accepted).
        self.registry.set_next_sweep(entry.id, None)
        if agenda.state is AgendaState.AGREED and not agreed_before:
            self._copy_agreed_agenda(entry, occurrence, agenda)
        event = self._event_or_occurrence(caller, entry, event_id, occurrence)
        saved = replace(new, etag=etag)
        return self._series_context(
            caller, entry, event, (occurrence, (saved, previous)), journal=journal
        )

    def export(self, caller: Caller, series_id: str, key: str, fmt: str) -> tuple[bytes, str, str]:
        """The record with its agenda as HTML or Markdown: (content, media type, file name)."""
        entry = self._entry(series_id)
        role = self._require_partner(entry, caller.email)
        occurrence = self._occurrence(entry, key)
        doc, _previous = self._docs_around(entry, occurrence)
        record = doc.record or Record.for_agenda(doc.agenda)
        agenda = self._templates.localize(_as_seen(doc.agenda, role), caller.locale)
        day = occurrence.astimezone(zone(entry.pair.tz)).date().isoformat()
        pair, tz = entry.pair, entry.pair.tz
        if fmt == "md":
            text = record_markdown(record, agenda, caller.locale, tz=tz, pair=pair)
            return text.encode(), "text/markdown; charset=utf-8", f"gesprek-{day}.md"
        if fmt == "html":
            html = record_html(record, agenda, caller.locale, tz=tz, pair=pair)
            return html.encode(), "text/html; charset=utf-8", f"gesprek-{day}.html"
        raise Invalid(_("format must be html or md."))

    def event_copy(self, caller: Caller, series_id: str, key: str) -> dict[str, Any]:
        """What compose mode writes into the event: the agenda copy and its attachment."""
        entry = self._entry(series_id)
        role = self._require_partner(entry, caller.email)
        occurrence = self._occurrence(entry, key)
        doc, _previous = self._docs_around(entry, occurrence)
        agenda = self._templates.localize(_as_seen(doc.agenda, role), caller.locale)
        return copy_out(entry, agenda, caller.locale)

    def my_series(self, caller: Caller) -> dict[str, Any]:
        """The caller's series that still have conversations to come, each with the next one."""
        now = self._clock()
        return {
            "series": [
                existing_out(entry, caller.locale, now, caller.email)
                for entry in self.registry.for_person(caller.email)
                if entry.rule.next_after(now) is not None and self.registry.is_active(entry.id)
            ],
            "feedback_asks": self.feedback_asks(caller),
        }

    def feedback_asks(self, caller: Caller) -> list[dict[str, Any]]:
        """The requests for feedback waiting for the caller as someone's colleague."""
        return self.journals.asked_of(caller.email) if self.journals is not None else []

    # -- reporting lines, ending, working hours -----------------------------------------------

    def reconcile_reporting_line(self, employee_email: str) -> list[str]:
        """Hand the employee's active series to the manager the directory names now.

        Returns the ids of the series handed over (none when nothing changed). The former
        manager loses access from now on and the new one sees from now on; the records stay in
        the employee's drive. A directory naming no manager changes nothing: a series is never
        handed to nobody. Safe to call again (a later background sweep calls it per employee).
        """
        email = employee_email.strip().lower()
        active = self.registry.active_as_employee(email)
        if not active:
            return []
        named = self._directory.manager_of(email)
        changed: list[str] = []
        for entry in active:
            if named is None or named.lower() == entry.pair.manager.email.lower():
                continue
            successor = self._person(named, "", str(entry.pair.manager.locale))
            try:
                moved = self.registry.hand_over(entry, successor, self._clock())
            except PairTaken as exc:
                # The employee has a series with the new manager already: that one stands; this
                # one ends and goes to the new manager all the same, so the former one's access
                # ends too.
                log.warning("series %s ended, not handed over: %s", entry.id, exc)
                ended = self._end(entry)
                self.registry.hand_over(ended, successor, self._clock(), active=False)
                changed.append(entry.id)
                continue
            changed.append(entry.id)
            self._invite_successor(moved, former=entry.pair.manager.email)
        return changed

    def _invite_successor(self, entry: Series, *, former: str) -> None:
        """The new manager in the master event's attendees instead of the former one.

        Access is decided by the registry (changed first); a calendar that refuses is logged,
        not shown to the user, and not yet tried again: the registry already names the new
        manager, so a later check finds nothing to hand over (background work is to re-invite).
        """
        if not entry.master_event_id:
            return
        calendar = self._calendar(entry.owner)
        manager = entry.pair.manager
        try:
            for attempt in range(COPY_ATTEMPTS):
                master = calendar.get_event(entry.master_event_id)
                attendees = tuple(a for a in master.attendees if a.email.lower() != former)
                if all(a.email.lower() != manager.email for a in attendees):
                    attendees += (Attendee(manager.email, manager.name),)
                try:
                    calendar.update_event(
                        master.id, EventPatch(attendees=attendees), if_match=master.etag
                    )
                    return
                except Conflict:
                    if attempt + 1 == COPY_ATTEMPTS:
                        raise
        except ConnectorError as exc:
            log.warning("series %s: the new manager was not invited: %s", entry.id, exc)

    def end_series(self, caller: Caller, series_id: str) -> dict[str, Any]:
        """End the series for the pair: conversations from today on are cancelled, the records
        stay and the pair may plan anew. Either partner may; ending it again answers the same."""
        entry = self._entry(series_id)
        self._require_partner(entry, caller.email)
        ended = self._end(entry)
        return {"series": series_out(ended, caller.locale), "ended": True}

    def end_series_for_hr(self, series_id: str) -> Series:
        """`end_series` on HR's behalf (the command line): no partner check."""
        entry = self.registry.get(series_id) if len(series_id) <= 64 else None
        if entry is None:
            raise Missing(_("There is no such series: it may have been removed."))
        return self._end(entry)

    def _end(self, entry: Series) -> Series:
        """Cancel the conversations not yet begun (the calendar first), then release the pair.

        The rule ends before the day of the next conversation, so one held earlier today stays;
        a series whose first conversation is still ahead is deleted from the calendar whole.
        """
        if not self.registry.is_active(entry.id):
            return entry
        upcoming = entry.rule.next_after(self._clock())
        rule: Rule | None = entry.rule
        if upcoming is not None:
            try:
                rule = entry.rule.ending_before(upcoming.astimezone(zone(entry.pair.tz)).date())
            except InvalidRule:
                rule = None  # nothing held yet: the whole series goes
        if entry.master_event_id and upcoming is not None:
            calendar = self._calendar(entry.owner)
            try:
                if rule is None:
                    calendar.delete_event(entry.master_event_id)
                else:
                    calendar.update_event(entry.master_event_id, EventPatch(recurrence=rule))
            except NotFound:
                pass  # deleted in the calendar already: nothing left to cancel
        ended = rule or entry.rule
        self.registry.end(entry.id, ended)
        return replace(entry, rule=ended)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    def dossier_documents(
        self, entry: Series, locale: str, since: datetime, until: datetime
    ) -> list[tuple[datetime, tuple[Record, Agenda] | str]]:
        """The series' documents in [since, until) as the employee sees them, by occurrence:
        (record, agenda) each, or why it does not open (the dossier export)."""
        names = self._doc_names(entry)
        found: list[tuple[datetime, tuple[Record, Agenda] | str]] = []
        for occurrence in entry.rule.occurrences(since, until):
            if doc_name(occ_key(occurrence)) not in names:
                continue
            try:
                doc = self._read_doc(entry, occurrence)
            except (ServiceError, ConnectorError) as exc:
                found.append((occurrence, str(exc)))
                continue
            if doc is None:
                continue
            agenda = self._templates.localize(_as_seen(doc.agenda, Role.EMPLOYEE), locale)
            found.append((occurrence, (doc.record or Record.for_agenda(doc.agenda), agenda)))
        return found

    def end_for_erasure(self, entry: Series) -> Series:
        """End an active series before its dossier is erased (no partner check)."""
        return self._end(entry)

    def drop_documents(self, entry: Series) -> int:
        """Delete the series' documents and key file from the owner's drive; how many went.
        The sealed store forgets the key it kept in memory."""
        sealed = self._sealed_drive(entry)
        sealed.forget(entry.id)
        drive = self._drive(entry.owner)
        gone = 0
        for info in drive.list(entry.id):
            if info.name == KEY_FILE:
                continue
            with contextlib.suppress(NotFound):
                drive.delete(entry.id, info.name)
                gone += 1
        with contextlib.suppress(NotFound):
            drive.delete(entry.id, KEY_FILE)
        return gone

    def working_hours(self, caller: Caller) -> dict[str, Any]:
        """The caller's working days, hours and zone as the planner uses them, and from where."""
        own = self.people.hours(caller.email)
        source = "own"
        if own is None:
            known = self._known(caller.email)
            if known is not None and known.hours is not None:
                own, source = OwnHours(known.hours, known.tz or self._default_tz), "directory"
        if own is None:
            tz = self._person(caller.email, caller.name, caller.locale).tz
            own = OwnHours(DirectoryHours(("MO", "TU", "WE", "TH", "FR"), time(9), time(17)), tz)
            source = "default"
        return {"working_hours": _hours_out(own), "source": source}

    def set_working_hours(self, caller: Caller, body: Mapping[str, Any]) -> dict[str, Any]:
        """Keep the caller's own working days, hours and zone (part-time days welcome)."""
        try:
            own = parse_own_hours(body)
        except HoursError as exc:
            raise Invalid(_HOURS_REFUSED[exc.code]) from None
        self.people.set_hours(caller.email, own, self._clock())
        return {"working_hours": _hours_out(own), "source": "own"}

    def reminders(self, caller: Caller) -> dict[str, Any]:
        """Which reminders the caller gets, and on which days none."""
        return reminders_out(ReminderSettings(self.registry.engine).get(caller.email))

    def set_reminders(self, caller: Caller, body: Mapping[str, Any]) -> dict[str, Any]:
        """Turn kinds of reminder off (or on again) and choose quiet days."""
        try:
            wanted = parse_reminders(body)
        except RemindersError as exc:
            raise Invalid(_REMINDERS_REFUSED[exc.code]) from None
        ReminderSettings(self.registry.engine).set(caller.email, wanted, self._clock())
        return reminders_out(wanted)

    # -- context pieces -----------------------------------------------------------------------

    def _not_series(self, caller: Caller, event: Event) -> dict[str, Any]:
        others = [
            a for a in (Attendee(event.organizer), *event.attendees) if a.email != caller.email
        ]
        partner = others[0] if len(others) == 1 else None
        if partner is not None and not partner.name:
            known = self._known(partner.email)
            partner = Attendee(partner.email, (known.name if known else "") or partner.email)
        ongoing = self._ongoing_series(caller.email, partner.email) if partner else None
        return {
            **empty_context(caller, event, "not_series"),
            "partner": {"email": partner.email, "name": partner.name} if partner else None,
            # The pair plans once: a host shows this series instead of the plan form.
            "existing": self._existing(caller, ongoing) if ongoing else None,
            "templates": self.template_choices(
                caller.locale, [partner.email, caller.email] if partner else [caller.email]
            ),
            "feedback_asks": self.feedback_asks(caller),
            "turn": {
                "who": [],
                "what": "plan",
                "message_id": "plan",
                "params": {},
            },
        }

    def template_for(self, *managers: str) -> str:
        """The default template: the first listed manager's team's own, else the
        organisation's."""
        for email in managers:
            found = self.team_templates.get(email.strip().lower())
            if found:
                return found
        return self.default_template

    def template_choices(self, locale: str, people: Sequence[str] = ()) -> dict[str, Any]:
        """The agenda templates a pair may plan with, in `locale`, and the default for a pair
        of `people` (whichever of them leads a team with a default of its own)."""
        choices = []
        for key in self._templates.keys("agenda"):
            template = self._templates.agenda(key, locale)
            choices.append(
                {
                    "key": key,
                    "title": template.title,
                    "description": template.description,
                    "themes": [t.title for t in template.themes],
                }
            )
        return {"default": self.template_for(*people), "choices": choices}

    def _agenda_view(self, agenda: Agenda, locale: str) -> dict[str, Any]:
        """The agenda as the hosts show it: themes titled in `locale`, each with its template's
        hint and guiding questions (a theme of the pair's own has none)."""
        out = agenda_out(self._templates.localize(agenda, locale))
        for shown, theme in zip(out["themes"], agenda.themes, strict=True):
            text = self._templates.theme_text(theme, locale)
            shown["hint"] = text.hint if text else ""
            shown["prompts"] = list(text.prompts) if text else []
        return out

    def _series_context(
        self,
        caller: Caller,
        entry: Series,
        event: Event,
        prefetched: tuple[datetime, tuple[Doc, Doc | None]] | None,
        *,
        remember: bool = True,
        journal: JournalDoc | ServiceError | None = None,
    ) -> dict[str, Any]:
        role = self._role(entry, caller.email)
        if role is None:
            self._refuse_former_manager(entry, caller.email)
            return {
                **empty_context(caller, event, "not_partner"),
                "turn": {"who": [], "what": "done", "message_id": "not_partner", "params": {}},
            }
        now = self._clock()
        occurrence = self._occurrence_of(entry, event, now)
        if remember:
            stands_for = {event.id: occurrence} if event.series_id else {}
            self.registry.remember(caller.email, _ids_of(event), entry.id, occurrences=stands_for)
        if role is Role.EMPLOYEE:
            self._look_for_partner_copy(entry)
        if prefetched is not None and prefetched[0] == occurrence:
            doc, previous = prefetched[1]
        elif journal is None:
            # The journal is the series', whichever occurrence: read with the documents.
            (journal,), (doc, previous) = self._docs_around_with(
                entry, occurrence, lambda: self._journal_outcome(entry)
            )
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
        # What is still open from earlier conversations was carried onto this agenda.
        open_actions = doc.agenda.open_actions
        context: dict[str, Any] = {
            "user": user_out(caller, role),
            "event": event_out(event),
            "state": "ended" if ended else "upcoming",
            "series": series_out(entry, caller.locale),
            "occurrence": {
                "key": occ_key(occurrence),
                "start": start.astimezone(tz).isoformat(),
                "end": end.astimezone(tz).isoformat(),
                "number": number,
            },
            "next_dates": [o.astimezone(tz).isoformat() for o in upcoming],
            "partner": partner_out(entry, role),
            "etag": doc.etag,
            "pending": is_pending(doc.etag),
            "agenda": self._agenda_view(doc.agenda, caller.locale),
            "record": record_out(doc.record, doc.agenda) if doc.record else None,
            "previous": (
                {
                    "occurrence": previous.agenda.occurrence.astimezone(tz).isoformat(),
                    "agreements": [agreement_out(a) for a in previous.record.agreements],
                    "final": previous.record.is_final,
                }
                if previous and previous.record
                else None
            ),
            "open_actions": [action_out(a) for a in open_actions],
            "turn": turn_out(entry, doc, ended, role),
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
        add_rules(
            context, entry, doc.agenda, doc.record, role, active=self.registry.is_active(entry.id)
        )
        if self.journals is not None:
            if journal is None:
                journal = self.journals.read(entry)
            if isinstance(journal, ServiceError):
                raise journal
            context["journal"] = self.journals.view(
                entry, journal, role, occ_key(occurrence), caller.locale
            )
        return context

    # -- for the journal (`addin.conversations.journals`) --------------------------------------

    @property
    def templates(self) -> TemplateSet:
        return self._templates

    def series_for(self, caller: Caller, series_id: str) -> Series:
        """The series, for one of its partners only (403 for anyone else, 404 when unknown)."""
        entry = self._entry(series_id)
        self._require_partner(entry, caller.email)
        return entry

    def role_of(self, entry: Series, email: str) -> Role:
        """The partner's role; 403 for anyone else."""
        return self._require_partner(entry, email)

    def occurrence_at(self, entry: Series, key: str) -> datetime:
        """The series' occurrence `key` names; 400/404 otherwise."""
        return self._occurrence(entry, key)

    def docs_around(self, entry: Series, occurrence: datetime) -> tuple[Doc, Doc | None]:
        """The occurrence's document (made from the last one when new) and the one before."""
        return self._docs_around(entry, occurrence)

    def event_for(
        self, caller: Caller, entry: Series, event_id: str, occurrence: datetime
    ) -> Event:
        """The caller's event for the occurrence (the one they opened, else the owner's)."""
        return self._event_or_occurrence(caller, entry, event_id, occurrence)

    def occurrence_view(
        self, caller: Caller, entry: Series, event: Event, occurrence: datetime
    ) -> dict[str, Any]:
        """The context of an occurrence after a journal change."""
        return self._series_context(caller, entry, event, None)

    def journal_conflict(
        self,
        caller: Caller,
        entry: Series,
        event_id: str,
        occurrence: datetime,
        body: Mapping[str, Any],
    ) -> Changed:
        """409 for a journal saved meanwhile, with the current context and what was sent."""
        error = Changed(
            _(
                "The other partner changed this meanwhile. Both versions are kept: look at theirs, "
                "then apply yours again."
            )
        )
        event = self._event_or_occurrence(caller, entry, event_id, occurrence)
        error.extra = {"current": self._series_context(caller, entry, event, None), "yours": body}
        return error

    def read_named(self, entry: Series, name: str) -> tuple[bytes, str] | None:
        """A sealed file of the series (waiting on the server, else the drive's) and its etag."""
        waiting = self.pending.get(entry.id, name)
        if waiting is not None:
            return waiting.content, waiting.etag
        try:
            file = self._sealed_drive(entry).get(entry.id, name)
        except NotFound:
            return None
        return file.content, file.info.etag

    def store_named(self, entry: Series, name: str, content: bytes, etag: str | None) -> str:
        """Write a sealed file of the series over version `etag` (see `_store_doc`)."""
        return self._store_doc(entry, name, content, etag)

    @staticmethod
    def unreadable() -> Unreadable:
        return Unreadable(
            _(
                "The saved record of this conversation cannot be opened: it is damaged, was "
                "replaced by another file or was sealed for another series. Nothing was "
                "changed. Trying again will not help: ask your administrator, who finds the "
                "file and the reason in the server's log."
            )
        )

    def locale_of(self, email: str, *, default: str) -> str:
        """The language to write to someone in: a partner's own, else `default`."""
        for entry in self.registry.for_person(email):
            for person in entry.pair.partners:
                if person.email.lower() == email.lower():
                    return str(getattr(person.locale, "value", person.locale))
        return default

    def joined(self, email: str) -> date | None:
        """When the person joined the organisation, as the directory says (None: unknown)."""
        known = self._known(email)
        return known.joined if known is not None else None

    def guest_record_html(self, entry: Series, key: str) -> tuple[bytes, str]:
        """The record of one conversation as an HTML document in the employee's language,
        for a guest the employee let read it; `Missing` when there is no record yet."""
        occurrence = self._occurrence(entry, key)
        doc = self._read_doc(entry, occurrence)
        if doc is None or doc.record is None:
            raise Missing(_("This conversation has no record yet."))
        locale = str(getattr(entry.pair.employee.locale, "value", entry.pair.employee.locale))
        agenda = self._templates.localize(_as_seen(doc.agenda, Role.EMPLOYEE), locale)
        page = record_html(doc.record, agenda, locale, tz=entry.pair.tz, pair=entry.pair)
        return page.encode(), locale

    def invite_guest(self, entry: Series, occurrence: datetime, guest: Guest, *, add: bool) -> None:
        """Add a guest to (or take them off) the occurrence's event; a refusal is logged.

        The guest gets the calendar's own invitation, with the agreed agenda when the pair keeps
        a copy in the event.
        """
        if not entry.master_event_id:
            return
        calendar = self._calendar(entry.owner)
        try:
            found = [
                e
                for e in calendar.instances(
                    entry.master_event_id,
                    occurrence - timedelta(minutes=1),
                    occurrence + timedelta(minutes=1),
                )
                if (e.original_start or e.start) == occurrence
            ]
            if not found:
                return
            event = found[0]
            others = tuple(a for a in event.attendees if a.email.lower() != guest.email)
            attendees = (*others, Attendee(guest.email, guest.name)) if add else others
            if attendees == event.attendees:
                return
            calendar.update_event(event.id, EventPatch(attendees=attendees))
        except ConnectorError as exc:
            log.warning(
                "guest not %s the event %s/%s: %s",
                "added to" if add else "removed from",
                entry.id,
                occ_key(occurrence),
                exc,
            )

    # -- series ------------------------------------------------------------------------------

    def _entry(self, series_id: str) -> Series:
        """The series as it stands now: a change of manager in the directory handed over."""
        entry = self.registry.get(series_id) if len(series_id) <= 64 else None
        if entry is None:
            raise Missing(_("There is no such series: it may have been removed."))
        return self._current(entry)

    def _current(self, entry: Series) -> Series:
        """The series after handing it over, when the directory names another manager now."""
        if self.reconcile_reporting_line(entry.pair.employee.email):
            return self._reload(entry)
        return entry

    def _refuse_former_manager(self, entry: Series, email: str) -> None:
        wanted = email.strip().lower()
        if any(former == wanted for former, _s, _u in self.registry.former_managers(entry.id)):
            raise HandedOver(
                _(
                    "You are no longer the manager in this series: the organisation's directory "
                    "names %(name)s as the manager now, who has taken it over. The records stay "
                    "with the employee."
                ),
                name=entry.pair.manager.name,
            )

    def _reload(self, entry: Series) -> Series:
        return self.registry.get(entry.id) or entry

    @staticmethod
    def _role(entry: Series, email: str) -> Role | None:
        role: Role | None = entry.pair.role_of(email)
        return role

    def _require_partner(self, entry: Series, email: str) -> Role:
        role = self._role(entry, email)
        if role is None:
            self._refuse_former_manager(entry, email)
            raise Forbidden(_("Only the employee and the manager of this series can see it."))
        return role

    def _ongoing_series(self, one: str, other: str) -> Series | None:
        """The series of these two people (either role) with conversations still to come."""
        now = self._clock()
        wanted = {one.strip().lower(), other.strip().lower()}
        for entry in self.registry.for_person(one):
            emails = {p.email.strip().lower() for p in entry.pair.partners}
            if (
                emails == wanted
                and entry.rule.next_after(now) is not None
                and self.registry.is_active(entry.id)
            ):
                return entry
        return None

    def _existing(self, caller: Caller, entry: Series) -> dict[str, Any]:
        return existing_out(entry, caller.locale, self._clock(), caller.email)

    def _series_of(self, email: str, event: Event) -> Series | None:
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

    def _ensure_master(self, entry: Series, locale: str) -> Event:
        """Create the series' master event once (the request id makes a retry find it)."""
        calendar = self._calendar(entry.owner)
        employee, manager = entry.pair.employee, entry.pair.manager
        first = _first(entry.rule)
        template = self._templates.agenda(entry.template, locale)
        agenda = Agenda(entry.id, first, template.as_themes())
        copy = copy_html(entry, agenda, locale)
        master = calendar.create_event(
            NewEvent(
                subject=subject(entry, locale),
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

    def _remember_partner_copy(self, entry: Series, ical_uid: str) -> bool:
        """Map the manager's copy of the series (found by its iCalUId) to it, so the manager's
        first open of any of its conversations needs no lookup first; best effort.

        The invitation may not have arrived yet, or the manager may not have signed in: then
        it is looked for again, off the request's path, whenever the series' context is shown
        (`_look_for_partner_copy`); until found, the manager's first open finds the series from
        the event, one or two round trips more.
        """
        manager = entry.pair.manager.email
        try:
            copy = self._calendar(manager).find_event(ical_uid)
        except (ConnectorError, SignInRequired) as exc:
            log.info(
                "series %s: the manager's copy is not found yet (%s)", entry.id, type(exc).__name__
            )
            return False
        if copy is None:
            return False
        self.registry.remember(manager, [copy.id], entry.id)
        return True

    def _look_for_partner_copy(self, entry: Series) -> None:
        """Start `_remember_partner_copy` in the background while the manager's copy is
        unmapped: at most once per `look_again` seconds per series and manager."""
        key = (entry.pair.manager.email, entry.id)
        now = monotonic()
        if not entry.ical_uid or now - self._looked.get(key, -math.inf) < self.look_again:
            return
        if len(self._looked) >= LOOKS_KEPT:
            self._looked.clear()
        if self.registry.is_mapped(*key):
            self._looked[key] = math.inf  # mapped: never asked again
            return
        self._looked[key] = now
        if self._pool is None:
            self._remember_partner_copy(entry, entry.ical_uid)
            return
        future = self._pool.submit(self._remember_partner_copy, entry, entry.ical_uid)
        future.add_done_callback(_log_failure)

    def _first_upcoming(self, entry: Series, master: Event) -> Event:
        now = self._clock()
        calendar = self._calendar(entry.owner)
        found = calendar.instances(master.id, now, now + HORIZON)
        return found[0] if found else master

    def _plan_request(self, caller: Caller, body: Mapping[str, Any]) -> tuple[Pair, Preferences]:
        partner_email = body_text(body, "partner", 320).lower()
        if "@" not in partner_email:
            raise Invalid(_("Name your partner by email address."))
        if partner_email == caller.email:
            raise Invalid(_("A conversation needs two people: choose your manager or employee."))
        role = body.get("role")
        if role not in ("employee", "manager"):
            raise Invalid(_("Say whether you are the employee or the manager."))
        name = body_text(body, "partner_name", 200, required=False, line=True)
        prefs = parse_preferences(body.get("preferences"))
        employee_email, manager_email = (
            (caller.email, partner_email) if role == "employee" else (partner_email, caller.email)
        )
        # The directory decides who is whose manager, before anything is read or written: a
        # pair the caller made up would show a stranger's free/busy and write in their calendar.
        named = self._directory.manager_of(employee_email)
        if named is None or named.strip().lower() != manager_email.strip().lower():
            raise NotReportingLine(
                _(
                    "%(partner)s is not your manager or your direct report in the organisation's "
                    "directory: a series is planned only between an employee and their own "
                    "manager. If the directory is wrong, ask HR to correct it."
                ),
                partner=partner_email,
            )
        # A change of manager is handed over first, so the new pair finds the series it has.
        self.reconcile_reporting_line(employee_email)
        me = self._person(caller.email, caller.name, caller.locale)
        other = self._person(partner_email, name, caller.locale)
        employee, manager = (me, other) if role == "employee" else (other, me)
        tz = parse_zone(body, "tz") or employee.tz
        return Pair(employee=employee, manager=manager, tz=tz), prefs

    def _person(self, email: str, name: str, locale: str) -> Person:
        known = self._known(email)
        own = self.people.hours(email)
        tz = own.tz if own else (known.tz if known and known.tz else self._default_tz)
        return Person(
            id=email,
            name=(known.name if known else "") or name or email.split("@", maxsplit=1)[0],
            email=email,
            tz=tz,
            locale=Locale(locale if locale in ("nl", "en") else self._default_locale),
        )

    def _known(self, email: str) -> DirectoryPerson | None:
        """What the directory says of someone's name, zone and hours; None when it cannot say.

        Only comfort: the defaults serve when another person's mailbox cannot be read now (they
        never signed in, the provider is away). Reporting lines are never guessed like this.
        """
        try:
            return self._directory.person(email)
        except ConnectorError as exc:
            log.info("the directory could not describe %s: %s", email, exc)
            return None

    def _working_hours(self, person: Person) -> WorkingHours:
        """The person's own hours, else the directory's, else Monday-Friday 09:00-17:00."""
        own = self.people.hours(person.email)
        if own is None:
            known = self._known(person.email)
            if known is not None and known.hours is not None:
                own = OwnHours(known.hours, known.tz or person.tz)
        if own is None:
            return WorkingHours(tz=person.tz)
        try:
            return WorkingHours(
                tz=own.tz,
                days=frozenset(Weekday[d] for d in own.hours.days),
                start=own.hours.start,
                end=own.hours.end,
            )
        except (CadenceError, KeyError):
            # A directory's odd hours (an unknown zone, a night shift) must not stop planning.
            log.warning("working hours of %s not usable, using the default", person.email)
            return WorkingHours(tz=person.tz)

    def _propose(
        self, pair: Pair, prefs: Preferences, locale: str, viewer_tz: str | None = None
    ) -> Proposal:
        now = self._clock()
        start, end = now, now + HORIZON
        employee, manager = pair.employee.email, pair.manager.email
        if self._provider_of is None or self._provider_of(employee) == self._provider_of(manager):
            busy = self._calendar(employee).free_busy([employee, manager], start, end)
        else:
            # Neither provider shows the other's calendars: each partner's own is asked.
            own, theirs = self._gather(
                lambda: self._calendar(employee).free_busy([employee], start, end),
                lambda: self._calendar(manager).free_busy([manager], start, end),
            )
            busy = {**own, **theirs}

        def availability(person: Person) -> Availability:
            intervals = tuple(Interval(b.start, b.end) for b in busy.get(person.email, []))
            return Availability(person=person, hours=self._working_hours(person), busy=intervals)

        try:
            return plan(
                pair,
                availability(pair.employee),
                availability(pair.manager),
                prefs,
                now=now,
                country=self._country,
                locale=locale,
                viewer_tz=viewer_tz,
            )
        except CadenceError as exc:
            raise Invalid(_("The planner could not plan this series."), detail=exc) from exc

    # -- occurrences and documents -----------------------------------------------------------

    def _occurrence(self, entry: Series, key: str) -> datetime:
        instant = parse_occ_key(key)
        try:
            local = instant.astimezone(zone(entry.pair.tz))
            window = (local - timedelta(minutes=1), local + timedelta(minutes=1))
        except OverflowError:
            # A key at the very edge of the calendar (year 1 or 9999) is no series' occurrence.
            window = None
        found = entry.rule.occurrences(*window) if window else []
        if not found:
            raise Missing(_("This series has no conversation at %(when)s."), when=key)
        occurrence: datetime = found[0]
        return occurrence

    def _occurrence_of(self, entry: Series, event: Event, now: datetime) -> datetime:
        """The rule's occurrence an event stands for; the master stands for the next one."""
        if event.series_id and event.original_start is not None:
            original = event.original_start
        elif event.is_series_master:
            original = _master_stands_for(entry, now)
        else:
            original = event.start
        return self._nearest_occurrence(entry, original) or _first(entry.rule)

    @staticmethod
    def _nearest_occurrence(entry: Series, moment: datetime) -> datetime | None:
        """The rule's occurrence nearest `moment`, within 45 days; None when there is none."""
        try:
            original = moment.astimezone(zone(entry.pair.tz))
            window = entry.rule.occurrences(
                original - timedelta(days=45), original + timedelta(days=45)
            )
        except OverflowError:  # a moment at the calendar's very edge is near no occurrence
            return None
        if not window:
            return None
        best: datetime = min(window, key=lambda o: abs(o - original))
        return best

    def _docs_around(self, entry: Series, occurrence: datetime) -> tuple[Doc, Doc | None]:
        """This occurrence's document (made from the last earlier one when new) and that one.

        The previous occurrence's document is read alongside. Only when this document is new and
        the previous conversation has none (it was skipped) are earlier ones looked for, so
        nothing still open is lost on the way.
        """
        _none, docs = self._docs_around_with(entry, occurrence)
        return docs

    def _docs_around_with(
        self, entry: Series, occurrence: datetime, *alongside: Callable[[], Any]
    ) -> tuple[tuple[Any, ...], tuple[Doc, Doc | None]]:
        """`_docs_around`, with each of `alongside` run at the same time as its reads.

        All in one gather: a task in the pool that waits for tasks of its own can wait forever
        once every worker does the same.
        """
        before = _previous_occurrence(entry.rule, occurrence)
        names = [doc_name(occ_key(o)) for o in (occurrence, before) if o is not None]
        waiting = self.pending.get_many(entry.id, names)
        *extra, current, previous = self._gather(
            *alongside,
            lambda: self._read_doc(entry, occurrence, waiting),
            lambda: None if before is None else self._read_doc(entry, before, waiting),
        )
        if current is not None:
            if previous is None and before is not None:
                previous = self._made_from(entry, current, before)
            return tuple(extra), (current, previous)
        if previous is None and before is not None:
            previous = self._latest_doc_before(entry, before)
        return tuple(extra), (self._new_doc(entry, occurrence, previous), previous)

    def _made_from(self, entry: Series, doc: Doc, before: datetime) -> Doc | None:
        """The earlier document `doc`'s agenda was carried from (the one before was skipped)."""
        if doc.made_from is None:
            # Written before documents named it: look for it.
            return self._latest_doc_before(entry, before)
        if not doc.made_from:
            return None
        return self._read_doc(entry, parse_occ_key(doc.made_from))

    def _latest_doc_before(self, entry: Series, occurrence: datetime) -> Doc | None:
        """The document of the latest occurrence before `occurrence` that has one, or None.

        One listing of the series' folder and one read, however many were skipped; only the
        rule's occurrences since the series began count.
        """
        earlier = entry.rule.occurrences(_first(entry.rule), occurrence)
        if not earlier:
            return None
        names = self._doc_names(entry)
        for candidate in reversed(earlier):
            if candidate < occurrence and doc_name(occ_key(candidate)) in names:
                return self._read_doc(entry, candidate)
        return None

    def documents(self, entry: Series, since: datetime, until: datetime) -> list[Doc]:
        """The documents of the series' occurrences that start in [since, until), by occurrence:
        one listing of its folder, then the reads at the same time (the background sweep)."""
        names = self._doc_names(entry)
        wanted = [
            occurrence
            for occurrence in entry.rule.occurrences(since, until)
            if doc_name(occ_key(occurrence)) in names
        ]
        waiting = self.pending.get_many(entry.id, [doc_name(occ_key(o)) for o in wanted])
        found = self._gather(
            *(functools.partial(self._read_doc, entry, o, waiting) for o in wanted)
        )
        return [doc for doc in found if doc is not None]

    def _doc_names(self, entry: Series) -> set[str]:
        """The series' documents: in its drive folder, and those waiting to be put there."""
        listed = {info.name for info in self._sealed_drive(entry).list(entry.id)}
        return listed | self.pending.names(entry.id)

    def _store_doc(self, entry: Series, name: str, content: bytes, etag: str | None) -> str:
        """Write a document made from the version `etag` names; its new etag.

        When the drive does not answer (after the retries) the document waits on the server
        (`pending`) and the answer is its pending etag: the save is not lost, and the worker
        puts it in the drive later. `Conflict` when another save came first.
        """
        waiting: Pending | None = None
        base = etag
        if is_pending(etag):
            waiting = self.pending.get(entry.id, name)
            if waiting is None or waiting.etag != etag:
                raise Conflict(f"{entry.id}/{name} changed since {etag}")
            base = waiting.base_etag
        try:
            info = self._put_over(entry, name, content, base, waiting)
        except (Unavailable, Throttled) as exc:
            try:
                kept = self.pending.keep(
                    entry.id,
                    name,
                    entry.owner,
                    content,
                    base_etag=base,
                    replacing=None if waiting is None else waiting.version,
                    tried=content,
                )
            except PendingRace:
                raise Conflict(f"{entry.id}/{name} was saved meanwhile") from None
            log.warning(
                "drive did not answer, document kept on the server: %s/%s (%s)",
                entry.id,
                name,
                type(exc).__name__,
            )
            return kept.etag
        if waiting is not None:
            self.pending.delivered(entry.id, name, waiting.version, info.etag)
        return info.etag

    def _put_over(
        self, entry: Series, name: str, content: bytes, base: str | None, waiting: Pending | None
    ) -> FileInfo:
        """Put `content` over the drive's version `base`. When a pending document was made from
        `base` and the drive holds a version a write of it tried (its answer was lost), over
        that."""
        sealed = self._sealed_drive(entry)
        try:
            return sealed.put(entry.id, name, content, if_match=base, if_none_match=base is None)
        except Conflict:
            if waiting is None:
                raise
            current = sealed.get(entry.id, name)
            if not waiting.wrote(current.content):
                self._keep_aside(entry, waiting)
                raise
            if content == current.content:
                return current.info
            return sealed.put(entry.id, name, content, if_match=current.info.etag)

    def _keep_aside(self, entry: Series, waiting: Pending) -> None:
        """The drive's copy moved on without the pending one (written around this server):
        the pending one goes beside it, sealed, under its own name, and stops waiting."""
        stem = waiting.name.removesuffix(".json")
        aside = f"{stem}.unsent-{waiting.saved_at:%Y%m%dT%H%M%S}-{waiting.version}.json"
        sealed = self._sealed_drive(entry)
        # Put there before by a delivery whose answer was lost: then it is there.
        with contextlib.suppress(Conflict):
            sealed.put(entry.id, aside, waiting.content, if_none_match=True)
        self.pending.delivered(entry.id, waiting.name, waiting.version, None)
        log.error(
            "drive copy of %s/%s changed around the server: the waiting version is kept as %s",
            entry.id,
            waiting.name,
            aside,
        )

    def deliver_pending(self, limit: int = 500) -> dict[str, int]:
        """Put the documents that wait on the server into their drives (the worker's step).

        Counts by outcome: ``delivered``, ``waiting`` (the drive still does not answer),
        ``aside`` (kept beside a drive copy written around this server).
        """
        counts = {"delivered": 0, "waiting": 0, "aside": 0}
        for waiting in self.pending.waiting(limit):
            entry = self.registry.get(waiting.series_id)
            if entry is None:
                counts["waiting"] += 1
                self.pending.failed(waiting.series_id, waiting.name, waiting.version, "no series")
                continue
            try:
                info = self._put_over(
                    entry, waiting.name, waiting.content, waiting.base_etag, waiting
                )
            except Conflict:
                counts["aside"] += 1
                continue
            except ConnectorError as exc:
                counts["waiting"] += 1
                self.pending.failed(
                    waiting.series_id, waiting.name, waiting.version, type(exc).__name__
                )
                log.warning(
                    "pending document %s/%s not delivered yet (%s)",
                    waiting.series_id,
                    waiting.name,
                    type(exc).__name__,
                )
                continue
            self.pending.delivered(waiting.series_id, waiting.name, waiting.version, info.etag)
            # The next save is made from the drive's copy again: read at the next sweep.
            self.registry.set_next_sweep(entry.id, None)
            counts["delivered"] += 1
            log.info("pending document delivered: %s/%s", waiting.series_id, waiting.name)
        return counts

    def _read_doc(
        self, entry: Series, occurrence: datetime, pending: Mapping[str, Pending] | None = None
    ) -> Doc | None:
        """The occurrence's document: the one waiting on the server, else the drive's.
        `pending`: what waits among the documents read alongside (None: ask)."""
        name = doc_name(occ_key(occurrence))
        waiting = pending.get(name) if pending is not None else self.pending.get(entry.id, name)
        if waiting is not None:
            content, etag = waiting.content, waiting.etag
        else:
            try:
                file = self._sealed_drive(entry).get(entry.id, name)
            except NotFound:
                return None
            content, etag = file.content, file.info.etag
        try:
            return Doc.from_bytes(content, etag)
        except (
            CadenceError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            RecursionError,
        ) as exc:
            # It opened, so it is ours, but its contents do not read: as for a record that does
            # not open, the operator gets the file and the reason, the person a plain answer.
            name = doc_name(occ_key(occurrence))
            log.error("record %s/%s cannot be read, not retried: %s", entry.id, name, exc)
            raise Unreadable(
                _(
                    "The saved record of this conversation cannot be opened: it is damaged, was "
                    "replaced by another file or was sealed for another series. Nothing was "
                    "changed. Trying again will not help: ask your administrator, who finds the "
                    "file and the reason in the server's log."
                )
            ) from exc

    def _new_doc(self, entry: Series, occurrence: datetime, previous: Doc | None) -> Doc:
        template = self._templates.agenda(entry.template, entry.pair.employee.locale)
        if previous is not None:
            agenda = carry_over(
                previous.agenda,
                previous.record,
                occurrence=occurrence,
                themes=template.as_themes(),
            )
            return Doc(agenda, None, None, made_from=occ_key(previous.agenda.occurrence))
        return Doc(Agenda(entry.id, occurrence, template.as_themes()), None, None, made_from="")

    def _sealed_drive(self, entry: Series) -> SealedDrive:
        sealed = self._sealed.get(entry.owner)
        if sealed is None:
            sealed = SealedDrive(
                self._drive(entry.owner), self._keyring, server_keys=self.series_keys
            )
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
        self, caller: Caller, entry: Series, event_id: str, occurrence: datetime
    ) -> Event:
        if event_id:
            try:
                return self._calendar(caller.email).get_event(event_id)
            except NotFound:
                pass
        if entry.master_event_id:
            calendar = self._calendar(entry.owner)
            found = calendar.instances(
                entry.master_event_id,
                occurrence - timedelta(minutes=1),
                occurrence + timedelta(minutes=1),
            )
            for event in found:
                if (event.original_start or event.start) == occurrence:
                    return event
            # Moved: the instance keeps the rule's start as its original start.
            for event in calendar.instances(
                entry.master_event_id, occurrence - MOVED_WITHIN, occurrence + MOVED_WITHIN
            ):
                if event.original_start == occurrence:
                    return event
        raise Missing(
            _("This appointment is not in your calendar any more: it may have been deleted.")
        )

    def _change_master(self, entry: Series, fields: Mapping[str, Any]) -> None:
        """Set only the changed fields on the series' event, so a partner's change made at the
        same time is kept; an event changed meanwhile is read again (bounded)."""
        calendar = self._calendar(entry.owner)
        assert entry.master_event_id is not None
        for attempt in range(COPY_ATTEMPTS):
            master = calendar.get_event(entry.master_event_id)
            patch = EventPatch(
                location=fields.get("place"),
                online=fields.get("online"),
                end=(
                    master.start + timedelta(minutes=fields["duration"])
                    if "duration" in fields
                    else None
                ),
            )
            try:
                calendar.update_event(master.id, patch, if_match=master.etag)
                return
            except Conflict:
                if attempt + 1 == COPY_ATTEMPTS:
                    raise

    def _copy_agreed_agenda(self, entry: Series, occurrence: datetime, agenda: Agenda) -> None:
        """The event copy of an agenda just agreed; a calendar that will not take it is logged.

        The agreement is saved by then: a failed copy must not make it look refused (compose mode
        in Outlook writes the copy too).
        """
        try:
            self._write_event_copy(entry, occurrence, agenda)
        except ConnectorError as exc:
            log.warning(
                "the event copy of %s/%s was not written: %s",
                entry.id,
                occ_key(occurrence),
                exc,
            )

    def _write_event_copy(self, entry: Series, occurrence: datetime, agenda: Agenda) -> None:
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
        locale = entry.pair.employee.locale
        copy = copy_out(entry, self._templates.localize(agenda, locale), locale)
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
        entry: Series,
        event_id: str,
        occurrence: datetime,
        body: Mapping[str, Any],
        *,
        docs: tuple[Doc, Doc | None] | None = None,
    ) -> Changed:
        error = Changed(
            _(
                "The other partner changed this meanwhile. Both versions are kept: look at theirs, "
                "then apply yours again."
            )
        )
        event = self._event_or_occurrence(caller, entry, event_id, occurrence)
        read = None if docs is None else (occurrence, docs)
        current = self._series_context(caller, entry, event, read)
        error.extra = {"current": current, "yours": body}
        return error

    def _gather(self, *calls: Callable[[], Any]) -> tuple[Any, ...]:
        if self._pool is None:
            return tuple(call() for call in calls)
        futures = [self._pool.submit(call) for call in calls]
        return tuple(f.result() for f in futures)


def _log_failure(future: Future[bool]) -> None:
    """A background task's unexpected failure goes to the log, not to a request."""
    exc = future.exception()
    if exc is not None:
        log.error("looking for the manager's copy of a series failed: %r", exc)


def _outcome(read: Callable[[], Event]) -> Event | ServiceError:
    """The event, or the refusal reading it gave, to be raised once the rest is known."""
    try:
        return read()
    except ServiceError as exc:
        return exc


def _first(rule: Rule) -> datetime:
    """The rule's first occurrence, aware in its zone."""
    return rule.first.replace(tzinfo=zone(rule.tz)) if rule.first.tzinfo is None else rule.first


def _master_stands_for(entry: Series, now: datetime) -> datetime:
    """The occurrence a series master stands for: the next one (or the one under way)."""
    upcoming = entry.rule.next_after(now - timedelta(minutes=entry.duration))
    return upcoming if upcoming is not None else _first(entry.rule)


def _previous_occurrence(rule: Rule, occurrence: datetime) -> datetime | None:
    if occurrence <= _first(rule):
        return None
    window = rule.occurrences(occurrence - timedelta(days=400), occurrence)
    return window[-1] if window else None


def _occurrence_number(rule: Rule, occurrence: datetime) -> int:
    return len(rule.occurrences(_first(rule), occurrence)) + 1


LOOK_AGAIN = 600.0
"""Seconds before a manager's copy not found is looked for again (an invitation on its way, a
manager not yet signed in)."""

LOOKS_KEPT = 10_000
"""At most this many looks are remembered in memory (then forgotten, and asked again)."""

COPY_ATTEMPTS = 3
"""How often the agenda copy is spliced into an event that keeps changing under it."""


def _guess_occurrence(entry: Series, event_id: str) -> datetime | None:
    """The occurrence an event id most likely stands for, for a speculative read (or None)."""
    stamp = event_id.rpartition("_")[2]
    try:
        instant = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    try:
        local = instant.astimezone(zone(entry.pair.tz))
        found = entry.rule.occurrences(local - timedelta(minutes=1), local + timedelta(minutes=1))
    except OverflowError:  # a stamp at the calendar's very edge is no occurrence
        return None
    return found[0] if found else None


def _same_plan(entry: Series, caller: Caller, body: Mapping[str, Any]) -> bool:
    """True when `body` asks for the plan `entry` is: the caller's role and partner."""
    role = entry.pair.role_of(caller.email)
    if role is None:
        return True  # not theirs: refused as such
    other = entry.pair.manager if role is Role.EMPLOYEE else entry.pair.employee
    partner = body.get("partner")
    return (
        body.get("role") == role.value
        and isinstance(partner, str)
        and partner.strip().lower() == other.email
    )


def _as_seen(agenda: Agenda, role: Role) -> Agenda:
    """The agenda as `role` may see it (a draft is the employee's until shared)."""
    return replace(agenda, items=visible_items(agenda, role))


def _hours_out(own: OwnHours) -> dict[str, Any]:
    return {
        "days": list(own.hours.days),
        "start": f"{own.hours.start:%H:%M}",
        "end": f"{own.hours.end:%H:%M}",
        "tz": own.tz,
    }


def _ids_of(event: Event) -> list[str]:
    return [event.id] + ([event.series_id] if event.series_id else [])
