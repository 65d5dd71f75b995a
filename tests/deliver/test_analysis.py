"""AnalysisRun semantics, held to argo-rollouts' analysis/analysis_test.go (the assessMetricStatus,
generateMetricTasks, assessRunStatus and calculateNextReconcileTime tests), row for row where the row
is about semantics rather than Kubernetes plumbing."""

from __future__ import annotations

import pytest

from kubeship.deliver.analysis import (
    AnalysisRun,
    Measurement,
    Metric,
    MetricResult,
    Phase,
    TemplateError,
    assess_metric,
    metrics_from_template,
    prometheus_result,
    resolve_args,
)

NOW = 1_000_000.0


def metric(name: str = "success-rate", **kw: object) -> Metric:
    return Metric(name=name, provider={"prometheus": {}}, **kw)  # type: ignore[arg-type]


def done(phase: Phase, ago: float = 60) -> Measurement:
    return Measurement(phase, NOW - ago, NOW - ago, "99")


def test_assess_metric_no_measurements() -> None:  # TestAssessMetricStatusNoMeasurements
    result = MetricResult("success-rate")
    assert assess_metric(metric(), result, False) is Phase.PENDING
    assert assess_metric(metric(), result, True) is Phase.SUCCESSFUL


def test_assess_metric_in_flight() -> None:  # TestAssessMetricStatusInFlightMeasurement
    result = MetricResult("m", measurements=[done(Phase.SUCCESSFUL), Measurement(Phase.RUNNING, NOW, None)])
    assert assess_metric(metric(), result, False) is Phase.RUNNING
    assert assess_metric(metric(), result, True) is Phase.RUNNING


@pytest.mark.parametrize(
    ("field", "counter", "phase"),
    [
        ("failure_limit", "failed", Phase.FAILED),  # TestAssessMetricStatusFailureLimit
        ("inconclusive_limit", "inconclusive", Phase.INCONCLUSIVE),  # ...InconclusiveLimit
    ],
)
def test_assess_metric_limits(field: str, counter: str, phase: Phase) -> None:
    result = MetricResult("m", count=3, measurements=[done(phase)])
    setattr(result, counter, 3)
    assert assess_metric(metric(interval=60, **{field: 2}), result, False) is phase
    assert assess_metric(metric(interval=60, **{field: 2}), result, True) is phase
    assert assess_metric(metric(interval=60, **{field: 3}), result, False) is Phase.RUNNING
    assert assess_metric(metric(interval=60, **{field: 3}), result, True) is Phase.SUCCESSFUL


def test_assess_metric_consecutive_errors() -> None:  # TestAssessMetricStatusConsecutiveErrors
    result = MetricResult("m", consecutive_error=5, count=5, measurements=[done(Phase.ERROR)])
    assert assess_metric(metric(interval=60), result, False) is Phase.ERROR
    assert assess_metric(metric(interval=60), result, True) is Phase.ERROR
    result.consecutive_error = 4
    assert assess_metric(metric(interval=60), result, True) is Phase.SUCCESSFUL
    assert assess_metric(metric(interval=60), result, False) is Phase.RUNNING


def test_assess_metric_count_reached() -> None:  # TestAssessMetricStatusCountReached
    result = MetricResult("m", successful=10, count=10, measurements=[done(Phase.SUCCESSFUL)])
    assert assess_metric(metric(count=10), result, False) is Phase.SUCCESSFUL
    result.successful, result.inconclusive = 5, 5
    assert assess_metric(metric(count=10), result, False) is Phase.INCONCLUSIVE


def test_later_limit_wins() -> None:
    """assessMetricFailureInconclusiveOrError checks failed, inconclusive, errors in turn; the last wins."""
    result = MetricResult("m", failed=1, inconclusive=1, count=2, measurements=[done(Phase.INCONCLUSIVE)])
    assert assess_metric(metric(interval=60), result, False) is Phase.INCONCLUSIVE


def test_generate_tasks_skips_when_a_metric_failed() -> None:  # TestGenerateMetricTasksNoInterval...
    run = AnalysisRun([metric("latency"), metric("success-rate")])
    run.results["latency"] = MetricResult("latency", phase=Phase.FAILED)
    assert run.due(NOW) == []
    run.results.clear()
    assert len(run.due(NOW)) == 2


def test_generate_tasks_no_interval_or_count() -> None:  # TestGenerateMetricTasksNoIntervalOrCount
    run = AnalysisRun([metric()])
    run.results["success-rate"] = MetricResult(
        "success-rate", count=1, measurements=[done(Phase.SUCCESSFUL, 50)]
    )
    assert run.due(NOW) == []
    run.results["success-rate"] = MetricResult("success-rate")
    assert len(run.due(NOW)) == 1


