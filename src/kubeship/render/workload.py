"""The Deployment: pod template, probes, security, drain timing, spreading."""

from __future__ import annotations

import math
from typing import Any

from kubeship.names import DEFAULT_MAX_CONCURRENCY, PORT_NAME, ROLLOUT_HASH_LABEL, env_name
from kubeship.render import security, siem
from kubeship.render.config import (
    CONFIG_DIR,
    CONFIG_HASH_ANNOTATION,
    SECRETS_DIR,
    config_hash,
    config_map_name,
)
from kubeship.render.labels import labels, metadata, selector
from kubeship.spec.models import AppSpec, Probe

# After the runtime's own drain and shutdown, how long before the kubelet's
# SIGKILL: Python's exit (atexit, flushing logs) needs a moment too.
EXIT_MARGIN_SECONDS = 5


def termination_grace_seconds(spec: AppSpec) -> int:
    """SIGTERM → drain → shutdown must end before SIGKILL: the grace period covers both."""
    c = spec.container
    return math.ceil(c.drain_seconds + c.shutdown_timeout) + EXIT_MARGIN_SECONDS


def command(spec: AppSpec) -> list[str]:
    c = spec.container
    if c.command is not None:
        return list(c.command)
    cmd = [
        "kubeship", "serve", c.app,
        "--port", str(c.port),
        "--workers", str(c.workers),
        "--drain-seconds", _num(c.drain_seconds),
        "--shutdown-timeout", _num(c.shutdown_timeout),
    ]  # fmt: skip
    if c.max_concurrency != DEFAULT_MAX_CONCURRENCY:  # else kubeship serve's own default
        cmd += ["--max-concurrency", str(c.max_concurrency)]
    if spec.config is not None:
        cmd += ["--config", CONFIG_DIR]
    if any(s.mount for s in spec.secrets.values()):
        cmd += ["--secrets", SECRETS_DIR]
    return cmd


def workload_spec(spec: AppSpec, kind_fields: dict[str, Any]) -> dict[str, Any]:
    """What a Deployment and a Rollout share: replicas (unless an HPA owns them), selector, template;
    `kind_fields` (the strategy, ...) go before the template, where a reader looks for them."""
    template_meta: dict[str, Any] = {"labels": labels(spec)}
    digest = config_hash(spec)
    if digest:
        template_meta["annotations"] = {CONFIG_HASH_ANNOTATION: digest}
    body: dict[str, Any] = {}
    if spec.autoscaling is None:
        body["replicas"] = spec.replicas  # with an HPA, leaving it out keeps `apply` from resetting it
    return body | {
        "revisionHistoryLimit": spec.revision_history_limit,
        "selector": {"matchLabels": selector(spec)},
        **kind_fields,
        "template": {"metadata": template_meta, "spec": pod_spec(spec)},
    }


def rolling_update(spec: AppSpec) -> dict[str, Any]:
    return {"maxSurge": spec.rolling_update.max_surge, "maxUnavailable": spec.rolling_update.max_unavailable}


def deployment(spec: AppSpec) -> dict[str, Any]:
    body = workload_spec(spec, {"strategy": {"type": "RollingUpdate", "rollingUpdate": rolling_update(spec)}})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(spec), "spec": body}


def template_hash_label(spec: AppSpec) -> str:
    """The label each ReplicaSet's pods carry: the Deployment controller's, or Argo Rollouts'."""
    return ROLLOUT_HASH_LABEL if spec.delivery is not None else "pod-template-hash"


