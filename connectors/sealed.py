"""The sealed store: envelope encryption over any `Drive`, so records never rest in plaintext.

One folder per series (the folder name is the series id). Each series has its own 256-bit *data
key* (DEK), made on the first write and kept in the folder as a small JSON *key file*
(`KEY_FILE`), wrapped by the keyring's active key-encryption key (KEK) with AES-256-GCM. The
wrap is bound to the series id, the KEK id and the DEK id, so a key file copied to another
folder or relabelled does not unwrap. The key file is created with ``if_none_match``: when two
writers start a series at once, one key file wins and the other writer reads it back.

A document is AES-256-GCM with a fresh 96-bit nonce per write::

    magic "GGSD" (4) | format version (1) | DEK id (16) | nonce (12) | ciphertext | tag (16)

The associated data binds the header (so the format version and DEK id), the series id and the
document name: a changed byte, a file moved or copied to another series or renamed is refused with
a `TamperedFile` error that names the file. The DEK id does not depend on the KEK, so rotating the
keyring only re-wraps key files (`SealedDrive.rewrap`, `SealedDrive.rotate_all`) and never
re-encrypts or touches a document. A document that does not open is never overwritten by accident
(see `SealedDrive.put`).

Erasure by crypto-shredding: given `ServerKeys`, a new key file is *bound* (`KEY_FORMAT_BOUND`):
its DEK is wrapped under a key derived from the KEK and a random per-series part kept on the
server, never in the drive. Destroying that part (`ServerKeys.destroy`) makes every copy of the
key file useless, and so every copy of every document: in the drive, its recycle bin, its version
history and any backup. A key file of the first format has no such part; `rewrap` binds it.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import enum
import json
import secrets
import struct
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from connectors.errors import Conflict, ConnectorError, NotFound
from connectors.keyring import Keyring
from connectors.models import File, FileInfo
from connectors.ports import Drive

MAGIC = b"GGSD"
"""The first four bytes of every sealed document."""

FORMAT_VERSION = 1
"""The document format version this code writes and reads."""

KEY_FILE = "sealed-key.json"
"""The name of the data-key file in each series folder; no document may take this name."""

KEY_FORMAT = "goedgesprek-sealed-key/1"
"""The ``format`` field of a key file wrapped by the KEK alone (read; written without
`ServerKeys`)."""

KEY_FORMAT_BOUND = "goedgesprek-sealed-key/2"
"""The ``format`` of a key file wrapped by the KEK and the series' server part."""

SERVER_PART_BYTES = 32
"""A series' server part: random, kept only in the server's database."""

SEALED_CONTENT_TYPE = "application/vnd.goedgesprek.sealed"
"""The content type a sealed document is stored with."""

DEK_BYTES = 32
"""A data key is 256 bits (AES-256-GCM)."""

DEK_ID_BYTES = 16
"""A data key's id: random, kept in the key file and in every document's header."""

NONCE_BYTES = 12
"""The 96-bit GCM nonce, fresh for every write."""

TAG_BYTES = 16
"""The GCM authentication tag at the end of every sealed document."""

HEADER_BYTES = len(MAGIC) + 1 + DEK_ID_BYTES
"""Magic, version and DEK id: the part of the header before the nonce."""

MIN_SEALED_BYTES = HEADER_BYTES + NONCE_BYTES + TAG_BYTES
"""The size of a sealed empty document; anything shorter is truncated."""

_ATTEMPTS = 5
"""How often a write re-reads after losing a race before it gives up with `Conflict`."""


class SealedError(ConnectorError):
    """A sealed document or key file cannot be opened or written; `folder`/`name` say which."""

    def __init__(self, message: str, *, folder: str = "", name: str = "") -> None:
        """An error about ``folder/name``; the message already names it."""
        super().__init__(message)
        self.folder = folder
        self.name = name


class TamperedFile(SealedError):
    """A document does not open authentically: changed, moved, renamed or cut short."""


class TruncatedFile(TamperedFile):
    """A document is shorter than its header and tag: an interrupted upload or a cut file."""


class ForeignFile(TamperedFile):
    """A document was sealed under another data key: copied from another series, or its header
    was changed."""


