"""mTLS: with --tls-client-ca, only clients holding a certificate from that CA get in."""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme


def tls_client(ca: trustme.CA, cert: trustme.LeafCert | None) -> httpx.Client:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    if cert is not None:
        cert.configure_cert(ctx)
    return httpx.Client(verify=ctx, timeout=5)


def test_mutual_tls(serve: Any, tmp_path: Path) -> None:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    server_pem = tmp_path / "server.pem"
    key_pem = tmp_path / "server.key"
    ca_pem = tmp_path / "ca.pem"
    server.cert_chain_pems[0].write_to_path(server_pem)
    server.private_key_pem.write_to_path(key_pem)
    ca.cert_pem.write_to_path(ca_pem)
    svc = serve(
        "fastapi_app:app",
        "--tls-cert", str(server_pem), "--tls-key", str(key_pem), "--tls-client-ca", str(ca_pem),
        ready=False,
    )  # fmt: skip
    url = f"https://127.0.0.1:{svc.port}"
    client_cert = ca.issue_cert("client@example.com")
    with tls_client(ca, client_cert) as client:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = client.get(url + "/ping")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or svc.proc.poll() is not None:
                    raise AssertionError(svc.output()) from None
                time.sleep(0.1)
    assert r.status_code == 200 and r.json() == {"message": "pong"}

    with tls_client(ca, None) as anonymous, pytest.raises(httpx.TransportError):
        anonymous.get(url + "/ping")
    stranger = trustme.CA().issue_cert("mallory@example.com")
    with tls_client(ca, stranger) as impostor, pytest.raises(httpx.TransportError):
        impostor.get(url + "/ping")
