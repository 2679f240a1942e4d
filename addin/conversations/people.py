"""Who is asking, and what the directory knows of a person."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """The verified user (from the token) in the language they asked for."""

    email: str
    name: str
    locale: str = "nl"


@dataclass(frozen=True, slots=True)
class KnownPerson:
    """A directory entry: the name and time zone of an address."""

    email: str
    name: str
    tz: str
