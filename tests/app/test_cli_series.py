"""Tests for `goedgesprek series preview`, through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from addin.cli import cli

EXAMPLE = [
    "series",
    "preview",
    "--start",
    "2027-01-12T10:00",
    "--tz",
    "Europe/Amsterdam",
    "--every",
    "3",
    "--weekday",
    "TU",
    "--week",
    "2",
    "--count",
    "8",
]


def run(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI and return its exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout, result.stderr


def test_json_preview_of_the_brief_example() -> None:
    """--json gives the RRULE lines, the Graph object and eight ISO occurrences with offsets."""
    code, out, err = run([*EXAMPLE, "--json"])
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert set(payload) == {"rrule", "graph", "occurrences", "weekend"}
    assert payload["weekend"] == []
    assert payload["rrule"] == [
        "DTSTART;TZID=Europe/Amsterdam:20270112T100000",
        "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=8",
    ]
    assert payload["graph"]["pattern"]["index"] == "second"
    assert payload["graph"]["range"]["numberOfOccurrences"] == 8
    assert payload["occurrences"][:2] == ["2027-01-12T10:00:00+01:00", "2027-04-13T10:00:00+02:00"]
    assert len(payload["occurrences"]) == 8


def test_human_preview_shows_every_part() -> None:
    """The human output describes the rule and shows occurrences, RFC 5545 lines and Graph JSON."""
    code, out, _ = run(EXAMPLE)
    assert code == 0
    assert out.startswith(
        "Elke 3 maanden op de tweede dinsdag, 8 keer\nom 10:00 (Europe/Amsterdam)"
    )
    assert "dinsdag   2027-01-12 10:00 (UTC+01:00)" in out
    assert "dinsdag   2028-10-10 10:00 (UTC+02:00)" in out
    assert "  RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU;COUNT=8" in out
    assert '"relativeMonthly"' in out


def test_english_preview() -> None:
    """--locale en describes the rule in English."""
    code, out, _ = run([*EXAMPLE, "--locale", "en"])
    assert code == 0
    assert out.startswith("Every 3 months on the second Tuesday, 8 times\nat 10:00")


def test_no_end_shows_the_first_eight() -> None:
    """Without --count or --until the first 8 of an endless series are shown."""
    code, out, _ = run(
        ["series", "preview", "--start", "2027-01-01T09:30", "--day", "last", "--json"]
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["occurrences"][0] == "2027-01-31T09:30:00+01:00"
    assert len(payload["occurrences"]) == 8
    assert payload["graph"]["range"]["type"] == "noEnd"
    assert payload["graph"]["pattern"]["dayOfMonth"] == 31


def test_until_ends_the_preview() -> None:
    """--until is inclusive and becomes a UTC UNTIL and a Graph endDate."""
    code, out, _ = run(
        [
            "series",
            "preview",
            "--start",
            "2027-01-12T10:00",
            "--tz",
            "America/New_York",
            "--every",
            "6",
            "--day",
            "12",
            "--until",
            "2028-01-12",
            "--json",
        ]
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["occurrences"] == [
        "2027-01-12T10:00:00-05:00",
        "2027-07-12T10:00:00-04:00",
        "2028-01-12T10:00:00-05:00",
    ]
    assert payload["rrule"][1].endswith("UNTIL=20280113T045959Z")
    assert payload["graph"]["range"]["endDate"] == "2028-01-12"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--weekday", "TU", "--week", "5"], "--week must be 1, 2, 3, 4 or last, got '5'"),
        (["--day", "31"], "--day must be 1-28 or last, got '31': days 29-31 are not in every"),
        (["--day", "0"], "--day must be 1-28 or last, got '0': a month starts on day 1"),
        (["--day", "-1"], "got '-1': a month starts on day 1 (for the last day of the month"),
        (["--day", "32"], "got '32': no month has 32 days"),
        (["--day", "first"], "--day must be a day of the month, 1-28, or last, got 'first'"),
        (["--every", "5", "--day", "3"], "--every must be 1, 2, 3, 4 or 6"),
        (["--day", "3", "--count", "0"], "count must be 1 or more, got 0"),
        (["--day", "3", "--count", "2", "--until", "2028-01-01"], "not both"),
        (["--day", "3", "--until", "2026-01-01"], "before the first occurrence"),
        (["--day", "3", "--tz", "Mars/Base"], "unknown time zone 'Mars/Base'"),
        (["--day", "3", "--weekday", "TU", "--week", "1"], "not both"),
        (["--weekday", "TU"], "say which day"),
        (["--weekday", "XX", "--week", "1"], "--weekday must be one of"),
        (["--day", "3", "--every", "x"], "'x' is not a valid integer"),
        (["--day", "3", "--until", "31-12-2027"], "--until must look like 2027-12-31"),
        (["--day", "3", "--no-such-option"], "No such option"),
    ],
)
def test_refused_rule_exits_2_with_one_line(extra: list[str], message: str) -> None:
    """A refused rule exits with 2 and says why on exactly one stderr line, no traceback."""
    code, out, err = run(["series", "preview", "--start", "2027-01-12T10:00", *extra])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_bad_or_missing_start_is_one_line() -> None:
    """A malformed or missing --start is refused on one line too."""
    code, _, err = run(["series", "preview", "--start", "2027-01-12", "--day", "3"])
    assert (code, err) == (2, "error: --start must look like 2027-01-12T10:00, got '2027-01-12'\n")
    code, _, err = run(["series", "preview", "--day", "3"])
    assert (code, err) == (2, "error: Missing option '--start'.\n")


def test_human_preview_shows_an_offset_with_seconds_whole() -> None:
    """Amsterdam's old local mean time (+00:19:32) is shown whole, not cut to its tail."""
    code, out, _ = run(
        ["series", "preview", "--start", "1930-01-02T10:00", "--weekday", "TU", "--week", "2"]
    )
    assert code == 0
    assert "dinsdag   1930-01-14 10:00 (UTC+00:19:32)" in out


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("utc", "UTC"),
        ("UTC", "UTC"),
        ("europe/amsterdam", "Europe/Amsterdam"),
        ("Etc/UTC", "Etc/UTC"),
    ],
)
def test_a_zone_in_any_case_is_the_canonical_iana_name(typed: str, canonical: str) -> None:
    """--tz is matched without regard to case; the rule and the output use the database's name."""
    code, out, err = run(
        ["series", "preview", "--start", "2027-01-12T10:00", "--day", "12", "--tz", typed, "--json"]
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["rrule"][0] == f"DTSTART;TZID={canonical}:20270112T100000"
    code, out, _ = run(
        ["series", "preview", "--start", "2027-01-12T10:00", "--day", "12", "--tz", typed]
    )
    assert code == 0
    assert f"({canonical})" in out.splitlines()[1]


def test_a_day_of_the_month_names_the_dates_on_a_weekend() -> None:
    """--day last lands on Saturdays and Sundays: the warning names them, --json lists them."""
    args = ["series", "preview", "--start", "2027-01-12T10:00", "--day", "last", "--count", "6"]
    code, out, err = run([*args, "--locale", "en"])
    assert code == 0
    assert err == (
        "warning: 4 of these 6 dates fall on a weekend (Sunday 2027-01-31, Saturday 2027-07-31, "
        "Sunday 2027-10-31, Sunday 2028-04-30); the calendars keep them there. Choose --weekday "
        "with --week for a working day every time.\n"
    )
    code, _, err = run(args)
    assert code == 0
    assert err.startswith("let op: 4 van deze 6 data vallen in het weekend (zondag 2027-01-31, ")
    code, out, err = run([*args, "--json"])
    assert json.loads(out)["weekend"] == [
        "2027-01-31T10:00:00+01:00",
        "2027-07-31T10:00:00+02:00",
        "2027-10-31T10:00:00+01:00",
        "2028-04-30T10:00:00+02:00",
    ]
    assert "2027-01-31" in err


def test_a_long_weekend_list_is_cut_in_the_warning_only() -> None:
    """With many weekend dates the warning names the first 8; --json still lists them all."""
    args = ["series", "preview", "--start", "2027-01-12T10:00", "--day", "last", "--every", "1"]
    code, out, err = run([*args, "--count", "60", "--json"])
    assert code == 0
    weekend = json.loads(out)["weekend"]
    assert len(weekend) > 8
    assert err.count("20") == 8
    assert "…" in err


def test_a_chosen_weekday_gives_no_warning() -> None:
    """A weekday picked with --weekday is deliberate, even a Saturday."""
    code, _, err = run(
        ["series", "preview", "--start", "2027-01-12T10:00", "--weekday", "SA", "--week", "1"]
    )
    assert (code, err) == (0, "")
