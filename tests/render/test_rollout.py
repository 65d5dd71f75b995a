"""`delivery:` → a Rollout in place of the Deployment, the canary/preview Service, the SLO's
AnalysisTemplates; strict schema-valid and free of `kubeship check` findings, whatever the strategy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeship.check import Options, check_documents, load_documents
from kubeship.render import render, to_yaml
from kubeship.render.kustomize import kustomize_tree
from kubeship.render.rollout import notes
from kubeship.spec import load_spec
from kubeship.spec.load import parse_spec
from tests.conftest import ROOT, run_cli
from tests.render.test_render import SEED, SEED_SECRETS

BASE = """
name: shop
version: "2.0.0"
image: {name: shop, tag: "2.0.0"}
service: {port: 80}
slo:
  availability: {target: 99.9%}
  latency: {target: 99%, threshold: 300ms}
autoscaling: {minReplicas: 3, maxReplicas: 10, cpu: 60}
"""
NGINX = "ingress: {className: nginx, hosts: [{host: shop.example.com}]}\n"


def findings(objects: list[dict[str, Any]]) -> list[str]:
    docs, loaded = load_documents(to_yaml(objects), "rendered.yaml")
    return [f"{f.rule} {f.message}" for f in [*loaded, *check_documents(docs, Options())]]


def by_kind(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for o in objects:
        out.setdefault(o["kind"], []).append(o)
    return out


@pytest.mark.parametrize(
    "delivery",
    [
        "delivery: {}",
        "delivery: {trafficRouting: none}",
        "delivery: {steps: [{weight: 10}, {analysis: {}}, {weight: 50}, {pause: manual}]}",
        "delivery: {analysis: {compareStable: true}}",
        "delivery: {strategy: blueGreen, autoPromotion: false, previewReplicas: 1}",
        "delivery: {analysis: {enabled: false}}",
    ],
)
def test_every_form_is_schema_valid_and_check_clean(delivery: str) -> None:
    objects = render(parse_spec(BASE + NGINX + delivery))
    assert findings(objects) == []
    kinds = by_kind(objects)
    assert "Deployment" not in kinds and len(kinds["Rollout"]) == 1
    hpa = kinds["HorizontalPodAutoscaler"][0]["spec"]["scaleTargetRef"]
    assert hpa == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "shop"}


def test_seed_prod_is_the_guides_canary() -> None:
    objects = render(load_spec(SEED / "kubeship.yaml", "prod"), SEED_SECRETS)
    assert findings(objects) == []
    kinds = by_kind(objects)
    canary = kinds["Rollout"][0]["spec"]["strategy"]["canary"]
    assert canary["steps"] == [
        {"setWeight": 5}, {"pause": {"duration": "15m"}},
        {"setWeight": 25}, {"pause": {"duration": "15m"}},
        {"setWeight": 50}, {"pause": {"duration": "15m"}},
    ]  # fmt: skip
    assert canary["trafficRouting"] == {"nginx": {"stableIngress": "web"}}  # the seed's Ingress is nginx's
    assert (canary["stableService"], canary["canaryService"]) == ("web-service", "web-service-canary")
    assert canary["analysis"]["startingStep"] == 1  # judged from the first 5 % on, through every pause
    ingress = kinds["Ingress"][0]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert ingress["name"] == "web-service"  # Argo requires the stable Ingress to point at stableService
    template = kinds["AnalysisTemplate"][0]
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert set(metrics) == {"error-ratio", "slow-ratio"}
    err = metrics["error-ratio"]
    assert err["successCondition"].endswith("result[0] <= 0.0144")  # 14.4 × the 0.1 % budget
    assert "isNaN(result[0])" in err["failureCondition"] and "len(result) > 0" in err["successCondition"]
    query = err["provider"]["prometheus"]["query"]
    assert 'rollouts_pod_template_hash="{{args.canary-hash}}"' in query and ">= 209" in query


def test_pod_template_is_the_deployments() -> None:
    """Same pod, same safe defaults and drain timing; only the spread key names Argo's hash label."""
    prod = load_spec(SEED / "kubeship.yaml", "prod")
    plain = by_kind(render(prod.model_copy(update={"delivery": None}), SEED_SECRETS))["Deployment"][0]["spec"]
    rollout = by_kind(render(prod, SEED_SECRETS))["Rollout"][0]["spec"]
    a, b = plain["template"]["spec"], rollout["template"]["spec"]
    for spread in a["topologySpreadConstraints"]:
        spread["matchLabelKeys"] = ["rollouts-pod-template-hash"]
    assert a == b
    assert plain["selector"] == rollout["selector"]


def test_blue_green_services_and_analysis() -> None:
    objects = render(parse_spec(BASE + "delivery: {strategy: blueGreen, scaleDownDelaySeconds: 60}"))
    kinds = by_kind(objects)
    bg = kinds["Rollout"][0]["spec"]["strategy"]["blueGreen"]
    assert (bg["activeService"], bg["previewService"]) == ("shop", "shop-preview")
    assert bg["prePromotionAnalysis"]["templates"] == [{"templateName": "shop-slo-gate"}]
    assert bg["scaleDownDelaySeconds"] == 60
    gate = kinds["AnalysisTemplate"][0]
    assert all(m["count"] == 5 for m in gate["spec"]["metrics"])  # bounded: Argo rejects unbounded gates


def test_replica_ratio_weights_are_explained() -> None:
    spec = parse_spec(BASE + "delivery: {}")  # no Ingress → no traffic routing
    (note,) = notes(spec)
    assert "setWeight 5 → 1 of 3 pods ≈ 33 %" in note


@pytest.mark.parametrize(
    ("delivery", "error"),
    [
        ("delivery: {strategy: canry}", "strategy"),
        ("delivery: {steps: [{weight: 5, pause: 1m}]}", "exactly one of"),
        ("delivery: {steps: [{pause: soon}]}", "duration"),
        ("delivery: {trafficRouting: nginx}", "className: nginx"),
        ("delivery: {strategy: blueGreen, steps: [{weight: 5}]}", "steps are for strategy canary"),
        (
            "delivery: {steps: [{analysis: {}}], analysis: {enabled: false}}",
            "needs delivery.analysis.enabled",
        ),
    ],
)
def test_spec_errors(delivery: str, error: str) -> None:
    from kubeship.errors import SpecError

    with pytest.raises(SpecError, match=error):
        parse_spec(BASE + delivery)


def test_analysis_needs_an_slo() -> None:
    from kubeship.errors import SpecError

    with pytest.raises(SpecError, match=r"slo\.availability"):
        parse_spec(BASE.replace("slo:", "x_slo:").split("x_slo:")[0] + "delivery: {}")


def test_kustomize_prod_overlay_swaps_deployment_for_rollout(tmp_path: Path) -> None:
    spec = SEED / "kubeship.yaml"
    tree = kustomize_tree(
        render(load_spec(spec), SEED_SECRETS), {"prod": render(load_spec(spec, "prod"), SEED_SECRETS)}
    )
    overlay = tree["overlays/prod/kustomization.yaml"]
    assert '"$patch": delete' in overlay and "kind: Deployment" in overlay
    assert any("rollout" in path for path in tree if path.startswith("overlays/prod/"))
    for rel, text in tree.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    result = run_cli("check", "--min-severity", "warning", str(tmp_path), cwd=ROOT)
    assert result.returncode == 0, result.stdout
