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

    constructed, composed = [], []
    original = load_mod._PositionLoader.construct_document
    monkeypatch.setattr(
        load_mod._PositionLoader,
        "construct_document",
        lambda self, node: constructed.append(1) or original(self, node),
    )
    compose = load_mod._compose.__wrapped__
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
    assert len(composed) == 10  # only the documents with a finding are read again, for its line
