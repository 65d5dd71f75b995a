"""Layered config, positions in errors, and hot reload of a Kubernetes-style mount."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubeship.errors import ConfigError
from kubeship.runtime.config import Config
from kubeship.runtime.log import LogWriter
from tests.k8s_mount import write_atomic_mount

_OPEN: list[object] = []  # the log files' handles, kept (and their fds open) for the session


def log_to(path: Path) -> LogWriter:
    handle = path.open("wb")
    _OPEN.append(handle)
    return LogWriter(fd=handle.fileno())


def test_layers_defaults_then_file_then_environment(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text("timeout: 30s\nlog-level: info\nnested: {a: 1}\n")
    cfg = Config(
        {"timeout": "10s", "log-level": "warn", "only-default": "d"},
        f,
        environ={"APP_LOG_LEVEL": "debug", "APP_UNKNOWN": "ignored"},
    )
    assert dict(cfg) == {"timeout": "30s", "log-level": "debug", "only-default": "d", "nested": {"a": 1}}


def test_configmap_directory_one_file_per_key(tmp_path: Path) -> None:
    write_atomic_mount(tmp_path / "cm", {"log-level": "debug\n", "settings.json": '{"retries": 3}'}, 1)
    cfg = Config({}, tmp_path / "cm")
    assert dict(cfg) == {"log-level": "debug", "retries": 3}


def test_typed_values_and_a_clear_error_for_bad_ones(tmp_path: Path) -> None:
    cfg = Config({"workers": "4", "ratio": "high"}, environ={})
    assert cfg.typed("workers", int, 1) == 4
    assert cfg.typed("absent", int, 7) == 7
    with pytest.raises(ConfigError, match="'ratio': cannot read 'high' as float"):
        cfg.typed("ratio", float, 0.5)


@pytest.mark.parametrize(
    ("name", "text", "where", "what"),
    [
        pytest.param("bad.yaml", "a: 1\nb: [1, 2\n", ":3:1:", "invalid YAML", id="yaml-unclosed-list"),
        pytest.param("bad.json", '{"a": 1,\n "b": }', ":2:7:", "invalid JSON", id="json"),
        pytest.param("list.yaml", "- a\n- b\n", ":1:1:", "expected a mapping", id="not-a-mapping"),
    ],
)
def test_malformed_files_point_at_line_and_column(
    tmp_path: Path, name: str, text: str, where: str, what: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Config({}, path)
    assert str(info.value).startswith(f"{path}{where}") and what in str(info.value)


def test_missing_path_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; mount the ConfigMap there"):
        Config({}, tmp_path / "nope")


def test_reload_sees_the_kubelet_symlink_swap(tmp_path: Path) -> None:
    mount = tmp_path / "cm"
    write_atomic_mount(mount, {"message": "v1"}, 1)
    cfg = Config({}, mount, log=log_to(tmp_path / "log"))
    changes: list[int] = []
    cfg.on_change(lambda c: changes.append(c.version))
    assert cfg.reload() is False  # nothing changed
    write_atomic_mount(mount, {"message": "v2"}, 2)
    assert cfg.reload() is True
    assert cfg["message"] == "v2" and changes == [2]


def test_malformed_update_keeps_the_last_good_config(tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text("message: good\n")
    log_path = tmp_path / "log"
    cfg = Config({}, f, log=log_to(log_path))
    f.write_text("message: [unclosed\n")
    assert cfg.reload() is False
    assert cfg["message"] == "good"
    assert "config reload failed" in log_path.read_text() and "app.yaml:2:1" in log_path.read_text()


def test_running_service_reloads_a_configmap_mount_without_restarting(serve: Any, tmp_path: Path) -> None:
    mount = tmp_path / "config"
    write_atomic_mount(mount, {"message": "pong from v1"}, 1)
    svc = serve("fastapi_app:app", "--config", str(mount), "--workers", "2")
    assert httpx.get(svc.url + "/ping").json() == {"message": "pong from v1"}
    pid = svc.proc.pid
    write_atomic_mount(mount, {"message": "pong from v2"}, 2)
    deadline = time.monotonic() + 10
    seen: set[str] = set()
    while time.monotonic() < deadline:
        with httpx.Client() as client:  # new connections reach both workers
            seen = {client.get(svc.url + "/ping").json()["message"] for _ in range(6)}
        if seen == {"pong from v2"}:
            break
        time.sleep(0.2)
    assert seen == {"pong from v2"}
    assert svc.proc.pid == pid and svc.proc.poll() is None


def test_running_service_keeps_last_good_config_when_the_file_breaks(serve: Any, tmp_path: Path) -> None:
    f = tmp_path / "app.yaml"
    f.write_text("message: still good\n")
    svc = serve("fastapi_app:app", "--config", str(f))
    f.write_text("message: [broken\n")
    svc.wait_log(lambda ln: ln.get("msg") == "config reload failed; keeping the last good config", timeout=10)
    assert httpx.get(svc.url + "/ping").json() == {"message": "still good"}
