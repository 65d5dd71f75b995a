"""What the cross-resource rules keep of an object once its own checks are done.

A large stream is linted where it is parsed; after that only the cross-resource
rules read the objects, and they read names, labels, selectors, references,
ports, requests and strategies — not probes, commands, security contexts or
the values in a ConfigMap. Dropping those before the objects wait for the
other inputs (and before a forked half sends them back) keeps a third less in
memory. List positions are kept (a finding's path indexes them); a rule that
starts reading a field dropped here must keep it here too — the tests run both
paths on the same inputs and compare the findings.
"""

from __future__ import annotations

from typing import Any

from kubeship.check.rules.base import WORKLOADS, pod_spec_path
from kubeship.names import IGNORE_ANNOTATION

_METADATA = ("name", "namespace", "generateName", "labels")
_POD_DROP = frozenset(
    {"securityContext", "tolerations", "topologySpreadConstraints", "nodeSelector", "dnsConfig",
     "hostAliases", "readinessGates", "terminationGracePeriodSeconds", "dnsPolicy", "priorityClassName",
     "enableServiceLinks"}
)  # fmt: skip
_CONTAINER_DROP = frozenset(
    {"command", "args", "livenessProbe", "readinessProbe", "startupProbe", "securityContext", "lifecycle",
     "volumeMounts", "workingDir", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy"}
)  # fmt: skip
_DATA_KEPT = frozenset({"config.yaml"})  # the Prometheus Adapter's rules, read by KS316


def slim(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of `obj` with what no cross-resource rule reads left out (shared, not copied, below)."""
    out = {k: v for k, v in obj.items() if k != "status"}
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = _metadata(out["metadata"])
    kind = obj.get("kind")
    if kind in ("ConfigMap", "Secret"):
        for field in ("data", "binaryData", "stringData"):
            values = out.get(field)
            if isinstance(values, dict):  # the keys are what references name
                out[field] = {k: (v if k in _DATA_KEPT else "") for k, v in values.items()}
    elif kind == "PrometheusRule":
        out.pop("spec", None)
    elif kind in WORKLOADS:
        out = _with_pod(out, pod_spec_path(kind))
    return out


def _metadata(meta: dict[str, Any]) -> dict[str, Any]:
    out = {k: meta[k] for k in _METADATA if k in meta}
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):  # rules ask which annotations are there; suppressions are read
        out["annotations"] = {k: (v if k == IGNORE_ANNOTATION else "") for k, v in annotations.items()}
    return out


def _with_pod(node: Any, path: list[str | int]) -> Any:
    """`node` with the pod spec at `path` slimmed (and the pod template's metadata on the way)."""
    if not isinstance(node, dict):
        return node
    if not path:
        return _pod(node)
    out = dict(node)
    if path[0] in out:
        out[path[0]] = _with_pod(out[path[0]], path[1:])
    if path == ["spec"] and isinstance(out.get("metadata"), dict):  # a template: its labels select it
        out["metadata"] = _metadata(out["metadata"])
    return out


def _pod(pod: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in pod.items() if k not in _POD_DROP}
    for group in ("containers", "initContainers", "ephemeralContainers"):
        if isinstance(out.get(group), list):
            out[group] = [_container(c) for c in out[group]]
    return out


def _container(container: Any) -> Any:
    if not isinstance(container, dict):
        return container
    out = {k: v for k, v in container.items() if k not in _CONTAINER_DROP}
    env = out.get("env")
    if isinstance(env, list):  # references (valueFrom) stay; literal values go
        out["env"] = [{k: v for k, v in e.items() if k != "value"} if isinstance(e, dict) else e for e in env]
    return out
