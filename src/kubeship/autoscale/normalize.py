"""From the metrics' proposal to the replicas the HPA sets: stabilization and rate limits.

A port of `horizontal.go`'s `normalizeDesiredReplicas` (no `behavior`: the
legacy path) and `normalizeDesiredReplicasWithBehaviors`, with the
controller's memory (recommendation log, scale events) passed in and
returned, never kept here: the functions are pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

DEFAULT_DOWNSCALE_STABILIZATION = 300.0  # --horizontal-pod-autoscaler-downscale-stabilization
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0

Select = Literal["Max", "Min", "Disabled"]


@dataclass(frozen=True)
class Policy:
    type: Literal["Pods", "Percent"]
    value: int
    period_seconds: int


@dataclass(frozen=True)
class Rules:
    stabilization_window_seconds: float | None = None
    select_policy: Select | None = None
    policies: tuple[Policy, ...] | None = None


@dataclass(frozen=True)
class Behavior:
    scale_up: Rules = Rules()
    scale_down: Rules = Rules()


def default_behavior(
    behavior: Behavior, downscale_stabilization: float = DEFAULT_DOWNSCALE_STABILIZATION
) -> Behavior:
    """SetDefaults_HorizontalPodAutoscalerBehavior + the controller's scale-down window."""
    up, down = behavior.scale_up, behavior.scale_down
    return Behavior(
        scale_up=Rules(
            up.stabilization_window_seconds if up.stabilization_window_seconds is not None else 0.0,
            up.select_policy or "Max",
            up.policies if up.policies is not None else (Policy("Pods", 4, 15), Policy("Percent", 100, 15)),
        ),
        scale_down=Rules(
            down.stabilization_window_seconds
            if down.stabilization_window_seconds is not None
            else downscale_stabilization,
            down.select_policy or "Max",
            down.policies if down.policies is not None else (Policy("Percent", 100, 15),),
        ),
    )


@dataclass(frozen=True)
class Recommendation:
    replicas: int
    timestamp: float


@dataclass(frozen=True)
class ScaleEvent:
    change: int
    timestamp: float
    outdated: bool = False


@dataclass(frozen=True)
class Memory:
    """What the controller remembers about one HPA between passes."""

    recommendations: tuple[Recommendation, ...] | None = None  # None: no entry yet (seeded with current)
    scale_up_events: tuple[ScaleEvent, ...] = ()
    scale_down_events: tuple[ScaleEvent, ...] = ()


# The controller's own messages for the reasons normalization gives (horizontal.go:
# convertDesiredReplicasWithRules / ...WithBehaviorRate, stabilizeRecommendation...).
MESSAGES = {
    "DesiredWithinRange": "the desired count is within the acceptable range",
    "TooFewReplicas": "the desired replica count is less than the minimum replica count",
    "TooManyReplicas": "the desired replica count is more than the maximum replica count",
    "ScaleUpLimit": "the desired replica count is increasing faster than the maximum scale rate",
    "ScaleDownLimit": "the desired replica count is decreasing faster than the maximum scale rate",
    "ReadyForNewScale": "recommended size matches current size",
    "ScaleDownStabilized": "recent recommendations were higher than current one, applying the highest "
    "recent recommendation",
    "ScaleUpStabilized": "recent recommendations were lower than current one, applying the lowest recent "
    "recommendation",
}


@dataclass(frozen=True)
class Decision:
    replicas: int
    able_to_scale_reason: str  # ReadyForNewScale / ScaleDownStabilized / ScaleUpStabilized
    limited: bool
    limited_reason: (
        str  # DesiredWithinRange / TooFewReplicas / TooManyReplicas / ScaleUpLimit / ScaleDownLimit
    )
    memory: Memory = field(default_factory=Memory)
    stabilized: int = 0  # the recommendation after the stabilization window, before the limits


# -- legacy: no behavior -------------------------------------------------------------------


