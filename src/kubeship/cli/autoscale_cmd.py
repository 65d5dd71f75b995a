"""`kubeship autoscale decide`: the HPA's decision for a snapshot, as JSON."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from kubeship.cli.params import key_values, trace_options
from kubeship.errors import UsageError
from kubeship.limits import LimitError, Limits, limits, load_json, load_yaml_all

if TYPE_CHECKING:
    from kubeship.autoscale.latency import PodLatency

_T = TypeVar("_T")


@click.group()
def autoscale() -> None:
    """The Kubernetes HPA algorithm, offline."""


def _decide(snapshot: Path, hpa_file: Path | None = None) -> dict[str, object]:
    from kubeship.autoscale.decide import SnapshotError
    from kubeship.autoscale.decide import decide as run

    data = _read_json(snapshot)
    if not isinstance(data, dict):
        raise UsageError(f"{snapshot}: expected a JSON object (see `kubeship autoscale decide --help`)")
    if hpa_file is not None:
        data["horizontalPodAutoscaler"] = _hpa_from(hpa_file)
    try:
        return run(data)
    except SnapshotError as exc:
        raise UsageError(f"{snapshot}: {exc}") from None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{snapshot}: unexpected shape ({type(exc).__name__}: {exc})") from None


def _bound() -> Limits:
    try:
        return limits()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _hpa_from(path: Path) -> dict[str, object]:
    """The HPA of a kubeship.yaml (rendered) or the first HorizontalPodAutoscaler in a manifest."""
    return _hpa_and_adapter(path)[0]


def _hpa_and_adapter(path: Path) -> tuple[dict[str, object], dict[str, Any] | None]:
    """The HPA, and the Prometheus Adapter config that serves its custom metrics when the file has
    it (a kubeship.yaml renders it; a manifest stream may hold the adapter-rules ConfigMap)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        docs = [d for d in load_yaml_all(text, _bound()) if isinstance(d, dict)]
    except LimitError as exc:
        raise UsageError(exc.located(str(path))) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not YAML ({exc})") from None
    for doc in docs:
        if doc.get("kind") == "HorizontalPodAutoscaler":
            spec = doc.get("spec")
            target = spec.get("scaleTargetRef") if isinstance(spec, dict) else None
            if not (
                isinstance(spec, dict)
                and isinstance(spec.get("maxReplicas"), int)
                and isinstance(target, dict)
                and isinstance(target.get("name"), str)
            ):
                raise UsageError(
                    f"{path}: the HorizontalPodAutoscaler needs spec.maxReplicas and "
                    "spec.scaleTargetRef.name (kubeship check shows what else is wrong with it)"
                )
            return doc, _adapter_config(docs, path)
    if docs and "apiVersion" not in docs[0]:  # a kubeship.yaml
        from kubeship.render.scaling import hpa
        from kubeship.spec import load_spec

        spec = load_spec(path)
        if spec.autoscaling is not None and spec.autoscaling.engine == "keda":  # KEDA makes this same HPA
            spec = spec.model_copy(
                update={"autoscaling": spec.autoscaling.model_copy(update={"engine": "hpa"})}
            )
        from kubeship.render.scaling import adapter_rules

        rendered = hpa(spec)
        if rendered is not None:
            return rendered, _adapter_config([adapter_rules(spec) or {}], path)
        raise UsageError(f"{path}: the spec has no autoscaling: section")
    raise UsageError(f"{path}: no HorizontalPodAutoscaler in it")


