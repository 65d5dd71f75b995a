"""Rehearse a release: the spec's Rollout steps and SLO analysis in simulated time, many times over.

Requests reach the canary as Poisson arrivals at its weight of `rps`; each one
fails (5xx) or is slow with the version's own probability. At every
measurement the window's counts become the value the rendered query would
return (nothing when the traffic guard is not met), the rendered conditions
judge it through `kubeship.deliver.expr` (the evaluator `kubeship analyze`
uses; each distinct value is evaluated once), and Argo's counters and limits
(`kubeship.deliver.analysis`, vectorised over trials and held to it by
tests/deliver/test_simulate.py) decide: continue, abort (Failed / Error) or
pause (Inconclusive). Time runs in steps of the analysis interval.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kubeship.deliver.analysis import Metric, Phase, measurement_phase, metrics_from_template, resolve_args
from kubeship.spec.quantity import parse_duration

Array = npt.NDArray[Any]
OK, FAILED, INCONCLUSIVE, ERROR, RUNNING = 0, 1, 2, 3, 4
_CODE = {Phase.SUCCESSFUL: OK, Phase.FAILED: FAILED, Phase.INCONCLUSIVE: INCONCLUSIVE, Phase.ERROR: ERROR}
_RANK = np.array([0, 3, 1, 2, 0])  # Argo's IsWorse among bad phases: Inconclusive < Error < Failed
KNOWN = ("error-ratio", "slow-ratio", "error-ratio-vs-stable")


@dataclass(frozen=True)
class Traffic:
    rps: float
    error_rate: float  # the new version's 5xx share
    slow_rate: float  # its share of requests over the latency threshold
    base_error_rate: float  # the stable version's
    base_slow_rate: float


@dataclass(frozen=True)
class Instant:
    """A moment of the release: measurements taken then, and the weight until the next instant."""

    weight: float
    background: bool  # the background run measures now
    gate: int | None  # index of the inline analysis step measuring now
    gate_last: bool = False  # its last measurement (count reached)


@dataclass(frozen=True)
class Plan:
    interval: float
    window_steps: int
    instants: tuple[Instant, ...]
    background: tuple[Metric, ...]
    gate: tuple[Metric, ...]
    notes: tuple[str, ...] = ()


def _metrics(template: Mapping[str, Any] | None) -> tuple[Metric, ...]:
    if template is None:
        return ()
    # Any value will do for the ReplicaSet hashes: the simulator draws the series it selects.
    hashes = {arg["name"]: "simulated" for arg in template["spec"].get("args") or []}
    metrics = tuple(metrics_from_template(resolve_args(template, hashes)))
    unknown = [m.name for m in metrics if m.name not in KNOWN]
    if unknown:
        raise ValueError(f"deliver simulate models kubeship's own metrics only, not {', '.join(unknown)}")
    return metrics


def plan(rollout: Mapping[str, Any], templates: Sequence[Mapping[str, Any]], window: float) -> Plan:
    """The release a rendered canary Rollout describes, as instants `interval` apart; `window` is the
    queries' rate window in seconds."""
    canary = rollout["spec"]["strategy"].get("canary")
    if canary is None:
        raise ValueError("deliver simulate rehearses canary releases (blue-green switches at once)")
    by_name = {t["metadata"]["name"]: t for t in templates}
    bg_ref = canary.get("analysis")
    background = _metrics(by_name[bg_ref["templates"][0]["templateName"]]) if bg_ref else ()
    gate_template = next((t for n, t in by_name.items() if n.endswith("-gate")), None)
    gate = _metrics(gate_template)
    interval = next((m.interval for m in (*background, *gate) if m.interval), 60.0)
    start = int(bg_ref.get("startingStep", 0)) if bg_ref else 10**9
    instants: list[Instant] = []
    notes: list[str] = []
    weight = 0.0
    for i, step in enumerate(canary.get("steps") or []):
        bg = bool(background) and i >= start
        if "setWeight" in step:
            weight = float(step["setWeight"]) / 100
        elif "pause" in step:
            duration = step["pause"].get("duration")
            if duration is None:
                notes.append(f"step {i}: a manual pause is taken as promoted at once")
                continue
            n = max(1, round(_seconds(str(duration)) / interval))
            instants += [Instant(weight, bg, None) for _ in range(n)]
        elif "analysis" in step and gate:
            count = gate[0].effective_count or 1
            instants += [Instant(weight, bg, i, k == count - 1) for k in range(count)]
    instants.append(Instant(1.0, False, None))  # promoted: the background run is terminated
    window_steps = max(1, math.ceil(window / interval))
    return Plan(interval, window_steps, tuple(instants), background, gate, tuple(notes))


def _seconds(duration: str) -> float:
    """A pause duration as Argo reads it: bare seconds, or a number with a unit."""
    return float(duration) if duration.isdigit() else parse_duration(duration)


@dataclass
class Outcome:
    """Per trial: how the release ended, when (seconds after the first weight), and the users hurt."""

    status: Array  # 0 promoted, 1 aborted (Failed), 3 aborted (Error), 2 paused (Inconclusive)
    at: Array
    hurt: Array  # canary requests that failed before the end
    weights: Array  # the timeline's weight per instant
    ratio: Array  # the first trial's measured canary error ratio per instant (NaN: none)
    values: dict[str, Array] = field(default_factory=dict)  # recorded per trial and instant

    @property
    def aborted(self) -> Array:
        return np.isin(self.status, (FAILED, ERROR))


_THRESHOLD = re.compile(r"len\(result\) > 0 && !isNaN\(result\[0\]\) && result\[0\] (<=|>) [0-9.e+-]+")


def is_threshold(metric: Metric) -> bool:
    """The conditions kubeship renders: a phase that changes once along the value (at the threshold)."""
    return all(c is not None and _THRESHOLD.fullmatch(c.text) for c in (metric.success, metric.failure))


def _judge(metric: Metric, unique: Array, bisect: bool) -> Array:
    """The phase of each sorted distinct value, by the real evaluator. A threshold condition is
    evaluated where the phase changes only (bisection: equal phases at both ends of a sorted run of
    values mean the whole run has it); anything else, at every value."""
    codes = np.empty(len(unique), dtype=np.int8)

    def at(i: int) -> int:
        return _CODE[measurement_phase(metric, [float(unique[i])])[0]]

    if not bisect:
        codes[:] = [at(i) for i in range(len(unique))]
        return codes
    stack = [(0, len(unique) - 1, at(0), at(len(unique) - 1))]
    while stack:
        lo, hi, p_lo, p_hi = stack.pop()
        if p_lo == p_hi or hi - lo <= 1:
            codes[lo:hi] = p_lo
            codes[hi] = p_hi
            continue
        mid = (lo + hi) // 2
        p_mid = at(mid)
        stack += [(lo, mid, p_lo, p_mid), (mid, hi, p_mid, p_hi)]
    return codes


def _phases(metric: Metric, present: Array, values: Array, bisect: bool = True) -> Array:
    """Each trial's measurement phase: every distinct value judged by the real evaluator."""
    out = np.empty(len(values), dtype=np.int8)
    out[~present] = _CODE[measurement_phase(metric, [])[0]]
    if present.any():
        unique, inverse = np.unique(values[present], return_inverse=True)
        out[present] = _judge(metric, unique, bisect and is_threshold(metric))[inverse]
    return out


class _Run:
    """Argo's per-metric counters for one AnalysisRun, for every trial at once."""

    def __init__(self, metrics: tuple[Metric, ...], trials: int) -> None:
        self.metrics = metrics
        self.count, self.failed, self.inconclusive, self.cerr = np.zeros((4, len(metrics), trials), np.int32)

    def record(self, i: int, phase: Array, live: Array) -> None:
        err = (phase == ERROR) & live
        done = (phase != ERROR) & live
        self.cerr[i] = np.where(err, self.cerr[i] + 1, np.where(done, 0, self.cerr[i]))
        self.count[i] += done
        self.failed[i] += (phase == FAILED) & live
        self.inconclusive[i] += (phase == INCONCLUSIVE) & live

    def verdict(self) -> Array:
        """The run's phase per trial (RUNNING while no limit is passed): limits_phase, worst of metrics."""
        worst = np.full(self.count.shape[1], RUNNING, dtype=np.int8)
        for i, m in enumerate(self.metrics):
            phase = np.full(self.count.shape[1], RUNNING, dtype=np.int8)
            phase[self.failed[i] > m.failure_limit] = FAILED
            phase[self.inconclusive[i] > m.inconclusive_limit] = INCONCLUSIVE
            phase[self.cerr[i] > m.consecutive_error_limit] = ERROR
            worse = (phase != RUNNING) & ((worst == RUNNING) | (_RANK[phase] > _RANK[worst]))
            worst[worse] = phase[worse]
        return worst


def _answer(name: str, k: int, wn: Array, error_ratio: Array, window: Callable[[str, int], Array]) -> Array:
    """What the rendered query `name` answers at instant k (read only where the guard is met)."""
    if name == "error-ratio":
        return error_ratio
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "slow-ratio":
            return np.asarray(window("s", k) / wn)
        return np.asarray(error_ratio - window("se", k) / np.maximum(window("sn", k), 1))


def simulate(
    p: Plan,
    traffic: Traffic,
    guard: int,
    trials: int,
    seed: int = 0,
    record: bool = False,
) -> Outcome:
    rng = np.random.default_rng(seed)
    steps = len(p.instants)
    weights = np.array([x.weight for x in p.instants])
    dt = p.interval
    # Requests between instant k and k+1 (the last instant is the promotion: nothing after it).
    n = rng.poisson(traffic.rps * weights[None, :-1] * dt, size=(trials, steps - 1))
    counts = {"n": n, "e": rng.binomial(n, traffic.error_rate)}
    names = {m.name for m in (*p.background, *p.gate)}
    if "slow-ratio" in names:
        counts["s"] = rng.binomial(n, traffic.slow_rate)
    if "error-ratio-vs-stable" in names:  # the stable pods' traffic matters to this metric alone
        counts["sn"] = rng.poisson(traffic.rps * (1 - weights[None, :-1]) * dt, size=(trials, steps - 1))
        counts["se"] = rng.binomial(counts["sn"], traffic.base_error_rate)
    zero = np.zeros((trials, 1), dtype=np.int64)
    cum = {k: np.concatenate([zero, np.cumsum(a, axis=1)], axis=1) for k, a in counts.items()}

    def window(key: str, k: int) -> Array:
        return np.asarray(cum[key][:, k] - cum[key][:, max(0, k - p.window_steps)])

    status = np.full(trials, OK, dtype=np.int8)
    at = np.full(trials, (steps - 1) * dt)
    live = np.ones(trials, dtype=bool)
    background = _Run(p.background, trials)
    gate: _Run | None = None
    values: dict[str, Array] = {}
    ratio = np.full(steps, np.nan)
    for k, instant in enumerate(p.instants[:-1]):
        wn = window("n", k)
        guard_met = wn >= max(guard, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            error_ratio = window("e", k) / wn
        ratio[k] = error_ratio[0] if guard_met[0] else np.nan
        runs: list[_Run] = []
        if instant.background:
            runs.append(background)
        if instant.gate is not None:
            if gate is None:
                gate = _Run(p.gate, trials)
            runs.append(gate)
        for run in runs:
            for i, metric in enumerate(run.metrics):
                value = _answer(metric.name, k, wn, error_ratio, window)
                if record and run is background:
                    if metric.name not in values:
                        values[metric.name] = np.full((trials, steps), np.nan)
                    values[metric.name][:, k] = np.where(guard_met, value, np.inf)  # inf: no answer
                run.record(i, _phases(metric, guard_met, value), live)
            verdict = run.verdict()
            ended = live & (verdict != RUNNING)
            status[ended], at[ended] = verdict[ended], k * dt
            live &= ~ended
        if instant.gate_last:
            gate = None
    end = np.minimum((at / dt).astype(int), steps - 1)
    hurt = cum["e"][np.arange(trials), end]
    return Outcome(status, at, hurt, weights, ratio, values)


@dataclass(frozen=True)
class Summary:
    trials: int
    promoted: float
    aborted: float
    paused: float
    detect_p50: float | None  # seconds from the first weight to the abort
    detect_p95: float | None
    hurt_p50: float
    hurt_p95: float
    duration: float  # the release's length when nothing stops it


def summarize(o: Outcome, dt: float) -> Summary:
    aborted = o.aborted
    times = o.at[aborted]
    return Summary(
        trials=len(o.status),
        promoted=float((o.status == OK).mean()),
        aborted=float(aborted.mean()),
        paused=float((o.status == INCONCLUSIVE).mean()),
        detect_p50=float(np.percentile(times, 50)) if times.size else None,
        detect_p95=float(np.percentile(times, 95)) if times.size else None,
        hurt_p50=float(np.percentile(o.hurt, 50)),
        hurt_p95=float(np.percentile(o.hurt, 95)),
        duration=(len(o.weights) - 1) * dt,
    )
