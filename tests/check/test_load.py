"""The loader reads YAML exactly as PyYAML's SafeLoader does (YAML 1.1, as Kubernetes does), only faster."""

from __future__ import annotations

import pytest
import yaml

from kubeship.check import load_documents

TRICKY = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: tricky
  labels: &labels {app: web, tier: "1"}
  annotations:
    on: yes
    off: no
    octal: 0755
    float: 1.5e3
    date: 2024-01-02
    empty:
    tilde: ~
    quoted: "yes"
data:
  base: &base {a: "1", b: "2"}
  merged: {<<: *base, b: "3"}
  same: *labels
  block: |
    key: not a key
  list: [1, two, {three: 3}]
"""


def test_same_objects_as_pyyaml_safe_loader() -> None:
    docs, findings = load_documents(TRICKY + "---\n" + TRICKY.replace("tricky", "again"), "f.yaml")
    assert findings == []
    expected = list(
        yaml.load_all(TRICKY + "---\n" + TRICKY.replace("tricky", "again"), Loader=yaml.SafeLoader)
    )
    assert [d.obj for d in docs] == expected
    annotations = docs[0].obj["metadata"]["annotations"]
    assert annotations[True] is True and annotations["octal"] == 493 and annotations["quoted"] == "yes"
    assert docs[0].obj["data"]["merged"] == {"a": "1", "b": "3"}
    assert docs[0].obj["data"]["same"] is docs[0].obj["metadata"]["labels"]  # an alias is one object


def test_constructor_errors_keep_their_position() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: X\n? [a, b]\n: c\n"
    )
    docs, findings = load_documents(text, "f.yaml")
    assert [d.kind for d in docs] == ["ConfigMap"]
    assert [(f.rule, f.line) for f in findings] == [("KS001", 7)] and "unhashable" in findings[0].message
    docs, findings = load_documents("apiVersion: v1\nkind: ConfigMap\ndata: !vault abc\n", "f.yaml")
    assert docs == [] and findings[0].rule == "KS001" and "!vault" in findings[0].message


def test_a_10000_document_stream_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeship.check import Options, check_documents
    from kubeship.check import load as load_mod

    constructed, scanned, composed = [], [], []
    original = load_mod._PositionLoader.construct_document
    monkeypatch.setattr(
        load_mod._PositionLoader,
        "construct_document",
        lambda self, node: constructed.append(1) or original(self, node),
    )
    scan, compose = load_mod._scan, load_mod._compose.__wrapped__
    monkeypatch.setattr(load_mod, "_scan", lambda lines, path: scanned.append(1) or scan(lines, path))
    monkeypatch.setattr(load_mod, "_compose", lambda *span: composed.append(span[1]) or compose(*span))
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: shop}}\ndata: {{a: b}}\n"
    text = "---\n".join(
        cm.format(i=i).replace("\ndata:", "\ndataa:") if i % 1000 == 0 else cm.format(i=i)
        for i in range(10_000)
    )
    docs, _ = load_documents(text, "big.yaml")
    findings = check_documents(docs, Options(select=frozenset({"KS002"})))
    assert len(docs) == 10_000 and len(constructed) == 10_000  # each document built once
    assert [f.line for f in findings] == [i * 5 + 4 for i in range(0, 10_000, 1000)]  # 4 lines and ---
    assert len(scanned) == 10 and composed == []  # only the lines of a finding's document are read again


def _big_stream(copies: int) -> str:
    return "---\n".join(
        f"# Source: chart/templates/t{i}.yaml\n" + TRICKY.replace("name: tricky", f"name: t{i}")
        for i in range(copies)
    )


def test_a_large_stream_read_in_two_processes_is_the_same_as_in_one() -> None:
    from kubeship.check import load as load_mod

    text = _big_stream(3000)
    assert len(text) > load_mod.PARALLEL_MIN and load_mod._halfway(text) is not None
    one, two = load_documents(text, "f.yaml"), load_documents(text, "f.yaml", parallel=True)
    assert [(d.obj, d.line, d.source, d.origin) for d in two[0]] == [
        (d.obj, d.line, d.source, d.origin) for d in one[0]
    ]
    assert len(two[0]) == 3000 and two[1] == one[1] == []
    assert two[0][2999].origin == "chart/templates/t2999.yaml"  # the second half keeps its Helm sources


def test_syntax_errors_in_either_half_read_as_in_one_piece() -> None:
    from kubeship.check import load as load_mod

    text = _big_stream(3000)
    half = load_mod._halfway(text)
    assert half is not None
    for broken in (text[:1000] + "x: [1,\n" + text[1000:], text + "---\nx: [1,\n"):  # first half, last line
        one, two = load_documents(broken, "f.yaml"), load_documents(broken, "f.yaml", parallel=True)
        assert [(d.obj, d.line) for d in two[0]] == [(d.obj, d.line) for d in one[0]]
        assert [(f.rule, f.line) for f in two[1]] == [(f.rule, f.line) for f in one[1]]
        assert [f.rule for f in two[1]] == ["KS001"]


def test_a_stream_with_directives_is_read_in_one_piece() -> None:
    from kubeship.check import load as load_mod

    assert load_mod._halfway("%YAML 1.1\n" + _big_stream(3000)) is not None  # only at the very start: fine
    assert load_mod._halfway(_big_stream(1500) + "\n%YAML 1.1\n---\n" + _big_stream(1500)) is None
