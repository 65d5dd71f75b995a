"""Drive the image builder the user has: docker buildx, podman or buildah (I/O at the edge).

Command lines are built by pure functions (tested as such); `run` streams the
builder's own progress to stderr and turns its failures into one-line errors.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kubeship.errors import BuildError, RegistryError

BUILDERS = ("docker", "podman", "buildah")  # preference order: docker buildx first
INSTALL_HINT = "install one: Docker with buildx, or podman (Debian: apt-get install podman buildah)"


@dataclass(frozen=True)
class Builder:
    name: str
    executable: str


def detect(preferred: str | None = None, which: Callable[[str], str | None] = shutil.which) -> Builder:
    """The first usable builder (or `preferred`); BuildError saying what to install."""
    names = (preferred,) if preferred else BUILDERS
    for name in names:
        path = which(name)
        if path is None:
            continue
        if name == "docker" and not _docker_usable(path):
            if preferred:
                raise BuildError(
                    "docker is installed but its daemon is not running (or buildx is missing): start "
                    "the daemon, or pass --builder podman"
                )
            continue
        return Builder(name, str(path))
    if preferred:
        raise BuildError(f"builder {preferred!r} is not installed; {INSTALL_HINT}")
    raise BuildError(f"no image builder found (looked for {', '.join(BUILDERS)}); {INSTALL_HINT}")


def _docker_usable(path: str) -> bool:
    for check in ([path, "buildx", "version"], [path, "info", "--format", "{{.ServerVersion}}"]):
        try:
            if subprocess.run(check, capture_output=True, timeout=15).returncode != 0:
                return False
        except (OSError, subprocess.TimeoutExpired):
            return False
    return True


def build_argv(
    builder: Builder,
    *,
    dockerfile: Path,
    context: Path,
    tags: Sequence[str],
    build_args: Mapping[str, str],
    platform: str | None = None,
    cache: str | None = None,
) -> list[str]:
    """`cache`: a registry repository holding the layers of earlier builds (a CI runner starts empty)."""
    if builder.name == "docker":
        argv = [builder.executable, "buildx", "build", "--load"]
    elif builder.name == "podman":
        argv = [builder.executable, "build", "--layers"]
    else:
        argv = [builder.executable, "bud", "--layers"]
    argv += ["-f", str(dockerfile)]
    for tag in tags:
        argv += ["-t", tag]
    for key, value in sorted(build_args.items()):
        argv += ["--build-arg", f"{key}={value}"]
    if platform:
        argv += ["--platform", platform]
    if cache and builder.name == "docker":  # buildx: needs a docker-container builder to export
        argv += [
            "--cache-from",
            f"type=registry,ref={cache}",
            "--cache-to",
            f"type=registry,ref={cache},mode=max",
        ]
    elif cache:
        argv += ["--cache-from", cache, "--cache-to", cache]
    return [*argv, str(context)]


@dataclass(frozen=True)
class PushOptions:
    username: str | None = None
    password: str | None = None  # from --password-stdin; never on a command line
    ca_dir: Path | None = None  # a directory holding ca.crt for the registry
    insecure: bool = False  # plain HTTP or an untrusted certificate (loopback registries)
    authfile: Path | None = None


def login_argv(builder: Builder, registry: str, opts: PushOptions) -> list[str]:
    argv = [builder.executable, "login", "--username", str(opts.username), "--password-stdin"]
    if builder.name != "docker":
        argv += _tls_flags(opts)
        if opts.authfile:
            argv += ["--authfile", str(opts.authfile)]
    return [*argv, registry]


def push_argv(
    builder: Builder, source: str, destination: str, digestfile: Path, opts: PushOptions
) -> list[str]:
    if builder.name == "docker":
        return [builder.executable, "push", destination]
    argv = [builder.executable, "push", "--digestfile", str(digestfile), *_tls_flags(opts)]
    if opts.authfile:
        argv += ["--authfile", str(opts.authfile)]
    return [*argv, source, destination]


def _tls_flags(opts: PushOptions) -> list[str]:
    flags = []
    if opts.insecure:
        flags.append("--tls-verify=false")
    if opts.ca_dir is not None:
        flags += ["--cert-dir", str(opts.ca_dir)]
    return flags


_REGISTRY_FAILURES = (
    (r"unauthorized|authentication required|denied|(incorrect|invalid) username.password|401",
     "the registry refused the credentials: log in (--username/--password-stdin) or check the auth file"),
    (r"x509|certificate|tls: ",
     "the registry's TLS certificate is not trusted: pass --ca-dir DIR (with ca.crt), or --insecure for "
     "a loopback registry"),
    (r"server gave HTTP response to HTTPS client",
     "the registry speaks plain HTTP: pass --insecure (loopback registries only)"),
    (r"connection refused|no such host|i/o timeout|network is unreachable|no route to host|dial tcp",
     "the registry is unreachable: check the address and that it is running"),
)  # fmt: skip


def classify(output: str, registry: str) -> RegistryError | None:
    """One line for a registry failure, from the tool's output; None if it isn't one of ours."""
    for pattern, message in _REGISTRY_FAILURES:
        if re.search(pattern, output, re.IGNORECASE):
            return RegistryError(f"{registry}: {message}")
    return None


def _transient(error: RegistryError) -> bool:
    return "unreachable" in str(error)


def run_build(argv: Sequence[str], base: str | None = None) -> None:
    """Run the builder, its progress on our stderr; BuildError with the tail of its output."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stderr.write(line)
        tail = [*tail[-19:], line.rstrip()]
    if proc.wait() != 0:
        last = next((t for t in reversed(tail) if t.strip()), "no output").strip()
        if base is not None and any(base in t and ("initializing source" in t or "pull" in t) for t in tail):
            raise BuildError(
                f"the base image {base} could not be pulled: set build.base to an image your registry "
                f"has (or that is in local storage) ({last})"
            )
        raise BuildError(f"the build failed (exit {proc.returncode}): {last}")


def run_registry(
    argv: Sequence[str], registry: str, *, stdin: str | None = None, attempts: int = 3
) -> subprocess.CompletedProcess[str]:
    """Login/push with retries for transient failures (unreachable), none for auth or TLS."""
    for attempt in range(1, attempts + 1):
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True)
        if result.returncode == 0:
            return result
        output = result.stdout + result.stderr
        error = classify(output, registry)
        if error is None:
            last = next((t for t in reversed(output.splitlines()) if t.strip()), "no output")
            raise RegistryError(f"{registry}: {Path(argv[0]).name} {argv[1]} failed: {last.strip()}")
        if not _transient(error) or attempt == attempts:
            raise error
        time.sleep(attempt)  # 1 s, 2 s: a registry restarting behind a load balancer
    raise AssertionError("unreachable")


def git_state(directory: Path) -> tuple[str, bool, str] | None:
    """(commit, dirty, commit time) of the tree holding `directory`, None outside git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(directory), "log", "-1", "--format=%H %cI"], capture_output=True, text=True
        )
        if head.returncode != 0 or not head.stdout.strip():
            return None
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--", "."], capture_output=True, text=True
        )
    except OSError:
        return None
    commit, committed_at = head.stdout.split()
    return commit, bool(status.stdout.strip()), committed_at