class UnsupportedFormat(SealedError):
    """A document or key file in a format version this code does not read."""


class UnknownKey(SealedError):
    """A key file is wrapped by a KEK id the keyring does not hold."""


class MissingKeyFile(SealedError):
    """A series folder holds documents but no key file, so none of them can be opened."""


class BadKeyFile(SealedError):
    """A key file is malformed or does not unwrap with the KEK it names."""


class RefusedOverwrite(SealedError):
    """A write over a document that does not open; it is kept as evidence."""


class ReservedName(SealedError):
    """A document name the sealed store keeps for itself (`KEY_FILE`)."""


class Erased(SealedError):
    """The series' server part was destroyed: none of its documents opens again, anywhere."""


class ServerKeys(Protocol):
    """Where each series' server part lives (the server's database)."""

    def part(self, series_id: str) -> bytes | None:
        """The series' part; None when it never had one or it was destroyed."""
        ...

    def make_part(self, series_id: str) -> bytes:
        """The series' part, made now if it has none (a race returns the one that won)."""
        ...

    def was_destroyed(self, series_id: str) -> bool:
        """True once the series' part was destroyed (erasure), so a bound key file is dead."""
        ...


class Rewrap(enum.Enum):
    """What `SealedDrive.rewrap` did to one series' key file."""

    REWRAPPED = "rewrapped"
    CURRENT = "current"
    NO_DATA_KEY = "no data key"


@dataclass(frozen=True, slots=True)
class RotationReport:
    """The outcome of `SealedDrive.rotate_all`: series ids per outcome, failures with reasons."""

    rewrapped: tuple[str, ...] = ()
    current: tuple[str, ...] = ()
    no_data_key: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when no series failed."""
        return not self.failed


@dataclass(frozen=True, slots=True)
class _DataKey:
    """An unwrapped DEK and where it came from; `etag` is the key file's."""

    id: bytes
    key: bytes = field(repr=False)
    kek_id: str
    etag: str
    bound: bool = False


def _lp(value: str) -> bytes:
    raw = value.encode("utf-8")
    return struct.pack(">I", len(raw)) + raw


def _document_ad(header: bytes, series_id: str, name: str) -> bytes:
    return header + _lp(series_id) + _lp(name)


def _wrap_ad(series_id: str, kek_id: str, dek_id: bytes, fmt: str = KEY_FORMAT) -> bytes:
    return fmt.encode("ascii") + _lp(series_id) + _lp(kek_id) + dek_id


def bound_kek(kek: bytes, part: bytes, series_id: str) -> bytes:
    """The wrapping key of a bound key file: HKDF-SHA256 of the KEK, salted with the part."""
    info = KEY_FORMAT_BOUND.encode("ascii") + _lp(series_id)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=part, info=info).derive(kek)


def seal(dek_id: bytes, dek: bytes, series_id: str, name: str, plaintext: bytes) -> bytes:
    """Encrypt one document for ``series_id/name`` under a DEK; a fresh nonce every call."""
    header = MAGIC + bytes([FORMAT_VERSION]) + dek_id
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = AESGCM(dek).encrypt(nonce, plaintext, _document_ad(header, series_id, name))
    return header + nonce + body


