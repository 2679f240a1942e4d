"""Messages a person can act on, in Dutch and English, for the JSON API (the `api` catalog).

`error_message(code, locale)` gives the sentence for an API error code (unauthorized, conflict,
...). `translate_error(exc, locale)` says a domain error (`cadence.errors.CadenceError`) in the
user's language by its code and parameters (`DOMAIN_MESSAGES`); a code without a sentence keeps
its English message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from addin.i18n import gettext
from cadence.errors import CadenceError

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
    "provider_refused": _(
        "Your calendar or drive refused this change: reload and try again. If it keeps "
        "happening, your administrator finds the reason in the server's log."
    ),
    "not_served": _(
        "%(email)s uses a mail domain this installation does not serve: ask your administrator "
        "to add it."
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

# A role named in a refusal is said in the reader's language ("de medewerker").
_ROLES = (_("employee"), _("manager"))

DOMAIN_MESSAGES: Mapping[str, str] = {
    # planning
    "no_weekday": _("Choose at least one weekday for the conversations."),
    "duration_range": _("A conversation takes %(low)s to %(high)s minutes, not %(got)s."),
    "window_too_short": _(
        "A %(duration)s-minute conversation does not fit between %(earliest)s and "
        "%(latest)s: start earlier, end later or make it shorter."
    ),
    "interval": _("Choose every 1, 2, 3, 4 or 6 months, not %(got)s."),
    "unknown_weekday": _("Unknown weekday: choose days from Monday to Sunday."),
    "time_of_day": _("Give a time of day such as 09:30."),
    "no_start_time": _("No start time fits: widen the window of the day."),
    "no_working_day": _("Choose at least one working day."),
    "working_hours_order": _("Working hours must end after they start (%(start)s-%(end)s)."),
    "same_person": _("The employee and the manager must be two different people."),
    # texts a person writes
    "title_empty": _("The title is empty: write a few words."),
    "theme_title_empty": _("The theme title is empty: write a few words."),
    "agreement_empty": _("The agreement is empty: write a few words."),
    "action_empty": _("The action is empty: write a few words."),
    "notes_empty": _("The notes are empty: write a few words."),
    "summary_empty": _("The summary is empty: write a few words."),
    "reason_empty": _("The reason is empty: write a few words."),
    "text_empty": _("The text is empty: write a few words."),
    "title_too_long": _("The title is %(length)s characters: keep it to %(limit)s."),
    "theme_title_too_long": _("The theme title is %(length)s characters: keep it to %(limit)s."),
    "notes_too_long": _("The notes are %(length)s characters: keep them to %(limit)s."),
    "summary_too_long": _("The summary is %(length)s characters: keep it to %(limit)s."),
    "agreement_too_long": _("The agreement is %(length)s characters: keep it to %(limit)s."),
    "action_too_long": _("The action is %(length)s characters: keep it to %(limit)s."),
    "reason_too_long": _("The reason is %(length)s characters: keep it to %(limit)s."),
    "text_too_long": _("The text is %(length)s characters: keep it to %(limit)s."),
    "title_one_line": _("The title must be one line: move the rest into the notes."),
    "theme_title_one_line": _("The theme title must be one line."),
    "action_one_line": _("The action must be one line."),
    "agreement_one_line": _("The agreement must be one line."),
    "notes_one_line": _("The notes must be one line."),
    "summary_one_line": _("The summary must be one line."),
    "reason_one_line": _("The reason must be one line."),
    "text_one_line": _("The text must be one line."),
    # the conversation
    "unknown_theme": _("Unknown theme %(key)s: choose one of %(keys)s."),
    "no_such_item": _("This agenda item no longer exists: reload to see the current agenda."),
    "no_such_agreement": _("This agreement no longer exists: reload to see the current record."),
    "no_such_action": _("This action no longer exists: reload to see the current record."),
    "not_partner": _("Only the employee and the manager can change this conversation."),
    "employee_orders": _("Only the employee orders the agenda: ask the employee to move the item."),
    "employee_shares": _("Only the employee can share the agenda: it is the employee's agenda."),
    "agenda_already_shared": _("The agenda has been shared already."),
    "agenda_already_agreed": _("The agenda has been agreed already."),
    "agenda_not_shared": _("The agenda is still a draft: the employee shares it first."),
    "already_agreed": _("The %(role)s has already agreed to this agenda."),
    "manager_cannot_edit_item": _(
        "The manager cannot change this item: the employee put it on the agenda. Propose a "
        "new item instead."
    ),
    "manager_cannot_remove_item": _(
        "The manager cannot remove this item: the employee put it on the agenda."
    ),
    "agreement_accepted_not_removed": _(
        "An accepted agreement is not removed: change its text to propose it again."
    ),
    "agreement_already_proposed": _(
        "This agreement has been proposed already: only a draft can be proposed."
    ),
    "agreement_not_proposed": _("This agreement is still a draft: propose it before accepting it."),
    "agreement_final": _("This agreement is final already."),
    "already_accepted": _("The %(role)s has already accepted this agreement."),
    "nothing_to_accept": _("There is no proposed agreement for the %(role)s to accept."),
    "nothing_to_propose": _("There is no draft agreement to propose."),
    "agreement_draft_not_declined": _(
        "This agreement is still a draft: there is nothing to decline yet."
    ),
    "agreement_final_not_declined": _(
        "This agreement is final: both of you accepted it. Change its text to propose it again."
    ),
    "agreement_accepted_not_declined": _(
        "The %(role)s has accepted this agreement already: change its text to propose it again."
    ),
    "action_open": _("This action is open already."),
    "action_done": _("This action is done: reopen it first."),
    "action_dropped": _("This action was dropped: reopen it first."),
    "index_range": _("Choose a position from 0 to %(high)s, not %(got)s."),
    "agenda_full": _(
        "The agenda has %(limit)s items already: combine some, or keep one for the next "
        "conversation."
    ),
    "agreements_full": _(
        "The record has %(limit)s agreements already: combine some into one agreement."
    ),
    "actions_full": _("The record has %(limit)s actions already: combine some into one action."),
    # change ops as the app reads them (a host that is out of date sends these)
    "op_missing": _("A change names no op: reload the side panel and try again."),
    "op_unknown": _("Unknown change %(op)s: reload the side panel and try again."),
    "field_missing": _("The change misses the field %(field)s."),
    "field_not_text": _("The field %(field)s of the change must be text."),
    "index_whole": _("The position must be a whole number."),
    "finished_bool": _("finished must be true or false."),
    "due_date": _("The due date must be a date such as 2027-01-31."),
    # recurrence and zones
    "end_before_first": _(
        "The series cannot end before %(day)s: its first conversation is on %(first)s. "
        "Choose a later day or delete the series."
    ),
    "until_before_first": _(
        "The end date %(until)s is before the first conversation (%(first)s): choose a later one."
    ),
    "until_year": _(
        "Choose an end date in %(year)s or earlier, or leave the end out for a series without end."
    ),
    "count": _("The number of conversations must be 1 or more."),
    "week_index": _(
        "Choose the first to fourth or the last weekday of the month: not every month has a fifth."
    ),
    "month_day": _(
        "Choose a day of 1-28 or the last day of the month: days 29-31 are not in every month."
    ),
    "unknown_zone": _("Unknown time zone %(name)s: use a name such as Europe/Amsterdam."),
    "locale": _("Choose Dutch (nl) or English (en)."),
    # the journal: goals, check-ins, feedback, reflection, time-outs, guests
    "goal_empty": _("The goal is empty: write a few words."),
    "goal_too_long": _("The goal is %(length)s characters: keep it to %(limit)s."),
    "goal_one_line": _("The goal must be one line: put the rest in the why."),
    "why_empty": _("The why is empty: write a few words."),
    "why_too_long": _("The why is %(length)s characters: keep it to %(limit)s."),
    "why_one_line": _("The why must be one line."),
    "progress_empty": _("The progress note is empty: write a few words."),
    "progress_too_long": _("The progress note is %(length)s characters: keep it to %(limit)s."),
    "progress_one_line": _("The progress note must be one line."),
    "question_empty": _("A question is empty."),
    "question_too_long": _("A question is %(length)s characters: keep it to %(limit)s."),
    "question_one_line": _("A question must be one line."),
    "answer_empty": _("The answer is empty: write a few words."),
    "answer_too_long": _("An answer is %(length)s characters: keep it to %(limit)s."),
    "answer_one_line": _("An answer must be one line."),
    "reflection_empty": _("The reflection is empty: write a few words."),
    "reflection_too_long": _("The reflection is %(length)s characters: keep it to %(limit)s."),
    "reflection_one_line": _("The reflection must be one line."),
    "name_empty": _("The name is empty."),
    "name_too_long": _("The name is %(length)s characters: keep it to %(limit)s."),
    "name_one_line": _("The name must be one line."),
    "goal_unknown": _("There is no such goal: reload the side panel and try again."),
    "goal_employee": _("Only the employee writes, proposes and closes goals."),
    "goal_closed": _("This goal is achieved or dropped: it does not change any more."),
    "goal_not_draft": _("This goal was proposed already."),
    "goal_not_proposed": _("Only a proposed goal can be accepted or declined."),
    "goal_agreed": _("This goal is agreed: mark it dropped instead, so its history stays."),
    "goal_not_agreed": _("This goal is not agreed yet: both of you accept it first."),
    "journal_full": _("The journal holds at most %(most)s of these: close or remove one first."),
    "checkin_employee": _("Only the employee checks in."),
    "checkin_scale": _("Choose a whole number from 1 to 5, not %(value)s."),
    "feedback_unknown": _("There is no such request for feedback: reload and try again."),
    "feedback_questions": _("Choose 1 to %(most)s questions for your colleague."),
    "feedback_partner": _(
        "Ask a colleague: the two of you talk to each other in the conversation itself."
    ),
    "feedback_expiry": _("A colleague gets 1 to 60 days to answer."),
    "feedback_twice": _("%(email)s was asked already for this conversation."),
    "feedback_employee": _(
        "Only the employee decides on this request: the feedback is the employee's."
    ),
    "feedback_state": _("This request for feedback does not allow that now."),
    "feedback_link": _("This link was replaced by a newer one: use the latest mail."),
    "feedback_answered": _("This request was answered already. Thank you!"),
    "feedback_withdrawn": _("This request was withdrawn: no answer is needed any more."),
    "feedback_expired": _(
        "This request has expired: ask for a new link if you still want to answer."
    ),
    "question_unknown": _("Unknown question %(key)s: reload and choose again."),
    "reflection_employee": _("Only the employee writes and shares the reflection."),
    "reflection_missing": _("Write the reflection first, then share it."),
    "timeout_open": _("Such a request is open already: close it first."),
    "timeout_unknown": _("There is no such request: reload and try again."),
    "guest_employee": _("Only the employee invites a guest and decides what the guest sees."),
    "guest_partner": _("A guest is someone other than the two of you."),
    "guest_twice": _("%(email)s is invited already."),
    "guest_many": _("Bring at most %(most)s guests to one conversation."),
    "guest_unknown": _("%(email)s is not a guest of this conversation."),
    "guest_no_record": _("Let the guest read the record first, then send it."),
    "occurrence_key": _("%(key)s is not a conversation of this series."),
    "email_invalid": _("%(email)s is not an e-mail address."),
    "field_not_bool": _("The field %(field)s must be true or false."),
    "field_choice": _("The field %(field)s must be one of: %(choices)s."),
    "action_unknown": _("There is no such action: reload and choose again."),
}
"""The sentence for each domain error code (`cadence.errors.CadenceError.code`)."""


def translate_error(exc: BaseException, locale: str) -> str:
    """The message of domain error `exc` in `locale`, by its code and parameters.

    An error without a sentence for its code (input no form sends, such as a malformed file)
    keeps its English message.
    """
    msgid = DOMAIN_MESSAGES.get(exc.code) if isinstance(exc, CadenceError) else None
    if msgid is None or not isinstance(exc, CadenceError):
        return str(exc)
    params: dict[str, Any] = {key: str(value) for key, value in exc.params.items()}
    role = params.get("role")
    if role in _ROLES:
        params["role"] = gettext(locale, DOMAIN, role)
    return gettext(locale, DOMAIN, msgid, **params)
