"""`kubeship deliver simulate`: the spec's canary, rehearsed for a bad version and a good one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kubeship.deliver.simulate import Outcome, Plan, Summary, Traffic, plan, simulate, summarize
from kubeship.errors import UsageError
from kubeship.render import render
from kubeship.render.analysis import error_budget, error_threshold, min_requests
from kubeship.spec.models import AppSpec
from kubeship.spec.quantity import parse_duration


@dataclass(frozen=True)
class Report:
    name: str
    rps: float
    plan: Plan
    bad: Traffic
    good: Traffic
    bad_outcome: Outcome
    bad_summary: Summary
    good_summary: Summary
    threshold: float  # the error ratio the analysis fails above

    def as_json(self) -> dict[str, Any]:
        return {
            "app": self.name,
            "rps": self.rps,
            "releaseSeconds": self.bad_summary.duration,
            "notes": list(self.plan.notes),
            "bad": {"traffic": asdict(self.bad), **asdict(self.bad_summary)},
            "good": {"traffic": asdict(self.good), **asdict(self.good_summary)},
        }

    def text(self) -> str:
        s = self.bad_summary
        lines = [
            f"Release rehearsal: {self.name}, canary over {s.duration / 60:.0f} min when nothing stops it, "
            f"{self.rps:g} req/s, {s.trials:,} trials per version",
            "",
            f"{'version':<28} {'promoted':>9} {'rolled back':>12} {'paused':>8} "
            f"{'detected p50 / p95':>20} {'users hurt p50 / p95':>22}",
        ]
        for label, x in (
            (f"bad (5xx {self.bad.error_rate:.2%})", self.bad_summary),
            (f"good (5xx {self.good.error_rate:.2%})", self.good_summary),
        ):
            p50, p95 = x.detect_p50, x.detect_p95
            detect = f"{p50 / 60:.1f} / {p95 / 60:.1f} min" if p50 is not None and p95 is not None else "-"
            lines.append(
                f"{label:<28} {x.promoted:>9.2%} {x.aborted:>12.2%} {x.paused:>8.2%} {detect:>20} "
                f"{x.hurt_p50:>10.0f} / {x.hurt_p95:<9.0f}"
            )
        lines += [
            "",
            "rolled back = the analysis Failed or Errored (Argo aborts); paused = Inconclusive (waits for a "
            "human); users hurt = the canary's failed requests before the end.",
            *self.plan.notes,
        ]
        return "\n".join(lines)


def rehearse(
    spec: AppSpec, rps: float, error_rate: float, latency: str, trials: int, seed: int = 0
) -> Report:
    d = spec.delivery
    if d is None or d.strategy != "canary" or not d.analysis.enabled:
        raise UsageError(
            "deliver simulate rehearses a canary judged by its analysis: the spec needs delivery: {} "
            "(strategy canary, analysis enabled)"
        )
    try:
        extra = parse_duration(latency)
    except ValueError as exc:
        raise UsageError(f"--latency: {exc}") from None
    objects = render(spec)
    rollout = next(o for o in objects if o["kind"] == "Rollout")
    templates = [o for o in objects if o["kind"] == "AnalysisTemplate"]
    p = plan(rollout, templates, parse_duration(d.analysis.window))
    base_error = error_budget(spec) / 2  # a good version meets the SLO with room to spare
    lat = spec.slo.latency if spec.slo else None
    base_slow = (1 - lat.target) / 2 if lat else 0.0
    slow = base_slow
    if lat is not None and base_slow > 0:
        # Exponential latencies fitted to the base slow share: added latency L makes P(slow) = s0^((T-L)/T).
        threshold = lat.threshold_seconds
        slow = base_slow ** max(0.0, (threshold - extra) / threshold)
    bad = Traffic(rps, max(error_rate, base_error), slow, base_error, base_slow)
    good = Traffic(rps, base_error, base_slow, base_error, base_slow)
    guard = min_requests(spec)
    bad_outcome = simulate(p, bad, guard, trials, seed)
    good_outcome = simulate(p, good, guard, trials, seed + 1)
    return Report(
        spec.name,
        rps,
        p,
        bad,
        good,
        bad_outcome,
        summarize(bad_outcome, p.interval),
        summarize(good_outcome, p.interval),
        error_threshold(spec),
    )
