"""YAML streams → documents with their line, in one pass; malformed YAML becomes a finding."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from typing import Any

import yaml

from kubeship.check import fork
from kubeship.check.heap import paused_gc
from kubeship.check.model import Document, Finding, Severity

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
# Plain scalars' implicit tags (str, int, bool, null, ...) depend on the text alone, and manifests
# repeat the same texts (keys, labels, images): resolving each once saves a regex scan per scalar.
_TAGS: dict[str, str] = {}


class _PositionLoader(_Loader):  # type: ignore[misc, valid-type]
    """Records where each document's node starts and ends while constructing it (no second parse).
    Only the marks are kept, not the node tree: holding thousands of trees slows everything after."""

    nodes: list[yaml.Node]

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode or not implicit[0]:
            return str(super().resolve(kind, value, implicit))
        tag = _TAGS.get(value)
        if tag is None:
            if len(_TAGS) > 200_000:
                _TAGS.clear()
            tag = _TAGS[value] = str(super().resolve(kind, value, implicit))
        return tag

    def construct_document(self, node: yaml.Node) -> Any:
        self.nodes.append(node)
        try:
            return self._plain(node, {})
        except (TypeError, yaml.YAMLError):  # an unhashable key, a bad tag: PyYAML's own path says where
            self._forget()
            return super().construct_document(node)
        finally:
            self._forget()

    def _forget(self) -> None:
        """Drop what construct_object remembers of this document (it would keep its nodes alive)."""
        self.constructed_objects.clear()
        self.recursive_objects.clear()

    def _plain(self, node: yaml.Node, seen: dict[int, Any]) -> Any:
        """SafeConstructor's result for plain maps, lists and strings, without its generic machinery
        (PyYAML's own constructors for every other tag, and for merge keys); aliases stay shared."""
        if id(node) in seen:
            return seen[id(node)]
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _MAP:
            out: dict[Any, Any] = {}
            seen[id(node)] = out
            for key, value in node.value:
                if key.tag == _MERGE:  # `<<: *base`: PyYAML's own merge rules
                    del seen[id(node)]
                    return self.construct_object(node, deep=True)
                # strings inline: most nodes are, and a call per scalar is most of the cost
                out[key.value if key.tag == _STR else self._plain(key, seen)] = (
                    value.value if value.tag == _STR else self._plain(value, seen)
                )
            return out
        if tag == _SEQ:
            items: list[Any] = []
            seen[id(node)] = items
            items.extend(item.value if item.tag == _STR else self._plain(item, seen) for item in node.value)
            return items
        return self.construct_object(node, deep=True)


PARALLEL_MIN = 1 << 20  # below 1 MB a second process costs more than it saves
_DOCUMENT_START = re.compile(r"^---(?=[ \t]|\r?$)", re.M)


class _ShapeLoader(_Loader):  # type: ignore[misc, valid-type]
    """Composes a document for its positions only: scalars' types are never asked, so not resolved."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        return ""

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def load_documents(text: str, file: str, *, parallel: bool = False) -> tuple[list[Document], list[Finding]]:
    """Objects of a multi-document stream (`List` kinds flattened) and parse findings.

    `parallel`: a large stream is cut in two at a document boundary and the second half parsed in a
    forked process meanwhile; the result is the same as reading it in one piece."""
    cut = _halfway(text) if parallel else None
    if cut is None:
        return _load_piece(text, file)
    (docs, findings), (spans, more) = fork.in_two(
        lambda: _load_piece(text[:cut], file, whole=text), lambda: _load_spans(text[cut:], file)
    )
    if any(f.rule == "KS001" for f in findings):
        return docs, findings  # as in one piece: nothing after a syntax error is read
    lines = text.count("\n", 0, cut)
    for obj, line, start, end, column in spans:
        docs.append(Document(obj, file, line + lines, (text, start + cut, end + cut, column)))
    return docs, findings + [dataclasses.replace(f, line=f.line + lines) for f in more]


def _halfway(text: str) -> int | None:
    """Where the second half of a large stream starts: a `---` line past the middle, if any. Streams
    with directives (`%YAML`) stay whole: a directive belongs to the document after it."""
    if len(text) < PARALLEL_MIN or fork.cores() < 2 or "\n%" in text:
        return None
    found = _DOCUMENT_START.search(text, len(text) // 2)
    return found.start() if found else None


def _load_spans(text: str, file: str) -> tuple[list[tuple[Any, int, int, int, int]], list[Finding]]:
    """What the forked half sends back: objects and positions, not its copy of the text."""
    docs, findings = _load_piece(text, file)
    return [(d.obj, d.line, *(d.source or (text, 0, 0, 0))[1:]) for d in docs], findings


def _load_piece(text: str, file: str, whole: str | None = None) -> tuple[list[Document], list[Finding]]:
    """`text` read; `whole`: the stream `text` begins, which the documents' spans point into."""
    loader = _PositionLoader(text)
    loader.nodes = []
    docs: list[Document] = []
    findings: list[Finding] = []
    with paused_gc():
        _load(loader, file, text if whole is None else whole, docs, findings)
    return docs, findings


def _load(
    loader: _PositionLoader, file: str, text: str, docs: list[Document], findings: list[Finding]
) -> None:
    try:
        while loader.check_data():
            data = loader.get_data()
            _collect(data, loader.nodes.pop() if loader.nodes else None, file, docs, findings, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1) if mark else 1
        problem = f"invalid YAML: {exc.problem or exc.context}"
        findings.append(
            Finding(
                file,
                line,
                "KS001",
                Severity.ERROR,
                problem,
                "fix the syntax here; later documents were not read",
            )
        )
    except yaml.YAMLError as exc:
        findings.append(Finding(file, 1, "KS001", Severity.ERROR, f"invalid YAML: {exc}"))
    finally:
        loader.dispose()


def _collect(
    data: Any, node: yaml.Node | None, file: str, docs: list[Document], findings: list[Finding], text: str
) -> None:
    if data is None:
        return  # an empty document (a trailing ---)
    line = node.start_mark.line + 1 if node is not None else 1
    if not isinstance(data, dict):
        findings.append(
            Finding(
                file,
                line,
                "KS004",
                Severity.ERROR,
                f"expected a Kubernetes object, got {type(data).__name__}",
            )
        )
        return
    if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
        items = _child(node, "items")
        item_nodes = items.value if isinstance(items, yaml.SequenceNode) else []
        for i, item in enumerate(data["items"]):
            _collect(item, item_nodes[i] if i < len(item_nodes) else node, file, docs, findings, text)
        return
    missing = [k for k in ("apiVersion", "kind") if not data.get(k)]
    if missing:
        findings.append(
            Finding(file, line, "KS004", Severity.ERROR, f"object without {' and '.join(missing)}",
                    "every Kubernetes object needs apiVersion and kind")
        )  # fmt: skip
        return
    span = (text, node.start_mark.index, node.end_mark.index, node.start_mark.column) if node else None
    docs.append(Document(data, file, line, span))


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key]  # type: ignore[no-any-return]
    return None


@functools.lru_cache(maxsize=32)  # one compose per object, however many findings it has
def _compose(text: str, start: int, end: int, column: int) -> yaml.Node | None:
    try:  # the padding keeps a document that started mid-line (a List item) parseable
        return yaml.compose(" " * column + text[start:end], Loader=_ShapeLoader)
    except yaml.YAMLError:
        return None


def field_line(doc: Document, path: Sequence[str | int]) -> int:
    """The line of `path` (e.g. spec, template, spec, containers, 0, image) in the document, or of the
    deepest part of it that exists. The document's own text is composed again, only when asked (for a
    finding), so loading stays one pass."""
    if doc.source is None:
        return doc.line
    node = _compose(*doc.source)
    line = doc.line
    for part in path:
        node = _child(node, part)
        if node is None:
            break
        line = doc.line + node.start_mark.line
    return line
