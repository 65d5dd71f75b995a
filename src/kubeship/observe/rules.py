"""Recording rules and alerts: RED per service, SLO burn rates, pods, the HPA, custom thresholds.

The SLO alerts are the SRE workbook's multiwindow, multi-burn-rate alerts: an
alert fires only while both the long window (is enough budget gone?) and the
short one (is it still burning now?) exceed the burn factor, so it pages fast
on a real outage and resolves minutes after it ends.
"""

from __future__ import annotations

from typing import Any

from kubeship.names import METRIC_DURATION, METRIC_REQUESTS
from kubeship.observe.dependencies import dependency_rules
from kubeship.promql import (
    AVAILABILITY_BUDGET,
    BURN_WINDOWS,
    ERROR_STATUS,
    LATENCY_BUDGET,
    QUANTILES,
    RATE_WINDOWS,
    error_ratio,
    hpa_matcher,
    job,
    le,
    matcher,
    pod_matcher,
    quantile,
    requests_rate,
    slow_ratio,
)
from kubeship.render.labels import metadata
from kubeship.spec.models import AlertRule, AppSpec

RUNBOOK_BURN = (
    "Look at the error ratio and latency by route on the dashboard; if a release started it, "
    "roll back (`kubectl rollout undo`)."
)
DEFAULT_P99_SECONDS = 1.0  # without a latency SLO, P99 above a second is worth a look
Rule = dict[str, Any]


def rule_groups(spec: AppSpec) -> dict[str, Any]:
    """A Prometheus rule file: `{"groups": [...]}` (what promtool and `rule_files` read)."""
    # One group: rules in a group run in order, so every alert reads the recording rules of the same
    # evaluation. Across groups (evaluated independently) an alert could read the previous one.
    rules = [*_recording(spec), *_slo_alerts(spec), *_service_alerts(spec)]
    return {"groups": [{"name": spec.name, "rules": rules}, *dependency_rules(spec, _alert)]}


