"""The container files: compose.yaml parses and wires the app to PostgreSQL, the Dockerfile
builds from files that exist and installs only what the locks hold. (No container engine runs
in the suite: these hold the files to what the project has.)"""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import yaml

from addin.signin import GRAPH_PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
# Settings the product reads (GOEDGESPREK_<name>); compose may pass only these.
SETTINGS = {
    "PUBLIC_URL",
    "PROXY_FIX",
    "DATABASE_URL",
    "DATA_DIR",
    "BACKEND",
    "DIRECTORY",
    "ENTRA_CLIENT_ID",
    "ENTRA_CLIENT_SECRET",
    "ENTRA_TENANTS",
    "ENTRA_AUTHORITY",
    "ENTRA_APP_ID_URI",
    "GOOGLE_OAUTH_CLIENT_ID",
    "GOOGLE_OAUTH_CLIENT_SECRET",
    "WORKSPACE_SERVICE_ACCOUNT",
    "WORKSPACE_AUDIENCE",
    "KEYRING",
    "KEYRING_B64",
    "REDIS_URL",
    "SWEEP_MINUTES",
}


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_every_file_the_dockerfile_copies_exists_and_is_not_ignored() -> None:
    """Each COPY source is in the repository and not excluded by .dockerignore."""
    ignored = [
        p.strip()
        for p in (ROOT / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    sources = []
    for word, rest in _instructions():
        if word == "COPY" and not rest.startswith("--from"):
            sources += shlex.split(rest)[:-1]
    assert "requirements/runtime.lock" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source, p) or source == p for p in ignored), source
    assert {"cadence", "connectors", "addin", "templates", "manifest"} <= set(sources)


def test_the_image_runs_the_product_as_a_user_from_the_locks() -> None:
    """python:3.11-slim, hash-checked installs only, a non-root user, `goedgesprek serve`."""
    steps = _instructions()
    assert next(rest for word, rest in steps if word == "FROM").startswith("python:3.11-slim")
    installs = [rest for word, rest in steps if word == "RUN" and "pip install" in rest]
    assert any("--require-hashes" in r and "${PROVIDER_LOCK}.lock" in r for r in installs)
    choice = next(r for w, r in steps if w == "ARG" and r.startswith("PROVIDER_LOCK="))
    assert (ROOT / "requirements" / f"{choice.split('=')[1]}.lock").is_file()
    for lock in ("runtime", "graph"):
        # Either choice installs the server and its migrations.
        text = (ROOT / "requirements" / f"{lock}.lock").read_text().lower()
        assert "\ngunicorn==" in text and "\nalembic==" in text and "\nsqlalchemy==" in text
    for run in installs:
        assert "--require-hashes" in run or "--no-deps" in run, run
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    cmd = [rest for word, rest in steps if word == "CMD"][-1]
    assert '"goedgesprek", "serve"' in cmd
    assert "demo" not in cmd


def test_the_postgres_driver_lines_come_from_the_lock_with_their_hashes(tmp_path: Path) -> None:
    """The Dockerfile's awk step, run on the lock, yields psycopg and psycopg-binary, hashed."""
    step = next(r for w, r in _instructions() if w == "RUN" and r.startswith("awk"))
    program = shlex.split(step)[1]
    out = subprocess.run(
        ["awk", program, str(ROOT / "requirements" / "test.lock")],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    names = re.findall(r"^([A-Za-z0-9_.-]+)==", out, flags=re.M)
    assert names == ["psycopg", "psycopg-binary"]
    assert out.count("--hash=sha256:") >= 2
    lock = (ROOT / "requirements" / "runtime.lock").read_text()
    assert "\nalembic==" in lock and "\ngunicorn==" in lock and "\nsqlalchemy==" in lock.lower()


def test_compose_runs_the_app_on_postgresql_with_a_data_volume() -> None:
    """The app and its worker, PostgreSQL 16 and Redis healthy before them, the data dir on a
    volume both share (the keyring opens the records the worker reads)."""
    services = COMPOSE["services"]
    assert set(services) == {"app", "worker", "db", "redis"}
    worker = services["worker"]
    assert worker["command"] == ["goedgesprek", "worker"]
    assert worker["healthcheck"]["test"] == ["CMD", "goedgesprek", "worker", "--health"]
    for name in ("app", "worker"):
        env = services[name]["environment"]
        assert env["GOEDGESPREK_REDIS_URL"] == "redis://redis:6379/0", name
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name
        for key in env:
            assert key.removeprefix("GOEDGESPREK_") in SETTINGS, key
    assert services["worker"]["volumes"] == services["app"]["volumes"]
    app, db = services["app"], services["db"]
    assert db["image"] == "postgres:16"
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    env = app["environment"]
    assert env["GOEDGESPREK_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["GOEDGESPREK_DATABASE_URL"].endswith("@db:5432/goedgesprek")
    data_dir = env["GOEDGESPREK_DATA_DIR"]
    assert f"GOEDGESPREK_DATA_DIR={data_dir}" in DOCKERFILE
    assert any(v.endswith(f":{data_dir}") for v in app["volumes"])
    assert set(COMPOSE["volumes"]) >= {v.split(":")[0] for v in app["volumes"]}
    for name in env:
        assert name.startswith("GOEDGESPREK_"), name
        assert name.removeprefix("GOEDGESPREK_") in SETTINGS, name
    # Only the proxy on the host reaches the app; PUBLIC_URL must be given.
    assert all(p.startswith("127.0.0.1:") for p in app["ports"])
    assert ":?" in env["GOEDGESPREK_PUBLIC_URL"]
    assert ":?" in env["GOEDGESPREK_BACKEND"]
    assert app["env_file"] == ".env"


def test_the_migrations_ship_in_the_package() -> None:
    """pyproject's package data takes every migration file along into the wheel."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["addin"]
    files = [
        p.relative_to(ROOT / "addin").as_posix()
        for p in (ROOT / "addin" / "store" / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, g) and name.count("/") == g.count("/") for g in globs), (
            name
        )


def test_the_readme_deploy_section_names_every_setting_and_permission() -> None:
    """The deploy guide stays complete: each setting an organisation sets, each Graph permission
    with its reason, the SPA redirect, the API scope, the commands."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Deploy to your tenant") :]
    section = section[: section.index("\n## ")] if "\n## " in section else section
    for name in SETTINGS - {"KEYRING"}:
        assert f"GOEDGESPREK_{name}" in section, name
    # Every permission the server asks for has its row, with why.
    for permission in (*GRAPH_PERMISSIONS, "offline_access"):
        row = next(line for line in section.splitlines() if f"| `{permission}`" in line)
        assert row.count("|") == 3 and len(row.split("|")[2].strip()) > 20, permission
    for phrase in (
        "brk-multihub://goedgesprek.example.org",
        "access_as_user",
        "admin consent",
        "goedgesprek manifest",
        "goedgesprek serve",
        "goedgesprek keys init",
        "goedgesprek db current",
        "/workspace/oauth/callback",
        "/healthz",
    ):
        assert phrase in section, phrase
