"""Image tags from the spec and the git tree (pure): never `latest` unless asked for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubeship.spec.models import AppSpec


@dataclass(frozen=True)
class GitState:
    commit: str  # full SHA
    dirty: bool  # uncommitted changes in the tree
    committed_at: str  # ISO 8601 commit time: a reproducible `created` label


def repository(spec: AppSpec) -> str:
    """`<registry>/<namespace>/<name>` as the spec gives it."""
    return spec.image.repository


def image_tags(spec: AppSpec, git: GitState | None, *, latest: bool = False) -> list[str]:
    """`repo:<version>`, `repo:<short sha>[-dirty]`; a dirty tree also marks the version tag, so a
    build of uncommitted code can't pass for the release."""
    repo = repository(spec)
    suffix = "-dirty" if git is not None and git.dirty else ""
    tags = [f"{repo}:{spec.version}{suffix}"]
    if git is not None:
        tags.append(f"{repo}:{git.commit[:12]}{suffix}")
    if latest:
        tags.append(f"{repo}:latest")
    return tags
