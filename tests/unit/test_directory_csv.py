"""The HR-maintained CSV directory: what it reads, and every bad line named with its number."""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path

import pytest

from connectors.directory import (
    CsvDirectory,
    DirectoryFileError,
    DirectoryLine,
    parse_directory_csv,
)
from connectors.errors import Unavailable
from connectors.ports import DirectoryHours

GOOD = """employee,manager,timezone,working_days,start,end
# HR, updated monthly
Ada@Example.org,grace@example.org,Europe/Amsterdam,MO TU TH,09:00,15:30

grace@example.org,
eve@example.org,grace@example.org
"""


def test_a_good_file_is_read() -> None:
    """Header, comment and blank lines skipped; addresses lower case; part-time days kept."""
    lines = parse_directory_csv(GOOD)
    assert lines == {
        "ada@example.org": DirectoryLine(
            "ada@example.org",
            "grace@example.org",
            "Europe/Amsterdam",
            DirectoryHours(("MO", "TU", "TH"), time(9), time(15, 30)),
        ),
        "grace@example.org": DirectoryLine("grace@example.org", None),
        "eve@example.org": DirectoryLine("eve@example.org", "grace@example.org"),
    }


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("ada@example.org", "expected 2 fields"),
        ("ada@example.org,grace@example.org,Europe/Amsterdam", "joined must be a date"),
        ("ada@example.org,grace@example.org,Europe/Amsterdam,MO", "found 4"),
        ("ada@example.org,grace@example.org,2021-4-1", "not '2021-4-1'"),
        ("ada,grace@example.org", "employee 'ada' is not an email address"),
        ("ada@example.org,grace", "manager 'grace' is not an email address"),
        ("ada@example.org,ADA@example.org", "cannot be their own manager"),
        ("ada@example.org,g@example.org,Mars/Olympus,MO,09:00,17:00", "not an IANA time zone"),
        ("ada@example.org,g@example.org,Europe/Amsterdam,XX,09:00,17:00", "not XX"),
        ("ada@example.org,g@example.org,Europe/Amsterdam,,09:00,17:00", "at least one day"),
        ("ada@example.org,g@example.org,Europe/Amsterdam,MO,9:00,17:00", "start '9:00'"),
        ("ada@example.org,g@example.org,Europe/Amsterdam,MO,17:00,09:00", "end after they start"),
    ],
)
def test_a_bad_line_is_named_with_its_number(line: str, said: str) -> None:
    """The error gives the line number and what is wrong there."""
    with pytest.raises(DirectoryFileError) as caught:
        parse_directory_csv(f"employee,manager\ngrace@example.org,\n{line}\n", "hr.csv")
    assert caught.value.problems[0][0] == 3
    assert said in caught.value.problems[0][1]
    assert "hr.csv" in str(caught.value) and "line 3" in str(caught.value)


def test_a_joining_day_may_follow_either_form() -> None:
    """The day someone joined, after the manager or after the hours, is read as a date."""
    lines = parse_directory_csv(
        "ada@example.org,grace@example.org,2021-04-01\n"
        "bob@example.org,grace@example.org,Europe/Amsterdam,MO,09:00,17:00,2019-09-30\n"
        "eve@example.org,grace@example.org,\n"
    )
    assert lines["ada@example.org"].joined == date(2021, 4, 1)
    assert lines["bob@example.org"].joined == date(2019, 9, 30)
    assert lines["bob@example.org"].tz == "Europe/Amsterdam"
    assert lines["eve@example.org"].joined is None


def test_every_problem_is_listed_at_once() -> None:
    """Two bad lines and a duplicate: three problems, by line."""
    text = "a@example.org,b\nc,d@example.org\na@example.org,\na@example.org,\n"
    with pytest.raises(DirectoryFileError) as caught:
        parse_directory_csv(text)
    assert [n for n, _ in caught.value.problems] == [1, 2, 4]
    assert "has a line already" in caught.value.problems[2][1]


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    """HR moves Ada to Eve: the next read says so; a broken edit is refused, not half-used."""
    path = tmp_path / "lines.csv"
    path.write_text("ada@example.org,grace@example.org\n")
    directory = CsvDirectory(path)
    assert directory.manager_of("ADA@example.org") == "grace@example.org"
    assert directory.manager_of("nobody@example.org") is None
    person = directory.person("ada@example.org")
    assert person is not None and person.hours is None and person.tz == ""
    path.write_text("ada@example.org,eve@example.org,Europe/London,MO TU,08:00,12:00\n")
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))
    assert directory.manager_of("ada@example.org") == "eve@example.org"
    person = directory.person("ada@example.org")
    assert person is not None and person.tz == "Europe/London"
    path.write_text("ada@example.org,eve\n")
    os.utime(path, ns=(1, 3_000_000_000_000_000_000))
    with pytest.raises(Unavailable, match="line 1"):
        directory.manager_of("ada@example.org")


def test_a_missing_file_stops_start_up(tmp_path: Path) -> None:
    """A path with no file is said with the path."""
    with pytest.raises(DirectoryFileError, match="cannot read it"):
        CsvDirectory(tmp_path / "absent.csv")
