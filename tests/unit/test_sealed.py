"""The sealed store: envelope encryption over a MemoryDrive."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.errors import Conflict, InvalidRequest, NotFound, Unavailable
from connectors.keyring import Keyring
from connectors.memory import MemoryDrive
from connectors.models import File, FileInfo
from connectors.sealed import (
    HEADER_BYTES,
    KEY_FILE,
    MAGIC,
    MIN_SEALED_BYTES,
    NONCE_BYTES,
    BadKeyFile,
    ForeignFile,
    MissingKeyFile,
    RefusedOverwrite,
    ReservedName,
    Rewrap,
    SealedDrive,
    SealedError,
    TamperedFile,
    TruncatedFile,
    UnknownKey,
    UnsupportedFormat,
    seal,
    unseal,
)

RECORD = b'{"summary": "goed gesprek", "actions": ["cursus plannen"]}'


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    """A fresh file-backed keyring with k1 active."""
    return Keyring.init(tmp_path / "keyring.json")


@pytest.fixture
def drive() -> MemoryDrive:
    """An empty in-memory drive."""
    return MemoryDrive()


@pytest.fixture
def sealed(drive: MemoryDrive, ring: Keyring) -> SealedDrive:
    """A sealed store over the drive."""
    return SealedDrive(drive, ring)


def _kek_of(drive: MemoryDrive, series_id: str) -> str:
    return str(json.loads(drive.get(series_id, KEY_FILE).content)["kek"])


def _overwrite(drive: MemoryDrive, series_id: str, name: str, content: bytes) -> None:
    drive.put(series_id, name, content)


# -- round trip ---------------------------------------------------------------------------------


def test_round_trip(sealed: SealedDrive, drive: MemoryDrive) -> None:
    """What is put comes back; what the drive holds is sealed, not the plaintext."""
    info = sealed.put("s1", "record-1.json", RECORD)
    got = sealed.get("s1", "record-1.json")
    assert got.content == RECORD
    assert got.info == info
    stored = drive.get("s1", "record-1.json").content
    assert stored.startswith(MAGIC)
    assert b"goed gesprek" not in stored
    assert len(stored) == MIN_SEALED_BYTES + len(RECORD)


def test_every_write_uses_a_fresh_nonce(sealed: SealedDrive, drive: MemoryDrive) -> None:
    """The same plaintext written twice gives two different nonces and ciphertexts."""
    sealed.put("s1", "a", RECORD)
    first = drive.get("s1", "a").content
    sealed.put("s1", "a", RECORD)
    second = drive.get("s1", "a").content
    nonce = slice(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES)
    assert first[nonce] != second[nonce]
    assert first[HEADER_BYTES:] != second[HEADER_BYTES:]


def test_one_data_key_per_series(sealed: SealedDrive, drive: MemoryDrive) -> None:
    """Two series get two key files with different DEK ids; one series keeps one."""
    sealed.put("s1", "a", b"x")
    sealed.put("s1", "b", b"y")
    sealed.put("s2", "a", b"z")
    assert len(drive.versions("s1", KEY_FILE)) == 1
    key1 = json.loads(drive.get("s1", KEY_FILE).content)
    key2 = json.loads(drive.get("s2", KEY_FILE).content)
    assert key1["dek"] != key2["dek"]
    assert key1["kek"] == key2["kek"] == "k1"
    assert set(key1) == {"format", "kek", "dek", "wrapped"}


def test_a_fresh_store_opens_what_another_wrote(drive: MemoryDrive, ring: Keyring) -> None:
    """Nothing depends on the writer's memory: a new SealedDrive reads the key file."""
    SealedDrive(drive, ring).put("s1", "a", RECORD)
    assert SealedDrive(drive, ring).get("s1", "a").content == RECORD


