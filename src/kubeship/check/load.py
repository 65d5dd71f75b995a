"""YAML streams → documents with their line, in one pass; malformed YAML becomes a finding."""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import functools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import yaml

from kubeship.check import fork
from kubeship.check.heap import paused_gc
from kubeship.check.model import Document, Finding, Severity
from kubeship.limits import LimitError, Limits, refused_spans, violations

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
    max_depth: int

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
            return self._plain(node, {}, 1)
        except (TypeError, yaml.YAMLError):  # an unhashable key, a bad tag: PyYAML's own path says where
            self._forget()
            return super().construct_document(node)
        finally:
            self._forget()

    def _forget(self) -> None:
        """Drop what construct_object remembers of this document (it would keep its nodes alive)."""
        self.constructed_objects.clear()
        self.recursive_objects.clear()

    def _plain(self, node: yaml.Node, seen: dict[int, Any], depth: int) -> Any:
        """SafeConstructor's result for plain maps, lists and strings, without its generic machinery
        (PyYAML's own constructors for every other tag, and for merge keys); aliases stay shared.
        `depth` bounds nesting (a stream with anchors was bounded, aliases included, before)."""
        if id(node) in seen:
            return seen[id(node)]
        tag = node.tag
        if tag == _STR:
            return node.value
        if depth > self.max_depth:
            mark = node.start_mark
            what = f"nested more than {self.max_depth} levels"
            raise LimitError("depth", self.max_depth, what, mark.line + 1, mark.column + 1)
        depth += 1
        if tag == _MAP:
            out: dict[Any, Any] = {}
            seen[id(node)] = out
            for key, value in node.value:
                if key.tag == _MERGE:  # `<<: *base`: PyYAML's own merge rules
                    del seen[id(node)]
                    return self.construct_object(node, deep=True)
                # strings inline: most nodes are, and a call per scalar is most of the cost
                out[_share(key.value) if key.tag == _STR else self._plain(key, seen, depth)] = (
                    _share(value.value) if value.tag == _STR else self._plain(value, seen, depth)
                )
            return out
        if tag == _SEQ:
            items: list[Any] = []
            seen[id(node)] = items
            items.extend(
                _share(item.value) if item.tag == _STR else self._plain(item, seen, depth)
                for item in node.value
            )
            return items
        return self.construct_object(node, deep=True)


# Manifests repeat the same keys and short values (labels, names, images) thousands of times; the
# parser makes a new string each time. One copy of each halves the memory of a large stream.
_SHARED: dict[str, str] = {}
_SHARED_MAX = 1 << 20
_SHORT = 64


def _share(value: str) -> str:
    if len(value) >= _SHORT:
        return value
    if len(_SHARED) > _SHARED_MAX:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


PARALLEL_MIN = 1 << 20  # below 1 MB a second process costs more than it saves
CHUNK = 1 << 20  # a large stream is parsed and linted a piece of about this size at a time
_DOCUMENT_START = re.compile(r"^---(?=[ \t]|\r?$)", re.M)


