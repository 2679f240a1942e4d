"""`goedgesprek keys` (being built)."""

from __future__ import annotations

import click


@click.group(name="keys")
def keys() -> None:
    """Not built yet."""
