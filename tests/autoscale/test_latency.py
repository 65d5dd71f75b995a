"""The pod model (kubeship.autoscale.latency) against queueing results that hold exactly: M/M/1's
response time, processor sharing's mean (insensitive to the service distribution), random routing as
independent queues, workers sharing cores, a closed loop of equal requests."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kubeship.autoscale.capacity import CPU_DRIFT, Measurement, Run, drift_warning, report
from kubeship.autoscale.latency import LATENCY_CAP, CpuCost, p99_spread, pod_latency, sojourn_times

N = 100_000


def poisson(rate: float, seed: int = 1) -> np.ndarray:
    return np.cumsum(np.random.default_rng(seed).exponential(1 / rate, N))


def test_one_worker_first_come_first_served_is_m_m_1() -> None:
    """M/M/1: the response time is exponential with rate μ − λ, so P99 = ln(100) / (μ − λ)."""
    sizes = np.random.default_rng(2).exponential(1.0, N)
    times = sojourn_times(poisson(0.5), sizes, np.zeros(N, dtype=np.int64), 1, 1.0, "fcfs")
    assert np.quantile(times, 0.99) == pytest.approx(math.log(100) / 0.5, rel=0.05)


@pytest.mark.parametrize("sizes", ["exponential", "constant"])
def test_processor_sharing_mean_is_service_over_one_minus_rho(sizes: str) -> None:
    """M/G/1-PS: E[T] = E[S] / (1 − ρ) whatever the service distribution."""
    rng = np.random.default_rng(3)
    work = rng.exponential(1.0, N) if sizes == "exponential" else np.ones(N)
    times = sojourn_times(poisson(0.6), work, np.zeros(N, dtype=np.int64), 1, 1.0, "ps")
    assert times.mean() == pytest.approx(1 / (1 - 0.6), rel=0.05)


def test_random_routing_makes_each_worker_its_own_queue() -> None:
    """Two workers on two cores, requests at random: two M/M/1 queues at half the rate each."""
    rng = np.random.default_rng(4)
    routes = rng.integers(0, 2, N)
    times = sojourn_times(poisson(1.0), rng.exponential(1.0, N), routes, 2, 2.0, "fcfs")
    assert np.quantile(times, 0.99) == pytest.approx(math.log(100) / 0.5, rel=0.05)


def test_workers_beyond_the_cores_share_them() -> None:
    """Two requests of one unit on two workers of one core: each runs at half speed, both end at 2;
    on two cores both end at 1; on one worker (processor sharing) both end at 2 as well."""
    arrivals, sizes = np.array([0.0, 0.0]), np.array([1.0, 1.0])
    apart = np.array([0, 1])
    assert sojourn_times(arrivals, sizes, apart, 2, 1.0).tolist() == [2.0, 2.0]
    assert sojourn_times(arrivals, sizes, apart, 2, 2.0).tolist() == [1.0, 1.0]
    assert sojourn_times(arrivals, sizes, np.array([0, 0]), 2, 2.0).tolist() == [2.0, 2.0]
    assert sojourn_times(arrivals, sizes, np.array([0, 0]), 2, 2.0, "fcfs").tolist() == [1.0, 2.0]


def test_a_short_run_lands_anywhere_in_a_wide_band_a_long_one_near_the_curve() -> None:
    """The P99 of a run is dominated by its few longest busy periods: 600 requests at half load
    spread wide; the band narrows around the curve's value as runs get longer."""
    service = np.random.default_rng(7).normal(0.012, 0.002, 300).clip(0.005)
    curve = float(pod_latency(service, 1, 1.0).p99(np.array([40.0]))[0])
    short = p99_spread(service, 1, 1.0, 40.0, 600)
    long = p99_spread(service, 1, 1.0, 40.0, 20_000, runs=10)
    assert short[0] < long[0] <= long[1] <= long[2] < short[2]
    assert (short[2] - short[0]) / short[1] > 0.25 > (long[2] - long[0]) / long[1]
    assert long[1] == pytest.approx(curve, rel=0.15)


def test_the_curve_rises_with_load_and_caps_where_the_pod_cannot_keep_up() -> None:
    service = np.random.default_rng(6).normal(0.012, 0.002, 300).clip(0.005)
    pod = pod_latency(service, 2, 2.0)
    assert list(pod.p99_over_service) == sorted(pod.p99_over_service)
    capacity = 2.0 / pod.mean_service
    p99 = pod.p99(np.array([0.0, 0.3, 0.6, 0.9, 0.99, 1.0, 2.0]) * capacity)
    assert p99[0] >= pod.mean_service * 0.9 and all(np.diff(p99) >= 0)
    assert p99[-2] == p99[-1] == LATENCY_CAP
    assert pod == pod_latency(service, 2, 2.0)  # seeded: the same curve every time
    # One worker cannot use a second core: at 60 % of two cores it is past its own capacity.
    assert pod_latency(service, 1, 2.0).p99(np.array([0.6 * capacity]))[0] == LATENCY_CAP