def normalize_legacy(
    current: int,
    prenormalized: int,
    min_replicas: int,
    max_replicas: int,
    memory: Memory,
    now: float,
    downscale_stabilization: float = DEFAULT_DOWNSCALE_STABILIZATION,
    scale_up_factor: float = SCALE_UP_LIMIT_FACTOR,
) -> Decision:
    """normalizeDesiredReplicas: max over the stabilization window, then min/max and the 2×/4 cap."""
    log = list(
        memory.recommendations if memory.recommendations is not None else [Recommendation(current, now)]
    )
    cutoff = now - downscale_stabilization
    stabilized = prenormalized
    old_index = None
    for i, rec in enumerate(log):
        if rec.timestamp < cutoff:
            old_index = i
        else:
            stabilized = max(stabilized, rec.replicas)
    if old_index is not None:
        log[old_index] = Recommendation(prenormalized, now)
    else:
        log.append(Recommendation(prenormalized, now))
    reason = "ScaleDownStabilized" if stabilized != prenormalized else "ReadyForNewScale"
    desired, limited_reason = legacy_limits(current, stabilized, min_replicas, max_replicas, scale_up_factor)
    return Decision(
        desired,
        reason,
        desired != stabilized,
        limited_reason,
        replace(memory, recommendations=tuple(log)),
        stabilized,
    )


def legacy_limits(
    current: int, desired: int, min_replicas: int, max_replicas: int, factor: float = SCALE_UP_LIMIT_FACTOR
) -> tuple[int, str]:
    """convertDesiredReplicasWithRules: min/max, and at most max(2x current, 4) in one step (`factor`:
    upstream's scaleUpLimitFactor, a package variable its own tests set to 8)."""
    scale_up_limit = int(max(factor * current, SCALE_UP_LIMIT_MINIMUM))
    if max_replicas > scale_up_limit:
        maximum, max_reason = scale_up_limit, "ScaleUpLimit"
    else:
        maximum, max_reason = max_replicas, "TooManyReplicas"
    if desired < min_replicas:
        return min_replicas, "TooFewReplicas"
    if desired > maximum:
        return maximum, max_reason
    return desired, "DesiredWithinRange"


# -- behavior ------------------------------------------------------------------------------


def normalize_with_behavior(
    current: int,
    prenormalized: int,
    min_replicas: int,
    max_replicas: int,
    behavior: Behavior,
    memory: Memory,
    now: float,
) -> Decision:
    """normalizeDesiredReplicasWithBehaviors: stabilize within both windows, then rate-limit."""
    up, down = behavior.scale_up, behavior.scale_down
    up_window = up.stabilization_window_seconds or 0.0
    down_window = down.stabilization_window_seconds or 0.0
    log = list(
        memory.recommendations if memory.recommendations is not None else [Recommendation(current, now)]
    )
    up_rec = down_rec = prenormalized
    old_index = None
    for i, rec in enumerate(log):
        if rec.timestamp > now - up_window:
            up_rec = min(up_rec, rec.replicas)
        if rec.timestamp > now - down_window:
            down_rec = max(down_rec, rec.replicas)
        if rec.timestamp < now - up_window and rec.timestamp < now - down_window:
            old_index = i
    stabilized = min(max(current, up_rec), down_rec)
    if old_index is not None:
        log[old_index] = Recommendation(prenormalized, now)
    else:
        log.append(Recommendation(prenormalized, now))
    reason = "ScaleUpStabilized" if prenormalized >= current else "ScaleDownStabilized"
    if stabilized == prenormalized:
        reason = "ReadyForNewScale"
    desired, limited_reason = rate_limited(
        current, stabilized, min_replicas, max_replicas, behavior, memory, now
    )
    return Decision(
        desired,
        reason,
        desired != stabilized,
        limited_reason,
        replace(memory, recommendations=tuple(log)),
        stabilized,
    )


