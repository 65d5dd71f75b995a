"""Security rules: privilege, users, filesystems, capabilities, host access, secrets in env, seccomp,
sysctls."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kubeship.check.model import Document, Severity
from kubeship.check.rules.base import (
    DANGEROUS_CAPS,
    SECRET_NAME,
    WORKLOADS,
    Index,
    Path,
    container_path,
    pod_spec,
    pod_spec_path,
    register,
    service_account,
    workload_pods,
)
from kubeship.names import EXPOSED_SERVICE_RULE


def _security(pod: dict[str, Any], c: dict[str, Any], key: str) -> Any:
    """A container setting, falling back to the pod's securityContext."""
    value = (c.get("securityContext") or {}).get(key)
    return value if value is not None else (pod.get("securityContext") or {}).get(key)


@register(
    "KS201",
    "privileged",
    Severity.ERROR,
    "security",
    "A privileged container has the node's full power.",
    "remove securityContext.privileged, or add only the capability needed",
)
def privileged(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            if (c.get("securityContext") or {}).get("privileged") is True:
                yield f"container {c.get('name')!r} is privileged", container_path(doc, c)


@register(
    "KS202",
    "privilege-escalation",
    Severity.WARNING,
    "security",
    "allowPrivilegeEscalation is not false: setuid binaries can gain privileges.",
    "set securityContext.allowPrivilegeEscalation: false",
)
def privilege_escalation(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
                yield f"container {c.get('name')!r} allows privilege escalation", container_path(doc, c)


@register(
    "KS203",
    "run-as-root",
    Severity.ERROR,
    "security",
    "The container runs as root (runAsUser 0).",
    "run as a numeric non-root user: runAsUser: 10001, runAsNonRoot: true",
)
def run_as_root(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, cs in workload_pods(doc):
        for c in cs:
            if _security(pod, c, "runAsUser") == 0:
                yield f"container {c.get('name')!r} runs as user 0", container_path(doc, c)


@register(
    "KS204",
    "run-as-non-root-missing",
    Severity.WARNING,
    "security",
    "runAsNonRoot is not set: an image whose USER is root would run as root.",
    "set securityContext.runAsNonRoot: true on the pod or container",
)
def run_as_non_root(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, cs in workload_pods(doc):
        for c in cs:
            if _security(pod, c, "runAsNonRoot") is not True:
                yield f"container {c.get('name')!r} does not require a non-root user", container_path(doc, c)


@register(
    "KS205",
    "root-filesystem-writable",
    Severity.WARNING,
    "security",
    "A writable root filesystem lets an intruder change the container's binaries.",
    "set readOnlyRootFilesystem: true and mount an emptyDir at /tmp",
)
def writable_root(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
                yield f"container {c.get('name')!r} has a writable root filesystem", container_path(doc, c)


@register(
    "KS206",
    "capabilities-added",
    Severity.WARNING,
    "security",
    "Added Linux capabilities widen what the container may do to the node.",
    "drop: [ALL] and add back only what the process needs (usually nothing)",
)
def capabilities_added(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            added = ((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or []
            if added:
                danger = sorted(set(added) & DANGEROUS_CAPS)
                extra = f" (dangerous: {', '.join(danger)})" if danger else ""
                yield f"container {c.get('name')!r} adds {', '.join(added)}{extra}", container_path(doc, c)


@register(
    "KS207",
    "capabilities-not-dropped",
    Severity.INFO,
    "security",
    "The container keeps the runtime's default capabilities.",
    "set securityContext.capabilities.drop: [ALL]",
)
def capabilities_kept(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            dropped = ((c.get("securityContext") or {}).get("capabilities") or {}).get("drop") or []
            if "ALL" not in dropped:
                yield f"container {c.get('name')!r} does not drop ALL capabilities", container_path(doc, c)


@register(
    "KS208",
    "host-namespace",
    Severity.ERROR,
    "security",
    "hostNetwork, hostPID or hostIPC shares the node's namespaces with the pod.",
    "remove them; use a Service for networking",
)
def host_namespaces(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in workload_pods(doc):
        shared = [k for k in ("hostNetwork", "hostPID", "hostIPC") if pod.get(k) is True]
        if shared:
            yield f"pod uses {', '.join(shared)}", [*pod_spec_path(doc.obj.get("kind")), shared[0]]


@register(
    "KS209",
    "host-path",
    Severity.ERROR,
    "security",
    "A hostPath volume exposes the node's filesystem to the pod.",
    "use an emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim",
)
def host_path(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in workload_pods(doc):
        for i, vol in enumerate(pod.get("volumes") or []):
            if "hostPath" in vol:
                where = [*pod_spec_path(doc.obj.get("kind")), "volumes", i]
                yield f"volume {vol.get('name')!r} mounts host path {vol['hostPath'].get('path')!r}", where


@register(
    "KS210",
    "secret-in-env",
    Severity.ERROR,
    "security",
    "A secret-looking environment variable has a literal value in the manifest.",
    "move it to a Secret and use valueFrom.secretKeyRef",
)
def secret_in_env(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            for j, env in enumerate(c.get("env") or []):
                if SECRET_NAME.search(str(env.get("name", ""))) and env.get("value"):
                    message = f"container {c.get('name')!r} sets {env.get('name')} to a literal value"
                    yield message, [*container_path(doc, c), "env", j]


@register(
    "KS211",
    "service-account-token-mounted",
    Severity.WARNING,
    "security",
    "The pod mounts a service-account token it probably never uses: a stolen token talks to the API.",
    "set automountServiceAccountToken: false unless the app calls the Kubernetes API",
)
def sa_token(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    # A token is expected where the objects bind the pod's ServiceAccount to a role: it is used.
    bound = {
        (str(subject.get("namespace") or doc.namespace), str(subject.get("name")))
        for kind in ("RoleBinding", "ClusterRoleBinding")
        for doc in index.by_kind.get(kind, [])
        for subject in doc.obj.get("subjects") or []
        if isinstance(subject, dict) and subject.get("kind") == "ServiceAccount"
    }
    for doc in index.docs:
        for pod, _ in workload_pods(doc):
            account = service_account(pod)[0]
            if pod.get("automountServiceAccountToken") is not False and (doc.namespace, account) not in bound:
                yield (
                    doc,
                    "pod automounts a service-account token",
                    [*pod_spec_path(doc.obj.get("kind")), "automountServiceAccountToken"],
                )


@register(
    "KS212",
    "default-namespace",
    Severity.INFO,
    "security",
    "The object is placed in the default namespace explicitly.",
    "give the app its own namespace",
)
def default_namespace(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.namespace == "default":
        yield "object is in the default namespace"


@register(
    "KS213",
    "seccomp-missing",
    Severity.INFO,
    "security",
    "No seccomp profile: the container may make any system call.",
    "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
)
def seccomp(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, cs in workload_pods(doc):
        for c in cs:
            if not _security(pod, c, "seccompProfile"):
                message = f"container {c.get('name')!r} has no seccomp profile"
                if SECCOMP_ANNOTATION in (_template_annotations(doc) or {}):
                    message += f" (only the annotation {SECCOMP_ANNOTATION}, ignored since Kubernetes 1.27)"
                yield message, container_path(doc, c)


SECCOMP_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"  # replaced by the field in 1.19, gone in 1.27


def _template_annotations(doc: Document) -> dict[str, Any] | None:
    if doc.kind == "Pod":
        return (doc.obj.get("metadata") or {}).get("annotations")
    spec = doc.obj.get("spec") or {}
    if doc.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return ((spec.get("template") or {}).get("metadata") or {}).get("annotations")


# The sysctls the kubelet allows by default: namespaced and isolated from other pods (Kubernetes 1.29+).
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}


@register(
    "KS217",
    "unsafe-sysctls",
    Severity.ERROR,
    "security",
    "The pod sets a sysctl outside the safe set: the kubelet refuses to start it unless the node allows it, "
    "and then it can affect other pods.",
    "use only the safe sysctls, or tune the node (and allow the sysctl there with --allowed-unsafe-sysctls)",
)
def unsafe_sysctls(doc: Document) -> Iterator[str | tuple[str, Path]]:
    pod = pod_spec(doc.obj)
    if pod is None:
        return
    for i, sysctl in enumerate((pod.get("securityContext") or {}).get("sysctls") or []):
        name = str(sysctl.get("name", "")).replace("/", ".")
        if name not in SAFE_SYSCTLS:
            yield (
                f"sysctl {name!r} is not in the safe set",
                [*pod_spec_path(doc.kind), "securityContext", "sysctls", i],
            )


@register(
    "KS218",
    "secret-env-var",
    Severity.INFO,
    "security",
    "A Secret read into an environment variable: it leaks into child processes, crash dumps and `env` "
    "output, and never changes until the pod restarts.",
    "mount the Secret as files (readOnly) and read them; kubeship's runtime reloads them when they change",
)
def secret_env_var(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _pod, cs in workload_pods(doc):
        for c in cs:
            for e in c.get("env") or []:
                if isinstance(e, dict) and ((e.get("valueFrom") or {}).get("secretKeyRef")):
                    yield (
                        f"container {c.get('name')!r} reads a Secret into ${e.get('name')}",
                        container_path(doc, c),
                    )
            for source in c.get("envFrom") or []:
                if isinstance(source, dict) and source.get("secretRef"):
                    name = (source["secretRef"] or {}).get("name")
                    message = f"container {c.get('name')!r} reads every key of Secret {name!r} into its env"
                    yield message, container_path(doc, c)


@register(
    "KS219",
    "privileged-port",
    Severity.WARNING,
    "security",
    "A container port below 1024 needs root or NET_BIND_SERVICE to bind; port 22 means an SSH server in a "
    "container, a way in that bypasses the API's audit.",
    "listen on a port above 1024 (8080) and let the Service map 80 to it; reach pods with kubectl exec",
)
def privileged_port(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _pod, cs in workload_pods(doc):
        for c in cs:
            for port in c.get("ports") or []:
                number = port.get("containerPort") if isinstance(port, dict) else None
                if isinstance(number, int) and number == 22:
                    yield f"container {c.get('name')!r} exposes port 22 (SSH)", container_path(doc, c)
                elif isinstance(number, int) and 0 < number < 1024:
                    yield (
                        f"container {c.get('name')!r} listens on privileged port {number}",
                        container_path(doc, c),
                    )


@register(
    "KS220",
    "proc-mount-unmasked",
    Severity.ERROR,
    "security",
    "procMount: Unmasked exposes the host's /proc paths the runtime normally masks (kernel memory, keys).",
    "remove securityContext.procMount (Default masks them)",
)
def proc_mount(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _pod, cs in workload_pods(doc):
        for c in cs:
            if (c.get("securityContext") or {}).get("procMount") == "Unmasked":
                yield f"container {c.get('name')!r} has procMount: Unmasked", container_path(doc, c)


# IANA_SVC_NAME (RFC 6335), what the API server requires of a container port's name.
_SVC_NAME = re.compile(r"(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*")


@register(
    "KS222",
    "port-name-invalid",
    Severity.ERROR,
    "security",
    "A container port name, or a Service's named targetPort, that is not an IANA_SVC_NAME (at most 15 "
    "lower-case letters, digits and single inner hyphens, with a letter): the API server refuses it.",
    "rename the port, e.g. http, metrics, grpc-api (and the probes and Services that use the name)",
)
def port_name(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if (
        doc.kind == "Service"
    ):  # a named targetPort is the same kind of name (kube-linter's invalid-target-ports)
        for i, port in enumerate((doc.obj.get("spec") or {}).get("ports") or []):
            target = port.get("targetPort") if isinstance(port, dict) else None
            if isinstance(target, str) and not _SVC_NAME.fullmatch(target):
                yield f"targetPort {target!r} is not an IANA_SVC_NAME", ["spec", "ports", i, "targetPort"]
        return
    for _pod, cs in workload_pods(doc):
        for c in cs:
            for port in c.get("ports") or []:
                name = port.get("name") if isinstance(port, dict) else None
                if isinstance(name, str) and not _SVC_NAME.fullmatch(name):
                    yield (
                        f"container {c.get('name')!r} port name {name!r} is not an IANA_SVC_NAME",
                        container_path(doc, c),
                    )


@register(
    "KS225",
    "default-service-account",
    Severity.WARNING,
    "security",
    "The pods run as the namespace's default ServiceAccount: every workload there shares its identity and "
    "whatever a RoleBinding ever grants it.",
    "give the workload its own ServiceAccount (serviceAccountName), with automountServiceAccountToken: false",
)
def default_service_account(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind not in WORKLOADS:
        return
    pod = pod_spec(doc.obj)
    if pod is not None and service_account(pod)[0] == "default":
        yield "runs as the default ServiceAccount", pod_spec_path(doc.kind)


@register(
    EXPOSED_SERVICE_RULE,
    "service-exposed",
    Severity.INFO,
    "security",
    "A Service of type NodePort or LoadBalancer: reachable on every node's address or from outside the "
    "cluster, around the Ingress and its TLS and NetworkPolicies at the edge.",
    'use ClusterIP behind an Ingress; if the exposure is meant, say why: kubeship.io/ignore: "KS226: reason"',
)
def service_exposed(doc: Document) -> Iterator[str | tuple[str, Path]]:
    kind = (doc.obj.get("spec") or {}).get("type") if doc.kind == "Service" else None
    if kind in ("NodePort", "LoadBalancer"):
        yield f"type {kind}", ["spec", "type"]


@register(
    "KS227",
    "service-account-field-deprecated",
    Severity.WARNING,
    "security",
    "The pod names its ServiceAccount with the deprecated `serviceAccount` field: the API server copies it "
    "only when serviceAccountName is empty, so the two can silently disagree (kube-linter's "
    "deprecated-service-account-field).",
    "write serviceAccountName instead, and drop serviceAccount",
)
def service_account_field(doc: Document) -> Iterator[str | tuple[str, Path]]:
    pod = pod_spec(doc.obj)
    if pod is not None and pod.get("serviceAccount"):
        given = pod.get("serviceAccountName")
        if given and given != pod["serviceAccount"]:
            message = f"serviceAccount {pod['serviceAccount']!r} disagrees with serviceAccountName {given!r}"
        else:
            message = f"serviceAccount {pod['serviceAccount']!r}: a deprecated field"
        yield message, [*pod_spec_path(doc.kind), "serviceAccount"]
