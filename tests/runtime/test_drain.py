"""SIGTERM: readiness 503 at once, keep serving through the drain window, finish in-flight, exit 0."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest


def test_sigterm_drains_then_completes_in_flight_requests(serve: Any) -> None:
    svc = serve("fastapi_app:app", "--workers", "2", "--drain-seconds", "1.5", "--shutdown-timeout", "10")
    with ThreadPoolExecutor(4) as pool:
        slow = [pool.submit(httpx.get, svc.url + "/slow?seconds=3", timeout=20) for _ in range(4)]
        time.sleep(0.5)  # the slow requests are in flight
        sent_at = time.monotonic()
        svc.proc.send_signal(signal.SIGTERM)

        # 1. readiness turns 503 at once, while the service still serves
        ready = None
        while time.monotonic() - sent_at < 1.0:
            ready = httpx.get(svc.url + "/readyz")
            if ready.status_code == 503:
                break
            time.sleep(0.02)
        assert ready is not None and ready.status_code == 503
        assert ready.json() == {"status": "not ready", "failed": ["draining"]}
        assert httpx.get(svc.url + "/ping").status_code == 200  # still serving during the drain
        assert httpx.get(svc.url + "/healthz").status_code == 200  # alive: no liveness restart

        # 2. after the drain window the listener closes: new connections are refused
        time.sleep(max(0.0, 1.5 + 0.5 - (time.monotonic() - sent_at)))
        refused = False
        for _ in range(20):
            try:
                httpx.get(svc.url + "/ping", timeout=1)
            except httpx.ConnectError:
                refused = True
                break
            time.sleep(0.05)
        assert refused

        # 3. in-flight requests complete
        results = [f.result() for f in slow]
    assert [r.status_code for r in results] == [200] * 4
    assert svc.proc.wait(15) == 0
    messages = [ln.get("msg") for ln in svc.log_lines()]
    assert "SIGTERM: draining; readiness now 503" in messages and messages[-1] == "stopped"


def test_shutdown_timeout_bounds_how_long_stragglers_may_run(serve: Any) -> None:
    svc = serve("fastapi_app:app", "--drain-seconds", "0.2", "--shutdown-timeout", "1")
    with ThreadPoolExecutor(1) as pool:
        straggler = pool.submit(httpx.get, svc.url + "/slow?seconds=30", timeout=40)
        time.sleep(0.3)
        start = time.monotonic()
        svc.proc.send_signal(signal.SIGTERM)
        svc.proc.wait(15)
        elapsed = time.monotonic() - start
        # the connection is cut: what a Kubernetes SIGKILL would do, but on our schedule
        with contextlib.suppress(httpx.HTTPError):
            straggler.result()
    assert elapsed < 6, elapsed


def test_sigint_stops_without_a_drain_window(serve: Any) -> None:
    svc = serve("fastapi_app:app", "--drain-seconds", "30")
    start = time.monotonic()
    assert svc.stop(signal.SIGINT) == 0
    assert time.monotonic() - start < 10


def test_a_stop_while_a_worker_starts_ends_it_at_once(serve: Any, tmp_path: Path) -> None:
    """A worker inherits the supervisor's handlers at fork; a SIGTERM then was swallowed and the
    worker killed only after the shutdown timeout (20 s by default, 60 here)."""
    mark = tmp_path / "getting-its-app"
    svc = serve(
        "slow_start_app:app", "--drain-seconds", "0", "--shutdown-timeout", "60",
        ready=False, env={"SLOW_START_MARK": str(mark)},
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not mark.exists():  # the worker is forked and getting its app (5 s)
        assert time.monotonic() < deadline and svc.proc.poll() is None, svc.output()
        time.sleep(0.05)
    svc.proc.send_signal(signal.SIGTERM)
    try:
        assert svc.proc.wait(20) == 0
    except subprocess.TimeoutExpired:  # seen once under a loaded full run: keep what tells why
        pid = str(svc.proc.pid)
        ps = ["ps", "-o", "pid,ppid,stat,wchan:32,args", "-p", pid, "--ppid", pid]
        tree = subprocess.run(ps, capture_output=True, text=True).stdout
        pytest.fail(f"the supervisor did not stop 20 s after SIGTERM:\n{tree}\n{svc.output()}")
