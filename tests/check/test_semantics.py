"""Where kube-score's or kube-linter's meaning and kubeship's could differ: each decided, with a
fixture and the reason. A row names the situation, what kubeship reports (rule IDs), and why."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubeship.check import Options, check_documents, load_documents

# Reported for the fixtures below but beside the point of any row.
NOISE = {"KS113", "KS114", "KS108", "KS317", "KS226", "KS225", "KS319", "KS313"}


def workload(
    kind: str = "Deployment", replicas: int | None = 2, probes: bool = True, **extra: Any
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": "c", "image": "registry.example.com/w:1.0",
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}},
        "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True,
                            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }  # fmt: skip
    if probes:
        c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}
        c["readinessProbe"] = {"httpGet": {"path": "/readyz", "port": "http"}}
    c.update(extra.pop("container", {}))
    pod = {
        "containers": [c],
        "automountServiceAccountToken": False,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        **extra.pop("pod", {}),
    }
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "w"}},
        "template": {"metadata": {"labels": {"app": "w"}, **extra.pop("template_meta", {})}, "spec": pod},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "w"}, "spec": spec}


def policy(*types: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": {"matchLabels": {"app": "w"}}, "policyTypes": list(types)}
    if "Egress" in types:
        spec["egress"] = [{"ports": [{"port": 53, "protocol": "UDP"}]}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "w"},
        "spec": spec,
    }


def found(*objects: dict[str, Any]) -> set[str]:
    docs, findings = load_documents(yaml.safe_dump_all(objects), "x.yaml")
    findings += check_documents(docs, Options(external_refs=True))
    return {f.rule for f in findings} - NOISE


ISOLATED = policy("Ingress", "Egress")
SEC_ANNOTATION = {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}}
SOCK = {"volumes": [{"name": "d", "hostPath": {"path": "/var/run/docker.sock"}}]}
SOCK_MOUNT = {"volumeMounts": [{"name": "d", "mountPath": "/var/run/docker.sock", "readOnly": True}]}
ANTI = {"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
    {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                        "labelSelector": {"matchLabels": {"app": "nope"}}}}]}}}  # fmt: skip
PDB = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "w"},
       "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "w"}},
                "unhealthyPodEvictionPolicy": "AlwaysAllow"}}  # fmt: skip


def cronjob() -> dict[str, Any]:
    template = workload()["spec"]["template"]
    template["spec"]["restartPolicy"] = "Never"
    template["metadata"]["labels"] = {"app": "batch"}
    job = {"ttlSecondsAfterFinished": 60, "template": template}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "batch"},
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": job}}}  # fmt: skip


# (situation, objects, reported, why)
DECISIONS = [
    (
        "probes on a pod no Service targets",
        [workload(probes=False), ISOLATED],
        {"KS101", "KS102"},
        "kube-score skips readiness without a Service; kubeship does not: a Service, a Gateway or a "
        "Rollout's canary Service can arrive in another file, and the readiness probe is also what holds a "
        "rolling update (maxUnavailable counts ready pods)",
    ),
    (
        "seccomp only through the alpha annotation",
        [workload(pod={"securityContext": {}}, template_meta=SEC_ANNOTATION), ISOLATED],
        {"KS213"},
        "kube-score counts the annotation; the kubelet stopped reading it in Kubernetes 1.27 and check "
        "validates against 1.37: the pod runs Unconfined",
    ),
    (
        "requests set, no CPU limit",
        [workload(), ISOLATED],
        set(),
        "kube-score's 'all OK' wants limits too; a CPU limit only throttles, the memory limit is the one "
        "that protects neighbours (KS105 asks for it alone)",
    ),
    (
        "requests set, no memory limit",
        [workload(container={"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}), ISOLATED],
        {"KS105"},
        "memory is incompressible: without a limit one pod can OOM its node's neighbours",
    ),
    (
        "imagePullPolicy Never with a pinned tag",
        [workload(container={"imagePullPolicy": "Never"}), ISOLATED],
        {"KS107"},
        "a new node, or a pod rescheduled after an eviction, has no image: ErrImageNeverPull",
    ),
    (
        "no imagePullPolicy with a pinned tag",
        [workload(), ISOLATED],
        set(),
        "the API server defaults it to IfNotPresent for a non-latest tag: what you want",
    ),
    (
        "an ingress-only NetworkPolicy",
        [workload(), policy("Ingress")],
        {"KS315"},
        "kube-score's pod-networkpolicy wants both directions: isolated for ingress, the pods may still "
        "connect anywhere (exfiltration, lateral movement); a note, as KS315 is",
    ),
    (
        "a CronJob no NetworkPolicy selects",
        [cronjob(), ISOLATED],
        {"KS308"},
        "its pods answer no clients, so KS315 leaves Jobs and CronJobs alone (kube-linter too); the policy "
        "that selects only 'w' here is reported only because no 'w' pod is among these objects",
    ),
    (
        "a preferred anti-affinity whose selector matches nothing",
        [workload(pod=ANTI), ISOLATED],
        {"KS324"},
        "preferred or required, it spreads nothing: the replicas may all land on one node",
    ),
    (
        "a StatefulSet without replicas",
        [workload("StatefulSet", replicas=None), ISOLATED],
        {"KS111"},
        "the API server's default is 1 (kube-score counts it so too); with an HPA or a KEDA ScaledObject "
        "naming it, replicas are theirs and nothing is said",
    ),
    (
        "minAvailable equal to replicas",
        [workload(), PDB, ISOLATED],
        {"KS307"},
        "no voluntary eviction is ever allowed: node drains and cluster upgrades hang (kube-linter's "
        "pdb-min-available)",
    ),
    (
        "docker.sock mounted read-only",
        [workload(pod=SOCK, container=SOCK_MOUNT), ISOLATED],
        {"KS209"},
        "readOnly applies to the socket file, not to the Docker API behind it: the pod still controls the "
        "node's container runtime, which is root on the node (kube-linter's docker-sock, kube-score agree)",
    ),
]


@pytest.mark.parametrize(
    ("situation", "objects", "reported", "why"), DECISIONS, ids=[d[0] for d in DECISIONS]
)
def test_decision(situation: str, objects: list[dict[str, Any]], reported: set[str], why: str) -> None:
    assert why  # every row says why
    assert found(*objects) == reported


def test_a_scaled_workload_without_replicas_is_not_single() -> None:
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "w"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "w"},
                    "minReplicas": 2, "maxReplicas": 4,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                 "target": {"type": "Utilization", "averageUtilization": 50}}}]}}  # fmt: skip
    assert "KS111" not in found(workload("StatefulSet", replicas=None), hpa, ISOLATED)
    keda = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "w"},
        "spec": {
            "scaleTargetRef": {"name": "w"},
            "minReplicaCount": 2,
            "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "50"}}],
        },
    }
    assert "KS111" not in found(workload(replicas=None), keda, ISOLATED)
