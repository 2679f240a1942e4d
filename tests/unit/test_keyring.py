"""The keyring: versioned KEKs in a 0600 file or an environment variable."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from connectors.keyring import (
    KEK_BYTES,
    KEYRING_ENV,
    Keyring,
    KeyringError,
    default_data_dir,
    default_keyring_path,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_a_private_file_with_one_active_key(tmp_path: Path) -> None:
    """A new keyring holds k1, active, 32 bytes, in a file only the owner can read."""
    path = tmp_path / "keys" / "keyring.json"
    ring = Keyring.init(path)
    assert ring.ids == ["k1"]
    assert ring.active_id == "k1"
    kek_id, kek = ring.active()
    assert (kek_id, len(kek)) == ("k1", KEK_BYTES)
    if os.name == "posix":
        assert _mode(path) == 0o600
    assert Keyring.load(path).kek("k1") == kek


def test_init_refuses_an_existing_file(tmp_path: Path) -> None:
    """A second init on the same path fails and leaves the first keyring as it was."""
    path = tmp_path / "keyring.json"
    Keyring.init(path)
    before = path.read_bytes()
    with pytest.raises(KeyringError, match="already exists"):
        Keyring.init(path)
    assert path.read_bytes() == before


def test_two_inits_make_different_keys(tmp_path: Path) -> None:
    """Every keyring gets fresh random key material."""
    one = Keyring.init(tmp_path / "a.json").active()[1]
    two = Keyring.init(tmp_path / "b.json").active()[1]
    assert one != two


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700 | 0o070])
def test_load_refuses_a_file_others_can_read(tmp_path: Path, mode: int) -> None:
    """A keyring readable by group or others is refused with the chmod that fixes it."""
    path = tmp_path / "keyring.json"
    Keyring.init(path)
    path.chmod(mode)
    with pytest.raises(KeyringError) as info:
        Keyring.load(path)
    assert f"chmod 600 {path}" in str(info.value)
    path.chmod(0o600)
    assert Keyring.load(path).ids == ["k1"]


def test_load_names_a_missing_file_and_how_to_create_it(tmp_path: Path) -> None:
    """Loading a keyring that is not there says to run keys init."""
    path = tmp_path / "nope.json"
    with pytest.raises(KeyringError, match="keys init"):
        Keyring.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"format": 9, "active": "k1", "keys": []}', "format 9"),
        (b'{"format": 1, "active": "k1", "keys": []}', "non-empty 'keys'"),
        (
            b'{"format": 1, "active": "k2", "keys": [{"id": "k1", "key": "' + b"A" * 44 + b'"}]}',
            "active key 'k2'",
        ),
        (b'{"format": 1, "active": "k1", "keys": [{"id": "k1", "key": "AAAA"}]}', "3 bytes"),
        (
            b'{"format": 1, "active": "x", "keys": [{"id": "x", "key": "' + b"A" * 44 + b'"}]}',
            "k1, k2",
        ),
    ],
)
def test_a_malformed_file_is_refused_with_a_reason(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """A broken keyring file names itself and what is wrong with it."""
    path = tmp_path / "keyring.json"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KeyringError, match=message) as info:
        Keyring.load(path)
    assert str(path) in str(info.value)


def test_rotate_adds_an_active_key_and_keeps_the_old(tmp_path: Path) -> None:
    """Rotation makes k2 active in memory and on disk while k1 still unwraps."""
    path = tmp_path / "keyring.json"
    ring = Keyring.init(path)
    k1 = ring.kek("k1")
    assert ring.rotate() == "k2"
    assert ring.rotate() == "k3"
    assert ring.ids == ["k1", "k2", "k3"]
    assert ring.active_id == "k3"
    again = Keyring.load(path)
    assert again.ids == ["k1", "k2", "k3"]
    assert again.active_id == "k3"
    assert again.kek("k1") == k1
    assert len({again.kek(i) for i in again.ids}) == 3
    if os.name == "posix":
        assert _mode(path) == 0o600


def test_rotate_leaves_no_temporary_files(tmp_path: Path) -> None:
    """The atomic write renames its temporary file into place and leaves nothing else."""
    path = tmp_path / "keyring.json"
    Keyring.init(path).rotate()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        "keyring.json"
    ]


def test_rotations_through_two_handles_lose_no_key(tmp_path: Path) -> None:
    """Two loaded copies rotating one after the other end with k1, k2 and k3 all on disk."""
    path = tmp_path / "keyring.json"
    Keyring.init(path)
    first, second = Keyring.load(path), Keyring.load(path)
    assert first.rotate() == "k2"
    assert second.rotate() == "k3"
    on_disk = Keyring.load(path)
    assert on_disk.ids == ["k1", "k2", "k3"]
    assert on_disk.kek("k2") == first.kek("k2")


def test_a_loaded_keyring_sees_a_rotation_by_another_process(tmp_path: Path) -> None:
    """A running server's keyring finds a KEK added to the file after it was loaded."""
    path = tmp_path / "keyring.json"
    Keyring.init(path)
    server = Keyring.load(path)
    cli = Keyring.load(path)
    cli.rotate()
    assert server.kek("k2") == cli.kek("k2")
    assert server.active_id == "k2"


