"""One error family for bad input to the domain.

Every message says what to change, so the CLI and the app can show it as it is.
"""

from __future__ import annotations


class CadenceError(ValueError):
    """Base of every domain error: the input was wrong, nothing was changed.

    `code` names the refusal and `params` its particulars, so an app says it in the user's
    language (`str(error)` is the English sentence, for logs and the command line). A code is a
    stable identifier: the app's catalog has a sentence for each.
    """

    code: str = "invalid"

    def __init__(self, message: str = "", *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params: dict[str, object] = params


class UnsupportedRecurrence(CadenceError):
    """A recurrence that Microsoft Graph or RFC 5545 (Google) cannot express the same way."""


class InvalidRule(CadenceError):
    """A recurrence rule that is inconsistent in itself (an end before its start, a zero count)."""


class UnknownTimeZone(CadenceError):
    """A time-zone name that is not an IANA zone."""


class InvalidPreferences(CadenceError):
    """The employee's planning preferences are out of range (duration, window, weekdays)."""


class TransitionError(CadenceError):
    """A step the agreement or record state machine does not allow from its current state."""


class TemplateError(CadenceError):
    """A conversation template that breaks its schema; the message names the file and the field."""
