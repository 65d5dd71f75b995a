"""What the cross-resource rules keep of an object once its own checks are done.

A large stream is linted where it is parsed; after that only the cross-resource
rules read the objects, and each reads a few fields of a few kinds: names,
labels, selectors, references, ports, requests — not probes, commands,
security contexts, behaviours or the values in a ConfigMap. `KEPT` says, per
kind, which fields they read; the rest is dropped before the objects wait for
the other inputs (and before a forked half sends them back), which keeps about
a quarter of the memory. List positions are kept (a finding's path indexes
them). A rule that starts reading a field not kept here must add it here: the
tests run every rule's failing fixture both ways and compare the findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Union

from kubeship.names import IGNORE_ANNOTATION

# A field's fate: True keeps it whole; a table keeps those keys of the mapping (of each item, for a
# list); a function makes what is kept from the value.
Keep = Union[Literal[True], "Table", Callable[[Any], Any]]
Table = dict[str, Keep]


def _keys_only(kept: frozenset[str] = frozenset()) -> Callable[[Any], Any]:
    """A mapping whose keys a rule asks about (annotations, a ConfigMap's keys) but whose values it
    does not read, except those in `kept`."""

    def keys(values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {k: (v if k in kept else "") for k, v in values.items()}

    return keys


_SELECTOR: Keep = True
_SELECTED_PEERS: Table = {"podSelector": True, "namespaceSelector": True}
_POD: Table = {
    "serviceAccountName": True,
    "serviceAccount": True,
    "automountServiceAccountToken": True,
    "affinity": {"podAntiAffinity": True},
    "volumes": {
        "configMap": True,
        "secret": True,
        "projected": {"sources": {"configMap": True, "secret": True}},
    },
}
_CONTAINER: Table = {
    "name": True,
    "ports": True,
    "resources": {"requests": True},
    "env": {"valueFrom": True},
    "envFrom": True,
}
_POD |= {"containers": _CONTAINER, "initContainers": _CONTAINER}
_TEMPLATE: Table = {"metadata": {"labels": True}, "spec": _POD}
_WORKLOAD: Table = {"replicas": True, "selector": _SELECTOR, "template": _TEMPLATE}

_METADATA: Table = {
    "name": True,
    "namespace": True,
    "generateName": True,
    "annotations": _keys_only(frozenset({IGNORE_ANNOTATION})),
}
_LABELLED: Table = _METADATA | {"labels": True}  # kinds whose own labels a selector matches

_DATA: Table = {
    "data": _keys_only(frozenset({"config.yaml"})),
    "binaryData": _keys_only(),
    "stringData": _keys_only(),
}

KEPT: dict[str, Table] = {
    "Service": {
        "metadata": _LABELLED,
        "spec": {"selector": True, "type": True, "ports": {"name": True, "port": True, "targetPort": True}},
    },
    "Pod": {"metadata": _LABELLED, "spec": _POD},
    "Deployment": {"spec": _WORKLOAD},
    "StatefulSet": {"spec": _WORKLOAD | {"serviceName": True}},
    "DaemonSet": {"spec": _WORKLOAD},
    "ReplicaSet": {"spec": _WORKLOAD},
    "DeploymentConfig": {"spec": _WORKLOAD},
    "Rollout": {"spec": _WORKLOAD | {"strategy": True}},
    "Job": {"spec": {"template": _TEMPLATE}},
    "CronJob": {"spec": {"jobTemplate": {"spec": {"template": _TEMPLATE}}}},
    "Ingress": {
        "spec": {
            "defaultBackend": True,
            "backend": True,
            "rules": {"http": {"paths": {"backend": True}}},
            "tls": {"secretName": True},
        }
    },
    "ScaledObject": {"spec": {"scaleTargetRef": True}},  # KEDA makes the HPA: KS111 counts it as one
    "HorizontalPodAutoscaler": {
        "spec": {
            "scaleTargetRef": True,
            "minReplicas": True,
            "metrics": {
                "type": True,
                "resource": {"name": True, "target": {"type": True}},
                "pods": {"metric": {"name": True}},
            },
        }
    },
    "PodDisruptionBudget": {
        "spec": {
            "selector": _SELECTOR,
            "maxUnavailable": True,
            "minAvailable": True,
            "unhealthyPodEvictionPolicy": True,
        }
    },
    "NetworkPolicy": {
        "spec": {
            "podSelector": _SELECTOR,
            "policyTypes": True,
            "ingress": {"from": _SELECTED_PEERS},
            "egress": {"to": _SELECTED_PEERS},
        }
    },
    "ServiceMonitor": {
        "spec": {"namespaceSelector": True, "selector": _SELECTOR, "endpoints": {"port": True}}
    },
    "ConfigMap": _DATA,
    "Secret": _DATA,
    "RoleBinding": {"subjects": True},
    "ClusterRoleBinding": {"subjects": True},
    "AnalysisTemplate": {"spec": {"metrics": {"name": True, "count": True, "interval": True}}},
    "ClusterAnalysisTemplate": {"spec": {"metrics": {"name": True, "count": True, "interval": True}}},
    "Certificate": {"spec": {"secretName": True}},  # cert-manager writes that Secret
}
_EVERY_KIND: Table = {"apiVersion": True, "kind": True, "metadata": _METADATA}


def slim(obj: dict[str, Any], shared: dict[Any, Any] | None = None) -> dict[str, Any]:
    """A copy of `obj` with only what the cross-resource rules read (shared, not copied, below).

    `shared`: a table kept across calls in which equal parts are made one (hash-consing): the same
    selector, labels, ports and requests recur in every object of an app and across apps, and one copy
    of each halves what is kept. Nothing reads them but the rules, which never change them."""
    kind = obj.get("kind")
    table = _EVERY_KIND | KEPT[kind] if isinstance(kind, str) and kind in KEPT else _EVERY_KIND
    return {key: _kept(value, table[key], shared) for key, value in obj.items() if key in table}


def _kept(node: Any, keep: Keep, shared: dict[Any, Any] | None) -> Any:
    if keep is True:
        return node if shared is None else _one(node, shared)
    if callable(keep):
        kept = keep(node)
    elif isinstance(node, list):
        kept = [_kept(item, keep, shared) for item in node]
    elif isinstance(node, dict) and isinstance(keep, dict):
        kept = {key: _kept(value, keep[key], shared) for key, value in node.items() if key in keep}
    else:
        return node  # a value of the wrong shape: the schema said so, and no rule reads the object
    return kept if shared is None else _interned(kept, shared)


def _one(node: Any, shared: dict[Any, Any]) -> Any:
    """`node` with every mapping and list in it made the one equal copy in `shared`."""
    if isinstance(node, dict):
        return _interned({key: _one(value, shared) for key, value in node.items()}, shared)
    if isinstance(node, list):
        return _interned([_one(item, shared) for item in node], shared)
    return node


def _interned(node: Any, shared: dict[Any, Any]) -> Any:
    """The copy in `shared` equal to `node`, whose own parts already are. Parts are told apart by
    identity, scalars by type and value (1, 1.0 and true are equal in Python, not in YAML)."""
    if isinstance(node, dict):
        key: tuple[Any, ...] = (dict, *(_part(k) + _part(v) for k, v in node.items()))
    elif isinstance(node, list):
        key = (list, *(_part(item) for item in node))
    else:
        return node
    try:
        return shared.setdefault(key, node)
    except TypeError:  # an unhashable scalar (a YAML !!set): kept as it is
        return node


def _part(value: Any) -> tuple[Any, ...]:
    return (id(value),) if isinstance(value, (dict, list)) else (type(value), value)
