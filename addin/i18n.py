"""The demo page's words in Dutch and English (the side panel gets gettext catalogs)."""

from __future__ import annotations

from collections.abc import Mapping

SUPPORTED = ("nl", "en")

_WORDS: Mapping[str, Mapping[str, str]] = {
    "title": {"nl": "Goed Gesprek: demo", "en": "Goed Gesprek: demo"},
    "intro": {
        "nl": "Lokale agenda's en schijf, geen cloudaccount nodig. Ada is medewerker, "
        "Grace haar leidinggevende.",
        "en": "Local calendars and drive, no cloud account needed. Ada is the employee, "
        "Grace her manager.",
    },
    "calendars": {"nl": "Agenda's", "en": "Calendars"},
    "week_of": {"nl": "Week van", "en": "Week of"},
    "previous": {"nl": "Vorige week", "en": "Previous week"},
    "next": {"nl": "Volgende week", "en": "Next week"},
    "today": {"nl": "Deze week", "en": "This week"},
    "employee": {"nl": "medewerker", "en": "employee"},
    "manager": {"nl": "leidinggevende", "en": "manager"},
    "free": {"nl": "vrij", "en": "free"},
    "proposal": {"nl": "Voorgestelde gesprekkenreeks", "en": "Proposed series"},
    "preferences": {"nl": "Wensen van de medewerker", "en": "The employee's preferences"},
    "weekdays": {"nl": "Dagen", "en": "Days"},
    "earliest": {"nl": "Vanaf", "en": "From"},
    "latest": {"nl": "Tot", "en": "Until"},
    "duration": {"nl": "Duur (minuten)", "en": "Duration (minutes)"},
    "every": {"nl": "Elke (maanden)", "en": "Every (months)"},
    "place": {"nl": "Plaats", "en": "Place"},
    "online": {"nl": "Online", "en": "Online"},
    "replan": {"nl": "Opnieuw plannen", "en": "Plan again"},
    "occurrences": {"nl": "De eerstvolgende gesprekken", "en": "The next conversations"},
    "clashes": {"nl": "Botsingen", "en": "Clashes"},
    "fits": {"nl": "Past in beide agenda's", "en": "Fits both calendars"},
    "no_fit": {"nl": "Past niet helemaal", "en": "Does not fit completely"},
    "rfc5545": {"nl": "Als iCalendar (RFC 5545, Google)", "en": "As iCalendar (RFC 5545, Google)"},
    "graph": {"nl": "Als Microsoft Graph", "en": "As Microsoft Graph"},
    "create": {"nl": "Plan deze reeks in", "en": "Schedule this series"},
    "created": {
        "nl": "De reeks staat in beide agenda's.",
        "en": "The series is in both calendars.",
    },
    "series": {"nl": "Geplande reeksen", "en": "Scheduled series"},
    "no_series": {"nl": "Nog geen reeks gepland.", "en": "No series scheduled yet."},
    "error": {"nl": "Dat kan niet", "en": "That does not work"},
    "language": {"nl": "Taal", "en": "Language"},
    "weekday_names": {"nl": "ma di wo do vr za zo", "en": "Mon Tue Wed Thu Fri Sat Sun"},
    "conversation": {"nl": "Goed gesprek", "en": "Good conversation"},
}


def pick_locale(requested: str | None, accept: str | None, default: str = "nl") -> str:
    """The locale asked for, else the browser's first supported language, else `default`."""
    if requested in SUPPORTED:
        return requested
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in SUPPORTED:
            return tag
    return default


def words(locale: str) -> dict[str, str]:
    """Every demo word in `locale`."""
    return {key: texts[locale] for key, texts in _WORDS.items()}
