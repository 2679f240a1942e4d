"""Messages a person can act on, in Dutch and English, for the JSON API (the `api` catalog).

`error_message(code, locale)` gives the sentence for an API error code (unauthorized, conflict,
...). `translate_error(exc, locale)` turns a domain error (`cadence.errors.CadenceError`), whose
message is English, into the user's language: the sentences a form can trigger are matched by
regular expressions and mapped to catalog entries; anything else keeps its English message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from addin.i18n import gettext

DOMAIN = "api"


def _(msgid: str) -> str:
    """Mark `msgid` for the `api` catalog; it is looked up later, in the request's locale."""
    return msgid


# -- API error codes -----------------------------------------------------------------------------

MESSAGES: Mapping[str, str] = {
    "bad_request": _("This request cannot be handled: reload the side panel and try again."),
    "invalid_json": _("The data is not valid JSON: reload the side panel and try again."),
    "json_too_deep": _(
        "The data is nested more than %(limit)s levels deep: send a flatter JSON object."
    ),
    "not_text": _(
        "The data holds a character that is not text (a lone UTF-16 surrogate): remove it and "
        "try again."
    ),
    "missing_field": _("The request misses the field %(field)s."),
    "invalid_field": _("The field %(field)s is not valid."),
    "form_expired": _("The form has expired: reload the page and try again."),
    "unauthorized": _("Sign in again: your sign-in is missing or has expired."),
    "consent_expired": _(
        "Access to your calendar or drive has expired: sign in again and give consent."
    ),
    "forbidden": _(
        "You are not a conversation partner in this series, or this step is the other "
        "partner's to take."
    ),
    "employee_only": _("Only the employee can do this: the employee leads the conversation."),
    "not_found": _("This was not found. It may have been deleted: reload the side panel."),
    "no_such_page": _("There is no such page. Check the address."),
    "method_not_allowed": _("This request method is not allowed here."),
    "conflict": _(
        "The other conversation partner changed this meanwhile. Both versions are kept: check "
        "the current one and apply yours again."
    ),
    "too_large": _(
        "This is too much to save at once (more than %(limit)s KiB): shorten it and try again."
    ),
    "unsupported_media_type": _("Send the data as JSON (Content-Type: application/json)."),
    "throttled": _("The calendar service asks us to slow down: try again in %(seconds)s seconds."),
    "provider_unavailable": _(
        "The calendar or drive cannot be reached right now. Nothing was lost: try again in a "
        "minute."
    ),
    "internal_error": _("Something went wrong on our side. Try again later."),
    "record_unreadable": _(
        "The saved record of this conversation cannot be opened: it is damaged, was replaced by "
        "another file or was sealed for another series. Nothing was changed. Trying again will "
        "not help: ask your administrator, who finds the file and the reason in the server's log."
    ),
}


def error_message(code: str, locale: str, **params: Any) -> str:
    """The sentence for API error `code` in `locale`; `params` fill its placeholders."""
    return gettext(locale, DOMAIN, MESSAGES[code], **params)


# -- domain errors -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    msgid: str


def _rule(pattern: str, msgid: str) -> _Rule:
    return _Rule(re.compile(pattern), msgid)


# Named groups become params; `role` values are translated too (they read "de medewerker" etc.).
_ROLES = (_("employee"), _("manager"))
_ROLE = r"(?P<role>employee|manager)"

