"""Tests for `goedgesprek keys init` and `goedgesprek keys rotate`, through click's CliRunner."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from addin.cli import cli
from addin.conversations.series_keys import SeriesKeys
from addin.registry import Registry
from connectors.keyring import Keyring
from connectors.local import LocalStore
from connectors.ports import Drive
from connectors.sealed import KEY_FILE, SealedDrive


def run(args: list[str], data_dir: Path, **env: str | None) -> tuple[int, str, str]:
    """Run the CLI with a clean keyring environment; return exit code, stdout and stderr."""
    environ: dict[str, str | None] = {
        "GOEDGESPREK_DATA_DIR": str(data_dir),
        "GOEDGESPREK_KEYRING": None,
        "GOEDGESPREK_KEYRING_B64": None,
    }
    environ.update(env)
    result = CliRunner().invoke(cli, args, env=environ)
    return result.exit_code, result.stdout, result.stderr


def test_init_creates_the_default_keyring_in_the_data_dir(tmp_path: Path) -> None:
    """Without --keyring the keyring lands in the data dir, private, with k1."""
    code, out, err = run(["keys", "init"], tmp_path)
    path = tmp_path / "keyring.json"
    assert (code, err) == (0, "")
    assert f"created keyring {path} with key k1" in out
    assert Keyring.load(path).ids == ["k1"]
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_init_honours_the_keyring_variable_and_option(tmp_path: Path) -> None:
    """$GOEDGESPREK_KEYRING moves the default; --keyring wins over both."""
    by_env = tmp_path / "env" / "ring.json"
    by_option = tmp_path / "opt.json"
    assert run(["keys", "init"], tmp_path, GOEDGESPREK_KEYRING=str(by_env))[0] == 0
    assert run(["keys", "init", "--keyring", str(by_option)], tmp_path)[0] == 0
    assert by_env.is_file()
    assert by_option.is_file()
    assert not (tmp_path / "keyring.json").exists()


def test_init_twice_fails_on_one_line_and_keeps_the_keyring(tmp_path: Path) -> None:
    """A second init exits non-zero with one line and the first keyring unchanged."""
    run(["keys", "init"], tmp_path)
    before = (tmp_path / "keyring.json").read_bytes()
    code, out, err = run(["keys", "init"], tmp_path)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: ") and "already exists" in err
    assert "Traceback" not in err
    assert (tmp_path / "keyring.json").read_bytes() == before


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_rotate_refuses_an_open_keyring_with_the_fix(tmp_path: Path) -> None:
    """A keyring others can read stops the rotation with the chmod that fixes it."""
    run(["keys", "init"], tmp_path)
    path = tmp_path / "keyring.json"
    path.chmod(0o644)
    code, _, err = run(["keys", "rotate"], tmp_path)
    assert code == 1
    assert f"chmod 600 {path}" in err
    assert err.count("\n") == 1
    path.chmod(0o600)
    assert Keyring.load(path).ids == ["k1"]


def test_rotate_without_a_keyring_says_how_to_make_one(tmp_path: Path) -> None:
    """Rotating before init fails on one line naming keys init."""
    code, out, err = run(["keys", "rotate"], tmp_path)
    assert (code, out) == (1, "")
    assert "goedgesprek keys init" in err
    assert err.count("\n") == 1


def test_rotate_with_no_local_store_rotates_the_keyring_only(tmp_path: Path) -> None:
    """A keyring outside any store gets a new active key and nothing is re-wrapped."""
    ring_path = tmp_path / "ring.json"
    Keyring.init(ring_path)
    missing = tmp_path / "no-store"
    code, out, err = run(
        ["keys", "rotate", "--keyring", str(ring_path), "--data-dir", str(missing)], tmp_path
    )
    assert (code, err) == (0, "")
    assert "k2 is now active" in out
    assert "nothing to re-wrap" in out
    assert Keyring.load(ring_path).active_id == "k2"
    assert not missing.exists()


def test_rotate_tells_an_environment_deployment_to_update_its_variable(tmp_path: Path) -> None:
    """With the base64 variable set, rotate reminds the operator to give it the new value."""
    ring = Keyring.init(tmp_path / "keyring.json")
    code, out, _ = run(
        ["keys", "rotate", "--data-dir", str(tmp_path / "none")],
        tmp_path,
        GOEDGESPREK_KEYRING=str(tmp_path / "keyring.json"),
        GOEDGESPREK_KEYRING_B64=ring.to_b64(),
    )
    assert code == 0
    assert "GOEDGESPREK_KEYRING_B64 is set" in out


def test_a_usage_error_is_one_line(tmp_path: Path) -> None:
    """An unknown option exits 2 with one line, not the usage text."""
    code, _, err = run(["keys", "rotate", "--bogus"], tmp_path)
    assert code == 2
    assert err.count("\n") == 1
    assert "--bogus" in err


USERS = ("ada@example.org", "grace@example.org")


def _kek_of(drive: Drive, series_id: str) -> str:
    return str(json.loads(drive.get(series_id, KEY_FILE).content)["kek"])


def _seed(data_dir: Path, ring: Keyring) -> dict[tuple[str, str, str], bytes]:
    """Two users with sealed records in two series each; returns what was written where."""
    written: dict[tuple[str, str, str], bytes] = {}
    with LocalStore(data_dir) as store:
        for email in USERS:
            store.add_person(email, email.split("@")[0].title(), "Europe/Amsterdam")
            sealed = SealedDrive(store.drive(email), ring)
            for series_id in ("s1", "s2"):
                content = f"verslag {email} {series_id}".encode()
                sealed.put(series_id, "record.json", content)
                written[email, series_id, "record.json"] = content
    return written


def _state(data_dir: Path) -> dict[tuple[str, str], tuple[str, bytes]]:
    """Per user and series: the KEK its key file names and the record's stored bytes."""
    with LocalStore(data_dir) as store:
        return {
            (email, series_id): (
                _kek_of(store.drive(email), series_id),
                store.drive(email).get(series_id, "record.json").content,
            )
            for email in USERS
            for series_id in ("s1", "s2")
        }


