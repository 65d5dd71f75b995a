"""HTTPS without client certificates: served by Granian's own TLS, certificates rotating under it."""

from __future__ import annotations

import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from kubeship.errors import ConfigError
from kubeship.runtime.granian_tls import ServedCopies
from kubeship.runtime.tls import TlsFiles
from tests.pki import CA, Leaf, client_context
from tests.runtime.test_mtls import mount, served_serial


def start_https(serve: Any, tmp: Path, ca: CA, leaf: Leaf | None = None) -> tuple[Any, str]:
    secret = tmp / "tls"
    mount(secret, ca.pem, leaf or ca.issue(dns=("127.0.0.1",)))
    svc = serve(
        "fastapi_app:app", "--tls-cert", str(secret / "tls.crt"), "--tls-key", str(secret / "tls.key"),
        ready=False,
    )  # fmt: skip
    url = f"https://127.0.0.1:{svc.port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url + "/healthz", verify=client_context(ca.pem, None, tmp), timeout=2)
            return svc, url
        except httpx.TransportError:
            if time.monotonic() > deadline or svc.proc.poll() is not None:
                raise AssertionError(svc.output()) from None
            time.sleep(0.1)


def wait_for(svc: Any, check: Any, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {seconds:g} s:\n{svc.output()}")
        time.sleep(0.2)


def served_by_every_worker(url: str, trust: bytes, tmp: Path, serial: int) -> bool:
    """Workers roll one at a time and each takes connections until it is replaced: only a run of new
    connections all answered with `serial` says the roll is over (one answer may be the first worker)."""
    return all(served_serial(url, trust, tmp) == serial for _ in range(12))


def test_https_serves_tls_1_2_and_1_3_with_hsts(serve: Any, tmp_path: Path) -> None:
    ca = CA()
    svc, url = start_https(serve, tmp_path, ca)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_context(ca.pem, None, tmp_path)
        ctx.minimum_version = ctx.maximum_version = version  # an older proxy speaks 1.2 only
        r = httpx.get(url + "/ping", verify=ctx, timeout=5)
        assert r.status_code == 200 and r.http_version == "HTTP/1.1"
        assert r.headers["strict-transport-security"].startswith("max-age=")
    served = [ln for ln in svc.log_lines() if ln.get("msg") == "serving"]
    assert served and served[0]["url"].startswith("https://")


def test_rotation_rolls_the_workers_without_a_restart(serve: Any, tmp_path: Path) -> None:
    """A renewed pair reaches new connections while a request in flight on the old worker finishes;
    a broken pair is never loaded: the last good one keeps serving, /readyz and the log say why."""
    ca = CA()
    svc, url = start_https(serve, tmp_path, ca)
    trust = ca.pem
    first = served_serial(url, trust, tmp_path)
    ctx = client_context(trust, None, tmp_path)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(httpx.get, url + "/hold?seconds=3", verify=ctx, timeout=20)
        time.sleep(0.3)
        renewed = ca.issue(dns=("127.0.0.1",))
        mount(tmp_path / "tls", trust, renewed)
        wait_for(svc, lambda: served_by_every_worker(url, trust, tmp_path, renewed.serial), "the renewal")
        assert held.result().status_code == 200  # its worker finished it before stopping
    assert renewed.serial != first and svc.proc.poll() is None
    assert any(ln.get("msg", "").startswith("TLS certificate reloaded") for ln in svc.log_lines())

    broken = ca.issue(dns=("127.0.0.1",))
    mount(tmp_path / "tls", trust, Leaf(broken.cert_pem, ca.issue().key_pem, broken.serial))

    def failed() -> list[dict[str, Any]]:
        return [ln for ln in svc.log_lines() if ln.get("msg", "").startswith("TLS reload failed")]

    wait_for(svc, failed, "the failed reload's log line")
    assert "does not belong" in failed()[0]["error"] and "BEGIN" not in failed()[0]["error"]
    assert str(tmp_path / "tls" / "tls.key") in failed()[0]["error"]  # the mounted file, not the copy
    ready = httpx.get(url + "/readyz", verify=ctx, timeout=5)
    assert ready.status_code == 200 and "does not belong" in ready.json()["tls"]["error"]
    assert served_serial(url, trust, tmp_path) == renewed.serial
    time.sleep(2.5)  # another check of the same broken files: still one line
    assert len(failed()) == 1

    fixed = ca.issue(dns=("127.0.0.1",))
    mount(tmp_path / "tls", trust, fixed)
    wait_for(svc, lambda: served_by_every_worker(url, trust, tmp_path, fixed.serial), "the fixed certificate")
    assert "tls" not in httpx.get(url + "/readyz", verify=ctx, timeout=5).json()


def test_cert_managers_default_key_encoding_is_served(serve: Any, tmp_path: Path) -> None:
    """cert-manager writes PKCS#1/SEC1 keys unless a Certificate asks for PKCS#8."""
    ca = CA()
    leaf = ca.issue(dns=("127.0.0.1",))
    key = serialization.load_pem_private_key(leaf.key_pem, None)
    sec1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert sec1.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    _, url = start_https(serve, tmp_path, ca, Leaf(leaf.cert_pem, sec1, leaf.serial))
    assert served_serial(url, ca.pem, tmp_path) == leaf.serial
    assert httpx.get(url + "/ping", verify=client_context(ca.pem, None, tmp_path)).status_code == 200


def test_served_copies_only_ever_hold_a_good_pair(tmp_path: Path) -> None:
    ca = CA()
    secret, private = tmp_path / "tls", tmp_path / "private"
    private.mkdir(mode=0o700)
    first = ca.issue(dns=("127.0.0.1",))
    mount(secret, ca.pem, first)
    copies = ServedCopies(TlsFiles(secret / "tls.crt", secret / "tls.key"), private)
    assert copies.cert.read_bytes() == first.cert_pem and copies.key.read_bytes() == first.key_pem
    assert all(path.stat().st_mode & 0o077 == 0 for path in private.iterdir())  # a private key among them
    assert copies.refresh() is False  # unchanged files: nothing to do

    other = ca.issue()
    mount(secret, ca.pem, Leaf(first.cert_pem, other.key_pem, first.serial))
    assert copies.refresh() is False and "does not belong" in (copies.error or "")
    assert copies.key.read_bytes() == first.key_pem  # the last good pair stays
    assert sorted(p.name for p in private.iterdir()) == ["tls-status.json", "tls.crt", "tls.key"]

    second = ca.issue(dns=("127.0.0.1",))
    mount(secret, ca.pem, second)
    assert copies.refresh() is True and copies.error is None
    assert copies.cert.read_bytes() == second.cert_pem and copies.key.read_bytes() == second.key_pem


def test_a_bad_pair_at_start_is_the_commands_error(tmp_path: Path) -> None:
    ca = CA()
    secret = tmp_path / "tls"
    leaf = ca.issue()
    mount(secret, ca.pem, Leaf(leaf.cert_pem, ca.issue().key_pem, leaf.serial))
    with pytest.raises(ConfigError, match="does not belong") as exc:
        ServedCopies(TlsFiles(secret / "tls.crt", secret / "tls.key"), tmp_path)
    assert str(secret / "tls.crt") in str(exc.value)