class FileText:
    """A large file's text, read back by byte offset (a document's span) only when a finding needs a
    line: the stream is never held whole while it is checked. One pass at opening finds where the
    pieces it is parsed in start, whether it holds directives, and checks it is UTF-8."""

    BLOCK = 1 << 22

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = -1
        self.size = os.fstat(self._open()).st_size
        self.cuts: list[int] = []  # document starts about CHUNK apart, 0 excluded
        self.directives = False
        self.whole_stream = False  # a CRD or a Kustomization (kubeship.check.engine.needs_whole_stream)
        decoder = codecs.getincrementaldecoder("utf-8")()
        tail = b""  # the end of the previous block: a `---` or a `kind:` line may straddle two
        at = 0
        while at < self.size:
            block = os.pread(self._open(), self.BLOCK, at)
            final = at + len(block) >= self.size
            if not block.isascii() or decoder.getstate()[0]:  # ASCII is UTF-8; else UnicodeDecodeError
                decoder.decode(block, final=final)
            window, base = tail + block, at - len(tail)
            self.directives = self.directives or b"\n%" in window
            self.whole_stream = self.whole_stream or (
                (b"CustomResourceDefinition" in window or b"Kustomization" in window)
                and _WHOLE_STREAM_BYTES.search(window) is not None
            )
            self._cut(window, base, final)
            at += len(block)
            tail = block[-256:]  # longer than a `kind:` line's match; a cut in it is seen again: no harm

    def _cut(self, window: bytes, base: int, final: bool) -> None:
        """The `---` lines of `window` (at `base` in the file) where a piece starts, CHUNK apart."""
        want = (self.cuts[-1] if self.cuts else 0) + CHUNK
        while (found := window.find(b"\n---", max(want - base - 1, 0))) != -1:
            after = window[found + 4 : found + 6]
            if after[:1] in (b" ", b"\t", b"\n") or after == b"\r\n" or (not after and final):
                self.cuts.append(base + found + 1)
                want = base + found + 1 + CHUNK
            elif not after or after == b"\r":
                return  # the line goes on in the next block: seen again there
            else:
                want = base + found + 2

    def __len__(self) -> int:
        return self.size

    def search(self, pattern: re.Pattern[str], start: int, stop: int) -> int:
        """Where `pattern` (ASCII, a few characters long) first matches in [start, stop), or -1."""
        binary, at = re.compile(pattern.pattern.encode(), pattern.flags & ~re.UNICODE), start
        while at < stop:
            block = os.pread(self._open(), min(self.BLOCK, stop - at), at)
            found = binary.search(block)
            if found:
                return at + found.start()
            if at + len(block) >= stop or not block:
                return -1
            at += len(block) - 16  # a match across two blocks is seen in the next
        return -1

    def __getitem__(self, span: slice) -> str:
        start, stop = span.start or 0, self.size if span.stop is None else span.stop
        return os.pread(self._open(), max(0, stop - start), start).decode("utf-8", "replace")

    def _open(self) -> int:
        """The file's descriptor, opened again if it was closed: a directory of many large files keeps
        only the most recently read open (a process may hold only so many)."""
        if self._fd < 0:
            self._fd = os.open(self.path, os.O_RDONLY)
            _OPEN.append(self)
            while len(_OPEN) > _OPEN_MAX:
                _OPEN.pop(0)._close()
        return self._fd

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = -1

    def __reduce__(self) -> Any:  # a forked child sends spans back, never the file
        raise TypeError("FileText is not sent between processes")

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            self._close()


_OPEN: list[FileText] = []  # the FileTexts holding a descriptor, oldest first
_OPEN_MAX = 64


# A CRD (it schemas other objects) or a Kustomization (it sets patches aside) in a stream.
WHOLE_STREAM = re.compile(r"\bkind:\s*[\"']?(?:CustomResourceDefinition|Kustomization)\b")
_WHOLE_STREAM_BYTES = re.compile(WHOLE_STREAM.pattern.encode())

Text = str | FileText


