# ruff: noqa: E501  (Kubernetes-shaped fixtures read better unwrapped)
"""Whole decisions from Kubernetes-shaped snapshots, chained through the controller's memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubeship.autoscale.decide import SnapshotError, decide, format_time
from tests.conftest import ROOT, run_cli

T0 = 1_800_000_000.0


def pod(i: int, cpu_request: str = "1", ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {"name": f"web-{i}"},
        "spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": cpu_request}}}]},
        "status": {
            "phase": "Running",
            "startTime": format_time(T0 - 3600),
            "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                            "lastTransitionTime": format_time(T0 - 3500)}],
        },
    }  # fmt: skip


def usage(i: int, cpu: str) -> dict[str, Any]:
    return {
        "metadata": {"name": f"web-{i}"},
        "timestamp": format_time(T0 - 10),
        "window": "30s",
        "containers": [{"name": "web", "usage": {"cpu": cpu}}],
    }


def snapshot(current: int, cpus: list[str], now: float = T0, **extra: Any) -> dict[str, Any]:
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
        },
    }  # fmt: skip
    hpa["spec"].update(extra.pop("spec", {}))
    return {
        "horizontalPodAutoscaler": hpa,
        "scale": {"spec": {"replicas": current}, "status": {"replicas": current}},
        "pods": [pod(i) for i in range(current)],
        "podMetrics": [usage(i, c) for i, c in enumerate(cpus)],
        "now": format_time(now),
        **extra,
    }


def conditions(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c["reason"]) for c in result["conditions"]]


def test_scale_up_on_cpu() -> None:
    result = decide(snapshot(3, ["900m", "800m", "700m"]))  # 80 % of the request vs a 50 % target
    assert result["desiredReplicas"] == 5
    assert conditions(result) == [
        ("AbleToScale", "True", "SucceededRescale"),
        ("ScalingActive", "True", "ValidMetricFound"),
        ("ScalingLimited", "False", "DesiredWithinRange"),
        ("ScaledToZero", "False", "NotScaledToZero"),  # set on every rescale while HPAScaleToZero is on
    ]
    assert result["currentMetrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "current": {"averageUtilization": 80, "averageValue": "800m"}},
        }
    ]


def test_scale_down_waits_for_the_stabilization_window_across_passes() -> None:
    first = decide(snapshot(6, ["100m"] * 6))  # 10 %: the metrics want 2
    assert first["desiredReplicas"] == 6  # the seeded recommendation (6) holds it
    assert ("AbleToScale", "True", "ScaleDownStabilized") in conditions(first)
    assert {c["type"]: c["message"] for c in first["conditions"]}["ScalingLimited"] == (
        "the desired count is within the acceptable range"
    )
    later = decide(snapshot(6, ["100m"] * 6, now=T0 + 120, memory=first["memory"]))
    assert later["desiredReplicas"] == 6
    after = decide(snapshot(6, ["100m"] * 6, now=T0 + 301, memory=later["memory"]))
    assert after["desiredReplicas"] == 2


def test_behavior_rate_limit_and_scale_event_memory() -> None:
    behavior = {"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    first = decide(snapshot(3, ["1"] * 3, spec={"behavior": behavior}))  # 100 %: wants 6
    assert first["desiredReplicas"] == 4
    assert ("ScalingLimited", "True", "ScaleUpLimit") in conditions(first)
    messages = {c["type"]: c["message"] for c in first["conditions"]}
    # the controller's own words (horizontal.go), not an empty message
    assert (
        messages["ScalingLimited"]
        == "the desired replica count is increasing faster than the maximum scale rate"
    )
    assert messages["AbleToScale"] == "the HPA controller was able to update the target scale to 4"
    assert first["memory"]["scaleUpEvents"] == [{"change": 1, "timestamp": format_time(T0)}]
    # 30 s later the period still holds that event: no room to add another pod
    second = decide(snapshot(4, ["1"] * 4, now=T0 + 30, spec={"behavior": behavior}, memory=first["memory"]))
    assert second["desiredReplicas"] == 4


def test_a_failing_metric_blocks_scale_down_but_not_scale_up() -> None:
    broken = {
        "type": "Pods",
        "pods": {"metric": {"name": "queue_lag"}, "target": {"type": "AverageValue", "averageValue": "100"}},
    }
    spec = {"metrics": [snapshot(1, [])["horizontalPodAutoscaler"]["spec"]["metrics"][0], broken]}
    down = decide(snapshot(6, ["100m"] * 6, spec=spec, memory={"recommendations": []}))
    assert down["desiredReplicas"] == 6 and ("ScalingActive", "False", "FailedGetPodsMetric") in conditions(
        down
    )
    up = decide(snapshot(3, ["900m"] * 3, spec=spec))
    assert up["desiredReplicas"] == 6 and ("ScalingActive", "True", "ValidMetricFound") in conditions(up)


@pytest.mark.parametrize(("current", "expected"), [(12, 10), (1, 2)])
def test_out_of_range_jumps_to_the_bound_without_metrics(current: int, expected: int) -> None:
    assert decide(snapshot(current, []))["desiredReplicas"] == expected


def test_zero_replicas_means_scaling_disabled() -> None:
    result = decide(snapshot(0, []))
    assert result["desiredReplicas"] == 0 and ("ScalingActive", "False", "ScalingDisabled") in conditions(
        result
    )


def test_bad_snapshots_name_the_field() -> None:
    with pytest.raises(SnapshotError, match=r"snapshot\.now is missing"):
        decide({k: v for k, v in snapshot(3, ["1"] * 3).items() if k != "now"})
    with pytest.raises(SnapshotError, match=r"minReplicas \(2\) is greater than spec\.maxReplicas \(1\)"):
        decide(snapshot(3, ["1"] * 3, spec={"maxReplicas": 1}))


def test_cli_decide(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snapshot(3, ["900m", "800m", "700m"])))
    result = run_cli("autoscale", "decide", str(path), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["desiredReplicas"] == 5
    path.write_text("{not json")
    bad = run_cli("autoscale", "decide", str(path), cwd=ROOT)
    assert bad.returncode == 2 and "invalid JSON" in bad.stderr and "Traceback" not in bad.stderr


def explained(result: dict[str, Any]) -> str:
    from kubeship.autoscale.explain import explain

    return explain(result)


def test_explain_names_the_ratio_the_window_and_the_limit() -> None:
    text = explained(decide(snapshot(6, ["100m"] * 6)))
    assert (
        "1. Resource cpu: current 10% of requests, target 50% of requests → ratio 0.200 → proposes 2" in text
    )
    assert "counted 6 pod(s)" in text
    assert "stabilized: 6 — held up by the scale-down stabilization window" in text
    assert text.rstrip().endswith("→ stay: 6 → 6")
    behavior = {"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    limited = explained(decide(snapshot(3, ["1"] * 3, spec={"behavior": behavior})))
    assert "capped by the scale-up rate limit" in limited and limited.rstrip().endswith("scale up: 3 → 4")


def test_explain_lists_the_pods_left_out_and_why() -> None:
    snap = snapshot(3, ["900m", "900m"])  # web-2 has no metric
    snap["pods"][1]["status"]["conditions"][0]["status"] = "False"  # web-1 is not ready
    snap["pods"][1]["status"]["startTime"] = format_time(T0 - 60)  # and still initializing its CPU
    text = explained(decide(snap))
    assert "unready (not yet ready, or CPU still initializing): web-1" in text
    assert "without a metric: web-2" in text
    assert "re-filled conservatively" in text


def test_cli_explain_with_the_hpa_of_a_spec(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    snap = snapshot(3, ["900m", "800m", "700m"])
    path.write_text(json.dumps(snap))
    result = run_cli(
        "autoscale",
        "explain",
        str(path),
        "--hpa",
        str(ROOT / "examples" / "seed" / "kubeship.yaml"),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    # the pods' own requests count (1 core each here); the targets come from the seed's spec
    assert "Resource cpu: current 80% of requests, target 50% of requests → ratio 1.600" in result.stdout
    assert "Resource memory: no proposal" in result.stdout  # the snapshot has no memory samples
    assert result.stdout.rstrip().endswith("→ scale up: 3 → 5")


def test_a_rollout_target_decides_as_a_deployment() -> None:
    """With delivery:, the HPA scales the Argo Rollout; the decision is the same (the scale subresource)."""
    rollout = {"scaleTargetRef": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "web"}}
    cpus = ["900m", "800m", "700m"]
    assert decide(snapshot(3, cpus, spec=rollout)) == decide(snapshot(3, cpus))


# The shipped examples (examples/snapshots/, written by scripts/example_snapshots.py): each one
# decides as the controller would, and the raw kubectl files assemble into the web one.
SNAPSHOTS = ROOT / "examples" / "snapshots"


@pytest.mark.parametrize(
    ("example", "desired", "why"),
    [
        ("web-cpu-spike.json", 6, "DesiredWithinRange"),  # CPU 84 % of the request vs 50 %: 3 x 1.68
        ("worker-backlog.json", 6, "ScaleUpLimit"),  # backlog 1,450 / 100 per pod wants 15; 2x current
    ],
)
def test_shipped_example_snapshots_decide(example: str, desired: int, why: str) -> None:
    result = decide(json.loads((SNAPSHOTS / example).read_text()))
    assert result["desiredReplicas"] == desired
    assert next(c["reason"] for c in result["conditions"] if c["type"] == "ScalingLimited") == why


def test_snapshot_is_assembled_from_what_kubectl_prints(tmp_path: Path) -> None:
    raw = SNAPSHOTS / "kubectl"
    out = tmp_path / "snap.json"
    result = run_cli(
        "autoscale", "snapshot", "--hpa", str(raw / "hpa.json"), "--scale", str(raw / "deployment.json"),
        "--pods", str(raw / "pods.json"), "--pod-metrics", str(raw / "podmetrics.json"),
        "--now", "2026-12-03T10:00:00Z", "-o", str(out), cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == json.loads((SNAPSHOTS / "web-cpu-spike.json").read_text())
    explained = run_cli("autoscale", "explain", str(out), cwd=ROOT)
    assert "→ scale up: 3 → 6" in explained.stdout


@pytest.mark.parametrize(
    ("part", "content", "says"),
    [
        ("hpa", {"kind": "Deployment"}, "expected a HorizontalPodAutoscaler"),
        (
            "hpa",
            {"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v1"},
            "ask for autoscaling/v2",
        ),
        ("scale", {"metadata": {"name": "other"}, "spec": {"replicas": 2}}, "not the HPA's target web"),
        ("pods", {"items": "no"}, "pods: expected a List"),
    ],
)
def test_assembling_refuses_what_does_not_fit(tmp_path: Path, part: str, content: Any, says: str) -> None:
    raw = SNAPSHOTS / "kubectl"
    files = {"hpa": raw / "hpa.json", "scale": raw / "deployment.json", "pods": raw / "pods.json"}
    files[part] = tmp_path / "bad.json"
    files[part].write_text(json.dumps(content))
    args = [a for k, f in files.items() for a in (f"--{k}", str(f))]
    result = run_cli("autoscale", "snapshot", *args, cwd=ROOT)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr
