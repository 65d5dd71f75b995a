"""What kube-controller-manager 1.33–1.37 does that older engines did not: tolerance per direction
(HPAConfigurableTolerance), scale to zero and back (HPAScaleToZero, the ScaledToZero condition), the
conditions of the immediate rescale when replicas are out of [min, max], and Pods metrics with
missing pods when the first pass lands exactly on the target. Whole passes through `decide`."""

from __future__ import annotations

from typing import Any

import pytest

from kubeship.autoscale.decide import SnapshotError, decide
from tests.autoscale.test_decide import conditions, pod, snapshot

QUEUE = {
    "type": "External",
    "external": {"metric": {"name": "queue_lag"}, "target": {"type": "AverageValue", "averageValue": "100"}},
}


def queue(
    current: int,
    lag: int,
    *,
    min_replicas: int = 0,
    status: list[dict[str, str]] | None = None,
    gates: dict[str, bool] | None = None,
    behavior: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"minReplicas": min_replicas, "metrics": [QUEUE]}
    if behavior is not None:
        spec["behavior"] = behavior
    snap = snapshot(
        current,
        [],
        spec=spec,
        externalMetrics={
            "queue_lag": [{"metricName": "queue_lag", "value": str(lag), "timestamp": "2027-01-15T08:00:00Z"}]
        },
    )
    snap["horizontalPodAutoscaler"]["status"] = {"conditions": status or []}
    if gates is not None:
        snap["controller"] = {"featureGates": gates}
    return snap


STZ_TRUE = [
    {
        "type": "ScaledToZero",
        "status": "True",
        "reason": "ScaledToZero",
        "message": "the HPA controller scaled the workload to zero",
    }
]


# -- scale to zero -----------------------------------------------------------------------------


def test_an_empty_queue_scales_to_zero_and_says_so() -> None:
    result = decide(queue(2, 0, behavior={"scaleDown": {"stabilizationWindowSeconds": 0}}))
    assert result["desiredReplicas"] == 0
    assert ("ScaledToZero", "True", "ScaledToZero") in conditions(result)


def test_explain_says_who_holds_the_zero() -> None:
    from kubeship.autoscale.explain import explain

    held = decide(queue(0, 0, status=STZ_TRUE))
    assert "the HPA put the workload at zero; it wakes it" in explain(held)
    paused = decide(queue(0, 500, status=[]))
    assert "set to zero by someone else" in explain(paused) and "scale it to 1" in explain(paused)
    tol = {"scaleUp": {"tolerance": "0.3"}, "scaleDown": {"tolerance": "0.05"}}
    within = decide(queue(4, 480, behavior=tol))  # 1.2 per pod of the target: within 30 % above
    assert "within the tolerance (5% below, 30% above the target)" in explain(within)


def test_a_workload_the_hpa_put_at_zero_wakes_when_work_arrives() -> None:
    result = decide(queue(0, 250, status=STZ_TRUE))
    assert result["desiredReplicas"] == 3  # ceil(250 / 100): from zero, no tolerance, no pod count
    assert ("ScaledToZero", "False", "NotScaledToZero") in conditions(result)
    assert ("AbleToScale", "True", "SucceededRescale") in conditions(result)


def test_at_zero_with_no_work_it_stays_and_keeps_its_condition() -> None:
    result = decide(queue(0, 0, status=STZ_TRUE))
    assert result["desiredReplicas"] == 0
    assert ("ScaledToZero", "True", "ScaledToZero") in conditions(result)
    assert ("ScalingActive", "True", "ValidMetricFound") in conditions(result)


def test_a_workload_someone_else_set_to_zero_stays_paused() -> None:
    """No ScaledToZero=True: the zero is an operator's pause, as before the feature."""
    for status in (
        [],
        [{"type": "ScaledToZero", "status": "False", "reason": "NotScaledToZero", "message": ""}],
    ):
        result = decide(queue(0, 5000, status=status))
        assert result["desiredReplicas"] == 0
        assert ("ScalingActive", "False", "ScalingDisabled") in conditions(result)


def test_woken_with_min_replicas_raised_since_it_does_not_go_below_the_minimum() -> None:
    result = decide(queue(0, 50, min_replicas=3, status=STZ_TRUE))
    assert result["desiredReplicas"] == 3


