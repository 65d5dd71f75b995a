"""Spec → a two-stage Dockerfile and its .dockerignore (pure).

Layer order is the point: the dependency list is copied and installed
before any source, so a code change rebuilds only the last layers. The
builder stage holds pip and compiles what must be compiled; the runtime
stage gets only the venv and the app, runs as a numeric non-root user
(what `runAsNonRoot` can verify) and starts `kubeship serve` as PID 1 in
exec form, so Kubernetes' SIGTERM reaches the runtime and starts its drain.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kubeship.build.context import GENERATED, GENERATED_IGNORE

if TYPE_CHECKING:  # the spec models cost a fifth of a second to import; `kubeship check` never needs them
    from kubeship.spec.models import AppSpec

VENV = "/opt/venv"
APP_DIR = "/app"
# OCI annotation keys (opencontainers image-spec, annotations.md); values are build args.
OCI_LABELS = {
    "org.opencontainers.image.title": "TITLE",
    "org.opencontainers.image.version": "VERSION",
    "org.opencontainers.image.revision": "REVISION",
    "org.opencontainers.image.created": "CREATED",
    "org.opencontainers.image.source": "SOURCE",
}
IGNORED = (
    f"{GENERATED_IGNORE} what never belongs in an image (secrets, VCS, caches, tests).",
    ".git",
    ".gitignore",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    "**/__pycache__",
    "**/*.py[cod]",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".coverage",
    "htmlcov",
    "build",
    "dist",
    "*.egg-info",
    "tests",
    "docs",
    "out",
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "**/secrets",
    ".kube",
    ".docker",
    "Dockerfile",
    ".dockerignore",
    "kubeship.yaml",
    ".idea",
    ".vscode",
    "*.swp",
    ".DS_Store",
)


def _without_mounts(args: list[str]) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--config", "--secrets"):
            skip = True
        else:
            out.append(arg)
    return out


def dockerignore(spec: AppSpec) -> str:
    lines = list(IGNORED)
    if spec.build.wheelhouse:  # the wheelhouse is needed in the context even if it sits under build/
        lines.append(f"!{spec.build.wheelhouse.strip('/')}")
    return "\n".join(lines) + "\n"


def dockerfile(spec: AppSpec) -> str:
    b = spec.build
    uid, gid = spec.security.run_as_user, spec.security.run_as_group
    if b.wheelhouse:
        wheels = b.wheelhouse.strip("/")
        fetch = f"COPY {wheels}/ /wheels/\n"
        install = f"pip install --no-index --find-links /wheels -r {b.requirements}"
        prune = (
            f"# The wheels are installed now; they stay out of the runtime image.\nRUN rm -rf /src/{wheels}\n"
        )
    else:
        fetch = prune = ""
        install = f"pip install -r {b.requirements}"
    # The command the Deployment runs, minus the config/secret mounts only a pod has: a plain
    # `docker run` serves and drains like the pod does.
    from kubeship.render.workload import command

    argv = command(spec)
    if spec.container.command is None:
        entrypoint, cmd = argv[:2], _without_mounts(argv[2:])
    else:
        entrypoint, cmd = argv, []
    labels = " \\\n      ".join(f'{k}="${{{v}}}"' for k, v in OCI_LABELS.items())
    args = {"TITLE": spec.name, "VERSION": spec.version, "REVISION": "unknown", "CREATED": "unknown"}
    args["SOURCE"] = b.source or "unknown"
    arg_lines = "\n".join(f"ARG {k}={v}" for k, v in args.items())
    return f"""\
{GENERATED} ({spec.name} {spec.version}): edit kubeship.yaml, not this file.

# --- builder: resolve and install the locked dependencies into a venv -------------------------
FROM {b.base_reference} AS builder
ENV PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv {VENV}
ENV PATH={VENV}/bin:$PATH
WORKDIR /build
# Dependencies before source: a code-only change reuses this layer. pip leaves with its job done:
# the runtime image cannot install anything.
COPY {b.requirements} ./
{fetch}RUN {install} \\
 && python3 -m pip uninstall --yes --quiet pip setuptools
COPY . /src
{prune}
# --- runtime: the venv and the app, nothing else ------------------------------------------------
FROM {b.base_reference} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PATH={VENV}/bin:$PATH \\
    HOME=/tmp
COPY --from=builder {VENV} {VENV}
WORKDIR {APP_DIR}
COPY --from=builder /src {APP_DIR}
USER {uid}:{gid}
EXPOSE {spec.container.port}
# kubeship serve is PID 1 (exec form): SIGTERM starts its drain, then in-flight requests finish.
STOPSIGNAL SIGTERM
ENTRYPOINT {json.dumps(entrypoint)}
{f"CMD {json.dumps(cmd)}" if cmd else ""}
# Last, so changing them never invalidates a cached layer.
{arg_lines}
LABEL {labels}
"""


def context_files(spec: AppSpec) -> dict[str, str]:
    """{file name: text} of what kubeship writes into the build context (`context.OWNED` says which)."""
    return {"Dockerfile": dockerfile(spec), ".dockerignore": dockerignore(spec)}
