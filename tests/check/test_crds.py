"""Custom resources are validated, not skipped: the bundled kinds, and the CRDs a user checks along."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeship.check import Document, Options, check_documents, crds, load_documents

FIXTURE = (Path(__file__).parent / "fixtures" / "custom-resources.yaml").read_text()
SCHEMA_ONLY = Options(select=frozenset({"KS002", "KS003"}))


def objects() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(FIXTURE) if d]


def findings(objs: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    docs = [Document(o, "f.yaml", i + 1) for i, o in enumerate(objs)]
    return [(f.object, f.rule, f.message, f.hint) for f in check_documents(docs, SCHEMA_ONLY)]


def test_every_bundled_kind_is_validated_and_the_fixture_passes() -> None:
    objs = objects()
    kinds = {o["kind"] for o in objs}
    assert kinds == {
        "Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "ServiceMonitor", "PodMonitor",
        "PrometheusRule", "ScaledObject", "Certificate",
    }  # fmt: skip
    assert findings(objs) == []  # no KS003 "not validated" note either


# (kind, path to a mapping, the misspelt key, the right one): the typo users make
TYPOS = [
    ("Rollout", ["spec", "strategy", "canary"], "stableServce", "stableService"),
    ("Rollout", ["spec", "strategy", "canary", "steps", 0], "setWeigth", "setWeight"),
    ("Rollout", ["spec", "template", "spec", "containers", 0], "imagePullPolcy", "imagePullPolicy"),
    ("AnalysisTemplate", ["spec", "metrics", 0], "sucessCondition", "successCondition"),
    ("ClusterAnalysisTemplate", ["spec", "metrics", 0], "failureLimt", "failureLimit"),
    ("ServiceMonitor", ["spec", "endpoints", 0], "intervall", "interval"),
    ("PodMonitor", ["spec", "podMetricsEndpoints", 0], "scrapeTimout", "scrapeTimeout"),
    ("PrometheusRule", ["spec", "groups", 0, "rules", 1], "annotation", "annotations"),
    ("ScaledObject", ["spec"], "maxReplicas", "maxReplicaCount"),
    ("Certificate", ["spec"], "dnsName", "dnsNames"),
    ("Certificate", ["metadata"], "lables", "labels"),  # metadata is Kubernetes' own ObjectMeta
]


@pytest.mark.parametrize(("kind", "path", "typo", "right"), TYPOS, ids=[f"{t[0]}.{t[2]}" for t in TYPOS])
def test_a_misspelt_field_is_an_error_with_the_right_name(
    kind: str, path: list[Any], typo: str, right: str
) -> None:
    objs = objects()
    node: Any = next(o for o in objs if o["kind"] == kind)
    for part in path:
        node = node[part]
    node[typo] = copy.deepcopy(node.pop(right, "x"))
    [(obj, rule, message, hint)] = findings(objs)
    assert rule == "KS002" and obj.startswith(f"{kind}/")
    assert message.endswith(f"unknown field {typo!r}") and hint == f"did you mean {right!r}?"


def test_wrong_types_and_values_in_custom_resources() -> None:
    objs = objects()
    scaled = next(o for o in objs if o["kind"] == "ScaledObject")
    scaled["spec"]["minReplicaCount"] = "2"
    cert = next(o for o in objs if o["kind"] == "Certificate")
    cert["spec"]["privateKey"]["algorithm"] = "DSA"
    rollout = next(o for o in objs if o["kind"] == "Rollout")
    rollout["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = 150
    messages = {obj: message for obj, _, message, _ in findings(objs)}
    assert (
        "integer" in messages["ScaledObject/worker"]
        and "spec.minReplicaCount" in messages["ScaledObject/worker"]
    )
    assert '"DSA" is not one of "RSA", "ECDSA" or "Ed25519"' in messages["Certificate/web-tls"]
    assert "Rollout/web" not in messages  # 150 is an int32: the API server takes it, the controller not
    docs = [Document(o, "f.yaml", i + 1) for i, o in enumerate(objs)]
    [controller] = [f for f in check_documents(docs) if f.rule == "KS330"]
    assert (
        controller.message
        == "spec.strategy.canary.steps[0].setWeight: SetWeight needs to be between 0 and 100"
    )


def test_a_blue_green_rollout_needs_its_active_service() -> None:
    objs = objects()
    admin = next(o for o in objs if o["metadata"]["name"] == "admin")
    del admin["spec"]["strategy"]["blueGreen"]["activeService"]
    [(obj, rule, message, _)] = findings(objs)
    assert (obj, rule) == ("Rollout/admin", "KS002") and "activeService" in message


def test_an_unknown_kind_of_a_bundled_group_is_skipped_with_a_hint() -> None:
    widget = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitorr", "metadata": {"name": "w"}}
    [(_, rule, message, hint)] = findings([widget])
    assert rule == "KS003" and "not validated" in message and "check kind and apiVersion" in hint


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              port: {x-kubernetes-int-or-string: true}
              note: {type: string, nullable: true}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
              colour: {type: string, enum: [red, blue]}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: good}
spec: {size: 3, port: http, note: null, extra: {anything: [1, 2]}, colour: red}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: bad}
spec:
  size: 0
  port: 8080
  colour: green
  sise: 3
"""


