"""Every way a Google call can fail maps once into the connector error family."""

from __future__ import annotations

import http.client

import google.auth.exceptions
import httplib2
import pytest
from googleapiclient.errors import HttpError

from connectors.errors import AuthExpired, ConnectorError, NotFound, Throttled, Unavailable
from connectors.google import discovery_document, map_error


def http_error(status: int, body: bytes, **headers: str) -> HttpError:
    """An HttpError as the client library raises it for a non-2xx answer."""
    response = httplib2.Response({"status": str(status), **headers})
    return HttpError(response, body, uri="https://www.googleapis.com/calendar/v3/x")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TimeoutError("timed out"), Unavailable),
        (ConnectionResetError(104, "Connection reset by peer"), Unavailable),
        (ConnectionRefusedError(111, "Connection refused"), Unavailable),
        (http.client.RemoteDisconnected("closed"), Unavailable),
        (http.client.IncompleteRead(b"par"), Unavailable),
        (httplib2.ServerNotFoundError("no such host"), Unavailable),
        (google.auth.exceptions.TransportError("tls"), Unavailable),
        (google.auth.exceptions.RefreshError("invalid_grant"), AuthExpired),
        # The token endpoint's 5xx, 429, server_error or temporarily_unavailable: Google is away.
        (google.auth.exceptions.RefreshError("server_error", retryable=True), Unavailable),
        (ValueError("Expecting value: line 1 column 1"), Unavailable),
        (http_error(404, b'{"error": {"code": 404, "message": "Not Found"}}'), NotFound),
        (http_error(429, b"", **{"retry-after": "2"}), Throttled),
    ],
)
def test_errors_map_to_one_family(error: Exception, expected: type[ConnectorError]) -> None:
    """Network, auth, parse and HTTP failures each become the connector error that fits."""
    mapped = map_error(error, "reading event 'e1'")
    assert type(mapped) is expected
    assert "reading event 'e1'" in str(mapped)


def test_retry_after_survives_the_mapping() -> None:
    """A 429's Retry-After reaches Throttled.retry_after."""
    mapped = map_error(http_error(429, b"", **{"retry-after": "2"}), "x")
    assert isinstance(mapped, Throttled) and mapped.retry_after == 2.0


def test_our_own_bugs_are_not_disguised() -> None:
    """An error that is not the provider's (a TypeError) is raised as it is."""
    with pytest.raises(TypeError):
        map_error(TypeError("bug"), "x")


def test_discovery_documents_are_parsed_once_and_rooted() -> None:
    """The same root gives the same parsed document; rootUrl and baseUrl follow the root."""
    first = discovery_document("drive", "http://127.0.0.1:9/")
    assert first is discovery_document("drive", "http://127.0.0.1:9")
    assert first["rootUrl"] == "http://127.0.0.1:9/"
    assert first["baseUrl"] == "http://127.0.0.1:9/drive/v3/"
    assert discovery_document("drive")["rootUrl"] == "https://www.googleapis.com/"
