"""The cyclic garbage collector, paused while a check builds its objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Parsing and checking allocate millions of objects and free almost none: the cyclic GC would
    rescan the growing heap again and again for nothing (a fifth of the time on the benchmark corpus)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
