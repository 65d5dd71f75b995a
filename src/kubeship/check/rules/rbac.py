"""RBAC rules: wildcards, cluster-admin, who may read Secrets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubeship.check.model import Document, Severity
from kubeship.check.rules.base import Path, register


@register(
    "KS214",
    "rbac-wildcard",
    Severity.WARNING,
    "security",
    "A Role or ClusterRole grants '*' (every verb, resource or API group): today's and tomorrow's.",
    "list the verbs and resources the app uses, e.g. verbs: [get, list, watch], resources: [configmaps]",
)
def rbac_wildcard(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for i, rule in _role_rules(doc):
        wild = [f for f in ("apiGroups", "resources", "verbs") if "*" in (rule.get(f) or [])]
        if wild:
            yield f"rules[{i}] grants '*' in {', '.join(wild)}", ["rules", i]


def _role_rules(doc: Document) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, rule) of an RBAC Role's or ClusterRole's rules."""
    if doc.kind in ("Role", "ClusterRole") and str(doc.obj.get("apiVersion", "")).startswith("rbac."):
        for i, rule in enumerate(doc.obj.get("rules") or []):
            if isinstance(rule, dict):
                yield i, rule


@register(
    "KS215",
    "cluster-admin-binding",
    Severity.ERROR,
    "security",
    "A binding grants cluster-admin: whoever holds the subject's token owns the cluster.",
    "bind a Role with only the permissions the app needs, in its own namespace",
)
def cluster_admin(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind not in ("RoleBinding", "ClusterRoleBinding"):
        return
    ref = doc.obj.get("roleRef") or {}
    if ref.get("kind") == "ClusterRole" and ref.get("name") == "cluster-admin":
        subjects = ", ".join(f"{s.get('kind')}/{s.get('name')}" for s in doc.obj.get("subjects") or [])
        yield f"binds cluster-admin to {subjects or 'no subject'}", ["roleRef"]


@register(
    "KS216",
    "secrets-access",
    Severity.WARNING,
    "security",
    "A Role or ClusterRole reads every Secret of its scope: the app's token becomes every credential.",
    "name the Secrets it needs (resourceNames) with verbs: [get], or mount them instead",
)
def secrets_access(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for i, rule in _role_rules(doc):
        resources, verbs = set(rule.get("resources") or []), set(rule.get("verbs") or [])
        if "*" in resources | verbs or "secrets" not in resources:
            continue  # a wildcard is KS214's
        if verbs & {"list", "watch"} or (verbs & {"get"} and not rule.get("resourceNames")):
            yield (
                f"rules[{i}] grants {', '.join(sorted(verbs & {'get', 'list', 'watch'}))} on secrets",
                ["rules", i],
            )


_POD_MAKERS = {"pods", "deployments", "replicasets", "jobs", "cronjobs", "daemonsets", "statefulsets"}


@register(
    "KS224",
    "rbac-create-pods-or-exec",
    Severity.WARNING,
    "security",
    "A Role or ClusterRole that can create pods (or the workloads that make them) or exec into them: "
    "whoever holds it can run anything as any ServiceAccount of the namespace.",
    "grant only the verbs the app needs; run one-off work as a Job created by CI, not by the app",
)
def rbac_create_pods(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for i, rule in _role_rules(doc):
        resources, verbs = set(rule.get("resources") or []), set(rule.get("verbs") or [])
        if "*" in resources | verbs:
            continue  # KS214 says it
        makers = resources & _POD_MAKERS
        if "create" in verbs and makers:
            yield f"rules[{i}] can create {', '.join(sorted(makers))}", ["rules", i]
        entry = resources & {"pods/exec", "pods/attach"}
        if verbs & {"create", "get"} and entry:
            yield f"rules[{i}] can exec into pods ({', '.join(sorted(entry))})", ["rules", i]
