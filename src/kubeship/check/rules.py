"""Lint rules: one function each, registered with an ID, a severity, a message and a fix hint.

Object rules look at one object; cross-resource rules look at the whole set
of objects checked together (what most linters skip): selectors that match
nothing, references to objects that are not there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from kubeship.check.model import Document, Severity

# The AWS load balancer controller's backend port meaning "the action in the annotation
# alb.ingress.kubernetes.io/actions.<service name>" (Argo Rollouts' ALB routing writes one).
ALB_ACTION_PORT = "use-annotation"
# Kinds with a pod template; an Argo Rollout is a Deployment with a delivery strategy.
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Rollout"}
REPLICATED = {"Deployment", "StatefulSet", "Rollout"}  # kinds whose replicas a user sets and an HPA scales
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)
DANGEROUS_CAPS = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "NET_RAW"}

Path = list[str | int]
# An object check yields a message, or (message, path of the field it is about) to point at its line.
ObjectCheck = Callable[[Document], Iterator[str | tuple[str, Path]]]
# A cross-resource check yields (object, message) or (object, message, path of the field).
CrossCheck = Callable[["Index"], Iterator[tuple[Document, str] | tuple[Document, str, Path]]]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    category: str
    summary: str
    hint: str
    check: ObjectCheck | None = None
    cross: CrossCheck | None = None


RULES: dict[str, Rule] = {}


F = TypeVar("F", bound=Callable[..., Any])


def _register(
    rule_id: str, name: str, severity: Severity, category: str, summary: str, hint: str
) -> Callable[[F], F]:
    def wrap(fn: F) -> F:
        cross = fn.__code__.co_varnames[:1] == ("index",)
        RULES[rule_id] = Rule(
            rule_id, name, severity, category, summary, hint, None if cross else fn, fn if cross else None
        )
        return fn

    return wrap


# Built-in IDs that are not rule functions (parsing and schema), for --explain and reports.
for _id, _name, _sev, _summary, _hint in (
    ("KS001", "yaml-invalid", Severity.ERROR,
     "The file is not valid YAML.", "Fix the syntax at the line given."),
    ("KS002", "schema-invalid", Severity.ERROR,
     "The object does not match the Kubernetes schema (strict).",
     "Fix the field named; unknown fields are errors because Kubernetes would drop them silently."),
    ("KS003", "schema-missing", Severity.INFO,
     "No schema for this apiVersion/kind: the object was not validated.",
     "A custom resource: its schema is not bundled; a removed API: use the current apiVersion."),
    ("KS004", "not-an-object", Severity.ERROR,
     "A document is not a Kubernetes object (no apiVersion or kind).",
     "Every document needs apiVersion and kind."),
    ("KS005", "api-removed", Severity.ERROR,
     "The apiVersion was removed in the target Kubernetes version: the API server rejects the object.",
     "Use the replacement apiVersion named in the finding (the fields may differ: check the schema)."),
    ("KS006", "api-deprecated", Severity.WARNING,
     "The apiVersion still works in the target version but is removed in a later one.",
     "Move to the replacement apiVersion before upgrading the cluster."),
    ("KS007", "input-limit", Severity.ERROR,
     "A document goes over an input limit (aliases expanding to millions of values, absurd nesting "
     "or size): it is not read, so a hostile file cannot exhaust memory or time.",
     "A genuine file: raise the limit named, e.g. KUBESHIP_INPUT_LIMITS=nodes=5000000,depth=200."),
):  # fmt: skip
    RULES[_id] = Rule(_id, _name, _sev, "schema", _summary, _hint)


# -- helpers -----------------------------------------------------------------------


def pod_spec_path(kind: object) -> Path:
    """Where a kind keeps its pod spec."""
    if kind == "Pod":
        return ["spec"]
    if kind == "CronJob":
        return ["spec", "jobTemplate", "spec", "template", "spec"]
    return ["spec", "template", "spec"]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj.get("spec") or {}
    if kind not in WORKLOADS:
        return None
    node: Any = obj
    for key in pod_spec_path(kind):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    if obj.get("kind") == "Pod":
        return dict((obj.get("metadata") or {}).get("labels") or {})
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return dict(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})


def containers(pod: dict[str, Any], init: bool = True) -> list[dict[str, Any]]:
    out = list(pod.get("containers") or [])
    if init:
        out += list(pod.get("initContainers") or [])
    return [c for c in out if isinstance(c, dict)]


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Label-selector semantics: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist)."""
    if not selector:
        return False
    match = selector.get("matchLabels", selector if "matchExpressions" not in selector else {}) or {}
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and labels.get(key) in values)
            or (op == "Exists" and key not in labels)
            or (op == "DoesNotExist" and key in labels)
        ):
            return False
    return bool(match) or bool(selector.get("matchExpressions"))


