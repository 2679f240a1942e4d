"""One contract for every `Directory`: the embedded stores, the HR file, and the Graph and Google
directories through their real SDKs against the served emulators."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.ports import Directory

ADA = "ada@example.org"
GRACE = "grace@example.org"
EVE = "eve@example.org"
HR = "hr@example.org"

SetManager = Callable[[str, str | None], None]


def _memory(_tmp: Path) -> Iterator[tuple[Directory, SetManager]]:
    from connectors.directory import StoreDirectory
    from connectors.memory import MemoryStore

    store = MemoryStore()
    for who in (ADA, GRACE, EVE):
        store.add_person(who, who.split("@")[0].title(), "Europe/Amsterdam")
    yield StoreDirectory(store), store.set_manager


def _local(tmp: Path) -> Iterator[tuple[Directory, SetManager]]:
    from connectors.directory import StoreDirectory
    from connectors.local import LocalStore

    with LocalStore(tmp) as store:
        for who in (ADA, GRACE, EVE):
            store.add_person(who, who.split("@")[0].title(), "Europe/Amsterdam")
        yield StoreDirectory(store), store.set_manager


def _csv(tmp: Path) -> Iterator[tuple[Directory, SetManager]]:
    from connectors.directory import CsvDirectory

    path = tmp / "lines.csv"
    lines: dict[str, str] = {}
    stamp = [10**18]

    def write() -> None:
        path.write_text("employee,manager\n" + "".join(f"{e},{m}\n" for e, m in lines.items()))
        stamp[0] += 10**9  # a new mtime each write, however fast the writes come
        os.utime(path, ns=(stamp[0], stamp[0]))

    def set_manager(email: str, manager: str | None) -> None:
        if manager is None:
            lines.pop(email, None)
        else:
            lines[email] = manager
        write()

    write()
    yield CsvDirectory(path), set_manager


def _graph(_tmp: Path) -> Iterator[tuple[Directory, SetManager]]:
    from connectors.graph import GraphAccount, StaticToken
    from emulators.graph import GraphEmulator
    from emulators.serve import Server

    emulator = GraphEmulator()
    with Server(emulator) as server:
        account = GraphAccount(
            lambda email: StaticToken(emulator.token(email)), base_url=f"{server.url}/v1.0"
        )
        try:
            yield account.directory(), emulator.set_manager
        finally:
            account.close()


def _google(_tmp: Path) -> Iterator[tuple[Directory, SetManager]]:
    from google.oauth2.credentials import Credentials

    from connectors.google import GoogleAccount
    from emulators.google import GoogleEmulator
    from emulators.serve import Server

    emulator = GoogleEmulator()
    emulator.add_admin(HR)
    for who in (ADA, GRACE, EVE):
        emulator.add_user(who)
    with Server(emulator) as server:
        account = GoogleAccount(
            lambda email: Credentials(emulator.token(email)),  # type: ignore[no-untyped-call]
            root_url=f"{server.url}/",
        )
        try:
            yield account.directory(HR), emulator.set_manager
        finally:
            account.close()


BACKENDS: dict[str, Callable[[Path], Iterator[tuple[Directory, SetManager]]]] = {
    "memory": _memory,
    "local": _local,
    "csv": _csv,
    "graph": _graph,
    "google": _google,
}


@pytest.fixture(params=sorted(BACKENDS))
def directory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each directory in turn, with a way to change a reporting line in it."""
    yield from BACKENDS[request.param](tmp_path)


def test_it_is_a_directory(directory: tuple[Directory, SetManager]) -> None:
    """Every backend meets the port."""
    assert isinstance(directory[0], Directory)


def test_nobody_has_a_manager_until_one_is_set(directory: tuple[Directory, SetManager]) -> None:
    """No reporting line is None, for a known and an unknown person alike."""
    found, _set = directory
    assert found.manager_of(ADA) is None
    assert found.manager_of("stranger@example.org") is None


def test_a_reporting_line_is_read_in_any_case_and_follows_changes(
    directory: tuple[Directory, SetManager],
) -> None:
    """Set, read in any case, one way only; changed to Eve; removed."""
    found, set_manager = directory
    set_manager(ADA, GRACE)
    assert found.manager_of(ADA) == GRACE
    assert found.manager_of(ADA.upper()) == GRACE
    assert found.manager_of(GRACE) is None
    set_manager(ADA, EVE)
    assert found.manager_of(ADA) == EVE
    set_manager(ADA, None)
    assert found.manager_of(ADA) is None


def test_person_is_none_or_about_that_person(directory: tuple[Directory, SetManager]) -> None:
    """A known person comes back with their own address, lower case."""
    found, set_manager = directory
    set_manager(ADA, GRACE)
    person = found.person(ADA.upper())
    assert person is None or person.email == ADA
