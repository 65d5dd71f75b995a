"""A Kustomize tree: the base render, and one overlay per environment as exact JSON patches.

Each overlay holds only what its environment changes: RFC 6902 patches
computed by diffing the environment's render against the base (so removed
fields are removed, not left behind as a strategic merge would), new
objects as resources, and `$patch: delete` for objects the environment drops.
"""

from __future__ import annotations

from typing import Any

from kubeship.render.output import file_name, to_yaml

KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
Key = tuple[str, str, str]


def kustomize_tree(
    base: list[dict[str, Any]], environments: dict[str, list[dict[str, Any]]]
) -> dict[str, str]:
    """{relative path: file text} for `base/` and `overlays/<env>/`."""
    files = {f"base/{file_name(o)}": to_yaml([o]) for o in base}
    files["base/kustomization.yaml"] = to_yaml([{**KUSTOMIZATION, "resources": [file_name(o) for o in base]}])
    base_by_key = {_key(o): o for o in base}
    for env, objects in sorted(environments.items()):
        env_by_key = {_key(o): o for o in objects}
        resources: list[str] = ["../../base"]
        patches: list[dict[str, Any]] = []
        for key, obj in env_by_key.items():
            if key not in base_by_key:
                files[f"overlays/{env}/{file_name(obj)}"] = to_yaml([obj])
                resources.append(file_name(obj))
                continue
            ops = json_patch(base_by_key[key], obj)
            if ops:
                patches.append({"target": _target(obj), "patch": to_yaml([ops]).rstrip("\n") + "\n"})
        for key, obj in base_by_key.items():
            if key not in env_by_key:
                deletion = {
                    "$patch": "delete",
                    "apiVersion": obj["apiVersion"],
                    "kind": obj["kind"],
                    "metadata": {"name": obj["metadata"]["name"]},
                }
                patches.append({"patch": to_yaml([deletion])})
        kustomization: dict[str, Any] = {**KUSTOMIZATION, "resources": resources}
        if patches:
            kustomization["patches"] = patches
        files[f"overlays/{env}/kustomization.yaml"] = to_yaml([kustomization])
    return files


def json_patch(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """RFC 6902 operations turning `old` into `new` (lists are replaced whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[dict[str, Any]] = []
        for key in old:
            if key not in new:
                ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
        for key, value in new.items():
            child = f"{path}/{_escape(key)}"
            if key not in old:
                ops.append({"op": "add", "path": child, "value": value})
            elif old[key] != value:
                ops += json_patch(old[key], value, child)
        return ops
    if old != new or type(old) is not type(new):
        return [{"op": "replace", "path": path, "value": new}]
    return []


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _key(obj: dict[str, Any]) -> Key:
    return (
        obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else "",
        obj["kind"],
        obj["metadata"]["name"],
    )


def _target(obj: dict[str, Any]) -> dict[str, str]:
    group, _, version = obj["apiVersion"].rpartition("/")
    target = {"kind": obj["kind"], "name": obj["metadata"]["name"], "version": version}
    if group:
        target["group"] = group
    return target
