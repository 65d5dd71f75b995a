"""The simulator's two shortcuts change nothing: modelling an hour ahead (redone when the HPA
rescales) and answering a pass the calculator has already seen (same replicas, sample and pod ages)."""

from __future__ import annotations

import numpy as np
import pytest

from kubeship.autoscale import simulate as sim
from kubeship.autoscale.normalize import Behavior, Policy, Rules
from kubeship.autoscale.simulate import Autoscaler, Result, Workload, simulate, synthetic

WORKLOAD = Workload(rps_per_core=200, cpu_request=0.5, cpu_limit=1.0, startup_seconds=20)
HPAS = [
    Autoscaler(2, 20, 50),
    Autoscaler(1, 30, 70, behavior=Behavior(scale_up=Rules(policies=(Policy("Percent", 50, 60),)))),
]


def same(a: Result, b: Result) -> bool:
    series = ("replicas", "ready", "utilization", "p99_latency", "over_capacity")
    return a.decisions == b.decisions and all(np.array_equal(getattr(a, s), getattr(b, s)) for s in series)


@pytest.mark.parametrize("trace", ["flash", "step", "diurnal"])
@pytest.mark.parametrize("hpa", HPAS, ids=["legacy", "behavior"])
def test_shortcuts_give_the_second_by_second_result(
    trace: str, hpa: Autoscaler, monkeypatch: pytest.MonkeyPatch
) -> None:
    load = synthetic(trace, 6 * 3600, 100, 2500)
    fast = simulate(load, WORKLOAD, hpa)
    assert len(fast.decisions) > 3  # the trace makes the HPA work
    decide = sim._decide
    monkeypatch.setattr(sim, "BLOCK_SECONDS", 1)  # model each sync period as it comes
    monkeypatch.setattr(sim, "_decide", lambda *args: decide(*args[:-1], {}))  # no remembered passes
    assert same(simulate(load, WORKLOAD, hpa), fast)
