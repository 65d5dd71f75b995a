"""The `kubeship.yaml` schema: one place for every field, its default and why.

Field names are snake_case in Python and camelCase in YAML (as Kubernetes
writes them). Unknown keys are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from kubeship.names import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_PORT,
    DEFAULT_SHUTDOWN_TIMEOUT,
    HEALTH_PATH,
    LATENCY_BUCKETS,
    READY_PATH,
)
from kubeship.spec.dependencies import KINDS
from kubeship.spec.quantity import parse_duration, parse_quantity

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
DEFAULT_COMMAND = ("kubeship", "serve")


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, validate_default=True
    )


def _quantity(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError(
            "quantity", "expected a quantity like 500m, 1 or 256Mi, got {value}", {"value": repr(value)}
        )
    try:
        parse_quantity(value)
    except ValueError:
        raise PydanticCustomError(
            "quantity", "expected a quantity like 500m, 1 or 256Mi, got {value}", {"value": repr(value)}
        ) from None
    return str(value)


def _dns_label(value: str) -> str:
    if len(value) > 63 or not DNS_LABEL.match(value):
        raise PydanticCustomError(
            "dns_label",
            "{value} is not a valid name: use lower-case letters, digits and '-', at most 63 characters",
            {"value": repr(value)},
        )
    return value


def _percent(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.rstrip("%").isdigit():
            value = int(value.rstrip("%"))
        else:
            raise PydanticCustomError(
                "percent", "expected a percentage like 50, got {value}", {"value": repr(value)}
            )
    if not 1 <= value <= 100:
        raise PydanticCustomError(
            "percent", "expected a percentage from 1 to 100, got {value}", {"value": repr(value)}
        )
    return int(value)


def _int_or_percent(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{1,3}%", value) and int(value[:-1]) <= 100:
        return value
    raise PydanticCustomError(
        "int_or_percent",
        "expected a count like 1 or a percentage like 25%, got {value}",
        {"value": repr(value)},
    )


def _text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError(
            "unquoted",
            'YAML read {value} as a number; quote it ("{value}") so 1.10 does not become 1.1',
            {"value": value},
        )
    return value


def _digest(digest: str) -> str:
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise PydanticCustomError(
            "digest", "expected sha256:<64 hex digits>, got {value}", {"value": repr(digest)}
        )
    return digest


Quantity = Annotated[str, BeforeValidator(_quantity)]
Digest = Annotated[str, AfterValidator(_digest)]
Text = Annotated[str, BeforeValidator(_text)]
Name = Annotated[str, AfterValidator(_dns_label)]
Percent = Annotated[int, BeforeValidator(_percent)]
IntOrPercent = Annotated[int | str, BeforeValidator(_int_or_percent)]


def _env_name(name: str) -> str:
    if not ENV_NAME.match(name):
        raise PydanticCustomError(
            "env_name", "{name} is not a valid environment variable name", {"name": repr(name)}
        )
    return name


class Image(Model):
    """`<registry>/<namespace>/<name>:<tag>` or `@<digest>`; never an implicit `latest`."""

    registry: str | None = None
    namespace: str | None = None
    name: str
    tag: Text | None = None
    digest: Digest | None = None

    @field_validator("tag")
    @classmethod
    def _no_latest(cls, tag: str | None) -> str | None:
        if tag == "latest":
            raise PydanticCustomError(
                "latest", "tag 'latest' is not reproducible: pin a version or a digest", {}
            )
        return tag

    @model_validator(mode="after")
    def _pinned(self) -> Image:
        if self.tag is None and self.digest is None:
            raise PydanticCustomError(
                "unpinned", "set image.tag (a version) or image.digest; 'latest' is never implied", {}
            )
        return self

    @property
    def repository(self) -> str:
        """`<registry>/<namespace>/<name>` as the spec gives it."""
        return "/".join(p for p in (self.registry, self.namespace, self.name) if p)

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"


ResourceName = Literal["cpu", "memory", "ephemeral-storage"]


def _default_requests() -> dict[ResourceName, str]:
    return {"cpu": "100m", "memory": "128Mi"}


def _default_limits() -> dict[ResourceName, str]:
    return {"memory": "256Mi"}


EPHEMERAL_REQUEST = "64Mi"  # logs and the writable layer of a service that writes no files
EPHEMERAL_LIMIT = "1Gi"  # a ceiling: past it the kubelet evicts this pod, not its neighbours


class Resources(Model):
    requests: dict[ResourceName, Quantity] = Field(default_factory=_default_requests)
    limits: dict[ResourceName, Quantity] = Field(
        default_factory=_default_limits,
        description="No CPU limit by default: CFS throttling hurts latency more than it protects neighbours.",
    )

    @model_validator(mode="before")
    @classmethod
    def _ephemeral_storage(cls, data: Any) -> Any:
        """ephemeral-storage defaults to a 64Mi request and a 1Gi limit (never below the request), so
        the scheduler counts the pod's disk and a runaway writer is evicted alone."""
        if not isinstance(data, dict):
            return data
        requests = data.get("requests", _default_requests())
        limits = data.get("limits", _default_limits())
        if not isinstance(requests, dict) or not isinstance(limits, dict):
            return data
        key = "ephemeral-storage"
        requests = {**requests, key: requests.get(key, EPHEMERAL_REQUEST)}
        if key not in limits:
            try:
                above = parse_quantity(requests[key]) > parse_quantity(EPHEMERAL_LIMIT)
            except (TypeError, ValueError):
                above = False  # the request's own error is reported by its validator
            limits = {**limits, key: requests[key] if above else EPHEMERAL_LIMIT}
        return {**data, "requests": requests, "limits": limits}

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> Resources:
        for key, limit in self.limits.items():
            request = self.requests.get(key)
            if request is not None and parse_quantity(limit) < parse_quantity(request):
                raise PydanticCustomError(
                    "limit_below_request",
                    "limits.{key} ({limit}) is below requests.{key} ({request})",
                    {"key": key, "limit": limit, "request": request},
                )
        return self


class Probe(Model):
    path: str
    initial_delay_seconds: int = Field(0, ge=0)
    period_seconds: int = Field(10, ge=1)
    timeout_seconds: int = Field(1, ge=1)
    failure_threshold: int = Field(3, ge=1)


class Probes(Model):
    liveness: Probe = Probe(path=HEALTH_PATH)
    readiness: Probe = Probe(path=READY_PATH, period_seconds=5, failure_threshold=1)
    startup: Probe | None = Probe(path=HEALTH_PATH, period_seconds=2, failure_threshold=30)


