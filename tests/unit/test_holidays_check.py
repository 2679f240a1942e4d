"""The start-up check of COUNTRY agrees with the holiday calendar itself, without loading it."""

from __future__ import annotations

import pytest

from cadence.errors import CadenceError
from cadence.holidays import check_country, public_holidays


@pytest.mark.parametrize("country", ["NL", "be", "DE", "GB", "XX", "ZZ", "N", ""])
def test_the_quick_check_refuses_exactly_what_the_calendar_refuses(country: str) -> None:
    try:
        public_holidays(country, 2026)
    except CadenceError:
        with pytest.raises(CadenceError, match="unknown country"):
            check_country(country)
    else:
        check_country(country)
