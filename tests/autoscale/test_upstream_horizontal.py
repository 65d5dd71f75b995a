"""Upstream's own normalization cases, ported row for row from kube-controller-manager's
pkg/controller/podautoscaler/horizontal_test.go (TestConvertDesiredReplicasWithRules,
TestNormalizeDesiredReplicas, TestScalingWithRules, TestStoreScaleEvents,
TestNormalizeDesiredReplicasWithBehavior, TestCalculateScale{Up,Down}Limit...).

Each row keeps upstream's name. `rules(pods, pods_period, percent, percent_period, window)` and
`spread(changes, period)` mirror the test file's generateScalingRules and
generateEventsUniformDistribution helpers.
"""

from __future__ import annotations

import pytest

from kubeship.autoscale.normalize import (
    Behavior,
    Memory,
    Policy,
    Recommendation,
    Rules,
    ScaleEvent,
    default_behavior,
    legacy_limits,
    normalize_legacy,
    normalize_with_behavior,
    rate_limited,
    scale_down_limit,
    scale_up_limit,
    store_scale_event,
)

NOW = 1_000_000.0
MIN = 60.0


def rules(pods: int, pods_period: int, percent: int, percent_period: int, window: int) -> Rules:
    policies = []
    if pods:
        policies.append(Policy("Pods", pods, pods_period))
    if percent:
        policies.append(Policy("Percent", percent, percent_period))
    return Rules(window, "Max", tuple(policies))


def spread(changes: list[int], period: int) -> tuple[ScaleEvent, ...]:
    """Events centred in equal segments of the last `period` seconds, oldest first."""
    segment = period / len(changes)
    return tuple(
        ScaleEvent(c, NOW - int(period - segment * (i + 1) + segment / 2)) for i, c in enumerate(changes)
    )


# -- TestConvertDesiredReplicasWithRules (no behavior) ---------------------------------------------


@pytest.mark.parametrize(
    ("current", "desired", "lo", "hi", "expected", "condition"),
    [
        pytest.param(5, 7, 3, 8, 7, "DesiredWithinRange", id="prenormalized desired replicas within range"),
        pytest.param(3, 1, 2, 8, 2, "TooFewReplicas", id="prenormalized desired replicas < minReplicas"),
        pytest.param(1, 0, 0, 10, 0, "DesiredWithinRange",
                     id="prenormalized desired zeroed replicas within range"),
        pytest.param(20, 1000, 1, 10, 10, "TooManyReplicas",
                     id="maxReplicas is the limit because maxReplicas < scaleUpLimit"),
        pytest.param(3, 1000, 1, 2000, 6, "ScaleUpLimit",  # calculateScaleUpLimit(3) = max(2*3, 4)
                     id="scaleUpLimit is the limit because scaleUpLimit < maxReplicas"),
    ],
)  # fmt: skip
def test_convert_desired_replicas_with_rules(
    current: int, desired: int, lo: int, hi: int, expected: int, condition: str
) -> None:
    assert legacy_limits(current, desired, lo, hi) == (expected, condition)


# -- TestNormalizeDesiredReplicas (no behavior: 5-minute downscale window) -------------------------


@pytest.mark.parametrize(
    ("log", "prenormalized", "stabilized", "log_length"),
    [
        pytest.param((), 5, 5, 1, id="empty log"),
        pytest.param(((4, 2 * MIN), (5, 1 * MIN)), 3, 5, 3, id="stabilize"),
        pytest.param(((1, 2 * MIN), (2, 1 * MIN)), 3, 3, 3, id="no stabilize"),
        pytest.param(((10, 10 * MIN), (9, 9 * MIN)), 3, 3, 2, id="no stabilize - old recommendations"),
        pytest.param(((10, 10 * MIN), (4, 1 * MIN), (5, 2 * MIN), (9, 9 * MIN)), 3, 5, 4,
                     id="stabilize - old recommendations"),
    ],
)  # fmt: skip
def test_normalize_desired_replicas(
    log: tuple[tuple[int, float], ...], prenormalized: int, stabilized: int, log_length: int
) -> None:
    memory = Memory(recommendations=tuple(Recommendation(r, NOW - age) for r, age in log))
    decision = normalize_legacy(50, prenormalized, 1, 1000, memory, NOW, downscale_stabilization=300)
    assert decision.stabilized == stabilized
    assert len(decision.memory.recommendations or ()) == log_length


# -- TestScalingWithRules (convertDesiredReplicasWithBehaviorRate) --------------------------------

