"""A site failure over time: each site's load, pods and P99 against the SLO, and what was lost."""

from __future__ import annotations

from kubeship.autoscale.plot import _panels, _png
from kubeship.sites.simulate import Failure, Outcome


def plot_png(outcome: Outcome, failure: Failure, slo_p99: float) -> bytes:
    fig, axes, x, unit = _panels(3, len(outcome.total), 8.0)
    scale = x[1] if len(x) > 1 else 1.0
    for site, r in outcome.sites.items():
        axes[0].plot(x, r.load, label=f"{site} req/s")
        axes[1].plot(x, r.replicas, label=f"{site} pods")
        if site != failure.site:
            axes[2].plot(x, r.p99_latency * 1000, label=f"{site} P99 ms")
    axes[0].plot(x, outcome.lost, label="lost (writes waiting)", color="red")
    axes[2].axhline(slo_p99 * 1000, color="grey", linestyle="--", label="SLO")
    for ax in axes:
        ax.axvline(failure.at * scale, color="red", alpha=0.4, label=f"{failure.site} fails")
    return _png(fig, axes, unit, f"kubeship sites simulate: {failure.site} fails", 3)
