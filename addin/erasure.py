"""Erasure of a pair's dossier by crypto-shredding, with a receipt (AVG/GDPR art. 17).

Order matters, so that a crash anywhere leaves either nothing done or the dossier unreadable:

1. the series' server part of its data key is destroyed (`SeriesKeys.destroy`, one commit): from
   then on no copy of a document opens, in the drive, its recycle bin, its version history or a
   backup (see `connectors.sealed`);
2. an active series is ended (future appointments leave both calendars);
3. the documents and the key file are deleted from the owner's drive, where we can reach it;
4. the server's rows go: waiting documents, the reminder ledger, the cadence counts, event
   aliases, manager history, the series itself; a partner left with no series also loses their
   stored sign-in, working hours and reminder settings.

Running it again after a crash finishes the rest. The `erasures` table keeps the receipt's id,
time, reason, series ids and counts: no names, no addresses, no content.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from addin import signed
from addin.conversations.errors import Forbidden, Invalid, Missing, _
from addin.conversations.series_keys import SeriesKeys
from addin.identity import SignInRequired
from addin.store.tables import (
    account_secrets_table,
    accounts_table,
    alias_table,
    cadence_stats_table,
    deliveries_table,
    erasures_table,
    feedback_asks_table,
    manager_history_table,
    pending_documents_table,
    person_hours_table,
    reminder_settings_table,
    series_table,
    timeout_requests_table,
)
from cadence.model import Series
from connectors.errors import ConnectorError
from connectors.sealed import SealedError

if TYPE_CHECKING:
    from addin.conversations import Conversations

log = logging.getLogger(__name__)

REASONS: Final = ("employee", "operator", "retention")
"""Who asked: the employee in the pane, an operator on the command line, the retention rule."""

_RECEIPT_PURPOSE: Final = b"goedgesprek.erasure-receipt.v1"

_UNREACHED = (ConnectorError, SignInRequired, SealedError)
"""Why a calendar or drive may not be reached for an erasure (down, or no stored sign-in of its
owner): the key is gone already, so the rest of the erasure goes on and the receipt says so."""


@dataclass(frozen=True, slots=True)
class SeriesErased:
    """What erasure did to one series."""

    series: str
    key_destroyed: bool
    """True: its documents were sealed under a key bound to the server, now destroyed."""
    files_deleted: int
    drive: str
    """``deleted``, or why the drive's files could not be reached (they stay unreadable when
    `key_destroyed`)."""
    appointments: str
    """``ended`` (future appointments removed), ``none`` (already ended), or why not."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """The receipt handed to whoever asked; `signature` lets the server vouch for it later."""

    id: str
    at: str
    reason: str
    employee: str
    manager: str
    series: tuple[SeriesErased, ...]
    rows: dict[str, int] = field(default_factory=dict)
    people_forgotten: tuple[str, ...] = ()
    signature: str = ""

    def body(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("signature")
        data["series"] = [asdict(s) for s in self.series]
        data["people_forgotten"] = list(self.people_forgotten)
        return data

    def as_json(self) -> dict[str, Any]:
        return {**self.body(), "signature": self.signature}


def sign_receipt(key: bytes, receipt: Receipt) -> Receipt:
    raw = json.dumps(receipt.body(), sort_keys=True, separators=(",", ":")).encode()
    mac = signed.mac(key, _RECEIPT_PURPOSE, raw)
    return Receipt(**{**_fields(receipt), "signature": mac.hex()})


def verify_receipt(key: bytes, data: dict[str, Any]) -> bool:
    """True when `data` is a receipt this server signed, unchanged."""
    given = str(data.get("signature") or "")
    body = {k: v for k, v in data.items() if k != "signature"}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return secrets.compare_digest(signed.mac(key, _RECEIPT_PURPOSE, raw).hex(), given)


def _fields(receipt: Receipt) -> dict[str, Any]:
    return {name: getattr(receipt, name) for name in Receipt.__dataclass_fields__}


class Erasure:
    """Erases pairs; see the module's docstring for the order and what goes."""

    def __init__(self, conversations: Conversations, key: bytes) -> None:
        """`conversations`: `addin.conversations.Conversations` (its registry, drive and
        calendar); `key`: the app's key, which signs receipts."""
        self._conversations = conversations
        self.registry = conversations.registry
        self._engine: Engine = conversations.registry.engine
        self._keys: SeriesKeys = conversations.series_keys
        self.key = key
        """Signs and checks receipts."""
        self.clock: Callable[[], datetime] = conversations.clock

    # -- who and what -----------------------------------------------------------------------------

    def pair_series(self, employee: str, manager: str) -> list[Series]:
        """Every series of the employee with this manager, now or before (handed over)."""
        employee, manager = employee.strip().lower(), manager.strip().lower()
        found = []
        for entry in self.registry.for_person(employee):
            if entry.pair.employee.email.lower() != employee:
                continue
            managers = {entry.pair.manager.email.lower()}
            managers.update(m for m, _s, _u in self.registry.former_managers(entry.id))
            if manager in managers:
                found.append(entry)
        return found

    def for_employee(self, email: str, series_id: str) -> Receipt:
        """The employee erases the pair of a series they are the employee in."""
        entry = self.registry.get(series_id) if len(series_id) <= 64 else None
        if entry is None:
            raise Missing(_("There is no such series: it may have been erased already."))
        email = email.strip().lower()
        if entry.pair.employee.email.lower() != email:
            if entry.pair.manager.email.lower() == email:
                raise Forbidden(
                    _(
                        "Only the employee can erase this dossier: it is theirs. Ask them, or "
                        "your privacy officer."
                    )
                )
            raise Forbidden(_("You are not a partner in this series."))
        return self.erase(entry.pair.employee.email, entry.pair.manager.email, reason="employee")

    def erase(self, employee: str, manager: str, *, reason: str) -> Receipt:
        """Erase every series of the pair; `Missing` when the pair has none."""
        if reason not in REASONS:
            raise Invalid(f"reason must be one of {', '.join(REASONS)}")
        entries = self.pair_series(employee, manager)
        if not entries:
            raise Missing(
                _("There is no dossier of this pair: nothing was erased, nothing changed.")
            )
        return self.erase_series(entries, reason=reason)

    def erase_series(self, entries: Iterable[Series], *, reason: str) -> Receipt:
        """Erase these series (one pair's); the receipt, signed and logged."""
        entries = list(entries)
        done = tuple(self._erase_one(entry) for entry in entries)
        rows = self._delete_rows([e.id for e in entries])
        people = {e.pair.employee.email.lower() for e in entries} | {
            e.pair.manager.email.lower() for e in entries
        }
        forgotten = self._forget_people(people, rows)
        first = entries[0]
        receipt = sign_receipt(
            self.key,
            Receipt(
                id=secrets.token_hex(8),
                at=self.clock().isoformat(timespec="seconds"),
                reason=reason,
                employee=first.pair.employee.email.lower(),
                manager=first.pair.manager.email.lower(),
                series=done,
                rows=rows,
                people_forgotten=tuple(sorted(forgotten)),
            ),
        )
        counts = {
            "series": len(done),
            "keys_destroyed": sum(s.key_destroyed for s in done),
            "files_deleted": sum(s.files_deleted for s in done),
            **rows,
            "people_forgotten": len(forgotten),
        }
        with self._engine.begin() as conn:
            conn.execute(
                insert(erasures_table).values(
                    id=receipt.id,
                    at=self.clock(),
                    reason=reason,
                    series=" ".join(s.series for s in done),
                    counts=json.dumps(counts, sort_keys=True),
                )
            )
        log.info("erasure %s (%s): %s", receipt.id, reason, json.dumps(counts, sort_keys=True))
        return receipt

    def logged(self, receipt_id: str) -> dict[str, Any] | None:
        """The log's row of an erasure (no names): to check a receipt handed back."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(erasures_table).where(erasures_table.c.id == receipt_id)
            ).first()
        if row is None:
            return None
        return {
            "id": row.id,
            "at": row.at.isoformat(timespec="seconds"),
            "reason": row.reason,
            "series": row.series.split(),
            "counts": json.loads(row.counts),
        }

    # -- steps ------------------------------------------------------------------------------------

    def _erase_one(self, entry: Series) -> SeriesErased:
        key_destroyed = self._keys.destroy(entry.id)
        appointments = "none"
        if self.registry.is_active(entry.id):
            try:
                self._conversations.end_for_erasure(entry)
                appointments = "ended"
            except _UNREACHED as exc:
                appointments = f"not reached: {exc.__class__.__name__}"
                log.warning("erasure: series %s not ended in the calendar: %s", entry.id, exc)
                self.registry.release_pair(entry.id)
        try:
            files = self._conversations.drop_documents(entry)
            drive = "deleted"
        except _UNREACHED as exc:
            files, drive = 0, f"not reached: {exc.__class__.__name__}"
            log.warning("erasure: the drive of series %s was not reached: %s", entry.id, exc)
        return SeriesErased(entry.id, key_destroyed, files, drive, appointments)

    def _delete_rows(self, ids: list[str]) -> dict[str, int]:
        by_series = {
            "pending_documents": pending_documents_table.c.series_id,
            "deliveries": deliveries_table.c.series_id,
            "cadence_stats": cadence_stats_table.c.series_id,
            "timeout_requests": timeout_requests_table.c.series_id,
            "feedback_asks": feedback_asks_table.c.series_id,
            "event_alias": alias_table.c.series_id,
            "series_manager_history": manager_history_table.c.series_id,
            "series": series_table.c.id,
        }
        counts: dict[str, int] = {}
        with self._engine.begin() as conn:
            for name, column in by_series.items():
                done = conn.execute(delete(column.table).where(column.in_(ids)))
                counts[name] = int(done.rowcount or 0)
        return counts

    def _forget_people(self, people: set[str], rows: dict[str, int]) -> set[str]:
        """Sign-ins and settings of partners left with no series at all."""
        forgotten = set()
        for email in sorted(people):
            if self.registry.for_person(email):
                continue
            forgotten.add(email)
            with self._engine.begin() as conn:
                accounts = conn.execute(
                    select(accounts_table.c.provider, accounts_table.c.subject).where(
                        accounts_table.c.email == email
                    )
                ).all()
                s = account_secrets_table
                for provider, subject in accounts:
                    mine = (s.c.provider == provider) & (s.c.subject == subject)
                    conn.execute(delete(s).where(mine))
                gone = conn.execute(delete(accounts_table).where(accounts_table.c.email == email))
                rows["accounts"] = rows.get("accounts", 0) + int(gone.rowcount or 0)
                for table in (person_hours_table, reminder_settings_table):
                    done = conn.execute(delete(table).where(table.c.email == email))
                    rows[table.name] = rows.get(table.name, 0) + int(done.rowcount or 0)
        return forgotten
