"""One-line errors for every command: what went wrong and what to change, no usage dump."""

from __future__ import annotations

from typing import Any, NoReturn

import click


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Say why on one line of stderr and exit with `code`."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    raise click.exceptions.Exit(code)


class OneLineErrors(click.Command):
    """A command whose usage errors are one line on stderr (exit 2), not the usage text."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse the arguments; a usage error becomes one line."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            fail(exc.format_message(), code=2)
