"""Rendered objects: the seed reproduced, valid against Kubernetes' own schemas, consistent selectors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeship.masked import Secret
from kubeship.names import HEALTH_PATH, PORT_NAME, READY_PATH
from kubeship.render import render, to_yaml
from kubeship.render.workload import termination_grace_seconds
from kubeship.spec import AppSpec, load_spec

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed"
GOLDEN = Path(__file__).resolve().parent / "golden"
K8S_VERSIONS = ("1.30", kubernetes_validate.latest_version())
SEED_SECRETS = {"db-credentials": {"username": Secret("admin"), "password": Secret("canary-pw-9f2c")}}


def validate_all(objects: list[dict[str, Any]]) -> None:
    """Kubernetes' own kinds against its schemas; Argo's and cert-manager's kinds are held by
    `kubeship check` (test_rollout, test_security)."""
    for obj in objects:
        if obj["apiVersion"].startswith(("argoproj.io/", "cert-manager.io/")):
            continue
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)  # strict: unknown fields fail


@pytest.mark.parametrize(
    ("spec_file", "env"),
    [
        ("kubeship.yaml", None),
        ("kubeship.yaml", "staging"),
        ("kubeship.yaml", "prod"),
        ("worker.kubeship.yaml", None),
    ],
)
def test_seed_matches_golden_output(spec_file: str, env: str | None) -> None:
    text = to_yaml(render(load_spec(SEED / spec_file, env), SEED_SECRETS))
    golden = GOLDEN / f"{spec_file.removesuffix('.yaml')}{'.' + env if env else ''}.yaml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text(), f"output changed; review it and rerun with UPDATE_GOLDEN=1 ({golden})"


def test_seed_reproduces_the_guides_objects() -> None:
    objs = {
        (o["kind"], o["metadata"]["name"]): o for o in render(load_spec(SEED / "kubeship.yaml"), SEED_SECRETS)
    }
    deploy = objs[("Deployment", "web")]
    assert deploy["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 8080
    svc = objs[("Service", "web-service")]["spec"]
    assert (
        svc["type"] == "NodePort" and svc["ports"][0]["nodePort"] == 30001 and svc["ports"][0]["port"] == 80
    )
    assert objs[("ConfigMap", "app-config")]["data"] == {"log-level": "debug", "timeout": "30s"}
    assert set(objs[("Secret", "db-credentials")]["data"]) == {"username", "password"}
    hpa = objs[("HorizontalPodAutoscaler", "web")]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["metrics"]}
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 50},
        "memory": {"type": "AverageValue", "averageValue": "200Mi"},
    }
    worker = {(o["kind"], o["metadata"]["name"]): o for o in render(load_spec(SEED / "worker.kubeship.yaml"))}
    lag = worker[("HorizontalPodAutoscaler", "worker")]["spec"]["metrics"][0]
    # the guide's intent (100 messages per pod), as what scales: the exporter's total over the pods
    assert lag == {
        "type": "External",
        "external": {
            "metric": {"name": "kafka_consumergroup_lag"},
            "target": {"type": "AverageValue", "averageValue": "100"},
        },
    }
    rules = yaml.safe_load(worker[("ConfigMap", "worker-adapter-rules")]["data"]["config.yaml"])
    [external] = rules["externalRules"]
    assert external["name"]["as"] == "kafka_consumergroup_lag"
    assert external["resources"] == {"namespaced": False}  # kafka_exporter runs in its own namespace


@pytest.mark.parametrize("env", [None, "staging", "prod"])
def test_everything_rendered_is_valid_kubernetes(env: str | None) -> None:
    validate_all(render(load_spec(SEED / "kubeship.yaml", env), SEED_SECRETS))
    validate_all(render(load_spec(SEED / "worker.kubeship.yaml", env if env is None else None)))


def test_secret_values_only_in_the_secret() -> None:
    objects = render(load_spec(SEED / "kubeship.yaml"), SEED_SECRETS)
    text = to_yaml(objects)
    assert "canary-pw-9f2c" not in text  # base64 in the Secret, nowhere in clear
    non_secret = to_yaml([o for o in objects if o["kind"] != "Secret"])
    assert "Y2FuYXJ5LXB3LTlmMmM" not in non_secret


def test_probe_paths_and_port_come_from_the_runtime() -> None:
    deploy = next(
        o for o in render(load_spec(SEED / "kubeship.yaml"), SEED_SECRETS) if o["kind"] == "Deployment"
    )
    c = deploy["spec"]["template"]["spec"]["containers"][0]
    assert c["livenessProbe"]["httpGet"] == {"path": HEALTH_PATH, "port": PORT_NAME}
    assert c["readinessProbe"]["httpGet"] == {"path": READY_PATH, "port": PORT_NAME}


def test_sigkill_never_cuts_the_drain_short() -> None:
    spec = load_spec(SEED / "kubeship.yaml")
    deploy = next(o for o in render(spec, SEED_SECRETS) if o["kind"] == "Deployment")
    grace = deploy["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    cmd = deploy["spec"]["template"]["spec"]["containers"][0]["command"]
    drain = float(cmd[cmd.index("--drain-seconds") + 1])
    shutdown = float(cmd[cmd.index("--shutdown-timeout") + 1])
    assert grace == termination_grace_seconds(spec) and grace > drain + shutdown


def test_restart_reload_rolls_pods_when_config_changes() -> None:
    base = (
        'name: web\nversion: "1"\nimage: {name: web, tag: "1"}\nconfig: {reload: restart, data: {a: "%s"}}\n'
    )
    from kubeship.spec import parse_spec

    def annotation(value: str) -> str:
        deploy = next(o for o in render(parse_spec(base % value)) if o["kind"] == "Deployment")
        return str(deploy["spec"]["template"]["metadata"]["annotations"]["kubeship.io/config-hash"])

    assert annotation("1") == annotation("1") != annotation("2")


# -- properties over random valid specs ----------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,5})?", fullmatch=True)
cpu = st.sampled_from(["100m", "250m", "500m", "1", "2"])
memory = st.sampled_from(["64Mi", "128Mi", "256Mi", "1Gi"])


@st.composite
def specs(draw: st.DrawFn) -> AppSpec:
    data: dict[str, Any] = {
        "name": draw(names),
        "version": draw(st.sampled_from(["1.0.0", "2.3", "v7"])),
        "image": {"name": draw(names), "tag": draw(st.sampled_from(["1", "1.2.3", "sha-abc"]))},
        "replicas": draw(st.integers(0, 20)),
        "container": {
            "port": draw(st.integers(1024, 65535)),
            "resources": {
                "requests": {"cpu": draw(cpu), "memory": "64Mi"},
                "limits": {"memory": draw(memory)},
            },
            "drainSeconds": draw(st.floats(0, 30).map(lambda f: round(f, 1))),
        },
        "service": draw(
            st.one_of(
                st.just({"type": "ClusterIP"}),
                st.integers(30000, 32767).map(lambda p: {"type": "NodePort", "nodePort": p}),
            )
        ),
        "availability": {"zones": draw(st.booleans()), "hosts": draw(st.booleans())},
    }
    if draw(st.booleans()):
        low = draw(st.integers(1, 5))
        data["autoscaling"] = {
            "minReplicas": low,
            "maxReplicas": low + draw(st.integers(0, 10)),
            "cpu": draw(st.integers(1, 100)),
        }
    if draw(st.booleans()):
        data["config"] = {
            "data": draw(st.dictionaries(names, names, max_size=3)),
            "reload": draw(st.sampled_from(["hot", "restart"])),
        }
    if draw(st.booleans()):
        data["ingress"] = {"hosts": [{"host": draw(names) + ".example.com"}]}
    return AppSpec.model_validate(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_random_specs_render_valid_deterministic_consistent(spec: AppSpec) -> None:
    objects = render(spec)
    assert to_yaml(objects) == to_yaml(render(spec))  # byte-identical
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSIONS[-1], strict=True)
    deploy = next(o for o in objects if o["kind"] == "Deployment")
    pod_labels = deploy["spec"]["template"]["metadata"]["labels"]

    def matches(selector: dict[str, str]) -> bool:
        return all(pod_labels.get(k) == v for k, v in selector.items())

    assert matches(deploy["spec"]["selector"]["matchLabels"])
    for obj in objects:
        kind, body = obj["kind"], obj.get("spec", {})
        if kind == "Service":
            assert matches(body["selector"])
        elif kind in ("PodDisruptionBudget",):
            assert matches(body["selector"]["matchLabels"])
        elif kind == "NetworkPolicy":
            assert matches(body["podSelector"]["matchLabels"])
        elif kind == "HorizontalPodAutoscaler":
            assert body["scaleTargetRef"]["name"] == deploy["metadata"]["name"]
        elif kind == "Ingress":
            service = next(o for o in objects if o["kind"] == "Service")
            for rule in body["rules"]:
                for path in rule["http"]["paths"]:
                    assert path["backend"]["service"]["name"] == service["metadata"]["name"]


def test_max_concurrency_reaches_kubeship_serve_only_when_the_spec_sets_it(tmp_path: Path) -> None:
    """The default lives in one place (kubeship serve's); a spec's own bound is on the command."""
    from kubeship.errors import SpecError
    from kubeship.spec import parse_spec

    base = 'name: web\nversion: "1"\nimage: {name: web, tag: "1"}\n'

    def command(text: str) -> list[str]:
        deploy = next(
            o for o in render(parse_spec(text, tmp_path / "k.yaml"), {}) if o["kind"] == "Deployment"
        )
        return list(deploy["spec"]["template"]["spec"]["containers"][0]["command"])

    assert "--max-concurrency" not in command(base)
    raised = command(base + "container: {maxConcurrency: 500}\n")
    assert raised[raised.index("--max-concurrency") + 1] == "500"
    with pytest.raises(SpecError, match="maxConcurrency"):
        command(base + "container: {maxConcurrency: 0}\n")