def test_a_crd_in_the_input_validates_its_custom_resources() -> None:
    docs, _ = load_documents(CRD, "widgets.yaml")
    found = [(f.line, f.object, f.message, f.hint) for f in check_documents(docs, SCHEMA_ONLY)]
    assert found == [
        (35, "Widget/bad", "spec.size: 0 is less than the minimum of 1", ""),
        (
            37,
            "Widget/bad",
            'spec.colour: "green" is not one of "red" or "blue"',
            "use one of the allowed values",
        ),
        (38, "Widget/bad", "spec: unknown field 'sise'", "did you mean 'size'?"),
    ]  # Widget/good passes: int-or-string, nullable and preserve-unknown-fields read as the API server does


def test_without_its_crd_a_custom_resource_is_skipped_not_passed() -> None:
    docs, _ = load_documents(CRD.split("---", 1)[1], "widgets.yaml")
    rules = [(f.object, f.rule) for f in check_documents(docs, SCHEMA_ONLY)]
    assert rules == [("Widget/good", "KS003"), ("Widget/bad", "KS003")]


def test_model_schemas_are_cached_and_a_broken_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    crds._model_schema.cache_clear()
    first = crds.bundled("cert-manager.io/v1", "Certificate")
    [cached] = tmp_path.glob(
        "kubeship/schemas/cloudcoil-models-cert-manager-*/cert-manager.io_v1_Certificate.json"
    )
    cached.write_text("{not json")
    crds._model_schema.cache_clear()
    assert crds.bundled("cert-manager.io/v1", "Certificate") == first
    assert cached.read_text().startswith("{")
    assert crds.bundled("cert-manager.io/v1", "NotAKind") is None


def test_a_crd_whose_schema_does_not_compile_is_an_error_on_the_crd() -> None:
    broken = CRD.replace("{type: integer, minimum: 1}", "{type: integr}")
    docs, _ = load_documents(broken, "widgets.yaml")
    found = [(f.line, f.object, f.rule) for f in check_documents(docs, SCHEMA_ONLY)]
    assert (1, "CustomResourceDefinition/widgets.example.com", "KS002") in found
    assert (26, "Widget/good", "KS003") in found  # its resources: reported unvalidated, not passed


def test_a_kind_or_version_that_is_not_a_name_is_not_looked_up() -> None:
    assert crds.bundled("cert-manager.io/v1", "../../../etc/passwd") is None
    assert crds.bundled("cert-manager.io/v1/../x", "Certificate") is None
    assert crds.bundled("keda.sh/v1alpha1", "ScaledObject") is not None
