"""Load traces from CSV: `timestamp,rps` rows, one per second, checked row by row."""

from __future__ import annotations

import csv
import io

import numpy as np

from kubeship.autoscale.simulate import FloatArray


class TraceError(ValueError):
    """A trace row that cannot be used; the message names the row."""


def parse_csv(text: str, source: str = "trace.csv") -> FloatArray:
    """Requests per second from `timestamp,rps` rows (a header row is allowed).

    Timestamps are seconds (any origin) and must increase by exactly one:
    gaps and disorder are errors rather than silently interpolated.
    """
    rows = list(csv.reader(io.StringIO(text)))
    values: list[float] = []
    previous: float | None = None
    for number, row in enumerate(rows, start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise TraceError(f"{source}:{number}: expected 'timestamp,rps', got {','.join(row)!r}")
        try:
            timestamp, rps = float(row[0]), float(row[1])
        except ValueError:
            if number == 1:
                continue  # a header
            raise TraceError(f"{source}:{number}: not numbers: {','.join(row[:2])!r}") from None
        if not np.isfinite(rps) or rps < 0:
            raise TraceError(f"{source}:{number}: requests per second must be ≥ 0, got {row[1].strip()!r}")
        if previous is not None:
            if timestamp <= previous:
                raise TraceError(
                    f"{source}:{number}: timestamp {row[0].strip()} is not after {previous:g}; sort the trace"
                )
            if timestamp - previous != 1:
                raise TraceError(
                    f"{source}:{number}: gap of {timestamp - previous:g} s after {previous:g}; "
                    "give one row per second (fill gaps explicitly)"
                )
        previous = timestamp
        values.append(rps)
    if not values:
        raise TraceError(f"{source}: no rows")
    return np.asarray(values, dtype=float)
