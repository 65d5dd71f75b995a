"""The global traffic layer as an HAProxy configuration, and the runtime API commands that move
traffic without a reload (pure).

One backend per traffic class, each holding every site's addresses with the weights that give the
class's split. Health checks take a failed site's addresses out (reads and admin then go to the
others on their own); a request that could not connect is redispatched to another address, and one
of a safe method (GET, HEAD, OPTIONS) is also retried elsewhere on a 5xx or an empty answer (a site
that died with the request in flight): a write may have been applied, so it is not resent. A manual-failover
class (writes) has weight 0 on the standby's addresses: it waits for `kubeship sites failover`,
which sets the weights through the runtime API: no reload, no connection dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeship.sites.traffic import server_weights, servers, sites_of
from kubeship.spec.models import AppSpec, Sites, TrafficClass
from kubeship.spec.quantity import parse_duration

SOCKET = "/run/haproxy/admin.sock"
STATE_FILE = "/var/lib/haproxy/server-state"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def backend(spec: AppSpec, cls: TrafficClass) -> str:
    return f"{spec.name}-{cls.name}"


def config(
    spec: AppSpec, *, bind: str = ":80", socket: str = SOCKET, stats_bind: str | None = "127.0.0.1:8404",
    state_file: str = STATE_FILE,
) -> str:  # fmt: skip
    """haproxy.cfg for `spec.sites`: a frontend routing by class, a backend per class."""
    sites = sites_of(spec)
    health = sites.health
    inter = f"{int(parse_duration(health.interval) * 1000)}ms"
    lines = [
        f"# kubeship sites: the global traffic layer of {spec.name} (`kubeship sites render`; do not edit:",
        "# change kubeship.yaml). Runtime changes (`kubeship sites failover`) go through the socket below.",
        *(f"#   {_describe(sites, c)}" for c in sites.traffic),
        "global",
        f"    stats socket {socket} mode 600 level admin",
        "    stats timeout 30s",
        f"    server-state-file {state_file}   # `show servers state` saved here: a reload keeps it",
        "",
        "resolvers dns   # a site's ingress behind a name: its addresses are followed as they change",
        "    parse-resolv-conf",
        "    hold valid 10s",
        "",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-request 10s",
        "    timeout queue 5s",
        "    load-server-state-from-file global",
        "    option redispatch 1   # every retry goes to another address",
        f"    retries {sites.retries if sites.retries is not None else max(3, len(servers(sites)))}",
        f"    default-server check inter {inter} fall {health.fall} rise {health.rise} "
        "observe layer4 error-limit 1 on-error mark-down resolvers dns init-addr last,libc,none",
        "",
        f"frontend {spec.name}",
        f"    bind {bind}",
        "    option forwardfor",
    ]
    routed = []
    for c in sites.traffic:
        conditions = []
        if c.path_prefix is not None:
            prefix = c.path_prefix.rstrip("/")  # a path segment: /admin and /admin/…, not /administrator
            if prefix:
                lines.append(f"    acl {c.name}_path path {prefix}")
            lines.append(f"    acl {c.name}_path path_beg {prefix}/")
            conditions.append(f"{c.name}_path")
        if c.methods is not None:
            lines.append(f"    acl {c.name}_method method {' '.join(c.methods)}")
            conditions.append(f"{c.name}_method")
        if conditions:
            routed.append(f"    use_backend {backend(spec, c)} if {' '.join(conditions)}")
        else:
            routed.append(f"    default_backend {backend(spec, c)}")
            break  # the catch-all: later classes would never match
    lines += routed
    for c in sites.traffic:
        lines += ["", *_backend(spec, sites, c)]
    if stats_bind is not None:
        lines += [
            "",
            "frontend stats",
            f"    bind {stats_bind}",
            "    http-request use-service prometheus-exporter if { path /metrics }",
            "    stats enable",
            "    stats uri /stats",
            "    stats refresh 5s",
        ]
    return "\n".join(lines) + "\n"


def _backend(spec: AppSpec, sites: Sites, cls: TrafficClass) -> list[str]:
    health = sites.health
    check = f"    http-check send meth GET uri {health.path} ver HTTP/1.1"
    if sites.hostname:
        check += f" hdr Host {sites.hostname}"
    safe = " ".join(sorted(SAFE_METHODS))
    lines = [
        f"backend {backend(spec, cls)}",
        "    balance roundrobin",
        "    option httpchk",
        check,
        "    http-check expect status 200",
        "    retry-on all-retryable-errors",
        f"    http-request disable-l7-retry unless {{ method {safe} }}   # others: only if never sent",
    ]
    weights = server_weights(sites, cls.weights)
    tls = {m.name: m.tls for m in sites.members}
    for s in servers(sites):
        line = f"    server {s.name} {s.address} weight {weights[s.name]}"
        if tls[s.site]:  # verified against the system's CAs, by the name the site's certificate carries
            name = sites.hostname or s.address.rpartition(":")[0]
            line += f" ssl verify required ca-file @system-ca sni str({name}) check-sni {name}"
        lines.append(line)
    return lines


def _describe(sites: Sites, c: TrafficClass) -> str:
    match = " ".join(filter(None, [" ".join(c.methods or []), c.path_prefix])) or "everything else"
    split = " / ".join(f"{m.name} {c.weights.get(m.name, 0)} %" for m in sites.members)
    return f"{c.name} ({match}): {split}, failover {c.failover}"


def weight_commands(spec: AppSpec, weights: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Runtime API commands setting each named class's site weights ({class: {site: weight}})."""
    sites = sites_of(spec)
    out = []
    for c in sites.traffic:
        if c.name not in weights:
            continue
        per_server = server_weights(sites, weights[c.name])
        out += [f"set server {backend(spec, c)}/{name} weight {w}" for name, w in per_server.items()]
    return out


def state_commands(spec: AppSpec, site: str, state: str) -> list[str]:
    """`set server … state drain|ready` for every address of `site`, in every class's backend."""
    sites = sites_of(spec)
    return [
        f"set server {backend(spec, c)}/{s.name} state {state}"
        for c in sites.traffic
        for s in servers(sites)
        if s.site == site
    ]
