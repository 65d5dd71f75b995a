"""Write examples/snapshots/: what kubectl prints for the seed's web app mid-spike, and the snapshots
`kubeship autoscale snapshot` assembles from it (web on CPU and memory, the worker on its backlog).

Run again after the seed's HPA changes: `python scripts/example_snapshots.py`. The objects are the
rendered HPA as the API server returns it, and pods, metrics and scale as the API serves them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubeship.autoscale.snapshot import assemble
from kubeship.render.scaling import hpa
from kubeship.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "snapshots"
NOW = "2026-12-03T10:00:00Z"
STARTED = "2026-12-03T09:40:00Z"  # 20 minutes ago: past the CPU initialization period


def api_object(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    meta = {**obj["metadata"], "namespace": namespace, "uid": "0b7c1f0e-4f7a-4c55-9a8e-1f2d3c4b5a69"}
    return {**obj, "metadata": meta, "status": {"currentReplicas": 3, "desiredReplicas": 3}}


def pod(app: str, i: int, cpu: str, memory: str) -> dict[str, Any]:
    name = f"{app}-7d9f8c6b5-{'abcdefgh'[i]}x{i}q2"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app.kubernetes.io/name": app}},
        "spec": {"containers": [{"name": app, "resources": {"requests": {"cpu": cpu, "memory": memory}}}]},
        "status": {
            "phase": "Running",
            "startTime": STARTED,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": STARTED}],
        },
    }


def usage(pod_obj: dict[str, Any], cpu: str, memory: str) -> dict[str, Any]:
    container = pod_obj["spec"]["containers"][0]["name"]
    return {
        "metadata": {"name": pod_obj["metadata"]["name"], "namespace": "shop"},
        "timestamp": "2026-12-03T09:59:45Z",
        "window": "30s",
        "containers": [{"name": container, "usage": {"cpu": cpu, "memory": memory}}],
    }


def write(name: str, data: Any) -> None:
    (OUT / name).write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    (OUT / "kubectl").mkdir(parents=True, exist_ok=True)
    web = load_spec(ROOT / "examples" / "seed" / "kubeship.yaml")
    web_hpa = api_object(hpa(web) or {}, "shop")
    pods = [pod("web", i, "250m", "128Mi") for i in range(3)]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 3},
        "status": {"replicas": 3, "readyReplicas": 3},
    }
    metrics = {
        "kind": "PodMetricsList",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "items": [usage(p, c, "150Mi") for p, c in zip(pods, ("230m", "210m", "190m"), strict=True)],
    }
    raw = {
        "hpa.json": web_hpa,
        "deployment.json": deployment,
        "pods.json": {"apiVersion": "v1", "kind": "List", "items": pods},
        "podmetrics.json": metrics,
    }
    for name, doc in raw.items():
        write(f"kubectl/{name}", doc)
    write("web-cpu-spike.json", assemble(web_hpa, deployment, raw["pods.json"], NOW, metrics))

    worker = load_spec(ROOT / "examples" / "worker" / "kubeship.yaml")
    worker_hpa = api_object(hpa(worker) or {}, "shop")
    worker_pods = [pod("worker", i, "100m", "64Mi") for i in range(3)]
    per_second = {
        "kind": "MetricValueList",
        "apiVersion": "custom.metrics.k8s.io/v1beta2",
        "items": [
            {"describedObject": {"kind": "Pod", "namespace": "shop", "name": p["metadata"]["name"],
                                 "apiVersion": "/v1"},
             "metric": {"name": "kubeship_worker_messages_per_second"}, "timestamp": NOW, "value": "35"}
            for p in worker_pods
        ],
    }  # fmt: skip
    backlog = {
        "kind": "ExternalMetricValueList",
        "apiVersion": "external.metrics.k8s.io/v1beta1",
        "items": [{"metricName": "kubeship_worker_backlog_messages", "timestamp": NOW, "value": "1450"}],
    }
    write(
        "worker-backlog.json",
        assemble(
            worker_hpa, {**deployment, "metadata": {"name": "worker"}}, worker_pods, NOW, None,
            {"kubeship_worker_messages_per_second": per_second},
            {"kubeship_worker_backlog_messages": backlog},
        ),
    )  # fmt: skip


if __name__ == "__main__":
    main()
