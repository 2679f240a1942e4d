"""Tests for `goedgesprek emulate`: argument errors through CliRunner, serving as a real process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from emulate_command import EmulateCommand, parse_user_line

from addin.cli import cli


def run(args: list[str], **env: str | None) -> tuple[int, str, str]:
    """Run `goedgesprek emulate ARGS` in-process; return exit code, stdout and stderr."""
    environ: dict[str, str | None] = {"GOEDGESPREK_EMULATE_HOST": None, **env}
    result = CliRunner().invoke(cli, ["emulate", *args], env=environ)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["graph"], "Missing option '--port'"),
        (
            ["outlook", "--port", "0"],
            "'outlook' is not one of 'graph', 'google', 'entra', 'google-oauth'",
        ),
        (["graph", "--port", "70000"], "--port"),
        (["graph", "--port", "0", "--rate", "100"], "'100' is not N/SECONDS"),
        (["graph", "--port", "0", "--rate", "0/60"], "'0/60' is not N/SECONDS"),
        (["graph", "--port", "0", "--rate", "10/soon"], "'10/soon' is not N/SECONDS"),
        (["graph", "--port", "0", "--concurrency", "0"], "--concurrency"),
        (["graph", "--port", "0", "--latency-ms", "-5"], "--latency-ms"),
        (["graph", "--port", "0", "--user", "ada"], "'ada' is not an email address"),
    ],
)
def test_argument_errors_are_one_line_with_exit_code_2(args: list[str], says: str) -> None:
    """Each bad argument is named on one line of stderr, exit code 2, nothing on stdout."""
    code, out, err = run(args)
    assert (code, out) == (2, "")
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert says in err


def test_a_bad_fault_file_is_refused_with_its_place(tmp_path: Path) -> None:
    """A fault file with a wrong type names the file and the field."""
    bad = tmp_path / "faults.json"
    bad.write_text(
        '{"errors": [{"request": {"url": "/*"}, "responses": [{"statusCode": "503"}]}]}',
        encoding="utf-8",
    )
    code, _, err = run(["google", "--port", "0", "--faults", str(bad)])
    assert code == 2
    assert f"{bad}: $.errors[0].responses[0].statusCode: '503' is not of type 'integer'" in err


def test_a_missing_fault_file_is_refused(tmp_path: Path) -> None:
    """A fault file that does not exist is a usage error that names it."""
    code, _, err = run(["graph", "--port", "0", "--faults", str(tmp_path / "none.json")])
    assert code == 2
    assert "none.json: cannot read fault file" in err


def test_a_non_loopback_host_from_the_environment_is_refused() -> None:
    """Only --host on the command line may serve beyond this machine, not the environment."""
    code, out, err = run(["graph", "--port", "0"], GOEDGESPREK_EMULATE_HOST="0.0.0.0")
    assert (code, out) == (2, "")
    assert "0.0.0.0 (from $GOEDGESPREK_EMULATE_HOST) is not a loopback address" in err


@pytest.mark.parametrize("extra", [[], ["--faults", "faults.json"]])
def test_without_the_emulators_the_command_says_where_they_are(
    monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    """An install without the emulators is told, on one line, what to install."""
    monkeypatch.setitem(sys.modules, "emulators", None)  # `import emulators` fails as if absent
    code, out, err = run(["graph", "--port", "0", *extra])
    assert (code, out) == (2, "")
    assert "pip install ./emulators" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("provider", ["graph", "google"])
def test_a_provider_demo_without_the_emulators_says_where_they_are(
    monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    """`demo --provider` needs the emulators too: one line saying what to install, exit 2."""
    monkeypatch.setitem(sys.modules, "emulators", None)
    result = CliRunner().invoke(cli, ["demo", "--provider", provider, "--port", "1"])
    assert result.exit_code == 2
    assert "pip install ./emulators" in result.stderr
    assert result.stderr.count("\n") == 1


def test_help_names_every_option() -> None:
    """The help text lists the options issue 4 asks for."""
    code, out, _ = run(["--help"])
    assert code == 0
    for option in ("--port", "--host", "--latency-ms", "--faults", "--rate", "--concurrency"):
        assert option in out


@pytest.mark.parametrize(
    ("provider", "root", "events", "unauthenticated"),
    [
        ("graph", "/v1.0", "/me/events", "InvalidAuthenticationToken"),
        ("google", "/", "calendar/v3/calendars/primary/events", 401),
    ],
)
def test_emulate_serves_until_interrupted(
    provider: str, root: str, events: str, unauthenticated: object, tmp_path: Path
) -> None:
    """The real command prints a token and base URL; the token works, none is 401; Ctrl-C stops."""
    tokens = tmp_path / "tokens.json"
    args = ["--port", "0", "--user", "ada@example.com", "--latency-ms", "5"]
    served = EmulateCommand([provider, *args, "--tokens-file", str(tokens)])
    try:
        assert served.line().startswith(f"{provider} emulator on http://127.0.0.1:")
        user = parse_user_line(served.line())
        assert user["user"] == "ada@example.com"
        assert user["url"].startswith("http://127.0.0.1:")
        assert user["url"].endswith(root)
        assert json.loads(tokens.read_text()) == {"ada@example.com": user["token"]}
        bearer = {"Authorization": f"Bearer {user['token']}"}
        listed = httpx.get(user["url"] + events, headers=bearer, timeout=10)
        assert listed.status_code == 200
        assert listed.json().get("value", listed.json().get("items")) == []
        anonymous = httpx.get(user["url"] + events, timeout=10)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == unauthenticated
    finally:
        code, rest, err = served.stop()
    assert (code, err) == (0, "")
    assert rest == ["stopped after 2 requests, 0 throttled, faults: none"]