_PLANNING = (
    _rule(
        r"choose at least one weekday for the conversations",
        _("Choose at least one weekday for the conversations."),
    ),
    _rule(
        r"duration must be (?P<low>\d+)-(?P<high>\d+) minutes, got (?P<got>.+)",
        _("A conversation takes %(low)s to %(high)s minutes, not %(got)s."),
    ),
    _rule(
        r"a (?P<duration>\d+)-minute conversation does not fit between (?P<earliest>\d\d:\d\d) "
        r"and (?P<latest>\d\d:\d\d): start earlier, end later or make it shorter",
        _(
            "A %(duration)s-minute conversation does not fit between %(earliest)s and "
            "%(latest)s: start earlier, end later or make it shorter."
        ),
    ),
    _rule(
        r"interval must be 1, 2, 3, 4 or 6 months, got (?P<got>.+)",
        _("Choose every 1, 2, 3, 4 or 6 months, not %(got)s."),
    ),
    _rule(
        r".+ must be weekdays 0-6 \(Monday-Sunday\), got .+",
        _("Unknown weekday: choose days from Monday to Sunday."),
    ),
    _rule(
        r"(?:earliest|latest) must be a local time of day without a zone, got .+",
        _("Give a time of day such as 09:30."),
    ),
    _rule(
        r"no candidate start time: widen the window",
        _("No start time fits: widen the window of the day."),
    ),
    _rule(r"working days must name at least one weekday", _("Choose at least one working day.")),
    _rule(
        r"working hours must end after they start, got (?P<start>\S+)-(?P<end>\S+)",
        _("Working hours must end after they start (%(start)s-%(end)s)."),
    ),
    _rule(
        r"employee and manager must be two different people",
        _("The employee and the manager must be two different people."),
    ),
)

_EMPTY = {
    "title": _("The title is empty: write a few words."),
    "theme title": _("The theme title is empty: write a few words."),
    "agreement": _("The agreement is empty: write a few words."),
    "action description": _("The action is empty: write a few words."),
}
_TOO_LONG = {
    "title": _("The title is %(length)s characters: keep it to %(limit)s."),
    "theme title": _("The theme title is %(length)s characters: keep it to %(limit)s."),
    "notes": _("The notes are %(length)s characters: keep them to %(limit)s."),
    "summary": _("The summary is %(length)s characters: keep it to %(limit)s."),
    "agreement": _("The agreement is %(length)s characters: keep it to %(limit)s."),
    "action description": _("The action is %(length)s characters: keep it to %(limit)s."),
    "reason": _("The reason is %(length)s characters: keep it to %(limit)s."),
}
_ONE_LINE = {
    "title": _("The title must be one line: move the rest into the notes."),
    "theme title": _("The theme title must be one line."),
    "action description": _("The action must be one line."),
}
_TEXTS = (
    *(
        _rule(rf"the {re.escape(what)} is empty: write a few words", m)
        for what, m in _EMPTY.items()
    ),
    *(
        _rule(rf"the {re.escape(what)} is (?P<length>\d+) characters: keep it to (?P<limit>\d+)", m)
        for what, m in _TOO_LONG.items()
    ),
    *(
        _rule(rf"the {re.escape(what)} must be one line: move the rest into the notes", m)
        for what, m in _ONE_LINE.items()
    ),
)

