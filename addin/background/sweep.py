"""The sweep: for every active series, what is due now, delivered once each.

For each active series the sweep reads what decides its reminders: the occurrences as the
calendar holds them (a moved one counts at its new start, a cancelled one not at all) and the
documents of the last year and the coming months (records and agendas, from the employee's
drive). `cadence.triggers.due_triggers` says what is due; each (trigger, recipient) is a
`Delivery`, claimed in the ledger before its mail is sent, from the recipient's own mailbox
with the delivery's mail key, so that nothing goes out twice (see `addin.background.ledger`).

A person whose sign-in is gone (their consent withdrawn, their grant revoked) is passed over
for the rest of the sweep: their deliveries stay unclaimed and go out once they sign in again,
while they are still worth sending. A series whose calendar or drive cannot be read now is
left for the next sweep; the rest go on.

The sweep logs one line per delivery: kind, series id and ledger key, never content or tokens.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from addin.background.ledger import Delivery, Ledger, State
from addin.background.mails import SIGN_IN, Occasion, compose, render
from addin.background.preferences import Reminders, ReminderSettings
from addin.cadence_report import CadenceStats
from addin.conversations import Conversations
from addin.conversations.document import Doc
from addin.identity import SignInRequired
from addin.registry import Registry
from cadence.conversation import ActionStatus, AgreementState
from cadence.holidays import public_holidays
from cadence.model import Person, Series
from cadence.triggers import Offsets, Trigger, TriggerKind, due_triggers, held_occurrences
from cadence.zones import zone
from connectors.errors import AuthExpired, ConnectorError, SendUncertain, Throttled, Unavailable
from connectors.models import Mail
from connectors.ports import Calendar, Mailer

log = logging.getLogger(__name__)

PAGE = 200
"""Series read from the registry at a time."""
THREADS = 8
"""Series read and delivered at once."""
PER_MAILBOX = 4
"""Provider calls at once for one person's mailbox (Graph allows four per app and mailbox)."""
MAX_WAIT = timedelta(hours=1)
"""The longest a series goes unread (less up to 15 minutes, by its id): a move or cancellation
made in the calendar itself is seen within this time."""
QUIET_RETRY = timedelta(hours=1)
"""How soon a series whose mail waits (a quiet day, a person who must sign in again) is read
again."""
OPEN = ("busy", "retry")
"""Outcomes that leave a delivery to the next sweep (a quiet day or a sign-in still needed waits
an hour: `QUIET_RETRY`)."""
LOOK_BACK = timedelta(days=366 + 8)
"""How far back the sweep reads documents: a year of held conversations, plus the record
prompt's week."""
LOOK_AHEAD = timedelta(days=40)
"""How far ahead it reads agendas: the prepare reminder's week and the agenda deadline."""


class Links(Protocol):
    """Where a mail's buttons go, for the series, the occurrence (None for a cadence nudge) and
    the recipient."""

    def open(self, entry: Series, occurrence: datetime | None, person: Person) -> str:
        """The page that tells how to open the conversation in the calendar."""
        ...

    def form(self, entry: Series, occurrence: datetime, person: Person) -> str:
        """The signed link to the occurrence's record form, for `person` alone."""
        ...

    def help(self, person: Person) -> str:
        """The help page on opening Goed Gesprek and signing in, in the person's language."""
        ...


@dataclass(frozen=True, slots=True)
class Planned:
    """One delivery the sweep found due, and what became of it."""

    delivery: Delivery
    trigger: Trigger
    recipient: Person
    outcome: str = "due"
    """``due`` (a dry run), ``sent``, ``settled`` (sent or skipped before), ``busy`` (another
    consumer has it), ``off`` (the recipient turned this kind off), ``quiet`` (their quiet day:
    a later sweep sends it), ``parked`` (they must sign in again), ``uncertain`` (the send got
    no answer: not sent again), ``retry`` or ``failed``."""


@dataclass(slots=True)
class Report:
    """What one sweep did."""

    series: int = 0
    planned: list[Planned] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Series left for the next sweep: their calendar or drive could not be read."""
    parked: set[str] = field(default_factory=set)
    told: set[str] = field(default_factory=set)
    """The sign-in notices this sweep took on (one per parked person, whatever their series)."""
    reminders: dict[str, Reminders] = field(default_factory=dict)
    """Each recipient's reminder settings, read once per sweep."""
    documents: dict[str, int] = field(default_factory=dict)
    """Documents saved while a drive did not answer, by what their delivery did: ``delivered``,
    ``waiting``, ``aside`` (see `Conversations.deliver_pending`)."""

    def count(self, outcome: str) -> int:
        return sum(1 for p in self.planned if p.outcome == outcome)


