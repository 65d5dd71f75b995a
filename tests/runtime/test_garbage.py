"""A request leaves no reference cycles behind: what it allocates is freed as soon as it is done.

Garbage in a cycle waits for a collection, and a collection walks every object young enough: under
load that is the requests in flight, their scopes and whatever the cycle holds. Compiled with mypyc,
nested functions that call each other are such a cycle (they share one environment object, which
holds each of them): the audited `send` was three of them, and each audited request left its
scope, its `send` and its audit record to the collector, 8 % of an audited worker's CPU
(`perf record` under `benchmarks/serve_tls.py --only audit`). Each way through the middleware is
driven here in process, the collector off, and must leave (almost) nothing for it: a handful
of objects at most, never some per request.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeship.runtime.log import LogWriter
from kubeship.runtime.middleware import Runtime
from kubeship.runtime.settings import RuntimeSettings

REQUESTS = 60
Message = dict[str, Any]


async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[Message]], send: Any) -> None:
    await receive()
    if scope["path"] == "/boom":
        raise ValueError("the app failed")
    if scope["path"] == "/missing":  # a framework's plain-text 404: turned into JSON
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": b"Not Found"})
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(0.001)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def scope(method: str, path: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
        "method": method, "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"svc"), *headers], "client": ("10.0.0.7", 50000), "server": ("svc", 80),
    }  # fmt: skip


async def request(runtime: Runtime, req: dict[str, Any]) -> int:
    sent: list[Message] = []
    later: asyncio.Future[Message] = asyncio.get_running_loop().create_future()  # the client stays
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> Message:
        return next(messages, None) or await later

    async def send(message: Message) -> None:
        sent.append(message)

    await runtime(req, receive, send)
    return int(sent[0]["status"])


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    (tmp_path / "audit.key").write_text("k" * 40)
    (tmp_path / "auth.key").write_text("an-hmac-secret-for-this-test-only-40-chars\n")
    settings = RuntimeSettings.from_env({
        "KUBESHIP_AUDIT_FILE": str(tmp_path / "audit.jsonl"),
        "KUBESHIP_AUDIT_KEY_FILE": str(tmp_path / "audit.key"),
        "KUBESHIP_AUDIT_OPERATIONS": "DELETE /databases/{name}",
        "KUBESHIP_CORS_ORIGINS": "https://app.example.com",
        "KUBESHIP_AUTH_KEY_FILE": str(tmp_path / "auth.key"),
        "KUBESHIP_AUTH_PUBLIC": "/ping,/slow,/boom,/missing,/databases/*,/healthz",
        "KUBESHIP_MAX_CONCURRENCY": "2",
    })  # fmt: skip
    devnull = os.open(os.devnull, os.O_WRONLY)
    yield Runtime(app, settings=settings, log=LogWriter(devnull))
    os.close(devnull)


ORIGIN = (b"origin", b"https://app.example.com")
WAYS = {
    "plain": lambda: [scope("GET", "/ping")],
    "audited, records shared by a sync": lambda: [scope("DELETE", "/databases/orders")] * 8,
    "queued behind a full worker": lambda: [scope("GET", "/slow")] * 6,
    "CORS preflight": lambda: [scope("OPTIONS", "/ping", ORIGIN, (b"access-control-request-method", b"GET"))],
    "refused without a token": lambda: [scope("GET", "/private")],
    "plain-text error made JSON": lambda: [scope("GET", "/missing", ORIGIN)],
    "probe": lambda: [scope("GET", "/healthz")],
    "the app raised": lambda: [scope("GET", "/boom")],
}


@pytest.mark.parametrize("way", WAYS)
def test_a_request_leaves_nothing_for_the_collector(runtime: Runtime, way: str) -> None:
    async def drive() -> int:
        for req in WAYS[way]():  # warm: the first request starts the worker's state
            await request(runtime, req)
        await asyncio.sleep(0.01)
        gc.collect()
        for _ in range(REQUESTS):
            await asyncio.gather(*(request(runtime, req) for req in WAYS[way]()))
        await asyncio.sleep(0.01)  # the last sync's callbacks
        return gc.collect()

    gc.disable()
    try:
        left = asyncio.run(drive())
    finally:
        gc.enable()
    assert left < REQUESTS // 2, f"{left} objects in cycles after {REQUESTS} rounds of {way!r}"
