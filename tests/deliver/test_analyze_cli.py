"""`kubeship analyze` on what a careless or hostile user hands it: refused at once, in one line, no
traceback, the right exit code (2: not a template file; 9: a template Argo would reject)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

HEAD = "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\n"
METRIC = "  - name: m\n    provider: {prometheus: {query: '1'}}\n"


def _bomb() -> str:
    lines = ["x:", "  a: &a ['x','x','x','x','x','x','x','x','x']"]
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"  {cur}: &{cur} [{', '.join([f'*{prev}'] * 9)}]")
    return HEAD + "\n".join(lines) + "\nspec:\n  metrics:\n" + METRIC + "    extra: *i\n"


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (_bomb(), 2, "expands to more than 1,000,000 values"),  # 9^9 strings once the aliases are walked
        (HEAD + "spec: " + "[" * 20000 + "]" * 20000 + "\n", 2, "nested more than 128 levels"),
        ("", 2, "no AnalysisTemplate"),
        (HEAD + "spec: hello\n", 9, "spec must be a map"),
        (HEAD + "spec:\n  args: hello\n  metrics:\n" + METRIC, 9, "spec.args must be a list"),
        (
            HEAD + "spec:\n  metrics:\n" + METRIC + "    interval: 60\n",
            9,
            'interval must be a string, like "1m"',
        ),
        (HEAD + "spec:\n  metrics:\n" + METRIC + "    successCondition: 5\n", 9, "successCondition must be"),
        (HEAD + "spec:\n  metrics:\n  - name: m\n    provider: {prometheus: x}\n", 9, "must be a map"),
        (HEAD + "spec:\n  dryRun: [{metricName: '('}]\n  metrics:\n" + METRIC, 9, "not a regular expression"),
        (HEAD + "spec:\n  metrics:\n  - name: m\n    provider: {web: {url: x}}\n", 9, "m (web)"),
    ],
)
def test_bad_templates_are_refused_in_one_line(tmp_path: Path, text: str, code: int, message: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    result = run_cli("analyze", str(path), "--prometheus", "http://127.0.0.1:9", "--once", cwd=ROOT)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_password_in_the_prometheus_url_is_never_printed() -> None:
    from kubeship.errors import UsageError
    from kubeship.promsnap import instant_query

    with pytest.raises(UsageError) as caught:
        instant_query("http://bob:canary-pw-77@127.0.0.1:9", "up", 0, timeout=2)
    assert "canary-pw-77" not in str(caught.value) and "bob:***@" in str(caught.value)
