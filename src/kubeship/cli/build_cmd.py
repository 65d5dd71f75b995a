"""`kubeship dockerfile`, `kubeship build`, `kubeship push`."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kubeship.cli.params import key_values
from kubeship.errors import BuildError, UsageError

if TYPE_CHECKING:
    from kubeship.build import GitState
    from kubeship.spec.models import AppSpec

spec_option = click.option(
    "-f", "--file", "spec_path", type=click.Path(path_type=Path), default="kubeship.yaml", show_default=True
)
builder_option = click.option(
    "--builder",
    type=click.Choice(["docker", "podman", "buildah"]),
    help="Default: the first found of docker (buildx), podman, buildah.",
)
latest_option = click.option("--latest", is_flag=True, help="Also tag :latest (never implied).")


def _context(spec_path: Path, spec: AppSpec) -> Path:
    return (spec_path.parent / spec.build.context).resolve()


def _git(context: Path) -> GitState | None:
    from kubeship.build import GitState
    from kubeship.build.builders import git_state

    state = git_state(context)
    return GitState(*state) if state else None


@click.command()
@spec_option
@click.option("--write", is_flag=True, help="Write Dockerfile and .dockerignore into the build context.")
@click.option("--force", is_flag=True, help="With --write: overwrite existing files.")
def dockerfile(spec_path: Path, write: bool, force: bool) -> None:
    """Print the two-stage Dockerfile for the spec (or --write it with its .dockerignore)."""
    from kubeship.build import context_files
    from kubeship.spec import load_spec

    spec = load_spec(spec_path)
    files = context_files(spec)
    if not write:
        sys.stdout.write(files["Dockerfile"])
        return
    from kubeship.build.context import OWNED

    context = _context(spec_path, spec)
    existing = [  # kubeship's own files are rewritten freely; the user's need --force
        n for n in files if (context / n).exists() and not (context / n).read_text().startswith(OWNED[n])
    ]
    if existing and not force:
        raise UsageError(f"{', '.join(str(context / n) for n in existing)} exists; pass --force to overwrite")
    for name, text in files.items():
        (context / name).write_text(text)
        click.echo(f"wrote {context / name}", err=True)


def _refuse_stale(context: Path, spec: AppSpec, spec_path: Path) -> None:
    """A Dockerfile or .dockerignore kubeship wrote from an older spec (build.base changed, a
    wheelhouse added) is never built silently; one the user owns (no header) is theirs."""
    from kubeship.build import context_files
    from kubeship.build.context import OWNED

    for name, fresh in context_files(spec).items():
        header = OWNED[name]
        path = context / name
        if not path.exists():
            continue
        text = path.read_text()
        if text.startswith(header) and text != fresh:
            old, new = text.splitlines(), fresh.splitlines()
            line = next(
                (i for i, (a, b) in enumerate(zip(old, new, strict=False), 1) if a != b), len(old) + 1
            )
            raise BuildError(
                f"{path}:{line}: written by kubeship from an older {spec_path.name} (it now gives "
                f"{new[line - 1].strip() if line <= len(new) else 'a shorter file'!r}); run kubeship "
                f"dockerfile -f {spec_path} --write, or delete its first line to own the file"
            )


def _fill_wheelhouse(context: Path, spec: AppSpec) -> None:
    """Build the wheels of the lock that the wheelhouse lacks (kubeship from where it is installed)."""
    import subprocess

    from kubeship.build.wheelhouse import missing, wheel_argv, wheel_requirements

    lock_path = context / spec.build.requirements
    if not spec.build.wheelhouse or not lock_path.is_file():
        return
    lock = lock_path.read_text()
    wheels = context / spec.build.wheelhouse
    need = missing(lock, wheels)
    if not need:
        return
    click.echo(f"building {len(need)} wheels of {spec.build.requirements} into {wheels}/", err=True)
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text(wheel_requirements(lock))
        result = subprocess.run(wheel_argv(reqs, wheels), stdout=sys.stderr, stderr=subprocess.STDOUT)
    still = missing(lock, wheels)
    if result.returncode != 0 or still:
        raise BuildError(
            f"{wheels}: no wheel for {', '.join(still) or 'some requirements'} (pip wheel exit "
            f"{result.returncode}); the package index must serve them, or put the wheels there yourself"
        )


@click.command()
@spec_option
@builder_option
@click.option("--platform", help="Passed to the builder, e.g. linux/amd64,linux/arm64.")
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option(
    "--cache",
    metavar="REPOSITORY",
    help="Reuse and store layers in this registry repository (CI runners start with an empty store).",
)
@latest_option
def build(
    spec_path: Path,
    builder: str | None,
    platform: str | None,
    build_args: tuple[str, ...],
    cache: str | None,
    latest: bool,
) -> None:
    """Build the image: the context's Dockerfile (written from the spec if there is none), linted first.

    Tags: <repo>:<version> and <repo>:<git short sha>, both with -dirty for uncommitted trees.
    """
    from kubeship.build import dockerfile as make_dockerfile
    from kubeship.build import dockerignore, image_tags, lint
    from kubeship.build.builders import build_argv, detect, run_build
    from kubeship.check.model import Severity
    from kubeship.spec import load_spec

    spec = load_spec(spec_path)
    chosen = detect(builder)  # before writing anything: no builder, no new files
    context = _context(spec_path, spec)
    if not context.is_dir():
        raise UsageError(f"build context {context} is not a directory (build.context in {spec_path})")
    docker_file = context / "Dockerfile"
    _refuse_stale(context, spec, spec_path)
    if not docker_file.exists():
        docker_file.write_text(make_dockerfile(spec))
        click.echo(
            f"wrote {docker_file} (from {spec_path}; edit the spec, or the file if you own it)", err=True
        )
        if not (context / ".dockerignore").exists():
            (context / ".dockerignore").write_text(dockerignore(spec))
    from kubeship.build.context import missing_in_context

    _fill_wheelhouse(context, spec)
    missing = missing_in_context(docker_file, context, spec)
    if missing:  # before the builder starts (and pulls a base image) for nothing
        raise BuildError("the build context lacks what the build reads:\n" + "\n".join(missing))
    findings = lint(
        docker_file.read_text(), str(docker_file), has_dockerignore=(context / ".dockerignore").exists()
    )
    for f in findings:
        click.echo(f"{f.file}:{f.line}: {f.severity.label} {f.rule} {f.message}", err=True)
    if any(f.severity >= Severity.ERROR for f in findings):
        raise BuildError(f"{docker_file}: fix the errors above first (kubeship check --explain ID says why)")
    args = key_values(build_args, "--build-arg")
    git = _git(context)
    if git is not None:
        args.setdefault("REVISION", git.commit + ("-dirty" if git.dirty else ""))
        args.setdefault("CREATED", git.committed_at)  # the commit's time: rebuilds stay identical
    if spec.build.source:
        args.setdefault("SOURCE", spec.build.source)
    tags = image_tags(spec, git, latest=latest)
    click.echo(f"building with {chosen.name}: {', '.join(tags)}", err=True)
    argv = build_argv(
        chosen,
        dockerfile=docker_file,
        context=context,
        tags=tags,
        build_args=args,
        platform=platform,
        cache=cache,
    )
    run_build(argv, base=spec.build.base)
    click.echo("\n".join(tags))


@click.command()
@spec_option
@builder_option
@click.option("--username", "-u", help="Log in first (with --password-stdin); default: the auth file.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--authfile", type=click.Path(path_type=Path), help="podman/buildah auth.json to use.")
@click.option(
    "--ca-dir", type=click.Path(path_type=Path, file_okay=False), help="Directory with the registry's ca.crt."
)
@click.option("--insecure", is_flag=True, help="Plain HTTP / unverified TLS (loopback registries only).")
@click.option("--no-pin", is_flag=True, help="Do not write the pushed digest into kubeship.yaml.")
@latest_option
def push(
    spec_path: Path,
    builder: str | None,
    username: str | None,
    password_stdin: bool,
    authfile: Path | None,
    ca_dir: Path | None,
    insecure: bool,
    no_pin: bool,
    latest: bool,
) -> None:
    """Push the built tags; print the digest and pin it in kubeship.yaml (image.digest)."""
    from kubeship.build import image_tags, repository
    from kubeship.build.builders import PushOptions, detect, login_argv, push_argv, run_registry
    from kubeship.spec import load_spec
    from kubeship.spec.edit import pin_image_digest

    if username and not password_stdin:
        raise UsageError("--username needs --password-stdin (a password never goes on the command line)")
    spec = load_spec(spec_path)
    if spec.image.registry is None:
        raise UsageError(f"{spec_path}: image.registry is not set; say where to push")
    registry = spec.image.registry
    password = sys.stdin.read().rstrip("\n") if password_stdin else None
    opts = PushOptions(username, password, ca_dir, insecure, authfile)
    chosen = detect(builder)
    if username:
        run_registry(login_argv(chosen, registry, opts), registry, stdin=password)
        click.echo(f"logged in to {registry} as {username}", err=True)
    digest = None
    with tempfile.TemporaryDirectory() as tmp:
        for tag in image_tags(spec, _git(_context(spec_path, spec)), latest=latest):
            digestfile = Path(tmp) / "digest"
            result = run_registry(push_argv(chosen, tag, tag, digestfile, opts), registry)
            digest = digestfile.read_text().strip() if digestfile.exists() else _docker_digest(result.stdout)
            click.echo(f"pushed {tag} {digest}", err=True)
    if digest is None:
        raise BuildError("nothing was pushed")
    click.echo(f"{repository(spec)}@{digest}")
    if not no_pin:
        pin_image_digest(spec_path, digest)
        click.echo(
            f"pinned image.digest in {spec_path}: kubeship render now uses {repository(spec)}@{digest}",
            err=True,
        )


def _docker_digest(output: str) -> str | None:
    import re

    match = re.search(r"digest: (sha256:[0-9a-f]{64})", output)
    return match.group(1) if match else None
