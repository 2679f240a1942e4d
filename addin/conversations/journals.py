"""The journal's use cases: goals, check-ins, colleagues' feedback, reflections, time-outs, guests.

The journal (`cadence.journal`) is one sealed file per series, ``journal.json``, in the
employee's drive beside the conversations' documents, written like them (etag, change ids, the
server's outbox when the drive does not answer). Nothing of it is kept in our database: what the
HR report learns of a time-out is a count (`TimeOutCounts`), never who asked or why.

A colleague asked for feedback answers on a signed web page (`addin.feedback_page`); the link
names the series, the request and its nonce, and expires with the request.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from babel.dates import format_date

from addin import signed
from addin.conversations.document import (
    CHANGES_KEPT,
    Change,
    fingerprint,
    occ_key,
    parse_occ_key,
)
from addin.conversations.errors import Invalid, Missing, PreconditionRequired, ServiceError, _
from addin.conversations.parsing import (
    MAX_OPS,
    apply_all,
    op_optional,
    op_text,
    parse_change_id,
    parse_due,
)
from addin.conversations.pending import is_pending
from addin.signed import LinkRefused
from addin.store.tables import feedback_asks_table, timeout_requests_table
from cadence.conversation import ActionStatus, Actor, HistoryEntry, Step
from cadence.errors import CadenceError
from cadence.journal import (
    SAME,
    CheckIn,
    Feedback,
    FeedbackState,
    Goal,
    GoalKind,
    GoalState,
    GoalStatus,
    Journal,
    TimeOutKind,
)
from cadence.model import Role, Series
from cadence.suggestions import History, SchemeRule, Suggestion, suggest
from cadence.zones import zone
from connectors.errors import Conflict, ConnectorError
from connectors.models import Mail

if TYPE_CHECKING:
    from addin.conversations.people import Caller
    from addin.conversations.use_cases import Conversations
    from connectors.ports import Mailer

log = logging.getLogger(__name__)

JOURNAL_NAME: Final = "journal.json"
"""The journal's file in the series' folder."""

DOC_SCHEMA: Final = "goedgesprek.journal-file/1"

FEEDBACK_DAYS: Final = 14
"""Days a colleague has to answer, unless the asker says otherwise (1-60)."""

TREND_POINTS: Final = 12
"""Check-ins the trend shows: three years of quarterly conversations."""

ASKS_SHOWN: Final = 10
"""Requests for feedback a colleague's add-in lists at most."""

GUEST_DAYS: Final = 14
"""Days a guest's link to a record opens."""

_GUEST_PURPOSE: Final = b"goedgesprek.guest-record.v1"
_ASK_PURPOSE: Final = b"goedgesprek.feedback-colleague.v1"
_LINK_PURPOSE: Final = b"goedgesprek.feedback-link.v1"
_FORM_PURPOSE: Final = b"goedgesprek.feedback-form.v1"


@dataclass(frozen=True, slots=True)
class JournalDoc:
    """The journal as read: value, drive etag (None when there is none yet), applied changes."""

    journal: Journal
    etag: str | None
    changes: tuple[Change, ...] = ()

    def applied(self, change_id: str) -> Change | None:
        """The change applied under `change_id`, or None."""
        return next((c for c in self.changes if c.id == change_id), None)

    def to_bytes(self, change: Change | None) -> bytes:
        changes = (*self.changes, change) if change else self.changes
        data = {
            "schema": DOC_SCHEMA,
            "journal": self.journal.to_dict(),
            "changes": [{"id": c.id, "ops": c.ops} for c in changes[-CHANGES_KEPT:]],
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, content: bytes, etag: str) -> JournalDoc:
        data = json.loads(content)
        if not isinstance(data, dict) or data.get("schema") != DOC_SCHEMA:
            raise CadenceError("not a journal file")
        changes = tuple(Change(c["id"], c["ops"]) for c in data.get("changes") or [])
        return cls(Journal.from_dict(data["journal"]), etag, changes)


@dataclass(frozen=True, slots=True)
class FeedbackGrant:
    """What a colleague's link opens: one request of one series, until `expires` (a date)."""

    series: str
    request: str
    nonce: str
    email: str
    locale: str
    expires: date


@dataclass(frozen=True, slots=True)
class GuestRecord:
    """What a guest's link opened: the conversation and its record as a page."""

    series: str
    occ: str
    page: bytes
    locale: str


