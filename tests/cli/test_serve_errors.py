"""Bad input to `kubeship serve`: one clear line, a documented exit code, no traceback."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import httpx
import pytest

from kubeship.errors import AppLoadError, ConfigError, ServeError
from tests.conftest import APPS, free_port, run_cli


def one_clean_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("kubeship: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param("no_such_module:app", "no module named 'no_such_module'", id="unknown-module"),
        pytest.param("fastapi_app:nope", "has no attribute 'nope'", id="unknown-attribute"),
        pytest.param("fastapi_app", "expected module:attribute", id="no-colon"),
        pytest.param("fastapi_app:config", "is not an ASGI application", id="not-callable"),
    ],
)
def test_unknown_app(target: str, expected: str) -> None:
    result = run_cli("serve", target, "--port", str(free_port()))
    assert result.returncode == AppLoadError.exit_code
    assert expected in one_clean_line(result.stderr)


def test_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "fastapi_app:app", "--host", "127.0.0.1", "--port", str(port))
    assert result.returncode == ServeError.exit_code
    assert f"port {port} on 127.0.0.1 is already in use" in one_clean_line(result.stderr)


def test_unreadable_config(tmp_path: Path) -> None:
    result = run_cli("serve", "fastapi_app:app", "--config", str(tmp_path / "missing.yaml"))
    assert result.returncode == ConfigError.exit_code
    assert "missing.yaml: config path not found" in one_clean_line(result.stderr)


def test_malformed_yaml_config_points_at_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("message: pong\nlimits: {cpu: 1\n")
    result = run_cli("serve", "fastapi_app:app", "--config", str(bad), "--port", str(free_port()))
    assert result.returncode == ConfigError.exit_code
    assert f"{bad}:3:1: invalid YAML" in one_clean_line(result.stderr)


def test_bad_auth_setting_fails_before_serving(tmp_path: Path) -> None:
    result = run_cli(
        "serve", "fastapi_app:app", "--port", str(free_port()), KUBESHIP_AUTH_KEY_FILE=str(tmp_path / "nope")
    )
    assert result.returncode == ConfigError.exit_code
    assert "secret file not found" in one_clean_line(result.stderr)


def test_usage_errors_exit_2() -> None:
    result = run_cli("serve", "fastapi_app:app", "--port", "not-a-number")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_two_servers_started_together_on_one_port_one_exits_5(tmp_path: Path) -> None:
    """Granian binds with SO_REUSEPORT: without a lock both would serve and share the port."""
    import signal
    import subprocess
    import sys
    import time

    port = free_port()
    argv = [sys.executable, "-m", "kubeship", "serve", "fastapi_app:app", "--host", "127.0.0.1",
            "--port", str(port), "--drain-seconds", "0"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(APPS)}
    procs = [
        subprocess.Popen(
            argv, cwd=APPS, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and all(p.poll() is None for p in procs):
            time.sleep(0.1)
        exited = [p for p in procs if p.poll() is not None]
        assert len(exited) == 1, "both servers came up on one port"
        assert exited[0].returncode == ServeError.exit_code
        assert f"port {port} on 127.0.0.1 is already in use" in one_clean_line(exited[0].stderr.read())
        # the other one serves (stopped only once up: a stop mid-start may wait out the kill timeout)
        while time.monotonic() < deadline + 20:
            with contextlib.suppress(httpx.TransportError):
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the server that holds the port does not answer")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                p.wait(30)
    import tempfile

    lock = Path(tempfile.gettempdir(), f"kubeship-port-127.0.0.1-{port}.lock")
    assert not lock.exists(), "the server left its port lock behind"