def test_with_the_gate_off_a_zero_is_never_woken() -> None:
    """horizontal.go (1.37): scaledToZeroCondition := gate && the condition, so with the gate off a
    target at zero is paused whatever minReplicas is (TestManualScaleToZeroDisablesHPA, "FG off"; an
    older controller computed from zero when minReplicas was 0). The status's own ScaledToZero is not
    read and, with no rescale, stays where it was (the controller starts from a copy of the status)."""
    off = {"HPAScaleToZero": False}
    for min_replicas, status in ((0, STZ_TRUE), (0, None), (1, STZ_TRUE)):
        result = decide(queue(0, 500, min_replicas=min_replicas, status=status, gates=off))
        assert result["desiredReplicas"] == 0
        assert ("ScalingActive", "False", "ScalingDisabled") in conditions(result)
    result = decide(queue(0, 500, min_replicas=1, status=STZ_TRUE, gates=off))
    assert [c[0] for c in conditions(result)] == ["ScaledToZero", "AbleToScale", "ScalingActive"]
    assert conditions(result)[0] == ("ScaledToZero", STZ_TRUE[0]["status"], STZ_TRUE[0]["reason"])


def test_with_the_gate_off_a_rescale_removes_a_stale_scaled_to_zero() -> None:
    """TestScaledToZeroConditionHandledOnNormalRescale, "removed on normal rescale, FG off": the
    condition is neither set nor kept once the controller rescales without the gate."""
    result = decide(queue(2, 500, status=STZ_TRUE, gates={"HPAScaleToZero": False}))
    assert result["desiredReplicas"] > 2  # rescaled
    assert "ScaledToZero" not in [c[0] for c in conditions(result)]
    on = decide(queue(2, 500, status=STZ_TRUE))
    assert ("ScaledToZero", "False", "NotScaledToZero") in conditions(on)


def test_with_only_pod_metrics_a_zero_is_never_woken() -> None:
    """CPU needs pods: with no Object or External metric the HPA cannot wake what it stopped."""
    snap = snapshot(0, [], spec={"minReplicas": 0})
    snap["horizontalPodAutoscaler"]["status"] = {"conditions": STZ_TRUE}
    result = decide(snap)
    assert result["desiredReplicas"] == 0
    assert ("ScalingActive", "False", "ScalingDisabled") in conditions(result)
    with pytest.raises(SnapshotError, match="NoSuchGate"):
        decide(queue(2, 0, gates={"NoSuchGate": True}))


# -- out of [min, max]: the immediate rescale ------------------------------------------------------


@pytest.mark.parametrize(("current", "expected"), [(12, 10), (1, 2)])
def test_out_of_range_rescales_at_once_with_upstreams_conditions(current: int, expected: int) -> None:
    result = decide(snapshot(current, ["500m"] * current))
    assert result["desiredReplicas"] == expected
    assert conditions(result) == [
        ("AbleToScale", "True", "SucceededRescale"),
        ("ScaledToZero", "False", "NotScaledToZero"),
    ]
    assert (
        result["conditions"][0]["message"]
        == f"the HPA controller was able to update the target scale to {expected}"
    )


# -- tolerance per direction -------------------------------------------------------------------------


CPU_AVERAGE = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "AverageValue", "averageValue": "1"}},
}


@pytest.mark.parametrize(
    ("cpu", "behavior", "expected"),
    [
        ("1080m", None, 10),  # 1.08: within the controller's 10 %
        ("1080m", {"scaleUp": {"tolerance": "0.05"}}, 11),  # beyond a 5 % scale-up tolerance: ceil(10.8)
        ("1080m", {"scaleDown": {"tolerance": "0.01"}}, 10),  # the other direction's does not apply
        ("850m", {}, 9),  # 0.85: beyond the default 10 % below
        ("850m", {"scaleDown": {"tolerance": "200m"}}, 10),  # within a 20 % scale-down tolerance
        ("850m", {"scaleUp": {"tolerance": 0.2}}, 9),  # a scale-up tolerance does not hold a scale-down
        ("850m", {"scaleDown": {"tolerance": 0.2}}, 10),  # a number is a Quantity too
    ],
)
def test_tolerance_per_direction(cpu: str, behavior: dict[str, Any] | None, expected: int) -> None:
    spec: dict[str, Any] = {"minReplicas": 1, "maxReplicas": 20, "metrics": [CPU_AVERAGE]}
    if behavior is not None:
        spec["behavior"] = {
            **behavior,
            "scaleDown": {"stabilizationWindowSeconds": 0, **behavior.get("scaleDown", {})},
        }
    assert decide(snapshot(10, [cpu] * 10, spec=spec))["desiredReplicas"] == expected


