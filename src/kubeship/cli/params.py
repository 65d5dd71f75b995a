"""Command-line values more than one command parses the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from kubeship.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def key_values(items: tuple[str, ...], option: str) -> dict[str, str]:
    """Repeated `--option KEY=VALUE` into a dict (the value may contain `=`)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def trace_options(what: str, default: str | None = None) -> Callable[[F], F]:
    """--trace, --seconds, --base, --peak: a built-in load trace or a CSV, for the simulators."""

    def apply(command: F) -> F:
        for option in reversed([
            click.option(
                "--trace", required=default is None, default=default, show_default=default is not None,
                help=f"step | ramp | diurnal | flash, or a CSV file of timestamp,{what} rows.",
            ),
            click.option("--seconds", type=int, default=3600, show_default=True,
                         help="Length of a built-in trace."),
            click.option("--base", type=float, default=100.0, show_default=True,
                         help=f"Built-in trace: {what} at rest."),
            click.option("--peak", type=float, default=1500.0, show_default=True,
                         help=f"Built-in trace: {what} at peak."),
        ]):  # fmt: skip
            command = option(command)
        return command

    return apply
