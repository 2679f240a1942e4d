"""The keyring: versioned key-encryption keys (KEKs) that wrap every series' data key.

A keyring holds 256-bit KEKs under ids ``k1``, ``k2``, ... and names one of them *active*: new
data keys are wrapped by it, and the older ones stay so that data keys wrapped before a rotation
still unwrap. Nothing here encrypts a record; `connectors.sealed` does that.

Two sources:

- a JSON file (the default), created with mode 0600 and refused when group or others can read it;
  every write goes to a temporary file, is flushed to disk and renamed over the old one, so a
  crash leaves either the old keyring or the new one, never half of one;
- an environment variable (`KEYRING_ENV`) holding the same JSON, base64-encoded, for deployments
  whose secrets come from the environment (``base64 -w0 keyring.json``). That one is read-only.

The file looks like ``{"format": 1, "active": "k2", "keys": [{"id": "k1", "key": "<base64>",
"created": "<ISO 8601>"}, ...]}``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import stat
import sys
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors._files import write_atomically
from connectors.errors import ConnectorError

if sys.platform != "win32":
    import fcntl

KEK_BYTES = 32
"""A key-encryption key is 256 bits."""

FORMAT = 1
"""The keyring file format this version reads and writes."""

DATA_DIR_ENV = "GOEDGESPREK_DATA_DIR"
"""Environment variable naming the data directory (local store, default keyring)."""

KEYRING_PATH_ENV = "GOEDGESPREK_KEYRING"
"""Environment variable naming the keyring file."""

KEYRING_ENV = "GOEDGESPREK_KEYRING_B64"
"""Environment variable holding the whole keyring as base64 JSON (read-only, for deployments)."""

_ID = re.compile(r"k([1-9][0-9]{0,8})")


class KeyringError(ConnectorError):
    """The keyring is missing, unreadable, too open, malformed, or cannot be changed."""


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The data directory: ``$GOEDGESPREK_DATA_DIR``, else the per-user data directory.

    The per-user directory is ``$XDG_DATA_HOME/goedgesprek``, or ``~/.local/share/goedgesprek``
    when ``XDG_DATA_HOME`` is unset (the XDG base-directory default).
    """
    env = os.environ if environ is None else environ
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV]).expanduser()
    xdg = env.get("XDG_DATA_HOME", "")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "goedgesprek"


