"""The WSGI types every emulator and middleware shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

StartResponse: TypeAlias = Callable[..., Any]
WSGIApp: TypeAlias = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
