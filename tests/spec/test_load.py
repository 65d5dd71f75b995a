"""Broken specs: each gives the right message at the right line and column, all at once, no traceback."""

from __future__ import annotations

import pytest

from kubeship.errors import SpecError
from kubeship.spec import parse_spec

VALID = """\
name: web
version: "1.0.0"
image: {name: web, tag: "1.0.0"}
"""


def problems(text: str, env: str | None = None) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "kubeship.yaml", env)
    assert "Traceback" not in str(info.value)
    return str(info.value).splitlines()


CASES = [
    pytest.param(
        "replicas: three\n",
        "kubeship.yaml:4:11: replicas: expected a whole number, got 'three'",
        id="wrong-type",
    ),
    pytest.param(
        "servce: {}\n",
        "kubeship.yaml:4:1: servce: unknown key 'servce'; did you mean 'service'?",
        id="unknown-key",
    ),
    pytest.param(
        "container:\n  resources:\n    requests: {cpu: fifty}\n",
        "kubeship.yaml:6:21: container.resources.requests.cpu: "
        "expected a quantity like 500m, 1 or 256Mi, got 'fifty'",
        id="bad-quantity",
    ),
    pytest.param(
        "service: {type: NodePort, nodePort: 40000}\n",
        "kubeship.yaml:4:37: service.nodePort: nodePort 40000 is outside the range 30000-32767",
        id="node-port-range",
    ),
    pytest.param(
        "autoscaling: {minReplicas: 5, maxReplicas: 2, cpu: 50}\n",
        "kubeship.yaml:4:1: autoscaling: minReplicas (5) is greater than maxReplicas (2)",
        id="min-above-max",
    ),
    pytest.param(
        "autoscaling:\n  cpu: fifty\n",
        "kubeship.yaml:5:8: autoscaling.cpu: expected a percentage like 50, got 'fifty'",
        id="percent",
    ),
    pytest.param(
        "container:\n  env: {LOG LEVEL: debug}\n",
        "kubeship.yaml:5:9: container.env.LOG LEVEL: 'LOG LEVEL' is not a valid environment variable name",
        id="env-name",
    ),
    pytest.param(
        "secrets:\n  db:\n    keys:\n      password: hunter2\n",
        "kubeship.yaml:7:17: secrets.db.keys.password: secret values must not be written in kubeship.yaml; "
        "use fromEnv: VAR or fromFile: path",
        id="inline-secret",
    ),
    pytest.param(
        "container:\n  resources:\n    requests: {memory: 1Gi}\n    limits: {memory: 512Mi}\n",
        "kubeship.yaml:5:3: container.resources: limits.memory (512Mi) is below requests.memory (1Gi)",
        id="limit-below-request",
    ),
    pytest.param(
        "service: {tpye: NodePort}\n",
        "kubeship.yaml:4:11: service.tpye: unknown key 'tpye'; did you mean 'type'?",
        id="nested-unknown-key",
    ),
    pytest.param(
        "slo:\n  availability: {target: 100%}\n",
        "kubeship.yaml:5:26: slo.availability.target: "
        "an objective must be above 0 and below 100% (got '100%')",
        id="slo-100-percent",
    ),
    pytest.param(
        "slo:\n  availability: {target: 1.5}\n",
        "kubeship.yaml:5:26: slo.availability.target: an objective must be above 0 and below 100% (got 1.5)",
        id="slo-ratio-above-1",
    ),
    pytest.param(
        "slo:\n  latency: {target: 99%, threshold: 300}\n",
        "kubeship.yaml:5:37: slo.latency.threshold: "
        "give the latency threshold with a unit, like 300ms or 1s, got 300",
        id="latency-without-unit",
    ),
    pytest.param(
        "slo:\n  latency: {target: 99%, threshold: 200ms}\n",
        "kubeship.yaml:5:37: slo.latency.threshold: 200ms is not a bound of the runtime's latency histogram; "
        "use one of 5ms, 10ms, 25ms, 50ms, 100ms, 250ms, 300ms, 500ms, 1s, 2.5s, 5s, 10s",
        id="latency-not-a-bucket",
    ),
    pytest.param(
        "alerting:\n  receiver: ops\n  receivers:\n    ops:\n      webhook: {sendResolved: true}\n",
        "kubeship.yaml:8:7: alerting.receivers.ops.webhook.url: required",
        id="receiver-without-url",
    ),
    pytest.param(
        "alerting:\n  receiver: ops\n  receivers:\n    ops: {webhook: {url: http://x}}\n"
        "  routes:\n    - {match: {severity: critical}, receiver: pager}\n",
        "kubeship.yaml:9:47: alerting.routes.0.receiver: no receiver 'pager' under alerting.receivers "
        "(defined: ops)",
        id="route-to-unknown-receiver",
    ),
    pytest.param(
        "alerts:\n  - {name: LagHigh, metric: kafka_consumer_lag, above: 100}\n",
        "kubeship.yaml:5:29: alerts.0.metric: unknown metric 'kafka_consumer_lag': the runtime exports "
        "http_requests_total, http_request_duration_seconds and http_requests_in_flight; "
        "list others under observe.metrics",
        id="alert-on-unknown-metric",
    ),
    pytest.param(
        "alerts:\n  - {name: SlowRequests, metric: http_request_duration_secnds_count, above: 100}\n",
        "did you mean 'http_request_duration_seconds'?",
        id="alert-metric-typo",
    ),
    pytest.param(
        "alerting:\n  receiver: ops\n  receivers:\n    ops:\n      email: {to: a@b.c, from: b@b.c, "
        "smarthost: smtp.example.com, password: hunter2}\n",
        "expected host:port, got 'smtp.example.com'",
        id="email-smarthost-and-inline-password",
    ),
]


