"""`kubeship observe scrape|rules|alertmanager|dashboard`: one monitoring file at a time."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from kubeship.errors import SpecError

spec_option = click.option(
    "-f", "--file", "spec_path", type=click.Path(path_type=Path), default="kubeship.yaml", show_default=True
)
env_option = click.option("--env", "env", help="Apply environments.<ENV> from the spec.")
output_option = click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write to this file (default stdout)."
)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        click.echo(f"wrote {output}", err=True)


@click.group()
def observe() -> None:
    """Monitoring for the service: Prometheus scrape config and rules, Alertmanager, Grafana."""


@observe.command()
@spec_option
@env_option
@output_option
@click.option(
    "--rule-file", "rule_files", multiple=True, help="Add to rule_files (e.g. the rules you render)."
)
def scrape(spec_path: Path, env: str | None, output: Path | None, rule_files: tuple[str, ...]) -> None:
    """prometheus.yml with the service's scrape job (kubernetes_sd, pod role)."""
    from kubeship.observe import prometheus_config, to_text
    from kubeship.spec import load_spec

    _emit(to_text(prometheus_config(load_spec(spec_path, env), list(rule_files))), output)


@observe.command()
@spec_option
@env_option
@output_option
def rules(spec_path: Path, env: str | None, output: Path | None) -> None:
    """The Prometheus rule file: recording rules, SLO burn-rate and service alerts."""
    from kubeship.observe import rule_groups, to_text
    from kubeship.spec import load_spec

    _emit(to_text(rule_groups(load_spec(spec_path, env))), output)


@observe.command()
@spec_option
@env_option
@output_option
@click.option(
    "--templates-dir",
    default="/etc/alertmanager/templates",
    show_default=True,
    help="Where Alertmanager finds kubeship.tmpl (written next to -o as well).",
)
@click.option("--allow-missing-secrets", is_flag=True, help="Leave credentials whose source is unset empty.")
def alertmanager(
    spec_path: Path, env: str | None, output: Path | None, templates_dir: str, allow_missing_secrets: bool
) -> None:
    """alertmanager.yml: routes, receivers (credentials from their sources), inhibition, templates."""
    from kubeship.observe import alertmanager_config, to_text
    from kubeship.observe.alertmanager import TEMPLATE, TEMPLATE_FILE
    from kubeship.spec import load_spec
    from kubeship.spec.secrets import alerting_secrets

    spec = load_spec(spec_path, env)
    if spec.alerting is None:
        raise SpecError(
            f"{spec_path}:1:1: alerting: not set; add receivers and routes (alerting: {{receiver: ops, "
            "receivers: {ops: {webhook: {url: ...}}}}) to render an Alertmanager config"
        )
    secrets = alerting_secrets(spec, os.environ, spec_path, allow_missing=allow_missing_secrets)
    _emit(to_text(alertmanager_config(spec, secrets, templates_dir)), output)
    if output is not None:
        (output.parent / TEMPLATE_FILE).write_text(TEMPLATE)
        click.echo(f"wrote {output.parent / TEMPLATE_FILE}", err=True)


@observe.command()
@spec_option
@env_option
@output_option
def dashboard(spec_path: Path, env: str | None, output: Path | None) -> None:
    """A Grafana dashboard (JSON): RPS, errors vs SLO, latency, CPU/memory vs requests, replicas."""
    from kubeship.observe import dashboard as build
    from kubeship.spec import load_spec

    _emit(json.dumps(build(load_spec(spec_path, env)), indent=2, sort_keys=True) + "\n", output)
