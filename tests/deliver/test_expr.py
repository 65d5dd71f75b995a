"""The condition language, held to argo-rollouts' utils/evaluate/evaluate_test.go row for row (where a
row tests the language rather than Go plumbing), plus the shapes SLO templates rely on."""

from __future__ import annotations

import math

import pytest

from kubeship.deliver.analysis import Metric, Phase, measurement_phase
from kubeship.deliver.expr import ExprError, compile_condition, evaluate_condition

NAN, INF = math.nan, math.inf


def _metric(success: str = "", failure: str = "") -> Metric:
    return Metric(
        name="m",
        provider={"prometheus": {}},
        success=compile_condition(success) if success else None,
        failure=compile_condition(failure) if failure else None,
    )


# TestEvaluateResultWith*/NoSuccessCondition*/NoFailureCondition*/WithErrorOn*
@pytest.mark.parametrize(
    ("success", "failure", "phase"),
    [
        ("true", "false", Phase.SUCCESSFUL),  # TestEvaluateResultWithSuccess
        ("true", "true", Phase.FAILED),  # TestEvaluateResultWithFailure: failure wins
        ("false", "false", Phase.INCONCLUSIVE),  # TestEvaluateResultInconclusive
        ("", "false", Phase.SUCCESSFUL),  # TestEvaluateResultNoSuccessConditionAndNotFailing
        ("false", "", Phase.FAILED),  # TestEvaluateResultNoFailureConditionAndNotSuccessful
        ("", "", Phase.SUCCESSFUL),  # TestEvaluateResultNoFailureConditionAndNoSuccessCondition
    ],
)
def test_evaluate_result(success: str, failure: str, phase: Phase) -> None:
    assert measurement_phase(_metric(success, failure), True)[0] is phase


def test_evaluate_result_error_on_either_condition() -> None:
    """TestEvaluateResultWithErrorOnSuccessCondition / ...OnFailureCondition: an unknown name is an
    error at compile time, as in expr."""
    with pytest.raises(ExprError, match="unknown name a"):
        compile_condition("a == true")


@pytest.mark.parametrize(
    ("result", "condition", "expected"),
    [
        (True, "result == true", True),  # TestEvaluateConditionWithSuccess
        (True, "result == false", False),  # TestEvaluateConditionWithFailure
        ({"service_apdex": {"label": None, "values": {"values": [2.0, 2.0]}}},
         "all(result.service_apdex.values.values, {# > 1})", True),  # TestEvaluateArray
        ([2.0, 2.0], "2 in result", True),  # TestEvaluateInOperator
        (5.0, "result > 1", True),  # TestEvaluateFloat64
        ("1", "asInt(result) == 1", True),  # TestEvaluateAsInt
        (1, "asInt(result) == 1", True),
        (1.123, "asInt(result) == 1", True),
        ("1.1", "asFloat(result) == 1.1", True),  # TestEvaluateAsFloat
        ("1.1", "asFloat(result) >= 1.1", True),
        ("1.1", "asFloat(result) <= 1.1", True),
        (1.1, "asFloat(result) == 1.1", True),
        (1, "asFloat(result) == 1", True),
        (1, "asFloat(result) >= 1", True),
        (None, "isNil(result)", True),  # TestIsNil: isNil looks at the result
        ([1.0], "isNil(result)", False),
        (None, "default(result, 0) == 0", True),  # TestDefaultFunc
        (1.0, "default(result, 0) == 1", True),
        (INF, "isInf(result)", True),  # TestIsInf
        (0.0, "isInf(result)", False),
    ],
)  # fmt: skip
def test_condition(result: object, condition: str, expected: bool) -> None:
    assert evaluate_condition(result, condition) is expected


@pytest.mark.parametrize(
    ("result", "condition", "error"),
    [
        (True, "1", "expected bool, but got int"),  # TestErrorWithNonBoolReturn
        (True, "invalidVariable", "unknown name invalidVariable"),  # TestErrorWithInvalidReference
        (True, "result.Name() == 'hi'", "method"),  # TestEvaluateInvalidStruct
        ("1.1", "asInt(result) == 1.1", "invalid syntax"),  # TestEvaluateAsIntPanic
        (
            "NotANum",
            "asFloat(result) == 1.1",
            'parsing "NotANum": invalid syntax',
        ),  # TestEvaluateAsFloatError
        ("1.1", 'asFloat(result) == "1.1"', r"== \(mismatched types float64 and string\)"),
        ([], "result[0] > 0.01", "index out of range: 0"),  # the empty Prometheus answer (argo #1466)
        ([1.0], "result > 0.01", "mismatched types array and float64"),  # vector without [0]
        ([1.0], "result[0] > ", "expected|unexpected"),
    ],
)
def test_condition_error(result: object, condition: str, error: str) -> None:
    with pytest.raises(ExprError, match=error):
        evaluate_condition(result, condition)


@pytest.mark.parametrize(
    ("result", "condition", "expected"),
    [
        ([NAN], "result[0] >= 0.99", False),  # NaN compares false: a lone success condition fails
        ([NAN], "result[0] > 0.01", False),  # ...and a lone failure condition passes silently
        ([NAN], "isNaN(result[0])", True),
        ([], "len(result) == 0 || result[0] < 0.01", True),  # || short-circuits past the index
        ([], "len(result) > 0 && result[0] < 0.01", False),  # && too
        ([0.5, 0.2], "result[-1] == 0.2", True),
        ([0.5, 0.2], "max(result) == 0.5 and min(result) == 0.2", True),
        ([0.5, 0.2], "all(result, {# < 1}) && !any(result, {# > 1})", True),
        ([0.5, 0.2], "len(filter(result, {# > 0.3})) == 1", True),
        ([0.5], "result[0] * 100 <= 50", True),
        (3.0, "result ** 2 == 9 && 2 ^ 3 == 8", True),
        (7, "result % 4 == 3", True),
        (1.0, "result / 0 > 1e308", True),  # Go float division by zero is +Inf
        ("ok", "result startsWith 'o' && result matches '^o.$' && 'k' in ['k']", True),
        ({"a": 1}, "result?.b ?? 2 == 2", True),
        (1.0, "result > 0 ? result < 2 : false", True),
        (1.0, "not (result == 2) and result != 3", True),
        ([1.0, 2.0, 3.0], "result[1:] == [2.0, 3.0]", True),
    ],
)
def test_semantics_templates_rely_on(result: object, condition: str, expected: bool) -> None:
    assert evaluate_condition(result, condition) is expected


@pytest.mark.parametrize(
    "hostile",
    ["__import__('os').system('true')", "result.__class__", "(" * 5000 + "1" + ")" * 5000, "x" * 20_000],
)
def test_never_python(hostile: str) -> None:
    """No Python escapes: unknown names, dunder fields and absurd nesting are errors, not evaluation."""
    with pytest.raises(ExprError):
        evaluate_condition({"a": 1}, hostile)
