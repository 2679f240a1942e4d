"""The committed example manifests are what `goedgesprek manifest` makes for their base URL.

When a change to the manifests is meant, refresh the examples and commit them with the change:

    goedgesprek manifest --base-url https://goedgesprek.example.org \\
        --entra-client-id 0f6cbd00-1234-4abc-8def-0123456789ab --out manifest/examples
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from addin.cli import cli
from manifest.build import OUTLOOK_FILE, WORKSPACE_FILE

# Hosts and providers, not the server store: the PostgreSQL pass leaves these out.
pytestmark = pytest.mark.store_neutral

EXAMPLES = Path(__file__).resolve().parents[2] / "manifest" / "examples"
BASE_URL = "https://goedgesprek.example.org"
CLIENT_ID = "0f6cbd00-1234-4abc-8def-0123456789ab"
"""An example Entra client id, so the example shows WebApplicationInfo."""
ARGS = ["--base-url", BASE_URL, "--entra-client-id", CLIENT_ID]
REFRESH = f"goedgesprek manifest {' '.join(ARGS)} --out manifest/examples"


def test_the_examples_are_exactly_the_two_manifests() -> None:
    """manifest/examples holds the Outlook manifest and the Google deployment, nothing else."""
    assert sorted(p.name for p in EXAMPLES.iterdir()) == sorted([OUTLOOK_FILE, WORKSPACE_FILE])


@pytest.mark.parametrize("name", [OUTLOOK_FILE, WORKSPACE_FILE])
def test_regenerating_gives_the_committed_bytes(tmp_path: Path, name: str) -> None:
    """The command, run for the example base URL, writes each example byte for byte."""
    result = CliRunner().invoke(cli, ["manifest", *ARGS, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    made = (tmp_path / name).read_bytes()
    assert made == (EXAMPLES / name).read_bytes(), (
        f"manifest/examples/{name} differs from what the builder makes now; if the change is "
        f"meant, refresh the examples with `{REFRESH}` and commit them"
    )
