"""What the same wrapper costs beside a bare app and beside a busy one (issue 23's framework gap).

The runtime adds a fixed code path to every request (the same instructions whatever the app:
runtime_instructions.py), yet costs several times more beside FastAPI than beside a bare app. This
serves, on kubeship serve's Granian settings and one core (wrk on the other, interleaved rounds):
a bare ASGI /ping, a "busy" one that first spins a tight Python loop (≈ 40 µs: time, almost no
code) and a "cbusy" one that spends ≈ 35 µs in C instead (sum over a range, the GIL held: no
bytecode), each alone, behind a pass-through wrapper, behind a timing-only wrapper (two clock reads
and a tuple) and behind the full runtime. Printed: each wrapper's cost in µs a request (1/rps minus
the app's own) beside each app. A wrapper that costs more beside "busy" than beside "cbusy" pays
for the bytecode the app ran before it (the interpreter's state: its dispatch branches, most
likely), not for the app's time, code footprint or framework.

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

APPS = ("bare", "busy", "cbusy")
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
    alone = ", ".join(f"{app} {1e6 / med[app]:.1f}" for app in APPS)
    print(f"\n{'µs a request added':20s}" + "".join(f"{'beside ' + app:>14s}" for app in APPS)
          + f"   (the apps alone: {alone} µs)")  # fmt: skip
    for wrapper in WRAPPERS:
        added = [1e6 / med[f"{wrapper}_{app}"] - 1e6 / med[app] for app in APPS]
        print(f"  {wrapper:18s}" + "".join(f"{a:14.1f}" for a in added))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
