"""Request bodies and change ops, read into domain values (and the ops applied to them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, TypeVar

from addin.conversations.errors import Invalid, _
from cadence.conversation import ActionStatus, Actor, Agenda, Record
from cadence.errors import CadenceError
from cadence.model import Role
from cadence.planning import Preferences
from cadence.recurrence import Weekday
from cadence.zones import zone

MAX_OPS = 100

_T = TypeVar("_T")


def apply_all(ops: Sequence[Any], start: _T, step: Callable[[_T, Mapping[str, Any]], _T]) -> _T:
    """`step` applied to each op in turn from `start`, all or none: the first op refused says
    which one it was (by number) and that nothing was saved, with the domain's reason."""
    value = start
    for n, op in enumerate(ops):
        if not isinstance(op, Mapping):
            raise Invalid(_("Change %(n)s is not an object."), n=n + 1)
        try:
            value = step(value, op)
        except CadenceError as exc:
            # The domain's sentence (by its code) says what and why; this says what was kept.
            if len(ops) == 1:
                raise Invalid(_("Nothing was saved."), detail=exc) from exc
            raise Invalid(
                _("Change %(n)s of %(count)s was refused, so nothing was saved."),
                detail=exc,
                n=n + 1,
                count=len(ops),
            ) from exc
    return value


def apply_op(
    op: Mapping[str, Any], agenda: Agenda, record: Record | None, by: Actor, now: datetime
) -> tuple[Agenda, Record | None]:
    name = op.get("op")
    if not isinstance(name, str):
        raise CadenceError("each change needs an 'op'", code="op_missing")
    if name.startswith("agenda."):
        return _agenda_op(name[7:], op, agenda, by, now), record
    if name.startswith("record."):
        current = record if record is not None else Record.for_agenda(agenda)
        about = op.get("item")
        if isinstance(about, str) and about:
            # What the record says about an item is about one on this agenda, as `by` sees it.
            agenda.visible_item(about, by.role)
        return agenda, _record_op(name[7:], op, current, by, now)
    raise CadenceError(f"unknown op {name!r}", code="op_unknown", op=repr(name[:40]))


def _agenda_op(
    name: str, op: Mapping[str, Any], agenda: Agenda, by: Actor, now: datetime
) -> Agenda:
    if name == "add_item":
        return agenda.add_item(
            theme=op_text(op, "theme"),
            title=op_text(op, "title"),
            notes=op_text(op, "notes", ""),
            by=by,
            now=now,
        )
    if name == "edit_item":
        return agenda.edit_item(
            op_text(op, "item"),
            by=by,
            now=now,
            title=op_optional(op, "title"),
            notes=op_optional(op, "notes"),
            theme=op_optional(op, "theme"),
        )
    if name == "remove_item":
        return agenda.remove_item(op_text(op, "item"), by=by, now=now)
    if name == "move_item":
        index = op.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise CadenceError("index must be a whole number", code="index_whole")
        return agenda.move_item(op_text(op, "item"), index, by=by, now=now)
    if name == "share":
        return agenda.share(by=by, now=now)
    if name == "agree":
        return agenda.agree(by=by, now=now)
    if name == "set_action_status":
        return agenda.set_action_status(
            op_text(op, "action"), op_status(op, "status"), by=by, now=now
        )
    raise CadenceError(
        f"unknown op 'agenda.{name}'", code="op_unknown", op=repr(f"agenda.{name}"[:40])
    )


def _record_op(
    name: str, op: Mapping[str, Any], record: Record, by: Actor, now: datetime
) -> Record:
    if name == "summarise":
        finished = op.get("finished", False)
        if not isinstance(finished, bool):
            raise CadenceError("finished must be true or false", code="finished_bool")
        return record.summarise(
            op_text(op, "item"), op_text(op, "text", ""), finished=finished, by=by, now=now
        )
    if name == "add_agreement":
        return record.add_agreement(
            op_text(op, "text"), by=by, now=now, item_id=op_text(op, "item", "")
        )
    if name == "edit_agreement":
        return record.edit_agreement(op_text(op, "agreement"), op_text(op, "text"), by=by, now=now)
    if name == "remove_agreement":
        return record.remove_agreement(op_text(op, "agreement"), by=by, now=now)
    if name == "propose":
        target = op_text(op, "agreement")
        if target == "*":
            return record.propose_all(by=by, now=now)
        return record.propose(target, by=by, now=now)
    if name == "accept":
        target = op_text(op, "agreement")
        if target == "*":
            return record.accept_all(by=by, now=now)
        return record.accept(target, by=by, now=now)
    if name == "decline":
        return record.decline(
            op_text(op, "agreement"), by=by, now=now, reason=op_text(op, "reason", "")
        )
    if name == "add_action":
        return record.add_action(
            op_text(op, "description"),
            owner=op_role(op, "owner"),
            by=by,
            now=now,
            due=parse_due(op.get("due")),
            item_id=op_text(op, "item", ""),
        )
    if name == "edit_action":
        kwargs: dict[str, Any] = {}
        if "description" in op:
            kwargs["description"] = op_text(op, "description")
        if "owner" in op:
            kwargs["owner"] = op_role(op, "owner")
        if "due" in op:
            kwargs["due"] = parse_due(op.get("due"))
        return record.edit_action(op_text(op, "action"), by=by, now=now, **kwargs)
    if name == "set_status":
        return record.set_status(op_text(op, "action"), op_status(op, "status"), by=by, now=now)
    raise CadenceError(
        f"unknown op 'record.{name}'", code="op_unknown", op=repr(f"record.{name}"[:40])
    )


