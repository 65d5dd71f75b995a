"""The PostgreSQL dependency rules against the real thing: PostgreSQL, Debian's postgres_exporter and
Prometheus with the rendered scrape job and rules. Connections near max_connections, a deadlock and
the database going away each fire their alert; the replication lag is read (0 on a primary) and silent.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeship.observe import prometheus_config, rule_groups, to_text
from kubeship.spec import AppSpec, parse_spec
from kubeship.spec.dependencies import KINDS
from tests.conftest import free_port
from tests.e2e.conftest import start_prometheus, wait_http
from tests.e2e.test_worker_observe import Prom, endpoint_target
from tests.observe.conftest import tool

pytestmark = pytest.mark.e2e

SPEC = """\
name: api
version: "1"
image: {name: api, tag: "1"}
observe:
  scrapeInterval: 1s
  dependencies:
    - {kind: postgres, namespace: data, for: 0s}
"""
# The replication lag query postgres_exporter 0.11 ships as an example (later versions build it in).
EXAMPLE_QUERIES = "/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml"


def _as_postgres() -> dict[str, Any]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user the package made."""
    return {"user": "postgres"} if os.geteuid() == 0 else {}


@pytest.fixture
def postgres() -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        pytest.fail("PostgreSQL is not installed: run `make test` (it installs postgresql)")
    bin_dir = Path(binaries[-1])
    home = Path(tempfile.mkdtemp(prefix="kubeship-pg-"))  # outside pytest's root-only tmp
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    subprocess.run(
        [bin_dir / "initdb", "-D", home / "data", "-A", "trust", "-U", "postgres"],
        check=True, capture_output=True, **_as_postgres(),
    )  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [bin_dir / "postgres", "-D", home / "data", "-p", str(port), "-k", home,
         "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=10", "-c", "deadlock_timeout=200ms"],
        stdout=(home / "server.log").open("wb"), stderr=subprocess.STDOUT, **_as_postgres(),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while subprocess.run([bin_dir / "pg_isready", "-h", "127.0.0.1", "-p", str(port)]).returncode != 0:
        assert time.monotonic() < deadline, (home / "server.log").read_text()
        time.sleep(0.2)
    try:
        yield port, server, home
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)  # fast shutdown: does not wait for clients
            server.wait(30)
        shutil.rmtree(home, ignore_errors=True)


def psql(port: int, sql: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    argv = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres",
            "-v", "ON_ERROR_STOP=1", "-c", sql]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)


def test_postgres_alerts_fire_on_the_real_exporter(daemons: Any, postgres: Any, tmp_path: Path) -> None:
    port, server, _ = postgres
    spec: AppSpec = parse_spec(SPEC, "kubeship.yaml")
    exporter_port = free_port()
    env = {
        **os.environ,
        "DATA_SOURCE_NAME": f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable",
    }
    exporter = subprocess.Popen(
        [tool("prometheus-postgres-exporter"), f"--web.listen-address=127.0.0.1:{exporter_port}",
         f"--extend.query-path={EXAMPLE_QUERIES}"],
        stdout=(tmp_path / "exporter.log").open("wb"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{exporter_port}/metrics")
        target = endpoint_target(f"127.0.0.1:{exporter_port}", "data", KINDS["postgres"].selector[
            "app.kubernetes.io/name"], KINDS["postgres"].port)  # fmt: skip
        (tmp_path / "postgres.json").write_text(json.dumps([target]))
        config = prometheus_config(spec, ["rules.yml"])
        config["global"]["evaluation_interval"] = "1s"
        jobs = [j for j in config["scrape_configs"] if j["job_name"] == "postgres"]
        for job in jobs:
            job.pop("kubernetes_sd_configs")
            job["file_sd_configs"] = [{"files": [str(tmp_path / "postgres.json")], "refresh_interval": "1s"}]
        config["scrape_configs"] = jobs
        (tmp_path / "prometheus.yml").write_text(to_text(config))
        (tmp_path / "rules.yml").write_text(to_text(rule_groups(spec)))
        prom = Prom(start_prometheus(daemons, tmp_path, free_port()))
        prom.wait('pg_up{job="postgres"}', lambda v: v == 1, what="postgres_exporter scraped")
        prom.wait('pg_replication_lag{job="postgres"}', lambda v: v == 0, what="replication lag read")

        # A deadlock: two transactions taking the same two rows in opposite orders.
        assert (
            psql(
                port, "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0)"
            ).wait(30)
            == 0
        )
        assert not prom.firing("PostgresDeadlocks")
        pair = [
            psql(port, f"BEGIN; UPDATE t SET v = 1 WHERE id = {a}; SELECT pg_sleep(1); "
                       f"UPDATE t SET v = 1 WHERE id = {b}; COMMIT;")
            for a, b in ((1, 2), (2, 1))
        ]  # fmt: skip
        errors = [p.communicate(timeout=30)[1].decode() for p in pair]
        assert any("deadlock detected" in e for e in errors), errors
        alert = prom.wait_firing("PostgresDeadlocks")
        assert alert["labels"]["datname"] == "postgres" and alert["labels"]["dependency"] == "postgres"

        # Connections: 8 idle sessions and the exporter's, of max_connections 10.
        assert not prom.firing("PostgresConnectionsNearMax")
        sleepers = [psql(port, "SELECT pg_sleep(120)") for _ in range(8)]
        try:
            prom.wait_firing("PostgresConnectionsNearMax")
        finally:
            for p in sleepers:
                p.kill()
                p.wait()
        assert not prom.firing("PostgresReplicationLag")  # a primary: lag 0

        # The database goes away: the exporter says pg_up 0.
        assert not prom.firing("PostgresDown")
        server.send_signal(signal.SIGINT)
        server.wait(30)
        down = prom.wait_firing("PostgresDown")
        assert down["labels"]["severity"] == "critical"
    finally:
        exporter.terminate()
        exporter.wait(10)
