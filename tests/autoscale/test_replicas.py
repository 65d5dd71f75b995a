# ruff: noqa: E501  (the case table keeps one upstream fixture per line)
"""Upstream's replica calculator cases, row for row.

Each row is a case of kubernetes/kubernetes
`pkg/controller/podautoscaler/replica_calculator_test.go`, with its name as
the test id and upstream's fixture conventions: pods named test-pod-N, two
containers per pod each requesting the pod's request, resource samples given
per container (so a pod's value is twice its level), custom metric levels in
milli-units, tolerance 0.1, CPU initialization period 2 min, initial
readiness delay 10 s, a Ready condition whose lastTransitionTime is Go's zero
time, "hot" pods started now and "cool" ones 3 minutes ago.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from kubeship.autoscale.replicas import (
    Container,
    MetricError,
    Pod,
    Sample,
    Settings,
    Tolerances,
    external_total,
    object_replicas,
    per_pod_replicas,
    plain_metric_replicas,
    resource_replicas,
    usage_ratio_replica_count,
)
from kubeship.spec.quantity import parse_quantity

NOW = 1_800_000_000.0
HOT, COOL = NOW, NOW - 180.0
SETTINGS = Settings(Tolerances(0.1, 0.1), cpu_initialization_period=120.0, initial_readiness_delay=10.0)
CONTAINERS_PER_POD = 2


@dataclass
class Case:
    current: int
    expected: int | None = None
    error: str | None = None
    readiness: list[bool] | None = None
    start: list[float] | None = None
    phase: list[str] | None = None
    deleted: list[bool] | None = None
    # Resource (CPU utilization)
    requests: list[str] | None = None
    levels: list[int] = field(default_factory=list)
    pod_names: list[str] | None = None
    target: int = 0
    expected_utilization: int | None = None
    expected_value: int | None = None
    # custom metrics: "pods", "object", "object-per-pod", "external", "external-per-pod"
    metric: str | None = None


def pods_for(case: Case) -> list[Pod]:
    count = max(case.current, len(case.phase or []))
    pods = []
    for i in range(count):
        request = case.requests[i] if case.requests is not None and i < len(case.requests) else None
        requests = {"cpu": int(parse_quantity(request) * 1000)} if request is not None else {}
        pods.append(
            Pod(
                name=f"test-pod-{i}",
                phase=case.phase[i] if case.phase else "Running",
                ready=case.readiness[i] if case.readiness and i < len(case.readiness) else True,
                start_time=case.start[i] if case.start else 0.0,
                deleted=case.deleted[i] if case.deleted else False,
                containers=(Container("container0", requests), Container("container1", requests)),
            )
        )
    return pods


def run(case: Case) -> tuple[int, int]:
    pods = pods_for(case)
    if case.metric is None:
        names = case.pod_names or [f"test-pod-{i}" for i in range(len(case.levels))]
        metrics = {
            n: Sample(CONTAINERS_PER_POD * level) for n, level in zip(names, case.levels, strict=False)
        }
        replicas, utilization, raw, _ = resource_replicas(
            case.current, case.target, "cpu", pods, metrics, NOW, SETTINGS
        )
        assert raw == case.expected_value
        return replicas, utilization
    if case.metric == "pods":
        metrics = {f"test-pod-{i}": Sample(level) for i, level in enumerate(case.levels)}
        return plain_metric_replicas(case.current, case.target, pods, metrics, NOW, settings=SETTINGS)
    if case.metric == "object":
        return object_replicas(case.current, case.target, case.levels[0], pods, SETTINGS)
    if case.metric == "object-per-pod":
        return per_pod_replicas(case.current, case.target, case.levels[0], SETTINGS)
    if case.metric == "external":
        total = external_total(case.levels)
        return usage_ratio_replica_count(case.current, total / case.target, pods, SETTINGS), total
    if case.metric == "external-per-pod":
        return per_pod_replicas(case.current, case.target, external_total(case.levels), SETTINGS)
    raise AssertionError(case.metric)


ONE = "1.0"
CASES: dict[str, Case] = {
    "TestReplicaCalcDisjointResourcesMetrics": Case(
        1, error="no metrics returned matched known pods", requests=[ONE], levels=[100],
        pod_names=["an-older-pod-name"], target=100,
    ),
    "TestReplicaCalcScaleUp": Case(
        3, 5, requests=[ONE] * 3, levels=[300, 500, 700], target=30, expected_utilization=50, expected_value=1000
    ),
    "TestReplicaCalcScaleUpUnreadyLessScale": Case(
        3, 4, readiness=[False, True, True], requests=[ONE] * 3, levels=[300, 500, 700], target=30,
        expected_utilization=60, expected_value=1200,
    ),
    "TestReplicaCalcScaleUpHotCpuLessScale": Case(
        3, 4, start=[HOT, COOL, COOL], requests=[ONE] * 3, levels=[300, 500, 700], target=30,
        expected_utilization=60, expected_value=1200,
    ),
    "TestReplicaCalcScaleUpUnreadyNoScale": Case(
        3, 3, readiness=[True, False, False], requests=[ONE] * 3, levels=[400, 500, 700], target=30,
        expected_utilization=40, expected_value=800,
    ),
    "TestReplicaCalcScaleHotCpuNoScale": Case(
        3, 3, readiness=[True, False, False], start=[COOL, HOT, HOT], requests=[ONE] * 3, levels=[400, 500, 700],
        target=30, expected_utilization=40, expected_value=800,
    ),
    "TestReplicaCalcScaleUpIgnoresFailedPods": Case(
        2, 4, readiness=[True, True, False, False], phase=["Running", "Running", "Failed", "Failed"],
        requests=[ONE] * 4, levels=[500, 700], target=30, expected_utilization=60, expected_value=1200,
    ),
    "TestReplicaCalcScaleUpIgnoresDeletionPods": Case(
        2, 4, readiness=[True, True, False, False], phase=["Running"] * 4, deleted=[False, False, True, True],
        requests=[ONE] * 4, levels=[500, 700], target=30, expected_utilization=60, expected_value=1200,
    ),
    "TestReplicaCalcScaleUpCM": Case(
        3, 4, metric="pods", levels=[20000, 10000, 30000], target=15000, expected_utilization=20000
    ),
    "TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale": Case(
        3, 6, readiness=[True, True, False], start=[COOL, COOL, HOT], metric="pods", levels=[50000, 10000, 30000],
        target=15000, expected_utilization=30000,
    ),
    "TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown": Case(
        3, 7, readiness=[False, True, False], start=[HOT, COOL, HOT], metric="pods", levels=[50000, 15000, 30000],
        target=15000, expected_utilization=31666,
    ),
    "TestReplicaCalcScaleUpCMObject": Case(
        3, 4, metric="object", levels=[20000], target=15000, expected_utilization=20000
    ),
    "TestReplicaCalcScaleUpCMPerPodObject": Case(
        3, 4, metric="object-per-pod", levels=[20000], target=5000, expected_utilization=6667
    ),
    "TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods": Case(
        3, 5, readiness=[False, True, False], metric="object", levels=[50000], target=10000,
        expected_utilization=50000,
    ),
    "TestReplicaCalcScaleUpCMExternal": Case(
        1, 2, metric="pods", levels=[8600], target=4400, expected_utilization=8600
    ),
    "TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods": Case(
        3, 2, readiness=[False, True, False], metric="external", levels=[8600], target=4400,
        expected_utilization=8600,
    ),
    "TestReplicaCalcScaleUpCMExternalNoLabels": Case(
        1, 2, metric="pods", levels=[8600], target=4400, expected_utilization=8600
    ),
    "TestReplicaCalcScaleUpPerPodCMExternal": Case(
        3, 4, metric="external-per-pod", levels=[8600], target=2150, expected_utilization=2867
    ),
    "TestReplicaCalcScaleDown": Case(
        5, 3, requests=[ONE] * 5, levels=[100, 300, 500, 250, 250], target=50, expected_utilization=28,
        expected_value=560,
    ),
    "TestReplicaCalcScaleDownCM": Case(
        5, 3, metric="pods", levels=[12000] * 5, target=20000, expected_utilization=12000
    ),
    "TestReplicaCalcScaleDownPerPodCMObject": Case(
        5, 3, metric="object-per-pod", levels=[6000], target=2000, expected_utilization=1200
    ),
    "TestReplicaCalcScaleDownCMObject": Case(
        5, 3, metric="object", levels=[12000], target=20000, expected_utilization=12000
    ),
    "TestReplicaCalcScaleDownCMExternal": Case(
        5, 3, metric="external", levels=[8600], target=14334, expected_utilization=8600
    ),
    "TestReplicaCalcScaleDownPerPodCMExternal": Case(
        5, 3, metric="external-per-pod", levels=[8600], target=2867, expected_utilization=1720
    ),
    "TestReplicaCalcScaleDownIncludeUnreadyPods": Case(
        5, 2, readiness=[True, True, True, False, False], requests=[ONE] * 5, levels=[100, 300, 500, 250, 250],
        target=50, expected_utilization=30, expected_value=600,
    ),
    "TestReplicaCalcScaleDownExcludeUnscheduledPods": Case(
        5, 1, readiness=[True, False, False, False, False], phase=["Running"] + ["Pending"] * 4,
        requests=[ONE] * 5, levels=[100], target=50, expected_utilization=10, expected_value=200,
    ),
    "TestReplicaCalcScaleDownIgnoreHotCpuPods": Case(
        5, 2, start=[COOL, COOL, COOL, HOT, HOT], requests=[ONE] * 5, levels=[100, 300, 500, 250, 250], target=50,
        expected_utilization=30, expected_value=600,
    ),
    "TestReplicaCalcScaleDownIgnoresFailedPods": Case(
        5, 3, readiness=[True] * 5 + [False] * 2, phase=["Running"] * 5 + ["Failed"] * 2, requests=[ONE] * 7,
        levels=[100, 300, 500, 250, 250], target=50, expected_utilization=28, expected_value=560,
    ),
    "TestReplicaCalcScaleDownIgnoresDeletionPods": Case(
        5, 3, readiness=[True] * 5 + [False] * 2, phase=["Running"] * 7, deleted=[False] * 5 + [True] * 2,
        requests=[ONE] * 7, levels=[100, 300, 500, 250, 250], target=50, expected_utilization=28,
        expected_value=560,
    ),
    "TestReplicaCalcTolerance": Case(
        3, 3, requests=["0.9", "1.0", "1.1"], levels=[1010, 1030, 1020], target=100, expected_utilization=102,
        expected_value=2040,
    ),
    "TestReplicaCalcToleranceCM": Case(
        3, 3, metric="pods", levels=[20000, 21000, 21000], target=20000, expected_utilization=20666
    ),
    "TestReplicaCalcToleranceCMObject": Case(
        3, 3, metric="object", levels=[20666], target=20000, expected_utilization=20666
    ),
    "TestReplicaCalcTolerancePerPodCMObject": Case(
        4, 4, metric="object-per-pod", levels=[20166], target=5000, expected_utilization=5042
    ),
    "TestReplicaCalcToleranceCMExternal": Case(
        3, 3, metric="external", levels=[8600], target=8888, expected_utilization=8600
    ),
    "TestReplicaCalcTolerancePerPodCMExternal": Case(
        3, 3, metric="external-per-pod", levels=[8600], target=2900, expected_utilization=2867
    ),
    "TestReplicaCalcSuperfluousMetrics": Case(
        4, 24, requests=[ONE] * 4, levels=[4000, 9500, 3000, 7000, 3200, 2000], target=100,
        expected_utilization=587, expected_value=11750,
    ),
    "TestReplicaCalcMissingMetrics": Case(
        4, 3, requests=[ONE] * 4, levels=[400, 95], target=100, expected_utilization=24, expected_value=495
    ),
    "TestReplicaCalcEmptyMetrics": Case(
        4, error="unable to get metrics for resource cpu: no metrics returned from resource metrics API",
        requests=[ONE] * 3, levels=[], target=100,
    ),
    "TestReplicaCalcEmptyCPURequest": Case(1, error="missing request for", requests=[], levels=[200], target=100),
    "TestReplicaCalcMissingMetricsNoChangeEq": Case(
        2, 2, requests=[ONE] * 2, levels=[1000], target=100, expected_utilization=100, expected_value=2000
    ),
    "TestReplicaCalcMissingMetricsNoChangeGt": Case(
        2, 2, requests=[ONE] * 2, levels=[1900], target=100, expected_utilization=190, expected_value=3800
    ),
    "TestReplicaCalcMissingMetricsNoChangeLt": Case(
        2, 2, requests=[ONE] * 2, levels=[600], target=100, expected_utilization=60, expected_value=1200
    ),
    "TestReplicaCalcMissingMetricsUnreadyChange": Case(
        3, 3, readiness=[False, True, True], requests=[ONE] * 3, levels=[100, 450], target=50,
        expected_utilization=45, expected_value=900,
    ),
    "TestReplicaCalcMissingMetricsHotCpuNoChange": Case(
        3, 3, start=[HOT, COOL, COOL], requests=[ONE] * 3, levels=[100, 450], target=50, expected_utilization=45,
        expected_value=900,
    ),
    "TestReplicaCalcMissingMetricsUnreadyScaleUp": Case(
        3, 4, readiness=[False, True, True], requests=[ONE] * 3, levels=[100, 2000], target=50,
        expected_utilization=200, expected_value=4000,
    ),
    "TestReplicaCalcMissingMetricsHotCpuScaleUp": Case(
        3, 4, readiness=[False, True, True], start=[HOT, COOL, COOL], requests=[ONE] * 3, levels=[100, 2000],
        target=50, expected_utilization=200, expected_value=4000,
    ),
    "TestReplicaCalcMissingMetricsUnreadyScaleDown": Case(
        4, 3, readiness=[False, True, True, True], requests=[ONE] * 4, levels=[100, 100, 100], target=50,
        expected_utilization=10, expected_value=200,
    ),
    "TestReplicaCalcDuringRollingUpdateWithMaxSurge": Case(
        2, 2, phase=["Running"] * 3, requests=[ONE] * 3, levels=[100, 100], target=50, expected_utilization=10,
        expected_value=200,
    ),
    # kubeship's row (no upstream case): a Pods metric exactly at target with pods missing is left
    # alone; calcPlainMetricReplicas fills missing pods only below (target) or above (0) the target
    # (`else if usageRatio > 1.0`, replica_calculator.go since 1.33). 3 at target, 2 missing: stay 5.
    "PodsMetricAtTargetWithMissingPods": Case(
        5, 5, metric="pods", levels=[15000, 15000, 15000], target=15000, expected_utilization=15000
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_upstream_case(name: str) -> None:
    case = CASES[name]
    if case.error is not None:
        with pytest.raises(MetricError, match=case.error):
            run(case)
        return
    replicas, utilization = run(case)
    assert (replicas, utilization) == (case.expected, case.expected_utilization)


def _tolerance_case(margin: float) -> tuple[Case, int]:
    """TestReplicaCalcComputedToleranceAlgImplementation: requests jittered around 2× usage."""
    start_pods, used = 10, 10 * 150
    requested = 2 * used
    per_pod = requested // start_pods
    target = abs(1 / ((requested // used) * (1 - 0.1))) + margin
    final_target = int(target * 100)
    final_pods = math.ceil(used / (requested * target) * start_pods)
    jitter = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0]
    case = Case(
        start_pods, final_pods, requests=[f"{per_pod + j}m" for j in jitter], levels=[used // 10] * 10,
        target=final_target, expected_utilization=used * 100 // requested, expected_value=2 * used // 10,
    )  # fmt: skip
    return case, start_pods


def test_computed_tolerance_scales_just_outside_it() -> None:
    case, _ = _tolerance_case(0.01)
    assert run(case) == (case.expected, case.expected_utilization)


def test_computed_tolerance_holds_just_inside_it() -> None:
    case, start = _tolerance_case(0.004)
    assert run(case)[0] == start


def test_scale_from_zero_ignores_tolerance_and_pods() -> None:
    assert usage_ratio_replica_count(0, 1.05, [], SETTINGS) == 2


# TestGroupPods. Upstream's older groupPods returned one "ignored" set for what
# is now the unready set (Pending and CPU-unready pods); deleted and Failed pods
# are a separate, newer set. Times are relative to NOW; metric timestamps and
# windows as upstream gives them.
def _p(
    name: str,
    start: float | None,
    ready: bool | None = None,
    transition: float = 0.0,
    phase: str = "Succeeded",
) -> Pod:
    return Pod(name, phase=phase, ready=ready, ready_transition=transition, start_time=start)


GROUP_CASES = {
    "void": ([], {}, "cpu", 0, set(), set()),
    "count in a ready pod - memory": ([_p("bentham", None)], {"bentham": Sample(1, NOW, 60)}, "memory", 1, set(), set()),
    "ignore a pod without ready condition - CPU": ([_p("lucretius", NOW)], {"lucretius": Sample(1)}, "cpu", 0, {"lucretius"}, set()),
    "count in a ready pod with fresh metrics during initialization period - CPU": (
        [_p("bentham", NOW - 60, True, NOW - 30)], {"bentham": Sample(1, NOW, 30)}, "cpu", 1, set(), set()),
    "ignore a ready pod without fresh metrics during initialization period - CPU": (
        [_p("bentham", NOW - 60, True, NOW - 30)], {"bentham": Sample(1, NOW, 60)}, "cpu", 0, {"bentham"}, set()),
    "ignore an unready pod during initialization period - CPU": (
        [_p("lucretius", NOW - 600, False, NOW - 594)], {"lucretius": Sample(1)}, "cpu", 0, {"lucretius"}, set()),
    "count in a ready pod without fresh metrics after initialization period - CPU": (
        [_p("bentham", NOW - 180, True, NOW - 180)], {"bentham": Sample(1, NOW - 120, 60)}, "cpu", 1, set(), set()),
    "count in an unready pod that was ready after initialization period - CPU": (
        [_p("lucretius", NOW - 600, False, NOW - 540)], {"lucretius": Sample(1)}, "cpu", 1, set(), set()),
    "ignore pod that has never been ready after initialization period - CPU": (
        [_p("lucretius", NOW - 600, False, NOW - 590)], {"lucretius": Sample(1)}, "cpu", 1, set(), set()),
    "a missing pod": ([_p("epicurus", NOW - 180)], {}, "cpu", 0, set(), {"epicurus"}),
    "several pods": (
        [_p("lucretius", NOW), _p("niccolo", NOW - 180, True, NOW - 180), _p("epicurus", NOW - 180)],
        {"lucretius": Sample(1), "niccolo": Sample(1)}, "cpu", 1, {"lucretius"}, {"epicurus"}),
    "pending pods are ignored": ([_p("unscheduled", None, phase="Pending")], {}, "cpu", 0, {"unscheduled"}, set()),
}  # fmt: skip


@pytest.mark.parametrize("name", list(GROUP_CASES))
def test_upstream_group_pods(name: str) -> None:
    from kubeship.autoscale.replicas import group_pods

    pods, metrics, resource, ready, unready, missing = GROUP_CASES[name]
    groups = group_pods(pods, metrics, resource, SETTINGS, NOW)
    assert (groups.ready_count, set(groups.unready), set(groups.missing)) == (ready, unready, missing)


def test_deleted_and_failed_pods_are_ignored_entirely() -> None:
    from kubeship.autoscale.replicas import group_pods

    pods = [Pod("gone", deleted=True), Pod("dead", phase="Failed"), Pod("ok", start_time=NOW - 600)]
    groups = group_pods(pods, {"gone": Sample(1), "dead": Sample(1), "ok": Sample(1)}, "cpu", SETTINGS, NOW)
    assert (groups.ready_count, set(groups.ignored), set(groups.unready)) == (1, {"gone", "dead"}, set())
