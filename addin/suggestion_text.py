"""The words of each suggestion (`cadence.suggestions`): a title and a one-line reason.

Both hosts show them as they come; the rule and its particulars stay in the answer beside them,
so a host that knows a rule can link it (a goal, an action, a request for feedback).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from babel.dates import format_date


def _(msgid: str) -> str:
    return msgid


SUGGESTION_MESSAGES: Mapping[str, tuple[str, str]] = {
    "timeout_open": (
        _("The request for a time-out"),
        _("Asked on %(since)s and still open: talk about how to go on."),
    ),
    "timeout_open_other_partner": (
        _("The request for another conversation partner"),
        _("Asked on %(since)s and still open: talk about how to go on."),
    ),
    "action_overdue": (
        _("Action: %(subject)s"),
        _("It was due on %(due)s and is still open."),
    ),
    "goal_stalled": (
        _("Goal: %(subject)s"),
        _("No progress was noted on this goal in the last two conversations."),
    ),
    "goal_horizon_near": (
        _("Goal: %(subject)s"),
        _("Its horizon is close (%(horizon)s): is it within reach, or does it need a new one?"),
    ),
    "goal_horizon_past": (
        _("Goal: %(subject)s"),
        _("Its horizon (%(horizon)s) has passed: achieved, dropped, or a new horizon?"),
    ),
    "goal_none": (
        _("Your goals"),
        _(
            "No goal has been set yet after %(count)s conversations: a development goal is "
            "a good start."
        ),
    ),
    "energy_falling": (
        _("Energy"),
        _("Energy fell from %(from)s to %(to)s in the last check-ins."),
    ),
    "happiness_falling": (
        _("Work happiness"),
        _("Work happiness fell from %(from)s to %(to)s in the last check-ins."),
    ),
    "energy_low": (
        _("Energy"),
        _("The last check-in gave energy a %(value)s out of 5."),
    ),
    "happiness_low": (
        _("Work happiness"),
        _("The last check-in gave work happiness a %(value)s out of 5."),
    ),
    "feedback_open": (
        _("Feedback from %(subject)s"),
        _("Answered on %(answered)s and not talked about yet."),
    ),
    "feedback_consent": (
        _("Feedback from %(subject)s"),
        _("Your manager would like to ask this colleague: it goes out once you agree."),
    ),
    "theme_quiet": (
        _("Theme: %(subject)s"),
        _("Not on the agenda for a year: the last time was %(last)s."),
    ),
    "theme_quiet_never": (
        _("Theme: %(subject)s"),
        _("Not on the agenda in the past year."),
    ),
    "anniversary": (
        _("%(years)s years at the organisation"),
        _("The work anniversary is on %(date)s: a moment to look back and ahead."),
    ),
}
"""Per rule (or rule and variant), the title and the reason, in the ``api`` catalog."""

_DATES = ("since", "due", "horizon", "answered", "last", "date")


def suggestion_text(suggestion: Mapping[str, Any], locale: str) -> dict[str, str]:
    """The title and reason of a suggestion (``rule``, ``subject``, ``params``) in `locale`."""
    from addin.i18n import gettext

    rule = str(suggestion["rule"])
    params = {str(k): str(v) for k, v in (suggestion.get("params") or {}).items()}
    if rule == "scheme":
        # The organisation's own words, from its template, in the reader's language already.
        return {"title": str(suggestion.get("subject") or ""), "reason": params.get("reason", "")}
    variant = _variant(rule, params)
    title, reason = SUGGESTION_MESSAGES[variant]
    lang = "nl" if locale.startswith("nl") else "en_GB"
    for name in _DATES:
        if params.get(name):
            params[name] = format_date(date.fromisoformat(params[name]), "long", locale=lang)
    words = {**params, "subject": str(suggestion.get("subject") or "")}
    return {
        "title": gettext(locale, "api", title, **words),
        "reason": gettext(locale, "api", reason, **words),
    }


def _variant(rule: str, params: Mapping[str, str]) -> str:
    if rule == "timeout_open" and params.get("kind") == "other_partner":
        return "timeout_open_other_partner"
    if rule == "goal_horizon":
        return f"goal_horizon_{params.get('when', 'near')}"
    if rule == "theme_quiet" and not params.get("last"):
        return "theme_quiet_never"
    return rule
