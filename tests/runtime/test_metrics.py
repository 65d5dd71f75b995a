"""Metrics are exact across worker processes, and the batching folds correctly."""

from __future__ import annotations

import time
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from kubeship.names import LATENCY_BUCKETS, METRIC_DURATION, METRIC_IN_FLIGHT, METRIC_REQUESTS
from kubeship.runtime.metrics import FLUSH_INTERVAL, RedMetrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_counts_are_exact_across_two_workers(serve: Any) -> None:
    svc = serve("fastapi_app:app", "--workers", "2")
    n = 120
    for i in range(n):
        # a fresh connection each time, so the kernel spreads them over both workers
        with httpx.Client() as client:
            assert client.get(f"{svc.url}/users/{i}").status_code == 200
    ids = {
        line["request_id"].split("-")[0]
        for line in svc.log_lines()
        if line.get("route") == "/users/{user_id}"
    }
    time.sleep(FLUSH_INTERVAL * 3)  # every worker folds its counts at least once
    seen = set()
    for _ in range(6):  # each scrape lands on either worker: both must give the same totals
        with httpx.Client() as client:
            r = client.get(svc.url + "/metrics")
        seen.add(r.headers["x-request-id"].split("-")[0])
        got = samples(r.text)
        key = (METRIC_REQUESTS, (("method", "GET"), ("route", "/users/{user_id}"), ("status", "200")))
        assert got[key] == n
        hist = (
            METRIC_DURATION + "_count",
            (("method", "GET"), ("route", "/users/{user_id}"), ("status", "200")),
        )
        assert got[hist] == n
    assert len(ids | seen) == 2, "the load should have reached both workers"


def test_batched_histogram_matches_what_prometheus_client_would_record() -> None:
    m = RedMetrics()
    # unsorted, in two batches, some exactly on a bound (a bucket counts those <= its bound)
    first, second = [0.3, 0.001, 11.0, 0.005, 0.007], [2.0, 0.31, 10.0, 0.0049, 2.5, 0.3]
    durations = first + second
    m.record_many("GET", "/x", 200, list(first))
    m.record_many("GET", "/x", 200, list(second))
    m.record_many("BREW", "/x", 418, [0.01])  # a non-standard method must not become a label value
    m.in_flight = 3
    got = samples(m.exposition().decode())
    labels = (("method", "GET"), ("route", "/x"), ("status", "200"))
    assert got[(METRIC_REQUESTS, labels)] == len(durations)
    assert abs(got[(METRIC_DURATION + "_sum", labels)] - sum(durations)) < 1e-9
    for bound in LATENCY_BUCKETS:
        le = str(bound)
        expected = sum(1 for d in durations if d <= bound)
        assert got[(METRIC_DURATION + "_bucket", (("le", le), *labels))] == expected, le
    assert got[(METRIC_DURATION + "_bucket", (("le", "+Inf"), *labels))] == len(durations)
    assert got[(METRIC_REQUESTS, (("method", "OTHER"), ("route", "/x"), ("status", "418")))] == 1
    assert got[(METRIC_IN_FLIGHT, ())] == 3
