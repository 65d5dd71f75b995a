"""Lint rules: one function each, registered with an ID, a severity, a message and a fix hint, kept by
family so a new rule has an obvious room: reliability, security, rbac, cross_resource (what one object
names and another must provide), argo (Argo Rollouts' controller validation). base holds the registry,
the helpers and the Index cross-resource rules query."""

from __future__ import annotations

from kubeship.check.rules import argo, cross_resource, rbac, reliability, security  # noqa: F401  (registers)
from kubeship.check.rules.base import (
    ALB_ACTION_PORT,
    DANGEROUS_CAPS,
    REPLICATED,
    RULES,
    SECRET_NAME,
    WORKLOADS,
    CrossCheck,
    F,
    Index,
    ObjectCheck,
    Path,
    Rule,
    container_path,
    containers,
    image_tag,
    pod_labels,
    pod_spec,
    pod_spec_path,
    register,
    replica_count,
    selects,
    workload_pods,
)

__all__ = [
    "ALB_ACTION_PORT",
    "DANGEROUS_CAPS",
    "REPLICATED",
    "RULES",
    "SECRET_NAME",
    "WORKLOADS",
    "CrossCheck",
    "F",
    "Index",
    "ObjectCheck",
    "Path",
    "Rule",
    "container_path",
    "containers",
    "image_tag",
    "pod_labels",
    "pod_spec",
    "pod_spec_path",
    "register",
    "replica_count",
    "selects",
    "workload_pods",
]
