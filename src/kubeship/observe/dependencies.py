"""The middleware and infrastructure layers (the guide's section 5): Redis, Kafka, PostgreSQL, nodes.

Each dependency is watched through its standard exporter, with the exporter's
own metric names: a scrape job / ServiceMonitor that finds the exporter's
Service and names its series `job="<dependency>"`, alert rules whose
thresholds default to `kubeship.spec.dependencies.KINDS` (with the reason
beside each) and dashboard rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from kubeship.promql import meta_label
from kubeship.render.labels import metadata
from kubeship.spec.dependencies import KINDS
from kubeship.spec.models import AppSpec, Dependency

Rule = dict[str, Any]
FILESYSTEMS = 'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*",mountpoint!~"/run($|/.*)"'


class Alert(NamedTuple):
    name: str
    expr: Callable[[str, Dependency], str]  # (selector, dependency) → PromQL
    for_: str
    severity: str
    summary: str
    description: str
    runbook: str


def _sel(dep: Dependency, **extra: str) -> str:
    parts = [f'job="{dep.job_name}"', *(f'{k}="{v}"' for k, v in extra.items())]
    return "{" + ",".join(parts) + "}"


def _g(value: float) -> str:
    return f"{value:g}"


def _redis_lookups(s: str) -> str:
    return (
        f"sum by (job, instance) (rate(redis_keyspace_hits_total{s}[5m]) "
        f"+ rate(redis_keyspace_misses_total{s}[5m]))"
    )


ALERTS: dict[str, list[Alert]] = {
    "redis": [
        Alert(
            "RedisDown",
            lambda s, d: f"redis_up{s} == 0 or up{s} == 0",
            "1m",
            "critical",
            "Redis {{ $labels.dependency }} is unreachable",
            "The exporter at {{ $labels.instance }} cannot reach Redis, or Prometheus cannot reach the "
            "exporter.",
            "`redis-cli -h <host> ping`; look at the Redis pod's events and the exporter's log.",
        ),
        Alert(
            "RedisHitRatioLow",
            lambda s, d: (
                f"sum by (job, instance) (rate(redis_keyspace_hits_total{s}[5m]))\n/\n"
                f"{_redis_lookups(s)}\n< {_g(d.threshold('hitRatio'))}\n"
                f"and\n{_redis_lookups(s)} > {_g(d.threshold('minOpsPerSecond'))}"
            ),
            "10m",
            "warning",
            "Redis {{ $labels.dependency }} finds only {{ $value | humanizePercentage }} of the keys read",
            "The cache hit ratio is under the threshold: reads fall through to what the cache protects.",
            "Check key TTLs and evictions (memory at maxmemory?), and whether a release changed key names.",
        ),
        Alert(
            "RedisMemoryNearMax",
            lambda s, d: (
                f"redis_memory_used_bytes{s} / redis_memory_max_bytes{s} > "
                f"{_g(d.threshold('memoryRatio'))}\nand\nredis_memory_max_bytes{s} > 0"
            ),
            "5m",
            "warning",
            "Redis {{ $labels.dependency }} uses {{ $value | humanizePercentage }} of maxmemory",
            "Redis is close to maxmemory: its eviction policy decides what is dropped next "
            "(or writes fail under noeviction).",
            "Raise maxmemory (and the pod's memory limit with it) or shorten TTLs.",
        ),
        Alert(
            "RedisEvictingKeys",
            lambda s, d: f"increase(redis_evicted_keys_total{s}[5m]) > 0",
            "5m",
            "warning",
            "Redis {{ $labels.dependency }} evicted {{ $value | humanize }} keys in 5 minutes",
            "Keys are evicted to stay under maxmemory: data the app wrote is gone before its TTL.",
            "A queue or session store must not evict: give it memory or `maxmemory-policy noeviction`.",
        ),
        Alert(
            "RedisRejectingConnections",
            lambda s, d: f"increase(redis_rejected_connections_total{s}[5m]) > 0",
            "0s",
            "critical",
            "Redis {{ $labels.dependency }} refused {{ $value | humanize }} connections in 5 minutes",
            "maxclients is reached: new connections are refused.",
            "Look for a connection leak (pool sizes × replicas) before raising maxclients.",
        ),
        Alert(
            "RedisStreamPendingHigh",
            lambda s, d: (
                "max by (job, stream, group) "
                f"(redis_stream_group_messages_pending{s}) > {_g(d.threshold('pendingMessages'))}"
            ),
            "10m",
            "warning",
            "{{ $value }} messages of stream {{ $labels.stream }} wait for an ack "
            "from group {{ $labels.group }}",
            "Messages were delivered and never acknowledged: consumers are stuck, or crashed and nobody "
            "claims what they held.",
            "`XPENDING <stream> <group>` names the consumers; check that workers XAUTOCLAIM idle messages.",
        ),
        Alert(
            "RedisStreamLagHigh",
            lambda s, d: (
                f"max by (job, stream, group) (redis_stream_group_lag{s}) > {_g(d.threshold('streamLag'))}"
            ),
            "10m",
            "warning",
            "Group {{ $labels.group }} is {{ $value }} entries behind stream {{ $labels.stream }}",
            "Producers outpace the consumer group.",
            "Is the worker's HPA at maxReplicas? Is each message slower than it was?",
        ),
    ],
    "kafka": [
        Alert(
            "KafkaExporterDown",
            lambda s, d: f"up{s} == 0",
            "5m",
            "warning",
            "kafka_exporter of {{ $labels.dependency }} is not scraped",
            "Without it the consumer lag (and the worker's autoscaling on it) is blind.",
            "Look at the exporter pod; it needs to reach the brokers.",
        ),
        Alert(
            "KafkaConsumerLagHigh",
            lambda s, d: (
                "sum by (job, consumergroup, topic) "
                f"(kafka_consumergroup_lag{s}) > {_g(d.threshold('consumerLag'))}"
            ),
            "10m",
            "warning",
            "Group {{ $labels.consumergroup }} is {{ $value }} messages behind on {{ $labels.topic }}",
            "The consumer group's lag summed over partitions is above the threshold.",
            "Is the worker's HPA at maxReplicas? More consumers than partitions do not help.",
        ),
        Alert(
            "KafkaConsumerLagGrowing",
            lambda s, d: (
                "sum by (job, consumergroup, topic) "
                f"(deriv(kafka_consumergroup_lag{s}[15m])) > 0\nand\n"
                f"sum by (job, consumergroup, topic) (kafka_consumergroup_lag{s}) > "
                f"{_g(d.threshold('growingLagAbove'))}"
            ),
            "15m",
            "warning",
            "Lag of {{ $labels.consumergroup }} on {{ $labels.topic }} has grown for 30 minutes",
            "Consumers are slower than producers: the lag will not come down on its own.",
            "Compare the produce rate with the consume rate; scale consumers (up to the partition count).",
        ),
    ],
    "postgres": [
        Alert(
            "PostgresDown",
            lambda s, d: f"pg_up{s} == 0 or up{s} == 0",
            "1m",
            "critical",
            "PostgreSQL {{ $labels.dependency }} is unreachable",
            "postgres_exporter cannot connect, or Prometheus cannot reach the exporter.",
            "`pg_isready -h <host>`; look at the database pod's events and the exporter's log.",
        ),
        Alert(
            "PostgresConnectionsNearMax",
            lambda s, d: (
                f"sum by (job, instance) (pg_stat_activity_count{s})\n/\n"
                f"max by (job, instance) (pg_settings_max_connections{s})\n"
                f"> {_g(d.threshold('connectionRatio'))}"
            ),
            "5m",
            "warning",
            "PostgreSQL {{ $labels.dependency }} uses {{ $value | humanizePercentage }} of max_connections",
            "Close to max_connections: the next rollout's pods (while the old ones still hold theirs) "
            "can be refused.",
            "Size pools as pool × maxReplicas × 2 (surge) < max_connections, or put PgBouncer in front.",
        ),
        Alert(
            "PostgresReplicationLag",
            # postgres_exporter ≤ 0.12 names it pg_replication_lag, later ones pg_replication_lag_seconds.
            lambda s, d: (
                'max by (job, instance) ({__name__=~"pg_replication_lag(_seconds)?",'
                f"{s[1:-1]}}}) > {_g(d.threshold('replicationLagSeconds'))}"
            ),
            "5m",
            "warning",
            "Replica {{ $labels.instance }} of {{ $labels.dependency }} is {{ $value | humanizeDuration }} "
            "behind",
            "Reads from this replica are stale.",
            "Check the replica's I/O and network, and long queries holding replay back.",
        ),
        Alert(
            "PostgresDeadlocks",
            lambda s, d: f"sum by (job, datname) (increase(pg_stat_database_deadlocks{s}[5m])) > 0",
            "0s",
            "warning",
            "{{ $value | humanize }} deadlocks in {{ $labels.datname }} in 5 minutes",
            "Transactions take locks in different orders; PostgreSQL aborts one of each pair.",
            "The database log names the statements; take locks in one order.",
        ),
    ],
    "node": [
        Alert(
            "NodeLoadHigh",
            lambda s, d: (
                f"node_load5{s}\n/ on (job, instance)\ncount by (job, instance) "
                f'(node_cpu_seconds_total{s[:-1]},mode="idle"}})\n> {_g(d.threshold("loadPerCpu"))}'
            ),
            "15m",
            "warning",
            "{{ $labels.instance }} has a load of {{ $value | humanize }} per CPU",
            "More runnable tasks than CPUs for 15 minutes: everything on the node waits for CPU.",
            "Which pods use the CPU (`kubectl top pod -A --sort-by cpu`)? Are limits missing?",
        ),
        Alert(
            "NodeIOWaitHigh",
            lambda s, d: (
                "avg by (job, instance) "
                f'(rate(node_cpu_seconds_total{s[:-1]},mode="iowait"}}[5m]))'
                f" > {_g(d.threshold('ioWaitRatio'))}"
            ),
            "15m",
            "warning",
            "{{ $labels.instance }} spends {{ $value | humanizePercentage }} of CPU time waiting on disk",
            "The disk is the bottleneck: latency of everything doing I/O on this node rises.",
            "`iostat -x 1` on the node; move I/O-heavy pods or give them faster volumes.",
        ),
        Alert(
            "NodeDiskFillingUp",
            lambda s, d: (
                f"predict_linear(node_filesystem_avail_bytes{s[:-1]},{FILESYSTEMS}}}[6h], "
                f"{_g(d.threshold('diskFullWithinHours') * 3600)}) < 0\nand\n"
                f"node_filesystem_avail_bytes{s[:-1]},{FILESYSTEMS}}} / "
                f"node_filesystem_size_bytes{s[:-1]},{FILESYSTEMS}}} < 0.2\nand\n"
                f"node_filesystem_readonly{s[:-1]},{FILESYSTEMS}}} == 0"
            ),
            "1h",
            "critical",
            "{{ $labels.mountpoint }} on {{ $labels.instance }} is full within <diskFullWithinHours> hours",
            "At the last 6 hours' pace the filesystem is full within the threshold, and under 20 % is free.",
            "Find what writes (`du -x`): logs, images (`crictl rmi --prune`), emptyDir volumes.",
        ),
        Alert(
            "NodeMemoryPressure",
            lambda s, d: (
                f"node_memory_MemAvailable_bytes{s} / node_memory_MemTotal_bytes{s} < "
                f"{_g(d.threshold('memoryAvailableRatio'))}"
            ),
            "15m",
            "warning",
            "{{ $labels.instance }} has {{ $value | humanizePercentage }} of its memory available",
            "The kernel is reclaiming cache; the kubelet evicts pods next, the OOM killer after that.",
            "`kubectl top pod -A --sort-by memory`; pods without memory limits first.",
        ),
    ],
}


def dependency_rules(spec: AppSpec, make_alert: Callable[..., Rule]) -> list[dict[str, Any]]:
    """One rule group per dependency (`make_alert` is the app's: service, team and runbook labels)."""
    groups = []
    for dep in spec.observe.dependencies:
        rules = [
            make_alert(
                spec,
                a.name,
                a.expr(_sel(dep), dep),
                for_=dep.for_ or a.for_,
                severity=a.severity,
                summary=_fill(a.summary, dep),
                description=a.description,
                runbook=a.runbook,
                labels={"dependency": dep.label, "kind": dep.kind},
            )
            for a in ALERTS[dep.kind]
        ]
        groups.append({"name": f"{spec.name}-{dep.label}", "rules": rules})
    return groups


def _fill(text: str, dep: Dependency) -> str:
    """The dependency's name and `<threshold>` values written in at render time."""
    text = text.replace("{{ $labels.dependency }}", dep.label)
    for key in KINDS[dep.kind].thresholds:
        text = text.replace(f"<{key}>", _g(dep.threshold(key)))
    return text


def _namespace(spec: AppSpec, dep: Dependency) -> str | None:
    return dep.namespace or spec.namespace


def _selector(dep: Dependency) -> dict[str, str]:
    return dep.selector if dep.selector is not None else KINDS[dep.kind].selector


def _port(dep: Dependency) -> str:
    return dep.port or KINDS[dep.kind].port


def dependency_scrape_jobs(spec: AppSpec) -> list[dict[str, Any]]:
    """`scrape_configs` entries: the exporter's Service endpoints, by label and port name."""
    jobs = []
    for dep in spec.observe.dependencies:
        if not dep.scrape:
            continue
        sd: dict[str, Any] = {"role": "endpoints"}
        if ns := _namespace(spec, dep):
            sd["namespaces"] = {"names": [ns]}
        keep = [
            {
                "source_labels": [meta_label("service", k)],
                "action": "keep",
                "regex": v,
            }
            for k, v in sorted(_selector(dep).items())
        ]
        jobs.append(
            {
                "job_name": dep.job_name,
                "scrape_interval": spec.observe.scrape_interval,
                "kubernetes_sd_configs": [sd],
                "relabel_configs": [
                    *keep,
                    {
                        "source_labels": ["__meta_kubernetes_endpoint_port_name"],
                        "action": "keep",
                        "regex": _port(dep),
                    },
                    {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                    # node_exporter runs on every node: name the node, not the pod's address.
                    {"source_labels": ["__meta_kubernetes_endpoint_node_name"], "target_label": "node"},
                ],
            }
        )
    return jobs


def dependency_monitors(spec: AppSpec) -> list[dict[str, Any]]:
    """ServiceMonitors for the Prometheus Operator: the same targets, `job` set to the dependency's."""
    monitors = []
    for dep in spec.observe.dependencies:
        if not dep.scrape:
            continue
        body: dict[str, Any] = {
            "selector": {"matchLabels": dict(_selector(dep))},
            "endpoints": [
                {
                    "port": _port(dep),
                    "interval": spec.observe.scrape_interval,
                    "relabelings": [
                        {"action": "replace", "targetLabel": "job", "replacement": dep.job_name},
                        {
                            "action": "replace",
                            "sourceLabels": ["__meta_kubernetes_endpoint_node_name"],
                            "targetLabel": "node",
                        },
                    ],
                }
            ],
        }
        if ns := _namespace(spec, dep):
            body["namespaceSelector"] = {"matchNames": [ns]}
        monitors.append(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "ServiceMonitor",
                "metadata": metadata(spec, f"{spec.name}-{dep.label}"),
                "spec": body,
            }
        )
    return monitors


def dependency_panels(spec: AppSpec) -> list[tuple[str, list[tuple[str, list[tuple[str, str]], str]]]]:
    """Dashboard rows: (row title, [(panel title, [(expr, legend)], unit)])."""
    rows = []
    for dep in spec.observe.dependencies:
        s = _sel(dep)
        panels: list[tuple[str, list[tuple[str, str]], str]]
        if dep.kind == "redis":
            panels = [
                (
                    "Hit ratio",
                    [
                        (
                            f"sum(rate(redis_keyspace_hits_total{s}[5m])) / "
                            f"sum(rate(redis_keyspace_hits_total{s}[5m]) "
                            f"+ rate(redis_keyspace_misses_total{s}[5m]))",
                            "hits",
                        ),
                        (f"vector({_g(dep.threshold('hitRatio'))})", "threshold"),
                    ],
                    "percentunit",
                ),
                (
                    "Memory vs maxmemory",
                    [(f"redis_memory_used_bytes{s}", "used"), (f"redis_memory_max_bytes{s}", "maxmemory")],
                    "bytes",
                ),
                (
                    "Evictions and refused connections",
                    [
                        (f"rate(redis_evicted_keys_total{s}[5m])", "evicted/s"),
                        (f"rate(redis_rejected_connections_total{s}[5m])", "refused/s"),
                    ],
                    "ops",
                ),
                (
                    "Streams: pending and lag",
                    [
                        (f"redis_stream_group_messages_pending{s}", "pending {{stream}}/{{group}}"),
                        (f"redis_stream_group_lag{s}", "lag {{stream}}/{{group}}"),
                    ],
                    "none",
                ),
            ]
        elif dep.kind == "kafka":
            panels = [
                (
                    "Consumer group lag",
                    [
                        (
                            f"sum by (consumergroup, topic) (kafka_consumergroup_lag{s})",
                            "{{consumergroup}}/{{topic}}",
                        )
                    ],
                    "none",
                ),
                (
                    "Lag growth (per second)",
                    [
                        (
                            f"sum by (consumergroup, topic) (deriv(kafka_consumergroup_lag{s}[15m]))",
                            "{{consumergroup}}/{{topic}}",
                        )
                    ],
                    "none",
                ),
            ]
        elif dep.kind == "postgres":
            panels = [
                (
                    "Connections vs max_connections",
                    [
                        (f"sum(pg_stat_activity_count{s})", "connections"),
                        (f"max(pg_settings_max_connections{s})", "max_connections"),
                    ],
                    "none",
                ),
                (
                    "Replication lag",
                    [(f'{{__name__=~"pg_replication_lag(_seconds)?",{s[1:-1]}}}', "{{instance}}")],
                    "s",
                ),
                (
                    "Deadlocks",
                    [(f"sum by (datname) (increase(pg_stat_database_deadlocks{s}[5m]))", "{{datname}}")],
                    "none",
                ),
            ]
        else:
            panels = [
                (
                    "Load per CPU",
                    [
                        (
                            f"node_load5{s} / on (instance) count by (instance) "
                            f'(node_cpu_seconds_total{s[:-1]},mode="idle"}})',
                            "{{instance}}",
                        )
                    ],
                    "none",
                ),
                (
                    "I/O wait",
                    [
                        (
                            f'avg by (instance) (rate(node_cpu_seconds_total{s[:-1]},mode="iowait"}}[5m]))',
                            "{{instance}}",
                        )
                    ],
                    "percentunit",
                ),
                (
                    "Filesystem available",
                    [
                        (
                            f"node_filesystem_avail_bytes{s[:-1]},{FILESYSTEMS}}} / "
                            f"node_filesystem_size_bytes{s[:-1]},{FILESYSTEMS}}}",
                            "{{instance}} {{mountpoint}}",
                        )
                    ],
                    "percentunit",
                ),
                (
                    "Memory available",
                    [(f"node_memory_MemAvailable_bytes{s} / node_memory_MemTotal_bytes{s}", "{{instance}}")],
                    "percentunit",
                ),
            ]
        rows.append((f"{dep.kind}: {dep.label}", panels))
    return rows
