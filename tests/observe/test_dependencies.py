"""observe.dependencies rendered: spec errors, scrape jobs and ServiceMonitors, dashboard rows, docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kubeship.errors import SpecError
from kubeship.observe import dashboard, observe_objects, prometheus_config, to_text
from kubeship.observe.dependencies import ALERTS
from kubeship.spec import AppSpec, parse_spec
from kubeship.spec.dependencies import KINDS
from tests.conftest import ROOT
from tests.observe.conftest import run

BASE = 'name: worker\nversion: "1"\nimage: {name: worker, tag: "1"}\n'


def problems(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(BASE + text, "kubeship.yaml")
    return str(info.value)


def test_an_unknown_threshold_is_named_with_the_nearest_one() -> None:
    message = problems("observe:\n  dependencies:\n    - {kind: redis, thresholds: {hitRate: 0.9}}\n")
    assert "kubeship.yaml:6" in message
    assert "redis has no threshold 'hitRate': did you mean 'hitRatio'?" in message


def test_two_dependencies_of_one_name_are_refused() -> None:
    message = problems("observe:\n  dependencies:\n    - {kind: redis}\n    - {kind: redis}\n")
    assert "two dependencies are called 'redis': give one a `name`" in message


def test_an_unknown_kind_lists_the_known_ones() -> None:
    message = problems("observe:\n  dependencies:\n    - {kind: mysql}\n")
    assert all(kind in message for kind in KINDS)


def test_scrape_jobs_find_the_exporter_service_by_label_and_port(
    queue_worker: AppSpec, tmp_path: Path
) -> None:
    config = prometheus_config(queue_worker, [])
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"worker", "redis", "cache", "kafka", "postgres", "node"}
    redis = jobs["redis"]
    assert redis["kubernetes_sd_configs"] == [{"role": "endpoints"}]
    keep = {
        tuple(r["source_labels"]): r["regex"] for r in redis["relabel_configs"] if r.get("action") == "keep"
    }
    assert keep == {
        ("__meta_kubernetes_service_label_app_kubernetes_io_name",): "prometheus-redis-exporter",
        ("__meta_kubernetes_endpoint_port_name",): "redis-exporter",
    }
    # promtool reads it (discovery swapped for files: Debian's build has no Kubernetes discovery)
    for job in config["scrape_configs"]:
        job.pop("kubernetes_sd_configs")
        job["file_sd_configs"] = [{"files": ["targets.json"]}]
    (tmp_path / "targets.json").write_text("[]")
    (tmp_path / "prometheus.yml").write_text(to_text(config))
    result = run("promtool", "check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_monitors_set_the_dependency_job(queue_worker: AppSpec) -> None:
    monitors = [o for o in observe_objects(queue_worker) if o["kind"] == "ServiceMonitor"]
    by_name = {m["metadata"]["name"]: m for m in monitors}
    assert set(by_name) == {
        "worker",
        *(f"worker-{d}" for d in ("redis", "cache", "kafka", "postgres", "node")),
    }
    node = by_name["worker-node"]["spec"]
    assert node["selector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus-node-exporter"}}
    endpoint = node["endpoints"][0]
    assert endpoint["port"] == "http-metrics"
    assert {"action": "replace", "targetLabel": "job", "replacement": "node"} in endpoint["relabelings"]


def test_scrape_false_keeps_rules_and_drops_the_scraping() -> None:
    spec = parse_spec(
        BASE + "observe:\n  dependencies:\n    - {kind: postgres, job: pg, scrape: false}\n", "k"
    )
    assert [j["job_name"] for j in prometheus_config(spec, [])["scrape_configs"]] == ["worker"]
    assert not [o for o in observe_objects(spec) if o["metadata"]["name"] == "worker-postgres"]
    rules = yaml.safe_load(to_text(next(o for o in observe_objects(spec) if o["kind"] == "PrometheusRule")))
    exprs = [r["expr"] for g in rules["spec"]["groups"] for r in g["rules"] if g["name"] == "worker-postgres"]
    assert exprs and all('job="pg"' in e for e in exprs)


def test_the_dashboard_has_a_row_per_dependency(queue_worker: AppSpec) -> None:
    panels = dashboard(queue_worker)["panels"]
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert rows == ["redis: redis", "redis: cache", "kafka: kafka", "postgres: postgres", "node: node"]
    exprs = " ".join(t["expr"] for p in panels for t in p.get("targets", []))
    for metric in ("redis_keyspace_hits_total", "kafka_consumergroup_lag", "pg_settings_max_connections",
                   "node_filesystem_avail_bytes", 'job="cache"'):  # fmt: skip
        assert metric in exprs
    positions = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in panels]
    assert len(positions) == len(set(positions)), "two panels in one place"


def test_the_readme_table_is_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| (\w+) \| `(\w+)` \| ([\d.]+) ", readme, re.M))
    expected = {
        (kind, name, f"{t.default:g}") for kind, k in KINDS.items() for name, t in k.thresholds.items()
    }
    assert rows == expected
    for kind, alerts in ALERTS.items():
        assert f"- {kind} ({KINDS[kind].exporter}): " + ", ".join(a.name for a in alerts) in readme
