"""The delivery ledger: each message the background sweep owes someone goes out once.

A delivery is one trigger (`cadence.triggers.Trigger`) for one recipient; its key is the
trigger's key and the recipient's address. Inserting its row is the claim: the database's
primary key lets exactly one consumer have it, however many sweep at once. The claimant sends,
then marks it `sent` (or `skipped`: the person turned that kind off). A message is never sent
twice: the mailers read no mailbox, so nothing could tell whether a send went out.

- A failure the provider surely did not act on (throttled, unreachable) releases the claim for
  the next sweep; after `max_attempts` tries the delivery is marked `failed`, with a word on why.
- A send whose outcome is unknown (`connectors.errors.SendUncertain`) is marked sent as
  ``uncertain``.
- A consumer that dies between claim and mark leaves a claim; once its lease has passed, the
  next sweep marks it `failed` as ``uncertain`` instead of sending: the dead consumer may have
  sent it. A reminder may so be missing, never doubled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from addin.store.tables import deliveries_table

LEASE = timedelta(minutes=10)
"""How long a claim is its consumer's alone: longer than any send takes, retries included."""
MAX_ATTEMPTS = 8
"""Tries of one delivery before it is marked failed."""
_RELEASED = datetime(2000, 1, 1, tzinfo=UTC)
"""The claim time a released claim gets: older than any lease, so the next sweep takes it."""


class State(StrEnum):
    """Where a delivery stands."""

    CLAIMED = "claimed"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


DONE = (State.SENT, State.SKIPPED, State.FAILED)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message owed: the trigger's `key` for one `recipient` (lower case)."""

    trigger_key: str
    kind: str
    series_id: str
    recipient: str
    due: datetime

    @property
    def key(self) -> str:
        """The ledger's key: the trigger and the recipient."""
        return f"{self.trigger_key}|{self.recipient.strip().lower()}"

    @property
    def mail_key(self) -> str:
        """The mail's idempotency key (what the mailer finds a first send by): short, stable,
        and naming neither the series nor the person."""
        return "gg-" + hashlib.sha256(self.key.encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class Entry:
    """A delivery's row as the ledger holds it."""

    key: str
    kind: str
    series_id: str
    recipient: str
    state: State
    attempts: int
    claimed_by: str
    note: str
    message_id: str | None


class Ledger:
    """The `deliveries` table of the server store."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime],
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.lease = lease
        self.max_attempts = max_attempts

    def _now(self) -> datetime:
        # In UTC: SQLite keeps a timestamp's wall time without its zone, and claims are compared.
        return self._clock().astimezone(UTC)

    def claim(self, delivery: Delivery, owner: str) -> bool:
        """Take `delivery` for `owner` to send: True when it is now theirs.

        False when it is done, or claimed by another consumer whose lease has not run out, or
        when that consumer's lease ran out (it died while sending: the delivery is settled as
        failed, ``uncertain``, and not sent again).
        """
        now = self._now()
        t = deliveries_table
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(t).values(
                        key=delivery.key,
                        kind=delivery.kind,
                        series_id=delivery.series_id,
                        recipient=delivery.recipient.strip().lower(),
                        due=delivery.due.astimezone(UTC),
                        state=State.CLAIMED.value,
                        claimed_by=owner,
                        claimed_at=now,
                        attempts=1,
                        note="",
                    )
                )
            return True
        except IntegrityError:
            pass
        with self._engine.begin() as conn:
            mine = (t.c.key == delivery.key) & (t.c.state == State.CLAIMED.value)
            taken = conn.execute(
                update(t)
                .where(mine & (t.c.claimed_at <= _RELEASED))
                .values(claimed_by=owner, claimed_at=now, attempts=t.c.attempts + 1)
            ).rowcount
            if taken == 1:
                return True
            conn.execute(
                update(t)
                .where(mine & (t.c.claimed_at < now - self.lease))
                .values(
                    state=State.FAILED.value,
                    done_at=now,
                    note="uncertain: its consumer stopped while sending; not sent again",
                )
            )
        return False

    def sent(self, key: str, owner: str, message_id: str) -> bool:
        """Mark a claimed delivery sent; False when the claim was no longer `owner`'s."""
        return self._finish(key, owner, State.SENT, message_id=message_id)

    def skipped(self, key: str, owner: str, why: str) -> bool:
        """Mark a claimed delivery as not to be sent (the person turned it off, say)."""
        return self._finish(key, owner, State.SKIPPED, note=why)

    def release(self, key: str, owner: str, why: str, *, counts: bool = True) -> State | None:
        """A try failed and a later one may succeed: free the claim for the next sweep, or mark
        the delivery failed after `max_attempts` tries. The state it is left in (None: the claim
        was not `owner`'s). A try that did not `count` (the person must sign in first) is given
        back."""
        t = deliveries_table
        with self._engine.begin() as conn:
            row = conn.execute(
                select(t.c.attempts).where(
                    (t.c.key == key)
                    & (t.c.claimed_by == owner)
                    & (t.c.state == State.CLAIMED.value)
                )
            ).first()
            if row is None:
                return None
            values: dict[str, object]
            if counts and row[0] >= self.max_attempts:
                state = State.FAILED
                values = {"state": state.value, "note": why[:200], "done_at": self._now()}
            else:
                state = State.CLAIMED
                values = {"claimed_at": _RELEASED, "note": why[:200]}
                if not counts:
                    values["attempts"] = t.c.attempts - 1
            conn.execute(
                update(t).where((t.c.key == key) & (t.c.claimed_by == owner)).values(**values)
            )
        return state

    def give_up(self, key: str, owner: str, why: str) -> bool:
        """Mark a claimed delivery failed for good (a retry cannot help)."""
        return self._finish(key, owner, State.FAILED, note=why)

    def _finish(
        self, key: str, owner: str, state: State, *, note: str = "", message_id: str | None = None
    ) -> bool:
        t = deliveries_table
        with self._engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(
                    (t.c.key == key)
                    & (t.c.claimed_by == owner)
                    & (t.c.state == State.CLAIMED.value)
                )
                .values(
                    state=state.value,
                    done_at=self._now(),
                    note=note[:200],
                    message_id=message_id,
                )
            ).rowcount
        return done == 1

    def done(self, keys: Iterable[str]) -> set[str]:
        """Those of `keys` that are settled (sent, skipped or failed): a sweep need not try them."""
        wanted = list(dict.fromkeys(keys))
        t = deliveries_table
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = conn.execute(
                    select(t.c.key).where(
                        t.c.key.in_(chunk) & t.c.state.in_([s.value for s in DONE])
                    )
                )
                found.update(row[0] for row in rows)
        return found

    def entry(self, key: str) -> Entry | None:
        """The row of one delivery, or None."""
        t = deliveries_table
        with self._engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.key == key)).first()
        if row is None:
            return None
        m = row._mapping
        return Entry(
            key=m["key"],
            kind=m["kind"],
            series_id=m["series_id"],
            recipient=m["recipient"],
            state=State(m["state"]),
            attempts=m["attempts"],
            claimed_by=m["claimed_by"],
            note=m["note"],
            message_id=m["message_id"],
        )

    def counts(self) -> dict[str, int]:
        """How many deliveries stand in each state."""
        t = deliveries_table
        with self._engine.connect() as conn:
            rows = conn.execute(select(t.c.state, func.count()).group_by(t.c.state)).all()
        return {str(state): int(n) for state, n in rows}
