"""Command-line values more than one command parses the same way."""

from __future__ import annotations

from kubeship.errors import UsageError


def key_values(items: tuple[str, ...], option: str) -> dict[str, str]:
    """Repeated `--option KEY=VALUE` into a dict (the value may contain `=`)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out
