"""Every rule fails on a fixture made to break it and passes on the same objects done right.

The passing fixture is `fixtures/good.yaml`: what `kubeship render` produces for
the seed example (ConfigMap, Secret, Deployment, Service, Ingress,
NetworkPolicy, HPA, PDB), which must give no finding at all. Each failing
fixture is that same multi-object set with one thing broken.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeship.check import RULES, Options, Severity, check_documents, load_documents
from kubeship.check.engine import Linted, lint_objects
from kubeship.check.model import Document

GOOD = (Path(__file__).parent / "fixtures" / "good.yaml").read_text()
Objects = list[dict[str, Any]]


def run(objects: Objects, **options: Any) -> list[str]:
    """The rules found; the same, finding for finding, whether the objects are checked whole or, as
    `kubeship check` does with a large stream, linted first and kept slimmed for the cross-resource
    rules (kubeship.check.slim keeps only what they read: this fails when a rule reads something else)."""
    docs = [Document(o, "fixture.yaml", i + 1) for i, o in enumerate(objects)]
    whole = check_documents(docs, Options(**options))
    linted, flags, kept = lint_objects(docs, Options(**options), {})  # parts shared, as the CLI does
    mistyped = frozenset(id(d) for d, bad in zip(kept, flags, strict=True) if bad)
    early = check_documents(kept, Options(**options), Linted(linted, frozenset(map(id, kept)), mistyped))
    assert [(f.line, f.rule, f.message, f.object) for f in early] == [
        (f.line, f.rule, f.message, f.object) for f in whole
    ]
    return [f.rule for f in whole]


def good() -> Objects:
    return [d for d in yaml.safe_load_all(GOOD) if d]


def of(objects: Objects, kind: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind)


def container(objects: Objects) -> dict[str, Any]:
    return of(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def pod(objects: Objects) -> dict[str, Any]:
    return of(objects, "Deployment")["spec"]["template"]["spec"]


def _set(path: Callable[[Objects], dict[str, Any]], key: str, value: Any) -> Callable[[Objects], None]:
    def mutate(objects: Objects) -> None:
        path(objects)[key] = value

    return mutate


def _del(path: Callable[[Objects], dict[str, Any]], key: str) -> Callable[[Objects], None]:
    def mutate(objects: Objects) -> None:
        del path(objects)[key]

    return mutate


def _sc(objects: Objects) -> dict[str, Any]:
    return container(objects)["securityContext"]


def _drop(kind: str) -> Callable[[Objects], None]:
    def mutate(objects: Objects) -> None:
        objects[:] = [o for o in objects if o["kind"] != kind]

    return mutate


def _duplicate(objects: Objects) -> None:
    objects.append(copy.deepcopy(of(objects, "Service")))


def _hpa_no_cpu_request(objects: Objects) -> None:
    del container(objects)["resources"]["requests"]["cpu"]


def _env(objects: Objects) -> None:
    container(objects)["env"] = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]


def _role(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "web"},
        "rules": rules,
    }


def _cluster_admin(objects: Objects) -> None:
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "web-admin"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}],
        }
    )


def _job() -> dict[str, Any]:
    pod = {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "registry.example.com/m:1"}]}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": pod}},
    }


def _canary_without_its_service(objects: Objects) -> None:
    as_rollout(objects)["spec"]["strategy"]["canary"].update(canaryService="web-canary")


def _template(metric: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "success-rate"},
        "spec": {
            "metrics": [
                {"name": "success-rate", "provider": {"prometheus": {"query": "vector(1)"}}, **metric}
            ]
        },
    }


def _mixed_step(objects: Objects) -> None:  # setWeight and pause in one step: Argo's InvalidStep
    as_rollout(objects)["spec"]["strategy"]["canary"]["steps"][0]["pause"] = {"duration": "5m"}


def _endless_step_analysis(objects: Objects) -> None:
    steps = as_rollout(objects)["spec"]["strategy"]["canary"]["steps"]
    steps.append({"analysis": {"templates": [{"templateName": "success-rate"}]}})
    objects.append(_template({"interval": "1m"}))


MUTATIONS: dict[str, Callable[[Objects], None]] = {
    "KS002": _set(lambda o: of(o, "Deployment")["metadata"], "lables", {}),
    "KS101": _del(container, "livenessProbe"),
    "KS102": _del(container, "readinessProbe"),
    "KS103": lambda o: container(o)["readinessProbe"]["httpGet"].update(port="metrics"),
    "KS104": lambda o: container(o)["resources"].update(requests={"cpu": "100m"}),
    "KS105": lambda o: container(o)["resources"].pop("limits"),
    "KS106": _set(container, "image", "registry.example.com/web:latest"),
    "KS107": lambda o: container(o).update(image="web", imagePullPolicy="Never"),
    "KS108": lambda o: (
        pod(o).pop("topologySpreadConstraints"),
        of(o, "Deployment")["spec"].update(replicas=3),
    ),
    "KS109": lambda o: container(o).update(readinessProbe=container(o)["livenessProbe"]),
    "KS110": _env,
    "KS201": _set(_sc, "privileged", True),
    "KS202": _set(_sc, "allowPrivilegeEscalation", True),
    "KS203": _set(_sc, "runAsUser", 0),
    "KS204": lambda o: (_sc(o).pop("runAsNonRoot"), pod(o)["securityContext"].pop("runAsNonRoot")),
    "KS205": _set(_sc, "readOnlyRootFilesystem", False),
    "KS206": lambda o: _sc(o)["capabilities"].update(add=["NET_ADMIN"]),
    "KS207": lambda o: _sc(o)["capabilities"].update(drop=["NET_RAW"]),
    "KS208": _set(pod, "hostNetwork", True),
    "KS209": lambda o: pod(o)["volumes"].append({"name": "host", "hostPath": {"path": "/var/run"}}),
    "KS210": lambda o: container(o).update(env=[{"name": "API_TOKEN", "value": "abc"}]),
    "KS211": _del(pod, "automountServiceAccountToken"),
    "KS212": lambda o: of(o, "Service")["metadata"].update(namespace="default"),
    "KS213": lambda o: pod(o)["securityContext"].pop("seccompProfile"),
    "KS214": lambda o: o.append(_role([{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}])),
    "KS216": lambda o: o.append(_role([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}])),
    "KS217": lambda o: pod(o)["securityContext"].update(
        sysctls=[{"name": "net.core.somaxconn", "value": "4096"}]
    ),
    "KS215": _cluster_admin,
    "KS301": lambda o: of(o, "Service")["spec"]["selector"].update({"app.kubernetes.io/name": "other"}),
    "KS302": lambda o: of(o, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(
        name="missing"
    ),
    "KS303": lambda o: of(o, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"].update(name="missing"),
    "KS304": _hpa_no_cpu_request,
    "KS305": _drop("ConfigMap"),
    "KS306": lambda o: of(o, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"].update(x="y"),
    "KS307": lambda o: of(o, "PodDisruptionBudget")["spec"].update(maxUnavailable=0),
    "KS308": lambda o: of(o, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"].update(x="y"),
    "KS309": _duplicate,
    "KS310": lambda o: of(o, "Deployment")["spec"]["selector"]["matchLabels"].update(x="y"),
    "KS311": lambda o: of(o, "Service")["spec"]["ports"][0].update(targetPort="web"),
    "KS312": lambda o: of(o, "Ingress")["metadata"].pop("annotations"),
    "KS313": lambda o: of(o, "Deployment")["spec"].update(replicas=3),
    "KS314": _canary_without_its_service,
    "KS316": lambda o: of(o, "HorizontalPodAutoscaler")["spec"]["metrics"].insert(
        0,
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "kafka_consumergroup_lag"},
                "target": {"type": "AverageValue", "averageValue": "100"},
            },
        },
    ),
    "KS113": lambda o: of(o, "Deployment")["spec"].update(strategy={"type": "Recreate"}),
    "KS218": lambda o: (
        container(o)
        .setdefault("env", [])
        .append(
            {
                "name": "DB_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}},
            }
        )
    ),
    "KS219": lambda o: container(o)["ports"].append({"name": "ssh", "containerPort": 22}),
    "KS220": lambda o: container(o)["securityContext"].update(procMount="Unmasked"),
    "KS222": lambda o: container(o)["ports"].append({"name": "metrics_port", "containerPort": 9090}),
    "KS224": lambda o: o.append(_role([{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}])),
    "KS317": _drop("PodDisruptionBudget"),
    "KS318": lambda o: o.append(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "db", "image": "postgres:17"}]},
                },
            },
        }
    ),
    "KS319": lambda o: pod(o).update(serviceAccountName="api-client"),
    "KS320": lambda o: o.append(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "nope"}}, "endpoints": [{"port": "http"}]},
        }
    ),
    "KS321": lambda o: of(o, "NetworkPolicy")["spec"]["ingress"][0]["from"].append(
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "front-end"}}}
    ),
    "KS225": lambda o: pod(o).pop("serviceAccountName"),
    "KS226": lambda o: of(o, "Service")["metadata"].pop("annotations"),
    "KS323": lambda o: of(o, "PodDisruptionBudget")["spec"].pop("unhealthyPodEvictionPolicy"),
    "KS114": lambda o: container(o)["resources"]["limits"].pop("ephemeral-storage"),
    "KS115": lambda o: of(o, "HorizontalPodAutoscaler")["metadata"].update(
        annotations={"kubeship.io/site-failover-replicas": "14"}
    ),
    "KS227": lambda o: pod(o).update(serviceAccount=pod(o).pop("serviceAccountName")),
    "KS324": lambda o: pod(o).update(
        affinity={
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app": "webb"}},
                    }
                ]
            }
        }
    ),
    "KS330": _mixed_step,
    "KS331": lambda o: o.append(_template({"count": 5})),
    "KS332": _endless_step_analysis,
    "KS315": _drop("NetworkPolicy"),
    "KS112": lambda o: o.append(_job()),
    "KS111": lambda o: (_drop("HorizontalPodAutoscaler")(o), of(o, "Deployment")["spec"].update(replicas=1)),
    "KS005": lambda o: of(o, "PodDisruptionBudget").update(apiVersion="policy/v1beta1"),
}


def test_the_passing_fixture_is_clean() -> None:
    assert run(good()) == []


def test_every_rule_has_a_failing_fixture() -> None:
    built_in = {
        "KS001",
        "KS003",
        "KS004",
        "KS006",
        "KS007",
        "KS008",
    }  # KS007: test_limits.py, KS008: test_ci.py
    assert set(RULES) - built_in == set(MUTATIONS)
    assert len(RULES) >= 40


@pytest.mark.parametrize("rule_id", sorted(MUTATIONS))
def test_rule_fires_on_its_failing_fixture(rule_id: str) -> None:
    objects = good()
    MUTATIONS[rule_id](objects)
    assert rule_id in run(objects)


def test_external_refs_option_accepts_absent_configmaps() -> None:
    objects = good()
    MUTATIONS["KS305"](objects)
    assert "KS305" not in run(objects, external_refs=True)


def test_suppression_annotation_with_a_reason() -> None:
    objects = good()
    MUTATIONS["KS201"](objects)
    of(objects, "Deployment")["metadata"]["annotations"] = {"kubeship.io/ignore": "KS201: needs raw sockets"}
    assert "KS201" not in run(objects)


def test_select_skip_and_severity() -> None:
    objects = good()
    MUTATIONS["KS213"](objects)  # info
    MUTATIONS["KS201"](objects)  # error
    assert set(run(objects)) == {"KS201", "KS213"}
    assert run(objects, min_severity=Severity.WARNING) == ["KS201"]
    assert run(objects, select=frozenset({"KS213"})) == ["KS213"]
    assert run(objects, skip=frozenset({"KS213"})) == ["KS201"]


def test_unknown_kinds_are_reported_as_skipped_not_passed() -> None:
    crd = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert run([crd]) == ["KS003"]


def test_schema_errors_say_where_and_suggest_the_field() -> None:
    objects = good()
    MUTATIONS["KS002"](objects)
    docs = [Document(o, "f.yaml", 1) for o in objects]
    finding = next(f for f in check_documents(docs) if f.rule == "KS002")
    assert finding.message == "metadata: unknown field 'lables'" and finding.hint == "did you mean 'labels'?"
    assert finding.object == "Deployment/web"


def test_malformed_yaml_is_a_finding_with_a_line_and_earlier_documents_still_count() -> None:
    docs, findings = load_documents(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nx: [1,\n", "f.yaml"
    )
    assert [d.kind for d in docs] == ["ConfigMap"]
    assert findings[0].rule == "KS001" and findings[0].line == 6 and findings[0].file == "f.yaml"


def test_documents_keep_their_lines_and_lists_are_flattened() -> None:
    text = "# c\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n---\n"
    text += "apiVersion: v1\nkind: List\nitems:\n"
    text += "- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n---\n- not an object\n---\nkind: Secret\n"
    docs, findings = load_documents(text, "f.yaml")
    assert [(d.kind, d.line) for d in docs] == [("ConfigMap", 2), ("Secret", 11)]  # a List item: its own line
    assert [(f.rule, f.line) for f in findings] == [("KS004", 13), ("KS004", 15)]


def test_deprecated_api_warns_before_its_removal_version() -> None:
    old = {"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}}
    docs = [Document(old, "f.yaml", 1)]
    assert "KS005" in [f.rule for f in check_documents(docs, Options(kubernetes_version="1.30.0"))]
    before = check_documents(docs, Options(kubernetes_version="1.25.0"))
    warning = next(f for f in before if f.rule == "KS006")
    assert "removed in Kubernetes 1.26" in warning.message and warning.hint == "use autoscaling/v2"


def test_user_schema_location_validates_custom_resources(tmp_path: Path) -> None:
    spec = {"type": "object", "properties": {"size": {"type": "integer"}}, "additionalProperties": False}
    (tmp_path / "widget_v1.json").write_text(json.dumps({"type": "object", "properties": {"spec": spec}}))
    crd = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": "big"},
    }
    rules = run([crd], schema_dirs=(tmp_path,))
    assert rules == ["KS002"]


def test_schema_errors_point_at_the_field_line() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
        "spec:\n  selector: {matchLabels: {a: b}}\n"
        "  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n      - name: c\n"
        "        image: x:1\n        imagePullPolcy: Always\n"
    )
    docs, _ = load_documents(text, "f.yaml")
    finding = next(f for f in check_documents(docs, Options()) if f.rule == "KS002")
    assert finding.line == 12  # the unknown key itself, not the Deployment's line 1
    assert "imagePullPolcy" in finding.message and "imagePullPolicy" in finding.hint


def test_annotation_suppresses_a_schema_error_pointing_inside_the_object() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        "  annotations: {kubeship.io/ignore: 'KS002: a field our controller adds'}\n"
        "data: {a: b}\nextra: 1\n"
    )
    docs, _ = load_documents(text, "f.yaml")
    assert not [f for f in check_documents(docs, Options()) if f.rule == "KS002"]
    docs, _ = load_documents(text.replace("KS002", "KS101"), "f.yaml")
    assert [f.line for f in check_documents(docs, Options()) if f.rule == "KS002"] == [7]


def test_pod_and_container_rules_point_at_their_field() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
        "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n"
        "      containers:\n      - name: c\n        image: x:1\n        env:\n"
        "        - {name: LOG, value: info}\n        - {name: DB_PASSWORD, value: hunter2}\n"
        "      volumes:\n      - {name: data, emptyDir: {}}\n      - {name: host, hostPath: {path: /var}}\n"
    )
    docs, _ = load_documents(text, "f.yaml")
    lines = {f.rule: f.line for f in check_documents(docs, Options())}
    assert lines["KS210"] == 14  # the env entry with the literal secret
    assert lines["KS209"] == 17  # the hostPath volume
    assert lines["KS101"] == 10  # no livenessProbe: the container


def test_missing_reference_points_at_the_reference() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
        "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n"
        "      containers:\n      - name: c\n        image: x:1\n        envFrom:\n"
        "        - configMapRef: {name: there}\n        - secretRef: {name: absent}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: there}\n"
    )
    docs, _ = load_documents(text, "f.yaml")
    found = [(f.line, f.message) for f in check_documents(docs, Options()) if f.rule == "KS305"]
    assert found == [(14, "Secret 'absent' is referenced but not among the objects")]


def as_rollout(objects: Objects) -> dict[str, Any]:
    """The Deployment turned into the Argo Rollout a canary user writes, with the HPA scaling it."""
    rollout = of(objects, "Deployment")
    rollout.update(apiVersion="argoproj.io/v1alpha1", kind="Rollout")
    rollout["spec"].pop("strategy", None)
    rollout["spec"]["strategy"] = {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "5m"}}]}}
    of(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"].update(
        apiVersion="argoproj.io/v1alpha1", kind="Rollout"
    )
    return rollout


def test_a_rollout_is_checked_like_the_deployment_it_replaces() -> None:
    objects = good()
    as_rollout(objects)
    assert run(objects) == []  # schema (bundled), pod rules, Service/PDB/HPA cross-references: all clean
    for rule_id in ("KS201", "KS101", "KS108", "KS301", "KS307"):
        broken = good()
        MUTATIONS[rule_id](broken)
        as_rollout(broken)
        assert rule_id in run(broken), rule_id


def test_objects_named_by_the_server_are_not_duplicates() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "migrate-"}}
    assert "KS309" not in run([job, copy.deepcopy(job)], select=frozenset({"KS309"}))
    named = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert run([named, copy.deepcopy(named)], select=frozenset({"KS309"})) == ["KS309"]


def test_a_role_naming_what_it_grants_passes() -> None:
    objects = good()
    objects.append(
        _role([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}])
    )
    assert run(objects) == []


def test_rollout_references_services_and_analysis_templates() -> None:
    objects = good()
    rollout = as_rollout(objects)
    service = of(objects, "Service")["metadata"]["name"]
    canary = rollout["spec"]["strategy"]["canary"]
    canary_service = copy.deepcopy(of(objects, "Service"))
    canary_service["metadata"]["name"] = f"{service}-canary"
    objects.append(canary_service)
    canary.update(canaryService=f"{service}-canary", stableService=service)
    canary["steps"].append({"analysis": {"templates": [{"templateName": "success-rate"}]}})
    canary["analysis"] = {"templates": [{"templateName": "smoke", "clusterScope": True}]}
    docs = [Document(o, "f.yaml", 1) for o in objects]
    found = [f.message for f in check_documents(docs) if f.rule == "KS314"]
    assert found == [
        "ClusterAnalysisTemplate 'smoke' is not among the objects",
        "AnalysisTemplate 'success-rate' is not among the objects",
    ]
    objects.append(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisTemplate",
            "metadata": {"name": "success-rate", "namespace": rollout["metadata"].get("namespace")},
            "spec": {"metrics": [{"name": "ok", "provider": {"prometheus": {"query": "vector(1)"}}}]},
        }
    )
    objects.append(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ClusterAnalysisTemplate",
            "metadata": {"name": "smoke"},
            "spec": {"metrics": [{"name": "ok", "provider": {"prometheus": {"query": "vector(1)"}}}]},
        }
    )
    assert run(objects) == []


def test_a_tls_secret_made_by_a_certificate_is_not_missing() -> None:
    objects = good()
    MUTATIONS["KS312"](objects)
    assert "KS312" in run(objects)
    ingress = of(objects, "Ingress")
    secret = ingress["spec"]["tls"][0]["secretName"]
    objects.append(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": "web-tls", "namespace": ingress["metadata"].get("namespace")},
            "spec": {
                "secretName": secret,
                "dnsNames": ingress["spec"]["tls"][0]["hosts"],
                "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"},
            },
        }
    )
    assert run(objects) == []


def test_type_errors_say_what_was_expected_and_what_to_write() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {ratio: 1.5}\n"
        'spec:\n  replicas: "3"\n  selector: {matchLabels: {app: web}}\n  template:\n'
        "    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n"
        "        image: web:1\n        env: [{name: DEBUG, value: yes}]\n"
    )
    docs, _ = load_documents(text, "f.yaml")
    found = {f.line: (f.message, f.hint) for f in check_documents(docs) if f.rule == "KS002"}
    assert found[5] == (
        "metadata.annotations.ratio: expected a string, got a number",
        "quote it: YAML reads yes/no/on/off, numbers and dates as other types unless quoted",
    )
    assert found[7] == (
        "spec.replicas: expected an integer, got a string",
        "remove the quotes: it must be a number",
    )
    assert (
        found[15][0] == "spec.template.spec.containers.0.env.0.value: expected a string, got a boolean (true)"
    )


def test_a_secret_value_of_the_wrong_type_is_not_printed() -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
    text += "data: {pin: 918273}\nstringData: {token: [x91y]}\n"
    docs, _ = load_documents(text, "s.yaml")
    found = check_documents(docs)
    assert [f.rule for f in found] == ["KS002", "KS002"]
    assert not any("918273" in f.message + f.hint or "x91y" in f.message + f.hint for f in found)


def test_a_cronjobs_job_template_needs_its_ttl_too() -> None:
    job = _job()
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job["spec"]}},
    }
    docs = [Document(cron, "f.yaml", 1)]
    found = [f.message for f in check_documents(docs, Options(select=frozenset({"KS112"})))]
    assert found == ["the job template has no ttlSecondsAfterFinished"]
    cron["spec"]["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] = 3600
    assert run([cron], select=frozenset({"KS112"})) == []


def test_a_deployment_config_is_a_workload() -> None:
    """OpenShift's DeploymentConfig: pod rules apply and a Service selecting its template finds it."""
    objects = good()
    config = of(objects, "Deployment")
    config.update(apiVersion="apps.openshift.io/v1", kind="DeploymentConfig")
    config["spec"]["selector"] = dict(config["spec"]["selector"]["matchLabels"])  # a plain map there
    config["spec"].pop("strategy")
    of(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"].update(
        apiVersion="apps.openshift.io/v1", kind="DeploymentConfig"
    )
    found = run(objects, select=frozenset({"KS301", "KS303", "KS101", "KS201"}))
    assert found == []  # the Service's selector finds its pods, the HPA its target
    config["spec"]["template"]["spec"]["containers"][0].pop("livenessProbe")
    assert run(objects, select=frozenset({"KS101"})) == ["KS101"]


