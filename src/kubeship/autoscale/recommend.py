"""Search HPA settings for the cheapest that meets the latency SLO on a trace (pure).

The grid is small on purpose: target utilization, minReplicas and three
behaviors (the controller's legacy default, a fast scale-up, a quick
scale-down). Every candidate runs through the same simulator and engine;
the cheapest in pod-hours whose share of seconds over the SLO stays within
the budget wins. The others are returned too, to show the trade-off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from kubeship.autoscale.normalize import Behavior, Policy, Rules
from kubeship.autoscale.simulate import Autoscaler, FloatArray, Workload, simulate

TARGETS = (40, 50, 60, 70, 80)
BEHAVIORS: dict[str, Behavior | None] = {
    "default": None,
    "fast-up": Behavior(
        scale_up=Rules(0, "Max", (Policy("Percent", 100, 15), Policy("Pods", 4, 15))),
        scale_down=Rules(300, "Max", (Policy("Percent", 100, 15),)),
    ),
    "quick-down": Behavior(
        scale_up=Rules(0, "Max", (Policy("Percent", 100, 15), Policy("Pods", 4, 15))),
        scale_down=Rules(60, "Max", (Policy("Percent", 50, 60),)),
    ),
}


@dataclass(frozen=True)
class Candidate:
    target: int
    min_replicas: int
    behavior: str
    pod_hours: float
    slo_seconds_violated: float
    max_pods: float

    def meets(self, seconds: int, budget: float) -> bool:
        return self.slo_seconds_violated <= budget * seconds

    @property
    def label(self) -> str:
        return f"target {self.target}%, min {self.min_replicas}, {self.behavior}"


def recommend(
    load: FloatArray,
    workload: Workload,
    base: Autoscaler,
    slo_p99: float,
    budget: float = 0.001,
    targets: Sequence[int] = TARGETS,
    progress: Callable[[int], None] | None = None,
) -> list[Candidate]:
    """Every candidate, best first: those that meet the SLO by cost, then the rest by violations."""
    mins = sorted({m for m in (1, 2, 3, base.min_replicas) if m <= base.max_replicas})
    out = []
    done = 0
    for target in targets:
        for least in mins:
            for name, behavior in BEHAVIORS.items():
                hpa = replace(base, target_utilization=target, min_replicas=least, behavior=behavior)
                summary = simulate(load, workload, hpa).summary(slo_p99)
                out.append(
                    Candidate(
                        target, least, name, summary["pod_hours"], summary["slo_seconds_violated"],
                        summary["max_replicas"],
                    )
                )  # fmt: skip
                done += 1
                if progress is not None:
                    progress(done)
    seconds = len(load)

    def rank(c: Candidate) -> tuple[bool, float, float]:
        meets = c.meets(seconds, budget)
        return (not meets, 0.0 if meets else c.slo_seconds_violated, c.pod_hours)

    return sorted(out, key=rank)


def grid_size(base: Autoscaler, targets: Sequence[int] = TARGETS) -> int:
    mins = {m for m in (1, 2, 3, base.min_replicas) if m <= base.max_replicas}
    return len(targets) * len(mins) * len(BEHAVIORS)
