"""Cross-resource rules: what one object names and another must provide, over everything checked together."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kubeship.check.model import Document, Severity
from kubeship.check.rules.base import (
    ALB_ACTION_PORT,
    REPLICATED,
    Index,
    Path,
    containers,
    pod_labels,
    pod_spec,
    pod_spec_path,
    register,
    replica_count,
    selects,
    service_account,
)


@register(
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


@register(
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
        for default in ("defaultBackend", "backend"):  # `backend`: the removed v1beta1 Ingress APIs
            if spec.get(default):
                backends.append((spec[default], ["spec", default]))
        for i, rule in enumerate(spec.get("rules") or []):
            for j, p in enumerate((rule.get("http") or {}).get("paths") or []):
                backends.append((p.get("backend"), ["spec", "rules", i, "http", "paths", j, "backend"]))
        annotations = (ing.obj.get("metadata") or {}).get("annotations") or {}
        for backend, where in backends:
            service = (backend or {}).get("service") or {}
            if not service and (backend or {}).get("serviceName"):  # extensions/v1beta1, networking v1beta1
                port = backend.get("servicePort")
                service = {
                    "name": backend["serviceName"],
                    "port": {"name": port} if isinstance(port, str) else {"number": port},
                }
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


@register(
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


@register(
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


@register(
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
        for kind, name, key, where in _keys(pod):
            target = index.find(kind, name, doc.namespace)
            if target is None or key is None:
                continue  # a missing object is said above
            keys = {
                k for field in ("data", "binaryData", "stringData") for k in (target.obj.get(field) or {})
            }
            if key not in keys:
                message = f"{kind} {name!r} has no key {key!r} (it has: {', '.join(sorted(keys)) or 'none'})"
                yield doc, message, [*pod_spec_path(doc.obj.get("kind")), *where]


def _keys(pod: dict[str, Any]) -> Iterator[tuple[str, str, Any, Path]]:
    """(kind, name, key, path) of every non-optional configMapKeyRef / secretKeyRef of the containers."""
    for group in ("containers", "initContainers"):
        for ci, c in enumerate(pod.get(group) or []):
            for ei, env in enumerate((c.get("env") or []) if isinstance(c, dict) else []):
                value_from = (env.get("valueFrom") or {}) if isinstance(env, dict) else {}
                for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                    ref = value_from.get(field)
                    if isinstance(ref, dict) and not ref.get("optional"):
                        yield kind, str(ref.get("name")), ref.get("key"), [group, ci, "env", ei]


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


@register(
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


@register(
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
        if spec.get("maxUnavailable") in (0, "0%"):  # blocks on its own, whatever it selects
            yield pdb, "maxUnavailable 0: no pod it selects may ever be evicted", ["spec", "maxUnavailable"]
            continue
        for w in index.selected(spec.get("selector"), pdb.namespace):
            if w.kind not in REPLICATED:
                continue
            replicas = replica_count(w.obj)
            hpa_min = _hpa_min(index, w)
            least = hpa_min if hpa_min is not None else replicas
            if isinstance(spec.get("minAvailable"), int) and spec["minAvailable"] >= least:
                yield pdb, f"with {least} replica(s) of {w.ref} no pod may ever be evicted"


def _hpa_min(index: Index, workload: Document) -> int | None:
    hpa = index.scaler(workload)
    if hpa is None:
        return None
    value = (hpa.obj.get("spec") or {}).get("minReplicas", 1)
    return value if isinstance(value, int) else 1


@register(
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


@register(
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


@register(
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


@register(
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


@register(
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


@register(
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


@register(
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


@register(
    "KS315",
    "pod-not-isolated",
    Severity.INFO,
    "cross-resource",
    "No NetworkPolicy selects the workload's pods: any pod in the cluster can reach them.",
    "add a NetworkPolicy that selects the pods and allows only their clients",
)
def not_isolated(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    covered: set[int] = set()  # workloads a policy isolates for ingress
    egress_covered: set[int] = set()  # ... and for egress
    egress_only: dict[int, str] = {}  # workloads only egress policies select: the policy's name
    ingress_only: dict[int, str] = {}  # workloads only ingress policies select: the policy's name
    everything: set[str] = set()  # namespaces with an ingress policy selecting all their pods
    everything_out: set[str] = set()  # ... with an egress policy selecting all their pods
    for pol in index.by_kind.get("NetworkPolicy", []):
        spec = pol.obj.get("spec") or {}
        selector = spec.get("podSelector") or {}
        selected = {id(w) for w in index.selected(selector, pol.namespace)}
        types = policy_types(spec)
        all_pods = not selector.get("matchLabels") and not selector.get("matchExpressions")
        if "Egress" in types:
            egress_covered |= selected
            if all_pods:
                everything_out.add(pol.namespace)
        if "Ingress" not in types:  # an egress-only policy leaves ingress open
            egress_only.update(dict.fromkeys(selected, pol.name))
            continue
        ingress_only.update(dict.fromkeys(selected, pol.name))
        if all_pods:
            everything.add(pol.namespace)
        covered |= selected
    for namespace in {doc.namespace for doc in index.docs}:
        for workload in index.workloads(namespace):
            if workload.kind in ("Job", "CronJob"):  # no clients to fence (kube-linter agrees)
                continue
            if id(workload) in covered or namespace in everything:
                # kube-score's pod-networkpolicy: a pod isolated for ingress may still connect anywhere
                if id(workload) not in egress_covered and namespace not in everything_out:
                    policy = ingress_only.get(id(workload), "")
                    which = f"NetworkPolicy {policy!r} isolates" if policy else "the policies isolate"
                    yield workload, f"{which} only ingress: its pods may connect anywhere"
                continue
            if id(workload) in egress_only:
                policy = egress_only[id(workload)]
                yield workload, f"NetworkPolicy {policy!r} isolates only egress: any pod can reach its pods"
            else:
                yield workload, "no NetworkPolicy selects its pods"


def policy_types(spec: dict[str, Any]) -> list[str]:
    """The directions a NetworkPolicy isolates: policyTypes, or by default Ingress, plus Egress when it
    has egress rules (the API server's defaulting)."""
    given = spec.get("policyTypes")
    if isinstance(given, list) and given:
        return [str(t) for t in given]
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


@register(
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


@register(
    "KS317",
    "pdb-missing",
    Severity.WARNING,
    "cross-resource",
    "A workload that runs several replicas has no PodDisruptionBudget: a node drain may take them all "
    "at once.",
    "add a PodDisruptionBudget with maxUnavailable: 1 selecting its pods",
)
def pdb_missing(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    covered = {
        id(w)
        for pdb in index.by_kind.get("PodDisruptionBudget", [])
        for w in index.selected((pdb.obj.get("spec") or {}).get("selector"), pdb.namespace)
    }
    for doc in index.docs:
        if doc.kind not in REPLICATED or id(doc) in covered:
            continue
        scaler = index.scaler(doc)
        floor = (scaler.obj.get("spec") or {}).get("minReplicas", 1) if scaler else replica_count(doc.obj)
        if isinstance(floor, int) and floor >= 2:
            yield doc, f"{floor} replicas and no PodDisruptionBudget selects its pods"


@register(
    "KS318",
    "statefulset-service-missing",
    Severity.ERROR,
    "cross-resource",
    "A StatefulSet's serviceName names a Service that is not among the objects: its pods get no stable "
    "DNS names (pod-0.service), which is what a StatefulSet is for.",
    "add the headless Service (clusterIP: None) it names, or pass --external-refs if it exists",
)
def statefulset_service(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    if index.external_refs:
        return
    for sts in index.by_kind.get("StatefulSet", []):
        name = (sts.obj.get("spec") or {}).get("serviceName")
        if isinstance(name, str) and name and index.find("Service", name, sts.namespace) is None:
            yield sts, f"serviceName {name!r} is not among the objects", ["spec", "serviceName"]


@register(
    "KS319",
    "service-account-missing",
    Severity.ERROR,
    "cross-resource",
    "A pod runs as a ServiceAccount that is not among the objects: the pod is not created.",
    "add the ServiceAccount, fix the name, or pass --external-refs if it exists in the cluster",
)
def service_account_missing(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    if index.external_refs:
        return
    for doc in index.docs:
        pod = pod_spec(doc.obj)
        if pod is None:
            continue
        name, field = service_account(pod)
        if name != "default" and index.find("ServiceAccount", name, doc.namespace) is None:
            where: Path = [*pod_spec_path(doc.kind), field]
            yield doc, f"ServiceAccount {name!r} is not among the objects", where


@register(
    "KS320",
    "servicemonitor-selects-nothing",
    Severity.ERROR,
    "cross-resource",
    "A ServiceMonitor selects no Service, or a port name none of its Services has: Prometheus scrapes "
    "nothing and no alert says so.",
    "match the Service's labels in spec.selector and name one of its ports in spec.endpoints[].port "
    "(or pass --external-refs if the Service is deployed separately)",
)
def servicemonitor_selects(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    if index.external_refs:
        return
    services = _ServicesByLabel(index.by_kind.get("Service", []))
    # A namespace none of the objects is in is not described here: its Services (an exporter's in
    # `data`, say) are judged where they are deployed.
    described = {d.namespace for d in index.docs}
    for sm in index.by_kind.get("ServiceMonitor", []):
        spec = sm.obj.get("spec") or {}
        named = (spec.get("namespaceSelector") or {}).get("matchNames") or [sm.namespace]
        namespaces = [ns for ns in named if ns in described]
        if (spec.get("namespaceSelector") or {}).get("any") or not namespaces:
            continue  # any namespace, or only others: the Services are elsewhere in the cluster
        found = [svc for ns in namespaces for svc in services.matching(spec.get("selector"), str(ns))]
        if not found:
            yield sm, "spec.selector matches no Service among the objects", ["spec", "selector"]
            continue
        names = {p.get("name") for svc in found for p in (svc.obj.get("spec") or {}).get("ports") or []}
        for i, endpoint in enumerate(spec.get("endpoints") or []):
            port = (endpoint or {}).get("port")
            if isinstance(port, str) and port not in names:
                where: Path = ["spec", "endpoints", i]
                yield sm, f"endpoints[{i}].port {port!r} is not a port of the selected Services", where


class _ServicesByLabel:
    """Services indexed by (namespace, label, value): a selector finds its Services without a scan."""

    def __init__(self, services: list[Document]) -> None:
        self._by_label: dict[tuple[str, str, str], list[Document]] = {}
        self._by_namespace: dict[str, list[Document]] = {}
        for svc in services:
            self._by_namespace.setdefault(svc.namespace, []).append(svc)
            for key, value in ((svc.obj.get("metadata") or {}).get("labels") or {}).items():
                self._by_label.setdefault((svc.namespace, str(key), str(value)), []).append(svc)

    def matching(self, selector: Any, namespace: str) -> list[Document]:
        if not isinstance(selector, dict):
            return []
        match = selector.get("matchLabels") or {}
        if match:
            key, value = next(iter(match.items()))
            candidates = self._by_label.get((namespace, str(key), str(value)), [])
        else:
            candidates = self._by_namespace.get(namespace, [])
        return [
            svc
            for svc in candidates
            if selects(selector, (svc.obj.get("metadata") or {}).get("labels") or {})
        ]


@register(
    "KS321",
    "netpol-peer-selects-nothing",
    Severity.WARNING,
    "cross-resource",
    "A NetworkPolicy rule allows traffic from or to pods its podSelector does not find in its namespace: "
    "a typo there silently blocks what it meant to allow.",
    "fix the peer's podSelector labels (an empty podSelector: {} means every pod of the namespace)",
)
def netpol_peer(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for policy in index.by_kind.get("NetworkPolicy", []):
        spec = policy.obj.get("spec") or {}
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for i, rule in enumerate(spec.get(direction) or []):
                for j, peer in enumerate((rule or {}).get(peers_key) or []):
                    selector = (peer or {}).get("podSelector")
                    if not selector or "namespaceSelector" in (peer or {}):
                        continue  # every pod, or pods of other namespaces: not ours to find
                    if not index.selected(selector, policy.namespace):
                        where: Path = ["spec", direction, i, peers_key, j]
                        yield (
                            policy,
                            f"{direction}[{i}].{peers_key}[{j}].podSelector matches no pod template",
                            where,
                        )


@register(
    "KS323",
    "pdb-unhealthy-pods-block",
    Severity.INFO,
    "cross-resource",
    "A PodDisruptionBudget without unhealthyPodEvictionPolicy: AlwaysAllow: pods that run but never become "
    "ready still count against it, so one crash-looping pod can block every node drain.",
    "set spec.unhealthyPodEvictionPolicy: AlwaysAllow (Kubernetes 1.27+; GA in 1.31)",
)
def pdb_unhealthy(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for pdb in index.by_kind.get("PodDisruptionBudget", []):
        policy = (pdb.obj.get("spec") or {}).get("unhealthyPodEvictionPolicy")
        if policy != "AlwaysAllow":
            yield pdb, f"unhealthyPodEvictionPolicy is {policy or 'unset (IfHealthyBudget)'}", ["spec"]


@register(
    "KS324",
    "anti-affinity-selects-nothing",
    Severity.WARNING,
    "cross-resource",
    "A pod anti-affinity term selects no pod template in the namespaces it looks at: it spreads nothing, "
    "and the replicas may all land on one node (or zone).",
    "select the workload's own pod labels, and leave namespaces out (the pod's namespace) unless the "
    "pods are elsewhere",
)
def anti_affinity(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    described = {d.namespace for d in index.docs}
    for doc in index.docs:
        pod = pod_spec(doc.obj)
        anti = ((pod or {}).get("affinity") or {}).get("podAntiAffinity") or {}
        terms: list[tuple[Path, Any]] = []
        for key in (
            "requiredDuringSchedulingIgnoredDuringExecution",
            "preferredDuringSchedulingIgnoredDuringExecution",
        ):
            for i, term in enumerate(anti.get(key) or []):
                weighted = key.startswith("preferred")
                where: Path = [*pod_spec_path(doc.kind), "affinity", "podAntiAffinity", key, i]
                terms.append((where, (term or {}).get("podAffinityTerm") if weighted else term))
        for where, term in terms:
            if not isinstance(term, dict) or "namespaceSelector" in term or not term.get("labelSelector"):
                continue  # pods of namespaces chosen by label, or none named: not ours to find
            namespaces = [str(n) for n in term.get("namespaces") or [doc.namespace]]
            if not any(ns in described for ns in namespaces):
                continue  # namespaces this stream does not describe
            if any(index.selected(term["labelSelector"], ns) for ns in namespaces):
                continue
            if namespaces != [doc.namespace] and index.selected(term["labelSelector"], doc.namespace):
                listed = ", ".join(namespaces)
                yield (
                    doc,
                    f"anti-affinity labelSelector matches pods in {doc.namespace or 'default'!r}, "
                    f"but the term looks in {listed}",
                    where,
                )
            else:
                yield doc, "anti-affinity labelSelector matches no pod template", where
