"""The Kustomize tree reproduces each environment's render exactly.

No kustomize binary is packaged for this machine, so the test applies the
overlay the way `kustomize build` does for these patch kinds: RFC 6902 patches
(with the jsonpatch library) on the matching base object, `$patch: delete`
removing it, and overlay resources added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonpatch
import yaml

from kubeship.masked import Secret
from kubeship.render import render
from kubeship.render.kustomize import json_patch, kustomize_tree
from kubeship.spec import load_environments, load_spec

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed" / "kubeship.yaml"
SECRETS = {"db-credentials": {"username": Secret("u"), "password": Secret("p")}}


def build(tree: dict[str, str], env: str) -> list[dict[str, Any]]:
    base_k = yaml.safe_load(tree["base/kustomization.yaml"])
    objects = [yaml.safe_load(tree[f"base/{f}"]) for f in base_k["resources"]]
    overlay = yaml.safe_load(tree[f"overlays/{env}/kustomization.yaml"])
    assert overlay["resources"][0] == "../../base"
    objects += [yaml.safe_load(tree[f"overlays/{env}/{f}"]) for f in overlay["resources"][1:]]
    for entry in overlay.get("patches", []):
        patch = yaml.safe_load(entry["patch"])
        if isinstance(patch, dict) and patch.get("$patch") == "delete":
            objects = [
                o
                for o in objects
                if (o["kind"], o["metadata"]["name"]) != (patch["kind"], patch["metadata"]["name"])
            ]
            continue
        target = entry["target"]
        for i, obj in enumerate(objects):
            if (obj["kind"], obj["metadata"]["name"]) == (target["kind"], target["name"]):
                objects[i] = jsonpatch.apply_patch(obj, patch)
    return objects


def test_overlays_rebuild_every_environment_exactly() -> None:
    base = render(load_spec(SEED), SECRETS)
    envs = {name: render(load_spec(SEED, name), SECRETS) for name in load_environments(SEED)}
    assert set(envs) == {"staging", "prod"}
    tree = kustomize_tree(base, envs)
    for name, expected in envs.items():
        key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
        assert sorted(build(tree, name), key=key) == sorted(expected, key=key), name


def test_json_patch_removes_what_the_environment_drops() -> None:
    old = {"spec": {"replicas": 3, "selector": {"app.kubernetes.io/name": "web"}}}
    new = {"spec": {"selector": {"app.kubernetes.io/name": "web2"}}}
    ops = json_patch(old, new)
    assert {"op": "remove", "path": "/spec/replicas"} in ops
    assert {"op": "replace", "path": "/spec/selector/app.kubernetes.io~1name", "value": "web2"} in ops
    assert jsonpatch.apply_patch(old, ops) == new
