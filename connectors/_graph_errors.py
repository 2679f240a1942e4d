"""Microsoft Graph failures mapped once into `connectors.errors`.

`to_connector_error` is the one place every Graph failure passes: an ``ODataError`` or bare
``APIError`` from the SDK, a per-item status from our ``$batch``, a transport error from httpx, or
an answer that does not parse. An answer that does not parse becomes `Unavailable`: it is what a
gateway's HTML error page or a cut-off body looks like, a fault of the path to Graph rather than
of our request, and a retry of a safe call may well get a proper answer. Any other exception is
a bug of ours and is raised as it is: dressed up as `Unavailable` it would be retried and hidden.

`send_error` maps a failed sendMail: once its request may have reached Graph, a failure is
`SendUncertain` (see there), not an error a retry may cure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from kiota_abstractions.api_error import APIError

from connectors._retry import retry_after_seconds
from connectors.errors import (
    AuthExpired,
    Conflict,
    ConnectorError,
    InvalidRequest,
    NotFound,
    SendUncertain,
    Throttled,
    Unavailable,
)

NOT_FOUND_CODES = frozenset({"ErrorInvalidIdMalformed"})
"""400 codes that say the id names nothing: Exchange answers an id it cannot decode so."""
CONSENT_CODES = frozenset({"Authorization_RequestDenied", "ErrorAccessDenied"})
"""403 codes for a token without the scope or consent the call needs (Entra ID's and
Exchange's): the user must sign in and consent again, as for an expired token."""


def error_for(
    status: int, code: str, message: str, what: str, retry_after: float | None = None
) -> ConnectorError:
    """The connector error for a Graph error answer: status, OData code and message."""
    detail = f"{what}: Graph answered {status}"
    if code:
        detail += f" {code}"
    if message:
        detail += f" ({message})"
    if status == 401:
        return AuthExpired(f"{detail}; the user must sign in again")
    if status == 403 and code in CONSENT_CODES:
        return AuthExpired(f"{detail}; the user must sign in again and consent to the app")
    if status == 404 or code in NOT_FOUND_CODES:
        return NotFound(detail)
    if status in (409, 412):
        return Conflict(f"{detail}; it changed meanwhile or already exists")
    if status == 429:
        return Throttled(detail, retry_after)
    if status >= 500 or status in (408, 424):
        # 424 is a batch item whose dependency failed; it did not run and may run on a retry.
        return (
            Unavailable(detail)
            if status != 503 or retry_after is None
            else Throttled(detail, retry_after)
        )
    if status == 403:
        return InvalidRequest(f"{detail}; Graph does not allow this here")
    return InvalidRequest(detail)


def odata_error(body: Any) -> tuple[str, str]:
    """The code and message of an OData error body (parsed JSON or bytes), empty when absent."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body or b"{}")
        except ValueError:
            return "", ""
    if not isinstance(body, Mapping):
        return "", ""
    error = body.get("error")
    if not isinstance(error, Mapping):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    if isinstance(value, set | list | tuple):
        value = next(iter(value), None)
    return None if value is None else str(value)


def to_connector_error(exc: BaseException, what: str) -> ConnectorError:
    """Map a failure of a Graph call into the connector error family (the one place).

    An exception that is none of Graph's answers, a transport failure or an unreadable answer
    is raised again, unchanged: it is a bug of ours, not something a retry cures.
    """
    if isinstance(exc, ConnectorError):
        return exc
    status = getattr(exc, "response_status_code", None)
    if isinstance(status, int):
        main = getattr(exc, "error", None)
        code = str(getattr(main, "code", "") or "")
        message = str(getattr(main, "message", "") or "") or (
            "" if main is not None else str(getattr(exc, "message", "") or "")
        )
        headers = getattr(exc, "response_headers", None)
        retry_after = retry_after_seconds(_header(headers, "Retry-After"))
        return error_for(status, code, message, what, retry_after)
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return Unavailable(f"{what}: Graph did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.RequestError | OSError):
        return Unavailable(f"{what}: the connection to Graph failed ({type(exc).__name__}: {exc})")
    if isinstance(exc, ValueError | KeyError | TypeError | APIError):
        # APIError without a status: the SDK could not read the answer it got.
        return Unavailable(
            f"{what}: Graph's answer could not be read ({type(exc).__name__}: {exc})"
        )
    raise exc


NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
"""Transport failures before a request left: no connection was made, or none was free."""


def send_error(exc: BaseException, what: str) -> ConnectorError:
    """The connector error for a failed sendMail (see `connectors.errors.SendUncertain`).

    Not sent, so safe to try again: our own error raised before the request (the token), no
    connection, or an answer below 500 (429, 4xx: Graph refused it). Anything else may have
    reached Graph: a 5xx (Graph does not promise a failed sendMail sent nothing, Retry-After
    or not), a timeout or a dropped connection after the request went out, an unreadable answer.
    """
    error = to_connector_error(exc, what)
    if error is exc or isinstance(exc, NOT_SENT):
        return error
    status = getattr(exc, "response_status_code", None)
    if isinstance(status, int) and status < 500:
        return error
    return SendUncertain(
        f"{error}; the mail may or may not have gone, and it is not sent again so that it "
        "cannot arrive twice"
    )
