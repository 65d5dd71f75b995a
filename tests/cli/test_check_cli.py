"""`kubeship check` from the command line: formats, exit codes, inputs, and render → check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import ROOT, run_cli

BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: api, image: "api:latest", securityContext: {privileged: true}}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: apii}, ports: [{port: 80}]}
"""


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    return path


def test_rendered_manifests_pass_check_with_zero_findings(tmp_path: Path) -> None:
    env = {"DB_USERNAME": "u", "DB_PASSWORD": "p", "SMTP_PASSWORD": "s", "DINGTALK_WEBHOOK": "https://d"}
    for spec in ("kubeship.yaml", "worker.kubeship.yaml", "worker-keda.kubeship.yaml"):
        # --observe adds the custom resources (ServiceMonitor, PrometheusRule; KEDA's ScaledObject)
        rendered = run_cli("render", "--observe", "-f", f"examples/seed/{spec}", cwd=ROOT, **env).stdout
        result = subprocess.run(
            [sys.executable, "-m", "kubeship", "check", "-"],
            input=rendered,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 errors, 0 warnings, 0 notes" in result.stdout


def test_text_report_and_exit_code(bad: Path) -> None:
    result = run_cli("check", str(bad))
    assert result.returncode == 1
    # the finding points at the container's line (11), not the Deployment's (1)
    assert f"{bad}:11: Deployment/api error KS201 container 'api' is privileged" in result.stdout
    assert f"{bad}:16: Service/api error KS301" in result.stdout  # at its selector
    assert "fix: " in result.stdout


def test_fail_on_threshold(bad: Path, tmp_path: Path) -> None:
    only_warnings = tmp_path / "w.yaml"
    only_warnings.write_text(
        BAD.split("---")[0].replace('"api:latest", securityContext: {privileged: true}', '"api:1"')
    )
    assert run_cli("check", "--select", "KS101", str(only_warnings)).returncode == 0  # warning < error
    assert run_cli("check", "--select", "KS101", "--fail-on", "warning", str(only_warnings)).returncode == 1


def test_json_sarif_junit(bad: Path) -> None:
    data = json.loads(run_cli("check", "--format", "json", str(bad)).stdout)
    assert data["checked"] == 2 and {"file", "line", "rule", "severity", "message", "hint", "object"} <= set(
        data["findings"][0]
    )
    sarif = json.loads(run_cli("check", "--format", "sarif", str(bad)).stdout)
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "kubeship"
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert all(r["ruleId"] in rule_ids for r in run["results"])
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    privileged = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "KS201")
    assert "```yaml\n" in privileged["help"]["markdown"]  # code scanning shows the YAML to write
    suites = ET.fromstring(run_cli("check", "--format", "junit", str(bad)).stdout)
    [suite] = suites.findall("testsuite")  # one file
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"Deployment/api", "Service/api"} and suites.get("tests") == "2"
    assert suites.get("failures") == "2" and cases["Deployment/api"].find("failure") is not None
    assert "KS201" in (cases["Deployment/api"].findtext("failure") or "")


