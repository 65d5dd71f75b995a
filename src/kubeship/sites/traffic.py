"""Traffic classes over sites: which class a request is in, where each class goes, and where it goes
when a site fails (pure).

A class's weights say what part of its requests each site takes. The global proxy spreads a site's
part over the site's addresses (servers), so the per-server weights are derived here, once, for the
proxy's configuration and for the runtime API commands that change them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import gcd

from kubeship.spec.models import AppSpec, Site, Sites, TrafficClass

MAX_WEIGHT = 256  # HAProxy's largest server weight


@dataclass(frozen=True)
class Server:
    site: str
    name: str  # <site>-<n>, unique in a backend
    address: str


def sites_of(spec: AppSpec) -> Sites:
    if spec.sites is None:
        raise ValueError("the spec has no sites section")
    return spec.sites


def servers(sites: Sites) -> list[Server]:
    return [
        Server(m.name, f"{m.name}-{i}", address)
        for m in sites.members
        for i, address in enumerate(m.addresses, start=1)
    ]


def classify(sites: Sites, method: str, path: str) -> TrafficClass:
    """The first class whose methods and path prefix both match (the last matches everything)."""
    for c in sites.traffic:
        if c.methods is not None and method.upper() not in c.methods:
            continue
        if c.path_prefix is not None and not in_prefix(path, c.path_prefix):
            continue
        return c
    raise AssertionError("the spec guarantees a catch-all class")  # pragma: no cover


def in_prefix(path: str, prefix: str) -> bool:
    """`/admin` holds /admin and /admin/…, not /administrator (a path segment, as Ingress Prefix)."""
    prefix = prefix.rstrip("/") or "/"
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


def shares(sites: Sites) -> dict[str, float]:
    """Each class's fraction of all requests; classes without a share split what the others leave."""
    classes = sites.traffic
    given = sum(c.share or 0 for c in classes)
    unset = [c for c in classes if c.share is None]
    rest = (100 - given) / len(unset) if unset else 0.0
    return {c.name: (c.share if c.share is not None else rest) / 100 for c in classes}


def class_split(weights: Mapping[str, int], failed: frozenset[str] = frozenset()) -> dict[str, float]:
    """The fraction of a class each live site takes; {} when no live site has a weight."""
    live = {site: w for site, w in weights.items() if site not in failed and w > 0}
    total = sum(live.values())
    return {site: w / total for site, w in live.items()} if total else {}


def load_share(sites: Sites, failed: frozenset[str] = frozenset()) -> dict[str, float]:
    """The fraction of all requests each site serves, with `failed` sites down.

    A class with no live site left (writes on a failed write site) is counted on every survivor:
    whichever the operator fails it over to must be able to take it.
    """
    out = {m.name: 0.0 for m in sites.members if m.name not in failed}
    fractions = shares(sites)
    for c in sites.traffic:
        split = class_split(c.weights, failed) or dict.fromkeys(out, 1.0)
        for site, part in split.items():
            out[site] += fractions[c.name] * part
    return out


def failover_share(sites: Sites, site: str) -> tuple[float, str]:
    """The largest fraction of all requests `site` serves when one other site fails, and which."""
    worst = max(
        (load_share(sites, frozenset({other.name}))[site], other.name)
        for other in sites.members
        if other.name != site
    )
    return worst


def server_weights(sites: Sites, weights: Mapping[str, int]) -> dict[str, int]:
    """Per server, the HAProxy weight that gives each site its class weight over its addresses.

    A site's weight is spread evenly over its addresses, scaled so every server's weight is an
    integer where it can be (the sites' address counts' least common multiple) and at most 256.
    """
    members: dict[str, Site] = {m.name: m for m in sites.members}
    scale = 1
    for m in sites.members:
        scale = scale * len(m.addresses) // gcd(scale, len(m.addresses))
    per_address = {name: weights.get(name, 0) / len(m.addresses) for name, m in members.items()}
    top = max(per_address.values()) or 1.0
    scale = min(scale, int(MAX_WEIGHT / top)) or 1
    return {s.name: round(per_address[s.site] * scale) if per_address[s.site] else 0 for s in servers(sites)}


def moved_writes(sites: Sites, to: str) -> dict[str, dict[str, int]]:
    """The weights of each manual-failover class once `to` takes it: 100 there, 0 elsewhere."""
    return {
        c.name: {m.name: 100 if m.name == to else 0 for m in sites.members}
        for c in sites.traffic
        if c.failover == "manual"
    }
