"""A decision snapshot from Prometheus query results (pure): kube-state-metrics and cAdvisor series
shaped into the objects `kubeship autoscale decide` reads (Pods, PodMetrics, custom metric values).

`queries(...)` says what to ask; `build(...)` turns the answers into the snapshot. The HTTP part
lives in `kubeship.promsnap`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kubeship.autoscale.adapter import metrics_query
from kubeship.autoscale.decide import format_time
from kubeship.names import deployment_pod_pattern

Json = dict[str, Any]
Vector = list[tuple[dict[str, str], float]]  # an instant vector: (labels, value) per series


def queries(hpa: Json, namespace: str, window: str = "1m", adapter: Json | None = None) -> dict[str, str]:
    """PromQL for every input the HPA's decision needs, keyed by what it answers. `window` is the
    CPU rate's range, like metrics-server's resolution (it needs that much history). With the
    Prometheus Adapter's config, a custom metric is read through the rule that serves it."""
    target = hpa["spec"]["scaleTargetRef"]["name"]
    ns = f'namespace="{namespace}"'
    pods = f'{ns},pod=~"{deployment_pod_pattern(target)}"'
    containers = f'{pods},container!="",container!="POD"'
    out = {
        "pods": f"kube_pod_info{{{pods}}}",
        "ready": f'kube_pod_status_ready{{{pods},condition="true"}}',
        "phase": f"kube_pod_status_phase{{{pods}}} == 1",
        "start": f"kube_pod_start_time{{{pods}}}",
        "requests": f"kube_pod_container_resource_requests{{{pods}}}",
        "cpu": f"sum by (pod, container) (rate(container_cpu_usage_seconds_total{{{containers}}}[{window}]))",
        "memory": f"sum by (pod, container) (container_memory_working_set_bytes{{{containers}}})",
        "specReplicas": f'kube_deployment_spec_replicas{{{ns},deployment="{target}"}}',
        "statusReplicas": f'kube_deployment_status_replicas{{{ns},deployment="{target}"}}',
    }
    for metric in hpa["spec"].get("metrics") or []:
        kind = metric.get("type")
        if kind in ("Pods", "External"):
            source = metric["pods" if kind == "Pods" else "external"]["metric"]
            name = source["name"]
            selector = (source.get("selector") or {}).get("matchLabels")
            served = metrics_query(
                adapter or {}, kind, name, namespace, deployment_pod_pattern(target), selector
            )
            if kind == "Pods":
                out[f"pods:{name}"] = f"sum by (pod) ({served or f'{name}{{{pods}}}'})"
            else:
                out[f"external:{name}"] = f"sum({served or name})"
    return out


def build(hpa: Json, answers: dict[str, Vector], now: float, window: str = "1m") -> Json:
    """The snapshot for `decide` from the answers to `queries` (missing answers: empty vectors)."""

    def by_pod(key: str) -> dict[str, list[tuple[dict[str, str], float]]]:
        grouped: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for labels, value in answers.get(key, []):
            grouped[labels.get("pod", "")].append((labels, value))
        return grouped

    names = sorted({labels["pod"] for labels, _ in answers.get("pods", []) if "pod" in labels})
    ready = {pod: v[0][1] for pod, v in by_pod("ready").items()}
    phase = {pod: v[0][0].get("phase", "Running") for pod, v in by_pod("phase").items()}
    start = {pod: v[0][1] for pod, v in by_pod("start").items()}
    requests = by_pod("requests")
    pods = []
    for name in names:
        containers: dict[str, Json] = {}
        for labels, value in requests.get(name, []):
            resource = labels.get("resource")
            if resource in ("cpu", "memory"):
                c = containers.setdefault(labels.get("container", "app"), {})
                c[resource] = _cores(value) if resource == "cpu" else str(int(value))
        started = start.get(name)
        status: Json = {"phase": phase.get(name, "Running")}
        if started is not None:
            status["startTime"] = format_time(started)
            # kube-state-metrics has no Ready transition time in every version: the start is the floor
            status["conditions"] = [
                {"type": "Ready", "status": "True" if ready.get(name) == 1 else "False",
                 "lastTransitionTime": format_time(started)}
            ]  # fmt: skip
        pods.append(
            {
                "metadata": {"name": name},
                "spec": {
                    "containers": [{"name": c, "resources": {"requests": r}} for c, r in containers.items()]
                },
                "status": status,
            }
        )
    usage: dict[str, dict[str, Json]] = defaultdict(dict)
    for key, fmt in (("cpu", _cores), ("memory", lambda v: str(int(v)))):
        for labels, value in answers.get(key, []):
            usage[labels.get("pod", "")].setdefault(labels.get("container", "app"), {})[key] = fmt(value)
    pod_metrics = [
        {
            "metadata": {"name": pod},
            "timestamp": format_time(now),
            "window": window,
            "containers": [{"name": c, "usage": u} for c, u in sorted(containers.items())],
        }
        for pod, containers in sorted(usage.items())
        if pod in names
    ]
    custom: dict[str, list[Json]] = {}
    external: dict[str, list[Json]] = {}
    for key, vector in answers.items():
        if key.startswith("pods:"):
            custom[key[5:]] = [
                {"describedObject": {"kind": "Pod", "name": labels.get("pod", "")}, "value": _milli(value),
                 "timestamp": format_time(now)}
                for labels, value in vector
            ]  # fmt: skip
        elif key.startswith("external:"):
            external[key[9:]] = [
                {"value": _milli(value), "timestamp": format_time(now)} for _, value in vector
            ]
    spec_replicas = next((int(v) for _, v in answers.get("specReplicas", [])), len(names))
    status_replicas = next((int(v) for _, v in answers.get("statusReplicas", [])), spec_replicas)
    return {
        "horizontalPodAutoscaler": hpa,
        "scale": {"spec": {"replicas": spec_replicas}, "status": {"replicas": status_replicas}},
        "pods": pods,
        "podMetrics": pod_metrics,
        "customMetrics": custom,
        "externalMetrics": external,
        "now": format_time(now),
    }


