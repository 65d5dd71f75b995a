"""`kubeship analyze`: run an AnalysisTemplate's Prometheus metrics against a live Prometheus (I/O edge).

The semantics are `kubeship.deliver.analysis`'s (Argo's); this module only
reads the template, asks Prometheus, and sleeps until the next measurement.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from kubeship.deliver.analysis import (
    AnalysisRun,
    Measurement,
    Metric,
    TemplateError,
    metrics_from_template,
    prometheus_result,
    resolve_args,
)
from kubeship.errors import AnalysisError, UsageError
from kubeship.limits import LimitError, check_size, limits, load_yaml_all
from kubeship.promsnap import instant_query

TEMPLATE_KINDS = ("AnalysisTemplate", "ClusterAnalysisTemplate")
SUPPORTED = ("prometheus",)


def load_template(path: Path, name: str | None = None) -> dict[str, Any]:
    """The AnalysisTemplate in `path` (a file may hold several objects: `name` picks one)."""
    try:
        bound = limits()
        size = path.stat().st_size
        check_size(size, bound, 0)
        docs = load_yaml_all(path.read_text(), bound)
    except ValueError as exc:  # KUBESHIP_INPUT_LIMITS itself is wrong (UnicodeDecodeError is below)
        if isinstance(exc, UnicodeDecodeError):
            raise UsageError(f"{path}: not text (UTF-8); give the YAML of an AnalysisTemplate") from None
        raise UsageError(str(exc)) from None
    except LimitError as exc:
        raise UsageError(exc.located(str(path))) from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise UsageError(f"{where}: not YAML ({getattr(exc, 'problem', exc)})") from None
    templates = [d for d in docs if isinstance(d, dict) and d.get("kind") in TEMPLATE_KINDS]
    if name is not None:
        templates = [t for t in templates if _name(t) == name]
    if not templates:
        raise UsageError(f"{path}: no AnalysisTemplate (or ClusterAnalysisTemplate) in it")
    if len(templates) > 1:
        names = ", ".join(str(_name(t)) for t in templates)
        raise UsageError(f"{path}: {len(templates)} templates ({names}); pick one with --template NAME")
    return templates[0]


def _name(template: Mapping[str, Any]) -> Any:
    meta = template.get("metadata")
    return meta.get("name") if isinstance(meta, dict) else None


def prepare(template: Mapping[str, Any], args: Mapping[str, str], once: bool = False) -> list[Metric]:
    """Resolved, validated metrics; an unsupported provider is an error naming every such metric."""
    try:
        metrics = metrics_from_template(resolve_args(template, args))
    except TemplateError as exc:
        raise AnalysisError(f"{_name(template) or 'template'}: {exc}") from None
    unsupported = [f"{m.name} ({m.provider_name})" for m in metrics if m.provider_name not in SUPPORTED]
    if unsupported:
        raise AnalysisError(
            f"kubeship analyze runs Prometheus metrics only; not these: {', '.join(unsupported)}"
        )
    if once:
        metrics = [replace(m, count=1, interval=None, initial_delay=None) for m in metrics]
    return metrics


def prometheus_measure(override: str | None) -> Callable[[Metric, float], tuple[Any, str] | Exception]:
    """A measurement as Argo's Prometheus provider takes it: an instant query at `now`."""

    def measure(metric: Metric, now: float) -> tuple[Any, str] | Exception:
        cfg = metric.provider["prometheus"]
        address, query = override or cfg.get("address"), cfg.get("query")
        if not isinstance(address, str) or not address:
            return ValueError("no Prometheus address: give --prometheus URL")
        if not isinstance(query, str) or cfg.get("rangeQuery"):
            return ValueError(
                "give provider.prometheus.query, an instant query (rangeQuery is not supported)"
            )
        timeout = cfg.get("timeout", 30)
        try:
            return prometheus_result(instant_query(address, query, now, timeout=float(timeout)))
        except (UsageError, TemplateError, KeyError, TypeError, ValueError) as exc:
            return ValueError(str(exc))

    return measure


def run(
    metrics: list[Metric],
    measure: Callable[[Metric, float], tuple[Any, str] | Exception],
    on_measurement: Callable[[Metric, Measurement], None] = lambda m, x: None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> AnalysisRun:
    """Drive the run to its end on the wall clock; Ctrl-C terminates it as `kubectl argo rollouts
    terminate` would (Successful unless a measurement already went wrong)."""

    analysis = AnalysisRun(metrics)
    seen: dict[str, int] = {}
    try:
        while True:
            wake = analysis.reconcile(clock(), measure)
            for name, result in analysis.results.items():
                for m in result.measurements[seen.get(name, 0) :]:
                    on_measurement(next(x for x in metrics if x.name == name), m)
                seen[name] = len(result.measurements)
            if analysis.phase.completed or wake is None:
                return analysis
            sleep(max(0.0, wake - clock()))
    except KeyboardInterrupt:
        analysis.terminate = True
        analysis.reconcile(clock(), measure)
        return analysis
