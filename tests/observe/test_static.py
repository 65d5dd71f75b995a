"""Everything kubeship renders for monitoring passes the tools that will run it: promtool and amtool."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from kubeship.masked import Secret
from kubeship.names import LATENCY_BUCKETS, METRIC_DURATION, METRIC_REQUESTS
from kubeship.observe import (
    alertmanager_config,
    dashboard,
    observe_objects,
    prometheus_config,
    prometheus_rule,
    rule_groups,
    to_text,
)
from kubeship.observe.alertmanager import TEMPLATE, TEMPLATE_FILE
from kubeship.promql import le
from kubeship.spec import AppSpec, parse_spec
from tests.observe.conftest import SEED, WORKER, file_sd, pod_targets, run

CANARY = "canary-S3cr3t-value-0451"


def write_rules(spec: AppSpec, tmp: Path) -> Path:
    path = tmp / "rules.yml"
    path.write_text(to_text(rule_groups(spec)))
    return path


@pytest.mark.parametrize("example", [SEED, WORKER], ids=["seed", "worker"])
def test_promtool_accepts_rules_and_scrape_config(example: Path, tmp_path: Path) -> None:
    spec = parse_spec(example.read_text(), str(example))
    write_rules(spec, tmp_path)
    (tmp_path / "targets.json").write_text(json.dumps(pod_targets(spec, "127.0.0.1:8080")))
    config = file_sd(prometheus_config(spec, ["rules.yml"]), "targets.json")
    (tmp_path / "prometheus.yml").write_text(to_text(config))
    rules = run("promtool", "check", "rules", "rules.yml", cwd=tmp_path)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS" in rules.stdout
    config = run("promtool", "check", "config", "prometheus.yml", cwd=tmp_path)
    assert config.returncode == 0, config.stdout + config.stderr


def test_promtool_catches_a_broken_rule(seed: AppSpec, tmp_path: Path) -> None:
    """The check is real: a rule file with one mangled expression fails it."""
    groups = rule_groups(seed)
    groups["groups"][0]["rules"][0]["expr"] += " ) )"
    (tmp_path / "rules.yml").write_text(to_text(groups))
    assert run("promtool", "check", "rules", "rules.yml", cwd=tmp_path).returncode == 1


def test_prometheus_rule_object_carries_the_same_groups(seed: AppSpec) -> None:
    obj = prometheus_rule(seed)
    assert obj["kind"] == "PrometheusRule"
    assert obj["spec"] == rule_groups(seed)


def test_every_alert_has_routing_labels_and_human_text(seed: AppSpec, worker: AppSpec) -> None:
    for spec in (seed, worker):
        alerts = [r for g in rule_groups(spec)["groups"] for r in g["rules"] if "alert" in r]
        assert alerts
        for alert in alerts:
            assert alert["labels"]["service"] == spec.name
            assert alert["labels"]["severity"] in ("critical", "warning", "info")
            assert {"summary", "description", "runbook"} <= set(alert["annotations"])
    seed_alerts = [r for g in rule_groups(seed)["groups"] for r in g["rules"] if "alert" in r]
    assert all(a["labels"]["team"] == "shop" for a in seed_alerts)
    assert all(
        a["annotations"]["runbook_url"].startswith("https://runbooks.example.com/web#") for a in seed_alerts
    )


def test_burn_rate_alerts_follow_the_sre_workbook(seed: AppSpec) -> None:
    burns = [
        r
        for g in rule_groups(seed)["groups"]
        for r in g["rules"]
        if r.get("alert") == "AvailabilityBudgetBurn"
    ]
    table = {(r["labels"]["long_window"], r["labels"]["short_window"]): r for r in burns}
    assert set(table) == {("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")}
    assert table["1h", "5m"]["labels"]["severity"] == "critical"
    assert table["6h", "30m"]["labels"]["severity"] == "critical"
    assert table["1d", "2h"]["labels"]["severity"] == "warning"
    assert "(14.4 * 0.001)" in table["1h", "5m"]["expr"]
    assert "(6 * 0.001)" in table["6h", "30m"]["expr"]


def test_rules_use_the_runtime_metric_names_and_bucket_labels(seed: AppSpec) -> None:
    """The latency SLO reads the bucket whose `le` the runtime's client really writes."""
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    registry = CollectorRegistry()
    Histogram(METRIC_DURATION, "d", buckets=LATENCY_BUCKETS, registry=registry).observe(0.1)
    exposed = generate_latest(registry).decode()
    assert f'le="{le(0.3)}"' in exposed and f'le="{le(1.0)}"' in exposed
    text = to_text(rule_groups(seed))
    assert f'{METRIC_DURATION}_bucket{{job="web",le="0.3"}}' in text
    assert f"rate({METRIC_REQUESTS}{{" in text


