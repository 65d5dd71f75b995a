"""`promtool test rules`: the unit tests in promtool/ prove each alert fires when it must and
stays silent when it must not, against the rules kubeship renders for the examples."""

from __future__ import annotations

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