E3 = spread([1, 5, 9], 120)
E4 = spread([8, 12, 9, 11], 120)
SCALING_WITH_RULES = [
    # name, up events, down events, min, max, up rules, down rules, current, prenormalized, expected,
    # condition
    ("prenormalized desired replicas within range", (), (), 3, 8, None, None, 5, 7, 7, "DesiredWithinRange"),
    ("prenormalized desired replicas < minReplicas", (), (), 2, 8, None, None, 3, 1, 2, "TooFewReplicas"),
    ("prenormalized desired replicas within range when minReplicas is 0", (), (), 0, 10, None, None, 1, 0, 0,
     "DesiredWithinRange"),
    ("maxReplicas is the limit because maxReplicas < scaleUpLimit", (), (), 1, 10, None, None, 20, 1000, 10,
     "TooManyReplicas"),
    ("desired replica count is more than the maximum replica count", (), (), 100, 150, None, None, 100, 1000,
     150, "TooManyReplicas"),
    ("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", (), (), 1, 2000,
     rules(0, 0, 1, 60, 0), None, 3, 1000, 4, "ScaleUpLimit"),
    # upstream marks this row testThis and skips it; it holds here all the same
    ("scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies", (), (), 3,
     2000, None, rules(20, 60, 0, 0, 0), 1000, 3, 980, "ScaleDownLimit"),
    ("scaleUp with default behavior", (), (), 1, 1000, None, None, 10, 50, 20, "ScaleUpLimit"),
    ("scaleUp with pods policy larger than percent policy", (), (), 1, 1000, rules(100, 60, 100, 60, 0), None,
     10, 500, 110, "ScaleUpLimit"),
    ("scaleUp with percent policy larger than pods policy", (), (), 1, 1000, rules(2, 60, 100, 60, 0), None,
     10, 500, 20, "ScaleUpLimit"),
    ("scaleUp with spec MaxReplicas limitation with large pod policy", (), (), 1, 1000,
     rules(100, 60, 0, 0, 0), None, 10, 50, 50, "DesiredWithinRange"),
    ("scaleUp with spec MaxReplicas limitation with large percent policy", (), (), 1, 1000,
     rules(10000, 60, 0, 0, 0), None, 10, 50, 50, "DesiredWithinRange"),
    ("scaleUp with pod policy limitation", (), (), 1, 1000, rules(30, 60, 0, 0, 0), None, 10, 50, 40,
     "ScaleUpLimit"),
    ("scaleUp with percent policy limitation", (), (), 1, 1000, rules(0, 0, 200, 60, 0), None, 10, 50, 30,
     "ScaleUpLimit"),
    ("scaleDown with percent policy larger than pod policy", (), (), 1, 1000, None, rules(20, 60, 1, 60, 300),
     100, 2, 80, "ScaleDownLimit"),
    ("scaleDown with pod policy larger than percent policy", (), (), 1, 1000, None, rules(2, 60, 1, 60, 300),
     100, 2, 98, "ScaleDownLimit"),
    ("scaleDown with spec MinReplicas=nil limitation with large pod policy", (), (), 1, 1000, None,
     rules(100, 60, 0, 0, 300), 10, 0, 1, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large pod policy", (), (), 1, 1000, None,
     rules(100, 60, 0, 0, 300), 10, 0, 1, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large percent policy", (), (), 5, 1000, None,
     rules(0, 0, 100, 60, 300), 10, 2, 5, "TooFewReplicas"),
    ("scaleDown with pod policy limitation", (), (), 1, 1000, None, rules(5, 60, 0, 0, 300), 10, 2, 5,
     "ScaleDownLimit"),
    ("scaleDown with percent policy limitation", (), (), 1, 1000, None, rules(0, 0, 50, 60, 300), 10, 5, 5,
     "DesiredWithinRange"),
    ("scaleUp with spec MaxReplicas limitation with large pod policy and events", E3, (), 1, 200,
     rules(300, 60, 0, 0, 0), None, 100, 500, 200, "TooManyReplicas"),
    ("scaleUp with spec MaxReplicas limitation with large percent policy and events", E3, (), 1, 200,
     rules(0, 0, 10000, 60, 0), None, 100, 500, 200, "TooManyReplicas"),
    ("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
     E3, (), 1, 1000, rules(5, 120, 0, 0, 0), None, 100, 500, 100, "ScaleUpLimit"),
    ("scaleUp with pod policy and previous scale up events", E3, (), 1, 1000, rules(150, 120, 0, 0, 0), None,
     100, 500, 235, "ScaleUpLimit"),
    ("scaleUp with percent policy and previous scale up events", E3, (), 1, 1000, rules(0, 0, 200, 120, 0),
     None, 100, 500, 255, "ScaleUpLimit"),
    ("scaleUp with percent policy and previous scale up and down events", spread([4], 120), spread([2], 120),
     1, 1000, rules(0, 0, 300, 300, 0), None, 6, 24, 16, "ScaleUpLimit"),
    ("scaleDown with default policy and previous events", (), E3, 1, 1000, None, None, 10, 5, 5,
     "DesiredWithinRange"),
    ("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", (), E3, 1,
     1000, None, rules(115, 120, 0, 0, 300), 100, 0, 1, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large pod policy and previous events", (), E3, 5, 1000,
     None, rules(130, 120, 0, 0, 300), 100, 0, 5, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large percent policy and previous events", (), E3, 5,
     1000, None, rules(0, 0, 100, 120, 300), 100, 2, 5, "TooFewReplicas"),
    ("scaleDown with pod policy limitation and previous events", (), E3, 1, 1000, None,
     rules(5, 120, 0, 0, 300), 100, 2, 100, "ScaleDownLimit"),
    ("scaleDown with percent policy limitation and previous events", (), spread([2, 4, 6], 120), 1, 1000,
     None, rules(0, 0, 50, 120, 300), 100, 0, 56, "ScaleDownLimit"),
    ("scaleDown with percent policy and previous scale up and down events", spread([2], 120),
     spread([4], 120), 1, 1000, None, rules(0, 0, 50, 180, 0), 10, 1, 6, "ScaleDownLimit"),
    ("scaleDown with previous events preventing further scale down", (), spread([10, 10, 10], 120), 1, 1000,
     None, rules(0, 0, 10, 120, 300), 100, 0, 100, "ScaleDownLimit"),
    ("scaleDown with with previous events still allowing more scale down", (), spread([10, 10, 10], 120), 1,
     1000, None, rules(0, 0, 1000, 120, 300), 10, 5, 5, "DesiredWithinRange"),
    ("check 'outdated' flag for events for one behavior for up", E4, (), 1, 1000, rules(1000, 60, 0, 0, 0),
     None, 100, 200, 200, "DesiredWithinRange"),
    ("check that events were not marked 'outdated' for two different policies in the behavior for up", E4, (),
     1, 1000, rules(1000, 120, 100, 60, 0), None, 100, 200, 200, "DesiredWithinRange"),
    ("check that events were marked 'outdated' for two different policies in the behavior for up", E4, (), 1,
     1000, rules(1000, 30, 100, 60, 0), None, 100, 200, 200, "DesiredWithinRange"),
    ("check 'outdated' flag for events for one behavior for down", (), E4, 1, 1000, None,
     rules(1000, 60, 0, 0, 300), 100, 5, 5, "DesiredWithinRange"),
    ("check that events were not marked 'outdated' for two different policies in the behavior for down", (),
     E4, 1, 1000, None, rules(1000, 120, 100, 60, 300), 100, 5, 5, "DesiredWithinRange"),
    ("check that events were marked 'outdated' for two different policies in the behavior for down", (), E4,
     1, 1000, None, rules(1000, 30, 100, 60, 300), 100, 5, 5, "DesiredWithinRange"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("up_events", "down_events", "lo", "hi", "up", "down", "current", "desired", "expected", "condition"),
    [pytest.param(*row[1:], id=row[0]) for row in SCALING_WITH_RULES],
)
def test_scaling_with_rules(
    up_events: tuple[ScaleEvent, ...],
    down_events: tuple[ScaleEvent, ...],
    lo: int,
    hi: int,
    up: Rules | None,
    down: Rules | None,
    current: int,
    desired: int,
    expected: int,
    condition: str,
) -> None:
    behavior = default_behavior(Behavior(up or Rules(), down or Rules()))
    memory = Memory(scale_up_events=up_events, scale_down_events=down_events)
    assert rate_limited(current, desired, lo, hi, behavior, memory, NOW) == (expected, condition)


# -- TestCalculateScaleUpLimitWithScalingRules / TestCalculateScaleDownLimitWithBehaviors ----------


def test_calculate_scale_limits_with_min_select_policy() -> None:
    min_rules = Rules(300, "Min", (Policy("Pods", 2, 60), Policy("Percent", 50, 60)))
    assert scale_up_limit(1, Memory(), min_rules, NOW) == 2
    assert scale_down_limit(5, Memory(), min_rules, NOW) == 3


# -- TestStoreScaleEvents ----------------------------------------------------------------------


def ev(change: int, age: float, outdated: bool = False) -> ScaleEvent:
    return ScaleEvent(change, NOW - age, outdated)


STORE = [
    # name, previous events, rules, expected change in the last 60 s, events after storing a change of 5
    ("empty entries with default behavior", (), None, 0, []),
    ("empty entries with two-policy-behavior", (), rules(10, 60, 100, 60, 0), 0, [(5, False)]),
    ("one outdated entry to be kept untouched without behavior", (ev(7, 61),), None, 0, [(7, False)]),
    ("one outdated entry to be replaced with behavior", (ev(7, 61),), rules(10, 60, 100, 60, 0), 0,
     [(5, False)]),
    ("one actual entry to be not touched with behavior", (ev(7, 58),), rules(10, 60, 100, 60, 0), 7,
     [(7, False), (5, False)]),
    ("two entries, one of them to be replaced", (ev(7, 61), ev(6, 59)), rules(10, 60, 0, 0, 0), 6,
     [(5, False), (6, False)]),
    ("replace one entry, use policies with different periods", (ev(8, 29), ev(6, 59), ev(7, 61), ev(9, 61)),
     rules(10, 60, 100, 30, 0), 14, [(8, False), (6, False), (7, True), (5, False)]),
    ("two entries, both actual", (ev(7, 58), ev(6, 59)), rules(10, 120, 100, 30, 0), 13,
     [(7, False), (6, False), (5, False)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("previous", "scaling", "change_in_period", "after"), [pytest.param(*r[1:], id=r[0]) for r in STORE]
)
@pytest.mark.parametrize("direction", ["up", "down"])
def test_store_scale_events(
    previous: tuple[ScaleEvent, ...],
    scaling: Rules | None,
    change_in_period: int,
    after: list[tuple[int, bool]],
    direction: str,
) -> None:
    from kubeship.autoscale.normalize import _changes_in_period

    assert _changes_in_period(previous, 60, NOW) == change_in_period
    if direction == "up":
        behavior = None if scaling is None else Behavior(scale_up=scaling)
        memory = store_scale_event(behavior, Memory(scale_up_events=previous), 10, 15, NOW)
        stored = memory.scale_up_events
    else:
        behavior = None if scaling is None else Behavior(scale_down=scaling)
        memory = store_scale_event(behavior, Memory(scale_down_events=previous), 10, 5, NOW)
        stored = memory.scale_down_events
    assert [(e.change, e.outdated) for e in stored] == after


# -- TestNormalizeDesiredReplicasWithBehavior (stabilization windows) -------------------------------

WITH_BEHAVIOR = [
    # name, log (replicas, age), current, prenormalized, stabilized, log after (replicas) or None,
    # up window, down window
    ("empty recommendations for scaling down", (), 100, 5, 5, [5], 0, 0),
    ("simple scale down stabilization", ((4, 2 * MIN), (5, MIN)), 100, 3, 5, [4, 5, 3], 0, 180),
    ("simple scale up stabilization", ((4, 2 * MIN), (5, MIN)), 1, 7, 4, [4, 5, 7], 300, 0),
    ("no scale down stabilization", ((1, 2 * MIN), (2, MIN)), 100, 3, 3, [1, 2, 3], 300, 0),
    ("no scale up stabilization", ((4, 2 * MIN), (5, MIN)), 1, 3, 3, [4, 5, 3], 0, 300),
    ("no scale down stabilization, reuse recommendation element", ((10, 10 * MIN), (9, 9 * MIN)), 100, 3, 3,
     [10, 3], 0, 0),
    ("no scale up stabilization, reuse recommendation element", ((10, 10 * MIN), (9, 9 * MIN)), 1, 100, 100,
     [10, 100], 0, 0),
    ("scale down stabilization, reuse one of obsolete recommendation element",
     ((10, 10 * MIN), (4, MIN), (5, 2 * MIN), (9, 9 * MIN)), 100, 3, 5, [10, 4, 5, 3], 0, 180),
    ("scale up stabilization, reuse one of obsolete recommendation element",
     ((10, 100 * MIN), (6, MIN), (5, 2 * MIN), (9, 3 * MIN)), 1, 100, 5, [100, 6, 5, 9], 300, 0),
    ("scale up and down stabilization, do not scale up when prenormalized rec goes down",
     ((2, 100 * MIN), (3, 3 * MIN)), 2, 1, 2, None, 300, 300),
    ("scale up and down stabilization, do not scale down when prenormalized rec goes up",
     ((2, 100 * MIN), (1, 3 * MIN)), 2, 3, 2, None, 300, 300),
]  # fmt: skip


@pytest.mark.parametrize(
    ("log", "current", "prenormalized", "stabilized", "log_after", "up_window", "down_window"),
    [pytest.param(*r[1:], id=r[0]) for r in WITH_BEHAVIOR],
)
def test_normalize_desired_replicas_with_behavior(
    log: tuple[tuple[int, float], ...],
    current: int,
    prenormalized: int,
    stabilized: int,
    log_after: list[int] | None,
    up_window: int,
    down_window: int,
) -> None:
    memory = Memory(recommendations=tuple(Recommendation(r, NOW - age) for r, age in log))
    behavior = Behavior(Rules(up_window), Rules(down_window))
    decision = normalize_with_behavior(current, prenormalized, 1, 1000, behavior, memory, NOW)
    assert decision.stabilized == stabilized
    if log_after is not None:
        assert [r.replicas for r in decision.memory.recommendations or ()] == log_after
