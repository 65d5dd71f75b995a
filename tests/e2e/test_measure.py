"""`kubeship autoscale measure` against the real example service under `kubeship serve`, with wrk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeship.measure import parse_wrk
from tests.conftest import ROOT, run_cli
from tests.observe.conftest import tool

pytestmark = pytest.mark.e2e

WRK_OUTPUT = """\
Running 3s test @ http://127.0.0.1:8080/work?n=2000
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    31.21ms    5.10ms  60.30ms   80.00%
  Latency Distribution
     50%   30.10ms
     75%   33.00ms
     90%   37.50ms
     99%    1.05s
  754 requests in 3.01s, 120.31KB read
  Non-2xx or 3xx responses: 3
Requests/sec:    250.50
Transfer/sec:     39.97KB
"""


def test_wrk_output_is_parsed_with_units() -> None:
    rps, p50, p99, failed = parse_wrk(WRK_OUTPUT)
    assert (rps, failed) == (250.5, 3)
    assert p50 == pytest.approx(0.0301) and p99 == pytest.approx(1.05)


def test_measure_fits_the_example_and_checks_the_model(tmp_path: Path) -> None:
    tool("wrk")
    out = tmp_path / "measure.json"
    result = run_cli(
        "autoscale", "measure", "app:app", "--path", "/work?n=2000", "--workers", "1,2",
        "--connections", "1,4", "--seconds", "2", "--open-seconds", "2", "--rounds", "2",
        "--cwd", str(ROOT / "examples" / "ping"), "-o", str(out), cwd=ROOT, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    fit = report["fit"]
    assert fit["rps_per_core"] > 0 and fit["capacity_rps"] > 0 and fit["cores_at_capacity"] > 0
    runs = report["runs"]
    assert [(r["workers"], r["connections"]) for r in runs] == [(1, 1), (1, 4), (2, 1), (2, 4)]
    assert all(r["rps"] > 0 and r["p99"] > 0 for r in runs + report["openLoopRuns"])
    # Requests served alone, per worker count: the distribution the pod model replays.
    for count in ("1", "2"):
        alone = report["serviceSeconds"][count]
        assert len(alone) == 200 and alone == sorted(alone) and alone[0] > 0
        # the server's CPU a request, alone and under Poisson arrivals (a calibration run)
        cost = report["cpuSeconds"][count]
        assert 0 < cost["alone"] < alone[-1] and 0 < cost["loaded"] < 10 * alone[-1]
    # The checks hold the models against the runs: capacity = req/s per core x the cores the busiest
    # run used; P99 by the pod model and by M/M/c. (How close they come depends on the machine:
    # benchmarks/simulate_accuracy.py and the README.)
    for check in report["checks"]:
        top = max((r for r in runs if r["workers"] == check["workers"]), key=lambda r: r["rps"])
        assert check["capacityMeasured"] == top["rps"]
        assert check["capacityPredicted"] == pytest.approx(fit["rps_per_core"] * top["cores"])
        assert check["p99Measured"] > 0 and check["p99Predicted"] > 0 and check["p99MMc"] > 0
        assert check["p99Error"] == pytest.approx(check["p99Predicted"] / check["p99Measured"] - 1)
        assert check["requests"] > 0 and check["requests"] == round(check["arrivalRps"] * 4)
        # each of the 2 rounds' own P99 (the spread of measuring again), the pooled one among them
        assert len(check["p99Rounds"]) == 2 and all(p > 0 for p in check["p99Rounds"])
        # the rounds' CPU a request against the calibration's: how far the machine's speed moved
        assert -1 < check["cpuDrift"] < 10
    assert "pod model" in result.stderr and "requests, P99" in result.stderr and "(rounds " in result.stderr
    assert "a request; under load" in result.stderr
    sim = run_cli(
        "autoscale", "simulate", "--trace", "step", "--seconds", "600", "--measured", str(out),
        "--workers", "2", cwd=ROOT,
    )  # fmt: skip
    assert sim.returncode == 0, sim.stderr


def test_a_failing_path_is_refused(tmp_path: Path) -> None:
    tool("wrk")
    result = run_cli(
        "autoscale", "measure", "app:app", "--path", "/work?n=0", "--workers", "1", "--connections", "1",
        "--seconds", "1", "--cwd", str(ROOT / "examples" / "ping"), cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "responses were not 2xx/3xx: measure a path that succeeds" in result.stderr
