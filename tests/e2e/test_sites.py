"""The guide's dual-active table on real parts: two sites of `kubeship serve` processes behind the
HAProxy configuration `kubeship sites haproxy` renders, failed over with `kubeship sites failover`.

What is asserted is what the client saw (where each answer came from, its status) and what HAProxy's
runtime API said: the split per class within ±2 points of the table over 10,000 requests; one site
killed under load: no read or admin request fails, writes fail until the operator fails over, then
none does; the site back: HAProxy puts it back on its own, writes move back by command, and the
split is the table's again; a site drained and restored by command loses no request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sites_lab import drill, failed, split, two_sites

pytestmark = pytest.mark.e2e

TABLE = {"reads": 0.70, "writes": 1.00, "admin": 0.50}  # dc-a's part; dc-b has the rest


def primary_part(answers: list, cls: str) -> float:  # type: ignore[type-arg]
    counts = split(answers)[cls]
    return counts["dc-a"] / (counts["dc-a"] + counts["dc-b"])


def test_split_failover_and_failback(tmp_path: Path) -> None:
    with two_sites(tmp_path) as lab:
        d = drill(lab)
    assert len(d.steady) == 10_000
    assert [a for a in d.steady if a.status != 200] == []
    for cls, part in TABLE.items():
        assert abs(primary_part(d.steady, cls) - part) <= 0.02, (cls, split(d.steady)[cls])

    assert failed(d.answers, "reads") == 0
    assert failed(d.answers, "admin") == 0
    assert failed(d.answers, "writes", d.killed, d.command) > 0  # nowhere to go before the failover
    assert failed(d.answers, "writes", d.switched) == 0
    assert {a.site for a in d.answers if d.down < a.sent < d.ready and a.status == 200} == {"dc-b"}
    shares = {(r["class"], r["site"]): (r["share"], r["up"]) for r in d.status}  # `kubeship sites status`
    assert shares[("writes", "dc-b")] == (100.0, 2) and shares[("reads", "dc-a")] == (0.0, 0)
    writes_moved = [a for a in d.answers if d.switched < a.sent < d.back and a.cls == "writes"]
    assert writes_moved and {a.site for a in writes_moved} == {"dc-b"}
    after = [a for a in d.answers if d.failback < a.sent < d.failback + 0.5]  # before the drain command
    assert {a.site for a in after if a.cls == "writes"} == {"dc-a"}
    assert split(after)["reads"]["dc-a"] > split(after)["reads"]["dc-b"]  # 70/30 again
    drained = [a for a in d.answers if d.drained < a.sent < d.restored - 0.2]
    assert drained and {a.site for a in drained} == {"dc-a"}  # a drained site takes no new request
    assert [a for a in d.answers if a.sent > d.failback and a.status != 200] == []  # none dropped
    assert {a.site for a in d.answers if a.sent > d.restored + 0.1 and a.cls == "reads"} == {"dc-a", "dc-b"}
    assert "dc-b-1" in (tmp_path / "server-state").read_text()  # --state-file: a reload keeps it
    print()
    for cls, a, b, switch in d.table():
        print(f"sites: {cls:<7} dc-a {a:5.1f} %  dc-b {b:5.1f} %  {switch}")
    print(f"sites: dc-a back in HAProxy {d.back - d.ready:.2f} s after its processes were ready")
