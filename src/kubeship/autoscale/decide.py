"""One HPA decision from a snapshot made of Kubernetes' own objects.

The snapshot (JSON) holds what the controller reads in one pass: the
`HorizontalPodAutoscaler` (autoscaling/v2, as the API returns it), the
scale subresource, the pods its selector matches, the metrics APIs' answers,
the time, the controller's flags, and its memory of earlier passes. The
decision comes back in the API's own terms (desiredReplicas, conditions,
currentMetrics) plus the updated memory, so decisions can be chained. The
HPA's `status.conditions` are read for ScaledToZero (who put a workload at
zero) and kept on a pass that does not rescale, as the controller does.

    {
      "horizontalPodAutoscaler": {...},            # kubectl get hpa NAME -o json
      "scale": {"spec": {"replicas": 3}, "status": {"replicas": 3}},
      "pods": [...],                                # kubectl get pods -l SELECTOR -o json | .items
      "podMetrics": [...],                          # metrics.k8s.io PodMetrics items
      "customMetrics": {"NAME": [...]},             # custom.metrics.k8s.io MetricValue items
      "externalMetrics": {"NAME": [...]},           # external.metrics.k8s.io ExternalMetricValue items
      "now": "2026-11-27T10:00:00Z",
      "controller": {"tolerance": 0.1, "cpuInitializationPeriodSeconds": 300,
                     "initialReadinessDelaySeconds": 30, "downscaleStabilizationSeconds": 300,
                     "featureGates": {"HPAScaleToZero": true, "HPAConfigurableTolerance": true},
                     "scaleUpLimitFactor": 2},           # upstream's own tests set 8
      "memory": {"recommendations": [{"replicas": 3, "timestamp": "..."}],
                 "scaleUpEvents": [{"change": 2, "timestamp": "..."}], "scaleDownEvents": []}
    }
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubeship.autoscale import normalize, replicas
from kubeship.autoscale.normalize import Behavior, Memory, Policy, Recommendation, Rules, ScaleEvent
from kubeship.autoscale.replicas import Container, MetricError, Pod, Sample, Settings, Tolerances
from kubeship.names import exporter_metric_fix, exporter_of
from kubeship.spec.quantity import parse_quantity

Json = dict[str, Any]


class SnapshotError(ValueError):
    """The snapshot is not what the engine needs; the message names the field."""


def decide(snapshot: Json) -> Json:
    """The decision for one reconcile pass (see the module docstring for the shapes)."""
    hpa = _need(snapshot, "horizontalPodAutoscaler", dict)
    spec = _need(hpa, "spec", dict, "horizontalPodAutoscaler")
    now = parse_time(_need(snapshot, "now", str))
    scale = _need(snapshot, "scale", dict)
    current = int((scale.get("spec") or {}).get("replicas", 0))
    status_replicas = int((scale.get("status") or {}).get("replicas", current))
    min_replicas = int(spec.get("minReplicas", 1))
    max_replicas = int(_need(spec, "maxReplicas", int, "horizontalPodAutoscaler.spec"))
    if min_replicas > max_replicas:
        raise SnapshotError(
            f"spec.minReplicas ({min_replicas}) is greater than spec.maxReplicas ({max_replicas})"
        )
    controller = snapshot.get("controller") or {}
    gates = feature_gates(controller)
    metric_specs = spec.get("metrics") or []
    has_object_or_external = any(m.get("type") in ("Object", "External") for m in metric_specs)
    settings, downscale_window = _settings(controller, spec.get("behavior"), gates)
    memory = _memory(snapshot.get("memory") or {})
    # The pass starts from the HPA's own status (the controller deep-copies it): a condition it
    # sets again keeps its place, a new one is appended, one it does not touch stays as it was.
    conditions = _status_conditions(hpa)
    _set(
        conditions,
        "AbleToScale",
        True,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    )
    metrics_status: list[Json] = []
    desired = current
    # Scale to zero (KEP-2021): the HPA wakes a workload at zero only if it put it there itself.
    scaled_to_zero = gates["HPAScaleToZero"] and any(
        c["type"] == "ScaledToZero" and c["status"] == "True" for c in conditions
    )

    def rescaled(to: int) -> None:
        _set(
            conditions,
            "AbleToScale",
            True,
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {to}",
        )
        if gates["HPAScaleToZero"]:
            if current > 0 and to == 0 and min_replicas == 0 and has_object_or_external:
                _set(
                    conditions,
                    "ScaledToZero",
                    True,
                    "ScaledToZero",
                    "the HPA controller scaled the workload to zero",
                )
            else:
                _set(
                    conditions,
                    "ScaledToZero",
                    False,
                    "NotScaledToZero",
                    "the HPA controller did not scale the workload to zero",
                )
        else:  # a condition left from when the gate was on goes with the rescale
            conditions[:] = [c for c in conditions if c["type"] != "ScaledToZero"]

    # At zero, scale only what the HPA put there itself (horizontal.go's
    # shouldComputeMetricsForZeroReplicas); with the gate off nothing is woken, whatever minReplicas.
    wake = (min_replicas != 0 and scaled_to_zero) or (scaled_to_zero and has_object_or_external)
    if current == 0 and not wake:
        _set(
            conditions,
            "ScalingActive",
            False,
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
        )
        return _result(0, current, conditions, metrics_status, memory)
    if current > max_replicas or (current < min_replicas and current != 0):
        desired = max_replicas if current > max_replicas else min_replicas
        rescaled(desired)  # at once, no metrics read: upstream sets no other condition on this pass
        return _result(desired, current, conditions, metrics_status, memory)

    pods = [_pod(p) for p in snapshot.get("pods") or []]
    proposals: list[int | None] = []
    first_failure: Json | None = None
    steps: list[Json] = []
    for metric in metric_specs:
        try:
            proposal, status, samples = _metric(
                metric, snapshot, pods, current, status_replicas, settings, now
            )
            proposals.append(proposal)
            metrics_status.append(status)
            steps.append(_step(metric, status, proposal, samples, pods, settings, now))
        except MetricError as exc:
            proposals.append(None)
            failed: Json = {"metric": _label(metric), "error": str(exc)}
            hint = _pods_metric_hint(metric, snapshot)
            if hint:
                failed["hint"] = hint
            steps.append(failed)
            if first_failure is None:
                first_failure = _cond("ScalingActive", False, _failure_reason(metric), str(exc))
    if not proposals:
        raise SnapshotError("horizontalPodAutoscaler.spec.metrics is empty: the HPA has nothing to scale on")
    combined = normalize.combine_metric_proposals(current, proposals)
    if combined is None:
        failure = first_failure or _cond("ScalingActive", False, "FailedGetMetrics", "no valid metric")
        _set(conditions, "ScalingActive", False, failure["reason"], failure["message"])
        out = _result(current, current, conditions, metrics_status, memory, error=failure["message"])
        out["explanation"] = {"metrics": steps}
        return out
    _set(
        conditions,
        "ScalingActive",
        True,
        "ValidMetricFound",
        "the HPA was able to successfully calculate a replica count",
    )

    behavior_json = spec.get("behavior")
    if behavior_json is None:
        decision = normalize.normalize_legacy(
            current,
            combined,
            min_replicas,
            max_replicas,
            memory,
            now,
            downscale_window,
            float(controller.get("scaleUpLimitFactor", normalize.SCALE_UP_LIMIT_FACTOR)),
        )
    else:
        behavior = normalize.default_behavior(behavior_from_json(behavior_json), downscale_window)
        decision = normalize.normalize_with_behavior(
            current, combined, min_replicas, max_replicas, behavior, memory, now
        )
    able, limited = decision.able_to_scale_reason, decision.limited_reason
    _set(conditions, "AbleToScale", True, able, normalize.MESSAGES.get(able, ""))
    _set(conditions, "ScalingLimited", decision.limited, limited, normalize.MESSAGES.get(limited, ""))
    memory = decision.memory
    final = decision.replicas
    if current == 0 and min_replicas != 0 and scaled_to_zero and final < min_replicas:
        final = min_replicas  # woken from zero with minReplicas raised since: not below it
    if final != current:
        rescaled(final)
        if behavior_json is not None:
            memory = normalize.store_scale_event(behavior, memory, current, final, now)
    out = _result(final, current, conditions, metrics_status, memory)
    out["explanation"] = {
        "metrics": steps,
        "proposed": combined,
        "stabilized": decision.stabilized,
        "stabilization": decision.able_to_scale_reason,
        "limit": decision.limited_reason,
        "behavior": "spec.behavior" if behavior_json is not None else "legacy (no behavior)",
        "minReplicas": min_replicas,
        "maxReplicas": max_replicas,
        "tolerance": {"scaleDown": settings.tolerances.scale_down, "scaleUp": settings.tolerances.scale_up},
    }
    return out


# -- metrics -----------------------------------------------------------------------------


def _metric(
    metric: Json,
    snap: Json,
    pods: list[Pod],
    current: int,
    status_replicas: int,
    settings: Settings,
    now: float,
) -> tuple[int, Json, dict[str, Sample] | None]:
    """(proposal, status entry, the per-pod samples it used: Resource, ContainerResource, Pods)."""
    kind = metric.get("type")
    if kind in ("Resource", "ContainerResource"):
        body = metric["resource" if kind == "Resource" else "containerResource"]
        name, target = body["name"], body["target"]
        container = body.get("container") if kind == "ContainerResource" else None
        samples = _pod_metrics(snap.get("podMetrics") or [], name, container)
        if target.get("type") == "Utilization":
            count, utilization, raw, _ = replicas.resource_replicas(
                current, int(target["averageUtilization"]), name, pods, samples, now, settings, container
            )
            current_status = {"averageUtilization": utilization, "averageValue": _qty(raw)}
        else:
            count, raw = replicas.plain_metric_replicas(
                current, _milli(target["averageValue"]), pods, samples, now, name, settings
            )
            current_status = {"averageValue": _qty(raw)}
        key = "resource" if kind == "Resource" else "containerResource"
        status_body = {"name": name, "current": current_status}
        if container:
            status_body["container"] = container
        return count, {"type": kind, key: status_body}, samples
    if kind == "Pods":
        body = metric["pods"]
        name = body["metric"]["name"]
        items = (snap.get("customMetrics") or {}).get(name)
        if not items:
            raise MetricError(f"unable to get metric {name}: no metrics returned from custom metrics API")
        samples = {
            i["describedObject"]["name"]: Sample(
                _milli(i["value"]), parse_time(i.get("timestamp")), _seconds(i.get("windowSeconds", 60))
            )
            for i in items
            if (i.get("describedObject") or {}).get("kind", "Pod") == "Pod"
        }
        count, usage = replicas.plain_metric_replicas(
            current, _milli(body["target"]["averageValue"]), pods, samples, now, settings=settings
        )
        return (
            count,
            {"type": "Pods", "pods": {"metric": {"name": name}, "current": {"averageValue": _qty(usage)}}},
            samples,
        )
    if kind == "Object":
        body = metric["object"]
        name = body["metric"]["name"]
        items = (snap.get("customMetrics") or {}).get(name)
        if not items:
            raise MetricError(f"unable to get metric {name}: no metrics returned from custom metrics API")
        value = _milli(items[0]["value"])
        target = body["target"]
        if target.get("type") == "AverageValue":
            count, average = replicas.per_pod_replicas(
                status_replicas, _milli(target["averageValue"]), value, settings
            )
            current_status = {"averageValue": _qty(average)}
        else:
            count, value = replicas.object_replicas(current, _milli(target["value"]), value, pods, settings)
            current_status = {"value": _qty(value)}
        return (
            count,
            {
                "type": "Object",
                "object": {
                    "metric": {"name": name},
                    "describedObject": body.get("describedObject"),
                    "current": current_status,
                },
            },
            None,
        )
    if kind == "External":
        body = metric["external"]
        name = body["metric"]["name"]
        items = (snap.get("externalMetrics") or {}).get(name) or []
        if not items:  # the API's empty answer is an error, not a zero (rest_metrics_client.go)
            raise MetricError(
                f"unable to get external metric {name}: no metrics returned from external metrics API"
            )
        total = replicas.external_total([_milli(i["value"]) for i in items])
        target = body["target"]
        if target.get("type") == "AverageValue":
            count, average = replicas.per_pod_replicas(
                status_replicas, _milli(target["averageValue"]), total, settings
            )
            current_status = {"averageValue": _qty(average)}
        else:
            count = replicas.usage_ratio_replica_count(
                current, total / _milli(target["value"]), pods, settings
            )
            current_status = {"value": _qty(total)}
        status = {"type": "External", "external": {"metric": {"name": name}, "current": current_status}}
        return count, status, None
    raise MetricError(f"unknown metric source type {kind!r}")


def _label(metric: Json) -> str:
    kind = str(metric.get("type"))
    body = metric.get({"ContainerResource": "containerResource"}.get(kind, kind.lower())) or {}
    name = body.get("name") or (body.get("metric") or {}).get("name") or "?"
    return f"{kind} {name}" + (f" (container {body['container']})" if body.get("container") else "")


def _step(
    metric: Json,
    status: Json,
    proposal: int,
    samples: dict[str, Sample] | None,
    pods: list[Pod],
    settings: Settings,
    now: float,
) -> Json:
    """What a human needs to follow one metric: target, current, ratio, who was left out, proposal."""
    kind = metric["type"]
    key = {"ContainerResource": "containerResource"}.get(kind, kind.lower())
    target = metric[key]["target"]
    current = status[key]["current"]
    step: Json = {"metric": _label(metric), "target": target, "current": current, "proposal": proposal}
    if target.get("type") == "Utilization":
        step["ratio"] = round(current["averageUtilization"] / int(target["averageUtilization"]), 4)
    elif target.get("type") == "AverageValue":
        step["ratio"] = round(_milli(current["averageValue"]) / _milli(target["averageValue"]), 4)
    else:
        step["ratio"] = round(_milli(current["value"]) / _milli(target["value"]), 4)
    if samples is not None:  # the same grouping the replica calculator made from the same samples
        resource = "" if kind == "Pods" else metric[key]["name"]
        groups = replicas.group_pods(pods, samples, resource, settings, now)
        step["pods"] = {
            "counted": groups.ready_count,
            "unready": sorted(groups.unready),
            "missing": sorted(groups.missing),
            "ignored": sorted(groups.ignored),
        }
    return step


def _pod_metrics(items: list[Json], resource: str, container: str | None) -> dict[str, Sample]:
    """Per pod: the sum over containers (or one container); any container lacking it ⇒ pod missing."""
    out: dict[str, Sample] = {}
    if not items:
        raise MetricError(
            f"unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
        )
    for item in items:
        containers = item.get("containers") or []
        if container is not None:
            containers = [c for c in containers if c.get("name") == container]
        usages = [(c.get("usage") or {}).get(resource) for c in containers]
        if not usages or any(u is None for u in usages):
            continue
        name = str((item.get("metadata") or {}).get("name", ""))
        out[name] = Sample(
            sum(_milli(u) for u in usages),
            parse_time(item.get("timestamp")),
            _seconds(item.get("window", "60s")),
        )
    return out


def _pods_metric_hint(metric: Json, snap: Json) -> str | None:
    """Why a Pods metric found nothing per pod, in words (FailedGetPodsMetric says only that)."""
    if metric.get("type") != "Pods":
        return None
    name = str(((metric.get("pods") or {}).get("metric") or {}).get("name", ""))
    exporter = exporter_of(name)
    if exporter is not None:
        return exporter_metric_fix(name, exporter)
    return (
        f"the custom metrics API had no {name} for this workload's pods: check that the pods export it "
        "(their /metrics) and that a Prometheus Adapter rule serves it with the pod label mapped "
        "(kubeship renders one from autoscaling.custom[].query)"
    )


def _failure_reason(metric: Json) -> str:
    kind = metric.get("type")
    if kind in ("Resource", "ContainerResource", "Pods", "Object", "External"):
        return f"FailedGet{kind}Metric"
    return "InvalidMetricSourceType"


# -- input shapes --------------------------------------------------------------------------


def _pod(obj: Json) -> Pod:
    meta, status, spec = obj.get("metadata") or {}, obj.get("status") or {}, obj.get("spec") or {}
    ready = None
    transition = 0.0
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            ready = cond.get("status") == "True"
            transition = parse_time(cond.get("lastTransitionTime"))
    start = status.get("startTime")
    return Pod(
        name=meta.get("name", ""),
        phase=status.get("phase", "Running"),
        ready=ready,
        ready_transition=transition,
        start_time=parse_time(start) if start else None,
        deleted=bool(meta.get("deletionTimestamp")),
        containers=tuple(_container(c) for c in spec.get("containers") or []),
        sidecars=tuple(
            _container(c) for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"
        ),
    )


def _container(c: Json) -> Container:
    requests = ((c.get("resources") or {}).get("requests")) or {}
    return Container(c.get("name", ""), {k: _milli(v) for k, v in requests.items()})


# Feature gates the engine follows, with their defaults in the newest version `check` validates
# against (1.37): HPAScaleToZero beta (on), HPAConfigurableTolerance beta since 1.35 (on).
DEFAULT_GATES: dict[str, bool] = {"HPAScaleToZero": True, "HPAConfigurableTolerance": True}


def feature_gates(controller: Json) -> dict[str, bool]:
    """`controller.featureGates` over the defaults; an unknown gate is named, not ignored."""
    given = controller.get("featureGates") or {}
    if not isinstance(given, dict):
        raise SnapshotError("controller.featureGates: expected a mapping of gate names to true/false")
    unknown = sorted(set(given) - set(DEFAULT_GATES))
    if unknown:
        raise SnapshotError(
            f"controller.featureGates: {', '.join(unknown)} not followed by the engine "
            f"(known: {', '.join(DEFAULT_GATES)})"
        )
    return {**DEFAULT_GATES, **{k: bool(v) for k, v in given.items()}}


def _status_conditions(hpa: Json) -> list[Json]:
    """The conditions the HPA's status holds, in their order (type, status, reason, message)."""
    out: list[Json] = []
    for c in (hpa.get("status") or {}).get("conditions") or []:
        fresh = (
            isinstance(c, dict)
            and isinstance(c.get("type"), str)
            and all(x["type"] != c["type"] for x in out)
        )
        if fresh:
            status = c.get("status") == "True"
            out.append(_cond(c["type"], status, str(c.get("reason", "")), str(c.get("message", ""))))
    return out


