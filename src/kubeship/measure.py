"""Load-test the real service on this machine (I/O at the edge): `kubeship autoscale measure`.

Starts `kubeship serve APP --workers N` on loopback, drives it with wrk at a
ladder of connection counts, and records per run the requests/s, the CPU
the server's processes used (from /proc) and wrk's latency percentiles.
`kubeship.autoscale.capacity.fit` turns the runs into the simulator's model.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kubeship.autoscale.capacity import Run
from kubeship.errors import UsageError

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


def poisson(url: str, rate: float, seconds: float, seed: int = 1) -> tuple[float, float, float]:
    """Open-loop load: requests arrive as a Poisson process at `rate`/s, whatever the service does
    (wrk's closed loop waits for answers, so it never shows queueing). → (req/s done, p50 s, p99 s),
    latency counted from the scheduled arrival, so a client-side wait counts too."""
    import http.client
    import queue
    import random
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    rng = random.Random(seed)
    arrivals, t = [], 0.0
    while t < seconds:
        t += rng.expovariate(rate)
        arrivals.append(t)
    jobs: queue.Queue[float | None] = queue.Queue()
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.2

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
        while (due := jobs.get()) is not None:
            delay = start + due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            conn.request("GET", target)
            conn.getresponse().read()
            with lock:
                latencies.append(time.monotonic() - (start + due))
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(64)]
    for th in threads:
        th.start()
    for due in arrivals:
        jobs.put(due)
    for _ in threads:
        jobs.put(None)
    for th in threads:
        th.join(seconds + 60)
    latencies.sort()
    done = len(latencies)
    if not done:
        return 0.0, float("nan"), float("nan")
    return done / seconds, latencies[done // 2], latencies[min(done - 1, int(done * 0.99))]


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
) -> tuple[list[Run], list[Run]]:
    """(wrk runs, open-loop runs): per worker count, the connection ladder, then Poisson arrivals at
    `open_loop_share` of the capacity that ladder reached."""
    if shutil.which("wrk") is None:
        raise UsageError("wrk is not installed: apt-get install wrk (kubeship measures with it)")
    runs, open_runs = [], []
    for count in workers:
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(cwd)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubeship", "serve", app, "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(count), "--drain-seconds", "0"],
            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            _wait_ready(proc, port)
            url = f"http://127.0.0.1:{port}{path}"
            _wrk(url, 2, 1.0)  # warm-up: imports, first connections
            for conns in connections:
                before, start = cpu_seconds(proc.pid), time.monotonic()
                rps, p50, p99, failed = parse_wrk(_wrk(url, conns, seconds))
                cores = (cpu_seconds(proc.pid) - before) / (time.monotonic() - start)
                if failed:
                    raise UsageError(
                        f"{url}: {failed} responses were not 2xx/3xx: measure a path that succeeds"
                    )
                runs.append(Run(count, conns, rps, cores, p50, p99))
                progress(f"workers {count}, connections {conns}: {rps:,.0f} req/s, {cores:.2f} cores, "
                         f"P99 {p99 * 1000:.1f} ms")  # fmt: skip
            peak = max(r.rps for r in runs if r.workers == count)
            before, start = cpu_seconds(proc.pid), time.monotonic()
            rps, p50, p99 = poisson(url, peak * open_loop_share, max(seconds, 5.0))
            cores = (cpu_seconds(proc.pid) - before) / (time.monotonic() - start)
            open_runs.append(Run(count, 0, rps, cores, p50, p99))
            progress(f"workers {count}, Poisson arrivals at {rps:,.0f} req/s: P99 {p99 * 1000:.1f} ms")
        finally:
            stop(proc)
    return runs, open_runs


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (no drain window), then SIGKILL if it has not exited in 15 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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
