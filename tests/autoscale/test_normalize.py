"""Stabilization and rate limits, one row per situation (see shared research §6–§7, §11)."""

from __future__ import annotations

import pytest

from kubeship.autoscale.normalize import (
    Behavior,
    Memory,
    Policy,
    Recommendation,
    Rules,
    ScaleEvent,
    combine_metric_proposals,
    default_behavior,
    normalize_legacy,
    normalize_with_behavior,
    scale_down_limit,
    scale_up_limit,
    store_scale_event,
)

NOW = 10_000.0


def recs(*pairs: tuple[int, float]) -> Memory:
    return Memory(recommendations=tuple(Recommendation(r, NOW - age) for r, age in pairs))


@pytest.mark.parametrize(
    ("current", "proposal", "memory", "expected", "reason", "limited"),
    [
        pytest.param(
            5,
            3,
            recs((5, 60)),
            5,
            "ScaleDownStabilized",
            "DesiredWithinRange",
            id="scale-down-held-by-window",
        ),
        pytest.param(
            5, 3, recs((5, 301)), 3, "ReadyForNewScale", "DesiredWithinRange", id="old-sample-ignored"
        ),
        pytest.param(
            5, 3, recs((5, 300)), 5, "ScaleDownStabilized", "DesiredWithinRange", id="window-edge-counts"
        ),
        pytest.param(
            5, 3, Memory(), 5, "ScaleDownStabilized", "DesiredWithinRange", id="no-entry-seeds-current"
        ),
        pytest.param(
            5, 3, Memory(recommendations=()), 3, "ReadyForNewScale", "DesiredWithinRange", id="empty-entry"
        ),
        pytest.param(3, 20, recs(), 6, "ReadyForNewScale", "ScaleUpLimit", id="legacy-cap-2x"),
        pytest.param(1, 20, recs(), 4, "ReadyForNewScale", "ScaleUpLimit", id="legacy-cap-minimum-4"),
        pytest.param(3, 1, recs(), 2, "ReadyForNewScale", "TooFewReplicas", id="below-min"),
        pytest.param(8, 12, recs(), 10, "ReadyForNewScale", "TooManyReplicas", id="above-max"),
        pytest.param(
            4, 5, recs((7, 30)), 7, "ScaleDownStabilized", "DesiredWithinRange", id="max-raises-scale-up"
        ),
    ],
)
def test_legacy_normalization(
    current: int, proposal: int, memory: Memory, expected: int, reason: str, limited: str
) -> None:
    decision = normalize_legacy(current, proposal, 2, 10, memory, NOW)
    assert (decision.replicas, decision.able_to_scale_reason, decision.limited_reason) == (
        expected,
        reason,
        limited,
    )
    assert decision.memory.recommendations is not None
    assert Recommendation(proposal, NOW) in decision.memory.recommendations  # the unstabilized proposal


def test_legacy_overwrites_the_last_old_sample() -> None:
    decision = normalize_legacy(5, 4, 1, 10, recs((9, 900), (8, 600), (6, 10)), NOW)
    assert decision.memory.recommendations == (
        Recommendation(9, NOW - 900),
        Recommendation(4, NOW),
        Recommendation(6, NOW - 10),
    )


def test_defaults_match_the_api() -> None:
    b = default_behavior(Behavior())
    assert b.scale_up == Rules(0.0, "Max", (Policy("Pods", 4, 15), Policy("Percent", 100, 15)))
    assert b.scale_down == Rules(300.0, "Max", (Policy("Percent", 100, 15),))
    kept = default_behavior(Behavior(scale_down=Rules(policies=())))
    assert kept.scale_down.policies == ()  # an explicit empty list stays empty


