"""The rendered canary analysis, proven against real parts: four versions under `kubeship serve`,
HAProxy in front whose weights the test moves through its runtime API (playing Argo's traffic
shift), a real Prometheus scraping them with the rendered relabelling, and `kubeship analyze` on the
rendered AnalysisTemplates, time-compressed through spec settings (2 s interval, 10 s windows).

- a version failing 10 % of its requests at 5 % weight: Failed within 3 measurements;
- a healthy version at 5 %: Successful; the blue-green preview template on it: Successful;
- a version with no users (only HAProxy's /readyz checks reach it): Inconclusive, never Successful;
- Prometheus unreachable: Error after the consecutive-error limit.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubeship.observe import prometheus_config
from kubeship.render import render, to_yaml
from kubeship.spec.load import parse_spec
from tests.conftest import ROOT, free_port
from tests.e2e.conftest import start_prometheus
from tests.observe.conftest import file_sd

pytestmark = pytest.mark.e2e

SPEC = """
name: shop
version: "2.0.0"
image: {name: shop, tag: "2.0.0"}
observe: {scrapeInterval: 1s}
slo:
  availability: {target: 99.9%}
delivery:
  strategy: {strategy}
  {steps}
  analysis: {interval: 2s, window: 10s, minRequests: 20, count: 4, consecutiveErrorLimit: 1}
"""
VERSIONS = {"stable": 0, "bad": 10, "good": 0, "idle": 0}  # fail-every: 10 → 10 % of /ping fail
HAPROXY_CFG = """
global
    stats socket {sock} mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend web
    bind 127.0.0.1:{front}
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /readyz
    default-server inter 500ms
{servers}
"""


def template(strategy: str, tmp: Path) -> Path:
    steps = "steps: [{weight: 5}, {analysis: {}}]" if strategy == "canary" else ""
    spec = parse_spec(SPEC.replace("{strategy}", strategy).replace("{steps}", steps))
    (gate,) = [o for o in render(spec) if o["metadata"]["name"] == "shop-slo-gate"]
    path = tmp / f"{strategy}-gate.yaml"
    path.write_text(to_yaml([gate]))
    return path


def targets(ports: dict[str, int]) -> list[dict[str, Any]]:
    """What pod discovery gives Prometheus for one pod per version, Argo's hash label included."""
    return [
        {
            "targets": [f"127.0.0.1:{port}"],
            "labels": {
                "__meta_kubernetes_namespace": "default",
                "__meta_kubernetes_pod_name": f"shop-{name}-x2x9q",
                "__meta_kubernetes_pod_phase": "Running",
                "__meta_kubernetes_pod_container_port_name": "http",
                "__meta_kubernetes_pod_label_app_kubernetes_io_name": "shop",
                "__meta_kubernetes_pod_label_rollouts_pod_template_hash": name,
            },
        }
        for name, port in ports.items()
    ]


def haproxy(sock: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(command.encode() + b"\n")
        return s.recv(4096).decode()


def analyze(path: Path, prom: str, hash_: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kubeship", "analyze", str(path), "--prometheus", prom,
         "--arg", f"canary-hash={hash_}", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip


def outcome(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    out, err = proc.communicate(timeout=90)
    assert out, err
    return proc.returncode, json.loads(out)


def test_rendered_analysis_judges_canaries_through_prometheus(
    serve: Any, daemons: Any, tmp_path: Path
) -> None:
    if shutil.which("haproxy") is None:
        pytest.fail("haproxy is not installed: `make test` installs it")
    apps = ROOT / "tests" / "apps"
    services = {}
    for name, every in VERSIONS.items():
        conf = tmp_path / f"{name}.yaml"
        conf.write_text(f"fail-every: {every}\n")
        services[name] = serve("release_app:app", "--config", str(conf), cwd=apps)
    ports = {name: s.port for name, s in services.items()}

    spec = parse_spec(SPEC.replace("{strategy}", "canary").replace("{steps}", ""))
    (tmp_path / "targets.json").write_text(json.dumps(targets(ports)))
    config = file_sd(prometheus_config(spec), "targets.json")
    (tmp_path / "prometheus.yml").write_text(to_yaml([config]))
    prom = start_prometheus(daemons, tmp_path, free_port())

    # Argo's traffic shift at the first step: stable 90, each canary 5; the idle version gets none.
    sock, front = tmp_path / "haproxy.sock", free_port()
    weights = {"stable": 90, "bad": 5, "good": 5, "idle": 0}
    servers = "\n".join(f"    server {n} 127.0.0.1:{p} check weight 1" for n, p in ports.items())
    (tmp_path / "haproxy.cfg").write_text(HAPROXY_CFG.format(sock=sock, front=front, servers=servers))
    daemons(
        [shutil.which("haproxy") or "haproxy", "-f", str(tmp_path / "haproxy.cfg"), "-db"],
        tmp_path / "lb.log",
    )
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    for name, weight in weights.items():
        assert haproxy(sock, f"set weight app/{name} {weight}").strip() == ""

    stop = threading.Event()
    sent = {"n": 0}

    def load() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{front}") as client:
            while not stop.is_set():
                client.get("/ping")
                sent["n"] += 1
                time.sleep(0.002)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    try:
        time.sleep(11)  # one window of traffic in Prometheus before the first measurement
        canary, blue_green = template("canary", tmp_path), template("blueGreen", tmp_path)
        runs = {
            "bad": analyze(canary, prom, "bad"),
            "good": analyze(canary, prom, "good"),
            "preview": analyze(blue_green, prom, "good"),
            "idle": analyze(canary, prom, "idle"),
            "down": analyze(canary, f"http://127.0.0.1:{free_port()}", "good"),
        }
        results = {name: outcome(proc) for name, proc in runs.items()}
    finally:
        stop.set()
        loader.join(5)
    assert sent["n"] > 500, "the load generator could not reach HAProxy"

    code, bad = results["bad"]
    assert (code, bad["phase"]) == (10, "Failed"), bad
    errors = bad["metrics"][0]
    assert errors["failed"] == 2 and errors["count"] <= 3  # failureLimit 1: the second bad one aborts
    assert all(
        float(m["value"].strip("[]")) > 0.0144 for m in errors["measurements"] if m["phase"] == "Failed"
    )

    for name in ("good", "preview"):
        code, good = results[name]
        assert (code, good["phase"]) == (0, "Successful"), good
        assert good["metrics"][0]["successful"] == 4  # count 4, every one within the SLO

    code, idle = results["idle"]  # only /readyz probes reached it: excluded, so no data, never a pass
    assert (code, idle["phase"]) == (12, "Inconclusive"), idle
    assert {m["value"] for m in idle["metrics"][0]["measurements"]} == {"[]"}

    code, down = results["down"]
    assert (code, down["phase"]) == (11, "Error"), down
    assert down["metrics"][0]["error"] == 2  # consecutiveErrorLimit 1: the second error ends it