class _ShapeLoader(_Loader):  # type: ignore[misc, valid-type]
    """Composes a document for its positions only: scalars' types are never asked, so not resolved."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        return ""

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def load_documents(
    text: Text, file: str, *, parallel: bool = False, bound: Limits | None = None
) -> tuple[list[Document], list[Finding]]:
    """Objects of a multi-document stream (`List` kinds flattened) and parse findings; a document
    over `bound` (an alias bomb, absurd nesting or size) is a KS007 finding and is not built.

    `parallel`: a large stream is cut in two at a document boundary and the second half parsed in a
    forked process meanwhile; the result is the same as reading it in one piece."""
    if not parallel and isinstance(text, str):
        return _load_piece(text, file, bound or Limits())
    docs, findings, _, _ = load_linted(text, file, _unlinted, bound=bound)
    return docs, findings


def _unlinted(docs: list[Document]) -> tuple[list[Finding], list[bool], list[Document]]:
    return [], [False] * len(docs), docs


# The per-object pass over parsed documents: its findings, whether each was mistyped, and the documents
# as the cross-resource rules will read them (the same, in the same order, perhaps slimmed).
Lint = Callable[[list[Document]], tuple[list[Finding], list[bool], list[Document]]]


@dataclasses.dataclass
class _Loaded:
    """What a range of a stream gave: documents (as `lint` returned them), parse findings, lint
    findings, per document whether `lint` found it mistyped, and the lines the range spans."""

    docs: list[Document]
    findings: list[Finding]
    linted: list[Finding]
    flags: list[bool]
    lines: int = 0


def load_linted(
    text: Text, file: str, lint: Lint, *, bound: Limits | None = None
) -> tuple[list[Document], list[Finding], list[Finding], list[bool]]:
    """`load_documents(parallel=True)` with `lint` (the per-object pass) run over each piece of the
    stream as soon as it is parsed, in the process that parsed it: a large stream is parsed and linted
    on two cores, a piece at a time, so only the linted (slimmed) objects are ever held. Documents (as
    `lint` returns them), parse findings, lint findings, and per document whether `lint` found it
    mistyped."""
    bound = bound or Limits()
    cuts, frame = _cuts(text)
    loaded = _load_cut(text, file, lint, bound, cuts, frame)
    if frame and any(f.rule == "KS001" for f in loaded.findings):  # a List's items cut wrongly: read whole
        loaded = _load_range(text, file, lint, bound, [0])
    _SHARED.clear()  # the strings dropped with the fields no rule reads go too
    return loaded.docs, loaded.findings, loaded.linted, loaded.flags


def _load_cut(
    text: Text, file: str, lint: Lint, bound: Limits, cuts: list[int], frame: _Frame | None
) -> _Loaded:
    """The pieces starting at `cuts`, the second half of them in a forked process meanwhile."""
    if len(cuts) < 2 or fork.cores() < 2:
        return _load_range(text, file, lint, bound, [0, *cuts], frame=frame)
    middle = len(cuts) // 2  # the half of the pieces past the middle cut go to the child

    def there() -> tuple[list[tuple[Any, int, int, int, int, str]], list[Finding], list[Finding], list[bool]]:
        far = _load_range(text, file, lint, bound, cuts[middle:], frame=frame)
        spans = [(d.obj, d.line, *(d.source or (text, 0, 0, 0))[1:], d.origin) for d in far.docs]
        return spans, far.findings, far.linted, far.flags

    def here() -> _Loaded:
        return _load_range(text, file, lint, bound, [0, *cuts[:middle]], stop=cuts[middle], frame=frame)

    near, (spans, more, linted_there, flags_there) = fork.in_two(here, there)
    if any(f.rule == "KS001" for f in near.findings):
        return near  # nothing after a syntax error is read
    for obj, line, start, end, column, origin in spans:
        near.docs.append(Document(obj, file, line + near.lines, (text, start, end, column), origin))
    near.findings += [dataclasses.replace(f, line=f.line + near.lines) for f in more]
    near.linted += [dataclasses.replace(f, line=f.line + near.lines) for f in linted_there]
    near.flags += flags_there
    return near


@dataclasses.dataclass(frozen=True)
class _Frame:
    """How a run of one List's items, cut out of it (`_item_cuts`), is read as a List of its own: an
    opening before a run that does not begin the stream, the kind after each run (a key given twice
    keeps the last: the same kind). `flow`: the List is JSON as kubectl writes it, else block YAML."""

    kind: str
    flow: bool = False

    def before(self, start: int) -> str:
        if not start:
            return ""
        return f'{{"kind": "{self.kind}", "items": [\n' if self.flow else "items:\n"

    def after(self, piece: str, last: bool) -> str:
        if self.flow:  # a flow sequence may end with a comma, as every run but the last does
            return "" if last else f'], "kind": "{self.kind}"}}\n'
        return ("" if piece.endswith("\n") else "\n") + f"kind: {self.kind}\n"


def _cuts(text: Text) -> tuple[list[int], _Frame | None]:
    """Where the pieces of a large stream after the first start: `---` lines about CHUNK apart; or, in
    a stream that is one List as `kubectl get -o yaml|json` writes it, item lines about CHUNK apart
    (and the frame each run of items is read in: `_load_range`). A stream with directives (`%YAML` past
    its start) stays whole: a directive belongs to the document after it."""
    if len(text) < PARALLEL_MIN:
        return [], None
    if isinstance(text, FileText):
        if text.directives:
            return [], None
        cuts = text.cuts
    elif "\n%" in text:
        return [], None
    else:
        cuts = []
        while (found := _DOCUMENT_START.search(text, (cuts[-1] if cuts else 0) + CHUNK)) is not None:
            cuts.append(found.start())
    return (cuts, None) if cuts else _item_cuts(text)


_ITEMS = re.compile(r"^items:[ \t]*\n- ", re.M)  # kubectl's List: items at column 0, one `- ` line each
_ITEM = re.compile(r"\n- ")
_LIST_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z0-9]*List)[\"']?[ \t]*$", re.M)
_TOP_LEVEL = re.compile(r"\n(?:[^- \t\r\n#]|-[^ \t\r\n])")  # a line at column 0 that is not an item
_JSON_ITEMS = re.compile(r'^    "items": \[\n        \{\n', re.M)  # kubectl -o json: 4 spaces a level
_JSON_ITEM = re.compile(r"\n        \{\n")
_JSON_KIND = re.compile(r'^    "kind": "([A-Za-z0-9]*List)",?$', re.M)
_JSON_OUTER = re.compile(r"\n {0,7}[^ \n]")  # a line indented less than the items
_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t]|\r?$)", re.M)
_HEAD = 1 << 16


def _item_cuts(text: Text) -> tuple[list[int], _Frame | None]:
    """Item lines about CHUNK apart when `text` is one List as kubectl writes it, and how a run of its
    items is read; else nothing: the document is read whole. Block YAML: `items:` and each item's `- `
    at column 0, nothing else at column 0 among them, the kind `...List` at column 0 before or after
    them. JSON: `"items": [` indented 4, each item's `{` indented 8, nothing indented less among them."""
    head = text[0:_HEAD]
    if head.lstrip().startswith("{"):
        items, item, outer, kinds, flow = _JSON_ITEMS.search(head), _JSON_ITEM, _JSON_OUTER, _JSON_KIND, True
    else:
        items, item, outer, kinds, flow = _ITEMS.search(head), _ITEM, _TOP_LEVEL, _LIST_KIND, False
    if items is None or _DOCUMENT_START.search(head, 1) or "\n..." in head:
        return [], None
    first = items.end() - 2  # the first item's `- `, or `{` line
    tail = text[max(first, len(text) - _HEAD) : len(text)]
    kind = kinds.search(head, 0, items.start()) or kinds.search(tail)
    if kind is None:
        return [], None
    cuts: list[int] = []
    while (found := _find(text, item, (cuts[-1] if cuts else first) + CHUNK, len(text))) != -1:
        cuts.append(found + 1)
    if cuts and (
        _find(text, outer, first, cuts[-1]) != -1 or _find(text, _MARKER, cuts[-1], len(text)) != -1
    ):
        return [], None  # the items end before the last cut, or another document follows: read it whole
    return cuts, _Frame(kind.group(1), flow)


