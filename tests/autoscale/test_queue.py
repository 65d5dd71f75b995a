"""Workers scaled on a custom metric (queue lag), replayed through the HPA engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kubeship.autoscale.queue import QueueWorkload, simulate_queue
from kubeship.autoscale.simulate import Autoscaler, synthetic
from tests.conftest import ROOT, run_cli


def test_open_loop_metric_settles_at_total_over_target() -> None:
    result = simulate_queue(np.full(900, 1000.0), QueueWorkload(None), Autoscaler(2, 40, 0), 100, "Pods")
    assert result.replicas[-1] == 10  # AverageValue: ceil(1000 / 100)


def test_external_value_target_multiplies_by_the_pods_as_upstream_does() -> None:
    """An External Value target is ratio x ready pods (getUsageRatioReplicaCount): a total that does
    not shrink as pods are added drives the HPA to maxReplicas. Use AverageValue for totals."""
    result = simulate_queue(np.full(900, 1000.0), QueueWorkload(None), Autoscaler(2, 40, 0), 100, "External")
    assert result.replicas[-1] == 40


def test_enough_consumers_keep_the_backlog_empty() -> None:
    result = simulate_queue(np.full(900, 100.0), QueueWorkload(50), Autoscaler(2, 10, 0), 100)
    assert result.backlog.max() == 0 and not result.decisions


def test_lag_only_scaling_drains_then_collapses_under_steady_load() -> None:
    """The pitfall the simulator is there to show: once the lag is gone, lag says 'no pods needed'
    although 1,500 msg/s still arrive, so the HPA scales to the minimum and the lag comes back."""
    load = synthetic("step", 3600, 100, 1500)
    result = simulate_queue(load, QueueWorkload(50, 20), Autoscaler(2, 40, 0), 100)
    after_step = int(3600 / 3)
    assert result.replicas[after_step:].max() == 40  # scaled out to drain the backlog
    peaks = [t for t, n in result.decisions if t > after_step and n == 2]
    assert peaks, "expected a scale-down to minReplicas while the load is still high"
    assert result.backlog[peaks[0] + 60] > 0  # and the lag builds up again


def test_cli_simulate_queue_with_the_worker_spec(tmp_path: Path) -> None:
    result = run_cli(
        "autoscale", "simulate-queue", "--trace", "step", "--seconds", "1200", "--per-pod-rate", "50",
        "-f", str(ROOT / "examples" / "seed" / "worker.kubeship.yaml"), "--plot", str(tmp_path / "q.png"),
        cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["max_replicas"] == 10  # the worker's maxReplicas
    assert (tmp_path / "q.png").read_bytes()[:4] == b"\x89PNG"
    both = run_cli("autoscale", "simulate-queue", "--trace", "step", "--target", "100", cwd=ROOT)
    assert both.returncode == 2 and "--per-pod-rate" in both.stderr


def test_scale_to_zero_on_an_external_backlog_wakes_and_sleeps_again() -> None:
    """--min 0 (KEP-2021): nothing runs while the queue is empty; a burst wakes the workload from the
    External metric alone, it drains the backlog, and goes back to zero."""
    arrivals = np.concatenate([np.zeros(300), np.full(300, 120.0), np.zeros(900)])
    result = simulate_queue(arrivals, QueueWorkload(50.0, 20.0), Autoscaler(0, 5, 0), 100.0, "External")
    assert result.replicas[:300].max() == 0  # idle: no pod
    assert result.replicas[300:700].max() >= 3  # woken by the backlog, no pod needed to report it
    assert result.backlog[-1] == 0 and result.replicas[-1] == 0  # drained, then back to zero


def test_min_zero_with_a_pods_metric_is_refused() -> None:
    result = run_cli("autoscale", "simulate-queue", "--trace", "step", "--per-pod-rate", "50",
                     "--target", "100", "--min", "0", cwd=ROOT)  # fmt: skip
    assert result.returncode == 2 and "--min 0 needs an External metric" in result.stderr
