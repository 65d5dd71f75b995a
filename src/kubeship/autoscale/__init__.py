"""Autoscaling: the HPA's decision as Kubernetes computes it (more to come: behavior, simulator)."""

from kubeship.autoscale.replicas import (
    Container,
    MetricError,
    Pod,
    Sample,
    Settings,
    Tolerances,
    group_pods,
    object_replicas,
    per_pod_replicas,
    plain_metric_replicas,
    resource_replicas,
)

__all__ = [
    "Container",
    "MetricError",
    "Pod",
    "Sample",
    "Settings",
    "Tolerances",
    "group_pods",
    "object_replicas",
    "per_pod_replicas",
    "plain_metric_replicas",
    "resource_replicas",
]
