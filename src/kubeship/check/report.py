"""Findings as text (colour on a terminal), JSON, SARIF 2.1.0, JUnit XML and GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from xml.etree import ElementTree as ET

from kubeship import __version__
from kubeship.check.examples import EXAMPLES
from kubeship.check.model import Finding, Severity
from kubeship.check.rules import RULES

_COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}


def text(findings: list[Finding], checked: int, colour: bool = False) -> str:
    return "".join(text_chunks(findings, checked, colour))


def text_chunks(
    findings: list[Finding], checked: int, colour: bool = False, others: Mapping[str, int] | None = None
) -> Iterator[str]:
    """The text report a finding at a time: a large report is written as it is made, never held whole."""
    counts = dict.fromkeys(Severity, 0)
    for f in findings:
        counts[f.severity] += 1
        sev = f.severity.label
        if colour:
            sev = f"{_COLOURS[f.severity]}{sev}\033[0m"
        where = f" {f.object}" if f.object else ""
        origin = f" ({f.origin})" if f.origin else ""
        hint = f"\n    fix: {f.hint}" if f.hint else ""
        yield f"{f.file}:{f.line}:{origin}{where} {sev} {f.rule} {f.message}{hint}\n"
    what = [f"{checked} objects"] + [
        f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in (others or {}).items() if n
    ]
    yield (
        f"{' and '.join(what)} checked: {counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} "
        f"warnings, {counts[Severity.INFO]} notes\n"
    )


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github(findings: list[Finding]) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on its file and line in
    the pull request, without uploading SARIF."""

    def data(value: str) -> str:
        return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(value: str) -> str:
        return data(value).replace(":", "%3A").replace(",", "%2C")

    lines = []
    for f in findings:
        title = f"{f.rule} {RULES[f.rule].name}" if f.rule in RULES else f.rule
        message = f"{f.object}: {f.message}" if f.object else f.message
        if f.origin:
            message += f" (from {f.origin})"
        if f.hint:
            message += f"\nfix: {f.hint}"
        where = f"file={prop(f.file)},line={f.line},title={prop(title)}"
        lines.append(f"::{_GITHUB_LEVEL[f.severity]} {where}::{data(message)}")
    return "".join(line + "\n" for line in lines)


def as_json(findings: list[Finding], checked: int) -> str:
    return "".join(json_chunks(findings, checked))


def json_chunks(findings: list[Finding], checked: int) -> Iterator[str]:
    """`{"checked": N, "findings": [...]}` (json.dumps' indent=2 layout) a finding at a time."""
    if not findings:
        yield json.dumps({"checked": checked, "findings": []}, indent=2) + "\n"
        return
    yield f'{{\n  "checked": {checked},\n  "findings": [\n'
    quote = json.encoder.encode_basestring_ascii  # json.dumps' own string encoder (C), field by field:
    last = len(findings) - 1  # with indent, json.dumps runs in pure Python, a second per 70,000 findings
    for i, f in enumerate(findings):
        name = RULES[f.rule].name if f.rule in RULES else f.rule
        yield (
            f'    {{\n      "file": {quote(f.file)},\n      "line": {int(f.line)},\n'
            f'      "object": {quote(f.object)},\n      "rule": {quote(f.rule)},\n'
            f'      "name": {quote(name)},\n      "severity": {quote(f.severity.label)},\n'
            f'      "message": {quote(f.message)},\n      "hint": {quote(f.hint)},\n'
            f'      "source": {quote(f.origin)}\n    }}'  # the template the object came from (Helm)
            + (",\n" if i < last else "\n")
        )
    yield "  ]\n}\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _help(rule_id: str) -> dict[str, str]:
    """The fix hint, and the YAML to write as a code block where there is one (GitHub renders it)."""
    hint, example = RULES[rule_id].hint, EXAMPLES.get(rule_id)
    help_ = {"text": hint}
    if example:
        help_["markdown"] = f"{hint}\n\n```yaml\n{example}```"
    return help_