def test_list_versions_and_delete(sealed: SealedDrive) -> None:
    """Listing hides the key file; old versions open; delete removes one document."""
    sealed.put("s1", "b", b"v1")
    sealed.put("s1", "b", b"v2")
    sealed.put("s1", "a", b"other")
    assert [i.name for i in sealed.list("s1")] == ["a", "b"]
    assert [i.version for i in sealed.versions("s1", "b")] == [1, 2]
    assert sealed.get_version("s1", "b", 1).content == b"v1"
    assert sealed.get("s1", "b").content == b"v2"
    assert sealed.stat("s1", "b").version == 2
    sealed.delete("s1", "a")
    assert [i.name for i in sealed.list("s1")] == ["b"]
    with pytest.raises(NotFound):
        sealed.get("s1", "a")


def test_conditional_writes_follow_the_drive(sealed: SealedDrive) -> None:
    """if_match and if_none_match refuse stale or existing targets and write nothing."""
    info = sealed.put("s1", "a", b"one", if_none_match=True)
    with pytest.raises(Conflict):
        sealed.put("s1", "a", b"two", if_none_match=True)
    newer = sealed.put("s1", "a", b"two", if_match=info.etag)
    with pytest.raises(Conflict):
        sealed.put("s1", "a", b"three", if_match=info.etag)
    with pytest.raises(Conflict):
        sealed.put("s1", "missing", b"x", if_match=info.etag)
    assert sealed.get("s1", "a").content == b"two"
    assert sealed.get("s1", "a").info.etag == newer.etag


def test_the_key_file_name_is_reserved(sealed: SealedDrive) -> None:
    """No document may be called like the key file, neither to write nor to read."""
    with pytest.raises(ReservedName, match=KEY_FILE):
        sealed.put("s1", KEY_FILE, b"x")
    sealed.put("s1", "a", b"x")
    with pytest.raises(ReservedName):
        sealed.get("s1", KEY_FILE)
    with pytest.raises(ReservedName):
        sealed.delete("s1", KEY_FILE)


def test_unsafe_names_are_refused_by_the_drive(sealed: SealedDrive) -> None:
    """Names the drive refuses are refused before any key is made."""
    with pytest.raises(InvalidRequest):
        sealed.put("../s1", "a", b"x")


@settings(max_examples=60, deadline=None)
@given(
    plaintext=st.binary(max_size=2048),
    series_id=st.text(alphabet="abcXYZ019-_é", min_size=1, max_size=20),
    name=st.text(alphabet="abc.json-_ü", min_size=1, max_size=20).filter(
        lambda n: n not in {".", ".."}
    ),
)
def test_round_trip_any_bytes_and_names(plaintext: bytes, series_id: str, name: str) -> None:
    """Any bytes under any valid series and document name come back unchanged."""
    ring = Keyring({"k1": bytes(range(32))}, "k1")
    sealed = SealedDrive(MemoryDrive(), ring)
    sealed.put(series_id, name, plaintext)
    assert sealed.get(series_id, name).content == plaintext


# -- tampering ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "error", "message"),
    [
        pytest.param(0, TamperedFile, "not a sealed document", id="magic"),
        pytest.param(4, UnsupportedFormat, "format version", id="version"),
        pytest.param(5, ForeignFile, "another data key", id="dek-id-first"),
        pytest.param(HEADER_BYTES - 1, ForeignFile, "another data key", id="dek-id-last"),
        pytest.param(HEADER_BYTES, TamperedFile, "does not verify", id="nonce-first"),
        pytest.param(HEADER_BYTES + NONCE_BYTES - 1, TamperedFile, "does not verify", id="nonce"),
        pytest.param(HEADER_BYTES + NONCE_BYTES, TamperedFile, "does not verify", id="ciphertext"),
        pytest.param(-17, TamperedFile, "does not verify", id="ciphertext-last"),
        pytest.param(-16, TamperedFile, "does not verify", id="tag-first"),
        pytest.param(-1, TamperedFile, "does not verify", id="tag-last"),
    ],
)
def test_a_flipped_byte_is_refused_naming_the_file(
    sealed: SealedDrive, drive: MemoryDrive, offset: int, error: type[SealedError], message: str
) -> None:
    """A single changed byte anywhere gives a specific error naming folder/name."""
    sealed.put("s1", "record.json", RECORD)
    data = bytearray(drive.get("s1", "record.json").content)
    data[offset] ^= 0x01
    _overwrite(drive, "s1", "record.json", bytes(data))
    with pytest.raises(error, match=message) as info:
        sealed.get("s1", "record.json")
    assert "s1/record.json" in str(info.value)
    assert (info.value.folder, info.value.name) == ("s1", "record.json")