def _at(doc: Document, container: dict[str, Any]) -> Path:
    """The path of `container` (the very dict) in the object: where a finding about it points."""
    base = pod_spec_path(doc.obj.get("kind"))
    pod = pod_spec(doc.obj) or {}
    for key in ("containers", "initContainers"):
        for i, c in enumerate(pod.get(key) or []):
            if c is container:
                return [*base, key, i]
    return []


def _workload_pods(doc: Document) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    pod = pod_spec(doc.obj)
    if pod is not None:
        yield pod, containers(pod)


def _image_tag(image: str) -> str | None:
    if "@" in image:
        return "@digest"
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def _replicas(obj: dict[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas", 1)
    return value if isinstance(value, int) else 1


# -- reliability -----------------------------------------------------------------------


@_register(
    "KS101",
    "liveness-probe-missing",
    Severity.WARNING,
    "reliability",
    "A long-running container has no livenessProbe: a hung process is never restarted.",
    "add livenessProbe: {httpGet: {path: /healthz, port: http}}",
)
def liveness_missing(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind in ("Job", "CronJob"):
        return
    for pod, _ in _workload_pods(doc):
        for c in containers(pod, init=False):
            if "livenessProbe" not in c:
                yield f"container {c.get('name')!r} has no livenessProbe", _at(doc, c)


@_register(
    "KS102",
    "readiness-probe-missing",
    Severity.WARNING,
    "reliability",
    "A serving container has no readinessProbe: it gets traffic before it is ready and while it drains.",
    "add readinessProbe: {httpGet: {path: /readyz, port: http}}",
)
def readiness_missing(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind in ("Job", "CronJob", "DaemonSet"):
        return
    for pod, _ in _workload_pods(doc):
        for c in containers(pod, init=False):
            if "readinessProbe" not in c:
                yield f"container {c.get('name')!r} has no readinessProbe", _at(doc, c)


@_register(
    "KS103",
    "probe-port-unknown",
    Severity.ERROR,
    "reliability",
    "A probe targets a port the container does not declare: it will always fail.",
    "use a containerPort number or the name of one in ports[]",
)
def probe_port(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in _workload_pods(doc):
        for c in containers(pod, init=False):
            names = {p.get("name") for p in c.get("ports") or []}
            numbers = {p.get("containerPort") for p in c.get("ports") or []}
            for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
                probe = c.get(probe_name) or {}
                for handler in ("httpGet", "tcpSocket", "grpc"):
                    port = (probe.get(handler) or {}).get("port")
                    if port is None:
                        continue
                    if (isinstance(port, str) and port not in names) or (
                        isinstance(port, int) and numbers and port not in numbers
                    ):
                        name = c.get("name")
                        yield (
                            f"container {name!r} {probe_name} port {port!r} is not one of its ports",
                            _at(doc, c),
                        )


@_register(
    "KS104",
    "resource-requests-missing",
    Severity.WARNING,
    "reliability",
    "A container without CPU and memory requests: the scheduler packs blindly and the HPA cannot use it.",
    "set resources.requests.cpu and .memory",
)
def requests_missing(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            requests = (c.get("resources") or {}).get("requests") or {}
            missing = [r for r in ("cpu", "memory") if r not in requests]
            if missing:
                yield f"container {c.get('name')!r} has no {' or '.join(missing)} request", _at(doc, c)


@_register(
    "KS105",
    "memory-limit-missing",
    Severity.WARNING,
    "reliability",
    "A container without a memory limit can take the node's memory from its neighbours.",
    "set resources.limits.memory (a CPU limit is optional: it throttles)",
)
def memory_limit_missing(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            if "memory" not in ((c.get("resources") or {}).get("limits") or {}):
                yield f"container {c.get('name')!r} has no memory limit", _at(doc, c)


@_register(
    "KS106",
    "image-tag-unpinned",
    Severity.ERROR,
    "reliability",
    "An image with no tag or with `latest`: what runs changes without a change to the manifest.",
    "pin a version tag or a digest (image@sha256:...)",
)
def image_unpinned(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            image = str(c.get("image", ""))
            if _image_tag(image) in (None, "latest"):
                yield f"container {c.get('name')!r} image {image!r} is not pinned", _at(doc, c)


@_register(
    "KS107",
    "pull-policy-inconsistent",
    Severity.WARNING,
    "reliability",
    "imagePullPolicy contradicts the tag: Never/IfNotPresent with latest serves stale images.",
    "with a pinned tag use IfNotPresent; avoid latest altogether",
)
def pull_policy(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            tag = _image_tag(str(c.get("image", "")))
            policy = c.get("imagePullPolicy")
            if tag in (None, "latest") and policy in ("IfNotPresent", "Never"):
                yield f"container {c.get('name')!r} uses {policy} with an unpinned image", _at(doc, c)


@_register(
    "KS108",
    "spread-missing",
    Severity.WARNING,
    "reliability",
    "Several replicas with no topology spread or anti-affinity may all land on one node or zone.",
    "add topologySpreadConstraints on topology.kubernetes.io/zone and kubernetes.io/hostname",
)
def spread_missing(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind not in REPLICATED or _replicas(doc.obj) < 2:
        return
    pod = pod_spec(doc.obj) or {}
    affinity = (pod.get("affinity") or {}).get("podAntiAffinity")
    if not pod.get("topologySpreadConstraints") and not affinity:
        yield f"{_replicas(doc.obj)} replicas without topologySpreadConstraints or podAntiAffinity"


@_register(
    "KS109",
    "liveness-equals-readiness",
    Severity.WARNING,
    "reliability",
    "Identical liveness and readiness probes: a slow dependency restarts pods instead of draining them.",
    "point liveness at a cheap 'process alive' check (/healthz), readiness at dependencies (/readyz)",
)
def liveness_equals_readiness(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in _workload_pods(doc):
        for c in containers(pod, init=False):
            live, ready = c.get("livenessProbe"), c.get("readinessProbe")
            if live and ready and live == ready:
                yield f"container {c.get('name')!r} has the same liveness and readiness probe", _at(doc, c)


@_register(
    "KS110",
    "env-duplicate",
    Severity.ERROR,
    "reliability",
    "An environment variable set twice: only the last one counts, silently.",
    "remove one of them",
)
def env_duplicate(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            seen: set[str] = set()
            for env in c.get("env") or []:
                name = env.get("name")
                if name in seen:
                    yield f"container {c.get('name')!r} sets {name} twice", _at(doc, c)
                seen.add(name)


# -- security -------------------------------------------------------------------------


def _security(pod: dict[str, Any], c: dict[str, Any], key: str) -> Any:
    """A container setting, falling back to the pod's securityContext."""
    value = (c.get("securityContext") or {}).get(key)
    return value if value is not None else (pod.get("securityContext") or {}).get(key)


@_register(
    "KS201",
    "privileged",
    Severity.ERROR,
    "security",
    "A privileged container has the node's full power.",
    "remove securityContext.privileged, or add only the capability needed",
)
def privileged(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            if (c.get("securityContext") or {}).get("privileged") is True:
                yield f"container {c.get('name')!r} is privileged", _at(doc, c)


@_register(
    "KS202",
    "privilege-escalation",
    Severity.WARNING,
    "security",
    "allowPrivilegeEscalation is not false: setuid binaries can gain privileges.",
    "set securityContext.allowPrivilegeEscalation: false",
)
def privilege_escalation(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
                yield f"container {c.get('name')!r} allows privilege escalation", _at(doc, c)


@_register(
    "KS203",
    "run-as-root",
    Severity.ERROR,
    "security",
    "The container runs as root (runAsUser 0).",
    "run as a numeric non-root user: runAsUser: 10001, runAsNonRoot: true",
)
def run_as_root(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, cs in _workload_pods(doc):
        for c in cs:
            if _security(pod, c, "runAsUser") == 0:
                yield f"container {c.get('name')!r} runs as user 0", _at(doc, c)


@_register(
    "KS204",
    "run-as-non-root-missing",
    Severity.WARNING,
    "security",
    "runAsNonRoot is not set: an image whose USER is root would run as root.",
    "set securityContext.runAsNonRoot: true on the pod or container",
)
def run_as_non_root(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, cs in _workload_pods(doc):
        for c in cs:
            if _security(pod, c, "runAsNonRoot") is not True:
                yield f"container {c.get('name')!r} does not require a non-root user", _at(doc, c)


@_register(
    "KS205",
    "root-filesystem-writable",
    Severity.WARNING,
    "security",
    "A writable root filesystem lets an intruder change the container's binaries.",
    "set readOnlyRootFilesystem: true and mount an emptyDir at /tmp",
)
def writable_root(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
                yield f"container {c.get('name')!r} has a writable root filesystem", _at(doc, c)


@_register(
    "KS206",
    "capabilities-added",
    Severity.WARNING,
    "security",
    "Added Linux capabilities widen what the container may do to the node.",
    "drop: [ALL] and add back only what the process needs (usually nothing)",
)
def capabilities_added(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            added = ((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or []
            if added:
                danger = sorted(set(added) & DANGEROUS_CAPS)
                extra = f" (dangerous: {', '.join(danger)})" if danger else ""
                yield f"container {c.get('name')!r} adds {', '.join(added)}{extra}", _at(doc, c)


@_register(
    "KS207",
    "capabilities-not-dropped",
    Severity.INFO,
    "security",
    "The container keeps the runtime's default capabilities.",
    "set securityContext.capabilities.drop: [ALL]",
)
def capabilities_kept(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            dropped = ((c.get("securityContext") or {}).get("capabilities") or {}).get("drop") or []
            if "ALL" not in dropped:
                yield f"container {c.get('name')!r} does not drop ALL capabilities", _at(doc, c)


@_register(
    "KS208",
    "host-namespace",
    Severity.ERROR,
    "security",
    "hostNetwork, hostPID or hostIPC shares the node's namespaces with the pod.",
    "remove them; use a Service for networking",
)
def host_namespaces(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in _workload_pods(doc):
        shared = [k for k in ("hostNetwork", "hostPID", "hostIPC") if pod.get(k) is True]
        if shared:
            yield f"pod uses {', '.join(shared)}", [*pod_spec_path(doc.obj.get("kind")), shared[0]]


@_register(
    "KS209",
    "host-path",
    Severity.ERROR,
    "security",
    "A hostPath volume exposes the node's filesystem to the pod.",
    "use an emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim",
)
def host_path(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in _workload_pods(doc):
        for i, vol in enumerate(pod.get("volumes") or []):
            if "hostPath" in vol:
                where = [*pod_spec_path(doc.obj.get("kind")), "volumes", i]
                yield f"volume {vol.get('name')!r} mounts host path {vol['hostPath'].get('path')!r}", where


@_register(
    "KS210",
    "secret-in-env",
    Severity.ERROR,
    "security",
    "A secret-looking environment variable has a literal value in the manifest.",
    "move it to a Secret and use valueFrom.secretKeyRef",
)
def secret_in_env(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in _workload_pods(doc):
        for c in cs:
            for j, env in enumerate(c.get("env") or []):
                if SECRET_NAME.search(str(env.get("name", ""))) and env.get("value"):
                    message = f"container {c.get('name')!r} sets {env.get('name')} to a literal value"
                    yield message, [*_at(doc, c), "env", j]


@_register(
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
        for pod, _ in _workload_pods(doc):
            account = str(pod.get("serviceAccountName") or "default")
            if pod.get("automountServiceAccountToken") is not False and (doc.namespace, account) not in bound:
                yield (
                    doc,
                    "pod automounts a service-account token",
                    [*pod_spec_path(doc.obj.get("kind")), "automountServiceAccountToken"],
                )


@_register(
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


@_register(
    "KS213",
    "seccomp-missing",
    Severity.INFO,
    "security",
    "No seccomp profile: the container may make any system call.",
    "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
)
def seccomp(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, cs in _workload_pods(doc):
        for c in cs:
            if not _security(pod, c, "seccompProfile"):
                yield f"container {c.get('name')!r} has no seccomp profile", _at(doc, c)


@_register(
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


@_register(
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


# -- cross-resource ------------------------------------------------------------------------


class Index:
    """All objects checked together, indexed so cross-resource rules stay linear in the input."""

    def __init__(self, docs: list[Document], external_refs: bool = False) -> None:
        self.docs = docs
        self.external_refs = external_refs
        self.by_kind: dict[str, list[Document]] = {}
        self._by_name: dict[tuple[str, str, str], Document] = {}
        self._workloads: dict[str, list[tuple[Document, dict[str, str]]]] = {}
        self._by_label: dict[
            tuple[str, str, str], list[int]
        ] = {}  # (namespace, key, value) → workload positions
        self._scaler: dict[tuple[str, str, str], Document] = {}  # (kind, namespace, name) → its HPA
        for doc in docs:
            self.by_kind.setdefault(doc.kind, []).append(doc)
            self._by_name.setdefault((doc.kind, doc.namespace, doc.name), doc)
            if doc.kind == "Certificate" and str(doc.obj.get("apiVersion", "")).startswith(
                "cert-manager.io/"
            ):
                made = (doc.obj.get("spec") or {}).get("secretName")  # cert-manager writes this Secret
                self._by_name.setdefault(("Secret", doc.namespace, str(made)), doc)
            if doc.kind == "HorizontalPodAutoscaler":
                ref = (doc.obj.get("spec") or {}).get("scaleTargetRef") or {}
                self._scaler.setdefault((str(ref.get("kind")), doc.namespace, str(ref.get("name"))), doc)
            if doc.kind in WORKLOADS and doc.kind != "CronJob":
                entries = self._workloads.setdefault(doc.namespace, [])
                labels = pod_labels(doc.obj)
                for key, value in labels.items():
                    self._by_label.setdefault((doc.namespace, key, str(value)), []).append(len(entries))
                entries.append((doc, labels))

    def find(self, kind: str, name: str, namespace: str) -> Document | None:
        return self._by_name.get((kind, namespace, name))

    def scaler(self, workload: Document) -> Document | None:
        """The HPA whose scaleTargetRef is `workload` (the first one: two fight each other)."""
        return self._scaler.get((workload.kind, workload.namespace, workload.name))

    def workloads(self, namespace: str) -> list[Document]:
        return [doc for doc, _ in self._workloads.get(namespace, [])]

    def selected(self, selector: dict[str, Any] | None, namespace: str) -> list[Document]:
        """Workloads whose pod template the label selector matches (via the label index)."""
        if not selector:
            return []
        entries = self._workloads.get(namespace, [])
        match = selector.get("matchLabels") or {}
        if match:
            candidates: set[int] | None = None
            for key, value in match.items():
                hits = set(self._by_label.get((namespace, key, str(value)), ()))
                candidates = hits if candidates is None else candidates & hits
                if not candidates:
                    return []
            pool = [entries[i] for i in sorted(candidates or ())]
        else:
            pool = entries
        return [doc for doc, labels in pool if selects(selector, labels)]


@_register(
    "KS301",
    "service-selects-nothing",
    Severity.ERROR,
    "cross-resource",
    "The Service's selector matches no pod template among the objects checked: it routes nowhere.",
    "make spec.selector a subset of the workload's pod template labels",
)
def service_selects_nothing(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for svc in index.by_kind.get("Service", []):
        selector = (svc.obj.get("spec") or {}).get("selector")
        if not selector or (svc.obj.get("spec") or {}).get("type") == "ExternalName":
            continue
        if not index.selected({"matchLabels": selector}, svc.namespace):
            yield svc, f"selector {selector} matches no pod template", ["spec", "selector"]


@_register(
    "KS302",
    "ingress-backend-missing",
    Severity.ERROR,
    "cross-resource",
    "An Ingress backend names a Service, or a Service port, that is not there.",
    "fix backend.service.name / port to an existing Service and one of its ports",
)
def ingress_backend(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for ing in index.by_kind.get("Ingress", []):
        spec = ing.obj.get("spec") or {}
        backends: list[tuple[Any, Path]] = []  # (backend, where it is)
        if spec.get("defaultBackend"):
            backends.append((spec["defaultBackend"], ["spec", "defaultBackend"]))
        for i, rule in enumerate(spec.get("rules") or []):
            for j, p in enumerate((rule.get("http") or {}).get("paths") or []):
                backends.append((p.get("backend"), ["spec", "rules", i, "http", "paths", j, "backend"]))
        annotations = (ing.obj.get("metadata") or {}).get("annotations") or {}
        for backend, where in backends:
            service = (backend or {}).get("service") or {}
            if not service:
                continue
            port = service.get("port") or {}
            action = port.get("name") == ALB_ACTION_PORT
            if action and any(k.endswith(f"/actions.{service.get('name')}") for k in annotations):
                continue  # the AWS load balancer controller's action, named after its annotation
            target = index.find("Service", str(service.get("name")), ing.namespace)
            if target is None:
                message = f"backend Service {service.get('name')!r} is not among the objects"
                if action:
                    message += (
                        f" (port {ALB_ACTION_PORT!r}: nor is an annotation "
                        f"alb.ingress.kubernetes.io/actions.{service.get('name')} on the Ingress)"
                    )
                yield ing, message, where
                continue
            if action:
                continue  # an Argo Rollouts ALB Ingress: the controller writes the action at run time
            ports = (target.obj.get("spec") or {}).get("ports") or []
            if "name" in port and port["name"] not in {p.get("name") for p in ports}:
                yield ing, f"Service {target.name!r} has no port named {port['name']!r}", where
            if "number" in port and port["number"] not in {p.get("port") for p in ports}:
                yield ing, f"Service {target.name!r} has no port {port['number']}", where


@_register(
    "KS303",
    "hpa-target-missing",
    Severity.ERROR,
    "cross-resource",
    "The HPA's scaleTargetRef names a workload that is not there.",
    "fix scaleTargetRef kind/name",
)
def hpa_target(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for hpa in index.by_kind.get("HorizontalPodAutoscaler", []):
        ref = (hpa.obj.get("spec") or {}).get("scaleTargetRef") or {}
        if index.find(str(ref.get("kind")), str(ref.get("name")), hpa.namespace) is None:
            message = f"scaleTargetRef {ref.get('kind')}/{ref.get('name')} is not among the objects"
            yield hpa, message, ["spec", "scaleTargetRef"]


@_register(
    "KS304",
    "hpa-resource-without-request",
    Severity.ERROR,
    "cross-resource",
    "The HPA scales on CPU or memory utilization, but a container has no request for it: "
    "the HPA cannot compute utilization and will not scale.",
    "set resources.requests for that resource on every container",
)
def hpa_without_request(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for hpa in index.by_kind.get("HorizontalPodAutoscaler", []):
        spec = hpa.obj.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        target = index.find(str(ref.get("kind")), str(ref.get("name")), hpa.namespace)
        if target is None:
            continue
        pod = pod_spec(target.obj) or {}
        for m, metric in enumerate(spec.get("metrics") or []):
            if metric.get("type") != "Resource":
                continue
            resource = (metric.get("resource") or {}).get("name")
            if ((metric.get("resource") or {}).get("target") or {}).get("type") != "Utilization":
                continue
            for c in containers(pod, init=False):
                if resource not in ((c.get("resources") or {}).get("requests") or {}):
                    name = c.get("name")
                    message = (
                        f"scales on {resource} utilization but container {name!r} requests no {resource}"
                    )
                    yield hpa, message, ["spec", "metrics", m]


@_register(
    "KS305",
    "reference-missing",
    Severity.ERROR,
    "cross-resource",
    "A pod references a ConfigMap or Secret that is not among the objects: it will not start.",
    "add the object, mark the reference optional, or pass --external-refs if it exists in the cluster",
)
def reference_missing(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    if index.external_refs:
        return
    for doc in index.docs:
        pod = pod_spec(doc.obj)
        if pod is None:
            continue
        for kind, name, optional, where in _references(pod):
            if not optional and index.find(kind, name, doc.namespace) is None:
                yield (
                    doc,
                    f"{kind} {name!r} is referenced but not among the objects",
                    [*pod_spec_path(doc.obj.get("kind")), *where],
                )


def _references(pod: dict[str, Any]) -> Iterator[tuple[str, str, bool, Path]]:
    """(kind, name, optional, path in the pod spec) of every ConfigMap and Secret the pod uses."""
    for i, vol in enumerate(pod.get("volumes") or []):
        here: Path = ["volumes", i]
        if "configMap" in vol:
            yield "ConfigMap", vol["configMap"].get("name"), bool(vol["configMap"].get("optional")), here
        if "secret" in vol:
            yield "Secret", vol["secret"].get("secretName"), bool(vol["secret"].get("optional")), here
        for j, source in enumerate((vol.get("projected") or {}).get("sources") or []):
            there: Path = [*here, "projected", "sources", j]
            for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                if key in source:
                    yield kind, source[key].get("name"), bool(source[key].get("optional")), there
    for group in ("containers", "initContainers"):
        for ci, c in enumerate(pod.get(group) or []):
            if not isinstance(c, dict):
                continue
            for ei, env in enumerate(c.get("env") or []):
                value_from = env.get("valueFrom") or {}
                for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    if key in value_from:
                        ref = value_from[key]
                        yield kind, ref.get("name"), bool(ref.get("optional")), [group, ci, "env", ei]
            for si, source in enumerate(c.get("envFrom") or []):
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if key in source:
                        ref = source[key]
                        yield kind, ref.get("name"), bool(ref.get("optional")), [group, ci, "envFrom", si]


@_register(
    "KS306",
    "pdb-selects-nothing",
    Severity.ERROR,
    "cross-resource",
    "The PodDisruptionBudget's selector matches no pod template: it protects nothing.",
    "make spec.selector match the workload's pod labels",
)
def pdb_selects_nothing(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for pdb in index.by_kind.get("PodDisruptionBudget", []):
        selector = (pdb.obj.get("spec") or {}).get("selector")
        if not index.selected(selector, pdb.namespace):
            yield pdb, "selector matches no pod template"


@_register(
    "KS307",
    "pdb-blocks-eviction",
    Severity.ERROR,
    "cross-resource",
    "The PodDisruptionBudget allows no disruption for its workload's replicas: node drains hang.",
    "use maxUnavailable: 1, or run at least minAvailable + 1 replicas",
)
def pdb_blocks(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for pdb in index.by_kind.get("PodDisruptionBudget", []):
        spec = pdb.obj.get("spec") or {}
        for w in index.selected(spec.get("selector"), pdb.namespace):
            if w.kind not in REPLICATED:
                continue
            replicas = _replicas(w.obj)
            hpa_min = _hpa_min(index, w)
            least = hpa_min if hpa_min is not None else replicas
            if spec.get("maxUnavailable") in (0, "0%") or (
                isinstance(spec.get("minAvailable"), int) and spec["minAvailable"] >= least
            ):
                yield pdb, f"with {least} replica(s) of {w.ref} no pod may ever be evicted"


def _hpa_min(index: Index, workload: Document) -> int | None:
    hpa = index.scaler(workload)
    if hpa is None:
        return None
    value = (hpa.obj.get("spec") or {}).get("minReplicas", 1)
    return value if isinstance(value, int) else 1


@_register(
    "KS308",
    "networkpolicy-selects-nothing",
    Severity.WARNING,
    "cross-resource",
    "The NetworkPolicy's podSelector matches no pod template among the objects.",
    "match the workload's pod labels (an empty podSelector selects every pod)",
)
def netpol_selects_nothing(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for pol in index.by_kind.get("NetworkPolicy", []):
        selector = (pol.obj.get("spec") or {}).get("podSelector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            continue  # {} selects all pods of the namespace
        if not index.selected(selector, pol.namespace):
            yield pol, "podSelector matches no pod template"


@_register(
    "KS309",
    "duplicate-object",
    Severity.ERROR,
    "cross-resource",
    "Two objects with the same kind, namespace and name: the second overwrites the first.",
    "rename or remove one",
)
def duplicates(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    seen: dict[tuple[str, str, str, str], Document] = {}
    for doc in index.docs:
        if not doc.name:  # generateName: the API server makes each name unique
            continue
        key = (str(doc.obj.get("apiVersion", "")).split("/")[0], doc.kind, doc.namespace, doc.name)
        if key in seen:
            first = seen[key]
            yield doc, f"same as {first.file}:{first.line}"
        else:
            seen[key] = doc


@_register(
    "KS310",
    "selector-template-mismatch",
    Severity.ERROR,
    "cross-resource",
    "The workload's selector does not match its own pod template labels: the API server rejects it.",
    "make spec.selector.matchLabels a subset of spec.template.metadata.labels",
)
def selector_mismatch(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for doc in index.docs:
        if doc.kind not in (*REPLICATED, "DaemonSet", "ReplicaSet"):
            continue
        selector = (doc.obj.get("spec") or {}).get("selector")
        if selector and not selects(selector, pod_labels(doc.obj)):
            message = f"selector {selector.get('matchLabels', selector)} does not match the template labels"
            yield doc, message, ["spec", "selector"]


@_register(
    "KS311",
    "service-target-port-unknown",
    Severity.ERROR,
    "cross-resource",
    "A Service's named targetPort is not a port name of the pods it selects: traffic goes nowhere.",
    "name the container port (ports[].name) or use the port number",
)
def service_target_port(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for svc in index.by_kind.get("Service", []):
        spec = svc.obj.get("spec") or {}
        selector = spec.get("selector")
        if not selector:
            continue
        pods = index.selected({"matchLabels": selector}, svc.namespace)
        if not pods:
            continue  # KS301 reports it
        names = {
            p.get("name")
            for w in pods
            for c in containers(pod_spec(w.obj) or {}, init=False)
            for p in c.get("ports") or []
        }
        for port in spec.get("ports") or []:
            target = port.get("targetPort")
            if isinstance(target, str) and target not in names:
                yield svc, f"targetPort {target!r} is not a port name of the selected pods", ["spec", "ports"]


@_register(
    "KS312",
    "ingress-tls-secret-missing",
    Severity.WARNING,
    "cross-resource",
    "An Ingress TLS secretName is not among the objects: the controller serves a default certificate.",
    "annotate the Ingress for cert-manager (cert-manager.io/cluster-issuer), create the Secret, "
    "or pass --external-refs if it exists in the cluster",
)
def ingress_tls(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    if index.external_refs:
        return
    for ing in index.by_kind.get("Ingress", []):
        annotations = (ing.obj.get("metadata") or {}).get("annotations") or {}
        if any(key.startswith("cert-manager.io/") for key in annotations):
            continue  # cert-manager's ingress-shim creates the Secret
        for tls in (ing.obj.get("spec") or {}).get("tls") or []:
            name = tls.get("secretName")
            if name and index.find("Secret", name, ing.namespace) is None:
                yield ing, f"TLS Secret {name!r} is not among the objects", ["spec", "tls"]


@_register(
    "KS314",
    "rollout-reference-missing",
    Severity.ERROR,
    "cross-resource",
    "An Argo Rollout names a Service, Ingress or analysis template that is not among the objects: "
    "the rollout stalls at that step.",
    "add the object, or fix the name in the Rollout's strategy",
)
def rollout_refs(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for ro in index.by_kind.get("Rollout", []):
        strategy = (ro.obj.get("spec") or {}).get("strategy") or {}
        for kind, name, where in _rollout_references(strategy):
            if (
                isinstance(name, str)
                and index.find(kind, name, "" if kind.startswith("Cluster") else ro.namespace) is None
            ):
                yield ro, f"{kind} {name!r} is not among the objects", ["spec", "strategy", *where]


def _rollout_references(strategy: dict[str, Any]) -> Iterator[tuple[str, Any, Path]]:
    """(kind, name, path under spec.strategy) of the objects a Rollout's strategy works through."""
    for style, fields in (
        ("canary", ("canaryService", "stableService")),
        ("blueGreen", ("activeService", "previewService")),
    ):
        block = strategy.get(style) or {}
        for field in fields:
            if field in block:
                yield "Service", block[field], [style, field]
        routing = block.get("trafficRouting") or {}
        nginx, alb = routing.get("nginx") or {}, routing.get("alb") or {}
        for router, key in ((nginx, "stableIngress"), (alb, "ingress")):
            if key in router:
                yield (
                    "Ingress",
                    router[key],
                    [style, "trafficRouting", "nginx" if router is nginx else "alb", key],
                )
        for router, key in ((nginx, "stableIngresses"), (alb, "ingresses")):
            for name in router.get(key) or []:
                yield "Ingress", name, [style, "trafficRouting", "nginx" if router is nginx else "alb", key]
        if "rootService" in alb:
            yield "Service", alb["rootService"], [style, "trafficRouting", "alb", "rootService"]
        for key in ("pingService", "pongService"):
            if key in (block.get("pingPong") or {}):
                yield "Service", block["pingPong"][key], [style, "pingPong", key]
        analyses: list[tuple[Path, Any]] = [
            ([style, key], block.get(key))
            for key in ("analysis", "prePromotionAnalysis", "postPromotionAnalysis")
        ]
        analyses += [
            ([style, "steps", i], step.get("analysis")) for i, step in enumerate(block.get("steps") or [])
        ]
        for where, analysis in analyses:
            for template in (analysis or {}).get("templates") or []:
                kind = "ClusterAnalysisTemplate" if template.get("clusterScope") else "AnalysisTemplate"
                yield kind, template.get("templateName"), where


@_register(
    "KS313",
    "replicas-with-hpa",
    Severity.WARNING,
    "cross-resource",
    "The workload sets spec.replicas while an HPA scales it: every `kubectl apply` resets the replica count.",
    "remove spec.replicas from the workload and let the HPA own it",
)
def replicas_with_hpa(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for hpa in index.by_kind.get("HorizontalPodAutoscaler", []):
        ref = (hpa.obj.get("spec") or {}).get("scaleTargetRef") or {}
        target = index.find(str(ref.get("kind")), str(ref.get("name")), hpa.namespace)
        if target is not None and "replicas" in (target.obj.get("spec") or {}):
            message = f"spec.replicas is set but HorizontalPodAutoscaler {hpa.name!r} scales it"
            yield target, message, ["spec", "replicas"]


@_register(
    "KS111",
    "single-replica",
    Severity.INFO,
    "reliability",
    "One replica and no HPA: every rollout, node drain or crash is an outage.",
    "run at least 2 replicas (or an HPA with minReplicas 2)",
)
def single_replica(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind in REPLICATED and (doc.obj.get("spec") or {}).get("replicas") == 1:
        yield "replicas: 1"


@_register(
    "KS112",
    "job-ttl-missing",
    Severity.INFO,
    "reliability",
    "A Job without ttlSecondsAfterFinished: it and its pods stay after it ends until someone deletes them.",
    "set spec.ttlSecondsAfterFinished (a CronJob's jobs are pruned by its history limits instead)",
)
def job_ttl(doc: Document) -> Iterator[str | tuple[str, Path]]:
    spec = doc.obj.get("spec") or {}
    if doc.kind == "Job" and "ttlSecondsAfterFinished" not in spec:
        yield "no ttlSecondsAfterFinished", ["spec"]


@_register(
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


@_register(
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


@_register(
    "KS315",
    "pod-not-isolated",
    Severity.INFO,
    "cross-resource",
    "No NetworkPolicy selects the workload's pods: any pod in the cluster can reach them.",
    "add a NetworkPolicy that selects the pods and allows only their clients",
)
def not_isolated(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    covered: set[int] = set()
    everything: set[str] = set()  # namespaces with a policy selecting all their pods
    for pol in index.by_kind.get("NetworkPolicy", []):
        selector = (pol.obj.get("spec") or {}).get("podSelector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            everything.add(pol.namespace)
        covered |= {id(w) for w in index.selected(selector, pol.namespace)}
    for namespace in {doc.namespace for doc in index.docs}:
        if namespace in everything:
            continue
        for workload in index.workloads(namespace):
            if id(workload) not in covered and workload.kind != "Job":  # a Job has no clients to fence
                yield workload, "no NetworkPolicy selects its pods"


from kubeship.check import argo as _argo  # noqa: E402, F401  (registers the Argo Rollouts rules)


@_register(
    "KS316",
    "hpa-pods-metric-from-exporter",
    Severity.WARNING,
    "cross-resource",
    "An HPA scales on a Pods metric that a standard exporter serves (kafka_consumergroup_lag, "
    "redis_*, pg_*...): its series carry the exporter's pod, never the workload's, so the HPA gets "
    "nothing back (FailedGetPodsMetric) and never scales on it.",
    "make it an External metric with an AverageValue target (the total over the pods), and serve it "
    "with an externalRules entry of the Prometheus Adapter",
)
def hpa_pods_metric_from_exporter(
    index: Index,
) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    from kubeship.names import exporter_metric_fix, exporter_of

    adapters = {  # metric → the ConfigMap whose per-pod adapter rule serves it
        m.group(1): cm.name
        for cm in index.by_kind.get("ConfigMap", [])
        for text in ((cm.obj.get("data") or {}).get("config.yaml", ""),)
        if isinstance(text, str) and "seriesQuery" in text
        for m in re.finditer(r'seriesQuery:\s*[\'"]?([A-Za-z_:][A-Za-z0-9_:]*)\{[^}]*pod!=""', text)
    }
    for hpa in index.by_kind.get("HorizontalPodAutoscaler", []):
        for i, metric in enumerate((hpa.obj.get("spec") or {}).get("metrics") or []):
            if not isinstance(metric, dict) or metric.get("type") != "Pods":
                continue
            name = str(((metric.get("pods") or {}).get("metric") or {}).get("name", ""))
            exporter = exporter_of(name)
            if exporter is None:
                continue
            message = exporter_metric_fix(name, exporter)
            if name in adapters:
                message += f" (the Prometheus Adapter rule in ConfigMap {adapters[name]!r} maps it per pod)"
            yield hpa, message, ["spec", "metrics", i]
