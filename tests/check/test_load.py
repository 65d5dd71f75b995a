"""The loader reads YAML exactly as PyYAML's SafeLoader does (YAML 1.1, as Kubernetes does), only faster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeship.check import Severity, load_documents

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
    assert len(text) > load_mod.PARALLEL_MIN and load_mod._cuts(text)[0]
    one, two = load_documents(text, "f.yaml"), load_documents(text, "f.yaml", parallel=True)
    assert [(d.obj, d.line, d.source, d.origin) for d in two[0]] == [
        (d.obj, d.line, d.source, d.origin) for d in one[0]
    ]
    assert len(two[0]) == 3000 and two[1] == one[1] == []
    assert two[0][2999].origin == "chart/templates/t2999.yaml"  # the second half keeps its Helm sources


def test_syntax_errors_in_either_half_read_as_in_one_piece() -> None:
    from kubeship.check import load as load_mod

    text = _big_stream(3000)
    assert load_mod._cuts(text)[0]
    for broken in (text[:1000] + "x: [1,\n" + text[1000:], text + "---\nx: [1,\n"):  # first half, last line
        one, two = load_documents(broken, "f.yaml"), load_documents(broken, "f.yaml", parallel=True)
        assert [(d.obj, d.line) for d in two[0]] == [(d.obj, d.line) for d in one[0]]
        assert [(f.rule, f.line) for f in two[1]] == [(f.rule, f.line) for f in one[1]]
        assert [f.rule for f in two[1]] == ["KS001"]


def test_a_stream_with_directives_is_read_in_one_piece() -> None:
    from kubeship.check import load as load_mod

    assert load_mod._cuts("%YAML 1.1\n" + _big_stream(3000))[0]  # only at the very start: fine
    assert load_mod._cuts(_big_stream(1500) + "\n%YAML 1.1\n---\n" + _big_stream(1500)) == ([], None)


def _linted_check(text: str, options: Any) -> tuple[list[Any], list[Any]]:
    """Parse findings and check findings as `kubeship check` makes them on the early path: objects
    linted in the process that parsed them."""
    from kubeship.check import check_documents
    from kubeship.check.engine import Linted, lint_objects
    from kubeship.check.load import load_linted

    docs, parsed, linted, flags = load_linted(text, "f.yaml", lambda objs: lint_objects(objs, options))
    assert all("status" not in d.obj for d in docs)  # slimmed: what the cross-resource rules read
    done = Linted(linted, frozenset(id(d) for d in docs[: len(flags)]), frozenset(
        id(d) for d, bad in zip(docs, flags, strict=False) if bad
    ))  # fmt: skip
    return parsed, check_documents(docs, options, done)


def test_linting_where_parsed_finds_what_linting_at_the_end_finds() -> None:
    from kubeship.check import Options, check_documents
    from kubeship.check import load as load_mod

    good = (Path(__file__).parent / "fixtures" / "good.yaml").read_text()
    pieces = []
    for i in range(140):  # the passing fixture, broken in a different way every few copies
        copy = good
        if i % 13 == 0:  # a suppression, read by both passes
            copy = copy.replace(
                "metadata:\n  name: web\n",
                'metadata:\n  name: web\n  annotations: {kubeship.io/ignore: "KS309: test"}\n',
                1,
            )
        copy = copy.replace("name: web", f"name: web{i % 120}")  # some duplicates (cross-resource)
        if i % 7 == 0:
            copy = copy.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
        if i % 11 == 0:
            copy = copy.replace(
                "automountServiceAccountToken: false", "automountServiceAccountToken: 'no'"
            )  # mistyped
        pieces.append(f"# Source: chart/templates/t{i}.yaml\n{copy}")
    text = "---\n".join(pieces)
    assert len(text) > load_mod.PARALLEL_MIN and load_mod._cuts(text)[0]
    assert list(yaml.safe_load_all(text))  # valid YAML
    for options in (Options(), Options(min_severity=Severity.WARNING, skip=frozenset({"KS201"}))):
        docs, parsed = load_documents(text, "f.yaml", parallel=True)
        at_the_end = check_documents(docs, options)
        early_parsed, early = _linted_check(text, options)
        assert early_parsed == parsed
        assert [(f.line, f.rule, f.message, f.object, f.origin) for f in early] == [
            (f.line, f.rule, f.message, f.object, f.origin) for f in at_the_end
        ]
        assert {f.rule for f in early} >= {"KS002", "KS309"}


def test_a_crd_or_a_kustomization_in_any_input_lints_at_the_end() -> None:
    from kubeship.check.engine import needs_whole_stream

    assert needs_whole_stream("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n")
    assert needs_whole_stream("- {apiVersion: kustomize.config.k8s.io/v1beta1, kind: 'Kustomization'}")
    assert not needs_whole_stream("kind: Deployment\n# a CustomResourceDefinitions guide\n")


def test_a_large_file_read_a_piece_at_a_time_is_the_same_as_its_text(tmp_path: Path) -> None:
    """`kubeship check` leaves a large file on disk (FileText): the objects, lines, Helm sources and the
    line of every finding are those of the text read whole, with non-ASCII text (the parser counts
    characters, the file bytes), CRLF line ends, and a syntax error in either half."""
    from kubeship.check import Options, check_documents
    from kubeship.check import load as load_mod

    base = _big_stream(3000).replace('quoted: "yes"', 'quoted: "sí, 是的"')
    crlf = base.replace("\n", "\r\n")
    for i, text in enumerate((base, crlf, base[:1000] + "x: [1,\n" + base[1000:], base + "---\nx: [1,\n")):
        path = tmp_path / f"big{i}.yaml"
        path.write_bytes(text.encode())
        big = load_mod.FileText(str(path))
        assert big.cuts and not big.directives and not big.whole_stream
        whole, pieces = load_documents(text, "f.yaml"), load_documents(big, "f.yaml", parallel=True)
        assert [(d.obj, d.line, d.origin) for d in pieces[0]] == [(d.obj, d.line, d.origin) for d in whole[0]]
        assert [(f.rule, f.line) for f in pieces[1]] == [(f.rule, f.line) for f in whole[1]]
        options = Options(select=frozenset({"KS002", "KS104", "KS309"}))
        expected = check_documents(whole[0], options)
        assert expected and check_documents(pieces[0], options) == expected  # field lines read back alike
    assert load_mod.FileText(str(tmp_path / "big1.yaml")).size == len(crlf.encode())


def test_a_file_that_is_not_utf8_is_refused_when_opened(tmp_path: Path) -> None:
    from kubeship.check.load import FileText

    path = tmp_path / "latin1.yaml"
    path.write_bytes(_big_stream(3000).encode() + "# caf\xe9\n".encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        FileText(str(path))


def test_large_files_past_the_open_descriptor_limit_are_read_again_when_a_line_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the most recently read large files keep a descriptor open; the others reopen for a line."""
    from kubeship.check import Options, check_documents
    from kubeship.check import load as load_mod

    monkeypatch.setattr(load_mod, "_OPEN_MAX", 1)
    texts, docs = [], []
    for i in range(3):
        path = tmp_path / f"big{i}.yaml"
        texts.append(_big_stream(3000).replace("name: t", f"name: f{i}t"))
        path.write_text(texts[-1])
        docs += load_documents(load_mod.FileText(str(path)), str(path), parallel=True)[0]
    assert len(load_mod._OPEN) == 1
    options = Options(select=frozenset({"KS002", "KS104"}))
    whole = [d for i, t in enumerate(texts) for d in load_documents(t, str(tmp_path / f"big{i}.yaml"))[0]]
    expected = check_documents(whole, options)
    assert expected and check_documents(docs, options) == expected


