"""How many pods each site runs, so that either can absorb the other's traffic (pure).

The spec's replicas and autoscaling bounds are what the whole service needs in one place: its
minimum at rest, its maximum at peak. A site runs its share of that minimum (one pod at least, so
it is warm when traffic arrives) and must be able to scale to its share of the peak when another
site fails; a site whose capacity (`maxReplicas`) is below that is reported with how short it falls.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from kubeship.sites.traffic import failover_share, load_share, sites_of
from kubeship.spec.models import AppSpec

EPSILON = 1e-9  # shares are sums of fractions: 0.7 × 10 must not become 8 pods


@dataclass(frozen=True)
class SiteSize:
    site: str
    share: float  # of all requests, every site up
    failover_share: float  # of all requests, the worst single other site down
    worst_failure: str  # that other site
    replicas: int  # Deployment replicas (without autoscaling, what it keeps)
    min_replicas: int | None  # the site's HPA (None without autoscaling)
    max_replicas: int | None
    needed: int  # pods the failover share needs at the service's peak
    capacity: int  # the most pods the site can run

    @property
    def short(self) -> int:
        return max(0, self.needed - self.capacity)


def _pods(total: int, share: float) -> int:
    return max(1, ceil(total * share - EPSILON))


def sizes(spec: AppSpec) -> list[SiteSize]:
    """Without autoscaling a site runs a fixed number of pods: those are its capacity on failover."""
    sites = sites_of(spec)
    normal = load_share(sites)
    auto = spec.autoscaling
    out = []
    for m in sites.members:
        worst, failed = failover_share(sites, m.name)
        replicas = _pods(spec.replicas, normal[m.name])
        if auto is None:
            replicas = min(replicas, m.max_replicas or replicas)
            needed = _pods(spec.replicas, worst)
            out.append(
                SiteSize(m.name, normal[m.name], worst, failed, replicas, None, None, needed, replicas)
            )
            continue
        needed = _pods(auto.max_replicas, worst)
        capacity = m.max_replicas or needed
        low = min(_pods(auto.min_replicas, normal[m.name]) if auto.min_replicas else 0, capacity)
        replicas = max(min(replicas, capacity), low)
        out.append(SiteSize(m.name, normal[m.name], worst, failed, replicas, low, capacity, needed, capacity))
    return out


def shortfalls(spec: AppSpec) -> list[str]:
    """One sentence per site that cannot take what failover sends it."""
    out = []
    for s in sizes(spec):
        if not s.short:
            continue
        if spec.autoscaling is None:
            peak, fix = (
                f"replicas {spec.replicas}",
                "add autoscaling, or lower the weights that fail over to it",
            )
        else:
            peak = f"maxReplicas {spec.autoscaling.max_replicas}"
            fix = "raise the site's maxReplicas, or lower the weights that fail over to it"
        out.append(
            f"sites.members[{s.site}]: runs at most {s.capacity} pods, but when {s.worst_failure} fails it "
            f"serves {s.failover_share:.0%} of the requests, which takes {s.needed} pods at the service's "
            f"peak ({peak} for all of it): {s.short} short; {fix}"
        )
    return out