def _all_open(data_dir: Path, written: dict[tuple[str, str, str], bytes]) -> bool:
    """Every record opens, with the server's parts the rotation bound the key files to."""
    ring = Keyring.load(data_dir / "keyring.json")
    url = os.environ.get("GOEDGESPREK_DATABASE_URL")
    registry = Registry(url) if url else Registry.in_dir(data_dir)
    parts = SeriesKeys(registry.engine, lambda: datetime.now(UTC))
    try:
        with LocalStore(data_dir) as store:
            return all(
                SealedDrive(store.drive(email), ring, server_keys=parts)
                .get(series_id, name)
                .content
                == content
                for (email, series_id, name), content in written.items()
            )
    finally:
        registry.close()


def test_rotate_rewraps_every_users_series_and_leaves_records_alone(tmp_path: Path) -> None:
    """After rotate every key file names k2, record bytes are unchanged and all still open."""
    ring = Keyring.init(tmp_path / "keyring.json")
    written = _seed(tmp_path, ring)
    before = _state(tmp_path)
    code, out, err = run(["keys", "rotate"], tmp_path)
    assert (code, err) == (0, "")
    assert "k2 is now active" in out
    for email in USERS:
        assert f"{email}: 2 re-wrapped, 0 already current" in out
    after = _state(tmp_path)
    assert {kek for kek, _ in after.values()} == {"k2"}
    assert {k: blob for k, (_, blob) in after.items()} == {k: b for k, (_, b) in before.items()}
    assert _all_open(tmp_path, written)


def test_an_interrupted_rotation_is_finished_with_rewrap_only(tmp_path: Path) -> None:
    """A keyring rotated but not yet re-wrapped is finished without adding another key."""
    ring = Keyring.init(tmp_path / "keyring.json")
    written = _seed(tmp_path, ring)
    ring.rotate()
    code, out, err = run(["keys", "rotate", "--rewrap-only"], tmp_path)
    assert (code, err) == (0, "")
    assert "re-wrapping under k2 (no new key)" in out
    assert Keyring.load(tmp_path / "keyring.json").ids == ["k1", "k2"]
    assert {kek for kek, _ in _state(tmp_path).values()} == {"k2"}
    code, out, _ = run(["keys", "rotate", "--rewrap-only"], tmp_path)
    assert code == 0
    assert "0 re-wrapped, 2 already current" in out
    assert _all_open(tmp_path, written)


def test_a_damaged_series_is_listed_and_fails_the_run(tmp_path: Path) -> None:
    """One bad key file: the others are re-wrapped, it is listed, and the exit is non-zero."""
    ring = Keyring.init(tmp_path / "keyring.json")
    written = _seed(tmp_path, ring)
    with LocalStore(tmp_path) as store:
        store.drive(USERS[1]).put("s2", KEY_FILE, b"{}")
    code, out, err = run(["keys", "rotate"], tmp_path)
    assert code == 1
    assert f"{USERS[1]}: 1 re-wrapped, 0 already current, 1 failed" in out
    assert f"s2/{KEY_FILE}" in out
    assert err.count("\n") == 1
    assert "1 series could not be re-wrapped" in err
    assert "--rewrap-only" in err
    del written[USERS[1], "s2", "record.json"]
    assert _all_open(tmp_path, written)


def test_rotate_reaches_drives_of_people_never_added(tmp_path: Path) -> None:
    """A drive whose owner was never added as a person is still re-wrapped."""
    keyring = tmp_path / "keyring.json"
    ring = Keyring.init(keyring)
    with LocalStore(tmp_path) as store:
        SealedDrive(store.drive("stranger@example.org"), ring).put("s1", "record.json", b"{}")
        assert store.drive_owners() == ["stranger@example.org"]
    result = CliRunner().invoke(
        cli, ["keys", "rotate", "--keyring", str(keyring), "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    with LocalStore(tmp_path) as store:
        key_file = store.drive("stranger@example.org").get("s1", KEY_FILE).content
        assert Keyring.load(keyring).active_id.encode() in key_file