def pod_spec(spec: AppSpec) -> dict[str, Any]:
    sec = spec.security
    pod: dict[str, Any] = {
        "serviceAccountName": security.service_account_name(spec),
        "automountServiceAccountToken": security.mounts_token(spec),
        "terminationGracePeriodSeconds": termination_grace_seconds(spec),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": sec.run_as_user,
            "runAsGroup": sec.run_as_group,
            "fsGroup": sec.run_as_group,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    spread = topology_spread(spec)
    if spread:
        pod["topologySpreadConstraints"] = spread
    sidecar = siem.forwarder(spec)
    if sidecar is not None:
        pod["initContainers"] = [sidecar]
    pod["containers"] = [container(spec)]
    pod["volumes"] = volumes(spec)
    return pod


def container(spec: AppSpec) -> dict[str, Any]:
    c = spec.container
    out: dict[str, Any] = {
        "name": spec.name,
        "image": spec.image.reference,
        "imagePullPolicy": "IfNotPresent",
        "command": command(spec),
        "ports": [{"name": PORT_NAME, "containerPort": c.port, "protocol": "TCP"}],
    }
    env = env_vars(spec)
    if env:
        out["env"] = env
    out["resources"] = {
        "requests": dict(sorted(c.resources.requests.items())),
        **({"limits": dict(sorted(c.resources.limits.items()))} if c.resources.limits else {}),
    }
    https = spec.tls is not None
    out["livenessProbe"] = _probe(c.probes.liveness, https)
    out["readinessProbe"] = _probe(c.probes.readiness, https)
    if c.probes.startup is not None:
        out["startupProbe"] = _probe(c.probes.startup, https)
    out["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": spec.security.read_only_root_filesystem,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    out["volumeMounts"] = volume_mounts(spec)
    return out


def env_vars(spec: AppSpec) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(spec.container.env.items())]
    if spec.config is not None and spec.config.as_env:
        env += [
            {
                "name": env_name(key),
                "valueFrom": {"configMapKeyRef": {"name": config_map_name(spec), "key": key}},
            }
            for key in sorted(spec.config.data)
        ]
    for name, secret in sorted(spec.secrets.items()):
        if secret.mount:
            continue
        env += [
            {"name": env_name(key, ""), "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}
            for key in sorted(secret.keys)
        ]
    return env + security.tls_env(spec) + security.headers_env(spec) + siem.audit_env(spec)


def volumes(spec: AppSpec) -> list[dict[str, Any]]:
    vols: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    if spec.config is not None:
        vols.append({"name": "config", "configMap": {"name": config_map_name(spec)}})
    mounted = sorted(name for name, s in spec.secrets.items() if s.mount)
    if mounted:
        # One directory for every mounted Secret, so `secret("key")` needs no Secret name.
        vols.append(
            {"name": "secrets", "projected": {"sources": [{"secret": {"name": name}} for name in mounted]}}
        )
    if spec.tls is not None:
        vols.append(
            {"name": "tls", "secret": {"secretName": security.tls_secret_name(spec), "defaultMode": 0o440}}
        )
    return vols + siem.audit_volumes(spec)


def volume_mounts(spec: AppSpec) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]
    if spec.config is not None:
        mounts.append({"name": "config", "mountPath": CONFIG_DIR, "readOnly": True})
    if any(s.mount for s in spec.secrets.values()):
        mounts.append({"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True})
    if spec.tls is not None:
        mounts.append({"name": "tls", "mountPath": security.TLS_DIR, "readOnly": True})
    return mounts + siem.audit_mounts(spec)


def topology_spread(spec: AppSpec) -> list[dict[str, Any]]:
    keys = []
    if spec.availability.zones:
        keys.append("topology.kubernetes.io/zone")
    if spec.availability.hosts:
        keys.append("kubernetes.io/hostname")
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            # ScheduleAnyway: a single-zone cluster or a full node must not leave pods Pending.
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector(spec)},
            "matchLabelKeys": [template_hash_label(spec)],  # spread each rollout's new pods, not old + new
        }
        for key in keys
    ]


def _probe(probe: Probe, https: bool) -> dict[str, Any]:
    # The kubelet does not verify the certificate and presents none: the runtime lets
    # /healthz and /readyz through without one (see kubeship.runtime.tls).
    get: dict[str, Any] = {"path": probe.path, "port": PORT_NAME}
    if https:
        get["scheme"] = "HTTPS"
    out: dict[str, Any] = {"httpGet": get}
    if probe.initial_delay_seconds:
        out["initialDelaySeconds"] = probe.initial_delay_seconds
    out |= {
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
    }
    return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