def _find(text: Text, pattern: re.Pattern[str], start: int, stop: int) -> int:
    if isinstance(text, FileText):
        return text.search(pattern, start, stop)
    found = pattern.search(text, start, stop)
    return found.start() if found else -1


def _load_range(
    text: Text,
    file: str,
    lint: Lint,
    bound: Limits,
    starts: list[int],
    stop: int | None = None,
    frame: _Frame | None = None,
) -> _Loaded:
    """The pieces of `text` that begin at `starts` (the last one ends at `stop`, or the end), each
    parsed then linted at once; lines are counted from the first piece's start. Stops at a syntax
    error, as reading in one piece does. `frame`: the pieces are runs of one List's items, each read
    as a List of its own."""
    out = _Loaded([], [], [], [])
    ends = [*starts[1:], len(text) if stop is None else stop]
    for start, end in zip(starts, ends, strict=True):
        piece = text[start:end]
        before = frame.before(start) if frame else ""
        after = frame.after(piece, end == len(text)) if frame else ""
        docs, findings = _load_piece(before + piece + after, file, bound)
        linted, flags, docs = lint(docs)
        placed = _placer(text, piece, start)
        shift = out.lines - before.count("\n")  # the lines of `before` are not the stream's
        for doc in docs:
            _, begin, finish, column = doc.source or (text, 0, 0, 0)
            where = (text, placed(begin - len(before)), placed(finish - len(before)), column)
            out.docs.append(
                Document(doc.obj, doc.file, doc.line + shift, where if doc.source else None, doc.origin)
            )
        out.findings += [dataclasses.replace(f, line=f.line + shift) for f in findings]
        out.linted += [dataclasses.replace(f, line=f.line + shift) for f in linted]
        out.flags += flags
        out.lines += piece.count("\n")
        if any(f.rule == "KS001" for f in findings):
            break
    return out


