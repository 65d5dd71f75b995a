"""The pipeline's shell steps, one place for both providers.

GitHub Actions and GitLab CI run the same commands in the same order; only
how a job gets its runner, secrets and outputs differs (`github.py`,
`gitlab.py`). Steps pass what they produce through files under `build/kubeship/`
(the image tags, the digest, the reports), so a step reads the same on either
provider and can be run as it stands on a workstation; the end-to-end test
does exactly that.

Order and why:

1. test: the project's own tests.
2. check: what the release will apply, rendered per environment exactly as
   it will be published (secrets by reference), checked by `kubeship check`.
3. image: build (layers cached in the registry), run the image and scan it
   from outside (DAST), and only if the scan passes, push it and keep its
   digest: an image that failed the scan never reaches the registry.
4. release, per environment in order: the manifests with the pinned digest
   committed to the GitOps branch with an Argo CD Application beside them,
   then wait for the Rollout to finish or abort.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from kubeship.names import HEALTH_PATH, READY_PATH
from kubeship.spec.models import AppSpec, Pipeline, PipelineEnvironment

# Everything the steps write, under build/: out of the image (.dockerignore) and of git status (the
# first step of each job), so a pipeline's own files never make an image tag -dirty.
BUILD_DIR = "build/kubeship"  # the image tags and the pushed reference, between steps
DAST_DIR = f"{BUILD_DIR}/dast"  # the rules, the reports (kept as artifacts)
RENDERED_DIR = f"{BUILD_DIR}/rendered"  # what `check` checked, per environment
TAGS_FILE = f"{BUILD_DIR}/tags"
REFERENCE_FILE = f"{BUILD_DIR}/reference"
DAST_CONTAINER = "kubeship-dast"
REPORTS_DIR = f"{BUILD_DIR}/reports"  # check's report per environment: {env}.sarif or {env}.xml
# Wapiti's modules that attack the app itself; ssrf and wapp call out to the internet, nikto and
# buster are brute force, xxe asks an outside endpoint: a pipeline scan stays on the app.
WAPITI_MODULES = "http_headers,csp,cookieflags,exec,file,sql,xss,redirect,blindsql,permanentxss,crlf"


@dataclass(frozen=True)
class Step:
    name: str
    run: str
    id: str | None = None  # steps that need a cluster are marked, so a dry run can say it skips them


def pipeline_of(spec: AppSpec) -> Pipeline:
    return spec.pipeline if spec.pipeline is not None else Pipeline()


def environments(spec: AppSpec, defined: list[str]) -> list[PipelineEnvironment]:
    """The release order: the pipeline's list, or the spec's environments with prod last."""
    given = pipeline_of(spec).environments
    if given is not None:
        return given
    envs = [PipelineEnvironment(name=n) for n in defined]
    return sorted(envs, key=lambda e: e.needs_approval)  # stable: the rest keep their order


def q(value: str) -> str:
    return shlex.quote(value)


def workspace_step() -> Step:
    return Step(
        "Keep the pipeline's files out of git status",
        f'mkdir -p {BUILD_DIR} && echo /build/ >> "$(git rev-parse --git-dir)/info/exclude"',
    )


def test_steps(spec: AppSpec) -> list[Step]:
    return [Step("Run the tests", pipeline_of(spec).test)]


def env_names(envs: list[PipelineEnvironment]) -> list[str]:
    """The environments' names, or `base` for a spec without environments."""
    return [e.name for e in envs] or ["base"]


def check_steps(spec_path: str, envs: list[PipelineEnvironment], fmt: str) -> list[Step]:
    """Each environment rendered as it will be published and checked on its own (each is applied to
    its own cluster or namespace: checked together, the same names would collide)."""
    names = env_names(envs)
    render = "\n".join(
        f"kubeship pipeline manifests -f {q(spec_path)}{f' --env {q(n)}' if envs else ''}"
        f" -o {RENDERED_DIR}/{n}"
        for n in names
    )
    ext = {"sarif": "sarif", "junit": "xml"}[fmt]
    check = [f"mkdir -p {REPORTS_DIR}", "failed=0"]
    for n in names:
        check += [
            f"kubeship check {RENDERED_DIR}/{n} --external-refs --format {fmt} > {REPORTS_DIR}/{n}.{ext}"
            " || failed=1",
            f"kubeship check {RENDERED_DIR}/{n} --external-refs || true",  # the findings in the log too
        ]
    check.append('exit "$failed"')
    return [
        Step("Render what each environment will apply", render),
        Step("kubeship check, each environment", "\n".join(check)),
    ]


