"""Least privilege and identity: ServiceAccount, Role, the namespace's Pod Security level, the
cert-manager Certificate the pod serves mTLS with, and how the pod mounts it."""

from __future__ import annotations

from typing import Any

from kubeship.names import (
    ENV_CACHE_CONTROL,
    ENV_CSP,
    ENV_HSTS,
    ENV_MTLS_ALLOW,
    ENV_SECURITY_HEADERS,
    ENV_TLS_CERT,
    ENV_TLS_CLIENT_CA,
    ENV_TLS_KEY,
    LABEL_MANAGED_BY,
    MANAGER,
)
from kubeship.render.labels import metadata
from kubeship.render.network import service_dns_names
from kubeship.spec.models import AppSpec

TLS_DIR = "/etc/kubeship/tls"


def service_account_name(spec: AppSpec) -> str:
    return spec.name


def service_account(spec: AppSpec) -> dict[str, Any]:
    """The app's own identity: never `default`, and no API token unless it calls the API."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(spec, service_account_name(spec)),
        "automountServiceAccountToken": mounts_token(spec),
    }


def mounts_token(spec: AppSpec) -> bool:
    return spec.security.service_account_token or bool(spec.security.rbac)


def role(spec: AppSpec) -> list[dict[str, Any]]:
    """A Role with exactly the spec's rules, and its binding to the app's ServiceAccount."""
    if not spec.security.rbac:
        return []
    rules = []
    for r in spec.security.rbac:
        rule: dict[str, Any] = {"apiGroups": list(r.api_groups), "resources": list(r.resources)}
        if r.resource_names:
            rule["resourceNames"] = list(r.resource_names)
        rules.append(rule | {"verbs": list(r.verbs)})
    subject: dict[str, Any] = {"kind": "ServiceAccount", "name": service_account_name(spec)}
    if spec.namespace:
        subject["namespace"] = spec.namespace
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(spec),
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(spec),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": spec.name},
            "subjects": [subject],
        },
    ]


def namespace(spec: AppSpec) -> dict[str, Any] | None:
    """The namespace, its Pod Security Standard enforced (and warned, audited) at the latest version."""
    level = spec.security.pod_security
    if not spec.namespace or level is None:
        return None
    psa = {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", level), ("-version", "latest"))
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": spec.namespace, "labels": {**psa, LABEL_MANAGED_BY: MANAGER}},
    }


# -- mTLS --------------------------------------------------------------------------


def tls_secret_name(spec: AppSpec) -> str:
    return f"{spec.name}-tls"


def spiffe_id(spec: AppSpec) -> str | None:
    if spec.tls is None or not spec.namespace:
        return None
    return f"spiffe://{spec.tls.trust_domain}/ns/{spec.namespace}/sa/{service_account_name(spec)}"


def certificate(spec: AppSpec) -> dict[str, Any] | None:
    """The pod's certificate: server and client auth (it calls others with it too), renewed early,
    a new private key on every renewal; the kubelet refreshes the mount, the runtime re-reads it."""
    tls = spec.tls
    if tls is None:
        return None
    body: dict[str, Any] = {
        "secretName": tls_secret_name(spec),
        "duration": tls.duration,
        "renewBefore": tls.renew_before,
        "commonName": service_dns_names(spec)[0],
        "dnsNames": service_dns_names(spec),
    }
    uri = spiffe_id(spec)
    if uri:
        body["uris"] = [uri]
    body |= {
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        "usages": ["digital signature", "key encipherment", "server auth", "client auth"],
        "issuerRef": {"name": tls.issuer, "kind": tls.issuer_kind, "group": "cert-manager.io"},
    }
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": metadata(spec, tls_secret_name(spec)),
        "spec": body,
    }


def tls_env(spec: AppSpec) -> list[dict[str, Any]]:
    if spec.tls is None:
        return []
    env = [
        {"name": ENV_TLS_CERT, "value": f"{TLS_DIR}/tls.crt"},
        {"name": ENV_TLS_KEY, "value": f"{TLS_DIR}/tls.key"},
    ]
    if spec.tls.mtls:
        env.append({"name": ENV_TLS_CLIENT_CA, "value": f"{TLS_DIR}/ca.crt"})
    if spec.tls.allow:
        allow = ",".join(f"{prefix}={who}" for prefix, ids in sorted(spec.tls.allow.items()) for who in ids)
        env.append({"name": ENV_MTLS_ALLOW, "value": allow})
    return env


def headers_env(spec: AppSpec) -> list[dict[str, Any]]:
    """The runtime's security headers, where the spec departs from their defaults."""
    h = spec.security.headers
    if not h.enabled:
        return [{"name": ENV_SECURITY_HEADERS, "value": "false"}]
    given = ((ENV_CSP, h.csp), (ENV_HSTS, h.hsts), (ENV_CACHE_CONTROL, h.cache_control))
    return [{"name": name, "value": value} for name, value in given if value is not None]