def read_header(series_id: str, name: str, sealed: bytes) -> bytes:
    """Check a sealed document's size, magic and version; return its DEK id.

    Raises `TruncatedFile`, `TamperedFile` or `UnsupportedFormat` naming ``series_id/name``.
    """
    where = f"{series_id}/{name}"
    if len(sealed) < MIN_SEALED_BYTES:
        raise TruncatedFile(
            f"{where} is {len(sealed)} bytes, shorter than any sealed document "
            f"({MIN_SEALED_BYTES}): it was cut short (an interrupted upload?) and cannot be opened",
            folder=series_id,
            name=name,
        )
    if sealed[: len(MAGIC)] != MAGIC:
        raise TamperedFile(
            f"{where} is not a sealed document (it does not start with the sealed-document "
            "mark): it was written around the sealed store or its first bytes were changed",
            folder=series_id,
            name=name,
        )
    version = sealed[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise UnsupportedFormat(
            f"{where} is in sealed format version {version}, this version reads "
            f"{FORMAT_VERSION}: upgrade Goed Gesprek, or the header was damaged",
            folder=series_id,
            name=name,
        )
    return sealed[len(MAGIC) + 1 : HEADER_BYTES]


def unseal(dek: bytes, series_id: str, name: str, sealed: bytes) -> bytes:
    """Decrypt a document sealed for ``series_id/name``; `TamperedFile` if it does not verify.

    The caller has checked the header with `read_header` and picked the DEK it names.
    """
    read_header(series_id, name, sealed)
    header = sealed[:HEADER_BYTES]
    nonce = sealed[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
    body = sealed[HEADER_BYTES + NONCE_BYTES :]
    try:
        return AESGCM(dek).decrypt(nonce, body, _document_ad(header, series_id, name))
    except InvalidTag as exc:
        raise TamperedFile(
            f"{series_id}/{name} does not verify: its bytes were changed, or it was renamed "
            "(a sealed document opens only under the folder and name it was written as)",
            folder=series_id,
            name=name,
        ) from exc


class SealedDrive:
    """Sealed documents in a `Drive`, one folder per series; safe to share between threads.

    Errors are `connectors.errors` ones from the drive, plus the `SealedError` family.
    """

    def __init__(
        self, drive: Drive, keyring: Keyring, *, server_keys: ServerKeys | None = None
    ) -> None:
        """Seal into `drive` with data keys wrapped by `keyring`'s active KEK, and bound to a
        part in `server_keys` when given (new series, and old ones on `rewrap`)."""
        self._drive = drive
        self._keyring = keyring
        self._server_keys = server_keys
        self._lock = threading.Lock()
        self._keys: dict[str, _DataKey] = {}

    # -- documents ----------------------------------------------------------------------------

    def put(
        self,
        series_id: str,
        name: str,
        plaintext: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        replace_unreadable: bool = False,
    ) -> FileInfo:
        """Seal and write a document (a new version if the name exists).

        ``if_match``/``if_none_match`` are the drive's (`Conflict` on a stale etag or an existing
        name). An existing document that does not open is never overwritten: `RefusedOverwrite`,
        unless ``replace_unreadable=True``, which writes a new version over it while the
        unreadable one stays in `versions` for inspection.
        """
        self._check_name(series_id, name)
        key = self._key_for_write(series_id)
        for _ in range(_ATTEMPTS):
            guard, create_only = if_match, if_none_match
            if not if_none_match:
                current = self._current(series_id, name)
                if current is None:
                    if if_match is not None:
                        raise Conflict(
                            f"{series_id}/{name} does not exist, so etag {if_match!r} is stale: "
                            "read it again"
                        )
                    create_only = True
                else:
                    if if_match is not None and current.info.etag != if_match:
                        raise Conflict(
                            f"{series_id}/{name} changed meanwhile (etag {if_match!r} is stale): "
                            "read it again"
                        )
                    if not replace_unreadable:
                        self._refuse_if_unreadable(series_id, name, current.content)
                    guard = current.info.etag
            sealed = seal(key.id, key.key, series_id, name, plaintext)
            try:
                return self._drive.put(
                    series_id,
                    name,
                    sealed,
                    content_type=SEALED_CONTENT_TYPE,
                    if_match=guard,
                    if_none_match=create_only,
                )
            except Conflict:
                # The caller asked for a condition: theirs to handle. Otherwise someone wrote
                # between our check and our write: check what they wrote, then try again.
                if if_match is not None or if_none_match:
                    raise
        raise Conflict(f"{series_id}/{name} kept changing during {_ATTEMPTS} attempts: try later")

    def get(self, series_id: str, name: str) -> File:
        """The newest version, opened: `File.content` is the plaintext, `File.info` the drive's."""
        self._check_name(series_id, name)
        file = self._drive.get(series_id, name)
        return File(info=file.info, content=self._open(series_id, name, file.content))

    def stat(self, series_id: str, name: str) -> FileInfo:
        """A document's metadata (its size is the sealed size); nothing is opened."""
        self._check_name(series_id, name)
        return self._drive.stat(series_id, name)

    def list(self, series_id: str) -> builtins.list[FileInfo]:
        """The documents of a series by name, without the key file; nothing is opened."""
        return [info for info in self._drive.list(series_id) if info.name != KEY_FILE]

    def versions(self, series_id: str, name: str) -> builtins.list[FileInfo]:
        """Every kept version of a document, oldest first."""
        self._check_name(series_id, name)
        return self._drive.versions(series_id, name)

    def get_version(self, series_id: str, name: str, version: int) -> File:
        """One earlier version of a document, opened."""
        self._check_name(series_id, name)
        file = self._drive.get_version(series_id, name, version)
        return File(info=file.info, content=self._open(series_id, name, file.content))

    def delete(self, series_id: str, name: str, *, if_match: str | None = None) -> None:
        """Delete a document and its versions; the series' key file stays."""
        self._check_name(series_id, name)
        self._drive.delete(series_id, name, if_match=if_match)

    def forget(self, series_id: str) -> None:
        """Drop the series' data key from memory (after an erasure)."""
        with self._lock:
            self._keys.pop(series_id, None)

    # -- rotation -----------------------------------------------------------------------------

    def rewrap(self, series_id: str) -> Rewrap:
        """Re-wrap one series' DEK under the active KEK, in one conditional write of its key file.

        The DEK itself stays, so no document changes. `Rewrap.NO_DATA_KEY` for a folder without
        documents or key file; `MissingKeyFile` when documents are there but the key file is not.
        """
        where = f"{series_id}/{KEY_FILE}"
        for _ in range(_ATTEMPTS):
            try:
                file = self._drive.get(series_id, KEY_FILE)
            except NotFound:
                if self._key_file_appeared(series_id):
                    continue
                return Rewrap.NO_DATA_KEY
            key = self._unwrap(series_id, file)
            active_id, active_kek = self._keyring.active()
            if key.kek_id == active_id and (key.bound or self._server_keys is None):
                self._remember(series_id, key)
                return Rewrap.CURRENT
            content, bound = self._key_file(series_id, key.id, key.key, active_id, active_kek)
            try:
                info = self._drive.put(
                    series_id,
                    KEY_FILE,
                    content,
                    content_type="application/json",
                    if_match=file.info.etag,
                )
            except Conflict:
                continue
            self._remember(series_id, _DataKey(key.id, key.key, active_id, info.etag, bound))
            return Rewrap.REWRAPPED
        raise Conflict(f"{where} kept changing during {_ATTEMPTS} attempts: run the rotation again")

    def rotate_all(self) -> RotationReport:
        """`rewrap` every folder of the drive; a failure is reported and the rest go on.

        Safe to run again after an interruption: finished series report as current.
        """
        outcomes: dict[Rewrap, builtins.list[str]] = {outcome: [] for outcome in Rewrap}
        failed: builtins.list[tuple[str, str]] = []
        for series_id in self._drive.folders():
            try:
                outcomes[self.rewrap(series_id)].append(series_id)
            except ConnectorError as exc:
                failed.append((series_id, str(exc)))
        return RotationReport(
            rewrapped=tuple(outcomes[Rewrap.REWRAPPED]),
            current=tuple(outcomes[Rewrap.CURRENT]),
            no_data_key=tuple(outcomes[Rewrap.NO_DATA_KEY]),
            failed=tuple(failed),
        )

    # -- data keys ----------------------------------------------------------------------------

    def _key_for_write(self, series_id: str) -> _DataKey:
        """The series' DEK, checked against the drive (a deleted key file must not go unseen)."""
        for _ in range(_ATTEMPTS):
            try:
                info = self._drive.stat(series_id, KEY_FILE)
            except NotFound:
                created = self._create_key(series_id)
                if created is not None:
                    return created
                continue
            cached = self._cached(series_id)
            if cached is not None and cached.etag == info.etag:
                return cached
            try:
                file = self._drive.get(series_id, KEY_FILE)
            except NotFound:
                continue
            key = self._unwrap(series_id, file)
            self._remember(series_id, key)
            return key
        raise Conflict(
            f"{series_id}/{KEY_FILE} kept appearing and vanishing during {_ATTEMPTS} attempts"
        )

    def _create_key(self, series_id: str) -> _DataKey | None:
        """Make the series' first DEK; None when another writer created one first."""
        if self._key_file_appeared(series_id):
            return None
        dek_id = secrets.token_bytes(DEK_ID_BYTES)
        dek = AESGCM.generate_key(bit_length=DEK_BYTES * 8)
        kek_id, kek = self._keyring.active()
        content, bound = self._key_file(series_id, dek_id, dek, kek_id, kek)
        try:
            info = self._drive.put(
                series_id, KEY_FILE, content, content_type="application/json", if_none_match=True
            )
        except Conflict:
            return None
        key = _DataKey(dek_id, dek, kek_id, info.etag, bound)
        self._remember(series_id, key)
        return key

    def _cached(self, series_id: str) -> _DataKey | None:
        """The DEK kept in memory, unless its series was erased since (another process may
        have erased it: a bound key is checked against the server each time)."""
        with self._lock:
            cached = self._keys.get(series_id)
        bound = cached is not None and cached.bound and self._server_keys is not None
        if bound and self._server_keys is not None and self._server_keys.part(series_id) is None:
            self.forget(series_id)
            return None
        return cached

    def _key_for_read(self, series_id: str, name: str, dek_id: bytes) -> bytes:
        cached = self._cached(series_id)
        if cached is not None and cached.id == dek_id:
            return cached.key
        try:
            file = self._drive.get(series_id, KEY_FILE)
        except NotFound as exc:
            raise MissingKeyFile(
                f"{series_id}/{name} cannot be opened: the series' key file "
                f"{series_id}/{KEY_FILE} is missing. Restore it (from the drive's recycle bin or a "
                f"backup); without it no document in {series_id} opens",
                folder=series_id,
                name=name,
            ) from exc
        key = self._unwrap(series_id, file)
        self._remember(series_id, key)
        if key.id != dek_id:
            raise ForeignFile(
                f"{series_id}/{name} was sealed under another data key than series {series_id}'s: "
                "it was copied or moved here from another series, or its header was changed",
                folder=series_id,
                name=name,
            )
        return key.key

    def _unwrap(self, series_id: str, file: File) -> _DataKey:
        where = f"{series_id}/{KEY_FILE}"

        def bad(reason: str) -> BadKeyFile:
            return BadKeyFile(f"{where} {reason}", folder=series_id, name=KEY_FILE)

        try:
            doc: Any = json.loads(file.content)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            # RecursionError: nested deeper than the parser goes, so no key file either.
            raise bad("is not valid JSON: it was changed or cut short") from exc
        if not isinstance(doc, dict):
            raise bad("is not a key file (a JSON object is expected)")
        fmt = doc.get("format")
        if fmt not in (KEY_FORMAT, KEY_FORMAT_BOUND):
            raise UnsupportedFormat(
                f"{where} has format {fmt!r}, this version reads {KEY_FORMAT!r} and "
                f"{KEY_FORMAT_BOUND!r}: upgrade Goed Gesprek, or the file was changed",
                folder=series_id,
                name=KEY_FILE,
            )
        bound = fmt == KEY_FORMAT_BOUND
        kek_id, dek_hex, wrapped_b64 = doc.get("kek"), doc.get("dek"), doc.get("wrapped")
        if not (
            isinstance(kek_id, str) and isinstance(dek_hex, str) and isinstance(wrapped_b64, str)
        ):
            raise bad("needs the text fields 'kek', 'dek' and 'wrapped'")
        try:
            dek_id = bytes.fromhex(dek_hex)
            wrapped = base64.b64decode(wrapped_b64, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise bad("has a 'dek' or 'wrapped' field that is not hex or base64") from exc
        kek = self._keyring.kek(kek_id)
        if kek is None:
            raise UnknownKey(
                f"{where} is wrapped by key {kek_id!r}, which the keyring does not hold (it holds "
                f"{', '.join(self._keyring.ids)}): use the keyring it was written with, or a newer "
                "copy of it",
                folder=series_id,
                name=KEY_FILE,
            )
        if len(dek_id) != DEK_ID_BYTES or len(wrapped) != NONCE_BYTES + DEK_BYTES + TAG_BYTES:
            raise bad("has a data key of the wrong size: it was changed")
        if bound:
            kek = bound_kek(kek, self._part_for_read(series_id), series_id)
        nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        try:
            dek = AESGCM(kek).decrypt(nonce, body, _wrap_ad(series_id, kek_id, dek_id, fmt))
        except InvalidTag as exc:
            raise bad(
                f"does not unwrap with key {kek_id}: it was changed or copied from another "
                f"series, or the keyring's {kek_id} is not the key it was wrapped with"
            ) from exc
        return _DataKey(dek_id, dek, kek_id, file.info.etag, bound)

    def _part_for_read(self, series_id: str) -> bytes:
        where = f"{series_id}/{KEY_FILE}"
        part = self._server_keys.part(series_id) if self._server_keys is not None else None
        if part is not None:
            return part
        if self._server_keys is not None and self._server_keys.was_destroyed(series_id):
            raise Erased(
                f"series {series_id} was erased: its data key was destroyed, so none of its "
                "documents opens again",
                folder=series_id,
                name=KEY_FILE,
            )
        raise UnknownKey(
            f"{where} is bound to a part kept in the server's database, which has none for "
            f"{series_id}: open it with the database it was written with",
            folder=series_id,
            name=KEY_FILE,
        )

    def _key_file(
        self, series_id: str, dek_id: bytes, dek: bytes, kek_id: str, kek: bytes
    ) -> tuple[bytes, bool]:
        """The key file's bytes, bound to the series' server part when there are server keys."""
        fmt = KEY_FORMAT
        if self._server_keys is not None:
            fmt = KEY_FORMAT_BOUND
            kek = bound_kek(kek, self._server_keys.make_part(series_id), series_id)
        nonce = secrets.token_bytes(NONCE_BYTES)
        wrapped = nonce + AESGCM(kek).encrypt(nonce, dek, _wrap_ad(series_id, kek_id, dek_id, fmt))
        doc = {
            "format": fmt,
            "kek": kek_id,
            "dek": dek_id.hex(),
            "wrapped": base64.b64encode(wrapped).decode("ascii"),
        }
        return (json.dumps(doc, indent=2) + "\n").encode("utf-8"), fmt == KEY_FORMAT_BOUND

    def _remember(self, series_id: str, key: _DataKey) -> None:
        with self._lock:
            self._keys[series_id] = key

    # -- helpers ------------------------------------------------------------------------------

    def _open(self, series_id: str, name: str, sealed: bytes) -> bytes:
        dek_id = read_header(series_id, name, sealed)
        return unseal(self._key_for_read(series_id, name, dek_id), series_id, name, sealed)

    def _current(self, series_id: str, name: str) -> File | None:
        try:
            return self._drive.get(series_id, name)
        except NotFound:
            return None

    def _refuse_if_unreadable(self, series_id: str, name: str, sealed: bytes) -> None:
        try:
            self._open(series_id, name, sealed)
        except SealedError as exc:
            raise RefusedOverwrite(
                f"not writing over {series_id}/{name}: the document there does not open ({exc}). "
                "It stays as evidence; pass replace_unreadable=True to write a new version over it "
                "(the unreadable one stays in its version history)",
                folder=series_id,
                name=name,
            ) from exc

    def _key_file_appeared(self, series_id: str) -> bool:
        """After a lookup found no key file: True if one exists now (another writer made it).

        Documents without a key file raise `MissingKeyFile`: a fresh key would hide that the
        old one is gone, and would block restoring it from the drive's recycle bin under the
        same name. Key files are always written before any document of their series, so a
        document seen and then a key file found means only that another writer came first.
        """
        orphans = self.list(series_id)
        if not orphans:
            return False
        try:
            self._drive.stat(series_id, KEY_FILE)
        except NotFound:
            raise MissingKeyFile(
                f"series {series_id} has {len(orphans)} sealed document(s) but no key file "
                f"{series_id}/{KEY_FILE}: restore it (from the drive's recycle bin or a backup) "
                "before writing; a new data key would not open them",
                folder=series_id,
                name=KEY_FILE,
            ) from None
        return True

    @staticmethod
    def _check_name(series_id: str, name: str) -> None:
        if name == KEY_FILE:
            raise ReservedName(
                f"{series_id}/{name}: the name {KEY_FILE!r} is the series' key file; "
                "choose another document name",
                folder=series_id,
                name=name,
            )
