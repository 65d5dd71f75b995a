"""`kubeship analyze`: run an AnalysisTemplate's Prometheus metrics against a live Prometheus (I/O edge).

The semantics are `kubeship.deliver.analysis`'s (Argo's); this module only
reads the template, asks Prometheus, and sleeps until the next measurement.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
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

TEMPLATE_KINDS = ("AnalysisTemplate", "ClusterAnalysisTemplate")
MAX_TEMPLATE_BYTES = 4 * 2**20
SUPPORTED = ("prometheus",)


def load_template(path: Path, name: str | None = None) -> dict[str, Any]:
    """The AnalysisTemplate in `path` (a file may hold several objects: `name` picks one)."""
    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise UsageError(
                f"{path}: larger than {MAX_TEMPLATE_BYTES // 2**20} MiB; not an AnalysisTemplate"
            )
        docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise UsageError(f"{where}: not YAML ({getattr(exc, 'problem', exc)})") from None
    templates = [d for d in docs if d.get("kind") in TEMPLATE_KINDS]
    if name is not None:
        templates = [t for t in templates if (t.get("metadata") or {}).get("name") == name]
    if len(templates) != 1:
        names = [(t.get("metadata") or {}).get("name") for t in templates]
        what = (
            "no AnalysisTemplate"
            if not templates
            else f"{len(templates)} templates ({', '.join(map(str, names))})"
        )
        raise UsageError(
            f"{path}: {what}; " + ("pick one with --template NAME" if templates else "give a file with one")
        )
    return templates[0]


def prepare(template: Mapping[str, Any], args: Mapping[str, str], once: bool = False) -> list[Metric]:
    """Resolved, validated metrics; an unsupported provider is an error naming every such metric."""
    try:
        metrics = metrics_from_template(resolve_args(template, args))
    except TemplateError as exc:
        raise AnalysisError(f"{(template.get('metadata') or {}).get('name', 'template')}: {exc}") from None
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
        cfg = metric.provider.get("prometheus") or {}
        address = override or cfg.get("address")
        if not address:
            return ValueError("no Prometheus address: give --prometheus URL")
        if cfg.get("rangeQuery"):
            return ValueError("rangeQuery is not supported by kubeship analyze yet")
        try:
            timeout = float(cfg.get("timeout", 30))
        except (TypeError, ValueError):
            timeout = 30.0
        params = urllib.parse.urlencode({"query": str(cfg.get("query", "")), "time": f"{now:.3f}"})
        try:
            with urllib.request.urlopen(f"{address.rstrip('/')}/api/v1/query?{params}", timeout=timeout) as r:
                body = json.load(r)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            return ValueError(f"Prometheus refused the query ({exc.code}): {detail}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return ValueError(f"Prometheus unreachable at {address}: {getattr(exc, 'reason', exc)}")
        if body.get("status") != "success":
            return ValueError(f"Prometheus: {body.get('error', body)}")
        try:
            return prometheus_result(body["data"])
        except (TemplateError, KeyError, TypeError, ValueError) as exc:
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
