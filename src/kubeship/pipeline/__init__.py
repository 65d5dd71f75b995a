"""The CI/CD pipeline from the spec: GitHub Actions and GitLab CI, DAST rules, the GitOps hand-off.

>>> text = github_text(spec, "kubeship.yaml", ["staging", "prod"])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import yaml

from kubeship.pipeline import github, gitlab

__all__ = ["github_text", "gitlab_text", "to_text"]

GITHUB_PATH = ".github/workflows/kubeship.yml"
GITLAB_PATH = ".gitlab-ci.yml"


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_text(data: dict[str, Any], header: str) -> str:
    """YAML in the order written (jobs read top to bottom), shell scripts as literal blocks."""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=4096, allow_unicode=True)
    return header + body


def github_text(spec: Any, spec_path: str, envs: list[str]) -> str:
    text = to_text(
        github.workflow(spec, spec_path, envs),
        f"# Written by `kubeship pipeline` from {spec_path}: change the spec's pipeline section and\n"
        "# run it again rather than editing this file (kubeship pipeline --check says when it is stale).\n",
    )
    for uses, version in github.VERSIONS.items():  # the release beside each pinned commit
        text = text.replace(f"uses: {uses}\n", f"uses: {uses} # {version}\n")
    return text


def gitlab_text(spec: Any, spec_path: str, envs: list[str]) -> str:
    return to_text(
        gitlab.ci(spec, spec_path, envs),
        f"# Written by `kubeship pipeline --provider gitlab` from {spec_path}: change the spec's pipeline\n"
        "# section and run it again rather than editing this file.\n",
    )
