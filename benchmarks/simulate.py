"""Simulator speed: 7 days at 1 s resolution, 15 s sync, three HPA configurations.

Target: under 1 s per configuration. Prints seconds and simulated seconds per second.

usage: python benchmarks/simulate.py [--days 7]
"""

from __future__ import annotations

import argparse
import sys
import time

from kubeship.autoscale.normalize import Behavior, Policy, Rules
from kubeship.autoscale.simulate import Autoscaler, Workload, simulate, synthetic


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=7.0)
    args = parser.parse_args()
    seconds = int(args.days * 86400)
    load = synthetic("diurnal", seconds, 100, 1500)
    workload = Workload(rps_per_core=200, cpu_request=0.5, cpu_limit=1.0, startup_seconds=20)
    configs = {
        "cpu 50 %, legacy": Autoscaler(2, 20, 50),
        "cpu 70 %, legacy": Autoscaler(2, 20, 70),
        "cpu 50 %, behavior": Autoscaler(
            2, 20, 50, behavior=Behavior(scale_up=Rules(policies=(Policy("Percent", 50, 60),)))
        ),
    }
    for name, hpa in configs.items():
        start = time.perf_counter()
        result = simulate(load, workload, hpa)
        took = time.perf_counter() - start
        print(
            f"{name:22s} {took:6.2f} s  {seconds / took:12,.0f} simulated s/s  "
            f"({len(result.decisions)} rescales, {result.summary(0.3)['pod_hours']:.0f} pod-hours)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
