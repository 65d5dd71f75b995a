"""The GitLab CI file: the shared steps (`stages.py`) as jobs, with JUnit reports, caches,
manual gates and one resource group per environment."""

from __future__ import annotations

from typing import Any

from kubeship.pipeline import stages
from kubeship.pipeline.github import IMAGE_JOB
from kubeship.pipeline.stages import Step, pipeline_of
from kubeship.spec.models import AppSpec

# Podman builds and runs the image (and the scanners) inside the job: it needs a runner that allows
# it (privileged, or rootless podman configured), as any container build in GitLab CI does.
PODMAN_IMAGE = "quay.io/podman/stable:v5.4"
RELEASE_ENV = f"{stages.BUILD_DIR}/release.env"


def _script(steps: list[Step]) -> list[str]:
    return [f"# {s.name}\n{s.run}" if "\n" in s.run else s.run for s in steps]


def ci(spec: AppSpec, spec_path: str, defined_envs: list[str]) -> dict[str, Any]:
    """The pipeline for `.gitlab-ci.yml`."""
    p = pipeline_of(spec)
    on_branch = f'$CI_COMMIT_BRANCH == "{p.branch}"'
    install = [p.install, stages.workspace_step().run]
    python = {
        "image": f"python:{p.python}-slim-bookworm",
        "cache": {"key": {"files": [spec.build.requirements]}, "paths": [".cache/pip"]},
        "before_script": [
            "apt-get update -qq && apt-get install -y -qq --no-install-recommends git",
            *install,
        ],
    }
    envs = stages.environments(spec, defined_envs)
    out: dict[str, Any] = {
        "workflow": {
            "rules": [
                {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
                {"if": on_branch},
            ]
        },
        "stages": ["test", "check", "image", "release"],
        "variables": {
            "PIP_CACHE_DIR": "$CI_PROJECT_DIR/.cache/pip",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        },
        "default": {"interruptible": True},
        ".python": python,
        "test": {"extends": ".python", "stage": "test", "script": _script(stages.test_steps(spec))},
        "check": {
            "extends": ".python",
            "stage": "check",
            "script": _script(stages.check_steps(spec_path, envs, "junit")),
            "artifacts": {
                "when": "always",
                "reports": {"junit": f"{stages.REPORTS_DIR}/*.xml"},
                "paths": [stages.RENDERED_DIR],
                "expire_in": "30 days",
            },
        },
    }
    push = stages.push_step(spec_path)
    image_steps = [
        *stages.build_steps(spec, spec_path),
        *stages.dast_steps(spec, spec_path),
        Step(
            push.name,
            f'if [ "$CI_COMMIT_BRANCH" = {stages.q(p.branch)} ]; then\n{push.run}\n'
            f'echo "REFERENCE=$(cat {stages.REFERENCE_FILE})" > {RELEASE_ENV}\nfi',
        ),
    ]
    out[IMAGE_JOB] = {
        "stage": "image",
        "image": PODMAN_IMAGE,
        "needs": ["test", "check"],
        "cache": python["cache"],
        "before_script": [
            "dnf -y -q install python3 python3-pip python-unversioned-command git-core curl",
            *install,
        ],
        "script": _script(image_steps),
        "after_script": _script([stages.dast_cleanup()]),
        "artifacts": {
            "when": "always",
            "paths": [stages.DAST_DIR],
            "reports": {"dotenv": RELEASE_ENV},
            "expire_in": "30 days",
        },
    }
    previous = IMAGE_JOB
    same_repo = p.gitops.repository is None
    for env in envs:
        rule: dict[str, Any] = {"if": on_branch}
        if env.needs_approval:
            rule["when"] = "manual"  # a person presses play; the pipeline waits (allow_failure: false)
        environment: dict[str, Any] = {"name": env.name}
        if env.url:
            environment["url"] = env.url
        if env.needs_approval:
            environment["deployment_tier"] = "production"
        job: dict[str, Any] = {
            "extends": ".python",
            "stage": "release",
            "needs": sorted({IMAGE_JOB, previous}),
            "rules": [rule],
            "allow_failure": False,
            "environment": environment,
            "resource_group": f"release-{env.name}",  # one release per environment at a time
            "interruptible": False,
            "variables": {
                "GITOPS_REPOSITORY": "$CI_PROJECT_URL.git" if same_repo else p.gitops.repository,
                "SOURCE": "$CI_PROJECT_URL/-/commit/$CI_COMMIT_SHA",
            },
            "script": _script(stages.release_steps(spec, spec_path, env)),
        }
        out[f"release-{env.name}"] = job
        previous = f"release-{env.name}"
    return out
