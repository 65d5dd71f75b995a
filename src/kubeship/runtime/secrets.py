"""Secrets read from mounted files, in a type that never prints its value."""

from __future__ import annotations

from pathlib import Path

from kubeship.errors import ConfigError
from kubeship.limits import LimitError, Limits
from kubeship.masked import Secret

__all__ = ["Secret", "read_secret", "read_secret_dir"]


def read_secret(path: Path) -> Secret:
    """One secret from one file, as Kubernetes mounts a Secret key.

    A single trailing newline is dropped, as `echo value > file` adds one.
    """
    try:
        size, limit = path.stat().st_size, Limits().scalar  # a Secret holds at most 1 MiB
        if size > limit:
            raise ConfigError(
                LimitError("scalar", limit, f"secret file of {size:,} bytes", 0).located(str(path))
            )
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
