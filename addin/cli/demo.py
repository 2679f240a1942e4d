"""`goedgesprek demo` (being built)."""

from __future__ import annotations

import click


@click.group(name="demo")
def demo() -> None:
    """Not built yet."""
