"""A secret value read from a mount never appears in logs, errors or responses."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubeship.errors import ConfigError
from kubeship.runtime.secrets import read_secret
from tests.k8s_mount import write_atomic_mount

CANARY = "canary-7f3a9-do-not-print"


def test_secret_value_absent_from_all_output(serve: Any, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    write_atomic_mount(secrets, {"db-password": CANARY}, 1)
    token_file = tmp_path / "tokens"
    token_file.write_text(CANARY + "-token\n")
    svc = serve(
        "fastapi_app:app",
        "--secrets",
        str(secrets),
        env={"KUBESHIP_AUTH_KEY_FILE": str(token_file), "KUBESHIP_AUTH_MODE": "token"},
    )
    auth = {"Authorization": f"Bearer {CANARY}-token"}
    assert httpx.get(svc.url + "/login-check", params={"password": CANARY}, headers=auth).json() == {
        "ok": True
    }
    assert httpx.get(svc.url + "/login-check", params={"password": "x"}, headers=auth).json() == {"ok": False}
    assert httpx.get(svc.url + "/boom", headers=auth).status_code == 500
    assert httpx.get(svc.url + "/ping", headers={"Authorization": f"Bearer {CANARY}"}).status_code == 401
    metrics = httpx.get(svc.url + "/metrics").text
    time.sleep(0.8)
    svc.stop()
    assert CANARY not in svc.output() and CANARY not in metrics
    # the query string is not logged either: only the path
    assert "password=" not in svc.output()


def test_secret_errors_name_the_file_not_the_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_secret(tmp_path / "absent")
    assert "absent: secret file not found" in str(info.value)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe" + CANARY.encode())
    with pytest.raises(ConfigError) as info2:
        read_secret(binary)
    assert CANARY not in str(info2.value)
