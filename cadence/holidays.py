"""Public holidays and the quiet days at the year's end, by country, in Dutch or English.

The `holidays` package is computation only (no network, no files), so this stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from types import MappingProxyType

import holidays as _holidays
from holidays.registry import EntityLoader

from cadence.errors import CadenceError
from cadence.recurrence import language

# The holidays package's language codes for our locales.
_LANGUAGES = {"nl": "nl", "en": "en_US"}


def _unknown(country: str) -> CadenceError:
    return CadenceError(f"unknown country {country!r}: use an ISO 3166 code such as NL, BE or DE")


def check_country(country: str) -> None:
    """Raise `CadenceError` unless the holiday calendar knows `country` (ISO 3166 code).

    Reads the package's registry only: the calendars themselves (every country's module,
    about 0.15 s of imports) are loaded when the first holiday is asked for.
    """
    if country.upper() not in set(EntityLoader.get_country_codes()):
        raise _unknown(country.upper())


@cache
def _year(country: str, year: int, lang: str) -> Mapping[date, str]:
    try:
        found = _holidays.country_holidays(country, years=year)
    except NotImplementedError:
        raise _unknown(country) from None
    wanted = _LANGUAGES[lang]
    if wanted in (found.supported_languages or ()):
        found = _holidays.country_holidays(country, years=year, language=wanted)
    return MappingProxyType(dict(found.items()))


def public_holidays(country: str, year: int, locale: str = "nl") -> Mapping[date, str]:
    """The public holidays of `country` (ISO 3166 code) in `year`, named in the locale.

    Names fall back to the country's own language where the package has no translation.
    Raises `CadenceError` for an unknown country.
    """
    return _year(country.upper(), year, language(locale))


def holiday_name(day: date, country: str = "NL", locale: str = "nl") -> str | None:
    """The public holiday on `day` in `country`, or None."""
    return public_holidays(country, day.year, locale).get(day)


def is_year_end_break(day: date) -> bool:
    """True from 24 to 31 December: many teams are off or on leave, so a conversation moves.

    Christmas and New Year's Day themselves are public holidays; this covers the days between.
    """
    return day.month == 12 and day.day >= 24
