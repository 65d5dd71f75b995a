"""Kubernetes resource quantities (`500m`, `256Mi`, `1.5`), parsed exactly."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?P<exp>[eE][+-]?\d+)?(?P<suffix>[KMGTPE]i|[mkMGTPE])?$"
)


def parse_quantity(text: str | int | float) -> Decimal:
    """`"500m"` → Decimal("0.5"); `"256Mi"` → Decimal(268435456). ValueError if malformed."""
    match = _QUANTITY.match(str(text).strip())
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (like 500m, 1, 256Mi, 2Gi)")
    try:
        value = Decimal(match["num"] + (match["exp"] or ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a Kubernetes quantity") from None
    return value * _SUFFIX[match["suffix"] or ""]


_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"^(?:\d+(?:ms|s|m|h|d|w|y))+$")
_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def parse_duration(text: str) -> float:
    """A Prometheus duration (`300ms`, `5m`, `1h30m`, `30d`) in seconds. ValueError if malformed."""
    if not isinstance(text, str) or not _DURATION.match(text):
        raise ValueError(f"{text!r} is not a duration: give a number with a unit, like 300ms, 5m, 1h or 30d")
    return sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))
