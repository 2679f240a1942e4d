"""Crash-safe, private file writes, shared by the local store, the keyring and the app's secrets.

Everything the app keeps on disk (databases, drive files, keys, tokens) is the user's alone:
directories it creates are 0700 and files 0600, whatever the umask. POSIX only: on Windows the
mode bits mean little and the user's profile ACLs decide.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """Create `path` and any missing parent as 0700; with `tighten`, make an existing `path` 0700.

    Only directories created here, and `path` itself with `tighten`, are changed: an existing
    parent (a home directory, a working directory) keeps its mode.
    """
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=PRIVATE_DIR)
    if tighten and os.name == "posix":
        _tighten(path, PRIVATE_DIR)
    return path


def private_tree(root: Path) -> None:
    """Make every directory under `root` 0700 and every file 0600 (what an older version left
    readable to others); `root` itself is left to `private_dir`. Symbolic links are not followed.
    """
    if os.name != "posix":
        return
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            _tighten_unless_link(Path(directory) / name, PRIVATE_DIR)
        for name in files:
            _tighten_unless_link(Path(directory) / name, PRIVATE_FILE)


def _tighten_unless_link(path: Path, mode: int) -> None:
    st = path.lstat()
    if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, mode)


def private_sqlite(path: Path) -> Path:
    """Create the SQLite file `path` as 0600 (or make an existing one, and its WAL files, 0600).

    SQLite creates a database as 0644 less the umask; its `-wal` and `-shm` files copy the
    database's mode, so creating the database first as 0600 keeps all of them private.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), PRIVATE_FILE)
    os.close(fd)
    if os.name == "posix":
        for candidate in (path, *(path.with_name(path.name + s) for s in _SQLITE_SIDE_FILES)):
            with contextlib.suppress(FileNotFoundError):
                _tighten(candidate, PRIVATE_FILE)
    return path


def _tighten(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, mode)


def write_atomically(
    path: Path, content: bytes, *, mode: int = PRIVATE_FILE, exclusive: bool = False
) -> None:
    """Write `content` to `path` so that it is either absent or complete, even after a crash.

    The bytes go to a temporary file beside `path` (created with `mode`), are fsynced, then moved
    into place, and the directory is synced so the move itself survives a power cut. With
    `exclusive`, raises `FileExistsError` if `path` exists (a hard link cannot replace a file).
    Missing directories are created 0700.
    """
    private_dir(path.parent)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if not exclusive:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                raise
            except OSError:
                # Some file systems have no hard links: check, then rename (a narrow race).
                if path.exists():
                    raise FileExistsError(path) from None
                os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX); Windows has no directory handles."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def use_wal(conn: Any, seconds: float = 10.0) -> None:
    """Switch a SQLite file to WAL, waiting out another process that switches it at the same time.

    SQLite answers a second connection's switch with "database is locked" at once, without its
    busy handler (waiting could deadlock), so two workers that create a database together retry.
    """
    deadline = time.monotonic() + seconds
    pause = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