@settings(max_examples=80, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_no_single_bit_flip_goes_unnoticed(position: int, bit: int) -> None:
    """Flipping any one bit of a sealed document makes it refuse to open."""
    drive = MemoryDrive()
    sealed = SealedDrive(drive, Keyring({"k1": bytes(32)}, "k1"))
    sealed.put("s1", "a", RECORD)
    data = bytearray(drive.get("s1", "a").content)
    data[position % len(data)] ^= 1 << bit
    drive.put("s1", "a", bytes(data))
    with pytest.raises(SealedError):
        sealed.get("s1", "a")


def test_a_document_swapped_between_series_is_refused(
    sealed: SealedDrive, drive: MemoryDrive
) -> None:
    """A document copied into another series' folder does not open there."""
    sealed.put("s1", "record.json", b"from s1")
    sealed.put("s2", "record.json", b"from s2")
    _overwrite(drive, "s2", "record.json", drive.get("s1", "record.json").content)
    with pytest.raises(ForeignFile, match=r"s2/record\.json.*another series"):
        sealed.get("s2", "record.json")


def test_a_document_swapped_with_its_key_file_is_still_refused(
    sealed: SealedDrive, drive: MemoryDrive, ring: Keyring
) -> None:
    """Copying a document and its key file together into another series opens neither."""
    sealed.put("s1", "record.json", b"from s1")
    sealed.put("s2", "record.json", b"from s2")
    _overwrite(drive, "s2", KEY_FILE, drive.get("s1", KEY_FILE).content)
    _overwrite(drive, "s2", "record.json", drive.get("s1", "record.json").content)
    with pytest.raises(BadKeyFile, match=f"s2/{KEY_FILE}.*another series"):
        SealedDrive(drive, ring).get("s2", "record.json")


def test_a_renamed_document_is_refused(sealed: SealedDrive, drive: MemoryDrive) -> None:
    """A document copied to another name in its own series does not open."""
    sealed.put("s1", "record-1.json", b"first")
    _overwrite(drive, "s1", "record-2.json", drive.get("s1", "record-1.json").content)
    with pytest.raises(TamperedFile, match=r"s1/record-2\.json.*renamed"):
        sealed.get("s1", "record-2.json")


def test_the_series_id_is_bound_even_under_one_data_key() -> None:
    """A document sealed for one series does not open as another's, whatever the key."""
    dek_id, dek = bytes(16), bytes(range(32))
    sealed_bytes = seal(dek_id, dek, "s1", "a", RECORD)
    assert unseal(dek, "s1", "a", sealed_bytes) == RECORD
    with pytest.raises(TamperedFile, match="s2/a"):
        unseal(dek, "s2", "a", sealed_bytes)
    with pytest.raises(TamperedFile, match="s1/b"):
        unseal(dek, "s1", "b", sealed_bytes)


@pytest.mark.parametrize("keep", [0, 1, 4, 5, HEADER_BYTES, MIN_SEALED_BYTES - 1])
def test_a_file_cut_below_the_minimum_is_truncated(
    sealed: SealedDrive, drive: MemoryDrive, keep: int
) -> None:
    """A file shorter than header, nonce and tag says it was cut short, with its size."""
    sealed.put("s1", "a", RECORD)
    _overwrite(drive, "s1", "a", drive.get("s1", "a").content[:keep])
    with pytest.raises(TruncatedFile, match=f"s1/a is {keep} bytes") as info:
        sealed.get("s1", "a")
    assert isinstance(info.value, TamperedFile)


@pytest.mark.parametrize("cut", [1, 16, len(RECORD)])
def test_a_file_cut_in_its_body_does_not_verify(
    sealed: SealedDrive, drive: MemoryDrive, cut: int
) -> None:
    """A file cut after its header fails the tag check."""
    sealed.put("s1", "a", RECORD)
    _overwrite(drive, "s1", "a", drive.get("s1", "a").content[:-cut])
    with pytest.raises(TamperedFile, match="s1/a"):
        sealed.get("s1", "a")


# -- key files ----------------------------------------------------------------------------------


def test_an_unknown_kek_is_named(drive: MemoryDrive, ring: Keyring) -> None:
    """A key file wrapped by a KEK the keyring lacks names the key file and the KEK id."""
    ring.rotate()
    SealedDrive(drive, ring).put("s1", "a", RECORD)
    k1 = ring.kek("k1")
    assert k1 is not None
    old_ring = Keyring({"k1": k1}, "k1")
    with pytest.raises(UnknownKey, match=f"s1/{KEY_FILE} is wrapped by key 'k2'") as info:
        SealedDrive(drive, old_ring).get("s1", "a")
    assert info.value.name == KEY_FILE


def test_a_wrong_kek_under_a_known_id_is_refused(drive: MemoryDrive, ring: Keyring) -> None:
    """A keyring whose k1 is another key does not unwrap, and says so."""
    SealedDrive(drive, ring).put("s1", "a", RECORD)
    with pytest.raises(BadKeyFile, match="does not unwrap with key k1"):
        SealedDrive(drive, Keyring({"k1": bytes(32)}, "k1")).get("s1", "a")


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (lambda d: "not json", BadKeyFile, "not valid JSON"),
        (lambda d: "[" * 100_000 + "]" * 100_000, BadKeyFile, "not valid JSON"),
        (lambda d: {**d, "format": "goedgesprek-sealed-key/9"}, UnsupportedFormat, "format"),
        (lambda d: {**d, "kek": None}, BadKeyFile, "'kek', 'dek' and 'wrapped'"),
        (lambda d: {**d, "dek": "zz"}, BadKeyFile, "not hex or base64"),
        (lambda d: {**d, "dek": "00" * 16}, BadKeyFile, "does not unwrap"),
        (lambda d: {**d, "wrapped": d["wrapped"][:-8]}, BadKeyFile, "wrong size"),
    ],
)
def test_a_damaged_key_file_is_named(
    drive: MemoryDrive, ring: Keyring, edit: object, error: type[SealedError], message: str
) -> None:
    """Each kind of key-file damage gives its own message naming the key file."""
    SealedDrive(drive, ring).put("s1", "a", RECORD)
    doc = json.loads(drive.get("s1", KEY_FILE).content)
    assert callable(edit)
    changed = edit(doc)
    raw = changed if isinstance(changed, str) else json.dumps(changed)
    _overwrite(drive, "s1", KEY_FILE, raw.encode())
    with pytest.raises(error, match=message) as info:
        SealedDrive(drive, ring).get("s1", "a")
    assert f"s1/{KEY_FILE}" in str(info.value)


