"""Graph's telemetry headers on requests to Graph's hosts, the same the SDK's handler sets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from kiota_abstractions.method import Method
from msgraph.graph_request_adapter import options as sdk_options
from msgraph_core.middleware import GraphTelemetryHandler  # type: ignore[import-untyped]
from msgraph_core.middleware.options import (  # type: ignore[import-untyped]
    GraphTelemetryHandlerOption,
)

from connectors import _loop
from tests.graph_mock import mock_session


def _sent(base_url: str, url: str) -> httpx.Request:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    session = mock_session(answer, base_url)
    try:
        _loop.run(session.send(Method.GET, url), 5.0)
    finally:
        session.close()
    assert len(seen) == 1
    return seen[0]


def _sdk_headers(url: str) -> httpx.Headers:
    """What msgraph-core's own handler adds to a request to `url`."""
    from msgraph_core.middleware.request_context import (  # type: ignore[import-untyped]
        GraphRequestContext,
    )

    # As msgraph's adapter configures it (the SDK's version and API version).
    handler = GraphTelemetryHandler(options=sdk_options[GraphTelemetryHandlerOption.get_key()])
    request: Any = httpx.Request("GET", url)
    request.context = GraphRequestContext({}, request.headers)
    request.context.feature_usage = 0x1  # the redirect handler, the one in our pipeline
    handler._add_client_request_id_header(request)
    handler._append_sdk_version_header(request, handler.options)
    handler._add_host_os_header(request)
    handler._add_runtime_environment_header(request)
    return httpx.Headers(request.headers)


@pytest.mark.parametrize(
    "base_url",
    ["https://graph.microsoft.com/v1.0", "https://graph.microsoft.us/v1.0"],
)
def test_graph_hosts_get_the_sdk_telemetry_headers(base_url: str) -> None:
    sent = _sent(base_url, "/me/events")
    expected = _sdk_headers(f"{base_url}/me/events")
    for name in ("sdkVersion", "HostOs", "RuntimeEnvironment"):
        assert sent.headers[name] == expected[name]
    first = sent.headers["client-request-id"]
    assert len(first) == 36 and first != _sent(base_url, "/me/events").headers["client-request-id"]


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("http://127.0.0.1:9/v1.0", "/me/events"),  # not Graph's host
        ("https://graph.microsoft.com/v1.0", "https://download.example.net/file"),  # elsewhere
        ("https://graph.microsoft.com/v1.0", "https://graph.microsoft.com.evil.test/v1.0/me"),
    ],
)
def test_other_hosts_get_no_telemetry_headers(base_url: str, url: str) -> None:
    sent = _sent(base_url, url)
    for name in ("sdkVersion", "HostOs", "RuntimeEnvironment", "client-request-id"):
        assert name not in sent.headers
