"""A site failure replayed: where the load goes, what is lost while writes wait, what the SLO pays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kubeship.autoscale.simulate import Autoscaler, Workload
from kubeship.sites.simulate import Failure, budget_used, recovery_seconds, run, site_loads
from tests.sites.test_traffic import TWO, spec

SLO = "slo: {availability: {target: 99.9%}, latency: {target: 99%, threshold: 300ms}}\n"
AUTOSCALING = "autoscaling: {minReplicas: 2, maxReplicas: 10, cpu: 50}\n"


def test_every_request_is_served_by_a_site_or_counted_lost() -> None:
    s = spec(TWO)
    total = np.full(600, 1000.0)
    loads, lost = site_loads(s, total, Failure("dc-a", 200, 100, "dc-b"))
    assert np.allclose(loads["dc-a"] + loads["dc-b"] + lost, total)
    assert loads["dc-a"][:200] == pytest.approx(np.full(200, 735.0))
    assert not loads["dc-a"][200:].any()
    assert lost[200:300] == pytest.approx(np.full(100, 150.0))  # the writes, until the operator moves them
    assert not lost[300:].any() and loads["dc-b"][300:] == pytest.approx(np.full(300, 1000.0))


def test_writes_never_moved_stay_lost_and_a_standby_failure_loses_nothing() -> None:
    s = spec(TWO)
    total = np.full(100, 100.0)
    _, lost = site_loads(s, total, Failure("dc-a", 10, None, "dc-b"))
    assert lost[10:] == pytest.approx(np.full(90, 15.0))
    loads, lost = site_loads(s, total, Failure("dc-b", 10, None, "dc-a"))
    assert not lost.any() and loads["dc-a"][10:] == pytest.approx(np.full(90, 100.0))


def test_a_standby_too_small_is_over_capacity_and_costs_error_budget() -> None:
    workload = Workload(rps_per_core=100.0, cpu_request=0.5, cpu_limit=0.5, startup_seconds=20)
    hpa = Autoscaler(2, 10, 50)
    total = np.full(1200, 400.0)
    failure = Failure("dc-a", 300, 60, "dc-b")
    roomy = spec(TWO, extra=AUTOSCALING + SLO)
    small = spec(TWO.replace('["10.1.0.1:80"]}', '["10.1.0.1:80"], maxReplicas: 4}'), extra=AUTOSCALING + SLO)
    fine, short = run(roomy, total, failure, workload, hpa), run(small, total, failure, workload, hpa)
    assert short.sites["dc-b"].replicas.max() == 4  # 4 × 50 req/s < 400 req/s
    assert short.errors(300) > fine.errors(300) > 0  # both lose the writes for 60 s
    assert fine.errors(300) >= 60 * 0.15 * 400 * 0.999  # at least the writes that waited
    assert recovery_seconds(short, failure, 0.3) is None  # never back within capacity
    recovered = recovery_seconds(fine, failure, 0.3)
    assert recovered is not None and recovered >= 60
    used_fine, used_short = budget_used(roomy, fine, failure), budget_used(small, short, failure)
    assert used_fine is not None and used_short is not None and used_short > used_fine


def test_sites_simulate_takes_the_pod_model_from_measured_service_times(tmp_path: Path) -> None:
    """--measured with service times: each site's P99 is the pod model's, as in autoscale simulate;
    with the fit alone, M/M/c's. Everything else (load, pods, lost writes) is the same."""
    import json

    from tests.conftest import ROOT, run_cli

    fit = {"fit": {"rps_per_core": 400.0, "capacity_rps": 400.0, "cores_at_capacity": 1.0}}
    service = {"serviceSeconds": {"1": [0.0025 * (0.8 + 0.4 * i / 199) for i in range(200)]}}
    outcomes = []
    for name, report in (("fit", fit), ("pod", fit | service)):
        measured = tmp_path / f"{name}.json"
        measured.write_text(json.dumps(report))
        result = run_cli(
            "sites", "simulate", "-f", str(ROOT / "examples" / "seed" / "kubeship.yaml"), "--env", "prod",
            "--measured", str(measured), "--seconds", "1200", "--format", "json", cwd=ROOT,
            DB_USERNAME="u", DB_PASSWORD="p",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outcomes.append(json.loads(result.stdout))
    plain, modelled = outcomes
    assert plain["lost_requests"] == modelled["lost_requests"] and plain["requests"] == modelled["requests"]
    p99 = [o["sites"]["dc-bj"]["p99_latency_max"] for o in outcomes]
    assert p99[0] != p99[1] and all(0 < p < 0.3 for p in p99)