def default_keyring_path(
    data_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The keyring file: ``$GOEDGESPREK_KEYRING``, else ``<data dir>/keyring.json``."""
    env = os.environ if environ is None else environ
    if env.get(KEYRING_PATH_ENV):
        return Path(env[KEYRING_PATH_ENV]).expanduser()
    return (data_dir if data_dir is not None else default_data_dir(env)) / "keyring.json"


class Keyring:
    """Versioned KEKs with one active; safe to share between threads.

    A file-backed keyring notices when another process rotated the file and reloads it, so a
    running server opens data keys wrapped by a KEK it had not seen yet. Build one with `init`,
    `load`, `from_env` or `from_default`; key material never appears in ``repr``.
    """

    __slots__ = ("_active", "_created", "_keys", "_lock", "_path", "_stamp")

    def __init__(
        self,
        keys: Mapping[str, bytes],
        active: str,
        *,
        created: Mapping[str, str] | None = None,
        path: Path | None = None,
    ) -> None:
        """A keyring over `keys` (id to 32 bytes); `path` makes it file-backed and rotatable."""
        if active not in keys:
            raise KeyringError(
                f"active key {active!r} is not in the keyring: it holds {sorted(keys)}"
            )
        for kek_id, key in keys.items():
            if not _ID.fullmatch(kek_id):
                raise KeyringError(f"key id {kek_id!r} is not of the form k1, k2, ...")
            if len(key) != KEK_BYTES:
                raise KeyringError(f"key {kek_id} is {len(key)} bytes; a KEK is {KEK_BYTES} bytes")
        self._keys = dict(keys)
        self._active = active
        self._created = dict(created or {})
        self._path = path
        self._stamp: tuple[int, int, int] | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        """Ids and the active one, never key material."""
        return f"Keyring(ids={self.ids}, active={self._active!r}, path={self._path})"

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def init(cls, path: Path) -> Keyring:
        """Create a new keyring file at `path` with one KEK, ``k1``, and mode 0600.

        Refuses an existing file: it may hold the only keys to sealed records.
        """
        path = Path(path)
        if path.exists():
            raise KeyringError(
                f"keyring {path} already exists: refusing to overwrite it (it may hold the only "
                "keys to sealed records); use 'goedgesprek keys rotate' to add a key"
            )
        ring = cls({"k1": secrets.token_bytes(KEK_BYTES)}, "k1", created={"k1": _now()}, path=path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_atomic(path, ring._to_json(), exclusive=True)
        ring._stamp = _stamp(path)
        return ring

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read a keyring file; refuses one that group or others can read."""
        path = Path(path)
        data, stamp = _read_file(path)
        ring = cls._from_json(data, source=str(path), path=path)
        ring._stamp = stamp
        return ring

    @classmethod
    def from_b64(cls, text: str, *, source: str = KEYRING_ENV) -> Keyring:
        """A read-only keyring from base64 JSON; `source` names where it came from in errors."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyringError(
                f"{source} is not base64: set it to the output of 'base64 -w0 keyring.json'"
            ) from exc
        return cls._from_json(raw, source=source, path=None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Keyring:
        """The read-only keyring in ``$GOEDGESPREK_KEYRING_B64``; `KeyringError` if unset."""
        env = os.environ if environ is None else environ
        text = env.get(KEYRING_ENV, "")
        if not text:
            raise KeyringError(f"{KEYRING_ENV} is not set")
        return cls.from_b64(text)

    @classmethod
    def from_default(
        cls, data_dir: Path | None = None, environ: Mapping[str, str] | None = None
    ) -> Keyring:
        """``$GOEDGESPREK_KEYRING_B64`` when set, else the file at `default_keyring_path`."""
        env = os.environ if environ is None else environ
        if env.get(KEYRING_ENV):
            return cls.from_env(env)
        return cls.load(default_keyring_path(data_dir, env))

    # -- reading ------------------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The keyring file, or None for a keyring from the environment."""
        return self._path

    @property
    def ids(self) -> list[str]:
        """Every KEK id, oldest first."""
        with self._lock:
            return sorted(self._keys, key=_number)

    @property
    def active_id(self) -> str:
        """The id of the KEK that wraps new data keys."""
        with self._lock:
            self._refresh()
            return self._active

    def active(self) -> tuple[str, bytes]:
        """The active KEK as (id, key)."""
        with self._lock:
            self._refresh()
            return self._active, self._keys[self._active]

    def kek(self, kek_id: str) -> bytes | None:
        """The KEK with this id, or None if the keyring has none (after a reload from disk)."""
        with self._lock:
            key = self._keys.get(kek_id)
            if key is None:
                self._refresh()
                key = self._keys.get(kek_id)
            return key

    def to_b64(self) -> str:
        """The keyring as base64 JSON, the value `from_env` reads."""
        with self._lock:
            return base64.b64encode(self._to_json()).decode("ascii")

    # -- changing -----------------------------------------------------------------------------

    def rotate(self) -> str:
        """Add a new KEK, make it active, write the file; returns the new id.

        Old KEKs stay: data keys wrapped by them must still unwrap until they are re-wrapped.
        The file is re-read under a lock first, so two rotations at once cannot lose a key.
        """
        if self._path is None:
            raise KeyringError(
                f"this keyring comes from {KEYRING_ENV} and cannot be rotated here: rotate the "
                "keyring file, then set the variable to its new base64 value"
            )
        path = self._path
        with self._lock, _file_lock(path):
            self._reload()
            new_id = f"k{max(_number(i) for i in self._keys) + 1}"
            keys = {**self._keys, new_id: secrets.token_bytes(KEK_BYTES)}
            created = {**self._created, new_id: _now()}
            # Disk first: a key only in memory would wrap data keys that no restart can open.
            _write_atomic(path, _document(new_id, keys, created), exclusive=False)
            self._keys, self._created, self._active = keys, created, new_id
            self._stamp = _stamp(path)
            return new_id

    # -- internals ----------------------------------------------------------------------------

    def _refresh(self) -> None:
        # A cheap stat; reload only when another process replaced the file.
        if self._path is None:
            return
        try:
            current = _stamp(self._path)
        except OSError:
            return
        if current != self._stamp:
            self._reload()

    def _reload(self) -> None:
        assert self._path is not None
        data, stamp = _read_file(self._path)
        fresh = self._from_json(data, source=str(self._path), path=self._path)
        # A reload may only add keys: one that vanished from the file is kept in memory so
        # that nothing already opened becomes unreadable mid-run.
        for kek_id, key in fresh._keys.items():
            known = self._keys.get(kek_id)
            if known is not None and known != key:
                raise KeyringError(
                    f"keyring {self._path} now holds a different key under {kek_id}: restore the "
                    "file from its backup; a key id must never be reused"
                )
            self._keys[kek_id] = key
        self._created.update(fresh._created)
        self._active = fresh._active
        self._stamp = stamp

    def _to_json(self) -> bytes:
        return _document(self._active, self._keys, self._created)

    @classmethod
    def _from_json(cls, raw: bytes, *, source: str, path: Path | None) -> Keyring:
        try:
            doc: Any = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KeyringError(
                f"keyring {source} is not valid JSON: restore it from its backup"
            ) from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else None
            raise KeyringError(
                f"keyring {source} has format {found!r}; this version reads format {FORMAT}"
            )
        entries = doc.get("keys")
        active = doc.get("active")
        if not isinstance(entries, list) or not entries or not isinstance(active, str):
            raise KeyringError(f"keyring {source} needs 'active' and a non-empty 'keys' list")
        keys: dict[str, bytes] = {}
        created: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise KeyringError(f"keyring {source} has a key entry without an 'id'")
            kek_id = entry["id"]
            if kek_id in keys:
                raise KeyringError(f"keyring {source} holds key id {kek_id} twice")
            try:
                keys[kek_id] = base64.b64decode(str(entry.get("key", "")), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise KeyringError(f"keyring {source}: key {kek_id} is not base64") from exc
            created[kek_id] = str(entry.get("created", ""))
        try:
            return cls(keys, active, created=created, path=path)
        except KeyringError as exc:
            raise KeyringError(f"keyring {source}: {exc}") from exc


def _document(active: str, keys: Mapping[str, bytes], created: Mapping[str, str]) -> bytes:
    """The keyring file's bytes."""
    doc = {
        "format": FORMAT,
        "active": active,
        "keys": [
            {
                "id": kek_id,
                "key": base64.b64encode(keys[kek_id]).decode("ascii"),
                "created": created.get(kek_id, ""),
            }
            for kek_id in sorted(keys, key=_number)
        ],
    }
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def _number(kek_id: str) -> int:
    match = _ID.fullmatch(kek_id)
    return int(match.group(1)) if match else 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def _read_file(path: Path) -> tuple[bytes, tuple[int, int, int]]:
    try:
        with path.open("rb") as handle:
            st = os.fstat(handle.fileno())
            _check_private(path, st.st_mode)
            data = handle.read()
    except FileNotFoundError as exc:
        raise KeyringError(
            f"no keyring at {path}: create one with 'goedgesprek keys init --keyring {path}'"
        ) from exc
    except OSError as exc:
        raise KeyringError(f"cannot read keyring {path}: {exc.strerror}") from exc
    return data, (st.st_ino, st.st_mtime_ns, st.st_size)


def _check_private(path: Path, mode: int) -> None:
    # Windows has no POSIX mode bits worth checking; its ACLs are the user's profile's.
    if os.name != "posix":
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(
            f"keyring {path} can be read by others (mode {stat.S_IMODE(mode):03o}): "
            f"run 'chmod 600 {path}' and check who could have copied it"
        )


def _write_atomic(path: Path, data: bytes, *, exclusive: bool) -> None:
    """Write the keyring file (0600) atomically; `exclusive` refuses to replace one."""
    try:
        write_atomically(path, data, mode=0o600, exclusive=exclusive)
    except FileExistsError as exc:
        raise KeyringError(f"keyring {path} already exists: refusing to overwrite it") from exc


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<path>.lock`` between processes (POSIX; a no-op on Windows)."""
    if sys.platform == "win32":
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
