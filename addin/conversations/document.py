"""An occurrence's document as stored: agenda and record, sealed in the employee's drive.

Each occurrence has one document, named ``occ-<original start, UTC>.json`` in the series' folder;
its drive etag guards concurrent saves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from addin.conversations.errors import Invalid, _
from cadence.conversation import Agenda, Record
from cadence.errors import CadenceError

DOC_SCHEMA = "goedgesprek.occurrence/1"

CHANGES_KEPT = 50
"""How many applied change ids a document remembers: far more than one person resends."""


def occ_key(original_start: datetime) -> str:
    """The occurrence key: its original start in UTC, compact (``20261201T083000Z``)."""
    t = original_start.astimezone(UTC)
    # Not strftime: glibc writes year 1 as "1", not "0001".
    return f"{t.year:04d}{t.month:02d}{t.day:02d}T{t.hour:02d}{t.minute:02d}{t.second:02d}Z"


def parse_occ_key(key: str) -> datetime:
    """The instant an occurrence key names; `Invalid` for anything else.

    Only the canonical form is accepted: `strptime` alone also reads ``2026121T83000Z``, which
    names the same instant but another document file.
    """
    try:
        instant = datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        instant = None
    if instant is None or occ_key(instant) != key:
        raise Invalid(_("%(key)s is not an occurrence key."), key=key[:40])
    return instant


def doc_name(key: str) -> str:
    """The drive file of an occurrence's document."""
    return f"occ-{key}.json"


class Change(NamedTuple):
    """An applied change: the client's id and the fingerprint of who sent which ops under it."""

    id: str
    ops: str


def fingerprint(person: str, ops: Sequence[Mapping[str, Any]]) -> str:
    """What a change id stands for: the sender and their ops, in any key order."""
    data = json.dumps([person, list(ops)], sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Doc:
    """An occurrence's document as read: agenda, record (None before the meeting), drive etag.

    `changes` are the last `CHANGES_KEPT` changes applied to it, newest last: a change sent again
    (its answer was lost) is recognised by its id and not applied twice, and the same id sent
    with other ops is told apart by its fingerprint. `made_from` is the key of the earlier
    occurrence whose document the agenda was carried over from ("" for none; None in documents
    written before it was kept), so "last time" is found after a skipped conversation too.
    """

    agenda: Agenda
    record: Record | None
    etag: str | None
    changes: tuple[Change, ...] = ()
    made_from: str | None = None

    def applied(self, change_id: str) -> Change | None:
        """The change applied under `change_id`, or None."""
        return next((c for c in self.changes if c.id == change_id), None)

    def with_change(self, change: Change | None) -> Doc:
        """This document remembering `change` (unchanged when None)."""
        if change is None:
            return self
        return replace(self, changes=(*self.changes, change)[-CHANGES_KEPT:])

    def to_bytes(self) -> bytes:
        data = {
            "schema": DOC_SCHEMA,
            "agenda": self.agenda.to_dict(),
            "record": self.record.to_dict() if self.record else None,
            "changes": [{"id": c.id, "ops": c.ops} for c in self.changes],
            **({} if self.made_from is None else {"made_from": self.made_from}),
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, content: bytes, etag: str) -> Doc:
        data = json.loads(content)
        if data.get("schema") != DOC_SCHEMA:
            raise CadenceError(f"unknown document schema {data.get('schema')!r}")
        record = Record.from_dict(data["record"]) if data.get("record") else None
        # Documents written before change ids have none.
        changes = data.get("changes") or []
        if not isinstance(changes, list):
            raise CadenceError("the document's changes must be a list")
        made_from = data.get("made_from")
        if made_from is not None and not isinstance(made_from, str):
            raise CadenceError("the document's made_from must be an occurrence key")
        agenda = Agenda.from_dict(data["agenda"])
        return cls(agenda, record, etag, tuple(_change_in(c) for c in changes), made_from)


def _change_in(value: object) -> Change:
    if isinstance(value, str):
        # Written before fingerprints: the id alone, its ops unknown.
        return Change(value, "")
    if (
        isinstance(value, dict)
        and isinstance(value.get("id"), str)
        and isinstance(value.get("ops"), str)
    ):
        return Change(value["id"], value["ops"])
    raise CadenceError("each change of the document must name its id and ops")