class Container(Model):
    port: int = Field(DEFAULT_PORT, ge=1, le=65535)
    app: str = Field("app:app", description="module:attribute of the ASGI app, for `kubeship serve`")
    command: list[str] | None = Field(None, description="Overrides `kubeship serve <app>` entirely.")
    workers: int = Field(1, ge=1)
    env: dict[Annotated[str, AfterValidator(_env_name)], str] = Field(default_factory=dict)
    resources: Resources = Resources()
    probes: Probes = Probes()
    drain_seconds: float = Field(
        DEFAULT_DRAIN_SECONDS, ge=0, description="Keep serving after SIGTERM (runtime)."
    )
    shutdown_timeout: float = Field(
        DEFAULT_SHUTDOWN_TIMEOUT, gt=0, description="Then finish in-flight requests."
    )
    max_concurrency: int = Field(
        DEFAULT_MAX_CONCURRENCY,
        ge=1,
        description="Requests each worker has in the app at once; more queue (kubeship serve "
        "--max-concurrency). Probes, /metrics and WebSockets do not count; a streamed response "
        "counts until it ends.",
    )


class RollingUpdate(Model):
    max_surge: IntOrPercent = "25%"
    max_unavailable: IntOrPercent = 0  # zero-downtime by default: new pods ready before old ones go


def _node_port_range(value: int | None) -> int | None:
    if value is not None and not 30000 <= value <= 32767:
        raise PydanticCustomError(
            "node_port", "nodePort {value} is outside the range 30000-32767", {"value": repr(value)}
        )
    return value


class Service(Model):
    name: Name | None = Field(None, description="Service name; default the app name.")
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    port: int = Field(80, ge=1, le=65535)
    node_port: Annotated[int | None, AfterValidator(_node_port_range)] = None

    @model_validator(mode="after")
    def _node_port_needs_type(self) -> Service:
        if self.node_port is not None and self.type == "ClusterIP":
            raise PydanticCustomError("node_port_type", "nodePort needs type NodePort or LoadBalancer", {})
        return self


class IngressPath(Model):
    path: str = "/"
    path_type: Literal["Prefix", "Exact", "ImplementationSpecific"] = "Prefix"


class IngressHost(Model):
    host: str
    paths: list[IngressPath] = Field(default_factory=lambda: [IngressPath()])


class Ingress(Model):
    class_name: str | None = None
    hosts: list[IngressHost] = Field(min_length=1)
    tls_secret: str | None = None
    annotations: dict[str, str] = Field(default_factory=dict)


class Config(Model):
    """Non-secret settings → a ConfigMap."""

    name: Name | None = Field(None, description="ConfigMap name; default <app>-config.")
    data: dict[str, str] = Field(default_factory=dict)
    reload: Literal["hot", "restart"] = Field(
        "hot",
        description="hot: mounted as a directory the runtime re-reads; restart: a content hash on the pod "
        "template rolls the pods on every change.",
    )
    as_env: bool = Field(False, description="Also expose each key as an APP_* environment variable.")

    @field_validator("data", mode="before")
    @classmethod
    def _stringify(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v if isinstance(v, str) else _scalar_text(v) for k, v in data.items()}
        return data

    @field_validator("data")
    @classmethod
    def _keys(cls, data: dict[str, str]) -> dict[str, str]:
        for key in data:
            if not CONFIG_KEY.match(key):
                raise PydanticCustomError(
                    "config_key", "{key} is not a valid ConfigMap key", {"key": repr(key)}
                )
        return data


def _scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


class SecretKey(Model):
    """Where a secret value comes from at render time. Never the value itself."""

    from_env: str | None = None
    from_file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretKey:
        if (self.from_env is None) == (self.from_file is None):
            raise PydanticCustomError("secret_source", "give exactly one of fromEnv or fromFile", {})
        return self


def _secret_key(value: Any) -> Any:
    if isinstance(value, str):
        raise PydanticCustomError(
            "inline_secret",
            "secret values must not be written in kubeship.yaml; use fromEnv: VAR or fromFile: path",
            {},
        )
    return value


class Secret(Model):
    external: bool = Field(
        False, description="The Secret exists already in the cluster: reference it, render nothing."
    )
    keys: dict[str, Annotated[SecretKey, BeforeValidator(_secret_key)]] = Field(default_factory=dict)
    mount: bool = Field(True, description="Mount as files (KUBESHIP_SECRETS_PATH); else expose as env vars.")

    @model_validator(mode="after")
    def _keys_or_external(self) -> Secret:
        if not self.external and not self.keys:
            raise PydanticCustomError("secret_empty", "list its keys, or set external: true", {})
        return self


class KafkaTrigger(Model):
    """With autoscaling.engine keda: scale on consumer lag read from Kafka itself."""

    bootstrap_servers: str
    consumer_group: str
    topic: str


class RedisStreamsTrigger(Model):
    """With autoscaling.engine keda: scale on a Redis Stream consumer group's backlog, read from Redis."""

    address: str = Field(description="host:port of Redis.")
    stream: str
    consumer_group: str
    count: Literal["lag", "pending"] = Field(
        "lag",
        description="lag: entries not yet delivered (Redis 7+, the only one that scales to zero); "
        "pending: delivered and not acknowledged.",
    )
    password_from_env: str | None = Field(None, description="The worker's env var that holds the password.")


class CustomMetric(Model):
    name: str
    type: Literal["Pods", "External"] = Field(
        "Pods",
        description="Pods: a series each pod of the workload exports. External: a series from elsewhere "
        "(a queue exporter), read as one value.",
    )
    target: Quantity = Field(description="Average per pod (Pods, or External AverageValue) or total (Value).")
    target_type: Literal["Value", "AverageValue"] | None = Field(
        None,
        description="External only: Value (the total; default) or AverageValue (the total divided by the "
        "pods: 100 messages of lag per pod).",
    )
    query: str | None = Field(None, description="PromQL for the Prometheus Adapter rule.")
    series: str | None = Field(
        None,
        description="The series the adapter rule discovers when it differs from `name` (a counter served "
        "as a rate: series kubeship_worker_messages_total, name kubeship_worker_messages_per_second).",
    )
    keda_query: str | None = Field(
        None, description="engine keda: plain PromQL for the total (default sum(<name>) in the namespace)."
    )
    kafka: KafkaTrigger | None = Field(None, description="engine keda: a Kafka lag trigger instead.")
    redis_streams: RedisStreamsTrigger | None = Field(
        None, description="engine keda: a Redis Streams trigger instead."
    )

    @model_validator(mode="after")
    def _target_type(self) -> CustomMetric:
        if self.kafka is not None and self.redis_streams is not None:
            raise PydanticCustomError("one_trigger", "give kafka or redisStreams, not both", {})
        if self.type == "Pods" and self.target_type == "Value":
            raise PydanticCustomError(
                "pods_value", "a Pods metric's target is an average per pod: drop targetType", {}
            )
        return self


