"""What the same wrapper costs beside a bare app and beside a busy one (issue 23's framework gap).

The runtime adds a fixed code path to every request (the same instructions whatever the app:
runtime_instructions.py), yet costs several times more beside FastAPI than beside a bare app. This
serves, on kubeship serve's Granian settings and one core (wrk on the other, interleaved rounds):
a bare ASGI /ping and a "busy" one that first spins a tight Python loop (≈ 40 µs: time, almost no
code), each alone, behind a pass-through wrapper, behind a timing-only wrapper (two clock reads and
a tuple) and behind the full runtime. Printed: each wrapper's cost in µs a request (1/rps minus
the app's own) beside each app. If a wrapper costs more beside the busy app, the extra follows the
app's time per request, not its code footprint or its framework.

usage: python benchmarks/middleware_beside.py [--rounds 3] [--seconds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from kubeship.measure import stop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import Stack, free_port, start, wrk

APPS = ("bare", "busy")
WRAPPERS = ("passing", "timing", "runtime")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    py = sys.executable
    names = [*APPS, *(f"{w}_{a}" for a in APPS for w in WRAPPERS)]
    stacks = {n: Stack(n, [py, "granian_bare.py", f"beside_apps:{n}", "{port}"]) for n in names}
    for round_no in range(args.rounds):
        for stack in stacks.values():
            port = free_port()
            proc = start(stack, port)
            try:
                wrk(port, 1.0)
                stack.rps.append(wrk(port, args.seconds)[0])
            finally:
                stop(proc)
            print(f"round {round_no + 1}: {stack.name:14s} {stack.rps[-1]:9,.0f} rps", file=sys.stderr)
    med = {n: statistics.median(s.rps) for n, s in stacks.items()}
    print(f"\n{'µs a request added':20s} {'beside bare':>12s} {'beside busy':>12s}   (app alone: "
          f"{1e6 / med['bare']:.1f} and {1e6 / med['busy']:.1f} µs)")  # fmt: skip
    for wrapper in WRAPPERS:
        added = [1e6 / med[f"{wrapper}_{app}"] - 1e6 / med[app] for app in APPS]
        print(f"  {wrapper:18s} {added[0]:12.1f} {added[1]:12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
