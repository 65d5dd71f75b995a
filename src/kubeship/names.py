"""Names that cross modules, defined once.

The runtime serves these paths and exports these metrics; the renderer, the
observability rules and the checks import them from here rather than retyping
them, so a rename cannot leave one side behind.
"""

from __future__ import annotations

from typing import Final

# Paths served by the runtime itself, before the user's app.
HEALTH_PATH: Final = "/healthz"  # liveness: the process is alive
READY_PATH: Final = "/readyz"  # readiness: checks pass and not draining
METRICS_PATH: Final = "/metrics"  # Prometheus exposition

PORT_NAME: Final = "http"
DEFAULT_PORT: Final = 8080

# Drain: how long after SIGTERM the pod keeps serving while endpoints
# controllers and load balancers stop sending to it, then how long in-flight
# requests get to finish. terminationGracePeriodSeconds must exceed the sum.
DEFAULT_DRAIN_SECONDS: Final = 5.0
DEFAULT_SHUTDOWN_TIMEOUT: Final = 20.0
# Requests a worker has in the app at once; the rest queue in the runtime (runtime/gate.py). Without
# a bound, overload hands every arrival to the app at once and all of them share the CPU until none
# finishes in time (benchmarks/overload.py: 5 answered/s of ~110 at 4× the load).
DEFAULT_MAX_CONCURRENCY: Final = 64
# Objects the garbage collector tracks (frames, coroutines, dicts, closures) that one request holds
# while it awaits, with margin: FastAPI alone 80-160, with the runtime's middleware about 200 (64
# awaiting FastAPI requests under `kubeship serve`: 136 young collections in 5 s with a young
# generation of 12,800, none with 19,200); a bare ASGI request with its audit record, about 30.
# Times the worker's max concurrency, it sizes the young generation (runtime/serve.py).
TRACKED_PER_REQUEST: Final = 300
# The most it sizes it to, whatever the bound: a young generation of a million objects is already tens
# of MB of cyclic garbage held between collections (and Python refuses past a C int).
MAX_YOUNG_GENERATION: Final = 1_000_000
# Linux scheduling policy of a worker's threads (runtime/serve.py `schedule_threads`). SCHED_BATCH: a
# woken worker thread preempts no one, so Granian's I/O thread and the Python thread stop preempting
# each other on every request when they share a core (benchmarks/serve.py: ~25 % more requests/s).
SCHED_POLICIES: Final = ("batch", "other")
DEFAULT_SCHED: Final = "batch"
ENV_SCHED: Final = "KUBESHIP_SCHED"  # `kubeship serve --sched`, and what the supervisor tells its workers

# RED metrics exported by the runtime.
METRIC_REQUESTS: Final = "http_requests_total"
METRIC_DURATION: Final = "http_request_duration_seconds"
METRIC_IN_FLIGHT: Final = "http_requests_in_flight"
METRIC_LABELS: Final = ("method", "route", "status")

# Route label for requests no route matched: never the raw path (cardinality).
UNMATCHED_ROUTE: Final = "<unmatched>"

REQUEST_ID_HEADER: Final = "x-request-id"

# Conventional Kubernetes labels.
LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_VERSION: Final = "app.kubernetes.io/version"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_PART_OF: Final = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGER: Final = "kubeship"

# Argo Rollouts labels each ReplicaSet's pods with its template hash (and puts it in the stable and
# canary Services' selectors); the scrape config copies it into every series, so the canary's own
# requests can be told from the stable ones.
ROLLOUT_HASH_LABEL: Final = "rollouts-pod-template-hash"
ROLLOUT_HASH_SERIES_LABEL: Final = "rollouts_pod_template_hash"

# Latency histogram bounds (seconds). An SLO latency threshold should be one of
# them, so the bucket counts answer "what share was faster than the target".
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)


def deployment_pod_pattern(deployment: str) -> str:
    """The names a Deployment's pods get, as a regex: `<deployment>-<replicaset hash>-<5 chars>`.
    `[a-z0-9]` has no `-`, so pods of `web-worker` never match `web`."""
    return f"{deployment}-[a-z0-9]+-[a-z0-9]{{5}}"


# Config keys reach the app as environment variables too (the highest layer).
CONFIG_ENV_PREFIX: Final = "APP_"


