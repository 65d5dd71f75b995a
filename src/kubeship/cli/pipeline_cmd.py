"""`kubeship pipeline`: write the CI/CD pipeline, and the commands its steps run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from kubeship.errors import DastError, UsageError

spec_option = click.option(
    "-f", "--file", "spec_path", type=click.Path(path_type=Path), default="kubeship.yaml", show_default=True
)
env_option = click.option("--env", "env", help="Apply environments.<ENV> from the spec.")


def repository_root(spec_path: Path) -> Path:
    """The git work tree holding the spec (where CI checks out), else the spec's directory."""
    here = spec_path.resolve().parent
    try:
        top = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--show-toplevel"], capture_output=True, text=True
        )
    except OSError:
        return here
    return Path(top.stdout.strip()) if top.returncode == 0 and top.stdout.strip() else here


def pipeline_files(spec_path: Path, provider: str) -> dict[Path, str]:
    """{path under the repository root: text} of the pipeline for `provider` (github, gitlab, all)."""
    from kubeship.pipeline import GITHUB_PATH, GITLAB_PATH, github_text, gitlab_text
    from kubeship.spec import load_environments, load_spec

    spec = load_spec(spec_path)
    root = repository_root(spec_path)
    rel = spec_path.resolve().relative_to(root).as_posix()
    envs = load_environments(spec_path)
    chosen = provider if provider != "spec" else (spec.pipeline.provider if spec.pipeline else "github")
    out: dict[Path, str] = {}
    if chosen in ("github", "all"):
        out[root / GITHUB_PATH] = github_text(spec, rel, envs)
    if chosen in ("gitlab", "all"):
        out[root / GITLAB_PATH] = gitlab_text(spec, rel, envs)
    return out


@click.group(invoke_without_command=True)
@spec_option
@click.option(
    "--provider",
    type=click.Choice(["spec", "github", "gitlab", "all"]),
    default="spec",
    show_default=True,
    help="spec: pipeline.provider (GitHub by default).",
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print instead of writing the files.")
@click.option("--check", "check_only", is_flag=True, help="Exit 1 if the files differ from the spec's.")
@click.pass_context
def pipeline(ctx: click.Context, spec_path: Path, provider: str, to_stdout: bool, check_only: bool) -> None:
    """Write the CI/CD pipeline from kubeship.yaml: test, check, build, DAST, push, GitOps release.

    GitHub Actions (.github/workflows/kubeship.yml) or GitLab CI (.gitlab-ci.yml), at the root
    of the git repository holding the spec. The subcommands are what its steps run."""
    if ctx.invoked_subcommand is not None:
        return
    from kubeship.pipeline.github import approvals_note
    from kubeship.spec import load_environments, load_spec

    files = pipeline_files(spec_path, provider)
    if to_stdout:
        sys.stdout.write("\n---\n".join(files.values()))
        return
    stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if check_only:
        for path in stale:
            click.echo(f"{path}: differs from what {spec_path} gives: run kubeship pipeline", err=True)
        ctx.exit(1 if stale else 0)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}", err=True)
    if any(p.name == "kubeship.yml" for p in files):
        for note in approvals_note(load_spec(spec_path), load_environments(spec_path)):
            click.echo(f"kubeship: note: {note}", err=True)


@pipeline.command()
@spec_option
@env_option
@click.option("-o", "--output-dir", type=click.Path(path_type=Path), required=True)
@click.option("--image", help="<repository>@sha256:… to pin (what `kubeship push` printed).")
@click.option("--repository", help="The GitOps repository's URL, for the Argo CD Application.")
def manifests(
    spec_path: Path, env: str | None, output_dir: Path, image: str | None, repository: str | None
) -> None:
    """Write what the release hands to GitOps for ENV, laid out as in the deploy repository."""
    from kubeship.pipeline.gitops import release_tree
    from kubeship.spec import load_spec

    spec = load_spec(spec_path, env)
    repo = repository or (spec.pipeline.gitops.repository if spec.pipeline else None)
    tree = release_tree(spec, env, repo, image=image)
    for rel, text in tree.items():
        target = output_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    note = "" if repo else " (no Argo CD Application: the deploy repository is not known; pass --repository)"
    click.echo(f"wrote {len(tree)} files to {output_dir}/{note}", err=True)


