"""The server's splice passes the same vectors as the pane's splice.js."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from addin.splice import Markers, splice

CASES = json.loads((Path(__file__).parents[1] / "data" / "splice_cases.json").read_text())


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_splice_vectors(case: dict[str, Any]) -> None:
    markers = Markers(**CASES["markers"])
    assert splice(case["body"], case["html"], markers) == case["expected"]


def test_splicing_twice_replaces_the_first_copy() -> None:
    once = splice("<p>Mijn tekst</p>", "<div>een</div>")
    twice = splice(once, "<div>twee</div>")
    assert (
        twice
        == "<p>Mijn tekst</p><p>[Goed Gesprek: agenda]</p><div>twee</div><p>[/Goed Gesprek]</p>"
    )
