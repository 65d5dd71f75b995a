"""Every lint rule shows the YAML to write, and that YAML fixes what the rule found.

An example's first line names where it goes (`# [Kind] path[]...: why`); the test
breaks the passing fixture the way the rule's own failing fixture does, pastes the
example there (its keys replace those fields; a list item replaces the first
item), and the finding is gone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from kubeship.check import RULES
from kubeship.check.examples import EXAMPLES
from tests.check.test_rules import MUTATIONS, good, run

LOCATION = re.compile(r"# (?:(?P<kind>[A-Z][A-Za-z]+) ?)?(?P<path>[a-z][\w.\[\]]*)?(?::|$)")
# The fix is another object (a binding, the ConfigMap, a rename, the Rollout's Services).
SHAPE_ONLY = {
    "KS215",
    "KS227",
    "KS305",
    "KS309",
    "KS314",
    "KS315",
    "KS317",
    "KS318",
    "KS319",
    "KS320",
    "KS321",
}


def test_every_lint_rule_has_an_example_that_is_yaml() -> None:
    lint_rules = {r.id for r in RULES.values() if r.check or r.cross}
    assert set(EXAMPLES) == lint_rules
    for rule_id, example in EXAMPLES.items():
        assert example.startswith("# "), rule_id
        assert isinstance(yaml.safe_load(example), dict | list), rule_id


@pytest.mark.parametrize("rule_id", sorted(set(EXAMPLES) - SHAPE_ONLY))
def test_the_example_fixes_the_finding(rule_id: str) -> None:
    example = EXAMPLES[rule_id]
    where = LOCATION.match(example.splitlines()[0])
    assert where, f"{rule_id}: first line must name where the example goes"
    objects = good()
    MUTATIONS[rule_id](objects)
    assert rule_id in run(objects)
    if rule_id == "KS302":  # the example's Service is "web"; the fixture's is named as in the guide
        example = example.replace(
            "name: web", f"name: {next(o for o in objects if o['kind'] == 'Service')['metadata']['name']}"
        )
    kind = where["kind"] or "Deployment"
    targets = (
        objects
        if where["path"] == "metadata" and not where["kind"]
        else [o for o in objects if o["kind"] == kind]
    )
    for target in targets:
        _paste(target, where["path"] or "", yaml.safe_load(example))
    if rule_id == "KS313":  # the example is the workload without replicas
        targets[0]["spec"].pop("replicas", None)
    assert rule_id not in run(objects)


def _paste(target: Any, path: str, fragment: Any) -> None:
    parts = [p for p in re.split(r"\.|(\[\])", path) if p]
    if parts[-1:] == ["[]"] and isinstance(fragment, list):  # a list item: it replaces the first
        parts, fragment = parts[:-1], {0: fragment[0]}
    for part in parts:
        target = target[0] if part == "[]" else target.setdefault(part, {})
    for key, value in fragment.items():
        target[key] = value
