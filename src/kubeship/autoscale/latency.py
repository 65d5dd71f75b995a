"""A pod's P99 from measured service times, where M/M/c misses how a Python service queues (pure).

M/M/c pools every worker of every pod into one queue with exponential service. A Python pod is not
that: each request stays on the worker (process) its connection reached, routed at random (kube-proxy
between pods, the kernel between a pod's workers); inside a worker, requests share the GIL as threads
or await points interleave them (processor sharing), and workers beyond the pod's cores share those
cores. Measured on the seed's /work endpoint, that is what moves the P99 (benchmarks/simulate_accuracy.py).
Where `kubeship autoscale measure` also took the server's CPU (`CpuCost`), a request occupies the cores
for the CPU it costs under load (workers taking turns on a core come back to caches the others filled:
4 workers on 1 core, +0.1–0.4 ms on 1.4), and the rest of its time served alone (the network, the
client) delays its own response only.

`pod_latency` runs a discrete-event model of one such pod on the service times `kubeship autoscale
measure` recorded, over a grid of utilizations, once; `PodLatency.p99` then reads the curve for any
load, so the per-second simulator stays vectorised. Same inputs, same curve (seeded).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Discipline = Literal["ps", "fcfs"]

# Utilizations (of the pod's cores) the curve is computed at; above the last it is extrapolated by
# the 1/(1-rho) growth every single-server queue shares, and at 1 the pod cannot keep up.
GRID = (0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
ARRIVALS = 20_000  # per grid point: a stable P99 (common random numbers across the grid)
LATENCY_CAP = 10.0


@dataclass(frozen=True)
class CpuCost:
    """Server CPU seconds a request cost, measured: served alone, and under Poisson arrivals."""

    alone: float
    loaded: float

    def __post_init__(self) -> None:
        if not (0 < self.alone < np.inf and 0 < self.loaded < np.inf):
            raise ValueError(
                f"CPU a request costs must be positive seconds, not {self.alone} and {self.loaded}"
            )


@dataclass(frozen=True)
class PodLatency:
    """P99 response time of one pod against its utilization: arrivals × the mean service time over
    its cores. The service time is what a request occupies the pod's cores for: its time served
    alone (measured, one connection), or with its CPU measured too, that CPU under load; `delay` is
    the rest of its time alone (the network, the client), which holds up no other request."""

    utilization: tuple[float, ...]
    p99_over_service: tuple[float, ...]  # P99 in units of the mean service time
    mean_service: float  # seconds
    workers: int
    cores: float
    delay: float = 0.0  # seconds added to each response

    def p99(self, rate: FloatArray) -> FloatArray:
        """Seconds, per arrival rate at the pod (requests/s); LATENCY_CAP where it cannot keep up."""
        rho = np.asarray(rate, dtype=float) * self.mean_service / self.cores
        grid, ratio = np.array(self.utilization), np.array(self.p99_over_service)
        inside = np.exp(np.interp(rho, grid, np.log(ratio)))  # the curve is near exponential in ρ
        last = grid[-1]
        beyond = ratio[-1] * (1 - last) / np.maximum(1 - rho, 1e-9)
        out = np.where(rho <= last, inside, beyond) * self.mean_service + self.delay
        return np.where(rho >= 1, LATENCY_CAP, np.minimum(out, LATENCY_CAP))


def pod_latency(
    service: Sequence[float],
    workers: int,
    cores: float,
    discipline: Discipline = "ps",
    seed: int = 0,
    cpu: CpuCost | None = None,
) -> PodLatency:
    """The curve for a pod of `workers` processes on `cores` cores, from measured service times
    (seconds, each a request served alone) and, if measured, the CPU a request costs. ValueError on
    an empty or non-positive sample."""
    sizes, delay = _occupancy(service, workers, cores, cpu)
    mean = float(sizes.mean())
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0, ARRIVALS)  # common random numbers: one draw scaled per utilization
    drawn = rng.choice(sizes / mean, ARRIVALS)
    routes = rng.integers(0, workers, ARRIVALS)
    capacity = min(float(workers), cores)  # requests in service at once, in mean service times
    ratios = []
    for rho in GRID:
        rate = rho * cores  # arrivals per mean service time
        if rate >= capacity:  # fewer workers than cores: the pod saturates below full utilization
            ratios.append(LATENCY_CAP / mean)
            continue
        arrivals = np.cumsum(gaps / rate)
        times = sojourn_times(arrivals, drawn, routes, workers, cores, discipline)
        ratios.append(float(np.quantile(times[len(times) // 10 :], 0.99)))  # past the empty start
    monotone = np.maximum.accumulate(np.array(ratios))
    return PodLatency(GRID, tuple(float(r) for r in monotone), mean, workers, cores, delay)


def p99_spread(
    service: Sequence[float],
    workers: int,
    cores: float,
    rate: float,
    requests: int,
    runs: int = 20,
    discipline: Discipline = "ps",
    seed: int = 0,
    cpu: CpuCost | None = None,
) -> tuple[float, float, float]:
    """The 10th, 50th and 90th percentile of the P99 (seconds) the model gives a run of `requests`
    requests at `rate`/s: a P99 is dominated by a few busy periods, so one run of a few thousand
    requests lands anywhere in a wide band, measured or modelled (600 requests at half load: ±40 %)."""
    sizes, delay = _occupancy(service, workers, cores, cpu)
    rng = np.random.default_rng(seed)
    p99s = []
    for _ in range(runs):
        arrivals = np.cumsum(rng.exponential(1 / rate, requests))
        routes = rng.integers(0, workers, requests)
        times = sojourn_times(arrivals, rng.choice(sizes, requests), routes, workers, cores, discipline)
        p99s.append(np.quantile(times, 0.99) + delay)
    low, mid, high = np.quantile(p99s, [0.1, 0.5, 0.9])
    return float(low), float(mid), float(high)


def _occupancy(
    service: Sequence[float], workers: int, cores: float, cpu: CpuCost | None
) -> tuple[FloatArray, float]:
    """(what each request occupies the cores for, the delay added to each response), seconds: the
    times alone less the part that is not the server's CPU (`delay`), plus what load adds to it."""
    sizes = np.asarray(service, dtype=float)
    if not len(sizes) or np.any(~np.isfinite(sizes)) or np.any(sizes <= 0) or workers < 1 or cores <= 0:
        raise ValueError("service times must be positive seconds, workers ≥ 1 and cores > 0")
    if cpu is None:
        return sizes, 0.0
    # at most half the shortest time alone: every request still holds the cores up for something
    delay = min(max(0.0, float(sizes.mean()) - cpu.alone), float(sizes.min()) / 2)
    return sizes - delay + max(0.0, cpu.loaded - cpu.alone), delay


