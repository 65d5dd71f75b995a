"""DAST rules and the Wapiti gate: the rules file ZAP reads, and which findings fail the release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeship.pipeline.dast import ZAP_RULES, verdict, wapiti_findings, zap_rules_text
from kubeship.spec import parse_spec
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
# A real report: `wapiti -u http://127.0.0.1:18080/ -f json` against examples/ping before the runtime
# sent security headers (Wapiti 3.0.4, Debian bookworm).
BEFORE_HEADERS = FIXTURES / "wapiti-ping-no-headers.json"
SPEC = 'name: shop\nversion: "1"\nimage: {name: shop, tag: "1"}\n'


def zap_load_config(text: str) -> dict[str, str]:
    """ZAP's own reader (zaproxy/zaproxy docker/zap_common.py load_config), line for line."""
    config: dict[str, str] = {}
    for line in text.splitlines(keepends=True):
        if line.startswith("#") or len(line.strip()) == 0:
            continue
        if line.count("\t") < 2:
            raise ValueError(f"Unexpected number of tokens on line: {line}")
        key, val, optional = line.rstrip().split("\t", 2)
        if val not in ("IGNORE", "INFO", "WARN", "FAIL", "OUTOFSCOPE"):
            raise ValueError(val)
        if "\t" in optional:
            _ignore, _message = optional.rstrip().split("\t")  # exactly one more field: ZAP unpacks two
        config[key] = val
    return config


def test_zap_reads_the_rules_file_and_each_rule_has_a_reason() -> None:
    text = zap_rules_text(parse_spec(SPEC))
    config = zap_load_config(text)
    assert config == {r.id: r.action for r in ZAP_RULES}
    assert all(r.reason for r in ZAP_RULES)
    # what the runtime's headers satisfy fails the scan, so a regression stops the release
    for rule in ("10020", "10021", "10038", "10015", "10023", "90022", "40012", "40018"):
        assert config[rule] == "FAIL", rule


def test_the_spec_overrides_a_rule_and_adds_one() -> None:
    spec = parse_spec(SPEC + "pipeline: {dast: {rules: {'10038': WARN, '10202': FAIL, '12345': IGNORE}}}\n")
    config = zap_load_config(zap_rules_text(spec))
    assert (config["10038"], config["10202"], config["12345"]) == ("WARN", "FAIL", "IGNORE")
    assert "set in pipeline.dast.rules (FAIL by default)" in zap_rules_text(spec)


def test_a_rule_id_that_is_not_one_is_a_spec_error() -> None:
    from kubeship.errors import SpecError

    with pytest.raises(SpecError, match=r"pipeline\.dast\.rules"):
        parse_spec(SPEC + "pipeline: {dast: {rules: {'x-frame': FAIL}}}\n")


def test_wapiti_report_before_the_headers_has_five_low_findings() -> None:
    findings = wapiti_findings(json.loads(BEFORE_HEADERS.read_text()))
    assert sorted(f.info for f in findings) == [
        "CSP is not set",
        "Strict-Transport-Security is not set",
        "X-Content-Type-Options is not set",
        "X-Frame-Options is not set",
        "X-XSS-Protection is not set",
    ]
    assert {f.level for f in findings} == {1}
    failing, reported = verdict(findings, "medium")
    assert failing == [] and len(reported) == 5
    assert len(verdict(findings, "low")[0]) == 5


def reflected_xss_report() -> dict[str, object]:
    report = json.loads(BEFORE_HEADERS.read_text())
    report["vulnerabilities"]["Cross Site Scripting"] = [
        {"method": "GET", "path": "/echo", "info": "XSS vulnerability found via injection in the parameter q",
         "level": 2, "parameter": "q", "http_request": "", "curl_command": ""},
    ]  # fmt: skip
    return report


def test_gate_fails_naming_the_finding(tmp_path: Path) -> None:
    report = tmp_path / "wapiti.json"
    report.write_text(json.dumps(reflected_xss_report()))
    (tmp_path / "kubeship.yaml").write_text(SPEC)
    result = run_cli(
        "pipeline", "dast-gate", "-f", str(tmp_path / "kubeship.yaml"), str(report), cwd=tmp_path
    )
    assert result.returncode == 15, result.stderr
    assert "medium: Cross Site Scripting: GET /echo (q)" in result.stderr
    assert "Traceback" not in result.stderr
    passed = run_cli(
        "pipeline", "dast-gate", "-f", str(tmp_path / "kubeship.yaml"), str(BEFORE_HEADERS), cwd=tmp_path
    )
    assert passed.returncode == 0 and "5 findings, 0 at or above medium" in passed.stdout


@pytest.mark.parametrize(
    ("content", "says"),
    [("not json", "Expecting value"), ('{"a": 1}', "not a Wapiti JSON report"), ("[1, 2]", "not a Wapiti")],
)
def test_gate_refuses_what_is_not_a_report(tmp_path: Path, content: str, says: str) -> None:
    report = tmp_path / "r.json"
    report.write_text(content)
    (tmp_path / "kubeship.yaml").write_text(SPEC)
    result = run_cli(
        "pipeline", "dast-gate", "-f", str(tmp_path / "kubeship.yaml"), str(report), cwd=tmp_path
    )
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr
    missing = run_cli(
        "pipeline", "dast-gate", "-f", str(tmp_path / "kubeship.yaml"), "nope.json", cwd=tmp_path
    )
    assert missing.returncode == 2 and "did the scan run?" in missing.stderr


def test_gate_refuses_a_report_nested_past_the_limit_without_a_traceback(tmp_path: Path) -> None:
    report = tmp_path / "deep.json"
    report.write_text("[" * 200_000 + "]" * 200_000)  # json's own decoder recursed into a traceback
    (tmp_path / "kubeship.yaml").write_text(SPEC)
    result = run_cli(
        "pipeline", "dast-gate", "-f", str(tmp_path / "kubeship.yaml"), str(report), cwd=tmp_path
    )
    assert result.returncode == 2 and "nested more than" in result.stderr and "Traceback" not in result.stderr