def alerting_secrets() -> dict[str, Secret]:
    return {
        "oncall-email.email.password": Secret(CANARY),
        "shop-dingtalk.dingtalk.url": Secret("https://oapi.dingtalk.com/robot/send?access_token=" + CANARY),
    }


def test_amtool_accepts_the_alertmanager_config(seed: AppSpec, tmp_path: Path) -> None:
    (tmp_path / TEMPLATE_FILE).write_text(TEMPLATE)
    (tmp_path / "am.yml").write_text(to_text(alertmanager_config(seed, alerting_secrets(), str(tmp_path))))
    result = run("amtool", "check-config", "am.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " - 3 receivers" in result.stdout and " - 1 templates\n  SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=critical", "team=shop"], "oncall-email,shop-dingtalk"),  # continue: true
        (["severity=warning", "team=shop"], "shop-dingtalk"),
        (["severity=warning", "team=payments"], "ops-webhook"),  # the default
    ],
)
def test_routes_send_alerts_where_the_spec_says(
    seed: AppSpec, tmp_path: Path, labels: list[str], receivers: str
) -> None:
    (tmp_path / TEMPLATE_FILE).write_text(TEMPLATE)
    (tmp_path / "am.yml").write_text(to_text(alertmanager_config(seed, alerting_secrets(), str(tmp_path))))
    result = run(
        "amtool",
        "config",
        "routes",
        "test",
        "--config.file=am.yml",
        f"--verify.receivers={receivers}",
        *labels,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_inhibition_silences_warnings_of_the_same_service(seed: AppSpec) -> None:
    inhibit = alertmanager_config(seed)["inhibit_rules"]
    assert {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity=~"warning|info"'],
        "equal": ["service"],
    } in inhibit


def test_receiver_secrets_live_only_in_secrets(seed: AppSpec) -> None:
    objects = observe_objects(seed, alerting_secrets())
    secrets = [o for o in objects if o["kind"] == "Secret"]
    assert {o["metadata"]["name"] for o in secrets} == {"web-alertmanager", "web-dingtalk"}
    plain = [o for o in objects if o["kind"] != "Secret"]
    assert CANARY not in json.dumps(plain)
    decoded = "".join(base64.b64decode(v).decode() for o in secrets for v in o["data"].values())
    assert CANARY in decoded  # it is there, where Alertmanager and the bridge read it
    bridge = yaml.safe_load(base64.b64decode(secrets[1]["data"]["config.yml"]))
    assert bridge["targets"]["shop-dingtalk"]["url"].endswith(CANARY)
    am = yaml.safe_load(base64.b64decode(secrets[0]["data"]["alertmanager.yaml"]))
    dingtalk = next(r for r in am["receivers"] if r["name"] == "shop-dingtalk")
    assert dingtalk["webhook_configs"][0]["url"].endswith("/dingtalk/shop-dingtalk/send")


def test_dashboard_plots_the_service_against_its_objectives(seed: AppSpec) -> None:
    board = dashboard(seed)
    titles = [p["title"] for p in board["panels"]]
    assert titles == [
        "Requests per second",
        "Error ratio (5xx) vs SLO",
        "Latency",
        "Error budget remaining",
        "CPU vs requests",
        "Memory vs requests",
        "Replicas vs HPA bounds",
    ]
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert "vector(0.001)" in exprs and "vector(0.3)" in exprs
    assert len({p["id"] for p in board["panels"]}) == len(titles)
    config_map = observe_objects(seed, alerting_secrets())[-1]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["web.json"]) == board