def prometheus_rule(spec: AppSpec) -> dict[str, Any]:
    """The same rules as a Prometheus Operator PrometheusRule."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": metadata(spec),
        "spec": rule_groups(spec),
    }


def _recording(spec: AppSpec) -> list[Rule]:
    sel = matcher(spec)
    errors = matcher(spec, status="~" + ERROR_STATUS)
    rules: list[Rule] = [
        {"record": requests_rate("5m"), "expr": f"sum by (job) (rate({METRIC_REQUESTS}{sel}[5m]))"},
    ]
    windows = RATE_WINDOWS if spec.slo and spec.slo.availability else ("5m",)
    for w in windows:
        rules.append(
            {
                "record": error_ratio(w),
                "expr": f"sum by (job) (rate({METRIC_REQUESTS}{errors}[{w}]))\n"
                f"/\nsum by (job) (rate({METRIC_REQUESTS}{sel}[{w}]))",
            }
        )
    for q in QUANTILES:
        rules.append(
            {
                "record": quantile(q),
                "expr": f"histogram_quantile({q}, sum by (job, le) "
                f"(rate({METRIC_DURATION}_bucket{sel}[5m])))",
            }
        )
    slo = spec.slo
    if slo and slo.latency:
        fast = matcher(spec, le=le(slo.latency.threshold_seconds))
        for w in RATE_WINDOWS:
            rules.append(
                {
                    "record": slow_ratio(w),
                    "expr": f"1 - (\n  sum by (job) (rate({METRIC_DURATION}_bucket{fast}[{w}]))\n"
                    f"  /\n  sum by (job) (rate({METRIC_DURATION}_count{sel}[{w}]))\n)",
                }
            )
    if slo and slo.availability:
        budget = _budget(slo.availability.target)
        rules.append(
            {
                "record": AVAILABILITY_BUDGET,
                "expr": f"1 - (\n  sum by (job) (increase({METRIC_REQUESTS}{errors}[{slo.window}]))\n"
                f"  /\n  sum by (job) (increase({METRIC_REQUESTS}{sel}[{slo.window}]))\n) / {budget}",
            }
        )
    if slo and slo.latency:
        budget = _budget(slo.latency.target)
        fast = matcher(spec, le=le(slo.latency.threshold_seconds))
        rules.append(
            {
                "record": LATENCY_BUDGET,
                "expr": "1 - (\n  1 - sum by (job) "
                f"(increase({METRIC_DURATION}_bucket{fast}[{slo.window}]))\n"
                f"  /\n  sum by (job) (increase({METRIC_DURATION}_count{sel}[{slo.window}]))\n) / {budget}",
            }
        )
    return rules


def _budget(target: float) -> str:
    return f"{1 - target:.6g}"


def _slo_alerts(spec: AppSpec) -> list[Rule]:
    slo = spec.slo
    if slo is None:
        return []
    rules: list[Rule] = []
    objectives = []
    if slo.availability:
        objectives.append(("Availability", error_ratio, slo.availability.target, "failed (5xx)"))
    if slo.latency:
        objectives.append(
            ("Latency", slow_ratio, slo.latency.target, f"took longer than {slo.latency.threshold}")
        )
    for name, ratio, target, what in objectives:
        budget = _budget(target)
        for w in BURN_WINDOWS:
            sel = matcher(spec)
            threshold = f"({w.factor:g} * {budget})"
            rules.append(
                _alert(
                    spec,
                    f"{name}BudgetBurn",
                    f"{ratio(w.long)}{sel} > {threshold}\nand\n{ratio(w.short)}{sel} > {threshold}",
                    for_=w.for_,
                    severity=w.severity,
                    labels={"slo": name.lower(), "long_window": w.long, "short_window": w.short},
                    summary=f"{{{{ $labels.job }}}} is burning its {name.lower()} error budget "
                    f"{w.factor:g}x too fast",
                    description=f"{{{{ $value | humanizePercentage }}}} of requests {what} over the last "
                    f"{w.long} (and still over the last {w.short}); the objective is {target * 100:g}% "
                    f"over {slo.window}; at {w.factor:g}x or faster the budget is gone in "
                    f"{_lasts(slo.window, w.factor)} or less.",
                    runbook=RUNBOOK_BURN,
                )
            )
        budget_rule = AVAILABILITY_BUDGET if name == "Availability" else LATENCY_BUDGET
        rules.append(
            _alert(
                spec,
                f"{name}BudgetExhausted",
                f"{budget_rule}{matcher(spec)} <= 0",
                for_="5m",
                severity="warning",
                labels={"slo": name.lower()},
                summary=f"{{{{ $labels.job }}}} has spent its {name.lower()} error budget for {slo.window}",
                description=f"The {slo.window} {name.lower()} error budget is exhausted "
                "({{ $value | humanizePercentage }} left).",
                runbook="Freeze risky releases until the budget recovers; review what spent it.",
            )
        )
    return rules


def _lasts(window: str, factor: float) -> str:
    from kubeship.spec.quantity import parse_duration

    hours = parse_duration(window) / factor / 3600
    return f"{hours:.0f} hours" if hours < 72 else f"{hours / 24:.0f} days"


def _service_alerts(spec: AppSpec) -> list[Rule]:
    latency = spec.slo.latency.threshold_seconds if spec.slo and spec.slo.latency else DEFAULT_P99_SECONDS
    pods = pod_matcher(spec)
    rules = [
        _alert(
            spec,
            "HighLatencyP99",
            f"{quantile(0.99)}{matcher(spec)} > {latency:g}",
            for_="10m",
            severity="warning",
            summary="{{ $labels.job }} P99 latency is {{ $value | humanizeDuration }}",
            description=f"The 99th percentile of request duration has been above {latency:g}s "
            "for 10 minutes.",
            runbook="Compare CPU with requests (throttling, saturation) and the slowest routes' P99.",
        ),
        _alert(
            spec,
            "PodRestarting",
            f"increase(kube_pod_container_status_restarts_total{pods}[15m]) > 2",
            for_="0s",
            severity="warning",
            summary="{{ $labels.pod }} restarted {{ $value | humanize }} times in 15 minutes",
            description="Container {{ $labels.container }} of {{ $labels.pod }} keeps restarting.",
            runbook="`kubectl logs --previous` the pod; check OOMKilled in `kubectl describe pod` "
            "and the liveness probe.",
        ),
        _alert(
            spec,
            "PodCrashLooping",
            "max by (namespace, pod, container) "
            f"(kube_pod_container_status_waiting_reason{pod_matcher(spec, reason='CrashLoopBackOff')}) == 1",
            for_="5m",
            severity="critical",
            summary="{{ $labels.pod }} is crash-looping",
            description="Container {{ $labels.container }} of {{ $labels.pod }} has been in "
            "CrashLoopBackOff for 5 minutes.",
            runbook="`kubectl logs --previous` the pod: a crash at start is usually config, a secret or "
            "a dependency that is down.",
        ),
    ]
    if spec.autoscaling is not None:
        hpa = hpa_matcher(spec)
        unable = hpa_matcher(spec, condition="~AbleToScale|ScalingActive", status="false")
        rules += [
            _alert(
                spec,
                "HPAMaxedOut",
                f"kube_horizontalpodautoscaler_status_current_replicas{hpa}\n>=\n"
                f"kube_horizontalpodautoscaler_spec_max_replicas{hpa}",
                for_="15m",
                severity="warning",
                summary="{{ $labels.horizontalpodautoscaler }} has run at maxReplicas for 15 minutes",
                description="The HPA cannot add pods beyond maxReplicas "
                f"({spec.autoscaling.max_replicas}); load above this is served late or not at all.",
                runbook="Raise maxReplicas or make each pod do more; `kubeship autoscale simulate` "
                "shows the trade-off.",
            ),
            _alert(
                spec,
                "HPAUnableToScale",
                "max by (namespace, horizontalpodautoscaler, condition) "
                f"(kube_horizontalpodautoscaler_status_condition{unable}) == 1",
                for_="10m",
                severity="warning",
                summary="{{ $labels.horizontalpodautoscaler }}: {{ $labels.condition }} is false",
                description="The HPA cannot compute or apply a scale: metrics are missing, or the "
                "scale subresource refused.",
                runbook="`kubectl describe hpa` shows the reason; check the metrics-server or "
                "Prometheus Adapter.",
            ),
        ]
    rules += [_custom(spec, a) for a in spec.alerts]
    return rules


def _custom(spec: AppSpec, alert: AlertRule) -> Rule:
    by = f" by ({', '.join(alert.by)})" if alert.by else ""
    op, bound = (">", alert.above) if alert.above is not None else ("<", alert.below)
    series = alert.metric + (f'{{namespace="{spec.namespace}"}}' if spec.namespace else "")
    where = "above" if op == ">" else "below"
    return _alert(
        spec,
        alert.name,
        f"{alert.aggregate}{by} ({series}) {op} {bound:g}",
        for_=alert.for_,
        severity=alert.severity,
        summary=alert.summary or f"{alert.metric} is {where} {bound:g}",
        description=alert.description
        or f"{alert.aggregate}({alert.metric}) has been {where} {bound:g} for {alert.for_}: "
        "{{ $value }}.",
        runbook=alert.runbook or f"Find what drives {alert.metric} and whether the service keeps up.",
    )


def _alert(
    spec: AppSpec,
    name: str,
    expr: str,
    *,
    for_: str,
    severity: str,
    summary: str,
    description: str,
    runbook: str,
    labels: dict[str, str] | None = None,
) -> Rule:
    """Every alert carries the labels routes match on (service, severity, team) and what to do first."""
    all_labels = {"severity": severity, "service": job(spec), **(labels or {})}
    if spec.observe.team:
        all_labels["team"] = spec.observe.team
    annotations = {"summary": summary, "description": description, "runbook": runbook}
    if spec.observe.runbook_url:
        annotations["runbook_url"] = f"{spec.observe.runbook_url}#{name.lower()}"
    rule: Rule = {"alert": name, "expr": expr}
    if for_ not in ("0s", "0m"):
        rule["for"] = for_
    rule["labels"] = all_labels
    rule["annotations"] = annotations
    return rule