def tolerances(behavior: Json | None, default: float, configurable: bool = True) -> Tolerances:
    """behavior.scale{Up,Down}.tolerance (Quantities, e.g. "0.05" or "50m") over the controller's."""

    def one(direction: str) -> float:
        rules = (behavior or {}).get(direction) or {}
        if not configurable or rules.get("tolerance") is None:
            return default
        value = _milli(rules["tolerance"]) / 1000
        if value < 0:
            raise SnapshotError(f"spec.behavior.{direction}.tolerance must be greater than or equal to zero")
        return value

    return Tolerances(scale_down=one("scaleDown"), scale_up=one("scaleUp"))


def _settings(controller: Json, behavior: Json | None, gates: dict[str, bool]) -> tuple[Settings, float]:
    tolerance = float(controller.get("tolerance", replicas.DEFAULT_TOLERANCE))
    settings = Settings(
        tolerances(behavior, tolerance, gates["HPAConfigurableTolerance"]),
        float(controller.get("cpuInitializationPeriodSeconds", replicas.DEFAULT_CPU_INITIALIZATION_PERIOD)),
        float(controller.get("initialReadinessDelaySeconds", replicas.DEFAULT_INITIAL_READINESS_DELAY)),
    )
    return settings, float(
        controller.get("downscaleStabilizationSeconds", normalize.DEFAULT_DOWNSCALE_STABILIZATION)
    )


