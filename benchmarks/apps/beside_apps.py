"""Apps for benchmarks/middleware_beside.py: the same wrappers around a bare app and a busy one."""

from __future__ import annotations

import os
from time import perf_counter
from typing import Any

from bare_app import BODY, HEADERS
from bare_app import app as bare

from kubeship.runtime.log import LogWriter
from kubeship.runtime.middleware import Runtime

LOOP = 2200  # ≈ 40 µs of one tight Python loop on the project's VM: time, almost no code
NUMBERS = range(100_000, 103_600)  # summed in C, the GIL held: ≈ 35 µs and no bytecode at all


async def busy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    total = 0
    for i in range(LOOP):
        total += i
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


async def cbusy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    sum(NUMBERS)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


class Passing:
    """A wrapper that only awaits the app: one more coroutine frame."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class Timing(Passing):
    """Two clock reads and one tuple kept per request, as the runtime's hot path does."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.done: list[tuple[Any, ...]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        start = perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            end = perf_counter()
            self.done.append((end, end - start, scope.get("method"), scope.get("path")))
            if len(self.done) >= 256:
                self.done = []


def _runtime(app: Any) -> Runtime:
    return Runtime(app, log=LogWriter(os.open(os.devnull, os.O_WRONLY)))  # as serve.py's: to /dev/null


passing_bare, timing_bare, runtime_bare = Passing(bare), Timing(bare), _runtime(bare)
passing_busy, timing_busy, runtime_busy = Passing(busy), Timing(busy), _runtime(busy)
passing_cbusy, timing_cbusy, runtime_cbusy = Passing(cbusy), Timing(cbusy), _runtime(cbusy)
