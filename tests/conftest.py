"""Shared fixtures: headless Chromium for every suite, and the server store on SQLite and on
PostgreSQL.

- ``GOEDGESPREK_TEST_POSTGRES_URL``: a PostgreSQL server the store tests use for their
  ``postgresql`` runs (`make test` starts one with scripts/pg-test-server.sh). Unset, the first
  test that needs PostgreSQL starts its own cluster under test-output/ when PostgreSQL is installed,
  and skips when it is not. Set but unreachable, those tests fail: they never skip.
- ``GOEDGESPREK_TEST_DATABASE_URL``: run the app suites (tests/app) on this PostgreSQL server:
  every test gets a schema of its own through ``GOEDGESPREK_DATABASE_URL``.

Each test gets a fresh schema (``search_path`` in the URL), dropped after it: cheaper than a
database per test and just as separate.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
PG_SCRIPT = ROOT / "scripts" / "pg-test-server.sh"
# These check the SQLite file in the data directory itself (its mode, its write-ahead log).
SQLITE_ONLY_MODULES = {"test_private_files.py", "test_demo.py"}


def _postgres_installed() -> bool:
    return bool(shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb")))


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The URL of a PostgreSQL server's database the tests may make schemas in."""
    given = os.environ.get("GOEDGESPREK_TEST_POSTGRES_URL") or os.environ.get(
        "GOEDGESPREK_TEST_DATABASE_URL"
    )
    if given:
        _check_reachable(given)
        yield given
        return
    if not _postgres_installed():
        pytest.skip("PostgreSQL is not installed (make system-deps installs it)")
    folder = ROOT / "test-output" / f"pg-{os.getpid()}"
    started = subprocess.run(
        [str(PG_SCRIPT), "start", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if started.returncode != 0:
        pytest.fail(f"PostgreSQL did not start: {started.stderr.strip()}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(PG_SCRIPT), "stop", str(folder)], timeout=120, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _check_reachable(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(f"the test PostgreSQL at {make_url(url)!r} cannot be reached: {exc}")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _postgres_admin(postgres_server_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _fresh_schema(admin: Engine, server_url: str) -> Iterator[str]:
    schema = f"t_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def postgres_url(postgres_server_url: str, _postgres_admin: Engine) -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a schema of this test's own."""
    yield from _fresh_schema(_postgres_admin, postgres_server_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The server store's URL, once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(autouse=True)
def _app_suite_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``GOEDGESPREK_TEST_DATABASE_URL``, the app suites keep their registry on PostgreSQL."""
    if not os.environ.get("GOEDGESPREK_TEST_DATABASE_URL"):
        return
    path = Path(str(request.node.path))
    if path.parent.name != "app" or path.name in SQLITE_ONLY_MODULES:
        return
    url: str = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("GOEDGESPREK_DATABASE_URL", url)


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A Redis server of this test run's own on a free loopback port (`make test` installs
    Debian's redis-server); database 15 of it is flushed before each test that uses it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make system-deps installs it)")
    import socket
    import time

    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = ROOT / "test-output" / f"redis-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/15"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The test Redis, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_server_url)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server_url


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's), one for the whole session: Playwright's sync API runs
    one instance per thread, so every suite that drives a browser shares this one."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield browser
        finally:
            browser.close()
