"""Spec → what Prometheus, Alertmanager and Grafana run: scrape config, rules, routes, dashboard.

Pure: objects in, objects out. Metric names come from `kubeship.names`, the
same constants the runtime exports them under.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from kubeship.masked import Secret
from kubeship.observe.alertmanager import TEMPLATE, TEMPLATE_FILE, dingtalk_bridge
from kubeship.observe.alertmanager import config as alertmanager_config
from kubeship.observe.dashboard import dashboard
from kubeship.observe.dependencies import dependency_monitors
from kubeship.observe.rules import prometheus_rule, rule_groups
from kubeship.observe.scrape import prometheus_config, scrape_job, service_monitor
from kubeship.render.labels import metadata
from kubeship.render.output import to_yaml
from kubeship.spec.models import AppSpec

__all__ = [
    "alertmanager_config",
    "dashboard",
    "dingtalk_bridge",
    "observe_objects",
    "prometheus_config",
    "prometheus_rule",
    "rule_groups",
    "scrape_job",
    "service_monitor",
    "to_text",
]

DASHBOARD_LABEL = "grafana_dashboard"  # what the Grafana sidecar (kube-prometheus-stack) watches for


def to_text(document: Mapping[str, Any]) -> str:
    """A config file as YAML (Prometheus, Alertmanager) — the same emitter as the manifests."""
    return to_yaml([dict(document)]).removeprefix("---\n")


def observe_objects(spec: AppSpec, alert_secrets: Mapping[str, Secret] | None = None) -> list[dict[str, Any]]:
    """Kubernetes objects for the Prometheus Operator and Grafana's sidecar, in apply order."""
    objects: list[dict[str, Any]] = [service_monitor(spec), *dependency_monitors(spec), prometheus_rule(spec)]
    if spec.alerting is not None:
        files = {
            "alertmanager.yaml": to_text(alertmanager_config(spec, alert_secrets)),
            TEMPLATE_FILE: TEMPLATE,
        }
        objects.append(_secret(spec, f"{spec.name}-alertmanager", files))
        bridge = dingtalk_bridge(spec, alert_secrets)
        if bridge is not None:
            objects.append(_secret(spec, f"{spec.name}-dingtalk", {"config.yml": to_text(bridge)}))
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(spec, f"{spec.name}-dashboard"),
            "data": {f"{spec.name}.json": json.dumps(dashboard(spec), indent=2, sort_keys=True) + "\n"},
        }
    )
    objects[-1]["metadata"]["labels"][DASHBOARD_LABEL] = "1"
    return objects


def _secret(spec: AppSpec, name: str, files: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(spec, name),
        "type": "Opaque",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in sorted(files.items())},
    }
