"""`kubeship analyze` and `kubeship deliver simulate`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kubeship.cli.params import key_values
from kubeship.errors import UsageError

if TYPE_CHECKING:
    from kubeship.deliver.analysis import AnalysisRun, Measurement, Metric

# The run's final phase as an exit code, so CI can gate on it (0 = Successful).
MAX_TRIALS = 200_000  # ≈ 1 GB of simulated counts; far past where the percentages stop moving
PHASE_EXIT = {"Successful": 0, "Failed": 10, "Error": 11, "Inconclusive": 12, "Running": 13}


@click.command()
@click.argument("template_file", type=click.Path(path_type=Path))
@click.option("--prometheus", "url", help="Prometheus base URL (default: each metric's provider address).")
@click.option("--arg", "arg_pairs", multiple=True, metavar="NAME=VALUE", help="A template argument.")
@click.option("--template", "name", help="Which template, when the file holds several.")
@click.option("--once", is_flag=True, help="One measurement of each metric, now, then the verdict.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def analyze(
    template_file: Path, url: str | None, arg_pairs: tuple[str, ...], name: str | None, once: bool, fmt: str
) -> int:
    """Run an AnalysisTemplate's Prometheus metrics as Argo Rollouts would, against a real Prometheus.

    Same semantics as the controller: count, interval, initialDelay, failureLimit,
    inconclusiveLimit, consecutiveErrorLimit (errors retried after 10 s), dryRun,
    the condition language. Exit code by the run's phase: 0 Successful, 10 Failed,
    11 Error, 12 Inconclusive.
    """
    from kubeship.analyze import load_template, prepare, prometheus_measure, run

    metrics = prepare(load_template(template_file, name), key_values(arg_pairs, "--arg"), once=once)
    start = time.time()

    def progress(metric: Metric, m: Measurement) -> None:
        shown = m.value if m.phase.value != "Error" else m.message
        click.echo(f"[{m.started_at - start:+6.0f}s] {metric.name:<24} {m.phase.value:<12} {shown}", err=True)

    result = run(metrics, prometheus_measure(url), on_measurement=progress)
    if fmt == "json":
        sys.stdout.write(json.dumps(_as_json(result, start), indent=2) + "\n")
    else:
        click.echo(_table(result))
    return PHASE_EXIT[result.phase.value]


def _as_json(run: AnalysisRun, start: float) -> dict[str, Any]:
    return {
        "phase": run.phase.value,
        "message": run.message,
        "metrics": [
            {
                "name": r.name,
                "phase": r.phase.value,
                "dryRun": next(m.dry_run for m in run.metrics if m.name == r.name),
                "count": r.count,
                "successful": r.successful,
                "failed": r.failed,
                "inconclusive": r.inconclusive,
                "error": r.error,
                "consecutiveError": r.consecutive_error,
                "measurements": [
                    {
                        "at": round(m.started_at - start, 3),
                        "phase": m.phase.value,
                        "value": m.value,
                        "message": m.message,
                    }
                    for m in r.measurements
                ],
            }
            for r in run.results.values()
        ],
    }


def _table(run: AnalysisRun) -> str:
    rows = [["METRIC", "PHASE", "COUNT", "OK", "FAILED", "INCONCL.", "ERRORS", "LAST VALUE"]]
    for r in run.results.values():
        last = r.measurements[-1] if r.measurements else None
        counts = [str(x) for x in (r.count, r.successful, r.failed, r.inconclusive, r.error)]
        rows.append([r.name, r.phase.value, *counts, (last.value or last.message) if last else ""])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    ]
    verdict = f"AnalysisRun {run.phase.value}" + (f": {run.message}" if run.message else "")
    return "\n".join([*lines, "", verdict])


@click.group()
def deliver() -> None:
    """Progressive delivery: rehearse a release before it happens."""


@deliver.command("simulate")
@click.option(
    "-f", "--file", "spec_path", type=click.Path(path_type=Path), default="kubeship.yaml", show_default=True
)
@click.option("--env", help="Apply environments.<ENV> from the spec.")
@click.option("--rps", type=float, required=True, help="Requests per second the service receives.")
@click.option("--error-rate", type=float, default=0.1, show_default=True, help="The bad version's 5xx share.")
@click.option(
    "--latency", default="0s", show_default=True, help="How much slower the bad version is (e.g. 200ms)."
)
@click.option("--trials", type=int, default=10_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--plot", type=click.Path(path_type=Path), help="Draw weight, error ratio and verdict to a PNG."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def simulate_cmd(
    spec_path: Path,
    env: str | None,
    rps: float,
    error_rate: float,
    latency: str,
    trials: int,
    seed: int,
    plot: Path | None,
    fmt: str,
) -> None:
    """Rehearse the spec's canary: how fast a bad version is rolled back, how many users it hurts,
    and how often a good version is rolled back by noise (each over --trials simulated releases)."""
    from kubeship.deliver.rehearse import rehearse
    from kubeship.spec import load_spec

    if not 0 <= error_rate <= 1 or not 0 < rps < 1e9 or not 1 <= trials <= MAX_TRIALS:
        raise UsageError(
            f"--error-rate is a share from 0 to 1, --rps a rate above 0, --trials 1 to {MAX_TRIALS:,}"
        )
    report = rehearse(load_spec(spec_path, env), rps, error_rate, latency, trials, seed)
    if plot is not None:
        from kubeship.deliver.plot import draw

        draw(report, plot)
        click.echo(f"wrote {plot}", err=True)
    if fmt == "json":
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        click.echo(report.text())
