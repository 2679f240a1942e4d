"""The pane's own sentences about the Office host come in the user's language."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from addin import i18n

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "addin" / "pane" / "static"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nl", ["Er is geen afspraak geopend.", "Office kon dit niet doen."]),
        ("en", ["No appointment is open.", "Office could not do this."]),
    ],
)
def test_the_host_errors_are_said_in_the_users_language(
    lang: str, expected: list[str], tmp_path: Path
) -> None:
    """No appointment open, or an Office failure without a message: said in nl or en."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    catalog = tmp_path / "pane.json"
    catalog.write_text(json.dumps(i18n.catalog_json(lang, "pane")), "utf-8")
    done = subprocess.run(
        [
            "node",
            "--no-warnings",
            str(ROOT / "tests" / "js" / "pane_host.mjs"),
            STATIC.as_uri() + "/",
            str(catalog),
            lang,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == expected


def test_the_pane_sends_the_series_and_start_it_knows_with_a_first_open() -> None:
    """An occurrence opened in Outlook: its REST id, its master's REST id and its start."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [
            "node",
            "--no-warnings",
            str(ROOT / "tests" / "js" / "pane_context.mjs"),
            STATIC.as_uri() + "/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    hinted, plain = json.loads(done.stdout)
    assert hinted == (
        "/api/context?event=rest%3Aews-occurrence&series=rest%3Aews-master"
        "&start=2027-03-02T08%3A30%3A00.000Z&lang=nl"
    )
    assert plain == "/api/context?event=rest%3Aews-occurrence&lang=nl"
