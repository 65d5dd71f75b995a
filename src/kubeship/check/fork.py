"""Two halves of a job on two cores: one here, one in a forked child that already shares the data.

A forked child needs nothing sent to it (it has the parent's memory), only its
result sent back, pickled, through a pipe. Used to parse a large stream. Not
used to lint the parsed objects: after the fork, both processes touching the same
objects' reference counts copy most of the heap, and that cost more than it saved.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import TypeVar

from kubeship.check.heap import paused_gc

A = TypeVar("A")
B = TypeVar("B")


def cores() -> int:
    """The cores this process may run on; 1 where there is no fork (Windows): nothing to split."""
    if not hasattr(os, "fork"):
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def in_two(here: Callable[[], A], there: Callable[[], B]) -> tuple[A, B]:
    """here() in this process while there() runs in a child; if the child fails, there() runs here."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(reader)
        try:
            with os.fdopen(writer, "wb") as out:
                pickle.dump(there(), out, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(0)  # no cleanup of the parent's state (atexit, buffers) in the child
    os.close(writer)
    inp = os.fdopen(reader, "rb")
    try:
        mine = here()
        try:
            with paused_gc():
                theirs: B = pickle.load(inp)
        except (EOFError, pickle.UnpicklingError):
            theirs = there()
    finally:
        inp.close()  # a child still writing (here() raised) gets a broken pipe and exits
        os.waitpid(child, 0)
    return mine, theirs
