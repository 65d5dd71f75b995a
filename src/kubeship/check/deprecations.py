"""apiVersions Kubernetes removed, and when: the replacement to use instead.

From the upstream deprecation guide (kubernetes.io/docs/reference/using-api/deprecation-guide).
"""

from __future__ import annotations

from typing import NamedTuple


class Removal(NamedTuple):
    removed_in: tuple[int, int]
    replacement: str | None  # None: no direct replacement


# (apiVersion, kind) → removal; kind "*" covers every kind of that apiVersion.
REMOVED: dict[tuple[str, str], Removal] = {
    ("extensions/v1beta1", "Deployment"): Removal((1, 16), "apps/v1"),
    ("extensions/v1beta1", "DaemonSet"): Removal((1, 16), "apps/v1"),
    ("extensions/v1beta1", "ReplicaSet"): Removal((1, 16), "apps/v1"),
    ("extensions/v1beta1", "NetworkPolicy"): Removal((1, 16), "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): Removal((1, 16), "policy/v1beta1"),
    ("extensions/v1beta1", "Ingress"): Removal((1, 22), "networking.k8s.io/v1"),
    ("apps/v1beta1", "*"): Removal((1, 16), "apps/v1"),
    ("apps/v1beta2", "*"): Removal((1, 16), "apps/v1"),
    ("networking.k8s.io/v1beta1", "Ingress"): Removal((1, 22), "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass"): Removal((1, 22), "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*"): Removal((1, 22), "rbac.authorization.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "*"): Removal((1, 22), "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "*"): Removal((1, 22), "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "*"): Removal((1, 22), "apiregistration.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "*"): Removal((1, 22), "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "*"): Removal((1, 22), "coordination.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "*"): Removal((1, 22), "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIDriver"): Removal((1, 22), "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSINode"): Removal((1, 22), "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass"): Removal((1, 22), "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): Removal((1, 22), "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob"): Removal((1, 25), "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): Removal((1, 25), "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event"): Removal((1, 25), "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): Removal((1, 25), "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): Removal((1, 25), "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): Removal((1, 25), None),
    ("node.k8s.io/v1beta1", "RuntimeClass"): Removal((1, 25), "node.k8s.io/v1"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): Removal((1, 26), "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*"): Removal((1, 26), "flowcontrol.apiserver.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): Removal((1, 27), "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*"): Removal((1, 29), "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*"): Removal((1, 32), "flowcontrol.apiserver.k8s.io/v1"),
}


def removal(api_version: str, kind: str) -> Removal | None:
    return REMOVED.get((api_version, kind)) or REMOVED.get((api_version, "*"))


def parse_version(version: str) -> tuple[int, int]:
    major, minor, *_ = version.split(".")
    return int(major), int(minor)
