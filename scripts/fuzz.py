"""Fuzz every loader with mutated real inputs and count: accepted, refused with a clear error,
tracebacks, hangs (over --hang seconds) and the peak memory of the process doing it.

Each loader runs in its own forked process, so its peak resident memory is its own. A traceback is
printed with the input that caused it (saved under out/fuzz/).

usage: python scripts/fuzz.py [--inputs 2000] [--seed 1] [--hang 5] [LOADER ...]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fuzzing import LOADERS, attempt, generated

OUT = Path("out/fuzz")


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def run(loader: str, inputs: int, seed: int, hang: int) -> dict[str, int]:
    rng = random.Random(seed)
    counts: collections.Counter[str] = collections.Counter()
    signal.signal(signal.SIGALRM, _alarm)
    for i in range(inputs):
        text = generated(rng, loader)
        signal.alarm(hang)
        try:
            counts[attempt(loader, text)] += 1
        except Hang:
            counts["hangs"] += 1
            _save(loader, i, text, "hang")
        except Exception:
            counts["tracebacks"] += 1
            _save(loader, i, text, traceback.format_exc())
        finally:
            signal.alarm(0)
    return dict(counts)


def _save(loader: str, i: int, text: str, why: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{loader}-{i}.txt"
    path.write_text(text, errors="surrogatepass")
    print(f"{loader} input {i} ({path}): {why.splitlines()[-1]}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("loaders", nargs="*", default=sorted(LOADERS))
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang", type=int, default=5)
    args = parser.parse_args()
    print(f"{'loader':12} {'inputs':>7} {'accepted':>9} {'refused':>8} {'tracebacks':>10} {'hangs':>6} "
          f"{'peak MiB':>9} {'seconds':>8}")  # fmt: skip
    bad = 0
    for loader in args.loaders:
        read, write = os.pipe()
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            counts = run(loader, args.inputs, args.seed, args.hang)
            os.write(write, json.dumps(counts).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            counts = json.loads(pipe.read() or "{}")
        _, status, usage = os.wait4(pid, 0)
        if status:
            counts["tracebacks"] = counts.get("tracebacks", 0) + 1  # the process itself died
        seconds = time.perf_counter() - started
        bad += counts.get("tracebacks", 0) + counts.get("hangs", 0)
        print(
            f"{loader:12} {args.inputs:>7,} {counts.get('accepted', 0):>9,} {counts.get('refused', 0):>8,} "
            f"{counts.get('tracebacks', 0):>10} {counts.get('hangs', 0):>6} {usage.ru_maxrss / 1024:>9.0f} "
            f"{seconds:>8.1f}"
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
