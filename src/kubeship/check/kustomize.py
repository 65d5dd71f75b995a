"""Kustomize trees checked as files: patches are partial objects by design, not manifests.

A strategic-merge patch names a Deployment and sets one field; checked as an
object it would fail the schema (no selector, no template) and duplicate the
base's name. The kustomization.yaml files among the checked documents say which
files are patches; those are set aside with a note pointing at the built output.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from kubeship.check.model import Document

KINDS = {"Kustomization", "Component"}
HINT = "a patch is partial by design: check the built output too (kustomize build DIR | kubeship check -)"


def patch_files(docs: Iterable[Document]) -> dict[str, Document]:
    """Files the kustomizations among `docs` use as patches → the kustomization naming them."""
    out: dict[str, Document] = {}
    for doc in docs:
        if doc.kind not in KINDS or not str(doc.obj.get("apiVersion", "")).startswith(
            "kustomize.config.k8s.io/"
        ):
            continue
        here = posixpath.dirname(doc.file.replace("\\", "/"))
        for path in _patch_paths(doc.obj):
            out.setdefault(posixpath.normpath(posixpath.join(here, path)), doc)
    return out


def _patch_paths(kustomization: dict[str, object]) -> list[str]:
    paths = []
    for entry in _list(kustomization.get("patchesStrategicMerge")):
        if isinstance(entry, str) and "\n" not in entry:  # else an inline patch
            paths.append(entry)
    for key in ("patches", "patchesJson6902"):
        for entry in _list(kustomization.get(key)):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                paths.append(entry["path"])
    return paths


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
