"""How Prometheus finds the pods: a plain scrape job, and a ServiceMonitor for the Operator."""

from __future__ import annotations

from typing import Any

from kubeship.names import (
    LABEL_NAME,
    LABEL_VERSION,
    METRICS_PATH,
    PORT_NAME,
    ROLLOUT_HASH_LABEL,
    ROLLOUT_HASH_SERIES_LABEL,
)
from kubeship.observe.dependencies import dependency_scrape_jobs
from kubeship.promql import job, meta_label
from kubeship.render.labels import metadata, selector
from kubeship.render.network import service_host
from kubeship.spec.models import AppSpec


def scrape_job(spec: AppSpec) -> dict[str, Any]:
    """A `scrape_configs` entry: pods of this app, on the port named `http`, with namespace/pod labels."""
    sd: dict[str, Any] = {"role": "pod"}
    if spec.namespace:
        sd["namespaces"] = {"names": [spec.namespace]}
    tls: dict[str, Any] = {}
    if spec.tls is not None:
        # Prometheus mounts the app's Secret (prometheus.yml `secrets:` or a volume) and scrapes with
        # it: the pods ask every caller for a certificate of their CA, /metrics included.
        d = f"/etc/prometheus/secrets/{spec.name}-tls"
        tls = {
            "scheme": "https",
            "tls_config": {
                "ca_file": f"{d}/ca.crt",
                "cert_file": f"{d}/tls.crt",
                "key_file": f"{d}/tls.key",
                "insecure_skip_verify": False,
            },
        }
    return {
        "job_name": job(spec),
        "scrape_interval": spec.observe.scrape_interval,
        "metrics_path": METRICS_PATH,
        **tls,
        "kubernetes_sd_configs": [sd],
        "relabel_configs": [
            {"source_labels": [meta_label("pod", LABEL_NAME)], "action": "keep", "regex": spec.name},
            {
                "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                "action": "keep",
                "regex": PORT_NAME,
            },
            {
                "source_labels": ["__meta_kubernetes_pod_phase"],
                "action": "drop",
                "regex": "Pending|Succeeded|Failed",
            },
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": [meta_label("pod", LABEL_VERSION)], "target_label": "version"},
            # Argo Rollouts' ReplicaSet hash: tells the canary's series from the stable ones.
            {
                "source_labels": [meta_label("pod", ROLLOUT_HASH_LABEL)],
                "target_label": ROLLOUT_HASH_SERIES_LABEL,
            },
        ],
    }


def prometheus_config(spec: AppSpec, rule_files: list[str] | None = None) -> dict[str, Any]:
    """A whole prometheus.yml for this app (merge its scrape job into yours)."""
    config: dict[str, Any] = {"global": {"scrape_interval": spec.observe.scrape_interval}}
    if rule_files:
        config["rule_files"] = rule_files
    config["scrape_configs"] = [scrape_job(spec), *dependency_scrape_jobs(spec)]
    return config


def service_monitor(spec: AppSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "jobLabel": LABEL_NAME,  # job = the app name, as with the plain scrape job
        "selector": {"matchLabels": selector(spec)},
        # Copied onto every series as rollouts_pod_template_hash, so canary analysis can select it.
        "podTargetLabels": [ROLLOUT_HASH_LABEL],
        "endpoints": [
            {
                "port": PORT_NAME,
                "path": METRICS_PATH,
                "interval": spec.observe.scrape_interval,
                "scheme": "http",
            }
        ],
    }
    if spec.tls is not None:
        secret = f"{spec.name}-tls"
        body["endpoints"][0] |= {
            "scheme": "https",
            "tlsConfig": {
                "ca": {"secret": {"name": secret, "key": "ca.crt"}},
                "cert": {"secret": {"name": secret, "key": "tls.crt"}},
                "keySecret": {"name": secret, "key": "tls.key"},
                "serverName": service_host(spec),
            },
        }
    if spec.namespace:
        body["namespaceSelector"] = {"matchNames": [spec.namespace]}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": metadata(spec),
        "spec": body,
    }
