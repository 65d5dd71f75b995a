"""Secure, with real parts: certificates rotated under TLS load (wrk, and mTLS clients), and audit
records under load shipped through the rendered rsyslog forwarder to a real rsyslog receiver."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from kubeship.render import siem
from tests.conftest import free_port, run_cli
from tests.pki import CA, client_context
from tests.runtime.test_audit import CANARY, KEY, serve_audited
from tests.runtime.test_mtls import OPS, mount, served_serial, start_mtls, wait_reload

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("connections", ["new per request", "kept alive"])
def test_server_certificate_rotates_under_wrk_load(serve: Any, tmp_path: Path, connections: str) -> None:
    """wrk sends requests while the Secret is renewed and the workers roll onto it (a new worker, then
    the old one stops: 3.5 s apart, Granian's default).

    Kept alive (a proxy's pool): not one request fails. A worker stopping closes its idle connections,
    and a request sent on one just then was lost (9-10 a roll) until the old worker first answered
    each connection's next request with `Connection: close` (`retire`).
    New per request: a connection the old worker has accepted but not yet read when it stops is
    dropped, as at any Granian worker restart (0-3 a roll in 6 runs); bounded here (8), in the README."""
    if shutil.which("wrk") is None:
        pytest.skip("wrk (make system-deps)")
    ca, new_ca = CA("old"), CA("new")
    secret = tmp_path / "tls"
    mount(secret, ca.pem, ca.issue(dns=("127.0.0.1",)))
    svc = serve(
        "fastapi_app:app", "--tls-cert", str(secret / "tls.crt"), "--tls-key", str(secret / "tls.key"),
        ready=False,
    )  # fmt: skip
    url = f"https://127.0.0.1:{svc.port}"
    served_serial_wait(url, ca.pem, tmp_path)
    close = ["-H", "Connection: close"] if connections.startswith("new") else []
    load = subprocess.Popen(
        ["wrk", "-t1", "-c8", "-d10s", *close, url + "/ping"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2)
    renewed = new_ca.issue(dns=("127.0.0.1",))
    mount(secret, ca.pem + new_ca.pem, renewed)
    out, _ = load.communicate(timeout=30)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    assert requests > 100, out
    assert "Non-2xx" not in out, out
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = sum(int(n) for n in errors.groups()) if errors else 0
    assert failed <= (0 if connections == "kept alive" else 8), out
    deadline = time.monotonic() + 15
    while served_serial(url, ca.pem + new_ca.pem, tmp_path) != renewed.serial:
        assert time.monotonic() < deadline, svc.output()
        time.sleep(0.2)
    assert any(line.get("msg", "").startswith("TLS certificate reloaded") for line in svc.log_lines())


def served_serial_wait(url: str, trust: bytes, tmp: Path) -> int:
    deadline = time.monotonic() + 20
    while True:
        try:
            return served_serial(url, trust, tmp)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_server_and_ca_rotate_under_mtls_load(serve: Any, tmp_path: Path) -> None:
    """Clients with certificates keep calling (a new handshake each) while server cert and CA change."""
    old_ca, new_ca = CA("old CA"), CA("new CA")
    svc, url = start_mtls(serve, tmp_path, old_ca)
    bundle = old_ca.pem + new_ca.pem
    client = old_ca.issue(uris=(OPS,))
    ctx = client_context(bundle, client, tmp_path)
    results: list[int | str] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                with httpx.Client(verify=ctx, timeout=5) as c:  # a new connection, a new handshake
                    results.append(c.get(url + "/ping").status_code)
            except httpx.HTTPError as exc:
                results.append(repr(exc))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1)
    renewed = new_ca.issue(dns=("127.0.0.1",))
    mount(tmp_path / "tls", bundle, renewed)  # new server certificate from the new CA, both CAs trusted
    wait_reload(svc, url, bundle, tmp_path, "TLS certificate reloaded")
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    assert len(results) > 50 and set(results) == {200}, [r for r in results if r != 200][:3]
    assert served_serial(url, bundle, tmp_path) == renewed.serial
    # After the rotation a client of the new CA gets in too.
    assert (
        httpx.get(
            url + "/ping", verify=client_context(bundle, new_ca.issue(uris=(OPS,)), tmp_path)
        ).status_code
        == 200
    )


RECEIVER = """
global(workDirectory="{work}" maxMessageSize="64k"
       defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="{ca}"
       defaultNetstreamDriverCertFile="{cert}" defaultNetstreamDriverKeyFile="{key}")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" port="{port}" ruleset="in")
template(name="msgonly" type="string" string="%msg%\\n")
ruleset(name="in") {{ action(type="omfile" file="{work}/received.jsonl" template="msgonly") }}
"""


@pytest.mark.skipif(shutil.which("rsyslogd") is None, reason="rsyslogd (make system-deps)")
def test_audit_records_under_load_reach_a_real_siem_intact(serve: Any, daemons: Any, tmp_path: Path) -> None:
    # The SIEM: rsyslog receiving RFC 5425 (TLS) on loopback, with a certificate of its own CA.
    siem_ca = CA("SIEM CA")
    receiver = tmp_path / "siem"
    receiver.mkdir()
    siem_ca.issue(dns=("localhost",)).write(receiver / "tls.crt", receiver / "tls.key")
    (receiver / "ca.crt").write_bytes(siem_ca.pem)
    port = free_port()
    (receiver / "rsyslog.conf").write_text(
        RECEIVER.format(
            work=receiver,
            ca=receiver / "ca.crt",
            cert=receiver / "tls.crt",
            key=receiver / "tls.key",
            port=port,
        )
    )
    daemons(
        ["rsyslogd", "-n", "-f", str(receiver / "rsyslog.conf"), "-i", str(receiver / "pid")],
        receiver / "log",
    )

    # The pod: the app writing its trail, and the forwarder with the config kubeship renders.
    audit_file = tmp_path / "audit.jsonl"
    forwarder = tmp_path / "forwarder"
    forwarder.mkdir()
    (forwarder / "ca.crt").write_bytes(siem_ca.pem)
    conf = siem.rsyslog_conf(
        audit_file=str(audit_file), host="localhost", port=port, ca_file=str(forwarder / "ca.crt"),
        work_dir=str(forwarder),
    )  # fmt: skip
    (forwarder / "rsyslog.conf").write_text(conf)
    daemons(
        ["rsyslogd", "-n", "-f", str(forwarder / "rsyslog.conf"), "-i", str(forwarder / "pid")],
        forwarder / "log",
    )
    svc = serve_audited(serve, tmp_path, str(audit_file))

    ids = [f"load-{i}" for i in range(300)]

    def call(rid: str) -> int:
        path = "/databases/orders" if hash(rid) % 2 else "/users/7/roles"
        method = "DELETE" if path.startswith("/databases") else "PUT"
        r = httpx.request(  # fdatasync per record, 8 at once, on a busy CI machine: give it time
            method,
            svc.url + path,
            headers={"x-request-id": rid, "authorization": f"Bearer {CANARY}"},
            timeout=30,
        )
        return r.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(call, ids))
    assert set(statuses) <= {200, 204}
    for _ in range(50):  # ordinary traffic alongside: no records
        httpx.get(svc.url + "/ping")
    assert svc.stop() == 0

    local = audit_file.read_bytes().splitlines()
    recs = [orjson.loads(line) for line in local]
    requested = [r["request_id"] for r in recs if r["kind"] == "request"]
    assert sorted(requested) == sorted(ids)  # exactly one record per sensitive request
    assert CANARY not in audit_file.read_text()

    received = receiver / "received.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if received.exists() and received.read_bytes().count(b"\n") >= len(local):  # whole lines only
            break
        time.sleep(0.2)
    got = [line.strip() for line in received.read_bytes().splitlines()]
    # Intact and in order. Syslog over TCP is at-least-once: a record it resends after an unsure
    # send may arrive twice, identical (audit verify counts such copies apart).
    assert list(dict.fromkeys(got)) == local, f"{len(set(got))} of {len(local)} records arrived"
    key = tmp_path / "audit.key"
    verified = run_cli("audit", "verify", str(received), "--key-file", str(key))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert KEY not in received.read_text()
