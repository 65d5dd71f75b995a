"""The HPA's per-metric replica calculation, as kube-controller-manager computes it.

A port of `pkg/controller/podautoscaler/replica_calculator.go` (and the
metrics client's usage ratios) as pure functions: pods, samples and targets
in; a replica count out. Quantities are int milli-units, as upstream uses
`MilliValue()`; times are seconds (0.0 is Go's zero time). Every branch is
pinned by a row of `tests/autoscale/test_replicas.py`, ported from
upstream's `replica_calculator_test.go`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
DEFAULT_TOLERANCE = 0.1
DEFAULT_CPU_INITIALIZATION_PERIOD = 300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
DEFAULT_INITIAL_READINESS_DELAY = 30.0  # --horizontal-pod-autoscaler-initial-readiness-delay


class MetricError(Exception):
    """The metric cannot be computed this pass (the HPA sets ScalingActive=False for it)."""


@dataclass(frozen=True)
class Tolerances:
    scale_down: float = DEFAULT_TOLERANCE
    scale_up: float = DEFAULT_TOLERANCE

    def is_within(self, ratio: float) -> bool:
        return (1.0 - self.scale_down) <= ratio <= (1.0 + self.scale_up)


@dataclass(frozen=True)
class Container:
    name: str
    requests: Mapping[str, int] = field(default_factory=dict)  # resource → milli-units


@dataclass(frozen=True)
class Pod:
    """The facts about a pod the HPA looks at."""

    name: str
    phase: str = "Running"
    ready: bool | None = True  # None: no Ready condition
    ready_transition: float = 0.0  # Ready condition's lastTransitionTime
    start_time: float | None = 0.0
    deleted: bool = False
    containers: tuple[Container, ...] = ()
    sidecars: tuple[Container, ...] = ()  # init containers with restartPolicy: Always


@dataclass(frozen=True)
class Sample:
    value: int  # milli-units
    timestamp: float = 0.0
    window: float = 60.0


@dataclass(frozen=True)
class Settings:
    tolerances: Tolerances = Tolerances()
    cpu_initialization_period: float = DEFAULT_CPU_INITIALIZATION_PERIOD
    initial_readiness_delay: float = DEFAULT_INITIAL_READINESS_DELAY


@dataclass(frozen=True)
class Groups:
    ready_count: int
    unready: frozenset[str]
    missing: frozenset[str]
    ignored: frozenset[str]


def group_pods(
    pods: list[Pod], metrics: Mapping[str, Sample], resource: str, settings: Settings, now: float
) -> Groups:
    """groupPods: each pod goes to exactly one of ignored, unready, missing or ready."""
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        if pod.deleted or pod.phase == "Failed":
            ignored.add(pod.name)
            continue
        if pod.phase == "Pending":
            unready.add(pod.name)
            continue
        sample = metrics.get(pod.name)
        if sample is None:
            missing.add(pod.name)
            continue
        if resource == "cpu":
            if pod.ready is None or pod.start_time is None:
                unready.add(pod.name)
                continue
            if pod.start_time + settings.cpu_initialization_period > now:
                # Still initialising: only count it once it is ready and its sample window
                # began after it became ready (no start-up CPU burst in the sample).
                not_ready = (not pod.ready) or sample.timestamp < pod.ready_transition + sample.window
            else:
                # Past initialisation: unready only if it has never been ready.
                not_ready = (
                    not pod.ready
                ) and pod.start_time + settings.initial_readiness_delay > pod.ready_transition
            if not_ready:
                unready.add(pod.name)
                continue
        ready += 1
    return Groups(ready, frozenset(unready), frozenset(missing), frozenset(ignored))


def calculate_requests(pods: list[Pod], container: str | None, resource: str) -> dict[str, int]:
    """calculateRequests: per pod, the sum of its containers' (and sidecars') requests."""
    out: dict[str, int] = {}
    for pod in pods:
        total = 0
        found = container is None
        for c in (*pod.containers, *pod.sidecars):
            if container is not None and c.name != container:
                continue
            found = True
            if resource not in c.requests:
                raise MetricError(f"missing request for {resource} in container {c.name} of Pod {pod.name}")
            total += c.requests[resource]
        if not found:
            raise MetricError(f"container {container} not found in Pod {pod.name}")
        out[pod.name] = total
    return out


def utilization_ratio(
    metrics: Mapping[str, Sample], requests: Mapping[str, int], target: int
) -> tuple[float, int, int]:
    """GetResourceUtilizationRatio → (ratio, utilization %, raw average), over pods with both."""
    total_usage = total_request = n = 0
    for name, sample in metrics.items():
        if name not in requests:
            continue
        total_usage += sample.value
        total_request += requests[name]
        n += 1
    if total_request == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = _go_div(total_usage * 100, total_request)
    return utilization / target, utilization, _go_div(total_usage, n)


def usage_ratio(metrics: Mapping[str, Sample], target: int) -> tuple[float, int]:
    """GetMetricUsageRatio → (ratio, average usage), over every sample."""
    total = sum(s.value for s in metrics.values())
    average = _go_div(total, len(metrics))
    return average / target, average


def resource_replicas(
    current: int,
    target_utilization: int,
    resource: str,
    pods: list[Pod],
    metrics: Mapping[str, Sample],
    now: float,
    settings: Settings = Settings(),
    container: str | None = None,
) -> tuple[int, int, int, float]:
    """GetResourceReplicas → (replicas, utilization %, raw average, timestamp)."""
    if not metrics:
        raise MetricError(
            f"unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
        )
    groups, metrics = _counted(pods, metrics, resource, settings, now)
    requests = calculate_requests(pods, container, resource)
    ratio, utilization, raw = utilization_ratio(metrics, requests, target_utilization)
    timestamp = next(iter(metrics.values())).timestamp
    tol = settings.tolerances
    direct = _direct(current, ratio, groups, tol)
    if direct is not None:
        return direct, utilization, raw, timestamp
    refilled = dict(metrics)
    if groups.missing:
        if ratio < 1.0:
            # Missing pods on scale-down count at 100 % of their request (or the target above 100 %).
            fallback = max(100, target_utilization)
            for name in groups.missing:
                refilled[name] = Sample(_go_div(requests[name] * fallback, 100))
        elif ratio > 1.0:
            for name in groups.missing:
                refilled[name] = Sample(0)
    _refill_unready(refilled, groups, ratio)
    new_ratio, _, _ = utilization_ratio(refilled, requests, target_utilization)
    return _rebalanced(current, ratio, new_ratio, len(refilled), tol), utilization, raw, timestamp


def plain_metric_replicas(
    current: int,
    target: int,
    pods: list[Pod],
    metrics: Mapping[str, Sample],
    now: float,
    resource: str = "",
    settings: Settings = Settings(),
) -> tuple[int, int]:
    """calcPlainMetricReplicas (Pods metrics, and Resource AverageValue) → (replicas, average usage)."""
    groups, metrics = _counted(pods, metrics, resource, settings, now)
    ratio, usage = usage_ratio(metrics, target)
    tol = settings.tolerances
    direct = _direct(current, ratio, groups, tol)
    if direct is not None:
        return direct, usage
    refilled = dict(metrics)
    if groups.missing:  # exactly at target (ratio 1.0): neither, as upstream since 1.33
        if ratio < 1.0:
            for name in groups.missing:
                refilled[name] = Sample(target)
        elif ratio > 1.0:
            for name in groups.missing:
                refilled[name] = Sample(0)
    _refill_unready(refilled, groups, ratio)
    new_ratio, _ = usage_ratio(refilled, target)
    return _rebalanced(current, ratio, new_ratio, len(refilled), tol), usage


def _counted(
    pods: list[Pod], metrics: Mapping[str, Sample], resource: str, settings: Settings, now: float
) -> tuple[Groups, dict[str, Sample]]:
    """The pod groups, and the samples of pods that count (not ignored, not unready)."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    groups = group_pods(pods, metrics, resource, settings, now)
    usable = {k: v for k, v in metrics.items() if k not in groups.ignored and k not in groups.unready}
    if not usable:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    return groups, usable


