"""The room every lint rule lives in: the Rule record and its registry, the helpers that read pod
templates and selectors, and the Index cross-resource rules query. The rules themselves are in the
family modules beside this one (reliability, security, rbac, cross_resource, argo)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from kubeship.check.model import Document, Severity

# The AWS load balancer controller's backend port meaning "the action in the annotation
# alb.ingress.kubernetes.io/actions.<service name>" (Argo Rollouts' ALB routing writes one).
ALB_ACTION_PORT = "use-annotation"


# Kinds with a pod template; an Argo Rollout is a Deployment with a delivery strategy.
# OpenShift's DeploymentConfig (apps.openshift.io/v1) is still how many enterprise manifests are written.
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Rollout"}
WORKLOADS |= {"DeploymentConfig"}


REPLICATED = {
    "Deployment",
    "StatefulSet",
    "Rollout",
    "DeploymentConfig",
}  # kinds whose replicas a user sets and an HPA scales


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


def register(
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
    ("KS008", "gitlab-ci-invalid", Severity.ERROR,
     "A GitLab CI file (.gitlab-ci.yml) does not match GitLab's published schema: GitLab would refuse "
     "the pipeline, or (a job named like a keyword) read it as something else.",
     "Fix the keyword at the line given; GitLab's CI/YAML reference lists what each takes."),
):  # fmt: skip
    RULES[_id] = Rule(_id, _name, _sev, "schema", _summary, _hint)


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


def service_account(pod: dict[str, Any]) -> tuple[str, str]:
    """(the pod's ServiceAccount, the field that names it): serviceAccountName, else the deprecated
    serviceAccount alias the API server copies into it, else the namespace's `default`."""
    for field in ("serviceAccountName", "serviceAccount"):
        name = pod.get(field)
        if isinstance(name, str) and name:
            return name, field
    return "default", "serviceAccountName"


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


def container_path(doc: Document, container: dict[str, Any]) -> Path:
    """The path of `container` (the very dict) in the object: where a finding about it points."""
    base = pod_spec_path(doc.obj.get("kind"))
    pod = pod_spec(doc.obj) or {}
    for key in ("containers", "initContainers"):
        for i, c in enumerate(pod.get(key) or []):
            if c is container:
                return [*base, key, i]
    return []


def workload_pods(doc: Document) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    pod = pod_spec(doc.obj)
    if pod is not None:
        yield pod, containers(pod)


def image_tag(image: str) -> str | None:
    if "@" in image:
        return "@digest"
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def replica_count(obj: dict[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas", 1)
    return value if isinstance(value, int) else 1


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
        self._scaled_names: set[tuple[str, str]] = set()  # (namespace, name) an HPA or ScaledObject names
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
                self._scaled_names.add((doc.namespace, str(ref.get("name"))))
            elif doc.kind == "ScaledObject" and str(doc.obj.get("apiVersion", "")).startswith("keda.sh/"):
                ref = (doc.obj.get("spec") or {}).get("scaleTargetRef") or {}  # KEDA makes the HPA
                self._scaled_names.add((doc.namespace, str(ref.get("name"))))
            if doc.kind in WORKLOADS:  # a CronJob's pods count too: policies and budgets select them
                entries = self._workloads.setdefault(doc.namespace, [])
                labels = pod_labels(doc.obj)
                for key, value in labels.items():  # as it is: equal keys are what `selects` finds equal
                    with contextlib.suppress(TypeError):  # an unhashable value: only a full scan finds it
                        self._by_label.setdefault((doc.namespace, key, value), []).append(len(entries))
                entries.append((doc, labels))

    def find(self, kind: str, name: str, namespace: str) -> Document | None:
        return self._by_name.get((kind, namespace, name))

    def scaler(self, workload: Document) -> Document | None:
        """The HPA whose scaleTargetRef is `workload` (the first one: two fight each other)."""
        return self._scaler.get((workload.kind, workload.namespace, workload.name))

    def scaled(self, workload: Document) -> bool:
        """An HPA scales it, or a KEDA ScaledObject that makes one. By name alone too: a Kustomize
        overlay that turns the Deployment into a Rollout patches the HPA's kind, which check does
        not apply."""
        return (workload.namespace, workload.name) in self._scaled_names

    def workloads(self, namespace: str) -> list[Document]:
        return [doc for doc, _ in self._workloads.get(namespace, [])]

    def selected(self, selector: dict[str, Any] | None, namespace: str) -> list[Document]:
        """Workloads whose pod template the label selector matches (via the label index)."""
        if not selector:
            return []
        entries = self._workloads.get(namespace, [])
        match = selector.get("matchLabels") or {}
        try:
            if not match or not all(isinstance(v, str) for v in match.values()):
                raise TypeError  # no labels to look up, or values the index may not hold: scan
            candidates: set[int] | None = None
            for key, value in match.items():
                hits = set(self._by_label.get((namespace, key, value), ()))
                candidates = hits if candidates is None else candidates & hits
                if not candidates:
                    return []
        except TypeError:
            return [doc for doc, labels in entries if selects(selector, labels)]
        pool = [entries[i] for i in sorted(candidates or ())]
        if not selector.get("matchExpressions") and set(selector) <= {"matchLabels", "matchExpressions"}:
            return [doc for doc, _ in pool]  # the index found exactly the pods the labels select
        return [doc for doc, labels in pool if selects(selector, labels)]
