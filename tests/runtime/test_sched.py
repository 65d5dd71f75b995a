"""`kubeship serve --sched`: every thread of every worker runs under the chosen Linux policy.

SCHED_BATCH (the default) is why Granian's I/O thread and the app's thread stop preempting each
other on each request; the throughput it buys is measured in benchmarks/serve.py, not here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import run_cli
from tests.pki import CA, client_context
from tests.runtime.test_mtls import start_mtls

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")


def thread_policies(pid: int) -> dict[int, int]:
    return {int(tid): os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.parametrize(
    ("flag", "env", "policy"),
    [
        ((), {}, "SCHED_BATCH"),
        (("--sched", "other"), {}, "SCHED_OTHER"),
        ((), {"KUBESHIP_SCHED": "other"}, "SCHED_OTHER"),  # from the environment (autoscale measure)
    ],
)
def test_every_worker_thread_runs_under_the_policy(
    serve: Any, flag: tuple[str, ...], env: dict[str, str], policy: str
) -> None:
    expected = getattr(os, policy)
    svc = serve("fastapi_app:app", "--workers", "2", "--drain-seconds", "0", *flag, env=env)
    seen: dict[int, dict[int, int]] = {}
    with httpx.Client(base_url=svc.url, timeout=5) as client:
        for _ in range(40):  # new connections: the kernel spreads them over both workers
            answer = client.get("/sched", headers={"connection": "close"}).json()
            assert answer["policy"] == expected, answer  # a threadpool thread, started after the fork
            seen.setdefault(answer["pid"], thread_policies(answer["pid"]))
    assert len(seen) == 2, "the requests did not reach both workers"
    for pid, threads in seen.items():
        assert len(threads) >= 3, threads  # Python's, Granian's I/O thread, the threadpool's
        assert set(threads.values()) == {expected}, (pid, threads)
    assert os.sched_getscheduler(svc.proc.pid) == os.SCHED_OTHER  # the supervisor only waits
    serving = svc.wait_log(lambda line: line.get("msg") == "serving")
    assert serving["sched"] == policy.removeprefix("SCHED_").lower()  # said where operators look


def test_an_unknown_policy_is_refused(tmp_path: Path) -> None:
    result = run_cli("serve", "app:app", "--sched", "fifo", cwd=tmp_path)
    assert result.returncode == 2
    assert "'fifo' is not one of 'batch', 'other'" in result.stderr


def test_the_mtls_servers_workers_too(serve: Any, tmp_path: Path) -> None:
    """mTLS is served by uvicorn over Python's ssl in workers of its own: the same policy."""
    ca = CA()
    svc, url = start_mtls(serve, tmp_path, ca, "--workers", "2", "--drain-seconds", "0")
    client = ca.issue(uris=("spiffe://cluster.local/ns/shop/sa/ops",))
    seen: dict[int, dict[int, int]] = {}
    for _ in range(40):
        answer = httpx.get(url + "/sched", verify=client_context(ca.pem, client, tmp_path), timeout=5).json()
        assert answer["policy"] == os.SCHED_BATCH, answer
        seen.setdefault(answer["pid"], thread_policies(answer["pid"]))
    assert len(seen) == 2, "the requests did not reach both workers"
    for pid, threads in seen.items():
        assert set(threads.values()) == {os.SCHED_BATCH}, (pid, threads)
    assert svc.wait_log(lambda line: line.get("msg") == "serving")["sched"] == "batch"
