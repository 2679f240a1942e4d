"""Fixtures every contract backend may use: a clock that moves only when a test moves it."""

from __future__ import annotations

import pytest

from connectors.testing import ManualClock

# The suite lives in a plain module the backends import: rewrite its asserts for clear failures.
pytest.register_assert_rewrite("contract")


@pytest.fixture
def clock() -> ManualClock:
    """A fresh manual clock at the default start."""
    return ManualClock()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the live suite out unless asked for with ``-m live`` (then it skips without keys)."""
    if "live" in (config.option.markexpr or ""):
        return
    live = [item for item in items if item.get_closest_marker("live")]
    if live:
        config.hook.pytest_deselected(items=live)
        items[:] = [item for item in items if not item.get_closest_marker("live")]
