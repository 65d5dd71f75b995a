"""The generated Dockerfile: cache-friendly order, non-root, signal-ready, labelled, lint-clean."""

from __future__ import annotations

import json

import pytest

from kubeship.build import dockerfile, dockerignore, image_tags, lint
from kubeship.build.lint import parse
from kubeship.build.tags import GitState
from kubeship.spec import parse_spec

BASE = """\
name: shop
version: "2.1.0"
image: {registry: registry.example.com, namespace: team, name: shop, tag: "2.1.0"}
container: {app: "shop.main:app", port: 9000}
"""


def spec(extra: str = ""):  # type: ignore[no-untyped-def]
    return parse_spec(BASE + extra)


def instructions(text: str) -> list[tuple[str, str]]:
    return [(i.keyword, i.args) for i in parse(text)]


def test_generated_dockerfile_passes_its_own_lint() -> None:
    for extra in ("build: {baseDigest: sha256:" + "a" * 64 + "}\n",
                  "build: {wheelhouse: wheels, baseDigest: sha256:" + "a" * 64 + "}\n"):  # fmt: skip
        assert lint(dockerfile(spec(extra)), has_dockerignore=True) == []
    # without build.baseDigest the base is a tag that moves: said, once per stage
    assert [f.rule for f in lint(dockerfile(spec()), has_dockerignore=True)] == ["KS411", "KS411"]


def test_dependencies_are_installed_before_the_source_is_copied() -> None:
    steps = instructions(dockerfile(spec()))
    order = [k + " " + a for k, a in steps]
    install = next(i for i, s in enumerate(order) if s.startswith("RUN pip install"))
    assert order[install - 1] == "COPY requirements.txt ./"
    assert order.index("COPY . /src") > install


def test_runtime_stage_is_small_non_root_and_drains_on_sigterm() -> None:
    steps = instructions(dockerfile(spec()))
    runtime = steps[[k for k, _ in steps].index("FROM", 1) :]
    assert runtime[0] == ("FROM", "python:3.11-slim-bookworm AS runtime")
    keywords = [k for k, _ in runtime]
    assert "RUN" not in keywords  # nothing is installed or compiled in the final stage
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in runtime
    assert ("USER", "10001:10001") in runtime
    assert ("EXPOSE", "9000") in runtime
    assert ("STOPSIGNAL", "SIGTERM") in runtime
    assert ("ENTRYPOINT", '["kubeship", "serve"]') in runtime
    serve = ["shop.main:app", "--port", "9000", "--workers", "1", "--drain-seconds", "5"]
    cmd = json.dumps([*serve, "--shutdown-timeout", "20"])
    assert ("CMD", cmd) in runtime  # the Deployment's serve flags, without the mounts only a pod has
    env = " ".join(a for k, a in runtime if k == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "PYTHONUNBUFFERED=1" in env


def test_oci_labels_come_last_so_they_never_bust_the_cache() -> None:
    steps = instructions(dockerfile(spec("build: {source: https://git.example.com/shop}\n")))
    assert steps[-1][0] == "LABEL"
    for key in ("source", "revision", "version", "created"):
        assert f"org.opencontainers.image.{key}=" in steps[-1][1]
    assert ("ARG", "SOURCE=https://git.example.com/shop") in steps
    assert ("ARG", "VERSION=2.1.0") in steps


def test_wheelhouse_installs_offline_and_stays_out_of_the_image() -> None:
    text = dockerfile(spec("build: {wheelhouse: wheels/, base: localhost/python:3.11-bookworm}\n"))
    assert "COPY wheels/ /wheels/" in text
    assert "pip install --no-index --find-links /wheels -r requirements.txt" in text
    assert "RUN rm -rf /src/wheels" in text
    assert "FROM localhost/python:3.11-bookworm AS builder" in text
    assert "!wheels" in dockerignore(spec("build: {wheelhouse: wheels}\n"))


def test_base_digest_pins_both_stages() -> None:
    digest = "sha256:" + "b" * 64
    text = dockerfile(spec(f"build: {{baseDigest: '{digest}'}}\n"))
    assert text.count(f"FROM python:3.11-slim-bookworm@{digest} AS") == 2


@pytest.mark.parametrize("base", ["python", "python:latest", "registry.local:5000/python"])
def test_unpinned_base_is_a_spec_error(base: str) -> None:
    from kubeship.errors import SpecError

    with pytest.raises(SpecError, match="is not pinned"):
        spec(f"build: {{base: '{base}'}}\n")


def test_dockerignore_keeps_secrets_vcs_and_caches_out() -> None:
    ignored = dockerignore(spec()).splitlines()
    for entry in (".git", ".env", ".venv", "**/__pycache__", "tests", "*.pem"):
        assert entry in ignored


@pytest.mark.parametrize(
    ("git", "latest", "expected"),
    [
        (None, False, ["registry.example.com/team/shop:2.1.0"]),
        (
            GitState("0123456789abcdef0123", False, "2026-11-27T10:00:00+00:00"),
            False,
            ["registry.example.com/team/shop:2.1.0", "registry.example.com/team/shop:0123456789ab"],
        ),
        (
            GitState("0123456789abcdef0123", True, "2026-11-27T10:00:00+00:00"),
            True,
            [
                "registry.example.com/team/shop:2.1.0-dirty",
                "registry.example.com/team/shop:0123456789ab-dirty",
                "registry.example.com/team/shop:latest",
            ],
        ),
    ],
    ids=["no-git", "clean-tree", "dirty-tree-and-latest-asked"],
)
def test_tags(git: GitState | None, latest: bool, expected: list[str]) -> None:
    assert image_tags(spec(), git, latest=latest) == expected
