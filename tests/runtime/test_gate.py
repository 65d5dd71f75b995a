"""--max-concurrency: at most N requests of a worker in the app; probes, metrics and idle
connections never wait for a slot; a queued request whose client left is not served; a standing
queue serves its newest first. Against `kubeship serve` on loopback, and the gate alone."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from time import monotonic
from typing import Any

import httpx
import pytest

from kubeship.runtime.gate import STANDING, Gate, wait_turn
from tests.pki import CA, client_context
from tests.runtime.test_mtls import OPS, start_mtls


def test_max_concurrency_bounds_what_a_worker_serves_at_once(serve: Any) -> None:
    """--max-concurrency N: the (N+1)th request waits instead of sharing the worker with the N
    already in the app; every request is still answered."""
    for limit, expected in (("2", 2), (None, 6)):
        svc = serve("fastapi_app:app", *(("--max-concurrency", limit) if limit else ()))
        with ThreadPoolExecutor(6) as pool:
            answers = list(
                pool.map(lambda url: httpx.get(url, timeout=20), [svc.url + "/hold?seconds=0.4"] * 6)
            )
        assert [a.status_code for a in answers] == [200] * 6
        assert max(a.json()["most"] for a in answers) == expected
        svc.stop()


def _kept_alive(url: str, count: int) -> Iterator[socket.socket]:
    """`count` connections that each had a request answered and stay open, idle (a proxy's pool)."""
    host, port = url.removeprefix("http://").split(":")
    for _ in range(count):
        conn = socket.create_connection((host, int(port)), timeout=5)
        conn.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        yield conn


def test_idle_keep_alive_connections_hold_no_slot(serve: Any) -> None:
    """A proxy keeps more idle connections than the bound: a new connection, and a kubelet probe
    on one, is still answered (a bound on connections, Granian's backpressure, left them waiting)."""
    svc = serve("fastapi_app:app", "--max-concurrency", "2")
    with ExitStack() as stack:
        for conn in _kept_alive(svc.url, 8):
            stack.callback(conn.close)
        assert httpx.get(svc.url + "/ping", timeout=5).status_code == 200
        assert httpx.get(svc.url + "/readyz", timeout=5).status_code == 200


def test_probes_and_metrics_do_not_wait_behind_a_full_worker(serve: Any) -> None:
    svc = serve("fastapi_app:app", "--max-concurrency", "1")
    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(httpx.get, svc.url + "/hold?seconds=3", timeout=20) for _ in range(2)]
        time.sleep(0.5)  # one in the app, one queued
        for path in ("/healthz", "/readyz", "/metrics"):
            assert httpx.get(svc.url + path, timeout=1).status_code == 200, path
        assert [f.result().status_code for f in held] == [200, 200]


def test_a_queued_request_whose_client_left_is_not_served(serve: Any) -> None:
    svc = serve("fastapi_app:app", "--max-concurrency", "1")
    host, port = svc.url.removeprefix("http://").split(":")
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(httpx.get, svc.url + "/hold?seconds=1.5", timeout=20)
        time.sleep(0.3)
        with socket.create_connection((host, int(port))) as gone:  # queued behind it, then leaves
            gone.sendall(b"GET /hold?seconds=0.01 HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-1\r\n\r\n")
            time.sleep(0.3)
        assert first.result().json()["most"] == 1
    assert httpx.get(svc.url + "/ping").status_code == 200  # a request arms the next log flush
    line = svc.wait_log(lambda ln: ln.get("request_id") == "gone-1")
    assert line["status"] == 499  # nginx's "client closed request": the app never saw it
    served = [ln for ln in svc.log_lines() if ln.get("path") == "/hold" and ln.get("status") == 200]
    assert len(served) == 1


# -- the gate alone ---------------------------------------------------------------------------------


def test_a_passing_queue_is_served_in_arrival_order_a_standing_one_newest_first() -> None:
    async def run() -> list[int]:
        gate = Gate(1)
        assert gate.try_enter() and not gate.try_enter()
        turns = [gate.join() for _ in range(4)]
        order = []
        gate.leave()  # the queue formed just now: the oldest goes in
        order.append(next(i for i, t in enumerate(turns) if t.done()))
        turns[3].cancel()  # a waiter that left is skipped
        gate.since = monotonic() - STANDING * 2  # the queue has stood: newest first
        gate.leave()
        order.append(next(i for i, t in enumerate(turns) if t.done() and not t.cancelled() and i != order[0]))
        gate.leave()
        gate.leave()  # nobody waits: the slot is free again
        assert gate.try_enter()
        return order

    assert asyncio.run(run()) == [0, 2]