def test_a_missing_key_file_is_named_and_not_replaced(
    sealed: SealedDrive, drive: MemoryDrive, ring: Keyring
) -> None:
    """Without its key file a series neither opens nor takes new writes with a new key."""
    sealed.put("s1", "a", RECORD)
    drive.delete("s1", KEY_FILE)
    with pytest.raises(MissingKeyFile, match=f"s1/a cannot be opened.*s1/{KEY_FILE} is missing"):
        SealedDrive(drive, ring).get("s1", "a")
    with pytest.raises(MissingKeyFile, match="restore it"):
        sealed.put("s1", "b", b"new")
    with pytest.raises(MissingKeyFile):
        sealed.rewrap("s1")
    assert [i.name for i in drive.list("s1")] == ["a"]


# -- overwriting what does not open -------------------------------------------------------------


def test_put_refuses_to_overwrite_an_unreadable_document(
    sealed: SealedDrive, drive: MemoryDrive
) -> None:
    """A document that does not open stays as it is: the write is refused, with the reason."""
    sealed.put("s1", "a", RECORD)
    _overwrite(drive, "s1", "a", b"garbage")
    evidence = drive.get("s1", "a")
    with pytest.raises(RefusedOverwrite, match=r"not writing over s1/a.*cut short") as info:
        sealed.put("s1", "a", b"new")
    assert isinstance(info.value.__cause__, TruncatedFile)
    assert drive.get("s1", "a") == evidence
    with pytest.raises(RefusedOverwrite):
        sealed.put("s1", "a", b"new", if_match=evidence.info.etag)
    assert drive.get("s1", "a") == evidence


