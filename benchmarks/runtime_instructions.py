"""The runtime's per-request cost in CPU instructions: deterministic, immune to a noisy machine.

Runs the bare ASGI /ping app (or, with --app fastapi, the FastAPI one) N times in-process on
uvloop, with and without the kubeship middleware (every feature on: CORS configured, auth on with
/ping public, access log to /dev/null, metrics), under `valgrind
--tool=callgrind`, at two values of N. The difference in instruction counts
divided by the difference in N is the per-request cost, start-up excluded.
Instructions are not microseconds, but they don't move when the other core
is busy, so a change to the hot path shows up here first. Not counted: what the server spends on
what the middleware adds to an answer (Granian converts each response header from Python; the
runtime's six cost it about 1.3 µs a request: serve.py prints it).

usage: python benchmarks/runtime_instructions.py [--app bare|fastapi] [--small 2000] [--large 12000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def drive(variant: str, n: int, which: str) -> None:
    """The measured program: n requests through the app (child process)."""
    sys.path.insert(0, str(HERE / "apps"))
    os.environ["KUBESHIP_CORS_ORIGINS"] = "https://app.example.com"
    import importlib

    bare = importlib.import_module(
        {
            "bare": "bare_app",
            "fastapi": "fastapi_ping",
            "starlette": "starlette_ping",
            "litestar": "litestar_ping",
        }[which]
    ).app
    app = bare
    if variant == "kubeship":
        from kubeship.runtime.log import LogWriter
        from kubeship.runtime.middleware import Runtime
        from kubeship.runtime.settings import RuntimeSettings

        with tempfile.NamedTemporaryFile("w", suffix=".key", delete=False) as key:
            key.write("a-benchmark-only-hmac-secret-of-40-chars!!\n")
        os.environ["KUBESHIP_AUTH_KEY_FILE"] = key.name
        os.environ["KUBESHIP_AUTH_PUBLIC"] = "/ping"
        app = Runtime(
            bare, settings=RuntimeSettings.from_env(), log=LogWriter(os.open(os.devnull, os.O_WRONLY))
        )
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/ping",
        "raw_path": b"/ping",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"wrk"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        return None

    async def run() -> None:
        for _ in range(n):
            await app(dict(scope), receive, send)

    import uvloop

    uvloop.run(run())


def instructions(variant: str, n: int, which: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--drive",
                variant,
                str(n),
                "--app",
                which,
            ],
            check=True,
            capture_output=True,
        )
        summary = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
        assert summary is not None
        return int(summary.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--app", choices=["bare", "fastapi", "starlette", "litestar"], default="bare")
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=12000)
    parser.add_argument("--drive", nargs=2, metavar=("VARIANT", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args.drive[0], int(args.drive[1]), args.app)
        return 0
    if shutil.which("valgrind") is None:
        sys.exit("need valgrind (apt-get install valgrind)")
    per_request = {}
    for variant in ("bare", "kubeship"):  # "bare": the app alone (bare ASGI or FastAPI)
        small = instructions(variant, args.small, args.app)
        large = instructions(variant, args.large, args.app)
        per_request[variant] = (large - small) / (args.large - args.small)
        print(f"{variant:9s} {per_request[variant]:9,.0f} instructions/request", file=sys.stderr)
    added = per_request["kubeship"] - per_request["bare"]
    print(
        f"runtime middleware adds {added:,.0f} instructions per request "
        f"({per_request['kubeship'] / per_request['bare']:.2f}× the {args.app} app's own path)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
