"""Replay a queue through the HPA: workers scaled on a custom metric such as consumer lag (pure).

The trace is the arrival rate into the queue (messages/s). Each ready pod
consumes up to `per_pod_rate` messages/s; what is not consumed waits (the
backlog, i.e. the lag). Every sync period the HPA reads the backlog averaged
over the metrics window that ended `metrics_delay` earlier, and scales
through the same engine as a real pass: a Pods metric (AverageValue: the
backlog split over the pods, like the seed's lag-per-pod target) or an
External one (Value: the total). With `per_pod_rate` None the trace is taken
as the metric itself (an external queue the pods do not drain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kubeship.autoscale import replicas
from kubeship.autoscale.replicas import Pod, Sample, Settings
from kubeship.autoscale.simulate import DEFAULT_LOOP, Autoscaler, Controller, ControlLoop, FloatArray


@dataclass(frozen=True)
class QueueWorkload:
    per_pod_rate: float | None  # messages/s one pod consumes; None: the trace is the metric
    startup_seconds: float = 20.0


@dataclass
class QueueResult:
    arrivals: FloatArray
    replicas: FloatArray
    ready: FloatArray
    backlog: FloatArray  # messages waiting at the end of each second (or the metric, open loop)
    per_pod: FloatArray  # backlog / existing pods: what a Pods AverageValue target is compared with
    decisions: list[tuple[int, int]] = field(default_factory=list)

    def summary(self, target: float) -> dict[str, float]:
        return {
            "seconds": len(self.arrivals),
            "pod_hours": float(self.replicas.sum() / 3600),
            "max_replicas": float(self.replicas.max()),
            "max_backlog": float(self.backlog.max()),
            "final_backlog": float(self.backlog[-1]),
            "seconds_over_target": float((self.per_pod > target).sum()),
        }


def simulate_queue(
    arrivals: FloatArray,
    workload: QueueWorkload,
    hpa: Autoscaler,
    target: float,
    metric_type: Literal["Pods", "External", "ExternalAverage"] = "Pods",
    loop: ControlLoop = DEFAULT_LOOP,
) -> QueueResult:
    arrivals = np.asarray(arrivals, dtype=float)
    if arrivals.ndim != 1 or not len(arrivals) or np.any(~np.isfinite(arrivals)) or np.any(arrivals < 0):
        raise ValueError("the trace must be a non-empty series of finite, non-negative values")
    if target <= 0:
        raise ValueError("the target must be above 0")
    n = len(arrivals)
    control = Controller(hpa, loop, workload.startup_seconds, hpa.min_replicas)
    ready_at = control.ready_at
    out = QueueResult(arrivals, np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), control.decisions)
    backlog = 0.0
    for t in range(n):
        ready = sum(1 for when in ready_at if when <= t)
        if workload.per_pod_rate is None:
            backlog = float(arrivals[t])
        else:
            backlog = max(0.0, backlog + arrivals[t] - ready * workload.per_pod_rate)
        out.replicas[t], out.ready[t], out.backlog[t] = len(ready_at), ready, backlog
        out.per_pod[t] = backlog / max(len(ready_at), 1)
        now = t + 1
        if now % loop.sync_period or now >= n:
            continue
        window = out.backlog[loop.window(now)]
        control.act(
            _propose(len(ready_at), float(window.mean()), target, metric_type, control.settings, now), now
        )
    return out


def _propose(current: int, total: float, target: float, kind: str, settings: Settings, now: float) -> int:
    """The engine's proposal: every pod reports its share (the adapter's sum by pod, averaged)."""
    pods = [Pod(f"pod-{i}") for i in range(current)]
    if kind == "External":
        return replicas.usage_ratio_replica_count(current, total / target, pods, settings)
    if kind == "ExternalAverage":  # an exporter's total with an AverageValue target: total / target pods
        return replicas.per_pod_replicas(current, int(target * 1000), int(total * 1000), settings)[0]
    share = int(total / max(current, 1) * 1000)
    samples = {p.name: Sample(share, now - 1, 30.0) for p in pods}
    proposal, _ = replicas.plain_metric_replicas(
        current, int(target * 1000), pods, samples, now, settings=settings
    )
    return proposal
