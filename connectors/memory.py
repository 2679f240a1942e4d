"""In-memory backends: complete semantics of the ports, nothing persisted.

`MemoryDrive` stands alone (``MemoryDrive()``) for code that needs any `Drive`; `MemoryStore`
holds every user's calendar, drive and outbox for tests and the demo. All are safe to share
between threads.
"""

from __future__ import annotations

import builtins
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors.errors import Conflict, InvalidRequest, NotFound
from connectors.models import File, FileInfo

Clock = Callable[[], datetime]
"""Returns the current instant, aware and in UTC; tests and the demo pass their own."""

MAX_NAME_BYTES = 255
"""The longest folder or file name accepted, in UTF-8 bytes (a common file-system limit)."""


def utc_now() -> datetime:
    """The real clock: the current instant, aware, in UTC."""
    return datetime.now(UTC)


def check_name(kind: str, value: str) -> str:
    """Return `value` if it is safe as a folder or file name, else raise `InvalidRequest`.

    Refused: empty, ``.`` or ``..``, a ``/`` or ``\\``, a control character (NUL included),
    leading or trailing spaces, or more than `MAX_NAME_BYTES` bytes. `kind` names the argument
    in the message ("folder", "name").
    """
    if not value:
        raise InvalidRequest(f"{kind} must not be empty")
    if value in {".", ".."}:
        raise InvalidRequest(f"{kind} {value!r} is not allowed: use a plain name such as 'records'")
    if "/" in value or "\\" in value:
        raise InvalidRequest(f"{kind} {value!r} must not contain '/' or '\\': use a plain name")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InvalidRequest(f"{kind} {value!r} must not contain control characters such as NUL")
    if value != value.strip(" "):
        raise InvalidRequest(f"{kind} {value!r} must not start or end with a space")
    if len(value.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidRequest(f"{kind} is longer than {MAX_NAME_BYTES} bytes: use a shorter name")
    return value


@dataclass(slots=True)
class _StoredFile:
    """One file's versions, oldest first; `id` is new each time the name is created."""

    id: str
    versions: list[File] = field(default_factory=list)


class MemoryDrive:
    """A `Drive` held in memory: folders by name, every put a new version, etags per version."""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        """An empty drive; `clock` stamps `FileInfo.modified`."""
        self._clock = clock
        self._lock = threading.RLock()
        self._folders: dict[str, dict[str, _StoredFile]] = {}

    def put(
        self,
        folder: str,
        name: str,
        content: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> FileInfo:
        """Write a new version of a file; see `connectors.ports.Drive.put`."""
        check_name("folder", folder)
        check_name("name", name)
        with self._lock:
            stored = self._folders.get(folder, {}).get(name)
            current = stored.versions[-1].info if stored else None
            if if_none_match and current is not None:
                raise Conflict(
                    f"{folder}/{name} already exists: read it first or drop if_none_match"
                )
            if if_match is not None and (current is None or current.etag != if_match):
                raise Conflict(
                    f"{folder}/{name} changed meanwhile (etag {if_match!r} is stale): read it again"
                )
            if stored is None:
                stored = _StoredFile(id=uuid.uuid4().hex)
                self._folders.setdefault(folder, {})[name] = stored
            version = len(stored.versions) + 1
            info = FileInfo(
                id=stored.id,
                folder=folder,
                name=name,
                etag=f"{stored.id}.{version}",
                version=version,
                size=len(content),
                content_type=content_type,
                modified=self._clock(),
            )
            stored.versions.append(File(info=info, content=bytes(content)))
            return info

    def get(self, folder: str, name: str) -> File:
        """The newest version of a file; `NotFound` if there is none."""
        with self._lock:
            return self._stored(folder, name).versions[-1]

    def stat(self, folder: str, name: str) -> FileInfo:
        """A file's metadata without its bytes."""
        return self.get(folder, name).info

    def list(self, folder: str) -> list[FileInfo]:
        """The files in a folder, by name; an unknown folder is empty."""
        check_name("folder", folder)
        with self._lock:
            files = self._folders.get(folder, {})
            return [files[name].versions[-1].info for name in sorted(files)]

    def folders(self) -> builtins.list[str]:
        """The folder names, sorted (a folder stays after its last file is deleted)."""
        with self._lock:
            return sorted(self._folders)

    def versions(self, folder: str, name: str) -> builtins.list[FileInfo]:
        """Every version of a file, oldest first."""
        with self._lock:
            return [f.info for f in self._stored(folder, name).versions]

    def get_version(self, folder: str, name: str, version: int) -> File:
        """One version of a file (1 is the first); `NotFound` for a version never written."""
        with self._lock:
            stored = self._stored(folder, name)
            newest = len(stored.versions)
            if not 1 <= version <= newest:
                raise NotFound(f"{folder}/{name} has no version {version}: versions are 1-{newest}")
            return stored.versions[version - 1]

    def delete(self, folder: str, name: str, *, if_match: str | None = None) -> None:
        """Delete a file and its versions; `Conflict` if `if_match` is stale."""
        with self._lock:
            stored = self._stored(folder, name)
            etag = stored.versions[-1].info.etag
            if if_match is not None and etag != if_match:
                raise Conflict(
                    f"{folder}/{name} changed meanwhile (etag {if_match!r} is stale): read it again"
                )
            del self._folders[folder][name]

    def _stored(self, folder: str, name: str) -> _StoredFile:
        check_name("folder", folder)
        check_name("name", name)
        stored = self._folders.get(folder, {}).get(name)
        if stored is None:
            raise NotFound(f"no file {folder}/{name} in this drive")
        return stored
