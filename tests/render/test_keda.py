"""autoscaling.engine: keda renders a ScaledObject in place of the HPA and the adapter rules."""

from __future__ import annotations

import pytest

from kubeship.errors import SpecError
from kubeship.observe import rule_groups
from kubeship.render import render
from kubeship.spec import load_spec, parse_spec
from tests.conftest import ROOT

KEDA = ROOT / "examples" / "seed" / "worker-keda.kubeship.yaml"


def test_scaled_object_replaces_hpa_and_adapter() -> None:
    objects = render(load_spec(KEDA))
    kinds = [o["kind"] for o in objects]
    assert "HorizontalPodAutoscaler" not in kinds
    assert not any(o["metadata"]["name"].endswith("-adapter-rules") for o in objects)
    scaled = next(o for o in objects if o["kind"] == "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    body = scaled["spec"]
    assert body["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"}
    assert (body["minReplicaCount"], body["maxReplicaCount"]) == (2, 10)
    assert body["triggers"] == [
        {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}},
        {
            "type": "kafka",
            "metricType": "AverageValue",
            "metadata": {
                "bootstrapServers": "kafka.kafka.svc:9092",
                "consumerGroup": "worker",
                "topic": "orders",
                "lagThreshold": "100",
            },
        },
    ]


def test_prometheus_trigger_and_behavior() -> None:
    spec = parse_spec(
        'name: w\nversion: "1"\nnamespace: jobs\nimage: {name: w, tag: "1"}\n'
        "autoscaling:\n  engine: keda\n  keda: {prometheus: 'http://prom:9090'}\n"
        "  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}\n"
        "  custom: [{name: queue_depth, type: External, target: '500'}]\n"
    )
    scaled = next(o for o in render(spec) if o["kind"] == "ScaledObject")["spec"]
    assert scaled["triggers"] == [
        {
            "type": "prometheus",
            "name": "queue_depth",
            "metricType": "Value",
            "metadata": {"serverAddress": "http://prom:9090", "query": 'sum(queue_depth{namespace="jobs"})',
                         "threshold": "500"},
        }
    ]  # fmt: skip
    assert scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] == {
        "scaleDown": {"stabilizationWindowSeconds": 60}
    }


def test_hpa_alerts_watch_the_hpa_keda_creates() -> None:
    text = str(rule_groups(load_spec(KEDA)))
    assert 'horizontalpodautoscaler="keda-hpa-worker"' in text


def test_kafka_trigger_needs_engine_keda() -> None:
    with pytest.raises(SpecError, match="set engine: keda"):
        parse_spec(
            'name: w\nversion: "1"\nimage: {name: w, tag: "1"}\n'
            "autoscaling: {custom: [{name: lag, target: '1', kafka: {bootstrapServers: k:9092, "
            "consumerGroup: g, topic: t}}]}\n"
        )


QUEUE_WORKER = ROOT / "examples" / "worker"


def test_redis_streams_trigger_scales_on_the_group_lag() -> None:
    scaled = next(
        o for o in render(load_spec(QUEUE_WORKER / "kubeship-keda.yaml")) if o["kind"] == "ScaledObject"
    )
    redis, rate = scaled["spec"]["triggers"]
    assert redis == {
        "type": "redis-streams",
        "metricType": "AverageValue",
        "metadata": {"address": "redis.data.svc:6379", "stream": "orders", "consumerGroup": "worker",
                     "lagCount": "100"},
    }  # fmt: skip
    assert rate["type"] == "prometheus" and "kubeship_worker_messages_total" in rate["metadata"]["query"]


def test_redis_streams_pending_count_and_password() -> None:
    spec = parse_spec(
        'name: w\nversion: "1"\nimage: {name: w, tag: "1"}\n'
        "autoscaling:\n  engine: keda\n  custom: [{name: pending, target: '20', redisStreams: "
        "{address: r:6379, stream: s, consumerGroup: g, count: pending, passwordFromEnv: REDIS_PASSWORD}}]\n"
    )
    trigger = next(o for o in render(spec) if o["kind"] == "ScaledObject")["spec"]["triggers"][0]
    assert trigger["metadata"] == {
        "address": "r:6379", "stream": "s", "consumerGroup": "g", "pendingEntriesCount": "20",
        "passwordFromEnv": "REDIS_PASSWORD",
    }  # fmt: skip


def test_adapter_serves_a_counter_as_a_rate_under_its_own_name() -> None:
    import yaml

    adapter = next(o for o in render(load_spec(QUEUE_WORKER / "kubeship.yaml")) if o["kind"] == "ConfigMap"
                   and o["metadata"]["name"] == "worker-adapter-rules")  # fmt: skip
    config = yaml.safe_load(adapter["data"]["config.yaml"])
    (pods,) = config["rules"]
    assert pods["seriesQuery"] == 'kubeship_worker_messages_total{namespace!="",pod!=""}'
    assert pods["name"] == {
        "matches": "^kubeship_worker_messages_total$",
        "as": "kubeship_worker_messages_per_second",
    }
    (external,) = config["externalRules"]
    assert external["resources"] == {"overrides": {"namespace": {"resource": "namespace"}}}
    assert external["name"]["as"] == "kubeship_worker_backlog_messages"
