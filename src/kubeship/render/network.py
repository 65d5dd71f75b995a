"""Service, Ingress and NetworkPolicy: how traffic reaches the pods, and only that traffic."""

from __future__ import annotations

from typing import Any

from kubeship.names import PORT_NAME
from kubeship.render.labels import metadata, selector
from kubeship.spec.models import AppSpec


def service_name(spec: AppSpec) -> str:
    return spec.service.name or spec.name


def service(spec: AppSpec) -> dict[str, Any]:
    svc = spec.service
    port: dict[str, Any] = {"name": PORT_NAME, "port": svc.port, "targetPort": PORT_NAME, "protocol": "TCP"}
    if svc.node_port is not None:
        port["nodePort"] = svc.node_port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(spec, service_name(spec)),
        "spec": {"type": svc.type, "selector": selector(spec), "ports": [port]},
    }


def ingress(spec: AppSpec) -> dict[str, Any] | None:
    ing = spec.ingress
    if ing is None:
        return None
    backend = {"service": {"name": service_name(spec), "port": {"name": PORT_NAME}}}
    body: dict[str, Any] = {}
    if ing.class_name:
        body["ingressClassName"] = ing.class_name
    if ing.tls_secret:
        body["tls"] = [{"hosts": [h.host for h in ing.hosts], "secretName": ing.tls_secret}]
    body["rules"] = [
        {
            "host": h.host,
            "http": {
                "paths": [{"path": p.path, "pathType": p.path_type, "backend": backend} for p in h.paths]
            },
        }
        for h in ing.hosts
    ]
    meta = metadata(spec)
    if ing.annotations:
        meta["annotations"] = dict(sorted(ing.annotations.items()))
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": body}


def network_policy(spec: AppSpec) -> dict[str, Any] | None:
    """Ingress to the app port from its own namespace and the listed ones; nothing else."""
    if not spec.network_policy.enabled:
        return None
    peers: list[dict[str, Any]] = [{"podSelector": {}}]
    peers += [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
        for ns in spec.network_policy.from_namespaces
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(spec),
        "spec": {
            "podSelector": {"matchLabels": selector(spec)},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": peers, "ports": [{"port": PORT_NAME, "protocol": "TCP"}]}],
        },
    }
