"""The PromQL kubeship writes: selectors, recording-rule names and the SLO windows, in one place.

Below both `render` (the canary's AnalysisTemplate) and `observe` (rules, dashboards): neither
imports the other for them.

Every series is selected by `job`, which both scrape paths set to the app name
(the plain scrape job is named after it; the ServiceMonitor takes it from the
`app.kubernetes.io/name` label). Recording rules follow Prometheus' naming
convention `level:metric:operations`.
"""

from __future__ import annotations

from typing import NamedTuple

from kubeship.names import METRIC_DURATION, METRIC_REQUESTS, deployment_pod_pattern
from kubeship.spec.models import AppSpec

ERROR_STATUS = "5.."  # what the availability SLO counts as an error: server errors only


class BurnWindow(NamedTuple):
    """The SRE workbook's multiwindow, multi-burn-rate alerts (chapter 5, table 5-8)."""

    long: str
    short: str
    factor: float  # budget burn rate: 1 spends the whole budget in exactly the SLO window
    severity: str  # page → critical, ticket → warning
    for_: str


BURN_WINDOWS = (
    BurnWindow("1h", "5m", 14.4, "critical", "2m"),  # 2 % of a 30-day budget in an hour
    BurnWindow("6h", "30m", 6.0, "critical", "15m"),  # 5 % in six hours
    BurnWindow("1d", "2h", 3.0, "warning", "1h"),  # 10 % in a day
    BurnWindow("3d", "6h", 1.0, "warning", "3h"),  # 10 % in three days
)
RATE_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
QUANTILES = (0.5, 0.9, 0.99)


def meta_label(role: str, label: str) -> str:
    """kubernetes_sd's name for an object's label (role pod, service, ...): every non-alphanumeric
    character becomes `_`."""
    return f"__meta_kubernetes_{role}_label_" + "".join(c if c.isalnum() else "_" for c in label)


def job(spec: AppSpec) -> str:
    return spec.name


def hpa_name(spec: AppSpec) -> str:
    """The HPA kube-state-metrics reports: ours, or the one KEDA creates for the ScaledObject."""
    keda = spec.autoscaling is not None and spec.autoscaling.engine == "keda"
    return f"keda-hpa-{spec.name}" if keda else spec.name


def label_selector(parts: list[str], extra: dict[str, str]) -> str:
    """`{a="b",c=~"d"}`: `extra` values starting with `~` are regexes (`status="~5.."`)."""
    for key, value in extra.items():
        parts.append(f'{key}=~"{value[1:]}"' if value.startswith("~") else f'{key}="{value}"')
    return "{" + ",".join(parts) + "}"


def namespace_matchers(spec: AppSpec) -> list[str]:
    return [f'namespace="{spec.namespace}"'] if spec.namespace else []


def matcher(spec: AppSpec, **extra: str) -> str:
    """The app's own series: `{job="web",status=~"5.."}`."""
    return label_selector([f'job="{job(spec)}"'], extra)


def pod_matcher(spec: AppSpec, **extra: str) -> str:
    """kube-state-metrics and cAdvisor series of the Deployment's pods, by pod name."""
    return label_selector([*namespace_matchers(spec), f'pod=~"{deployment_pod_pattern(spec.name)}"'], extra)


def hpa_matcher(spec: AppSpec, **extra: str) -> str:
    """kube-state-metrics series of the app's HPA (KEDA's, with engine keda)."""
    return label_selector([*namespace_matchers(spec), f'horizontalpodautoscaler="{hpa_name(spec)}"'], extra)


def le(bound: float) -> str:
    """A bucket bound as prometheus_client writes the `le` label (Go's float formatting: 1 → "1.0")."""
    return repr(float(bound))


def requests_rate(window: str) -> str:
    return f"job:{METRIC_REQUESTS.removesuffix('_total')}:rate{window}"


def error_ratio(window: str) -> str:
    return f"job:http_request_errors:ratio_rate{window}"


def slow_ratio(window: str) -> str:
    return f"job:http_request_slow:ratio_rate{window}"


def quantile(q: float) -> str:
    return f"job:{METRIC_DURATION}:p{round(q * 100)}"


AVAILABILITY_BUDGET = "job:slo_availability_error_budget:remaining"
LATENCY_BUDGET = "job:slo_latency_error_budget:remaining"
