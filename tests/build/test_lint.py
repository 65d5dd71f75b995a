"""Each Dockerfile rule: a Dockerfile that breaks it, and the fixed one that passes."""

from __future__ import annotations

import pytest

from kubeship.build import lint
from kubeship.build.lint import RULES

DIGEST = "@sha256:" + "a" * 64
GOOD = f"""\
FROM python:3.11-slim-bookworm{DIGEST} AS builder
ENV PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/venv
COPY requirements.txt ./
RUN /opt/venv/bin/pip install -r requirements.txt
FROM python:3.11-slim-bookworm{DIGEST}
COPY --from=builder /opt/venv /opt/venv
COPY . /app
USER 10001:10001
ENTRYPOINT ["/opt/venv/bin/kubeship", "serve"]
CMD ["app:app"]
"""

CASES = {
    "KS401": (GOOD.replace(f"FROM python:3.11-slim-bookworm{DIGEST}\n", "FROM python\n"), GOOD),
    "KS411": (GOOD.replace(DIGEST, ""), GOOD),
    "KS402": (GOOD.replace("USER 10001:10001\n", ""), GOOD),
    "KS404": (
        GOOD.replace("RUN python3", "RUN apt-get update && apt-get install -y libpq5\nRUN python3"),
        GOOD.replace(
            "RUN python3",
            "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 "
            "&& rm -rf /var/lib/apt/lists/*\nRUN python3",
        ),
    ),
    "KS405": (
        GOOD.replace("COPY . /app", "ADD https://example.com/app.tgz /app"),
        GOOD,
    ),
    "KS406": (
        GOOD.replace("ENV PIP_NO_CACHE_DIR=1\n", ""),
        GOOD.replace("ENV PIP_NO_CACHE_DIR=1\n", "").replace(
            "pip install -r", "pip install --no-cache-dir -r"
        ),
    ),
    "KS407": (
        GOOD.replace("COPY requirements.txt ./\n", "COPY . ./\n"),
        GOOD,
    ),
    "KS408": (GOOD.replace('CMD ["app:app"]', "CMD kubeship serve app:app"), GOOD),
    "KS409": (
        "FROM python:3.11-slim\nCOPY requirements.txt ./\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        'COPY . /app\nUSER 10001\nCMD ["python", "/app/main.py"]\n',
        GOOD,
    ),
    "KS410": (GOOD.replace("ENV PIP_NO_CACHE_DIR=1", "ENV PIP_NO_CACHE_DIR=1 API_TOKEN=abc123"), GOOD),
}


def test_every_rule_has_a_case() -> None:
    assert set(CASES) | {"KS403"} == set(RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_the_bad_and_not_on_the_good(rule: str) -> None:
    bad, good = CASES[rule]
    assert rule in {f.rule for f in lint(bad)}, lint(bad)
    assert rule not in {f.rule for f in lint(good)}


def test_missing_dockerignore() -> None:
    assert [f.rule for f in lint(GOOD, has_dockerignore=False)] == ["KS403"]
    assert lint(GOOD, has_dockerignore=True) == []


def test_findings_point_at_the_instruction_line_across_continuations() -> None:
    text = "FROM python:3.11-slim AS b\nRUN apt-get update && \\\n    apt-get install -y gcc\n" + GOOD
    finding = next(f for f in lint(text) if f.rule == "KS404")
    assert finding.line == 2
    assert finding.file == "Dockerfile" and "lists" in finding.message


def test_secret_values_are_not_repeated_in_findings() -> None:
    text = GOOD.replace("ENV PIP_NO_CACHE_DIR=1", "ENV DB_PASSWORD=hunter2-canary")
    finding = next(f for f in lint(text) if f.rule == "KS410")
    assert "hunter2-canary" not in finding.message + finding.hint
