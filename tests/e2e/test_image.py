"""End to end with real podman and a real registry (TLS + basic auth) on loopback.

Generate the Dockerfile for examples/ping, build it (dependencies from a local
wheelhouse: builds can't reach the package index here), run it, GET /ping,
SIGTERM it and see it drain and exit 0; push to the registry, pull into a
separate store and compare digests; rebuild after a code-only change and see
the dependency layer reused. `scripts/containers-setup.sh` (run by
`make test`) installs podman and the registry and makes the local base image.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from kubeship.errors import BuildError, RegistryError
from kubeship.spec import load_spec
from tests.conftest import ROOT, free_port, run_cli
from tests.e2e.conftest import BASE, PASSWORD, USER, Registry, sh
from tests.observe.conftest import tool

# Image builds take minutes on a slow host (the pipeline's 132 s and the image test's 109 s on one, against
# the suite's 120 s per test): bounded by the builds' own 600 s instead.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Path:
    """examples/ping as a git project with a kubeship.yaml and a wheelhouse of its dependencies."""
    ctx = tmp_path_factory.mktemp("ping")
    for name in ("app.py", "requirements.txt"):
        shutil.copy(ROOT / "examples" / "ping" / name, ctx / name)
    # The wheelhouse: kubeship built from this checkout, FastAPI and the runtime's dependencies.
    sh(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--wheel-dir",
        str(ctx / "wheels"),
        str(ROOT),
        "fastapi>=0.110",
    )
    (ctx / "kubeship.yaml").write_text(
        f"""# the example service, built by the e2e test
