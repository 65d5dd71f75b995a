"""Pictures of a simulation over time: load, pods, utilization and latency (or backlog) against targets."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from kubeship.autoscale.queue import QueueResult
from kubeship.autoscale.simulate import FloatArray, Result


def _panels(rows: int, seconds: int, height: float) -> tuple[Any, Any, FloatArray, str]:
    """A figure of `rows` panels sharing a time axis in minutes (hours beyond four hours)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory
    import matplotlib.pyplot as plt

    scale, unit = (3600.0, "hours") if seconds > 4 * 3600 else (60.0, "minutes")
    fig, axes = plt.subplots(rows, 1, figsize=(11, height), sharex=True, constrained_layout=True)
    return fig, axes, np.arange(seconds) / scale, unit


def _png(fig: Any, axes: Any, unit: str, title: str, ncol: int) -> bytes:
    import matplotlib.pyplot as plt

    axes[-1].set_xlabel(unit)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=7, ncol=ncol)
    if title:
        fig.suptitle(title)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out.getvalue()


def plot_png(results: Mapping[str, Result], slo_p99: float, title: str = "") -> bytes:
    """PNG bytes; one line per HPA configuration in every panel (the load is shared)."""
    first = next(iter(results.values()))
    fig, axes, t, unit = _panels(4, len(first.load), 10)
    load_ax, rep_ax, util_ax, lat_ax = axes
    load_ax.plot(t, first.load, color="black", lw=1, label="offered load")
    for name, r in results.items():
        load_ax.plot(t, r.over_capacity, lw=1, label=f"over capacity ({name})")
        rep_ax.step(t, r.replicas, where="post", lw=1.2, label=f"{name}: pods")
        rep_ax.step(t, r.ready, where="post", lw=0.8, ls="--", label=f"{name}: ready")
        util_ax.plot(t, r.utilization, lw=1, label=name)
        lat_ax.plot(t, np.minimum(r.p99_latency, 10 * slo_p99), lw=1, label=name)
    lat_ax.axhline(slo_p99, color="red", ls=":", label=f"SLO {slo_p99 * 1000:g} ms")
    load_ax.set_ylabel("requests/s")
    rep_ax.set_ylabel("pods")
    util_ax.set_ylabel("CPU % of request")
    lat_ax.set_ylabel("P99 latency (s)")
    lat_ax.set_yscale("log")
    return _png(fig, axes, unit, title, ncol=2)


def plot_queue_png(result: QueueResult, target: float, title: str = "") -> bytes:
    """Arrivals, pods and the backlog per pod against the HPA's target."""
    fig, axes, t, unit = _panels(3, len(result.arrivals), 8)
    arr_ax, rep_ax, lag_ax = axes
    arr_ax.plot(t, result.arrivals, color="black", lw=1, label="arrivals (messages/s)")
    rep_ax.step(t, result.replicas, where="post", lw=1.2, label="pods")
    rep_ax.step(t, result.ready, where="post", lw=0.8, ls="--", label="ready")
    lag_ax.plot(t, result.per_pod, lw=1, label="backlog per pod")
    lag_ax.axhline(target, color="red", ls=":", label=f"target {target:g}")
    arr_ax.set_ylabel("messages/s")
    rep_ax.set_ylabel("pods")
    lag_ax.set_ylabel("backlog per pod")
    return _png(fig, axes, unit, title, ncol=1)
