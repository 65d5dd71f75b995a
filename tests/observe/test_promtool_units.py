"""`promtool test rules`: the unit tests in promtool/ prove each alert fires when it must and
stays silent when it must not, against the rules kubeship renders for the examples."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kubeship.observe import rule_groups, to_text
from kubeship.spec import AppSpec
from tests.observe.conftest import run

UNITS = sorted((Path(__file__).parent / "promtool").glob("*_test.yml"))


@pytest.mark.parametrize("unit", UNITS, ids=[u.stem for u in UNITS])
def test_promtool_unit(unit: Path, tmp_path: Path, seed: AppSpec, worker: AppSpec) -> None:
    (tmp_path / "seed-rules.yml").write_text(to_text(rule_groups(seed)))
    (tmp_path / "worker-rules.yml").write_text(to_text(rule_groups(worker)))
    shutil.copy(unit, tmp_path / unit.name)
    result = run("promtool", "test", "rules", unit.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


DEPENDENCY_UNITS = Path(__file__).parent / "promtool_dependencies" / "dependencies_test.yml"


def test_dependency_alerts(tmp_path: Path, queue_worker: AppSpec) -> None:
    """Redis, Kafka, PostgreSQL and node alerts on their exporters' series (promtool compares
    annotations whole, so they are dropped from this copy; `promtool check rules` checks them)."""
    groups = rule_groups(queue_worker)["groups"][1:]
    assert {g["name"] for g in groups} == {
        f"worker-{d}" for d in ("redis", "cache", "kafka", "postgres", "node")
    }
    for group in groups:
        for rule in group["rules"]:
            rule.pop("annotations")
    (tmp_path / "dependency-rules.yml").write_text(to_text({"groups": groups}))
    shutil.copy(DEPENDENCY_UNITS, tmp_path / DEPENDENCY_UNITS.name)
    result = run("promtool", "test", "rules", DEPENDENCY_UNITS.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dependency_alert_is_unit_tested(queue_worker: AppSpec) -> None:
    tested = set(re.findall(r"alertname: (\w+)", DEPENDENCY_UNITS.read_text()))
    rendered = {r["alert"] for g in rule_groups(queue_worker)["groups"][1:] for r in g["rules"]}
    assert rendered <= tested, f"no promtool unit for {sorted(rendered - tested)}"


def test_dependency_rules_pass_promtool_check(tmp_path: Path, queue_worker: AppSpec) -> None:
    (tmp_path / "rules.yml").write_text(to_text(rule_groups(queue_worker)))
    result = run("promtool", "check", "rules", "rules.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
