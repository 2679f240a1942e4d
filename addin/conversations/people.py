"""Who is asking."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """The verified user (from the token) in the language they asked for."""

    email: str
    name: str
    locale: str = "nl"
