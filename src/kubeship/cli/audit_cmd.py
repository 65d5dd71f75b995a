"""`kubeship audit verify`: is the audit trail whole?"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import orjson

from kubeship.errors import ConfigError, UsageError

# 0: every chain verifies; 1: a record was edited, deleted, reordered or the tail cut.
TAMPERED_EXIT = 1


@click.group()
def audit() -> None:
    """The audit trail of sensitive operations (spec: audit)."""


@audit.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write here instead of stdout.")
def policy(output: Path | None) -> None:
    """The API server's audit Policy (audit.k8s.io/v1) for the cluster's sensitive operations.

    Secrets at Metadata only, RBAC changes and namespace/volume deletions at
    RequestResponse, exec/attach at Metadata; the kube-apiserver flags that keep
    the log 180 days are in the header.
    """
    from kubeship.render.cluster_audit import apiserver_flags
    from kubeship.render.cluster_audit import policy as make_policy
    from kubeship.render.output import to_yaml

    header = "# kube-apiserver flags (static pod manifest or your distribution's config):\n"
    header += "".join(f"#   {flag}\n" for flag in apiserver_flags())
    text = header + to_yaml([make_policy()])
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}", err=True)


@audit.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--key-file",
    "key_files",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="The chain's HMAC key (the mounted Secret's file); repeat for keys rotated meanwhile.",
)
@click.option(
    "--checkpoints",
    "log_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="The service's own log (JSON lines): its 'audit checkpoint' events must all be in FILES.",
)
@click.option("--live", is_flag=True, help="The writers still run: a chain without its close record is fine.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify(
    files: tuple[Path, ...], key_files: tuple[Path, ...], log_files: tuple[Path, ...], live: bool, fmt: str
) -> int:
    """Verify the hash chains in FILES; name the first bad record of each chain and its line.

    Exit codes: 0 every chain intact; 1 a record edited, deleted, reordered,
    added after close, or a tail cut (no close record, or a checkpoint from the
    log missing); 2 usage; 3 a key or audit file that cannot be read.
    """
    from kubeship.runtime.audit import read_lines
    from kubeship.runtime.audit import verify as check_chains
    from kubeship.runtime.secrets import read_secret

    keys = [read_secret(k).reveal().strip().encode() for k in key_files]
    for path in files + log_files:
        if not path.is_file():
            raise ConfigError(f"{path}: file not found")
    checkpoints = []
    for _, _, raw in read_lines(log_files):
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # a log holds more than JSON events
        if isinstance(event, dict) and event.get("msg") == "audit checkpoint":
            checkpoints.append(event)
    if log_files and not checkpoints:
        raise UsageError(
            f"{', '.join(map(str, log_files))}: no 'audit checkpoint' events; is it the service's log?"
        )
    verdict = check_chains(read_lines(files), keys, checkpoints=checkpoints, live=live)
    if fmt == "json":
        out = {
            "ok": verdict.ok,
            "records": verdict.records,
            "chains": verdict.chains,
            "open_chains": verdict.open_chains,
            "duplicates": verdict.duplicates,
            "checkpoints": len(checkpoints),
            "problems": [{"where": p.where, "message": p.message} for p in verdict.problems],
        }
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        for p in verdict.problems:
            click.echo(f"{p.where + ': ' if p.where else ''}{p.message}")
        state = "intact" if verdict.ok else f"{len(verdict.problems)} problem(s)"
        compared = f", {len(checkpoints)} checkpoint(s) from the log" if log_files else ""
        copies = f" ({verdict.duplicates} delivered twice, identical)" if verdict.duplicates else ""
        click.echo(
            f"{verdict.records} records in {verdict.chains} chain(s){compared}{copies}: {state}",
            err=not verdict.ok,
        )
    return 0 if verdict.ok else TAMPERED_EXIT