def test_generate_tasks_interval() -> None:  # TestGenerateMetricTasksInterval
    run = AnalysisRun([metric(interval=60)])
    run.results["success-rate"] = MetricResult("success-rate", measurements=[done(Phase.SUCCESSFUL, 50)])
    assert run.due(NOW) == []
    run.results["success-rate"].measurements = [done(Phase.SUCCESSFUL, 60)]
    assert len(run.due(NOW)) == 1


def test_generate_tasks_initial_delay() -> None:  # TestGenerateMetricTasksHonorInitialDelay
    run = AnalysisRun([metric(initial_delay=20)])
    assert run.due(NOW) == []  # no startedAt yet
    run.started_at = NOW - 10
    assert run.due(NOW) == []
    run.started_at = NOW - 20
    assert len(run.due(NOW)) == 1


def test_generate_tasks_error_retries_after_10s() -> None:  # TestGenerateMetricTasksError
    run = AnalysisRun([metric()])
    run.results["success-rate"] = MetricResult("success-rate", error=1, measurements=[done(Phase.ERROR, 120)])
    assert len(run.due(NOW)) == 1
    run = AnalysisRun([metric(interval=300)])
    run.results["success-rate"] = MetricResult("success-rate", error=1, measurements=[done(Phase.ERROR, 120)])
    assert len(run.due(NOW)) == 1  # interval 5m, but an error is retried after 10 s


def test_assess_run_status() -> None:  # TestAssessRunStatus
    run = AnalysisRun([metric("latency"), metric("success-rate")])
    run.results = {
        "latency": MetricResult("latency", phase=Phase.SUCCESSFUL),
        "success-rate": MetricResult("success-rate", phase=Phase.RUNNING),
    }
    assert run.assess(NOW)[0] is Phase.RUNNING
    run.results["success-rate"].phase = Phase.FAILED
    assert run.assess(NOW)[0] is Phase.FAILED


def test_assess_run_status_updates_results() -> None:  # TestAssessRunStatusUpdateResult
    run = AnalysisRun([metric("sleep-infinity"), metric("fail-after-30")])
    run.results = {
        "sleep-infinity": MetricResult(
            "sleep-infinity", measurements=[Measurement(Phase.RUNNING, NOW - 60, None)]
        ),
        "fail-after-30": MetricResult("fail-after-30", count=1, failed=1, measurements=[done(Phase.FAILED)]),
    }
    assert run.assess(NOW)[0] is Phase.RUNNING
    assert run.results["fail-after-30"].phase is Phase.FAILED


def test_dry_run_metric_never_decides() -> None:  # TestAssessRunStatusErrorMessageFromProvider (dry-run)
    run = AnalysisRun([metric("real"), metric("dry", dry_run=True)])
    run.results = {
        "real": MetricResult("real", phase=Phase.SUCCESSFUL),
        "dry": MetricResult("dry", phase=Phase.FAILED),
    }
    assert run.assess(NOW)[0] is Phase.SUCCESSFUL
    assert not run.terminating()


def test_next_reconcile_time() -> None:  # TestCalculateNextReconcileTimeInterval / ...InitialDelay
    run = AnalysisRun([metric(interval=60)])
    run.results["success-rate"] = MetricResult("success-rate", measurements=[done(Phase.SUCCESSFUL, 30)])
    assert run.next_time() == NOW + 30
    run.results["success-rate"].measurements = [Measurement(Phase.RUNNING, NOW - 30, None)]
    assert run.next_time() is None
    run.results["success-rate"] = MetricResult(
        "s", phase=Phase.SUCCESSFUL, measurements=[done(Phase.SUCCESSFUL, 120)]
    )
    assert run.next_time() is None
    run = AnalysisRun(
        [metric(interval=60), metric("start-delay", interval=60, initial_delay=40)], started_at=NOW - 30
    )
    run.results["success-rate"] = MetricResult("success-rate", measurements=[done(Phase.SUCCESSFUL, 30)])
    assert run.next_time() == NOW + 10  # the delayed metric is due first
    run.results["success-rate"].measurements = [done(Phase.ERROR, 5)]
    assert run.next_time() == NOW + 5  # error retry (10 s) beats both