@pipeline.command("dast-rules")
@spec_option
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Default: stdout.")
def dast_rules(spec_path: Path, output: Path | None) -> None:
    """The ZAP rules file (zap-baseline.py -c): which alerts fail the scan, which warn, and why."""
    from kubeship.pipeline.dast import zap_rules_text
    from kubeship.spec import load_spec

    text = zap_rules_text(load_spec(spec_path))
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@pipeline.command("dast-gate")
@spec_option
@click.argument("report", type=click.Path(path_type=Path))
@click.option(
    "--fail-at", type=click.Choice(["low", "medium", "high"]), help="Default: pipeline.dast.failAt."
)
def dast_gate(spec_path: Path, report: Path, fail_at: str | None) -> None:
    """Judge a Wapiti JSON report: list every finding; fail on those at or above the failing level."""
    from kubeship.limits import LimitError, check_size, limits, load_json
    from kubeship.pipeline.dast import ReportError, verdict, wapiti_findings
    from kubeship.pipeline.stages import pipeline_of
    from kubeship.spec import load_spec

    level = fail_at or pipeline_of(load_spec(spec_path)).dast.fail_at
    try:
        bound = limits()
        check_size(report.stat().st_size, bound, 0)  # before reading it: the same bound load_json holds
        data = load_json(report.read_text(encoding="utf-8", errors="replace"), bound)
        findings = wapiti_findings(data)
    except FileNotFoundError:
        raise UsageError(f"{report}: not found: did the scan run? (wapiti -f json -o {report})") from None
    except LimitError as exc:
        raise UsageError(exc.located(str(report))) from None
    except (ValueError, ReportError) as exc:
        raise UsageError(f"{report}: {exc}") from None
    failing, reported = verdict(findings, level)
    for f in reported:
        click.echo(f"  reported  {f.line()}")
    for f in failing:
        click.echo(f"  FAIL      {f.line()}")
    click.echo(f"{report}: {len(findings)} findings, {len(failing)} at or above {level}")
    if failing:
        worst = failing[0]
        raise DastError(
            f"{report}: {len(failing)} finding(s) at or above {level}, the first: {worst.line()}; fix the "
            "app, or raise pipeline.dast.failAt with the reason in a comment"
        )


@pipeline.command()
@spec_option
@click.option("--env", "env", required=True, help="The environment to release.")
@click.option("--image", required=True, help="<repository>@sha256:… that was pushed and scanned.")
@click.option(
    "--repository", envvar="GITOPS_REPOSITORY", required=True, help="The deploy repository (git URL or path)."
)
@click.option("--source", default="", help="Where the release comes from (a commit URL), for the record.")
def publish(spec_path: Path, env: str, image: str, repository: str, source: str) -> None:
    """Commit ENV's manifests, pinned to IMAGE, and its Argo CD Application to the GitOps branch.

    Secrets go by reference only: their values never enter git. GITOPS_TOKEN, when set, authenticates
    the push over HTTPS."""
    from kubeship import __version__, release
    from kubeship.pipeline.gitops import APPLICATIONS_DIR, environment_path, release_tree
    from kubeship.pipeline.stages import pipeline_of
    from kubeship.spec import load_spec

    spec = load_spec(spec_path, env)
    tree = release_tree(spec, env, repository, image=image, source=source or None)
    gitops = pipeline_of(spec).gitops
    directory = environment_path(spec, env)
    app_files = [p for p in tree if p.startswith(f"{APPLICATIONS_DIR}/")]
    message = (
        f"{spec.name} {env}: {image}\n\n"
        + (f"Source: {source}\n" if source else "")
        + f"Rendered by kubeship {__version__} from {spec_path.name}."
    )
    done = release.publish(repository, gitops.branch, tree, [directory], message)
    if done.commit is None:
        click.echo(f"{repository} {gitops.branch}: {directory} already holds this release; nothing to commit")
    else:
        click.echo(f"{repository} {gitops.branch}: {done.commit[:12]} {directory}/ ({done.files} files)")
    for path in app_files:
        click.echo(f"  Argo CD Application: {path}")


@pipeline.command()
@spec_option
@click.option("--env", "env", required=True)
@click.option("--image", required=True, help="The released <repository>@sha256:….")
@click.option("--timeout", default="30m", show_default=True, help="Give up after this long (30s, 10m, 1h).")
@click.option("--interval", type=float, default=10.0, show_default=True, help="Seconds between reads.")
def wait(spec_path: Path, env: str, image: str, timeout: str, interval: float) -> None:
    """Wait until Argo CD has synced IMAGE and the Rollout (or Deployment) finished; fail if it aborts.

    Reads the object with kubectl (KUBECONFIG, or KUBECONFIG_DATA holding a kubeconfig)."""
    from kubeship import release
    from kubeship.spec import load_spec
    from kubeship.spec.quantity import parse_duration

    spec = load_spec(spec_path, env)
    try:
        seconds = parse_duration(timeout)
    except ValueError:
        raise UsageError(f"--timeout {timeout!r}: expected a duration like 30s, 10m or 1h") from None
    kind = "Rollout" if spec.delivery is not None else "Deployment"
    state = release.wait(
        kind, spec.name, spec.namespace, image, seconds, interval=interval, report=click.echo
    )
    click.echo(state.message)