def env_name(key: str, prefix: str = CONFIG_ENV_PREFIX) -> str:
    """The environment variable for a config or secret key: `log-level` → `APP_LOG_LEVEL`."""
    return prefix + key.upper().replace("-", "_").replace(".", "_")


# The certificate `kubeship serve` serves with (its --tls-* flags read these), and
# `outbound_context()` presents: the rendered Deployment points them at the Secret.
ENV_TLS_CERT = "KUBESHIP_TLS_CERT"
ENV_TLS_KEY = "KUBESHIP_TLS_KEY"
ENV_TLS_CLIENT_CA = "KUBESHIP_TLS_CLIENT_CA"
ENV_MTLS_ALLOW = "KUBESHIP_MTLS_ALLOW"  # /prefix=identity,… : client identities allowed per path
# The audit trail (kubeship.runtime.audit), set by the rendered Deployment.
ENV_AUDIT_FILE = "KUBESHIP_AUDIT_FILE"
ENV_AUDIT_KEY_FILE = "KUBESHIP_AUDIT_KEY_FILE"
ENV_AUDIT_OPERATIONS = "KUBESHIP_AUDIT_OPERATIONS"
ENV_AUDIT_FAIL_OPEN = "KUBESHIP_AUDIT_FAIL_OPEN"
ENV_SERVICE = "KUBESHIP_SERVICE"
ENV_VERSION = "KUBESHIP_VERSION"
ENV_POD = "KUBESHIP_POD"
# Security response headers (kubeship.runtime.headers), set by the rendered Deployment from security.headers.
ENV_SECURITY_HEADERS = "KUBESHIP_SECURITY_HEADERS"  # false: add none
ENV_CSP = "KUBESHIP_CSP"  # Content-Security-Policy of HTML responses
ENV_HSTS = "KUBESHIP_HSTS"  # Strict-Transport-Security under TLS ("" leaves it to the ingress)
ENV_CACHE_CONTROL = "KUBESHIP_CACHE_CONTROL"  # when the app sets none

# Bounds on YAML/JSON from outside ("nodes=5000000,depth=200"): see kubeship.limits.
ENV_INPUT_LIMITS = "KUBESHIP_INPUT_LIMITS"

# Metrics that come from a standard exporter, not from the workload's own pods: their `pod` label
# (if any) is the exporter's, so as an HPA `Pods` metric they match no pod of the workload and the
# HPA reports FailedGetPodsMetric. Prefix → the exporter that serves them.
EXPORTER_METRIC_PREFIXES: Final = {
    "kafka_": "kafka_exporter",
    "redis_": "redis_exporter",
    "pg_": "postgres_exporter",
    "mysql_": "mysqld_exporter",
    "rabbitmq_": "the RabbitMQ exporter",
    "nats_": "the NATS exporter",
    "node_": "node_exporter",
    "kube_": "kube-state-metrics",
    "probe_": "blackbox_exporter",
}


def exporter_of(metric: str) -> str | None:
    """The exporter a metric name comes from, if it is one of the known ones."""
    return next((e for p, e in EXPORTER_METRIC_PREFIXES.items() if metric.startswith(p)), None)


def exporter_metric_fix(metric: str, exporter: str) -> str:
    """Why a Pods metric from an exporter never scales, and what works (one text for spec, check, explain)."""
    return (
        f"{metric} comes from {exporter}, whose series carry the exporter's pod (or none), never one of "
        "this workload's, so the custom metrics API has no value per workload pod and the HPA reports "
        f"FailedGetPodsMetric: scale on it as an External metric with an AverageValue target (the total "
        "divided by the pods), e.g. type: External, targetType: AverageValue"
    )


# `kubeship check` skips the rules an object names here, with the reason: "KS105,KS108: why".
IGNORE_ANNOTATION: Final = "kubeship.io/ignore"
# The rule that notes a Service exposed on the nodes or a cloud load balancer; the renderer records
# the spec's choice of NodePort/LoadBalancer against it.
EXPOSED_SERVICE_RULE: Final = "KS226"

# Sites: which site an object belongs to, and the pods failover asks of that site's HPA (render
# writes it in each site's overlay; check compares it with the HPA's maxReplicas).
LABEL_SITE: Final = "kubeship.io/site"
ANNOTATION_SITE_FAILOVER_REPLICAS: Final = "kubeship.io/site-failover-replicas"
