"""The AnalysisTemplate derived from the spec's SLO: the canary's own pods, judged as the SLO alerts judge.

Every query selects the canary's series alone, by the `rollouts_pod_template_hash`
label the scrape config copies from the pod (`{{args.canary-hash}}` is the
Rollout's `podTemplateHashValue: Latest`), leaves out the runtime's own probe
and metrics paths (a draining pod's 503 on /readyz is not a user's error), and
answers nothing unless the window holds enough canary requests. The conditions
then make three outcomes: a value within the threshold is Successful, above it
Failed, and no answer or NaN (no traffic, 0/0) is neither: Inconclusive, which
pauses the rollout, so an idle canary is never promoted silently.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from kubeship.names import (
    HEALTH_PATH,
    METRIC_DURATION,
    METRIC_REQUESTS,
    METRICS_PATH,
    READY_PATH,
    ROLLOUT_HASH_SERIES_LABEL,
)
from kubeship.promql import ERROR_STATUS, job, label_selector, le, namespace_matchers
from kubeship.render.labels import metadata
from kubeship.spec.models import AppSpec, Delivery, DeliveryAnalysis

CANARY_HASH_ARG = "canary-hash"
STABLE_HASH_ARG = "stable-hash"


class Gate(NamedTuple):
    """One metric of the template: its query and the threshold its conditions hold it to."""

    name: str
    query: str
    threshold: float


def template_name(spec: AppSpec, gate: bool = False) -> str:
    """`<app>-slo` runs in the background for the whole rollout; `<app>-slo-gate` has a count, for
    inline steps and blue-green promotion (Argo rejects an unbounded metric there)."""
    return f"{spec.name}-slo-gate" if gate else f"{spec.name}-slo"


def delivery(spec: AppSpec) -> Delivery:
    """The spec's delivery section; only specs that have one get here."""
    if spec.delivery is None:
        raise ValueError("the spec has no delivery section")
    return spec.delivery


class Judgement(NamedTuple):
    """The delivery settings every part of the analysis reads, resolved once from the spec."""

    delivery: Delivery
    analysis: DeliveryAnalysis
    error_budget: float  # the availability SLO's allowed 5xx ratio
    error_threshold: float  # the canary's highest acceptable 5xx ratio: the budget burnt burnRate x
    min_requests: int  # requests per window before a verdict
    stable_margin: float  # how much worse than stable the canary may be


def judgement(spec: AppSpec) -> Judgement:
    """The canary's yardstick. `min_requests` defaults to 3 / threshold, so a single error can't fail a
    canary and a real regression at the threshold shows as ≈ 3 errors; the stable margin to
    max(2 x budget, 0.5 %)."""
    d = delivery(spec)
    if spec.slo is None or spec.slo.availability is None:  # the spec loader requires it with delivery
        raise ValueError("the canary analysis needs slo.availability")
    a = d.analysis
    budget = 1 - spec.slo.availability.target
    threshold = min(1.0, a.burn_rate * budget)
    return Judgement(
        delivery=d,
        analysis=a,
        error_budget=budget,
        error_threshold=threshold,
        min_requests=a.min_requests if a.min_requests is not None else math.ceil(3 / threshold),
        stable_margin=a.stable_margin if a.stable_margin is not None else max(2 * budget, 0.005),
    )


def error_budget(spec: AppSpec) -> float:
    return judgement(spec).error_budget


def error_threshold(spec: AppSpec) -> float:
    return judgement(spec).error_threshold


def min_requests(spec: AppSpec) -> int:
    return judgement(spec).min_requests


def _selector(spec: AppSpec, hash_arg: str, **extra: str) -> str:
    own = "|".join((HEALTH_PATH, READY_PATH, METRICS_PATH))
    canary = f'{ROLLOUT_HASH_SERIES_LABEL}="{{{{args.{hash_arg}}}}}"'
    return label_selector([f'job="{job(spec)}"', *namespace_matchers(spec), canary, f'route!~"{own}"'], extra)


