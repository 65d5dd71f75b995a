"""The generated pipeline, run: its own `run:` steps, in order, on real parts.

examples/ping as a git project; `kubeship pipeline` writes its GitHub workflow; a local runner
(tests/e2e/actions.py) runs every job the way a push to main would: the tests, render + check,
podman build (layers cached in the registry), the image run and scanned by Wapiti (a real DAST
scanner; ZAP cannot be installed here), push to the TLS registry with the digest pinned, then
each environment committed to a local bare GitOps repository with its Argo CD Application.
What landed there is checked: 0 findings. Then a reflected-XSS route is added and the same
image job fails at the scan, naming it, and pushes nothing. No GitHub, no cluster: the steps
that wait for a rollout are skipped and listed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, free_port, run_cli
from tests.e2e.actions import JobRun, LocalRunner
from tests.e2e.conftest import BASE, PASSWORD, USER, Registry, sh
from tests.observe.conftest import tool

# Image builds take minutes on a slow host (the pipeline's 132 s and the image test's 109 s on one, against
# the suite's 120 s per test): bounded by the builds' own 600 s instead.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

RELEASE = "github.event_name == 'push' && github.ref == 'refs/heads/main'"
VULNERABLE = """

from fastapi.responses import HTMLResponse


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return '<html><body><a href="/echo?q=hello">echo</a></body></html>'


@app.get("/echo", response_class=HTMLResponse)
async def echo(q: str = "") -> str:
    return f"<html><body><p>You said: {q}</p></body></html>"  # reflected, unescaped: XSS
"""


@pytest.fixture
def trusted(registry: Registry) -> Iterator[Registry]:
    """The runner trusts the registry's CA the way a self-hosted runner is set up: certs.d."""
    certs = Path("/etc/containers/certs.d") / registry.address
    certs.mkdir(parents=True, exist_ok=True)
    shutil.copy(registry.certs / "ca.crt", certs / "ca.crt")
    try:
        yield registry
    finally:
        shutil.rmtree(certs, ignore_errors=True)


def project(root: Path, registry: Registry, gitops: Path, port: int) -> Path:
    """examples/ping with a test, a committed Dockerfile, the pipeline section and a wheelhouse."""
    ctx = root / "ping"
    ctx.mkdir()
    for name in ("app.py", "requirements.txt"):
        shutil.copy(ROOT / "examples" / "ping" / name, ctx / name)
    (ctx / "tests").mkdir()
    shutil.copy(
        ROOT / "src" / "kubeship" / "cli" / "templates" / "test_app.py.tmpl", ctx / "tests" / "test_app.py"
    )
    (ctx / "kubeship.yaml").write_text(
        f"""name: ping
version: "1.0.0"
image: {{registry: "{registry.address}", namespace: kubeship, name: ping, tag: "1.0.0"}}
container: {{app: "app:app", port: {port}}}
secrets:
  api-key: {{keys: {{token: {{fromEnv: API_TOKEN}}}}}}
build: {{base: "{BASE}", wheelhouse: wheels}}
environments:
  staging: {{replicas: 1}}
  prod: {{replicas: 3}}
pipeline:
  test: python -m pytest -q -p no:cacheprovider tests
  dast: {{scanner: wapiti, minutes: 5}}
  gitops: {{repository: "{gitops}"}}
"""
    )
    # The wheels a CI cache would hold: builds here cannot reach the package index.
    sh(sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(ctx / "wheels"), str(ROOT),
       "fastapi>=0.110", timeout=600)  # fmt: skip
    (ctx / ".gitignore").write_text("wheels/\n")
    assert run_cli("dockerfile", "-f", str(ctx / "kubeship.yaml"), "--write", cwd=ctx).returncode == 0
    written = run_cli("pipeline", "-f", str(ctx / "kubeship.yaml"), cwd=ctx)
    assert written.returncode == 0, written.stderr
    commit(ctx, "ping", init=True)
    return ctx


def commit(ctx: Path, message: str, init: bool = False) -> None:
    if init:
        sh("git", "-C", str(ctx), "init", "-q", "-b", "main")
    sh("git", "-C", str(ctx), "add", ".")
    sh("git", "-C", str(ctx), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)