def consumer_name() -> str:
    """This consumer's name in the ledger's claims: host, process and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Sweep:
    """One sweep over every active series, delivering what is due once."""

    def __init__(
        self,
        *,
        registry: Registry,
        conversations: Conversations,
        calendar: Callable[[str], Calendar],
        mailer: Callable[[str], Mailer],
        ledger: Ledger,
        clock: Callable[[], datetime],
        links: Links,
        country: str = "NL",
        offsets: Offsets | None = None,
        owner: str | None = None,
        threads: int = THREADS,
        signed_in_at: Callable[[str], str] = lambda email: "",
    ) -> None:
        self._registry = registry
        self._conversations = conversations
        self._calendar = calendar
        self._mailer = mailer
        self._ledger = ledger
        self._clock = clock
        self._links = links
        self._signed_in_at = signed_in_at
        self._country = country
        self._offsets = offsets or Offsets()
        self.owner = owner or consumer_name()
        self.threads = threads
        self._settings = ReminderSettings(registry.engine)
        self._stats = CadenceStats(registry.engine, clock)
        self._lock = threading.Lock()
        self._mailboxes: dict[str, threading.BoundedSemaphore] = {}

    def run(self, *, dry_run: bool = False, everything: bool = False) -> Report:
        """Sweep the active series that may have something due; with `dry_run` nothing is
        claimed, sent or scheduled (and every active series is read, as with `everything`).

        Series are read `threads` at a time; provider calls for one person's mailbox are
        limited to `PER_MAILBOX` at once (Graph throttles a mailbox beyond four)."""
        now = self._clock()
        report = Report()
        if not dry_run:
            # First the documents that wait for a drive: what is due is read from them.
            report.documents = self._conversations.deliver_pending()
        with ThreadPoolExecutor(self.threads, thread_name_prefix="sweep") as pool:
            for page in self._pages(now, every=dry_run or everything):
                for entry, planned, unreadable, then in pool.map(
                    lambda e: self._one(e, now, report, dry_run), page
                ):
                    report.series += 1
                    report.planned.extend(planned)
                    if unreadable:
                        report.unreadable.append(entry.id)
                    if not dry_run:
                        self._registry.set_next_sweep(entry.id, then)
        return report

    def _pages(self, now: datetime, *, every: bool) -> Iterator[list[Series]]:
        after = ""
        while True:
            if every:
                page = self._registry.active(after=after, limit=PAGE)
            else:
                page = self._registry.due_for_sweep(now, after=after, limit=PAGE)
            if page:
                yield page
            if len(page) < PAGE:
                return
            after = page[-1].id

    def _one(
        self, entry: Series, now: datetime, report: Report, dry_run: bool
    ) -> tuple[Series, list[Planned], bool, datetime | None]:
        """One series: read it, deliver what is due; when to read it next (None: next sweep)."""
        try:
            with self._mailbox(entry.owner):
                state = self._read(entry, now)
        except (ConnectorError, SignInRequired) as exc:
            log.warning("sweep: series %s left for the next sweep: %s", entry.id, _why(exc))
            return entry, [], True, None
        if not dry_run:
            self._stats.record(
                entry.id, state.held_dates, state.next_planned, since=now - timedelta(days=365)
            )
        planned = [
            Planned(
                Delivery(trigger.key, trigger.kind.value, entry.id, person.email, trigger.due),
                trigger,
                person,
            )
            for trigger in state.triggers
            for person in trigger.recipients
        ]
        settled = self._ledger.done(p.delivery.key for p in planned)
        done: list[Planned] = []
        for one in planned:
            if one.delivery.key in settled:
                done.append(_with(one, "settled"))
                continue
            wanted = self._wanted(one.recipient, report)
            if one.delivery.kind in wanted.off:
                if not dry_run and self._ledger.claim(one.delivery, self.owner):
                    self._ledger.skipped(one.delivery.key, self.owner, "off")
                done.append(_with(one, "off"))
            elif wanted.quiet_on(now.astimezone(zone(one.recipient.tz))):
                done.append(_with(one, "quiet"))
            elif dry_run:
                done.append(one)
            else:
                with self._mailbox(one.recipient.email):
                    done.append(self._deliver(state, one, report))
        if not dry_run:
            for one in [p for p in done if p.outcome == "parked"]:
                self._tell_to_sign_in(state, one.recipient, report)
        return entry, done, False, self._next_read(state, done)

    def _tell_to_sign_in(self, state: _State, parked: Person, report: Report) -> None:
        """Tell a person whose stored sign-in ended how to sign in again: once per time they
        are parked, from their partner's mailbox (their own cannot send), in their language.

        The ledger's key names the sign-in that ended, so a person parked again after signing
        in is told again; a partner who is parked too cannot send it, and a later sweep tries.
        """
        pair = state.entry.pair
        partner = (
            pair.manager if parked.email.lower() == pair.employee.email.lower() else pair.employee
        )
        sender = partner.email.lower()
        if sender in report.parked:
            return
        episode = self._signed_in_at(parked.email.lower()) or "-"
        delivery = Delivery(
            f"signin:{parked.email.lower()}:{episode}",
            SIGN_IN,
            state.entry.id,
            parked.email,
            state.now,
        )
        with self._lock:
            if delivery.key in report.told:
                return
            report.told.add(delivery.key)
        if self._ledger.done([delivery.key]) or not self._ledger.claim(delivery, self.owner):
            return
        letter = compose(Occasion(SIGN_IN, parked, partner, self._links.help(parked)))
        text, html = render(letter)
        mail = Mail(
            sender=sender,
            to=(parked.email,),
            subject=letter.subject,
            text=text,
            html=html,
            key=delivery.mail_key,
        )
        try:
            with self._mailbox(sender):
                sent = self._mailer(sender).send(mail)
        except (AuthExpired, SignInRequired) as exc:
            with self._lock:
                report.parked.add(sender)
            self._ledger.release(delivery.key, self.owner, "sign-in needed", counts=False)
            log.info("sweep: %s must sign in again too (%s)", _masked(sender), _why(exc))
            return
        except SendUncertain as exc:
            # It may have gone: another try could deliver it twice. Done, never sent again.
            self._ledger.sent(delivery.key, self.owner, "uncertain")
            log.warning(
                "sweep: uncertain %s %s %s (%s): not sent again",
                SIGN_IN,
                state.entry.id,
                delivery.key,
                _why(exc),
            )
            return
        except ConnectorError as exc:
            self._ledger.release(delivery.key, self.owner, _why(exc))
            log.warning(
                "sweep: retry %s %s %s (%s)", SIGN_IN, state.entry.id, delivery.key, _why(exc)
            )
            return
        self._ledger.sent(delivery.key, self.owner, sent.id)
        log.info("sweep: sent %s %s %s", SIGN_IN, state.entry.id, delivery.key)

    def _mailbox(self, email: str) -> threading.BoundedSemaphore:
        key = email.strip().lower()
        with self._lock:
            found = self._mailboxes.get(key)
            if found is None:
                found = threading.BoundedSemaphore(PER_MAILBOX)
                self._mailboxes[key] = found
        return found

    def _next_read(self, state: _State, done: list[Planned]) -> datetime | None:
        """The earliest moment something could fall due for the series as things stand, at
        most `MAX_WAIT` on; None (the next sweep) while a delivery is still open."""
        now = state.now
        if any(p.outcome in OPEN for p in done):
            return None
        if any(p.outcome in ("quiet", "parked") for p in done):
            return now + QUIET_RETRY
        entry, offsets = state.entry, self._offsets
        length = timedelta(minutes=entry.duration)
        # The hourly look, spread over a quarter of an hour by the series' id, so that series
        # first read together are not all read again in one sweep.
        spread = int(hashlib.sha256(entry.id.encode()).hexdigest()[:8], 16) % 900
        candidates = [now + MAX_WAIT - timedelta(seconds=spread)]
        window = entry.rule.occurrences(
            now - length - offsets.after_meeting, now + MAX_WAIT + offsets.prepare + LOOK_AHEAD
        )
        for occurrence in window:
            start = state.moved.get(occurrence, occurrence)
            candidates.append(start - offsets.prepare)
            # No later than the agenda deadline (working days, holidays): an early read is cheap.
            candidates.append(start - timedelta(days=offsets.agenda_working_days + 4))
            candidates.append(start + length + offsets.after_meeting)
        for doc in state.docs.values():
            for agreement in doc.record.agreements if doc.record else ():
                if agreement.state is AgreementState.PROPOSED and agreement.proposed_at:
                    candidates.append(agreement.proposed_at + offsets.acceptance)
        local = now.astimezone(zone(entry.rule.tz))
        first_of_next = (local.replace(day=28) + timedelta(days=4)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        candidates.append(first_of_next)
        return min(c for c in candidates if c > now)

    def _wanted(self, person: Person, report: Report) -> Reminders:
        email = person.email.lower()
        found = report.reminders.get(email)
        if found is None:
            found = self._settings.get(email)
            with self._lock:
                report.reminders[email] = found
        return found

    # -- what is due ------------------------------------------------------------------------------

    def _read(self, entry: Series, now: datetime) -> _State:
        since, until = now - LOOK_BACK, now + LOOK_AHEAD
        cancelled, moved, web_links = self._calendar_state(entry, since, until)
        docs = {d.agenda.occurrence: d for d in self._conversations.documents(entry, since, until)}
        records = [d.record for d in docs.values() if d.record is not None]
        triggers = due_triggers(
            entry,
            now,
            records=records,
            agendas=[d.agenda for d in docs.values()],
            cancelled=cancelled,
            moved=moved,
            holidays=self._holidays(entry, now),
            offsets=self._offsets,
        )
        year = entry.rule.occurrences(now - timedelta(days=365), now)
        held = held_occurrences(
            entry, now, occurrences=year, records=records, cancelled=cancelled, moved=moved
        )
        recent = [o for o in held if o >= now - timedelta(days=365)]
        upcoming = [
            moved.get(o, o) for o in entry.rule.occurrences(now, until) if o not in cancelled
        ]
        planned = min(upcoming) if upcoming else entry.rule.next_after(until)
        return _State(
            entry, now, triggers, docs, moved, len(recent), web_links, tuple(recent), planned
        )

    def _calendar_state(
        self, entry: Series, since: datetime, until: datetime
    ) -> tuple[set[datetime], dict[datetime, datetime], dict[datetime, str]]:
        """The rule's starts the calendar no longer has (cancelled), the moved ones, and where
        each occurrence opens in its owner's web calendar."""
        if not entry.master_event_id:
            return set(), {}, {}
        found = self._calendar(entry.owner).instances(entry.master_event_id, since, until)
        moved: dict[datetime, datetime] = {}
        present: set[datetime] = set()
        web_links: dict[datetime, str] = {}
        for event in found:
            original = event.original_start or event.start
            present.add(original)
            if event.web_link:
                web_links[original] = event.web_link
            if event.start != original:
                moved[original] = event.start
        # An occurrence the calendar lists nowhere, at its own start or moved, was cancelled.
        cancelled = {o for o in entry.rule.occurrences(since, until) if o not in present}
        return cancelled, moved, web_links

    def _holidays(self, entry: Series, now: datetime) -> set[date]:
        year = now.astimezone(zone(entry.rule.tz)).year
        days: set[date] = set()
        for y in (year - 1, year, year + 1):
            days.update(public_holidays(self._country, y))
        return days

    # -- delivering -------------------------------------------------------------------------------

    def _deliver(self, state: _State, planned: Planned, report: Report) -> Planned:
        delivery, recipient = planned.delivery, planned.recipient
        email = recipient.email.lower()
        if email in report.parked:
            return _with(planned, "parked")
        if not self._ledger.claim(delivery, self.owner):
            return _with(planned, "busy")
        series = state.entry.id
        try:
            sent = self._mailer(email).send(self._mail(state, planned))
        except (AuthExpired, SignInRequired) as exc:
            with self._lock:
                report.parked.add(email)
            # Waiting for a sign-in uses up none of the delivery's tries: it goes out once they
            # are back, if it is still due.
            self._ledger.release(delivery.key, self.owner, "sign-in needed", counts=False)
            log.info("sweep: %s must sign in again (%s)", _masked(email), _why(exc))
            return _with(planned, "parked")
        except (Throttled, Unavailable) as exc:
            left = self._ledger.release(delivery.key, self.owner, _why(exc))
            outcome = "failed" if left is State.FAILED else "retry"
            log.warning(
                "sweep: %s %s %s %s (%s)", outcome, delivery.kind, series, delivery.key, _why(exc)
            )
            return _with(planned, outcome)
        except SendUncertain as exc:
            # It may have gone: another try could deliver it twice. Done (its message id says
            # "uncertain"), never sent again: a reminder may be missing, never doubled.
            self._ledger.sent(delivery.key, self.owner, "uncertain")
            log.warning(
                "sweep: uncertain %s %s %s (%s): not sent again",
                delivery.kind,
                series,
                delivery.key,
                _why(exc),
            )
            return _with(planned, "uncertain")
        except ConnectorError as exc:
            self._ledger.give_up(delivery.key, self.owner, _why(exc))
            log.error("sweep: failed %s %s %s (%s)", delivery.kind, series, delivery.key, _why(exc))
            return _with(planned, "failed")
        self._ledger.sent(delivery.key, self.owner, sent.id)
        log.info("sweep: sent %s %s %s", delivery.kind, series, delivery.key)
        return _with(planned, "sent")

    def _mail(self, state: _State, planned: Planned) -> Mail:
        letter = compose(self._occasion(state, planned.trigger, planned.recipient))
        text, html = render(letter)
        email = planned.recipient.email
        return Mail(
            sender=email,
            to=(email,),
            subject=letter.subject,
            text=text,
            html=html,
            key=planned.delivery.mail_key,
        )

    def _occasion(self, state: _State, trigger: Trigger, recipient: Person) -> Occasion:
        """What the mail shows; its button opens the record form itself for a prompt to write
        or accept, beside the appointment in the recipient's own web calendar when known."""
        entry = state.entry
        occurrence = trigger.occurrence
        opening = self._links.open(entry, occurrence, recipient)
        own = recipient.email.lower() == entry.owner.lower() and occurrence is not None
        calendar = state.web_links.get(occurrence, "") if own and occurrence else ""
        if trigger.kind in (TriggerKind.RECORD, TriggerKind.ACCEPT) and occurrence is not None:
            occasion = self._occasion_of(state, trigger, recipient)
            link = self._links.form(entry, occurrence, recipient)
            return replace(occasion, link=link, calendar=calendar or opening)
        return replace(
            self._occasion_of(state, trigger, recipient), link=opening, calendar=calendar
        )

    def _occasion_of(self, state: _State, trigger: Trigger, recipient: Person) -> Occasion:
        entry = state.entry
        pair = entry.pair
        partner = pair.manager if recipient.email == pair.employee.email else pair.employee
        occurrence = trigger.occurrence
        link = ""
        kind = trigger.kind
        if kind is TriggerKind.CADENCE or occurrence is None:
            return Occasion(kind, recipient, partner, link, reason=trigger.reason, held=state.held)
        start = state.moved.get(occurrence, occurrence)
        doc = state.docs.get(occurrence)
        if kind is TriggerKind.PREPARE:
            earlier = [d for o, d in sorted(state.docs.items()) if o < occurrence and d.record]
            record = earlier[-1].record if earlier else None
            if record is None:
                return Occasion(kind, recipient, partner, link, start=start)
            return Occasion(
                kind,
                recipient,
                partner,
                link,
                start=start,
                actions=tuple(
                    a.description for a in record.actions if a.status is ActionStatus.OPEN
                ),
                agreements=tuple(
                    a.text for a in record.agreements if a.state is AgreementState.FINAL
                ),
            )
        if kind is TriggerKind.AGENDA:
            items = tuple(i.title for i in doc.agenda.items) if doc is not None else ()
            return Occasion(kind, recipient, partner, link, start=start, agenda=items)
        if kind is TriggerKind.ACCEPT:
            agreements = doc.record.agreements if doc is not None and doc.record else ()
            texts = tuple(a.text for a in agreements if a.id == trigger.agreement_id)
            return Occasion(kind, recipient, partner, link, start=start, agreements=texts)
        return Occasion(kind, recipient, partner, link, start=start)


@dataclass(frozen=True, slots=True)
class _State:
    """What the sweep read of one series: its due triggers and what their mails show."""

    entry: Series
    now: datetime
    triggers: list[Trigger]
    docs: dict[datetime, Doc]
    moved: dict[datetime, datetime]
    held: int
    web_links: dict[datetime, str]
    held_dates: tuple[datetime, ...] = ()
    """The conversations held in the last twelve months (for the HR report: dates only)."""
    next_planned: datetime | None = None


def _with(planned: Planned, outcome: str) -> Planned:
    return Planned(planned.delivery, planned.trigger, planned.recipient, outcome)


def _why(exc: BaseException) -> str:
    return type(exc).__name__


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


__all__ = ["Planned", "Report", "Sweep", "consumer_name"]
