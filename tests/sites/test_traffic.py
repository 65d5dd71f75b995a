"""Traffic classes over sites: the guide's table by default, matching, shares, failover, weights."""

from __future__ import annotations

import pytest

from kubeship.sites.sizing import shortfalls, sizes
from kubeship.sites.traffic import (
    classify,
    failover_share,
    in_prefix,
    load_share,
    moved_writes,
    server_weights,
    shares,
)
from kubeship.spec import parse_spec
from kubeship.spec.models import AppSpec, Sites

BASE = """\
name: shop
version: "1.0.0"
image: {registry: r.example.com, name: shop, tag: "1.0.0"}
"""


def spec(sites: str, extra: str = "autoscaling: {minReplicas: 2, maxReplicas: 10, cpu: 50}\n") -> AppSpec:
    return parse_spec(BASE + extra + sites)


TWO = """\
sites:
  members:
    - {name: dc-a, addresses: ["10.0.0.1:80", "10.0.0.2:80"]}
    - {name: dc-b, addresses: ["10.1.0.1:80"]}
"""


def sites_of(s: AppSpec) -> Sites:
    assert s.sites is not None
    return s.sites


def test_the_default_classes_are_the_guides_table() -> None:
    classes = {c.name: c for c in sites_of(spec(TWO)).traffic}
    assert {n: c.weights for n, c in classes.items()} == {
        "admin": {"dc-a": 50, "dc-b": 50},
        "reads": {"dc-a": 70, "dc-b": 30},
        "writes": {"dc-a": 100, "dc-b": 0},
    }
    assert classes["writes"].failover == "manual"
    assert classes["reads"].failover == classes["admin"].failover == "auto"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/items/1", "reads"),
        ("HEAD", "/items", "reads"),
        ("get", "/items", "reads"),
        ("POST", "/items", "writes"),
        ("DELETE", "/items/1", "writes"),
        ("OPTIONS", "/items", "writes"),  # not a read of the guide's: it goes where writes go
        ("GET", "/admin", "admin"),
        ("POST", "/admin/users", "admin"),
        ("GET", "/administrator", "reads"),  # a path segment, not a string prefix
    ],
)
def test_a_request_is_in_the_first_class_that_matches(method: str, path: str, expected: str) -> None:
    assert classify(sites_of(spec(TWO)), method, path).name == expected


def test_prefix_is_a_path_segment() -> None:
    assert in_prefix("/admin/", "/admin/") and in_prefix("/x", "/") and not in_prefix("/adminx", "/admin")


def test_shares_split_what_the_classes_leave() -> None:
    given = (
        "  classes:\n"
        "    - {name: api, methods: [GET], weights: {dc-a: 60, dc-b: 40}, share: 70}\n"
        "    - {name: rest, weights: {dc-a: 100}, failover: manual}\n"
    )
    s = spec(TWO.replace("  members:", given + "  members:"))
    assert shares(sites_of(s)) == {"api": 0.7, "rest": pytest.approx(0.3)}


def test_load_share_every_site_up_and_after_a_failure() -> None:
    sites = sites_of(spec(TWO))
    # 5 % admin × 50 % + 80 % reads × 70 % + 15 % writes × 100 %
    assert load_share(sites) == pytest.approx({"dc-a": 0.735, "dc-b": 0.265})
    assert load_share(sites, frozenset({"dc-a"})) == pytest.approx({"dc-b": 1.0})  # writes once moved
    assert failover_share(sites, "dc-b") == (pytest.approx(1.0), "dc-a")


def test_three_sites_divide_the_standbys_part_and_failover_by_weight() -> None:
    three = TWO + '    - {name: dc-c, addresses: ["10.2.0.1:80"]}\n'
    sites = sites_of(spec(three))
    reads = next(c for c in sites.traffic if c.name == "reads")
    assert reads.weights == {"dc-a": 70, "dc-b": 15, "dc-c": 15}
    # dc-a down: dc-b takes half of reads and admin, and writes (whichever site gets them)
    assert load_share(sites, frozenset({"dc-a"}))["dc-b"] == pytest.approx(0.05 * 0.5 + 0.8 * 0.5 + 0.15)


def test_server_weights_give_each_site_its_part_over_its_addresses() -> None:
    sites = sites_of(spec(TWO))
    weights = server_weights(sites, {"dc-a": 70, "dc-b": 30})
    a = weights["dc-a-1"] + weights["dc-a-2"]
    assert weights["dc-a-1"] == weights["dc-a-2"] and a / (a + weights["dc-b-1"]) == pytest.approx(0.7)
    assert max(weights.values()) <= 256
    assert server_weights(sites, {"dc-a": 100, "dc-b": 0})["dc-b-1"] == 0


def test_moved_writes_put_each_manual_class_on_one_site() -> None:
    assert moved_writes(sites_of(spec(TWO)), "dc-b") == {"writes": {"dc-a": 0, "dc-b": 100}}


def test_sizes_fit_either_site_to_take_the_others_traffic() -> None:
    by_site = {s.site: s for s in sizes(spec(TWO))}
    assert (by_site["dc-a"].min_replicas, by_site["dc-a"].max_replicas) == (2, 10)
    assert (by_site["dc-b"].min_replicas, by_site["dc-b"].max_replicas) == (1, 10)
    assert shortfalls(spec(TWO)) == []


def test_a_site_too_small_for_failover_says_how_short() -> None:
    small = spec(TWO.replace('["10.1.0.1:80"]}', '["10.1.0.1:80"], maxReplicas: 6}'))
    (line,) = shortfalls(small)
    assert "dc-b" in line and "10 pods" in line and "4 short" in line and "when dc-a fails" in line


def test_without_autoscaling_the_replicas_are_the_capacity() -> None:
    plain = spec(TWO, extra="replicas: 4\n")
    by_site = {s.site: s for s in sizes(plain)}
    assert by_site["dc-a"].replicas == 3 and by_site["dc-b"].replicas == 2
    assert any("add autoscaling" in line for line in shortfalls(plain))
