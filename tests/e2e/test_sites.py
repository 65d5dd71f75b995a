"""The guide's dual-active table on real parts: two sites of `kubeship serve` processes behind the
HAProxy configuration `kubeship sites haproxy` renders, failed over with `kubeship sites failover`.

What is asserted is what the client saw (where each answer came from, its status) and what HAProxy's
runtime API said: the split per class within ±2 points of the table over 10,000 requests; one site
killed under load: no read or admin request fails, writes fail until the operator fails over, then
none does; the site back: HAProxy puts it back on its own, writes move back by command, and the
split is the table's again.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.sites_lab import Load, failed, split, two_sites, wait_until

pytestmark = pytest.mark.e2e

TABLE = {"reads": 0.70, "writes": 1.00, "admin": 0.50}  # dc-a's part; dc-b has the rest


def primary_part(answers: list, cls: str) -> float:  # type: ignore[type-arg]
    counts = split(answers)[cls]
    return counts["dc-a"] / (counts["dc-a"] + counts["dc-b"])


def test_split_failover_and_failback(tmp_path: Path) -> None:
    with two_sites(tmp_path) as lab:
        with Load(lab.url, total=10_000) as load:
            load.wait()
        assert len(load.answers) == 10_000
        assert [a for a in load.answers if a.status != 200] == []
        for cls, part in TABLE.items():
            assert abs(primary_part(load.answers, cls) - part) <= 0.02, (cls, split(load.answers)[cls])

        with Load(lab.url) as load:
            time.sleep(0.5)
            killed = lab.kill_site("dc-a")
            down = wait_until(lambda: lab.site_down("dc-a"), 10, "HAProxy never took dc-a out")
            time.sleep(0.5)  # writes have nowhere to go until a person decides
            command = time.monotonic()
            moved = lab.kubeship("failover", "--writes", "dc-b", "--socket", str(lab.socket))
            switched = time.monotonic()
            assert moved.returncode == 0, moved.stderr
            time.sleep(0.5)
            lab.start_site("dc-a", [int(s.url.rpartition(":")[2]) for s in lab.services["dc-a"]])
            back_ready = time.monotonic()
            back = wait_until(lambda: lab.site_up("dc-a"), 10, "HAProxy never put dc-a back")
            failback = lab.kubeship("failover", "--writes", "dc-a", "--socket", str(lab.socket))
            assert failback.returncode == 0, failback.stderr
            after_failback = time.monotonic()
            time.sleep(0.5)
        answers = load.answers
        assert failed(answers, "reads") == 0
        assert failed(answers, "admin") == 0
        assert failed(answers, "writes", killed, command) > 0  # nowhere to go before the failover
        assert failed(answers, "writes", switched) == 0
        during = [a for a in answers if down < a.sent < back_ready]
        assert {a.site for a in during if a.status == 200} == {"dc-b"}
        assert {a.site for a in answers if a.sent > switched and a.cls == "writes" and a.sent < back} == {
            "dc-b"
        }
        after = [a for a in answers if a.sent > after_failback]
        assert {a.site for a in after if a.cls == "writes"} == {"dc-a"}
        assert split(after)["reads"]["dc-a"] > split(after)["reads"]["dc-b"]  # 70/30 again
        print(
            f"\nsites: detection {down - killed:.3f} s after the kill, failover command "
            f"{switched - command:.3f} s, dc-a back {back - back_ready:.3f} s after it was ready"
        )
