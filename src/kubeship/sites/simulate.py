"""A site failure, replayed before it happens (pure): each site's load, pods, latency and errors.

The total load is split per traffic class as the global proxy splits it. At `at` one site fails:
the auto-failover classes move to the others at once (the proxy's retries hide the seconds of
detection: measured, no read is lost), a manual class held by the failed site is lost until the
operator moves it (`writes_after` seconds later), then goes to `writes_to`. Each surviving site's
HPA is the autoscale simulator's, with the site's bounds: the question is whether it adds pods
before the SLO's latency and error budget run out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from kubeship.autoscale.simulate import Autoscaler, FloatArray, Result, Workload, simulate
from kubeship.sites.sizing import sizes
from kubeship.sites.traffic import class_split, shares, sites_of
from kubeship.spec.models import AppSpec
from kubeship.spec.quantity import parse_duration


@dataclass(frozen=True)
class Failure:
    site: str
    at: int  # second of the trace
    writes_after: int | None  # seconds until the operator fails writes over; None: never
    writes_to: str


@dataclass
class Outcome:
    sites: dict[str, Result]
    lost: FloatArray  # requests/s no site could take (a manual class waiting for the operator)
    total: FloatArray

    def errors(self, since: int = 0) -> float:
        """Requests failed from second `since`: lost, and beyond what each site's ready pods served."""
        return float(
            self.lost[since:].sum() + sum(r.over_capacity[since:].sum() for r in self.sites.values())
        )


def site_loads(
    spec: AppSpec, total: FloatArray, failure: Failure
) -> tuple[dict[str, FloatArray], FloatArray]:
    sites = sites_of(spec)
    n = len(total)
    after = np.arange(n) >= failure.at
    moved = (
        np.arange(n) >= failure.at + failure.writes_after
        if failure.writes_after is not None
        else np.zeros(n, dtype=bool)
    )
    loads = {m.name: np.zeros(n) for m in sites.members}
    lost = np.zeros(n)
    fractions = shares(sites)
    for c in sites.traffic:
        part = np.asarray(total, dtype=float) * fractions[c.name]
        for site, f in class_split(c.weights).items():
            loads[site] += np.where(after, 0.0, part * f)
        live = class_split(c.weights, frozenset({failure.site}))
        if c.failover == "manual" and c.weights.get(failure.site):
            live = {}  # held by the failed site: waits for `kubeship sites failover`
        if live:
            for site, f in live.items():
                loads[site] += np.where(after, part * f, 0.0)
            continue
        target = failure.writes_to if c.failover == "manual" else None
        if target is not None:
            loads[target] += np.where(after & moved, part, 0.0)
            lost += np.where(after & ~moved, part, 0.0)
        else:
            lost += np.where(after, part, 0.0)
    return loads, lost


def run(spec: AppSpec, total: FloatArray, failure: Failure, workload: Workload, hpa: Autoscaler) -> Outcome:
    """Replay `total` (requests/s per second) across the sites; `hpa` is the service's, each site
    gets its own bounds (sizing.py)."""
    loads, lost = site_loads(spec, total, failure)
    results = {}
    for size in sizes(spec):
        bounds = replace(
            hpa,
            min_replicas=size.min_replicas or size.replicas,
            max_replicas=size.max_replicas or size.replicas,
        )
        load = loads[size.site]
        result = simulate(load, workload, bounds, initial_replicas=bounds.min_replicas)
        if size.site == failure.site:  # its pods went with it
            result.replicas[failure.at :] = 0
            result.ready[failure.at :] = 0
        results[size.site] = result
    return Outcome(results, lost, np.asarray(total, dtype=float))


def budget_used(spec: AppSpec, outcome: Outcome, failure: Failure) -> float | None:
    """The failure's errors as a fraction of the SLO's error budget for its window, at the trace's
    mean load."""
    if spec.slo is None or spec.slo.availability is None:
        return None
    window = parse_duration(spec.slo.window)
    allowed = (1 - spec.slo.availability.target) * float(outcome.total.mean()) * window
    return outcome.errors(failure.at) / allowed if allowed > 0 else None


def recovery_seconds(outcome: Outcome, failure: Failure, slo_p99: float) -> float | None:
    """Seconds from the failure until every live site serves within capacity and the P99 SLO again;
    None if they never do in the trace."""
    bad = np.zeros(len(outcome.total), dtype=bool)
    for site, r in outcome.sites.items():
        if site != failure.site:
            bad |= (r.over_capacity > 0) | (r.p99_latency > slo_p99)
    bad |= outcome.lost > 0
    after = bad[failure.at :]
    if not after.any():
        return 0.0
    last = int(np.nonzero(after)[0][-1])
    return None if last == len(after) - 1 else float(last + 1)


def after_failure(result: Result, failure: Failure, slo_p99: float) -> dict[str, float]:
    """A site's figures from the failure on (the trace's own spikes before it are autoscale's story)."""
    p99 = result.p99_latency[failure.at :]
    return {
        "max_replicas": float(result.replicas[failure.at :].max()),
        "p99_latency_max": float(p99.max()),
        "slo_seconds_violated": float((p99 > slo_p99).sum()),
        "requests_over_capacity": float(result.over_capacity[failure.at :].sum()),
        "peak_rps": float(result.load[failure.at :].max()),
    }
