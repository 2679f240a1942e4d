"""Tests for `goedgesprek workspace sign-request`, through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from addin.cli.workspace import workspace
from addin.workspace.verify import KEY_FILE, LOCAL_SERVICE_ACCOUNT, LocalSigner, Unauthorized

URL = "http://127.0.0.1:8765/addon/homepage"


def run(args: list[str], data_dir: Path) -> tuple[int, str, str]:
    """Run `workspace` with the data dir in the environment; return exit code, stdout, stderr."""
    result = CliRunner().invoke(workspace, args, env={"GOEDGESPREK_DATA_DIR": str(data_dir)})
    return result.exit_code, result.stdout, result.stderr


def token_of(line: str) -> str:
    """The token in one 'Authorization: Bearer <token>' line."""
    prefix = "Authorization: Bearer "
    assert line.startswith(prefix)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    return line[len(prefix) : -1]


def test_the_printed_header_verifies_for_that_url(tmp_path: Path) -> None:
    """One header line on stdout, signed by the data dir's key, for exactly that URL."""
    code, out, err = run(["sign-request", "--url", URL], tmp_path)
    assert (code, err) == (0, "")
    check = LocalSigner.open(tmp_path).verifier()
    claims = check.verify(f"Bearer {token_of(out)}", URL)
    assert claims.email == LOCAL_SERVICE_ACCOUNT
    with pytest.raises(Unauthorized, match="wrong audience"):
        check.verify(f"Bearer {token_of(out)}", "http://127.0.0.1:8765/addon/other")


def test_the_key_is_made_once_and_reused(tmp_path: Path) -> None:
    """Two runs sign with the same key, which the first run created."""
    run(["sign-request", "--url", URL], tmp_path)
    before = (tmp_path / KEY_FILE).read_bytes()
    code, out, _ = run(["sign-request", "--url", URL], tmp_path)
    assert code == 0
    assert (tmp_path / KEY_FILE).read_bytes() == before
    assert LocalSigner.open(tmp_path).verifier().verify(f"Bearer {token_of(out)}", URL)


def test_data_dir_option_wins_over_the_environment(tmp_path: Path) -> None:
    """--data-dir puts the key there, not in $GOEDGESPREK_DATA_DIR."""
    chosen = tmp_path / "chosen"
    code, _, _ = run(["sign-request", "--url", URL, "--data-dir", str(chosen)], tmp_path / "env")
    assert code == 0
    assert (chosen / KEY_FILE).is_file()
    assert not (tmp_path / "env").exists()


def test_email_option_is_the_tokens_email(tmp_path: Path) -> None:
    """--email lands in the token; a verifier for the default account refuses it."""
    other = "service-42@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
    code, out, _ = run(["sign-request", "--url", URL, "--email", other], tmp_path)
    assert code == 0
    signer = LocalSigner.open(tmp_path)
    claims = signer.verifier(service_account_email=other).verify(f"Bearer {token_of(out)}", URL)
    assert claims.email == other
    with pytest.raises(Unauthorized, match="wrong email"):
        signer.verifier().verify(f"Bearer {token_of(out)}", URL)


@pytest.mark.parametrize("url", ["/addon/homepage", "ftp://host/x", "http://", "homepage"])
def test_a_url_that_is_not_absolute_http_fails_on_one_line(tmp_path: Path, url: str) -> None:
    """A relative or non-http URL exits 2 with one line and creates no key."""
    code, out, err = run(["sign-request", "--url", url], tmp_path)
    assert (code, out) == (2, "")
    assert err == f"error: --url must be the endpoint's absolute http(s) URL, got {url!r}\n"
    assert not (tmp_path / KEY_FILE).exists()


def test_a_missing_url_fails_on_one_line(tmp_path: Path) -> None:
    """Without --url the usage error is one line, exit 2."""
    code, out, err = run(["sign-request"], tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith("error: Missing option '--url'")
    assert err.count("\n") == 1


def test_a_broken_key_file_fails_on_one_line_and_is_kept(tmp_path: Path) -> None:
    """A key file that is not a key: exit 1, one line naming it, the file untouched."""
    (tmp_path / KEY_FILE).write_bytes(b"garbage")
    code, out, err = run(["sign-request", "--url", URL], tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith("error: ")
    assert KEY_FILE in err
    assert err.count("\n") == 1
    assert (tmp_path / KEY_FILE).read_bytes() == b"garbage"


def test_a_data_dir_that_cannot_be_made_fails_on_one_line(tmp_path: Path) -> None:
    """A data dir below a plain file cannot hold a key: exit 1, one line that says what to pass."""
    (tmp_path / "file").write_text("x")
    blocked = tmp_path / "file" / "data"
    code, out, err = run(["sign-request", "--url", URL, "--data-dir", str(blocked)], tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: cannot create or read the signing key in {blocked}")
    assert "pass --data-dir with a writable directory" in err
    assert err.count("\n") == 1