def sarif(findings: list[Finding]) -> str:
    """SARIF 2.1.0, the format GitHub code scanning reads."""
    used = sorted({f.rule for f in findings})
    rules = [
        {
            "id": rid,
            "name": RULES[rid].name,
            "shortDescription": {"text": RULES[rid].summary},
            "help": _help(rid),
            "defaultConfiguration": {"level": _SARIF_LEVEL[RULES[rid].severity]},
            "properties": {"category": RULES[rid].category},
        }
        for rid in used
        if rid in RULES
    ]
    # Rules from elsewhere (Dockerfile lint, the team's custom checks): described by their findings.
    first = {f.rule: f for f in reversed(findings)}
    rules += [
        {
            "id": rid,
            "name": rid,
            "shortDescription": {"text": first[rid].message},
            "help": {"text": first[rid].hint or first[rid].message},
            "defaultConfiguration": {"level": _SARIF_LEVEL[first[rid].severity]},
        }
        for rid in used
        if rid not in RULES
    ]
    quote = json.encoder.encode_basestring_ascii  # json's own (C) string encoder, result by result
    results = [
        f'{{"ruleId": {quote(f.rule)}, "level": "{_SARIF_LEVEL[f.severity]}", "message": {{"text": '
        + quote(
            f"{f.object}: {f.message}"
            + (f" (from {f.origin})" if f.origin else "")
            + (f" (fix: {f.hint})" if f.hint else "")
        )
        + f'}}, "locations": [{{"physicalLocation": {{"artifactLocation": {{"uri": {quote(f.file)}}}, '
        f'"region": {{"startLine": {int(f.line)}}}}}}}]}}'
        for f in findings
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kubeship",
                        "version": __version__,
                        "informationUri": "https://github.com/kubeship/kubeship",
                        "rules": rules,
                    }
                },
                "results": [],
            }
        ],
    }
    # The run's header indented, its results one per line (with indent, json.dumps runs in pure
    # Python: seconds for a 50,000-object check).
    head, tail = json.dumps(doc, indent=2).split('"results": []')
    body = ",\n".join("        " + r for r in results)
    return f'{head}"results": [\n{body}\n      ]{tail}\n' if results else f'{head}"results": []{tail}\n'


def junit(findings: list[Finding], objects: list[tuple[str, str]]) -> str:
    """JUnit XML as CI dashboards read it: a test suite per file, a test case per object checked (`objects`:
    (file, kind/namespace/name)), failing when it has an error or a warning; findings about a file
    rather than an object (invalid YAML, a Dockerfile) are test cases of their own."""
    by_case: dict[tuple[str, str], list[Finding]] = {(file, ref): [] for file, ref in objects}
    for f in findings:
        by_case.setdefault((f.file, f.object or f.rule), []).append(f)
    root = ET.Element("testsuites", name="kubeship check")
    suites: dict[str, ET.Element] = {}
    for (file, name), found in by_case.items():
        suite = suites.get(file)
        if suite is None:
            suite = suites[file] = ET.SubElement(root, "testsuite", name=file)
        case = ET.SubElement(suite, "testcase", classname=file, name=name)
        failing = [f for f in found if f.severity >= Severity.WARNING]
        if failing:
            worst = max(failing, key=lambda f: f.severity)  # the first of the most severe
            failure = ET.SubElement(case, "failure", message=f"{worst.rule} {worst.message}")
            failure.set("type", worst.severity.label)
            failure.text = "\n".join(
                f"{f.file}:{f.line}: {f.severity.label} {f.rule} {f.message}"
                + (f" (from {f.origin})" if f.origin else "")
                + (f" (fix: {f.hint})" if f.hint else "")
                for f in failing
            )
        notes = [f for f in found if f.severity < Severity.WARNING]
        if notes:
            ET.SubElement(case, "system-out").text = "\n".join(f"{f.rule} {f.message}" for f in notes)
    for suite in [root, *suites.values()]:
        counted = list(suite.iter("testcase"))
        suite.set("tests", str(len(counted)))
        suite.set("failures", str(sum(1 for c in counted if c.find("failure") is not None)))
    return ET.tostring(root, encoding="unicode") + "\n"