@pytest.mark.parametrize(
    ("current", "rules", "memory", "expected"),
    [
        pytest.param(10, default_behavior(Behavior()).scale_up, Memory(), 20, id="default: +100 % beats +4"),
        pytest.param(2, default_behavior(Behavior()).scale_up, Memory(), 6, id="default: +4 beats +100 %"),
        pytest.param(
            3, Rules(0, "Min", (Policy("Pods", 4, 15), Policy("Percent", 100, 15))), Memory(), 6, id="min"
        ),
        pytest.param(3, Rules(0, "Disabled", (Policy("Pods", 4, 15),)), Memory(), 3, id="disabled"),
        pytest.param(3, Rules(0, "Max", (Policy("Percent", 50, 60),)), Memory(), 5, id="percent-rounds-up"),
        pytest.param(
            10,
            Rules(0, "Max", (Policy("Pods", 4, 60),)),
            Memory(scale_up_events=(ScaleEvent(3, NOW - 30),)),
            11,
            id="period-start-subtracts-recent-scale-up",
        ),
        pytest.param(
            10,
            Rules(0, "Max", (Policy("Pods", 4, 60),)),
            Memory(scale_up_events=(ScaleEvent(3, NOW - 60),)),
            14,
            id="event-at-period-edge-is-outside",
        ),
        pytest.param(
            10,
            Rules(0, "Max", (Policy("Pods", 4, 60),)),
            Memory(scale_down_events=(ScaleEvent(2, NOW - 5),)),
            16,
            id="recent-scale-down-counts-too",
        ),
    ],
)
def test_scale_up_limit(current: int, rules: Rules, memory: Memory, expected: int) -> None:
    assert scale_up_limit(current, memory, rules, NOW) == expected


@pytest.mark.parametrize(
    ("current", "rules", "expected"),
    [
        pytest.param(10, Rules(300, "Max", (Policy("Percent", 100, 15),)), 0, id="default-percent-100"),
        pytest.param(9, Rules(300, "Max", (Policy("Percent", 50, 15),)), 4, id="percent-truncates"),
        pytest.param(
            10,
            Rules(300, "Max", (Policy("Pods", 2, 15), Policy("Percent", 50, 15))),
            5,
            id="max-biggest-change",
        ),
        pytest.param(
            10,
            Rules(300, "Min", (Policy("Pods", 2, 15), Policy("Percent", 50, 15))),
            8,
            id="min-smallest-change",
        ),
        pytest.param(10, Rules(300, "Disabled", (Policy("Pods", 2, 15),)), 10, id="disabled"),
    ],
)
def test_scale_down_limit(current: int, rules: Rules, expected: int) -> None:
    assert scale_down_limit(current, Memory(), rules, NOW) == expected


def test_behavior_clamps_current_between_the_windows() -> None:
    behavior = default_behavior(Behavior(scale_up=Rules(stabilization_window_seconds=60)))
    memory = recs((4, 30), (12, 120))  # 4 inside the up window, 12 inside the down window
    decision = normalize_with_behavior(6, 9, 1, 20, behavior, memory, NOW)
    assert decision.replicas == 6 and decision.able_to_scale_reason == "ScaleUpStabilized"
    down = normalize_with_behavior(6, 2, 1, 20, behavior, memory, NOW)
    assert down.replicas == 6 and down.able_to_scale_reason == "ScaleDownStabilized"


def test_behavior_rate_limit_reported_only_when_tighter_than_max() -> None:
    behavior = default_behavior(Behavior(scale_up=Rules(policies=(Policy("Pods", 1, 60),))))
    limited = normalize_with_behavior(3, 9, 1, 20, behavior, Memory(recommendations=()), NOW)
    assert (limited.replicas, limited.limited, limited.limited_reason) == (4, True, "ScaleUpLimit")
    at_max = normalize_with_behavior(3, 9, 1, 4, behavior, Memory(recommendations=()), NOW)
    assert (at_max.replicas, at_max.limited_reason) == (4, "TooManyReplicas")


def test_store_scale_event_reuses_the_last_outdated_slot() -> None:
    behavior = default_behavior(Behavior())
    memory = Memory(
        scale_up_events=(ScaleEvent(2, NOW - 100), ScaleEvent(1, NOW - 50), ScaleEvent(3, NOW - 5))
    )
    after = store_scale_event(behavior, memory, 5, 9, NOW)
    assert [(e.change, e.timestamp) for e in after.scale_up_events] == [
        (2, NOW - 100),
        (4, NOW),
        (3, NOW - 5),
    ]
    assert store_scale_event(behavior, memory, 5, 5, NOW) is memory


@pytest.mark.parametrize(
    ("current", "proposals", "expected"),
    [
        pytest.param(3, [4, 6], 6, id="max-of-valid"),
        pytest.param(3, [None, 6], 6, id="invalid-metric-still-allows-scale-up"),
        pytest.param(5, [None, 2], None, id="invalid-metric-blocks-scale-down"),
        pytest.param(5, [None, None], None, id="all-invalid"),
        pytest.param(5, [2, 3], 3, id="all-valid-scale-down"),
    ],
)
def test_combining_metrics(current: int, proposals: list[int | None], expected: int | None) -> None:
    assert combine_metric_proposals(current, proposals) == expected
