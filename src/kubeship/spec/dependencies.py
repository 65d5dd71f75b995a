"""What kubeship watches on the services an app depends on: each kind's exporter and thresholds.

One place for the defaults and why each is what it is: the spec validates
`observe.dependencies[].thresholds` against these names, the rules read the
values, the README's table is printed from here.
"""

from __future__ import annotations

from typing import NamedTuple


class Threshold(NamedTuple):
    default: float
    unit: str
    reason: str


class Kind(NamedTuple):
    exporter: str  # the standard exporter whose metric names the rules use
    selector: dict[str, str]  # labels of its Service in the community Helm chart
    port: str  # the name of its metrics port there
    thresholds: dict[str, Threshold]


KINDS: dict[str, Kind] = {
    "redis": Kind(
        "redis_exporter (oliver006)",
        {"app.kubernetes.io/name": "prometheus-redis-exporter"},
        "redis-exporter",
        {
            "hitRatio": Threshold(
                0.8, "ratio", "below 80 % of lookups found, a cache passes most reads through to the database"
            ),
            "minOpsPerSecond": Threshold(
                1.0, "lookups/s", "the hit ratio of an idle cache says nothing: below this it is not judged"
            ),
            "memoryRatio": Threshold(
                0.9, "ratio", "at 90 % of maxmemory the eviction policy is about to choose what the app loses"
            ),
            "pendingMessages": Threshold(
                1000,
                "messages",
                "delivered to a consumer and never acknowledged: consumers stuck or crashed, "
                "nobody claiming their messages",
            ),
            "streamLag": Threshold(
                10000,
                "messages",
                "entries no consumer of the group has read yet (redis_exporter 1.48+, Redis 7)",
            ),
        },
    ),
    "kafka": Kind(
        "kafka_exporter (danielqsj)",
        {"app.kubernetes.io/name": "prometheus-kafka-exporter"},
        "exporter-port",
        {
            "consumerLag": Threshold(
                5000,
                "messages",
                "the seed's worker alert: minutes of work behind at a few hundred messages/s",
            ),
            "growingLagAbove": Threshold(
                100,
                "messages",
                "a lag that keeps growing is consumers slower than producers; below this it is noise",
            ),
        },
    ),
    "postgres": Kind(
        "postgres_exporter (prometheus-community)",
        {"app.kubernetes.io/name": "prometheus-postgres-exporter"},
        "http",
        {
            "connectionRatio": Threshold(
                0.8,
                "ratio",
                "at 80 % of max_connections a deploy's new pods (old ones still connected) can be refused",
            ),
            "replicationLagSeconds": Threshold(
                30, "seconds", "reads from a replica 30 s behind show users their own writes missing"
            ),
        },
    ),
    "node": Kind(
        "node_exporter (prometheus)",
        {"app.kubernetes.io/name": "prometheus-node-exporter"},
        "http-metrics",
        {
            "loadPerCpu": Threshold(
                2.0, "tasks/CPU", "more than two runnable tasks per CPU for 15 minutes: work queues for CPU"
            ),
            "ioWaitRatio": Threshold(
                0.2, "ratio", "a fifth of CPU time waiting on disk: the disk, not the code, sets latency"
            ),
            "diskFullWithinHours": Threshold(
                4, "hours", "a disk that fills within 4 hours at the last 6 hours' pace needs a human today"
            ),
            "memoryAvailableRatio": Threshold(
                0.1, "ratio", "under 10 % available the kernel reclaims page cache and the OOM killer is next"
            ),
        },
    ),
}
