"""The rehearsal as a picture: canary weight, the bad version's measured error ratio against the
threshold, and the moment the analysis aborted (one trial)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kubeship.deliver.rehearse import Report


def draw(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    o, dt = report.bad_outcome, report.plan.interval
    minutes = np.arange(len(o.weights)) * dt / 60
    weights, ratio = o.weights * 100, o.ratio * 100
    if o.aborted[0]:  # after the abort all traffic is back on the stable version
        after = minutes > o.at[0] / 60
        weights, ratio = np.where(after, 0, weights), np.where(after, np.nan, ratio)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 5.5))
    top.step(minutes, weights, where="post", color="tab:blue")
    top.set_ylabel("canary weight (%)")
    top.set_title(f"{report.name}: bad version (5xx {report.bad.error_rate:.1%}) at {report.rps:g} req/s")
    bottom.plot(minutes, ratio, "o-", color="tab:red", label="canary 5xx ratio (measured)")
    threshold = report.threshold * 100
    bottom.axhline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f} %")
    if o.aborted[0]:
        for ax in (top, bottom):
            ax.axvline(o.at[0] / 60, color="tab:purple", label="rolled back" if ax is bottom else None)
    bottom.set_xlabel("minutes since the first weight")
    bottom.set_ylabel("error ratio (%)")
    bottom.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