def test_replace_unreadable_writes_a_new_version_and_keeps_the_evidence(
    sealed: SealedDrive, drive: MemoryDrive
) -> None:
    """With replace_unreadable the new version opens and the bad one stays in the history."""
    sealed.put("s1", "a", RECORD)
    _overwrite(drive, "s1", "a", b"garbage")
    info = sealed.put("s1", "a", b"new", replace_unreadable=True)
    assert sealed.get("s1", "a").content == b"new"
    assert info.version == 3
    assert drive.get_version("s1", "a", 2).content == b"garbage"
    assert sealed.get_version("s1", "a", 1).content == RECORD
    with pytest.raises(TruncatedFile):
        sealed.get_version("s1", "a", 2)


def test_a_deleted_key_file_is_noticed_by_a_store_that_cached_it(
    sealed: SealedDrive, drive: MemoryDrive
) -> None:
    """A long-running store does not keep sealing with a data key the drive no longer holds."""
    sealed.put("s1", "a", RECORD)
    drive.delete("s1", KEY_FILE)
    with pytest.raises(MissingKeyFile):
        sealed.put("s1", "a", b"more")
    assert drive.versions("s1", "a")[-1].version == 1


# -- rotation -----------------------------------------------------------------------------------


def _fill(sealed: SealedDrive, series: list[str]) -> dict[tuple[str, str], bytes]:
    written: dict[tuple[str, str], bytes] = {}
    for series_id in series:
        for n in range(2):
            name = f"record-{n}.json"
            written[series_id, name] = f"{series_id} {n}".encode()
            sealed.put(series_id, name, written[series_id, name])
    return written


def _all_open(drive: MemoryDrive, ring: Keyring, written: dict[tuple[str, str], bytes]) -> bool:
    fresh = SealedDrive(drive, ring)
    return all(fresh.get(s, n).content == content for (s, n), content in written.items())


def test_rotation_rewraps_every_key_file_and_touches_no_record(
    sealed: SealedDrive, drive: MemoryDrive, ring: Keyring
) -> None:
    """After rotate_all every key file names k2, records are byte-identical and still open."""
    written = _fill(sealed, ["s1", "s2", "s3"])
    drive.put("empty", "x", b"")
    drive.delete("empty", "x")
    before = {key: drive.get(*key) for key in written}
    ring.rotate()
    report = sealed.rotate_all()
    assert report.rewrapped == ("s1", "s2", "s3")
    assert report.no_data_key == ("empty",)
    assert report.ok
    assert {_kek_of(drive, s) for s in ("s1", "s2", "s3")} == {"k2"}
    assert {key: drive.get(*key) for key in written} == before
    assert _all_open(drive, ring, written)
    assert sealed.rotate_all().current == ("s1", "s2", "s3")


def test_rotation_keeps_old_key_file_versions_and_old_records_open(
    sealed: SealedDrive, drive: MemoryDrive, ring: Keyring
) -> None:
    """The re-wrap is one conditional write of the key file; versions of records still open."""
    sealed.put("s1", "a", b"v1")
    sealed.put("s1", "a", b"v2")
    ring.rotate()
    assert sealed.rewrap("s1") is Rewrap.REWRAPPED
    assert [i.version for i in drive.versions("s1", KEY_FILE)] == [1, 2]
    fresh = SealedDrive(drive, ring)
    assert fresh.get_version("s1", "a", 1).content == b"v1"
    assert sealed.rewrap("s1") is Rewrap.CURRENT
    sealed.put("s1", "b", b"after")
    assert fresh.get("s1", "b").content == b"after"


