"""Real daemons for the end-to-end tests: started, waited for, always stopped."""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from tests.conftest import free_port
from tests.observe.conftest import tool


@pytest.fixture
def daemons() -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready in {timeout}s")


def start_prometheus(daemons: Any, directory: Path, port: int) -> str:
    """A real Prometheus on loopback with `directory/prometheus.yml`; its URL once it is ready."""
    from tests.observe.conftest import tool

    daemons(
        [
            tool("prometheus"),
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        directory / "prometheus.log",
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/-/ready")
    return url


@pytest.fixture
def exposition() -> Iterator[Any]:
    """Serve a Prometheus text exposition on loopback (a FAKE exporter for what needs a cluster):
    `exposition(make_text)` → its host:port; `make_text()` is called on every scrape."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    servers: list[ThreadingHTTPServer] = []

    def start(make_text: Any) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = make_text().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def kube_state_metrics(
    deployment: str, pods: list[str], started: float, requests: dict[str, str]
) -> list[str]:
    """FAKE: what kube-state-metrics exposes for a Deployment's running, ready pods (there is no
    cluster), with `requests` ({resource: value}) on each pod's container named after the Deployment."""
    of = f'namespace="default",deployment="{deployment}"'
    lines = [
        f"kube_deployment_spec_replicas{{{of}}} {len(pods)}",
        f"kube_deployment_status_replicas{{{of}}} {len(pods)}",
    ]
    units = {"cpu": "core", "memory": "byte"}
    for pod in pods:
        p = f'namespace="default",pod="{pod}"'
        lines += [
            f"kube_pod_info{{{p}}} 1",
            f'kube_pod_status_ready{{{p},condition="true"}} 1',
            f'kube_pod_status_phase{{{p},phase="Running"}} 1',
            f"kube_pod_start_time{{{p}}} {started - 3600:.0f}",
        ]
        lines += [
            f'kube_pod_container_resource_requests{{{p},container="{deployment}",resource="{resource}",'
            f'unit="{units[resource]}"}} {value}'
            for resource, value in requests.items()
        ]
    return lines


# A registry with TLS (a private CA) and basic auth, as a team runs one; podman builds and pushes.
BASE = "localhost/python:3.11-bookworm"
USER, PASSWORD = "kubeship", "kubeship-test-pass"


def sh(
    *args: str, check: bool = True, timeout: float = 300, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)  # type: ignore[call-overload]
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} → {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result  # type: ignore[no-any-return]


@dataclass
class Registry:
    address: str
    certs: Path  # holds ca.crt, for --cert-dir


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    tool("podman")
    root = tmp_path_factory.mktemp("registry")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(root / "registry.key"))
    cert.cert_chain_pems[0].write_to_path(str(root / "registry.crt"))
    (root / "certs").mkdir()
    ca.cert_pem.write_to_path(str(root / "certs" / "ca.crt"))
    htpasswd = sh(tool("htpasswd"), "-Bbn", USER, PASSWORD).stdout
    (root / "htpasswd").write_text(htpasswd)
    port = free_port()
    (root / "config.yml").write_text(
        f"""version: 0.1
log: {{level: warn, accesslog: {{disabled: true}}}}
storage: {{filesystem: {{rootdirectory: {root / "data"}}}, delete: {{enabled: true}}}}
http: {{addr: 127.0.0.1:{port}, tls: {{certificate: {root / "registry.crt"}, key: {root / "registry.key"}}}}}
auth: {{htpasswd: {{realm: kubeship, path: {root / "htpasswd"}}}}}
"""
    )
    proc = subprocess.Popen(
        [tool("docker-registry"), "serve", str(root / "config.yml")],
        stdout=(root / "registry.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        trust = ssl.create_default_context(cafile=str(root / "certs" / "ca.crt"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"https://127.0.0.1:{port}/v2/", verify=trust).status_code == 401:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Registry(f"127.0.0.1:{port}", root / "certs")
    finally:
        proc.terminate()
        proc.wait(10)
        # the images built for this registry go with it (the base image stays)
        images = sh("podman", "images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split()
        ours = [i for i in images if i.startswith(f"127.0.0.1:{port}/")]
        if ours:
            sh("podman", "rmi", "--force", *ours, check=False)