class Keda(Model):
    prometheus: str = Field(
        "http://prometheus-operated.monitoring.svc:9090",
        description="Prometheus for the prometheus triggers.",
    )
    polling_interval: int = Field(15, ge=1, description="Seconds between KEDA's checks of the triggers.")


class ScalingPolicy(Model):
    type: Literal["Pods", "Percent"]
    value: int = Field(ge=1)
    period_seconds: int = Field(ge=1, le=1800)


class ScalingRules(Model):
    stabilization_window_seconds: int | None = Field(None, ge=0, le=3600)
    tolerance: float | None = Field(
        None,
        ge=0,
        le=10,
        description="This direction's tolerance on the metric ratio (0.05 = 5 %; Kubernetes 1.33+, "
        "HPAConfigurableTolerance); the controller's 10 % when omitted.",
    )
    select_policy: Literal["Max", "Min", "Disabled"] | None = None
    policies: list[ScalingPolicy] | None = None


class Behavior(Model):
    """Omitted fields take the controller's defaults (scale-down stabilization 300 s)."""

    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None


class Autoscaling(Model):
    engine: Literal["hpa", "keda"] = Field(
        "hpa",
        description="hpa: a HorizontalPodAutoscaler (+ Prometheus Adapter rules for custom metrics); "
        "keda: a KEDA ScaledObject (it owns the HPA).",
    )
    keda: Keda = Keda()
    min_replicas: int = Field(
        2, ge=0, description="0 scales to zero when idle (HPAScaleToZero): needs an External custom metric."
    )
    max_replicas: int = Field(10, ge=1)
    cpu: Percent | None = None
    memory: Quantity | None = Field(None, description="Average memory per pod, e.g. 200Mi.")
    custom: list[CustomMetric] = Field(default_factory=list)
    behavior: Behavior | None = None

    @model_validator(mode="after")
    def _sane(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise PydanticCustomError(
                "min_max",
                "minReplicas ({min}) is greater than maxReplicas ({max})",
                {"min": self.min_replicas, "max": self.max_replicas},
            )
        if self.cpu is None and self.memory is None and not self.custom:
            raise PydanticCustomError("no_metrics", "give at least one of cpu, memory or custom", {})
        if self.min_replicas == 0 and not any(m.type == "External" for m in self.custom):
            raise PydanticCustomError(
                "zero_needs_external",
                "minReplicas 0 (scale to zero) needs an External custom metric, such as a queue's "
                "backlog: CPU, memory and Pods metrics come from the pods and vanish with the last one, "
                "so nothing would wake the workload (the API server rejects it too)",
                {},
            )
        if self.engine == "hpa" and any(m.kafka or m.redis_streams or m.keda_query for m in self.custom):
            raise PydanticCustomError(
                "keda_only",
                "custom[].kafka, custom[].redisStreams and custom[].kedaQuery are KEDA triggers: "
                "set engine: keda",
                {},
            )
        return self


class Disruption(Model):
    """A PodDisruptionBudget; with neither field set, maxUnavailable 1."""

    min_available: IntOrPercent | None = None
    max_unavailable: IntOrPercent | None = None

    @model_validator(mode="after")
    def _one(self) -> Disruption:
        if self.min_available is not None and self.max_unavailable is not None:
            raise PydanticCustomError("pdb_both", "give minAvailable or maxUnavailable, not both", {})
        return self


class Availability(Model):
    zones: bool = Field(True, description="Spread pods over topology.kubernetes.io/zone.")
    hosts: bool = Field(True, description="Spread pods over kubernetes.io/hostname.")
    disruption_budget: Disruption | None = Disruption()


class RbacRule(Model):
    """One PolicyRule of the app's Role: only what the app itself calls on the API server."""

    api_groups: list[str] = Field(default_factory=lambda: [""], description='"" is the core group.')
    resources: list[str] = Field(min_length=1)
    verbs: list[
        Literal["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
    ] = Field(min_length=1)
    resource_names: list[str] | None = None


class Headers(Model):
    """Security response headers the runtime adds where the app sets none (kubeship.runtime.headers):
    what OWASP ZAP's baseline checks of an API. The README's table names the ZAP rule of each."""

    enabled: bool = True
    csp: str | None = Field(
        None,
        description="Content-Security-Policy of HTML responses (default: same origin only, no framing). "
        "FastAPI's /docs loads Swagger UI from a CDN: allow it here if you serve /docs in production.",
    )
    hsts: str | None = Field(
        None,
        description="Strict-Transport-Security under TLS (default max-age=31536000; includeSubDomains); "
        "'' leaves it to the ingress.",
    )
    cache_control: str | None = Field(
        None, description="Cache-Control when the app sets none (default no-store)."
    )


class Security(Model):
    headers: Headers = Headers()
    run_as_user: int = Field(10001, ge=1)
    run_as_group: int = Field(10001, ge=1)
    read_only_root_filesystem: bool = True
    service_account_token: bool = Field(
        False, description="Mount an API token; implied by rbac (a Role is useless without one)."
    )
    rbac: list[RbacRule] = Field(
        default_factory=list, description="The app's Role (its own ServiceAccount, bound in its namespace)."
    )
    pod_security: Literal["restricted", "baseline"] | None = Field(
        "restricted",
        description="Render the namespace (spec.namespace) with this Pod Security Standard enforced; "
        "null when the platform owns the Namespace object.",
    )


class EgressPeer(Model):
    """A dependency the app calls: pods (by labels, optionally in another namespace) or a CIDR."""

    namespace: Name | None = None
    pods: dict[str, str] | None = Field(None, description="Pod labels; none: every pod of the namespace.")
    cidr: str | None = Field(None, description="An address block outside the cluster, e.g. 10.2.0.0/16.")
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(min_length=1)
    protocol: Literal["TCP", "UDP"] = "TCP"

    @model_validator(mode="after")
    def _one_kind(self) -> EgressPeer:
        if self.cidr is not None and (self.namespace is not None or self.pods is not None):
            raise PydanticCustomError("egress", "give cidr, or namespace/pods, not both", {})
        if self.cidr is None and self.namespace is None and self.pods is None:
            raise PydanticCustomError("egress", "give cidr, namespace or pods: where the app connects", {})
        return self


class NetworkPolicy(Model):
    enabled: bool = True
    from_namespaces: list[Name] = Field(
        default_factory=list,
        description="Namespaces allowed in besides the app's own (ingress controller, monitoring).",
    )
    egress: list[EgressPeer] | None = Field(
        default_factory=list,
        description="Where the app may connect besides DNS (default-deny otherwise); null: no egress rule.",
    )


class EdgeTls(Model):
    """Client certificates at the Ingress (ingress-nginx verifies them before proxying)."""

    client_ca_secret: str = Field(description="namespace/name of a Secret whose ca.crt signs clients.")
    verify: Literal["on", "optional"] = "on"
    depth: int = Field(1, ge=1, le=5, description="Certificate chain depth accepted.")


class Tls(Model):
    """mTLS on the app's port, with a cert-manager Certificate that rotates without a restart."""

    issuer: Name = Field(description="The cert-manager Issuer (or ClusterIssuer) that signs it.")
    issuer_kind: Literal["Issuer", "ClusterIssuer"] = "Issuer"
    mtls: bool = Field(True, description="Every path but the probes needs a client certificate of the CA.")
    duration: Duration = Field("2160h", description="90 days, cert-manager's default lifetime.")
    renew_before: Duration = Field(
        "720h", description="Renew 30 days ahead: a failing issuer has a month to be fixed."
    )
    trust_domain: str = Field("cluster.local", description="SPIFFE trust domain of the URI SAN.")
    allow: dict[Annotated[str, Field(pattern=r"^/")], list[str]] = Field(
        default_factory=dict, description="Path prefix → client identities (URI/DNS SAN or CN) allowed."
    )
    edge: EdgeTls | None = None


def _duration(value: Any) -> str:
    try:
        parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError("duration", str(exc), {}) from None
    return str(value)


def _ratio(value: Any) -> float:
    """`"99.9%"` or `0.999` → 0.999; an objective of 100 % leaves no error budget to alert on."""
    text = value.strip() if isinstance(value, str) else value
    try:
        if isinstance(text, str) and text.endswith("%"):
            ratio = float(text[:-1]) / 100
        elif isinstance(text, int | float) and not isinstance(text, bool):
            ratio = float(text)
        else:
            raise ValueError
    except ValueError:
        raise PydanticCustomError(
            "ratio",
            'expected a ratio like 0.999 or a percentage like "99.9%", got {value}',
            {"value": repr(value)},
        ) from None
    if not 0 < ratio < 1:
        raise PydanticCustomError(
            "ratio",
            "an objective must be above 0 and below 100% (got {value}): 100% leaves no error budget, "
            'so every error would page; write e.g. "99.9%" or 0.999',
            {"value": repr(value)},
        )
    return ratio


def _bucket(value: Any) -> str:
    """A latency threshold must be a histogram bucket bound, so bucket counts answer the SLO exactly."""
    if not isinstance(value, str) or not value.strip()[-1:].isalpha():
        raise PydanticCustomError(
            "latency_unit",
            "give the latency threshold with a unit, like 300ms or 1s, got {value}",
            {"value": repr(value)},
        )
    seconds = _duration(value) and parse_duration(value)
    if seconds not in LATENCY_BUCKETS:
        bounds = ", ".join(f"{b * 1000:g}ms" if b < 1 else f"{b:g}s" for b in LATENCY_BUCKETS)
        raise PydanticCustomError(
            "latency_bucket",
            "{value} is not a bound of the runtime's latency histogram; use one of {bounds}",
            {"value": value, "bounds": bounds},
        )
    return value


Duration = Annotated[str, BeforeValidator(_duration)]
Ratio = Annotated[float, BeforeValidator(_ratio)]
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
Severity = Literal["critical", "warning", "info"]


def _metric_name(value: str) -> str:
    if not METRIC_NAME.match(value):
        raise PydanticCustomError(
            "metric_name",
            "{value} is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
            {"value": repr(value)},
        )
    return value


def _label_name(value: str) -> str:
    if not LABEL_NAME_RE.match(value):
        raise PydanticCustomError(
            "label_name",
            "{value} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)",
            {"value": repr(value)},
        )
    return value


MetricName = Annotated[str, AfterValidator(_metric_name)]
LabelName = Annotated[str, AfterValidator(_label_name)]


class AvailabilitySLO(Model):
    """Share of requests answered without a 5xx, over `window`."""

    target: Ratio


class LatencySLO(Model):
    """Share of requests answered within `threshold` (a bucket of the runtime's histogram)."""

    target: Ratio
    threshold: Annotated[str, BeforeValidator(_bucket)]

    @property
    def threshold_seconds(self) -> float:
        return parse_duration(self.threshold)


class SLO(Model):
    availability: AvailabilitySLO | None = None
    latency: LatencySLO | None = None
    window: Duration = Field("30d", description="The error-budget period of both objectives.")


class AlertRule(Model):
    """A threshold on a metric: `aggregate by (by) (metric) > above` for `for`."""

    name: Annotated[str, AfterValidator(_label_name)]
    metric: MetricName
    aggregate: Literal["sum", "max", "min", "avg"] = "max"
    by: list[LabelName] = Field(default_factory=list)
    above: float | None = None
    below: float | None = None
    for_: Duration = Field("5m", alias="for")
    severity: Severity = "warning"
    summary: str | None = None
    description: str | None = None
    runbook: str | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> AlertRule:
        if (self.above is None) == (self.below is None):
            raise PydanticCustomError("alert_bound", "give exactly one of above or below", {})
        return self


def _secret_or_text(value: Any) -> Any:
    return value if isinstance(value, str | dict) else _text(value)


class Webhook(Model):
    url: Annotated[str | SecretKey, BeforeValidator(_secret_or_text)] = Field(
        description="The receiver's URL, or {fromEnv|fromFile} when it carries a token."
    )
    send_resolved: bool = True
    max_alerts: int = Field(0, ge=0)


class Email(Model):
    to: str
    from_: str = Field(alias="from")
    smarthost: str = Field(description="host:port of the SMTP server")
    username: str | None = None
    password: SecretKey | None = None
    require_tls: bool = True

    @field_validator("smarthost")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if not re.fullmatch(r"[^:\s]+:\d+", value):
            raise PydanticCustomError("smarthost", "expected host:port, got {value}", {"value": repr(value)})
        return value


class DingTalk(Model):
    """DingTalk robot. Alertmanager can't speak its message format, so alerts go through the
    prometheus-webhook-dingtalk bridge; the robot URL (it holds the access token) stays a secret."""

    url: SecretKey = Field(description="The robot's webhook URL (with its access_token).")
    secret: SecretKey | None = Field(None, description="The robot's signing secret, if it has one.")
    bridge: str = "http://prometheus-webhook-dingtalk.monitoring.svc:8060"


class WeCom(Model):
    """WeCom (WeChat Work) application messages, Alertmanager's `wechat_configs`."""

    corp_id: str
    agent_id: Text
    api_secret: SecretKey
    to_party: str | None = None
    to_user: str | None = None


class Receiver(Model):
    webhook: Webhook | None = None
    email: Email | None = None
    dingtalk: DingTalk | None = None
    wecom: WeCom | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Receiver:
        if sum(x is not None for x in (self.webhook, self.email, self.dingtalk, self.wecom)) != 1:
            raise PydanticCustomError(
                "receiver_kind", "give exactly one of webhook, email, dingtalk, wecom", {}
            )
        return self


class Route(Model):
    """Alerts whose labels equal every `match` entry go to `receiver`."""

    match: dict[LabelName, str] = Field(min_length=1)
    receiver: Name
    continue_: bool = Field(False, alias="continue")
    group_by: list[LabelName] | None = None
    repeat_interval: Duration | None = None


class Alerting(Model):
    receiver: Name = Field(description="Where alerts no route matches go.")
    receivers: dict[Name, Receiver] = Field(min_length=1)
    routes: list[Route] = Field(default_factory=list)
    group_by: list[LabelName] = Field(default_factory=lambda: ["alertname", "service"])
    group_wait: Duration = "30s"
    group_interval: Duration = "5m"
    repeat_interval: Duration = "4h"


class Dependency(Model):
    """A service the app relies on, watched through its standard exporter: scrape, alerts, dashboard."""

    kind: Literal["redis", "kafka", "postgres", "node"]
    name: Name | None = Field(None, description="Tells two of a kind apart (default: the kind).")
    namespace: Name | None = Field(None, description="Where the exporter's Service is (default: the app's).")
    selector: dict[str, str] | None = Field(
        None, description="Labels of the exporter's Service (default: its community Helm chart's)."
    )
    port: str | None = Field(None, description="The Service's metrics port name (default: the chart's).")
    job: str | None = Field(None, description="The `job` label of its series (default: the name).")
    scrape: bool = Field(True, description="false: already scraped elsewhere under `job`; rules only.")
    for_: Duration | None = Field(None, alias="for", description="Overrides every alert's `for`.")
    thresholds: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_thresholds(self) -> Dependency:
        known = KINDS[self.kind].thresholds
        for key in self.thresholds:
            if key not in known:
                guess = difflib.get_close_matches(key, list(known), n=1)
                hint = f"did you mean {guess[0]!r}? " if guess else ""
                raise PydanticCustomError(
                    "threshold",
                    "{kind} has no threshold {key}: {hint}it has {known}",
                    {"kind": self.kind, "key": repr(key), "hint": hint, "known": ", ".join(known)},
                )
        return self

    @property
    def label(self) -> str:
        return self.name or self.kind

    @property
    def job_name(self) -> str:
        return self.job or self.label

    def threshold(self, key: str) -> float:
        return self.thresholds.get(key, KINDS[self.kind].thresholds[key].default)


class Observe(Model):
    dependencies: list[Dependency] = Field(
        default_factory=list,
        description="Redis, Kafka, PostgreSQL, nodes: their exporters scraped, alerts, dashboard rows.",
    )
    team: str | None = Field(None, description="A `team` label on every alert, for routing.")
    runbook_url: str | None = Field(None, description="Base URL; each alert links <runbookUrl>#<alertname>.")
    metrics: list[MetricName] = Field(
        default_factory=list,
        description="Other metrics the app or its exporters provide, which alerts may use.",
    )
    scrape_interval: Duration = "30s"

    @model_validator(mode="after")
    def _distinct_dependencies(self) -> Observe:
        seen: set[str] = set()
        for dep in self.dependencies:
            if dep.label in seen:
                raise PydanticCustomError(
                    "dependency_name",
                    "two dependencies are called {label}: give one a `name`",
                    {"label": repr(dep.label)},
                )
            seen.add(dep.label)
        return self


class DeliveryStep(Model):
    """One canary step: exactly one of weight (percent of traffic), pause (a duration, or `manual` to
    wait for `kubectl argo rollouts promote`) and analysis (an inline gate with the SLO template)."""

    weight: Percent | None = None
    pause: Annotated[str, BeforeValidator(lambda v: v if v == "manual" else _duration(v))] | None = None
    analysis: dict[str, Any] | None = Field(
        None, description="An inline analysis gate: {} runs the SLO template for delivery.analysis.count."
    )

    @model_validator(mode="after")
    def _one(self) -> DeliveryStep:
        given = [k for k in ("weight", "pause", "analysis") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "step_kind",
                "a step is exactly one of {weight: 5}, {pause: 15m} (or pause: manual), {analysis: {}}",
                {},
            )
        if self.analysis:
            raise PydanticCustomError(
                "step_analysis", "an analysis step takes no settings yet: write analysis: {}", {}
            )
        return self


def _guide_steps() -> list[DeliveryStep]:
    """The guide's release: 5 % of users, watch 15 minutes, then 25 %, 50 %, each watched, then all."""
    steps = []
    for weight in (5, 25, 50):
        steps += [DeliveryStep(weight=weight), DeliveryStep(pause="15m")]
    return steps


class DeliveryAnalysis(Model):
    """The AnalysisTemplate derived from `slo:`: the canary's own pods judged against the SLO."""

    enabled: bool = True
    interval: Duration = Field(
        "1m", description="Between measurements: two scrapes at the default 30 s, so each sees new data."
    )
    window: Duration = Field(
        "5m",
        description="The rate window: ten scrapes, so one slow scrape or one restart does not swing it.",
    )
    burn_rate: float = Field(
        14.4,
        gt=0,
        description="Fail when the canary spends error budget this many times faster than the SLO allows: "
        "14.4 is the rate the 1h/5m burn alert pages on, so the canary is rejected for what would page.",
    )
    min_requests: int | None = Field(
        None,
        ge=1,
        description="Canary requests a window needs before it is judged (default 3 / allowed error ratio, "
        "so one error alone cannot fail it); fewer → Inconclusive, never Successful.",
    )
    failure_limit: int = Field(1, ge=0, description="One bad measurement is noise; the second aborts.")
    inconclusive_limit: int = Field(
        2, ge=0, description="The third measurement without enough traffic pauses the rollout for a human."
    )
    consecutive_error_limit: int = Field(
        4,
        ge=0,
        description="Prometheus unreachable for 5 tries (10 s apart) aborts: a release nobody can "
        "see is not continued.",
    )
    count: int = Field(5, ge=1, description="Measurements of an inline {analysis: {}} step.")
    compare_stable: bool = Field(
        False, description="Also fail when the canary's error ratio exceeds the stable pods' by stableMargin."
    )
    stable_margin: Ratio | None = Field(
        None, description="Default max(2 x error budget, 0.5 %): what the canary may be worse than stable."
    )


class Delivery(Model):
    """Progressive delivery on Argo Rollouts: a Rollout replaces the Deployment."""

    strategy: Literal["canary", "blueGreen"] = "canary"
    steps: list[DeliveryStep] = Field(default_factory=_guide_steps, min_length=1)
    traffic_routing: Literal["nginx", "none"] | None = Field(
        None, description="Default nginx when the Ingress class is nginx (exact weights), else none."
    )
    analysis: DeliveryAnalysis = DeliveryAnalysis()
    prometheus: str = Field(
        "http://prometheus-operated.monitoring.svc:9090", description="Where Argo's analysis queries."
    )
    auto_promotion: bool = Field(True, description="blueGreen: switch once pre-promotion analysis passes.")
    scale_down_delay_seconds: int = Field(
        30, ge=0, description="Keep the old pods this long after the switch, for an instant rollback."
    )
    preview_replicas: int | None = Field(None, ge=1, description="blueGreen: pods of the preview.")


def _base_image(value: str) -> str:
    name = value.rsplit("/", 1)[-1]
    if "@sha256:" in value:
        return value
    if ":" not in name or name.endswith(":latest"):
        raise PydanticCustomError(
            "base_latest",
            "base image {value} is not pinned: give a tag like python:3.11-slim-bookworm (and a digest)",
            {"value": repr(value)},
        )
    return value


class Build(Model):
    """How `kubeship dockerfile` / `kubeship build` make the image."""

    base: Annotated[str, AfterValidator(_base_image)] = Field(
        "python:3.11-slim-bookworm", description="Base of both stages; a local or air-gapped mirror works."
    )
    base_digest: Digest | None = Field(None, description="sha256:… pins the base beyond its tag.")
    context: str = Field(".", description="Build context, relative to kubeship.yaml.")
    requirements: str = Field("requirements.txt", description="The locked dependency list, in the context.")
    wheelhouse: str | None = Field(
        None, description="A directory of wheels in the context: install from it only (no index)."
    )
    source: str | None = Field(
        None, description="Repository URL for the org.opencontainers.image.source label."
    )

    @property
    def base_reference(self) -> str:
        return f"{self.base}@{self.base_digest}" if self.base_digest else self.base


PROD_NAMES = frozenset({"prod", "production"})
ZAP_IMAGE = (  # ZAP 2.17.0; bump with the digest `docker buildx imagetools inspect` gives
    "ghcr.io/zaproxy/zaproxy:stable@sha256:8d387b1a63e3425beef4846e39719f5af2a787753af2d8b6558c6257d7a577a2"
)


class PipelineEnvironment(Model):
    """One stage of the release: rendered for this environment and handed to GitOps."""

    name: Name
    approval: bool | None = Field(
        None, description="Wait for a person before releasing (default: true for prod and production)."
    )
    url: str | None = Field(None, description="Shown on the deployment (GitHub environments, GitLab).")
    cluster: str | None = Field(
        None,
        description="The Argo CD destination server of this environment (default gitops.argocd.server).",
    )

    @property
    def needs_approval(self) -> bool:
        return self.approval if self.approval is not None else self.name in PROD_NAMES


class Dast(Model):
    """The built image run as a service and scanned from outside before anything is released."""

    enabled: bool = True
    scanner: Literal["zap", "wapiti"] = Field(
        "zap", description="OWASP ZAP (baseline, or API scan with openapi), or Wapiti (crawls from /)."
    )
    openapi: str | None = Field(
        None,
        pattern=r"^/",
        description="Path of the app's OpenAPI document (FastAPI: /openapi.json): ZAP's API scan "
        "attacks every operation it lists; without it the baseline scan spiders from /.",
    )
    rules: dict[Annotated[str, Field(pattern=r"^[0-9]+(-[0-9]+)?$")], Literal["FAIL", "WARN", "IGNORE"]] = (
        Field(default_factory=dict, description="ZAP rule id → action, over kubeship's table.")
    )
    fail_at: Literal["low", "medium", "high"] = Field(
        "medium", description="Wapiti: a finding of this level or above fails the job."
    )
    minutes: int = Field(10, ge=1, le=120, description="The scan's time budget.")
    zap_image: str = Field(ZAP_IMAGE, description="The ZAP image, by digest.")
    env: dict[Annotated[str, AfterValidator(_env_name)], str] = Field(
        default_factory=dict, description="Extra environment of the app while it is scanned."
    )


class ArgoCD(Model):
    """The Argo CD Application rendered beside each environment's manifests."""

    enabled: bool = True
    namespace: Name = "argocd"
    project: Name = "default"
    server: str = Field("https://kubernetes.default.svc", description="The cluster Argo CD deploys to.")
    self_heal: bool = Field(True, description="Undo changes made in the cluster by hand: git is the truth.")
    prune: bool = Field(True, description="Delete what was removed from git.")


class GitOps(Model):
    repository: str | None = Field(
        None, description="Git URL of the deploy repository (default: this repository's deploy branch)."
    )
    branch: str = Field("deploy", pattern=r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")  # never a git option
    path: str = Field(
        "{name}/{env}",
        pattern=r"^[A-Za-z0-9._/{}-]+$",
        description="Where each environment's manifests go in the deploy repository.",
    )
    argocd: ArgoCD = ArgoCD()

    @field_validator("path")
    @classmethod
    def _placeholders(cls, path: str) -> str:
        unknown = set(re.findall(r"{([^}]*)}", path)) - {"name", "env"}
        if unknown or ".." in path.split("/") or path.startswith("/"):
            raise PydanticCustomError(
                "gitops_path",
                "a relative path with only {{name}} and {{env}} placeholders, got {path}",
                {"path": repr(path)},
            )
        return path


class Pipeline(Model):
    """The CI/CD pipeline `kubeship pipeline` writes: test, check, build and push, DAST, GitOps release."""

    provider: Literal["github", "gitlab"] = Field(
        "github", description="Written by default; both on request."
    )
    branch: str = Field(
        "main",
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$",
        description="Releases run for pushes to this branch; other refs test only.",
    )
    python: Text = "3.11"
    install: str = Field(
        'python -m pip install -r requirements.txt "kubeship[tools]"',
        description="Installs the app, its test tools and the kubeship CLI.",
    )
    test: str = Field("python -m pytest", description="The project's own test command.")
    environments: list[PipelineEnvironment] | None = Field(
        None, description="In release order (default: the spec's environments, prod and production last)."
    )
    dast: Dast = Dast()
    gitops: GitOps = GitOps()
    wait: Duration | None = Field(
        "30m",
        description="Wait this long for the Rollout to finish or abort after the hand-off; null: no wait.",
    )


class Siem(Model):
    """Where the audit records go: an rsyslog sidecar, RFC 5424 over TCP with TLS (RFC 5425)."""

    address: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")] = Field(
        description="host:port of the SIEM's syslog-over-TLS listener (6514 is the standard port)."
    )
    ca_secret: Name = Field(description="Secret with ca.crt: the CA that signed the SIEM's certificate.")
    image: str = Field(
        "docker.io/rsyslog/syslog_appliance_alpine:8.2404.0", description="Any image with rsyslogd and gtls."
    )
    retention_days: int = Field(
        180, ge=180, description="Kept by the SIEM (MLPS 2.0 asks at least 180); written on the ConfigMap."
    )


class Audit(Model):
    """Sensitive operations recorded in a tamper-evident trail (see kubeship.runtime.audit)."""

    operations: list[Annotated[str, Field(pattern=r"^[A-Za-z]+ /\S*$")]] = Field(
        min_length=1, description="METHOD /route/{param}, e.g. DELETE /databases/{name}."
    )
    key_secret: Name = Field(description="Secret with the chain's HMAC key under `key` (32+ random chars).")
    fail_open: bool = Field(
        False, description="false: a sensitive request fails (503) if it can't be recorded."
    )
    siem: Siem | None = None


ADDRESS = r"^[A-Za-z0-9.-]+:[0-9]{1,5}$"
METHOD = re.compile(r"^[A-Z]+$")
# The guide's dual-active table (chapter 5): class, methods, path prefix, primary %, failover, share %
GUIDE_CLASSES = (
    ("admin", None, "/admin", 50, "auto", 5),
    ("reads", ("GET", "HEAD"), None, 70, "auto", 80),
    ("writes", None, None, 100, "manual", 15),
)


class Site(Model):
    """One data centre or cluster: where the global proxy reaches it and how many pods it can run."""

    name: Name
    addresses: list[Annotated[str, Field(pattern=ADDRESS)]] = Field(
        min_length=1, description="host:port the global proxy sends this site's share to (its ingress)."
    )
    tls: bool = Field(
        False, description="The proxy speaks HTTPS to the addresses, verifying them (system CAs)."
    )
    cluster: Name | None = Field(None, description="Its Karmada member cluster (default: the site's name).")
    max_replicas: int | None = Field(
        None, ge=1, description="The most pods the site can run (default: what failover asks of it)."
    )
    dns_target: str | None = Field(
        None, description="external-dns record target (default: the first address's host)."
    )


class TrafficClass(Model):
    """Requests matched by path prefix and/or method (first class that matches), weighted per site."""

    name: Name
    methods: list[Annotated[str, Field(pattern=METHOD.pattern)]] | None = Field(
        None, description="Matched methods (default: any)."
    )
    path_prefix: Annotated[str, Field(pattern=r"^/\S*$")] | None = None
    weights: dict[Name, Annotated[int, Field(ge=0, le=100)]] = Field(
        description="Per site, percent of this class's requests; a site left out gets 0."
    )
    failover: Literal["auto", "manual"] = Field(
        "auto",
        description="auto: a failed site's share moves to the others when its health check fails; "
        "manual: the class stays on its site until `kubeship sites failover` (writes: one site owns them).",
    )
    share: Annotated[int, Field(ge=0, le=100)] | None = Field(
        None,
        description="Percent of all requests in this class, for sizing (measure it: sum by (method) of "
        "http_requests_total); classes without one split what is left.",
    )

    @model_validator(mode="after")
    def _weighted(self) -> TrafficClass:
        if not any(self.weights.values()):
            raise PydanticCustomError("no_weight", "give at least one site a weight above 0", {})
        if self.failover == "manual" and sum(1 for w in self.weights.values() if w) != 1:
            raise PydanticCustomError(
                "manual_one_site",
                "a manual-failover class is served by one site at a time: weight 100 on it, 0 elsewhere",
                {},
            )
        return self


class SiteHealth(Model):
    """How the global proxy decides a site is down: its readiness probe, over the WAN."""

    path: Annotated[str, Field(pattern=r"^/\S*$")] = READY_PATH
    interval: Duration = "1s"
    fall: int = Field(2, ge=1, description="Failed checks in a row before a site's address is taken out.")
    rise: int = Field(2, ge=1, description="Passed checks in a row before it is put back.")


class Sites(Model):
    """Several data centres or clusters serving one app (the guide's dual-active table by default)."""

    members: list[Site] = Field(min_length=2, description="The first is the primary.")
    classes: list[TrafficClass] | None = Field(
        None,
        description="In match order, the last matching every request (default, the guide's table: "
        "admin /admin 50/50, reads GET/HEAD 70/30, writes 100/0 failed over by hand).",
    )
    health: SiteHealth = SiteHealth()
    hostname: str | None = Field(
        None, description="external-dns: the weighted records of this name (reads' weights) per site."
    )
    retries: int | None = Field(
        None,
        ge=0,
        le=32,
        description="A request that failed to connect is tried again on another address, this many times "
        "(default: as many as there are addresses, so a whole site lost under load cannot use them up).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Sites:
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise PydanticCustomError(
                "duplicate_site", "site names must be unique: {names}", {"names": names}
            )
        classes = self.traffic
        for c in classes:
            unknown = sorted(set(c.weights) - set(names))
            if unknown:
                raise PydanticCustomError(
                    "unknown_site",
                    "class {cls}: weights name {unknown}, not a site ({names})",
                    {"cls": c.name, "unknown": unknown, "names": names},
                )
        if len({c.name for c in classes}) != len(classes):
            raise PydanticCustomError("duplicate_class", "traffic class names must be unique", {})
        last = classes[-1]
        if last.methods is not None or last.path_prefix is not None:
            raise PydanticCustomError(
                "no_catch_all",
                "the last traffic class must match every request (no methods, no pathPrefix): "
                "class {cls} leaves some requests without a class",
                {"cls": last.name},
            )
        given = sum(c.share or 0 for c in classes)
        if given > 100 or (given != 100 and all(c.share is not None for c in classes)):
            raise PydanticCustomError(
                "shares", "traffic class shares add up to {given} %, not 100", {"given": given}
            )
        return self

    @property
    def traffic(self) -> list[TrafficClass]:
        """The classes as given, or the guide's table: the primary's part, the rest split over the others."""
        if self.classes is not None:
            return self.classes
        primary, others = self.members[0].name, [m.name for m in self.members[1:]]
        return [
            TrafficClass(
                name=name,
                methods=list(methods) if methods else None,
                path_prefix=prefix,
                weights={primary: weight, **dict.fromkeys(others, (100 - weight) // len(others))},
                failover=failover,
                share=share,
            )
            for name, methods, prefix, weight, failover, share in GUIDE_CLASSES
        ]


class AppSpec(Model):
    """Everything kubeship derives a deployment from."""

    name: Name
    namespace: Name | None = None
    part_of: str | None = None
    version: Text
    image: Image
    container: Container = Container()
    replicas: int = Field(2, ge=0)
    rolling_update: RollingUpdate = RollingUpdate()
    revision_history_limit: int = Field(5, ge=0)
    service: Service = Service()
    ingress: Ingress | None = None
    config: Config | None = None
    secrets: dict[Name, Secret] = Field(default_factory=dict)
    autoscaling: Autoscaling | None = None
    availability: Availability = Availability()
    security: Security = Security()
    network_policy: NetworkPolicy = NetworkPolicy()
    build: Build = Build()
    observe: Observe = Observe()
    slo: SLO | None = None
    alerts: list[AlertRule] = Field(default_factory=list)
    alerting: Alerting | None = None
    delivery: Delivery | None = None
    tls: Tls | None = None
    audit: Audit | None = None
    pipeline: Pipeline | None = None
    sites: Sites | None = None


class SpecFile(AppSpec):
    """The file: an app spec plus environment overlays (deep-merged before validation)."""

    environments: dict[Name, dict[str, Any]] = Field(default_factory=dict)


Loc = tuple[str | int, ...]


def spec_warnings(spec: AppSpec) -> list[tuple[Loc, str]]:
    """What renders but will not work as meant: (where, what and how to fix)."""
    from kubeship.names import exporter_metric_fix, exporter_of

    out: list[tuple[Loc, str]] = []
    if spec.autoscaling is not None and spec.autoscaling.engine == "hpa":
        for i, m in enumerate(spec.autoscaling.custom):
            exporter = exporter_of(m.name)
            if m.type == "Pods" and exporter is not None:
                out.append((("autoscaling", "custom", i, "type"), exporter_metric_fix(m.name, exporter)))
    return out


def reference_errors(spec: AppSpec) -> list[tuple[Loc, str]]:
    """Names one part of the spec uses and another must define: (where, what is wrong and how to fix)."""
    from kubeship.names import METRIC_DURATION, METRIC_IN_FLIGHT, METRIC_REQUESTS

    errors: list[tuple[Loc, str]] = []
    known = {METRIC_REQUESTS, METRIC_DURATION, METRIC_IN_FLIGHT, *spec.observe.metrics}
    if spec.autoscaling is not None:
        known.update(m.name for m in spec.autoscaling.custom)
    for i, alert in enumerate(spec.alerts):
        base = alert.metric.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
        if alert.metric not in known and base not in known:
            guess = difflib.get_close_matches(alert.metric, sorted(known), n=1)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            errors.append(
                (
                    ("alerts", i, "metric"),
                    f"unknown metric {alert.metric!r}: {hint}the runtime exports {METRIC_REQUESTS}, "
                    f"{METRIC_DURATION} and {METRIC_IN_FLIGHT}; list others under observe.metrics",
                )
            )
    if spec.alerting is not None:
        names = sorted(spec.alerting.receivers)
        refs: list[tuple[Loc, str]] = [(("alerting", "receiver"), spec.alerting.receiver)]
        refs += [
            (("alerting", "routes", i, "receiver"), r.receiver) for i, r in enumerate(spec.alerting.routes)
        ]
        for loc, name in refs:
            if name not in spec.alerting.receivers:
                errors.append(
                    (loc, f"no receiver {name!r} under alerting.receivers (defined: {', '.join(names)})")
                )
    errors += _delivery_errors(spec)
    errors += _security_errors(spec)
    return errors


def _security_errors(spec: AppSpec) -> list[tuple[Loc, str]]:
    errors: list[tuple[Loc, str]] = []
    tls, audit, np = spec.tls, spec.audit, spec.network_policy
    if tls is not None and tls.allow and not tls.mtls:
        errors.append((("tls", "allow"), "client identities need client certificates: set tls.mtls: true"))
    if (
        tls is not None
        and tls.edge is not None
        and (spec.ingress is None or spec.ingress.class_name != "nginx")
    ):
        errors.append(
            (
                ("tls", "edge"),
                "edge client certificates are ingress-nginx settings: add ingress with className: nginx",
            )
        )
    if audit is not None:
        wanted: list[tuple[Loc, str, str]] = [(("audit", "keySecret"), audit.key_secret, "key")]
        if audit.siem is not None:
            wanted.append((("audit", "siem", "caSecret"), audit.siem.ca_secret, "ca.crt"))
        for loc, name, key in wanted:
            declared = spec.secrets.get(name)
            if declared is None or (not declared.external and key not in declared.keys):
                errors.append(
                    (
                        loc,
                        f"declare it under secrets: {name}: {{keys: {{{key}: {{fromEnv: ...}}}}}} "
                        "(or external: true if the cluster has it), to be rendered and checked",
                    )
                )
    if audit is not None and audit.siem is not None and np.enabled and np.egress is not None:
        port = int(audit.siem.address.rpartition(":")[2])
        if not any(peer.cidr is not None and port in peer.ports for peer in np.egress):
            errors.append(
                (
                    ("audit", "siem", "address"),
                    f"egress is default-deny and nothing allows the SIEM: add networkPolicy.egress: "
                    f"[{{cidr: <SIEM address>/32, ports: [{port}]}}]",
                )
            )
    return errors


def _delivery_errors(spec: AppSpec) -> list[tuple[Loc, str]]:
    d = spec.delivery
    if d is None:
        return []
    errors: list[tuple[Loc, str]] = []
    if d.analysis.enabled and (spec.slo is None or spec.slo.availability is None):
        errors.append(
            (
                ("delivery", "analysis"),
                "the canary analysis is derived from slo.availability: add slo: {availability: "
                '{target: "99.9%"}}, or set delivery.analysis.enabled: false',
            )
        )
    if d.traffic_routing == "nginx" and (spec.ingress is None or spec.ingress.class_name != "nginx"):
        errors.append(
            (
                ("delivery", "trafficRouting"),
                "trafficRouting nginx shifts traffic through the app's Ingress: add ingress with "
                "className: nginx, or use trafficRouting: none",
            )
        )
    if not d.analysis.enabled:
        errors += [
            (("delivery", "steps", i, "analysis"), "an analysis step needs delivery.analysis.enabled: true")
            for i, step in enumerate(d.steps)
            if step.analysis is not None
        ]
    if d.strategy == "blueGreen" and "steps" in d.model_fields_set:
        errors.append((("delivery", "steps"), "steps are for strategy canary; blueGreen switches at once"))
    return errors
