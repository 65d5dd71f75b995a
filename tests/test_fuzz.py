"""Every loader fuzzed with mutated real inputs: no traceback, ever (see tests/fuzzing.py; the larger runs
with counts, hangs and peak memory are scripts/fuzz.py, figures in the README)."""

from __future__ import annotations

import json
import random
import resource

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import LOADERS, attempt, generated

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("loader", sorted(LOADERS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_no_input_makes_a_loader_raise_anything_but_its_clear_error(loader: str, seed: int) -> None:
    text = generated(random.Random(seed), loader)
    assert attempt(loader, text) in ("accepted", "refused")


def _snapshot_with_a_string_pod_metric() -> str:
    from tests.autoscale.test_decide import snapshot

    snap = snapshot(3, ["900m", "800m", "700m"])
    snap["podMetrics"][1] = "x"
    return json.dumps(snap)


@pytest.mark.parametrize(
    ("loader", "text"),
    [  # what the fuzzing found, kept
        ("analysis", "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  na"),
        ("spec", "? !!python/object:os.system : \u00e9"),
        ("snapshot", _snapshot_with_a_string_pod_metric()),
        ("spec", "name: web\nx: &l1 [a, *l1]\n"),
        ("spec", "name: web\nalerts[:\n  - name: x\n"),  # a key with "[" (was an IndexError)
        ("spec", "name: web\nx:\n  ? {a: [1]}\n  : b\n"),  # a mapping key holding a list (TypeError)
        ("config", "? {a: [1]}\n: b\n"),
        ("spec", "name: web\ncontainer: !!omap [{port: http}]\n"),  # no position for its items (TypeError)
    ],
)
def test_inputs_fuzzing_found(loader: str, text: str) -> None:
    assert attempt(loader, text) == "refused"


def test_a_recursive_alias_in_a_manifest_is_refused_not_walked() -> None:
    """Found at input 9,4xx of scripts/fuzz.py: check grew to 24 GB validating a Secret whose data held
    `&l1 [*l0, *l1]` (a list inside itself)."""
    from kubeship.check import load_documents

    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  l1: &l1 [x, *l1]\n"
    docs, findings = load_documents(text, "s.yaml")
    assert docs == [] and [(f.rule, f.line) for f in findings] == [("KS007", 5)]


def test_memory_stayed_bounded_while_fuzzing() -> None:
    """Bombs and deep nesting were planted above: had one been expanded, this process would hold GBs."""
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_mib < 1024, peak_mib
