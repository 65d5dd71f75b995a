"""Shared helpers: real `kubeship serve` processes on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).resolve().parent / "apps"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    """`kubeship serve TARGET` as a real process; stdout and stderr captured to files."""

    def __init__(
        self,
        target: str,
        tmp: Path,
        *args: str,
        cwd: Path = APPS,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = tmp / f"serve-{self.port}.out"
        self.stderr_path = tmp / f"serve-{self.port}.err"
        full_env = {**os.environ, "PYTHONPATH": str(cwd), **(env or {})}
        full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubeship",
                "serve",
                target,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *args,
            ],
            cwd=cwd,
            env=full_env,
            stdout=self.stdout_path.open("wb"),
            stderr=self.stderr_path.open("wb"),
        )

    def wait_ready(self, timeout: float = 20.0) -> Service:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}: {self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not ready in {timeout}s: {self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        # The last line may be caught half written; only whole lines are read.
        complete, _, _ = self.stdout_path.read_bytes().rpartition(b"\n")
        lines = []
        for raw in complete.splitlines():
            if raw.startswith(b"{"):
                lines.append(orjson.loads(raw))
        return lines

    def wait_log(self, predicate: Any, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_lines():
                if predicate(line):
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no matching log line in {timeout}s; output:\n{self.output()}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start services; every one still running at the end is stopped."""
    started: list[Service] = []

    def start(target: str, *args: str, ready: bool = True, **kwargs: Any) -> Service:
        service = Service(target, tmp_path, *args, **kwargs)
        started.append(service)
        return service.wait_ready() if ready else service

    yield start
    for service in started:
        if service.proc.poll() is None:
            service.proc.send_signal(signal.SIGINT)
            try:
                service.proc.wait(15)
            except subprocess.TimeoutExpired:
                service.proc.kill()
                service.proc.wait()


def run_cli(
    *args: str, cwd: Path = APPS, timeout: float = 30, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeship", *args],
        input=input,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