def _placer(text: Text, piece: str, start: int) -> Callable[[int], int]:
    """A position in `piece` (the parser counts characters) as a position in `text`: characters in a
    str, bytes in a file (the same for ASCII; else the UTF-8 length of what comes before, counted on
    from the last position asked, as the documents come in order)."""
    if isinstance(text, str) or piece.isascii():
        return lambda at: start + at
    last = [0, 0]  # (character, byte) of the last position asked

    def placed(at: int) -> int:
        if at < last[0]:
            last[:] = [0, 0]
        last[1] += len(piece[last[0] : at].encode())
        last[0] = at
        return start + last[1]

    return placed


def _load_piece(text: str, file: str, bound: Limits) -> tuple[list[Document], list[Finding]]:
    """`text` read in one piece."""
    docs: list[Document] = []
    findings: list[Finding] = []
    if len(text) > bound.bytes + _HEAD and not _DOCUMENT_START.search(text, 1) and "\n..." not in text:
        leading = _LEADING.match(text)  # one document, far larger than one may be: not parsed at all
        start = leading.end() if leading else 0
        what = f"document of {len(text) - start:,} bytes"
        error = LimitError("bytes", bound.bytes, what, text.count("\n", 0, start) + 1)
        return [], [_limit_finding(file, error)]
    # Aliases may expand; a piece larger than a document may be holds one too large to build.
    refused = _refused(text, bound) if len(text) > bound.bytes or _may_alias(text) else []
    if refused:  # read as blank lines: never built; positions and lines stay
        parts, at = [], 0
        for error, (start, end) in refused:
            findings.append(_limit_finding(file, error))
            parts += [text[at:start], _BLANK.sub(lambda line: " " * len(line.group()), text[start:end])]
            at = end
        text = "".join([*parts, text[at:]])  # one copy, however many documents are refused
    loader = _PositionLoader(text)
    loader.nodes = []
    loader.max_depth = bound.depth
    with paused_gc():
        _load(loader, file, text, docs, findings, bound)
    return docs, findings


_BEFORE_ANCHOR = frozenset(" \t\n[{,:")
_NOT_ANCHOR_NAME = frozenset(" \t\r\n[]{},")


def _may_alias(text: str) -> bool:
    """Whether the text has an anchor (`&name` where a node starts): without one there is no alias
    and nothing expands. A quick pass over the few `&` real manifests hold (URLs, prose)."""
    at = text.find("&")
    while at != -1:
        if (at == 0 or text[at - 1] in _BEFORE_ANCHOR) and text[at + 1 : at + 2] not in _NOT_ANCHOR_NAME:
            return True
        at = text.find("&", at + 1)
    return False


_BLANK = re.compile(r"[^\r\n]+")
_LEADING = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*")  # blank and comment lines before a document


def _refused(text: str, bound: Limits) -> list[tuple[LimitError, tuple[int, int]]]:
    """Documents over a limit and where they are, from a pass over the parser's events (nothing
    built, so a bomb or a document of hundreds of MB costs what its text costs)."""
    found: list[tuple[LimitError, tuple[int, int]]] = []
    try:
        for _, error, span in refused_spans(yaml.parse(text, Loader=_Loader), bound):
            found.append((error, span))
    except yaml.YAMLError:
        pass  # the load that follows reports it where it is
    return found


