"""A Graph connector session whose requests are answered in-process (httpx's MockTransport)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from connectors._retry import NO_RETRY
from connectors.graph import StaticToken, _Session


def mock_session(
    answer: Callable[[httpx.Request], httpx.Response], base_url: str, token: str = "t"
) -> _Session:
    """A session on `base_url` whose every request `answer` answers; close it after use."""
    return _Session(
        StaticToken(token),
        base_url=base_url,
        scopes=("https://graph.microsoft.com/.default",),
        retry=NO_RETRY,
        timeout=5.0,
        transport=httpx.MockTransport(answer),
    )
