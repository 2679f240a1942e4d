"""Requests that follow no redirect go straight to the connection pool, unless a proxy is set.

The pool gets what httpx's client would have sent (its default headers, the session's
timeouts, our token and telemetry); a proxy named in the environment keeps every request on
the client, which routes it through the proxy.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from kiota_abstractions.method import Method

from connectors import _loop
from connectors.graph import _Session
from tests.graph_mock import mock_session

BASE = "https://graph.microsoft.com/v1.0"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")
EVERY_PROXY_VARIABLE = (*PROXY_VARIABLES, "all_proxy")


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in EVERY_PROXY_VARIABLE:
        monkeypatch.delenv(name, raising=False)
    yield


def _session(seen: list[httpx.Request], answer: httpx.Response | None = None) -> _Session:
    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "download.example.net" and request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "https://download.example.net/file"})
        return answer or httpx.Response(200, json={"id": "1"})

    return mock_session(reply, BASE, token="secret-token")


@pytest.mark.usefixtures("no_proxy")
def test_a_request_sent_direct_carries_what_the_client_would_send() -> None:
    seen: list[httpx.Request] = []
    session = _session(seen)
    try:
        assert session.direct is session.network
        found = _loop.run(session.send_json(Method.PATCH, "/me/events/1", body={"a": 1}), 5)
        through_client = session.http.build_request("PATCH", f"{BASE}/me/events/1")
    finally:
        session.close()
    assert found == {"id": "1"}
    (request,) = seen
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert request.headers["Content-Type"] == "application/json"
    for name in ("User-Agent", "Accept", "Accept-Encoding"):
        assert request.headers[name] == through_client.headers[name]
    assert request.extensions["timeout"] == httpx.Timeout(5.0).as_dict()
    assert request.content == b'{"a":1}'


@pytest.mark.usefixtures("no_proxy")
def test_a_download_url_that_redirects_is_followed_by_the_client() -> None:
    seen: list[httpx.Request] = []
    session = _session(seen, httpx.Response(200, content=b"bytes"))
    try:
        answer = _loop.run(session.plain_get("https://download.example.net/moved"), 5)
    finally:
        session.close()
    assert answer.content == b"bytes"
    assert [r.url.path for r in seen] == ["/moved", "/moved", "/file"]
    assert all("Authorization" not in r.headers for r in seen)


@pytest.mark.parametrize("variable", PROXY_VARIABLES)
def test_a_proxy_in_the_environment_keeps_requests_on_the_client(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    for name in EVERY_PROXY_VARIABLE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "http://127.0.0.1:9")
    session = _session([])
    try:
        assert session.direct is None
    finally:
        session.close()
