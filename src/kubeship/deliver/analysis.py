"""Argo Rollouts' AnalysisRun semantics, as a pure state machine (no clock, no network).

A port of argo-rollouts `analysis/analysis.go` (`generateMetricTasks`,
`assessMetricStatus`, `assessRunStatus`, `calculateNextReconcileTime`, the
counters of `runMeasurements`) and `utils/evaluate` (`EvaluateResult`). Time is
a float of seconds given by the caller, so `kubeship analyze` drives it with the
wall clock and `kubeship deliver simulate` with a simulated one, through the
same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kubeship.deliver.expr import Condition, ExprError, compile_condition

__all__ = [
    "DEFAULT_CONSECUTIVE_ERROR_LIMIT",
    "ERROR_RETRY_SECONDS",
    "AnalysisRun",
    "Measurement",
    "Metric",
    "MetricResult",
    "Phase",
    "TemplateError",
    "assess_metric",
    "limits_phase",
    "measurement_phase",
    "metrics_from_template",
    "parse_go_duration",
    "resolve_args",
]

DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4  # the 5th error in a row ends the metric in Error
ERROR_RETRY_SECONDS = 10.0  # after an Error measurement Argo retries after 10 s, whatever the interval


class Phase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"
    INCONCLUSIVE = "Inconclusive"

    @property
    def completed(self) -> bool:
        return self not in (Phase.PENDING, Phase.RUNNING)


# analysisutil.IsWorse: a later phase in this order is worse.
_ORDER = (Phase.PENDING, Phase.RUNNING, Phase.SUCCESSFUL, Phase.INCONCLUSIVE, Phase.ERROR, Phase.FAILED)


def is_worse(current: Phase, new: Phase) -> bool:
    return _ORDER.index(new) > _ORDER.index(current)


class TemplateError(Exception):
    """An AnalysisTemplate Argo would reject (the run goes to Error at once)."""


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Go's time.ParseDuration (what Argo's `DurationString` uses): `30s`, `1m30s`, `1.5h`; no days."""
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(s):
        m = _GO_PART.match(s, pos)
        if m is None:
            raise TemplateError(f"time: invalid duration {text!r} (write e.g. 30s, 1m, 1h30m)")
        total += float(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    if not s:
        raise TemplateError(f"time: invalid duration {text!r}")
    return sign * total


@dataclass(frozen=True)
class Metric:
    """One entry of an AnalysisTemplate's `spec.metrics`, with Argo's defaults applied."""

    name: str
    provider: Mapping[str, Any]
    success: Condition | None = None
    failure: Condition | None = None
    interval: float | None = None
    initial_delay: float | None = None
    count: int = 0  # 0 = not given
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT
    dry_run: bool = False

    @property
    def effective_count(self) -> int | None:
        """Metric.EffectiveCount: no count and no interval → 1; interval only → unlimited (None)."""
        if self.count == 0:
            return 1 if self.interval is None else None
        return self.count

    @property
    def provider_name(self) -> str:
        return next(iter(self.provider), "none")


@dataclass
class Measurement:
    phase: Phase
    started_at: float
    finished_at: float | None
    value: str = ""
    message: str = ""


@dataclass
class MetricResult:
    """status.metricResults[] of an AnalysisRun."""

    name: str
    phase: Phase = Phase.RUNNING
    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    measurements: list[Measurement] = field(default_factory=list)
    message: str = ""

    def record(self, m: Measurement) -> None:
        """runMeasurements' counters: Error does not count toward `count`, and any other phase
        resets the consecutive-error streak."""
        if m.phase is Phase.ERROR:
            self.error += 1
            self.consecutive_error += 1
        elif m.phase.completed:
            self.count += 1
            self.consecutive_error = 0
            if m.phase is Phase.SUCCESSFUL:
                self.successful += 1
            elif m.phase is Phase.FAILED:
                self.failed += 1
            elif m.phase is Phase.INCONCLUSIVE:
                self.inconclusive += 1
        self.measurements.append(m)


def measurement_phase(metric: Metric, result: Any) -> tuple[Phase, str]:
    """evaluate.EvaluateResult: the phase of one measurement whose value reached the conditions as
    `result`. Both conditions → Inconclusive when neither holds; one → its negation decides."""
    success = failure = False
    try:
        if metric.success is not None:
            success = metric.success.evaluate(result)
        if metric.failure is not None:
            failure = metric.failure.evaluate(result)
    except ExprError as exc:
        return Phase.ERROR, str(exc)
    if metric.success is None and metric.failure is None:
        return Phase.SUCCESSFUL, ""
    if metric.failure is None:
        failure = not success
    elif metric.success is None:
        success = not failure
    if failure:
        return Phase.FAILED, ""
    if not success:
        return Phase.INCONCLUSIVE, ""
    return Phase.SUCCESSFUL, ""


def limits_phase(metric: Metric, result: MetricResult) -> tuple[Phase | None, str]:
    """assessMetricFailureInconclusiveOrError: the later check wins when several limits are passed."""
    phase: Phase | None = None
    message = ""
    if result.failed > metric.failure_limit:
        phase, message = Phase.FAILED, f"failed ({result.failed}) > failureLimit ({metric.failure_limit})"
    if result.inconclusive > metric.inconclusive_limit:
        phase = Phase.INCONCLUSIVE
        message = f"inconclusive ({result.inconclusive}) > inconclusiveLimit ({metric.inconclusive_limit})"
    if result.consecutive_error > metric.consecutive_error_limit:
        phase = Phase.ERROR
        message = (
            f"consecutiveErrors ({result.consecutive_error}) > "
            f"consecutiveErrorLimit ({metric.consecutive_error_limit})"
        )
    return phase, message


def assess_metric(metric: Metric, result: MetricResult, terminating: bool) -> Phase:
    """assessMetricStatus."""
    if result.phase.completed:
        return result.phase
    if not result.measurements:
        return Phase.SUCCESSFUL if terminating else Phase.PENDING
    if not result.measurements[-1].phase.completed:
        return Phase.RUNNING
    phase, _ = limits_phase(metric, result)
    if phase is not None:
        return phase
    count = metric.effective_count
    if count is not None and result.count >= count:
        return Phase.SUCCESSFUL
    return Phase.SUCCESSFUL if terminating else Phase.RUNNING


Measure = Callable[[Metric, float], tuple[Any, str] | Exception]
"""Takes one measurement of a metric at a time: (value for `result`, its display) or the error."""


@dataclass
class AnalysisRun:
    """An AnalysisRun in progress: `reconcile(now, measure)` is one pass of Argo's controller."""

    metrics: Sequence[Metric]
    results: dict[str, MetricResult] = field(default_factory=dict)
    started_at: float | None = None
    terminate: bool = False
    phase: Phase = Phase.RUNNING
    message: str = ""

    def terminating(self) -> bool:
        """analysisutil.IsTerminating: asked to stop, or a non-dry-run metric already ended badly."""
        if self.terminate:
            return True
        dry = {m.name for m in self.metrics if m.dry_run}
        return any(
            r.phase in (Phase.FAILED, Phase.ERROR, Phase.INCONCLUSIVE) and name not in dry
            for name, r in self.results.items()
        )

    def _open(self) -> list[tuple[Metric, Measurement | None]]:
        """Metrics that may still need a measurement, with their last one: not completed, count not
        reached (the bookkeeping generateMetricTasks and calculateNextReconcileTime share)."""
        out: list[tuple[Metric, Measurement | None]] = []
        for metric in self.metrics:
            result = self.results.get(metric.name)
            if result is not None and result.phase.completed:
                continue
            if result is None or not result.measurements:
                out.append((metric, None))
                continue
            count = metric.effective_count
            if count is None or result.count < count:
                out.append((metric, result.measurements[-1]))
        return out

    def due(self, now: float) -> list[Metric]:
        """generateMetricTasks: the metrics to measure now."""
        if self.terminating():
            return []
        tasks: list[Metric] = []
        for metric, last in self._open():
            if last is None:
                delayed = metric.initial_delay is not None and (
                    self.started_at is None or self.started_at + metric.initial_delay > now
                )
                if not delayed:
                    tasks.append(metric)
                continue
            interval = ERROR_RETRY_SECONDS if last.phase is Phase.ERROR else metric.interval
            if interval is None:
                interval = ERROR_RETRY_SECONDS
            if last.finished_at is not None and now >= last.finished_at + interval:
                tasks.append(metric)
        return tasks

    def next_time(self) -> float | None:
        """calculateNextReconcileTime: the earliest moment a metric is due again (None: nothing is)."""
        times: list[float] = []
        for metric, last in self._open():
            if last is None:
                if metric.initial_delay is not None and self.started_at is not None:
                    times.append(self.started_at + metric.initial_delay)
            elif last.finished_at is None:
                continue
            elif last.phase is Phase.ERROR:
                times.append(last.finished_at + ERROR_RETRY_SECONDS)
            elif metric.interval is not None:
                times.append(last.finished_at + metric.interval)
        return min(times) if times else None

    def reconcile(self, now: float, measure: Measure) -> float | None:
        """Take what is due, update every phase; returns when to reconcile next (None: done or idle)."""
        if self.phase.completed:
            return None
        for metric in self.due(now):
            outcome = measure(metric, now)
            if isinstance(outcome, Exception):
                m = Measurement(Phase.ERROR, now, now, message=str(outcome))
            else:
                value, shown = outcome
                phase, message = measurement_phase(metric, value)
                m = Measurement(phase, now, now, shown, message)
            self.results.setdefault(metric.name, MetricResult(metric.name)).record(m)
        self.phase, self.message = self.assess(now)
        if not self.phase.completed and self.terminating():
            # assess() reads the phases as they were when it began (as Argo's does); Argo's status
            # update re-queues the run at once, and that pass, measuring nothing, ends it.
            self.phase, self.message = self.assess(now)
        return None if self.phase.completed else self.next_time()

    def assess(self, now: float) -> tuple[Phase, str]:
        """assessRunStatus: Running until every metric completes, then the worst non-dry-run phase."""
        if self.started_at is None:
            self.started_at = now
        terminating = self.terminating()
        worst: Phase | None = None
        message = "Run Terminated" if self.terminate else ""
        everything_completed = True
        for metric in self.metrics:
            result = self.results.get(metric.name)
            if result is None:
                everything_completed = False
                continue
            status = assess_metric(metric, result, terminating)
            if result.phase is not status:
                if result.measurements:
                    result.message = result.measurements[-1].message
                result.phase = status
            if not status.completed:
                everything_completed = False
                continue
            if metric.dry_run:
                worst = worst or Phase.SUCCESSFUL
                continue
            if worst is None or is_worse(worst, status):
                worst = status
                _, why = limits_phase(metric, result)
                if why:
                    message = f'Metric "{metric.name}" assessed {status.value} due to {why}'
                    if result.message:
                        message += f': "Error Message: {result.message}"'
        if terminating:
            return (worst or Phase.SUCCESSFUL), message.strip()
        if not everything_completed or worst is None:
            return Phase.RUNNING, ""
        return worst, message.strip()


# ---------------------------------------------------------------- templates

_ARG = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}")


