"""Graph failures map once into the connector errors, with messages saying what failed."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from kiota_abstractions.api_error import APIError
from msgraph.generated.models.o_data_errors.main_error import MainError
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from connectors._graph_errors import error_for, odata_error, to_connector_error
from connectors._retry import retry_after_seconds
from connectors.errors import (
    AuthExpired,
    Conflict,
    ConnectorError,
    InvalidRequest,
    NotFound,
    Throttled,
    Unavailable,
)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, InvalidRequest),
        (401, AuthExpired),
        (403, InvalidRequest),
        (404, NotFound),
        (409, Conflict),
        (412, Conflict),
        (413, InvalidRequest),
        (429, Throttled),
        (500, Unavailable),
        (502, Unavailable),
        (503, Unavailable),
        (504, Unavailable),
        (424, Unavailable),
        (408, Unavailable),
    ],
)
def test_status_maps_to_error(status: int, kind: type[ConnectorError]) -> None:
    """Each HTTP status becomes its connector error, naming what failed."""
    error = error_for(status, "SomeCode", "went wrong", "reading event 'x'")
    assert type(error) is kind
    assert "reading event 'x'" in str(error) and "SomeCode" in str(error)


def test_retry_after_is_carried() -> None:
    """A 429 and a 503 with Retry-After carry the wait for the retry policy."""
    assert isinstance(error_for(429, "", "", "x", 7.0), Throttled)
    assert error_for(429, "", "", "x", 7.0).retry_after == 7.0  # type: ignore[attr-defined]
    busy = error_for(503, "", "", "x", 2.0)
    assert isinstance(busy, Throttled) and busy.retry_after == 2.0


def test_retry_after_header_forms() -> None:
    """Retry-After as seconds or as an HTTP date; garbage is ignored."""
    now = datetime(2027, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Fri, 01 Jan 2027 12:00:05 GMT", now) == 5.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_sdk_odata_error_is_mapped() -> None:
    """An SDK ODataError with status, code and Retry-After header maps to Throttled."""
    exc = ODataError(
        response_status_code=429,
        response_headers=httpx.Headers({"Retry-After": "4"}),  # type: ignore[arg-type]
        error=MainError(code="TooManyRequests", message="slow down"),
    )
    error = to_connector_error(exc, "creating event 'a'")
    assert isinstance(error, Throttled) and error.retry_after == 4.0
    assert "TooManyRequests" in str(error) and "slow down" in str(error)


def test_bare_api_error_and_transport_failures() -> None:
    """An APIError without a body, timeouts and resets map by status or to Unavailable."""
    assert isinstance(to_connector_error(APIError("x", 412, None), "w"), Conflict)
    assert isinstance(to_connector_error(httpx.ReadTimeout("t"), "w"), Unavailable)
    assert isinstance(to_connector_error(httpx.RemoteProtocolError("reset"), "w"), Unavailable)
    assert isinstance(to_connector_error(ConnectionResetError(), "w"), Unavailable)


def test_unparseable_answer_is_unavailable() -> None:
    """An answer that does not parse is Unavailable, saying it could not be read."""
    error = to_connector_error(ValueError("Expecting value"), "reading event 'x'")
    assert isinstance(error, Unavailable) and "could not be read" in str(error)


def test_odata_error_body_is_read() -> None:
    """The code and message come out of an OData error body, bytes or parsed."""
    body = b'{"error": {"code": "ErrorItemNotFound", "message": "gone"}}'
    assert odata_error(body) == ("ErrorItemNotFound", "gone")
    assert odata_error(b"<html>") == ("", "")
    assert odata_error(None) == ("", "")


@pytest.mark.parametrize("code", ["Authorization_RequestDenied", "ErrorAccessDenied"])
def test_missing_consent_is_auth_expired(code: str) -> None:
    """A 403 for a scope or consent the token lacks asks the user to sign in and consent again."""
    error = error_for(403, code, "Insufficient privileges", "reading event 'x'")
    assert isinstance(error, AuthExpired) and "consent" in str(error)


def test_other_forbidden_is_invalid_request() -> None:
    """A 403 for anything else (an item that cannot be deleted) is not a sign-in matter."""
    error = error_for(403, "accessDenied", "This item can't be deleted.", "deleting a/b")
    assert type(error) is InvalidRequest


def test_our_own_bug_is_raised_as_it_is() -> None:
    """An exception that is no Graph failure is raised unchanged, not retried as Unavailable."""
    bug = AttributeError("'NoneType' object has no attribute 'id'")
    with pytest.raises(AttributeError) as raised:
        to_connector_error(bug, "reading event 'x'")
    assert raised.value is bug


def test_an_api_error_without_status_is_unavailable() -> None:
    """The SDK's error for an answer it could not read is Unavailable, like a parse failure."""
    assert isinstance(to_connector_error(APIError("no factory"), "w"), Unavailable)
