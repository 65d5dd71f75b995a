"""Release rehearsal speed: 10,000 trials of the seed's canary (45 simulated minutes each).

Target: under 2 s for 10,000 trials. Baseline side by side: the same trials with every distinct
measured value judged by the evaluator (no bisection), on fewer trials, scaled.

usage: python benchmarks/deliver.py [--trials 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kubeship.deliver import simulate as sim
from kubeship.render import render
from kubeship.render.analysis import min_requests
from kubeship.spec import load_spec

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed" / "kubeship.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10_000)
    args = parser.parse_args()
    spec = load_spec(SEED, "prod")
    objects = render(spec)
    rollout = next(o for o in objects if o["kind"] == "Rollout")
    templates = [o for o in objects if o["kind"] == "AnalysisTemplate"]
    plan, guard = sim.plan(rollout, templates, window=300), min_requests(spec)
    for rps, error_rate in ((100, 0.1), (100, 0.0005), (1000, 0.02), (1000, 0.0005)):
        traffic = sim.Traffic(rps, error_rate, 0.005, 0.0005, 0.005)
        t0 = time.perf_counter()
        sim.simulate(plan, traffic, guard, args.trials)
        fast = time.perf_counter() - t0
        original = sim._phases
        sim._phases = lambda m, p, v, bisect=True, f=original: f(m, p, v, bisect=False)  # type: ignore[assignment,misc]
        small = max(200, args.trials // 20)
        t0 = time.perf_counter()
        sim.simulate(plan, traffic, guard, small)
        slow = (time.perf_counter() - t0) * args.trials / small
        sim._phases = original  # type: ignore[assignment]
        print(
            f"rps {rps:5d} 5xx {error_rate:7.2%}: {args.trials:,} trials in {fast:5.2f} s "
            f"(every value evaluated: ≈ {slow:6.2f} s, {slow / fast:5.1f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