@pytest.mark.parametrize(("extra", "expected"), CASES)
def test_broken_spec_points_at_the_problem(extra: str, expected: str) -> None:
    found = problems(VALID + extra)
    assert any(expected in line for line in found), found


def test_every_problem_is_reported_at_once() -> None:
    lines = problems(VALID + "replicas: three\nservce: {}\nservice: {nodePort: 1}\n")
    assert len(lines) == 3
    assert [ln.split(":")[1] for ln in lines] == ["4", "5", "6"]  # in file order


def test_latest_and_unpinned_images_are_refused() -> None:
    text = 'name: web\nversion: "1"\nimage: {name: web, tag: latest}\n'
    assert "kubeship.yaml:3:25: image.tag: tag 'latest' is not reproducible" in problems(text)[0]
    assert (
        "image: set image.tag (a version) or image.digest"
        in problems('name: web\nversion: "1"\nimage: {name: web}\n')[0]
    )


def test_unquoted_version_is_caught_before_it_becomes_a_float() -> None:
    assert (
        "YAML read 1.1 as a number; quote it"
        in problems('name: web\nversion: 1.10\nimage: {name: w, tag: "1"}\n')[0]
    )


def test_duplicate_keys_are_named_without_their_values() -> None:
    line = problems(VALID + "container:\n  env:\n    LOG: a-value\n    LOG: other-value\n")[0]
    assert line == 'kubeship.yaml:7:5: invalid YAML: found duplicate key "LOG"; each key may appear once'


def test_odd_yaml_types_are_problems_with_a_position_not_a_crash() -> None:
    """ruamel knows no position for the items of a `!!omap` (the loader crashed on it); a `!!set` and a
    `!!binary` are values of the wrong type."""
    assert problems(VALID + "container: !!omap [{port: http}]\n")[0].startswith("kubeship.yaml:4:")
    assert problems(VALID + "labels: !!set {a, b}\n")[0].startswith("kubeship.yaml:4:")
    assert problems(VALID + "replicas: !!binary aGVsbG8=\n")[0].startswith("kubeship.yaml:4:")


def test_invalid_yaml_has_a_position() -> None:
    assert problems("name: web\nimage: {name: web\n")[0].startswith("kubeship.yaml:3:1: invalid YAML")


def test_overlays_are_validated_and_their_errors_point_into_the_overlay() -> None:
    text = VALID + "environments:\n  prod:\n    replicas: -1\n  staging:\n    servce: {}\n"
    lines = problems(text)  # no --env: every overlay is still checked
    assert "kubeship.yaml:6:15: replicas: expected at least 0, got -1 (in environment 'prod')" in lines
    assert any(ln.startswith("kubeship.yaml:8:5: servce: unknown key") for ln in lines)


def test_overlay_deep_merges_onto_the_base() -> None:
    text = VALID + "autoscaling: {minReplicas: 2, maxReplicas: 5, cpu: 60}\n"
    text += "environments:\n  prod:\n    autoscaling: {maxReplicas: 20}\n"
    prod = parse_spec(text, env="prod")
    assert prod.autoscaling is not None
    assert (prod.autoscaling.min_replicas, prod.autoscaling.max_replicas, prod.autoscaling.cpu) == (2, 20, 60)
    base = parse_spec(text)
    assert base.autoscaling is not None and base.autoscaling.max_replicas == 5


def test_unknown_environment() -> None:
    assert "no environment 'qa' (defined: none)" in problems(VALID, env="qa")[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", "0.5"),
        ("1", "1"),
        ("1.5", "1.5"),
        ("256Mi", str(256 * 2**20)),
        ("2Gi", str(2 * 2**30)),
        ("1k", "1000"),
        ("1e3", "1000"),
    ],
)
def test_quantities_parse_exactly(text: str, value: str) -> None:
    from decimal import Decimal

    from kubeship.spec import parse_quantity

    assert parse_quantity(text) == Decimal(value)


@pytest.mark.parametrize("text", ["fifty", "1.2.3", "5 Mi", "Mi", "-", "1mi"])
def test_bad_quantities(text: str) -> None:
    from kubeship.spec import parse_quantity

    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)