class _CrashingDrive(MemoryDrive):
    """A drive whose process 'dies' on the n-th key-file write (a non-connector exception)."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_on: int | None = None
        self._key_writes = 0

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
        if name == KEY_FILE and self.crash_on is not None:
            self._key_writes += 1
            if self._key_writes == self.crash_on:
                raise _Crash("power cut")
        return super().put(
            folder,
            name,
            content,
            content_type=content_type,
            if_match=if_match,
            if_none_match=if_none_match,
        )


class _Crash(Exception):
    """Stands for the process stopping mid-rotation."""


def test_a_rotation_interrupted_halfway_loses_nothing_and_can_be_rerun(ring: Keyring) -> None:
    """A rotation stopped after one series leaves every record open; a rerun finishes it."""
    drive = _CrashingDrive()
    sealed = SealedDrive(drive, ring)
    written = _fill(sealed, ["s1", "s2", "s3"])
    ring.rotate()
    drive.crash_on = 2
    with pytest.raises(_Crash):
        sealed.rotate_all()
    assert [_kek_of(drive, s) for s in ("s1", "s2", "s3")] == ["k2", "k1", "k1"]
    assert _all_open(drive, ring, written)
    drive.crash_on = None
    report = SealedDrive(drive, ring).rotate_all()
    assert (report.rewrapped, report.current) == (("s2", "s3"), ("s1",))
    assert [_kek_of(drive, s) for s in ("s1", "s2", "s3")] == ["k2", "k2", "k2"]
    assert _all_open(drive, ring, written)


class _FailingDrive(MemoryDrive):
    """A drive that answers 'unavailable' to every key-file write in some folders."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[str] = set()

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
        if name == KEY_FILE and folder in self.down:
            raise Unavailable(f"{folder}/{name}: the drive answered 503")
        return super().put(
            folder,
            name,
            content,
            content_type=content_type,
            if_match=if_match,
            if_none_match=if_none_match,
        )


def test_a_failing_series_is_reported_and_the_rest_rotate(ring: Keyring) -> None:
    """One unreachable or damaged series is listed with its reason; the others are re-wrapped."""
    drive = _FailingDrive()
    sealed = SealedDrive(drive, ring)
    written = _fill(sealed, ["s1", "s2", "s3"])
    drive.put("s3", KEY_FILE, b"{}")
    ring.rotate()
    drive.down = {"s2"}
    report = sealed.rotate_all()
    assert report.rewrapped == ("s1",)
    assert [series for series, _ in report.failed] == ["s2", "s3"]
    assert "503" in report.failed[0][1]
    assert f"s3/{KEY_FILE}" in report.failed[1][1]
    assert not report.ok
    del written["s3", "record-0.json"], written["s3", "record-1.json"]
    assert _all_open(drive, ring, written)


def test_a_store_loaded_before_a_rotation_opens_rewrapped_series(
    drive: MemoryDrive, ring: Keyring
) -> None:
    """A server holding the keyring from before a CLI rotation still opens every series."""
    assert ring.path is not None
    server_ring = Keyring.load(ring.path)
    server = SealedDrive(drive, server_ring)
    server.put("s1", "a", RECORD)
    cli_ring = Keyring.load(ring.path)
    cli_ring.rotate()
    SealedDrive(drive, cli_ring).rotate_all()
    restarted_view = SealedDrive(drive, Keyring.load(ring.path))
    assert restarted_view.get("s1", "a").content == RECORD
    assert SealedDrive(drive, server_ring).get("s1", "a").content == RECORD


# -- concurrency --------------------------------------------------------------------------------


class _RacingDrive(MemoryDrive):
    """Holds the first two key-file lookups and folder listings until both callers made them."""

    def __init__(self) -> None:
        super().__init__()
        self.barriers = {"stat": threading.Barrier(2, timeout=5), "list": threading.Barrier(2)}
        self._left = {"stat": 2, "list": 2}
        self._guard = threading.Lock()

    def _hold(self, call: str) -> None:
        with self._guard:
            wait = self._left[call] > 0
            self._left[call] -= wait
        if wait:
            self.barriers[call].wait(timeout=5)

    def stat(self, folder: str, name: str) -> FileInfo:
        try:
            return super().stat(folder, name)
        finally:
            if name == KEY_FILE:
                self._hold("stat")

    def list(self, folder: str) -> list[FileInfo]:
        try:
            return super().list(folder)
        finally:
            self._hold("list")


