"""Crash-safe file writes, shared by the local store, the keyring and the app's own secrets."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomically(
    path: Path, content: bytes, *, mode: int = 0o644, exclusive: bool = False
) -> None:
    """Write `content` to `path` so that it is either absent or complete, even after a crash.

    The bytes go to a temporary file beside `path` (created with `mode`), are fsynced, then moved
    into place, and the directory is synced so the move itself survives a power cut. With
    `exclusive`, raises `FileExistsError` if `path` exists (a hard link cannot replace a file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
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
