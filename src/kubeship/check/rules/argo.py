"""Argo Rollouts' own validation, for what a schema cannot say: the controller's checks on a Rollout
(pkg/apis/rollouts/validation), on analysis metrics (utils/analysis ValidateMetric) and on the
templates a Rollout's steps run (validation_references.go). Messages are the controller's own
words, prefixed with the field path as its field errors print it, so a user can search for them.

The bundled schema (schemas/argo-rollouts.yaml) accepts what the API server accepts for Argo's
CRDs; these rules report what the controller then refuses (the Rollout sits in InvalidSpec).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kubeship.check.model import Document, Severity
from kubeship.check.rules.base import Index, Path, register

# Argo's messages (pkg/apis/rollouts/validation/validation.go), kept verbatim.
MISSING_FIELD = "Rollout has missing field '{}'"
INVALID_SET_WEIGHT = "SetWeight needs to be between 0 and 100"
EXPERIMENT_WEIGHT_WITHOUT_ROUTING = (
    "Experiment template weight cannot be set unless TrafficRouting is enabled"
)
EXPERIMENT_WEIGHT_ROUTERS = (
    "Experiment template weight is only available for TrafficRouting with SMI, ALB, and Istio at this time"
)
SET_CANARY_SCALE_NEEDS_ROUTING = "SetCanaryScale requires TrafficRouting to be set"
SET_HEADER_ROUTE_ROUTERS = "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix"
SET_MIRROR_ROUTE_ROUTERS = "SetMirrorRoute requires TrafficRouting, supports Istio only"
STRING_MATCH_MULTIPLE = "StringMatch match value must have exactly one of the following: exact, regex, prefix"
STRING_MATCH_MISSING = (
    "StringMatch value missed, match value must have one of the following: exact, regex, prefix"
)
ALB_HEADER_EXACT_ONLY = "SetHeaderRoute match value invalid. ALB supports 'exact' value only"
INVALID_DURATION = "Duration needs to be greater than 0"
MAX_SURGE_MAX_UNAVAILABLE = "MaxSurge and MaxUnavailable both can not be zero"
INVALID_STEP = "Step must have one of the following set: experiment, setWeight, setCanaryScale or pause"
MULTIPLE_STRATEGIES = "Multiple Strategies can not be listed"
DUPLICATED_BLUE_GREEN = (
    "This rollout uses the same service for the active and preview services, but two different services are "
    "required."
)
DUPLICATED_CANARY = (
    "This rollout uses the same service for the stable and canary services, but two different services are "
    "required."
)
ANTI_AFFINITY_ONE = "AntiAffinity must have exactly one strategy listed"
ANTI_AFFINITY_WEIGHT = "AntiAffinity weight must be between 1-100"
SCALE_DOWN_LIMIT = (
    "This rollout's revision history limit can not be smaller than the rollout's scale down limit"
)
ROUTING_NEEDS_SERVICES = "Canary service and Stable service must to be set to use Traffic Routing"
SCALE_DOWN_DELAY_NEEDS_ROUTING = "Canary scaleDownDelaySeconds can only be used with traffic routing"
DYNAMIC_STABLE_NEEDS_ROUTING = "Canary dynamicStableScale can only be used with traffic routing"
DYNAMIC_STABLE_WITH_DELAY = "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
PING_PONG_SERVICES = "Ping service and Pong service must to be set to use Ping-Pong feature"
DUPLICATED_PING_PONG = (
    "This rollout uses the same service for the ping and pong services, but two different services "
    "are required."
)
ALB_ROOT_SERVICE = (
    "Root service field is required for the configuration with ALB and ping-pong feature enabled"
)
PING_PONG_ALB_ONLY = "Ping-pong feature works with the ALB traffic routing only"
ROUTE_NOT_MANAGED = (
    "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes"
)

_STEP_KINDS = (  # a step sets one of these (plugin: v1.8's step plugins, which the check then grew)
    "plugin",
    "experiment",
    "pause",
    "setWeight",
    "analysis",
    "setCanaryScale",
    "setHeaderRoute",
    "setMirrorRoute",
)
_EXCLUSIVE = ("setWeight", "pause", "experiment", "analysis")  # hasMultipleStepsType
_GO_DURATION = re.compile(r"[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+|[-+]?0")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> float | None:
    """Seconds of a Go duration ("1m30s", "-5s", "0"), or None if time.ParseDuration refuses it."""
    if not _GO_DURATION.fullmatch(text):
        return None
    sign = -1.0 if text.startswith("-") else 1.0
    total = sum(
        float(n) * _UNIT[u] for n, _, _, u in re.findall(r"((\d+(\.\d*)?|\.\d+))(ns|us|µs|μs|ms|s|m|h)", text)
    )
    return sign * total


def pause_seconds(duration: Any) -> int:
    """RolloutPause.DurationSeconds: an int; a string of digits; a Go duration; -1 if unreadable."""
    if duration is None:
        return 0
    if isinstance(duration, bool):
        return -1
    if isinstance(duration, int):
        return duration
    text = str(duration)
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    seconds = go_duration(text)
    return -1 if seconds is None else int(seconds)


def _int_or_percent(value: Any) -> int:
    """getIntOrPercentValue: 25% → 25, "3" → 3 (IntValue of a string parses it, 0 if not a number)."""
    if isinstance(value, str):
        number = value[:-1] if value.endswith("%") else value
        return int(number) if re.fullmatch(r"-?\d+", number) else 0
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _argo(doc: Document) -> bool:
    return str(doc.obj.get("apiVersion", "")).startswith("argoproj.io/")


@register(
    "KS330",
    "rollout-invalid",
    Severity.ERROR,
    "argo-rollouts",
    "Argo Rollouts' controller refuses this Rollout (InvalidSpec) although the API server accepts it: "
    "steps that mix step kinds, weights out of range, a pause it cannot read, a traffic router a step "
    "needs, both maxSurge and maxUnavailable at zero… The message is the controller's own.",
    "fix the field named, as the controller's message says; `kubectl argo rollouts lint` gives the same",
)
def rollout_invalid(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind != "Rollout" or not _argo(doc):
        return
    spec = _d(doc.obj.get("spec"))
    yield from _spec_errors(spec)
    strategy = _d(spec.get("strategy"))
    canary, blue_green = strategy.get("canary"), strategy.get("blueGreen")
    if canary is None and blue_green is None:
        yield MISSING_FIELD.format(".spec.strategy.canary or .spec.strategy.blueGreen"), ["spec", "strategy"]
    elif canary is not None and blue_green is not None:
        yield f"spec.strategy: {MULTIPLE_STRATEGIES}", ["spec", "strategy"]
    elif blue_green is not None:
        yield from _blue_green(spec, _d(blue_green))
    else:
        yield from _canary(spec, _d(canary))


def _spec_errors(spec: dict[str, Any]) -> Iterator[tuple[str, Path]]:
    for key in ("replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"):
        value = spec.get(key)
        if isinstance(value, int) and value < 0:
            yield f"spec.{key}: must be greater than or equal to 0", ["spec", key]
    if spec.get("workloadRef") is None:
        selector = spec.get("selector")
        if selector is None:
            yield MISSING_FIELD.format(".spec.selector"), ["spec"]
        elif not (_d(selector).get("matchLabels") or _d(selector).get("matchExpressions")):
            yield "spec.selector: empty selector is invalid for deployment", ["spec", "selector"]
    deadline, ready = spec.get("progressDeadlineSeconds", 600), spec.get("minReadySeconds", 0)
    if isinstance(deadline, int) and isinstance(ready, int) and deadline <= ready:
        yield (
            "spec.progressDeadlineSeconds: must be greater than minReadySeconds",
            ["spec", "progressDeadlineSeconds"],
        )


def _blue_green(spec: dict[str, Any], bg: dict[str, Any]) -> Iterator[tuple[str, Path]]:
    where: Path = ["spec", "strategy", "blueGreen"]
    if bg.get("activeService") == bg.get("previewService"):
        yield f"spec.strategy.blueGreen.activeService: {DUPLICATED_BLUE_GREEN}", [*where, "activeService"]
    limit, history = bg.get("scaleDownDelayRevisionLimit"), spec.get("revisionHistoryLimit", 10)
    if isinstance(limit, int) and isinstance(history, int) and history < limit:
        yield (
            f"spec.strategy.blueGreen.scaleDownDelayRevisionLimit: {SCALE_DOWN_LIMIT}",
            [*where, "scaleDownDelayRevisionLimit"],
        )
    yield from _anti_affinity(bg.get("antiAffinity"), where)


def _canary(spec: dict[str, Any], canary: dict[str, Any]) -> Iterator[tuple[str, Path]]:
    where: Path = ["spec", "strategy", "canary"]
    routing = canary.get("trafficRouting")
    tr = _d(routing)
    surge, unavailable = canary.get("maxSurge", "25%"), canary.get("maxUnavailable", "25%")
    if _int_or_percent(surge) == 0 and _int_or_percent(unavailable) == 0:
        yield f"spec.strategy.canary.maxSurge: {MAX_SURGE_MAX_UNAVAILABLE}", [*where, "maxSurge"]
    stable, canary_svc = canary.get("stableService") or "", canary.get("canaryService") or ""
    if stable and canary_svc and stable == canary_svc:
        yield f"spec.strategy.canary.stableService: {DUPLICATED_CANARY}", [*where, "stableService"]
    ping_pong = canary.get("pingPong")
    if ping_pong is not None:
        pp = _d(ping_pong)
        if routing is not None and tr.get("alb") is None:
            yield f"spec.strategy.canary.trafficRouting.alb: {PING_PONG_ALB_ONLY}", [*where, "trafficRouting"]
        for key in ("pingService", "pongService"):
            if not pp.get(key):
                yield f"spec.strategy.canary.pingPong.{key}: {PING_PONG_SERVICES}", [*where, "pingPong"]
        if pp.get("pingService", "") == pp.get("pongService", ""):
            yield f"spec.strategy.canary.pingPong.pingService: {DUPLICATED_PING_PONG}", [*where, "pingPong"]
        if tr.get("alb") is not None and not _d(tr.get("alb")).get("rootService"):
            yield (
                f"spec.strategy.canary.trafficRouting.alb.rootService: {ALB_ROOT_SERVICE}",
                [*where, "trafficRouting", "alb"],
            )
    destination_rule = _d(tr.get("istio")).get("destinationRule") is not None
    if routing is not None and not destination_rule and ping_pong is None:
        for key, value in (("stableService", stable), ("canaryService", canary_svc)):
            if not value:
                yield f"spec.strategy.canary.{key}: {ROUTING_NEEDS_SERVICES}", [*where]
    if routing is None:
        if canary.get("scaleDownDelaySeconds") is not None:
            yield (
                f"spec.strategy.canary.scaleDownDelaySeconds: {SCALE_DOWN_DELAY_NEEDS_ROUTING}",
                [*where, "scaleDownDelaySeconds"],
            )
        if canary.get("dynamicStableScale"):
            yield (
                f"spec.strategy.canary.dynamicStableScale: {DYNAMIC_STABLE_NEEDS_ROUTING}",
                [*where, "dynamicStableScale"],
            )
    elif canary.get("scaleDownDelaySeconds") is not None and canary.get("dynamicStableScale"):
        yield (
            f"spec.strategy.canary.dynamicStableScale: {DYNAMIC_STABLE_WITH_DELAY}",
            [*where, "dynamicStableScale"],
        )
    if routing is not None:
        yield from _routers(tr, [*where, "trafficRouting"])
    for i, step in enumerate(canary.get("steps") or []):
        yield from _step(i, _d(step), routing, tr, [*where, "steps", i])
    yield from _anti_affinity(canary.get("antiAffinity"), where)


def _routers(tr: dict[str, Any], where: Path) -> Iterator[tuple[str, Path]]:
    """ValidateRollout{Nginx,Alb}IngressesConfig and ValidateRolloutVirtualServicesConfig."""
    pairs = (("nginx", "stableIngress", "stableIngresses", "StableIngress or StableIngresses"),
             ("alb", "ingress", "ingresses", "Ingress or Ingresses"))  # fmt: skip
    for router, one, many, words in pairs:
        if tr.get(router) is None:
            continue
        block = _d(tr[router])
        single, multiple = bool(block.get(one)), bool(block.get(many))
        field = f"spec.strategy.canary.trafficRouting.{router}"
        if single and multiple:
            yield f"{field}: Either {words} must be configured. Both are configured.", [*where, router]
        elif not (single or multiple):
            yield f"{field}: Either {words} must be configured. Neither are configured.", [*where, router]
    if tr.get("istio") is not None:
        istio = _d(tr["istio"])
        if bool(istio.get("virtualServices")) == (istio.get("virtualService") is not None):
            message = "either VirtualService or VirtualServices must be configured"
            yield f"spec.strategy.canary.trafficRouting.istio: {message}", [*where, "istio"]


def _step(
    i: int, step: dict[str, Any], routing: Any, tr: dict[str, Any], where: Path
) -> Iterator[tuple[str, Path]]:
    path = f"spec.strategy.canary.steps[{i}]"
    if sum(step.get(k) is not None for k in _EXCLUSIVE) > 1 or all(step.get(k) is None for k in _STEP_KINDS):
        yield f"{path}: {INVALID_STEP}", where
    weight = step.get("setWeight")
    if isinstance(weight, int) and not 0 <= weight <= 100:
        yield f"{path}.setWeight: {INVALID_SET_WEIGHT}", [*where, "setWeight"]
    if step.get("pause") is not None and pause_seconds(_d(step["pause"]).get("duration")) < 0:
        yield f"{path}.pause.duration: {INVALID_DURATION}", [*where, "pause"]
    if step.get("setCanaryScale") is not None and routing is None:
        yield f"spec.strategy.canary.trafficRouting: {SET_CANARY_SCALE_NEEDS_ROUTING}", where
    header = step.get("setHeaderRoute")
    if header is not None:
        if routing is None or all(tr.get(r) is None for r in ("istio", "alb", "apisix")):
            yield f"{path}.setHeaderRoute: {SET_HEADER_ROUTE_ROUTERS}", [*where, "setHeaderRoute"]
        else:
            for j, match in enumerate(_d(header).get("match") or []):
                value = _d(match).get("headerValue")
                check = _alb_match if tr.get("alb") is not None else _one_match
                for message in check(value):
                    yield f"{path}.setHeaderRoute.match[{j}]: {message}", [*where, "setHeaderRoute"]
    mirror = step.get("setMirrorRoute")
    if mirror is not None:
        if routing is None or tr.get("istio") is None:
            yield f"{path}.setMirrorRoute: {SET_MIRROR_ROUTE_ROUTERS}", [*where, "setMirrorRoute"]
        for j, match in enumerate(_d(mirror).get("match") or []):
            for key in ("method", "path"):
                if _d(match).get(key) is not None:
                    for message in _one_match(match[key]):
                        yield f"{path}.setMirrorRoute.match[{j}]: {message}", [*where, "setMirrorRoute"]
    if routing is not None and (header is not None or mirror is not None):
        managed = tr.get("managedRoutes")
        if managed is None:
            yield MISSING_FIELD.format("spec.strategy.canary.trafficRouting.managedRoutes"), where
        else:
            names = {_d(r).get("name") for r in managed if isinstance(managed, list)}
            for key, route in (("setHeaderRoute", header), ("setMirrorRoute", mirror)):
                if route is not None and _d(route).get("name", "") not in names:
                    yield f"{path}.{key}: {ROUTE_NOT_MANAGED}", [*where, key]
    for k, template in enumerate(_d(step.get("experiment")).get("templates") or []):
        if _d(template).get("weight") is None:
            continue
        field = f"{path}.experiment.templates[{k}].weight"
        if routing is None:
            yield f"{field}: {EXPERIMENT_WEIGHT_WITHOUT_ROUTING}", [*where, "experiment"]
        elif all(tr.get(r) is None for r in ("alb", "smi", "istio")):
            yield f"{field}: {EXPERIMENT_WEIGHT_ROUTERS}", [*where, "experiment"]


def _alb_match(value: Any) -> Iterator[str]:
    if value is None:
        yield STRING_MATCH_MISSING
    elif not _d(value).get("exact") or _d(value).get("regex") or _d(value).get("prefix"):
        yield ALB_HEADER_EXACT_ONLY


def _one_match(value: Any) -> Iterator[str]:
    if value is None:
        yield STRING_MATCH_MISSING
        return
    given = sum(bool(_d(value).get(k)) for k in ("exact", "regex", "prefix"))
    if given != 1:
        yield STRING_MATCH_MULTIPLE if given > 1 else STRING_MATCH_MISSING


def _anti_affinity(value: Any, where: Path) -> Iterator[tuple[str, Path]]:
    if value is None:
        return
    aa = _d(value)
    preferred, required = (
        aa.get("preferredDuringSchedulingIgnoredDuringExecution"),
        aa.get("requiredDuringSchedulingIgnoredDuringExecution"),
    )
    path = ".".join(str(p) for p in where) + ".antiAffinity"
    if (preferred is None) == (required is None):
        yield f"{path}: {ANTI_AFFINITY_ONE}", [*where, "antiAffinity"]
    weight = _d(preferred).get("weight")
    if preferred is not None and isinstance(weight, int) and not 1 <= weight <= 100:
        yield f"{path}.weight: {ANTI_AFFINITY_WEIGHT}", [*where, "antiAffinity"]


# -- analysis -----------------------------------------------------------------------------------

_TEMPLATES = ("AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun")


@register(
    "KS331",
    "analysis-metric-invalid",
    Severity.ERROR,
    "argo-rollouts",
    "A metric Argo Rollouts refuses when it starts the analysis (utils/analysis ValidateMetric): no or "
    "several providers, limits above the count, a count without an interval, a duration it cannot "
    "read, two metrics of one name. The AnalysisRun errors and the rollout aborts.",
    "fix the metric as the message says (interval is a Go duration such as 1m; count >= failureLimit)",
)
def analysis_metric_invalid(doc: Document) -> Iterator[str | tuple[str, Path]]:
    if doc.kind not in _TEMPLATES or not _argo(doc):
        return
    spec = _d(doc.obj.get("spec"))
    metrics = spec.get("metrics")
    if not metrics and not spec.get("templates") and doc.kind != "AnalysisRun":
        yield "no metrics specified", ["spec"]
        return
    seen: set[Any] = set()
    for i, raw in enumerate(metrics or []):
        metric = _d(raw)
        if metric.get("name") in seen:
            yield f"metrics[{i}]: duplicate name '{metric.get('name')}'", ["spec", "metrics", i]
        seen.add(metric.get("name"))
        for message in _metric_errors(metric):
            yield f"metrics[{i}]: {message}", ["spec", "metrics", i]


def _metric_errors(metric: dict[str, Any]) -> Iterator[str]:
    def number(key: str, default: int = 0) -> int | None:
        value = metric.get(key, default)
        if isinstance(value, str) and "{{" in value:
            return None  # an argument: resolved when the run starts
        return _int_or_percent(value) if not isinstance(value, str) or re.fullmatch(r"-?\d+", value) else None

    count, failure, inconclusive = number("count"), number("failureLimit"), number("inconclusiveLimit")
    if count is not None and count > 0:
        if failure is not None and count < failure:
            yield "count must be >= failureLimit"
        elif inconclusive is not None and count < inconclusive:
            yield "count must be >= inconclusiveLimit"
    if count is not None and count > 1 and not metric.get("interval"):
        yield "interval must be specified when count > 1"
    for key, word in (("interval", "interval"), ("initialDelay", "startDelay")):
        value = metric.get(key)
        if isinstance(value, str) and value and "{{" not in value and go_duration(value) is None:
            yield f'invalid {word} string: time: invalid duration "{value}"'
    for key in ("failureLimit", "inconclusiveLimit", "consecutiveErrorLimit", "consecutiveSuccessLimit"):
        value = number(key)
        if value is not None and value < 0:
            yield f"{key} must be >= 0"
    providers = _d(metric.get("provider"))
    if not providers:
        yield "no provider specified"
    elif len(providers) > 1:
        yield "multiple providers specified"


@register(
    "KS332",
    "analysis-runs-indefinitely",
    Severity.ERROR,
    "argo-rollouts",
    "A step, pre- or post-promotion analysis runs a template whose metric has an interval and no count: "
    "it never ends, so the step never completes (validation_references.go refuses the Rollout).",
    "give the metric a count (interval 1m with count 5 measures five times), or run it as background "
    "analysis (spec.strategy.canary.analysis)",
)
def analysis_runs_indefinitely(index: Index) -> Iterator[tuple[Document, str] | tuple[Document, str, Path]]:
    for ro in index.by_kind.get("Rollout", []):
        strategy = _d(_d(ro.obj.get("spec")).get("strategy"))
        uses: list[tuple[Any, Path]] = []
        canary, bg = _d(strategy.get("canary")), _d(strategy.get("blueGreen"))
        uses += [
            (_d(s).get("analysis"), ["spec", "strategy", "canary", "steps", i])
            for i, s in enumerate(canary.get("steps") or [])
        ]
        uses += [
            (bg.get(k), ["spec", "strategy", "blueGreen", k])
            for k in ("prePromotionAnalysis", "postPromotionAnalysis")
        ]
        for analysis, where in uses:
            for ref in _d(analysis).get("templates") or []:
                kind = "ClusterAnalysisTemplate" if _d(ref).get("clusterScope") else "AnalysisTemplate"
                name = str(_d(ref).get("templateName"))
                template = index.find(kind, name, "" if kind.startswith("Cluster") else ro.namespace)
                if template is None:
                    continue  # KS314 says it is missing
                for metric in _d(template.obj.get("spec")).get("metrics") or []:
                    m = _d(metric)
                    if m.get("count") is None and m.get("interval"):
                        message = (
                            f"AnalysisTemplate {name} has metric {m.get('name')} which runs indefinitely. "
                            "Invalid value for count: <nil>"
                        )
                        yield ro, message, where