_CONVERSATION = (
    _rule(
        r"unknown theme (?P<key>.+): use one of (?P<keys>.+)",
        _("Unknown theme %(key)s: choose one of %(keys)s."),
    ),
    _rule(
        r"the agenda has no item .+",
        _("This agenda item no longer exists: reload to see the current agenda."),
    ),
    _rule(
        r"the record has no agreement .+",
        _("This agreement no longer exists: reload to see the current record."),
    ),
    _rule(
        r"the record has no action .+",
        _("This action no longer exists: reload to see the current record."),
    ),
    _rule(
        r".+ is not a partner in this conversation: only the employee and the manager can "
        r"change it",
        _("Only the employee and the manager can change this conversation."),
    ),
    _rule(
        r"only the employee orders the agenda: ask them to move the item",
        _("Only the employee orders the agenda: ask the employee to move the item."),
    ),
    _rule(
        r"only the employee shares the agenda: they own it",
        _("Only the employee can share the agenda: it is the employee's agenda."),
    ),
    _rule(
        r"the agenda is already shared: it was shared before",
        _("The agenda has been shared already."),
    ),
    _rule(
        r"the agenda is already agreed: it was shared before",
        _("The agenda has been agreed already."),
    ),
    _rule(
        r"the agenda is still a draft: the employee shares it first",
        _("The agenda is still a draft: the employee shares it first."),
    ),
    _rule(
        rf"the {_ROLE} already agreed to this agenda",
        _("The %(role)s has already agreed to this agenda."),
    ),
    _rule(
        r"the manager cannot edit item .+: the employee put it on the agenda and owns it; "
        r"propose a new item instead",
        _(
            "The manager cannot change this item: the employee put it on the agenda. Propose a "
            "new item instead."
        ),
    ),
    _rule(
        r"the manager cannot remove item .+: the employee put it on the agenda and owns it; "
        r"propose a new item instead",
        _("The manager cannot remove this item: the employee put it on the agenda."),
    ),
    _rule(
        r"agreement .+ was accepted already: edit it or decline it instead of removing it",
        _("This agreement was accepted already: edit or decline it instead of removing it."),
    ),
    _rule(
        r"agreement .+ is (?:proposed|final|declined) already: only a draft is proposed",
        _("This agreement has been proposed already: only a draft can be proposed."),
    ),
    _rule(
        r"agreement .+ is a draft: propose it before accepting it",
        _("This agreement is still a draft: propose it before accepting it."),
    ),
    _rule(r"agreement .+ is final already", _("This agreement is final already.")),
    _rule(
        rf"the {_ROLE} accepted agreement .+ already",
        _("The %(role)s has already accepted this agreement."),
    ),
    _rule(
        rf"there is no proposed agreement for the {_ROLE} to accept",
        _("There is no proposed agreement for the %(role)s to accept."),
    ),
    _rule(
        r"agreement .+ is a draft: there is nothing to decline yet",
        _("This agreement is still a draft: there is nothing to decline yet."),
    ),
    _rule(r"action .+ is open: it can become .+", _("This action is open already.")),
    _rule(r"action .+ is done: it can become .+", _("This action is done: reopen it first.")),
    _rule(
        r"action .+ is dropped: it can become .+", _("This action was dropped: reopen it first.")
    ),
)

_RECURRENCE = (
    _rule(
        r"cannot end the series before (?P<day>\S+): its first occurrence is (?P<first>\S+), "
        r"so choose a later day or delete the series",
        _(
            "The series cannot end before %(day)s: its first conversation is on %(first)s. "
            "Choose a later day or delete the series."
        ),
    ),
    _rule(
        r"until \((?P<until>\S+)\) is before the first occurrence \((?P<first>\S+)\): choose a "
        r"later end date",
        _(
            "The end date %(until)s is before the first conversation (%(first)s): choose a later "
            "one."
        ),
    ),
    _rule(
        r"until must be in year (?P<year>\d+) or earlier, got .+: leave the end out for a series "
        r"without end",
        _(
            "Choose an end date in %(year)s or earlier, or leave the end out for a series without "
            "end."
        ),
    ),
    _rule(r"count must be 1 or more, got .+", _("The number of conversations must be 1 or more.")),
    _rule(
        r"week must be 1-4 or -1 \(last\), got .+",
        _(
            "Choose the first to fourth or the last weekday of the month: not every month has a "
            "fifth."
        ),
    ),
    _rule(
        r"day must be 1-28 or -1 \(the last day of the month\), got .+",
        _("Choose a day of 1-28 or the last day of the month: days 29-31 are not in every month."),
    ),
    _rule(
        r"unknown time zone (?P<name>.+): use an IANA name such as .+",
        _("Unknown time zone %(name)s: use a name such as Europe/Amsterdam."),
    ),
    _rule(r"locale must be nl or en, got .+", _("Choose Dutch (nl) or English (en).")),
)

_RULES: tuple[_Rule, ...] = (*_PLANNING, *_TEXTS, *_CONVERSATION, *_RECURRENCE)


def translate_error(exc: BaseException, locale: str) -> str:
    """The message of domain error `exc` in `locale`; its English message if no rule knows it."""
    message = str(exc)
    for rule in _RULES:
        match = rule.pattern.fullmatch(message)
        if match is None:
            continue
        params: dict[str, Any] = match.groupdict()
        role = params.get("role")
        if role:
            params["role"] = gettext(locale, DOMAIN, role)
        return gettext(locale, DOMAIN, rule.msgid, **params)
    return message