async def queued(gate: Gate, body: bytes) -> tuple[asyncio.Future[Any], asyncio.Future[dict[str, Any]]]:
    """A whole request waiting for a slot of the full `gate`; → (its wait, the connection's next
    read, which resolves only when the test says the client left)."""
    later: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages, None) or await later

    waiting = asyncio.ensure_future(wait_turn(gate, receive))
    await asyncio.sleep(0.01)
    return waiting, later


@pytest.mark.parametrize("leaves", [True, False])
def test_waiting_listens_for_the_client_and_replays_the_request(leaves: bool) -> None:
    async def run() -> None:
        gate = Gate(1)
        gate.try_enter()
        waiting, disconnect = await queued(gate, b"q")
        if leaves:
            disconnect.set_result({"type": "http.disconnect"})
            assert await waiting is None
            gate.leave()
            assert gate.try_enter()  # the slot went back, not to the one that left
            return
        gate.leave()
        replay = await waiting
        assert replay is not None and await replay() == {
            "type": "http.request",
            "body": b"q",
            "more_body": False,
        }
        disconnect.set_result({"type": "http.disconnect"})
        assert await replay() == {"type": "http.disconnect"}  # the read it started while waiting
        assert not gate.try_enter()  # the replayed request holds the slot

    asyncio.run(run())


def test_a_queued_request_cancelled_by_the_server_gives_up_its_place() -> None:
    """The server cancels a queued request (it stops): the cancellation goes on up, and the slot
    freed next goes back to the gate, not to the request that is gone."""

    async def run() -> None:
        gate = Gate(1)
        gate.try_enter()
        waiting, never = await queued(gate, b"")
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        gate.leave()
        assert gate.try_enter()
        assert never.cancelled()  # its read of the connection is not left waiting

    asyncio.run(run())


def test_a_slot_freed_while_the_request_is_read_is_taken() -> None:
    """The gate is full when a request comes; its body is read (an await) while the request in the
    app finishes and nobody waits: the slot is free, and the request takes it instead of waiting for
    a hand-over no one will make (audited requests under 100 connections stalled for good so)."""

    async def run() -> None:
        gate = Gate(1)
        assert gate.try_enter() and not gate.try_enter()
        loop = asyncio.get_running_loop()
        body: asyncio.Future[dict[str, Any]] = loop.create_future()
        reads = iter([body, loop.create_future()])  # the request, then a disconnect that never comes

        async def receive() -> dict[str, Any]:
            return await next(reads)

        waiting = asyncio.ensure_future(wait_turn(gate, receive))
        await asyncio.sleep(0.01)  # reading the request
        gate.leave()  # the one in the app finishes; the queue is empty: the slot is free
        body.set_result({"type": "http.request", "body": b"", "more_body": False})
        replay = await asyncio.wait_for(waiting, 2)
        assert replay is not None and not gate.try_enter()  # it holds the slot
        replay.close()

    asyncio.run(run())


def test_the_mtls_server_is_bounded_the_same_way(serve: Any, tmp_path: Path) -> None:
    """mTLS is served by uvicorn, not Granian: the runtime's bound holds there too, and a queued
    client that leaves is dropped."""
    ca = CA()
    svc, url = start_mtls(serve, tmp_path, ca, "--max-concurrency", "1")
    ctx = client_context(ca.pem, ca.issue(uris=(OPS,)), tmp_path)
    with ThreadPoolExecutor(3) as pool:
        # Each hold outlasts the departure by far: the newest queued request is served first once the
        # queue has stood, so a departure racing the first release would be served, not dropped.
        held = [pool.submit(httpx.get, url + "/hold?seconds=1.2", verify=ctx, timeout=20) for _ in range(2)]
        time.sleep(0.3)
        with ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", svc.port)), server_hostname="127.0.0.1"
        ) as gone:
            gone.sendall(b"GET /hold?seconds=0.01 HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-2\r\n\r\n")
            time.sleep(0.3)
        assert [f.result().json()["most"] for f in held] == [1, 1]
    assert httpx.get(url + "/ping", verify=ctx).status_code == 200
    assert svc.wait_log(lambda ln: ln.get("request_id") == "gone-2")["status"] == 499
