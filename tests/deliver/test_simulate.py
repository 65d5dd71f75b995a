"""The release rehearsal: its vectorised bookkeeping held to the scalar AnalysisRun, its bisection
shortcut to evaluating every value, and its verdicts to what the rendered analysis must do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kubeship.deliver.analysis import AnalysisRun, Phase
from kubeship.deliver.rehearse import rehearse
from kubeship.deliver.simulate import Traffic, _phases, is_threshold, plan, simulate
from kubeship.render import render
from kubeship.render.analysis import min_requests
from kubeship.spec import load_spec
from tests.conftest import ROOT, run_cli

SEED = ROOT / "examples" / "seed" / "kubeship.yaml"


@pytest.fixture(scope="module")
def seed_plan():  # type: ignore[no-untyped-def]
    spec = load_spec(SEED, "prod")
    objects = render(spec)
    rollout = next(o for o in objects if o["kind"] == "Rollout")
    templates = [o for o in objects if o["kind"] == "AnalysisTemplate"]
    return plan(rollout, templates, window=300), min_requests(spec)


def test_plan_is_the_guides_release(seed_plan) -> None:  # type: ignore[no-untyped-def]
    p, guard = seed_plan
    assert p.interval == 60 and p.window_steps == 5 and guard == 209
    weights = [i.weight for i in p.instants]
    assert weights[:15] == [0.05] * 15 and weights[15:30] == [0.25] * 15 and weights[-1] == 1.0
    assert all(i.background for i in p.instants[:-1])


def test_bisection_gives_every_values_verdict(seed_plan) -> None:  # type: ignore[no-untyped-def]
    p, _ = seed_plan
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.uniform(0, 0.03, 3000), [0.0144, np.nan, 0.01440001]])
    present = rng.random(len(values)) > 0.1
    for metric in p.background:
        assert is_threshold(metric)
        assert (_phases(metric, present, values) == _phases(metric, present, values, bisect=False)).all()


def test_vectorised_runs_match_the_scalar_analysis_run(seed_plan) -> None:  # type: ignore[no-untyped-def]
    """Replay each trial's recorded measurements through AnalysisRun: same verdict, same moment."""
    p, guard = seed_plan
    for error_rate, rps in ((0.02, 100), (0.0005, 20), (0.012, 300)):
        traffic = Traffic(rps, error_rate, 0.005, 0.0005, 0.005)
        out = simulate(p, traffic, guard, trials=40, seed=7, record=True)
        for t in range(40):
            run = AnalysisRun(list(p.background))
            k = 0
            while k < len(p.instants) - 1 and not run.phase.completed:

                def measure(m, now, k=k, t=t, out=out):  # type: ignore[no-untyped-def]
                    v = out.values[m.name][t, k]
                    return ([] if np.isinf(v) else [float(v)]), ""

                run.reconcile(k * p.interval, measure)
                k += 1
            expected = {Phase.FAILED: 1, Phase.INCONCLUSIVE: 2, Phase.ERROR: 3}.get(run.phase, 0)
            assert out.status[t] == expected, (error_rate, rps, t, run.phase)
            if run.phase.completed:
                assert out.at[t] == (k - 1) * p.interval


@pytest.mark.parametrize("rps", [100, 1000])
def test_seed_canary_catches_a_bad_version_and_keeps_a_good_one(rps: int) -> None:
    report = rehearse(load_spec(SEED, "prod"), rps, 0.1, "0s", trials=2000)
    bad, good = report.bad_summary, report.good_summary
    assert bad.aborted > 0.99 and bad.detect_p95 is not None and bad.detect_p95 <= 180
    assert good.aborted < 0.01 and good.promoted > 0.99
    assert bad.hurt_p50 < 0.1 * 0.05 * rps * 180  # at most three minutes of 5 % weight at 10 % errors


def test_idle_canary_is_never_promoted() -> None:
    report = rehearse(load_spec(SEED, "prod"), 1, 0.0, "0s", trials=200)  # 1 req/s: under the guard
    assert report.good_summary.promoted == 0 and report.good_summary.paused == 1


def test_cli_json_and_plot(tmp_path: Path) -> None:
    result = run_cli(
        "deliver", "simulate", "-f", str(SEED), "--env", "prod", "--rps", "100", "--trials", "500",
        "--plot", str(tmp_path / "r.png"), "--format", "json", cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["bad"]["aborted"] == 1.0 and (tmp_path / "r.png").stat().st_size > 10_000
    for bad in (
        ["--rps", "100"],
        ["--env", "prod", "--rps", "100", "--latency", "soon"],
        ["--env", "prod", "--rps", "0"],
        ["--env", "prod", "--rps", "9", "--trials", "10000000"],
    ):
        refused = run_cli("deliver", "simulate", "-f", str(SEED), *bad, cwd=ROOT)  # no delivery outside prod
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr  # fmt: skip
