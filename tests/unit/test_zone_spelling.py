"""A zone name spelled exactly is answered from a few directory listings; every answer is the
one the full listing of the zone database gives."""

from __future__ import annotations

from zoneinfo import available_timezones

import pytest

from cadence.errors import UnknownTimeZone
from cadence.zones import _by_folded_name, _spelled_as_a_file, canonical_zone, zone


def _by_listing(name: str) -> str | None:
    """What `canonical_zone` answered before it looked at single files: None for a refusal."""
    found = _by_folded_name().get(name.strip().casefold(), name)
    try:
        zone(found)
    except UnknownTimeZone:
        return None
    return found


def _answer(name: str) -> str | None:
    try:
        return canonical_zone(name)
    except UnknownTimeZone:
        return None


def test_every_zone_in_any_case_is_spelled_as_the_listing_spells_it() -> None:
    names = sorted(available_timezones())
    assert "Europe/Amsterdam" in names
    for name in names:
        for asked in (name, name.lower(), name.upper(), f" {name} "):
            assert _answer(asked) == _by_listing(asked), asked


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/",
        "Europe",
        "Europe/",
        "Europe//Amsterdam",
        "../zoneinfo/UTC",
        "Europe/../UTC",
        "./UTC",
        "posixrules",
        "localtime",
        "right/UTC",
        "posix/Europe/Amsterdam",
        "zone.tab",
        "tzdata.zi",
        "Mars/Olympus_Mons",
    ],
)
def test_odd_names_get_the_same_answer_as_before(name: str) -> None:
    assert _answer(name) == _by_listing(name)


def test_an_exact_name_needs_no_full_listing() -> None:
    assert _spelled_as_a_file("Europe/Amsterdam")
    assert not _spelled_as_a_file("europe/amsterdam")
    assert not _spelled_as_a_file("Europe/../UTC")


@pytest.mark.parametrize("name", ["Europe", "America", "Etc"])
def test_a_folder_of_the_zone_database_is_an_unknown_zone_not_a_crash(name: str) -> None:
    with pytest.raises(UnknownTimeZone, match="unknown time zone"):
        zone(name)
