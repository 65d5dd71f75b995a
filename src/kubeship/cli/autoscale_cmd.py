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


def _decide(snapshot: Path, hpa_file: Path | None = None) -> dict[str, object]:
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
    if hpa_file is not None:
        data["horizontalPodAutoscaler"] = _hpa_from(hpa_file)
    try:
        return run(data)
    except SnapshotError as exc:
        raise UsageError(f"{snapshot}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{snapshot}: unexpected shape ({type(exc).__name__}: {exc})") from None


def _hpa_from(path: Path) -> dict[str, object]:
    """The HPA of a kubeship.yaml (rendered) or the first HorizontalPodAutoscaler in a manifest."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not YAML ({exc})") from None
    for doc in docs:
        if doc.get("kind") == "HorizontalPodAutoscaler":
            return doc
    if docs and "apiVersion" not in docs[0]:  # a kubeship.yaml
        from kubeship.render.scaling import hpa
        from kubeship.spec import load_spec

        rendered = hpa(load_spec(path))
        if rendered is not None:
            return rendered
        raise UsageError(f"{path}: the spec has no autoscaling: section")
    raise UsageError(f"{path}: no HorizontalPodAutoscaler in it")


@autoscale.command()
@click.argument("snapshot", type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "--hpa", "hpa_file", type=click.Path(path_type=Path), help="Use this HPA (manifest or kubeship.yaml)."
)
def decide(snapshot: Path, hpa_file: Path | None) -> None:
    """Print the HPA decision for SNAPSHOT (JSON; - for stdin): desiredReplicas, conditions,
    currentMetrics and the controller's updated memory, to feed into the next snapshot."""
    click.echo(json.dumps(_decide(snapshot, hpa_file), indent=2))


@autoscale.command()
@click.argument("snapshot", type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "--hpa", "hpa_file", type=click.Path(path_type=Path), help="Explain this HPA (manifest or kubeship.yaml)."
)
def explain(snapshot: Path, hpa_file: Path | None) -> None:
    """Explain the decision for SNAPSHOT step by step: per metric the ratio and the pods left out,
    the winning proposal, the stabilization window and the limit that applied."""
    from kubeship.autoscale.explain import explain as words

    click.echo(words(_decide(snapshot, hpa_file)), nl=False)


@autoscale.command()
@click.option(
    "--trace", required=True, help="step | ramp | diurnal | flash, or a CSV file of timestamp,rps rows."
)
@click.option("--seconds", type=int, default=3600, show_default=True, help="Length of a built-in trace.")
@click.option(
    "--base", type=float, default=100.0, show_default=True, help="Built-in trace: requests/s at rest."
)
@click.option(
    "--peak", type=float, default=1500.0, show_default=True, help="Built-in trace: requests/s at peak."
)
@click.option("--rps-per-core", type=float, required=True, help="Requests/s one core serves (measure it).")
@click.option("--cpu-request", type=float, default=0.5, show_default=True, help="Cores requested per pod.")
@click.option("--cpu-limit", type=float, default=None, help="Cores a pod may use (default: one).")
@click.option(
    "--startup", type=float, default=20.0, show_default=True, help="Seconds from creation to ready."
)
@click.option("--min", "min_replicas", type=int, default=2, show_default=True)
@click.option("--max", "max_replicas", type=int, default=10, show_default=True)
@click.option("--target", type=int, default=50, show_default=True, help="Target CPU utilization, %.")
@click.option("--slo-p99", type=float, default=0.3, show_default=True, help="P99 latency objective, seconds.")
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Write series.csv and summary.json here."
)
def simulate(
    trace: str, seconds: int, base: float, peak: float, rps_per_core: float, cpu_request: float,
    cpu_limit: float | None, startup: float, min_replicas: int, max_replicas: int, target: int,
    slo_p99: float, out_dir: Path | None,
) -> None:  # fmt: skip
    """Replay a load trace through the HPA and print what it would do (replicas, latency, cost)."""
    import numpy as np

    from kubeship.autoscale.simulate import Autoscaler, Workload, synthetic
    from kubeship.autoscale.simulate import simulate as run
    from kubeship.autoscale.traces import TraceError, parse_csv

    if min_replicas < 1 or min_replicas > max_replicas:
        raise UsageError(f"--min {min_replicas} / --max {max_replicas}: need 1 ≤ min ≤ max")
    if rps_per_core <= 0 or cpu_request <= 0 or not 1 <= target <= 1000:
        raise UsageError("--rps-per-core and --cpu-request must be > 0, --target 1-1000")
    try:
        if trace in ("step", "ramp", "diurnal", "flash"):
            load = synthetic(trace, seconds, base, peak)
        else:
            load = parse_csv(Path(trace).read_text(encoding="utf-8"), trace)
    except OSError as exc:
        raise UsageError(f"{trace}: cannot read ({exc.strerror})") from None
    except TraceError as exc:
        raise UsageError(str(exc)) from None
    workload = Workload(rps_per_core, cpu_request, cpu_limit, startup)
    result = run(load, workload, Autoscaler(min_replicas, max_replicas, target))
    summary = result.summary(slo_p99)
    click.echo(json.dumps(summary, indent=2))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        series = np.column_stack(
            [np.arange(len(load)), result.load, result.replicas, result.ready, result.utilization,
             result.p99_latency, result.over_capacity]
        )  # fmt: skip
        header = "second,load_rps,replicas,ready,utilization_pct,p99_latency_s,over_capacity_rps"
        np.savetxt(out_dir / "series.csv", series, delimiter=",", header=header, comments="", fmt="%.6g")
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        click.echo(f"wrote {out_dir}/series.csv and summary.json", err=True)