def _adapter_config(docs: list[dict[str, Any]], path: Path) -> dict[str, Any] | None:
    """The Prometheus Adapter config in a ConfigMap's `config.yaml` (rules / externalRules); a broken
    one is a usage error naming the ConfigMap, not a silent fallback to the raw metric names."""
    import yaml

    from kubeship.autoscale.adapter import problems

    for doc in docs:
        data = doc.get("data") if doc.get("kind") == "ConfigMap" else None
        text = data.get("config.yaml") if isinstance(data, dict) else None
        if not isinstance(text, str):
            continue
        meta = doc.get("metadata")
        where = f"{path}: ConfigMap {meta.get('name') if isinstance(meta, dict) else '?'} config.yaml"
        try:
            config = next(iter(load_yaml_all(text, _bound())), None)
        except LimitError as exc:
            raise UsageError(exc.located(where)) from None
        except yaml.YAMLError as exc:
            raise UsageError(f"{where}: not YAML ({exc})".replace("\n", " ")) from None
        if isinstance(config, dict) and ("rules" in config or "externalRules" in config):
            found = problems(config)
            if found:
                raise UsageError(f"{where}: {found[0]}")
            return config
    return None


def _read_json(path: Path) -> Any:
    """A JSON file (- for stdin) within the input limits; every failure one line at the file."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return load_json(text, _bound())
    except LimitError as exc:
        raise UsageError(exc.located(str(path))) from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


@autoscale.command()
@click.option(
    "--hpa", "hpa_file", required=True, type=click.Path(path_type=Path), help="kubectl get hpa NAME -o json"
)
@click.option(
    "--scale", "scale_file", required=True, type=click.Path(path_type=Path),
    help="kubectl get deployment NAME -o json (or its /scale subresource)",
)  # fmt: skip
@click.option(
    "--pods",
    "pods_file",
    required=True,
    type=click.Path(path_type=Path),
    help="kubectl get pods -l SELECTOR -o json",
)
@click.option(
    "--pod-metrics", "metrics_file", type=click.Path(path_type=Path),
    help="kubectl get --raw /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods",
)  # fmt: skip
@click.option(
    "--custom", "custom", multiple=True, metavar="NAME=FILE", help="A custom metric's answer; repeatable."
)
@click.option(
    "--external", "external", multiple=True, metavar="NAME=FILE", help="An external metric's answer."
)
@click.option("--now", help="The pass's time, RFC 3339 (default: now).")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write here (default stdout).")
def snapshot(
    hpa_file: Path, scale_file: Path, pods_file: Path, metrics_file: Path | None,
    custom: tuple[str, ...], external: tuple[str, ...], now: str | None, output: Path | None,
) -> None:  # fmt: skip
    """Assemble a snapshot for `decide`/`explain` from kubectl's JSON (see the README for the commands)."""
    import time as clock

    from kubeship.autoscale.decide import format_time
    from kubeship.autoscale.snapshot import assemble

    def named(pairs: tuple[str, ...], flag: str) -> dict[str, Any]:
        return {k: _read_json(Path(v)) for k, v in key_values(pairs, flag).items()}

    try:
        data = assemble(
            _read_json(hpa_file),
            _read_json(scale_file),
            _read_json(pods_file),
            now or format_time(clock.time()),
            _read_json(metrics_file) if metrics_file is not None else None,
            named(custom, "--custom"),
            named(external, "--external"),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = json.dumps(data, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}: kubeship autoscale explain {output}", err=True)


@autoscale.command()
@click.argument("snapshot", type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "--hpa", "hpa_file", type=click.Path(path_type=Path), help="Use this HPA (manifest or kubeship.yaml)."
)
def decide(snapshot: Path, hpa_file: Path | None) -> None:
    """Print the HPA decision for SNAPSHOT (JSON; - for stdin): desiredReplicas, conditions,
    currentMetrics and the controller's updated memory, to feed into the next snapshot."""
    click.echo(json.dumps(_decide(snapshot, hpa_file), indent=2))


@autoscale.command()
@click.argument("snapshot", type=click.Path(path_type=Path, allow_dash=True), required=False)
@click.option(
    "--hpa", "hpa_file", type=click.Path(path_type=Path), help="Explain this HPA (manifest or kubeship.yaml)."
)
@click.option("--prometheus", help="Build the snapshot from this Prometheus (kube-state-metrics, cAdvisor).")
@click.option(
    "--namespace", default="default", show_default=True, help="With --prometheus: the pods' namespace."
)
@click.option("--window", default="1m", show_default=True, help="With --prometheus: the CPU rate's range.")
def explain(
    snapshot: Path | None, hpa_file: Path | None, prometheus: str | None, namespace: str, window: str
) -> None:
    """Explain the decision for SNAPSHOT step by step: per metric the ratio and the pods left out,
    the winning proposal, the stabilization window and the limit that applied.

    With --prometheus URL --hpa FILE, the snapshot is read from a live Prometheus instead.
    """
    from kubeship.autoscale.explain import explain as words

    if prometheus is not None:
        if hpa_file is None or snapshot is not None:
            raise UsageError("--prometheus takes the HPA from --hpa and no SNAPSHOT")
        from kubeship.autoscale.decide import SnapshotError
        from kubeship.autoscale.decide import decide as run
        from kubeship.promsnap import snapshot as from_prometheus

        hpa, adapter = _hpa_and_adapter(hpa_file)
        data = from_prometheus(prometheus, hpa, namespace, window, adapter=adapter)
        try:
            click.echo(words(run(data)), nl=False)
        except SnapshotError as exc:
            raise UsageError(f"{prometheus}: {exc}") from None
        return
    if snapshot is None:
        raise UsageError("give a SNAPSHOT file (or - for stdin), or --prometheus URL with --hpa")
    click.echo(words(_decide(snapshot, hpa_file)), nl=False)


@autoscale.command()
@trace_options("requests/s")
@click.option(
    "-f",
    "--config",
    "config",
    type=click.Path(path_type=Path),
    help="kubeship.yaml: its HPA, CPU request/limit and latency SLO (flags below override).",
)
@click.option(
    "--hpa",
    "hpa_files",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Another HPA to compare (manifest or kubeship.yaml); repeatable.",
)
@click.option("--rps-per-core", type=float, help="Requests/s one core serves (or --measured).")
@click.option(
    "--measured",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The JSON of `kubeship autoscale measure -o`: its fitted req/s per core.",
)
@click.option("--cpu-request", type=float, help="Cores requested per pod [spec, else 0.5].")
@click.option("--cpu-limit", type=float, default=None, help="Cores a pod may use [spec, else one].")
@click.option(
    "--workers", type=click.IntRange(1), help="Server processes per pod, for --measured's P99 [spec, else 1]."
)
@click.option(
    "--startup", type=float, default=20.0, show_default=True, help="Seconds from creation to ready."
)
@click.option("--min", "min_replicas", type=int, help="minReplicas [spec, else 2].")
@click.option("--max", "max_replicas", type=int, help="maxReplicas [spec, else 10].")
@click.option("--target", type=int, help="Target CPU utilization, % [spec, else 50].")
@click.option("--slo-p99", type=float, help="P99 latency objective, seconds [spec's slo.latency, else 0.3].")
@click.option(
    "--recommend",
    is_flag=True,
    help="Search target, minReplicas and behavior for the cheapest that meets the SLO.",
)
@click.option(
    "--slo-budget",
    type=float,
    default=0.001,
    show_default=True,
    help="--recommend: share of seconds allowed over the SLO.",
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Write series CSVs and summary.json here."
)
@click.option(
    "--plot", "plot_path", type=click.Path(path_type=Path), help="Write a PNG of load, pods, CPU and P99."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def simulate(
    trace: str, seconds: int, base: float, peak: float, config: Path | None, hpa_files: tuple[Path, ...],
    rps_per_core: float | None, measured: Path | None, cpu_request: float | None, cpu_limit: float | None,
    workers: int | None, startup: float, min_replicas: int | None, max_replicas: int | None,
    target: int | None, slo_p99: float | None, recommend: bool, slo_budget: float, out_dir: Path | None,
    plot_path: Path | None, fmt: str,
) -> None:  # fmt: skip
    """Replay a load trace through the HPA and print what it would do (replicas, latency, cost).

    stdout: a summary per HPA configuration, in words (--format json: one object per configuration);
    stderr: the comparison table, the recommendation.
    """
    from dataclasses import replace

    from kubeship.autoscale.simulate import Autoscaler, Workload
    from kubeship.autoscale.simulate import simulate as run

    rps_per_core = fitted_rps_per_core(rps_per_core, measured)
    spec_hpa: Autoscaler | None = None
    if config is not None:
        from kubeship.spec import load_spec
        from kubeship.spec.quantity import parse_quantity

        spec = load_spec(config)
        if spec.autoscaling is not None:
            spec_hpa = _autoscaler(config)
        requests, limits = spec.container.resources.requests, spec.container.resources.limits
        if cpu_request is None and "cpu" in requests:
            cpu_request = float(parse_quantity(requests["cpu"]))
        if cpu_limit is None and "cpu" in limits:
            cpu_limit = float(parse_quantity(limits["cpu"]))
        if slo_p99 is None and spec.slo is not None and spec.slo.latency is not None:
            slo_p99 = spec.slo.latency.threshold_seconds
        workers = workers if workers is not None else spec.container.workers
    hpa = spec_hpa or Autoscaler(2, 10, 50)
    hpa = replace(
        hpa,
        min_replicas=min_replicas if min_replicas is not None else hpa.min_replicas,
        max_replicas=max_replicas if max_replicas is not None else hpa.max_replicas,
        target_utilization=target if target is not None else hpa.target_utilization,
    )
    cpu_request = cpu_request if cpu_request is not None else 0.5
    slo = slo_p99 if slo_p99 is not None else 0.3
    if hpa.min_replicas < 1 or hpa.min_replicas > hpa.max_replicas:
        raise UsageError(
            f"minReplicas {hpa.min_replicas} / maxReplicas {hpa.max_replicas}: need 1 ≤ min ≤ max"
        )
    if rps_per_core <= 0 or cpu_request <= 0 or not 1 <= hpa.target_utilization <= 1000:
        raise UsageError("--rps-per-core and --cpu-request must be > 0, --target 1-1000")
    load = _trace(trace, seconds, base, peak)
    workload = Workload(rps_per_core, cpu_request, cpu_limit, startup)
    workload = replace(workload, latency=measured_latency(measured, workers or 1, workload.cores_per_pod))
    configs = {spec.name if config is not None else "hpa": hpa}
    for path in hpa_files:
        name = path.stem if path.stem not in configs else str(path)
        configs[name] = _autoscaler(path)
    results = {}
    with _progress(len(load) * len(configs), "simulating") as bar:
        for name, cfg in configs.items():
            done = 0

            def step(t: int) -> None:
                nonlocal done
                bar.update(t - done)
                done = t

            results[name] = run(load, workload, cfg, progress=step)
            bar.update(len(load) - done)
    summaries = {}
    for name, r in results.items():
        # seconds the HPA sat at maxReplicas: why the pods' CPU can stay above the target
        summaries[name] = {
            **r.summary(slo),
            "seconds_at_max_replicas": float((r.replicas >= configs[name].max_replicas).sum()),
        }
    if fmt == "json":
        click.echo(json.dumps(summaries, indent=2))
    else:
        for name, summary in summaries.items():
            click.echo(_describe(name, summary, configs[name], slo, trace, cpu_request))
    if len(configs) > 1:
        click.echo(_table(summaries, slo), err=True)
    if recommend:
        _recommend(load, workload, hpa, slo, slo_budget, summaries[next(iter(configs))])
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, result in results.items():
            _write_series(
                out_dir / ("series.csv" if len(results) == 1 else f"series-{name}.csv"),
                load_rps=result.load, replicas=result.replicas, ready=result.ready,
                utilization_pct=result.utilization, p99_latency_s=result.p99_latency,
                over_capacity_rps=result.over_capacity,
            )  # fmt: skip
        _write_summary(out_dir, summaries)
    if plot_path is not None:
        from kubeship.autoscale.plot import plot_png

        plot_path.parent.mkdir(parents=True, exist_ok=True)
        plot_path.write_bytes(plot_png(results, slo, f"kubeship autoscale simulate --trace {trace}"))
        click.echo(f"wrote {plot_path}", err=True)


def fitted_rps_per_core(given: float | None, measured: Path | None) -> float:
    """--rps-per-core, else the fit in the JSON of `kubeship autoscale measure -o` (--measured)."""
    if given is not None:
        return given
    if measured is None:
        raise UsageError("give --rps-per-core, or --measured with the output of `kubeship autoscale measure`")
    return float(_measured(measured, lambda report: report["fit"]["rps_per_core"]))


def measured_latency(measured: Path | None, workers: int, cores: float) -> PodLatency | None:
    """The pod model on the service times and CPU a request costs that `kubeship autoscale measure`
    recorded (those of the same worker count, else the first); None without --measured or with a
    result from before service times were recorded (M/M/c then). A result from before the CPU was
    recorded takes the times alone as the cores' occupancy."""
    from kubeship.autoscale.latency import CpuCost, pod_latency

    if measured is None:
        return None

    def model(report: dict[str, Any]) -> tuple[list[float], CpuCost | None] | None:
        times = report.get("serviceSeconds")
        if not times:
            return None
        key = str(workers) if str(workers) in times else next(iter(times))
        cost = report.get("cpuSeconds", {}).get(key)
        cpu = CpuCost(float(cost["alone"]), float(cost["loaded"])) if cost is not None else None
        return [float(t) for t in times[key]], cpu

    found = _measured(measured, model)
    if found is None:
        return None
    try:
        return pod_latency(found[0], workers, cores, cpu=found[1])
    except ValueError as exc:
        raise UsageError(f"{measured}: serviceSeconds: {exc}") from None


def _measured(path: Path, read: Callable[[dict[str, Any]], _T]) -> _T:
    """`read` applied to the JSON of `kubeship autoscale measure -o`, any error one line at the file."""
    try:
        return read(load_json(path.read_text(), _bound()))
    except LimitError as exc:
        raise UsageError(exc.located(str(path))) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StopIteration) as exc:
        raise UsageError(f"{path}: not a `kubeship autoscale measure` result ({exc})") from None


def _write_series(path: Path, **columns: Any) -> None:
    """A CSV with one row per simulated second: `second`, then the columns in the order given."""
    import numpy as np

    first = next(iter(columns.values()))
    series = np.column_stack([np.arange(len(first)), *columns.values()])
    header = ",".join(["second", *columns])
    np.savetxt(path, series, delimiter=",", header=header, comments="", fmt="%.6g")


def _write_summary(out_dir: Path, summary: Any) -> None:
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    click.echo(f"wrote the series and summary.json to {out_dir}/", err=True)


def _trace(trace: str, seconds: int, base: float, peak: float) -> Any:
    """A built-in trace by name, or a CSV file of timestamp,value rows (checked row by row)."""
    from kubeship.autoscale.simulate import synthetic
    from kubeship.autoscale.traces import TraceError, parse_csv

    try:
        if trace in ("step", "ramp", "diurnal", "flash"):
            return synthetic(trace, seconds, base, peak)
        return parse_csv(Path(trace).read_text(encoding="utf-8"), trace)
    except OSError as exc:
        raise UsageError(f"{trace}: cannot read ({exc.strerror})") from None
    except TraceError as exc:
        raise UsageError(str(exc)) from None


def _autoscaler(path: Path) -> Any:
    from kubeship.autoscale.simulate import autoscaler_from_hpa

    hpa = _hpa_from(path)
    try:
        return autoscaler_from_hpa(hpa)
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise UsageError(
            f"{path}: unexpected HPA shape ({type(exc).__name__}: {exc}); kubeship check it"
        ) from None


def _progress(total: int, label: str) -> Any:
    """A bar on a terminal for long runs (more than a simulated day); silent otherwise."""
    show = sys.stderr.isatty() and total > 86400
    return click.progressbar(length=total, label=label, file=sys.stderr if show else io.StringIO())


def _describe(name: str, s: dict[str, float], hpa: Any, slo: float, trace: str, cpu_request: float) -> str:
    """One configuration's replay in words, each number with what it is measured against."""
    seconds = int(s["seconds"])
    lines = [
        f"{name}: HPA {hpa.min_replicas}-{hpa.max_replicas} pods at CPU {hpa.target_utilization} % of the "
        f"request ({cpu_request:g} core), {seconds:,} s of the {trace} trace",
        f"  pods       up to {s['max_replicas']:.0f}; {s['pod_hours']:.2f} pod-hours (the cost)",
        f"  CPU        {s['mean_utilization']:.0f} % of the request on average "
        f"(target {hpa.target_utilization} %)",
    ]
    at_max = s["seconds_at_max_replicas"]
    if at_max and s["mean_utilization"] > hpa.target_utilization * 1.1:
        lines.append(
            f"             above target: {at_max:,.0f} s at maxReplicas {hpa.max_replicas}, where the HPA "
            "can add no pod and each pod bursts past its request (to its limit)"
        )
    over = s["slo_seconds_violated"]
    lines.append(
        f"  latency    P99 {s['p99_latency_max'] * 1000:,.0f} ms at worst; {over:,.0f} s over the SLO "
        f"(P99 ≤ {slo * 1000:g} ms)" + (": met" if not over else f": {over / seconds:.2%} of the time")
    )
    if s["requests_over_capacity"]:
        lines.append(f"  capacity   {s['requests_over_capacity']:,.0f} requests beyond what ready pods serve")
    return "\n".join(lines)


def _table(summaries: dict[str, dict[str, float]], slo: float) -> str:
    rows = [f"{'config':24s} {'pod-hours':>10s} {'max pods':>9s} {'s over SLO':>11s} {'req over cap':>13s}"]
    for name, s in summaries.items():
        rows.append(
            f"{name[:24]:24s} {s['pod_hours']:10.2f} {s['max_replicas']:9.0f} "
            f"{s['slo_seconds_violated']:11.0f} {s['requests_over_capacity']:13,.0f}"
        )
    return "\n".join(rows) + f"\n(SLO: P99 ≤ {slo * 1000:g} ms)"


def _recommend(
    load: Any, workload: Any, hpa: Any, slo: float, budget: float, current: dict[str, float]
) -> None:
    from kubeship.autoscale.recommend import grid_size, recommend

    with _progress(grid_size(hpa) * len(load), "searching") as bar:
        ranked = recommend(load, workload, hpa, slo, budget, progress=lambda _: bar.update(len(load)))
    best = ranked[0]
    seconds = len(load)
    click.echo("\nrecommendation (cheapest that keeps P99 within the SLO on this trace):", err=True)
    for c in ranked[:5]:
        mark = "meets" if c.meets(seconds, budget) else "misses"
        click.echo(
            f"  {c.label:34s} {c.pod_hours:8.2f} pod-h  {c.slo_seconds_violated:6.0f} s over SLO  ({mark})",
            err=True,
        )
    if not best.meets(seconds, budget):
        click.echo(
            "  nothing in the grid meets the SLO: raise maxReplicas, lower the start-up time, "
            "or add capacity per pod",
            err=True,
        )
        return
    change = best.pod_hours / current["pod_hours"] - 1 if current["pod_hours"] else 0.0
    click.echo(
        f"  → {best.label}: {best.pod_hours:.2f} pod-hours vs {current['pod_hours']:.2f} now "
        f"({change:+.0%} cost), {best.slo_seconds_violated:.0f} s over the SLO vs "
        f"{current['slo_seconds_violated']:.0f} s now. A lower target buys headroom for bursts with idle "
        "CPU; a faster scale-up buys it with pods added sooner.",
        err=True,
    )


@autoscale.command()
@click.argument("app")
@click.option("--path", default="/", show_default=True, help="Path to load (make it do typical work).")
@click.option(
    "--workers", default="1,2", show_default=True, help="Worker counts to measure, comma-separated."
)
@click.option(
    "--connections", default="1,2,4,8,16", show_default=True, help="wrk connection ladder, comma-separated."
)
@click.option("--seconds", type=float, default=3.0, show_default=True, help="Per run.")
@click.option(
    "--open-seconds", type=click.FloatRange(1, 600), default=10.0, show_default=True,
    help="Each open-loop run (Poisson arrivals at half the capacity).",
)  # fmt: skip
@click.option(
    "--rounds", type=click.IntRange(1, 9), default=1, show_default=True,
    help="Open-loop runs per worker count, pooled: the P99 held against the models is of them all.",
)  # fmt: skip
@click.option(
    "--cwd", type=click.Path(path_type=Path, file_okay=False), default=".", help="Where APP imports from."
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the runs and the fit as JSON.")
def measure(
    app: str, path: str, workers: str, connections: str, seconds: float, open_seconds: float,
    rounds: int, cwd: Path, output: Path | None,
) -> None:  # fmt: skip
    """Load-test APP (module:app) under `kubeship serve` with wrk; fit requests/s per core and hold
    the simulator's models (capacity; P99 by M/M/c and by the pod model) against what was measured."""
    from kubeship.autoscale.capacity import drift_warning
    from kubeship.autoscale.capacity import report as measure_report
    from kubeship.measure import measure as run

    try:
        counts = [int(w) for w in workers.split(",")]
        ladder = [int(c) for c in connections.split(",")]
    except ValueError:
        raise UsageError("--workers and --connections take comma-separated whole numbers") from None
    measured = run(
        app, path, counts, ladder, seconds, cwd.resolve(), rounds=rounds, open_seconds=open_seconds,
        progress=lambda line: click.echo(line, err=True),
    )  # fmt: skip
    try:
        report = measure_report(measured, counts, open_seconds * rounds)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    fit = report["fit"]
    click.echo(
        f"fit at {counts[0]} worker(s): {fit['rps_per_core']:,.0f} req/s per core, "
        f"capacity {fit['capacity_rps']:,.0f} req/s on {fit['cores_at_capacity']:.2f} cores",
        err=True,
    )
    for check in report["checks"]:
        band = check["p99ModelBand"]
        spread = (
            f" (over {check['requests']:,} requests: {band[0] * 1000:.0f}–{band[2] * 1000:.0f} ms)"
            if band
            else ""
        )
        per_round = check["p99Rounds"]
        measured_spread = (
            f" (rounds {min(per_round) * 1000:.1f}–{max(per_round) * 1000:.1f} ms)"
            if len(per_round) > 1
            else ""
        )
        click.echo(
            f"  {check['workers']} worker(s): capacity measured {check['capacityMeasured']:,.0f}, model "
            f"{check['capacityPredicted']:,.0f} ({check['capacityError']:+.0%}); P99 under Poisson "
            f"arrivals at {check['arrivalRps']:,.0f} req/s measured {check['p99Measured'] * 1000:.1f} ms"
            f"{measured_spread}, "
            f"pod model {check['p99Predicted'] * 1000:.1f} ms ({check['p99Error']:+.0%}){spread}, "
            f"M/M/c {check['p99MMc'] * 1000:.1f} ms",
            err=True,
        )
        if (warning := drift_warning(check)) is not None:
            click.echo(f"  {warning}", err=True)
    text = json.dumps(report, indent=2) + "\n"
    if output is not None:
        output.write_text(text)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.write(text)


@autoscale.command("simulate-queue")
@trace_options("value")
@click.option(
    "--per-pod-rate",
    type=float,
    help="Messages/s one pod consumes; the trace is then the arrival rate and the backlog is simulated.",
)
@click.option("--open-loop", is_flag=True, help="The trace is the metric itself (pods do not drain it).")
@click.option(
    "-f", "--config", type=click.Path(path_type=Path), help="kubeship.yaml: its custom metric and HPA."
)
@click.option("--metric", help="Which autoscaling.custom metric of the spec (default: the first).")
@click.option("--target", type=float, help="Target per pod (Pods) or total (External) [spec].")
@click.option("--external", is_flag=True, help="An External Value target instead of Pods AverageValue.")
@click.option(
    "--min", "min_replicas", type=int, help="minReplicas [spec, else 2]; 0 with an External metric."
)
@click.option("--max", "max_replicas", type=int, help="maxReplicas [spec, else 10].")
@click.option(
    "--startup", type=float, default=20.0, show_default=True, help="Seconds from creation to ready."
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Write series.csv and summary.json here."
)
@click.option(
    "--plot", "plot_path", type=click.Path(path_type=Path), help="Write a PNG of arrivals, pods, backlog."
)
def simulate_queue(
    trace: str, seconds: int, base: float, peak: float, per_pod_rate: float | None, open_loop: bool,
    config: Path | None, metric: str | None, target: float | None, external: bool, min_replicas: int | None,
    max_replicas: int | None, startup: float, out_dir: Path | None, plot_path: Path | None,
) -> None:  # fmt: skip
    """Replay a queue (e.g. Kafka lag) through the HPA on a custom metric: pods, backlog, cost."""
    from dataclasses import replace

    from kubeship.autoscale.decide import behavior_from_json, tolerances
    from kubeship.autoscale.queue import QueueWorkload
    from kubeship.autoscale.queue import simulate_queue as run
    from kubeship.autoscale.replicas import DEFAULT_TOLERANCE
    from kubeship.autoscale.simulate import Autoscaler

    if (per_pod_rate is None) != open_loop:
        raise UsageError("give --per-pod-rate (the pods drain the queue) or --open-loop, one of them")
    hpa = Autoscaler(2, 10, 0)
    kind: Literal["Pods", "External", "ExternalAverage"] = "External" if external else "Pods"
    if config is not None:
        from kubeship.render.scaling import behavior_json
        from kubeship.spec import load_spec
        from kubeship.spec.quantity import parse_quantity

        spec = load_spec(config)
        auto = spec.autoscaling
        if auto is None or not auto.custom:
            raise UsageError(f"{config}: no autoscaling.custom metric to simulate")
        chosen = next((m for m in auto.custom if m.name == metric), None) if metric else auto.custom[0]
        if chosen is None:
            known = ", ".join(m.name for m in auto.custom)
            raise UsageError(f"{config}: no custom metric {metric!r} (known: {known})")
        behavior = behavior_json(auto.behavior)
        hpa = Autoscaler(
            auto.min_replicas,
            auto.max_replicas,
            0,
            behavior_from_json(behavior) if behavior else None,
            tolerances(behavior or None, DEFAULT_TOLERANCE),
        )
        target = target if target is not None else float(parse_quantity(chosen.target))
        kind = "External" if external or chosen.type == "External" else "Pods"
        if chosen.type == "External" and chosen.target_type == "AverageValue" and not external:
            kind = "ExternalAverage"
    if target is None:
        raise UsageError("give --target, or -f kubeship.yaml with an autoscaling.custom metric")
    hpa = replace(
        hpa,
        min_replicas=min_replicas if min_replicas is not None else hpa.min_replicas,
        max_replicas=max_replicas if max_replicas is not None else hpa.max_replicas,
    )
    if hpa.min_replicas < 0 or hpa.min_replicas > hpa.max_replicas or target <= 0:
        raise UsageError("need 0 ≤ min ≤ max and a target above 0")
    if hpa.min_replicas == 0 and kind == "Pods":
        raise UsageError(
            "--min 0 needs an External metric (--external, or an External one in the spec): with no pod "
            "left, no pod reports a Pods metric, and the HPA could never scale up again (KEP-2021)"
        )
    values = _trace(trace, seconds, base, peak)
    result = run(values, QueueWorkload(per_pod_rate, startup), hpa, target, kind)
    summary = result.summary(target)
    click.echo(json.dumps(summary, indent=2))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_series(
            out_dir / "series.csv", arrivals=result.arrivals, replicas=result.replicas, ready=result.ready,
            backlog=result.backlog, backlog_per_pod=result.per_pod,
        )  # fmt: skip
        _write_summary(out_dir, summary)
    if plot_path is not None:
        from kubeship.autoscale.plot import plot_queue_png

        plot_path.parent.mkdir(parents=True, exist_ok=True)
        plot_path.write_bytes(
            plot_queue_png(result, target, f"kubeship autoscale simulate-queue --trace {trace}")
        )
        click.echo(f"wrote {plot_path}", err=True)
