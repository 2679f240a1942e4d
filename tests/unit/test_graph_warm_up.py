"""warm_up pays the SDK's first-use costs ahead of the first user."""

from __future__ import annotations

import socket
import sys

import pytest

from connectors import _graph_sdk, _loop
from connectors.graph import warm_up


def test_warm_up_finds_the_sdk_imported_and_makes_the_loop() -> None:
    """With the connector imported every SDK module it uses is loaded; warm_up makes the loop."""
    spent = warm_up()
    assert spent >= 0
    assert all(name in sys.modules for name in _graph_sdk.MODULES)
    assert not _loop.loop().is_closed()
    assert warm_up() < 1.0


def test_warm_up_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """warm_up's throwaway session is answered in-process: it opens no connection at all."""
    opened: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        opened.append(address)
        raise OSError("no network in warm_up")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    assert warm_up() >= 0
    assert opened == []