ITEM = """\
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: t{i}
    labels: {{app: web, tier: "1"}}
    annotations:
      on: yes
      date: 2024-01-02
      "é": "sí, 是的"
  data:
    block: |
      key: not a key
      - not an item
    flow: "[1, two]"
"""


def _kubectl_list(copies: int, kind_first: bool = False) -> str:
    """A List as `kubectl get -o yaml` writes it: items at column 0, then kind and metadata."""
    items = "".join(ITEM.format(i=i) for i in range(copies))
    head = "apiVersion: v1\nkind: List\n" if kind_first else "apiVersion: v1\n"
    tail = "" if kind_first else 'kind: List\nmetadata:\n  resourceVersion: ""\n'
    return f"{head}items:\n{items}{tail}"


def _spanned(doc: Any) -> tuple[str, int]:
    """The text a document's span selects, and its column (a file's spans count bytes, a str's
    characters: the text is what must agree)."""
    text, start, end, column = doc.source
    return text[start:end], column


def assert_read_as_if_whole(text: str, path: Path, count: int) -> None:
    """`text` read in pieces, from a str and from a file at `path`, gives the objects, lines, spans
    (the text each selects) and findings of reading it whole."""
    from kubeship.check import Options, check_documents
    from kubeship.check import load as load_mod

    whole, _ = load_mod._load_piece(text, path.name, load_mod.Limits())
    path.write_text(text)
    for source in (text, load_mod.FileText(str(path))):
        docs, findings = load_documents(source, path.name, parallel=True)
        assert findings == [] and len(docs) == count
        assert [(d.obj, d.line, _spanned(d), d.origin) for d in docs] == [
            (d.obj, d.line, _spanned(d), d.origin) for d in whole
        ]
        options = Options(select=frozenset({"KS002", "KS104", "KS309"}))
        assert check_documents(docs, options) == check_documents(whole, options)


