"""Entry point: runs the click group and turns KubeshipError into one line and an exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from kubeship import __version__
from kubeship.errors import KubeshipError, UsageError
from kubeship.names import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_PORT,
    DEFAULT_SCHED,
    DEFAULT_SHUTDOWN_TIMEOUT,
    ENV_SCHED,
    ENV_TLS_CERT,
    ENV_TLS_CLIENT_CA,
    ENV_TLS_KEY,
    SCHED_POLICIES,
    TRACKED_PER_REQUEST,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="kubeship")
def cli() -> None:
    """From a Python ASGI service to a production Kubernetes deployment."""


@cli.command()
@click.argument("target")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", "-p", type=int, default=DEFAULT_PORT, show_default=True)
@click.option("--workers", "-w", type=int, default=1, show_default=True, help="Worker processes.")
@click.option(
    "--drain-seconds",
    type=float,
    default=DEFAULT_DRAIN_SECONDS,
    show_default=True,
    help="After SIGTERM, keep serving (readiness 503) this long so endpoints stop sending.",
)
@click.option(
    "--shutdown-timeout",
    type=float,
    default=DEFAULT_SHUTDOWN_TIMEOUT,
    show_default=True,
    help="Then give in-flight requests this long to finish.",
)
@click.option(
    "--max-concurrency",
    type=click.IntRange(1),
    default=DEFAULT_MAX_CONCURRENCY,
    show_default=True,
    help="Requests each worker has in the app at once; more queue "
    "(probes, /metrics and WebSockets do not count). Also sizes the garbage collector's young "
    f"generation ({TRACKED_PER_REQUEST} objects a request) so awaiting requests are not walked by "
    "every collection.",
)
@click.option(
    "--sched",
    type=click.Choice(SCHED_POLICIES),
    envvar=ENV_SCHED,
    default=DEFAULT_SCHED,
    show_default=True,
    help="Linux scheduling policy of the workers' threads: batch stops Granian's I/O thread and the "
    "app's thread preempting each other on every request (about a quarter more requests/s on a busy "
    "core); other is Linux's default.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Config file or ConfigMap directory (sets KUBESHIP_CONFIG_PATH); reloaded on change.",
)
@click.option(
    "--secrets",
    "secrets_path",
    type=click.Path(path_type=Path),
    help="Directory a Secret is mounted at (sets KUBESHIP_SECRETS_PATH).",
)
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path),
    envvar=ENV_TLS_CERT,
    help="Serve HTTPS with this certificate (Granian's TLS; mTLS: Python's ssl); followed when it changes.",
)
@click.option("--tls-key", type=click.Path(path_type=Path), envvar=ENV_TLS_KEY, help="Key of --tls-cert.")
@click.option(
    "--tls-client-ca",
    type=click.Path(path_type=Path),
    envvar=ENV_TLS_CLIENT_CA,
    help="mTLS: every path but /healthz and /readyz needs a client certificate this CA bundle signed.",
)
def serve(
    target: str,
    host: str,
    port: int,
    workers: int,
    drain_seconds: float,
    shutdown_timeout: float,
    max_concurrency: int,
    sched: str,
    config_path: Path | None,
    secrets_path: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
) -> None:
    """Serve TARGET (module:app, any ASGI app) with the kubeship runtime.

    Adds request ids, a JSON access log, recovery, Prometheus metrics at /metrics,
    /healthz and /readyz, CORS and auth (from KUBESHIP_* settings), config hot
    reload, and a graceful drain on SIGTERM.
    """
    from kubeship.runtime.config import Config
    from kubeship.runtime.serve import ServeOptions
    from kubeship.runtime.serve import serve as run
    from kubeship.runtime.settings import ENV_CONFIG_PATH, ENV_SECRETS_PATH

    if config_path is not None:
        Config(path=config_path)  # fail now, with the file position, not in a worker
        os.environ[ENV_CONFIG_PATH] = str(config_path)
    if secrets_path is not None:
        os.environ[ENV_SECRETS_PATH] = str(secrets_path)
    run(
        ServeOptions(
            target=target,
            host=host,
            port=port,
            workers=workers,
            drain_seconds=drain_seconds,
            shutdown_timeout=shutdown_timeout,
            max_concurrency=max_concurrency,
            sched=sched,
            tls_cert=tls_cert,
            tls_key=tls_key,
            tls_client_ca=tls_client_ca,
        )
    )


from kubeship.cli.audit_cmd import audit  # noqa: E402  (after the group exists)
from kubeship.cli.autoscale_cmd import autoscale  # noqa: E402
from kubeship.cli.build_cmd import build, dockerfile, push  # noqa: E402
from kubeship.cli.check_cmd import check  # noqa: E402
from kubeship.cli.deliver_cmd import analyze, deliver  # noqa: E402
from kubeship.cli.observe_cmd import observe  # noqa: E402
from kubeship.cli.pipeline_cmd import pipeline  # noqa: E402
from kubeship.cli.render_cmds import init, render, schema  # noqa: E402
from kubeship.cli.sites_cmd import sites  # noqa: E402

cli.add_command(analyze)
cli.add_command(audit)
cli.add_command(autoscale)
cli.add_command(build)
cli.add_command(check)
cli.add_command(deliver)
cli.add_command(dockerfile)
cli.add_command(init)
cli.add_command(observe)
cli.add_command(pipeline)
cli.add_command(push)
cli.add_command(render)
cli.add_command(schema)
cli.add_command(sites)


TOOLS_MODULES = frozenset(
    {"pydantic", "pydantic_core", "yaml", "numpy", "jsonschema_rs", "kubernetes_validate", "matplotlib"}
)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a KubeshipError becomes one line on stderr and its exit code."""
    try:
        result = cli.main(args=argv, prog_name="kubeship", standalone_mode=False)
    except KubeshipError as exc:
        click.echo(f"kubeship: error: {exc}", err=True)
        return exc.exit_code
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in TOOLS_MODULES:
            raise
        # The runtime-only install (what goes into images) lacks the developer tools.
        click.echo(
            f"kubeship: error: this command needs {exc.name.split('.')[0]}: pip install 'kubeship[tools]'",
            err=True,
        )
        return UsageError.exit_code
    except click.exceptions.Abort:
        click.echo("kubeship: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return result if isinstance(result, int) else 0  # click returns Exit codes it caught itself


if __name__ == "__main__":
    sys.exit(main())
