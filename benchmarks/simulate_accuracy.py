"""Simulator accuracy: the P99 `kubeship autoscale simulate` predicts against the real service's.

Runs `kubeship autoscale measure` on the seed's /work endpoint (sync, CPU-bound) at 1, 2 and 4
workers (wrk ladder, service times, a calibration run of Poisson arrivals at half the capacity for the
CPU a request costs under load, then `--rounds` of `--open-seconds` of the same arrivals, pooled),
then replays a flat trace (a step from the rate to itself) at each
measured arrival rate through `kubeship autoscale simulate --measured` (one pod, that many workers,
the cores it ran on) and prints the simulator's P99 beside the measured one, with M/M/c's (the
model without --measured) for comparison.

Goal: the simulator within ±15 % of the measured P99 at 1, 2 and 4 workers.

usage: python benchmarks/simulate_accuracy.py [--rounds 3] [--open-seconds 30] [--path /work?n=5000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from kubeship.autoscale.capacity import drift_warning

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.15


def kubeship(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kubeship", *args], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    if result.returncode != 0:
        sys.exit(f"kubeship {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def _cpu(cost: dict[str, float] | None, rounds: float | None) -> str:
    if not cost:
        return "–"
    return f"{cost['alone'] * 1000:.2f}/{cost['loaded'] * 1000:.2f}/{(rounds or 0) * 1000:.2f}ms"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="each wrk run")
    parser.add_argument("--open-seconds", type=float, default=30.0, help="each open-loop round")
    parser.add_argument("--path", default="/work?n=5000")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--keep", type=Path, help="Write the measurement's JSON here too.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "measured.json"
        kubeship(
            "autoscale", "measure", "app:app", "--cwd", "examples/ping", "--path", args.path,
            "--workers", args.workers, "--connections", "1,2,4,8", "--seconds", str(args.seconds),
            "--open-seconds", str(args.open_seconds), "--rounds", str(args.rounds), "-o", str(out),
        )  # fmt: skip
        report = json.loads(out.read_text())
        cpu = report.get("cpuSeconds", {})
        during = {r["workers"]: r["cores"] / r["rps"] for r in report["openLoopRuns"] if r["rps"] > 0}
        print(f"{'workers':>7}  {'CPU alone/load/rounds':>21}  {'req/s':>6}  {'requests':>8}  "
              f"{'measured':>9}  {'rounds':>13}  {'simulate':>9}  {'error':>6}  "
              f"{'model over runs this long':>25}  {'M/M/c':>8}  {'error':>6}  goal ±{GOAL:.0%}")  # fmt: skip
        misses, warnings = 0, []
        for check in report["checks"]:
            workers, rate = check["workers"], check["arrivalRps"]
            cores = min(workers, report["cores"])
            common = (
                "autoscale", "simulate", "--trace", "step", "--seconds", "120", "--base", f"{rate}",
                "--peak", f"{rate}", "--min", "1", "--max", "1", "--cpu-request", f"{cores}",
                "--cpu-limit", f"{cores}", "--workers", str(workers), "--format", "json",
            )  # fmt: skip
            simulated = json.loads(kubeship(*common, "--measured", str(out)))
            mmc = json.loads(kubeship(*common, "--rps-per-core", str(report["fit"]["rps_per_core"])))
            predicted = next(iter(simulated.values()))["p99_latency_max"]
            plain = next(iter(mmc.values()))["p99_latency_max"]
            measured = check["p99Measured"]
            error, plain_error = predicted / measured - 1, plain / measured - 1
            met = abs(error) <= GOAL
            misses += not met
            low, _, high = check["p99ModelBand"]
            band = f"{low * 1000:.0f}–{high * 1000:.0f} ms ({'in' if low <= measured <= high else 'out'})"
            rounds = check["p99Rounds"]
            spread = f"{min(rounds) * 1000:.0f}–{max(rounds) * 1000:.0f} ms" if rounds else "–"
            cost = cpu.get(str(workers))
            if (warning := drift_warning(check)) is not None:
                warnings.append(warning)
            print(
                f"{workers:>7}  {_cpu(cost, during.get(workers)):>21}  {rate:>6.0f}  "
                f"{check['requests']:>8,}  {measured * 1000:>7.1f}ms  "
                f"{spread:>13}  {predicted * 1000:>7.1f}ms  {error:>+6.0%}  {band:>25}  "
                f"{plain * 1000:>6.1f}ms  {plain_error:>+6.0%}  {'met' if met else 'MISSED'}"
            )
        print(
            "(CPU: the server's a request, served alone, under the same Poisson arrivals in a\n"
            " calibration run, and during the measured rounds; the pod model's requests occupy the\n"
            " core for the second, the rest of their time alone (network, client) delays only\n"
            " their own response;\n"
            " rounds: each measured round's own P99, lowest–highest: the same load measured again;\n"
            " model over runs this long: where the pod model's own P99 lands, 10-90 %, over runs of\n"
            " as many requests as were measured: a P99 follows a run's longest busy periods)"
        )
        for warning in warnings:
            print(warning)
    return 0 if not misses else 1


if __name__ == "__main__":
    raise SystemExit(main())
