"""The two-process helper: the child's result comes back; if the child fails, its half runs here."""

from __future__ import annotations

import os

from kubeship.check import fork


def test_the_child_result_comes_back_from_another_process() -> None:
    parent = os.getpid()
    mine, theirs = fork.in_two(lambda: os.getpid(), lambda: (os.getpid(), list(range(100_000))))
    assert mine == parent and theirs[0] != parent  # the second half really ran elsewhere
    assert theirs[1] == list(range(100_000))  # larger than a pipe's buffer


def test_a_failing_child_half_is_redone_here() -> None:
    calls = []

    def there() -> int:
        calls.append(os.getpid())
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return 2

    parent = os.getpid()
    assert fork.in_two(lambda: 1, there) == (1, 2)
    assert calls == [parent]  # the child's call is not seen here; the redo is
