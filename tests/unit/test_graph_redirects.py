"""Only a file's ``/content`` goes through the SDK's redirect handler; nothing else redirects.

Graph answers ``GET .../content`` with 302 to a pre-authenticated download URL on another host:
the handler follows it without the bearer token. Every other Graph call answers in place, so
it skips the SDK's middleware pipeline (its tracing spans cost about 0.5 ms a request).
"""

from __future__ import annotations

import httpx
import pytest
from kiota_abstractions.method import Method

from connectors import _loop
from connectors.errors import Unavailable
from connectors.graph import _Session
from tests.graph_mock import mock_session

BASE = "https://graph.microsoft.com/v1.0"
DOWNLOAD = "https://download.example.net/file?sig=x"


def _session(seen: list[httpx.Request]) -> _Session:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "download.example.net":
            return httpx.Response(200, content=b"bytes")
        return httpx.Response(302, headers={"Location": DOWNLOAD})

    return mock_session(answer, BASE, token="secret-token")


def test_a_content_download_follows_the_redirect_without_the_token() -> None:
    seen: list[httpx.Request] = []
    session = _session(seen)
    try:
        got = _loop.run(session.send(Method.GET, "/me/drive/items/1/content", redirects=True), 5)
    finally:
        session.close()
    assert got == b"bytes"
    assert [r.url.host for r in seen] == ["graph.microsoft.com", "download.example.net"]
    assert seen[0].headers["Authorization"] == "Bearer secret-token"
    assert "Authorization" not in seen[1].headers


def test_any_other_call_answered_with_a_redirect_is_an_error_and_not_followed() -> None:
    seen: list[httpx.Request] = []
    session = _session(seen)
    try:
        with pytest.raises(Unavailable, match=r"GET /v1.0/me/events/1 with a redirect \(302\)"):
            _loop.run(session.send(Method.GET, "/me/events/1"), 5)
    finally:
        session.close()
    assert [r.url.host for r in seen] == ["graph.microsoft.com"]
