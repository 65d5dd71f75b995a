"""Reliability rules: probes, requests and limits, pinned images, spread, replicas, jobs that clean up."""

from __future__ import annotations

from collections.abc import Iterator

from kubeship.check.model import Document, Severity
from kubeship.check.rules.base import (
    REPLICATED,
    Index,
    Path,
    container_path,
    containers,
    image_tag,
    pod_spec,
    register,
    replica_count,
    workload_pods,
)
from kubeship.names import ANNOTATION_SITE_FAILOVER_REPLICAS


@register(
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
    for pod, _ in workload_pods(doc):
        for c in containers(pod, init=False):
            if "livenessProbe" not in c:
                yield f"container {c.get('name')!r} has no livenessProbe", container_path(doc, c)


@register(
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
    for pod, _ in workload_pods(doc):
        for c in containers(pod, init=False):
            if "readinessProbe" not in c:
                yield f"container {c.get('name')!r} has no readinessProbe", container_path(doc, c)


@register(
    "KS103",
    "probe-port-unknown",
    Severity.ERROR,
    "reliability",
    "A probe targets a port the container does not declare: it will always fail.",
    "use a containerPort number or the name of one in ports[]",
)
def probe_port(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in workload_pods(doc):
        for c in containers(pod, init=False):
            names = {p.get("name") for p in c.get("ports") or []}
            numbers = {p.get("containerPort") for p in c.get("ports") or []}
            udp = {
                p.get(k)
                for p in c.get("ports") or []
                if p.get("protocol") == "UDP"
                for k in ("name", "containerPort")
            }
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
                            container_path(doc, c),
                        )
                    elif port in udp and handler in ("httpGet", "tcpSocket", "grpc"):
                        # probes speak TCP: against a UDP port they never succeed
                        message = (
                            f"container {c.get('name')!r} {probe_name} probes UDP port {port!r} over TCP"
                        )
                        yield message, container_path(doc, c)


@register(
    "KS104",
    "resource-requests-missing",
    Severity.WARNING,
    "reliability",
    "A container without CPU and memory requests: the scheduler packs blindly and the HPA cannot use it.",
    "set resources.requests.cpu and .memory",
)
def requests_missing(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            requests = (c.get("resources") or {}).get("requests") or {}
            missing = [r for r in ("cpu", "memory") if r not in requests]
            if missing:
                yield (
                    f"container {c.get('name')!r} has no {' or '.join(missing)} request",
                    container_path(doc, c),
                )


@register(
    "KS105",
    "memory-limit-missing",
    Severity.WARNING,
    "reliability",
    "A container without a memory limit can take the node's memory from its neighbours.",
    "set resources.limits.memory (a CPU limit is optional: it throttles)",
)
def memory_limit_missing(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            if "memory" not in ((c.get("resources") or {}).get("limits") or {}):
                yield f"container {c.get('name')!r} has no memory limit", container_path(doc, c)


@register(
    "KS106",
    "image-tag-unpinned",
    Severity.ERROR,
    "reliability",
    "An image with no tag or with `latest`: what runs changes without a change to the manifest.",
    "pin a version tag or a digest (image@sha256:...)",
)
def image_unpinned(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            image = str(c.get("image", ""))
            if image_tag(image) in (None, "latest"):
                yield f"container {c.get('name')!r} image {image!r} is not pinned", container_path(doc, c)


@register(
    "KS107",
    "pull-policy-inconsistent",
    Severity.WARNING,
    "reliability",
    "imagePullPolicy contradicts the tag: Never/IfNotPresent with latest serves stale images; Never at "
    "all fails the pod on any node that does not already hold the image (ErrImageNeverPull).",
    "with a pinned tag use IfNotPresent (or leave it unset: the default then); avoid latest altogether",
)
def pull_policy(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            tag = image_tag(str(c.get("image", "")))
            policy = c.get("imagePullPolicy")
            if tag in (None, "latest") and policy in ("IfNotPresent", "Never"):
                yield (
                    f"container {c.get('name')!r} uses {policy} with an unpinned image",
                    container_path(doc, c),
                )
            elif policy == "Never":  # a new node, an evicted pod rescheduled: ErrImageNeverPull
                yield (
                    f"container {c.get('name')!r} uses Never: a node without the image cannot run it",
                    container_path(doc, c),
                )


@register(
    "KS108",
    "spread-missing",
    Severity.WARNING,
    "reliability",
    "Several replicas with no topology spread or anti-affinity may all land on one node or zone.",
    "add topologySpreadConstraints on topology.kubernetes.io/zone and kubernetes.io/hostname",
)
def spread_missing(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind not in REPLICATED or replica_count(doc.obj) < 2:
        return
    pod = pod_spec(doc.obj) or {}
    affinity = (pod.get("affinity") or {}).get("podAntiAffinity")
    if not pod.get("topologySpreadConstraints") and not affinity:
        yield f"{replica_count(doc.obj)} replicas without topologySpreadConstraints or podAntiAffinity"


@register(
    "KS109",
    "liveness-equals-readiness",
    Severity.WARNING,
    "reliability",
    "Identical liveness and readiness probes: a slow dependency restarts pods instead of draining them.",
    "point liveness at a cheap 'process alive' check (/healthz), readiness at dependencies (/readyz)",
)
def liveness_equals_readiness(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in workload_pods(doc):
        for c in containers(pod, init=False):
            live, ready = c.get("livenessProbe"), c.get("readinessProbe")
            if live and ready and live == ready:
                yield (
                    f"container {c.get('name')!r} has the same liveness and readiness probe",
                    container_path(doc, c),
                )


@register(
    "KS110",
    "env-duplicate",
    Severity.ERROR,
    "reliability",
    "An environment variable set twice: only the last one counts, silently.",
    "remove one of them",
)
def env_duplicate(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for _, cs in workload_pods(doc):
        for c in cs:
            seen: set[str] = set()
            for env in c.get("env") or []:
                name = env.get("name")
                if name in seen:
                    yield f"container {c.get('name')!r} sets {name} twice", container_path(doc, c)
                seen.add(name)


@register(
    "KS111",
    "single-replica",
    Severity.INFO,
    "reliability",
    "One replica and no HPA: every rollout, node drain or crash is an outage.",
    "run at least 2 replicas (or an HPA with minReplicas 2)",
)
def single_replica(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for kind in REPLICATED:
        for doc in index.by_kind.get(kind, []):
            spec = doc.obj.get("spec") or {}
            if replica_count(doc.obj) != 1 or index.scaled(doc):
                continue
            if "replicas" in spec:
                yield doc, "replicas: 1", ["spec", "replicas"]
            else:  # the API server's default, which a StatefulSet without replicas gets (kube-score too)
                yield doc, "no replicas: the default is 1", ["spec"]


@register(
    "KS112",
    "job-ttl-missing",
    Severity.INFO,
    "reliability",
    "A Job without ttlSecondsAfterFinished: it and its pods stay after it ends until someone deletes them.",
    "set spec.ttlSecondsAfterFinished (in a CronJob: spec.jobTemplate.spec.ttlSecondsAfterFinished)",
)
def job_ttl(doc: Document) -> Iterator[str | tuple[str, Path]]:
    spec = doc.obj.get("spec") or {}
    if doc.kind == "Job" and "ttlSecondsAfterFinished" not in spec:
        yield "no ttlSecondsAfterFinished", ["spec"]
    job = ((spec.get("jobTemplate") or {}).get("spec") or {}) if doc.kind == "CronJob" else None
    if job is not None and "ttlSecondsAfterFinished" not in job:
        # the history limits prune Job objects, not the pods of a Job that keeps failing
        yield "the job template has no ttlSecondsAfterFinished", ["spec", "jobTemplate", "spec"]


@register(
    "KS113",
    "update-strategy-unusual",
    Severity.INFO,
    "reliability",
    "The workload replaces its pods all at once (Deployment Recreate) or only when someone deletes them "
    "(OnDelete): every update is an outage, or never happens. No strategy at all leaves the rollout's "
    "pace to the defaults (a Deployment takes a quarter of its pods down at once).",
    "use RollingUpdate (the default) with maxUnavailable 0 for a Deployment; RollingUpdate for the others",
)
def update_strategy(doc: Document) -> Iterator[str | tuple[str, Path]]:
    spec = doc.obj.get("spec") or {}
    key = {"Deployment": "strategy", "StatefulSet": "updateStrategy", "DaemonSet": "updateStrategy"}.get(
        doc.kind
    )
    if key is None:
        return
    if key not in spec:  # kube-linter's no-rolling-update-strategy: say what the default does
        default = "a quarter of the pods (maxUnavailable 25%)" if doc.kind == "Deployment" else "one pod"
        yield f"no {key}: the default RollingUpdate takes {default} down at a time", ["spec"]
        return
    kind = (spec.get(key) or {}).get("type")
    if kind in ("Recreate", "OnDelete"):
        yield f"{key}.type: {kind}", ["spec", key]


@register(
    "KS114",
    "ephemeral-storage-unset",
    Severity.INFO,
    "reliability",
    "A container sets no ephemeral-storage request or limit: the scheduler ignores its disk use (logs, "
    "writable layer, emptyDir), and when the node's disk fills the kubelet evicts pods it did not plan for.",
    "set resources.requests.ephemeral-storage (what it writes) and limits.ephemeral-storage (a ceiling)",
)
def ephemeral_storage(doc: Document) -> Iterator[str | tuple[str, Path]]:
    for pod, _ in workload_pods(doc):
        for c in containers(pod):
            resources = c.get("resources") or {}
            missing = [
                part
                for part in ("requests", "limits")
                if "ephemeral-storage" not in (resources.get(part) or {})
            ]
            if missing:
                what = " and ".join(f"{part}.ephemeral-storage" for part in missing)
                yield f"container {c.get('name')!r} has no {what}", [*container_path(doc, c), "resources"]


@register(
    "KS115",
    "site-failover-capacity",
    Severity.ERROR,
    "reliability",
    "A site's HPA (or the Karmada override giving a cluster its bounds) cannot scale to the pods its "
    f"site needs when another site fails ({ANNOTATION_SITE_FAILOVER_REPLICAS}, written by `kubeship "
    "sites render`): the failover that should save the service overloads the site that is left.",
    "raise maxReplicas to the annotation's value (and make sure the site has the nodes), or send less "
    "traffic to it on failover (the traffic classes' weights in kubeship.yaml)",
)
def site_failover_capacity(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind == "HorizontalPodAutoscaler":
        needed = _failover_replicas((doc.obj.get("metadata") or {}).get("annotations"))
        highest = (doc.obj.get("spec") or {}).get("maxReplicas")
        if needed is not None and isinstance(highest, int) and highest < needed:
            yield (
                f"maxReplicas {highest}, but failover asks {needed} pods of this site: "
                f"{needed - highest} short",
                ["spec", "maxReplicas"],
            )
    if doc.kind in ("OverridePolicy", "ClusterOverridePolicy"):
        for i, rule in enumerate((doc.obj.get("spec") or {}).get("overrideRules") or []):
            overriders = (rule or {}).get("overriders") or {}
            needed = None
            for a in overriders.get("annotationsOverrider") or []:
                needed = _failover_replicas((a or {}).get("value")) or needed
            for j, patch in enumerate(overriders.get("plaintext") or []):
                value = (patch or {}).get("value")
                if needed is None or patch.get("path") != "/spec/maxReplicas" or not isinstance(value, int):
                    continue
                if value < needed:
                    clusters = ((rule.get("targetCluster") or {}).get("clusterNames")) or ["the target"]
                    yield (
                        f"cluster {', '.join(map(str, clusters))}: maxReplicas {value}, but failover asks "
                        f"{needed} pods of it: {needed - value} short",
                        ["spec", "overrideRules", i, "overriders", "plaintext", j, "value"],
                    )


def _failover_replicas(annotations: object) -> int | None:
    value = annotations.get(ANNOTATION_SITE_FAILOVER_REPLICAS) if isinstance(annotations, dict) else None
    return int(value) if isinstance(value, str) and value.isdigit() else None
