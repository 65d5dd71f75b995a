"""Prometheus RED metrics, aggregated per process and folded in batches.

Per batch of finished requests the runtime adds plain Python numbers in a dict
keyed by (method, route, status): no locks, no mmap writes per request.
`flush()` folds the pending counts into prometheus_client's metrics, which in
multiprocess mode (PROMETHEUS_MULTIPROC_DIR set, as `kubeship serve` does) live
in per-process files that any worker aggregates at scrape time. Each worker
flushes every `FLUSH_INTERVAL` and before it answers a scrape, so a scrape is
exact for its own worker and at most one interval behind for the others.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prom_mp

from kubeship.names import (
    LATENCY_BUCKETS,
    METRIC_DURATION,
    METRIC_IN_FLIGHT,
    METRIC_LABELS,
    METRIC_REQUESTS,
)

FLUSH_INTERVAL = 0.5
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Only standard methods become label values: a client sending `FOO /` must not
# create a new time series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class RedMetrics:
    """Request rate, errors (by status) and duration, plus requests in flight."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(sorted(buckets))
        self.in_flight = 0
        # key -> [count, sum_seconds, bucket_0, ..., bucket_n (+Inf)]
        self.pending: dict[tuple[str, str, str], list[float]] = {}
        self._mp_dir = multiprocess_dir()
        # In multiprocess mode, metrics must not sit in a registry that is also
        # exposed, or the live process would be counted twice.
        self._registry: CollectorRegistry | None = None if self._mp_dir else CollectorRegistry()
        self.requests = Counter(
            METRIC_REQUESTS, "HTTP requests handled.", METRIC_LABELS, registry=self._registry
        )
        self.duration = Histogram(
            METRIC_DURATION,
            "HTTP request duration in seconds, from first byte in to last byte out.",
            METRIC_LABELS,
            buckets=self.bounds,
            registry=self._registry,
        )
        gauge_kwargs: dict[str, Any] = {"multiprocess_mode": "livesum"} if self._mp_dir else {}
        self.in_flight_gauge = Gauge(
            METRIC_IN_FLIGHT, "HTTP requests being handled now.", registry=self._registry, **gauge_kwargs
        )
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def record_many(self, method: str, route: str, status: int | str, durations: list[float]) -> None:
        """Observe the `durations` (seconds; sorted in place) of requests with these labels.

        Called once per label set and batch of finished requests, not per request: the counts
        come from C (len, sum, sort, bisect) instead of a few bytecodes per request and bucket."""
        key = (method if method in KNOWN_METHODS else "OTHER", route, str(status))
        entry = self.pending.get(key)
        if entry is None:
            entry = self.pending[key] = [0.0] * (len(self.bounds) + 3)
        entry[0] += len(durations)
        entry[1] += sum(durations)
        durations.sort()
        below = 0  # observations in the buckets so far; a bucket holds those <= its bound (le)
        for i, bound in enumerate(self.bounds, 2):
            upto = bisect_right(durations, bound, below)
            entry[i] += upto - below
            below = upto
        entry[-1] += len(durations) - below

    def flush(self) -> None:
        """Fold pending observations into prometheus_client (cheap when idle)."""
        pending, self.pending = self.pending, {}
        for key, entry in pending.items():
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (self.requests.labels(*key), self.duration.labels(*key))
            counter, histogram = children
            counter.inc(entry[0])
            _add_to_histogram(histogram, entry)
        self.in_flight_gauge.set(self.in_flight)

    def exposition(self) -> bytes:
        """The text exposition every worker answers /metrics with."""
        self.flush()
        if self._mp_dir:
            registry = CollectorRegistry()
            prom_mp.MultiProcessCollector(registry, path=self._mp_dir)
            return bytes(generate_latest(registry))
        own = generate_latest(self._registry) if self._registry is not None else b""
        return bytes(own) + bytes(generate_latest(REGISTRY))

    def process_exit(self) -> None:
        """Flush and drop this worker's live gauge, so a dead worker isn't 'in flight'."""
        self.in_flight = 0
        self.flush()
        if self._mp_dir:
            prom_mp.mark_process_dead(os.getpid(), self._mp_dir)


def _add_to_histogram(histogram: Any, entry: list[float]) -> None:
    # prometheus_client has no public "add n observations"; its histogram
    # child keeps one value per bucket (non-cumulative) and a sum. A test pins
    # the exposition so a library change that breaks this fails loudly.
    histogram._sum.inc(entry[1])
    for i, n in enumerate(entry[2:]):
        if n:
            histogram._buckets[i].inc(n)