def test_the_tolerance_gate_off_ignores_the_fields() -> None:
    spec = {
        "minReplicas": 1,
        "maxReplicas": 20,
        "metrics": [CPU_AVERAGE],
        "behavior": {"scaleUp": {"tolerance": "0.01"}},
    }
    snap = snapshot(
        10, ["1080m"] * 10, spec=spec, controller={"featureGates": {"HPAConfigurableTolerance": False}}
    )
    assert decide(snap)["desiredReplicas"] == 10
    assert decide(snapshot(10, ["1080m"] * 10, spec=spec))["desiredReplicas"] == 11


# -- Pods metric, missing pods, first pass exactly on target ------------------------------------------


def test_pods_metric_with_missing_pods_at_ratio_one_stays_as_upstream() -> None:
    """calcPlainMetricReplicas (1.33+, the version with per-direction tolerances): `usageRatio < 1.0`
    fills missing pods with the target, `else if usageRatio > 1.0` with 0, so exactly on target
    nothing is filled and the new ratio is 1.0 again: 4 stays 4, as for Resource metrics. (Before
    1.33 the branch was a plain `else`, and 4 went to 2.)"""
    metric = {
        "type": "Pods",
        "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "100"}},
    }
    items = [
        {
            "describedObject": {"kind": "Pod", "name": f"web-{i}"},
            "metricName": "rps",
            "value": "100",
            "timestamp": "2027-01-15T08:00:00Z",
        }
        for i in range(2)
    ]
    snap = snapshot(
        4,
        [],
        spec={
            "minReplicas": 1,
            "metrics": [metric],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}},
        },
        customMetrics={"rps": items},
    )
    snap["pods"] = [pod(i) for i in range(4)]
    assert decide(snap)["desiredReplicas"] == 4


def test_resource_metric_with_missing_pods_at_ratio_one_stays() -> None:
    snap = snapshot(
        4,
        ["500m", "500m"],
        spec={"minReplicas": 1, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}}},
    )
    assert decide(snap)["desiredReplicas"] == 4  # 50 % of a 1-core request against a 50 % target: exactly 1.0


# -- the spec ------------------------------------------------------------------------------------------

WORKER = """\
name: worker
version: "1.0.0"
image: {name: worker, tag: "1.0.0"}
autoscaling:
  minReplicas: 0
  maxReplicas: 20
  custom: [{name: queue_lag, type: External, target: "100", query: "sum(queue_lag)"}]
  behavior:
    scaleUp: {tolerance: 0.02}
    scaleDown: {tolerance: 0.2, stabilizationWindowSeconds: 120}
"""


def test_the_spec_renders_scale_to_zero_and_tolerances_that_check_accepts() -> None:
    from kubeship.check import check_documents, load_documents
    from kubeship.render import render, to_yaml
    from kubeship.spec.load import parse_spec

    objects = render(parse_spec(WORKER))
    (hpa,) = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["spec"]["minReplicas"] == 0
    assert hpa["spec"]["behavior"]["scaleUp"]["tolerance"] == "0.02"
    assert hpa["spec"]["behavior"]["scaleDown"]["tolerance"] == "0.2"
    docs, findings = load_documents(to_yaml([hpa]), "hpa.yaml")
    assert [f.rule for f in findings + check_documents(docs) if f.rule.startswith("KS00")] == []


def test_the_spec_refuses_scale_to_zero_without_an_external_metric() -> None:
    from kubeship.errors import SpecError
    from kubeship.spec.load import parse_spec

    with pytest.raises(SpecError, match="minReplicas 0 \\(scale to zero\\) needs an External custom metric"):
        parse_spec(WORKER.replace("type: External", "type: Pods"))


def test_conditions_keep_their_place_in_the_status() -> None:
    """setConditionInList: a condition set again is updated where it stands, a new one appended."""
    status = [
        {"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas", "message": "old"},
        {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "message": "old"},
        {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound", "message": "old"},
    ]
    snap = snapshot(3, ["500m"] * 3)  # exactly at target: no rescale
    snap["horizontalPodAutoscaler"]["status"] = {"conditions": status}
    result = decide(snap)
    assert [c["type"] for c in result["conditions"]] == ["ScalingLimited", "AbleToScale", "ScalingActive"]
    assert all(c["message"] != "old" for c in result["conditions"])  # each set again this pass
