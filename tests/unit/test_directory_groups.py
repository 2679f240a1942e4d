"""Group membership in the directories without a provider (none: they know no groups) and in
the cache (kept per person and group for its time; failures not kept; forgotten per person)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from addin.wiring import _LazyDirectory
from connectors.directory import CachedDirectory, CsvDirectory, NoDirectory, StoreDirectory
from connectors.errors import Unavailable
from connectors.memory import MemoryStore
from connectors.ports import Directory, DirectoryPerson

ADA = "ada@example.org"
GRACE = "grace@example.org"
HR = "hr-team@example.org"


class Groups:
    """A directory that knows groups and counts its questions; `members` can change under it."""

    def __init__(self) -> None:
        self.members = {HR: {GRACE}}
        self.asked: Counter[str] = Counter()
        self.fail = False

    def manager_of(self, email: str) -> str | None:
        return None

    def person(self, email: str) -> DirectoryPerson | None:
        return None

    def reporting_lines(self, reader: str = "") -> list[tuple[str, str]]:
        return []

    def is_member(self, email: str, group: str) -> bool:
        self.asked[f"{email.lower()} {group.lower()}"] += 1
        if self.fail:
            raise Unavailable("the directory is down")
        return email.lower() in self.members.get(group.lower(), set())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_directories_without_groups_say_no(tmp_path: Path) -> None:
    lines = tmp_path / "lines.csv"
    lines.write_text(f"employee,manager\n{ADA},{GRACE}\n")
    for directory in (CsvDirectory(lines), StoreDirectory(MemoryStore()), NoDirectory()):
        assert isinstance(directory, Directory)
        assert directory.is_member(GRACE, HR) is False


def test_an_answer_is_kept_per_person_and_group_for_its_time() -> None:
    inner, clock = Groups(), Clock()
    cached = CachedDirectory(inner, ttl=300, clock=clock)
    assert cached.is_member(GRACE, HR)
    assert cached.is_member(GRACE.upper(), HR.upper())
    assert not cached.is_member(ADA, HR)
    assert not cached.is_member(ADA, HR)  # a no is kept like a yes
    assert not cached.is_member(GRACE, "other@example.org")
    assert inner.asked == Counter(
        {f"{GRACE} {HR}": 1, f"{ADA} {HR}": 1, f"{GRACE} other@example.org": 1}
    )
    inner.members[HR] = {ADA}
    assert cached.is_member(GRACE, HR)  # still kept
    clock.now += 300
    assert not cached.is_member(GRACE, HR)
    assert cached.is_member(ADA, HR)


def test_a_failure_is_not_kept_and_forget_drops_a_persons_answers() -> None:
    inner, clock = Groups(), Clock()
    cached = CachedDirectory(inner, ttl=300, clock=clock)
    inner.fail = True
    with pytest.raises(Unavailable):
        cached.is_member(GRACE, HR)
    inner.fail = False
    assert cached.is_member(GRACE, HR)
    assert cached.is_member(ADA, HR) is False
    assert cached.size() == 2
    inner.members[HR] = set()
    cached.forget(GRACE)
    assert cached.size() == 1
    assert not cached.is_member(GRACE, HR)
    cached.forget()
    assert cached.size() == 0


def test_a_time_of_zero_asks_every_time() -> None:
    inner = Groups()
    cached = CachedDirectory(inner, ttl=0)
    for _ in range(3):
        assert cached.is_member(GRACE, HR)
    assert inner.asked[f"{GRACE} {HR}"] == 3


def test_the_lazy_directory_asks_the_provider_it_builds() -> None:
    inner, closed = Groups(), []
    lazy = _LazyDirectory(lambda: (inner, lambda: closed.append(True)))
    assert lazy.is_member(GRACE, HR) and not lazy.is_member(ADA, HR)
    lazy.close()
    assert closed == [True]
