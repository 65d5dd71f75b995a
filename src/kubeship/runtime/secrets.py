"""Secrets read from mounted files, in a type that never prints its value."""

from __future__ import annotations

import hmac
from pathlib import Path

from kubeship.errors import ConfigError


class Secret:
    """A secret value. `str()` and `repr()` are masked; `reveal()` returns it.

    >>> s = Secret("hunter2"); print(s, repr(s))
    ********** Secret('**********')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "**********"

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled; pass the file path instead")


def read_secret(path: Path) -> Secret:
    """One secret from one file, as Kubernetes mounts a Secret key.

    A single trailing newline is dropped, as `echo value > file` adds one.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: secret file not found; mount the Secret there or fix the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        # The exception text names the file, never its content.
        raise ConfigError(f"{path}: cannot read secret file ({type(exc).__name__})") from None
    return Secret(text.removesuffix("\n"))


def read_secret_dir(directory: Path) -> dict[str, Secret]:
    """Every key of a Secret mounted as a directory (hidden `..data` entries skipped)."""
    if not directory.is_dir():
        raise ConfigError(f"{directory}: secret directory not found; mount the Secret there")
    return {p.name: read_secret(p) for p in sorted(directory.iterdir()) if _is_key_file(p)}


def _is_key_file(path: Path) -> bool:
    return not path.name.startswith(".") and path.is_file()
