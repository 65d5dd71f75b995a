"""`kubeship init`, `kubeship render`, `kubeship schema`."""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kubeship.errors import UsageError

if TYPE_CHECKING:
    from kubeship.spec.models import AppSpec


@click.command()
@click.option(
    "-f", "--file", "spec_path", type=click.Path(path_type=Path), default="kubeship.yaml", show_default=True
)
@click.option("--env", "env", help="Apply environments.<ENV> from the spec.")
@click.option("-o", "--output-dir", type=click.Path(path_type=Path), help="Write one file per object here.")
@click.option(
    "--kustomize",
    "kustomize_dir",
    type=click.Path(path_type=Path),
    help="Write a Kustomize tree: base/ and overlays/<env>/ for every environment.",
)
@click.option("--allow-missing-secrets", is_flag=True, help="Render secrets whose source is unset as empty.")
@click.option(
    "--observe",
    "with_observe",
    is_flag=True,
    help="Add ServiceMonitor, PrometheusRule, the Alertmanager config Secret and the Grafana dashboard.",
)
def render(
    spec_path: Path,
    env: str | None,
    output_dir: Path | None,
    kustomize_dir: Path | None,
    allow_missing_secrets: bool,
    with_observe: bool,
) -> None:
    """Render Kubernetes manifests from kubeship.yaml (to stdout, -o DIR, or --kustomize DIR)."""
    from kubeship.render import render as render_objects
    from kubeship.render import to_yaml
    from kubeship.render.output import file_name
    from kubeship.spec import load_spec
    from kubeship.spec.secrets import secret_values

    if kustomize_dir is not None and (env is not None or output_dir is not None):
        raise UsageError("--kustomize writes every environment itself: drop --env and -o")

    def objects_for(spec: AppSpec) -> list[dict[str, Any]]:
        values = secret_values(spec, os.environ, spec_path, allow_missing=allow_missing_secrets)
        objects = render_objects(spec, values)
        if with_observe:
            from kubeship.observe import observe_objects
            from kubeship.spec.secrets import alerting_secrets

            alert = alerting_secrets(spec, os.environ, spec_path, allow_missing=allow_missing_secrets)
            objects += observe_objects(spec, alert)
        return objects

    from kubeship.render.rollout import notes

    spec = load_spec(spec_path, env)
    objects = objects_for(spec)
    for note in notes(spec):
        click.echo(f"kubeship: note: {note}", err=True)
    from kubeship.spec.models import spec_warnings

    for loc, warning in spec_warnings(spec):
        click.echo(f"{spec_path}: {'.'.join(map(str, loc))}: warning: {warning}", err=True)
    if kustomize_dir is not None:
        from kubeship.render.kustomize import kustomize_tree
        from kubeship.spec import load_environments

        envs = {name: objects_for(load_spec(spec_path, name)) for name in load_environments(spec_path)}
        tree = kustomize_tree(objects, envs)
        for rel, text in tree.items():
            target = kustomize_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        click.echo(f"wrote base/ and {len(envs)} overlays to {kustomize_dir}/", err=True)
        return
    if output_dir is None:
        sys.stdout.write(to_yaml(objects))
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        (output_dir / file_name(obj)).write_text(to_yaml([obj]))
    click.echo(f"wrote {len(objects)} objects to {output_dir}/", err=True)


# What the example app (templates/app.py) imports, besides kubeship's runtime.
INIT_REQUIREMENTS = ("kubeship", "fastapi")


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option("--name", default=None, help="App name (default: the directory's name).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--requirements", "requirements_only", is_flag=True, help="Only (re)write requirements.txt, locked."
)
@click.option(
    "--ci",
    type=click.Choice(["github", "gitlab"]),
    help="Also the CI/CD pipeline (spec section, workflow, a first test, the Dockerfile it builds).",
)
def init(directory: Path, name: str | None, force: bool, requirements_only: bool, ci: str | None) -> None:
    """Write a commented kubeship.yaml, the example app and its locked requirements.txt into DIRECTORY.

    requirements.txt pins kubeship, FastAPI and every dependency to the versions installed here, so
    the image runs what you ran; `kubeship build` installs exactly that list. With --ci, DIRECTORY is
    the repository's root: the pipeline file goes where GitHub or GitLab looks for it."""
    from kubeship.build.lock import requirements_text

    directory.mkdir(parents=True, exist_ok=True)
    requirements, unpinned = requirements_text(INIT_REQUIREMENTS)
    for root in unpinned:
        click.echo(
            f"kubeship: warning: {root} is not installed here, so not pinned: pip install {root}", err=True
        )
    if requirements_only:
        (directory / "requirements.txt").write_text(requirements)
        click.echo(f"wrote {directory / 'requirements.txt'}", err=True)
        return
    app_name = name or directory.resolve().name.lower().replace("_", "-")
    templates = resources.files("kubeship.cli") / "templates"
    targets = {
        "kubeship.yaml": (templates / "kubeship.yaml").read_text().replace("{{name}}", app_name),
        "app.py": (templates / "app.py").read_text(),
        "requirements.txt": requirements,
    }
    if ci is not None:
        snippet = (templates / "pipeline.yaml").read_text().replace("{{provider}}", ci)
        targets["kubeship.yaml"] += "\n" + snippet
        targets["tests/test_app.py"] = (templates / "test_app.py.tmpl").read_text()
    existing = [n for n in targets if (directory / n).exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(str(directory / n) for n in existing)} exists; pass --force to overwrite"
        )
    for file, text in targets.items():
        (directory / file).parent.mkdir(parents=True, exist_ok=True)
        (directory / file).write_text(text)
        click.echo(f"wrote {directory / file}", err=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():  # what kubeship build and the pipeline make: never committed
        ignore.write_text("wheels/\nbuild/\n__pycache__/\n")
        click.echo(f"wrote {ignore}", err=True)
    if ci is not None:
        _init_pipeline(directory / "kubeship.yaml", ci)
    click.echo(
        f"next: cd {directory} && kubeship serve app:app   (then GET /ping)\n"
        f"      kubeship render -f kubeship.yaml | kubeship check -"
        + ("\n      commit, and push: the pipeline runs" if ci else ""),
        err=True,
    )


def _init_pipeline(spec_path: Path, provider: str) -> None:
    """The files a first pipeline run needs: the Dockerfile it builds (committed, so the image's tags
    are not -dirty) and the pipeline itself."""
    from kubeship.build import context_files
    from kubeship.cli.pipeline_cmd import pipeline_files
    from kubeship.spec import load_spec

    spec = load_spec(spec_path)
    files = {
        **{spec_path.parent / name: text for name, text in context_files(spec).items()},
        **pipeline_files(spec_path, provider),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        click.echo(f"wrote {path}", err=True)


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file (default stdout).")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of kubeship.yaml (for editor completion and validation)."""
    from kubeship.spec.models import SpecFile

    text = json.dumps(SpecFile.model_json_schema(by_alias=True), indent=2, sort_keys=True) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
