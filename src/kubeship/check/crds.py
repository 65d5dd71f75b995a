"""Schemas for custom resources: the bundled ones, and those of CRDs found in the checked input.

Three sources, all turned into strict JSON Schema (unknown fields are errors):

- Argo Rollouts, Argo CD, Kustomize's kustomization.yaml, Karmada's policies and external-dns's
  DNSEndpoint: kubeship's own schemas
  (`schemas/`), reusing the Kubernetes definitions for pod templates, selectors
  and metadata.
- Prometheus Operator, KEDA and cert-manager: the `cloudcoil-models-*` packages,
  Pydantic models generated from those projects' CRDs; their JSON Schema is
  tightened and written to a cache directory on first use (importing the models
  takes seconds, reading the cached schema milliseconds).
- A CustomResourceDefinition in the input itself: its openAPIV3Schema, converted
  the way the API server reads it (nullable, int-or-string, preserve-unknown-fields),
  validates the custom resources next to it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

Key = tuple[str, str]  # (apiVersion, kind)

_OWN = Path(__file__).parent / "schemas"
_K8S_META = "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

# API group → (the cloudcoil package holding its models, the distribution that ships it)
_MODELS = {
    "monitoring.coreos.com": ("prometheus_operator", "cloudcoil-models-prometheus-operator"),
    "keda.sh": ("keda", "cloudcoil-models-keda"),
    "eventing.keda.sh": ("keda.eventing", "cloudcoil-models-keda"),
    "cert-manager.io": ("cert_manager", "cloudcoil-models-cert-manager"),
    "acme.cert-manager.io": ("cert_manager.acme", "cloudcoil-models-cert-manager"),
}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_OWN_GROUPS = {
    "argoproj.io/v1alpha1": ("argo-rollouts.yaml", "argo-cd.yaml"),  # one API group, two projects
    "kustomize.config.k8s.io/v1beta1": ("kustomize.yaml",),  # kustomization.yaml: not an object, but
    "kustomize.config.k8s.io/v1alpha1": ("kustomize.yaml",),  # it sits among the manifests checked
    "audit.k8s.io/v1": ("audit.yaml",),  # the API server's audit Policy: a file, kept with the manifests
    "policy.karmada.io/v1alpha1": ("karmada.yaml",),
    "externaldns.k8s.io/v1alpha1": ("external-dns.yaml",),
}


def bundled(api_version: str, kind: str) -> dict[str, Any] | None:
    """The bundled schema of a custom resource, or None (not a bundled kind, or its package is absent)."""
    if api_version in _OWN_GROUPS:
        defs = _own_defs(_OWN_GROUPS[api_version])
        top = defs.get(kind) or {}
        is_kind = "kind" in (top.get("properties") or {}) or "$ref" in top  # not a helper such as Metric
        return {"$defs": defs, "$ref": f"#/$defs/{kind}"} if is_kind else None
    group, _, version = api_version.rpartition("/")
    if group not in _MODELS or not _NAME.fullmatch(version) or not _NAME.fullmatch(kind):
        return None  # (they name a module and a cache file: nothing but letters and digits)
    return _model_schema(group, version, kind)


def is_bundled_group(api_version: str) -> bool:
    return api_version in _OWN_GROUPS or api_version.rpartition("/")[0] in _MODELS


@cache
def _own_defs(names: tuple[str, ...]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for name in names:
        defs.update(yaml.safe_load((_OWN / name).read_text(encoding="utf-8"))["$defs"])
    return defs


@cache
def _model_schema(group: str, version: str, kind: str) -> dict[str, Any] | None:
    package, dist = _MODELS[group]
    try:
        release = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
    cached = _cache_dir() / f"{dist}-{release}" / f"{group}_{version}_{kind}.json"
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads(cached.read_text(encoding="utf-8")))
    module_name = f"cloudcoil.models.{package}.{version}"
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
        model = getattr(importlib.import_module(module_name), kind, None)
    except ImportError:  # a models package that does not import here (its pydantic, say): not bundled
        return None
    fields = getattr(model, "model_fields", {})
    if "api_version" not in fields or fields["api_version"].default != f"{group}/{version}":
        return None  # not a resource of this apiVersion (a helper model, or another version)
    schema = from_model(model.model_json_schema(by_alias=True))  # type: ignore[union-attr]
    _write_atomically(cached, json.dumps(schema))
    return schema


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kubeship" / "schemas"


def _write_atomically(path: Path, text: str) -> None:
    """Concurrent checks may race to fill the cache: each writes its own file and renames it."""
    with contextlib.suppress(OSError):  # an unwritable cache only costs the next run the import
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)


def from_model(schema: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's JSON Schema of a resource model → strict: objects take only their properties, and an
    Optional is its one type (`anyOf: [X, null]` hides the useful error inside X behind "not valid
    under any of the schemas")."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = {k: walk(v) for k, v in node.items() if k not in ("title", "default", "description")}
        options = node.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            if len(rest) == 1:
                del node["anyOf"]
                node = {**rest[0], **node}
                if isinstance(node.get("type"), str):
                    node["type"] = [node["type"], "null"]
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node

    out: dict[str, Any] = walk(schema)
    out.setdefault("properties", {})["metadata"] = {"$ref": _K8S_META}
    return out


def from_crd(crd: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    """The schema of every version a CustomResourceDefinition (apiextensions.k8s.io/v1) serves."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return {}
    out = {}
    for version in spec.get("versions") or []:
        if not isinstance(version, dict):
            continue
        openapi = (version.get("schema") or {}).get("openAPIV3Schema")
        if isinstance(openapi, dict) and version.get("served", True):
            out[(f"{group}/{version.get('name')}", kind)] = from_openapi(openapi)
    return out


def from_openapi(root: dict[str, Any]) -> dict[str, Any]:
    """A CRD's structural schema → JSON Schema with the API server's reading of its extensions.

    Unknown fields are pruned by the API server (silently lost), so they are errors here, except under
    `x-kubernetes-preserve-unknown-fields`."""

    def walk(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        out = {k: v for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
        for key in ("properties", "patternProperties"):
            if isinstance(node.get(key), dict):
                out[key] = {name: walk(child) for name, child in node[key].items()}
        for key in ("items", "additionalProperties", "not"):
            if isinstance(node.get(key), dict):
                out[key] = walk(node[key])
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(node.get(key), list):
                out[key] = [walk(child) for child in node[key]]
        if node.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out["type"] = ["integer", "string"]
        if node.get("nullable") and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        open_ = node.get("x-kubernetes-preserve-unknown-fields") or node.get("x-kubernetes-embedded-resource")
        if "properties" in out and "additionalProperties" not in out and not open_:
            out["additionalProperties"] = False
        return out

    schema: dict[str, Any] = walk(root)
    props = schema.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"$ref": _K8S_META}  # the CRD says only "object"; the API server knows better
    return schema
