"""The cluster side of "sensitive operations": an audit.k8s.io/v1 Policy for the API server.

Rules are matched in order, the first match decides. What they encode:
Secrets (and ConfigMaps, TokenReviews, token requests) only ever at Metadata:
their bodies are the secrets. Permission changes (RBAC) and deletions of
namespaces and volumes at RequestResponse: who changed what, to what. exec,
attach and port-forward at Metadata (the command is in the request URI; the
stream is not auditable). High-volume system reads are dropped; every other
write is kept at Metadata. The RequestReceived stage is omitted everywhere
(each request would be logged twice).
"""

from __future__ import annotations

from typing import Any

RETENTION_DAYS = 180  # MLPS 2.0: at least 180 days

_READS = ["get", "list", "watch"]
_WRITES = ["create", "update", "patch", "delete", "deletecollection"]


def policy() -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {  # system components' reads: millions a day, no security value
            "level": "None",
            "users": ["system:kube-proxy", "system:kube-scheduler", "system:kube-controller-manager"],
            "verbs": _READS,
        },
        {"level": "None", "userGroups": ["system:nodes"], "verbs": _READS},
        {"level": "None", "nonResourceURLs": ["/healthz*", "/livez*", "/readyz*", "/version", "/metrics"]},
        {"level": "None", "resources": [{"group": "", "resources": ["events"]}]},
        {  # bodies are the secret: never more than who/what/when
            "level": "Metadata",
            "resources": [
                {"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]},
                {"group": "authentication.k8s.io", "resources": ["tokenreviews"]},
            ],
        },
        {  # permission changes: the full before/after
            "level": "RequestResponse",
            "verbs": _WRITES,
            "resources": [
                {
                    "group": "rbac.authorization.k8s.io",
                    "resources": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
                }
            ],
        },
        {  # deleting a namespace or a volume deletes data
            "level": "RequestResponse",
            "verbs": ["delete", "deletecollection"],
            "resources": [
                {"group": "", "resources": ["namespaces", "persistentvolumes", "persistentvolumeclaims"]}
            ],
        },
        {
            "level": "Metadata",
            "resources": [{"group": "", "resources": ["pods/exec", "pods/attach", "pods/portforward"]}],
        },
        {"level": "Metadata", "verbs": _WRITES},  # every other change: who, what, when, result
        {"level": "None"},  # other reads
    ]
    return {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": rules,
    }


def apiserver_flags(policy_path: str = "/etc/kubernetes/audit-policy.yaml") -> list[str]:
    """kube-apiserver flags that apply the policy and keep the local log for `RETENTION_DAYS` days.

    The local log is the buffer, not the archive: ship it to the SIEM (which keeps
    it 180 days, independently of the cluster's admins) with --audit-webhook-config-file
    or a log shipper on the control-plane nodes."""
    return [
        f"--audit-policy-file={policy_path}",
        "--audit-log-path=/var/log/kubernetes/audit/audit.log",
        "--audit-log-format=json",
        f"--audit-log-maxage={RETENTION_DAYS}",
        "--audit-log-maxbackup=1000",
        "--audit-log-maxsize=100",
    ]
