"""The release's I/O: commit an environment to the GitOps repository, wait for its rollout.

What to commit and how to read a rollout's status are pure (`kubeship.pipeline.gitops`,
`kubeship.pipeline.progress`); this module runs git and kubectl.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kubeship.errors import ReleaseError
from kubeship.pipeline.progress import Progress, progress

ENV_GITOPS_TOKEN = "GITOPS_TOKEN"  # pushes over HTTPS: GitHub's GITHUB_TOKEN, a GitLab project token
ENV_KUBECONFIG_DATA = "KUBECONFIG_DATA"  # a kubeconfig held in a CI secret, written to a 0600 file
COMMITTER = ("kubeship pipeline", "kubeship@pipeline.invalid")  # GIT_AUTHOR_*/GIT_COMMITTER_* win


@dataclass(frozen=True)
class Published:
    commit: str | None  # None: the repository already held exactly this
    branch: str
    files: int


def _git_env(repository: str, environ: Mapping[str, str]) -> dict[str, str]:
    """git's environment: the token as an HTTP header in config from the environment (never in argv,
    never in a URL that git could print), identity defaults, no prompts."""
    env = {**environ, "GIT_TERMINAL_PROMPT": "0"}
    env.setdefault("GIT_AUTHOR_NAME", COMMITTER[0])
    env.setdefault("GIT_AUTHOR_EMAIL", COMMITTER[1])
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    token = environ.get(ENV_GITOPS_TOKEN)
    if token and repository.startswith("https://"):
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        count = int(env.get("GIT_CONFIG_COUNT", "0"))
        env[f"GIT_CONFIG_KEY_{count}"] = "http.extraHeader"
        env[f"GIT_CONFIG_VALUE_{count}"] = f"Authorization: Basic {basic}"
        env["GIT_CONFIG_COUNT"] = str(count + 1)
    return env


def _git(args: list[str], cwd: Path | None, env: Mapping[str, str], what: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, env=dict(env), capture_output=True, text=True)
    if result.returncode != 0:
        last = next((ln for ln in reversed(result.stderr.splitlines()) if ln.strip()), "no output")
        raise ReleaseError(f"{what}: git {args[0]} failed: {last.strip()}")
    return result.stdout


def publish(
    repository: str,
    branch: str,
    files: Mapping[str, str],
    replace: list[str],
    message: str,
    environ: Mapping[str, str] | None = None,
    attempts: int = 3,
) -> Published:
    """Write `files` (relative path → text) into `branch` of `repository`, with the directories in
    `replace` emptied first (an object removed from the spec disappears, and Argo CD prunes it);
    commit and push. A push that lost a race is rebased and tried again."""
    if shutil.which("git") is None:
        raise ReleaseError("git is not installed: the GitOps hand-off needs it")
    if repository.startswith("-") or not repository.strip():  # never an option to git (--upload-pack=...)
        raise ReleaseError(f"{repository!r}: not a repository URL or path")
    env = _git_env(repository, os.environ if environ is None else environ)
    where = f"{repository} ({branch})"
    with tempfile.TemporaryDirectory(prefix="kubeship-gitops-") as tmp:
        work = Path(tmp) / "repo"
        exists = _git(["ls-remote", "--heads", "--", repository, branch], None, env, where).strip() != ""
        if exists:
            _git(
                ["clone", "-q", "--depth", "1", "--branch", branch, "--", repository, str(work)],
                None,
                env,
                where,
            )
        else:  # the first release makes the branch, holding only what kubeship writes
            _git(["init", "-q", str(work)], None, env, where)
            _git(["checkout", "-q", "--orphan", branch], work, env, where)
            _git(["remote", "add", "origin", repository], work, env, where)
        for attempt in range(1, attempts + 1):
            for directory in replace:
                shutil.rmtree(work / directory, ignore_errors=True)
            for rel, text in files.items():
                target = work / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            _git(["add", "-A"], work, env, where)
            if not _git(["status", "--porcelain"], work, env, where).strip():
                return Published(None, branch, len(files))
            _git(["commit", "-q", "-m", message], work, env, where)
            pushed = subprocess.run(
                ["git", "push", "-q", "origin", f"HEAD:refs/heads/{branch}"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
            )
            if pushed.returncode == 0:
                commit = _git(["rev-parse", "HEAD"], work, env, where).strip()
                return Published(commit, branch, len(files))
            if attempt == attempts or "rejected" not in pushed.stderr + pushed.stdout:
                last = next((ln for ln in reversed(pushed.stderr.splitlines()) if ln.strip()), "no output")
                raise ReleaseError(f"{where}: git push failed: {last.strip()}")
            # Another release pushed first: start again from theirs, our files on top.
            _git(["fetch", "-q", "--depth", "1", "origin", branch], work, env, where)
            _git(["reset", "-q", "--hard", "FETCH_HEAD"], work, env, where)
    raise AssertionError("unreachable")  # the loop returns or raises


def kubectl_get(
    kind: str, name: str, namespace: str | None, kubeconfig: str | None
) -> dict[str, object] | None:
    argv = ["kubectl", "get", kind.lower(), name, "-o", "json"]
    if namespace:
        argv += ["-n", namespace]
    if kubeconfig:
        argv += ["--kubeconfig", kubeconfig]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        if "NotFound" in result.stderr:
            return None
        last = next((ln for ln in reversed(result.stderr.splitlines()) if ln.strip()), "no output")
        raise ReleaseError(f"kubectl get {kind.lower()} {name}: {last.strip()}")
    loaded = json.loads(result.stdout)
    return loaded if isinstance(loaded, dict) else None


def wait(
    kind: str,
    name: str,
    namespace: str | None,
    image: str,
    timeout: float,
    *,
    interval: float = 10.0,
    get: Callable[[str, str, str | None, str | None], dict[str, object] | None] = kubectl_get,
    report: Callable[[str], None] = print,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Poll the object until the release of `image` is done; ReleaseError if it fails or times out."""
    if get is kubectl_get and shutil.which("kubectl") is None:
        raise ReleaseError("kubectl is not installed: waiting for the rollout needs it")
    env = os.environ if environ is None else environ
    with tempfile.TemporaryDirectory(prefix="kubeship-kube-") as tmp:
        kubeconfig = None
        if env.get(ENV_KUBECONFIG_DATA):
            kubeconfig = str(Path(tmp) / "config")
            fd = os.open(kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(env[ENV_KUBECONFIG_DATA])
        deadline = clock() + timeout
        said = ""
        while True:
            obj = get(kind, name, namespace, kubeconfig)
            state = (
                progress(obj, image) if obj is not None else Progress(False, False, f"no {kind} {name} yet")
            )
            if state.message != said:
                report(f"{kind} {name}: {state.message}")
                said = state.message
            if state.done:
                if not state.ok:
                    raise ReleaseError(f"{kind} {name}: {state.message}")
                return state
            if clock() >= deadline:
                raise ReleaseError(f"{kind} {name}: not done after {timeout:.0f} s: {state.message}")
            sleep(interval)
