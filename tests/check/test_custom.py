"""The team's own rules from the check config: found where they fail, and handled like built-in rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeship.check import Options, check_documents, load_documents
from kubeship.check.engine import load_config
from tests.conftest import run_cli

CONFIG = """\
customChecks:
- id: ACME-TEAM-LABEL
  severity: error
  kinds: [Deployment]
  message: every workload names its owning team
  hint: add metadata.labels.team
  schema:
    properties:
      metadata:
        required: [labels]
        properties: {labels: {required: [team]}}
- id: ACME-NO-HOSTPORT
  message: no container binds a host port
  schema:
    properties:
      spec:
        properties:
          template:
            properties:
              spec:
                properties:
                  containers:
                    items:
                      properties:
                        ports: {items: {not: {required: [hostPort]}}}
"""
GOOD = (Path(__file__).parent / "fixtures" / "good.yaml").read_text()
DEPLOYMENT = GOOD.index("kind: Deployment")
LABELS_LINE = GOOD[:DEPLOYMENT].count("\n") + 5  # kind, metadata, name, labels: then the first label


def in_deployment(old: str, new: str) -> str:
    """The fixture with the first `old` after the Deployment's start replaced."""
    at = GOOD.index(old, DEPLOYMENT)
    return GOOD[:at] + new + GOOD[at + len(old) :]


def findings(text: str, config: str = CONFIG) -> list[tuple[str, int, str]]:
    options = Options(custom_checks=load_config(config, "cfg.yaml").custom_checks)
    docs, _ = load_documents(text, "f.yaml")
    return [(f.rule, f.line, f.object) for f in check_documents(docs, options) if f.rule.startswith("ACME")]


def test_a_failing_object_is_a_finding_at_the_failing_field() -> None:
    assert findings(GOOD) == [("ACME-TEAM-LABEL", LABELS_LINE, "Deployment/web")]  # at metadata.labels
    assert findings(in_deployment("app.kubernetes.io/part-of: seed-shop", "team: shop")) == []
    bound = in_deployment("containerPort: 8080", "containerPort: 8080\n          hostPort: 80")
    assert ("ACME-NO-HOSTPORT", "Deployment/web") in {(r, o) for r, _, o in findings(bound)}


def test_custom_rules_are_selected_and_suppressed_like_built_in_ones() -> None:
    options = Options(
        custom_checks=load_config(CONFIG, "cfg.yaml").custom_checks, skip=frozenset({"ACME-TEAM-LABEL"})
    )
    docs, _ = load_documents(GOOD, "f.yaml")
    assert not [f for f in check_documents(docs, options) if f.rule.startswith("ACME")]
    reason = "  annotations: {kubeship.io/ignore: 'ACME-TEAM-LABEL: the platform team owns it'}\n  labels:"
    assert findings(in_deployment("  labels:", reason)) == []


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("customChecks: [{id: KS999, message: m, schema: {}}]", "not KS"),
        ("customChecks: [{id: lower-case, message: m, schema: {}}]", "must look like"),
        ("customChecks: [{id: ACME-X, schema: {}}]", "give a message and a schema"),
        ("customChecks: [{id: ACME-X, message: m, schema: {type: nonsense}}]", "customChecks[0]"),
        ("customChecks: [{id: ACME-X, message: m, schema: {}, sevrity: error}]", "unknown keys sevrity"),
        (
            "customChecks: [{id: ACME-X, message: m, schema: {}}, {id: ACME-X, message: n, schema: {}}]",
            "twice",
        ),
    ],
)
def test_a_bad_custom_check_is_a_clear_config_error(config: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r"cfg\.yaml: customChecks") as raised:
        load_config(config, "cfg.yaml")
    assert problem in str(raised.value)


def test_the_cli_runs_explains_and_reports_custom_checks(tmp_path: Path) -> None:
    (tmp_path / ".kubeship-check.yaml").write_text(CONFIG)
    (tmp_path / "app.yaml").write_text(GOOD)
    result = run_cli("check", "--format", "json", "app.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # severity error
    [found] = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "ACME-TEAM-LABEL"]
    assert found["hint"] == "add metadata.labels.team" and found["line"] == LABELS_LINE
    sarif = json.loads(run_cli("check", "--format", "sarif", "app.yaml", cwd=tmp_path).stdout)["runs"][0]
    assert "ACME-TEAM-LABEL" in {r["id"] for r in sarif["tool"]["driver"]["rules"]}  # every result's rule
    listed = json.loads(run_cli("check", "--list-rules", "--format", "json", cwd=tmp_path).stdout)
    assert {"id": "ACME-NO-HOSTPORT", "category": "custom"}.items() <= next(
        r for r in listed if r["id"] == "ACME-NO-HOSTPORT"
    ).items()
    explained = run_cli("check", "--explain", "ACME-TEAM-LABEL", cwd=tmp_path)
    assert explained.returncode == 0 and "every workload names its owning team" in explained.stdout
    assert run_cli("check", "--select", "ACME-NO-HOSTPORT", "app.yaml", cwd=tmp_path).returncode == 0
    elsewhere = tmp_path / "no-config"
    elsewhere.mkdir()
    (elsewhere / "app.yaml").write_text(GOOD)
    plain = run_cli("check", "--format", "json", "app.yaml", cwd=elsewhere)
    assert plain.returncode == 0 and json.loads(plain.stdout)["findings"] == []  # no config: no custom rule


def test_a_custom_check_without_a_hint_names_the_field_not_the_value() -> None:
    config = "customChecks: [{id: ACME-PIN, kinds: [Secret], message: pins are long, schema: "
    config += "{properties: {stringData: {properties: {pin: {minLength: 8}}}}}}]"
    options = Options(custom_checks=load_config(config, "cfg.yaml").custom_checks)
    docs, _ = load_documents(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {pin: '4711'}\n", "s.yaml"
    )
    [found] = [f for f in check_documents(docs, options) if f.rule == "ACME-PIN"]
    assert found.hint == "stringData.pin: fails the check's 'minLength'" and "4711" not in found.hint
