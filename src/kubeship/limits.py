"""Bounds on YAML and JSON from outside: what one document may expand to before it is built.

A 1 KB YAML file whose anchors and aliases nest nine deep (the "billion laughs" shape) expands to
a billion values: whatever walks it (a schema validator, a deep copy, a serialiser) grows without
end. Every loader of kubeship (check, the spec, the runtime's config files, autoscale snapshots,
analysis templates) reads the parser's events through `scan` first, which counts what each
document would expand to, alias by alias, without building anything, and stops at the first
limit crossed with a `LimitError` that says which limit, where and how to raise it.

The defaults are far above what real files need: Kubernetes caps an object at 1.5 MiB (etcd's
request limit) and a ConfigMap at 1 MiB, the deepest published CRD schemas nest about 40 levels,
and charts that use anchors alias a few blocks, not thousands. A genuine file beyond them can
raise them: `KUBESHIP_INPUT_LIMITS="nodes=5000000,depth=200"`.

Works on the event streams of both YAML libraries kubeship uses (PyYAML's and ruamel.yaml's
classes have the same names and marks) and on loaded JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from kubeship.names import ENV_INPUT_LIMITS

_WHY: Final = {
    "bytes": "Kubernetes stores an object of at most 1.5 MiB",
    "depth": "real manifests, CRD schemas included, nest a few dozen levels",
    "nodes": "a YAML alias bomb expands a few lines into billions of values",
    "aliases": "charts that use anchors alias a few blocks",
    "scalar": "a ConfigMap or Secret holds at most 1 MiB",
}


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per document; `nodes` and `depth` count what aliases expand to."""

    bytes: int = 16 * 2**20
    depth: int = 128
    nodes: int = 1_000_000
    aliases: int = 10_000
    scalar: int = 4 * 2**20


class LimitError(Exception):
    """A document over a limit: `str()` says what, where (`file:line:col`) and how to raise it."""

    def __init__(self, limit: str, value: int, what: str, line: int = 1, column: int = 1) -> None:
        self.limit, self.value, self.what, self.line, self.column = limit, value, what, line, column
        super().__init__(what)

    def located(self, source: str, line_offset: int = 0) -> str:
        """`file:line:col: message`; JSON parsers give no position (line 0): `file: message`."""
        if not self.line:
            return f"{source}: {self.message()}"
        return f"{source}:{self.line + line_offset}:{self.column}: {self.message()}"

    def problem(self) -> str:
        return f"{self.what}, over the limit {self.limit}={self.value:,} ({_WHY[self.limit]})"

    def remedy(self) -> str:
        return f"if the file is genuine, raise the limit: {ENV_INPUT_LIMITS}={self.limit}={self.value * 4}"

    def message(self) -> str:
        return f"{self.problem()}; {self.remedy()}"

    def __str__(self) -> str:
        return self.message()


def limits(environ: Mapping[str, str] | None = None) -> Limits:
    """The defaults, with `KUBESHIP_INPUT_LIMITS` ("nodes=5000000,depth=200") applied."""
    raw = (os.environ if environ is None else environ).get(ENV_INPUT_LIMITS, "").strip()
    if not raw:
        return Limits()
    known = {f.name for f in dataclasses.fields(Limits)}
    values: dict[str, int] = {}
    for part in raw.split(","):
        name, _, number = part.strip().partition("=")
        try:
            value = int(number.replace("_", ""))
        except ValueError:
            value = -1
        if name not in known or value <= 0:
            raise ValueError(
                f"{ENV_INPUT_LIMITS}: {part.strip()!r} is not name=positive integer; "
                f"names: {', '.join(sorted(known))}"
            )
        values[name] = value
    return Limits(**values)


def check_size(size: int, bound: Limits, line: int = 1) -> None:
    """A document's size in bytes (characters) against the limit, before parsing it."""
    if size > bound.bytes:
        raise LimitError("bytes", bound.bytes, f"document of {size:,} bytes", line)


def scan(events: Iterable[Any], bound: Limits) -> None:
    """Raise `LimitError` at the first document of a YAML event stream over a limit."""
    for _, error in violations(events, bound):
        raise error


def violations(events: Iterable[Any], bound: Limits) -> Iterator[tuple[int, LimitError]]:
    """(document index, error) for each document of a YAML event stream (PyYAML's or ruamel.yaml's)
    over a limit; the rest of such a document is skipped. Linear in the events: an alias adds what
    its anchor expanded to, remembered when the anchor's node ended, so a bomb costs what its text
    costs."""
    for index, error, _ in refused_spans(events, bound):
        yield index, error


def refused_spans(events: Iterable[Any], bound: Limits) -> Iterator[tuple[int, LimitError, tuple[int, int]]]:
    """`violations`, with where each such document starts and ends in the text (character indexes)."""
    stream = iter(events)
    index = 0
    for event in stream:
        if type(event).__name__ == "DocumentStartEvent":
            try:
                _document(stream, event.start_mark.index, bound)
            except LimitError as error:
                end = event.start_mark.index
                for rest in stream:
                    end = rest.end_mark.index
                    if type(rest).__name__ == "DocumentEndEvent":
                        break
                yield index, error, (event.start_mark.index, end)
            index += 1


