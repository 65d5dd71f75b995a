"""Two sites on one machine: each a few `kubeship serve` processes of an app that answers its site's
name, behind HAProxy running the configuration `kubeship sites haproxy` renders. Used by the e2e
test and by `make demo`; every number is measured by the client (where each answer came from, its
status) or read from HAProxy's runtime API (when it took a site out).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kubeship import haproxy_api
from kubeship.errors import UsageError
from tests.conftest import APPS, Service, free_port

SITES = ("dc-a", "dc-b")
# (method, path, class): the guide's classes, in the mix the spec assumes (80 % reads, 15 % writes, 5 % admin)
MIX = (
    [("GET", "/items/1", "reads")] * 16
    + [("POST", "/items", "writes")] * 3
    + [("GET", "/admin/users", "admin")]
)


@dataclass(frozen=True)
class Answer:
    sent: float  # monotonic seconds
    took: float  # seconds until the answer (or the failure)
    cls: str
    status: int  # 0: no answer (connection failed)
    site: str


@dataclass
class Lab:
    tmp: Path
    spec_path: Path
    socket: Path
    url: str
    services: dict[str, list[Service]] = field(default_factory=dict)
    proxy: subprocess.Popen[bytes] | None = None

    def kubeship(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kubeship", "sites", *args, "-f", str(self.spec_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def _states(self, site: str) -> list[bool]:
        """Up or not, each of `site`'s servers in every backend, read from the runtime API directly
        (a `kubeship sites status` process per poll would add its start-up to every timing)."""
        try:
            states = haproxy_api.states(str(self.socket))
        except UsageError:
            return []
        return [st.up for st in states if st.server.startswith(f"{site}-")]

    def site_up(self, site: str) -> bool:
        """HAProxy sees every address of `site` up, in every class's backend."""
        up = self._states(site)
        return bool(up) and all(up)

    def site_down(self, site: str) -> bool:
        up = self._states(site)
        return bool(up) and not any(up)

    def start_site(self, site: str, ports: list[int]) -> None:
        self.services[site] = [
            Service("site_app:app", self.tmp, "--workers", "1", cwd=APPS, env={"SITE": site}, port=p)
            for p in ports
        ]
        for s in self.services[site]:
            s.wait_ready()

    def kill_site(self, site: str) -> float:
        """SIGKILL every process of `site`, servers' workers first (a data centre lost, not drained);
        when, monotonic."""
        pids = [pid for s in self.services[site] for pid in descendants(s.proc.pid)]
        pids += [s.proc.pid for s in self.services[site] if s.proc.poll() is None]
        when = time.monotonic()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for s in self.services[site]:
            s.proc.wait(10)
        return when


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (Granian's workers), read from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


SPEC = """\
name: shop
version: "1.0.0"
image: {{registry: registry.example.com, name: shop, tag: "1.0.0"}}
autoscaling: {{minReplicas: 2, maxReplicas: 10, cpu: 50}}
sites:
  health: {{interval: 500ms, fall: 2, rise: 2}}
  members:
{members}
"""


@contextmanager
def two_sites(tmp: Path, per_site: int = 2) -> Iterator[Lab]:
    haproxy = shutil.which("haproxy")
    assert haproxy, "haproxy is not installed: `make test` installs it (apt-get install haproxy)"
    ports = {site: [free_port() for _ in range(per_site)] for site in SITES}
    members = "\n".join(
        f"    - {{name: {site}, addresses: [{', '.join(f'127.0.0.1:{p}' for p in ports[site])}]}}"
        for site in SITES
    )
    spec_path = tmp / "kubeship.yaml"
    spec_path.write_text(SPEC.format(members=members))
    front = free_port()
    lab = Lab(tmp, spec_path, tmp / "haproxy.sock", f"http://127.0.0.1:{front}")
    try:
        for site in SITES:
            lab.start_site(site, ports[site])
        rendered = lab.kubeship(
            "haproxy", "--bind", f"127.0.0.1:{front}", "--socket", str(lab.socket),
            "--stats-bind", f"127.0.0.1:{free_port()}", "--state-file", str(tmp / "server-state"),
        )  # fmt: skip
        assert rendered.returncode == 0, rendered.stderr
        cfg = tmp / "haproxy.cfg"
        cfg.write_text(rendered.stdout)
        if os.environ.get("KUBESHIP_SITES_LOG"):  # each request's log line, to see how one ended
            cfg.write_text(
                rendered.stdout.replace(
                    "defaults\n", "defaults\n    log stderr format raw local0\n    option httplog\n"
                )
            )
        lab.proxy = subprocess.Popen(
            [haproxy, "-f", str(cfg), "-db"],
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "haproxy.log").open("wb"),
        )
        wait_until(lambda: all(lab.site_up(s) for s in SITES), 15, "HAProxy never saw both sites up")
        yield lab
    finally:
        if lab.proxy is not None:
            lab.proxy.terminate()
            lab.proxy.wait(10)
        for site in lab.services:
            lab.kill_site(site)  # the servers' workers too: a killed parent would leave them serving


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, every: float = 0.02) -> float:
    """Poll until true; the monotonic time it was first seen true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(every)
    raise AssertionError(f"{what} (waited {timeout}s)")


class Load:
    """`workers` client threads sending MIX round and round until stopped; every answer recorded."""

    def __init__(self, url: str, workers: int = 8, total: int | None = None):
        self.url, self.workers, self.total = url, workers, total
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sent = 0
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(workers)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def wait(self) -> None:
        for t in self._threads:
            t.join()

    def _next(self) -> int | None:
        with self._lock:
            if self._stop.is_set() or (self.total is not None and self._sent >= self.total):
                return None
            self._sent += 1
            return self._sent

    def _run(self, worker: int) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while (n := self._next()) is not None:
                method, path, cls = MIX[(n + worker) % len(MIX)]
                sent = time.monotonic()
                try:
                    r = client.request(method, path, content=b'{"n": 1}' if method == "POST" else None)
                    took = time.monotonic() - sent
                    answer = Answer(sent, took, cls, r.status_code, r.text if r.status_code == 200 else "")
                except httpx.TransportError:
                    answer = Answer(sent, time.monotonic() - sent, cls, 0, "")
                with self._lock:
                    self.answers.append(answer)


def split(answers: list[Answer]) -> dict[str, Counter[str]]:
    """Per class, how many answers each site gave."""
    out: dict[str, Counter[str]] = {}
    for a in answers:
        if a.status == 200:
            out.setdefault(a.cls, Counter())[a.site] += 1
    return out


def failed(answers: list[Answer], cls: str, start: float = 0.0, end: float = float("inf")) -> int:
    return sum(1 for a in answers if a.cls == cls and a.status != 200 and start <= a.sent < end)


@dataclass
class Drill:
    """A steady run, then dc-a killed under load, writes failed over, dc-a back, writes back."""

    steady: list[Answer]
    answers: list[Answer]
    killed: float
    down: float  # HAProxy had taken every dc-a address out
    command: float  # `kubeship sites failover --writes dc-b` started
    switched: float  # ... and returned
    ready: float  # dc-a's processes answer again
    back: float  # HAProxy had put them back
    failback: float  # `kubeship sites failover --writes dc-a` returned
    status: list[dict[str, object]]  # `kubeship sites status --format json` after the failover
    drained: float  # `kubeship sites failover --drain dc-b` returned (both sites up)
    restored: float  # `--restore dc-b` returned

    def first_after(self, t: float, cls: str, site: str) -> float:
        return min(a.sent + a.took for a in self.answers if a.sent >= t and a.cls == cls and a.site == site)

    def slowest(self, cls: str, start: float, end: float) -> float:
        """The longest a request of `cls` sent in [start, end) waited: what a retry costs a client."""
        return max((a.took for a in self.answers if a.cls == cls and start <= a.sent < end), default=0.0)

    def table(self) -> list[tuple[str, float, float, str]]:
        """Per class: dc-a's and dc-b's measured part (steady run) and the measured switch."""
        counts = split(self.steady)
        rows = []
        for cls in ("reads", "writes", "admin"):
            a, b = counts[cls]["dc-a"], counts[cls]["dc-b"]
            if cls == "writes":
                lost = failed(self.answers, cls, self.killed, self.command)
                switch = (
                    f"manual: {lost} failed until the command; `failover --writes` "
                    f"{self.switched - self.command:.2f} s, then 0 failed"
                )
            else:
                slowest = self.slowest(cls, self.killed - 1, self.down) * 1000
                switch = (
                    f"auto: dc-a out {self.down - self.killed:.2f} s after the kill, "
                    f"{failed(self.answers, cls)} failed (slowest {slowest:.0f} ms)"
                )
            rows.append((cls, 100 * a / (a + b), 100 * b / (a + b), switch))
        return rows


def drill(lab: Lab, requests: int = 10_000) -> Drill:
    with Load(lab.url, total=requests) as steady:
        steady.wait()
    with Load(lab.url) as load:
        time.sleep(0.5)
        killed = lab.kill_site("dc-a")
        down = wait_until(lambda: lab.site_down("dc-a"), 10, "HAProxy never took dc-a out")
        time.sleep(0.5)  # writes have nowhere to go until a person decides
        command = time.monotonic()
        moved = lab.kubeship("failover", "--writes", "dc-b", "--socket", str(lab.socket))
        switched = time.monotonic()
        assert moved.returncode == 0, moved.stderr
        shown = lab.kubeship("status", "--socket", str(lab.socket), "--format", "json")
        assert shown.returncode == 0, shown.stderr
        time.sleep(0.5)
        lab.start_site("dc-a", [int(s.url.rpartition(":")[2]) for s in lab.services["dc-a"]])
        ready = time.monotonic()
        back = wait_until(lambda: lab.site_up("dc-a"), 10, "HAProxy never put dc-a back")
        moved = lab.kubeship("failover", "--writes", "dc-a", "--socket", str(lab.socket))
        assert moved.returncode == 0, moved.stderr
        failback = time.monotonic()
        time.sleep(0.5)
        moved = lab.kubeship("failover", "--drain", "dc-b", "--socket", str(lab.socket),
                             "--state-file", str(lab.tmp / "server-state"))  # fmt: skip
        assert moved.returncode == 0, moved.stderr
        drained = time.monotonic()
        time.sleep(0.5)
        moved = lab.kubeship("failover", "--restore", "dc-b", "--socket", str(lab.socket))
        assert moved.returncode == 0, moved.stderr
        restored = time.monotonic()
        time.sleep(0.5)
    status = json.loads(shown.stdout)
    times = (killed, down, command, switched, ready, back, failback, status, drained, restored)
    return Drill(steady.answers, load.answers, *times)
