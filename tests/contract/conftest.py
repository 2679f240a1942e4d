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