def _drive(run: AnalysisRun, values: list[object], start: float = NOW) -> list[Phase]:
    """Reconcile at each wake-up, feeding `values` one measurement at a time."""
    feed = iter(values)
    now, seen = start, []

    def measure(m: Metric, t: float) -> tuple[object, str] | Exception:
        value = next(feed)
        return value if isinstance(value, Exception) else (value, str(value))

    while True:
        wake = run.reconcile(now, measure)
        seen.append(run.phase)
        if wake is None:
            return seen
        now = wake


def test_run_failure_limit_then_count() -> None:
    m = metric(interval=60, count=4, failure_limit=1, success=None, failure=None)
    from kubeship.deliver.expr import compile_condition

    m = Metric(**{**m.__dict__, "success": compile_condition("result[0] < 0.01")})
    run = AnalysisRun([m])
    assert _drive(run, [[0.0], [0.5], [0.0], [0.0]])[-1] is Phase.SUCCESSFUL  # one failure allowed
    run = AnalysisRun([m])
    assert _drive(run, [[0.0], [0.5], [0.5]])[-1] is Phase.FAILED


def test_run_errors_count_toward_consecutive_limit_not_count() -> None:
    from kubeship.deliver.expr import compile_condition

    m = metric(interval=60, count=2, success=compile_condition("result[0] < 0.01"))
    run = AnalysisRun([m])
    phases = _drive(run, [[]] * 5)  # empty answers: result[0] errors every time
    assert phases[-1] is Phase.ERROR and run.results[m.name].error == 5 and run.results[m.name].count == 0
    run = AnalysisRun([m])
    _drive(run, [[], [], [0.0], [0.0]])
    assert run.phase is Phase.SUCCESSFUL and run.results[m.name].consecutive_error == 0


def test_terminated_background_run_is_successful() -> None:
    run = AnalysisRun([metric(interval=60)])
    run.reconcile(NOW, lambda m, t: (1.0, "1"))
    assert run.phase is Phase.RUNNING
    run.terminate = True
    run.reconcile(NOW + 60, lambda m, t: (1.0, "1"))
    assert run.phase is Phase.SUCCESSFUL


def test_template_args_and_validation() -> None:
    template = {
        "spec": {
            "args": [{"name": "hash"}, {"name": "ns", "value": "shop"}],
            "metrics": [
                {
                    "name": "e",
                    "count": "{{args.n}}",
                    "provider": {"prometheus": {"query": "x{h='{{ args.hash }}',n='{{args.ns}}'}"}},
                }
            ],
        }
    }
    with pytest.raises(TemplateError, match="not an argument"):
        resolve_args(template, {"n": "1"})
    with pytest.raises(TemplateError, match=r"args\.(n|hash) was not resolved"):
        resolve_args(template, {})
    template["spec"]["metrics"][0]["count"] = 3  # type: ignore[index]
    resolved = resolve_args(template, {"hash": "abc"})
    assert resolved["spec"]["metrics"][0]["provider"]["prometheus"]["query"] == "x{h='abc',n='shop'}"
    assert metrics_from_template(resolved)[0].count == 3
    for bad, message in [
        ({"name": "a"}, "no provider"),
        ({"name": "a", "provider": {"prometheus": {}, "web": {}}}, "multiple providers"),
        (
            {"name": "a", "provider": {"prometheus": {}}, "count": 1, "failureLimit": 2},
            "count must be >= failureLimit",
        ),
        ({"name": "a", "provider": {"prometheus": {}}, "interval": "1d"}, "invalid duration"),
        ({"name": "a", "provider": {"prometheus": {}}, "successCondition": "result >"}, "metric 'a'"),
    ]:
        with pytest.raises(TemplateError, match=message):
            metrics_from_template({"spec": {"metrics": [bad]}})


@pytest.mark.parametrize(
    ("data", "value", "shown"),
    [
        ({"resultType": "scalar", "result": [1, "0.5"]}, 0.5, "0.5"),
        (
            {
                "resultType": "vector",
                "result": [{"metric": {}, "value": [1, "1"]}, {"metric": {}, "value": [1, "NaN"]}],
            },
            None,
            "[1,NaN]",
        ),
        ({"resultType": "vector", "result": []}, [], "[]"),
        (
            {"resultType": "matrix", "result": [{"values": [[1, "1"], [2, "2"]]}, {"values": [[1, "3"]]}]},
            [1.0, 2.0, 3.0],
            "[1,2,3]",
        ),
    ],
)
def test_prometheus_result(data: dict[str, object], value: object, shown: str) -> None:
    got, text = prometheus_result(data)
    assert text == shown
    if value is not None:
        assert got == value
