"""Downloaded bytes checked against a driveItem's hashes (connectors._graph_hash)."""

from __future__ import annotations

import base64
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from connectors._graph_hash import content_matches, quick_xor_hash


def reference_quick_xor_hash(data: bytes) -> str:
    """QuickXorHash byte by byte, as Microsoft's published snippet describes it."""
    ring, mask = 0, (1 << 160) - 1
    for index, byte in enumerate(data):
        shift = (index * 11) % 160
        ring ^= ((byte << shift) | (byte >> (160 - shift))) & mask
    raw = bytearray(ring.to_bytes(20, "little"))
    for index, value in enumerate(len(data).to_bytes(8, "little")):
        raw[12 + index] ^= value
    return base64.b64encode(bytes(raw)).decode()


def test_quick_xor_hash_of_known_values() -> None:
    """Empty input and "hello world" give the published values."""
    assert quick_xor_hash(b"") == "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    assert quick_xor_hash(b"hello world") == "aCgDG9jwBhDc4Q1yawMZAAAAAAA="


@given(st.binary(max_size=700))
def test_folded_hash_equals_the_byte_by_byte_one(data: bytes) -> None:
    """Folding 160-byte blocks first gives the same hash as shifting every byte."""
    assert quick_xor_hash(data) == reference_quick_xor_hash(data)


def test_matching_and_mismatching_hashes() -> None:
    """A right quickXorHash or sha1Hash (any case) matches; a wrong one does not."""
    data = b"record"
    sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    assert content_matches({"quickXorHash": quick_xor_hash(data)}, data) is True
    assert content_matches({"sha1Hash": sha1.upper()}, data) is True
    assert content_matches({"quickXorHash": quick_xor_hash(b"other!")}, data) is False
    both = {"quickXorHash": quick_xor_hash(data), "sha1Hash": "00" * 20}
    assert content_matches(both, data) is False


def test_no_usable_hash_tells_nothing() -> None:
    """No hashes, an empty facet, or only hashes we do not check (sha256, crc32) give None."""
    assert content_matches(None, b"x") is None
    assert content_matches({}, b"x") is None
    assert content_matches({"sha256Hash": "ab", "crc32Hash": "cd"}, b"x") is None
