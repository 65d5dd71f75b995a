"""The `kubeship` command. Commands are thin: parse, call a library function, print."""

from kubeship.cli.main import cli, main

__all__ = ["cli", "main"]
