"""The simulator: the control loop's timing, bounds, determinism and the queueing model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from kubeship.autoscale.latency import CpuCost, pod_latency
from kubeship.autoscale.normalize import Behavior, Policy, Rules
from kubeship.autoscale.simulate import (
    Autoscaler,
    ControlLoop,
    Workload,
    mmc_p99,
    mmc_p99_many,
    simulate,
    synthetic,
)

WORK = Workload(rps_per_core=200, cpu_request=0.5, cpu_limit=1.0, startup_seconds=20)
HPA = Autoscaler(min_replicas=2, max_replicas=20, target_utilization=50)


def test_step_load_scales_up_after_the_metrics_delay_within_bounds() -> None:
    load = synthetic("step", 1800, 100, 1500)  # the step comes at t=600
    result = simulate(load, WORK, HPA)
    first_second, first_replicas = result.decisions[0]
    assert 600 + ControlLoop().metrics_delay <= first_second <= 600 + 2 * ControlLoop().sync_period + 15
    assert first_replicas <= max(2 * 2, 4)  # the legacy cap: max(2 × current, 4)
    assert result.replicas.min() >= 2 and result.replicas.max() <= 20
    assert result.ready[-1] * WORK.pod_capacity >= 1500  # it caught up with the load


def test_new_pods_serve_only_after_their_startup_delay() -> None:
    result = simulate(synthetic("step", 900, 100, 1500), WORK, HPA)
    t, replicas = result.decisions[0]
    assert result.ready[t + 5] < replicas <= result.ready[t + int(WORK.startup_seconds) + 1]


def test_constant_low_load_stays_at_the_minimum() -> None:
    result = simulate(np.full(1200, 50.0), WORK, HPA)
    assert result.decisions == [] and set(result.replicas) == {2.0}


def test_same_trace_same_answer() -> None:
    load = synthetic("flash", 3600, 100, 2500)
    a, b = simulate(load, WORK, HPA), simulate(load, WORK, HPA)
    assert a.decisions == b.decisions and np.array_equal(a.p99_latency, b.p99_latency)


def test_behavior_policies_slow_the_scale_up() -> None:
    slow = Autoscaler(2, 20, 50, behavior=Behavior(scale_up=Rules(policies=(Policy("Pods", 1, 60),))))
    load = synthetic("step", 1800, 100, 1500)
    assert simulate(load, WORK, slow).decisions[0][1] == 3  # one pod per minute at most
    assert len(simulate(load, WORK, slow).decisions) > len(simulate(load, WORK, HPA).decisions)


@pytest.mark.parametrize("bad", [np.array([]), np.array([1.0, -2.0]), np.array([1.0, np.nan])])
def test_bad_traces_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="trace"):
        simulate(bad, WORK, HPA)


def test_mmc_matches_known_values_and_the_vector_form() -> None:
    # one server (M/M/1): response time is exponential with rate mu - lambda
    assert mmc_p99(50, 1, 100) == pytest.approx(math.log(100) / 50, rel=1e-9)
    assert mmc_p99(100, 1, 100) == 10.0  # cannot keep up
    arrivals = np.array([0.0, 10.0, 150.0, 199.0, 250.0])
    assert np.allclose(mmc_p99_many(arrivals, 2, 100), [mmc_p99(x, 2, 100) for x in arrivals])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,rps\n0,10\n1,abc\n", "trace.csv:3: not numbers"),
        ("0,10\n1,-5\n", "trace.csv:2: requests per second must be ≥ 0"),
        ("0,10\n2,10\n", "trace.csv:2: gap of 2 s after 0"),
        ("5,10\n4,10\n", "trace.csv:2: timestamp 4 is not after 5; sort the trace"),
        ("0\n", "trace.csv:1: expected 'timestamp,rps'"),
        ("timestamp,rps\n", "trace.csv: no rows"),
    ],
)
def test_bad_trace_rows_are_named(text: str, message: str) -> None:
    from kubeship.autoscale.traces import TraceError, parse_csv

    with pytest.raises(TraceError) as info:
        parse_csv(text)
    assert str(info.value).startswith(message)


def test_cli_simulate_writes_series_and_summary(tmp_path: object) -> None:
    import json
    from pathlib import Path

    from tests.conftest import ROOT, run_cli

    out = Path(str(tmp_path)) / "sim"
    result = run_cli("autoscale", "simulate", "--trace", "step", "--seconds", "900", "--rps-per-core", "200",
                     "--max", "20", "--out", str(out), "--format", "json", cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["hpa"]
    assert summary["seconds"] == 900 and summary["max_replicas"] > 2
    assert (out / "series.csv").read_text().startswith("second,load_rps,replicas")
    trace = Path(str(tmp_path)) / "t.csv"
    trace.write_text("0,10\n2,10\n")
    bad = run_cli("autoscale", "simulate", "--trace", str(trace), "--rps-per-core", "200", cwd=ROOT)
    assert bad.returncode == 2 and "gap of 2 s" in bad.stderr and "Traceback" not in bad.stderr


def test_hpa_objects_become_simulator_configs() -> None:
    from kubeship.autoscale.simulate import autoscaler_from_hpa
    from kubeship.render.scaling import hpa
    from kubeship.spec import parse_spec

    spec = parse_spec(
        'name: w\nversion: "1"\nimage: {name: w, tag: "1"}\n'
        "autoscaling: {minReplicas: 3, maxReplicas: 12, cpu: 65, memory: 200Mi,\n"
        "  behavior: {scaleUp: {policies: [{type: Pods, value: 2, periodSeconds: 30}]}}}\n"
    )
    config = autoscaler_from_hpa(hpa(spec))  # type: ignore[arg-type]
    assert (config.min_replicas, config.max_replicas, config.target_utilization) == (3, 12, 65)
    assert config.behavior is not None and config.behavior.scale_up.policies[0].value == 2  # type: ignore[index]
    memory_only = {"spec": {"maxReplicas": 4, "metrics": [{"type": "Resource", "resource": {
        "name": "memory", "target": {"type": "AverageValue", "averageValue": "200Mi"}}}]}}  # fmt: skip
    with pytest.raises(ValueError, match="models CPU"):
        autoscaler_from_hpa(memory_only)
    target = {"type": "Utilization", "averageUtilization": 60}
    metric = {
        "type": "ContainerResource",
        "containerResource": {"name": "cpu", "container": "web", "target": target},
    }
    container = {"spec": {"maxReplicas": 4, "metrics": [metric]}}
    assert autoscaler_from_hpa(container).target_utilization == 60


def test_recommend_finds_the_cheapest_config_that_meets_the_slo() -> None:
    from kubeship.autoscale.recommend import recommend

    load = synthetic("ramp", 1800, 100, 1200)
    workload = Workload(400, 1.0, 1.0, 20)  # one core requested and allowed: 90 % means queueing
    base = Autoscaler(2, 10, 90)  # too hot: P99 suffers while it scales
    assert simulate(load, workload, base).summary(0.05)["slo_seconds_violated"] > 0
    ranked = recommend(load, workload, base, 0.05, budget=0.0)
    meeting = [c for c in ranked if c.meets(len(load), 0.0)]
    assert meeting and ranked[0] == min(meeting, key=lambda c: c.pod_hours)
    assert ranked[0].target < 90
    # the winner really meets it when replayed on its own
    from dataclasses import replace

    from kubeship.autoscale.recommend import BEHAVIORS

    best = ranked[0]
    again = simulate(
        load, workload,
        replace(base, target_utilization=best.target, min_replicas=best.min_replicas,
                behavior=BEHAVIORS[best.behavior]),
    ).summary(0.05)  # fmt: skip
    assert again["slo_seconds_violated"] == 0 and again["pod_hours"] == best.pod_hours


def test_cli_compares_configs_and_plots(tmp_path: object) -> None:
    import json
    from pathlib import Path

    from tests.conftest import ROOT, run_cli

    out = Path(str(tmp_path))
    alt = out / "alt.yaml"
    alt.write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
        "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
        "  minReplicas: 4\n  maxReplicas: 20\n  metrics:\n  - type: Resource\n"
        "    resource: {name: cpu, target: {type: Utilization, averageUtilization: 40}}\n"
    )
    result = run_cli(
        "autoscale", "simulate", "--trace", "step", "--seconds", "1200", "--rps-per-core", "400",
        "-f", str(ROOT / "examples" / "seed" / "kubeship.yaml"), "--hpa", str(alt),
        "--plot", str(out / "sim.png"), "--out", str(out / "series"), "--format", "json", cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summaries = json.loads(result.stdout)
    assert list(summaries) == ["web", "alt"]
    assert summaries["alt"]["pod_hours"] > summaries["web"]["pod_hours"]  # min 4 costs more than min 2
    assert "pod-hours" in result.stderr and "SLO: P99 ≤ 300 ms" in result.stderr  # the seed's latency SLO
    assert (out / "sim.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "series" / "series-alt.csv").exists()
    memory = out / "mem.yaml"
    memory.write_text(
        alt.read_text().replace(
            "name: cpu, target: {type: Utilization, averageUtilization: 40}",
            "name: memory, target: {type: AverageValue, averageValue: 1Gi}",
        )
    )
    bad = run_cli(
        "autoscale", "simulate", "--trace", "step", "--rps-per-core", "400", "--hpa", str(memory), cwd=ROOT
    )
    assert bad.returncode == 2 and "models CPU" in bad.stderr
    broken = out / "broken.yaml"
    broken.write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\nspec: {}\n"
    )
    for command in (
        ["autoscale", "simulate", "--trace", "step", "--rps-per-core", "400", "--hpa", str(broken)],
        ["autoscale", "explain", "--prometheus", "http://127.0.0.1:9", "--hpa", str(broken)],
    ):
        result = run_cli(*command, cwd=ROOT)
        assert result.returncode == 2 and "needs spec.maxReplicas" in result.stderr
        assert "Traceback" not in result.stderr


def test_the_default_summary_is_words_that_explain_themselves() -> None:
    """A CPU average above the target, unexplained in JSON, is said with its cause."""
    from tests.conftest import ROOT, run_cli

    result = run_cli("autoscale", "simulate", "--trace", "step", "--seconds", "1200", "--rps-per-core", "400",
                     "-f", str(ROOT / "examples" / "seed" / "kubeship.yaml"), cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("web: HPA 2-10 pods at CPU 50 % of the request (0.25 core)")
    assert "above target:" in text and "at maxReplicas 10" in text
    assert "over the SLO (P99 ≤ 300 ms)" in text and "{" not in text


def test_measured_service_times_replace_m_m_c_with_the_pod_model() -> None:
    """With `latency`, each ready pod takes its share of the load through the pod model; nothing
    else (pods, utilization, over-capacity) changes."""
    service = np.random.default_rng(0).normal(1 / 200, 0.0005, 200).clip(0.002)
    pod = pod_latency(service, 1, 1.0)
    load = synthetic("step", 900, 100, 500)
    plain = simulate(load, WORK, HPA)
    modelled = simulate(load, Workload(200, 0.5, 1.0, 20, latency=pod), HPA)
    assert np.array_equal(plain.ready, modelled.ready)
    assert np.array_equal(plain.over_capacity, modelled.over_capacity)
    expected = pod.p99(load / modelled.ready)
    assert np.allclose(modelled.p99_latency, expected)
    assert not np.allclose(modelled.p99_latency, plain.p99_latency)


def test_simulate_measured_takes_the_service_times(tmp_path: Path) -> None:
    """--measured: the pod model for --workers (that count's service times and CPU, else the first
    count's); a result written before service times were recorded still runs, on M/M/c, and one
    written before the CPU was recorded on the service times alone."""
    import json

    from tests.conftest import ROOT, run_cli

    service = [0.004 + 0.00001 * i for i in range(200)]
    report = {
        "fit": {"rps_per_core": 200.0, "capacity_rps": 200.0, "cores_at_capacity": 1.0},
        "serviceSeconds": {"1": service, "2": [2 * t for t in service]},
    }
    measured = tmp_path / "measured.json"
    measured.write_text(json.dumps(report))

    def p99(path: Path, *extra: str) -> float:
        result = run_cli(
            "autoscale", "simulate", "--trace", "step", "--seconds", "120", "--base", "100", "--peak", "100",
            "--min", "1", "--max", "1", "--cpu-limit", "1", "--measured", str(path), "--format", "json",
            *extra, cwd=ROOT,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return float(json.loads(result.stdout)["hpa"]["p99_latency_max"])

    one, two = p99(measured), p99(measured, "--workers", "2")
    assert one == pytest.approx(pod_p99(service, 1, 1.0, 100), rel=1e-6)
    # the second count's own service times, on two workers sharing the pod's one core
    assert two == pytest.approx(pod_p99([2 * t for t in service], 2, 1.0, 100), rel=1e-6)
    # three workers were not measured: the first count's times
    assert p99(measured, "--workers", "3") == pytest.approx(pod_p99(service, 3, 1.0, 100), rel=1e-6)
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"fit": report["fit"]}))
    assert p99(old) == pytest.approx(mmc_p99(100, 1, 200), rel=1e-6)
    # the server's CPU a request, per count: the core is held up for it under load, the rest of the
    # time alone delays the request's own response
    report["cpuSeconds"] = {"1": {"alone": 0.0045, "loaded": 0.005}}
    measured.write_text(json.dumps(report))
    cost = CpuCost(0.0045, 0.005)
    assert p99(measured) == pytest.approx(pod_p99(service, 1, 1.0, 100, cost), rel=1e-6)
    assert p99(measured) != pytest.approx(pod_p99(service, 1, 1.0, 100), rel=1e-3)
    # two workers have times of their own but no CPU measured: their times alone, as before
    assert two == pytest.approx(p99(measured, "--workers", "2"), rel=1e-6)
    report["cpuSeconds"] = {"1": {"alone": 0, "loaded": 0.005}}
    measured.write_text(json.dumps(report))
    bad = run_cli("autoscale", "simulate", "--trace", "step", "--measured", str(measured), cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    why = "not a `kubeship autoscale measure` result (CPU a request costs must be positive seconds"
    assert f"{measured}: {why}, not 0.0 and 0.005)" in bad.stderr
    del report["cpuSeconds"]
    report["serviceSeconds"] = {"1": [0.0, -1.0]}
    measured.write_text(json.dumps(report))
    bad = run_cli("autoscale", "simulate", "--trace", "step", "--measured", str(measured), cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert f"{measured}: serviceSeconds: service times must be positive" in bad.stderr


def pod_p99(
    service: list[float], workers: int, cores: float, rate: float, cpu: CpuCost | None = None
) -> float:
    return float(pod_latency(service, workers, cores, cpu=cpu).p99(np.array([rate]))[0])