def _cores(value: float) -> str:
    return f"{round(value * 1000)}m"


def _milli(value: float) -> str:
    return f"{round(value * 1000)}m"


def _items(doc: Any, what: str) -> list[Json]:
    """A kubectl List (`items`), a bare JSON list, or one object, as a list of objects."""
    if isinstance(doc, dict) and "items" in doc:
        doc = doc["items"]
    elif isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list) or not all(isinstance(i, dict) for i in doc):
        raise ValueError(f"{what}: expected a List (kubectl get -o json) or a JSON array of objects")
    return doc


def assemble(
    hpa: Any,
    scale: Any,
    pods: Any,
    now: str,
    pod_metrics: Any = None,
    custom: dict[str, Any] | None = None,
    external: dict[str, Any] | None = None,
) -> Json:
    """A `decide` snapshot from what kubectl prints (ValueError names the part that does not fit):

    - `hpa`: `kubectl get hpa NAME -o json`;
    - `scale`: the target's Scale (`kubectl get --raw .../deployments/NAME/scale`) or the target itself
      (`kubectl get deployment NAME -o json`: its spec and status replicas);
    - `pods`: `kubectl get pods -l SELECTOR -o json`;
    - `pod_metrics`: `kubectl get --raw /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods`;
    - `custom` / `external`: metric name → the custom / external metrics API's answer.
    """
    if not isinstance(hpa, dict) or hpa.get("kind") != "HorizontalPodAutoscaler":
        raise ValueError("hpa: expected a HorizontalPodAutoscaler (kubectl get hpa NAME -o json)")
    if not str(hpa.get("apiVersion", "")).startswith("autoscaling/v2"):
        raise ValueError(
            f"hpa: {hpa.get('apiVersion')}: ask for autoscaling/v2 (kubectl get hpa.v2.autoscaling)"
        )
    if not isinstance(scale, dict) or not isinstance(scale.get("spec"), dict):
        raise ValueError("scale: expected the target's Scale, or the Deployment/StatefulSet itself")
    target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    name = (scale.get("metadata") or {}).get("name")
    if name and target.get("name") and name != target.get("name"):
        raise ValueError(f"scale: {name} is not the HPA's target {target.get('name')}")
    replicas = scale["spec"].get("replicas", 1)
    status = scale.get("status") or {}
    return {
        "horizontalPodAutoscaler": hpa,
        "scale": {"spec": {"replicas": replicas}, "status": {"replicas": status.get("replicas", replicas)}},
        "pods": _items(pods, "pods"),
        "podMetrics": _items(pod_metrics, "podMetrics") if pod_metrics is not None else [],
        "customMetrics": {k: _items(v, f"custom metric {k}") for k, v in (custom or {}).items()},
        "externalMetrics": {k: _items(v, f"external metric {k}") for k, v in (external or {}).items()},
        "now": now,
    }