def _limit_finding(file: str, error: LimitError) -> Finding:
    hint = f"{error.remedy()}; the document was not read"
    return Finding(file, error.line, "KS007", Severity.ERROR, error.problem(), hint)


def _load(
    loader: _PositionLoader,
    file: str,
    text: str,
    docs: list[Document],
    findings: list[Finding],
    bound: Limits,
) -> None:
    try:
        while loader.check_node():
            node = loader.get_node()
            try:
                data = loader.construct_document(node)
            except LimitError as error:
                findings.append(_limit_finding(file, error))
            else:
                composed = loader.nodes.pop() if loader.nodes else None
                _collect(data, composed, file, docs, findings, text, bound)
            loader.nodes.clear()
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


NOT_AN_OBJECT = "not a Kubernetes object"
KS004_HINT = "every Kubernetes object needs apiVersion and kind"


def _collect(
    data: Any,
    node: yaml.Node | None,
    file: str,
    docs: list[Document],
    findings: list[Finding],
    text: str,
    bound: Limits,
) -> None:
    if data is None:
        return  # an empty document (a trailing ---)
    line = node.start_mark.line + 1 if node is not None else 1
    if node is not None and node.end_mark.index - node.start_mark.index > bound.scalar:
        error = _oversized(text, node, bound)  # rare: only a document larger than one value may be
        if error is not None:
            findings.append(_limit_finding(file, error))
            return
    if not isinstance(data, dict):
        message = f"{NOT_AN_OBJECT}: a {type(data).__name__}, not a mapping"
        findings.append(Finding(file, line, "KS004", Severity.ERROR, message, KS004_HINT))
        return
    if str(data.get("kind", "")).endswith("List") and isinstance(data.get("items"), list):
        items = _child(node, "items")
        item_nodes = items.value if isinstance(items, yaml.SequenceNode) else []
        for i, item in enumerate(data["items"]):
            _collect(item, item_nodes[i] if i < len(item_nodes) else node, file, docs, findings, text, bound)
        return
    missing = [k for k in ("apiVersion", "kind") if not data.get(k)]
    if missing:  # both missing: likely not a manifest at all; one missing: a manifest with a mistake
        message = (
            f"{NOT_AN_OBJECT}: no apiVersion, no kind"
            if len(missing) == 2
            else f"object without {missing[0]}"
        )
        findings.append(Finding(file, line, "KS004", Severity.ERROR, message, KS004_HINT))
        return
    span = (text, node.start_mark.index, node.end_mark.index, node.start_mark.column) if node else None
    docs.append(Document(data, file, line, span, _origin(text, node.start_mark.index) if node else ""))


def _oversized(text: str, node: yaml.Node, bound: Limits) -> LimitError | None:
    """A document too large, or holding a value too large (its events, scanned again)."""
    start, end = node.start_mark.index, node.end_mark.index
    if end - start > bound.bytes:
        what = f"document of {end - start:,} bytes"
        return LimitError("bytes", bound.bytes, what, node.start_mark.line + 1)
    piece = " " * node.start_mark.column + text[start:end]
    try:
        for _, error in violations(yaml.parse(piece, Loader=_Loader), bound):
            error.line += node.start_mark.line
            return error
    except yaml.YAMLError:
        return None
    return None


