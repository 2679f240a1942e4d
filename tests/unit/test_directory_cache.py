"""The directory cache: answers reused for a time, per person, bounded, shared by threads; a
change of manager shows once its time is up; failures are never kept."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from connectors.directory import CachedDirectory
from connectors.errors import Unavailable
from connectors.ports import DirectoryPerson


class Counting:
    """A directory that counts its questions; `managers` can change under it."""

    def __init__(self) -> None:
        self.managers: dict[str, str | None] = {"ada@example.org": "grace@example.org"}
        self.asked: Counter[str] = Counter()
        self.fail = False
        self._lock = threading.Lock()

    def manager_of(self, email: str) -> str | None:
        with self._lock:
            self.asked["manager:" + email.lower()] += 1
        if self.fail:
            raise Unavailable("the directory is down")
        return self.managers.get(email.lower())

    def person(self, email: str) -> DirectoryPerson | None:
        with self._lock:
            self.asked["person:" + email.lower()] += 1
        return DirectoryPerson(email.lower(), "Ada", "Europe/Amsterdam", None)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_reused_within_its_time_in_any_case_of_the_address() -> None:
    inner, clock = Counting(), Clock()
    cached = CachedDirectory(inner, ttl=300, clock=clock)
    assert cached.manager_of("ada@example.org") == "grace@example.org"
    clock.now += 299
    assert cached.manager_of("ADA@Example.org") == "grace@example.org"
    assert inner.asked["manager:ada@example.org"] == 1
    assert cached.person("ada@example.org") == cached.person("Ada@example.org")
    assert inner.asked["person:ada@example.org"] == 1


def test_a_change_of_manager_shows_once_the_time_is_up() -> None:
    inner, clock = Counting(), Clock()
    cached = CachedDirectory(inner, ttl=300, clock=clock)
    assert cached.manager_of("ada@example.org") == "grace@example.org"
    inner.managers["ada@example.org"] = "eve@example.org"
    assert cached.manager_of("ada@example.org") == "grace@example.org"  # still kept
    clock.now += 300
    assert cached.manager_of("ada@example.org") == "eve@example.org"
    assert inner.asked["manager:ada@example.org"] == 2


def test_nobody_as_manager_is_an_answer_kept_like_any_other() -> None:
    inner, clock = Counting(), Clock()
    cached = CachedDirectory(inner, ttl=60, clock=clock)
    assert cached.manager_of("grace@example.org") is None
    assert cached.manager_of("grace@example.org") is None
    assert inner.asked["manager:grace@example.org"] == 1


def test_a_time_of_zero_asks_every_time() -> None:
    inner = Counting()
    cached = CachedDirectory(inner, ttl=0)
    for _ in range(3):
        cached.manager_of("ada@example.org")
    inner.managers["ada@example.org"] = "eve@example.org"
    assert cached.manager_of("ada@example.org") == "eve@example.org"
    assert inner.asked["manager:ada@example.org"] == 4
    assert cached.size() == 0


def test_a_failure_is_not_kept_the_next_call_asks_again() -> None:
    inner, clock = Counting(), Clock()
    cached = CachedDirectory(inner, ttl=300, clock=clock)
    inner.fail = True
    with pytest.raises(Unavailable):
        cached.manager_of("ada@example.org")
    inner.fail = False
    assert cached.manager_of("ada@example.org") == "grace@example.org"
    assert inner.asked["manager:ada@example.org"] == 2


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    inner, clock = Counting(), Clock()
    cached = CachedDirectory(inner, ttl=300, max_entries=3, clock=clock)
    for name in ("a", "b", "c"):
        cached.manager_of(f"{name}@example.org")
    cached.manager_of("a@example.org")  # a is used again: b is now the oldest
    cached.manager_of("d@example.org")
    assert cached.size() == 3
    cached.manager_of("a@example.org")
    cached.manager_of("b@example.org")  # dropped: asked again
    assert inner.asked["manager:a@example.org"] == 1
    assert inner.asked["manager:b@example.org"] == 2
    for i in range(100):
        cached.manager_of(f"p{i}@example.org")
    assert cached.size() == 3


def test_forget_drops_one_person_or_everyone() -> None:
    inner, clock = Counting(), Clock()
    cached = CachedDirectory(inner, ttl=300, clock=clock)
    cached.manager_of("ada@example.org")
    cached.person("ada@example.org")
    cached.manager_of("bob@example.org")
    cached.forget("ADA@example.org")
    assert cached.size() == 1
    cached.forget()
    assert cached.size() == 0


def test_threads_sharing_the_cache_get_the_same_answers_within_the_bound() -> None:
    """Eight threads ask about 50 people 20 times each: every answer is right, the bound holds,
    and each person is asked of the directory only a few times (a miss at once may ask twice)."""
    inner, clock = Counting(), Clock()
    for i in range(50):
        inner.managers[f"p{i}@example.org"] = f"m{i}@example.org"
    cached = CachedDirectory(inner, ttl=300, max_entries=64, clock=clock)
    wrong: list[str] = []
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        start.wait(timeout=10)
        for round_ in range(20):
            for i in range(50):
                j = (i + seed + round_) % 50
                if cached.manager_of(f"p{j}@example.org") != f"m{j}@example.org":
                    wrong.append(f"p{j}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert wrong == []
    assert cached.size() <= 64
    assert all(inner.asked[f"manager:p{i}@example.org"] <= 8 for i in range(50))


@pytest.mark.parametrize(("ttl", "entries"), [(-1, 10), (10, 0)])
def test_odd_limits_are_refused(ttl: float, entries: int) -> None:
    with pytest.raises(ValueError, match="ttl"):
        CachedDirectory(Counting(), ttl=ttl, max_entries=entries)


def test_an_empty_cache_still_counts_as_a_directory() -> None:
    """Nothing kept yet must not read as "no directory" where one is chosen with `or`."""
    assert bool(CachedDirectory(Counting(), ttl=300))
