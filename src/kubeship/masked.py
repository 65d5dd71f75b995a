"""A value that must never be printed: secrets from mounts, files or the environment."""

from __future__ import annotations

import hmac


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
