"""python-o365 pointed at a Graph endpoint with a fixed token, importing nothing of ours.

Kept apart so a fresh process can time python-o365's own start (`bench.run`'s cold start).
"""

from __future__ import annotations

from typing import Any


def o365_calendar(base_url: str, token: str, user: str) -> tuple[Any, Any, Any]:
    """`Account`, `Schedule` and the default `Calendar` of `user` at `base_url` (no version).

    ``requests_delay=0``: python-o365 otherwise waits 200 ms between calls. The calendar is
    made with an id instead of asked for (``get_default_calendar()`` is one GET /calendar).
    """
    from O365 import Account
    from O365.calendar import Calendar
    from O365.connection import MSGraphProtocol
    from O365.utils.token import BaseTokenBackend

    class FixedToken(BaseTokenBackend):  # type: ignore[misc]
        """A token backend holding one access token that does not expire."""

        def load_token(self) -> bool:
            return True

        def save_token(self, force: bool = False) -> bool:
            return True

        def check_token(self) -> bool:
            return True

        def get_access_token(self, *, username: str | None = None) -> dict[str, str]:
            return {"secret": token}

        def get_account(self, **_: Any) -> dict[str, str]:
            return {"username": user}

        def token_is_expired(self, *, username: str | None = None) -> bool:
            return False

        def token_is_long_lived(self, *, username: str | None = None) -> bool:
            return True

        def should_refresh_token(self, con: Any = None, *, username: Any = None) -> bool:
            return False

    protocol = MSGraphProtocol(api_version="v1.0", default_resource=user)
    protocol.protocol_url = f"{base_url}/"
    protocol.service_url = f"{base_url}/v1.0/"
    account = Account(
        ("bench-client", "bench-secret"),
        auth_flow_type="credentials",
        tenant_id="bench",
        protocol=protocol,
        token_backend=FixedToken(),
        requests_delay=0,
        username=user,
    )
    schedule = account.schedule(resource=user)
    calendar = Calendar(parent=schedule, **{"__cloud_data__": {"id": "default"}})
    return account, schedule, calendar