def test_widened_rules_find_what_kube_linter_and_kube_score_find() -> None:
    # a probe on a UDP port (TCP probes never reach it)
    objects = good()
    container(objects)["ports"].append({"name": "dns", "containerPort": 5353, "protocol": "UDP"})
    container(objects)["readinessProbe"] = {"tcpSocket": {"port": "dns"}}
    assert "KS103" in run(objects)
    # a secretKeyRef naming a key the Secret does not have
    objects = good()
    container(objects).setdefault("env", []).append(
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "tokn"}}}
    )
    docs = [Document(o, "f.yaml", i + 1) for i, o in enumerate(objects)]
    [message] = [f.message for f in check_documents(docs) if f.rule == "KS305"]
    assert message.startswith("Secret 'db-credentials' has no key 'tokn' (it has: ")
    # the removed seccomp annotation, named where the field is missing
    objects = good()
    pod(objects).pop("securityContext")["seccompProfile"]
    template = of(objects, "Deployment")["spec"]["template"]["metadata"]
    template["annotations"] = {"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}
    pod(objects)["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001}
    docs = [Document(o, "f.yaml", i + 1) for i, o in enumerate(objects)]
    seccomp = [f.message for f in check_documents(docs) if f.rule == "KS213"]
    assert seccomp and "ignored since Kubernetes 1.27" in seccomp[0]
    # an extensions/v1beta1 Ingress backend to a Service that is not there
    legacy = {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "old"},
        "spec": {"backend": {"serviceName": "gone", "servicePort": 80}},
    }
    assert "KS302" in run([legacy], select=frozenset({"KS302"}))


def _cronjob(labels: dict[str, str]) -> dict[str, Any]:
    container = {"name": "report", "image": "registry.example.com/report:1"}
    pod = {"metadata": {"labels": labels}, "spec": {"restartPolicy": "Never", "containers": [container]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report"},
        "spec": {
            "schedule": "0 * * * *",
            "jobTemplate": {"spec": {"ttlSecondsAfterFinished": 600, "template": pod}},
        },
    }


def test_a_pdb_with_max_unavailable_zero_blocks_on_its_own() -> None:
    objects = good()
    of(objects, "PodDisruptionBudget")["spec"] = {
        "maxUnavailable": 0,
        "selector": {"matchLabels": {"app": "none"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    assert "KS307" in run(objects)  # even though it selects nothing (KS306 says that too)


def test_cronjob_pods_count_for_budgets_and_policy_peers() -> None:
    objects = good()
    objects.append(_cronjob({"app": "report"}))
    objects.append(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "report"},
            "spec": {
                "maxUnavailable": 1,
                "selector": {"matchLabels": {"app": "report"}},
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
        }
    )
    of(objects, "NetworkPolicy")["spec"]["ingress"][0]["from"].append(
        {"podSelector": {"matchLabels": {"app": "report"}}}
    )
    found = run(objects)
    assert "KS306" not in found and "KS321" not in found
    assert "KS315" not in found  # a CronJob's pods have no clients to fence


def test_an_egress_only_policy_leaves_ingress_open() -> None:
    objects = good()
    policy = of(objects, "NetworkPolicy")["spec"]
    policy["policyTypes"] = ["Egress"]
    policy.pop("ingress", None)
    policy.setdefault("egress", [{"ports": [{"port": 53, "protocol": "UDP"}]}])
    docs = [Document(o, "fixture.yaml", i + 1) for i, o in enumerate(objects)]
    found = [f for f in check_documents(docs) if f.rule == "KS315"]
    assert [f.object for f in found] == ["Deployment/web"]
    assert "isolates only egress" in found[0].message


def test_anti_affinity_looking_in_the_wrong_namespace() -> None:
    objects = good()
    pod(objects)["affinity"] = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "topologyKey": "kubernetes.io/hostname",
                    "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                }
            ]
        }
    }
    assert "KS324" not in run(objects)  # no namespaces: the pod's own, where its replicas are
    of(objects, "ConfigMap")["metadata"]["namespace"] = "other"  # `other` is now described here
    pod(objects)["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0][
        "namespaces"
    ] = ["other"]
    docs = [Document(o, "fixture.yaml", i + 1) for i, o in enumerate(objects)]
    found = [f for f in check_documents(docs) if f.rule == "KS324"]
    assert found and "matches pods in 'default'" in found[0].message and "looks in other" in found[0].message


def test_no_update_strategy_is_said_with_what_the_default_does() -> None:
    objects = good()
    of(objects, "Deployment")["spec"].pop("strategy")
    docs = [Document(o, "fixture.yaml", i + 1) for i, o in enumerate(objects)]
    (finding,) = [f for f in check_documents(docs) if f.rule == "KS113"]
    assert finding.message == (
        "no strategy: the default RollingUpdate takes a quarter of the pods (maxUnavailable 25%) "
        "down at a time"
    )


def test_a_service_target_port_name_the_api_server_refuses() -> None:
    objects = good()
    of(objects, "Service")["spec"]["ports"][0]["targetPort"] = "http_port"
    docs = [Document(o, "fixture.yaml", i + 1) for i, o in enumerate(objects)]
    found = [f.message for f in check_documents(docs) if f.rule == "KS222"]
    assert found == ["targetPort 'http_port' is not an IANA_SVC_NAME"]


def test_the_deprecated_service_account_field_still_names_the_account() -> None:
    objects = good()
    pod(objects)["serviceAccount"] = pod(objects).pop("serviceAccountName")
    found = run(objects)
    assert "KS227" in found and "KS225" not in found and "KS319" not in found  # it is the web account


def test_the_label_index_selects_exactly_what_the_selector_semantics_select() -> None:
    """Index.selected answers from a label index; whatever the labels and selectors (values that are
    not strings, expressions, plain Service-style maps), it must agree with `selects` on every pod."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kubeship.check.rules.base import Index, selects

    value = st.sampled_from(["a", "b", "1", 1, True, None])
    labels = st.dictionaries(st.sampled_from(["app", "tier", "zone"]), value, max_size=3)
    expression = st.fixed_dictionaries(
        {
            "key": st.sampled_from(["app", "tier"]),
            "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
            "values": st.lists(value, max_size=2),
        }
    )
    selector = st.one_of(
        labels,  # a Service's plain map
        st.fixed_dictionaries({"matchLabels": labels}),
        st.fixed_dictionaries({"matchLabels": labels, "matchExpressions": st.lists(expression, max_size=2)}),
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(labels, max_size=6), selector)
    def agree(pods: list[dict[str, Any]], sel: dict[str, Any]) -> None:
        workloads = [
            Document(
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "labels": pod}}, "f", i
            )
            for i, pod in enumerate(pods)
        ]
        expected = [w.name for w in workloads if selects(sel, w.obj["metadata"]["labels"])]
        assert [w.name for w in Index(workloads).selected(sel, "")] == expected

    agree()
