"""Real daemons for the end-to-end tests: started, waited for, always stopped."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest


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