@pytest.mark.parametrize("kind_first", [False, True])
def test_a_large_list_is_read_an_item_run_at_a_time_as_if_whole(kind_first: bool, tmp_path: Path) -> None:
    """`kubectl get -o yaml` writes one List document; a large one is cut between items and each run
    read as a List of its own (in two processes), with the objects, lines and spans of reading it whole,
    from a str and from a file."""
    from kubeship.check import load as load_mod

    text = _kubectl_list(12000, kind_first)
    cuts, frame = load_mod._cuts(text)
    assert frame is not None and frame.kind == "List" and len(cuts) >= 2
    assert_read_as_if_whole(text, tmp_path / "list.yaml", 12000)


def test_a_list_that_is_not_kubectls_shape_is_read_whole() -> None:
    from kubeship.check import load as load_mod

    text = _kubectl_list(12000)
    assert load_mod._cuts(text.replace("kind: List\n", "kind: Other\n"))[1] is None  # not a List
    late = text + "other:\n- x\n"  # a sequence at column 0 after the items, in the last piece: fine
    assert load_mod._cuts(late)[1] == load_mod._Frame("List")
    assert [d.name for d in load_documents(late, "f.yaml", parallel=True)[0]][-1] == "t11999"
    two = text + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n"
    assert load_mod._cuts(two)[1] is None  # another document after it: no item cuts
    assert load_documents(two, "f.yaml", parallel=True)[0][-1].name == "after"
    broken = text.replace("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: t8000", "- x: [1,", 1)
    one, pieces = load_documents(broken, "f.yaml"), load_documents(broken, "f.yaml", parallel=True)
    assert (
        [(f.rule, f.line) for f in pieces[1]]
        == [(f.rule, f.line) for f in one[1]]
        == [("KS001", one[1][0].line)]
    )  # a syntax error in an item: read whole again, as it was


def test_a_large_json_list_as_kubectl_writes_it_is_read_a_run_of_items_at_a_time(tmp_path: Path) -> None:
    """`kubectl get -o json`: one List, four spaces a level; cut between items, read as if whole."""
    import json

    from kubeship.check import load as load_mod

    items = [yaml.safe_load(ITEM.format(i=i)[2:].replace("\n  ", "\n")) for i in range(6000)]
    for item in items:
        item["metadata"]["annotations"]["date"] = "2024-01-02"  # JSON has no dates
    listed = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    text = json.dumps(listed, indent=4, ensure_ascii=False) + "\n"
    cuts, frame = load_mod._cuts(text)
    assert frame == load_mod._Frame("List", flow=True) and len(cuts) >= 2
    assert_read_as_if_whole(text, tmp_path / "list.json", 6000)
    assert load_mod._cuts(text.replace('\n    "kind": "List"', '\n    "kind": "Other"'))[1] is None
