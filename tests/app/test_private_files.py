"""The data directory and everything the app keeps in it are the user's alone (0700 and 0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_api import ADA, NOW, Api

from addin.app import create_app
from addin.registry import Registry
from connectors.local import LocalStore
from connectors.testing import ManualClock

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits")


@pytest.fixture
def umask_022() -> Iterator[None]:
    """A common default umask: without care, new files are 0644 and directories 0755."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, str]:
    """Every path under `root` (and `root`) with its mode, as octal text."""
    found = {".": f"{stat.S_IMODE(root.stat().st_mode):o}"}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = f"{stat.S_IMODE(path.lstat().st_mode):o}"
    return found


def _open(root: Path) -> Iterator[tuple[str, str]]:
    """The paths under `root` that group or others may use."""
    for name, mode in _modes(root).items():
        if int(mode, 8) & 0o077:
            yield name, mode


def test_the_apps_data_directory_is_private_under_umask_022(
    tmp_path: Path, umask_022: None
) -> None:
    """Databases with their WAL files, drive files, keys and every folder: 0600 and 0700."""
    from addin.demo import seed

    data = tmp_path / "new" / "data"
    clock = ManualClock(NOW)
    app = create_app({"TESTING": True, "DATA_DIR": str(data)}, clock=clock)
    store = app.extensions["goedgesprek.store"]
    seed(store, NOW)
    api = Api(app, clock)
    ctx = api.plan()["context"]
    api.ops(ADA, ctx, {"op": "agenda.add_item", "theme": "personal", "title": "Privé"})
    names = set(_modes(data))
    assert {"goedgesprek.sqlite3", "server.sqlite3", "secret_key", "keyring.json"} <= names
    assert any(name.startswith("drive/") and "/v1-" in name for name in names)
    assert any(name.endswith("-wal") for name in names)
    assert list(_open(data)) == []
    modes = _modes(data)
    assert modes["."] == "700"
    assert modes["goedgesprek.sqlite3"] == modes["server.sqlite3"] == "600"
    store.close()


def test_an_existing_world_readable_store_is_tightened(tmp_path: Path, umask_022: None) -> None:
    """A data directory, databases and drive files left 0755/0644 by an older version become
    private."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    LocalStore(data).close()
    Registry.in_dir(data)
    for name in ("goedgesprek.sqlite3", "server.sqlite3"):
        (data / name).chmod(0o644)
    old = data / "drive" / "ada" / "series" / "occ.json" / "v1-abc"
    old.parent.mkdir(parents=True, mode=0o755)
    old.write_bytes(b"sealed")
    old.chmod(0o644)
    data.chmod(0o755)
    (data / "drive").chmod(0o755)
    LocalStore(data).close()
    Registry.in_dir(data)
    assert list(_open(data)) == []


def test_private_dir_leaves_existing_parents_alone(tmp_path: Path, umask_022: None) -> None:
    """Only what it creates (and the directory itself, when asked) is made 0700."""
    from connectors._files import private_dir, write_atomically

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    write_atomically(shared / "a" / "b" / "file", b"x")
    assert _modes(shared) == {".": "755", "a": "700", "a/b": "700", "a/b/file": "600"}
    private_dir(shared, tighten=True)
    assert _modes(shared)["."] == "700"


def test_the_demos_data_directory_is_private_under_umask_022(
    tmp_path: Path, umask_022: None
) -> None:
    """The demo adds its clock file and keyring to the same private directory."""
    from datetime import timedelta

    from addin.demo import create_demo_app
    from addin.demo.clock import CLOCK_FILE

    data = tmp_path / "demo"
    app = create_demo_app({"TESTING": True, "DATA_DIR": str(data)})
    app.extensions["goedgesprek.clock"].advance(timedelta(days=7))
    assert {CLOCK_FILE, "keyring.json", "secret_key"} <= set(_modes(data))
    assert list(_open(data)) == []