def sojourn_times(
    arrivals: FloatArray,
    sizes: FloatArray,
    routes: NDArray[np.int64],
    workers: int,
    cores: float,
    discipline: Discipline = "ps",
) -> FloatArray:
    """Response time of each request: arrival i of work sizes[i] (at full speed of one core) goes
    to worker routes[i]; a worker serves its requests by processor sharing ("ps": threads under the
    GIL, interleaved awaits) or one at a time ("fcfs": CPU work inside an async handler); busy
    workers share the cores, each at most one."""
    n = len(arrivals)
    out = np.empty(n)
    # ps: per worker a heap of (attained service at which the request is done, id) and the service
    # each of its requests has attained so far; fcfs: a queue and the head's remaining work.
    heaps: list[list[tuple[float, int]]] = [[] for _ in range(workers)]
    attained = [0.0] * workers
    queues: list[deque[int]] = [deque() for _ in range(workers)]
    remaining = [0.0] * workers
    busy: set[int] = set()
    ps = discipline == "ps"
    t, i = 0.0, 0
    while i < n or busy:
        speed = min(1.0, cores / len(busy)) if busy else 0.0
        best, done_at = np.inf, -1
        for w in busy:
            dt = (heaps[w][0][0] - attained[w]) * len(heaps[w]) / speed if ps else remaining[w] / speed
            if dt < best:
                best, done_at = dt, w
        step = arrivals[i] - t if i < n else np.inf
        arrival = step < best
        dt = step if arrival else best
        for w in busy:
            if ps:
                attained[w] += dt * speed / len(heaps[w])
            else:
                remaining[w] -= dt * speed
        t += dt
        if arrival:
            w = int(routes[i])
            if ps:
                heapq.heappush(heaps[w], (attained[w] + sizes[i], i))
            else:
                if not queues[w]:
                    remaining[w] = sizes[i]
                queues[w].append(i)
            busy.add(w)
            i += 1
            continue
        w = done_at
        if ps:
            _, job = heapq.heappop(heaps[w])
            empty = not heaps[w]
        else:
            job = queues[w].popleft()
            if queues[w]:
                remaining[w] = sizes[queues[w][0]]
            empty = not queues[w]
        out[job] = t - arrivals[job]
        if empty:
            busy.discard(w)
    return out
