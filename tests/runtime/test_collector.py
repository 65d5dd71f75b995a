"""The garbage collector set for serving: the young generation holds the requests in flight.

Python collects its young objects every 700 net allocations. Requests that await keep theirs alive,
so each young collection walked every request in flight and promoted it; how much throughput sizing
the young generation buys is measured in benchmarks/serve.py (FastAPI /query), not here.
"""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import httpx

from kubeship.names import DEFAULT_MAX_CONCURRENCY, MAX_YOUNG_GENERATION, TRACKED_PER_REQUEST
from kubeship.runtime.serve import young_generation
from tests.pki import CA, client_context
from tests.runtime.test_mtls import start_mtls


def test_the_young_generation_is_sized_for_the_requests_in_flight_and_never_lowered() -> None:
    python_default = 700
    assert young_generation(64, python_default) == 64 * TRACKED_PER_REQUEST
    assert young_generation(1, python_default) == python_default  # never below Python's own
    assert young_generation(64, 50_000) == 50_000  # the app set a larger one itself: kept
    assert young_generation(64, 0) == 0  # the app turned collection off: it stays off
    # a huge bound is capped: Python takes a C int, and a million objects of garbage is plenty
    assert young_generation(10_000_000, python_default) == MAX_YOUNG_GENERATION
    assert young_generation(10_000_000, 2_000_000) == 2_000_000  # still never lowered


async def _in_flight(url: str, requests: int, seconds: float) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=url, timeout=10, limits=httpx.Limits(max_connections=requests)
    ) as c:
        answers = await asyncio.gather(
            *(c.get("/hold", params={"seconds": seconds}) for _ in range(requests))
        )
    assert all(a.status_code == 200 for a in answers)
    return answers[0].json()  # type: ignore[no-any-return]


def test_a_worker_holding_every_request_it_admits_runs_no_young_collection(serve: Any) -> None:
    svc = serve("fastapi_app:app", "--drain-seconds", "0")
    before = httpx.get(svc.url + "/gc", timeout=5).json()
    assert before["threshold"][0] == DEFAULT_MAX_CONCURRENCY * TRACKED_PER_REQUEST
    assert list(before["threshold"][1:]) == list(gc.get_threshold()[1:])  # the older ones as Python's
    for _ in range(3):  # the worker's whole concurrency, each FastAPI request awaiting
        held = asyncio.run(_in_flight(svc.url, DEFAULT_MAX_CONCURRENCY, 1.0))
        # (nearly) all of them in the app at once; a slow machine may open the last connections late
        assert held["most"] >= DEFAULT_MAX_CONCURRENCY * 3 // 4, held
    after = httpx.get(svc.url + "/gc", timeout=5).json()
    assert after["pid"] == before["pid"]
    # With Python's 700 the same waves ran 27 young collections, each walking every request in flight.
    assert after["young"] - before["young"] <= 2, (before, after)
    serving = svc.wait_log(lambda line: line.get("msg") == "serving")
    assert serving["gc_young"] == before["threshold"][0]  # said where operators look


def test_the_mtls_servers_workers_too(serve: Any, tmp_path: Path) -> None:
    """mTLS is served by uvicorn over Python's ssl in workers of its own: the same collector."""
    ca = CA()
    svc, url = start_mtls(serve, tmp_path, ca, "--max-concurrency", "10", "--drain-seconds", "0")
    client = ca.issue(uris=("spiffe://cluster.local/ns/shop/sa/ops",))
    answer = httpx.get(url + "/gc", verify=client_context(ca.pem, client, tmp_path), timeout=5).json()
    assert answer["threshold"][0] == 10 * TRACKED_PER_REQUEST  # sized for this worker's bound
    assert svc.wait_log(lambda line: line.get("msg") == "serving")["gc_young"] == 10 * TRACKED_PER_REQUEST