def _write_at_once(drive: MemoryDrive, ring: Keyring) -> list[BaseException]:
    writers = [SealedDrive(drive, ring), SealedDrive(drive, ring)]
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            writers[index].put("s1", f"record-{index}.json", f"by {index}".encode())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return errors


def test_two_first_writers_agree_on_one_data_key(ring: Keyring) -> None:
    """Two stores that both found no key file create one; the loser reads the winner's back."""
    drive = _RacingDrive()
    assert _write_at_once(drive, ring) == []
    assert not any(barrier.broken for barrier in drive.barriers.values())
    assert len(drive.versions("s1", KEY_FILE)) == 1
    fresh = SealedDrive(drive, ring)
    assert fresh.get("s1", "record-0.json").content == b"by 0"
    assert fresh.get("s1", "record-1.json").content == b"by 1"


class _LateDrive(MemoryDrive):
    """Runs `between` once, right after the first lookup that found no key file."""

    def __init__(self) -> None:
        super().__init__()
        self.between: list[object] = []

    def stat(self, folder: str, name: str) -> FileInfo:
        try:
            return super().stat(folder, name)
        except NotFound:
            if name == KEY_FILE and self.between:
                action = self.between.pop()
                assert callable(action)
                action()
            raise


def test_a_first_writer_that_finds_the_winners_record_is_not_misled(ring: Keyring) -> None:
    """Seeing another writer's first record after finding no key file is a lost race, not a loss."""
    drive = _LateDrive()
    drive.between.append(lambda: SealedDrive(drive, ring).put("s1", "by-other", b"other"))
    SealedDrive(drive, ring).put("s1", "mine", b"mine")
    fresh = SealedDrive(drive, ring)
    assert len(drive.versions("s1", KEY_FILE)) == 1
    assert (fresh.get("s1", "mine").content, fresh.get("s1", "by-other").content) == (
        b"mine",
        b"other",
    )


def test_many_first_writers_at_once_share_one_data_key(ring: Keyring) -> None:
    """Eight stores writing to a new series in parallel leave one key file and eight records."""
    drive = MemoryDrive()
    start = threading.Barrier(8, timeout=5)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            start.wait()
            SealedDrive(drive, ring).put("s1", f"r{index}", bytes([index]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert len(drive.versions("s1", KEY_FILE)) == 1
    fresh = SealedDrive(drive, ring)
    assert [fresh.get("s1", f"r{i}").content for i in range(8)] == [bytes([i]) for i in range(8)]


class _InterleavingDrive(MemoryDrive):
    """A drive that runs `between` once, right after the first read of a document named `name`."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.between: list[object] = []

    def get(self, folder: str, name: str) -> File:
        result = super().get(folder, name)
        if name == self.name and self.between:
            action = self.between.pop()
            assert callable(action)
            action()
        return result


def test_a_concurrent_write_between_check_and_write_is_checked_again(ring: Keyring) -> None:
    """Without if_match, a write that loses a race re-reads and re-checks, then writes."""
    drive = _InterleavingDrive("a")
    sealed = SealedDrive(drive, ring)
    sealed.put("s1", "a", b"one")
    drive.between.append(lambda: SealedDrive(drive, ring).put("s1", "a", b"two"))
    sealed.put("s1", "a", b"three")
    assert [sealed.get_version("s1", "a", v).content for v in (1, 2, 3)] == [
        b"one",
        b"two",
        b"three",
    ]


def test_an_unreadable_document_written_during_a_put_is_not_overwritten(ring: Keyring) -> None:
    """A document that turns unreadable between the check and the write is still kept."""
    drive = _InterleavingDrive("a")
    sealed = SealedDrive(drive, ring)
    sealed.put("s1", "a", b"one")
    drive.between.append(lambda: MemoryDrive.put(drive, "s1", "a", b"garbage"))
    with pytest.raises(RefusedOverwrite):
        sealed.put("s1", "a", b"three")
    assert drive.get("s1", "a").content == b"garbage"