class TimeOutCounts:
    """How many time-outs were asked, per series and month: all HR may learn of them."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self.table = timeout_requests_table

    def add(self, series_id: str, at: datetime) -> None:
        """Count one request in its month."""
        month = at.astimezone(UTC).strftime("%Y-%m")
        table = self.table
        with self._engine.begin() as conn:
            updated = conn.execute(
                sa.update(table)
                .where(table.c.series_id == series_id, table.c.month == month)
                .values(count=table.c.count + 1)
            ).rowcount
            if not updated:
                conn.execute(sa.insert(table).values(series_id=series_id, month=month, count=1))

    def by_series(self, since: str) -> dict[str, int]:
        """Requests per series from month `since` (YYYY-MM) on."""
        table = self.table
        with self._engine.connect() as conn:
            found = conn.execute(
                sa.select(table.c.series_id, sa.func.sum(table.c.count))
                .where(table.c.month >= since)
                .group_by(table.c.series_id)
            ).all()
        return {str(series): int(total) for series, total in found}

    def forget(self, series_id: str) -> None:
        """Drop a series' counts (erasure)."""
        with self._engine.begin() as conn:
            conn.execute(sa.delete(self.table).where(self.table.c.series_id == series_id))


class FeedbackAsks:
    """The open requests for feedback by colleague, keyed by an HMAC of their address."""

    def __init__(self, engine: sa.Engine, key: bytes) -> None:
        self._engine = engine
        self._key = key
        self.table = feedback_asks_table

    def colleague(self, email: str) -> str:
        """The keyed hash an address is kept under (never the address itself)."""
        return signed.mac(self._key, _ASK_PURPOSE, email.strip().lower().encode()).hex()

    def put(self, series_id: str, request: Feedback) -> None:
        """Note an open request (again, after a new link)."""
        table = self.table
        row = {
            "series_id": series_id,
            "request_id": request.id,
            "colleague": self.colleague(request.colleague),
            "expires": request.expires,
        }
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(table).where(
                    table.c.series_id == series_id, table.c.request_id == request.id
                )
            )
            conn.execute(sa.insert(table).values(**row))

    def drop(self, series_id: str, request_id: str) -> None:
        """Forget a request that is answered, withdrawn or gone."""
        table = self.table
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(table).where(
                    table.c.series_id == series_id, table.c.request_id == request_id
                )
            )

    def of(self, email: str, today: date, most: int = ASKS_SHOWN) -> list[tuple[str, str]]:
        """(series id, request id) of the unexpired requests to `email`, soonest ending first."""
        table = self.table
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.series_id, table.c.request_id)
                .where(table.c.colleague == self.colleague(email), table.c.expires >= today)
                .order_by(table.c.expires, table.c.series_id, table.c.request_id)
                .limit(most)
            ).all()
        return [(str(s), str(r)) for s, r in rows]


