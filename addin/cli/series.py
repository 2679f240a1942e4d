"""`goedgesprek series` (being built)."""

from __future__ import annotations

import click


@click.group(name="series")
def series() -> None:
    """Not built yet."""
