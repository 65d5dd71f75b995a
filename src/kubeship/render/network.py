"""Service, Ingress and NetworkPolicy: how traffic reaches the pods, and only that traffic."""

from __future__ import annotations

from typing import Any

from kubeship.names import EXPOSED_SERVICE_RULE, IGNORE_ANNOTATION, PORT_NAME
from kubeship.render.labels import metadata, selector
from kubeship.spec.models import AppSpec, EgressPeer


def service_name(spec: AppSpec) -> str:
    return spec.service.name or spec.name


def service_dns_names(spec: AppSpec) -> list[str]:
    """The names the Service answers to in the cluster; only the short one when the spec leaves the
    namespace to `kubectl -n` (the others cannot be known)."""
    svc = service_name(spec)
    if not spec.namespace:
        return [svc]
    ns = spec.namespace
    return [svc, f"{svc}.{ns}", f"{svc}.{ns}.svc", f"{svc}.{ns}.svc.cluster.local"]


def service_host(spec: AppSpec) -> str:
    """The name in-cluster TLS clients (ingress-nginx, Prometheus) check: one the certificate holds."""
    names = service_dns_names(spec)
    return names[2] if len(names) > 2 else names[0]


def service(spec: AppSpec) -> dict[str, Any]:
    svc = spec.service
    port: dict[str, Any] = {"name": PORT_NAME, "port": svc.port, "targetPort": PORT_NAME, "protocol": "TCP"}
    if svc.node_port is not None:
        port["nodePort"] = svc.node_port
    meta = metadata(spec, service_name(spec))
    if svc.type in (
        "NodePort",
        "LoadBalancer",
    ):  # chosen in the spec: `kubeship check` notes it with the reason
        meta.setdefault("annotations", {})[IGNORE_ANNOTATION] = (
            f"{EXPOSED_SERVICE_RULE}: kubeship.yaml asks for service.type {svc.type}"
        )
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
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
    annotations = {**tls_annotations(spec), **ing.annotations}  # the spec's own win
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": body}


NGINX = "nginx.ingress.kubernetes.io/"


def tls_annotations(spec: AppSpec) -> dict[str, str]:
    """ingress-nginx: HTTPS to the pods, presenting the app's certificate (the pods ask for one) and
    checking theirs; with `tls.edge`, client certificates verified at the edge too."""
    tls, ing = spec.tls, spec.ingress
    if tls is None or ing is None or ing.class_name != "nginx":
        return {}
    ns = spec.namespace or "default"
    secret = f"{ns}/{spec.name}-tls"
    out = {
        NGINX + "backend-protocol": "HTTPS",
        NGINX + "proxy-ssl-secret": secret,
        NGINX + "proxy-ssl-verify": "on",
        NGINX + "proxy-ssl-name": service_host(spec),
        NGINX + "proxy-ssl-server-name": "on",
    }
    if tls.edge is not None:
        out |= {
            NGINX + "auth-tls-secret": tls.edge.client_ca_secret,
            NGINX + "auth-tls-verify-client": tls.edge.verify,
            NGINX + "auth-tls-verify-depth": str(tls.edge.depth),
            NGINX + "auth-tls-pass-certificate-to-upstream": "false",
        }
    return out


def network_policy(spec: AppSpec) -> dict[str, Any] | None:
    """Default deny both ways: in, the app port from its own namespace and the listed ones; out,
    DNS and the declared dependencies only."""
    np = spec.network_policy
    if not np.enabled:
        return None
    peers: list[dict[str, Any]] = [{"podSelector": {}}]
    peers += [_namespace(ns) for ns in np.from_namespaces]
    body: dict[str, Any] = {
        "podSelector": {"matchLabels": selector(spec)},
        "policyTypes": ["Ingress"] if np.egress is None else ["Ingress", "Egress"],
        "ingress": [{"from": peers, "ports": [{"port": PORT_NAME, "protocol": "TCP"}]}],
    }
    if np.egress is not None:
        dns = {
            "to": [{**_namespace("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        }
        body["egress"] = [dns] + [_egress_rule(peer) for peer in np.egress]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(spec),
        "spec": body,
    }


def _namespace(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def _egress_rule(peer: EgressPeer) -> dict[str, Any]:
    to: dict[str, Any]
    if peer.cidr is not None:
        to = {"ipBlock": {"cidr": peer.cidr}}
    else:
        to = _namespace(peer.namespace) if peer.namespace else {}
        to["podSelector"] = {"matchLabels": dict(sorted(peer.pods.items()))} if peer.pods else {}
    return {"to": [to], "ports": [{"port": p, "protocol": peer.protocol} for p in peer.ports]}
