"""The YAML emitter writes exactly what PyYAML reads back, for any text."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeship.render.output import to_yaml

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.sampled_from(
        [
            "on",
            "off",
            "yes",
            "No",
            "1.10",
            "0777",
            "2024-01-01",
            "~",
            "null",
            "- a",
            "a: b",
            "#x",
            "",
            " x",
            "x ",
            "a\nb",
            "a\nb\n",
            "a\n\n",
            "\nx",
            "*ref",
            "&a",
            "!tag",
            "@x",
            "`x",
            "50%",
            "sum(x) by (y)",
        ]
    ),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.text(min_size=1, max_size=8), trees, min_size=1, max_size=5),
        min_size=1,
        max_size=3,
    )
)
def test_round_trip(documents: list[dict[str, Any]]) -> None:
    assert list(yaml.safe_load_all(to_yaml(documents))) == documents


@pytest.mark.parametrize(
    "word", ["on", "off", "yes", "no", "y", "true", "null", "1.10", "0777", "1e3", "2024-01-01"]
)
def test_ambiguous_words_stay_strings(word: str) -> None:
    assert yaml.safe_load(to_yaml([{"v": word}])) == {"v": word}


def test_kubernetes_style_layout() -> None:
    text = to_yaml(
        [{"spec": {"ports": [{"name": "http", "port": 80}], "data": {"config.yaml": "a: 1\nb: 2\n"}}}]
    )
    expected = "spec:\n  ports:\n  - name: http\n    port: 80\n"
    expected += "  data:\n    config.yaml: |\n      a: 1\n      b: 2\n"
    assert text == expected
