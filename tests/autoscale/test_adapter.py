"""The Prometheus Adapter's rule lookup and query templating, as `explain --prometheus` uses them."""

from __future__ import annotations

from kubeship.autoscale.adapter import metrics_query
from kubeship.autoscale.snapshot import queries

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