def _direct(current: int, ratio: float, groups: Groups, tol: Tolerances) -> int | None:
    """The first-pass answer when no pod is missing and no unready pod holds back a scale-up."""
    if groups.missing or (groups.unready and ratio > 1.0):
        return None
    return current if tol.is_within(ratio) else math.ceil(ratio * groups.ready_count)


def _refill_unready(refilled: dict[str, Sample], groups: Groups, ratio: float) -> None:
    """On a scale-up, unready pods count as using nothing (they may be warming up)."""
    if groups.unready and ratio > 1.0:
        for name in groups.unready:
            refilled[name] = Sample(0)


def _rebalanced(current: int, ratio: float, new_ratio: float, samples: int, tol: Tolerances) -> int:
    """After re-filling missing/unready pods: stay put if that flipped the direction or is within
    tolerance, and never move against the direction the first pass wanted."""
    if tol.is_within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    new_replicas = math.ceil(new_ratio * samples)  # samples include re-filled and superfluous ones
    if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
        return current
    return new_replicas


def ready_pods_count(pods: list[Pod]) -> int:
    """getReadyPodsCount: Running and Ready (no initialisation rules; deleting pods count)."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    return sum(1 for p in pods if p.phase == "Running" and p.ready is True)


def usage_ratio_replica_count(
    current: int, ratio: float, pods: list[Pod], settings: Settings = Settings()
) -> int:
    """getUsageRatioReplicaCount (Object and External Value targets)."""
    if current != 0:
        if settings.tolerances.is_within(ratio):
            return current
        return min(MAX_INT32, math.ceil(ratio * ready_pods_count(pods)))
    return math.ceil(ratio)  # scaling from zero: no tolerance, no pod count


def object_replicas(
    current: int, target: int, value: int, pods: list[Pod], settings: Settings = Settings()
) -> tuple[int, int]:
    """GetObjectMetricReplicas (Object, Value) → (replicas, value)."""
    return usage_ratio_replica_count(current, value / target, pods, settings), value


def per_pod_replicas(
    status_replicas: int, target_average: int, value: int, settings: Settings = Settings()
) -> tuple[int, int]:
    """Get{Object,External}PerPodMetricReplicas (AverageValue targets) → (replicas, average)."""
    replicas = status_replicas
    if status_replicas == 0:  # scaling from zero: Go's x/0 is +Inf (any usage) or NaN (none, no change)
        replicas = min(MAX_INT32, math.ceil(value / target_average)) if value > 0 else 0
        return replicas, min(MAX_INT64, value)
    ratio = value / (target_average * status_replicas)
    if not settings.tolerances.is_within(ratio):
        replicas = min(MAX_INT32, math.ceil(value / target_average))
    return replicas, min(MAX_INT64, math.ceil(value / status_replicas))


def external_total(values: list[int]) -> int:
    if not values:
        raise MetricError("no metrics returned from external metrics API")
    return min(MAX_INT64, sum(values))


def _go_div(a: int, b: int) -> int:
    """Go's integer division truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q
