"""The worker's backlog and its dependencies, watched by a real Prometheus.

Real: redis-server, the worker under `kubeship serve`, Debian's redis_exporter and node_exporter,
Prometheus with the rendered scrape jobs and rules. Debian's Prometheus has no Kubernetes discovery,
so each rendered job's discovery block becomes a file of targets carrying the labels Kubernetes
discovery would give (the rendered relabel rules then run unchanged, and drop a decoy). A FAKE
CLUSTER EXPORTER serves what kube-state-metrics would for the worker pods (no cluster here).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubeship.autoscale.adapter import metrics_query
from kubeship.names import deployment_pod_pattern
from kubeship.observe import prometheus_config, rule_groups, to_text
from kubeship.render.scaling import adapter_rules
from kubeship.spec import AppSpec, load_spec
from kubeship.spec.dependencies import KINDS
from tests.conftest import ROOT, free_port, run_cli
from tests.e2e.conftest import kube_state_metrics, start_prometheus, wait_http
from tests.e2e.test_worker import STREAM, Workers, start_redis
from tests.observe.conftest import tool

pytestmark = pytest.mark.e2e

SPEC_FILE = ROOT / "examples" / "worker" / "kubeship.yaml"
PODS = ["worker-5d9f7c8b6d-aaaaa", "worker-5d9f7c8b6d-bbbbb"]


def observed_spec() -> AppSpec:
    """The example as written, scraped every second and its dependency alerts without `for`."""
    spec = load_spec(SPEC_FILE)
    data = spec.model_dump(by_alias=True)
    data["observe"]["scrapeInterval"] = "1s"
    data["observe"]["dependencies"] = [{**d, "for": "0s"} for d in data["observe"]["dependencies"]]
    return AppSpec.model_validate(data)


def endpoint_target(address: str, namespace: str, service_label: str, port: str) -> dict[str, Any]:
    """What Kubernetes endpoints discovery hands Prometheus for one endpoint of a Service."""
    return {
        "targets": [address],
        "labels": {
            "__meta_kubernetes_namespace": namespace,
            "__meta_kubernetes_service_label_app_kubernetes_io_name": service_label,
            "__meta_kubernetes_endpoint_port_name": port,
            "__meta_kubernetes_endpoint_node_name": "node-a",
        },
    }


def pod_target(address: str, pod: str) -> dict[str, Any]:
    return {
        "targets": [address],
        "labels": {
            "__meta_kubernetes_namespace": "default",
            "__meta_kubernetes_pod_name": pod,
            "__meta_kubernetes_pod_phase": "Running",
            "__meta_kubernetes_pod_container_port_name": "http",
            "__meta_kubernetes_pod_label_app_kubernetes_io_name": "worker",
            "__meta_kubernetes_pod_label_app_kubernetes_io_version": "1.0.0",
        },
    }


class Prom:
    def __init__(self, url: str) -> None:
        self.url = url

    def value(self, promql: str) -> float | None:
        result = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}).json()["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def vector(self, promql: str) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/api/v1/query", params={"query": promql}).json()["data"]["result"])

    def wait(self, promql: str, check: Any, timeout: float = 60, what: str = "") -> float:
        deadline = time.monotonic() + timeout
        while True:
            value = self.value(promql)
            if value is not None and check(value):
                return value
            assert time.monotonic() < deadline, f"{what or promql}: last value {value}"
            time.sleep(0.5)

    def firing(self, alert: str) -> list[dict[str, Any]]:
        alerts = httpx.get(f"{self.url}/api/v1/alerts").json()["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == alert and a["state"] == "firing"]

    def wait_firing(self, alert: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not (found := self.firing(alert)):
            assert time.monotonic() < deadline, f"{alert} never fired"
            time.sleep(0.5)
        return found[0]


def test_backlog_adapter_query_hpa_decision_and_redis_alerts(
    daemons: Any, exposition: Any, tmp_path: Path
) -> None:
    spec = observed_spec()
    client = start_redis(daemons, tmp_path)
    redis_port = client.connection_pool.connection_kwargs["port"]
    exporter_port, node_port = free_port(), free_port()
    daemons(
        [tool("prometheus-redis-exporter"), f"-redis.addr=redis://127.0.0.1:{redis_port}",
         f"-web.listen-address=127.0.0.1:{exporter_port}", f"-check-single-streams={STREAM}"],
        tmp_path / "redis_exporter.log",
    )  # fmt: skip
    daemons(
        [tool("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{node_port}",
         "--collector.disable-defaults", "--collector.cpu", "--collector.loadavg", "--collector.meminfo",
         "--collector.filesystem"],
        tmp_path / "node_exporter.log",
    )  # fmt: skip
    wait_http(f"http://127.0.0.1:{exporter_port}/metrics")
    wait_http(f"http://127.0.0.1:{node_port}/metrics")
    started = time.time()
    ksm = exposition(lambda: "\n".join(kube_state_metrics("worker", PODS, started, {"cpu": "0.1"})) + "\n")
    pods = Workers(tmp_path, redis_port)
    try:
        running = [pods.start(pod, work_ms="10") for pod in PODS]
        targets = [pod_target(f"127.0.0.1:{s.port}", pod) for s, pod in zip(running, PODS, strict=True)]
        (tmp_path / "worker.json").write_text(json.dumps(targets))
        redis_port_name, node_port_name = KINDS["redis"].port, KINDS["node"].port
        redis_ns, node_ns = (str(d.namespace) for d in spec.observe.dependencies)
        exporter, node = f"127.0.0.1:{exporter_port}", f"127.0.0.1:{node_port}"
        (tmp_path / "redis.json").write_text(json.dumps([
            endpoint_target(exporter, redis_ns, "prometheus-redis-exporter", redis_port_name),
            # a decoy: the same exporter behind another Service; the rendered relabeling drops it
            endpoint_target(exporter, redis_ns, "other-exporter", redis_port_name),
        ]))  # fmt: skip
        (tmp_path / "node.json").write_text(
            json.dumps([endpoint_target(node, node_ns, "prometheus-node-exporter", node_port_name)])
        )
        config = prometheus_config(spec, ["rules.yml"])
        config["global"]["evaluation_interval"] = "1s"
        for job in config["scrape_configs"]:
            job.pop("kubernetes_sd_configs")
            job["file_sd_configs"] = [
                {"files": [str(tmp_path / f"{job['job_name']}.json")], "refresh_interval": "1s"}
            ]
        config["scrape_configs"].append(
            {
                "job_name": "kube-state-metrics",
                "scrape_interval": "1s",
                "static_configs": [{"targets": [ksm]}],
            }
        )
        (tmp_path / "prometheus.yml").write_text(to_text(config))
        (tmp_path / "rules.yml").write_text(to_text(rule_groups(spec)))
        prom = Prom(start_prometheus(daemons, tmp_path, free_port()))
        for job, n in (("worker", 2), ("redis", 1), ("node", 1)):
            prom.wait(f'count(up{{job="{job}"}} == 1)', lambda v, n=n: v == n, what=f"{job} scraped")
        assert prom.value('count(up{job="redis"})') == 1  # the decoy Service was not scraped

        # A burst: the backlog rises in Prometheus, as the worker reports it.
        pipe = client.pipeline(transaction=False)
        for n in range(4000):
            pipe.xadd(STREAM, {"quantity": "1", "price": str(n)})
        pipe.execute()
        backlog_query = 'sum(max by (stream, group, state) (kubeship_worker_backlog_messages{job="worker"}))'
        prom.wait(backlog_query, lambda v: v > 2000, what="the backlog rising")

        # The rendered adapter rules, evaluated by this Prometheus: what the HPA would read.
        adapter = adapter_rules(spec)
        assert adapter is not None
        rules = yaml.safe_load(adapter["data"]["config.yaml"])
        external = metrics_query(rules, "External", "kubeship_worker_backlog_messages", "default", "")
        per_pod = metrics_query(
            rules, "Pods", "kubeship_worker_messages_per_second", "default", deployment_pod_pattern("worker")
        )
        assert external is not None and per_pod is not None
        lag = prom.value(external)
        assert lag is not None and lag > 1000, external
        prom.wait(f"count({per_pod} > 0)", lambda v: v == 2, what="both pods' handling rates")
        rates = prom.vector(per_pod)
        assert sorted(r["metric"]["pod"] for r in rates) == PODS, per_pod
        assert all(float(r["value"][1]) > 0 for r in rates), rates

        # kubeship autoscale explain --prometheus: the worker HPA's decision from the live data.
        explained = run_cli(
            "autoscale", "explain", "--prometheus", prom.url, "--namespace", "default", "--window", "5s",
            "--hpa", str(SPEC_FILE), cwd=ROOT,
        )  # fmt: skip
        assert explained.returncode == 0, explained.stderr
        text = explained.stdout
        assert "External kubeship_worker_backlog_messages" in text, text
        assert "Pods kubeship_worker_messages_per_second" in text, text
        assert "scale up: 2 →" in text, text

        # The two pods work it off: the backlog falls to nothing.
        prom.wait(backlog_query, lambda v: v == 0, timeout=90, what="the backlog falling to 0")
        assert client.hlen(f"{STREAM}:processed") == 4000

        # Redis alerts: the hit ratio drops, then Redis stops.
        assert not prom.firing("RedisHitRatioLow")
        client.set("sku:1", "in stock")
        pipe = client.pipeline(transaction=False)
        for _ in range(50):
            pipe.get("sku:1")
        for n in range(3000):
            pipe.get(f"sku:missing:{n}")
        pipe.execute()
        alert = prom.wait_firing("RedisHitRatioLow")
        assert alert["labels"]["dependency"] == "redis" and alert["labels"]["service"] == "worker"
        assert not prom.firing("RedisDown")
        client.shutdown(nosave=True)
        down = prom.wait_firing("RedisDown")
        assert down["labels"]["severity"] == "critical"

        # Every rendered rule evaluates (node_exporter's included): none in error.
        groups = httpx.get(f"{prom.url}/api/v1/rules").json()["data"]["groups"]
        broken = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r["health"] == "err"]
        assert not broken, broken
        assert {g["name"] for g in groups} == {"worker", "worker-redis", "worker-node"}
    finally:
        for pod in list(pods.running):
            pods.kill(pod)