def _origin(text: str, start: int) -> str:
    """The `# Source: chart/templates/x.yaml` comment `helm template` writes above each document."""
    head = text.rfind("\n", 0, start)
    while head > 0:
        above = text.rfind("\n", 0, head)
        line = text[above + 1 : head].strip()
        if line.startswith("# Source: "):
            return line.removeprefix("# Source: ")
        if line and not line.startswith("#"):
            return ""  # `---` or the previous document: no Source comment for this one
        head = above
    return ""


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
    deepest part of it that exists. Only asked for a finding, so loading stays one pass: block-style
    YAML (what renderers and most people write) is scanned line by line; anything else (flow style,
    anchors, a path that is not all there) is composed again, once per document."""
    if doc.source is None:
        return doc.line
    text, start, end, column = doc.source
    lines = _lines(text, start, end, column)
    if lines is not None:
        found = _scan(lines, path)
        if found is not None:
            return doc.line + found
    node = _compose(*doc.source)
    line = doc.line
    for part in path:
        node = _child(node, part)
        if node is None:
            break
        line = doc.line + node.start_mark.line
    return line


@functools.lru_cache(maxsize=32)  # split once per object, however many findings it has
def _lines(text: str, start: int, end: int, column: int) -> list[str] | None:
    """The document's lines as if it started at column 0: a List item (`- ` before it) has its
    later lines moved left by its column; None when one of them starts left of it (compose then)."""
    lines = text[start:end].split("\n")
    if column:
        rest = lines[1:]
        if any(line[:column].strip() for line in rest):
            return None
        lines[1:] = [line[column:] for line in rest]
    return lines


def _scan(lines: list[str], path: Sequence[str | int]) -> int | None:
    """0-based line of the node at `path` in a block-style document, or None when it cannot say for
    sure (then the document is composed). A node is (line, column) of its first character."""
    at = _next_content(lines, 0)
    if at is None:
        return None
    node = (at, _indent(lines[at]))
    for part in path:
        child = _key(lines, node, part) if isinstance(part, str) else _item(lines, node, part)
        if child is None:
            return None
        node = child
    return node[0]


def _key(lines: list[str], node: tuple[int, int], key: str) -> tuple[int, int] | None:
    """The value of `key` in the block mapping whose first key is at `node`."""
    first, col = node
    for i in _at_column(lines, node):
        content = lines[i][col:]
        if i > first and content[:1] == "-":  # a sequence under one of the keys, at the keys' column
            continue
        for form in (key, f'"{key}"', f"'{key}'"):
            if content.startswith(form + ":") and content[len(form) + 1 : len(form) + 2] in ("", " ", "\r"):
                return _value(lines, i, col + len(form) + 1, col, compact=True)
        if i == first and not content[:1].isalnum() and content[:1] not in "\"'_":
            return None  # not a block mapping (flow, anchor, tag): compose
    return None


def _item(lines: list[str], node: tuple[int, int], index: int) -> tuple[int, int] | None:
    """Item `index` of the block sequence whose first dash is at `node`."""
    col = node[1]
    for seen, i in enumerate(_at_column(lines, node)):
        if lines[i][col : col + 2].rstrip("\r") not in ("-", "- "):
            return None  # the sequence ended, or this is not one
        if seen == index:
            return _value(lines, i, col + 1, col, compact=False)
    return None


def _at_column(lines: list[str], node: tuple[int, int]) -> Iterator[int]:
    """The node's first line, then each later line that starts at its column, until one starts left of
    it (blank lines, comments and the deeper lines of children skipped)."""
    first, col = node
    yield first
    for i in range(first + 1, len(lines)):
        line = lines[i]
        if _blank(line):
            continue
        indent = _indent(line)
        if indent < col:
            return
        if indent == col:
            yield i


def _value(lines: list[str], i: int, after: int, parent: int, compact: bool) -> tuple[int, int] | None:
    """The node that starts after column `after` of line `i` (past `key:` or `-`), or on the next lines
    deeper than `parent`; under a key (`compact`) a sequence may also start at the key's own column."""
    rest = lines[i][after:]
    stripped = rest.lstrip(" ")
    if stripped and not stripped.startswith("#") and stripped.strip("\r"):
        if stripped[0] in "&*!":
            return None  # an anchor, alias or tag: compose knows where it leads
        return i, after + len(rest) - len(stripped)
    nxt = _next_content(lines, i + 1)
    if nxt is None:
        return None  # an empty value: compose says where it stands
    indent = _indent(lines[nxt])
    if indent > parent or (compact and indent == parent and lines[nxt][indent : indent + 1] == "-"):
        return nxt, indent
    return None


def _next_content(lines: list[str], i: int) -> int | None:
    for j in range(i, len(lines)):
        if not _blank(lines[j]):
            return j
    return None


def _blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
