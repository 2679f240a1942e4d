"""msgraph-core imports `deprecated` without declaring it: our graph extra declares it."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_msgraph_core_imports_deprecated_it_does_not_declare() -> None:
    """The defect itself: msgraph-core's source imports `deprecated`, its metadata lacks it.

    When a msgraph-core release declares it, this test fails: then our workaround can go.
    """
    spec = importlib.util.find_spec("msgraph_core")
    assert spec is not None and spec.submodule_search_locations
    source = Path(next(iter(spec.submodule_search_locations)))
    importers = [
        p.name
        for p in source.rglob("*.py")
        if re.search(r"^from deprecated import|^import deprecated", p.read_text(), re.M)
    ]
    assert importers, "msgraph-core no longer imports deprecated"
    declared = _names(importlib.metadata.requires("msgraph-core") or [])
    assert "deprecated" not in declared


def test_our_graph_extra_declares_deprecated() -> None:
    """pyproject's graph extra lists `deprecated`, so installing it gives a working SDK."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "deprecated" in _names(project["optional-dependencies"]["graph"])
    assert importlib.metadata.version("deprecated")