def build_steps(spec: AppSpec, spec_path: str) -> list[Step]:
    registry = spec.image.registry or "docker.io"
    cache = f"{spec.image.repository}-buildcache"
    return [
        Step(
            "Log in to the registry",
            'printf %s "$REGISTRY_PASSWORD"'
            f' | podman login -u "$REGISTRY_USERNAME" --password-stdin {q(registry)}',
        ),
        Step(
            "Build the image (layers cached in the registry)",
            f"kubeship build -f {q(spec_path)} --builder podman --cache {q(cache)} > {TAGS_FILE}\n"
            f"cat {TAGS_FILE}",
        ),
    ]


def dast_steps(spec: AppSpec, spec_path: str) -> list[Step]:
    dast = pipeline_of(spec).dast
    if not dast.enabled:
        return []
    port = spec.container.port
    base = f"http://127.0.0.1:{port}"
    env = {**spec.container.env, **dast.env}
    env_flags = "".join(f" -e {q(f'{k}={v}')}" for k, v in sorted(env.items()))
    start = Step(
        "Run the image for the scan",
        f"podman run -d --name {DAST_CONTAINER} -p 127.0.0.1:{port}:{port}{env_flags}"
        f' "$(head -n 1 {TAGS_FILE})"\n'
        f"for _ in $(seq 60); do curl -fsS {base}{READY_PATH} >/dev/null && break; sleep 1; done\n"
        f"curl -fsS {base}{HEALTH_PATH}",
    )
    if dast.scanner == "zap":
        if dast.openapi:
            scan = f"zap-api-scan.py -t {base}{dast.openapi} -f openapi"
        else:
            scan = f"zap-baseline.py -t {base}/ -m {dast.minutes}"
        run = (
            f"mkdir -p {DAST_DIR} && chmod a+w {DAST_DIR}\n"
            f"kubeship pipeline dast-rules -f {q(spec_path)} -o {DAST_DIR}/zap-rules.tsv\n"
            f'podman run --rm --network host -v "$PWD/{DAST_DIR}:/zap/wrk:rw" {q(dast.zap_image)} \\\n'
            f"  {scan} -c zap-rules.tsv -I -T {dast.minutes} -J zap-report.json -r zap-report.html"
        )
        scan_step = Step("DAST: OWASP ZAP", run)
    else:
        run = (
            f"mkdir -p {DAST_DIR}\n"
            "command -v wapiti >/dev/null || sudo apt-get install -y --no-install-recommends wapiti\n"
            f"wapiti -u {base}/ --flush-session --scope folder -m {WAPITI_MODULES} \\\n"
            f"  --max-scan-time {dast.minutes * 60} -f json -o {DAST_DIR}/wapiti.json\n"
            f"kubeship pipeline dast-gate -f {q(spec_path)} {DAST_DIR}/wapiti.json"
        )
        scan_step = Step("DAST: Wapiti", run)
    return [start, scan_step]


def dast_cleanup() -> Step:
    return Step(
        "Keep the app's log and stop it",
        f"mkdir -p {DAST_DIR}\npodman logs {DAST_CONTAINER} > {DAST_DIR}/app.log 2>&1 || true\n"
        f"podman rm -f {DAST_CONTAINER} || true",
    )


def push_step(spec_path: str) -> Step:
    """Each provider guards it (the release branch only) and exports the reference its own way."""
    return Step(
        "Push the scanned image, pin its digest",
        f"kubeship push -f {q(spec_path)} --builder podman > {REFERENCE_FILE}\ncat {REFERENCE_FILE}",
    )


def release_steps(spec: AppSpec, spec_path: str, env: PipelineEnvironment) -> list[Step]:
    """$REFERENCE (image@digest) and $GITOPS_REPOSITORY come from the job's environment."""
    steps = [
        Step(
            f"Hand {env.name} to GitOps",
            f"kubeship pipeline publish -f {q(spec_path)} --env {q(env.name)}"
            ' --image "$REFERENCE" --repository "$GITOPS_REPOSITORY" --source "$SOURCE"',
        )
    ]
    wait = pipeline_of(spec).wait
    if wait is not None:
        steps.append(
            Step(
                f"Wait for the {env.name} rollout",
                f"kubeship pipeline wait -f {q(spec_path)} --env {q(env.name)}"
                f' --image "$REFERENCE" --timeout {wait}',
                id="wait-rollout",
            )
        )
    return steps
