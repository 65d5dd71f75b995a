"""`kubeship autoscale explain --prometheus`: the decision's inputs read from a real Prometheus.

kube-state-metrics and the kubelet's cAdvisor need a cluster, so a FAKE CLUSTER EXPORTER (a few
lines below) serves the series they would for three pods of the seed's `web` Deployment: 250m
CPU requested and 200m used each (80 %), 100Mi of memory. Prometheus scrapes it for real; kubeship
queries Prometheus for real.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubeship.observe import to_text
from tests.conftest import ROOT, free_port, run_cli
from tests.e2e.conftest import kube_state_metrics, start_prometheus

pytestmark = pytest.mark.e2e

PODS = ["web-5d9f7c8b6d-aaaaa", "web-5d9f7c8b6d-bbbbb", "web-5d9f7c8b6d-ccccc"]


def fake_cluster_exposition(started: float) -> str:
    """What kube-state-metrics and cAdvisor would expose for the three pods (a fake: no cluster)."""
    now = time.time()
    lines = kube_state_metrics("web", PODS, started, {"cpu": "0.25", "memory": "134217728"})
    for pod in PODS:
        p = f'namespace="default",pod="{pod}"'
        lines += [  # cAdvisor's
            f'container_cpu_usage_seconds_total{{{p},container="web"}} {0.2 * (now - started) + 1000:.6f}',
            f'container_memory_working_set_bytes{{{p},container="web"}} 104857600',
        ]
    return "\n".join(lines) + "\n"


def test_explain_reads_the_snapshot_from_prometheus(daemons: Any, exposition: Any, tmp_path: Path) -> None:
    started = time.time()
    exporter = exposition(lambda: fake_cluster_exposition(started))
    prom_port = free_port()
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "cluster",
                "static_configs": [{"targets": [exporter]}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(to_text(config))
    url = start_prometheus(daemons, tmp_path, prom_port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the first scrape, then a 5 s window of history
        if httpx.get(f"{url}/api/v1/query", params={"query": "kube_pod_info"}).json()["data"]["result"]:
            break
        time.sleep(0.3)
    time.sleep(6)
    result = run_cli(
        "autoscale", "explain", "--prometheus", url, "--namespace", "default", "--window", "5s",
        "--hpa", str(ROOT / "examples" / "seed" / "kubeship.yaml"), cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Resource cpu: current 80% of requests, target 50% of requests → ratio 1.600 → proposes 5" in text
    assert (
        "Resource memory: current 104857600 per pod, target 200Mi per pod → ratio 0.500 → proposes 2" in text
    )
    assert "counted 3 pod(s)" in text
    assert text.rstrip().endswith("→ scale up: 3 → 5")


def test_unreachable_prometheus_is_one_line() -> None:
    result = run_cli(
        "autoscale", "explain", "--prometheus", f"http://127.0.0.1:{free_port()}",
        "--hpa", str(ROOT / "examples" / "seed" / "kubeship.yaml"), cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Prometheus unreachable" in result.stderr and "Traceback" not in result.stderr
