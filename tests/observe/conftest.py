"""Observe tests run the real tools: promtool and amtool (Debian's prometheus, prometheus-alertmanager)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubeship.spec import AppSpec, load_spec
from tests.conftest import ROOT

SEED = ROOT / "examples" / "seed" / "kubeship.yaml"
WORKER = ROOT / "examples" / "seed" / "worker.kubeship.yaml"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:  # `make test` installs them; a bare `pytest` on a new machine may not have
        pytest.fail(f"{name} is not installed: run `make test` (it installs prometheus and alertmanager)")
    return path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool(args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd, timeout=60)


def pod_targets(spec: AppSpec, address: str, decoy: str | None = None) -> list[dict[str, object]]:
    """What Kubernetes pod discovery would hand Prometheus for one pod of `spec` (and a decoy pod of
    another app), as file_sd targets: the rendered relabel rules then run unchanged."""

    def pod(app: str, addr: str, port_name: str) -> dict[str, object]:
        return {
            "targets": [addr],
            "labels": {
                "__meta_kubernetes_namespace": spec.namespace or "default",
                "__meta_kubernetes_pod_name": f"{app}-7d9f8b6c5d-x2x9q",
                "__meta_kubernetes_pod_phase": "Running",
                "__meta_kubernetes_pod_container_port_name": port_name,
                "__meta_kubernetes_pod_label_app_kubernetes_io_name": app,
                "__meta_kubernetes_pod_label_app_kubernetes_io_version": spec.version,
            },
        }

    targets = [pod(spec.name, address, "http")]
    if decoy is not None:
        targets.append(pod("other-app", decoy, "http"))
    return targets


def file_sd(config: dict[str, Any], targets_file: str) -> dict[str, Any]:
    """Debian's Prometheus is built without Kubernetes discovery: swap only the discovery block for
    a file, keep the job name, interval and relabel rules as rendered."""
    job = dict(config["scrape_configs"][0])
    assert job.pop("kubernetes_sd_configs")[0]["role"] == "pod"
    job["file_sd_configs"] = [{"files": [targets_file], "refresh_interval": "1s"}]
    return {**config, "scrape_configs": [job]}


@pytest.fixture(scope="session")
def seed() -> AppSpec:
    return load_spec(SEED)


@pytest.fixture(scope="session")
def worker() -> AppSpec:
    return load_spec(WORKER)


QUEUE_WORKER = ROOT / "examples" / "worker" / "kubeship.yaml"


@pytest.fixture(scope="session")
def queue_worker() -> AppSpec:
    """examples/worker with every kind of dependency, and a second Redis with its own thresholds."""
    spec = load_spec(QUEUE_WORKER)
    dependencies = [
        {"kind": "redis"},
        {"kind": "redis", "name": "cache", "thresholds": {"hitRatio": 0.95}, "for": "0s"},
        {"kind": "kafka"},
        {"kind": "postgres"},
        {"kind": "node"},
    ]
    observe = spec.observe.model_dump(by_alias=True, exclude={"dependencies"})
    return AppSpec.model_validate(
        {**spec.model_dump(by_alias=True), "observe": {**observe, "dependencies": dependencies}}
    )
