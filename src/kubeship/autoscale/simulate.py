"""Replay a load trace through the HPA before deploying: replicas, utilization, latency, cost.

A deliberately simple model of the deployment, second by second:

* each ready pod serves up to `rps_per_core × cores_per_pod` requests/s
  (`cores_per_pod` = the CPU limit, or one core without one); a pod uses
  `served / rps_per_core` cores, and its utilization is that over its CPU request;
* the HPA runs every `sync_period` seconds on the utilization averaged over the
  metrics window that ended `metrics_delay` seconds earlier, through the same
  engine as `kubeship autoscale decide` (`replicas.resource_replicas`, then
  stabilization and rate limits); new pods are ready `startup_seconds` later
  and count as unready until then, removed pods stop at once;
* latency, given measured service times (`Workload.latency`, from `kubeship
  autoscale measure`), is the pod model's P99 (`autoscale.latency`): requests
  spread at random over the ready pods and their workers, each worker sharing
  its CPU among its requests; without them, the M/M/c model's exact P99
  (`mmc_p99_many`): c = ready pods, μ = one pod's capacity, λ = the offered
  load. At λ ≥ cμ the queue grows without bound, the excess counts as over
  capacity and the latency is capped at `LATENCY_CAP`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kubeship.autoscale import normalize, replicas
from kubeship.autoscale.latency import LATENCY_CAP, PodLatency
from kubeship.autoscale.normalize import Behavior, Memory
from kubeship.autoscale.replicas import Container, Pod, Sample, Settings, Tolerances

BLOCK_SECONDS = 3600  # modelled ahead at once; redone from the moment the HPA rescales
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Workload:
    rps_per_core: float  # requests/s one core serves at 100 % CPU (measure it: `kubeship autoscale measure`)
    cpu_request: float  # cores requested per pod
    cpu_limit: float | None = None
    startup_seconds: float = 20.0
    latency: PodLatency | None = None  # the pod model; M/M/c without it

    @property
    def cores_per_pod(self) -> float:
        return self.cpu_limit if self.cpu_limit is not None else 1.0

    @property
    def pod_capacity(self) -> float:
        return self.rps_per_core * self.cores_per_pod


@dataclass(frozen=True)
class Autoscaler:
    min_replicas: int
    max_replicas: int
    target_utilization: int
    behavior: Behavior | None = None
    tolerances: Tolerances = field(default_factory=Tolerances)  # behavior's, else the controller's


@dataclass(frozen=True)
class ControlLoop:
    sync_period: int = 15
    metrics_window: int = 30
    metrics_delay: int = 15
    cpu_initialization_period: float = replicas.DEFAULT_CPU_INITIALIZATION_PERIOD
    initial_readiness_delay: float = replicas.DEFAULT_INITIAL_READINESS_DELAY
    downscale_stabilization: float = normalize.DEFAULT_DOWNSCALE_STABILIZATION

    def window(self, now: int) -> slice:
        """The seconds of the metrics window the HPA reads at `now` (it ended `metrics_delay` ago)."""
        return slice(max(0, now - self.metrics_delay - self.metrics_window), max(1, now - self.metrics_delay))


DEFAULT_LOOP = ControlLoop()


@dataclass
class Result:
    load: FloatArray
    replicas: FloatArray  # pods existing (ready or starting)
    ready: FloatArray
    utilization: FloatArray  # % of the CPU request, per ready pod
    p99_latency: FloatArray  # seconds
    over_capacity: FloatArray  # requests/s beyond what ready pods can serve
    decisions: list[tuple[int, int]] = field(default_factory=list)  # (second, desired replicas)

    def summary(self, slo_p99: float) -> dict[str, float]:
        seconds = len(self.load)
        return {
            "seconds": seconds,
            "pod_hours": float(self.replicas.sum() / 3600),
            "max_replicas": float(self.replicas.max()),
            "mean_utilization": float(self.utilization.mean()),
            "slo_seconds_violated": float((self.p99_latency > slo_p99).sum()),
            "requests_over_capacity": float(self.over_capacity.sum()),
            "p99_latency_max": float(self.p99_latency.max()),
        }


def simulate(
    load: FloatArray,
    workload: Workload,
    hpa: Autoscaler,
    loop: ControlLoop = DEFAULT_LOOP,
    initial_replicas: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Replay `load` (requests/s, one value per second) and return per-second series.

    `progress(seconds)` is called as the replay advances (for a progress bar).
    """
    load = np.asarray(load, dtype=float)
    if load.ndim != 1 or not len(load):
        raise ValueError("the trace must be a non-empty series of requests per second")
    if np.any(~np.isfinite(load)) or np.any(load < 0):
        raise ValueError("the trace must hold finite, non-negative requests per second")
    n = len(load)
    start = initial_replicas if initial_replicas is not None else hpa.min_replicas
    control = Controller(hpa, loop, workload.startup_seconds, start)
    ready_at = control.ready_at
    pod_cache: dict[tuple[int, float], Pod] = {}
    proposals: dict[tuple[Any, ...], int] = {}
    out = Result(load, np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), control.decisions)
    period = loop.sync_period
    served = 0  # seconds [0, served) are modelled for the pods as they stand
    for t in range(period, n + period, period):  # the HPA's passes, each at the end of a sync period
        t = min(t, n)
        if served < t:  # model ahead a whole block: pods only change when the HPA acts
            end = min(n, max(t, served + BLOCK_SECONDS))
            _serve(load, ready_at, workload, out, slice(served, end))
            served = end
        if progress is not None and (t // period) % 240 == 0:  # every simulated hour
            progress(t)
        if t >= n:
            break
        rescales = len(control.decisions)
        utilization = out.utilization[loop.window(t)]
        proposal = _decide(
            len(ready_at), utilization, ready_at, t, workload, hpa, control.settings, pod_cache, proposals
        )
        control.act(proposal, t)
        if len(control.decisions) != rescales:
            served = t  # the pods changed: model from now on again
    # Latency for the whole trace at once, one vectorised pass per distinct ready count.
    for c in np.unique(out.ready):
        mask = out.ready == c
        if workload.latency is None:
            out.p99_latency[mask] = mmc_p99_many(load[mask], int(c), workload.pod_capacity)
        elif c > 0:  # each ready pod takes its share (kube-proxy spreads connections at random)
            out.p99_latency[mask] = workload.latency.p99(load[mask] / c)
        else:
            out.p99_latency[mask] = np.where(load[mask] > 0, LATENCY_CAP, 0.0)
    return out


def _serve(load: FloatArray, ready_at: list[float], workload: Workload, out: Result, span: slice) -> None:
    """The seconds of `span`: the pods that exist, those ready (`ready_at`, oldest first), what they
    serve and the CPU it takes."""
    existing = float(len(ready_at))
    ready: float | FloatArray
    if max(ready_at, default=-1.0) <= span.start:  # every pod ready all along: the usual case
        ready = existing
    else:
        times = np.sort(np.asarray(ready_at))
        ready = np.searchsorted(times, np.arange(span.start, span.stop), side="right").astype(float)
    offered = load[span]
    capacity = ready * workload.pod_capacity
    served = np.minimum(offered, capacity)
    with np.errstate(divide="ignore", invalid="ignore"):
        cores = np.where(ready > 0, served / np.maximum(ready, 1) / workload.rps_per_core, 0.0)
    out.replicas[span] = existing
    out.ready[span] = ready
    out.utilization[span] = cores / workload.cpu_request * 100
    out.over_capacity[span] = offered - served


class Controller:
    """The HPA's side of a simulation: its settings and memory, the pods it made (when each is
    ready, oldest first) and the rescales it decided."""

    def __init__(self, hpa: Autoscaler, loop: ControlLoop, startup_seconds: float, replicas: int) -> None:
        self.hpa, self.loop, self.startup_seconds = hpa, loop, startup_seconds
        self.settings = Settings(
            hpa.tolerances,
            loop.cpu_initialization_period,
            loop.initial_readiness_delay,
        )
        self.behavior = (
            normalize.default_behavior(hpa.behavior, loop.downscale_stabilization) if hpa.behavior else None
        )
        self.memory = Memory()
        self.ready_at: list[float] = [-1e9] * replicas
        self.decisions: list[tuple[int, int]] = []

    def act(self, desired: int, now: int) -> None:
        """One pass: normalize the metrics' proposal (stabilization, limits), record the scale event,
        add pods (ready after start-up) or remove the newest ones."""
        hpa, current = self.hpa, len(self.ready_at)
        if self.behavior is None:
            decision = normalize.normalize_legacy(
                current, desired, hpa.min_replicas, hpa.max_replicas, self.memory, now,
                self.loop.downscale_stabilization,
            )  # fmt: skip
        else:
            decision = normalize.normalize_with_behavior(
                current, desired, hpa.min_replicas, hpa.max_replicas, self.behavior, self.memory, now
            )
        new = decision.replicas
        self.memory = normalize.store_scale_event(self.behavior, decision.memory, current, new, now)
        if new != current:
            self.decisions.append((now, new))
            if new > current:
                self.ready_at += [now + self.startup_seconds] * (new - current)
            else:
                del self.ready_at[new:]  # the newest pods go first


def _decide(
    current: int,
    utilization: FloatArray,
    ready_at: list[float],
    now: float,
    workload: Workload,
    hpa: Autoscaler,
    settings: Settings,
    cache: dict[tuple[int, float], Pod],
    proposals: dict[tuple[Any, ...], int],
) -> int:
    """The metrics' proposal, through the same replica calculator as a real pass.

    The calculator sees the replica count, the one CPU sample every pod reports, and each pod's age
    (readiness and CPU initialisation are judged against it); a pod past its initialisation period
    counts the same whatever its age. Passes that see the same are answered once (`proposals`)."""
    request = int(workload.cpu_request * 1000)
    mean = float(utilization.sum()) / len(utilization) if len(utilization) else 0.0  # = .mean(), cheaper
    sample = Sample(int(mean / 100 * request), now - 1, 30.0)
    settled = settings.cpu_initialization_period + settings.initial_readiness_delay + 2 * sample.window
    key = (current, sample.value, *(now - when if now - when <= settled else -1.0 for when in ready_at))
    known = proposals.get(key)
    if known is None:
        target = hpa.target_utilization
        known = proposals[key] = _calculate(current, sample, request, ready_at, now, target, settings, cache)
    return known


def _calculate(
    current: int,
    sample: Sample,
    request: int,
    ready_at: list[float],
    now: float,
    target_utilization: int,
    settings: Settings,
    cache: dict[tuple[int, float], Pod],
) -> int:
    container = (Container("app", {"cpu": request}),)
    pods, samples = [], {}
    for i, when in enumerate(ready_at):
        name = f"pod-{i}"
        if when <= now:  # ready: the same Pod from one pass to the next
            pod = cache.get((i, when))
            if pod is None:
                pod = cache[(i, when)] = Pod(
                    name, ready_transition=max(when, 0.0), start_time=when - 1, containers=container
                )
            samples[name] = sample
        else:
            pod = Pod(name, ready=False, start_time=now - 1, containers=container)
        pods.append(pod)
    if not samples:
        return current
    try:
        proposal, *_ = replicas.resource_replicas(
            current, target_utilization, "cpu", pods, samples, now, settings
        )
    except replicas.MetricError:
        return current
    return proposal


def mmc_p99(arrival: float, servers: int, service_rate: float) -> float:
    """P99 response time of an M/M/c queue (seconds); LATENCY_CAP when it cannot keep up."""
    return float(mmc_p99_many(np.array([float(arrival)]), servers, service_rate)[0])


def mmc_p99_many(arrivals: FloatArray, servers: int, service_rate: float) -> FloatArray:
    """P99 of the M/M/c response time for many arrival rates (same c and μ), vectorised.

    The response time T = wait + service has, with C the Erlang-C probability
    of waiting and δ = cμ − λ − μ,
        P(T > t) = e^(−μt) · (1 + C·μ/δ · (1 − e^(−δt)))      (→ 1 + C·μ·t as δ → 0);
    the 99th percentile is found by bisection.
    """
    lam = np.asarray(arrivals, dtype=float)
    mu, c = service_rate, servers
    if c <= 0:
        return np.where(lam > 0, LATENCY_CAP, 0.0)
    unstable = lam >= c * mu
    a = np.where(unstable, 0.0, lam / mu)
    erlang_b = np.ones_like(a)
    for k in range(1, c + 1):  # Erlang B recursion (stable), then Erlang C
        erlang_b = a * erlang_b / (k + a * erlang_b)
    rho = a / c
    wait_probability = erlang_b / (1 - rho + rho * erlang_b)
    delta = c * mu - np.where(unstable, 0.0, lam) - mu

    def tail(t: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            small = np.abs(delta) < 1e-9
            growth = np.where(
                small, wait_probability * mu * t, wait_probability * mu / delta * (1 - np.exp(-delta * t))
            )
            result: FloatArray = np.exp(-mu * t) * (1 + growth)
            return result

    low, high = np.zeros_like(lam), np.full_like(lam, LATENCY_CAP)
    for _ in range(50):
        mid = (low + high) / 2
        above = tail(mid) > 0.01
        low, high = np.where(above, mid, low), np.where(above, high, mid)
    return np.where(unstable, LATENCY_CAP, high)


def synthetic(kind: str, seconds: int, base: float, peak: float) -> FloatArray:
    """Built-in traces: step, ramp, diurnal, flash (a crowd arriving at a third of the trace)."""
    t = np.arange(seconds, dtype=float)
    if kind == "step":
        return np.where(t < seconds / 3, base, peak)
    if kind == "ramp":
        return base + (peak - base) * np.clip(t / max(seconds * 0.8, 1), 0, 1)
    if kind == "diurnal":
        return base + (peak - base) * (0.5 - 0.5 * np.cos(2 * np.pi * t / 86400))
    if kind == "flash":
        crowd = np.exp(-np.maximum(t - seconds / 3, 0) / 300) * (t >= seconds / 3)
        return base + (peak - base) * crowd
    raise ValueError(f"unknown trace {kind!r}: step, ramp, diurnal or flash")


def autoscaler_from_hpa(hpa: dict[str, object]) -> Autoscaler:
    """The simulator's view of an autoscaling/v2 HPA: bounds, the CPU target and the behavior.

    ValueError if the HPA does not scale on CPU utilization: the model is CPU-bound.
    """
    from kubeship.autoscale.decide import behavior_from_json, tolerances

    spec = hpa.get("spec")
    if not isinstance(spec, dict):
        raise ValueError("not a HorizontalPodAutoscaler: no spec")
    # A ContainerResource target on the app's container is the same number here: one container per pod.
    sources = (
        m.get("resource") if m.get("type") == "Resource" else m.get("containerResource")
        for m in spec.get("metrics") or []
        if m.get("type") in ("Resource", "ContainerResource")
    )
    target = next(
        (
            int(src["target"]["averageUtilization"])
            for src in sources
            if src and src.get("name") == "cpu" and src["target"].get("type") == "Utilization"
        ),
        None,
    )
    if target is None:
        raise ValueError(
            "the simulator models CPU: give the HPA a Resource or ContainerResource cpu Utilization metric"
        )
    behavior = spec.get("behavior")
    return Autoscaler(
        int(spec.get("minReplicas", 1)),
        int(spec["maxReplicas"]),
        target,
        behavior_from_json(behavior) if isinstance(behavior, dict) else None,
        tolerances(behavior if isinstance(behavior, dict) else None, replicas.DEFAULT_TOLERANCE),
    )
