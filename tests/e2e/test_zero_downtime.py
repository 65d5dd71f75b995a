"""Zero downtime: HAProxy health-checks /readyz in front of two instances; under
continuous load each instance in turn gets SIGTERM and is restarted. The
client must see no failed request.

This is the local analogue of a Kubernetes rolling update: HAProxy plays the
endpoints controller + kube-proxy (it stops routing to a pod whose readiness
fails), SIGTERM is what the kubelet sends. HAProxy is configured with
`retries 0` and no redispatch, so it hides nothing: a request sent to a
closed or closing instance would reach the client as a 503.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import Service, free_port

pytestmark = pytest.mark.e2e

HAPROXY_CFG = """
global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    retries 0
frontend web
    bind 127.0.0.1:{front}
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 100ms fall 1 rise 2
    server a 127.0.0.1:{a} check
    server b 127.0.0.1:{b} check
"""


def wait_until(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met in {timeout}s")


def test_rolling_restart_behind_haproxy_loses_no_request(tmp_path: Path) -> None:
    haproxy = shutil.which("haproxy")
    assert haproxy, "haproxy is not installed: `make test` installs it (apt-get install haproxy)"
    ports = {"a": free_port(), "b": free_port()}
    front = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(HAPROXY_CFG.format(front=front, **ports))
    args = ("--drain-seconds", "1.0", "--shutdown-timeout", "5")
    instances = {
        name: Service("fastapi_app:app", tmp_path, *args, port=port).wait_ready()
        for name, port in ports.items()
    }
    lb = subprocess.Popen([haproxy, "-f", str(cfg), "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{front}/users/1"
    stop = threading.Event()
    outcomes: Counter[str] = Counter()
    served_by: set[str] = set()
    lock = threading.Lock()

    def load() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    r = client.get(url)
                    outcome = str(r.status_code)
                    instance = r.headers.get("x-request-id", "").split("-")[0]
                except httpx.HTTPError as exc:
                    outcome, instance = type(exc).__name__, ""
                with lock:
                    outcomes[outcome] += 1
                    served_by.add(instance)

    try:
        wait_until(lambda: _up(url), 10)
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        for name in ("a", "b"):
            old = instances[name]
            old.proc.send_signal(signal.SIGTERM)
            assert old.proc.wait(20) == 0
            instances[name] = Service("fastapi_app:app", tmp_path, *args, port=ports[name]).wait_ready()
            time.sleep(1.0)  # HAProxy sees the new instance ready (rise 2 × 100 ms) and uses it
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(10)
    finally:
        stop.set()
        lb.terminate()
        lb.wait(5)
        for svc in instances.values():
            svc.stop(signal.SIGINT)

    total = sum(outcomes.values())
    assert outcomes == Counter({"200": total}), outcomes
    assert total > 200, f"too little load to mean anything: {total}"
    # four processes served: a, b, and their replacements
    assert len(served_by - {""}) == 4, served_by


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
