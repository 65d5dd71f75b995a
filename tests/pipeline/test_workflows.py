"""The generated pipelines: actionlint passes every GitHub workflow (with shellcheck on each `run:`
script), GitLab's schema passes every GitLab file, and both run the same steps in the same order."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeship.check.ci import check_gitlab_ci
from kubeship.pipeline import github_text, gitlab_text, stages
from kubeship.spec import parse_spec
from tests.conftest import ROOT

BASE = """
name: shop
version: "1.2.0"
image: {registry: registry.example.com, namespace: team, name: shop, tag: "1.2.0"}
secrets:
  db: {keys: {password: {fromEnv: DB_PASSWORD}}}
environments:
  prod: {replicas: 3}
  staging: {replicas: 1}
"""
# Each variation a user may write, with what it must change.
VARIANTS = {
    "defaults": "",
    "zap api scan": "pipeline: {dast: {openapi: /openapi.json, rules: {'10096': FAIL, '99999': WARN}}}\n",
    "wapiti": "pipeline: {dast: {scanner: wapiti, failAt: high, env: {APP_MODE: scan}}}\n",
    "no dast, no wait": "pipeline: {dast: {enabled: false}, wait: null}\n",
    "deploy repository": "pipeline: {gitops: {repository: 'https://git.example.com/shop/deploy.git'}}\n",
    "ghcr": "image: {registry: ghcr.io, namespace: team, name: shop, tag: '1.2.0'}\n",
    "own order": (
        "pipeline: {environments: [{name: staging}, {name: prod, approval: false}], branch: trunk}\n"
    ),
}


def spec_of(extra: str) -> Any:
    text = BASE
    if extra.startswith("image:"):
        text = re.sub(r"^image:.*$", extra.strip(), text, flags=re.M)
    else:
        text += extra
    return parse_spec(text, "kubeship.yaml")


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).with_name("actionlint"))
    if not Path(found).exists():
        pytest.fail("actionlint is not installed: run `make test` (pip install -e '.[dev]')")
    return found


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_actionlint_and_shellcheck_pass_every_github_workflow(variant: str, tmp_path: Path) -> None:
    assert shutil.which("shellcheck"), "shellcheck is not installed: run `make test`"
    workflow = tmp_path / ".github" / "workflows" / "kubeship.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(github_text(spec_of(VARIANTS[variant]), "kubeship.yaml", ["prod", "staging"]))
    result = subprocess.run([actionlint(), "-no-color", str(workflow)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_gitlab_file_matches_gitlabs_schema(variant: str) -> None:
    text = gitlab_text(spec_of(VARIANTS[variant]), "kubeship.yaml", ["prod", "staging"])
    assert check_gitlab_ci(text, ".gitlab-ci.yml") == []


def test_actionlint_would_fail_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: a step with both `uses` and `run`, and an unquoted injection."""
    workflow = tmp_path / "kubeship.yml"
    text = github_text(spec_of(""), "kubeship.yaml", ["prod", "staging"])
    workflow.write_text(
        text.replace("run: python -m pytest", 'run: echo "${{ github.event.pull_request.title }}"')
    )
    result = subprocess.run([actionlint(), "-no-color", str(workflow)], capture_output=True, text=True)
    assert result.returncode != 0 and "untrusted" in result.stdout


def workflow(extra: str = "") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(github_text(spec_of(extra), "kubeship.yaml", ["prod", "staging"]))
    return loaded


