"""`kubeship autoscale decide`: the HPA's decision for a snapshot, as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kubeship.errors import UsageError


@click.group()
def autoscale() -> None:
    """The Kubernetes HPA algorithm, offline."""


@autoscale.command()
@click.argument("snapshot", type=click.Path(path_type=Path, allow_dash=True))
def decide(snapshot: Path) -> None:
    """Print the HPA decision for SNAPSHOT (JSON; - for stdin): desiredReplicas, conditions,
    currentMetrics and the controller's updated memory, to feed into the next snapshot."""
    from kubeship.autoscale.decide import SnapshotError
    from kubeship.autoscale.decide import decide as run

    try:
        text = sys.stdin.read() if str(snapshot) == "-" else snapshot.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{snapshot}: cannot read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{snapshot}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{snapshot}: expected a JSON object (see `kubeship autoscale decide --help`)")
    try:
        result = run(data)
    except SnapshotError as exc:
        raise UsageError(f"{snapshot}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{snapshot}: unexpected shape ({type(exc).__name__}: {exc})") from None
    click.echo(json.dumps(result, indent=2))
