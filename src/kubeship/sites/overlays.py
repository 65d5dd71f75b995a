"""What each site runs, as files other tools apply (pure): Kustomize overlays, Karmada policies,
external-dns records.

- `sites/<site>/`: a Kustomize overlay of the rendered base with the site's replicas and HPA bounds
  (sizing.py) and a `kubeship.io/site` label, plus a DNSEndpoint when `sites.hostname` is set;
  `kubectl apply -k sites/<site>` in that site's cluster.
- `karmada/`: for teams with a Karmada control plane instead: a PropagationPolicy dividing the
  replicas over the member clusters by the sites' shares of traffic, and an OverridePolicy giving
  each cluster its HPA bounds (the Deployment keeps the replicas its cluster's HPA sets).
- The HPA of each site carries the pods failover asks of it (`kubeship.io/site-failover-replicas`):
  `kubeship check` reports a site whose maxReplicas was lowered under it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from kubeship.names import ANNOTATION_SITE_FAILOVER_REPLICAS, LABEL_SITE
from kubeship.render.output import file_name, to_yaml
from kubeship.sites.sizing import SiteSize, sizes
from kubeship.sites.traffic import sites_of
from kubeship.spec.models import AppSpec, Site

KUSTOMIZE = "kustomize.config.k8s.io/v1beta1"
KARMADA = "policy.karmada.io/v1alpha1"
EXTERNAL_DNS = "externaldns.k8s.io/v1alpha1"
RETAIN_REPLICAS = "resourcetemplate.karmada.io/retain-replicas"  # the member cluster's HPA owns replicas
WORKLOADS = {"Deployment", "Rollout", "StatefulSet"}
HPA = "HorizontalPodAutoscaler"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "Policy", "CustomResourceDefinition"}
DNS_TTL = 60


def tree(spec: AppSpec, objects: list[dict[str, Any]]) -> dict[str, str]:
    """{relative path: text}: base/, sites/<site>/ and karmada/ for the rendered `objects`."""
    objects = retain_replicas(objects)
    base = {f"base/{file_name(o)}": to_yaml([o]) for o in objects}
    out = {**base, "base/kustomization.yaml": to_yaml([_kustomization([p[5:] for p in base])])}
    for size in sizes(spec):
        out.update(_overlay(spec, size, objects))
    out["karmada/propagationpolicy.yaml"] = to_yaml([propagation_policy(spec, objects)])
    override = override_policy(spec, objects)
    if override is not None:
        out["karmada/overridepolicy.yaml"] = to_yaml([override])
    return out


def _kustomization(resources: list[str], **fields: Any) -> dict[str, Any]:
    return {"apiVersion": KUSTOMIZE, "kind": "Kustomization", "resources": resources, **fields}


def _overlay(spec: AppSpec, size: SiteSize, objects: list[dict[str, Any]]) -> dict[str, str]:
    here = f"sites/{size.site}"
    patches = []
    files: dict[str, str] = {}
    for obj in objects:
        patch = _site_patch(obj, size)
        if patch is not None:
            name = f"patch-{file_name(obj)}"
            files[f"{here}/{name}"] = to_yaml([patch])
            patches.append({"path": name})
    resources = ["../../base"]
    record = dns_endpoint(spec, size.site)
    if record is not None:
        files[f"{here}/{file_name(record)}"] = to_yaml([record])
        resources.append(file_name(record))
    labels = [{"pairs": {LABEL_SITE: size.site}, "includeSelectors": False}]
    files[f"{here}/kustomization.yaml"] = to_yaml([_kustomization(resources, labels=labels, patches=patches)])
    return files


def _site_patch(obj: dict[str, Any], size: SiteSize) -> dict[str, Any] | None:
    """A strategic-merge patch of the site's numbers, or None for an object the site runs as is."""
    meta = {"name": obj["metadata"]["name"]}
    if "namespace" in obj["metadata"]:
        meta["namespace"] = obj["metadata"]["namespace"]
    head = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": meta}
    if obj["kind"] == HPA and size.max_replicas is not None:
        annotations = {ANNOTATION_SITE_FAILOVER_REPLICAS: str(size.needed)}
        spec = {"minReplicas": size.min_replicas, "maxReplicas": size.max_replicas}
        return {**head, "metadata": {**meta, "annotations": annotations}, "spec": spec}
    if obj["kind"] in WORKLOADS and "replicas" in obj.get("spec", {}):
        return {**head, "spec": {"replicas": size.replicas}}
    return None


