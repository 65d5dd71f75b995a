"""Overload: the P99 and the share of failed requests when far more arrive than a server can serve.

The seed's FastAPI app (`/work?n=20000`, CPU-bound: ~10 ms a request, so a Python client keeps
up) is served on core 0 by `kubeship serve` (full runtime), by the same Granian settings without
middleware, and by uvicorn with its access log off. Its sustainable rate is what wrk drives through
`kubeship serve` with 8 connections; then each server gets Poisson arrivals at 4× that rate (open
loop, from core 1: the arrivals do not slow down when the server does), and every request not
answered within 2 s (an ingress's timeout) counts as failed. Rounds are interleaved and the median
reported.

Printed per server: requests answered per second, P99 of the answered, and the failed share.

usage: python benchmarks/overload.py [--rounds 2] [--seconds 10] [--factor 4]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from kubeship.measure import parse_wrk, poisson, stop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import Stack, free_port, start

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "examples" / "ping"
PATH = "/work?n=20000"
TIMEOUT = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--factor", type=float, default=4.0)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one connection per waiting request
    os.sched_setaffinity(0, {1})  # the load on core 1, each server on core 0 (`serve.start`)
    py = sys.executable
    granian_bare = str(ROOT / "benchmarks" / "apps" / "granian_bare.py")
    stacks = [
        Stack("kubeship serve, full runtime",
              [py, "-m", "kubeship", "serve", "app:app", "--host", "127.0.0.1", "--port", "{port}",
               "--drain-seconds", "0"]),
        Stack("granian, no middleware", [py, granian_bare, "app:app", "{port}"]),
        Stack("uvicorn, access log off",
              [py, "-m", "uvicorn", "app:app", "--port", "{port}", "--no-access-log"]),
    ]  # fmt: skip
    for stack in stacks:
        stack.env["PYTHONPATH"] = os.pathsep.join([str(APP), str(ROOT / "benchmarks" / "apps")])
    rate = args.factor * sustainable(stacks[0])
    print(f"offered: {rate:,.0f} req/s ({args.factor:g}× what kubeship serve sustains)", file=sys.stderr)
    failed_share: dict[str, list[float]] = {s.name: [] for s in stacks}
    for round_no in range(args.rounds):
        for stack in stacks:
            port = free_port()
            proc = start(stack, port, cwd=APP)
            try:
                answered, failed = poisson(
                    f"http://127.0.0.1:{port}{PATH}", rate, args.seconds, seed=round_no + 1, timeout=TIMEOUT
                )
            finally:
                stop(proc)
            answered.sort()
            p99 = answered[int(len(answered) * 0.99)] if answered else float("nan")
            stack.rps.append(len(answered) / args.seconds)
            stack.p99_ms.append(p99 * 1000)
            failed_share[stack.name].append(failed / max(1, failed + len(answered)))
            print(f"round {round_no + 1}: {stack.name:30s} answered {len(answered) / args.seconds:7,.0f}/s  "
                  f"P99 {p99 * 1000:7.1f} ms  failed {failed:6,}", file=sys.stderr, flush=True)  # fmt: skip
    print(f"\n{args.factor:g}× the sustainable rate ({rate:,.0f} req/s offered, {TIMEOUT:g} s timeout), "
          f"median of {args.rounds} rounds")  # fmt: skip
    print(f"  {'server':30s} {'answered/s':>10s}  {'P99 answered':>12s}  {'failed':>7s}")
    for stack in stacks:
        share = statistics.median(failed_share[stack.name])
        print(f"  {stack.name:30s} {statistics.median(stack.rps):10,.0f}  "
              f"{statistics.median(stack.p99_ms):9.1f} ms  {share:7.1%}")  # fmt: skip
    return 0


def sustainable(stack: Stack) -> float:
    """Requests/s wrk drives through the stack with 8 connections for 3 s."""
    port = free_port()
    proc = start(stack, port, cwd=APP)
    try:
        out = subprocess.run(
            ["wrk", "-t1", "-c8", "-d3s", "--latency", f"http://127.0.0.1:{port}{PATH}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        stop(proc)
    return parse_wrk(out)[0]


if __name__ == "__main__":
    raise SystemExit(main())
