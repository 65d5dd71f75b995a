"""Whatever the input, `kubeship check` reports findings; it never crashes on a manifest's shape."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeship.check import Options, check_documents, load_documents

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = (FIXTURES / "good.yaml").read_text() + "---\n" + (FIXTURES / "custom-resources.yaml").read_text()
NOISE = [*":-[]{}&*!|>'\"#%@` \n\t,?0~", "yes", "null", "- ", ": ", "\n  "]


def check(text: str) -> list[str]:
    docs, findings = load_documents(text, "f.yaml")
    return [f.rule for f in findings + check_documents(docs, Options())]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(CORPUS) - 1), st.sampled_from(["cut", *NOISE])), max_size=6))
def test_mangled_manifests_give_findings_not_crashes(edits: list[tuple[int, str]]) -> None:
    text = CORPUS
    for at, edit in edits:
        text = text[:at] + text[at + 1 :] if edit == "cut" else text[:at] + edit + text[at:]
    check(text)  # no exception, whatever the edit did


def test_a_value_of_the_wrong_type_is_a_schema_error_and_the_rules_skip_the_object() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec:\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: web}\n"
    )
    assert check(text) == ["KS002"]


def test_keys_that_are_not_strings_are_read_as_kubernetes_reads_them() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {yes: x, 1: y}\ndata: {a: b}\n"
    )
    assert check(text) == []  # the keys are sent as "true" and "1": valid annotations
    assert check(text + "~: z\n") == ["KS002"]  # a top-level "null" field: unknown


def test_dates_binaries_and_sets_are_read_as_kubernetes_reads_them_not_a_crash() -> None:
    """YAML 1.1 reads `2024-01-02` as a date, `!!binary` as bytes, `!!set` as a set; kubectl's
    YAML-to-JSON sends text, a string, a mapping. Each crashed the schema check (a traceback) before."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {released: 2024-01-02}\n"
    assert check(text) == []  # a string where a string goes
    assert check(text + "data: {when: 2024-01-02t10:00:00Z, n: 1}\n") == ["KS002"]  # the number is not
    assert check(text + "data: {b: !!binary aGVsbG8=}\n") == []  # go-yaml sends the decoded string
    assert check(text + "data: {s: !!set {a, b}}\n") == ["KS002"]  # a mapping to nulls, not a string
    assert check(text + "data: {n: 1, b: !!binary aGVsbG8=}\n") == ["KS002"]  # met listing the errors


def test_a_custom_resource_with_odd_metadata_is_reported_not_fatal() -> None:
    text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: just-a-string\nspec: {}\n"
    assert check(text) == ["KS003"]
