"""The Prometheus Adapter's rule lookup and query templating, as `explain --prometheus` uses them."""

from __future__ import annotations

from pathlib import Path

from kubeship.autoscale.adapter import metrics_query
from kubeship.autoscale.snapshot import queries
from tests.conftest import free_port, run_cli

CONFIG = {
    "rules": [
        {
            "seriesQuery": 'http_requests_total{namespace!="",pod!=""}',
            "name": {"matches": "^(.*)_total$", "as": "${1}_per_second"},
            "metricsQuery": "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
        }
    ],
    "externalRules": [
        {
            "seriesQuery": "kafka_consumergroup_lag",
            "resources": {"namespaced": False},
            "name": {"matches": "^kafka_consumergroup_lag$", "as": "kafka_consumergroup_lag"},
            "metricsQuery": "sum(<<.Series>>{<<.LabelMatchers>>})",
        },
        {
            "seriesQuery": 'queue_depth{namespace!=""}',
            "resources": {"overrides": {"namespace": {"resource": "namespace"}}},
            "metricsQuery": "max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
        },
    ],
}


def test_a_pods_rule_found_by_its_exposed_name_and_filled_in() -> None:
    query = metrics_query(CONFIG, "Pods", "http_requests_per_second", "shop", "web-[a-z0-9]+-[a-z0-9]{5}")
    assert query == (
        'sum(rate(http_requests_total{namespace="shop",pod=~"web-[a-z0-9]+-[a-z0-9]{5}"}[2m])) by (pod)'
    )


def test_external_rules_with_and_without_namespace_and_a_selector() -> None:
    assert metrics_query(CONFIG, "External", "kafka_consumergroup_lag", "shop", "", {"topic": "orders"}) == (
        'sum(kafka_consumergroup_lag{topic="orders"})'
    )
    # no `name` section: the adapter exposes the series under its own name
    assert (
        metrics_query(CONFIG, "External", "queue_depth", "shop", "")
        == 'max(queue_depth{namespace="shop"}) by ()'
    )


def test_a_metric_no_rule_serves_is_none_and_explain_falls_back_to_the_series() -> None:
    assert metrics_query(CONFIG, "Pods", "kafka_consumergroup_lag", "shop", "x") is None
    hpa = {
        "spec": {
            "scaleTargetRef": {"name": "web"},
            "metrics": [
                {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"}}},
                {"type": "External", "external": {"metric": {"name": "unserved"}}},
            ],
        }
    }
    asked = queries(hpa, "shop", adapter=CONFIG)
    assert asked["pods:http_requests_per_second"].startswith("sum by (pod) (sum(rate(http_requests_total{")
    assert asked["external:unserved"] == "sum(unserved)"


def test_problems_name_the_rule_and_the_field() -> None:
    from kubeship.autoscale.adapter import problems

    assert problems(CONFIG) == []
    assert problems([1]) == ["expected a mapping with rules / externalRules, got list"]
    assert problems({"rules": [5, {"seriesQuery": "a", "metricsQuery": 1, "name": "x"}]}) == [
        "rules[0]: expected a mapping",
        "rules[1].metricsQuery: expected a string",
        "rules[1].name: expected a mapping",
    ]
    bad_regex = {"externalRules": [{"seriesQuery": "a", "metricsQuery": "b", "name": {"matches": "("}}]}
    assert problems(bad_regex)[0].startswith("externalRules[0].name.matches: not a regular expression")


def test_a_broken_adapter_config_in_the_manifests_is_one_clear_line(tmp_path: Path) -> None:
    hpa = (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: w}\n"
        "spec: {scaleTargetRef: {kind: Deployment, name: w}, maxReplicas: 3}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w-adapter-rules}\n"
    )
    for data, message in (
        ('data: {config.yaml: "rules: [ {"}', "ConfigMap w-adapter-rules config.yaml: not YAML"),
        (
            'data: {config.yaml: "rules: [5]"}',
            "ConfigMap w-adapter-rules config.yaml: rules[0]: expected a mapping",
        ),
        ("data: {config.yaml: '" + "a: &a [x]\n" + "'}", None),  # no rules: not an adapter config, no error
    ):
        manifest = tmp_path / "m.yaml"
        manifest.write_text(hpa + data + "\n")
        result = run_cli(
            "autoscale", "explain", "--prometheus", f"http://127.0.0.1:{free_port()}", "--hpa", str(manifest)
        )
        assert "Traceback" not in result.stderr and result.returncode == 2
        assert (message or "Prometheus unreachable") in result.stderr


def test_an_aliased_adapter_config_over_the_limits_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: w}\n"
        "spec: {scaleTargetRef: {kind: Deployment, name: w}, maxReplicas: 3}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w-adapter-rules}\n"
        "data: {config.yaml: 'rules: [&r {seriesQuery: a, metricsQuery: b}, *r, *r, *r]'}\n"
    )
    result = run_cli(
        "autoscale", "explain", "--prometheus", f"http://127.0.0.1:{free_port()}", "--hpa", str(manifest),
        KUBESHIP_INPUT_LIMITS="aliases=2",
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "ConfigMap w-adapter-rules config.yaml" in result.stderr and "aliases" in result.stderr
