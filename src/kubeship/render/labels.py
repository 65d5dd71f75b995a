"""The one label set every selector comes from."""

from __future__ import annotations

from typing import Any

from kubeship.names import (
    LABEL_COMPONENT,
    LABEL_INSTANCE,
    LABEL_MANAGED_BY,
    LABEL_NAME,
    LABEL_PART_OF,
    LABEL_VERSION,
    MANAGER,
)
from kubeship.spec.models import AppSpec

COMPONENT = "server"


def selector(spec: AppSpec) -> dict[str, str]:
    """Stable across versions: Deployment selectors are immutable, so no version here."""
    return {LABEL_NAME: spec.name, LABEL_INSTANCE: spec.name}


def labels(spec: AppSpec) -> dict[str, str]:
    out = {**selector(spec), LABEL_VERSION: spec.version, LABEL_COMPONENT: COMPONENT}
    if spec.part_of:
        out[LABEL_PART_OF] = spec.part_of
    out[LABEL_MANAGED_BY] = MANAGER
    return out


def metadata(spec: AppSpec, name: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name or spec.name}
    if spec.namespace:
        meta["namespace"] = spec.namespace
    meta["labels"] = labels(spec)
    meta.update(extra)
    return meta
