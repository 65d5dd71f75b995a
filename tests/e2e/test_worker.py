"""examples/worker for real: a Redis Streams consumer under `kubeship serve`, a real redis-server.

Every produced message is handled and acknowledged exactly once across a rolling restart under load
and a consumer killed with messages in hand (the others claim them once idle).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import ROOT, Service, free_port

pytestmark = pytest.mark.e2e

WORKER_DIR = ROOT / "examples" / "worker"
STREAM, GROUP = "orders", "worker"


def start_redis(daemons: Any, tmp: Path) -> redis.Redis:
    from tests.observe.conftest import tool

    port = free_port()
    daemons(
        [tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp)],
        tmp / "redis.log",
    )  # fmt: skip
    client = redis.Redis(port=port, decode_responses=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return client
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Workers:
    """Worker "pods": `kubeship serve app:app` processes, each with its pod name in HOSTNAME."""

    def __init__(self, tmp: Path, redis_port: int) -> None:
        self.tmp, self.redis_port = tmp, redis_port
        self.running: dict[str, Service] = {}

    def start(self, pod: str, **config: str) -> Service:
        env = {
            "HOSTNAME": pod,
            "APP_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "APP_WORK_MS": "2",
            "APP_CLAIM_IDLE_MS": "1500",
            **{f"APP_{k.upper()}": v for k, v in config.items()},
        }
        service = Service("app:app", self.tmp, "--drain-seconds", "1", cwd=WORKER_DIR, env=env).wait_ready()
        self.running[pod] = service
        return service

    def stop(self, pod: str) -> int:
        return self.running.pop(pod).stop(signal.SIGTERM)

    def kill(self, pod: str) -> None:
        """SIGKILL the pod: supervisor and Granian's worker process, nothing finished or acknowledged."""
        service = self.running.pop(pod)
        children = _children(service.proc.pid)
        service.proc.kill()
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        service.proc.wait(10)

    def stop_all(self) -> None:
        for pod in list(self.running):
            self.stop(pod)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture
def workers(daemons: Any, tmp_path: Path) -> Iterator[tuple[redis.Redis, Workers]]:
    client = start_redis(daemons, tmp_path)
    pods = Workers(tmp_path, client.connection_pool.connection_kwargs["port"])
    yield client, pods
    for pod in list(pods.running):
        pods.kill(pod)


class Producer(threading.Thread):
    """XADDs orders at about `rate` per second until stopped; remembers every id it produced."""

    def __init__(self, client: redis.Redis, rate: float) -> None:
        super().__init__(daemon=True)
        self.client, self.rate = client, rate
        self.ids: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.halt.is_set():
            pipe = self.client.pipeline(transaction=False)
            for _ in range(10):
                n += 1
                pipe.xadd(STREAM, {"quantity": "2", "price": str(n)})
            self.ids += pipe.execute()
            time.sleep(10 / self.rate)


def backlog(client: redis.Redis) -> tuple[int, int]:
    """(lag, pending) of the group, from Redis itself."""
    group = next(g for g in client.xinfo_groups(STREAM) if g["name"] == GROUP)
    return int(group["lag"] or 0), int(group["pending"])


def wait_drained(client: redis.Redis, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while backlog(client) != (0, 0):
        assert time.monotonic() < deadline, f"backlog not drained: {backlog(client)}"
        time.sleep(0.2)


def holds(client: redis.Redis, consumer_prefix: str) -> int:
    return sum(
        c["pending"] for c in client.xinfo_consumers(STREAM, GROUP) if c["name"].startswith(consumer_prefix)
    )


def test_every_message_once_across_a_rolling_restart_and_a_crash(workers: Any) -> None:
    client, pods = workers
    pods.start("worker-5d9f7c8b6d-aaaaa")
    pods.start("worker-5d9f7c8b6d-bbbbb")
    producer = Producer(client, rate=300)
    producer.start()
    time.sleep(2)

    # Rolling restart: a new pod comes up, an old one gets SIGTERM and drains, under load.
    pods.start("worker-7c8b6d5d9f-ccccc")
    drained = pods.running["worker-5d9f7c8b6d-aaaaa"]
    assert pods.stop("worker-5d9f7c8b6d-aaaaa") == 0
    line = drained.wait_log(lambda entry: entry["msg"].startswith("drained"))
    assert line["holds"] == 0  # everything it read was acknowledged before it left the group

    # A crash: a slow consumer killed with messages in hand.
    pods.start("worker-7c8b6d5d9f-ddddd", work_ms="300", batch="10")
    deadline = time.monotonic() + 20
    while holds(client, "worker-7c8b6d5d9f-ddddd") < 1:
        assert time.monotonic() < deadline, "the slow consumer never held messages"
        time.sleep(0.05)
    pods.kill("worker-7c8b6d5d9f-ddddd")
    time.sleep(1)
    producer.halt.set()
    producer.join()

    wait_drained(client)
    survivors = list(pods.running.values())
    assert any("claimed idle messages of another consumer" in s.output() for s in survivors), (
        "nobody claimed the crashed consumer's messages"
    )
    processed = client.hgetall(f"{STREAM}:processed")
    assert len(producer.ids) > 1000
    assert set(processed) == set(producer.ids), "a produced message was never handled"
    assert {count for count in processed.values()} == {"1"}, "a message was handled twice"
    assert client.xpending(STREAM, GROUP)["pending"] == 0
    pods.stop_all()
    consumers = {c["name"] for c in client.xinfo_consumers(STREAM, GROUP)}
    # Drained consumers left the group; only the killed one (holding nothing now) stays behind.
    assert all(name.startswith("worker-7c8b6d5d9f-ddddd") for name in consumers), consumers


def test_a_worker_without_redis_is_not_ready_but_alive(workers: Any) -> None:
    import httpx

    client, pods = workers
    service = pods.start("worker-5d9f7c8b6d-aaaaa")
    deadline = time.monotonic() + 10
    while httpx.get(service.url + "/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    client.shutdown(nosave=True)
    deadline = time.monotonic() + 10
    while (answer := httpx.get(service.url + "/readyz")).status_code != 503:
        assert time.monotonic() < deadline, "still ready without Redis"
        time.sleep(0.1)
    assert "redis" in answer.text
    assert httpx.get(service.url + "/healthz").status_code == 200  # alive: no restart for a Redis outage
    service.wait_log(lambda entry: entry["msg"] == "redis unavailable; retrying")