def test_a_reused_key_id_with_other_material_is_refused(tmp_path: Path) -> None:
    """A file that later holds a different key under a known id is an error, not a swap."""
    path = tmp_path / "keyring.json"
    ring = Keyring.init(path)
    doc = json.loads(path.read_text())
    doc["keys"][0]["key"] = base64.b64encode(bytes(KEK_BYTES)).decode()
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyringError, match="different key under k1"):
        ring.active()


def test_environment_keyring_round_trips_and_is_read_only(tmp_path: Path) -> None:
    """A keyring exported as base64 JSON loads from the variable and refuses to rotate."""
    ring = Keyring.init(tmp_path / "keyring.json")
    ring.rotate()
    env = {KEYRING_ENV: ring.to_b64()}
    from_env = Keyring.from_env(env)
    assert from_env.ids == ["k1", "k2"]
    assert from_env.active() == ring.active()
    assert from_env.path is None
    with pytest.raises(KeyringError, match="cannot be rotated"):
        from_env.rotate()


def test_environment_keyring_errors_name_the_variable() -> None:
    """Unset or non-base64 values say which variable to fix."""
    with pytest.raises(KeyringError, match=KEYRING_ENV):
        Keyring.from_env({})
    with pytest.raises(KeyringError, match=KEYRING_ENV):
        Keyring.from_env({KEYRING_ENV: "not base64 at all!"})


def test_from_default_prefers_the_environment(tmp_path: Path) -> None:
    """The base64 variable wins over the file; without it the file in the data dir is used."""
    file_ring = Keyring.init(tmp_path / "keyring.json")
    other = Keyring.init(tmp_path / "other.json")
    env = {"GOEDGESPREK_DATA_DIR": str(tmp_path)}
    assert Keyring.from_default(environ=env).active() == file_ring.active()
    env[KEYRING_ENV] = other.to_b64()
    assert Keyring.from_default(environ=env).active() == other.active()


def test_default_locations(tmp_path: Path) -> None:
    """Data dir: env, then XDG_DATA_HOME, then ~/.local/share; keyring: env, then data dir."""
    assert default_data_dir({"GOEDGESPREK_DATA_DIR": str(tmp_path)}) == tmp_path
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "goedgesprek"
    assert default_data_dir({"XDG_DATA_HOME": "relative"}) == (
        Path.home() / ".local" / "share" / "goedgesprek"
    )
    assert default_data_dir({}) == Path.home() / ".local" / "share" / "goedgesprek"
    assert default_keyring_path(tmp_path, {}) == tmp_path / "keyring.json"
    assert default_keyring_path(None, {"GOEDGESPREK_DATA_DIR": str(tmp_path)}) == (
        tmp_path / "keyring.json"
    )
    assert default_keyring_path(tmp_path, {"GOEDGESPREK_KEYRING": "/k.json"}) == Path("/k.json")


def test_repr_shows_no_key_material(tmp_path: Path) -> None:
    """Printing a keyring shows ids, never the keys."""
    ring = Keyring.init(tmp_path / "keyring.json")
    text = repr(ring)
    assert "k1" in text
    assert base64.b64encode(ring.active()[1]).decode() not in text
    assert ring.active()[1].hex() not in text


def test_a_rotation_that_cannot_write_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed write leaves the old key active in memory too: nothing is wrapped by a lost key."""
    path = tmp_path / "keyring.json"
    ring = Keyring.init(path)
    before = path.read_bytes()

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", disk_full)
        with pytest.raises(OSError, match="No space"):
            ring.rotate()
    assert (ring.ids, ring.active_id) == (["k1"], "k1")
    assert path.read_bytes() == before
    assert ring.rotate() == "k2"
    assert Keyring.load(path).active() == ring.active()
