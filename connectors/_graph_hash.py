"""Checking downloaded bytes against a driveItem's ``file.hashes`` (pure).

Graph's hashes page (v1.0) says OneDrive for Business and SharePoint give no ``sha1Hash``,
``crc32Hash`` or ``sha256Hash`` (so ``quickXorHash``, base64), and OneDrive Personal no
``quickXorHash`` (so ``sha1Hash``, hex); its newer (beta) text says ``quickXorHash`` is the one
value guaranteed on both and ``sha256Hash`` "isn't supported. Don't use." So the two are
checked, each when given; bytes are accepted only when all given agree. ``sha256Hash`` is
left out as told, CRC32 too: 32 bits prove little, and "in little endian" leaves its hex
spelling open.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

_WIDTH = 160
"""QuickXorHash's ring is 160 bits; byte ``i`` lands at bit ``(11 * i) % 160``."""
_SHIFT = 11


def quick_xor_hash(data: bytes) -> str:
    """OneDrive's QuickXorHash of `data`, base64 as Graph gives it.

    Bytes 160 apart land on the same bit of the ring, so the bytes are folded first (xor of
    160-byte blocks, one big-integer xor per block) and only the 160 folded bytes are shifted.
    """
    folded = 0
    view = memoryview(data)
    for offset in range(0, len(view), _WIDTH):
        folded ^= int.from_bytes(view[offset : offset + _WIDTH], "little")
    column = folded.to_bytes(_WIDTH, "little")
    mask = (1 << _WIDTH) - 1
    ring = 0
    for index, byte in enumerate(column):
        if byte:
            position = (index * _SHIFT) % _WIDTH
            ring ^= ((byte << position) | (byte >> (_WIDTH - position))) & mask
    raw = bytearray(ring.to_bytes(20, "little"))
    for index, value in enumerate(len(data).to_bytes(8, "little")):
        raw[12 + index] ^= value
    return base64.b64encode(bytes(raw)).decode()


_HASHES: dict[str, Callable[[bytes], str]] = {
    "quickXorHash": quick_xor_hash,
    "sha1Hash": lambda data: hashlib.sha1(data, usedforsecurity=False).hexdigest(),
}
"""The hashes we check: base64 compared exactly, hex without regard to case."""


def content_matches(hashes: Any, data: bytes) -> bool | None:
    """Whether `data` is the content `hashes` (a driveItem's ``file.hashes``) describe.

    None when no hash we know is given (Graph: "in some cases hash values may not be
    available"): the caller cannot tell and must not take the bytes on trust.
    """
    if not isinstance(hashes, Mapping):
        return None
    checked = False
    for name, digest in _HASHES.items():
        given = hashes.get(name)
        if not isinstance(given, str) or not given:
            continue
        ours = digest(data)
        same = ours == given if name == "quickXorHash" else ours == given.lower()
        if not same:
            return False
        checked = True
    return True if checked else None