def test_every_action_is_pinned_by_commit_with_its_release_beside_it() -> None:
    text = github_text(spec_of(""), "kubeship.yaml", ["prod", "staging"])
    uses = re.findall(r"uses: (\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), (ref, comment)
    assert "ghcr.io/zaproxy/zaproxy:stable@sha256:" in text  # the scanner image by digest too


def test_least_privilege_permissions() -> None:
    w = workflow()
    assert w["permissions"] == {}
    perms = {name: job["permissions"] for name, job in w["jobs"].items()}
    assert perms["test"] == {"contents": "read"}
    assert perms["check"] == {"contents": "read", "security-events": "write", "actions": "read"}
    assert perms["build-image"] == {"contents": "read"}
    assert perms["release-staging"] == perms["release-prod"] == {"contents": "write"}  # the deploy branch
    other = workflow(VARIANTS["deploy repository"])["jobs"]
    assert other["release-prod"]["permissions"] == {"contents": "read"}
    assert other["release-prod"]["env"]["GITOPS_TOKEN"] == "${{ secrets.GITOPS_TOKEN }}"
    ghcr = workflow(VARIANTS["ghcr"])["jobs"]["build-image"]
    assert ghcr["permissions"] == {"contents": "read", "packages": "write"}
    assert ghcr["env"]["REGISTRY_PASSWORD"] == "${{ secrets.GITHUB_TOKEN }}"


def test_releases_in_order_one_at_a_time_prod_behind_its_environment() -> None:
    jobs = workflow()["jobs"]
    assert list(jobs) == ["test", "check", "build-image", "release-staging", "release-prod"]
    assert jobs["build-image"]["needs"] == ["check", "test"] or set(jobs["build-image"]["needs"]) == {
        "check",
        "test",
    }
    assert set(jobs["release-prod"]["needs"]) == {"build-image", "release-staging"}
    for env in ("staging", "prod"):
        job = jobs[f"release-{env}"]
        assert job["environment"] == {"name": env}
        assert job["concurrency"] == {"group": f"release-{env}", "cancel-in-progress": False}
        assert job["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
        assert job["timeout-minutes"] == 45  # the 30m wait and room for the rest
    push = next(s for s in jobs["build-image"]["steps"] if s.get("id") == "push")
    assert push["if"] == jobs["release-prod"]["if"]  # pull requests build and scan, never push


def test_gitlab_gates_prod_by_hand_and_releases_one_at_a_time() -> None:
    ci = yaml.safe_load(gitlab_text(spec_of(""), "kubeship.yaml", ["prod", "staging"]))
    assert ci["release-prod"]["rules"] == [{"if": '$CI_COMMIT_BRANCH == "main"', "when": "manual"}]
    assert ci["release-prod"]["allow_failure"] is False
    assert ci["release-prod"]["environment"] == {"name": "prod", "deployment_tier": "production"}
    assert ci["release-staging"]["rules"] == [{"if": '$CI_COMMIT_BRANCH == "main"'}]
    assert ci["release-staging"]["resource_group"] == "release-staging"
    assert ci["check"]["artifacts"]["reports"]["junit"] == f"{stages.REPORTS_DIR}/*.xml"
    assert ci["build-image"]["artifacts"]["reports"]["dotenv"].endswith("release.env")
    own = yaml.safe_load(gitlab_text(spec_of(VARIANTS["own order"]), "kubeship.yaml", ["prod", "staging"]))
    assert own["release-prod"]["rules"] == [{"if": '$CI_COMMIT_BRANCH == "trunk"'}]  # approval: false


def run_lines(steps: list[dict[str, Any]]) -> list[str]:
    return [s["run"] for s in steps if "run" in s]


def test_both_providers_run_the_same_commands_in_the_same_order() -> None:
    spec = spec_of(VARIANTS["zap api scan"])
    gh = yaml.safe_load(github_text(spec, "kubeship.yaml", ["prod", "staging"]))["jobs"]
    gl = yaml.safe_load(gitlab_text(spec, "kubeship.yaml", ["prod", "staging"]))
    for job in ("test", "check", "build-image", "release-staging", "release-prod"):
        github_script = "\n".join(run_lines(gh[job]["steps"]))
        gitlab_script = "\n".join(
            gl[job].get("before_script", gl[".python"]["before_script"]) + gl[job]["script"]
        )
        commands = [
            ln for ln in gitlab_script.splitlines() if ln.startswith(("kubeship", "podman", "python"))
        ]
        assert commands, job
        # the one difference: the report's format (SARIF for code scanning, JUnit for merge requests)
        github_script = re.sub(r"--format \w+ > \S+", "", github_script)
        commands = [re.sub(r"--format \w+ > \S+", "", c) for c in commands]
        positions = [github_script.find(c) for c in commands]
        assert -1 not in positions, (job, commands, positions)
        assert positions == sorted(positions), job


def test_environments_default_to_the_spec_s_with_prod_last() -> None:
    envs = stages.environments(spec_of(""), ["prod", "qa", "staging"])
    assert [(e.name, e.needs_approval) for e in envs] == [("qa", False), ("staging", False), ("prod", True)]


def test_the_seed_example_pipeline_is_written_and_current(tmp_path: Path) -> None:
    """`kubeship pipeline --check` tells a stale file, as CI would run it."""
    from tests.conftest import run_cli

    spec = tmp_path / "kubeship.yaml"
    spec.write_text((ROOT / "examples" / "seed" / "kubeship.yaml").read_text())
    written = run_cli("pipeline", "-f", str(spec), "--provider", "all", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "Required reviewers" in written.stderr  # GitHub enforces approval in its settings: said
    assert run_cli("pipeline", "-f", str(spec), "--provider", "all", "--check", cwd=tmp_path).returncode == 0
    spec.write_text(
        spec.read_text()
        .replace('version: "1.0.0"', 'version: "1.0.1"')
        .replace("name: web\n", "name: web2\n")
    )
    stale = run_cli("pipeline", "-f", str(spec), "--provider", "all", "--check", cwd=tmp_path)
    assert stale.returncode == 1 and "differs" in stale.stderr