def runner(ctx: Path) -> LocalRunner:
    bin_dir = str(Path(sys.executable).parent)
    return LocalRunner(
        ctx / ".github" / "workflows" / "kubeship.yml",
        ctx,
        expressions={
            RELEASE: "true",  # a push to main
            "github.event_name == 'pull_request'": "false",
            "secrets.REGISTRY_USERNAME": USER,
            "secrets.REGISTRY_PASSWORD": PASSWORD,
            "secrets.GITOPS_TOKEN": "",
            "secrets.KUBECONFIG": "",
            "github.sha": sh("git", "-C", str(ctx), "rev-parse", "HEAD").stdout.strip(),
            "github.server_url": "https://github.example.com",
            "github.repository": "shop/ping",
        },
        env={"PATH": f"{bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        skip_ids=frozenset({"wait-rollout"}),
    )


def fresh_checkout(ctx: Path) -> None:
    """What actions/checkout gives each job: the commit, nothing a previous job left (the ignored
    wheelhouse stays: a cache restores it)."""
    sh("git", "-C", str(ctx), "reset", "-q", "--hard")
    sh("git", "-C", str(ctx), "clean", "-q", "-fd")
    shutil.rmtree(ctx / "build", ignore_errors=True)


def run_job(run: LocalRunner, ctx: Path, job: str) -> JobRun:
    fresh_checkout(ctx)
    return run.run(job)


def explain(job: JobRun) -> str:
    return "\n".join(f"[{s.status}] {s.name}\n{s.output[-3000:]}" for s in job.steps if s.status == "failed")


def test_the_pipeline_runs_step_by_step_and_a_vulnerable_route_stops_it(
    tmp_path: Path, trusted: Registry
) -> None:
    tool("wapiti"), tool("podman"), tool("git")
    gitops = tmp_path / "deploy.git"
    sh("git", "init", "-q", "--bare", str(gitops))
    ctx = project(tmp_path, trusted, gitops, free_port())
    run = runner(ctx)
    started = time.monotonic()
    timings = {}
    for job in ("test", "check", "build-image", "release-staging", "release-prod"):
        t0 = time.monotonic()
        done = run_job(run, ctx, job)
        timings[job] = time.monotonic() - t0
        assert done.failed is None, f"{job} failed:\n{explain(done)}"
        if job == "check":  # the SARIF code scanning receives, per environment
            for env in ("staging", "prod"):
                sarif = json.loads((ctx / "build" / "kubeship" / "reports" / f"{env}.sarif").read_text())
                assert sarif["runs"][0]["tool"]["driver"]["name"] == "kubeship"
                found = [r["ruleId"] for r in sarif["runs"][0]["results"]]
                assert found == (["KS111"] if env == "staging" else []), found  # 1 replica: a note
    wall = time.monotonic() - started
    print(f"\npipeline dry run: {wall:.0f} s ({', '.join(f'{j} {s:.0f} s' for j, s in timings.items())})")

    image = run.jobs["build-image"]
    names = [(s.name, s.status) for s in image.steps]
    assert ("DAST: Wapiti", "ran") in names and ("Push the scanned image, pin its digest", "ran") in names
    scan = next(s for s in image.steps if s.name == "DAST: Wapiti")
    assert "0 at or above medium" in scan.output, scan.output
    reference = image.outputs["reference"]
    assert reference.startswith(f"{trusted.address}/kubeship/ping@sha256:")
    skipped = [(s.job, s.name) for j in run.jobs.values() for s in j.steps if s.status == "skipped"]
    assert skipped == [
        ("release-staging", "Wait for the staging rollout"),
        ("release-prod", "Wait for the prod rollout"),
    ]

    # what landed in the GitOps repository: both environments, pinned, check-clean
    landed = tmp_path / "landed"
    sh("git", "clone", "-q", "--branch", "deploy", str(gitops), str(landed))
    assert sorted(p.name for p in (landed / "argocd").iterdir()) == ["ping-prod.yaml", "ping-staging.yaml"]
    prod = (landed / "ping" / "prod" / "deployment-ping.yaml").read_text()
    assert f'image: "{reference}"' in prod and "replicas: 3" in prod
    assert not list(landed.rglob("secret-*.yaml"))  # api-key by reference: its value never in git
    app = yaml.safe_load((landed / "argocd" / "ping-prod.yaml").read_text())
    assert app["spec"]["source"]["repoURL"] == str(gitops) and app["spec"]["source"]["path"] == "ping/prod"
    assert app["spec"]["destination"]["namespace"] == "ping-prod"  # environments never share one
    for env in ("staging", "prod"):  # each environment is applied on its own: checked on its own
        paths = [str(landed / "ping" / env), str(landed / "argocd" / f"ping-{env}.yaml")]
        checked = run_cli("check", *paths, "--external-refs", "--format", "json", cwd=tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        report = json.loads(checked.stdout)
        notes = [f["rule"] for f in report["findings"]]
        assert notes == (["KS111"] if env == "staging" else []), notes  # staging's 1 replica: a note
    log = sh("git", "-C", str(landed), "log", "--format=%s").stdout.splitlines()
    assert log == [f"ping prod: {reference}", f"ping staging: {reference}"]

    # a reflected-XSS route: the scan fails the image job, naming it, and nothing is pushed
    with (ctx / "app.py").open("a") as f:
        f.write(VULNERABLE)
    commit(ctx, "an echo page")
    run = runner(ctx)
    for job in ("test", "check"):
        assert run_job(run, ctx, job).failed is None
    image = run_job(run, ctx, "build-image")
    failed = image.failed
    assert failed is not None and failed.name == "DAST: Wapiti", explain(image)
    assert "Cross Site Scripting: GET /echo (q)" in failed.output
    assert "1 finding(s) at or above medium" in failed.output
    statuses = {s.name: s.status for s in image.steps}
    assert statuses["Push the scanned image, pin its digest"] == "skipped"
    assert statuses["Keep the app's log and stop it"] == "ran"  # always(): the container is gone
    assert image.outputs["reference"] == ""
    assert subprocess.run(["podman", "container", "exists", "kubeship-dast"]).returncode == 1