def dns_endpoint(spec: AppSpec, site: str) -> dict[str, Any] | None:
    """The site's weighted record of `sites.hostname` (reads' weights: DNS cannot see a method)."""
    sites = sites_of(spec)
    if sites.hostname is None:
        return None
    member = next(m for m in sites.members if m.name == site)
    reads = max(sites.traffic, key=lambda c: (c.failover == "auto", c.share or 0))  # the most requests
    target = _dns_target(member)
    endpoint = {
        "dnsName": sites.hostname,
        "recordType": "A" if _is_ip(target) else "CNAME",
        "targets": [target],
        "setIdentifier": site,
        "recordTTL": DNS_TTL,
        "providerSpecific": [{"name": "aws/weight", "value": str(reads.weights.get(site, 0))}],
    }
    meta: dict[str, Any] = {"name": f"{spec.name}-{site}"}
    if spec.namespace:
        meta["namespace"] = spec.namespace
    return {
        "apiVersion": EXTERNAL_DNS,
        "kind": "DNSEndpoint",
        "metadata": meta,
        "spec": {"endpoints": [endpoint]},
    }


def _dns_target(member: Site) -> str:
    return member.dns_target or member.addresses[0].rpartition(":")[0]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _selectors(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o["metadata"]["name"]}
        for o in objects
        if o["kind"] not in CLUSTER_SCOPED  # a PropagationPolicy selects in its own namespace
    ]


def _meta(spec: AppSpec, suffix: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": spec.name + suffix}
    if spec.namespace:
        meta["namespace"] = spec.namespace
    return meta


def propagation_policy(spec: AppSpec, objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Every namespaced object to every site's cluster; replicas divided by the sites' traffic shares."""
    sites = sites_of(spec)
    shares = {s.site: s.share for s in sizes(spec)}
    weights = [
        {
            "targetCluster": {"clusterNames": [m.cluster or m.name]},
            "weight": max(1, round(100 * shares[m.name])),
        }
        for m in sites.members
    ]
    return {
        "apiVersion": KARMADA,
        "kind": "PropagationPolicy",
        "metadata": _meta(spec),
        "spec": {
            "resourceSelectors": _selectors(objects),
            "placement": {
                "clusterAffinity": {"clusterNames": [m.cluster or m.name for m in sites.members]},
                "replicaScheduling": {
                    "replicaSchedulingType": "Divided",
                    "replicaDivisionPreference": "Weighted",
                    "weightPreference": {"staticWeightList": weights},
                },
            },
        },
    }


def override_policy(spec: AppSpec, objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Each cluster's HPA bounds and failover annotation; None without an HPA."""
    hpas = [o for o in objects if o["kind"] == HPA]
    if not hpas:
        return None
    sites = sites_of(spec)
    clusters = {m.name: m.cluster or m.name for m in sites.members}
    rules = []
    for size in sizes(spec):
        plaintext = [
            {"path": "/spec/minReplicas", "operator": "replace", "value": size.min_replicas},
            {"path": "/spec/maxReplicas", "operator": "replace", "value": size.max_replicas},
        ]
        rules.append({
            "targetCluster": {"clusterNames": [clusters[size.site]]},
            "overriders": {
                "plaintext": plaintext,
                "annotationsOverrider": [
                    {"operator": "add", "value": {ANNOTATION_SITE_FAILOVER_REPLICAS: str(size.needed)}}
                ],
            },
        })  # fmt: skip
    return {
        "apiVersion": KARMADA,
        "kind": "OverridePolicy",
        "metadata": _meta(spec, "-sites"),
        "spec": {"resourceSelectors": _selectors(hpas), "overrideRules": rules},
    }


def retain_replicas(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Deployments an HPA scales, labelled so Karmada leaves their replicas to it."""
    scaled = {o["spec"]["scaleTargetRef"]["name"] for o in objects if o["kind"] == HPA}
    out = []
    for o in objects:
        if o["kind"] == "Deployment" and o["metadata"]["name"] in scaled:
            labels = {**o["metadata"].get("labels", {}), RETAIN_REPLICAS: "true"}
            o = {**o, "metadata": {**o["metadata"], "labels": labels}}
        out.append(o)
    return out