def behavior_from_json(b: Json) -> Behavior:
    """`spec.behavior` of an autoscaling/v2 HPA as the engine's Behavior (omitted fields: defaults)."""

    def rules(r: Json | None) -> Rules:
        if r is None:
            return Rules()
        policies = r.get("policies")
        return Rules(
            r.get("stabilizationWindowSeconds"),
            r.get("selectPolicy"),
            None
            if policies is None
            else tuple(Policy(p["type"], int(p["value"]), int(p["periodSeconds"])) for p in policies),
        )

    return Behavior(rules(b.get("scaleUp")), rules(b.get("scaleDown")))


def _memory(m: Json) -> Memory:
    recs = m.get("recommendations")
    return Memory(
        recommendations=None
        if recs is None
        else tuple(Recommendation(int(r["replicas"]), parse_time(r["timestamp"])) for r in recs),
        scale_up_events=tuple(
            ScaleEvent(int(e["change"]), parse_time(e["timestamp"])) for e in m.get("scaleUpEvents") or []
        ),
        scale_down_events=tuple(
            ScaleEvent(int(e["change"]), parse_time(e["timestamp"])) for e in m.get("scaleDownEvents") or []
        ),
    )


def _memory_json(memory: Memory) -> Json:
    return {
        "recommendations": [
            {"replicas": r.replicas, "timestamp": format_time(r.timestamp)}
            for r in memory.recommendations or ()
        ],
        "scaleUpEvents": [
            {"change": e.change, "timestamp": format_time(e.timestamp)} for e in memory.scale_up_events
        ],
        "scaleDownEvents": [
            {"change": e.change, "timestamp": format_time(e.timestamp)} for e in memory.scale_down_events
        ],
    }


