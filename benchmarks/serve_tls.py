"""What TLS, mTLS and the audit trail cost `kubeship serve`, on one core.

The server runs on core 0 (one worker), the load on core 1; rounds are
interleaved and the median reported. Printed:

  keep-alive requests/s (wrk -t1 -c64, GET /ping, bare ASGI app, full runtime):
    plain HTTP (Granian)  vs  HTTPS (Granian's TLS, no client certificates)   goal ≥ 0.8×
                          vs  HTTPS on the mTLS server (uvicorn + Python ssl, rotating context;
                              certificates not required, as wrk has none)
  new connections/s (openssl s_time -new: a full handshake each):
    TLS on Granian, TLS on the mTLS server, mTLS (client certificate presented and verified)
  sensitive requests/s (wrk DELETE /databases/x, plain HTTP):
    no audit  vs  audited (one sealed record, written and fdatasync'ed before the response;
    concurrent requests share a sync)                                          goal ≥ 0.5×
    → µs per audit record = 1/rps(audited) - 1/rps(no audit)
    audited at 128 connections (twice --max-concurrency: requests queue in the runtime while the
    records in the app wait for their sync)  vs  audited at 64                  goal ≥ 0.8×

usage: python benchmarks/serve_tls.py [--rounds 3] [--seconds 5] [--only tls|audit]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from kubeship.measure import parse_wrk, stop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.pki import CA  # noqa: E402  (the tests' certificate maker)

APPS = ROOT / "benchmarks" / "apps"
DELETE_LUA = 'wrk.method = "DELETE"\n'


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str], port: int, verify: object = False) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "kubeship", "serve", "bare_app:app",
         "--host", "127.0.0.1", "--port", str(port), "--drain-seconds", "0", *args],
        cwd=APPS, env={**os.environ, "PYTHONPATH": str(APPS), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    scheme = "https" if args else "http"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{scheme}://127.0.0.1:{port}/healthz", verify=verify, timeout=1)  # type: ignore[arg-type]
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("server did not start")


def wrk(url: str, seconds: float, script: Path | None = None, connections: int = 64) -> float:
    argv = [
        "taskset",
        "-c",
        "1",
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
    ]
    if script is not None:
        argv += ["-s", str(script)]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    rps, _, _, failed = parse_wrk(out)
    if failed:
        sys.exit(f"wrk saw {failed} failed responses:\n{out}")
    return rps


def s_time(port: int, seconds: float, ca: Path, cert: Path | None, key: Path | None) -> float:
    argv = ["taskset", "-c", "1", "openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new",
            "-time", str(max(1, round(seconds))), "-CAfile", str(ca)]  # fmt: skip
    if cert is not None and key is not None:
        argv += ["-cert", str(cert), "-key", str(key)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    m = re.search(r"(\d+) connections in ([\d.]+)s", out)
    if m is None:
        sys.exit(f"openssl s_time printed no rate:\n{out}")
    return int(m.group(1)) / float(m.group(2))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--only", choices=("tls", "audit"), help="Run only the TLS or the audit cases.")
    args = parser.parse_args()
    for tool in ("wrk", "taskset", "openssl"):
        if shutil.which(tool) is None:
            sys.exit(f"need {tool}: run `make bench`")
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ca = CA()
        ca.issue(dns=("127.0.0.1",)).write(tmp / "tls.crt", tmp / "tls.key")
        ca.issue(uris=("spiffe://bench/client",)).write(tmp / "client.crt", tmp / "client.key")
        (tmp / "ca.crt").write_bytes(ca.pem)
        (tmp / "audit.key").write_text("b" * 48)
        (tmp / "delete.lua").write_text(DELETE_LUA)
        tls = ["--tls-cert", str(tmp / "tls.crt"), "--tls-key", str(tmp / "tls.key")]
        mtls = [*tls, "--tls-client-ca", str(tmp / "ca.crt")]
        audit_env = {
            "KUBESHIP_AUDIT_FILE": str(tmp / "audit.jsonl"),
            "KUBESHIP_AUDIT_KEY_FILE": str(tmp / "audit.key"),
            "KUBESHIP_AUDIT_OPERATIONS": "DELETE /databases/{name}",
        }
        ca_file = str(tmp / "ca.crt")
        # The mTLS server (uvicorn + Python's ssl) without requiring a certificate: wrk has none.
        ssl_server = {"KUBESHIP_MTLS_REQUIRED": "false"}
        cases = [
            ("keep-alive rps, plain HTTP (Granian)", [], {}, "wrk-http"),
            ("keep-alive rps, HTTPS (Granian TLS)", tls, {}, "wrk-https"),
            ("keep-alive rps, HTTPS (mTLS server)", mtls, ssl_server, "wrk-https"),
            ("new connections/s, TLS (Granian TLS)", tls, {}, "s_time"),
            ("new connections/s, TLS (mTLS server)", mtls, ssl_server, "s_time"),
            ("new connections/s, mTLS", mtls, {}, "s_time-client"),
            ("DELETE rps, no audit", [], {}, "wrk-delete"),
            ("DELETE rps, audited (fdatasync)", [], audit_env, "wrk-delete"),
            ("DELETE rps, audited, 128 connections", [], audit_env, "wrk-delete-128"),
        ]
        audit = ("wrk-delete", "wrk-delete-128")
        chosen = [c for c in cases if args.only is None or (c[3] in audit) == (args.only == "audit")]
        for round_no in range(args.rounds):
            for name, flags, env, how in chosen:
                port = free_port()
                proc = start(flags, env, port, verify=ca_file if flags else False)
                try:
                    if how.startswith("wrk"):
                        scheme = "https" if how == "wrk-https" else "http"
                        path = "/databases/x" if how in audit else "/ping"
                        script = tmp / "delete.lua" if how in audit else None
                        conns = 128 if how == "wrk-delete-128" else 64
                        wrk(f"{scheme}://127.0.0.1:{port}{path}", 1, script, conns)  # warm-up
                        value = wrk(f"{scheme}://127.0.0.1:{port}{path}", args.seconds, script, conns)
                    else:
                        client = how.endswith("client")
                        cert, key = (tmp / "client.crt", tmp / "client.key") if client else (None, None)
                        value = s_time(port, args.seconds, tmp / "ca.crt", cert, key)
                finally:
                    stop(proc)
                results.setdefault(name, []).append(value)
                print(f"round {round_no + 1}: {name:40s} {value:9,.0f}", file=sys.stderr, flush=True)
    med = {name: statistics.median(values) for name, values in results.items()}
    print("\none core, median of rounds")
    for name, values in results.items():
        print(f"  {name:40s} {med[name]:9,.0f}   ({', '.join(f'{v:,.0f}' for v in values)})")
    print(f"\n  {'ratio':44s} {'this run':>8s}  goal")
    if args.only != "audit":
        plain, https, ssl_https, tls_new, ssl_new, mtls_new = (med[c[0]] for c in cases[:6])
        print(f"  {'HTTPS (Granian TLS) / plain HTTP keep-alive':44s} {https / plain:7.2f}×  ≥ 0.8×  "
              f"{_met(https / plain >= 0.8)}")  # fmt: skip
        print(f"  {'HTTPS (mTLS server) / plain HTTP keep-alive':44s} {ssl_https / plain:7.2f}×")
        print(f"  {'handshakes: TLS Granian / TLS mTLS server':44s} {tls_new / ssl_new:7.2f}×")
        print(f"  {'handshakes: mTLS / TLS, same server':44s} {mtls_new / ssl_new:7.2f}×")
    if args.only != "tls":
        delete, audited, queued = (med[c[0]] for c in cases[6:])
        audit_row = "audited / plain DELETE rps (64 connections)"
        print(f"  {audit_row:44s} {audited / delete:7.2f}×  ≥ 0.5×  {_met(audited / delete >= 0.5)}")
        print(f"  {'cost of one audit record':44s} {1e6 / audited - 1e6 / delete:7.0f} µs")
        queued_row = "audited rps, 128 / 64 connections"
        print(f"  {queued_row:44s} {queued / audited:7.2f}×  ≥ 0.8×  {_met(queued / audited >= 0.8)}")
    return 0


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    raise SystemExit(main())