def rate_limited(
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    behavior: Behavior,
    memory: Memory,
    now: float,
) -> tuple[int, str]:
    """convertDesiredReplicasWithBehaviorRate."""
    if desired > current:
        limit = scale_up_limit(current, memory, behavior.scale_up, now)
        if limit < current:
            limit = current  # never a forced scale-down
        if limit < max_replicas:
            maximum, reason = limit, "ScaleUpLimit"
        else:
            maximum, reason = max_replicas, "TooManyReplicas"
        return (maximum, reason) if desired > maximum else (desired, "DesiredWithinRange")
    if desired < current:
        limit = scale_down_limit(current, memory, behavior.scale_down, now)
        if limit > current:
            limit = current
        if limit > min_replicas:
            minimum, reason = limit, "ScaleDownLimit"
        else:
            minimum, reason = min_replicas, "TooFewReplicas"
        return (minimum, reason) if desired < minimum else (desired, "DesiredWithinRange")
    return desired, "DesiredWithinRange"


def _changes_in_period(events: tuple[ScaleEvent, ...], period: float, now: float) -> int:
    return sum(e.change for e in events if e.timestamp > now - period)


MIN_INT32, MAX_INT32 = -(2**31), 2**31 - 1


def scale_up_limit(current: int, memory: Memory, rules: Rules, now: float) -> int:
    """calculateScaleUpLimitWithScalingRules (Percent limits round up)."""
    if rules.select_policy == "Disabled":
        return current
    # Max: the most permissive policy (largest count); Min: the least.
    pick, result = (min, MAX_INT32) if rules.select_policy == "Min" else (max, MIN_INT32)
    for policy in rules.policies or ():
        start = _period_start(current, memory, policy.period_seconds, now)
        proposed = (
            start + policy.value if policy.type == "Pods" else math.ceil(start * (1 + policy.value / 100))
        )
        result = pick(result, proposed)
    return result


def scale_down_limit(current: int, memory: Memory, rules: Rules, now: float) -> int:
    """calculateScaleDownLimitWithBehaviors (Percent limits truncate)."""
    if rules.select_policy == "Disabled":
        return current
    # Max: the largest change (smallest count); Min: the smallest change.
    pick, result = (max, MIN_INT32) if rules.select_policy == "Min" else (min, MAX_INT32)
    for policy in rules.policies or ():
        start = _period_start(current, memory, policy.period_seconds, now)
        proposed = start - policy.value if policy.type == "Pods" else int(start * (1 - policy.value / 100))
        result = pick(result, proposed)
    return result


def _period_start(current: int, memory: Memory, period: float, now: float) -> int:
    """Replicas at the start of the policy period: both event logs count, for both directions."""
    added = _changes_in_period(memory.scale_up_events, period, now)
    deleted = _changes_in_period(memory.scale_down_events, period, now)
    return current - added + deleted


def store_scale_event(
    behavior: Behavior | None, memory: Memory, previous: int, new: int, now: float
) -> Memory:
    """storeScaleEvent: record a rescale, reusing the last slot older than the longest policy period.
    Without a behavior nothing is stored: the legacy path never reads the events."""
    if behavior is None or new == previous:
        return memory
    up = new > previous
    rules = behavior.scale_up if up else behavior.scale_down
    longest = max((p.period_seconds for p in rules.policies or ()), default=0)
    events = [
        replace(e, outdated=e.outdated or e.timestamp < now - longest)
        for e in (memory.scale_up_events if up else memory.scale_down_events)
    ]
    event = ScaleEvent(abs(new - previous), now)
    last_outdated = max((i for i, e in enumerate(events) if e.outdated), default=None)
    if last_outdated is not None:
        events[last_outdated] = event
    else:
        events.append(event)
    if up:
        return replace(memory, scale_up_events=tuple(events))
    return replace(memory, scale_down_events=tuple(events))


def combine_metric_proposals(current: int, proposals: list[int | None]) -> int | None:
    """computeReplicasForMetrics: the max of valid proposals; None when the pass must not scale.

    `None` in `proposals` marks a metric that failed. All failing, or any
    failing while the valid ones would scale down, aborts the pass: a broken
    metric never causes or allows a scale-down, but valid ones may scale up.
    """
    valid = [p for p in proposals if p is not None]
    invalid = len(proposals) - len(valid)
    replicas = 0
    for p in valid:
        if replicas == 0 or p > replicas:
            replicas = p
    if invalid == len(proposals) or (invalid > 0 and replicas < current):
        return None
    return replicas