name: ping
version: "1.0.0"
image: {{registry: "{registry.address}", namespace: kubeship, name: ping, tag: "1.0.0"}}
container: {{app: "app:app", drainSeconds: 5}}
build: {{base: "{BASE}", wheelhouse: wheels}}
"""
    )
    (ctx / ".gitignore").write_text("wheels/\n")
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "ping"],
    ):
        sh("git", "-C", str(ctx), *args)
    return ctx


def build(ctx: Path) -> tuple[list[str], str]:
    result = run_cli("build", "-f", str(ctx / "kubeship.yaml"), "--builder", "podman", cwd=ctx, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.split(), result.stderr


def layers(image: str) -> list[str]:
    return (
        sh("podman", "image", "inspect", "--format", "{{json .RootFS.Layers}}", image)
        .stdout.strip()[2:-2]
        .split('","')
    )


def test_build_run_drain_push_pull_and_cached_rebuild(project: Path, registry: Registry) -> None:
    gen = run_cli("dockerfile", "-f", str(project / "kubeship.yaml"), "--write", cwd=project)
    assert gen.returncode == 0, gen.stderr
    # KS411 (a tag, no digest) is all it says: the local base image, made here, has no digest to pin
    lint = run_cli("check", str(project / "Dockerfile"), "--fail-on", "info", "--skip", "KS411", cwd=project)
    assert lint.returncode == 0, lint.stdout
    sh("git", "-C", str(project), "add", ".")
    sh("git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "Dockerfile")
    commit = sh("git", "-C", str(project), "rev-parse", "HEAD").stdout.strip()

    tags, _ = build(project)
    repo = f"{registry.address}/kubeship/ping"
    assert tags == [f"{repo}:1.0.0", f"{repo}:{commit[:12]}"]
    info = sh("podman", "image", "inspect", "--format", "{{.Config.User}} {{.Config.StopSignal}}", tags[0])
    assert info.stdout.split() == ["10001:10001", "SIGTERM"]
    labels = sh("podman", "image", "inspect", "--format", "{{json .Labels}}", tags[0]).stdout
    assert f'"org.opencontainers.image.revision":"{commit}"' in labels
    assert '"org.opencontainers.image.version":"1.0.0"' in labels
    files = sh("podman", "run", "--rm", "--entrypoint", "ls", tags[0], "-A", "/app").stdout.split()
    assert sorted(files) == ["app.py", "requirements.txt"]  # no wheels, VCS, spec or Dockerfile
    tools = sh("podman", "run", "--rm", "--entrypoint", "ls", tags[0], "/opt/venv/bin").stdout.split()
    assert "kubeship" in tools and "pip" not in tools  # the runtime image cannot install anything

    # Run it; SIGTERM (what the kubelet sends): readiness fails at once, requests still served, exit 0.
    name, port = f"kubeship-e2e-{free_port()}", free_port()
    sh(
        "podman",
        "run",
        "-d",
        "--name",
        name,
        "--label",
        "kubeship-e2e",
        "-p",
        f"127.0.0.1:{port}:8080",
        tags[0],
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(url + "/ping").json() == {"message": "pong"}
        sh("podman", "kill", "--signal", "TERM", name)
        time.sleep(0.5)
        assert httpx.get(url + "/readyz").status_code == 503  # draining: endpoints drop the pod
        assert httpx.get(url + "/ping").status_code == 200  # and it still serves meanwhile
        code = sh("podman", "wait", name, timeout=60).stdout.strip()
        assert code == "0", sh("podman", "logs", name).stdout
        logs = sh("podman", "logs", name)
        assert "drain" in logs.stdout + logs.stderr
        lines = [json.loads(line) for line in (logs.stdout + logs.stderr).splitlines() if '"serving"' in line]
        assert lines and lines[0]["build"] == "compiled"  # the wheel made here runs compiled in the image
    finally:
        sh("podman", "rm", "-f", "-t", "0", name, check=False)

    # Push with a wrong password: one line, its own exit code.
    bad = run_cli(
        "push", "-f", str(project / "kubeship.yaml"), "--builder", "podman", "-u", USER, "--password-stdin",
        "--ca-dir", str(registry.certs), cwd=project, input="wrong",
    )  # fmt: skip
    assert bad.returncode == RegistryError.exit_code, bad.stderr
    assert "refused the credentials" in bad.stderr and "wrong" not in bad.stderr

    pushed = run_cli(
        "push", "-f", str(project / "kubeship.yaml"), "--builder", "podman", "-u", USER, "--password-stdin",
        "--ca-dir", str(registry.certs), cwd=project, input=PASSWORD, timeout=300,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    reference = pushed.stdout.strip()
    digest = reference.rpartition("@")[2]
    assert reference == f"{repo}@{digest}"
    assert load_spec(project / "kubeship.yaml").image.reference == reference  # pinned for kubeship render

    # Pull into a separate store: the same manifest digest and the same image ID.
    store = project.parent / "store2"
    runroot = tempfile.mkdtemp(prefix="ks-run-", dir="/tmp")  # podman wants a runroot under 50 characters
    podman2 = ["podman", "--root", str(store / "root"), "--runroot", runroot]
    sh(*podman2, "pull", "-q", "--cert-dir", str(registry.certs), "--creds", f"{USER}:{PASSWORD}", reference)
    assert sh(*podman2, "image", "inspect", "--format", "{{.Digest}}", reference).stdout.strip() == digest
    local_id = sh("podman", "image", "inspect", "--format", "{{.Id}}", tags[0]).stdout.strip()
    assert sh(*podman2, "image", "inspect", "--format", "{{.Id}}", reference).stdout.strip() == local_id
    sh(*podman2, "rmi", "-a", "-f", check=False)
    shutil.rmtree(runroot, ignore_errors=True)

    # A code-only change: the dependency layer is reused, only the app layer changes.
    before = layers(tags[0])
    with (project / "app.py").open("a") as f:
        f.write("\n# a code-only change\n")
    tags2, log = build(project)
    assert tags2[0] == f"{repo}:1.0.0-dirty"
    after = layers(tags2[0])
    assert after[:-1] == before[:-1]  # base and venv layers identical
    assert after[-1] != before[-1]  # the app layer is new
    assert "Using cache" in log.split("RUN pip install", 1)[1].split("STEP", 1)[0]


def test_unpullable_base_is_one_line_with_the_fix(tmp_path: Path) -> None:
    tool("podman")
    (tmp_path / "app.py").write_text("app = None\n")
    (tmp_path / "requirements.txt").write_text("kubeship\n")
    (tmp_path / "kubeship.yaml").write_text(
        'name: x\nversion: "1"\nimage: {name: x, tag: "1"}\nbuild: {base: "localhost/no-such-base:1"}\n'
    )
    result = run_cli(
        "build", "-f", str(tmp_path / "kubeship.yaml"), "--builder", "podman", cwd=tmp_path, timeout=120
    )
    assert result.returncode == BuildError.exit_code
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "kubeship: error: the base image localhost/no-such-base:1 could not be pulled: set build.base"
    )


def test_init_build_push_render_check_from_an_empty_directory(tmp_path: Path, registry: Registry) -> None:
    """A user's first hour: `kubeship init` in an empty directory, then build (real podman, the local
    base image), push (the TLS registry), render and check: zero findings, the image pinned by digest."""
    project = tmp_path / "shop"
    made = run_cli("init", str(project), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in project.iterdir()) == [
        ".gitignore",
        "app.py",
        "kubeship.yaml",
        "requirements.txt",
    ]
    locked = [
        line for line in (project / "requirements.txt").read_text().splitlines() if not line.startswith("#")
    ]
    assert all("==" in line for line in locked) and "kubeship==0.1.0" in locked
    assert any(line.startswith("fastapi==") for line in locked)

    # What a user on this network does: their registry and a base image it can reach. Nothing else:
    # build makes the wheelhouse for the lock itself (kubeship from where it is installed here).
    spec = project / "kubeship.yaml"
    text = spec.read_text().replace("registry.example.com", registry.address).replace("myteam", "kubeship")
    spec.write_text(text.replace("  wheelhouse: wheels", f'  wheelhouse: wheels\n  base: "{BASE}"'))
    built = run_cli("build", "-f", str(spec), "--builder", "podman", cwd=project, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    tag = built.stdout.split()[0]
    assert tag == f"{registry.address}/kubeship/shop:0.1.0"
    name, port = f"kubeship-e2e-{free_port()}", free_port()
    sh("podman", "run", "-d", "--name", name, "--label", "kubeship-e2e", "-p", f"127.0.0.1:{port}:8080", tag)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).json() == {"message": "pong"}:
                    break
            except (httpx.TransportError, ValueError):
                time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/ping").json() == {"message": "pong"}
    finally:
        sh("podman", "rm", "-f", "-t", "0", name, check=False)

    pushed = run_cli(
        "push", "-f", str(spec), "--builder", "podman", "-u", USER, "--password-stdin",
        "--ca-dir", str(registry.certs), cwd=project, input=PASSWORD, timeout=300,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    reference = pushed.stdout.strip()
    assert "@sha256:" in reference

    rendered = run_cli("render", "-f", str(spec), "-o", str(project / "k8s"), cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    deployment = (project / "k8s" / "deployment-shop.yaml").read_text()
    assert f'image: "{reference}"' in deployment  # pinned by the digest the registry returned
    checked = run_cli("check", str(project / "k8s"), "--format", "json", cwd=project)
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["findings"] == []

    # build.base changed: the Dockerfile build wrote is stale; said, never built silently
    spec.write_text(
        spec.read_text().replace(f'base: "{BASE}"', f'base: "{BASE}"\n  baseDigest: "sha256:{"0" * 64}"')
    )
    stale = run_cli("build", "-f", str(spec), "--builder", "podman", cwd=project, timeout=120)
    assert stale.returncode == BuildError.exit_code, stale.stderr
    assert "Dockerfile:4: written by kubeship from an older kubeship.yaml" in stale.stderr
    rewritten = run_cli("dockerfile", "-f", str(spec), "--write", cwd=project)  # kubeship's own: no --force
    assert rewritten.returncode == 0, rewritten.stderr
    assert f"FROM {BASE}@sha256:{'0' * 64} AS builder" in (project / "Dockerfile").read_text()


def test_build_names_what_the_context_lacks_before_starting_the_builder(tmp_path: Path) -> None:
    tool("podman")
    made = run_cli("init", str(tmp_path), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    (tmp_path / "requirements.txt").unlink()
    (tmp_path / "app.py").rename(tmp_path / "main.py")
    result = run_cli("build", "-f", str(tmp_path / "kubeship.yaml"), "--builder", "podman", cwd=tmp_path)
    assert result.returncode == BuildError.exit_code and "Traceback" not in result.stderr
    assert "COPY requirements.txt: not in the build context" in result.stderr
    assert "`kubeship init` writes a locked one" in result.stderr
    assert "no app.py (nor package app/) for container.app 'app:app'" in result.stderr
    assert "STEP" not in result.stderr + result.stdout  # the builder never ran
