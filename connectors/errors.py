"""One error family for every connector; provider errors are mapped once, at the edge."""

from __future__ import annotations


class ConnectorError(Exception):
    """A calendar, drive or mail operation failed; the message says what happened and to what."""


class NotFound(ConnectorError):
    """The event, file or folder does not exist (or was deleted by the user)."""


class Conflict(ConnectorError):
    """It changed meanwhile (stale etag) or already exists (a create that must not repeat)."""


class AuthExpired(ConnectorError):
    """Consent or the refresh token expired: the user must sign in again."""


class Throttled(ConnectorError):
    """The provider asked us to slow down; `retry_after` is in seconds when it said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ConnectorError):
    """The provider failed or did not answer (5xx, timeout, reset); retrying may help."""


class InvalidRequest(ConnectorError):
    """The provider refused what we sent (400); retrying will not help."""


class SendUncertain(ConnectorError):
    """A mail's request may have reached the provider, and no answer says it failed (a timeout
    waiting for the answer, a dropped connection, a 5xx): it may or may not have gone.

    Not transient: repeating it could deliver it twice, and without reading the mailbox nothing
    can tell. So it is not sent again; the mail may be missing, never doubled.
    """
