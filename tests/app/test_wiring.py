"""The composition root: what `create_app` builds is released when the app closes.

Open files are read from ``/proc/self/fd``: a closed store or disposed engine holds none.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from addin.app import close_app, create_app
from addin.wiring import Services, build
from connectors.keyring import KeyringError
from connectors.local import LocalStore
from connectors.memory import MemoryStore

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ADA = "ada@example.org"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="open files are read from /proc"
)


def open_files(folder: Path) -> list[str]:
    """The files under `folder` this process holds open."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder.resolve())):
            found.append(target)
    return found


def _use(services: Services) -> None:
    """Touch the store and the registry so each holds its database open."""
    assert isinstance(services.store, LocalStore)
    services.store.people()
    services.registry.alias_of(ADA, "no-such-event")


def test_close_app_closes_the_store_the_registry_and_the_pool(tmp_path: Path) -> None:
    """The embedded store's and the registry's databases are closed, the worker pool stopped."""
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, clock=lambda: NOW)
    services = app.extensions["goedgesprek.services"]
    _use(services)
    assert open_files(tmp_path)
    close_app(app)
    assert open_files(tmp_path) == []
    pool = services.conversations._pool  # the use cases' parallel provider calls
    with pytest.raises(RuntimeError):
        pool.submit(print)
    close_app(app)  # a second close does nothing


def test_an_app_no_one_holds_is_closed(tmp_path: Path) -> None:
    """Dropping the app releases what it built, without an explicit close."""
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, clock=lambda: NOW)
    _use(app.extensions["goedgesprek.services"])
    assert open_files(tmp_path)
    del app
    gc.collect()
    assert open_files(tmp_path) == []


def test_a_store_passed_in_stays_open(tmp_path: Path) -> None:
    """What the caller passed in is the caller's to close: closing the app leaves it working."""
    store = MemoryStore(clock=lambda: NOW)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}, store=store)
    close_app(app)
    store.add_person(ADA, "Ada", "Europe/Amsterdam")
    assert [p.email for p in store.people()] == [ADA]


def test_a_failed_build_closes_what_it_had_made(tmp_path: Path) -> None:
    """Start-up that stops (here: no keyring outside tests) leaves no database open."""
    with pytest.raises(KeyringError):
        build({"DATA_DIR": str(tmp_path)})
    gc.collect()
    assert open_files(tmp_path) == []


@pytest.fixture
def google_server() -> Iterator[tuple[str, object]]:
    """The Google emulator on a loopback port, with Ada as a user."""
    from emulators.google import GoogleEmulator
    from emulators.serve import Server

    emulator = GoogleEmulator()
    emulator.add_user(ADA, "Ada")
    with Server(emulator) as server:
        yield server.url + "/", emulator


def test_close_app_ends_the_providers_sessions(
    tmp_path: Path, google_server: tuple[str, object]
) -> None:
    """With ``BACKEND=google``, closing the app ends the account's parallel-read pool."""
    root_url, emulator = google_server
    tokens = tmp_path / "tokens.json"
    tokens.write_text(f'{{"{ADA}": "{emulator.token(ADA)}"}}')  # type: ignore[attr-defined]
    config = {
        "TESTING": True,
        "DATA_DIR": str(tmp_path / "data"),
        "BACKEND": "google",
        "GOOGLE_ROOT_URL": root_url,
        "GOOGLE_TOKENS": str(tokens),
        "GOOGLE_DIRECTORY_ADMIN": ADA,
    }
    app = create_app(config, clock=lambda: NOW)
    drive = app.extensions["goedgesprek.ports"]["drive"](ADA)
    drive.put("dossier", "occ.json", b"eerste")
    drive.get("dossier", "occ.json")  # seen: the next read goes by id, two requests at once
    drive.get("dossier", "occ.json")
    assert any(t.name.startswith("google-parallel") for t in threading.enumerate())
    close_app(app)
    assert not any(t.name.startswith("google-parallel") for t in threading.enumerate())


def test_an_unknown_country_stops_start_up(tmp_path: Path) -> None:
    """A COUNTRY the holiday calendar does not know is said once at start-up (and what was
    opened is closed), not to every person who plans a series."""
    from cadence.errors import CadenceError

    config = {"TESTING": True, "DATA_DIR": str(tmp_path), "COUNTRY": "XX"}
    with pytest.raises(CadenceError, match="unknown country 'XX'"):
        create_app(config, clock=lambda: NOW)
    gc.collect()
    assert open_files(tmp_path) == []
