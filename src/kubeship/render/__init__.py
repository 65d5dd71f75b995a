"""Spec → Kubernetes objects (plain dicts), deterministic, in apply order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeship.masked import Secret
from kubeship.render import config, network, rollout, scaling, security, siem, workload
from kubeship.render.output import to_yaml
from kubeship.spec.models import AppSpec

__all__ = ["render", "secrets_by_reference", "to_yaml"]


def secrets_by_reference(spec: AppSpec) -> AppSpec:
    """Every Secret as `external: true`: referenced by the pods, its values never rendered."""
    secrets = {name: s.model_copy(update={"external": True}) for name, s in spec.secrets.items()}
    return spec.model_copy(update={"secrets": secrets})


def render(
    spec: AppSpec, secret_values: Mapping[str, Mapping[str, Secret]] | None = None
) -> list[dict[str, Any]]:
    """Every object for `spec`: config and secrets first, then workload, traffic, scaling.

    `secret_values` holds the values of non-external secrets, resolved by the
    caller (the CLI reads them from the environment or files); a key without
    a value renders empty, for the cluster's secret tooling to fill.
    """
    objects = [
        security.namespace(spec),
        security.service_account(spec),
        *security.role(spec),
        security.certificate(spec),
        config.config_map(spec),
        siem.siem_config_map(spec),
        *config.secrets(spec, secret_values or {}),
        scaling.adapter_rules(spec),
        *(rollout.analysis_templates(spec) if spec.delivery else []),
        rollout.rollout(spec) if spec.delivery else workload.deployment(spec),
        network.service(spec),
        rollout.second_service(spec) if spec.delivery else None,
        network.ingress(spec),
        network.network_policy(spec),
        scaling.hpa(spec),
        scaling.scaled_object(spec),
        scaling.pdb(spec),
    ]
    return [o for o in objects if o is not None]
