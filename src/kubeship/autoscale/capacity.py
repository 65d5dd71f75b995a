"""From measured load-test runs to the simulator's capacity model (pure).

A run is one closed-loop load level against the real service: requests/s
achieved, server CPU cores used, latency percentiles. The fit is what the
simulator needs: requests/s one core serves (`rps_per_core`, from the run
that drove the most throughput, where fixed costs are best amortized) and
the capacity and cores at saturation. `report` holds the models against the
measurement: the capacity each worker count reached, and the P99 under Poisson
arrivals as the pod model (`autoscale.latency`, on the measured service times)
and M/M/c predict it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from kubeship.autoscale.latency import CpuCost, p99_spread, pod_latency
from kubeship.autoscale.simulate import mmc_p99

# The measured rounds' CPU a request this far from the calibration round's: the machine changed speed
# between them (a shared host), so the model was fed another machine than the one measured.
CPU_DRIFT = 0.08


@dataclass(frozen=True)
class Run:
    workers: int
    connections: int
    rps: float
    cores: float  # server CPU seconds per second over the run
    p50: float  # seconds
    p99: float  # seconds
    # open loop: each round's own P99 (seconds), beside `p99` of them pooled: the same load measured
    # again lands elsewhere on a shared machine, and the spread says how far
    p99_rounds: tuple[float, ...] = ()


@dataclass(frozen=True)
class Measurement:
    """What `kubeship autoscale measure` took from the real service (kubeship.measure)."""

    runs: list[Run]  # wrk's closed-loop ladder, per worker count
    open_runs: list[Run]  # Poisson arrivals, per worker count (the rounds pooled)
    service: dict[int, list[float]]  # per worker count: seconds each request took served alone
    cores: int  # cores the server could use
    cpu: dict[int, CpuCost] = field(default_factory=dict)  # per worker count: the server's CPU a request


@dataclass(frozen=True)
class Capacity:
    rps_per_core: float
    capacity_rps: float  # the most throughput seen
    cores_at_capacity: float


def fit(runs: Sequence[Run]) -> Capacity:
    """ValueError when no run used measurable CPU (the service did no work)."""
    usable = [r for r in runs if r.cores > 0.05 and r.rps > 0]
    if not usable:
        raise ValueError("no run used measurable CPU: load the service with a path that does work")
    top = max(usable, key=lambda r: r.rps)
    return Capacity(top.rps / top.cores, top.rps, top.cores)


def predicted_capacity(model: Capacity, cores: float) -> float:
    """What the simulator assumes a pod with `cores` serves: rps_per_core × cores."""
    return model.rps_per_core * cores


def predicted_p99(model: Capacity, arrival_rps: float, servers: int, cores_per_server: float) -> float:
    """The M/M/c P99 the simulator would report for `arrival_rps` on `servers` workers."""
    return mmc_p99(arrival_rps, servers, model.rps_per_core * cores_per_server)


SERVICE_QUANTILES = 200  # service times kept per worker count: the distribution's shape, not every sample


def report(measured: Measurement, counts: list[int], open_seconds: float) -> dict[str, Any]:
    """The fit, the runs and, per worker count, the models held against the measurement (pure);
    `open_seconds` is how long the open-loop runs lasted in all (for the model's band)."""
    model = fit([r for r in measured.runs if r.workers == counts[0]])
    quantiles = np.linspace(0, 1, SERVICE_QUANTILES)
    report: dict[str, Any] = {
        "fit": asdict(model),
        "cores": measured.cores,
        "serviceSeconds": {
            str(count): [float(q) for q in np.quantile(times, quantiles)]
            for count, times in measured.service.items()
        },
        "cpuSeconds": {str(count): asdict(cost) for count, cost in measured.cpu.items()},
        "runs": [asdict(r) for r in measured.runs],
        "openLoopRuns": [asdict(r) for r in measured.open_runs],
        "checks": [],
    }
    for count in counts:
        mine = [r for r in measured.runs if r.workers == count]
        top = max(mine, key=lambda r: r.rps)
        poisson = next(r for r in measured.open_runs if r.workers == count)
        service, cores = report["serviceSeconds"][str(count)], min(count, measured.cores)
        cpu = measured.cpu.get(count)
        p99 = float(pod_latency(service, count, cores, cpu=cpu).p99(np.array([poisson.rps]))[0])
        requests = round(poisson.rps * open_seconds)
        band = p99_spread(service, count, cores, poisson.rps, requests, cpu=cpu) if requests >= 100 else None
        capacity = predicted_capacity(model, top.cores)
        report["checks"].append(
            {
                "workers": count,
                "capacityMeasured": top.rps,
                "capacityPredicted": capacity,
                "capacityError": capacity / top.rps - 1,
                "arrivalRps": poisson.rps,
                "p99Measured": poisson.p99,
                "p99Rounds": list(poisson.p99_rounds),
                "p99Predicted": p99,
                "p99Error": p99 / poisson.p99 - 1 if poisson.p99 > 0 else None,
                # where the model's own P99 lands over runs as long as the measured one (10-90 %)
                "requests": requests,
                "p99ModelBand": list(band) if band else None,
                "p99MMc": predicted_p99(model, poisson.rps, count, top.cores / count),
                # the rounds' CPU a request against the calibration's (None without both)
                "cpuDrift": poisson.cores / poisson.rps / cpu.loaded - 1 if cpu and poisson.rps > 0 else None,
            }
        )
    return report


def drift_warning(check: dict[str, Any]) -> str | None:
    """One line when a check's rounds ran on a machine of another speed than its calibration (pure)."""
    drift = check.get("cpuDrift")
    if drift is None or abs(drift) <= CPU_DRIFT:
        return None
    return (
        f"warning: at {check['workers']} worker(s) the measured rounds cost {drift:+.0%} CPU a request "
        f"against the calibration round: the machine changed speed while they ran (a shared host?); "
        f"measure again before trusting that comparison"
    )
