"""Load-test the real service on this machine (I/O at the edge): `kubeship autoscale measure`.

Starts `kubeship serve APP --workers N` on loopback, drives it with wrk at a
ladder of connection counts, and records per run the requests/s, the CPU
the server's processes used (from /proc) and wrk's latency percentiles.
`kubeship.autoscale.capacity.fit` turns the runs into the simulator's model.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kubeship.autoscale.capacity import Measurement, Run
from kubeship.autoscale.latency import CpuCost
from kubeship.errors import UsageError

_T = TypeVar("_T")
# What a request meets when the service misbehaves: refused or reset, a reply cut short or unreadable
# (ValueError: a status line or length that is not a number), no answer in time.
_BROKEN = (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError)
OPEN_LOOP_TIMEOUT = 30.0  # seconds an open-loop request may take before it counts as failed
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants (Granian's workers)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{p}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    """(requests/s, p50 s, p99 s, failed responses) from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        raise ValueError(f"wrk printed no Requests/sec:\n{output}")

    def pct(p: int) -> float:
        m = re.search(rf"^\s*{p}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")

    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return float(rps.group(1)), pct(50), pct(99), int(failed.group(1)) if failed else 0


class _Client:
    """HTTP/1.1 GETs of one path over keep-alive connections on one event loop: no thread per
    connection waking from sleep and taking turns at the GIL, so the arrivals leave on time."""

    def __init__(self, url: str) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.request = f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, pick: Callable[[int], int] = lambda n: n - 1) -> int:
        """One request on an idle connection (`pick` chooses which; a new one if none is idle);
        → its status. A kept-alive connection the server has closed meanwhile is tried once more on
        a new one, as a proxy does for a GET; a connection that fails, is abandoned (cancelled) or
        that the server says it closes is closed."""
        if self.idle:
            try:
                return await self._exchange(self.idle.pop(pick(len(self.idle))))
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
        return await self._exchange(await self._connect())

    async def _exchange(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> int:
        reader, writer = conn
        try:
            writer.write(self.request)
            head = await reader.readuntil(b"\r\n\r\n")
            status, length, chunked, keep = int(head.split(b" ", 2)[1]), 0, False, True
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif name == b"connection" and b"close" in value.lower():
                    keep = False
            if chunked:
                while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    await reader.readexactly(size + 2)
                await reader.readuntil(b"\r\n")
            elif length:
                await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append(conn)
        else:
            writer.close()
        return status

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


def service_times(url: str, seconds: float) -> list[float]:
    """Each request alone (one connection, the next sent when the last is answered): seconds each."""

    async def run() -> list[float]:
        client, times = _Client(url), []
        await client.get()  # the connection, and a first request that warms the path
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t = time.monotonic()
            await client.get()
            times.append(time.monotonic() - t)
        client.close()
        return times

    return _loop_run(run())


def poisson(
    url: str, rate: float, seconds: float, seed: int = 1, timeout: float = OPEN_LOOP_TIMEOUT
) -> tuple[list[float], int]:
    """Open-loop load: requests arrive as a Poisson process at `rate`/s, whatever the service does
    (wrk's closed loop waits for answers, so it never shows queueing), each on an idle keep-alive
    connection picked at random (as a proxy's pool spreads them over a pod's workers; a new one
    when none is idle). → (each answered request's latency (s), counted from its scheduled arrival
    so a client-side wait counts too; how many failed: an error status, a broken connection, or
    no answer within `timeout`)."""
    import random

    rng = random.Random(seed)

    async def run() -> tuple[list[float], int]:
        client, latencies, failed = _Client(url), [], 0
        for _ in range(16):
            client.idle.append(await client._connect())

        async def one(due: float) -> None:
            nonlocal failed
            try:
                status = await asyncio.wait_for(client.get(rng.randrange), timeout)
            except _BROKEN:
                failed += 1
                return
            if 200 <= status < 400:
                latencies.append(time.monotonic() - due)
            else:
                failed += 1

        # time.monotonic, not loop.time: uvloop's clock moves in whole milliseconds
        start, t, tasks = time.monotonic() + 0.1, 0.0, []
        while (t := t + rng.expovariate(rate)) < seconds:
            if (delay := start + t - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            # from its scheduled time if sent late (the client's delay counts), from now if the
            # timer woke a little early (its resolution is a millisecond)
            tasks.append(asyncio.ensure_future(one(min(start + t, time.monotonic()))))
        await asyncio.gather(*tasks)
        client.close()
        return latencies, failed

    return _loop_run(run())


def _loop_run(coro: Coroutine[Any, Any, _T]) -> _T:
    """uvloop where installed (kubeship serve's own loop): its timers wake on time under load. A
    service that stops answering is one error line, not a traceback."""
    try:
        import uvloop

        run: Callable[[Coroutine[Any, Any, _T]], _T] = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        run = asyncio.run
    try:
        return run(coro)
    except _BROKEN as exc:
        raise UsageError(f"the service stopped answering under load: {exc!r}") from None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(
    app: str,
    path: str,
    workers: Sequence[int],
    connections: Sequence[int],
    seconds: float,
    cwd: Path,
    progress: Callable[[str], None] = lambda _: None,
    open_loop_share: float = 0.5,
    rounds: int = 1,
    open_seconds: float = 10.0,
) -> Measurement:
    """Per worker count: the wrk connection ladder, requests served alone, then `rounds` of
    `open_seconds` of Poisson arrivals at `open_loop_share` of the capacity that ladder reached."""
    if shutil.which("wrk") is None:
        raise UsageError("wrk is not installed: apt-get install wrk (kubeship measures with it)")
    mine = os.sched_getaffinity(0)
    server_cpus, client_cpus = split_cpus(sorted(mine))
    runs, open_runs, service, cpu = [], [], {}, {}
    os.sched_setaffinity(0, client_cpus)  # the client (wrk, this loop) off the server's cores
    try:
        for count in workers:
            proc, port = _serve(app, count, cwd, server_cpus)
            try:
                url = f"http://127.0.0.1:{port}{path}"
                ladder = _ladder(proc, url, count, connections, seconds, progress)
                runs += ladder
                before = cpu_seconds(proc.pid)
                service[count] = service_times(url, seconds)
                cpu_alone = (cpu_seconds(proc.pid) - before) / (len(service[count]) + 1)  # + the warm-up
                alone = sorted(service[count])
                rate = max(r.rps for r in ladder) * open_loop_share
                # as long as a measured round: a short one lets one slow moment of the machine set it
                cost = cpu_cost(cpu_alone, _cpu_under_load(proc, url, rate, max(seconds, open_seconds)))
                read = "CPU too little to read (ticks of 10 ms): the model takes the times alone"
                if cost is not None:
                    cpu[count] = cost
                    read = f"CPU {cost.alone * 1000:.2f} ms a request; under load {cost.loaded * 1000:.2f} ms"
                median = alone[len(alone) // 2] * 1000
                progress(f"workers {count}, served alone: median {median:.1f} ms, {read}")
                open_runs.append(_open_loop(proc, url, count, rate, rounds, open_seconds, progress))
            finally:
                stop(proc)
    finally:
        os.sched_setaffinity(0, mine)
    return Measurement(runs, open_runs, service, len(server_cpus), cpu)


def cpu_cost(alone: float, loaded: float) -> CpuCost | None:
    """The server's CPU a request (seconds), or None where a reading is 0: /proc counts CPU in ticks
    of 10 ms, so a short phase of cheap requests can read nothing, and CpuCost refuses that."""
    return CpuCost(alone, loaded) if alone > 0 and loaded > 0 else None


def _cpu_under_load(proc: subprocess.Popen[bytes], url: str, rate: float, seconds: float) -> float:
    """Server CPU seconds a request costs under Poisson arrivals at `rate`: a calibration run before
    the measured rounds (their P99 is what the model is held against, so it does not feed it). With
    more workers than cores, each request's worker comes back to caches the others filled."""
    before = cpu_seconds(proc.pid)
    answered, failed = poisson(url, rate, seconds, seed=0)
    return (cpu_seconds(proc.pid) - before) / max(1, len(answered) + failed)


def _serve(app: str, count: int, cwd: Path, cpus: set[int]) -> tuple[subprocess.Popen[bytes], int]:
    """`kubeship serve APP --workers COUNT` on `cpus` (its workers inherit them), once it is ready."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeship", "serve", app, "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(count), "--drain-seconds", "0"],
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(cwd)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, preexec_fn=lambda: os.sched_setaffinity(0, cpus),
        start_new_session=True,  # `stop` can take its workers with it
    )  # fmt: skip
    try:
        _wait_ready(proc, port)
    except UsageError:
        stop(proc)
        raise
    return proc, port


def _ladder(
    proc: subprocess.Popen[bytes],
    url: str,
    count: int,
    connections: Sequence[int],
    seconds: float,
    progress: Callable[[str], None],
) -> list[Run]:
    """wrk at each connection count, with the CPU the server used."""
    _wrk(url, 2, 1.0)  # warm-up: imports, first connections
    runs = []
    for conns in connections:
        before, start = cpu_seconds(proc.pid), time.monotonic()
        rps, p50, p99, failed = parse_wrk(_wrk(url, conns, seconds))
        cores = (cpu_seconds(proc.pid) - before) / (time.monotonic() - start)
        if failed:
            raise UsageError(f"{url}: {failed} responses were not 2xx/3xx: measure a path that succeeds")
        runs.append(Run(count, conns, rps, cores, p50, p99))
        progress(f"workers {count}, connections {conns}: {rps:,.0f} req/s, {cores:.2f} cores, "
                 f"P99 {p99 * 1000:.1f} ms")  # fmt: skip
    return runs


def _open_loop(
    proc: subprocess.Popen[bytes],
    url: str,
    count: int,
    rate: float,
    rounds: int,
    seconds: float,
    progress: Callable[[str], None],
) -> Run:
    """`rounds` of Poisson arrivals at `rate`, pooled: a P99 of thousands of requests, not of a few."""
    latencies: list[float] = []
    per_round: list[float] = []
    busy = took = 0.0
    for round_ in range(rounds):
        before, start = cpu_seconds(proc.pid), time.monotonic()
        answered, failed = poisson(url, rate, seconds, seed=round_ + 1)
        if failed:
            raise UsageError(
                f"{url}: {failed} of {failed + len(answered)} requests failed under Poisson arrivals at "
                f"{rate:,.0f} req/s (an error status, a broken connection or no answer in "
                f"{OPEN_LOOP_TIMEOUT:g} s)"
            )
        latencies += answered
        if answered:
            per_round.append(_p99(sorted(answered)))
        busy += cpu_seconds(proc.pid) - before
        took += time.monotonic() - start
    latencies.sort()
    if not (done := len(latencies)):
        raise UsageError(f"{url}: no request was sent in {seconds:g} s at {rate:.2g} req/s")
    p50, p99 = latencies[done // 2], _p99(latencies)
    progress(f"workers {count}, Poisson arrivals at {rate:,.0f} req/s: {done:,} requests, "
             f"P99 {p99 * 1000:.1f} ms")  # fmt: skip
    return Run(count, 0, done / (seconds * rounds), busy / took, p50, p99, tuple(per_round))


def _p99(ordered: Sequence[float]) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def split_cpus(cpus: Sequence[int]) -> tuple[set[int], set[int]]:
    """(the server's, the client's): the last CPU for the load, the rest for the service, so the
    client's own work is not counted as the service's latency; one CPU is shared by both."""
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return set(cpus[:-1]), {cpus[-1]}


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (no drain window), then SIGKILL if it has not exited in 15 s. A server started in a
    session of its own loses what is left of its group too: a supervisor killed under overload
    left its workers serving."""
    try:
        leader = os.getpgid(proc.pid) == proc.pid  # asked while it exists: its group outlives it
    except ProcessLookupError:
        leader = False
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if leader:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _wrk(url: str, connections: int, seconds: float) -> str:
    threads = max(1, min(2, connections))
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url],
        capture_output=True, text=True, timeout=seconds + 60,
    )  # fmt: skip
    if result.returncode != 0:
        raise UsageError(f"wrk failed on {url}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def _wait_ready(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            last = err.splitlines()[-1] if err else f"exit code {proc.returncode}"
            raise UsageError(f"the service exited before it was ready: {last}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise UsageError(f"the service did not answer /healthz within {timeout:.0f} s")