def op_text(op: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = op.get(key, default)
    if value is None:
        raise CadenceError(f"{key!r} is missing", code="field_missing", field=key)
    if not isinstance(value, str):
        raise CadenceError(f"{key!r} must be text", code="field_not_text", field=key)
    return value


def op_role(op: Mapping[str, Any], key: str) -> Role:
    """A partner's role named in an op; anything else is refused with the choices."""
    value = op_text(op, key)
    try:
        return Role(value)
    except ValueError:
        raise Invalid(
            _("An action's %(field)s must be employee or manager, not %(value)s."),
            field=key,
            value=repr(value[:40]),
        ) from None


def op_status(op: Mapping[str, Any], key: str) -> ActionStatus:
    """An action's status named in an op; anything else is refused with the choices."""
    value = op_text(op, key)
    try:
        return ActionStatus(value)
    except ValueError:
        raise Invalid(
            _("An action's %(field)s must be open, done or dropped, not %(value)s."),
            field=key,
            value=repr(value[:40]),
        ) from None


def op_optional(op: Mapping[str, Any], key: str) -> str | None:
    return op_text(op, key) if key in op and op[key] is not None else None


def parse_due(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise CadenceError("due must be a date like 2027-01-31", code="due_date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CadenceError(
            f"due must be a date like 2027-01-31, got {value[:20]!r}", code="due_date"
        ) from None


def body_text(
    body: Mapping[str, Any], key: str, limit: int, *, required: bool = True, line: bool = False
) -> str:
    """The text `body` sends under `key`, stripped; `line`: it must be one line."""
    value = body.get(key)
    if value is None and not required:
        return ""
    if value is not None and not isinstance(value, str):
        raise Invalid(_("%(field)s must be text."), field=key)
    if value is None or (required and not value.strip()):
        raise Invalid(_("%(field)s is missing."), field=key)
    if len(value) > limit:
        raise Invalid(_("%(field)s is longer than %(limit)s characters."), field=key, limit=limit)
    if line and ("\n" in value.strip() or "\r" in value.strip()):
        raise Invalid(_("%(field)s must be one line."), field=key)
    return value.strip()


def parse_change_id(body: Mapping[str, Any]) -> str | None:
    """The client's id of a change (None when the body sends none, as older clients do)."""
    value = body.get("change_id")
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", value):
        raise Invalid(_("change_id must be 8 to 64 letters, digits, '-' or '_'."))
    return value


DEFAULT_WEEKDAYS = ["TU", "WE", "TH"]
"""The weekdays a request that names none gets (an empty list is refused)."""


WORKDAYS = (Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR)
"""The weekdays a plan may name: both partners' working week."""


def parse_preferences(data: Any) -> Preferences:
    if not isinstance(data, Mapping):
        raise Invalid(_("Send the employee's preferences as an object 'preferences'."))
    # An absent list means the documented default; an empty one is a person who ticked none.
    days = data.get("weekdays", DEFAULT_WEEKDAYS)
    if not days:
        raise Invalid(_("Choose at least one weekday for the conversations."))
    if not isinstance(days, list):
        raise Invalid(_('Send the weekdays as a list such as ["TU", "TH"].'))
    weekdays = frozenset(_workday(d) for d in days)
    online = data.get("online", False)
    if not isinstance(online, bool):
        raise Invalid(_("online must be true or false."))
    every = data.get("every", 3)
    duration = data.get("duration", 60)
    if not isinstance(every, int) or not isinstance(duration, int):
        raise Invalid(_("every and duration must be whole numbers."))
    try:
        return Preferences(
            weekdays=weekdays,
            earliest=_time_of_day(data, "earliest", "09:00"),
            latest=_time_of_day(data, "latest", "17:00"),
            duration=duration,
            place=body_text(data, "place", 200, required=False, line=True),
            online=online,
            interval=every,
        )
    except CadenceError as exc:
        raise Invalid(_("The preferences could not be used."), detail=exc) from exc


def _workday(value: object) -> Weekday:
    day = next((d for d in WORKDAYS if d.name == value), None)
    if day is None:
        raise Invalid(
            _("Unknown weekday %(day)s: use MO, TU, WE, TH or FR."), day=repr(str(value)[:10])
        )
    return day


def _time_of_day(data: Mapping[str, Any], key: str, default: str) -> time:
    value = data.get(key) or default
    try:
        if not isinstance(value, str):
            raise TypeError(key)
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(_("Give %(field)s as a time of day such as 09:30."), field=key) from None


def parse_viewer_zone(body: Mapping[str, Any]) -> str | None:
    """The reader's own IANA zone (`viewer_tz`), for times said in words; None when not sent."""
    return parse_zone(body, "viewer_tz")


def parse_zone(body: Mapping[str, Any], key: str) -> str | None:
    """An IANA zone the body names under `key` (``tz``: the pair's); None when not sent."""
    value = body.get(key)
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str) or len(value) > 64:
            raise CadenceError("not a zone name")
        zone(value)
    except CadenceError:
        raise Invalid(
            _("%(field)s must be a time zone name such as Europe/Amsterdam."), field=key
        ) from None
    return value


def parse_start_hint(value: str | None) -> datetime | None:
    """The start a host shows for the opened event (ISO 8601 with an offset); None if not sent."""
    if not value:
        return None
    try:
        if len(value) > 64:
            raise ValueError("too long")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("no offset")
    except ValueError:
        raise Invalid(
            _("start must be a date and time with its offset, such as 2027-03-02T09:30:00+01:00.")
        ) from None
    return moment
