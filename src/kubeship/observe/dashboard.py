"""A Grafana dashboard for one service: traffic, errors against the SLO, latency, saturation, scaling."""

from __future__ import annotations

from typing import Any

from kubeship.observe.dependencies import dependency_panels
from kubeship.promql import (
    AVAILABILITY_BUDGET,
    LATENCY_BUDGET,
    QUANTILES,
    error_ratio,
    hpa_matcher,
    matcher,
    pod_matcher,
    quantile,
    requests_rate,
)
from kubeship.spec.models import AppSpec

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panel(
    title: str, targets: list[tuple[str, str]], unit: str, x: int, y: int, *, w: int = 12, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit, **extra}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def _row(title: str, y: int) -> dict[str, Any]:
    return {
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
        "panels": [],
    }


def dashboard(spec: AppSpec) -> dict[str, Any]:
    sel = matcher(spec)
    pods = pod_matcher(spec, container=spec.name)
    cpu_requests = pod_matcher(spec, container=spec.name, resource="cpu")
    memory_requests = pod_matcher(spec, container=spec.name, resource="memory")
    slo = spec.slo
    errors = [(f"{error_ratio('5m')}{sel}", "error ratio")]
    if slo and slo.availability:
        errors.append((f"vector({1 - slo.availability.target:.6g})", "SLO error budget"))
    latency = [(f"{quantile(q)}{sel}", f"P{round(q * 100)}") for q in QUANTILES]
    if slo and slo.latency:
        latency.append((f"vector({slo.latency.threshold_seconds:g})", f"SLO {slo.latency.threshold}"))
    panels = [
        _panel("Requests per second", [(f"{requests_rate('5m')}{sel}", "{{job}}")], "reqps", 0, 0),
        _panel("Error ratio (5xx) vs SLO", errors, "percentunit", 12, 0),
        _panel("Latency", latency, "s", 0, 8),
        _panel(
            "Error budget remaining",
            [(f"{AVAILABILITY_BUDGET}{sel}", "availability"), (f"{LATENCY_BUDGET}{sel}", "latency")],
            "percentunit",
            12,
            8,
        ),
        _panel(
            "CPU vs requests",
            [
                (f"sum(rate(container_cpu_usage_seconds_total{pods}[5m]))", "used"),
                (f"sum(kube_pod_container_resource_requests{cpu_requests})", "requested"),
            ],
            "cores",
            0,
            16,
        ),
        _panel(
            "Memory vs requests",
            [
                (f"sum(container_memory_working_set_bytes{pods})", "working set"),
                (f"sum(kube_pod_container_resource_requests{memory_requests})", "requested"),
            ],
            "bytes",
            12,
            16,
        ),
    ]
    if spec.autoscaling is not None:
        hpa = hpa_matcher(spec)
        panels.append(
            _panel(
                "Replicas vs HPA bounds",
                [
                    (f"kube_horizontalpodautoscaler_status_current_replicas{hpa}", "current"),
                    (f"kube_horizontalpodautoscaler_status_desired_replicas{hpa}", "desired"),
                    (f"kube_horizontalpodautoscaler_spec_min_replicas{hpa}", "min"),
                    (f"kube_horizontalpodautoscaler_spec_max_replicas{hpa}", "max"),
                ],
                "none",
                0,
                24,
                w=24,
            )
        )
    y = 32 if spec.autoscaling is not None else 24
    for title, row in dependency_panels(spec):
        panels.append(_row(title, y))
        y += 1
        for i, (name, targets, unit) in enumerate(row):
            panels.append(_panel(name, targets, unit, 12 * (i % 2), y + 8 * (i // 2)))
        y += 8 * ((len(row) + 1) // 2)
    return {
        "title": f"{spec.name} (kubeship)",
        "uid": f"kubeship-{spec.name}"[:40],
        "tags": ["kubeship", spec.name],
        "timezone": "browser",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}
            ]
        },
        "panels": [{**p, "id": i + 1} for i, p in enumerate(panels)],
    }
