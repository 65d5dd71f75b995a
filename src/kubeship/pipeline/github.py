"""The GitHub Actions workflow: the shared steps (`stages.py`) as jobs with pinned actions,
least-privilege permissions, concurrency per environment, pip and image-layer caches."""

from __future__ import annotations

from typing import Any

from kubeship.pipeline import stages
from kubeship.pipeline.stages import Step, pipeline_of
from kubeship.spec.models import AppSpec
from kubeship.spec.quantity import parse_duration

RUNNER = "ubuntu-24.04"  # has podman, curl and git; a fixed image, not ubuntu-latest's moving target
# Actions by commit, the release in a comment (Dependabot and Renovate update both together).
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"  # v4.2.2
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065"  # v5.6.0
UPLOAD_SARIF = "github/codeql-action/upload-sarif@5d4e8d1aca955e8d8589aabd499c5cae939e33c7"  # v4.31.9
UPLOAD_ARTIFACT = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02"  # v4.6.2
VERSIONS = {CHECKOUT: "v4.2.2", SETUP_PYTHON: "v5.6.0", UPLOAD_SARIF: "v4.31.9", UPLOAD_ARTIFACT: "v4.6.2"}
ON_RELEASE = "github.event_name == 'push' && github.ref == 'refs/heads/{branch}'"
REPOSITORY = "${{ github.server_url }}/${{ github.repository }}"
IMAGE_JOB = "build-image"  # not `image`: GitLab reads that name as its global keyword


def _step(step: Step, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": step.name}
    if step.id:
        out["id"] = step.id
    out.update(extra)
    out["run"] = step.run
    return out


def _setup(spec: AppSpec) -> list[dict[str, Any]]:
    p = pipeline_of(spec)
    return [
        {"name": "Check out", "uses": CHECKOUT, "with": {"persist-credentials": False}},
        {
            "name": "Set up Python",
            "uses": SETUP_PYTHON,
            "with": {
                "python-version": p.python,
                "cache": "pip",
                "cache-dependency-path": spec.build.requirements,
            },
        },
        {"name": "Install", "run": p.install},
        _step(stages.workspace_step()),
    ]


def _job(
    spec: AppSpec, permissions: dict[str, str], steps: list[dict[str, Any]], minutes: int = 30, **extra: Any
) -> dict[str, Any]:
    return {
        "runs-on": RUNNER,
        "timeout-minutes": minutes,
        "permissions": permissions,
        **extra,
        "steps": [*_setup(spec), *steps],
    }


def workflow(spec: AppSpec, spec_path: str, defined_envs: list[str]) -> dict[str, Any]:
    """The workflow for `.github/workflows/kubeship.yml`."""
    p = pipeline_of(spec)
    release_if = ON_RELEASE.format(branch=p.branch)
    registry = spec.image.registry or "docker.io"
    ghcr = registry == "ghcr.io"
    registry_env = {
        "REGISTRY_USERNAME": "${{ github.actor }}" if ghcr else "${{ secrets.REGISTRY_USERNAME }}",
        "REGISTRY_PASSWORD": "${{ secrets.GITHUB_TOKEN }}" if ghcr else "${{ secrets.REGISTRY_PASSWORD }}",
    }
    jobs: dict[str, Any] = {
        "test": _job(spec, {"contents": "read"}, [_step(s) for s in stages.test_steps(spec)]),
    }
    envs = stages.environments(spec, defined_envs)
    check = [_step(s) for s in stages.check_steps(spec_path, envs, "sarif")]
    check += [
        {  # one analysis per environment: code scanning keeps each category's results apart
            "name": f"Upload {name}'s findings to code scanning",
            "if": "always()",
            "uses": UPLOAD_SARIF,
            "with": {
                "sarif_file": f"{stages.REPORTS_DIR}/{name}.sarif",
                "category": f"kubeship-check-{name}",
            },
        }
        for name in stages.env_names(envs)
    ]
    jobs["check"] = _job(spec, {"contents": "read", "security-events": "write", "actions": "read"}, check)
    image: list[dict[str, Any]] = [_step(s) for s in stages.build_steps(spec, spec_path)]
    dast = stages.dast_steps(spec, spec_path)
    if dast:
        image += [_step(s) for s in dast]
        image.append(_step(stages.dast_cleanup(), **{"if": "always()"}))
        image.append(
            {
                "name": "Keep the DAST reports",
                "if": "always()",
                "uses": UPLOAD_ARTIFACT,
                "with": {"name": "dast-reports", "path": stages.DAST_DIR, "retention-days": 30},
            }
        )
    push = stages.push_step(spec_path)
    image.append(
        {
            "name": push.name,
            "id": "push",
            "if": release_if,
            "run": f'{push.run}\necho "reference=$(cat {stages.REFERENCE_FILE})" >> "$GITHUB_OUTPUT"',
        }
    )
    jobs[IMAGE_JOB] = _job(
        spec,
        {"contents": "read", **({"packages": "write"} if ghcr else {})},
        image,
        needs=["test", "check"],
        env=registry_env,
        outputs={"reference": "${{ steps.push.outputs.reference }}"},
    )
    same_repo = p.gitops.repository is None
    previous = IMAGE_JOB
    for env in envs:
        job_id = f"release-{env.name}"
        environment: dict[str, str] = {"name": env.name}
        if env.url:
            environment["url"] = env.url
        job_env = {
            "REFERENCE": f"${{{{ needs.{IMAGE_JOB}.outputs.reference }}}}",
            "GITOPS_REPOSITORY": f"{REPOSITORY}.git" if same_repo else p.gitops.repository,
            "GITOPS_TOKEN": "${{ secrets.GITHUB_TOKEN }}" if same_repo else "${{ secrets.GITOPS_TOKEN }}",
            "SOURCE": f"{REPOSITORY}/commit/${{{{ github.sha }}}}",
        }
        steps = []
        for step in stages.release_steps(spec, spec_path, env):
            extra = {"env": {"KUBECONFIG_DATA": "${{ secrets.KUBECONFIG }}"}} if step.id else {}
            steps.append(_step(step, **extra))
        jobs[job_id] = _job(
            spec,
            {"contents": "write" if same_repo else "read"},
            steps,
            minutes=15 + int(parse_duration(p.wait) // 60 if p.wait else 0),
            needs=sorted({IMAGE_JOB, previous}),
            **{"if": release_if},
            environment=environment,
            concurrency={"group": f"release-{env.name}", "cancel-in-progress": False},
            env=job_env,
        )
        previous = job_id
    return {
        "name": f"kubeship {spec.name}",
        "on": {
            "push": {"branches": [p.branch]},
            "pull_request": {"branches": [p.branch]},
            "workflow_dispatch": {},
        },
        "permissions": {},  # every job asks for what it needs, nothing more
        "concurrency": {
            "group": "${{ github.workflow }}-${{ github.ref }}",
            "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
        },
        "env": {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONUNBUFFERED": "1"},
        "jobs": jobs,
    }


def approvals_note(spec: AppSpec, defined_envs: list[str]) -> list[str]:
    """GitHub enforces approval in the repository's settings, not in the file: say where."""
    return [
        f"GitHub: require a reviewer for environment {e.name!r} (Settings → Environments → {e.name} "
        "→ Required reviewers); the workflow's release job waits for it"
        for e in stages.environments(spec, defined_envs)
        if e.needs_approval
    ]
