"""Builder selection, command lines and registry failures, without running a builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeship.build.builders import (
    Builder,
    PushOptions,
    build_argv,
    classify,
    detect,
    login_argv,
    push_argv,
)
from kubeship.errors import BuildError


def which(found: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda name: found.get(name)


def test_detect_prefers_podman_over_buildah_and_names_what_to_install() -> None:
    assert detect(which=which({"podman": "/usr/bin/podman", "buildah": "/usr/bin/buildah"})).name == "podman"
    assert detect(which=which({"buildah": "/usr/bin/buildah"})).name == "buildah"
    with pytest.raises(BuildError, match=r"no image builder found .*apt-get install podman"):
        detect(which=which({}))
    with pytest.raises(BuildError, match="builder 'buildah' is not installed"):
        detect("buildah", which=which({"podman": "/usr/bin/podman"}))


def test_docker_without_a_daemon_is_skipped_or_explained(tmp_path: Path) -> None:
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    found = {"docker": str(fake), "podman": "/usr/bin/podman"}
    assert detect(which=which(found)).name == "podman"
    with pytest.raises(BuildError, match="daemon is not running"):
        detect("docker", which=which(found))


@pytest.mark.parametrize(
    ("builder", "head"),
    [
        (Builder("docker", "docker"), ["docker", "buildx", "build", "--load"]),
        (Builder("podman", "podman"), ["podman", "build", "--layers"]),
        (Builder("buildah", "buildah"), ["buildah", "bud", "--layers"]),
    ],
)
def test_build_argv(builder: Builder, head: list[str]) -> None:
    argv = build_argv(
        builder,
        dockerfile=Path("/src/Dockerfile"),
        context=Path("/src"),
        tags=["r/a:1", "r/a:abc"],
        build_args={"VERSION": "1", "CREATED": "2026"},
        platform="linux/arm64",
    )
    assert argv[: len(head)] == head
    assert argv[len(head) :] == [
        "-f", "/src/Dockerfile", "-t", "r/a:1", "-t", "r/a:abc",
        "--build-arg", "CREATED=2026", "--build-arg", "VERSION=1",
        "--platform", "linux/arm64", "/src",
    ]  # fmt: skip


def test_password_never_goes_on_the_command_line() -> None:
    opts = PushOptions(username="u", password="canary-pw", ca_dir=Path("/certs"))
    argv = login_argv(Builder("podman", "podman"), "127.0.0.1:5000", opts)
    assert "canary-pw" not in " ".join(argv) and "--password-stdin" in argv
    assert argv[-3:] == ["--cert-dir", "/certs", "127.0.0.1:5000"]
    push = push_argv(
        Builder("podman", "podman"), "r/a:1", "r/a:1", Path("/tmp/d"), PushOptions(insecure=True)
    )
    assert push == ["podman", "push", "--digestfile", "/tmp/d", "--tls-verify=false", "r/a:1", "r/a:1"]


@pytest.mark.parametrize(
    ("output", "says"),
    [
        ("Error: ... 401 Unauthorized", "refused the credentials"),
        ('Error: logging into "r": invalid username/password', "refused the credentials"),
        ("x509: certificate signed by unknown authority", "not trusted: pass --ca-dir"),
        ("http: server gave HTTP response to HTTPS client", "plain HTTP: pass --insecure"),
        ("dial tcp 127.0.0.1:5999: connect: connection refused", "unreachable"),
    ],
)
def test_registry_failures_become_one_line(output: str, says: str) -> None:
    error = classify(output, "127.0.0.1:5000")
    assert error is not None and says in str(error)
    assert "\n" not in str(error) and str(error).startswith("127.0.0.1:5000: ")


def test_pin_digest_keeps_comments(tmp_path: Path) -> None:
    from kubeship.spec import load_spec
    from kubeship.spec.edit import pin_image_digest

    spec = tmp_path / "kubeship.yaml"
    spec.write_text('# my service\nname: a\nversion: "1"\nimage:\n  name: a  # the repo\n  tag: "1"\n')
    digest = "sha256:" + "c" * 64
    pin_image_digest(spec, digest)
    text = spec.read_text()
    assert "# my service" in text and "# the repo" in text
    assert load_spec(spec).image.reference == f"a@{digest}"


@pytest.mark.parametrize(
    ("builder", "cache"),
    [
        (Builder("docker", "docker"), ["--cache-from", "type=registry,ref=r/a-cache",
                                       "--cache-to", "type=registry,ref=r/a-cache,mode=max"]),
        (Builder("podman", "podman"), ["--cache-from", "r/a-cache", "--cache-to", "r/a-cache"]),
        (Builder("buildah", "buildah"), ["--cache-from", "r/a-cache", "--cache-to", "r/a-cache"]),
    ],
)  # fmt: skip
def test_build_argv_with_a_registry_layer_cache(builder: Builder, cache: list[str]) -> None:
    argv = build_argv(
        builder, dockerfile=Path("/D"), context=Path("/c"), tags=["r/a:1"], build_args={}, cache="r/a-cache"
    )
    assert argv[-1 - len(cache) :] == [*cache, "/c"]