def test_directories_and_stdin(bad: Path) -> None:
    assert run_cli("check", str(bad.parent)).returncode == 1
    result = subprocess.run(
        [sys.executable, "-m", "kubeship", "check", "-"], input=BAD, capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 1 and "<stdin>:1:" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "missing.yaml: no such file"),
        (["--kubernetes-version", "1.2", "x.yaml"], "no bundled schemas for Kubernetes 1.2"),
        (["--select", "KS999", "x.yaml"], "unknown rule IDs: KS999"),
        ([], "give files, directories or -"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli("check", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_explain() -> None:
    result = run_cli("check", "--explain", "KS304")
    assert result.returncode == 0 and "utilization" in result.stdout and "fix:" in result.stdout
    assert "requests: {cpu: 250m, memory: 256Mi}" in result.stdout  # the YAML to write


def test_the_guides_handwritten_yaml_has_the_bugs_kubeship_avoids() -> None:
    result = run_cli("check", "--format", "json", "examples/seed/handwritten.yaml", cwd=ROOT)
    found = {(f["object"], f["rule"]) for f in json.loads(result.stdout)["findings"]}
    assert ("Service/web-service", "KS301") in found  # selects app: web, the pods are app: nginx
    assert (
        "HorizontalPodAutoscaler/nginx-hpa",
        "KS303",
    ) in found  # targets nginx-deployment, not nginx-deploy
    assert ("Deployment/nginx-deploy", "KS101") in found and result.returncode == 1


def test_config_file_ignores_with_reasons(bad: Path, tmp_path: Path) -> None:
    config = tmp_path / ".kubeship-check.yaml"
    ignore = "ignore:\n  - rule: KS201\n    object: Deployment/*\n    reason: the CNI agent needs it\n"
    config.write_text("skip: [KS213]\n" + ignore)
    text = run_cli("check", str(bad), cwd=tmp_path).stdout  # picked up from the working directory
    assert "KS201" not in text and "KS213" not in text and "KS301" in text
    config.write_text("ignore:\n  - rule: KS201\n")
    result = run_cli("check", str(bad), cwd=tmp_path)
    assert result.returncode == 2 and "give rule, reason" in result.stderr


def test_a_kustomize_tree_is_checked_as_files(tmp_path: Path) -> None:
    env = {"DB_USERNAME": "u", "DB_PASSWORD": "p", "WEB_AUDIT_KEY": "k" * 32, "SIEM_CA_CRT": "ca"}
    tree = tmp_path / "k8s"
    rendered = run_cli(
        "render", "-f", "examples/seed/kubeship.yaml", "--kustomize", str(tree), cwd=ROOT, **env
    )
    assert rendered.returncode == 0, rendered.stderr
    clean = run_cli("check", "--fail-on", "info", str(tree), cwd=ROOT)
    assert clean.returncode == 0, clean.stdout  # kustomization.yaml files are validated, not duplicates
    dev = tree / "overlays" / "dev"
    dev.mkdir()
    (dev / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\n"
        "patchesStrategicMerge: [memory.yaml]\n"
        "patches:\n- {path: hpa.yaml, target: {kind: HorizontalPodAutoscaler, name: web}}\n"
    )
    (dev / "memory.yaml").write_text(  # a partial Deployment: no selector, no image
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec: {template: {spec: {containers: [{name: web, resources: {limits: {memory: 1Gi}}}]}}}\n"
    )
    (dev / "hpa.yaml").write_text("- {op: replace, path: /spec/minReplicas, value: 1}\n")  # JSON 6902
    result = run_cli("check", "--format", "json", str(tree), cwd=ROOT)
    assert result.returncode == 0, result.stdout
    [note] = json.loads(result.stdout)["findings"]
    assert note["rule"] == "KS003" and note["file"] == str(dev / "memory.yaml")
    assert "Kustomize patch" in note["message"]
    (dev / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresource: [../../base]\n"
    )
    typo = run_cli("check", str(dev / "kustomization.yaml"), cwd=ROOT)
    assert typo.returncode == 1 and "did you mean 'resources'?" in typo.stdout


def test_list_rules_names_every_rule() -> None:
    from kubeship.build.lint import RULES as DOCKERFILE_RULES
    from kubeship.check import RULES

    listed = json.loads(run_cli("check", "--list-rules", "--format", "json").stdout)
    assert [r["id"] for r in listed] == sorted({*RULES, *DOCKERFILE_RULES})
    text = run_cli("check", "--list-rules").stdout
    assert "KS215  error    security        cluster-admin-binding" in text


def test_a_repository_walk_skips_hidden_and_vendored_dirs_and_notes_helm_charts(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "web.yaml").write_text((ROOT / "tests/check/fixtures/good.yaml").read_text())
    for vendored in (".venv/lib", "node_modules/pkg", ".git/objects"):
        (tmp_path / vendored).mkdir(parents=True)
        (tmp_path / vendored / "package.json").write_text('{"name": "not a manifest"}')
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "templates" / "deployment.yaml").write_text("metadata:\n  name: {{ .Release.Name }}\n")
    result = run_cli("check", "--format", "json", str(tmp_path))
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["checked"] == 9  # the rendered seed objects, nothing from .venv, node_modules or .git
    [note] = report["findings"]
    assert (
        note["rule"] == "KS003"
        and note["file"] == str(chart / "Chart.yaml")
        and "helm template" in note["hint"]
    )


HIDE_SCHEMAS = """
import importlib.machinery, sys
class Hidden(importlib.machinery.PathFinder):  # as if only `pip install kubeship` (the runtime) were there
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] == "kubernetes_validate":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Hidden)
from kubeship.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_the_tools_extra_check_says_what_to_install(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HIDE_SCHEMAS, "check", "examples/seed/handwritten.yaml"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "needs kubernetes_validate: pip install 'kubeship[tools]'" in result.stderr


def test_github_annotations(bad: Path) -> None:
    result = run_cli("check", "--format", "github", str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        f"::error file={bad},line=11,title=KS201 privileged::Deployment/api: container 'api' is privileged"
        in (line.split("%0A")[0] for line in lines)
    )
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert all("\n" not in line and "%0Afix: " in line for line in lines)  # one command per finding


def test_a_directory_with_nothing_to_check_is_a_usage_error_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no manifests here\n")
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 2 and "no .yaml, .yml, .json or Dockerfile here" in result.stderr


def test_other_yaml_in_a_directory_is_noted_and_a_kubeship_spec_says_how_to_check_it(tmp_path: Path) -> None:
    (tmp_path / "kubeship.yaml").write_text((ROOT / "examples/seed/kubeship.yaml").read_text())
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: 'web:1'}\n")
    (tmp_path / "k8s.yaml").write_text((ROOT / "tests/check/fixtures/good.yaml").read_text())
    walked = json.loads(run_cli("check", "--format", "json", str(tmp_path)).stdout)
    notes = {Path(f["file"]).name: f for f in walked["findings"]}
    assert walked["checked"] == 9 and set(notes) == {"kubeship.yaml", "compose.yaml"}
    assert all(f["rule"] == "KS003" and f["severity"] == "info" for f in notes.values())
    assert "kubeship render -f" in notes["kubeship.yaml"]["hint"]
    named = run_cli("check", str(tmp_path / "kubeship.yaml"))  # named, it is an error: not a manifest
    assert named.returncode == 1 and "KS004" in named.stdout and "kubeship render -f" in named.stdout
    (tmp_path / "broken.yaml").write_text("kind: ConfigMap\nmetadata: {name: c}\n")  # a manifest's mistake
    assert run_cli("check", str(tmp_path)).returncode == 1


def test_a_large_check_says_what_it_is_doing_on_a_terminal_only(tmp_path: Path) -> None:
    import os
    import pty

    big = tmp_path / "big.yaml"
    good = (ROOT / "tests/check/fixtures/good.yaml").read_text()
    big.write_text("---\n".join(good.replace("name: web", f"name: web{i}") for i in range(400)))
    assert big.stat().st_size > 2_000_000
    leader, follower = pty.openpty()  # stderr on a terminal, stdout (the report) in a pipe
    proc = subprocess.run(
        [sys.executable, "-m", "kubeship", "check", "--format", "json", str(big)],
        stdout=subprocess.PIPE, stderr=follower, cwd=ROOT, timeout=120,
    )  # fmt: skip
    os.close(follower)
    terminal = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(leader)
    assert b"kubeship check: checking" in terminal and terminal.endswith(b"\r\x1b[K")  # the line is cleared
    assert json.loads(proc.stdout)["checked"] > 3000  # the report itself is untouched
    piped = run_cli("check", "--format", "json", str(big), timeout=120)
    assert "kubeship check:" not in piped.stderr  # not a terminal: no status line


def test_helm_output_findings_name_the_template_they_came_from() -> None:
    stream = (ROOT / "tests/check/fixtures/helm-template.yaml").read_text()
    text = run_cli("check", "--min-severity", "error", "-", input=stream).stdout
    assert "<stdin>:24: (shop/templates/deployment.yaml) Deployment/shop-web error KS201" in text
    report = json.loads(run_cli("check", "--format", "json", "-", input=stream).stdout)
    sources = {f["object"]: f["source"] for f in report["findings"]}
    assert sources["Deployment/shop-web"] == "shop/templates/deployment.yaml"
    assert sources["Service/shop-web"] == "shop/templates/service.yaml"


def test_selection_and_severity_apply_to_notes_from_the_walk_too(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: 'web:1'}\n")
    (tmp_path / "k8s.yaml").write_text((ROOT / "tests/check/fixtures/good.yaml").read_text())
    noted = json.loads(run_cli("check", "--format", "json", str(tmp_path)).stdout)["findings"]
    assert [f["rule"] for f in noted] == ["KS003"]
    for flags in (["--skip", "KS003"], ["--min-severity", "warning"]):
        quiet = json.loads(run_cli("check", "--format", "json", *flags, str(tmp_path)).stdout)["findings"]
        assert quiet == [], flags


@pytest.mark.parametrize("crd", [False, True])
def test_a_large_file_left_on_disk_reports_what_the_same_stream_on_stdin_does(
    tmp_path: Path, crd: bool
) -> None:
    """A file over 1 MB is read a piece at a time from disk; stdin is held whole. Same report, line for
    line, with or without a CRD in the stream (which defers every object's own checks to the end)."""
    good = (ROOT / "tests/check/fixtures/good.yaml").read_text()
    pieces = [good.replace("name: web", f"name: web{i % 150}") for i in range(200)]  # some duplicates
    if crd:
        pieces.append(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\n"
        )
    text = "---\n".join(pieces)
    big = tmp_path / "big.yaml"
    big.write_text(text)
    assert big.stat().st_size > 1_000_000
    from_disk = json.loads(run_cli("check", "--format", "json", str(big), timeout=120).stdout)
    from_stdin = json.loads(run_cli("check", "--format", "json", "-", input=text, timeout=120).stdout)
    for finding in from_stdin["findings"]:
        finding["file"] = str(big)
        finding["message"] = finding["message"].replace("<stdin>", str(big))  # KS309: "same as file:line"
    assert from_disk["findings"] and from_disk == from_stdin
    assert {f["rule"] for f in from_disk["findings"]} >= {"KS309"}


def test_the_readme_gives_the_rule_count_the_cli_gives() -> None:
    """One count everywhere: the README said 65 while the demo said 72."""
    from kubeship.cli.check_cmd import rule_count_line
    from tests.conftest import ROOT

    line = rule_count_line()
    lint_rules = line.split(" lint rules")[0]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert line in readme and f"and {lint_rules} lint rules" in readme
    listed = run_cli("check", "--list-rules")
    assert listed.stdout.splitlines()[-1] == line


@pytest.mark.parametrize("content", ["", "---\n", "# nothing rendered\n"])
def test_an_empty_input_is_not_a_pass(tmp_path: Path, content: str) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text(content)
    result = run_cli("check", str(empty))
    assert result.returncode == 2 and "no Kubernetes object to check" in result.stderr
    stdin = run_cli("check", "-", input=content)
    assert stdin.returncode == 2 and "did the render before it fail?" in stdin.stderr
    allowed = run_cli("check", str(empty), "--allow-empty")
    assert allowed.returncode == 0 and "0 objects checked" in allowed.stdout
