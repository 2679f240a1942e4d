"""Tests for `goedgesprek workspace sign-request`, through click's CliRunner."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
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


# -- the documented example ----------------------------------------------------------------------


def documented_example() -> list[str]:
    """The shell lines `sign-request --help` shows after "Try an endpoint ... with:", joined."""
    _, out, _ = run(["sign-request", "--help"], Path("."))
    text = re.split(r"Try\s+an\s+endpoint[^:]*with:", out, maxsplit=1)[1].split("\n\n")[1]
    script = text.replace("\\\n", " ")
    return [" ".join(line.split()) for line in script.splitlines() if line.strip()]


def _substituted(word: str, data_dir: Path) -> str:
    """`word` with each ``$(goedgesprek workspace ...)`` replaced by what the command prints."""
    pattern = re.compile(r"\$\(goedgesprek workspace ([^)]*)\)")

    def output(match: re.Match[str]) -> str:
        code, out, err = run(shlex.split(match.group(1)), data_dir)
        assert (code, err) == (0, "")
        return out.rstrip("\n")

    return pattern.sub(output, word)


def test_the_documented_curl_example_gets_the_homepage_card(tmp_path: Path) -> None:
    """The --help example, run word by word against the demo app, answers 200 with a card."""
    from addin.demo import create_demo_app

    app = create_demo_app({"TESTING": True, "DATA_DIR": str(tmp_path)})
    *assign, command = documented_example()
    url = "http://localhost/workspace/homepage"
    name, documented_url = assign[0].split("=", 1) if assign else ("URL", "URL")
    assert documented_url in {"http://127.0.0.1:8765/workspace/homepage", "URL"}
    words = [url if w in {"URL", f"${name}"} else w for w in shlex.split(command)]
    words = [
        w.replace(f"--url ${name}", f"--url {url}").replace("--url URL", f"--url {url}")
        for w in words
    ]
    assert words[0] == "curl"
    headers: dict[str, str] = {}
    data = None
    rest = iter(words[1:])
    target = None
    for word in rest:
        if word == "-H":
            key, value = _substituted(next(rest), tmp_path).split(": ", 1)
            headers[key] = value
        elif word == "-d":
            data = _substituted(next(rest), tmp_path)
        else:
            target = word
    assert target == url
    assert data is not None
    response = app.test_client().post("/workspace/homepage", data=data, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    card = response.get_json()["action"]["navigations"][0]["pushCard"]
    assert card["name"] == "home"


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("bash")), reason="needs curl, bash")
def test_the_documented_curl_example_works_in_a_shell_against_a_served_demo(
    tmp_path: Path,
) -> None:
    """The example as printed, in bash with curl, against the demo served on a free port."""
    from werkzeug.serving import make_server

    from addin.demo import create_demo_app

    app = create_demo_app({"DATA_DIR": str(tmp_path)})
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        lines = documented_example()
        served = lines[0].replace("127.0.0.1:8765", f"127.0.0.1:{server.server_port}")
        script = "\n".join([served, *lines[1:]])
        bin_dir = str(Path(sys.executable).parent)
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "GOEDGESPREK_DATA_DIR": str(tmp_path),
        }
        result = subprocess.run(
            ["bash", "-c", script + " -s -w '\\n%{http_code}'"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
        thread.join()
    assert result.returncode == 0, result.stderr
    body, status = result.stdout.rsplit("\n", 1)
    assert status == "200", body
    assert json.loads(body)["action"]["navigations"][0]["pushCard"]["name"] == "home"