def test_with_the_cpu_measured_requests_occupy_the_core_for_their_cpu_under_load() -> None:
    """Measured CPU: a request holds the core up for the CPU it costs under load (more than alone
    when workers take turns on a core), and the rest of its time alone (network, client) is added to
    its own response only. So the curve is the one of the shifted times, plus that delay."""
    service = np.random.default_rng(8).normal(0.0016, 0.0002, 300).clip(0.001)
    mean, rate = float(service.mean()), np.array([320.0])  # about half of one core
    cost = CpuCost(alone=mean - 0.0002, loaded=mean + 0.0001)
    pod = pod_latency(service, 4, 1.0, cpu=cost)
    shifted = pod_latency(service - 0.0002 + 0.0003, 4, 1.0)
    assert pod.mean_service == pytest.approx(mean + 0.0001) and pod.delay == pytest.approx(0.0002)
    assert pod.p99(rate) == pytest.approx(shifted.p99(rate) + 0.0002)
    # busier than the times alone say: the P99 grows by more than the CPU added
    assert pod.p99(rate)[0] > pod_latency(service, 4, 1.0).p99(rate)[0] + 0.0001 * 4
    # cheaper to the core than its time alone: the same load waits less
    light = pod_latency(service, 1, 1.0, cpu=CpuCost(alone=mean - 0.0002, loaded=mean - 0.0002))
    assert light.p99(rate)[0] < pod_latency(service, 1, 1.0).p99(rate)[0]
    low, mid, high = p99_spread(service, 4, 1.0, 320.0, 3000, runs=10, cpu=cost)
    assert low <= mid <= high and mid > p99_spread(service, 4, 1.0, 320.0, 3000, runs=10)[1]
    with pytest.raises(ValueError, match="CPU a request costs must be positive"):
        CpuCost(0.0, 0.001)


@pytest.mark.parametrize("service", [[], [0.01, 0.0], [0.01, float("nan")]])
def test_service_times_must_be_positive(service: list[float]) -> None:
    with pytest.raises(ValueError, match="service times must be positive"):
        pod_latency(service, 1, 1.0)


def test_the_report_holds_each_model_against_the_measurement() -> None:
    """Per worker count: the capacity the fit predicts, the pod model's P99 at the measured arrival
    rate with its band for a run as long as the measured one, and M/M/c's."""
    service = [0.010, 0.011, 0.012, 0.013] * 50
    runs = [Run(1, 1, 80.0, 0.9, 0.012, 0.02), Run(1, 4, 90.0, 1.0, 0.04, 0.08)]
    cost = CpuCost(alone=0.010, loaded=0.011)
    measured = Measurement(runs, [Run(1, 0, 40.0, 0.5, 0.02, 0.09)], {1: service}, 2, {1: cost})
    out = report(measured, [1], open_seconds=60.0)
    assert out["fit"]["rps_per_core"] == pytest.approx(90.0)
    assert len(out["serviceSeconds"]["1"]) == 200
    assert out["cpuSeconds"] == {"1": {"alone": 0.010, "loaded": 0.011}}
    (check,) = out["checks"]
    pod = pod_latency(out["serviceSeconds"]["1"], 1, 1, cpu=cost)
    expected = float(pod.p99(np.array([40.0]))[0])
    assert check["p99Predicted"] == pytest.approx(expected)
    assert check["p99Error"] == pytest.approx(expected / 0.09 - 1)
    assert check["requests"] == 2400
    low, mid, high = check["p99ModelBand"]
    assert low < mid < high and low < expected < high
    # the rounds cost 0.5 cores / 40 req/s = 12.5 ms a request, the calibration 11: +14 %
    assert check["cpuDrift"] == pytest.approx(0.0125 / 0.011 - 1)
    assert drift_warning(check) == (
        "warning: at 1 worker(s) the measured rounds cost +14% CPU a request against the calibration "
        "round: the machine changed speed while they ran (a shared host?); measure again before trusting "
        "that comparison"
    )


def test_a_drift_is_flagged_past_the_threshold_either_way_and_not_without_a_calibration() -> None:
    check = {"workers": 4, "cpuDrift": -(CPU_DRIFT + 0.01)}
    assert "cost -9% CPU a request" in (drift_warning(check) or "")
    assert drift_warning({"workers": 4, "cpuDrift": CPU_DRIFT - 0.01}) is None
    assert drift_warning({"workers": 4, "cpuDrift": None}) is None
    assert drift_warning({"workers": 4}) is None  # a result from before the CPU was measured