def _error_ratio(spec: AppSpec, hash_arg: str, window: str) -> str:
    errors = f"sum(rate({METRIC_REQUESTS}{_selector(spec, hash_arg, status='~' + ERROR_STATUS)}[{window}]))"
    total = f"sum(rate({METRIC_REQUESTS}{_selector(spec, hash_arg)}[{window}]))"
    # No 5xx series at all (a healthy new pod never wrote one) is 0 errors, not "no data".
    return f"({errors} or on() vector(0)) / {total}"


def _guard(spec: AppSpec, window: str, requests: int) -> str:
    traffic = f"sum(increase({METRIC_REQUESTS}{_selector(spec, CANARY_HASH_ARG)}[{window}]))"
    return f"and on() {traffic} >= {requests}"


def gates(spec: AppSpec, j: Judgement | None = None) -> list[Gate]:
    """The metrics: error ratio against the availability SLO; the slow share against the latency SLO;
    optionally the canary's error ratio against the stable pods'."""
    j = j or judgement(spec)
    d = j.analysis
    w = d.window
    guard = _guard(spec, w, j.min_requests)
    out = [Gate("error-ratio", f"{_error_ratio(spec, CANARY_HASH_ARG, w)}\n{guard}", j.error_threshold)]
    if spec.slo is not None and spec.slo.latency is not None:
        lat = spec.slo.latency
        bucket = f"{METRIC_DURATION}_bucket"
        fast = f"sum(rate({bucket}{_selector(spec, CANARY_HASH_ARG, le=le(lat.threshold_seconds))}[{w}]))"
        every = f"sum(rate({bucket}{_selector(spec, CANARY_HASH_ARG, le='+Inf')}[{w}]))"
        out.append(
            Gate(
                "slow-ratio",
                f"1 - ({fast} / {every})\n{guard}",
                min(1.0, d.burn_rate * (1 - lat.target)),
            )
        )
    if d.compare_stable:
        diff = f"({_error_ratio(spec, CANARY_HASH_ARG, w)})\n- ({_error_ratio(spec, STABLE_HASH_ARG, w)})"
        out.append(Gate("error-ratio-vs-stable", f"{diff}\n{guard}", j.stable_margin))
    return out


def _number(value: float) -> str:
    return f"{value:.6g}"


def conditions(threshold: float) -> tuple[str, str]:
    """(success, failure): no answer or NaN satisfies neither, so it is Inconclusive, never a pass."""
    t = _number(threshold)
    seen = "len(result) > 0 && !isNaN(result[0])"
    return f"{seen} && result[0] <= {t}", f"{seen} && result[0] > {t}"


def analysis_template(spec: AppSpec, gate: bool = False) -> dict[str, Any]:
    j = judgement(spec)
    d = j.analysis
    metrics = []
    for g in gates(spec, j):
        success, failure = conditions(g.threshold)
        metric: dict[str, Any] = {"name": g.name, "interval": d.interval}
        if gate:
            metric["count"] = d.count
        metric |= {
            "failureLimit": d.failure_limit,
            "inconclusiveLimit": d.inconclusive_limit,
            "consecutiveErrorLimit": d.consecutive_error_limit,
            "successCondition": success,
            "failureCondition": failure,
            "provider": {"prometheus": {"address": j.delivery.prometheus, "query": g.query}},
        }
        metrics.append(metric)
    args = [{"name": CANARY_HASH_ARG}]
    if d.compare_stable:
        args.append({"name": STABLE_HASH_ARG})
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": metadata(spec, template_name(spec, gate)),
        "spec": {"args": args, "metrics": metrics},
    }


def rollout_args(spec: AppSpec) -> list[dict[str, Any]]:
    """What the Rollout passes: the hashes of its newest (canary) and stable ReplicaSets."""
    args: list[dict[str, Any]] = [{"name": CANARY_HASH_ARG, "valueFrom": {"podTemplateHashValue": "Latest"}}]
    if judgement(spec).analysis.compare_stable:
        args.append({"name": STABLE_HASH_ARG, "valueFrom": {"podTemplateHashValue": "Stable"}})
    return args
