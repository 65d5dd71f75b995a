"""The guide's lag HPA as a `Pods` metric never scales (kafka_exporter's series are not the worker's
pods); the spec, `kubeship check` and `autoscale explain` each say so with the fix, and the seed's
worker scales on the lag as an External AverageValue metric that does work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kubeship.autoscale.decide import decide, format_time
from kubeship.autoscale.explain import explain
from kubeship.check import Document, Options, check_documents
from kubeship.render import render
from kubeship.spec import load_spec
from kubeship.spec.load import parse_spec
from kubeship.spec.models import spec_warnings
from tests.autoscale.test_decide import T0, pod
from tests.conftest import ROOT, run_cli

SEED_WORKER = ROOT / "examples" / "seed" / "worker.kubeship.yaml"
GUIDE_FORM = SEED_WORKER.read_text().replace(
    "      type: External\n      targetType: AverageValue\n", "      type: Pods\n"
)


def test_the_seed_worker_scales_on_lag_per_pod_as_an_external_metric() -> None:
    spec = load_spec(SEED_WORKER)
    assert spec_warnings(spec) == []
    objects = {o["kind"]: o for o in render(spec)}
    [metric] = objects["HorizontalPodAutoscaler"]["spec"]["metrics"]
    assert metric["external"]["target"] == {"type": "AverageValue", "averageValue": "100"}
    docs = [Document(o, "worker.yaml", 1) for o in render(spec)]
    assert [f.rule for f in check_documents(docs) if f.rule == "KS316"] == []


def test_the_guides_pods_form_is_warned_about_with_the_fix(tmp_path: Path) -> None:
    [(loc, message)] = spec_warnings(parse_spec(GUIDE_FORM, "worker.kubeship.yaml"))
    assert loc == ("autoscaling", "custom", 0, "type")
    assert "kafka_exporter" in message and "FailedGetPodsMetric" in message and "type: External" in message
    spec = tmp_path / "worker.kubeship.yaml"
    spec.write_text(GUIDE_FORM)
    result = run_cli("render", "-f", str(spec), cwd=ROOT)
    assert result.returncode == 0
    assert (
        f"{spec}: autoscaling.custom.0.type: warning: kafka_consumergroup_lag comes from kafka_exporter"
        in result.stderr
    )


def test_check_warns_on_the_hpa_and_names_the_adapter_rule() -> None:
    objects = render(parse_spec(GUIDE_FORM, "worker.kubeship.yaml"))
    docs = [Document(o, "worker.yaml", i + 1) for i, o in enumerate(objects)]
    [finding] = [f for f in check_documents(docs, Options(select=frozenset({"KS316"})))]
    assert finding.object.startswith("HorizontalPodAutoscaler/") and finding.severity.label == "warning"
    assert "ConfigMap 'worker-adapter-rules' maps it per pod" in finding.message


def snapshot(metric: str, described: list[str]) -> dict[str, Any]:
    hpa = {
        "metadata": {"name": "worker"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": metric},
                        "target": {"type": "AverageValue", "averageValue": "100"},
                    },
                }
            ],
        },
    }
    items = [
        {
            "describedObject": {"kind": "Pod", "name": name},
            "metricName": metric,
            "value": "900",
            "timestamp": format_time(T0),
        }
        for name in described
    ]
    return {
        "horizontalPodAutoscaler": hpa,
        "scale": {"spec": {"replicas": 2}, "status": {"replicas": 2}},
        "pods": [pod(0), pod(1)],
        "customMetrics": {metric: items} if items else {},
        "now": format_time(T0),
    }


def test_explain_says_why_the_pods_metric_finds_nothing_in_words() -> None:
    result = decide(snapshot("kafka_consumergroup_lag", []))
    assert ("ScalingActive", "False", "FailedGetPodsMetric") in [
        (c["type"], c["status"], c["reason"]) for c in result["conditions"]
    ]
    text = explain(result)
    assert "no proposal (unable to get metric kafka_consumergroup_lag" in text
    assert "why: kafka_consumergroup_lag comes from kafka_exporter" in text and "External" in text


def test_explain_says_where_to_look_for_the_workloads_own_metric() -> None:
    text = explain(decide(snapshot("jobs_in_flight", [])))
    assert "why: the custom metrics API had no jobs_in_flight for this workload's pods" in text


def test_simulate_queue_reads_the_lag_per_pod() -> None:
    result = run_cli(
        "autoscale",
        "simulate-queue",
        "-f",
        str(SEED_WORKER),
        "--trace",
        "ramp",
        "--per-pod-rate",
        "500",
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    summary = yaml.safe_load(result.stdout)
    assert 2 <= summary["max_replicas"] <= 10 and summary["pod_hours"] > 0
