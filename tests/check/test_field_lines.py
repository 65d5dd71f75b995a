"""Field lines found by scanning the text are the lines a YAML composer gives, or no answer at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeship.check import load as load_mod
from kubeship.check import load_documents
from kubeship.check.model import Document

FIXTURES = Path(__file__).parent / "fixtures"
TEXTS = [p.read_text() for p in sorted(FIXTURES.glob("*.yaml"))]


def paths(node: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[list[str | int]]:
    yield list(prefix)
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


def composed_line(doc: Document, path: list[str | int]) -> int:
    assert doc.source is not None
    node, line = load_mod._compose(*doc.source), doc.line
    for part in path:
        node = load_mod._child(node, part)
        if node is None:
            break
        line = doc.line + node.start_mark.line
    return line


def compare(text: str) -> tuple[int, int]:
    """(paths the scan answered, paths it answered wrongly) over every node of every document."""
    answered = wrong = 0
    docs, _ = load_documents(text, "f.yaml")
    for doc in docs:
        assert doc.source is not None
        whole, start, end, column = doc.source
        lines = load_mod._lines(whole, start, end, column)
        if lines is None:
            continue
        for path in paths(doc.obj):
            found = load_mod._scan(lines, path)
            if found is not None:
                answered += 1
                wrong += doc.line + found != composed_line(doc, path)
    return answered, wrong


def as_list(text: str) -> str:
    """The documents of `text` as the items of one List, the way kubectl writes them (`- ` at column 0,
    the rest moved two columns right)."""
    items = []
    for document in text.split("---\n"):
        lines = [line for line in document.split("\n") if line.strip() and not line.startswith("#")]
        if lines:
            items.append("\n".join(["- " + lines[0], *("  " + line for line in lines[1:])]))
    return "apiVersion: v1\nitems:\n" + "\n".join(items) + "\nkind: List\n"


def test_the_scan_answers_block_style_and_agrees_with_compose() -> None:
    answered, wrong = compare("---\n".join(TEXTS))
    assert answered > 500 and wrong == 0


def test_the_scan_reads_the_items_of_a_list_as_kubectl_writes_them() -> None:
    text = as_list("---\n".join(TEXTS))
    assert len(load_documents(text, "f.yaml")[0]) > 20
    answered, wrong = compare(text)
    assert answered > 500 and wrong == 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from(["cut", *":-[]{}&*!|>'\"# \n,?~", "\n  ", "- "])),
        max_size=4,
    )
)
def test_on_mangled_yaml_the_scan_agrees_or_abstains(edits: list[tuple[int, str]]) -> None:
    for text in (
        (FIXTURES / "block-style.yaml").read_text(),
        as_list((FIXTURES / "block-style.yaml").read_text()),
    ):
        for at, edit in edits:
            at %= len(text)
            text = text[:at] + text[at + 1 :] if edit == "cut" else text[:at] + edit + text[at:]
        assert compare(text)[1] == 0
