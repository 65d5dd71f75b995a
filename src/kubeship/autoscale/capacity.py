"""From measured load-test runs to the simulator's capacity model (pure).

A run is one closed-loop load level against the real service: requests/s
achieved, server CPU cores used, latency percentiles. The fit is what the
simulator needs: requests/s one core serves (`rps_per_core`, from the run
that drove the most throughput, where fixed costs are best amortized) and
the capacity and cores at saturation. `predict` says what the M/M/c model
expects for another run, so the model can be held against measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubeship.autoscale.simulate import mmc_p99


@dataclass(frozen=True)
class Run:
    workers: int
    connections: int
    rps: float
    cores: float  # server CPU seconds per second over the run
    p50: float  # seconds
    p99: float  # seconds


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