def _result(
    desired: int,
    current: int,
    conditions: list[Json],
    metrics: list[Json],
    memory: Memory,
    error: str | None = None,
) -> Json:
    out: Json = {
        "desiredReplicas": desired,
        "currentReplicas": current,
        "conditions": conditions,
        "currentMetrics": metrics,
        "memory": _memory_json(memory),
    }
    if error is not None:
        out["error"] = error
    return out


def _cond(kind: str, status: bool, reason: str, message: str) -> Json:
    return {"type": kind, "status": "True" if status else "False", "reason": reason, "message": message}


def _set(conditions: list[Json], kind: str, status: bool, reason: str, message: str) -> None:
    """setConditionInList: update in place, or append (so the order is first-set order)."""
    new = _cond(kind, status, reason, message)
    for i, c in enumerate(conditions):
        if c["type"] == kind:
            conditions[i] = new
            return
    conditions.append(new)


def _need(obj: Json, key: str, kind: type, where: str = "snapshot") -> Any:
    if key not in obj:
        raise SnapshotError(f"{where}.{key} is missing")
    if not isinstance(obj[key], kind) or (kind is int and isinstance(obj[key], bool)):
        raise SnapshotError(f"{where}.{key}: expected {kind.__name__}, got {type(obj[key]).__name__}")
    return obj[key]


def _milli(value: Any) -> int:
    try:
        return int(parse_quantity(value) * 1000)
    except ValueError as exc:
        raise SnapshotError(str(exc)) from None


def _qty(milli: int) -> str:
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


def _seconds(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def parse_time(value: Any) -> float:
    """RFC 3339 (as the API writes it) → seconds since the epoch; None/'' → 0 (Go's zero time)."""
    if not value:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise SnapshotError(f"{value!r} is not an RFC 3339 time like 2026-11-27T10:00:00Z") from None


def format_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