def _document(stream: Iterator[Any], start: int, bound: Limits) -> None:
    """One document's events, up to its end."""
    anchors: dict[str, tuple[int, int]] = {}  # anchor → (values, levels) of its node
    stack: list[list[Any]] = []  # open collections: [values, levels below, anchor]
    nodes = aliases = 0
    for event in stream:
        kind = type(event).__name__
        mark = event.start_mark
        if kind == "ScalarEvent":
            nodes += 1
            if len(event.value) > bound.scalar:
                raise LimitError("scalar", bound.scalar, f"a value of {len(event.value):,} bytes", *_at(mark))
            _add(stack, anchors, event.anchor, 1, 0)
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            nodes += 1
            stack.append([1, 0, event.anchor])
            if len(stack) > bound.depth:
                raise LimitError("depth", bound.depth, f"nested more than {bound.depth} levels", *_at(mark))
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            count, below, anchor = stack.pop()
            _add(stack, anchors, anchor, count, below + 1)
        elif kind == "AliasEvent":
            aliases += 1
            if any(frame[2] == event.anchor for frame in stack):  # `&a [*a]`: a value inside itself
                what = "contains itself through an alias, so it expands without end"
                raise LimitError("nodes", bound.nodes, what, *_at(mark))
            count, levels = anchors.get(event.anchor, (1, 0))  # an unknown anchor: the parser says so
            nodes += count
            if aliases > bound.aliases:
                raise LimitError("aliases", bound.aliases, f"more than {bound.aliases:,} aliases", *_at(mark))
            if nodes > bound.nodes:
                what = f"expands to more than {bound.nodes:,} values through its aliases"
                raise LimitError("nodes", bound.nodes, what, *_at(mark))
            if len(stack) + levels > bound.depth:
                what = f"nested more than {bound.depth} levels through its aliases"
                raise LimitError("depth", bound.depth, what, *_at(mark))
            _add(stack, anchors, None, count, levels)
        elif kind == "DocumentEndEvent":
            check_size(mark.index - start, bound, _at(mark)[0])
            return
        if nodes > bound.nodes:  # without aliases: a document of millions of tiny values
            raise LimitError("nodes", bound.nodes, f"more than {bound.nodes:,} values", *_at(mark))


def _add(
    stack: list[list[Any]], anchors: dict[str, tuple[int, int]], anchor: str | None, n: int, h: int
) -> None:
    if anchor is not None:
        anchors[anchor] = (n, h)
    if stack:
        stack[-1][0] += n
        stack[-1][1] = max(stack[-1][1], h)


def _at(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def load_json(text: str, bound: Limits) -> Any:
    """`json.loads` within the limits (JSON has no aliases: what is read is what there is);
    `json.JSONDecodeError` for what is not JSON, as json raises it."""
    check_size(len(text), bound, 0)
    try:
        data = json.loads(text)
    except RecursionError:  # json's decoder recurses: thousands of `[` stop it before we can count
        raise LimitError("depth", bound.depth, f"nested more than {bound.depth} levels", 0) from None
    check_json(data, bound)
    return data


def load_yaml_all(text: str, bound: Limits) -> list[Any]:
    """PyYAML's `safe_load_all`, after `scan` has passed every document."""
    import yaml

    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        scan(yaml.parse(text, Loader=loader), bound)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" not in str(exc.problem):  # libyaml's own cap (1,000), met first
            raise
        what = f"nested more than {bound.depth} levels"
        raise LimitError("depth", bound.depth, what, *_at(exc.problem_mark)) from None
    return list(yaml.load_all(text, Loader=loader))


def load_ruamel(yaml: Any, text: str, bound: Limits) -> Any:
    """`yaml.load(text)` for a ruamel.yaml `YAML()` instance, after `scan` has passed the text."""
    import warnings

    from ruamel.yaml.error import ReusedAnchorWarning

    # An anchor defined twice is valid YAML (the last one counts): not a warning on stderr, which the
    # runtime's JSON log does not own. A filter, not catch_warnings: that is not thread-safe.
    warnings.filterwarnings("ignore", category=ReusedAnchorWarning)
    check_size(len(text), bound)
    scan(yaml.parse(text), bound)
    return yaml.load(text)


class InputError(Exception):
    """A YAML file that cannot be read, as one located line (`file:line:col: invalid YAML: ...`)."""


def read_ruamel(yaml: Any, text: str, source: str, bound: Limits) -> Any:
    """`load_ruamel`, every way the text can be wrong turned into one located `InputError`. A
    duplicate key's value is never quoted (ruamel quotes it; a config value may be a secret)."""
    import re

    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return load_ruamel(yaml, text, bound)
    except LimitError as exc:
        raise InputError(exc.located(source)) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = re.sub(r' with value ".*', "; each key may appear once", str(exc.problem or exc.context))
        raise InputError(f"{where}: invalid YAML: {problem}") from None
    except YAMLError as exc:
        raise InputError(f"{source}: invalid YAML: {type(exc).__name__}") from None
    except TypeError:  # ruamel hashing a `? [a, b]` key
        raise InputError(
            f"{source}: invalid YAML: a key must be a plain name, not a list or mapping"
        ) from None


def check_json(data: Any, bound: Limits) -> None:
    """Loaded JSON's depth, count of values and strings."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > bound.depth:
            raise LimitError("depth", bound.depth, f"nested more than {bound.depth} levels", 0)
        if nodes > bound.nodes:
            raise LimitError("nodes", bound.nodes, f"more than {bound.nodes:,} values", 0)
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]
        elif isinstance(value, str) and len(value) > bound.scalar:
            raise LimitError("scalar", bound.scalar, f"a value of {len(value):,} bytes", 0)
