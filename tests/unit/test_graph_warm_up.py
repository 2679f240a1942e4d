"""warm_up pays the SDK's first-use costs ahead of the first user."""

from __future__ import annotations

import sys

from connectors import _graph_sdk, _loop
from connectors.graph import warm_up


def test_warm_up_imports_the_sdk_and_starts_the_loop() -> None:
    """After warm_up every SDK module the connectors use is loaded and the loop is running."""
    spent = warm_up()
    assert spent >= 0
    assert all(name in sys.modules for name in _graph_sdk.MODULES)
    assert _loop.loop().is_running()
    assert warm_up() < 1.0