class Journals:
    """Reads and changes a series' journal for a verified partner.

    `mailer(email)` sends as a person (the request for feedback goes from the asker's mailbox);
    `key` signs the colleagues' links, `origin` is where they open.
    """

    def __init__(
        self,
        service: Conversations,
        *,
        key: bytes,
        origin: str,
        mailer: Callable[[str], Mailer] | None = None,
    ) -> None:
        self._service = service
        self._key = key
        self._origin = origin.rstrip("/")
        self._mailer = mailer
        self.timeouts = TimeOutCounts(service.registry.engine)
        self.asks = FeedbackAsks(service.registry.engine, key)

    # -- reading ------------------------------------------------------------------------------

    def read(self, entry: Series) -> JournalDoc:
        """The series' journal (empty when it has none yet)."""
        found = self._service.read_named(entry, JOURNAL_NAME)
        if found is None:
            return JournalDoc(Journal(entry.id), None)
        content, etag = found
        try:
            return JournalDoc.from_bytes(content, etag)
        except (CadenceError, ValueError, KeyError, TypeError) as exc:
            log.error("journal %s/%s cannot be read: %s", entry.id, JOURNAL_NAME, exc)
            raise self._service.unreadable() from exc

    def view(
        self, entry: Series, doc: JournalDoc, role: Role, key: str, locale: str
    ) -> dict[str, Any]:
        """The journal as `role` sees it around the conversation `key`, for the context."""
        journal = doc.journal.visible_to(role)
        employee = role is Role.EMPLOYEE
        template = self._service.templates.agenda(entry.template, locale)
        reflection = journal.reflection(key)
        between = _ended(entry, key, self._service.clock())
        checkin = journal.checkin_for(key) if not between else _latest_between(journal, key)
        can = ["goal.progress", "goal.accept", "timeout.ask", "feedback.ask"]
        if employee:
            can += ["goal.add", "checkin", "reflection.write", "guest.invite"]
            if reflection is not None:
                can.append("reflection.share")
        return {
            "etag": doc.etag,
            "pending": is_pending(doc.etag),
            "can": sorted(can),
            "goals": [self._goal_out(g, role, journal.history) for g in journal.goals],
            "checkin": _checkin_out(checkin) if checkin else None,
            "checkin_between": between,
            "trend": [
                _checkin_out(c)
                for c in sorted(journal.checkins, key=lambda c: c.at)[-TREND_POINTS:]
            ],
            "feedback": [self._request_out(entry, f, role) for f in journal.feedback],
            "questions": self._questions(locale),
            "reflection": (
                {
                    "text": reflection.text,
                    "shared": reflection.shared,
                    "at": reflection.at.isoformat(),
                }
                if reflection
                else None
            ),
            "reflection_prompts": list(template.reflection),
            "timeouts": [
                {
                    "id": t.id,
                    "kind": t.kind.value,
                    "role": t.role.value,
                    "at": t.at.astimezone(zone(entry.pair.tz)).isoformat(),
                    "reason": t.reason,
                    "open": t.open,
                    "can": ["close"] if t.open else [],
                }
                for t in journal.timeouts
            ],
            "guests": [
                {
                    "email": g.email,
                    "name": g.name,
                    "record": g.record,
                    "invited": g.invited,
                    "can": (["record", "remove"] + (["send_record"] if g.record else []))
                    if employee
                    else [],
                }
                for g in journal.guests_of(key)
            ],
        }

    def _goal_out(
        self, goal: Goal, role: Role, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        can: list[str] = []
        if goal.state is GoalState.PROPOSED and role not in goal.accepted_by:
            can += ["accept", "decline"]
        if goal.state is GoalState.PROPOSED and role in goal.accepted_by:
            can += ["decline"] if role is Role.MANAGER else []
        if role is Role.EMPLOYEE and goal.status is GoalStatus.OPEN:
            can += ["edit"]
            if goal.state is GoalState.DRAFT:
                can += ["propose", "remove"]
            elif goal.state is GoalState.PROPOSED:
                can += ["remove"]
        if goal.state is GoalState.AGREED:
            can += ["progress", "link"]
            if role is Role.EMPLOYEE:
                can += ["status"]
        return {
            "id": goal.id,
            "kind": goal.kind.value,
            "title": goal.title,
            "why": goal.why,
            "horizon": goal.horizon.isoformat() if goal.horizon else None,
            "state": goal.state.value,
            "accepted_by": sorted(r.value for r in goal.accepted_by),
            "waiting_for": [r.value for r in goal.waiting_for],
            "status": goal.status.value,
            "progress": [
                {
                    "at": p.at.isoformat(),
                    "role": p.role.value,
                    "note": p.note,
                    "occurrence": p.occurrence,
                }
                for p in goal.progress
            ],
            "actions": [{"occurrence": o, "id": a} for o, a in goal.actions],
            "declined": _declined(goal, history),
            "can": sorted(set(can)),
        }

    def _request_out(self, entry: Series, request: Feedback, role: Role) -> dict[str, Any]:
        employee = role is Role.EMPLOYEE
        can: list[str] = []
        live = request.state in (FeedbackState.CONSENT, FeedbackState.OPEN)
        if employee and request.state is FeedbackState.CONSENT:
            can.append("consent")
        if live and (employee or request.asked_by is Role.MANAGER):
            can.append("withdraw")
            if request.state is FeedbackState.OPEN:
                can.append("renew")
        if employee and request.state is FeedbackState.ANSWERED:
            can.append("share")
        visible = request.state is FeedbackState.ANSWERED and (employee or request.shared)
        if visible and not request.discussed:
            can.append("discussed")
        out: dict[str, Any] = {
            "id": request.id,
            "name": request.name,
            "colleague": request.colleague,
            "occurrence": request.occurrence,
            "asked_by": request.asked_by.value,
            "asked_at": request.asked_at.isoformat(),
            "expires": request.expires.isoformat(),
            "expired": request.open and self._service.clock().date() > request.expires,
            "state": request.state.value,
            "questions": list(request.questions),
            "answers": list(request.answers) if (employee or request.shared) else [],
            "answered_at": request.answered_at.isoformat() if request.answered_at else None,
            "shared": request.shared,
            "discussed": request.discussed,
            "can": can,
        }
        if request.state is FeedbackState.OPEN and (employee or request.asked_by is Role.MANAGER):
            out["link"] = self.link(entry, request)
        return out

    def _questions(self, locale: str) -> list[dict[str, str]]:
        bank = self._service.templates.questions(locale=locale)
        return [
            {"key": q.key, "text": q.text, "group": g.title, "mode": g.mode}
            for g in bank.groups
            if g.direction == "colleague_to_employee"
            for q in g.questions
        ]

    # -- changing -----------------------------------------------------------------------------

    def apply(
        self,
        caller: Caller,
        series_id: str,
        key: str,
        body: Mapping[str, Any],
        if_match: str | None,
    ) -> dict[str, Any]:
        """Apply journal ops, all or none, guarded by the journal's etag; the new context."""
        service = self._service
        entry = service.series_for(caller, series_id)
        role = service.role_of(entry, caller.email)
        occurrence = service.occurrence_at(entry, key)
        ops = body.get("ops")
        if not isinstance(ops, list) or not ops:
            raise Invalid(_("Send the changes as a non-empty list 'ops'."))
        if len(ops) > MAX_OPS:
            raise Invalid(_("Send at most %(n)s changes at once."), n=MAX_OPS)
        change_id = parse_change_id(body)
        change = None if change_id is None else Change(change_id, fingerprint(caller.email, ops))
        doc = self.read(entry)
        applied = doc.applied(change.id) if change else None
        if change and applied and applied.ops != change.ops:
            raise Invalid(
                _(
                    "Nothing was saved: this change_id was sent before with other changes. "
                    "Send a new change_id with each new change."
                )
            )
        event_id = str(body.get("event") or "")
        if applied is None:
            if doc.etag is not None and if_match is None:
                missing = PreconditionRequired(
                    _("This conversation was saved before: send the etag you read (If-Match).")
                )
                conflict = service.journal_conflict(caller, entry, event_id, occurrence, body)
                missing.extra = conflict.extra
                raise missing
            if if_match is not None and if_match != (doc.etag or ""):
                raise service.journal_conflict(caller, entry, event_id, occurrence, body)
            actor = Actor(caller.email, role)
            now = service.clock()
            journal = apply_all(
                ops,
                doc.journal,
                lambda journal, op: self._op(entry, journal, op, actor, now, key, caller.locale),
            )
            new = replace(doc, journal=journal)
            try:
                service.store_named(entry, JOURNAL_NAME, new.to_bytes(change), doc.etag)
            except Conflict:
                again = self.read(entry)
                if not (change is not None and again.applied(change.id) == change):
                    raise service.journal_conflict(
                        caller, entry, event_id, occurrence, body
                    ) from None
            else:
                self._after(entry, doc.journal, journal, now)
        event = service.event_for(caller, entry, event_id, occurrence)
        return service.occurrence_view(caller, entry, event, occurrence)

    def _op(  # noqa: PLR0917 (one op and all it is applied in)
        self,
        entry: Series,
        journal: Journal,
        op: Mapping[str, Any],
        by: Actor,
        now: datetime,
        key: str,
        locale: str,
    ) -> Journal:
        name = op.get("op")
        if not isinstance(name, str):
            raise CadenceError("each change needs an 'op'", code="op_missing")
        if name == "goal.add":
            return journal.add_goal(
                kind=_kind(op),
                title=op_text(op, "title"),
                why=op_text(op, "why", ""),
                horizon=parse_due(op.get("horizon")),
                by=by,
                now=now,
            )
        if name == "goal.edit":
            return journal.edit_goal(
                op_text(op, "goal"),
                by=by,
                now=now,
                title=op_optional(op, "title"),
                why=op_optional(op, "why"),
                horizon=parse_due(op.get("horizon")) if "horizon" in op else SAME,
                kind=_kind(op) if "kind" in op else None,
            )
        goal_steps: dict[str, Callable[..., Journal]] = {
            "goal.propose": journal.propose_goal,
            "goal.accept": journal.accept_goal,
            "goal.remove": journal.remove_goal,
        }
        if name in goal_steps:
            return goal_steps[name](op_text(op, "goal"), by=by, now=now)
        if name == "goal.decline":
            return journal.decline_goal(
                op_text(op, "goal"), by=by, now=now, reason=op_text(op, "reason", "")
            )
        if name == "goal.status":
            return journal.set_goal_status(
                op_text(op, "goal"), _enum(op, "status", GoalStatus), by=by, now=now
            )
        if name == "goal.progress":
            return journal.note_progress(
                op_text(op, "goal"), op_text(op, "note"), occurrence=key, by=by, now=now
            )
        if name in ("goal.link", "goal.unlink"):
            step = journal.link_action if name == "goal.link" else journal.unlink_action
            return step(
                op_text(op, "goal"),
                op_text(op, "occurrence", key),
                op_text(op, "action"),
                by=by,
                now=now,
            )
        if name == "checkin":
            # After the conversation, a check-in counts between conversations (unless the
            # host says otherwise); before and during it, for the conversation.
            between = _flag(op, "between") if "between" in op else _ended(entry, key, now)
            return journal.check_in(
                _whole(op, "energy"),
                _whole(op, "happiness"),
                occurrence="" if between else key,
                by=by,
                now=now,
            )
        if name == "feedback.ask":
            return self._ask(entry, journal, op, by, now, key)
        if name == "feedback.consent":
            return journal.consent(op_text(op, "request"), by=by, now=now)
        if name == "feedback.renew":
            return journal.renew(
                op_text(op, "request"),
                nonce=secrets.token_urlsafe(9),
                expires=now.date() + timedelta(days=_days(op)),
                by=by,
                now=now,
            )
        if name == "feedback.withdraw":
            return journal.withdraw(op_text(op, "request"), by=by, now=now)
        if name == "feedback.share":
            return journal.share_feedback(
                op_text(op, "request"), _flag(op, "shared"), by=by, now=now
            )
        if name == "feedback.discussed":
            return journal.mark_discussed(op_text(op, "request"), by=by, now=now)
        if name == "reflection.write":
            return journal.reflect(key, op_text(op, "text"), by=by, now=now)
        if name == "reflection.share":
            return journal.share_reflection(key, _flag(op, "shared"), by=by, now=now)
        if name == "timeout.ask":
            return journal.ask_time_out(
                _enum(op, "kind", TimeOutKind), op_text(op, "reason", ""), by=by, now=now
            )
        if name == "timeout.close":
            return journal.close_time_out(op_text(op, "timeout"), by=by, now=now)
        if name == "guest.invite":
            record = op.get("record", False)
            return journal.invite_guest(
                key,
                op_text(op, "email"),
                op_text(op, "name", ""),
                record=_flag(op, "record") if "record" in op else bool(record),
                by=by,
                now=now,
                partners=(entry.pair.employee.email, entry.pair.manager.email),
            )
        if name == "guest.record":
            return journal.set_guest(
                key, op_text(op, "email"), record=_flag(op, "record"), by=by, now=now
            )
        if name == "guest.remove":
            return journal.remove_guest(key, op_text(op, "email"), by=by, now=now)
        if name == "guest.send_record":
            return journal.send_record(key, op_text(op, "email"), by=by, now=now)
        raise CadenceError(f"unknown op {name!r}", code="op_unknown", op=repr(name[:40]))

    def _ask(  # noqa: PLR0917
        self,
        entry: Series,
        journal: Journal,
        op: Mapping[str, Any],
        by: Actor,
        now: datetime,
        key: str,
    ) -> Journal:
        wanted = op.get("questions")
        if not isinstance(wanted, list) or not all(isinstance(q, str) for q in wanted):
            raise CadenceError(
                "questions must be a list of question keys", code="feedback_questions", most=6
            )
        days = _days(op)
        colleague = op_text(op, "email").strip().lower()
        locale = self._service.locale_of(colleague, default=entry.pair.employee.locale)
        bank = {q["key"]: q["text"] for q in self._questions(locale)}
        unknown = [q for q in wanted if q not in bank]
        if unknown:
            raise CadenceError(
                f"unknown question {unknown[0]!r}", code="question_unknown", key=unknown[0][:40]
            )
        return journal.ask_feedback(
            colleague=colleague,
            name=op_text(op, "name", ""),
            questions=[bank[q] for q in dict.fromkeys(wanted)],
            occurrence=key,
            expires=now.date() + timedelta(days=days),
            nonce=secrets.token_urlsafe(9),
            locale=locale,
            by=by,
            now=now,
            employee=entry.pair.employee.email,
            manager=entry.pair.manager.email,
        )

    def _after(self, entry: Series, before: Journal, after: Journal, now: datetime) -> None:
        """What a saved change sets going: requests mailed, guests invited, time-outs counted.

        Each runs once, for the change that made it due; a failure is logged and the journal
        keeps the request (the asker copies its link from the side panel).
        """
        known = {f.id: f for f in before.feedback}
        for request in after.feedback:
            old = known.get(request.id)
            renewed = old is not None and old.nonce != request.nonce
            if request.open and (old is None or not old.open or renewed):
                self.asks.put(entry.id, request)
                self._mail_request(entry, request)
            elif old is not None and old.open and not request.open:
                self.asks.drop(entry.id, request.id)
        old_timeouts = {t.id for t in before.timeouts}
        for asked in after.timeouts:
            if asked.id not in old_timeouts:
                self.timeouts.add(entry.id, asked.at)
        old_guests = {(g.occurrence, g.email) for g in before.guests}
        gone = old_guests - {(g.occurrence, g.email) for g in after.guests}
        for guest in after.guests:
            if (guest.occurrence, guest.email) not in old_guests:
                self._service.invite_guest(entry, parse_occ_key(guest.occurrence), guest, add=True)
        for occ, email in gone:
            found = next(g for g in before.guests if (g.occurrence, g.email) == (occ, email))
            self._service.invite_guest(entry, parse_occ_key(occ), found, add=False)
        earlier = set(before.history)
        for step in after.history:
            if (
                step not in earlier
                and step.step is Step.SHARE
                and step.subject.startswith("guest:")
            ):
                self._mail_record(entry, step.detail, step.subject.removeprefix("guest:"))

    def _mail_request(self, entry: Series, request: Feedback) -> None:
        if self._mailer is None:
            return
        from addin.i18n import gettext

        asker = entry.pair.employee
        lang = request.locale
        link = self.link(entry, request)
        text = gettext(
            lang,
            "api",
            "%(name)s asks for your feedback before a conversation with their manager. "
            "Answer a few open questions here, until %(expires)s (no account needed):",
            name=asker.name,
            expires=format_date(request.expires, "long", locale=lang),
        )
        subject = gettext(lang, "api", "%(name)s asks for your feedback", name=asker.name)
        mail = Mail(
            sender=asker.email,
            to=(request.colleague,),
            subject=subject,
            text=f"{text}\n\n{link}\n",
            key=f"feedback:{entry.id}:{request.id}:{request.nonce}",
        )
        try:
            self._mailer(asker.email).send(mail)
        except ConnectorError as exc:
            log.warning("request for feedback %s/%s not mailed: %s", entry.id, request.id, exc)

    def _mail_record(self, entry: Series, occ: str, guest: str) -> None:
        """Mail a guest the link to the record of the conversation they joined."""
        if self._mailer is None:
            return
        from addin.i18n import gettext

        employee = entry.pair.employee
        lang = str(getattr(employee.locale, "value", employee.locale))
        link = self.guest_link(entry, occ, guest)
        text = gettext(
            lang,
            "api",
            "%(name)s shares the record of your conversation together with you. It opens "
            "until %(expires)s:",
            name=employee.name,
            expires=format_date(
                self._service.clock().date() + timedelta(days=GUEST_DAYS), "long", locale=lang
            ),
        )
        subject = gettext(
            lang, "api", "The record of the conversation with %(name)s", name=employee.name
        )
        mail = Mail(
            sender=employee.email,
            to=(guest,),
            subject=subject,
            text=f"{text}\n\n{link}\n",
            key=f"guest:{entry.id}:{occ}:{guest}:{self._service.clock().date().isoformat()}",
        )
        try:
            self._mailer(employee.email).send(mail)
        except ConnectorError as exc:
            log.warning("record link for a guest of %s/%s not mailed: %s", entry.id, occ, exc)

    def guest_link(self, entry: Series, occ: str, guest: str) -> str:
        """A guest's link to the record of one conversation, for `GUEST_DAYS` days."""
        expires = self._service.clock().date() + timedelta(days=GUEST_DAYS)
        claims = {"s": entry.id, "o": occ, "u": guest, "e": expires.isoformat()}
        return f"{self._origin}/g/{signed.seal(self._key, _GUEST_PURPOSE, claims)}"

    def guest_record(self, token: str, *, today: date) -> GuestRecord:
        """The record a guest's token opens, as an HTML document in the employee's language.

        Checked at every opening: the link is ours and unexpired, the person is still a guest
        of that conversation and still allowed to read its record, and there is a record.
        """
        try:
            data = signed.unseal(self._key, _GUEST_PURPOSE, token)
            series, occ, guest = (signed.text(data, n) for n in ("s", "o", "u"))
            expires = date.fromisoformat(signed.text(data, "e"))
        except (signed.Forged, ValueError) as exc:
            raise LinkRefused(str(exc)) from None
        if today > expires:
            raise LinkRefused("the link has expired", expired=True)
        entry = self._service.registry.get(series)
        if entry is None:
            raise Missing(_("This record is no longer shared with you."))
        allowed = [
            g for g in self.read(entry).journal.guests_of(occ) if g.email == guest and g.record
        ]
        if not allowed:
            raise Missing(_("This record is no longer shared with you."))
        page, locale = self._service.guest_record_html(entry, occ)
        return GuestRecord(series, occ, page, locale)

    def asked_of(self, email: str) -> list[dict[str, Any]]:
        """The open requests for feedback to `email`, for their own calendar add-in: who asks
        (first name), until when, how many questions, and their link. A journal that cannot be
        read now leaves its request out (it shows again once it can be read)."""
        today = self._service.clock().date()
        out: list[dict[str, Any]] = []
        for series_id, request_id in self.asks.of(email, today):
            entry = self._service.registry.get(series_id)
            if entry is None:
                self.asks.drop(series_id, request_id)
                continue
            try:
                journal = self.read(entry).journal
            except (ServiceError, ConnectorError) as exc:
                log.info("request for feedback %s/%s not shown now: %s", series_id, request_id, exc)
                continue
            found = next((f for f in journal.feedback if f.id == request_id), None)
            if found is None or not found.open or found.colleague != email.strip().lower():
                continue
            out.append(
                {
                    "name": entry.pair.employee.name.split()[0] if entry.pair.employee.name else "",
                    "expires": found.expires.isoformat(),
                    "questions": len(found.questions),
                    "link": self.link(entry, found),
                }
            )
        return out

    # -- the colleague's page -------------------------------------------------------------------

    def link(self, entry: Series, request: Feedback) -> str:
        """The colleague's link for `request` (deterministic: the same request, the same link)."""
        token = signed.seal(
            self._key,
            _LINK_PURPOSE,
            {
                "s": entry.id,
                "f": request.id,
                "n": request.nonce,
                "u": request.colleague,
                "l": request.locale,
                "e": request.expires.isoformat(),
            },
        )
        return f"{self._origin}/f/{token}"

    def grant(self, token: str, *, today: date) -> FeedbackGrant:
        """What a colleague's token opens; `LinkRefused` for anything not ours or expired."""
        try:
            data = signed.unseal(self._key, _LINK_PURPOSE, token)
            expires = date.fromisoformat(signed.text(data, "e"))
            grant = FeedbackGrant(
                series=signed.text(data, "s"),
                request=signed.text(data, "f"),
                nonce=signed.text(data, "n"),
                email=signed.text(data, "u"),
                locale=signed.text(data, "l"),
                expires=expires,
            )
        except (signed.Forged, ValueError) as exc:
            raise LinkRefused(str(exc)) from None
        if today > grant.expires:
            raise LinkRefused("the link has expired", expired=True, locale=grant.locale)
        return grant

    def form_token(self, token: str) -> str:
        """The value the colleague's form sends back (against CSRF)."""
        return signed.mac(self._key, _FORM_PURPOSE, token.encode("ascii")).hex()

    def form_token_ok(self, token: str, given: str) -> bool:
        return given.isascii() and secrets.compare_digest(self.form_token(token), given)

    def request_for(self, grant: FeedbackGrant) -> tuple[Series, Feedback]:
        """The series and request a grant opens; `Missing` when withdrawn, replaced or erased."""
        entry = self._service.registry.get(grant.series)
        if entry is None:
            raise Missing(_("This request for feedback no longer exists."))
        request = next(
            (f for f in self.read(entry).journal.feedback if f.id == grant.request), None
        )
        if request is None or request.nonce != grant.nonce or request.colleague != grant.email:
            raise Missing(_("This request for feedback no longer exists."))
        return entry, request

    def answer(self, grant: FeedbackGrant, answers: Sequence[str]) -> Feedback:
        """Save the colleague's answers into the employee's journal (once)."""
        for _attempt in range(3):
            entry, _request = self.request_for(grant)
            doc = self.read(entry)
            now = self._service.clock()
            journal = doc.journal.answer(grant.request, grant.nonce, answers, now=now)
            try:
                self._service.store_named(
                    entry, JOURNAL_NAME, replace(doc, journal=journal).to_bytes(None), doc.etag
                )
            except Conflict:
                continue  # a partner saved meanwhile: read again, answer again
            self.asks.drop(entry.id, grant.request)
            return journal.request(grant.request)
        raise ConnectorError("the journal kept changing while the answer was saved")

    # -- the preparation's overview -------------------------------------------------------------

    def overview(self, caller: Caller, series_id: str, key: str) -> dict[str, Any]:
        """The suggestions and the overview for the conversation `key`, as the caller sees them."""
        service = self._service
        entry = service.series_for(caller, series_id)
        role = service.role_of(entry, caller.email)
        occurrence = service.occurrence_at(entry, key)
        now = service.clock()
        doc = self.read(entry)
        journal = doc.journal.visible_to(role)
        docs = service.documents(
            entry, occurrence - timedelta(days=800), occurrence + timedelta(seconds=1)
        )
        current, _previous = service.docs_around(entry, occurrence)
        history = [History(occ_key(d.agenda.occurrence), d.agenda, d.record) for d in docs]
        template = service.templates.agenda(entry.template, caller.locale)
        found = suggest(
            journal=journal,
            role=role,
            occurrence=occurrence,
            key=key,
            agenda=current.agenda,
            history=history,
            themes=template.as_themes(),
            today=now.astimezone(zone(entry.pair.tz)).date(),
            joined=service.joined(entry.pair.employee.email),
            schemes=[
                SchemeRule(s.key, s.title, s.reason, s.months, s.min_years)
                for s in service.templates.schemes(entry.template, caller.locale)
            ],
        )
        tz = zone(entry.pair.tz)
        year_ago = occurrence - timedelta(days=366)
        agreements = [
            {
                "occurrence": d.agenda.occurrence.astimezone(tz).isoformat(),
                "text": a.text,
                "state": a.state.value,
            }
            for d in docs
            if d.record is not None and year_ago <= d.agenda.occurrence < occurrence
            for a in d.record.agreements
        ]
        return {
            "suggestions": [_suggestion_out(s) for s in found],
            "goals": [self._goal_out(g, role) for g in journal.goals],
            "open_actions": [
                {
                    "id": a.id,
                    "description": a.description,
                    "owner": a.owner.value,
                    "due": a.due.isoformat() if a.due else None,
                }
                for a in current.agenda.actions
                if a.status is ActionStatus.OPEN
            ],
            "agreements": agreements,
            "feedback": [
                self._request_out(entry, f, role)
                for f in journal.feedback
                if f.state is FeedbackState.ANSWERED
            ],
            "trend": [
                _checkin_out(c)
                for c in sorted(journal.checkins, key=lambda c: c.at)[-TREND_POINTS:]
            ],
            "conversations": len([d for d in docs if d.agenda.occurrence < occurrence]),
        }


def _declined(goal: Goal, history: Sequence[HistoryEntry]) -> dict[str, Any] | None:
    """Who sent a draft goal back and why (None unless the goal's last step was a decline)."""
    if goal.state is not GoalState.DRAFT:
        return None
    steps = [e for e in history if e.subject == goal.id]
    last = steps[-1] if steps else None
    if last is None or last.step is not Step.DECLINE:
        return None
    return {"role": last.role.value, "at": last.at.isoformat(), "reason": last.detail}


def _suggestion_out(s: Suggestion) -> dict[str, Any]:
    return {"rule": s.rule, "subject": s.subject, "ref": s.ref, "params": dict(s.params)}


def _checkin_out(c: CheckIn) -> dict[str, Any]:
    return {
        "at": c.at.isoformat(),
        "occurrence": c.occurrence,
        "energy": c.energy,
        "happiness": c.happiness,
    }


def _kind(op: Mapping[str, Any]) -> GoalKind:
    kind: GoalKind = _enum(op, "kind", GoalKind, default="development")
    return kind


def _enum(op: Mapping[str, Any], key: str, kind: Any, default: str | None = None) -> Any:
    value = op_text(op, key, default)
    try:
        return kind(value)
    except ValueError:
        raise CadenceError(
            f"{key} must be one of {', '.join(m.value for m in kind)}",
            code="field_choice",
            field=key,
            choices=", ".join(m.value for m in kind),
        ) from None


def _ended(entry: Series, key: str, now: datetime) -> bool:
    """Whether the conversation `key` is over (its planned end has passed)."""
    return now >= parse_occ_key(key) + timedelta(minutes=entry.duration)


def _latest_between(journal: Journal, key: str) -> CheckIn | None:
    """The latest check-in between conversations made after the conversation `key`."""
    after = parse_occ_key(key)
    found = [c for c in journal.checkins if not c.occurrence and c.at >= after]
    return max(found, key=lambda c: c.at) if found else None


def _days(op: Mapping[str, Any]) -> int:
    days = op.get("days", FEEDBACK_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
        raise CadenceError("a colleague has 1 to 60 days to answer", code="feedback_expiry")
    return days


def _whole(op: Mapping[str, Any], key: str) -> int:
    value = op.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CadenceError(
            f"{key} is a whole number from 1 to 5", code="checkin_scale", value=str(value)[:10]
        )
    return value


def _flag(op: Mapping[str, Any], key: str) -> bool:
    value = op.get(key)
    if not isinstance(value, bool):
        raise CadenceError(f"{key} must be true or false", code="field_not_bool", field=key)
    return value


__all__ = ["JOURNAL_NAME", "FeedbackGrant", "JournalDoc", "Journals", "TimeOutCounts"]
