"""The geometry of the pane's check-in trend chart (tests/js/pane_journal_trend.mjs in Node)."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "addin" / "pane" / "static"

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    # Not the server store: the PostgreSQL pass leaves it out.
    pytest.mark.store_neutral,
]


@pytest.fixture(scope="module")
def geometry() -> dict[str, Any]:
    """The chart's box and the geometry of each case, as the pane computes them."""
    done = subprocess.run(
        [
            "node",
            "--no-warnings",
            str(ROOT / "tests" / "js" / "pane_journal_trend.mjs"),
            STATIC.as_uri() + "/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_points_spread_from_the_left_edge_to_the_right_edge(geometry: dict[str, Any]) -> None:
    """Three check-ins: the first at the left of the plot, the last at its right, evenly spaced."""
    chart = geometry["chart"]
    xs = [p["x"] for p in geometry["cases"]["three"]["energy"]["points"]]
    right = chart["width"] - chart["right"]
    assert xs == [chart["left"], (chart["left"] + right) / 2, right]
    assert xs == [p["x"] for p in geometry["cases"]["three"]["happiness"]["points"]]


def test_five_is_at_the_top_and_one_at_the_bottom(geometry: dict[str, Any]) -> None:
    """The scale runs from 1 at the plot's bottom to 5 at its top, in even steps."""
    chart = geometry["chart"]
    bottom = chart["height"] - chart["bottom"]
    energy = geometry["cases"]["three"]["energy"]["points"]
    assert [p["y"] for p in energy] == [bottom, chart["top"], (chart["top"] + bottom) / 2]
    grid = geometry["cases"]["three"]["grid"]
    assert [row["value"] for row in grid] == [1, 2, 3, 4, 5]
    assert grid[0]["y"] == bottom and grid[-1]["y"] == chart["top"]
    steps = {round(a["y"] - b["y"], 1) for a, b in itertools.pairwise(grid)}
    assert len(steps) == 1


def test_the_path_visits_every_point_in_order(geometry: dict[str, Any]) -> None:
    """The SVG path moves to the first point and draws a line to each next one."""
    line = geometry["cases"]["three"]["happiness"]
    expected = " ".join(
        f"{'L' if i else 'M'}{_num(p['x'])} {_num(p['y'])}" for i, p in enumerate(line["points"])
    )
    assert line["path"] == expected
    assert [p["value"] for p in line["points"]] == [5, 4, 1]
    assert line["points"][0]["at"].startswith("2026-03-01")


def test_one_check_in_sits_in_the_middle_and_none_draws_nothing(
    geometry: dict[str, Any],
) -> None:
    """A single check-in is one point in the middle; no check-in gives empty paths."""
    chart = geometry["chart"]
    one = geometry["cases"]["one"]["energy"]["points"]
    assert one[0]["x"] == (chart["left"] + chart["width"] - chart["right"]) / 2
    assert geometry["cases"]["one"]["energy"]["path"].startswith("M")
    assert "L" not in geometry["cases"]["one"]["energy"]["path"]
    empty = geometry["cases"]["empty"]
    assert (empty["energy"]["path"], empty["happiness"]["points"]) == ("", [])


def test_values_outside_the_scale_stay_inside_the_plot(geometry: dict[str, Any]) -> None:
    """0 and a non-number are drawn at 1, 9 at 5: the lines never leave the plot."""
    chart = geometry["chart"]
    bottom = chart["height"] - chart["bottom"]
    case = geometry["cases"]["outOfRange"]
    assert [p["y"] for p in case["energy"]["points"]] == [bottom, bottom]
    assert case["happiness"]["points"][0]["y"] == chart["top"]


def test_another_box_scales_the_same_way(geometry: dict[str, Any]) -> None:
    """The geometry follows the box it is given (100 x 60 with its own margins)."""
    small = geometry["small"]
    assert [p["x"] for p in small["energy"]["points"]] == [10, 50, 90]
    assert [p["y"] for p in small["energy"]["points"]] == [45, 5, 25]


def _num(value: float) -> str:
    """A number as JavaScript prints it (no ".0" for a whole number)."""
    return str(int(value)) if float(value).is_integer() else str(value)
