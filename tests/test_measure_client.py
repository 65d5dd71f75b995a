"""The open-loop client of `kubeship autoscale measure` against a real HTTP server on loopback: every
arrival is either answered (its latency kept) or counted failed — an error status, a connection the
server breaks, no answer in time — and an arrival never waits for an earlier one to finish."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from kubeship.autoscale.latency import CpuCost
from kubeship.measure import cpu_cost, poisson, service_times


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """/ok answers 200 after 5 ms, /chunked in chunks, /error 500, /reset closes the connection,
    /hang never answers."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []
    open_writers: set[asyncio.StreamWriter] = set()
    stopped = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_writers.add(writer)
        try:
            while request := await reader.readuntil(b"\r\n\r\n"):
                path = request.split(b" ", 2)[1]
                if path == b"/ok":
                    await asyncio.sleep(0.005)
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                elif path == b"/chunked":
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
                elif path == b"/error":
                    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                elif path == b"/reset":
                    return
                else:
                    await stopped.wait()
                    return
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            open_writers.discard(writer)

    async def main() -> None:
        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
        port.append(srv.sockets[0].getsockname()[1])
        ready.set()
        await stopped.wait()
        srv.close()
        for writer in list(open_writers):
            writer.close()
        await asyncio.sleep(0.05)  # the handlers finish closing

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(5)
    yield f"http://127.0.0.1:{port[0]}"
    loop.call_soon_threadsafe(stopped.set)
    thread.join(5)
    loop.close()


@pytest.mark.parametrize("path", ["/ok", "/chunked"])
def test_answered_requests_keep_their_latency(server: str, path: str) -> None:
    answered, failed = poisson(f"{server}{path}", 200.0, 1.0)
    assert failed == 0 and 150 <= len(answered) <= 250
    assert all(0 < t < 1 for t in answered)
    if path == "/ok":  # 5 ms each, yet 200/s go through: arrivals do not wait for answers
        assert sorted(answered)[len(answered) // 2] >= 0.005


@pytest.mark.parametrize("path", ["/error", "/reset", "/hang"])
def test_what_is_not_answered_is_counted_failed(server: str, path: str) -> None:
    answered, failed = poisson(f"{server}{path}", 100.0, 0.5, timeout=0.2)
    assert answered == [] and 25 <= failed <= 80


def test_requests_served_alone_are_timed_one_after_another(server: str) -> None:
    times = service_times(f"{server}/ok", 0.3)
    assert 10 <= len(times) <= 60 and min(times) >= 0.005


def test_a_cpu_reading_of_no_ticks_leaves_the_model_on_the_times_alone() -> None:
    """/proc counts CPU in 10 ms ticks: a short phase of cheap requests reads 0, which is no cost."""
    assert cpu_cost(0.0, 0.002) is None and cpu_cost(0.001, 0.0) is None
    assert cpu_cost(0.001, 0.002) == CpuCost(0.001, 0.002)
