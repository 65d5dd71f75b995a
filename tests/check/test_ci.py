"""GitLab CI files against GitLab's published schema (KS008), at the line of the mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeship.check.ci import check_gitlab_ci, is_gitlab_ci
from tests.conftest import run_cli

GOOD = """\
stages: [test, deploy]
.python: &python
  image: python:3.11
test:
  <<: *python
  stage: test
  script:
    - pip install -r requirements.txt
    - !reference [.setup, script]
deploy:
  stage: deploy
  script: [./deploy.sh]
  environment: {name: prod}
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      when: manual
.setup:
  script: [echo ready]
"""


def test_a_valid_file_with_anchors_and_reference_tags_passes() -> None:
    assert check_gitlab_ci(GOOD, ".gitlab-ci.yml") == []


@pytest.mark.parametrize(
    ("mistake", "line", "says"),
    [
        (
            GOOD.replace("  stage: deploy\n", "  stage: deploy\n  scirpt: [x]\n"),
            12,
            "'scirpt' was unexpected",
        ),
        (
            GOOD.replace("      when: manual", "      when: sometimes"),
            15,
            "deploy.rules.0",
        ),  # the rule it is in
        (GOOD.replace("stages: [test, deploy]", "stages: test"), 1, "stages"),
        (GOOD + "image:\n  stage: test\n  script: [x]\n", 19, "image"),  # a job named like a keyword
    ],
)
def test_a_mistake_is_found_at_its_line(mistake: str, line: int, says: str) -> None:
    findings = check_gitlab_ci(mistake, ".gitlab-ci.yml")
    assert findings and {f.rule for f in findings} == {"KS008"}
    assert any(f.line == line and says in f.message for f in findings), [
        (f.line, f.message) for f in findings
    ]


def test_invalid_yaml_and_bombs_are_reported_not_raised() -> None:
    assert [f.rule for f in check_gitlab_ci("test: [unclosed\n", "x")] == ["KS001"]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    assert [f.rule for f in check_gitlab_ci(bomb, "x")] == ["KS007"]
    assert [f.rule for f in check_gitlab_ci("- a\n- b\n", "x")] == ["KS008"]


def test_which_files_are_gitlab_ci() -> None:
    assert is_gitlab_ci(Path(".gitlab-ci.yml")) and is_gitlab_ci(Path("ci/deploy.gitlab-ci.yml"))
    assert not is_gitlab_ci(Path("gitlab-ci.yaml.bak")) and not is_gitlab_ci(Path("deploy.yml"))


def test_kubeship_check_reads_it_beside_manifests(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text(GOOD.replace("  stage: deploy\n", "  stage: 3\n"))
    result = run_cli("check", str(tmp_path / ".gitlab-ci.yml"))
    assert result.returncode == 1 and f"{tmp_path / '.gitlab-ci.yml'}:11:" in result.stdout
    assert "KS008" in result.stdout and "1 GitLab CI file checked" in result.stdout
