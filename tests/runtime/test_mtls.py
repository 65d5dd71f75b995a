"""mTLS: who gets in, who they are, what they may call, and certificates that rotate under a live server."""

from __future__ import annotations

import socket
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from tests.pki import CA, Leaf, client_context

OPS = "spiffe://cluster.local/ns/shop/sa/ops"
BILLING = "spiffe://cluster.local/ns/shop/sa/billing"


def mount(directory: Path, ca_bundle: bytes, leaf: Leaf) -> None:
    """Write a Secret mount the way the kubelet does: files behind `..data`, swapped in one rename."""
    stamp = f"..{time.monotonic_ns()}"
    (directory / stamp).mkdir(parents=True)
    leaf.write(directory / stamp / "tls.crt", directory / stamp / "tls.key")
    (directory / stamp / "ca.crt").write_bytes(ca_bundle)
    tmp_link = directory / "..data_tmp"
    tmp_link.symlink_to(stamp)
    tmp_link.rename(directory / "..data")
    for name in ("tls.crt", "tls.key", "ca.crt"):
        if not (directory / name).is_symlink():
            (directory / name).symlink_to(f"..data/{name}")


def start_mtls(
    serve: Any, tmp: Path, ca: CA, *args: str, env: dict[str, str] | None = None
) -> tuple[Any, str]:
    secret = tmp / "tls"
    mount(secret, ca.pem, ca.issue(dns=("127.0.0.1", "localhost")))
    svc = serve(
        "fastapi_app:app",
        "--tls-cert", str(secret / "tls.crt"), "--tls-key", str(secret / "tls.key"),
        "--tls-client-ca", str(secret / "ca.crt"), *args,
        ready=False, env=env,
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


def get(url: str, trust: bytes, leaf: Leaf | None, tmp: Path) -> httpx.Response:
    return httpx.get(url, verify=client_context(trust, leaf, tmp), timeout=5)


def served_serial(url: str, trust: bytes, tmp: Path) -> int:
    ctx = client_context(trust, None, tmp)
    host, port = url.removeprefix("https://").split(":")
    raw = socket.create_connection((host, int(port)), timeout=5)
    with ctx.wrap_socket(raw, server_hostname=host) as conn:
        der = conn.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def wait_reload(svc: Any, url: str, trust: bytes, tmp: Path, message: str) -> dict[str, Any]:
    """Files are re-checked as new connections arrive (at most every 2 s): keep connecting."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        served_serial(url, trust, tmp)
        for line in svc.log_lines():
            if line.get("msg", "").startswith(message):
                return line
        time.sleep(0.2)
    raise AssertionError(f"no {message!r} in 10 s:\n{svc.output()}")


def test_who_gets_in(serve: Any, tmp_path: Path) -> None:
    ca = CA()
    svc, url = start_mtls(serve, tmp_path, ca)
    ops = ca.issue(uris=(OPS,), dns=("ops.shop.svc",))

    r = get(url + "/ping", ca.pem, ops, tmp_path)
    assert r.status_code == 200 and r.json() == {"message": "pong"}
    # No certificate: the handshake succeeds so the kubelet's HTTPS probes work; nothing else does.
    assert get(url + "/healthz", ca.pem, None, tmp_path).status_code == 200
    assert get(url + "/readyz", ca.pem, None, tmp_path).status_code == 200
    for path in ("/ping", "/metrics"):
        anonymous = get(url + path, ca.pem, None, tmp_path)
        assert anonymous.status_code == 401, path
        assert "client certificate" in anonymous.json()["error"]
    # A certificate from another CA is refused at the handshake.
    stranger = CA("mallory CA").issue(uris=(OPS,))
    with pytest.raises(httpx.TransportError):
        get(url + "/ping", ca.pem, stranger, tmp_path)

    line = svc.wait_log(lambda rec: rec.get("msg") == "request" and rec.get("status") == 200)
    assert line["peer"] == OPS  # the URI SAN wins over the DNS SAN
    dns_only = ca.issue(dns=("worker.shop.svc",), cn="ignored")
    assert get(url + "/ping", ca.pem, dns_only, tmp_path).status_code == 200
    svc.wait_log(lambda rec: rec.get("peer") == "worker.shop.svc")
    cn_only = ca.issue(cn="legacy-client")
    assert get(url + "/ping", ca.pem, cn_only, tmp_path).status_code == 200
    svc.wait_log(lambda rec: rec.get("peer") == "legacy-client")


def test_identities_per_path(serve: Any, tmp_path: Path) -> None:
    ca = CA()
    allow = {"KUBESHIP_MTLS_ALLOW": f"/admin={OPS},/admin=root.shop.svc"}
    _, url = start_mtls(serve, tmp_path, ca, env=allow)
    ops, billing = ca.issue(uris=(OPS,)), ca.issue(uris=(BILLING,))

    assert get(url + "/admin/stats", ca.pem, ops, tmp_path).status_code == 200
    refused = get(url + "/admin/stats", ca.pem, billing, tmp_path)
    assert refused.status_code == 403
    body = refused.json()
    assert body["identity"] == BILLING and OPS in body["required"] and "/admin" in body["error"]
    assert "BEGIN" not in refused.text  # never the certificate
    # Other paths: any verified client.
    assert get(url + "/ping", ca.pem, billing, tmp_path).status_code == 200


def test_rotation_without_restart(serve: Any, tmp_path: Path) -> None:
    """cert-manager renews into the Secret: new server certificate and a new CA, same process."""
    old_ca, new_ca = CA("old CA"), CA("new CA")
    svc, url = start_mtls(serve, tmp_path, old_ca)
    bundle = old_ca.pem + new_ca.pem
    first = served_serial(url, old_ca.pem, tmp_path)
    old_client, new_client = old_ca.issue(uris=(OPS,)), new_ca.issue(uris=(BILLING,))
    with pytest.raises(httpx.TransportError):
        get(url + "/ping", old_ca.pem + new_ca.pem, new_client, tmp_path)  # not trusted yet

    renewed = new_ca.issue(dns=("127.0.0.1",))
    mount(tmp_path / "tls", bundle, renewed)
    wait_reload(svc, url, bundle, tmp_path, "TLS certificate reloaded")
    assert served_serial(url, bundle, tmp_path) == renewed.serial != first
    assert get(url + "/ping", bundle, new_client, tmp_path).status_code == 200  # the new CA is trusted
    assert get(url + "/ping", bundle, old_client, tmp_path).status_code == 200  # and the old, while bundled
    assert svc.proc.poll() is None

    # A key that does not match its certificate: keep serving the last good pair, say so.
    secret = tmp_path / "tls"
    broken = new_ca.issue(dns=("127.0.0.1",))
    mount(secret, bundle, Leaf(broken.cert_pem, old_ca.issue().key_pem, broken.serial))
    event = wait_reload(svc, url, bundle, tmp_path, "TLS reload failed")
    assert "does not belong" in event["error"] and "BEGIN" not in event["error"]
    assert served_serial(url, bundle, tmp_path) == renewed.serial
    ready = get(url + "/readyz", bundle, None, tmp_path)
    assert ready.status_code == 200 and "does not belong" in ready.json()["tls"]["error"]


def test_bad_files_at_start_are_one_clear_error(tmp_path: Path) -> None:
    from tests.conftest import free_port, run_cli

    ca = CA()
    leaf = ca.issue(dns=("localhost",))
    leaf.write(tmp_path / "tls.crt", tmp_path / "other.key")
    ca.issue().write(tmp_path / "unused.crt", tmp_path / "tls.key")
    r = run_cli("serve", "fastapi_app:app", "--tls-cert", str(tmp_path / "tls.crt"), "--tls-key",
                str(tmp_path / "tls.key"), "--port", str(free_port()))  # fmt: skip
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "does not belong to the certificate" in r.stderr


def test_outbound_context_presents_the_pod_certificate_and_follows_rotation(
    serve: Any, tmp_path: Path
) -> None:
    """Service to service: the caller's own mounted certificate, re-read after renewal."""
    import asyncio

    import kubeship.runtime.tls as tls
    from kubeship.runtime import outbound_context

    ca = CA()
    svc, url = start_mtls(serve, tmp_path, ca)
    own = tmp_path / "own"
    mount(own, ca.pem, ca.issue(uris=(OPS,)))
    ctx = outbound_context(own / "tls.crt", own / "tls.key", own / "ca.crt")
    with httpx.Client(verify=ctx, timeout=5) as client:
        assert client.get(url + "/ping").status_code == 200

        mount(own, ca.pem, ca.issue(uris=(BILLING,)))  # renewed with another identity
        ctx._next_check = 0.0  # what RECHECK_SECONDS of waiting would do
        with httpx.Client(verify=ctx, timeout=5) as fresh:  # a new connection
            assert fresh.get(url + "/ping").status_code == 200

    async def call() -> int:
        async with httpx.AsyncClient(verify=ctx, timeout=5) as client:
            return (await client.get(url + "/ping")).status_code

    assert asyncio.run(call()) == 200
    svc.wait_log(lambda rec: rec.get("peer") == BILLING)
    peers = [line.get("peer") for line in svc.log_lines() if line.get("msg") == "request"]
    assert peers[0] == OPS and peers.count(BILLING) == 2
    # It trusts only the mounted CA: a server from another CA is refused.
    assert tls.build_context(ctx.files, server=False).verify_mode == ssl.CERT_REQUIRED
