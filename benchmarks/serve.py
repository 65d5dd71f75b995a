"""How fast `kubeship serve` is, against the baselines that matter.

Each stack serves GET /ping on one core (taskset -c 0, one worker,
GOMAXPROCS=1 for Go); wrk runs on the other core (taskset -c 1,
-t1 -c64) after a warm-up. Rounds are interleaved (every stack once per
round) and the median round is reported, so machine noise hits all stacks
alike. Ratios are what count; absolute numbers vary with the machine.

Printed, each ratio with its goal (issue 23) and whether this run met it:
  runtime cost (µs/request) = 1/rps(kubeship serve, bare app) - 1/rps(same Granian settings,
                              no middleware)                                   goal ≤ 5 µs
  kubeship serve + bare app   vs  gin.Default()                                goal ≥ 1.2×
  per framework (FastAPI, Starlette, Litestar), its /ping with kubeship serve's full middleware
    vs  the same app on the same Granian settings without middleware           goal ≥ 0.95×
    vs  the same app on uvicorn with its access log off                        goal ≥ 1.2×
  and FastAPI vs uvicorn's defaults (its access log on), as most users run it.
  and, for item 4, Granian bare on ASGI and on its own interface (RSGI) vs gin.Default(): whether
  ASGI's message passing is the ceiling.
  and what compiling the runtime buys: kubeship serve, bare, compiled vs from source (KUBESHIP_PURE=1).
"Granian, no middleware" runs kubeship serve's exact settings, its workers' scheduling policy
(SCHED_BATCH) and garbage collector settings included, so the ratios above are the middleware's
cost alone. More stacks run Granian as it ships (Linux's default policy, Python's collector), for
what a user moving from plain Granian gets:
  kubeship serve vs Granian's defaults, bare and FastAPI                    (no goal: informational)
and FastAPI's /query, which awaits 2 ms as a database call would (64 requests in flight, all
holding their objects), on the same stacks and on Granian without middleware with Python's own
collector, and on uvicorn (access log off): what sizing the young generation for the requests in
flight buys (runtime/serve.py `young_generation`)                            (no goal: informational)

usage: python benchmarks/serve.py [--rounds 3] [--seconds 5] [--json out.json] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kubeship.measure import cpu_seconds, parse_wrk, stop  # the same as `kubeship autoscale measure`
from kubeship.names import ENV_SECURITY_HEADERS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gobuild import APPS, go_build

RSGI = "granian, bare RSGI, no middleware"
SHIPPED = "granian, {}, Granian's defaults (SCHED_OTHER)"
QUERY = "FastAPI /query (awaits 2 ms)"
PYTHON_GC = f"granian, {QUERY}, no middleware, Python's collector"
SOURCE = "kubeship serve, bare ASGI, full middleware, from source"
HEADERS = "granian, bare ASGI answering with the runtime's headers, no middleware"
NO_SECURITY = "kubeship serve, Starlette, full middleware but the security headers"
FRAMEWORKS = {"FastAPI": "fastapi_ping", "Starlette": "starlette_ping", "Litestar": "litestar_ping"}


@dataclass
class Stack:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    path: str = "/ping"
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # server CPU time per request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_gin(workdir: Path) -> Path:
    """Build the seed's Gin program offline from Debian's Go packages."""
    return go_build("gin_ping.go", workdir, {"github.com/gin-gonic/gin": "golang-github-gin-gonic-gin-dev"})


def start(stack: Stack, port: int, cwd: Path = APPS) -> subprocess.Popen[bytes]:
    """The stack on core 0, once it answers /ping."""
    argv = [a.replace("{port}", str(port)) for a in stack.argv]
    proc = subprocess.Popen(
        ["taskset", "-c", "0", *argv],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(APPS), **stack.env},
        stdout=subprocess.DEVNULL,  # access logs are written, to /dev/null (the anchors did the same)
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # `stop` takes its workers with it
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"{stack.name} did not start")


def wrk(port: int, seconds: float, path: str = "/ping") -> tuple[float, float, int]:
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            "-c64",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps, _, p99, failed = parse_wrk(out)
    if failed:
        sys.exit(f"wrk saw {failed} failed responses:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, p99 * 1000, requests


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--only", help="run only stacks whose name contains this (no ratios printed)")
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"need {tool}: run `make bench`")

    py = sys.executable
    kubeship = [
        py,
        "-m",
        "kubeship",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--drain-seconds",
        "0",
    ]
    full_env = {  # every runtime feature on: CORS configured, auth on (with /ping public)
        "KUBESHIP_CORS_ORIGINS": "https://app.example.com",
        "KUBESHIP_AUTH_KEY_FILE": str(APPS / "bench_hmac_key"),
        "KUBESHIP_AUTH_PUBLIC": "/ping,/query",
    }
    with tempfile.TemporaryDirectory() as tmp:
        (APPS / "bench_hmac_key").write_text("a-benchmark-only-hmac-secret-of-40-chars!!\n")
        stacks = [
            Stack("granian, bare ASGI, no middleware", [py, "granian_bare.py", "bare_app:app", "{port}"]),
            Stack("kubeship serve, bare ASGI, full middleware", [*kubeship, "bare_app:app"], full_env),
            Stack("gin.Default()", [str(build_gin(Path(tmp))), "{port}"], {"GOMAXPROCS": "1"}),
            # uvicorn as most users run it: defaults, so its access log is on (to /dev/null, like ours)
            Stack(
                "uvicorn, FastAPI, defaults", [py, "-m", "uvicorn", "fastapi_ping:app", "--port", "{port}"]
            ),
            # the same runtime uncompiled (runtime/compiled.py): what mypyc buys
            Stack(SOURCE, [*kubeship, "bare_app:app"], {**full_env, "KUBESHIP_PURE": "1"}),
            # item 4's question: is Granian's ASGI path the ceiling? Its own interface, same /ping
            Stack(RSGI, [py, "granian_bare.py", "bare_app:rsgi_app", "{port}", "--rsgi"]),
            # what the response headers the runtime adds cost the server, and the middleware without them
            Stack(HEADERS, [py, "granian_bare.py", "bare_app:headers_app", "{port}"]),
            Stack(NO_SECURITY, [*kubeship, "starlette_ping:app"],
                  {**full_env, ENV_SECURITY_HEADERS: "false"}),
            # Granian as it ships: what moving from it to kubeship serve changes, scheduling included
            Stack(
                SHIPPED.format("bare ASGI"),
                [py, "granian_bare.py", "bare_app:app", "{port}", "--sched", "other", "--python-gc"],
            ),
            Stack(
                SHIPPED.format("FastAPI"),
                [py, "granian_bare.py", "fastapi_ping:app", "{port}", "--sched", "other", "--python-gc"],
            ),
            # an endpoint that awaits: the requests in flight keep their objects, the collector walks them
            Stack(f"kubeship serve, {QUERY}, full middleware", [*kubeship, "fastapi_ping:app"], full_env,
                  path="/query"),
            Stack(f"granian, {QUERY}, no middleware", [py, "granian_bare.py", "fastapi_ping:app", "{port}"],
                  path="/query"),
            Stack(PYTHON_GC, [py, "granian_bare.py", "fastapi_ping:app", "{port}", "--python-gc"],
                  path="/query"),
            Stack(SHIPPED.format(QUERY),
                  [py, "granian_bare.py", "fastapi_ping:app", "{port}", "--sched", "other", "--python-gc"],
                  path="/query"),
            Stack(f"uvicorn, {QUERY}, access log off",
                  [py, "-m", "uvicorn", "fastapi_ping:app", "--port", "{port}", "--no-access-log"],
                  path="/query"),
        ]  # fmt: skip
        for framework, module in FRAMEWORKS.items():
            target = f"{module}:app"
            stacks += [
                Stack(f"kubeship serve, {framework}, full middleware", [*kubeship, target], full_env),
                Stack(f"granian, {framework}, no middleware", [py, "granian_bare.py", target, "{port}"]),
                Stack(
                    f"uvicorn, {framework}, access log off",
                    [py, "-m", "uvicorn", target, "--port", "{port}", "--no-access-log"],
                ),
            ]
        if args.only:
            stacks = [s for s in stacks if args.only in s.name]
        total = args.rounds * len(stacks)
        done = 0
        for round_no in range(args.rounds):
            for stack in stacks:
                port = free_port()
                proc = start(stack, port)
                try:
                    wrk(port, args.warmup, stack.path)
                    cpu_before = cpu_seconds(proc.pid)
                    rps, p99, requests = wrk(port, args.seconds, stack.path)
                    cpu = (cpu_seconds(proc.pid) - cpu_before) / requests * 1e6
                finally:
                    stop(proc)
                stack.rps.append(rps)
                stack.p99_ms.append(p99)
                stack.cpu_us.append(cpu)
                done += 1
                print(
                    f"[{done:2d}/{total}] round {round_no + 1}: {stack.name:45s} {rps:9,.0f} rps"
                    f"  p99 {p99:6.2f} ms  cpu {cpu:5.1f} µs/req",
                    file=sys.stderr,
                    flush=True,
                )
        (APPS / "bench_hmac_key").unlink()

    med = {s.name: statistics.median(s.rps) for s in stacks}
    cpu = {s.name: statistics.median(s.cpu_us) for s in stacks}
    if args.only:
        for s in stacks:
            print(
                f"  {s.name:45s} {med[s.name]:9,.0f} rps ({', '.join(f'{r:,.0f}' for r in s.rps)})"
                f"  cpu {cpu[s.name]:.1f} µs/req"
            )
        return 0
    bare, full, gin = (med[s.name] for s in stacks[:3])
    cost_us = 1e6 / full - 1e6 / bare
    cost_cpu_us = cpu[stacks[1].name] - cpu[stacks[0].name]
    print("\nstack (one core, wrk -t1 -c64)                 rps median   (rounds)")
    for s in stacks:
        print(
            f"  {s.name:45s} {med[s.name]:9,.0f}   ({', '.join(f'{r:,.0f}' for r in s.rps)})"
            f"  p99 {statistics.median(s.p99_ms):.2f} ms  cpu {cpu[s.name]:.1f} µs/req"
        )
    goals: list[tuple[str, float, str, bool]] = [
        ("runtime cost per request (µs, from 1/rps)", cost_us, "≤ 5", cost_us <= 5),
        ("kubeship serve bare vs gin.Default()", full / gin, "≥ 1.2×", full / gin >= 1.2),
    ]
    for framework in FRAMEWORKS:
        ours = med[f"kubeship serve, {framework}, full middleware"]
        granian = med[f"granian, {framework}, no middleware"]
        quiet = med[f"uvicorn, {framework}, access log off"]
        goals += [
            (f"{framework}: kubeship serve vs Granian, no middleware", ours / granian, "≥ 0.95×",
             ours / granian >= 0.95),
            (f"{framework}: kubeship serve vs uvicorn, access log off", ours / quiet, "≥ 1.2×",
             ours / quiet >= 1.2),
        ]  # fmt: skip
    fastapi_defaults = med["kubeship serve, FastAPI, full middleware"] / med["uvicorn, FastAPI, defaults"]
    print(f"\n{'ratio':58s} {'this run':>9s}  goal")
    for name, value, goal, met in goals:
        print(f"  {name:56s} {value:9.2f}  {goal:7s} {'met' if met else 'MISSED'}")
    print(f"  {'(FastAPI: kubeship serve vs uvicorn defaults, access log on)':56s} {fastapi_defaults:9.2f}")
    print(f"  {'(runtime cost from server CPU time, steal-free cross-check)':56s} {cost_cpu_us:9.2f}")
    print(f"  {'(Granian bare ASGI vs gin.Default(): the ceiling on ASGI)':56s} {bare / gin:9.2f}")
    print(f"  {'(Granian bare RSGI vs gin.Default(): without ASGI messages)':56s} {med[RSGI] / gin:9.2f}")
    headers_us = 1e6 / med[HEADERS] - 1e6 / bare
    no_security = med[NO_SECURITY] / med["granian, Starlette, no middleware"]
    print(f"  {'(Granian bare: writing the runtime headers, µs a request)':56s} {headers_us:9.2f}")
    print(f"  {'(Starlette: kubeship serve, security headers off, vs Granian)':56s} {no_security:9.2f}")
    source_cpu_us = cpu[SOURCE] - cpu[stacks[0].name]
    print(f"  {'(bare: compiled vs from source, KUBESHIP_PURE=1)':56s} {full / med[SOURCE]:9.2f}")
    print(f"  {'(runtime cost from server CPU time, from source, µs)':56s} {source_cpu_us:9.2f}")
    shipped_bare = full / med[SHIPPED.format("bare ASGI")]
    shipped_fastapi = med["kubeship serve, FastAPI, full middleware"] / med[SHIPPED.format("FastAPI")]
    print(f"  {'(kubeship serve vs Granian as it ships, bare ASGI)':56s} {shipped_bare:9.2f}")
    print(f"  {'(kubeship serve vs Granian as it ships, FastAPI)':56s} {shipped_fastapi:9.2f}")
    query = med[f"kubeship serve, {QUERY}, full middleware"]
    query_granian = med[f"granian, {QUERY}, no middleware"]
    collector = query_granian / med[PYTHON_GC]
    query_shipped = query / med[SHIPPED.format(QUERY)]
    print(
        f"  {'(FastAPI /query: kubeship serve vs Granian, no middleware)':56s} {query / query_granian:9.2f}"
    )
    print(f"  {'(FastAPI /query, Granian: young generation sized vs Python)':56s} {collector:9.2f}")
    print(f"  {'(FastAPI /query: kubeship serve vs Granian as it ships)':56s} {query_shipped:9.2f}")
    query_uvicorn = query / med[f"uvicorn, {QUERY}, access log off"]
    print(f"  {'(FastAPI /query: kubeship serve vs uvicorn, access log off)':56s} {query_uvicorn:9.2f}")
    if args.json:
        results = {
            "goals": [{"ratio": n, "value": round(v, 3), "goal": g, "met": m} for n, v, g, m in goals],
            "runtime_cost_cpu_us": round(cost_cpu_us, 2),
            "runtime_headers_on_granian_us": round(headers_us, 2),
            "starlette_security_headers_off_vs_granian": round(no_security, 3),
            "from_source": {
                "vs_compiled": round(med[SOURCE] / full, 3),
                "cost_cpu_us": round(source_cpu_us, 2),
            },
            "vs_granian_as_shipped": {
                "bare": round(shipped_bare, 3),
                "FastAPI": round(shipped_fastapi, 3),
                "FastAPI /query": round(query_shipped, 3),
            },
            "fastapi_query": {
                "vs_granian": round(query / query_granian, 3),
                "collector": round(collector, 3),
                "vs_uvicorn": round(query_uvicorn, 3),
            },
            "rps_median": {k: round(v) for k, v in med.items()},
            "cpu_us_median": {k: round(v, 2) for k, v in cpu.items()},
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
