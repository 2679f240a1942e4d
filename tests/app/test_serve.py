"""`goedgesprek serve`: the product under gunicorn, never the demo, refusing unsafe settings."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from addin.cli import cli
from addin.cli.serve import ProxyHops, check_public_url, product_app, proxy_hops
from addin.settings import gc_freeze
from connectors.keyring import Keyring

ROOT = Path(__file__).resolve().parents[2]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        into.put(raw.decode(errors="replace"))


def test_serve_runs_the_product_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """Two workers answer a product page, the demo's pages are absent, SIGTERM exits 0."""
    Keyring.init(tmp_path / "keyring.json")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GOEDGESPREK_DATA_DIR": str(tmp_path),
        "GOEDGESPREK_PUBLIC_URL": "",
    }
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "addin.cli", "serve", "--insecure-local"),
            *("--bind", "127.0.0.1:0", "--workers", "2", "--timeout", "30"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stderr, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        port = None
        booted = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (port is None or booted < 2):
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if proc.poll() is not None:
                    break
                continue
            seen.append(line)
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            port = int(found[1]) if found else port
            booted += "Booting worker" in line
        assert port is not None and booted == 2, "".join(seen)
        base = f"http://127.0.0.1:{port}"
        ok = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not ok:
            try:
                ok = _status(f"{base}/support") == 200
            except OSError:
                time.sleep(0.2)
        assert ok, "".join(seen)
        assert _status(f"{base}/privacy") == 200
        for demo in ("/demo/pane", "/demo/cards", "/demo/token"):
            assert _status(base + demo) == 404, demo
        # One worker holds the data directory's worker lock: it consumes the embedded queue.
        from addin.background.queue import WorkerLock
        from tests.waiting import wait_for

        probe = WorkerLock(tmp_path)

        def held_by_the_server() -> bool:
            if probe.acquire():
                probe.release()
                return False
            return True

        assert wait_for(held_by_the_server, 30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        reader.join(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()
    while not lines.empty():
        seen.append(lines.get())
    log = "".join(seen)
    assert probe.acquire(), "the worker lock outlived the server"
    probe.release()
    assert "server database at revision" in log
    assert "Traceback" not in log
    assert "Shutting down" in log


@pytest.mark.parametrize(
    ("public_url", "args", "says"),
    [
        (None, [], "GOEDGESPREK_PUBLIC_URL"),
        ("http://goedgesprek.example.org", [], "https origin"),
        ("https://goedgesprek.example.org/app", [], "without a path"),
        ("ftp://x", [], "https origin"),
        (None, ["--insecure-local", "--bind", "0.0.0.0:8000"], "loopback"),
        (None, ["--insecure-local", "--bind", "goedgesprek.example.org:80"], "loopback"),
    ],
)
def test_serve_refuses_to_start_without_a_safe_public_url(
    tmp_path: Path, public_url: str | None, args: list[str], says: str
) -> None:
    """No https origin (or an insecure trial on a public address) stops serve before it binds."""
    env = {"GOEDGESPREK_DATA_DIR": str(tmp_path), "GOEDGESPREK_PUBLIC_URL": public_url or ""}
    result = CliRunner().invoke(cli, ["serve", *args], env=env)
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert result.output.startswith("error: ")
    assert not (tmp_path / "server.sqlite3").exists()


def test_serve_refuses_proxy_hops_it_cannot_read(tmp_path: Path) -> None:
    """A malformed PROXY_FIX is named, with the form it should take."""
    env = {
        "GOEDGESPREK_DATA_DIR": str(tmp_path),
        "GOEDGESPREK_PUBLIC_URL": "https://goedgesprek.example.org",
        "GOEDGESPREK_PROXY_FIX": "1,1",
    }
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2
    assert "x_for,x_proto,x_host" in result.output


def test_public_url_checks_accept_an_https_origin_and_a_loopback_trial() -> None:
    """An https origin serves anywhere; a trial without one serves on loopback only."""
    check_public_url("https://goedgesprek.example.org", insecure_local=False, bind="0.0.0.0:80")
    check_public_url("https://goedgesprek.example.org/", insecure_local=False, bind="[::]:80")
    check_public_url(None, insecure_local=True, bind="127.0.0.1:8000")
    check_public_url("http://localhost:8000", insecure_local=True, bind="[::1]:8000")
    check_public_url(None, insecure_local=True, bind="localhost:8000")


@pytest.mark.parametrize(
    ("value", "hops"),
    [
        (None, ProxyHops()),
        ("", ProxyHops()),
        ("0", ProxyHops()),
        ("1", ProxyHops(1, 1, 1)),
        ("true", ProxyHops(1, 1, 1)),
        ("2,1,1", ProxyHops(2, 1, 1)),
        (" 1, 0, 1 ", ProxyHops(1, 0, 1)),
    ],
)
def test_proxy_fix_hop_counts(value: str | None, hops: ProxyHops) -> None:
    """PROXY_FIX is a count for all three headers or x_for,x_proto,x_host counts."""
    assert proxy_hops(value) == hops


@pytest.mark.parametrize("value", ["1,1", "a,b,c", "-1", "1,1,1,1", "99"])
def test_proxy_fix_nonsense_is_refused(value: str) -> None:
    """Anything else is an error, not a guess."""
    with pytest.raises(ValueError, match="PROXY_FIX"):
        proxy_hops(value)


def test_the_served_app_trusts_exactly_the_configured_hops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind two proxies, the client address is the one the outer proxy saw; the scheme and
    host come from the proxy next to us; an address a client forged in front is ignored."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from addin.app import close_app

    Keyring.init(tmp_path / "keyring.json")
    monkeypatch.setenv("GOEDGESPREK_DATA_DIR", str(tmp_path))
    app = product_app(ProxyHops(2, 1, 1))
    try:
        fix = app.wsgi_app
        assert isinstance(fix, ProxyFix)
        assert (fix.x_for, fix.x_proto, fix.x_host, fix.x_port, fix.x_prefix) == (2, 1, 1, 0, 0)
        assert not isinstance(fix.app, ProxyFix)  # create_app's own one-hop fix stays off
        seen: dict[str, str] = {}

        @app.get("/_test/where")
        def where() -> str:
            from flask import request

            seen.update(addr=str(request.remote_addr), url=request.url)
            return "ok"

        app.test_client().get(
            "/_test/where",
            headers={
                "X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.0.0.2",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "goedgesprek.example.org",
            },
        )
        assert seen == {"addr": "203.0.113.7", "url": "https://goedgesprek.example.org/_test/where"}
    finally:
        close_app(app)


@pytest.mark.parametrize(
    ("config", "frozen"),
    [
        ({}, True),
        ({"TESTING": True}, False),
        ({"TESTING": True, "GC_FREEZE": "yes"}, True),
        ({"GC_FREEZE": "off"}, False),
        ({"GC_FREEZE": False}, False),
        ({"GC_FREEZE": 1}, True),
    ],
)
def test_gc_freeze_is_read_once_for_the_app_and_the_graph_warm_up(
    config: dict[str, object], frozen: bool
) -> None:
    """On for a served app, off when testing; yes/no words and JSON booleans both read."""
    assert gc_freeze(config) is frozen


def test_a_gc_freeze_that_is_neither_yes_nor_no_is_refused_with_a_sentence() -> None:
    """A typo is not taken for yes (a non-empty string would be)."""
    with pytest.raises(ValueError, match="GC_FREEZE must be true or false"):
        gc_freeze({"GC_FREEZE": "maybe"})
