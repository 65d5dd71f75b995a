"""With `delivery:`, an Argo Rollout replaces the Deployment: same pod template, the release as steps.

Argo Rollouts owns the release in the cluster (traffic weights, ReplicaSets,
abort and rollback); kubeship only writes what it runs: the Rollout, the canary
(or preview) Service next to the app's Service, and the AnalysisTemplates from
the SLO (`kubeship.render.analysis`).
"""

from __future__ import annotations

import math
from typing import Any

from kubeship.names import PORT_NAME
from kubeship.render.analysis import analysis_template, delivery, rollout_args, template_name
from kubeship.render.labels import metadata, selector
from kubeship.render.network import service_name
from kubeship.render.workload import rolling_update, workload_spec
from kubeship.spec.models import AppSpec

ROLLOUT_API = "argoproj.io/v1alpha1"


def traffic_routing(spec: AppSpec) -> str:
    """nginx when the spec says so, or by default when the app's Ingress is nginx's: exact weights."""
    d = delivery(spec)
    if d.traffic_routing is not None:
        return d.traffic_routing
    nginx = spec.ingress is not None and spec.ingress.class_name == "nginx"
    return "nginx" if d.strategy == "canary" and nginx else "none"


def second_service_name(spec: AppSpec) -> str:
    """The canary Service (canary) or the preview Service (blueGreen)."""
    suffix = "canary" if delivery(spec).strategy == "canary" else "preview"
    return f"{service_name(spec)}-{suffix}"


def uses_gate(spec: AppSpec) -> bool:
    d = delivery(spec)
    return d.analysis.enabled and (d.strategy == "blueGreen" or any(s.analysis is not None for s in d.steps))


def _analysis(spec: AppSpec, gate: bool) -> dict[str, Any]:
    return {"templates": [{"templateName": template_name(spec, gate)}], "args": rollout_args(spec)}


def steps(spec: AppSpec) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for step in delivery(spec).steps:
        if step.weight is not None:
            out.append({"setWeight": step.weight})
        elif step.pause is not None:
            out.append({"pause": {} if step.pause == "manual" else {"duration": step.pause}})
        else:
            out.append({"analysis": _analysis(spec, gate=True)})
    return out


def _starting_step(spec: AppSpec) -> int:
    """Background analysis starts after the first weight is set: before it the canary has no traffic."""
    for i, step in enumerate(delivery(spec).steps):
        if step.weight is not None:
            return min(i + 1, len(delivery(spec).steps) - 1)
    return 0


def strategy(spec: AppSpec) -> dict[str, Any]:
    d = delivery(spec)
    main = service_name(spec)
    if d.strategy == "blueGreen":
        body: dict[str, Any] = {
            "activeService": main,
            "previewService": second_service_name(spec),
            "autoPromotionEnabled": d.auto_promotion,
            "scaleDownDelaySeconds": d.scale_down_delay_seconds,
        }
        if d.preview_replicas is not None:
            body["previewReplicaCount"] = d.preview_replicas
        if d.analysis.enabled:
            body["prePromotionAnalysis"] = _analysis(spec, gate=True)
            body["postPromotionAnalysis"] = _analysis(spec, gate=True)
        return {"blueGreen": body}
    canary: dict[str, Any] = {"canaryService": second_service_name(spec), "stableService": main}
    canary |= rolling_update(spec)
    if traffic_routing(spec) == "nginx":
        canary["trafficRouting"] = {"nginx": {"stableIngress": spec.name}}
        canary["scaleDownDelaySeconds"] = d.scale_down_delay_seconds
    if d.analysis.enabled:
        canary["analysis"] = {**_analysis(spec, gate=False), "startingStep": _starting_step(spec)}
    canary["steps"] = steps(spec)
    return {"canary": canary}


def rollout(spec: AppSpec) -> dict[str, Any]:
    body = workload_spec(
        spec,
        {
            # A canary that never becomes ready is rolled back too, not left hanging (argo #1376).
            "progressDeadlineSeconds": 600,
            "progressDeadlineAbort": True,
            "strategy": strategy(spec),
        },
    )
    return {"apiVersion": ROLLOUT_API, "kind": "Rollout", "metadata": metadata(spec), "spec": body}


def second_service(spec: AppSpec) -> dict[str, Any]:
    """ClusterIP, same selector and port as the app's Service: Argo adds the ReplicaSet hash to both."""
    port = {"name": PORT_NAME, "port": spec.service.port, "targetPort": PORT_NAME, "protocol": "TCP"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(spec, second_service_name(spec)),
        "spec": {"type": "ClusterIP", "selector": selector(spec), "ports": [port]},
    }


def analysis_templates(spec: AppSpec) -> list[dict[str, Any]]:
    """The AnalysisTemplates the Rollout names: background (canary) and gate (steps, blue-green)."""
    d = delivery(spec)
    objects = []
    if d.analysis.enabled and d.strategy == "canary":
        objects.append(analysis_template(spec, gate=False))
    if uses_gate(spec):
        objects.append(analysis_template(spec, gate=True))
    return objects


def notes(spec: AppSpec) -> list[str]:
    """What a reader of the rendered Rollout should know and can't see in it."""
    if spec.delivery is None or spec.delivery.strategy != "canary" or traffic_routing(spec) != "none":
        return []
    replicas = spec.autoscaling.min_replicas if spec.autoscaling else spec.replicas
    shares = []
    for step in spec.delivery.steps:
        if step.weight is not None and step.weight < 100:
            canary = math.ceil(replicas * step.weight / 100)  # Argo rounds the canary's pods up
            shares.append(
                f"setWeight {step.weight} → {canary} of {replicas} pods ≈ {100 * canary / replicas:.0f} %"
            )
    if not shares:
        return []
    return [
        "trafficRouting none: Argo approximates weights by pod counts, so at "
        f"{replicas} replicas: {'; '.join(shares)}. Use an nginx Ingress (trafficRouting: nginx) "
        "for exact small weights."
    ]
