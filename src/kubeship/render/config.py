"""ConfigMap and Secret objects, and how the pod mounts them."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from kubeship.masked import Secret
from kubeship.render.labels import metadata
from kubeship.spec.models import AppSpec

CONFIG_DIR = "/etc/kubeship/config"
SECRETS_DIR = "/etc/kubeship/secrets"
CONFIG_HASH_ANNOTATION = "kubeship.io/config-hash"


def config_map_name(spec: AppSpec) -> str:
    return (spec.config.name if spec.config else None) or f"{spec.name}-config"


def config_map(spec: AppSpec) -> dict[str, Any] | None:
    if spec.config is None:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(spec, config_map_name(spec)),
        "data": dict(sorted(spec.config.data.items())),
    }


def config_hash(spec: AppSpec) -> str | None:
    """For reload: restart: a pod-template annotation that changes whenever the data does."""
    if spec.config is None or spec.config.reload != "restart":
        return None
    payload = json.dumps(spec.config.data, sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


def secrets(spec: AppSpec, values: Mapping[str, Mapping[str, Secret]]) -> list[dict[str, Any]]:
    """Secret objects for the non-external secrets, from values resolved by the caller."""
    out = []
    for name, secret in sorted(spec.secrets.items()):
        if secret.external:
            continue
        given = values.get(name, {})
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": metadata(spec, name),
                "type": "Opaque",
                "data": {
                    key: base64.b64encode(given[key].reveal().encode()).decode() if key in given else ""
                    for key in sorted(secret.keys)
                },
            }
        )
    return out
