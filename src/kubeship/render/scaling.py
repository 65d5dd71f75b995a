"""HorizontalPodAutoscaler, its Prometheus Adapter rules (or a KEDA ScaledObject), and the PDB."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from kubeship.names import exporter_of
from kubeship.render.labels import metadata, selector
from kubeship.spec.models import AppSpec, Behavior, ScalingRules


def workload_ref(spec: AppSpec) -> dict[str, str]:
    """What the HPA (or KEDA) scales: the Deployment, or the Rollout that replaces it."""
    if spec.delivery is not None:
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": spec.name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name}


def hpa(spec: AppSpec) -> dict[str, Any] | None:
    auto = spec.autoscaling
    if auto is None or auto.engine != "hpa":
        return None
    metrics: list[dict[str, Any]] = []
    if auto.cpu is not None:
        metrics.append(
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": auto.cpu},
                },
            }
        )
    if auto.memory is not None:
        metrics.append(
            {
                "type": "Resource",
                "resource": {
                    "name": "memory",
                    "target": {"type": "AverageValue", "averageValue": auto.memory},
                },
            }
        )
    for m in auto.custom:
        if m.type == "Pods":
            metrics.append(
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": m.name},
                        "target": {"type": "AverageValue", "averageValue": m.target},
                    },
                }
            )
        else:
            kind = m.target_type or "Value"
            key = "value" if kind == "Value" else "averageValue"
            metrics.append(
                {
                    "type": "External",
                    "external": {"metric": {"name": m.name}, "target": {"type": kind, key: m.target}},
                }
            )
    body: dict[str, Any] = {
        "scaleTargetRef": workload_ref(spec),
        "minReplicas": auto.min_replicas,
        "maxReplicas": auto.max_replicas,
        "metrics": metrics,
    }
    behavior = behavior_json(auto.behavior)
    if behavior:
        body["behavior"] = behavior
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(spec),
        "spec": body,
    }


def adapter_rules(spec: AppSpec) -> dict[str, Any] | None:
    """A ConfigMap with the Prometheus Adapter rules that serve the custom metrics to the HPA."""
    auto = spec.autoscaling
    if auto is None or auto.engine != "hpa" or not any(m.query for m in auto.custom):
        return None
    rules, external = [], []
    for m in auto.custom:
        if not m.query:
            continue
        series = m.series or m.name
        if m.type == "Pods":
            rules.append(
                {
                    "seriesQuery": f'{series}{{namespace!="",pod!=""}}',
                    "resources": {
                        "overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
                    },
                    "name": {"matches": f"^{series}$", "as": m.name},
                    "metricsQuery": m.query,
                }
            )
        else:
            # An exporter's series live in the exporter's namespace, not the workload's: read them from
            # any namespace (the adapter's `namespaced: false`), or the HPA's query finds nothing.
            resources: dict[str, Any] = (
                {"namespaced": False}
                if exporter_of(m.name)
                else {"overrides": {"namespace": {"resource": "namespace"}}}
            )
            external.append(
                {
                    "seriesQuery": f'{series}{{namespace!=""}}' if not exporter_of(m.name) else series,
                    "resources": resources,
                    "name": {"matches": f"^{series}$", "as": m.name},
                    "metricsQuery": m.query,
                }
            )
    config: dict[str, Any] = {}
    if rules:
        config["rules"] = rules
    if external:
        config["externalRules"] = external
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(spec, f"{spec.name}-adapter-rules"),
        "data": {"config.yaml": _yaml(config)},
    }


def scaled_object(spec: AppSpec) -> dict[str, Any] | None:
    """A KEDA ScaledObject: KEDA creates and feeds the HPA itself (no Prometheus Adapter needed)."""
    auto = spec.autoscaling
    if auto is None or auto.engine != "keda":
        return None
    triggers: list[dict[str, Any]] = []
    if auto.cpu is not None:
        triggers.append({"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(auto.cpu)}})
    if auto.memory is not None:
        triggers.append({"type": "memory", "metricType": "AverageValue", "metadata": {"value": auto.memory}})
    for m in auto.custom:
        metric_type = "AverageValue" if m.type == "Pods" else (m.target_type or "Value")
        if m.kafka is not None:
            triggers.append(
                {
                    "type": "kafka",
                    "metricType": metric_type,
                    "metadata": {
                        "bootstrapServers": m.kafka.bootstrap_servers,
                        "consumerGroup": m.kafka.consumer_group,
                        "topic": m.kafka.topic,
                        "lagThreshold": m.target,
                    },
                }
            )
            continue
        if m.redis_streams is not None:
            r = m.redis_streams
            meta = {"address": r.address, "stream": r.stream, "consumerGroup": r.consumer_group}
            meta["lagCount" if r.count == "lag" else "pendingEntriesCount"] = m.target
            if r.password_from_env:
                meta["passwordFromEnv"] = r.password_from_env
            triggers.append({"type": "redis-streams", "metricType": metric_type, "metadata": meta})
            continue
        ns = f'{{namespace="{spec.namespace}"}}' if spec.namespace else ""
        triggers.append(
            {
                "type": "prometheus",
                "name": m.name,
                "metricType": metric_type,
                "metadata": {
                    "serverAddress": auto.keda.prometheus,
                    "query": m.keda_query or f"sum({m.name}{ns})",
                    "threshold": m.target,
                },
            }
        )
    body: dict[str, Any] = {
        "scaleTargetRef": workload_ref(spec),
        "pollingInterval": auto.keda.polling_interval,
        "minReplicaCount": auto.min_replicas,
        "maxReplicaCount": auto.max_replicas,
    }
    behavior = behavior_json(auto.behavior)
    if behavior:
        body["advanced"] = {"horizontalPodAutoscalerConfig": {"behavior": behavior}}
    body["triggers"] = triggers
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": metadata(spec),
        "spec": body,
    }


def pdb(spec: AppSpec) -> dict[str, Any] | None:
    """Only with at least two replicas: on one, a budget would block every node drain."""
    budget = spec.availability.disruption_budget
    least = spec.autoscaling.min_replicas if spec.autoscaling else spec.replicas
    if budget is None or least < 2:
        return None
    body: dict[str, Any] = {"selector": {"matchLabels": selector(spec)}}
    if budget.min_available is not None:
        body["minAvailable"] = budget.min_available
    else:
        body["maxUnavailable"] = budget.max_unavailable if budget.max_unavailable is not None else 1
    # A pod that is running but not ready protects nothing: let drains evict it (GA in 1.31), or a
    # crash-looping pod blocks every node drain behind the budget.
    body["unhealthyPodEvictionPolicy"] = "AlwaysAllow"
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(spec),
        "spec": body,
    }


def behavior_json(behavior: Behavior | None) -> dict[str, Any]:
    """autoscaling/v2 `behavior` (KEDA passes the same object to the HPA it makes)."""
    out: dict[str, Any] = {}
    if behavior is not None and behavior.scale_up is not None:
        out["scaleUp"] = _rules(behavior.scale_up)
    if behavior is not None and behavior.scale_down is not None:
        out["scaleDown"] = _rules(behavior.scale_down)
    return out


def _rules(rules: ScalingRules) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rules.stabilization_window_seconds is not None:
        out["stabilizationWindowSeconds"] = rules.stabilization_window_seconds
    if rules.select_policy is not None:
        out["selectPolicy"] = rules.select_policy
    if rules.tolerance is not None:
        out["tolerance"] = f"{rules.tolerance:g}"  # a Quantity: "0.05"
    if rules.policies is not None:
        out["policies"] = [
            {"type": p.type, "value": p.value, "periodSeconds": p.period_seconds} for p in rules.policies
        ]
    return out


def _yaml(data: Any) -> str:
    from io import StringIO

    out = StringIO()
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.dump(data, out)
    return out.getvalue()
