"""End to end: service → Prometheus → Alertmanager → webhook, all real, all on loopback.

The FastAPI test app runs under `kubeship serve`; a real Prometheus scrapes it
with the rendered scrape job and evaluates the rendered rules; a real
Alertmanager routes with the rendered config to a webhook receiver here. Two
adaptations, both because this is one machine and not a cluster: Kubernetes
discovery is swapped for a file that holds what it would have found (Debian's
Prometheus is built without it; the relabel rules run as rendered), and the
rules' `for:` holds are dropped so the test takes seconds, not minutes (the
holds themselves are covered by the promtool unit tests).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubeship.observe import alertmanager_config, prometheus_config, rule_groups, to_text
from kubeship.observe.alertmanager import TEMPLATE, TEMPLATE_FILE
from kubeship.spec import parse_spec
from tests.conftest import free_port
from tests.e2e.conftest import start_prometheus, wait_http
from tests.observe.conftest import file_sd, pod_targets, tool

pytestmark = pytest.mark.e2e

SPEC = """
name: shop
version: "1.0.0"
image: {name: shop, tag: "1.0.0"}
observe: {team: payments, scrapeInterval: 1s}
slo:
  availability: {target: 99%}
alerting:
  receiver: tickets
  groupWait: 1s
  groupInterval: 1s
  repeatInterval: 1h
  receivers:
    pager: {webhook: {url: "http://127.0.0.1:{hook}/pager"}}
    tickets: {webhook: {url: "http://127.0.0.1:{hook}/tickets"}}
  routes:
    - match: {severity: critical}
      receiver: pager
"""


class Hook:
    """A webhook receiver: remembers every POST body by path."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, path: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for got_path, body in list(self.received):
                if got_path == path:
                    return body
            time.sleep(0.1)
        raise AssertionError(f"no POST to {path} in {timeout}s; got {self.received}")


def test_failing_requests_page_through_prometheus_and_alertmanager(
    serve: Any, daemons: Any, tmp_path: Path
) -> None:
    hook = Hook()
    spec = parse_spec(SPEC.replace("{hook}", str(hook.port)))
    service = serve("fastapi_app:app")

    rules = rule_groups(spec)
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("for", None)
    (tmp_path / "rules.yml").write_text(to_text(rules))
    decoy = serve("starlette_app:app")  # another app's pod: the relabel rules must drop it
    (tmp_path / "targets.json").write_text(
        json.dumps(pod_targets(spec, f"127.0.0.1:{service.port}", decoy=f"127.0.0.1:{decoy.port}"))
    )
    am_port, prom_port = free_port(), free_port()
    config = file_sd(prometheus_config(spec, ["rules.yml"]), "targets.json")
    config["global"]["evaluation_interval"] = "1s"
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]}
    (tmp_path / "prometheus.yml").write_text(to_text(config))
    (tmp_path / TEMPLATE_FILE).write_text(TEMPLATE)
    (tmp_path / "alertmanager.yml").write_text(to_text(alertmanager_config(spec, {}, str(tmp_path))))

    daemons(
        [
            tool("prometheus-alertmanager"),
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
        ],
        tmp_path / "alertmanager.log",
    )
    prom = start_prometheus(daemons, tmp_path, prom_port)
    wait_http(f"http://127.0.0.1:{am_port}/-/ready")

    # The scrape job finds exactly our pod, relabelled like in a cluster.
    deadline = time.monotonic() + 30
    active: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        targets = httpx.get(f"{prom}/api/v1/targets").json()["data"]
        active = [t for t in targets["activeTargets"] if t["health"] == "up"]
        if active:
            break
        time.sleep(0.2)
    assert len(active) == 1, targets
    assert active[0]["labels"]["job"] == "shop"
    assert active[0]["labels"]["pod"] == "shop-7d9f8b6c5d-x2x9q"
    assert active[0]["scrapeUrl"] == f"http://127.0.0.1:{service.port}/metrics"
    assert len(targets["droppedTargets"]) == 1  # the decoy app's pod

    # 20 % of requests fail: 20x a 1 % error budget.
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=service.url) as client:
            while not stop.is_set():
                for path in ("/ping", "/ping", "/ping", "/ping", "/boom"):
                    client.get(path)
                time.sleep(0.01)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    try:
        page = hook.wait("/pager", timeout=45)
    finally:
        stop.set()
        loader.join(5)

    assert page["receiver"] == "pager"
    assert page["status"] == "firing"
    assert page["groupLabels"] == {"alertname": "AvailabilityBudgetBurn", "service": "shop"}
    assert page["commonLabels"]["severity"] == "critical"
    assert page["commonLabels"]["team"] == "payments"
    windows = {(a["labels"]["long_window"], a["labels"]["short_window"]) for a in page["alerts"]}
    assert ("1h", "5m") in windows and windows <= {("1h", "5m"), ("6h", "30m")}
    first = page["alerts"][0]
    assert "of requests failed (5xx)" in first["annotations"]["description"]
    # The pages inhibit the same service's warnings (slower burns, budget exhausted): no ticket.
    time.sleep(3)
    assert [p for p, _ in hook.received if p == "/tickets"] == []
    firing = httpx.get(f"{prom}/api/v1/alerts").json()["data"]["alerts"]
    assert {"AvailabilityBudgetExhausted", "AvailabilityBudgetBurn"} <= {
        a["labels"]["alertname"] for a in firing
    }
