"""The reports written piecewise (a large check is never held whole) are the documents they describe."""

from __future__ import annotations

import json

from kubeship.check import RULES
from kubeship.check.model import Finding, Severity
from kubeship.check.report import as_json, sarif

FINDINGS = [
    Finding(
        "k8s/a é.yaml", 3, "KS101", Severity.ERROR, 'msg "q"\nx\t\u2603', "hint", "Deployment/x", "t.yaml"
    ),
    Finding("b.yaml", 1, "KS999", Severity.INFO, "m"),  # not a built-in rule (a custom check)
]


def test_json_is_what_json_dumps_would_write() -> None:
    entries = [
        {"file": f.file, "line": f.line, "object": f.object, "rule": f.rule,
         "name": RULES[f.rule].name if f.rule in RULES else f.rule, "severity": f.severity.label,
         "message": f.message, "hint": f.hint, "source": f.origin}
        for f in FINDINGS
    ]  # fmt: skip
    assert as_json(FINDINGS, 2) == json.dumps({"checked": 2, "findings": entries}, indent=2) + "\n"
    assert as_json([], 0) == json.dumps({"checked": 0, "findings": []}, indent=2) + "\n"


def test_sarif_results_are_the_findings() -> None:
    level = {Severity.ERROR: "error", Severity.INFO: "note"}
    want = [
        {
            "ruleId": f.rule,
            "level": level[f.severity],
            "message": {"text": f"{f.object}: {f.message}" + (f" (from {f.origin})" if f.origin else "")
                        + (f" (fix: {f.hint})" if f.hint else "")},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": f.file}, "region": {"startLine": f.line}}}
            ],
        }
        for f in FINDINGS
    ]  # fmt: skip
    run = json.loads(sarif(FINDINGS))["runs"][0]
    assert run["results"] == want
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["KS101", "KS999"]
    assert json.loads(sarif([]))["runs"][0]["results"] == []
