"""Fuzzing every loader that reads files from outside: real inputs (rendered manifests, specs, snapshots,
analysis templates, config files) mutated the way files break in the wild (cut, spliced, re-indented,
anchors and aliases thrown in, bombs and deep nesting planted), each given to the loader a user runs.

A loader passes an input when it returns, or raises the one error the CLI turns into a clear message
(a KubeshipError); anything else is a traceback. Used by tests/test_fuzz.py (hypothesis picks the
seeds and mutations) and scripts/fuzz.py (counts, hangs and peak memory for the README).
"""

from __future__ import annotations

import functools
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from kubeship.errors import KubeshipError

ROOT = Path(__file__).resolve().parent.parent

# What YAML is made of, and what breaks it: indicators, anchors, aliases, merge keys, tags, documents.
TOKENS = (
    ": ", "- ", "-", ":", "? ", "&a ", "*a", "&b ", "*b", "<<: *a", "<<: [*a, *b]", "!!str ", "!!binary ",
    "!!python/object:os.system ", "!custom ", "[", "]", "{", "}", ",", "|", ">-", "'", '"', "#", "\t",
    "\n", "\n---\n", "\n...\n", "%YAML 1.1\n", "~", "null", "true", "1e400", "0x1F", "0o17", "-.inf",
    ".nan", "2026-11-30", "=", "\\u0000", "\ufeff", "\x85", "é", "\U0001f600", "  ", "key: value\n",
)  # fmt: skip


TYPED = (
    "2026-11-30", "2026-11-30t10:00:00Z", "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "1e400",
    "yes", "off", "~", "0o17", "0x1F", ".nan", "-.inf", "!!str 1", "!!float 1", "[1, {a: b}]", "{}",
)  # fmt: skip


def bomb(levels: int = 9) -> str:
    lines = [f"lol0: &l0 [{', '.join(['lol'] * 9)}]"]
    lines += [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def deep(levels: int = 400) -> str:
    return random.choice(["[" * levels + "]" * levels, "{a: " * levels + "}" * levels]) + "\n"


def mutate(text: str, rng: random.Random, steps: int) -> str:
    for _ in range(steps):
        at = rng.randrange(len(text) + 1)
        span = rng.randrange(1, 80)
        lines = text.split("\n")
        match rng.randrange(10):
            case 0:  # cut a span
                text = text[:at] + text[at + span :]
            case 1:  # repeat a span
                text = text[:at] + text[at : at + span] * rng.randrange(2, 5) + text[at:]
            case 2:  # a token of YAML's own
                text = text[:at] + rng.choice(TOKENS) + text[at:]
            case 3:  # one character changed
                text = text[:at] + chr(rng.randrange(32, 0x2FF)) + text[at + 1 :]
            case 4:  # a line re-indented
                i = rng.randrange(len(lines))
                lines[i] = " " * rng.randrange(0, 12) + lines[i].lstrip()
                text = "\n".join(lines)
            case 5:  # two lines swapped
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                text = "\n".join(lines)
            case 6:  # a bomb or a deep nesting planted at a line, at that line's indentation
                i = rng.randrange(len(lines))
                indent = " " * (len(lines[i]) - len(lines[i].lstrip()))
                planted = (
                    bomb(rng.randrange(3, 10))
                    if rng.random() < 0.5
                    else "x: " + deep(rng.randrange(50, 2000))
                )
                lines[i:i] = [indent + line for line in planted.splitlines()]
                text = "\n".join(lines)
            case 7:  # truncated, as an interrupted write leaves it
                text = text[:at]
            case 8:  # a value that YAML 1.1 reads as another type (a date, bytes, a set, a huge float)
                i = rng.randrange(len(lines))
                if ": " in lines[i]:
                    lines[i] = lines[i].split(": ")[0] + ": " + rng.choice(TYPED)
                    text = "\n".join(lines)
            case _:  # an anchor on one value and aliases to it elsewhere
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i] = lines[i].replace(": ", ": &z ", 1)
                lines[j] = lines[j].split(": ")[0] + ": *z" if ": " in lines[j] else lines[j]
                text = "\n".join(lines)
    return text


def _read(*parts: str) -> str:
    return ROOT.joinpath(*parts).read_text(encoding="utf-8")


@functools.cache
def seeds(loader: str) -> tuple[str, ...]:
    """Real inputs of each loader, as a user has them."""
    golden = tuple(
        _read("tests", "render", "golden", p.name)
        for p in sorted((ROOT / "tests/render/golden").glob("*.yaml"))
    )
    specs = tuple(
        _read("examples", "seed", p.name) for p in sorted((ROOT / "examples/seed").glob("*kubeship.yaml"))
    )
    if loader == "check":
        return (*golden, _read("examples", "seed", "handwritten.yaml"))
    if loader == "spec":
        return specs
    if loader == "config":
        return ("message: pong\nlog-level: info\nfeatures: {beta: true, limit: 10}\nhosts: [a, b]\n",)
    if loader == "config-json":
        return ('{"message": "pong", "features": {"beta": true, "limit": 10}, "hosts": ["a", "b"]}',)
    if loader == "snapshot":
        from tests.autoscale.test_decide import snapshot

        return (json.dumps(snapshot(3, ["900m", "800m", "700m"]), indent=1),)
    if loader == "analysis":
        return tuple(d for g in golden for d in g.split("\n---\n") if "kind: AnalysisTemplate" in d)
    raise KeyError(loader)


def _in_file(suffix: str, text: str, read: Callable[[Path], object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        read(path)


def _check(text: str) -> None:
    from kubeship.check import check_documents, load_documents

    docs, _ = load_documents(text, "input.yaml")
    check_documents(docs)


def _spec(text: str) -> None:
    from kubeship.render import render
    from kubeship.spec.load import parse_spec

    render(parse_spec(text, "kubeship.yaml"))


def _config(suffix: str) -> Callable[[str], None]:
    from kubeship.runtime.config import parse_mapping

    return lambda text: _in_file(suffix, text, parse_mapping)


def _snapshot(text: str) -> None:
    from kubeship.cli.autoscale_cmd import _decide

    _in_file(".json", text, _decide)


def _analysis(text: str) -> None:
    from kubeship.analyze import load_template, prepare

    _in_file(".yaml", text, lambda path: prepare(load_template(path), {}))


LOADERS: dict[str, Callable[[str], None]] = {
    "check": _check,
    "spec": _spec,
    "config": _config(".yaml"),
    "config-json": _config(".json"),
    "snapshot": _snapshot,
    "analysis": _analysis,
}


def attempt(loader: str, text: str) -> str:
    """'accepted', 'refused' (a clear error) or raises what a user would see as a traceback."""
    try:
        LOADERS[loader](text)
    except KubeshipError:
        return "refused"
    return "accepted"


def generated(rng: random.Random, loader: str) -> str:
    """One fuzz input: mostly a mutated seed, sometimes YAML tokens strung together."""
    if rng.random() < 0.15:
        return "".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 60)))
    return mutate(rng.choice(seeds(loader)), rng, rng.randrange(1, 5))
