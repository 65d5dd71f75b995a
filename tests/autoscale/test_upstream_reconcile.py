"""kube-controller-manager's reconcile tests (pkg/controller/podautoscaler/horizontal_test.go: TestScaleUp,
TestScaleDown, ... each a whole pass of the controller against fake API clients), ported row for row
and run through `decide`, the whole pass.

`case()` builds the snapshot the way the file's `prepareTestClient` builds its fakes: pods
`test-pod-N` with two containers of half the CPU request each, Ready at their start time (Go's zero
time unless given; "hot" = now, "cool" = 3 minutes ago), PodMetrics splitting each reported level
across the two containers with a one-minute window, the custom metric `qps` per pod (milli-units), the
Object metric = the first level, the External metric = every level. The controller runs with the
file's settings: tolerance 0.1, CPU initialisation period 2 min, readiness delay 10 s, downscale
stabilisation 5 min, scaleUpLimitFactor 8 (its init()), HPAScaleToZero off unless a row says "FG on"
(no ScaledToZero condition). The from-zero rows are split as the 1.37 refactor of the file splits them
("... with feature gate enabled" / "disabled"): a zero is woken only with the gate on and the HPA's own
ScaledToZero=True (horizontal.go's shouldComputeMetricsForZeroReplicas); the expectations of the
split rows follow that code, the refactored file's bodies not being among the sources found. The
other 1.33+ tests are in test_kubernetes_137.py.

Each row keeps upstream's test name; `expected` conditions are statusOkWithOverrides(...) as there.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from kubeship.autoscale.decide import decide, format_time

NOW = 1_800_000_000.0
HOT, COOL, ZERO = NOW, NOW - 180, "0001-01-01T00:00:00Z"
ONE = "1.0"

Cond = tuple[str, str, str]
STATUS_OK: list[Cond] = [
    ("AbleToScale", "True", "SucceededRescale"),
    ("ScalingActive", "True", "ValidMetricFound"),
    ("ScalingLimited", "False", "DesiredWithinRange"),
]


def ok(*overrides: Cond) -> list[Cond]:
    """statusOkWithOverrides: replace the condition of the same type, or append."""
    out = list(STATUS_OK)
    for o in overrides:
        kinds = [c[0] for c in out]
        if o[0] in kinds:
            out[kinds.index(o[0])] = o
        else:
            out.append(o)
    return out


READY_FOR_NEW_SCALE: Cond = ("AbleToScale", "True", "ReadyForNewScale")
PAUSED: list[Cond] = [
    ("AbleToScale", "True", "SucceededGetScale"),
    ("ScalingActive", "False", "ScalingDisabled"),
]
# Woken from zero with the gate on: the status's ScaledToZero keeps its place, set False by the rescale.
WOKEN: list[Cond] = [("ScaledToZero", "False", "NotScaledToZero"), *STATUS_OK]


def _time(t: float | str) -> str:
    return t if isinstance(t, str) else format_time(t)


def _milli_cpu(m: int) -> str:
    return f"{m}m"


def pods_metric(name: str = "qps", average: str = "15.0") -> dict[str, Any]:
    return {
        "type": "Pods",
        "pods": {"metric": {"name": name}, "target": {"type": "AverageValue", "averageValue": average}},
    }


def object_metric(value: str | None = None, average: str | None = None) -> dict[str, Any]:
    target = {"type": "Value", "value": value} if value else {"type": "AverageValue", "averageValue": average}
    described = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "some-deployment"}
    return {
        "type": "Object",
        "object": {"metric": {"name": "qps"}, "describedObject": described, "target": target},
    }


def external_metric(value: str | None = None, average: str | None = None) -> dict[str, Any]:
    target = {"type": "Value", "value": value} if value else {"type": "AverageValue", "averageValue": average}
    return {
        "type": "External",
        "external": {
            "metric": {"name": "qps", "selector": {"matchLabels": {"label": "value"}}},
            "target": target,
        },
    }


def container_cpu(target: int, container: str = "container1") -> dict[str, Any]:
    return {
        "type": "ContainerResource",
        "containerResource": {
            "name": "cpu",
            "container": container,
            "target": {"type": "Utilization", "averageUtilization": target},
        },
    }


def rules(pods: int, pods_period: int, percent: int, percent_period: int, window: int) -> dict[str, Any]:
    """generateScalingRules: the Max policy, a Pods and/or Percent policy, a stabilization window."""
    policies = []
    if pods:
        policies.append({"type": "Pods", "value": pods, "periodSeconds": pods_period})
    if percent:
        policies.append({"type": "Percent", "value": percent, "periodSeconds": percent_period})
    return {"stabilizationWindowSeconds": window, "selectPolicy": "Max", "policies": policies}


def case(
    *,
    min_replicas: int = 2,
    max_replicas: int = 6,
    spec: int = 3,
    status: int | None = None,
    cpu_target: int = 0,
    levels: tuple[int, ...] = (),
    requests: tuple[str, ...] | None = None,
    readiness: tuple[bool, ...] | None = None,
    start: tuple[float | str, ...] | None = None,
    phase: tuple[str, ...] | None = None,
    deleting: tuple[bool, ...] | None = None,
    metrics: tuple[dict[str, Any], ...] = (),
    up: dict[str, Any] | None = None,
    down: dict[str, Any] | None = None,
    recommendations: tuple[tuple[int, float], ...] | None = None,
    no_pod_metrics: bool = False,
    no_metrics: bool = False,
    no_external: bool = False,
    scaled_to_zero: bool | None = None,
) -> dict[str, Any]:
    """`scaled_to_zero` runs the pass with HPAScaleToZero on and, if True, the HPA's status holding
    ScaledToZero=True (the refactored table's "FG on" rows); None is the gate off."""
    status = spec if status is None else status
    count = len(requests) if requests is not None else status
    pods = []
    for i in range(count):
        started = _time(start[i]) if start else ZERO
        request = requests[i] if requests else ONE
        half = f"{int(float(request) * 1000) // 2}m"
        pod: dict[str, Any] = {
            "metadata": {"name": f"test-pod-{i}"},
            "spec": {
                "containers": [
                    {"name": f"container{n}", "resources": {"requests": {"cpu": half}}} for n in (1, 2)
                ]
            },
            "status": {
                "phase": phase[i] if phase else "Running",
                "startTime": started,
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True" if (readiness[i] if readiness else True) else "False",
                        "lastTransitionTime": started,
                    }
                ],
            },
        }
        if deleting and deleting[i]:
            pod["metadata"]["deletionTimestamp"] = format_time(NOW)
        pods.append(pod)
    hpa_metrics = list(metrics)
    if cpu_target:
        hpa_metrics.insert(
            0,
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": cpu_target},
                },
            },
        )
    if not hpa_metrics:
        hpa_metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]
    hpa: dict[str, Any] = {
        "metadata": {"name": "test-hpa", "namespace": "test-namespace"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "v1", "kind": "ReplicationController", "name": "test-rc"},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": hpa_metrics,
        },
    }
    if up is not None or down is not None:
        hpa["spec"]["behavior"] = {k: v for k, v in (("scaleUp", up), ("scaleDown", down)) if v is not None}
    snapshot: dict[str, Any] = {
        "horizontalPodAutoscaler": hpa,
        "scale": {"spec": {"replicas": spec}, "status": {"replicas": status}},
        "pods": pods,
        "podMetrics": []
        if no_pod_metrics
        else [
            {
                "metadata": {"name": f"test-pod-{i}"},
                "timestamp": format_time(NOW),
                "window": "1m",
                "containers": [
                    {"name": f"container{n}", "usage": {"cpu": _milli_cpu(level // 2), "memory": "512Ki"}}
                    for n in (1, 2)
                ],
            }
            for i, level in enumerate(levels)
        ],
        "customMetrics": {
            "qps": [
                {
                    "describedObject": {"kind": "Pod", "name": f"test-pod-{i}"},
                    "metricName": "qps",
                    "value": f"{level}m",
                    "timestamp": format_time(NOW),
                }
                for i, level in enumerate(levels)
            ]
        },
        "externalMetrics": {
            "qps": [
                {"metricName": "qps", "value": f"{level}m", "timestamp": format_time(NOW)} for level in levels
            ]
        },
        "now": format_time(NOW),
        "controller": {
            "tolerance": 0.1,
            "cpuInitializationPeriodSeconds": 120,
            "initialReadinessDelaySeconds": 10,
            "downscaleStabilizationSeconds": 300,
            "scaleUpLimitFactor": 8,
            "featureGates": {"HPAScaleToZero": scaled_to_zero is not None},
        },
    }
    if scaled_to_zero:
        hpa["status"] = {"conditions": [{"type": "ScaledToZero", "status": "True", "reason": "ScaledToZero"}]}
    if no_external:  # the external metrics API fails, the others answer
        snapshot["externalMetrics"] = {}
    if no_metrics:  # every metrics API answers "something went wrong": nothing in the snapshot
        snapshot["podMetrics"], snapshot["customMetrics"], snapshot["externalMetrics"] = [], {}, {}
    if recommendations is not None:
        snapshot["memory"] = {
            "recommendations": [{"replicas": r, "timestamp": format_time(t)} for r, t in recommendations]
        }
    return snapshot


def conditions(result: dict[str, Any]) -> list[Cond]:
    return [(c["type"], c["status"], c["reason"]) for c in result["conditions"]]


R = pytest.param
# TestScaleUpFromZeroOneMetricInvalid, run with the gate on and off
FROM_ZERO_INVALID: dict[str, Any] = {
    "min_replicas": 0,
    "spec": 0,
    "cpu_target": 30,
    "metrics": ({"type": "CheddarCheese"},),
    "levels": (300, 400, 500),
    "requests": (ONE,) * 3,
    "recommendations": (),
}
ROWS = [
    R(case(cpu_target=30, levels=(300, 500, 700), requests=(ONE,) * 3), 5, None, id="TestScaleUp"),
    R(
        case(metrics=(container_cpu(30),), levels=(300, 500, 700), requests=(ONE,) * 3),
        5,
        None,
        id="TestScaleUpContainer",
    ),
    R(
        case(cpu_target=30, levels=(300, 500, 700), requests=(ONE,) * 3, readiness=(False, True, True)),
        4,
        None,
        id="TestScaleUpUnreadyLessScale",
    ),
    R(
        case(cpu_target=30, levels=(300, 500, 700), requests=(ONE,) * 3, start=(HOT, COOL, COOL)),
        4,
        None,
        id="TestScaleUpHotCpuLessScale",
    ),
    R(
        case(cpu_target=30, levels=(400, 500, 700), requests=(ONE,) * 3, readiness=(True, False, False)),
        3,
        ok(READY_FOR_NEW_SCALE),
        id="TestScaleUpUnreadyNoScale",
    ),
    R(
        case(
            cpu_target=30,
            levels=(400, 500, 700),
            requests=(ONE,) * 3,
            readiness=(True, False, False),
            start=(COOL, HOT, HOT),
        ),
        3,
        ok(READY_FOR_NEW_SCALE),
        id="TestScaleUpHotCpuNoScale",
    ),
    R(
        case(
            spec=2,
            cpu_target=30,
            levels=(500, 700),
            requests=(ONE,) * 4,
            readiness=(True, True, False, False),
            phase=("Running", "Running", "Failed", "Failed"),
        ),
        4,
        None,
        id="TestScaleUpIgnoresFailedPods",
    ),
    R(
        case(
            spec=2,
            cpu_target=30,
            levels=(500, 700),
            requests=(ONE,) * 4,
            readiness=(True, True, False, False),
            deleting=(False, False, True, True),
        ),
        4,
        None,
        id="TestScaleUpIgnoresDeletionPods",
    ),
    R(case(cpu_target=30, levels=(300, 500, 700), requests=(ONE,) * 3), 5, None, id="TestScaleUpDeployment"),
    R(case(cpu_target=30, levels=(300, 500, 700), requests=(ONE,) * 3), 5, None, id="TestScaleUpReplicaSet"),
    R(
        case(metrics=(pods_metric(),), levels=(20000, 10000, 30000), requests=(ONE,) * 3),
        4,
        None,
        id="TestScaleUpCM",
    ),
    R(
        case(
            metrics=(pods_metric(),),
            levels=(50000, 10000, 30000),
            requests=(ONE,) * 3,
            readiness=(True, True, False),
            start=(COOL, COOL, HOT),
        ),
        6,
        None,
        id="TestScaleUpCMUnreadyAndHotCpuNoLessScale",
    ),
    R(
        case(
            metrics=(pods_metric(),),
            levels=(50000, 15000, 30000),
            requests=(ONE,) * 3,
            readiness=(False, True, False),
            start=(HOT, COOL, HOT),
        ),
        6,
        ok(("AbleToScale", "True", "SucceededRescale"), ("ScalingLimited", "True", "TooManyReplicas")),
        id="TestScaleUpCMUnreadyandCpuHot",
    ),
    R(
        case(
            metrics=(pods_metric(),),
            levels=(50000, 15000, 30000),
            requests=(ONE,) * 3,
            start=(HOT, COOL, HOT),
        ),
        6,
        ok(("AbleToScale", "True", "SucceededRescale"), ("ScalingLimited", "True", "TooManyReplicas")),
        id="TestScaleUpHotCpuNoScaleWouldScaleDown",
    ),
    R(case(metrics=(object_metric(value="15.0"),), levels=(20000,)), 4, None, id="TestScaleUpCMObject"),
    R(
        case(
            min_replicas=0,
            spec=0,
            metrics=(object_metric(value="15.0"),),
            levels=(20000,),
            scaled_to_zero=True,
        ),
        2,
        WOKEN,
        id="TestScaleUpFromZeroCMObject-FG-on",
    ),
    R(
        case(min_replicas=0, spec=0, metrics=(object_metric(value="15.0"),), levels=(20000,)),
        0,
        PAUSED,
        id="TestScaleUpFromZeroCMObject-FG-off",
    ),
    R(
        case(
            min_replicas=0, spec=0, metrics=(object_metric(value="1.0"),), levels=(1000,), scaled_to_zero=True
        ),
        1,
        WOKEN,
        id="TestScaleUpFromZeroIgnoresToleranceCMObject-FG-on",
    ),
    R(
        case(min_replicas=0, spec=0, metrics=(object_metric(value="1.0"),), levels=(1000,)),
        0,
        PAUSED,
        id="TestScaleUpFromZeroIgnoresToleranceCMObject-FG-off",
    ),
    R(
        case(metrics=(object_metric(average="10.0"),), levels=(40000,)),
        4,
        None,
        id="TestScaleUpPerPodCMObject",
    ),
    R(case(metrics=(external_metric(value="6666m"),), levels=(8600,)), 4, None, id="TestScaleUpCMExternal"),
    R(
        case(metrics=(external_metric(average="2222m"),), levels=(8600,)),
        4,
        None,
        id="TestScaleUpPerPodCMExternal",
    ),
    R(
        case(
            spec=5, cpu_target=50, levels=(100, 300, 500, 250, 250), requests=(ONE,) * 5, recommendations=()
        ),
        3,
        None,
        id="TestScaleDown",
    ),
    R(
        case(
            spec=5,
            metrics=(container_cpu(50, "container2"),),
            levels=(100, 300, 500, 250, 250),
            requests=(ONE,) * 5,
            recommendations=(),
        ),
        3,
        None,
        id="TestScaleDownContainerResource",
    ),
    R(
        case(
            spec=5,
            up=rules(0, 0, 100, 15, 30),
            cpu_target=50,
            levels=(100, 300, 500, 250, 250),
            requests=(ONE,) * 5,
            recommendations=(),
        ),
        3,
        None,
        id="TestScaleDownWithScalingRules",
    ),
    R(
        case(
            cpu_target=30, metrics=({"type": "CheddarCheese"},), levels=(300, 400, 500), requests=(ONE,) * 3
        ),
        4,
        None,
        id="TestScaleUpOneMetricInvalid",
    ),
    R(
        case(**FROM_ZERO_INVALID, scaled_to_zero=True),
        0,  # CPU needs pods: with no Object or External metric nothing wakes it (canScaleFromZero)
        [("ScaledToZero", "True", "ScaledToZero"), *PAUSED],
        id="TestScaleUpFromZeroOneMetricInvalid-FG-on",
    ),
    R(case(**FROM_ZERO_INVALID), 0, PAUSED, id="TestScaleUpFromZeroOneMetricInvalid-FG-off"),
    R(
        case(metrics=({"type": "CheddarCheese"},), levels=(), requests=(ONE,) * 3),
        3,
        [("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "InvalidMetricSourceType")],
        id="TestScaleUpBothMetricsEmpty",
    ),
    R(
        case(spec=5, cpu_target=50, levels=(100, 300, 500, 250, 250), requests=(ONE,) * 5),
        5,
        ok(READY_FOR_NEW_SCALE, ("AbleToScale", "True", "ScaleDownStabilized")),
        id="TestScaleDownStabilizeInitialSize",
    ),
    R(
        case(
            spec=5,
            metrics=(pods_metric(average="20.0"),),
            levels=(12000,) * 5,
            requests=(ONE,) * 5,
            recommendations=(),
        ),
        3,
        None,
        id="TestScaleDownCM",
    ),
    R(
        case(
            spec=5,
            metrics=(object_metric(value="20.0"),),
            levels=(12000,),
            requests=(ONE,) * 5,
            recommendations=(),
        ),
        3,
        None,
        id="TestScaleDownCMObject",
    ),
    R(
        case(
            min_replicas=0,
            spec=5,
            metrics=(object_metric(value="20.0"),),
            levels=(0,),
            requests=(ONE,) * 5,
            recommendations=(),
        ),
        0,
        None,
        id="TestScaleDownToZeroCMObject",
    ),
    R(
        case(
            spec=5,
            metrics=(object_metric(average="20.0"),),
            levels=(60000,),
            requests=(ONE,) * 5,
            recommendations=(),
        ),
        3,
        None,
        id="TestScaleDownPerPodCMObject",
    ),
    R(
        case(spec=5, metrics=(external_metric(value="14400m"),), levels=(8600,), recommendations=()),
        3,
        None,
        id="TestScaleDownCMExternal",
    ),
    R(
        case(
            min_replicas=0,
            spec=5,
            metrics=(external_metric(value="14400m"),),
            levels=(0,),
            recommendations=(),
        ),
        0,
        None,
        id="TestScaleDownToZeroCMExternal",
    ),
    R(
        case(spec=5, metrics=(external_metric(average="3000m"),), levels=(8600,), recommendations=()),
        3,
        None,
        id="TestScaleDownPerPodCMExternal",
    ),
    R(
        case(
            spec=5,
            cpu_target=50,
            levels=(100, 300, 500, 250, 250),
            requests=(ONE,) * 5,
            readiness=(True, True, True, False, False),
            recommendations=(),
        ),
        2,
        None,
        id="TestScaleDownIncludeUnreadyPods",
    ),
    R(
        case(
            spec=5,
            cpu_target=50,
            levels=(100, 300, 500, 250, 250),
            requests=(ONE,) * 5,
            start=(COOL, COOL, COOL, HOT, HOT),
            recommendations=(),
        ),
        2,
        None,
        id="TestScaleDownIgnoreHotCpuPods",
    ),
    R(
        case(
            spec=5,
            cpu_target=50,
            levels=(100, 300, 500, 250, 250),
            requests=(ONE,) * 7,
            readiness=(True,) * 5 + (False,) * 2,
            phase=("Running",) * 5 + ("Failed",) * 2,
            recommendations=(),
        ),
        3,
        None,
        id="TestScaleDownIgnoresFailedPods",
    ),
    R(
        case(
            spec=5,
            cpu_target=50,
            levels=(100, 300, 500, 250, 250),
            requests=(ONE,) * 7,
            readiness=(True,) * 5 + (False,) * 2,
            deleting=(False,) * 5 + (True,) * 2,
            recommendations=(),
        ),
        3,
        None,
        id="TestScaleDownIgnoresDeletionPods",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=5,
            cpu_target=100,
            levels=(1010, 1030, 1020),
            requests=("0.9", "1.0", "1.1"),
        ),
        3,
        ok(READY_FOR_NEW_SCALE),
        id="TestTolerance",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=5,
            metrics=(pods_metric(average="20.0"),),
            levels=(20000, 20001, 21000),
            requests=("0.9", "1.0", "1.1"),
        ),
        3,
        ok(READY_FOR_NEW_SCALE),
        id="TestToleranceCM",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=5,
            metrics=(object_metric(value="20.0"),),
            levels=(20050,),
            requests=("0.9", "1.0", "1.1"),
        ),
        3,
        ok(READY_FOR_NEW_SCALE),
        id="TestToleranceCMObject",
    ),
    R(
        case(spec=4, metrics=(external_metric(value="8666m"),), levels=(8600,)),
        4,
        ok(READY_FOR_NEW_SCALE),
        id="TestToleranceCMExternal",
    ),
    R(
        case(spec=4, metrics=(object_metric(average="2200m"),), levels=(8600,)),
        4,
        ok(READY_FOR_NEW_SCALE),
        id="TestTolerancePerPodCMObject",
    ),
    R(
        case(spec=4, metrics=(external_metric(average="2200m"),), levels=(8600,)),
        4,
        ok(READY_FOR_NEW_SCALE),
        id="TestTolerancePerPodCMExternal",
    ),
    R(
        case(
            max_replicas=5,
            cpu_target=90,
            levels=(10, 95, 10),
            requests=("0.9", "1.0", "1.1"),
            recommendations=(),
        ),
        2,
        ok(("ScalingLimited", "True", "TooFewReplicas")),
        id="TestMinReplicas",
    ),
    R(
        case(
            min_replicas=0,
            max_replicas=5,
            cpu_target=90,
            levels=(0, 0, 0),
            requests=("0.9", "1.0", "1.1"),
            recommendations=(),
        ),
        0,
        ok(("ScalingLimited", "False", "DesiredWithinRange")),
        id="TestZeroMinReplicasDesiredZero",
    ),
    R(
        case(
            max_replicas=5,
            cpu_target=90,
            levels=(0, 0, 0),
            requests=("0.9", "1.0", "1.1"),
            recommendations=(),
        ),
        2,
        ok(("ScalingLimited", "True", "TooFewReplicas")),
        id="TestMinReplicasDesiredZero",
    ),
    R(
        case(min_replicas=3, max_replicas=5, spec=0, cpu_target=90, levels=(), requests=()),
        0,
        [("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "ScalingDisabled")],
        id="TestZeroReplicas",
    ),
    R(
        case(min_replicas=3, max_replicas=5, spec=2, cpu_target=90, levels=(), requests=()),
        3,
        [("AbleToScale", "True", "SucceededRescale")],
        id="TestTooFewReplicas",
    ),
    R(
        case(min_replicas=3, max_replicas=5, spec=10, cpu_target=90, levels=(), requests=()),
        5,
        [("AbleToScale", "True", "SucceededRescale")],
        id="TestTooManyReplicas",
    ),
    R(
        case(max_replicas=5, cpu_target=90, levels=(8000, 9500, 1000), requests=("0.9", "1.0", "1.1")),
        5,
        ok(("ScalingLimited", "True", "TooManyReplicas")),
        id="TestMaxReplicas",
    ),
    R(
        case(spec=4, cpu_target=100, levels=(4000, 9500, 3000, 7000, 3200, 2000), requests=(ONE,) * 4),
        6,
        ok(("ScalingLimited", "True", "TooManyReplicas")),
        id="TestSuperfluousMetrics",
    ),
    R(
        case(spec=4, cpu_target=100, levels=(400, 95), requests=(ONE,) * 4, recommendations=()),
        3,
        None,
        id="TestMissingMetrics",
    ),
    R(
        case(spec=4, cpu_target=100, levels=(), requests=(ONE,) * 4),
        4,
        [("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "FailedGetResourceMetric")],
        id="TestEmptyMetrics",
    ),
    R(
        case(min_replicas=1, max_replicas=5, spec=1, cpu_target=100, levels=(200,), requests=()),
        1,
        [("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "FailedGetResourceMetric")],
        id="TestEmptyCPURequest",
    ),
    R(
        case(min_replicas=1, max_replicas=5, spec=1, cpu_target=50, levels=(200,), requests=("0.2",)),
        2,
        None,
        id="TestEventCreated",
    ),
    R(
        case(
            min_replicas=1, max_replicas=5, spec=2, cpu_target=50, levels=(200, 200), requests=("0.4", "0.4")
        ),
        2,
        ok(READY_FOR_NEW_SCALE),
        id="TestEventNotCreated",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=5,
            spec=4,
            cpu_target=50,
            levels=(200,),
            requests=("0.2",),
            recommendations=(),
        ),
        2,
        None,
        id="TestMissingReports",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=100,
            up=rules(0, 0, 700, 60, 0),
            cpu_target=10,
            levels=(100, 200, 300),
            requests=("0.1",) * 3,
        ),
        24,
        ok(("ScalingLimited", "True", "ScaleUpLimit")),
        id="TestUpscaleCap",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=20,
            up=rules(0, 0, 700, 60, 0),
            cpu_target=10,
            levels=(100, 200, 300),
            requests=("0.1",) * 3,
        ),
        20,
        ok(("ScalingLimited", "True", "TooManyReplicas")),
        id="TestUpscaleCapGreaterThanMaxReplicas",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=8,
            spec=4,
            status=5,
            cpu_target=50,
            levels=(500,) * 5,
            requests=("1",) * 5,
        ),
        4,
        ok(READY_FOR_NEW_SCALE),
        id="TestMoreReplicasThanSpecNoScale",
    ),
    R(
        case(metrics=({"type": "CheddarCheese"},), levels=(20000,)),
        3,
        [("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "InvalidMetricSourceType")],
        id="TestConditionInvalidSourceType",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=5,
            metrics=(pods_metric(),),
            levels=(20000, 10000, 30000),
            requests=(ONE,) * 3,
        ),
        4,
        ok(
            READY_FOR_NEW_SCALE,
            ("AbleToScale", "True", "SucceededRescale"),
            ("ScalingLimited", "False", "DesiredWithinRange"),
        ),
        id="TestNoBackoffUpscaleCM",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=5,
            cpu_target=10,
            metrics=(pods_metric(),),
            levels=(20000, 10000, 30000),
            requests=(ONE,) * 3,
        ),
        5,
        ok(
            READY_FOR_NEW_SCALE,
            ("AbleToScale", "True", "SucceededRescale"),
            ("ScalingLimited", "True", "TooManyReplicas"),
        ),
        id="TestNoBackoffUpscaleCMNoBackoffCpu",
    ),
    R(
        case(
            min_replicas=1,
            max_replicas=5,
            spec=4,
            cpu_target=100,
            levels=(50, 50, 50),
            requests=("0.1",) * 3,
            recommendations=((10, NOW - 600), (4, NOW - 60)),
        ),
        4,
        ok(READY_FOR_NEW_SCALE, ("AbleToScale", "True", "ScaleDownStabilized")),
        id="TestStabilizeDownscale",
    ),
    R(
        case(spec=1, levels=(0,) * 4, requests=(ONE,) * 4),
        2,
        [("AbleToScale", "True", "SucceededRescale")],
        id="TestScaleUpRCImmediately",
    ),
    R(
        case(
            max_replicas=5, spec=6, cpu_target=50, levels=(8000, 9500, 1000), requests=("0.9", "1.0", "1.1")
        ),
        5,
        [("AbleToScale", "True", "SucceededRescale")],
        id="TestScaleDownRCImmediately",
    ),
]


def computed_tolerance(extra: float) -> tuple[dict[str, Any], int]:
    """TestComputedToleranceAlgImplementation: a target just past (or just within) the tolerance."""
    start_pods, used = 10, 10 * 150
    requested = 2 * used
    requested_to_used = float(requested // used)
    per_pod = requested // start_pods
    target = abs(1 / (requested_to_used * (1 - 0.1))) + extra
    ratio = used / (requested * target)
    offsets = (100, -100, 10, -10, 2, -2, 1, -1, 0, 0)
    snap = case(
        min_replicas=0,
        max_replicas=1000,
        spec=start_pods,
        cpu_target=int(target * 100),
        levels=(used // 10,) * 10,
        requests=tuple(f"{(per_pod + o) / 1000}" for o in offsets),
        recommendations=(),
    )
    return snap, math.ceil(ratio * start_pods)


ROWS += [
    R(
        computed_tolerance(0.01)[0],
        computed_tolerance(0.01)[1],
        None,
        id="TestComputedToleranceAlgImplementation/tc1",
    ),
    R(
        computed_tolerance(0.004)[0],
        10,
        ok(READY_FOR_NEW_SCALE),
        id="TestComputedToleranceAlgImplementation/tc2",
    ),
]
FAILED_GET = [("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "{}")]
ROWS += [  # TestConditionFailedGetMetrics: one row per metric source, every metrics API failing
    R(
        case(
            min_replicas=1,
            max_replicas=100,
            cpu_target=cpu,
            metrics=specs,
            levels=(100, 200, 300),
            requests=("0.1",) * 3,
            no_metrics=True,
        ),
        3,
        [(t, st, r.format(reason)) for t, st, r in FAILED_GET],
        id=f"TestConditionFailedGetMetrics/{reason}",
    )
    for reason, cpu, specs in (
        ("FailedGetResourceMetric", 10, ()),
        ("FailedGetPodsMetric", 0, (pods_metric(),)),
        ("FailedGetObjectMetric", 0, (object_metric(value="15.0"),)),
        ("FailedGetExternalMetric", 0, (external_metric(value="300m"),)),
    )
]
ROWS += [
    R(
        case(
            cpu_target=30,
            metrics=(external_metric(value="100m"),),
            levels=(300, 400, 500),
            requests=(ONE,) * 3,
            no_external=True,
        ),
        4,
        None,
        id="TestScaleUpOneMetricEmpty",
    ),
    R(
        case(
            spec=5,
            cpu_target=50,
            metrics=({"type": "CheddarCheese"},),
            levels=(100, 300, 500, 250, 250),
            requests=(ONE,) * 5,
            recommendations=(),
        ),
        5,
        [("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "InvalidMetricSourceType")],
        id="TestNoScaleDownOneMetricInvalid",
    ),
    R(
        case(
            spec=5,
            cpu_target=50,
            metrics=(external_metric(value="1000m"),),
            levels=(100, 300, 500, 250, 250),
            requests=(ONE,) * 5,
            recommendations=(),
            no_external=True,
        ),
        5,
        [("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "FailedGetExternalMetric")],
        id="TestNoScaleDownOneMetricEmpty",
    ),
]


@pytest.mark.parametrize(("snapshot", "expected", "expected_conditions"), ROWS)
def test_reconcile(snapshot: dict[str, Any], expected: int, expected_conditions: list[Cond] | None) -> None:
    result = decide(snapshot)
    assert result["desiredReplicas"] == expected
    assert conditions(result) == (expected_conditions or STATUS_OK)