def resolve_args(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    """Substitute `{{args.x}}` everywhere in the template's metrics, as Argo does when it creates the
    run: template defaults < given values; an argument with neither is an error."""
    spec = _spec(template)
    values: dict[str, str | None] = {}
    for i, arg in enumerate(_list(spec, "args")):
        if not isinstance(arg, Mapping) or not isinstance(arg.get("name"), str):
            raise TemplateError(f"spec.args[{i}]: an argument is a map with a name")
        value = arg.get("value")
        values[arg["name"]] = None if value is None else str(value)
    unknown = sorted(set(given) - set(values))
    if unknown:
        raise TemplateError(
            f"--arg {unknown[0]} is not an argument of the template (it declares: "
            f"{', '.join(sorted(values)) or 'none'})"
        )
    values.update(given)

    def sub(node: Any) -> Any:
        if isinstance(node, str):

            def one(m: re.Match[str]) -> str:
                value = values.get(m.group(1))
                if value is None:
                    raise TemplateError(
                        f"args.{m.group(1)} was not resolved: give --arg {m.group(1)}=VALUE "
                        "(the Rollout passes it in the cluster)"
                    )
                return value

            return _ARG.sub(one, node)
        if isinstance(node, Mapping):
            return {k: sub(v) for k, v in node.items()}
        if isinstance(node, list):
            return [sub(v) for v in node]
        return node

    return {**template, "spec": {**spec, "metrics": sub(spec.get("metrics") or [])}}


def _spec(template: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = template.get("spec")
    if not isinstance(spec, Mapping):
        raise TemplateError("spec must be a map with the template's metrics")
    return spec


def _list(spec: Mapping[str, Any], key: str) -> list[Any]:
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise TemplateError(f"spec.{key} must be a list")
    return value


def _text(metric: Mapping[str, Any], key: str) -> str | None:
    """An optional string field (a duration, a condition): anything else is Argo's type error."""
    value = metric.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        example = "result[0] < 0.01" if key.endswith("Condition") else "1m"
        raise TemplateError(f'{key} must be a string, like "{example}"')
    return value


def _dry_run(spec: Mapping[str, Any]) -> list[re.Pattern[str]]:
    patterns = []
    for i, entry in enumerate(_list(spec, "dryRun")):
        name = entry.get("metricName") if isinstance(entry, Mapping) else None
        if not isinstance(name, str):
            raise TemplateError(f"spec.dryRun[{i}]: give metricName, a metric name or a regular expression")
        try:
            patterns.append(re.compile(".*" if name == "*" else name))
        except re.error as exc:
            raise TemplateError(
                f"spec.dryRun[{i}].metricName {name!r} is not a regular expression: {exc}"
            ) from None
    return patterns


def _int_or_string(metric: Mapping[str, Any], key: str, default: int) -> int:
    value = metric.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TemplateError(f"{key} must be an integer")
    try:
        return int(value)
    except ValueError:
        raise TemplateError(
            f"{key}: {value!r} is not an integer (was an argument left unresolved?)"
        ) from None


def metrics_from_template(template: Mapping[str, Any]) -> list[Metric]:
    """The metrics of a resolved AnalysisTemplate, validated as analysisutil.ValidateMetrics does."""
    spec = _spec(template)
    raw = _list(spec, "metrics")
    if not raw:
        raise TemplateError("spec.metrics is empty: an AnalysisTemplate needs at least one metric")
    dry_patterns = _dry_run(spec)
    metrics: list[Metric] = []
    seen: set[str] = set()
    for i, m in enumerate(raw):
        where = f"spec.metrics[{i}]"
        if not isinstance(m, Mapping) or not isinstance(m.get("name"), str):
            raise TemplateError(f"{where}: a metric needs a name")
        name = m["name"]
        where = f"metric {name!r}"
        if name in seen:
            raise TemplateError(f"{where}: two metrics named {name!r}")
        seen.add(name)
        provider = m.get("provider")
        if not isinstance(provider, Mapping) or len(provider) == 0:
            raise TemplateError(f"{where}: no provider specified")
        if len(provider) > 1:
            raise TemplateError(f"{where}: multiple providers specified")
        if not isinstance(next(iter(provider.values())), Mapping):
            raise TemplateError(f"{where}: provider.{next(iter(provider))} must be a map of its settings")
        try:
            count = _int_or_string(m, "count", 0)
            failure_limit = _int_or_string(m, "failureLimit", 0)
            inconclusive_limit = _int_or_string(m, "inconclusiveLimit", 0)
            error_limit = _int_or_string(m, "consecutiveErrorLimit", DEFAULT_CONSECUTIVE_ERROR_LIMIT)
            interval, delay = (_text(m, k) for k in ("interval", "initialDelay"))
            success, failure = (_text(m, k) for k in ("successCondition", "failureCondition"))
        except TemplateError as exc:
            raise TemplateError(f"{where}: {exc}") from None
        if count > 0 and count < failure_limit:
            raise TemplateError(f"{where}: count must be >= failureLimit")
        if count > 0 and count < inconclusive_limit:
            raise TemplateError(f"{where}: count must be >= inconclusiveLimit")
        if error_limit < 0:
            raise TemplateError(f"{where}: consecutiveErrorLimit must be >= 0")
        try:
            metric = Metric(
                name=name,
                provider=provider,
                success=compile_condition(success) if success else None,
                failure=compile_condition(failure) if failure else None,
                interval=parse_go_duration(interval) if interval else None,
                initial_delay=parse_go_duration(delay) if delay else None,
                count=count,
                failure_limit=failure_limit,
                inconclusive_limit=inconclusive_limit,
                consecutive_error_limit=error_limit,
                dry_run=any(p.search(name) for p in dry_patterns),  # Go's MatchString: unanchored
            )
        except (TemplateError, ExprError) as exc:
            raise TemplateError(f"{where}: {exc}") from None
        metrics.append(metric)
    return metrics


def prometheus_result(data: Mapping[str, Any]) -> tuple[Any, str]:
    """How Argo's Prometheus provider hands an answer to the conditions: a scalar is a float, an
    instant vector a list of floats (labels dropped, response order), a matrix every sample flat."""
    kind = data.get("resultType")
    raw = data.get("result")
    if kind == "scalar" and isinstance(raw, list) and len(raw) == 2:
        value = _sample(raw[1])
        return value, _show(value)
    if kind == "vector" and isinstance(raw, list):
        values = [_sample(s["value"][1]) for s in raw]
        return values, "[" + ",".join(_show(v) for v in values) + "]"
    if kind == "matrix" and isinstance(raw, list):
        values = [_sample(v[1]) for s in raw for v in s["values"]]
        return values, "[" + ",".join(_show(v) for v in values) + "]"
    raise TemplateError(f"Prometheus metric type not supported: {kind}")


def _sample(text: str) -> float:
    return float(text)  # Prometheus writes NaN, +Inf, -Inf, which float() reads


def _show(value: float) -> str:
    """Go's model.SampleValue.String(): shortest float, NaN, +Inf."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value).removesuffix(".0") if value.is_integer() and abs(value) < 1e21 else repr(value)
