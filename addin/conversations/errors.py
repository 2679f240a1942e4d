"""The refusals the API turns into a status and a translated message (the ``api`` catalog)."""

from __future__ import annotations

from typing import Any


def _(msgid: str) -> str:
    """Marks an ``api`` message for extraction; the API translates it for the caller."""
    return msgid


class ServiceError(Exception):
    """A refusal the API turns into a status and a translated message.

    `msgid` is the English message (a gettext msgid in the ``api`` domain), `params` fill its
    ``%(name)s`` placeholders; `detail` is the domain error behind it, translated after it.
    """

    status = 400
    code = "invalid"

    def __init__(self, msgid: str, *, detail: BaseException | None = None, **params: Any) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        self.detail = detail
        self.extra: dict[str, Any] = {}


class Invalid(ServiceError):
    """The request cannot be done as asked (400)."""


class Forbidden(ServiceError):
    """The caller may not do this (403)."""

    status = 403
    code = "forbidden"


class Missing(ServiceError):
    """The thing asked for does not exist (404)."""

    status = 404
    code = "not_found"


class Changed(ServiceError):
    """The other partner saved meanwhile (409); `extra` carries the current state."""

    status = 409
    code = "conflict"


class SeriesExists(ServiceError):
    """The pair has a series with conversations to come already (409); `extra` names it."""

    status = 409
    code = "series_exists"


class Unreadable(ServiceError):
    """A saved record that opens but cannot be read (422): no retry cures it, nothing changed."""

    status = 422
    code = "record_unreadable"


class PreconditionRequired(ServiceError):
    """A save without If-Match over an existing document (428)."""

    status = 428
    code = "precondition_required"


class NotReportingLine(Forbidden):
    """The partner is not the caller's manager or direct report in the directory (403)."""

    code = "not_reporting_line"


class HandedOver(Forbidden):
    """The caller was this series' manager until a change of manager handed it over (403)."""

    code = "handed_over"
